// Hand-written stand-in for the ts-rs output; the generated file replaces it.
export type LocationSource = "gps" | "manual" | "none";
