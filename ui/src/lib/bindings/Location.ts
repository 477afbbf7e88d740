// Hand-written stand-in for the ts-rs output; the generated file replaces it.
import type { LocationSource } from "./LocationSource";

export type Location = { lat: number | null; lon: number | null; accuracy_m: number | null; source: LocationSource; address: string | null };
