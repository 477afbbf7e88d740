// The wire types of the directory's admin endpoints (crates/protocol/src/directory_admin.rs). To be
// replaced by the ts-rs bindings in ../bindings/ once the protocol crate generates them.

export interface WeeklyPeriod { days: string[]; opens_at: string; closes_at: string }
export type LocalHours = { kind: "always_open" } | { kind: "weekly"; periods: WeeklyPeriod[]; timezone?: string };
export interface LocalFacts { accepts_dropoffs?: boolean; hours?: LocalHours; intake_phone?: string; officer_note?: string }
export interface LocalFactsRecord { service_id: string; facts: LocalFacts; updated_at: string; updated_by: string }
export interface LocalFactsSaved { feed_seq: number | null }
export interface DirectoryServiceInfo {
  service_id: string;
  name: string;
  organization: string;
  address: string | null;
  listed_dropoffs: boolean | null;
  local: LocalFactsRecord | null;
}
export interface DirectoryImportInfo {
  id: number;
  finished_at: string;
  source: string;
  by: string;
  upserts: number;
  deletes: number;
  report: { rows_read?: number; created?: number; updated?: number; unchanged?: number; rejected_total?: number; warnings_total?: number; rejected?: { source: string; row: number; reason: string }[] };
}
export interface DirectoryConflict { service_id: string; name: string | null; kind: string; message: string }
export interface CapacityUpdate { id: string; service_id: string; unit: string; available: number; maximum: number | null; updated_at: string }
