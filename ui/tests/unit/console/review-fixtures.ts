// Canned review-desk data in the server's wire shapes (no rules: what a server would answer).
import agencyJson from "../../../../assets/agency.json";
import type { QueueItem } from "../../../src/console/bindings/QueueItem";
import type { AgencyConfig } from "../../../src/lib/bindings/AgencyConfig";

export const config = agencyJson as unknown as AgencyConfig;

export const ID = "0193a5b2-7c1e-7000-8000-000000000001";

export function queueItem(overrides: Partial<QueueItem> = {}): QueueItem {
  return {
    encounter_id: ID,
    version: 1,
    officer_id: "badge-1207",
    occurred_at: "2026-12-01T22:10:00Z",
    submitted_at: "2026-12-01T23:00:00Z",
    flags: { force_used: true, injury: false, weapon: false, emergency_detention: false, arrest: true },
    call_type: "911",
    dispositions: ["arrested", "case_manager_notified"],
    state: "submitted",
    ...overrides,
  };
}

export function body(version: number, narrative: string, extra: Record<string, unknown> = {}) {
  return {
    id: ID,
    version,
    supersedes: version > 1 ? version - 1 : null,
    status: "submitted",
    device_id: "dev-1",
    officer_id: "badge-1207",
    config_version: 1,
    created_at: "2026-12-01T22:00:00Z",
    updated_at: "2026-12-01T23:00:00Z",
    occurred_at: "2026-12-01T22:10:00Z",
    submitted_at: "2026-12-01T23:00:00Z",
    review: null,
    incident_number: "CAD-77",
    location: { lat: 39.74, lon: -104.99, accuracy_m: 12, source: "gps", address: "Colfax & Broadway" },
    call: { call_type: "911", nature_of_call: "man on bridge railing" },
    subject: { name: null, age_band: "25_44", gender: null, veteran: null, housing_status: null },
    crisis_natures: ["unknown"],
    behaviours: ["suicide_threat"],
    behaviour_other: null,
    risk: { weapon: "none", threatened_violence: false, self_injury: false, substances: [], naloxone_administered: false },
    response: {
      cit_officer_requested: false, cit_officer_dispatched: false, cit_officer_arrived: false, officer_cit_certified: true,
      supervisor_on_scene: false, mobile_crisis_team: false, verbal_deescalation: true, handcuffs: false,
      reportable_force: false, subject_injured: false, officer_injured: false, minutes_on_scene: 40,
    },
    dispositions: ["transport_crisis_centre"],
    diversion: { custody_diverted: true, offences_considered: [] },
    referrals: [{ service_id: "svc-1", service_name: "Crisis Centre East", outcome: "accepted" }],
    narrative,
    ...extra,
  };
}

export function encounterReview() {
  return {
    encounter_id: ID,
    latest_version: 2,
    state: "submitted",
    versions: [
      {
        version: 1,
        content_hash: "aa",
        device_id: "dev-1",
        received_at: "2026-12-01T23:00:05Z",
        state: "returned",
        decisions: [
          {
            decision: "returned",
            comment: "Name the hospital",
            reason: null,
            reviewer: "sgt.reyes",
            decided_at: "2026-12-02T01:00:00Z",
            delivered_at: "2026-12-02T01:01:00Z",
          },
        ],
        body: body(1, "Talked down from the railing."),
        conflicting_copies: 0,
      },
      {
        version: 2,
        content_hash: "bb",
        device_id: "dev-1",
        received_at: "2026-12-02T02:00:05Z",
        state: "submitted",
        decisions: [],
        body: body(2, "Talked down; taken to St. Mary's."),
        conflicting_copies: 0,
      },
    ],
  };
}
