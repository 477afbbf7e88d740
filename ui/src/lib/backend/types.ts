import type { AgencyConfig } from "../bindings/AgencyConfig";
import type { AppError } from "../bindings/AppError";
import type { AppStatus } from "../bindings/AppStatus";
import type { AuditReport } from "../bindings/AuditReport";
import type { Encounter } from "../bindings/Encounter";
import type { EncounterDetail } from "../bindings/EncounterDetail";
import type { EncounterSummary } from "../bindings/EncounterSummary";
import type { ListQuery } from "../bindings/ListQuery";
import type { SaveOutcome } from "../bindings/SaveOutcome";

/** One method per Tauri command of notes/ipc.md. Every method rejects with an `AppError`. */
export interface Backend {
  appStatus(): Promise<AppStatus>;
  setup(officerId: string, passphrase: string): Promise<AppStatus>;
  unlock(passphrase: string): Promise<AppStatus>;
  lock(): Promise<AppStatus>;
  changePassphrase(old: string, next: string): Promise<null>;
  agencyConfig(): Promise<AgencyConfig>;
  newEncounter(): Promise<Encounter>;
  saveDraft(encounter: Encounter): Promise<SaveOutcome>;
  checkEncounter(encounter: Encounter): Promise<AppError[]>;
  submitEncounter(encounter: Encounter): Promise<Encounter>;
  amendEncounter(id: string): Promise<Encounter>;
  listEncounters(query: ListQuery): Promise<EncounterSummary[]>;
  getEncounter(id: string): Promise<EncounterDetail>;
  getEncounterVersion(id: string, version: number): Promise<Encounter>;
  verifyAudit(): Promise<AuditReport>;
  reportFirstPaint(): Promise<null>;
}
