// Hand-written stand-in for the ts-rs output; the generated file replaces it.
export type Diversion = { custody_diverted: boolean | null; offences_considered: Array<string> };
