import type { SyncState } from "../bindings/SyncState";
import type { SyncStatus } from "../bindings/SyncStatus";
import type { EnrollDevice } from "../bindings/EnrollDevice";
import type { OfficerLogin } from "../bindings/OfficerLogin";
// An in-memory stand-in for the Rust core, used ONLY by the vitest/browser tests and the `?demo`
// dev mode. It imitates the core's basic behaviour; the real rules live in crates/core.
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
import type { SuggestionRequest } from "../bindings/SuggestionRequest";
import type { BootSnapshot } from "../bindings/BootSnapshot";
import type { Backend } from "./types";
import { DEMO_CENTRE, DEMO_NEEDS, DEMO_PLACES, DEMO_SERVICES, demoCardEntry, demoCity, demoQrSvg, milesBetween, type DemoService } from "./demo-directory";

export const DEMO_CONFIG = agencyJson as AgencyConfig;

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

/** The blank request the stand-alone screen would send, for tests and the encounter adapter. */
export function demoRequest(lat: number, lon: number, needs: string[] = []): SuggestionRequest {
  return { lat, lon, crisis_natures: [], behaviours: [], substances: [], age_band: null, veteran: null, housing_status: null, needs, radius_miles: null, limit: null };
}

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

function isBlank(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value === "string") return value.trim() === "";
  if (Array.isArray(value)) return value.length === 0;
  return false;
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
    if (!this.unlocked) fail({ kind: "locked", message: "the store is locked: unlock it first" });
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
      pending_sync: this.countSync("pending"),
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
      const url = request.server_url.trim();
      if (!/^https:\/\/[^/]+/.test(url) && !/^http:\/\/(127\.0\.0\.1|localhost)(:|\/|$)/.test(url)) {
        fail({ kind: "validation", message: "The address must start with https://", field: "server_url" });
      }
      if (request.code.trim() === "") fail({ kind: "validation", message: "Enter the one-time enrolment code from the records admin.", field: "code" });
      this.enrollment = { server_url: url.replace(/\/+$/, ""), fingerprint: request.certificate_fingerprint };
      return this.syncView();
    });
  }

  officerLogin(login: OfficerLogin) {
    return this.step("officerLogin", [login], () => {
      this.requireUnlocked();
      if (!this.enrollment) fail({ kind: "invalid_state", message: "Enrol this device with the agency server first." });
      if (login.username.trim() === "") fail({ kind: "validation", message: "Enter your user name on the agency server.", field: "username" });
      if (login.password === "") fail({ kind: "validation", message: "Enter your password.", field: "password" });
      this.session = { username: login.username.trim() };
      return this.syncView();
    });
  }

  private issues(encounter: Encounter): AppError[] {
    return this.config.required_on_submit
      .filter((field) => isBlank(fieldValue(encounter, field)))
      .map((field) => ({ kind: "validation", message: "Required before submitting.", field }));
  }

  private versions(id: string): Encounter[] {
    return this.records.get(id) ?? fail({ kind: "not_found", message: `encounter ${id} not found` });
  }

  private storeDraft(encounter: Encounter): Encounter {
    const versions = this.versions(encounter.id);
    const index = versions.findIndex((v) => v.version === encounter.version);
    if (index < 0) fail({ kind: "not_found", message: `encounter ${encounter.id} v${encounter.version} not found` });
    if (versions[index].status !== "draft") {
      fail({ kind: "invalid_state", message: "This version was submitted and can no longer be edited." });
    }
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
      if (officerId.trim() === "") fail({ kind: "validation", field: "officer_id", message: "Enter your officer ID or badge number." });
      if ([...passphrase].length < 6) fail({ kind: "validation", field: "passphrase", message: "Use at least 6 characters or digits." });
      if (this.credentials) fail({ kind: "already_initialized", message: "Waypoint is already set up on this device: unlock it instead." });
      this.credentials = { officerId: officerId.trim(), passphrase };
      this.unlocked = true;
      this.seedSamples();
      return this.status();
    });
  }

  unlock(passphrase: string) {
    return this.step("unlock", [], () => {
      if (!this.credentials) fail({ kind: "invalid_state", message: "Waypoint is not set up on this device yet." });
      if (this.credentials!.passphrase !== passphrase) fail({ kind: "wrong_passphrase", message: "wrong passphrase or PIN" });
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
      if ([...next].length < 6) fail({ kind: "validation", field: "passphrase", message: "Use at least 6 characters or digits." });
      if (this.credentials?.passphrase !== old) fail({ kind: "wrong_passphrase", message: "wrong passphrase or PIN" });
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
      if (newest.status === "draft") fail({ kind: "invalid_state", message: "This report already has a draft: finish it first." });
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

  verifyAudit() {
    // The demo has no audit chain; the shape of the real report belongs to the core.
    return this.step("verifyAudit", [], () => ({ ok: true }) as unknown as AuditReport);
  }

  reportFirstPaint() {
    return this.step("reportFirstPaint", [], () => null);
  }

  // ---- service directory: a fixed demo directory, trivially ranked (the real ranking is the core's) ----

  directoryStatus() {
    return this.step("directoryStatus", [], (): DirectoryStatus => {
      if (this.directoryLoadingCalls > 0) {
        this.directoryLoadingCalls -= 1;
        return { ready: false, services: 0 as unknown as bigint, locations: 0 as unknown as bigint, loaded_in_s: null };
      }
      const n = DEMO_SERVICES.length as unknown as bigint;
      return { ready: true, services: n, locations: n, loaded_in_s: null };
    });
  }

  serviceNeeds() {
    return this.step("serviceNeeds", [], () => DEMO_NEEDS);
  }

  private suggest(request: SuggestionRequest): Suggestion[] {
    if (!(Math.abs(request.lat) <= 90 && Math.abs(request.lon) <= 180)) {
      fail({ kind: "validation", field: "location", message: "latitude or longitude out of range" });
    }
    const from = { lat: request.lat, lon: request.lon };
    const radius = request.radius_miles ?? 25;
    return DEMO_SERVICES.map((service) => ({ service, miles: milesBetween(from, { lat: service.latitude, lon: service.longitude }) }))
      .filter(({ service, miles }) => miles <= radius && (request.needs.length === 0 || request.needs.some((need) => service.types.includes(need))))
      .sort((a, b) => a.miles - b.miles)
      .slice(0, request.limit ?? 10)
      .map(({ service, miles }, index) => this.asSuggestion(service, miles, index + 1, request.needs));
  }

  private asSuggestion(service: DemoService, miles: number, rank: number, needs: string[]): Suggestion {
    const { weekly_hours: _hours, ...rest } = service;
    const matched = needs.filter((need) => service.types.includes(need));
    const why = matched.length > 0 ? `Offers ${matched.join(", ").replaceAll("_", " ")}; ${miles.toFixed(1)} mi away` : `Nearest first: ${miles.toFixed(1)} mi away`;
    return { ...rest, rank, distance_miles: miles, score: 100 - rank, why };
  }

  suggestServices(request: SuggestionRequest) {
    return this.step("suggestServices", [request], () => this.suggest(request));
  }

  suggestForEncounter(encounter: Encounter, needs: string[]) {
    return this.step("suggestForEncounter", [encounter, needs], () => {
      const { lat, lon } = encounter.location;
      if (lat === null || lon === null) {
        fail({ kind: "validation", field: "location", message: "Set the location (GPS, map or address) to see services near it." });
      }
      return this.suggest(demoRequest(lat!, lon!, needs));
    });
  }

  searchServices(text: string, from: [number, number] | null = null) {
    // As the core's FTS5 query: every typed word is a prefix of a word of the name, organization or
    // city; name matches first, or nearest first when there is a position; at most 20.
    return this.step("searchServices", [text, from], () => {
      const words = text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
      if (words.length === 0) return [];
      const tokens = (value: string) => value.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
      const matches = (value: string, word: string) => tokens(value).some((token) => token.startsWith(word));
      return DEMO_SERVICES.map((s) => ({ s, city: demoCity(s) }))
        .filter(({ s, city }) => words.every((w) => matches(s.name, w) || matches(s.organization, w) || matches(city ?? "", w)))
        .map(({ s, city }) => ({ s, city, byName: words.filter((w) => matches(s.name, w)).length }))
        .sort((a, b) =>
          from
            ? (a.s.latitude - from[0]) ** 2 + ((a.s.longitude - from[1]) * Math.cos((from[0] * Math.PI) / 180)) ** 2 -
              ((b.s.latitude - from[0]) ** 2 + ((b.s.longitude - from[1]) * Math.cos((from[0] * Math.PI) / 180)) ** 2)
            : b.byName - a.byName,
        )
        .slice(0, 20)
        .map(({ s, city }) => ({
          service_id: s.service_id,
          service_at_location_id: s.service_at_location_id,
          name: s.name,
          organization: s.organization,
          city,
          latitude: s.latitude,
          longitude: s.longitude,
        }));
    });
  }

  findPlaces(text: string) {
    return this.step("findPlaces", [text], () => {
      const wanted = text.trim().toLowerCase();
      return wanted === "" ? [] : DEMO_PLACES.filter((p) => p.label.toLowerCase().includes(wanted)).slice(0, 10);
    });
  }

  private demoService(id: string): DemoService {
    return DEMO_SERVICES.find((s) => s.service_at_location_id === id) ?? fail({ kind: "not_found", message: `service ${id} not found` });
  }

  serviceDetail(id: string, from: [number, number] | null) {
    return this.step("serviceDetail", [id, from], () => {
      const service = this.demoService(id);
      const miles = from ? milesBetween({ lat: from[0], lon: from[1] }, { lat: service.latitude, lon: service.longitude }) : 0;
      // As the core: not ranked for any request, so rank 0 and no "why".
      return { ...this.asSuggestion(service, miles, 0, []), score: 0, why: "" };
    });
  }

  resourceCard(ids: string[]) {
    return this.step("resourceCard", [ids], (): ResourceCard => {
      if (ids.length === 0) fail({ kind: "validation", field: "ids", message: "Choose at least one service for the card." });
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
