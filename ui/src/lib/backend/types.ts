import type { AgencyConfig } from "../bindings/AgencyConfig";
import type { AppError } from "../bindings/AppError";
import type { AppStatus } from "../bindings/AppStatus";
import type { AuditReport } from "../bindings/AuditReport";
import type { BootSnapshot } from "../bindings/BootSnapshot";
import type { Encounter } from "../bindings/Encounter";
import type { EncounterDetail } from "../bindings/EncounterDetail";
import type { EncounterSummary } from "../bindings/EncounterSummary";
import type { ListQuery } from "../bindings/ListQuery";
import type { SaveOutcome } from "../bindings/SaveOutcome";
import type { DirectoryStatus } from "../bindings/DirectoryStatus";
import type { GpsReading } from "../bindings/GpsReading";
import type { Place } from "../bindings/Place";
import type { ResourceCard } from "../bindings/ResourceCard";
import type { ServiceHit } from "../bindings/ServiceHit";
import type { Suggestion } from "../bindings/Suggestion";
import type { SuggestionRequest } from "../bindings/SuggestionRequest";
import type { Term } from "../bindings/Term";
import type { EnrollDevice } from "../bindings/EnrollDevice";
import type { OfficerLogin } from "../bindings/OfficerLogin";
import type { SyncStatus } from "../bindings/SyncStatus";

/** One method per Tauri command (named in `./commands.ts`). Every method rejects with an `AppError`. */
export interface Backend {
  /** What the first screen needs, at hand without a round trip (null: ask `appStatus`). */
  bootSnapshot(): BootSnapshot | null;
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
  // Service directory and location (offline).
  directoryStatus(): Promise<DirectoryStatus>;
  serviceNeeds(): Promise<Term[]>;
  suggestServices(request: SuggestionRequest): Promise<Suggestion[]>;
  /** Rejects with a `validation` error on field `location` when the encounter has no location. */
  suggestForEncounter(encounter: Encounter, needs: string[]): Promise<Suggestion[]>;
  /** Name search; with `from` ([lat, lon]) the matches come nearest first. */
  searchServices(text: string, from?: [number, number] | null): Promise<ServiceHit[]>;
  findPlaces(text: string): Promise<Place[]>;
  /** One service by its service-at-location id; distance from `from` ([lat, lon]) when given. */
  serviceDetail(id: string, from: [number, number] | null): Promise<Suggestion>;
  resourceCard(ids: string[]): Promise<ResourceCard>;
  gpsReading(): Promise<GpsReading>;
  // Sync with the agency server (runs in the background; these only read and steer it).
  syncStatus(): Promise<SyncStatus>;
  syncNow(): Promise<SyncStatus>;
  /** Rejects with a `validation` error on `server_url`, `code` or `certificate_fingerprint`. */
  enrollDevice(request: EnrollDevice): Promise<SyncStatus>;
  /** Rejects with a `validation` error on `username` or `password`. */
  officerLogin(login: OfficerLogin): Promise<SyncStatus>;
}
