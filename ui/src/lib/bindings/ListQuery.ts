// Hand-written stand-in for the ts-rs output; the generated file replaces it.
import type { EncounterStatus } from "./EncounterStatus";

export type ListQuery = { text: string | null; from: string | null; to: string | null; status: EncounterStatus | null };
