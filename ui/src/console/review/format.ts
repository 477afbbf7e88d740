// How the review desk words what the server sends: waited time, flags, field paths of a diff.
// Presentation only: which reports carry a flag is the server's (the queue row says).

import type { AgencyConfig } from "$lib/bindings/AgencyConfig";
import { fieldLabel } from "$lib/layout";
import { label, labels } from "$lib/vocab";

import type { ReviewFlags } from "../bindings/ReviewFlags";

/** "2 d 3 h", "3 h 12 min", "8 min", "just now": how long since `iso` at `now`. */
export function waited(iso: string, now: Date): string {
  const minutes = Math.floor((now.getTime() - new Date(iso).getTime()) / 60000);
  if (!Number.isFinite(minutes) || minutes < 1) return "just now";
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  if (days > 0) return `${days} d ${hours} h`;
  if (hours > 0) return `${hours} h ${minutes % 60} min`;
  return `${minutes} min`;
}

/** The flags sergeants review first, in the order the row shows them. */
export const FLAGS: { key: keyof ReviewFlags; label: string; short: string }[] = [
  { key: "force_used", label: "Force used", short: "Force" },
  { key: "injury", label: "Injury", short: "Injury" },
  { key: "weapon", label: "Weapon", short: "Weapon" },
  { key: "emergency_detention", label: "Emergency detention", short: "ED" },
  { key: "arrest", label: "Arrest", short: "Arrest" },
];

export function flagsOf(flags: ReviewFlags): { key: keyof ReviewFlags; label: string; short: string }[] {
  return FLAGS.filter((f) => flags[f.key]);
}

/** Which vocabulary a field's codes come from, for a diff shown with the agency's labels. */
const VOCABULARY_OF: Record<string, string> = {
  "call.call_type": "call_types",
  crisis_natures: "crisis_natures",
  behaviours: "behaviours",
  "risk.weapon": "weapons",
  "risk.substances": "substances",
  dispositions: "dispositions",
  "subject.age_band": "age_bands",
  "subject.gender": "genders",
  "subject.housing_status": "housing_statuses",
  "diversion.offences_considered": "offences",
};

/** `dispositions[1]` -> `dispositions`: the field an array item belongs to. */
export function fieldOf(path: string): string {
  return path.replace(/\[\d+\]$/, "");
}

/** The label of a changed field: `Disposition (item 2)`, `Referrals (item 1) · outcome`. */
export function changeLabel(path: string): string {
  const field = fieldOf(path);
  if (field !== path) return `${fieldLabel(field)} (item ${Number(/\[(\d+)\]$/.exec(path)![1]) + 1})`;
  const nested = /^(\w+)\[(\d+)\]\.(.+)$/.exec(path);
  if (nested) return `${fieldLabel(nested[1])} (item ${Number(nested[2]) + 1}) · ${nested[3]}`;
  return fieldLabel(path);
}

/** One side of a change as the sergeant reads it: codes with the agency's labels. */
export function changeValue(config: AgencyConfig | null, path: string, value: unknown): string {
  if (value === undefined || value === null) return "—";
  const vocabulary = VOCABULARY_OF[fieldOf(path)];
  if (config && vocabulary) {
    if (Array.isArray(value)) return labels(config, vocabulary, value.map(String));
    if (typeof value === "string") return label(config, vocabulary, value);
  }
  if (typeof value === "boolean") return value ? "Yes" : "No";
  if (typeof value === "string") return value === "" ? "—" : value;
  return JSON.stringify(value);
}
