// A small fixed service directory for the in-memory backend (`?demo` and tests): services around
// Springfield, IL with open, closed and unknown hours, fresh and stale capacity, and every answer
// to "takes police drop-offs". Everything the core computes (open states, texts, distances from
// DEMO_CENTRE, the order of the list) is written out here as fixed data: the fake does not rank.
import type { CardEntry } from "../bindings/CardEntry";
import type { Place } from "../bindings/Place";
import type { Suggestion } from "../bindings/Suggestion";
import type { Term } from "../bindings/Term";

export const DEMO_CENTRE = { lat: 39.7817, lon: -89.6501 };

export const DEMO_NEEDS: Term[] = [
  { code: "crisis_stabilization", label: "Crisis stabilization" },
  { code: "detox", label: "Detox / withdrawal management" },
  { code: "moud", label: "Medication for opioid use disorder" },
  { code: "shelter", label: "Shelter" },
  { code: "mobile_crisis", label: "Mobile crisis team" },
  { code: "outpatient", label: "Outpatient" },
];

/** A directory row: a suggestion without its rank, score and why (its distance is from DEMO_CENTRE). */
export type DemoService = Omit<Suggestion, "rank" | "score" | "why"> & { weekly_hours: string };

function capacity(unit: string, available: number, maximum: number | null, ageMinutes: number, stale: boolean) {
  const age = ageMinutes < 60 ? `${ageMinutes} min ago` : `${Math.round(ageMinutes / 60)} h ago`;
  return {
    unit,
    available,
    maximum,
    updated_at: new Date(Date.now() - ageMinutes * 60_000).toISOString(),
    age_minutes: ageMinutes,
    text: `${available} ${unit}, as of ${age}`,
    stale,
  };
}

const phone = (number: string, description: string | null = null) => ({ number, extension: null, kind: "voice", description });

export const DEMO_SERVICES: DemoService[] = [
  {
    service_id: "svc-csu",
    service_at_location_id: "sal-csu",
    location_id: "loc-csu",
    name: "Sangamon Crisis Stabilization Unit",
    organization: "Sangamon Behavioral Health",
    address: "710 N 8th St, Springfield, IL 62702",
    latitude: 39.8095,
    longitude: -89.6443,
    distance_miles: 1.9,
    types: ["crisis_stabilization", "psychiatric_emergency"],
    open_now: "open",
    hours: "open 24/7",
    weekly_hours: "Open 24 hours, every day",
    capacity: capacity("beds", 4, 12, 120, false),
    law_enforcement_dropoff: true,
    officer_note: "Call ahead on the intake line; use the ambulance bay on 8th St.",
    phones: [phone("(217) 555-0101", "Intake, 24 h"), phone("(217) 555-0102", "Police drop-off line")],
    website: null,
  },
  {
    service_id: "svc-detox",
    service_at_location_id: "sal-detox",
    location_id: "loc-detox",
    name: "Memorial Withdrawal Management Center",
    organization: "Memorial Health",
    address: "800 N Rutledge St, Springfield, IL 62702",
    latitude: 39.8102,
    longitude: -89.6551,
    distance_miles: 2.0,
    types: ["detox", "substance_use"],
    open_now: "open",
    hours: "open 24/7",
    weekly_hours: "Open 24 hours, every day",
    capacity: capacity("beds", 2, 16, 1800, true),
    law_enforcement_dropoff: true,
    officer_note: null,
    phones: [phone("(217) 555-0111")],
    website: null,
  },
  {
    service_id: "svc-outpatient",
    service_at_location_id: "sal-outpatient",
    location_id: "loc-outpatient",
    name: "Lincoln Land Outpatient Counseling",
    organization: "Lincoln Land Counseling",
    address: "1000 S 6th St, Springfield, IL 62703",
    latitude: 39.7913,
    longitude: -89.6489,
    distance_miles: 0.7,
    types: ["outpatient", "mental_health"],
    open_now: "closed",
    hours: "closed, opens Mon 08:00",
    weekly_hours: "Mon-Fri 08:00-17:00",
    capacity: null,
    law_enforcement_dropoff: false,
    officer_note: null,
    phones: [phone("(217) 555-0121")],
    website: null,
  },
  {
    service_id: "svc-shelter",
    service_at_location_id: "sal-shelter",
    location_id: "loc-shelter",
    name: "Capital City Night Shelter",
    organization: "Helping Hands of Springfield",
    address: "1023 E Washington St, Springfield, IL 62703",
    latitude: 39.8012,
    longitude: -89.6356,
    distance_miles: 1.6,
    types: ["shelter"],
    open_now: "open",
    hours: "open until 07:00",
    weekly_hours: "Every day 19:00-07:00",
    capacity: capacity("beds", 12, 40, 45, false),
    law_enforcement_dropoff: null,
    officer_note: null,
    phones: [phone("(217) 555-0131")],
    website: null,
  },
  {
    service_id: "svc-mobile",
    service_at_location_id: "sal-mobile",
    location_id: "loc-mobile",
    name: "Central Illinois Mobile Crisis Team",
    organization: "Sangamon Behavioral Health",
    address: "2200 Stevenson Dr, Springfield, IL 62703",
    latitude: 39.7592,
    longitude: -89.6222,
    distance_miles: 2.1,
    types: ["mobile_crisis", "crisis_line"],
    open_now: "unknown",
    hours: "hours unknown",
    weekly_hours: "Hours unknown: call first",
    capacity: null,
    law_enforcement_dropoff: null,
    officer_note: null,
    phones: [phone("(217) 555-0141", "Dispatch")],
    website: null,
  },
  {
    service_id: "svc-moud",
    service_at_location_id: "sal-moud",
    location_id: "loc-moud",
    name: "Springfield Recovery Clinic (buprenorphine)",
    organization: "Springfield Recovery",
    address: "3001 Clear Lake Ave, Springfield, IL 62702",
    latitude: 39.8048,
    longitude: -89.6123,
    distance_miles: 2.6,
    types: ["moud", "substance_use", "outpatient"],
    open_now: "closed",
    hours: "closed, opens Mon 07:00",
    weekly_hours: "Mon-Sat 07:00-15:00",
    capacity: null,
    law_enforcement_dropoff: false,
    officer_note: null,
    phones: [],
    website: null,
  },
  {
    service_id: "svc-er",
    service_at_location_id: "sal-er",
    location_id: "loc-er",
    name: "St. John's Psychiatric Emergency",
    organization: "St. John's Hospital",
    address: "800 E Carpenter St, Springfield, IL 62769",
    latitude: 39.8079,
    longitude: -89.6409,
    distance_miles: 1.9,
    types: ["psychiatric_emergency", "hospital"],
    open_now: "open",
    hours: "open 24/7",
    weekly_hours: "Open 24 hours, every day",
    capacity: null,
    law_enforcement_dropoff: true,
    officer_note: null,
    phones: [phone("(217) 555-0161")],
    website: null,
  },
  {
    service_id: "svc-vet",
    service_at_location_id: "sal-vet",
    location_id: "loc-vet",
    name: "Springfield Vet Center",
    organization: "Veterans Affairs",
    address: "1227 S 9th St, Springfield, IL 62703",
    latitude: 39.7862,
    longitude: -89.6437,
    distance_miles: 0.5,
    types: ["outpatient", "mental_health"],
    open_now: "unknown",
    hours: "hours unknown",
    weekly_hours: "Hours unknown: call first",
    capacity: null,
    law_enforcement_dropoff: false,
    officer_note: null,
    phones: [phone("(217) 555-0171")],
    website: null,
  },
];

