// Hand-written stand-in for the ts-rs output; the generated file replaces it.
import type { EncounterStatus } from "./EncounterStatus";

export type EncounterSummary = { id: string; version: number; status: EncounterStatus; occurred_at: string; updated_at: string; incident_number: string | null; call_type: string | null; nature_of_call: string | null; subject_name: string | null; address: string | null; dispositions: Array<string>; review_comment: string | null };
