// An in-memory stand-in for the Rust core, used ONLY by the vitest/browser tests and the `?demo`
// dev mode. It keeps what it is given and answers with canned data; it enforces none of the core's
// rules (required fields, lifecycle, ranking, search, passphrases): a test that needs a rejection
// sets it in `failures`. Where a screen shows the core's own words, they come from
// `core-fixtures.json`, which the core's bindings test writes (and fails on when it is stale).
import type { SyncState } from "../bindings/SyncState";
import type { SyncStatus } from "../bindings/SyncStatus";
import type { EnrollDevice } from "../bindings/EnrollDevice";
import type { OfficerLogin } from "../bindings/OfficerLogin";
import agencyJson from "../../../../assets/agency.json";
import type { AgencyConfig } from "../bindings/AgencyConfig";
import type { AppError } from "../bindings/AppError";
import type { AppStatus } from "../bindings/AppStatus";
import type { AuditReport } from "../bindings/AuditReport";
import type { Encounter } from "../bindings/Encounter";
import type { EncounterDetail } from "../bindings/EncounterDetail";
import type { EncounterSummary } from "../bindings/EncounterSummary";
import type { ListQuery } from "../bindings/ListQuery";
import type { SaveOutcome } from "../bindings/SaveOutcome";
import type { DirectoryStatus } from "../bindings/DirectoryStatus";
import type { GpsReading } from "../bindings/GpsReading";
import type { ResourceCard } from "../bindings/ResourceCard";
import type { Suggestion } from "../bindings/Suggestion";
import type { ServiceHit } from "../bindings/ServiceHit";
import type { SuggestionRequest } from "../bindings/SuggestionRequest";
import type { BootSnapshot } from "../bindings/BootSnapshot";
import type { Backend } from "./types";
import { DEMO_CENTRE, DEMO_NEEDS, DEMO_PLACES, DEMO_SERVICES, demoCardEntry, demoCity, demoQrSvg, type DemoService } from "./demo-directory";
import coreFixtures from "./core-fixtures.json";

export const DEMO_CONFIG = agencyJson as AgencyConfig;

/** The core's answers the fake hands out as they are (see crates/core/tests/bindings.rs). */
export const CORE_FIXTURES = coreFixtures as {
  blank_draft_issues: AppError[];
  short_passphrase: AppError;
  wrong_passphrase: AppError;
  locked: AppError;
  no_location: AppError;
};

export interface MemoryOptions {
  config?: AgencyConfig;
  /** Already set up with this officer id and passphrase (and locked). */
  initialized?: { officerId: string; passphrase: string };
  /** Add a few sample reports at setup/unlock (demo mode and screenshots). */
  seed?: boolean;
  /** Milliseconds each call takes, to make "Saving…" visible in demos. */
  latencyMs?: number;
  /** What `gpsReading` answers (default: a fix near the demo directory's centre). */
  gps?: GpsReading;
  /** `directoryStatus` says "still loading" for this many calls first (default 0). */
  directoryLoadingCalls?: number;
  /** What `bootSnapshot` hands the page, as the app's shell does (default: none). */
  bootSnapshot?: BootSnapshot;
}

const DEMO_GPS: GpsReading = {
  state: "fix",
  fix: { lat: DEMO_CENTRE.lat, lon: DEMO_CENTRE.lon, accuracy_m: 8, mode: 3, time: null, received_at: new Date(0).toISOString() },
  message: "GPS ±8 m",
};

/** The demo service the canned ranked answer leaves out. */
const NOT_RANKED = "sal-detox";

const clone = <T>(value: T): T => structuredClone(value);
const fail = (error: AppError): never => {
  throw error;
};

export function blankEncounter(id: string, officerId: string, now: string, configVersion = 1): Encounter {
  return {
    id,
    version: 1,
    supersedes: null,
    status: "draft",
    device_id: "demo-device",
    officer_id: officerId,
    config_version: configVersion,
    created_at: now,
    updated_at: now,
    occurred_at: now,
    submitted_at: null,
    review: null,
    incident_number: null,
    location: { lat: null, lon: null, accuracy_m: null, source: "none", address: null },
    call: { call_type: null, nature_of_call: null },
    subject: { name: null, age_band: null, gender: null, veteran: null, housing_status: null },
    crisis_natures: [],
    behaviours: [],
    behaviour_other: null,
    risk: { weapon: null, threatened_violence: false, self_injury: false, substances: [], naloxone_administered: false },
    response: {
      cit_officer_requested: false,
      cit_officer_dispatched: false,
      cit_officer_arrived: false,
      officer_cit_certified: false,
      supervisor_on_scene: false,
      mobile_crisis_team: false,
      verbal_deescalation: false,
      handcuffs: false,
      reportable_force: false,
      subject_injured: false,
      officer_injured: false,
      minutes_on_scene: null,
    },
    dispositions: [],
    diversion: { custody_diverted: null, offences_considered: [] },
    referrals: [],
    narrative: "",
  };
}

