/** Where the officer (or the encounter) is, as the map and the screens pass it around. */
export type Position = { lat: number; lon: number; accuracy_m: number | null };
