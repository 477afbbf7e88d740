// The local-facts form's values and the JSON the server takes. Checking is the server's (it
// names the field of any refusal); this only turns form fields into the document and back.
import type { LocalFacts } from "../bindings/LocalFacts";
import type { LocalHours } from "../bindings/LocalHours";
import type { WeeklyPeriod } from "../bindings/WeeklyPeriod";

export const DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"] as const;

export interface FactsForm {
  dropoffs: "unknown" | "yes" | "no";
  hours: "unknown" | "always_open" | "weekly";
  periods: WeeklyPeriod[];
  timezone: string;
  intakePhone: string;
  note: string;
}

export function formOf(facts: LocalFacts | null | undefined, defaultZone: string): FactsForm {
  const hours = facts?.hours;
  return {
    dropoffs: facts?.accepts_dropoffs === undefined ? "unknown" : facts.accepts_dropoffs ? "yes" : "no",
    hours: hours?.kind ?? "unknown",
    periods: hours?.kind === "weekly" ? structuredClone(hours.periods) : [{ days: ["MO", "TU", "WE", "TH", "FR"], opens_at: "08:00", closes_at: "17:00" }],
    timezone: hours?.kind === "weekly" ? (hours.timezone ?? defaultZone) : defaultZone,
    intakePhone: facts?.intake_phone ?? "",
    note: facts?.officer_note ?? "",
  };
}

export function factsOf(form: FactsForm): LocalFacts {
  const facts: LocalFacts = {};
  if (form.dropoffs !== "unknown") facts.accepts_dropoffs = form.dropoffs === "yes";
  let hours: LocalHours | undefined;
  if (form.hours === "always_open") hours = { kind: "always_open" };
  if (form.hours === "weekly") hours = { kind: "weekly", periods: form.periods, timezone: form.timezone };
  if (hours) facts.hours = hours;
  if (form.intakePhone.trim()) facts.intake_phone = form.intakePhone.trim();
  if (form.note.trim()) facts.officer_note = form.note.trim();
  return facts;
}

/** The field a refusal names ("hours.periods.0.days: ..." -> "hours.periods.0.days"). */
export function fieldOf(message: string): string | null {
  const match = /^([a-z_]+(?:\.[a-z0-9_]+)*):/.exec(message);
  return match ? match[1] : null;
}