function fieldValue(encounter: Encounter, path: string): unknown {
  return path.split(".").reduce<unknown>((value, key) => (value as Record<string, unknown> | null)?.[key], encounter);
}

/** Whether the draft still has the value a new draft has at `path`. */
function untouched(encounter: Encounter, path: string): boolean {
  const blank = blankEncounter(encounter.id, encounter.officer_id, encounter.created_at);
  return JSON.stringify(fieldValue(encounter, path)) === JSON.stringify(fieldValue(blank, path));
}

export class MemoryBackend implements Backend {
  private config: AgencyConfig;
  private credentials: { officerId: string; passphrase: string } | null;
  private unlocked = false;
  private seeded: boolean;
  /** id -> versions, oldest first. */
  private records = new Map<string, Encounter[]>();
  private counter = 0;
  private latencyMs: number;
  /** Every call made, for tests that check what the UI asked for. */
  readonly calls: { method: string; args: unknown[] }[] = [];
  /** Set to make the next calls of one method fail (tests). */
  failures = new Map<string, AppError>();

  gps: GpsReading;
  private directoryLoadingCalls: number;
  /** "id:version" -> sync state of each submitted version. */
  private syncStates = new Map<string, SyncState>();
  private enrollment: { server_url: string; fingerprint: string | null } | null = null;
  private session: { username: string } | null = null;
  private lastSyncedAt: string | null = null;

  private boot: BootSnapshot | null;

  constructor(options: MemoryOptions = {}) {
    this.boot = options.bootSnapshot ?? null;
    this.gps = options.gps ?? DEMO_GPS;
    this.directoryLoadingCalls = options.directoryLoadingCalls ?? 0;
    this.config = options.config ?? DEMO_CONFIG;
    this.credentials = options.initialized ?? null;
    this.seeded = !options.seed;
    this.latencyMs = options.latencyMs ?? 0;
  }

  private async step<T>(method: string, args: unknown[], action: () => T): Promise<T> {
    this.calls.push({ method, args: clone(args) });
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    else await Promise.resolve();
    const failure = this.failures.get(method);
    if (failure) throw clone(failure);
    return clone(action());
  }

  private requireUnlocked(): void {
    if (!this.unlocked) fail(CORE_FIXTURES.locked);
  }

  private now(): string {
    return new Date().toISOString();
  }

  private newId(): string {
    this.counter += 1;
    return typeof crypto !== "undefined" && "randomUUID" in crypto
      ? crypto.randomUUID()
      : `00000000-0000-4000-8000-${String(this.counter).padStart(12, "0")}`;
  }

  private status(): AppStatus {
    return {
      initialized: this.credentials !== null,
      unlocked: this.unlocked,
      officer_id: this.credentials?.officerId ?? null,
      device_id: this.credentials ? "demo-device" : null,
      agency_name: this.config.agency_name,
      config_version: this.config.config_version,
      pending_sync: this.countSync("pending"),
      unlock_tries_left: this.credentials ? 10 : null,
      next_unlock_at: null,
      wiped: null,
    };
  }

  private countSync(state: SyncState["state"]): number {
    return [...this.syncStates.values()].filter((s) => s.state === state).length;
  }

  private syncView(): SyncStatus {
    return {
      enrolled: this.enrollment !== null,
      server_url: this.enrollment?.server_url ?? null,
      device_id: this.enrollment ? "demo-device" : null,
      certificate_fingerprint: this.enrollment?.fingerprint ?? null,
      signed_in_as: this.session?.username ?? null,
      needs_sign_in: this.enrollment !== null && !this.session,
      role: this.session ? "officer" : null,
      session_expires_at: null,
      pending: this.countSync("pending"),
      needs_attention: this.countSync("needs_attention"),
      last_synced_at: this.lastSyncedAt,
      last_attempt_at: this.lastSyncedAt,
      last_error: null,
      syncing: false,
      next_attempt_at: null,
      last_report: null,
      config_version: this.config.config_version,
    };
  }

  syncStatus() {
    return this.step("syncStatus", [], () => (this.requireUnlocked(), this.syncView()));
  }

