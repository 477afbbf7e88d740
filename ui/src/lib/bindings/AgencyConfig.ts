// Hand-written stand-in for the ts-rs output; the generated file replaces it.
import type { Term } from "./Term";

export type AgencyConfig = { agency_name: string; config_version: number; vocabularies: { [key in string]?: Array<Term> }; required_on_submit: Array<string> };
