// Hand-written stand-in for the ts-rs output; the generated file replaces it.
import type { Encounter } from "./Encounter";
import type { VersionInfo } from "./VersionInfo";

export type EncounterDetail = { current: Encounter; versions: Array<VersionInfo> };