export const DEMO_PLACES: Place[] = [
  { label: "Springfield, IL", kind: "city", latitude: 39.7995, longitude: -89.6387, locations: DEMO_SERVICES.length },
  { label: "62702", kind: "postal_code", latitude: 39.8082, longitude: -89.6392, locations: 4 },
  { label: "62703", kind: "postal_code", latitude: 39.7845, longitude: -89.6376, locations: 4 },
  ...DEMO_SERVICES.map((s) => ({ label: s.address ?? s.name, kind: "address", latitude: s.latitude, longitude: s.longitude, locations: 1 })),
];

/** The city of a demo address ("710 N 8th St, Springfield, IL 62702" -> "Springfield"). */
export function demoCity(service: DemoService): string | null {
  return service.address?.split(",")[1]?.trim() || null;
}

export function demoCardEntry(service: DemoService): CardEntry {
  return {
    service_at_location_id: service.service_at_location_id,
    name: service.name,
    organization: service.organization,
    address: service.address,
    phones: service.phones.map((p) => p.number),
    hours: service.weekly_hours,
    website: service.website,
  };
}

/** A stand-in picture for the QR code (the real one is drawn by the core from the card's text). */
export function demoQrSvg(text: string): string {
  const size = 21;
  let seed = [...text].reduce((sum, c) => (sum * 31 + c.charCodeAt(0)) >>> 0, 7);
  const cells: string[] = [];
  for (let y = 0; y < size; y += 1)
    for (let x = 0; x < size; x += 1) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      if ((seed >> 16) & 1) cells.push(`<rect x="${x + 2}" y="${y + 2}" width="1" height="1"/>`);
    }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size + 4} ${size + 4}" shape-rendering="crispEdges"><rect width="100%" height="100%" fill="#fff"/><g fill="#000">${cells.join("")}</g></svg>`;
}