  /** The demo "server" accepts everything at once. */
  syncNow() {
    return this.step("syncNow", [], () => {
      this.requireUnlocked();
      if (this.enrollment) {
        const at = this.now();
        for (const [key, state] of this.syncStates) {
          if (state.state === "pending") this.syncStates.set(key, { state: "synced", at, note: null });
        }
        this.lastSyncedAt = at;
      }
      return this.syncView();
    });
  }

  enrollDevice(request: EnrollDevice) {
    return this.step("enrollDevice", [request], () => {
      this.requireUnlocked();
      this.enrollment = { server_url: request.server_url, fingerprint: request.certificate_fingerprint };
      return this.syncView();
    });
  }

  officerLogin(login: OfficerLogin) {
    return this.step("officerLogin", [login], () => {
      this.requireUnlocked();
      this.session = { username: login.username };
      return this.syncView();
    });
  }

  /** The core's issues with a new draft, less those whose field the draft has changed since. */
  private issues(encounter: Encounter): AppError[] {
    return CORE_FIXTURES.blank_draft_issues.filter((issue) => issue.field === undefined || untouched(encounter, issue.field));
  }

  private versions(id: string): Encounter[] {
    return this.records.get(id) ?? fail({ kind: "not_found", message: `encounter ${id} not found` });
  }

  private storeDraft(encounter: Encounter): Encounter {
    const versions = this.versions(encounter.id);
    const index = versions.findIndex((v) => v.version === encounter.version);
    if (index < 0) fail({ kind: "not_found", message: `encounter ${encounter.id} v${encounter.version} not found` });
    const saved: Encounter = { ...clone(encounter), status: "draft", updated_at: this.now() };
    versions[index] = saved;
    return saved;
  }

