// The optional online map: OpenStreetMap tiles under the offline state outlines. Off unless the
// officer turns it on; the choice is remembered on this device. The offline map never needs it.

export const ONLINE_TILES_KEY = "waypoint.map.onlineTiles";
export const OSM_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
/** Plain text: a link inside the app would take its window away from Waypoint. */
export const OSM_ATTRIBUTION = "© OpenStreetMap contributors";

type Store = Pick<Storage, "getItem" | "setItem">;

function defaultStore(): Store | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null; // storage disabled: the toggle still works for this session
  }
}

/** Whether the officer turned the online map on (false when never chosen or unreadable). */
export function onlineTilesWanted(store: Store | null = defaultStore()): boolean {
  try {
    return store?.getItem(ONLINE_TILES_KEY) === "on";
  } catch {
    return false;
  }
}

export function rememberOnlineTiles(on: boolean, store: Store | null = defaultStore()): void {
  try {
    store?.setItem(ONLINE_TILES_KEY, on ? "on" : "off");
  } catch {
    // Not remembered; nothing else depends on it.
  }
}
