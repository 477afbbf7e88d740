// The queue request the filters make (GET /v1/review/queue's parameters).

import { localDateToIso } from "$lib/dates";

import type { ReviewState } from "../bindings/ReviewState";

export interface QueueFilters {
  officer: string;
  /** `YYYY-MM-DD`, local days, both inclusive. */
  from: string;
  to: string;
  force_used: boolean;
  injury: boolean;
  weapon: boolean;
  emergency_detention: boolean;
  arrest: boolean;
  q: string;
  flaggedFirst: boolean;
}

export const NO_FILTERS: QueueFilters = {
  officer: "",
  from: "",
  to: "",
  force_used: false,
  injury: false,
  weapon: false,
  emergency_detention: false,
  arrest: false,
  q: "",
  flaggedFirst: false,
};

export function queuePath(state: ReviewState, filters: QueueFilters, cursor: string | null = null, limit = 50): string {
  const params = new URLSearchParams();
  params.set("state", state);
  if (filters.officer.trim()) params.set("officer", filters.officer.trim());
  const from = localDateToIso(filters.from);
  if (from) params.set("submitted_from", from);
  // The server's `submitted_to` is exclusive: the day after the last one asked for.
  const to = localDateToIso(filters.to, true);
  if (to) params.set("submitted_to", to);
  for (const flag of ["force_used", "injury", "weapon", "emergency_detention", "arrest"] as const) {
    if (filters[flag]) params.set(flag, "true");
  }
  if (filters.q.trim()) params.set("q", filters.q.trim());
  if (filters.flaggedFirst) params.set("order", "flagged_first");
  if (cursor) params.set("cursor", cursor);
  params.set("limit", String(limit));
  return `/v1/review/queue?${params}`;
}
