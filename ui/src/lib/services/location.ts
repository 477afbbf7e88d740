// Writing the Find-services position back into an encounter's location. Presentation logic only:
// the core validates the location when the draft is saved.
import type { Location } from "../bindings/Location";
import type { LocationSource } from "../bindings/LocationSource";
import type { Position } from "./types";

/**
 * The encounter's location at `position`. GPS keeps its source and accuracy; anything else (map
 * click, typed place, coordinates) is "manual" with no accuracy. A chosen place's label fills the
 * address only when the officer has not written one: their own words are never replaced.
 */
export function locationAt(current: Location, position: Position, source: LocationSource, placeLabel: string | null): Location {
  const gps = source === "gps";
  const written = current.address?.trim() ? current.address : null;
  return {
    lat: position.lat,
    lon: position.lon,
    accuracy_m: gps ? position.accuracy_m : null,
    source: gps ? "gps" : "manual",
    address: written ?? (placeLabel?.trim() ? placeLabel.trim() : null),
  };
}

/** True when the encounter's location is already this position (nothing to write back). */
export function isAt(location: Location, position: Position | null): boolean {
  return !!position && location.lat === position.lat && location.lon === position.lon;
}

/** "39.78170, -89.65010": five decimals is about a metre, plenty for a street corner. */
export function coordinatesText(lat: number, lon: number): string {
  return `${lat.toFixed(5)}, ${lon.toFixed(5)}`;
}

/** "39.78170, -89.65010 (GPS ±8 m)" / "(placed by hand)" / "not set". */
export function locationText(location: Location): string {
  if (location.lat === null || location.lon === null) return "not set";
  const how = location.source === "gps" ? `GPS${location.accuracy_m !== null ? ` ±${Math.round(location.accuracy_m)} m` : ""}` : "placed by hand";
  return `${coordinatesText(location.lat, location.lon)} (${how})`;
}
