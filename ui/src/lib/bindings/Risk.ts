// Hand-written stand-in for the ts-rs output; the generated file replaces it.
export type Risk = { weapon: string | null; threatened_violence: boolean; self_injury: boolean; substances: Array<string>; naloxone_administered: boolean };
