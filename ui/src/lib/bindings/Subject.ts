// Hand-written stand-in for the ts-rs output; the generated file replaces it.
import type { YesNoUnknown } from "./YesNoUnknown";

export type Subject = { name: string | null; age_band: string | null; gender: string | null; veteran: YesNoUnknown | null; housing_status: string | null };
