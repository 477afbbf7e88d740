// Words for what the backend decided. Presentation only: the open state, capacity age and
// staleness all come from the core; "unknown" is never shown as open.
import type { OpenNow } from "../bindings/OpenNow";

export const OPEN_NOW_WORDS: Record<OpenNow, string> = { open: "open", closed: "closed", unknown: "hours unknown" };

export function dropoffWords(takesDropoffs: boolean | null): string {
  return takesDropoffs === null ? "unknown" : takesDropoffs ? "yes" : "no";
}

export function milesText(miles: number): string {
  return miles < 10 ? `${miles.toFixed(1)} mi` : `${Math.round(miles)} mi`;
}

/** A `tel:` address: digits and a leading + only, with the extension as a pause-dial. */
export function telHref(number: string, extension: string | null): string {
  const digits = number.replace(/[^\d+]/g, "");
  return extension ? `tel:${digits},${extension.replace(/\D/g, "")}` : `tel:${digits}`;
}

/** Where an error about one of these fields is shown: beside the location inputs. */
export const LOCATION_FIELDS = new Set(["location", "lat", "lon", "location.lat", "location.lon"]);
