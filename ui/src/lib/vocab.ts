import type { AgencyConfig } from "./bindings/AgencyConfig";
import type { Term } from "./bindings/Term";

export function terms(config: AgencyConfig, vocabulary: string): Term[] {
  return config.vocabularies[vocabulary] ?? [];
}

/**
 * The agency's label for a code: a code the agency renamed reads with its new code's label (the
 * report keeps the old code); the code itself when the vocabulary no longer has it.
 */
export function label(config: AgencyConfig, vocabulary: string, code: string | null | undefined): string {
  if (code === null || code === undefined || code === "") return "—";
  const current = config.renamed_codes?.[vocabulary]?.[code] ?? code;
  return terms(config, vocabulary).find((t) => t.code === current)?.label ?? code;
}

export function labels(config: AgencyConfig, vocabulary: string, codes: string[]): string {
  return codes.length === 0 ? "—" : codes.map((c) => label(config, vocabulary, c)).join(", ");
}

export function isRequired(config: AgencyConfig, field: string): boolean {
  return config.required_on_submit.includes(field);
}
