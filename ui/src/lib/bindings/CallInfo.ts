// Hand-written stand-in for the ts-rs output; the generated file replaces it.
export type CallInfo = { call_type: string | null; nature_of_call: string | null };
