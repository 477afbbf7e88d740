// Hand-written stand-in for the ts-rs output; the generated file replaces it.
import type { EncounterStatus } from "./EncounterStatus";
import type { Review } from "./Review";

export type VersionInfo = { version: number; status: EncounterStatus; supersedes: number | null; updated_at: string; submitted_at: string | null; review: Review | null };
