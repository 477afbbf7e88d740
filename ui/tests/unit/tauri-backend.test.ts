// The Tauri backend against Tauri's own IPC mock: checks command names and argument keys of
// the generated command list, and that rejections arrive as AppError.
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import { chooseBackend, runningInTauri } from "../../src/lib/backend";
import { blankEncounter } from "../../src/lib/backend/memory";
import { COMMANDS } from "../../src/lib/backend/commands";
import { tauriBackend } from "../../src/lib/backend/tauri";

type Call = { cmd: string; args: Record<string, unknown> };

function record(reply: (cmd: string) => unknown = () => null): Call[] {
  const calls: Call[] = [];
  mockIPC((cmd, payload) => {
    calls.push({ cmd, args: { ...(payload as Record<string, unknown>) } });
    return reply(cmd);
  });
  return calls;
}

describe("tauri backend", () => {
  afterEach(() => {
    clearMocks();
    // clearMocks leaves the object behind; outside Tauri it does not exist at all.
    delete (window as unknown as Record<string, unknown>).__TAURI_INTERNALS__;
  });

  it("calls each command of the IPC contract with its argument keys", async () => {
    const calls = record();
    const backend = tauriBackend();
    const encounter = blankEncounter("0190d6a4-0000-7000-8000-000000000001", "B-1", "2026-11-28T17:00:00Z");
    const query = { text: "birch", from: null, to: null, status: null };
    await backend.appStatus();
    await backend.setup("B-1", "123456");
    await backend.unlock("123456");
    await backend.lock();
    await backend.changePassphrase("123456", "654321");
    await backend.agencyConfig();
    await backend.newEncounter();
    await backend.saveDraft(encounter);
    await backend.checkEncounter(encounter);
    await backend.submitEncounter(encounter);
    await backend.amendEncounter(encounter.id);
    await backend.listEncounters(query);
    await backend.getEncounter(encounter.id);
    await backend.getEncounterVersion(encounter.id, 2);
    await backend.verifyAudit();
    await backend.reportFirstPaint();
    const request = { lat: 39.78, lon: -89.65, crisis_natures: ["chemical"], behaviours: [], substances: [], age_band: null, veteran: null, housing_status: null, needs: ["detox"], radius_miles: null, limit: 5 };
    await backend.directoryStatus();
    await backend.serviceNeeds();
    await backend.suggestServices(request);
    await backend.suggestForEncounter(encounter, ["detox", "shelter"]);
    await backend.searchServices("crisis");
    await backend.searchServices("crisis", [30.27, -97.74]);
    await backend.findPlaces("62702");
    await backend.serviceDetail("sal-1", [39.78, -89.65]);
    await backend.serviceDetail("sal-2", null);
    await backend.resourceCard(["sal-1", "sal-2"]);
    await backend.gpsReading();
    await backend.syncStatus();
    await backend.syncNow();
    const enrol = { server_url: "https://records.example:8443", code: "ABCD", certificate_fingerprint: "AB:CD" };
    await backend.enrollDevice(enrol);
    await backend.officerLogin({ username: "officer1", password: "secret" });

    const plain = calls.map(({ cmd, args }) => ({ cmd, args: Object.fromEntries(Object.entries(args).filter(([k]) => !k.startsWith("__"))) }));
    expect(plain).toEqual([
      { cmd: "app_status", args: {} },
      { cmd: "setup", args: { officerId: "B-1", passphrase: "123456" } },
      { cmd: "unlock", args: { passphrase: "123456" } },
      { cmd: "lock", args: {} },
      { cmd: "change_passphrase", args: { old: "123456", new: "654321" } },
      { cmd: "agency_config", args: {} },
      { cmd: "new_encounter", args: {} },
      { cmd: "save_draft", args: { encounter } },
      { cmd: "check_encounter", args: { encounter } },
      { cmd: "submit_encounter", args: { encounter } },
      { cmd: "amend_encounter", args: { id: encounter.id } },
      { cmd: "list_encounters", args: { query } },
      { cmd: "get_encounter", args: { id: encounter.id } },
      { cmd: "get_encounter_version", args: { id: encounter.id, version: 2 } },
      { cmd: "verify_audit", args: {} },
      { cmd: "report_first_paint", args: {} },
      { cmd: "directory_status", args: {} },
      { cmd: "service_needs", args: {} },
      { cmd: "suggest_services", args: { request } },
      { cmd: "suggest_for_encounter", args: { encounter, needs: ["detox", "shelter"] } },
      { cmd: "search_services", args: { text: "crisis", from: null } },
      { cmd: "search_services", args: { text: "crisis", from: [30.27, -97.74] } },
      { cmd: "find_places", args: { text: "62702" } },
      { cmd: "service_detail", args: { id: "sal-1", from: [39.78, -89.65] } },
      { cmd: "service_detail", args: { id: "sal-2", from: null } },
      { cmd: "resource_card", args: { ids: ["sal-1", "sal-2"] } },
      { cmd: "gps_reading", args: {} },
      { cmd: "sync_status", args: {} },
      { cmd: "sync_now", args: {} },
      { cmd: "enroll_device", args: { request: enrol } },
      { cmd: "officer_login", args: { login: { username: "officer1", password: "secret" } } },
    ]);
    // Every command of the shell is reached through a method, and nothing else is called.
    expect([...new Set(plain.map((c) => c.cmd))].sort()).toEqual([...COMMANDS].sort());
  });

  it("rejects with the AppError the command returned", async () => {
    record(() => {
      throw { kind: "wrong_passphrase", message: "wrong passphrase or PIN" };
    });
    await expect(tauriBackend().unlock("000000")).rejects.toEqual({ kind: "wrong_passphrase", message: "wrong passphrase or PIN" });
  });

  it("turns an unknown rejection into an internal AppError", async () => {
    record(() => {
      throw "command unlock not found";
    });
    await expect(tauriBackend().unlock("000000")).rejects.toEqual({ kind: "internal", message: "command unlock not found" });
  });

  it("is chosen inside Tauri", async () => {
    delete (window as unknown as Record<string, unknown>).__TAURI_INTERNALS__;
    expect(runningInTauri()).toBe(false);
    expect(await chooseBackend()).toBeNull();
    const calls = record(() => ({ initialized: false }));
    expect(runningInTauri()).toBe(true);
    const backend = await chooseBackend();
    await backend!.appStatus();
    expect(calls.map((c) => c.cmd)).toEqual(["app_status"]);
  });
});
