// Search by name and the service detail: what to show. Matching and ranking are the core's (FTS5).
import type { ServiceHit } from "../bindings/ServiceHit";
import type { Suggestion } from "../bindings/Suggestion";
import type { Term } from "../bindings/Term";

/** Worth asking the core: at least one letter or digit (it ignores everything else). */
export function searchable(text: string): boolean {
  return /[\p{L}\p{N}]/u.test(text);
}

/** "Sangamon Behavioral Health · Springfield": what tells two same-named services apart. */
export function hitContext(hit: ServiceHit): string {
  return [hit.organization && hit.organization !== hit.name ? hit.organization : null, hit.city].filter(Boolean).join(" · ");
}

/**
 * Why this service is worth a look. The core's detail leaves `why` empty (it is not ranked for a
 * request), so when the same service is in the ranked list its rank and reason are shown instead.
 */
export function whyText(detail: Suggestion, ranked: Suggestion[]): string {
  const inList = ranked.find((s) => s.service_at_location_id === detail.service_at_location_id);
  if (inList) return `Ranked ${inList.rank} here: ${inList.why}`;
  if (detail.why.trim()) return detail.why;
  return "Found by name: not among the ranked services for this position and these needs.";
}

/** The service's types in words, using the needs' labels where they match. */
export function typeWords(types: string[], needs: Term[]): string[] {
  return types.map((code) => needs.find((n) => n.code === code)?.label ?? code.replaceAll("_", " "));
}
