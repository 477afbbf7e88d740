// Hand-written stand-in for the ts-rs output; the generated file replaces it.
import type { ReferralOutcome } from "./ReferralOutcome";

export type Referral = { service_id: string; service_name: string | null; outcome: ReferralOutcome };
