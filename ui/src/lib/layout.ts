// How the form is laid out: its sections in order (each drawn by components/form/sections.ts),
// which section shows which field, and the words for each field.
// (Presentation only: which fields are required comes from the agency configuration.)

export interface SectionDef {
  id: string;
  title: string;
  fields: string[];
}

export const SECTIONS: SectionDef[] = [
  {
    id: "call",
    title: "Call & location",
    fields: ["occurred_at", "incident_number", "call.call_type", "call.nature_of_call", "location.address", "location.lat", "location.lon", "location.accuracy_m", "location.source", "location"],
  },
  {
    id: "subject",
    title: "Subject",
    fields: ["subject.name", "subject.age_band", "subject.gender", "subject.veteran", "subject.housing_status", "subject"],
  },
  { id: "crisis", title: "Nature of crisis & behaviours", fields: ["crisis_natures", "behaviours", "behaviour_other"] },
  {
    id: "risk",
    title: "Risk",
    fields: ["risk.weapon", "risk.threatened_violence", "risk.self_injury", "risk.substances", "risk.naloxone_administered", "risk"],
  },
  {
    id: "response",
    title: "Response",
    fields: [
      "response.cit_officer_requested",
      "response.cit_officer_dispatched",
      "response.cit_officer_arrived",
      "response.officer_cit_certified",
      "response.supervisor_on_scene",
      "response.mobile_crisis_team",
      "response.verbal_deescalation",
      "response.handcuffs",
      "response.reportable_force",
      "response.subject_injured",
      "response.officer_injured",
      "response.minutes_on_scene",
      "response",
    ],
  },
  { id: "disposition", title: "Disposition & diversion", fields: ["dispositions", "diversion.custody_diverted", "diversion.offences_considered", "diversion"] },
  { id: "referrals", title: "Services & referrals", fields: ["referrals"] },
  { id: "narrative", title: "Narrative", fields: ["narrative"] },
];

/** The yes/no facts of the response (fields of `response`), in the order they are asked. */
export const RESPONSE_TOGGLES = [
  "cit_officer_requested",
  "cit_officer_dispatched",
  "cit_officer_arrived",
  "officer_cit_certified",
  "supervisor_on_scene",
  "mobile_crisis_team",
  "verbal_deescalation",
  "handcuffs",
  "reportable_force",
  "subject_injured",
  "officer_injured",
] as const;

export const FIELD_LABELS: Record<string, string> = {
  occurred_at: "Date & time of encounter",
  incident_number: "Incident / CAD number",
  "call.call_type": "How the call came in",
  "call.nature_of_call": "Nature of call",
  "location.address": "Address or place",
  "location.lat": "Latitude",
  "location.lon": "Longitude",
  "location.accuracy_m": "Accuracy (m)",
  "location.source": "Location source",
  "subject.name": "Name",
  "subject.age_band": "Age",
  "subject.gender": "Gender",
  "subject.veteran": "Veteran",
  "subject.housing_status": "Housing",
  crisis_natures: "Nature of crisis",
  behaviours: "Behaviours observed",
  behaviour_other: "Other behaviour (describe)",
  "risk.weapon": "Weapon",
  "risk.threatened_violence": "Threatened violence",
  "risk.self_injury": "Self-injury",
  "risk.substances": "Substances involved",
  "risk.naloxone_administered": "Naloxone administered",
  "response.cit_officer_requested": "CIT officer requested",
  "response.cit_officer_dispatched": "CIT officer dispatched",
  "response.cit_officer_arrived": "CIT officer arrived",
  "response.officer_cit_certified": "I am CIT-certified",
  "response.supervisor_on_scene": "Supervisor on scene",
  "response.mobile_crisis_team": "Mobile crisis team",
  "response.verbal_deescalation": "Verbal de-escalation used",
  "response.handcuffs": "Handcuffs used",
  "response.reportable_force": "Reportable use of force",
  "response.subject_injured": "Subject injured",
  "response.officer_injured": "Officer injured",
  "response.minutes_on_scene": "Minutes on scene",
  dispositions: "Disposition",
  "diversion.custody_diverted": "Was criminal custody diverted?",
  "diversion.offences_considered": "Offences considered",
  referrals: "Referrals",
  narrative: "Narrative",
};

export function fieldLabel(path: string): string {
  return FIELD_LABELS[path] ?? path;
}

/** The section a field (or a sub-field of it) belongs to. */
export function sectionOf(path: string): string | null {
  for (const section of SECTIONS) {
    if (section.fields.some((f) => f === path || path.startsWith(`${f}.`) || path.startsWith(`${f}[`))) return section.id;
  }
  return null;
}

/** The DOM id of a field's input. */
export function inputId(path: string): string {
  return `f-${path.replace(/[^a-zA-Z0-9_-]/g, "-")}`;
}
