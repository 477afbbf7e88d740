// Hand-written stand-in for the ts-rs output; the generated file replaces it.
import type { EncounterStatus } from "./EncounterStatus";

export type Review = { decision: EncounterStatus; comment: string | null; reviewer: string | null; at: string };
