// Hand-written stand-in for the ts-rs output; the generated file replaces it.
import type { CallInfo } from "./CallInfo";
import type { Diversion } from "./Diversion";
import type { EncounterStatus } from "./EncounterStatus";
import type { Location } from "./Location";
import type { Referral } from "./Referral";
import type { Response } from "./Response";
import type { Review } from "./Review";
import type { Risk } from "./Risk";
import type { Subject } from "./Subject";

export type Encounter = { id: string; version: number; supersedes: number | null; status: EncounterStatus; device_id: string; officer_id: string; config_version: number; created_at: string; updated_at: string; occurred_at: string; submitted_at: string | null; review: Review | null; incident_number: string | null; location: Location; call: CallInfo; subject: Subject; crisis_natures: Array<string>; behaviours: Array<string>; behaviour_other: string | null; risk: Risk; response: Response; dispositions: Array<string>; diversion: Diversion; referrals: Array<Referral>; narrative: string };
