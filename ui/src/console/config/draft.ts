// Editing a copy of the agency configuration in the console. These helpers only change the
// document; every rule (codes, labels, what may be removed) is the server's, which answers the
// check and the save.
import type { AgencyConfig } from "$lib/bindings/AgencyConfig";
import type { DevicePolicy } from "$lib/bindings/DevicePolicy";
import type { Term } from "$lib/bindings/Term";

/** vocabulary -> old code -> new code. */
export type Mapping = Record<string, Record<string, string>>;

export function copyOf(config: AgencyConfig): AgencyConfig {
  return structuredClone(config);
}

export function termsOf(config: AgencyConfig, vocabulary: string): Term[] {
  return config.vocabularies[vocabulary] ?? [];
}

export function withLabel(config: AgencyConfig, vocabulary: string, code: string, label: string): AgencyConfig {
  const next = structuredClone(config);
  const term = termsOf(next, vocabulary).find((t) => t.code === code);
  if (term) term.label = label;
  return next;
}

export function withTerm(config: AgencyConfig, vocabulary: string, term: Term): AgencyConfig {
  const next = structuredClone(config);
  next.vocabularies[vocabulary] = [...termsOf(next, vocabulary), { code: term.code.trim(), label: term.label.trim() }];
  return next;
}

export function withoutTerm(config: AgencyConfig, vocabulary: string, code: string): AgencyConfig {
  const next = structuredClone(config);
  next.vocabularies[vocabulary] = termsOf(next, vocabulary).filter((t) => t.code !== code);
  return next;
}

/** What the draft changes, for the admin to read before saving (the server counts again). */
export interface DraftChange {
  vocabulary: string;
  code: string;
  kind: "added" | "relabelled" | "removed";
  before?: string;
  after?: string;
}

export function changesBetween(saved: AgencyConfig, draft: AgencyConfig): DraftChange[] {
  const out: DraftChange[] = [];
  const names = new Set([...Object.keys(saved.vocabularies), ...Object.keys(draft.vocabularies)]);
  for (const vocabulary of [...names].sort()) {
    const before = termsOf(saved, vocabulary);
    const after = termsOf(draft, vocabulary);
    for (const term of after) {
      const old = before.find((t) => t.code === term.code);
      if (!old) out.push({ vocabulary, code: term.code, kind: "added", after: term.label });
      else if (old.label !== term.label) out.push({ vocabulary, code: term.code, kind: "relabelled", before: old.label, after: term.label });
    }
    for (const term of before) {
      if (!after.some((t) => t.code === term.code)) out.push({ vocabulary, code: term.code, kind: "removed", before: term.label });
    }
  }
  return out;
}

/** A vocabulary's name as a heading ("call_types" -> "Call types"). */
export function vocabularyTitle(name: string): string {
  const words = name.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function withPolicy(config: AgencyConfig, patch: Partial<DevicePolicy>): AgencyConfig {
  const next = structuredClone(config);
  next.device_policy = { ...next.device_policy, ...patch };
  return next;
}

/** One setting of the device policy the draft changes. */
export interface PolicyChange {
  field: keyof DevicePolicy;
  before: string;
  after: string;
}

export function policyChanges(saved: AgencyConfig, draft: AgencyConfig): PolicyChange[] {
  const fields = Object.keys(draft.device_policy) as (keyof DevicePolicy)[];
  return fields
    .filter((field) => saved.device_policy[field] !== draft.device_policy[field])
    .map((field) => ({ field, before: String(saved.device_policy[field]), after: String(draft.device_policy[field]) }));
}

/** A policy setting's name as the page shows it. */
export const POLICY_TITLES: Record<keyof DevicePolicy, string> = {
  auto_lock_minutes: "Auto-lock after (minutes)",
  secret_kind: "Unlock with",
  secret_min_length: "Shortest PIN or passphrase",
  max_failed_unlocks: "Wrong tries before the device wipes itself",
};
