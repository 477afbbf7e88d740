// The wire types of the configuration endpoints (crates/protocol/src/agency.rs). To be replaced by
// the ts-rs bindings in ../bindings/ once the protocol crate generates them.
import type { AgencyConfig } from "$lib/bindings/AgencyConfig";

export interface AgencyConfigVersion { version: number; config: AgencyConfig }
export interface VocabularyCode { vocabulary: string; code: string }
export interface CodeInUse { encounter_id: string; version: number; field: string; vocabulary: string; code: string }
export interface AgencyConfigCheck { version: number; removed: VocabularyCode[]; codes_in_use: VocabularyCode[]; reports: CodeInUse[]; total: number }
export interface AgencyConfigSaved { version: number; feed_seq: number }
export interface AgencyConfigRecord {
  version: number;
  saved_at: string;
  saved_by: string;
  mapping: Record<string, Record<string, string>>;
  note: string | null;
  config: AgencyConfig;
}
