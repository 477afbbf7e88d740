import { invoke } from "@tauri-apps/api/core";
import { normalizeError } from "./errors";
import type { BootSnapshot } from "../bindings/BootSnapshot";
import type { Backend } from "./types";
import type { Command } from "./commands";

/** `command` is typed by the shell's generated list: a renamed command fails type-checking. */
async function call<T>(command: Command, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    throw normalizeError(error);
  }
}

/** The real backend: Tauri commands (argument keys are camelCase, as Tauri 2 expects). */
export function tauriBackend(): Backend {
  return {
    // Set by the shell's initialization script before any of the page's scripts run.
    bootSnapshot: () => (window as { __WAYPOINT_BOOT__?: BootSnapshot }).__WAYPOINT_BOOT__ ?? null,
    appStatus: () => call("app_status"),
    setup: (officerId, passphrase) => call("setup", { officerId, passphrase }),
    unlock: (passphrase) => call("unlock", { passphrase }),
    lock: () => call("lock"),
    changePassphrase: (old, next) => call("change_passphrase", { old, new: next }),
    agencyConfig: () => call("agency_config"),
    newEncounter: () => call("new_encounter"),
    saveDraft: (encounter) => call("save_draft", { encounter }),
    checkEncounter: (encounter) => call("check_encounter", { encounter }),
    submitEncounter: (encounter) => call("submit_encounter", { encounter }),
    amendEncounter: (id) => call("amend_encounter", { id }),
    listEncounters: (query) => call("list_encounters", { query }),
    getEncounter: (id) => call("get_encounter", { id }),
    getEncounterVersion: (id, version) => call("get_encounter_version", { id, version }),
    verifyAudit: () => call("verify_audit"),
    reportFirstPaint: () => call("report_first_paint"),
    directoryStatus: () => call("directory_status"),
    serviceNeeds: () => call("service_needs"),
    suggestServices: (request) => call("suggest_services", { request }),
    suggestForEncounter: (encounter, needs) => call("suggest_for_encounter", { encounter, needs }),
    searchServices: (text, from) => call("search_services", { text, from: from ?? null }),
    findPlaces: (text) => call("find_places", { text }),
    serviceDetail: (id, from) => call("service_detail", { id, from }),
    resourceCard: (ids) => call("resource_card", { ids }),
    gpsReading: () => call("gps_reading"),
    syncStatus: () => call("sync_status"),
    syncNow: () => call("sync_now"),
    enrollDevice: (request) => call("enroll_device", { request }),
    officerLogin: (login) => call("officer_login", { login }),
  };
}