  private seedSamples(): void {
    if (this.seeded) return;
    this.seeded = true;
    const officer = this.credentials?.officerId ?? "demo";
    const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * 3_600_000).toISOString();
    const make = (hoursAgo: number, fill: (e: Encounter) => void): Encounter => {
      const e = blankEncounter(this.newId(), officer, at(hoursAgo), this.config.config_version);
      fill(e);
      e.status = "submitted";
      e.submitted_at = at(hoursAgo - 0.5);
      e.updated_at = e.submitted_at;
      return e;
    };
    const approved = make(50, (e) => {
      e.incident_number = "24-118734";
      e.call = { call_type: "911", nature_of_call: "Man standing on overpass railing" };
      e.location.address = "I-80 overpass at Mill Rd";
      e.crisis_natures = ["unknown"];
      e.behaviours = ["suicide_threat", "hopeless_depressed"];
      e.dispositions = ["transport_crisis_centre"];
      e.diversion.custody_diverted = true;
      e.narrative = "Talked subject down from railing; voluntary transport to crisis centre.";
    });
    approved.status = "approved";
    approved.review = { decision: "approved", comment: null, reviewer: "Sgt. Ortiz", at: at(40) };
    const returned = make(26, (e) => {
      e.incident_number = "24-119020";
      e.call = { call_type: "telephone", nature_of_call: "Neighbour reports shouting, possible psychosis" };
      e.subject.name = "J. Doe";
      e.location.address = "412 Birch St, Apt 3";
      e.crisis_natures = ["biological"];
      e.behaviours = ["hallucinations", "disorganized_communication"];
      e.dispositions = ["referral_made"];
      e.diversion.custody_diverted = true;
    });
    returned.status = "returned";
    returned.review = {
      decision: "returned",
      comment: "Please add the minutes on scene and describe the de-escalation used.",
      reviewer: "Sgt. Ortiz",
      at: at(20),
    };
    const first = make(8, (e) => {
      e.incident_number = "24-119311";
      e.call = { call_type: "on_view", nature_of_call: "Woman in distress at bus shelter" };
      e.location.address = "Main St & 5th Ave";
      e.crisis_natures = ["chemical"];
      e.behaviours = ["disoriented"];
      e.risk.substances = ["alcohol"];
      e.dispositions = ["transport_detox"];
      e.diversion.custody_diverted = false;
    });
    const amended: Encounter = {
      ...clone(first),
      version: 2,
      supersedes: 1,
      submitted_at: at(6),
      updated_at: at(6),
      narrative: "Corrected disposition after follow-up with detox staff.",
      dispositions: ["transport_detox", "referral_made"],
    };
    for (const versions of [[approved], [returned], [first, amended]]) this.records.set(versions[0].id, versions);
  }

  /** The snapshot a test chose, as it was: a stale one is how a reloaded page starts. */
  bootSnapshot() {
    return this.boot;
  }

  /** What the shell would hand a page opened now. */
  currentSnapshot(): BootSnapshot {
    return { status: this.status(), config: this.config };
  }

  appStatus() {
    return this.step("appStatus", [], () => this.status());
  }

  setup(officerId: string, passphrase: string) {
    return this.step("setup", [officerId], () => {
      this.credentials = { officerId, passphrase };
      this.unlocked = true;
      this.seedSamples();
      return this.status();
    });
  }

  unlock(passphrase: string) {
    return this.step("unlock", [], () => {
      if (!this.credentials) fail({ kind: "invalid_state", message: "Waypoint is not set up on this device yet." });
      if (this.credentials!.passphrase !== passphrase) fail(CORE_FIXTURES.wrong_passphrase);
      this.unlocked = true;
      this.seedSamples();
      return this.status();
    });
  }

  lock() {
    return this.step("lock", [], () => {
      this.unlocked = false;
      return this.status();
    });
  }

  changePassphrase(old: string, next: string) {
    return this.step("changePassphrase", [], () => {
      if (this.credentials?.passphrase !== old) fail(CORE_FIXTURES.wrong_passphrase);
      this.credentials!.passphrase = next;
      return null;
    });
  }

  agencyConfig() {
    return this.step("agencyConfig", [], () => this.config);
  }

  newEncounter() {
    return this.step("newEncounter", [], () => {
      this.requireUnlocked();
      const encounter = blankEncounter(this.newId(), this.credentials!.officerId, this.now(), this.config.config_version);
      this.records.set(encounter.id, [encounter]);
      return encounter;
    });
  }

  saveDraft(encounter: Encounter) {
    return this.step("saveDraft", [encounter], (): SaveOutcome => {
      this.requireUnlocked();
      const saved = this.storeDraft(encounter);
      return { encounter: saved, issues: this.issues(saved) };
    });
  }

  checkEncounter(encounter: Encounter) {
    return this.step("checkEncounter", [encounter], () => this.issues(encounter));
  }

  submitEncounter(encounter: Encounter) {
    return this.step("submitEncounter", [encounter], () => {
      this.requireUnlocked();
      const saved = this.storeDraft(encounter);
      const problem = this.issues(saved)[0];
      if (problem) fail(problem);
      saved.status = "submitted";
      saved.submitted_at = this.now();
      this.syncStates.set(`${saved.id}:${saved.version}`, { state: "pending", attempts: 0 });
      return saved;
    });
  }

  amendEncounter(id: string) {
    return this.step("amendEncounter", [id], () => {
      this.requireUnlocked();
      const versions = this.versions(id);
      const newest = versions[versions.length - 1];
      const draft: Encounter = {
        ...clone(newest),
        version: newest.version + 1,
        supersedes: newest.version,
        status: "draft",
        submitted_at: null,
        review: null,
        updated_at: this.now(),
      };
      versions.push(draft);
      return draft;
    });
  }

  listEncounters(query: ListQuery) {
    return this.step("listEncounters", [query], () => {
      this.requireUnlocked();
      const text = query.text?.trim().toLowerCase() ?? "";
      const rows: EncounterSummary[] = [];
      for (const versions of this.records.values()) {
        const e = versions[versions.length - 1];
        const haystack = [e.narrative, e.incident_number, e.call.nature_of_call, e.call.call_type, e.subject.name, e.location.address, ...e.behaviours, ...e.dispositions]
          .filter(Boolean)
          .join(" ")
          .toLowerCase();
        if (text && !haystack.includes(text)) continue;
        if (query.from && e.occurred_at < query.from) continue;
        if (query.to && e.occurred_at >= query.to) continue;
        if (query.status && e.status !== query.status) continue;
        rows.push({
          id: e.id,
          version: e.version,
          status: e.status,
          occurred_at: e.occurred_at,
          updated_at: e.updated_at,
          incident_number: e.incident_number,
          call_type: e.call.call_type,
          nature_of_call: e.call.nature_of_call,
          subject_name: e.subject.name,
          address: e.location.address,
          dispositions: e.dispositions,
          review_comment: e.review?.comment ?? null,
          sync: this.syncStates.get(`${e.id}:${e.version}`) ?? null,
        });
      }
      return rows.sort((a, b) => b.occurred_at.localeCompare(a.occurred_at));
    });
  }

  getEncounter(id: string) {
    return this.step("getEncounter", [id], (): EncounterDetail => {
      this.requireUnlocked();
      const versions = this.versions(id);
      return {
        current: versions[versions.length - 1],
        versions: [...versions].reverse().map((v) => ({
          version: v.version,
          status: v.status,
          supersedes: v.supersedes,
          updated_at: v.updated_at,
          submitted_at: v.submitted_at,
          review: v.review,
          sync: this.syncStates.get(`${v.id}:${v.version}`) ?? null,
        })),
      };
    });
  }

  getEncounterVersion(id: string, version: number) {
    return this.step("getEncounterVersion", [id, version], () => {
      this.requireUnlocked();
      return this.versions(id).find((v) => v.version === version) ?? fail({ kind: "not_found", message: `encounter ${id} v${version} not found` });
    });
  }

  /** A canned intact chain of one entry per call made so far (the demo keeps no audit log). */
  verifyAudit() {
    return this.step("verifyAudit", [], (): AuditReport => ({ entries: this.calls.length, head_hash: "demo".padEnd(64, "0") }));
  }

  reportFirstPaint() {
    return this.step("reportFirstPaint", [], () => null);
  }

  // ---- service directory: a fixed demo directory, always in the same order (ranking is the core's) ----

  directoryStatus() {
    return this.step("directoryStatus", [], (): DirectoryStatus => {
      if (this.directoryLoadingCalls > 0) {
        this.directoryLoadingCalls -= 1;
        return { ready: false, services: 0, locations: 0, loaded_in_s: null };
      }
      return { ready: true, services: DEMO_SERVICES.length, locations: DEMO_SERVICES.length, loaded_in_s: null };
    });
  }

  serviceNeeds() {
    return this.step("serviceNeeds", [], () => DEMO_NEEDS);
  }

  /**
   * The same canned answer whatever was asked: the demo services in the data's order, less the
   * withdrawal centre (as if past the radius), so that a name search can find a service that is
   * not in the ranked list.
   */
  private suggest(): Suggestion[] {
    return DEMO_SERVICES.filter((service) => service.service_at_location_id !== NOT_RANKED).map((service, index) => this.asSuggestion(service, index + 1));
  }

  private asSuggestion(service: DemoService, rank: number): Suggestion {
    const { weekly_hours: _hours, ...rest } = service;
    return { ...rest, rank, score: 100 - rank, why: rank > 0 ? `Demo directory: ${service.distance_miles.toFixed(1)} mi from the demo centre` : "" };
  }

  suggestServices(request: SuggestionRequest) {
    return this.step("suggestServices", [request], () => this.suggest());
  }

  suggestForEncounter(encounter: Encounter, needs: string[]) {
    return this.step("suggestForEncounter", [encounter, needs], () => {
      if (untouched(encounter, "location.lat") || untouched(encounter, "location.lon")) fail(CORE_FIXTURES.no_location);
      return this.suggest();
    });
  }

  /** The demo services whose name contains the text; distances are the canned ones from DEMO_CENTRE. */
  searchServices(text: string, from: [number, number] | null = null) {
    return this.step("searchServices", [text, from], (): ServiceHit[] => {
      const wanted = text.trim().toLowerCase();
      return DEMO_SERVICES.filter((s) => wanted !== "" && s.name.toLowerCase().includes(wanted)).map((s) => ({
        service_id: s.service_id,
        service_at_location_id: s.service_at_location_id,
        name: s.name,
        organization: s.organization,
        city: demoCity(s),
        latitude: s.latitude,
        longitude: s.longitude,
        distance_miles: from ? s.distance_miles : null,
      }));
    });
  }

  findPlaces(text: string) {
    return this.step("findPlaces", [text], () => {
      const wanted = text.trim().toLowerCase();
      return wanted === "" ? [] : DEMO_PLACES.filter((p) => p.label.toLowerCase().includes(wanted));
    });
  }

  private demoService(id: string): DemoService {
    return DEMO_SERVICES.find((s) => s.service_at_location_id === id) ?? fail({ kind: "not_found", message: `service ${id} not found` });
  }

  serviceDetail(id: string, from: [number, number] | null) {
    return this.step("serviceDetail", [id, from], () => {
      const service = this.demoService(id);
      // Not ranked for any request: rank 0, no "why", and no distance without a position.
      return { ...this.asSuggestion(service, 0), score: 0, distance_miles: from ? service.distance_miles : 0 };
    });
  }

  resourceCard(ids: string[]) {
    return this.step("resourceCard", [ids], (): ResourceCard => {
      const entries = ids.map((id) => demoCardEntry(this.demoService(id)));
      const crisis_line = "988 Suicide & Crisis Lifeline: call or text 988";
      const text = [...entries.map((e) => [e.name, e.address, ...e.phones, e.hours].filter(Boolean).join("\n")), crisis_line].join("\n\n");
      return { entries, crisis_line, text, qr_svg: demoQrSvg(text), generated_at: this.now() };
    });
  }

  gpsReading() {
    return this.step("gpsReading", [], () => this.gps);
  }
}
