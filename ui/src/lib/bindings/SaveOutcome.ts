// Hand-written stand-in for the ts-rs output; the generated file replaces it.
import type { AppError } from "./AppError";
import type { Encounter } from "./Encounter";

export type SaveOutcome = { encounter: Encounter; issues: Array<AppError> };
