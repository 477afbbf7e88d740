// Search by name, the service detail, writing the position into the encounter, and the online-map
// toggle's remembered state.
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import { MemoryBackend } from "../../src/lib/backend/memory";
import type { Encounter } from "../../src/lib/bindings/Encounter";
import type { Location } from "../../src/lib/bindings/Location";
import type { Suggestion } from "../../src/lib/bindings/Suggestion";
import FindServices from "../../src/lib/services/FindServices.svelte";
import { coordinatesText, isAt, locationAt, locationText } from "../../src/lib/services/location";
import { hitContext, searchable, typeWords, whyText } from "../../src/lib/services/search";
import { ONLINE_TILES_KEY, onlineTilesWanted, rememberOnlineTiles } from "../../src/lib/services/tiles";

const FAST = { showMap: false, refreshDelayMs: 0, placeDelayMs: 0, searchDelayMs: 0, gpsPollMs: 60_000, saveDelayMs: 0 };
const NOWHERE: Location = { lat: null, lon: null, accuracy_m: null, source: "none", address: null };
const calls = (backend: MemoryBackend, method: string) => backend.calls.filter((c) => c.method === method);

function open(backend = new MemoryBackend(), props: Record<string, unknown> = {}) {
  render(FindServices, { props: { backend, ...FAST, ...props } });
  return backend;
}

async function unlockedWithDraft(location: Location = NOWHERE) {
  const backend = new MemoryBackend({ initialized: { officerId: "B-1", passphrase: "123456" } });
  await backend.unlock("123456");
  const draft: Encounter = await backend.newEncounter();
  draft.location = location;
  await backend.saveDraft(draft);
  return { backend, draft };
}

describe("location written back to the encounter", () => {
  it("a map click or typed place is manual with no accuracy; GPS keeps its source and accuracy", () => {
    expect(locationAt(NOWHERE, { lat: 39.8, lon: -89.6, accuracy_m: null }, "manual", null)).toEqual({ lat: 39.8, lon: -89.6, accuracy_m: null, source: "manual", address: null });
    expect(locationAt(NOWHERE, { lat: 39.8, lon: -89.6, accuracy_m: 8 }, "gps", null)).toEqual({ lat: 39.8, lon: -89.6, accuracy_m: 8, source: "gps", address: null });
    // "none" never goes back: a position that exists was placed somehow.
    expect(locationAt(NOWHERE, { lat: 1, lon: 2, accuracy_m: 50 }, "none", null)).toMatchObject({ source: "manual", accuracy_m: null });
  });

  it("fills the address from a chosen place, but never replaces what the officer wrote", () => {
    expect(locationAt(NOWHERE, { lat: 1, lon: 2, accuracy_m: null }, "manual", " 62702 ").address).toBe("62702");
    expect(locationAt({ ...NOWHERE, address: "   " }, { lat: 1, lon: 2, accuracy_m: null }, "manual", "62702").address).toBe("62702");
    expect(locationAt({ ...NOWHERE, address: "412 Birch St" }, { lat: 1, lon: 2, accuracy_m: null }, "manual", "62702").address).toBe("412 Birch St");
    expect(locationAt({ ...NOWHERE, address: "412 Birch St" }, { lat: 1, lon: 2, accuracy_m: null }, "manual", null).address).toBe("412 Birch St");
  });

  it("describes a location in words", () => {
    expect(locationText(NOWHERE)).toBe("not set");
    expect(locationText({ ...NOWHERE, lat: 39.78171, lon: -89.65, source: "gps", accuracy_m: 7.6 })).toBe("39.78171, -89.65000 (GPS ±8 m)");
    expect(locationText({ ...NOWHERE, lat: 1, lon: 2, source: "manual" })).toBe("1.00000, 2.00000 (placed by hand)");
    expect(coordinatesText(-0.5, 100)).toBe("-0.50000, 100.00000");
    expect(isAt({ ...NOWHERE, lat: 1, lon: 2 }, { lat: 1, lon: 2, accuracy_m: null })).toBe(true);
    expect(isAt({ ...NOWHERE, lat: 1, lon: 2 }, { lat: 1, lon: 3, accuracy_m: null })).toBe(false);
    expect(isAt(NOWHERE, null)).toBe(false);
  });
});

describe("search and detail words", () => {
  const detail = { service_at_location_id: "sal-x", why: "", rank: 0 } as Suggestion;

  it("only asks the core when there is a word to look for", () => {
    expect(searchable("")).toBe(false);
    expect(searchable(" -*\" ")).toBe(false);
    expect(searchable("crisis")).toBe(true);
    expect(searchable("é")).toBe(true);
  });

  it("tells same-named services apart by organization and city", () => {
    const hit = { service_id: "s", service_at_location_id: "l", name: "Detox", organization: "County Health", city: "Springfield", latitude: 0, longitude: 0, distance_miles: null };
    expect(hitContext(hit)).toBe("County Health · Springfield");
    expect(hitContext({ ...hit, organization: "Detox", city: null })).toBe("");
  });

  it("says why: its rank in the current list, the core's words, or that it was found by name", () => {
    expect(whyText(detail, [{ service_at_location_id: "sal-x", rank: 3, why: "Offers detox; 1.2 mi away" } as Suggestion])).toBe("Ranked 3 here: Offers detox; 1.2 mi away");
    expect(whyText({ ...detail, why: "Core reason" }, [])).toBe("Core reason");
    expect(whyText(detail, [])).toMatch(/^Found by name/);
  });

  it("names the service types with the needs' labels", () => {
    expect(typeWords(["detox", "psychiatric_emergency"], [{ code: "detox", label: "Detox / withdrawal management" }])).toEqual(["Detox / withdrawal management", "psychiatric emergency"]);
  });
});

describe("online map toggle", () => {
  it("is off unless turned on, and remembers the choice", () => {
    const saved = new Map<string, string>();
    const store = { getItem: (k: string) => saved.get(k) ?? null, setItem: (k: string, v: string) => void saved.set(k, v) };
    expect(onlineTilesWanted(store)).toBe(false);
    rememberOnlineTiles(true, store);
    expect(saved.get(ONLINE_TILES_KEY)).toBe("on");
    expect(onlineTilesWanted(store)).toBe(true);
    rememberOnlineTiles(false, store);
    expect(onlineTilesWanted(store)).toBe(false);
  });

  it("survives storage that is missing or throws", () => {
    const broken = { getItem: () => { throw new Error("denied"); }, setItem: () => { throw new Error("denied"); } };
    expect(onlineTilesWanted(broken)).toBe(false);
    expect(() => rememberOnlineTiles(true, broken)).not.toThrow();
    expect(onlineTilesWanted(null)).toBe(false);
    // The real localStorage of the page is used by default.
    localStorage.removeItem(ONLINE_TILES_KEY);
    expect(onlineTilesWanted()).toBe(false);
    rememberOnlineTiles(true);
    expect(localStorage.getItem(ONLINE_TILES_KEY)).toBe("on");
    localStorage.removeItem(ONLINE_TILES_KEY);
  });
});

describe("Find services: search by name", () => {
  it("searches with the core's name search and opens a service's detail", async () => {
    const backend = open();
    await fireEvent.input(screen.getByTestId("service-search"), { target: { value: "withdrawal" } });
    const hit = await screen.findByTestId("service-hit");
    expect(calls(backend, "searchServices").at(-1)?.args).toEqual(["withdrawal", null]);
    expect(hit).toHaveTextContent("Memorial Withdrawal Management Center");
    expect(screen.queryByTestId("service-hit-distance")).toBeNull(); // no position, no distance
    hit.focus();
    await fireEvent.click(hit);

    const dialog = await screen.findByTestId("service-detail");
    expect(dialog).toHaveAttribute("role", "dialog");
    await waitFor(() => expect(within(dialog).getByTestId("detail-name")).toHaveTextContent("Memorial Withdrawal Management Center"));
    // No position yet: the detail is asked without one and says no distance.
    expect(calls(backend, "serviceDetail").at(-1)?.args).toEqual(["sal-detox", null]);
    expect(within(dialog).getByTestId("detail-address")).toHaveTextContent("800 N Rutledge St");
    expect(within(dialog).getByTestId("detail-address")).not.toHaveTextContent("mi from");
    expect(within(dialog).getByTestId("detail-hours")).toHaveTextContent("open 24/7");
    // Capacity with its age, marked out of date when the core says so.
    expect(within(dialog).getByTestId("detail-capacity")).toHaveTextContent(/2 beds, as of 30 h ago/);
    expect(within(dialog).getByTestId("detail-capacity")).toHaveTextContent("out of date");
    expect(within(dialog).getByTestId("detail-capacity")).toHaveTextContent("reported");
    expect(within(dialog).getByTestId("detail-dropoff")).toHaveTextContent("yes");
    expect(within(dialog).getByTestId("detail-why")).toHaveTextContent(/Found by name/);
    const phones = within(dialog).getAllByTestId("detail-phone");
    expect(phones[0].getAttribute("href")).toMatch(/^tel:\d{10}$/);
    // Stand-alone: no referral buttons, but the resource card checkbox.
    expect(within(dialog).queryByTestId("detail-referral-accepted")).toBeNull();
    await fireEvent.click(within(dialog).getByTestId("detail-card-pick"));
    expect(screen.getByTestId("show-card")).toHaveTextContent("Resource card (1)");

    // Escape closes it and gives focus back to the hit that opened it.
    expect(document.activeElement).not.toBe(hit);
    await fireEvent.keyDown(dialog, { key: "Escape" });
    await waitFor(() => expect(screen.queryByTestId("service-detail")).toBeNull());
    expect(document.activeElement).toBe(hit);
  });

  it("measures the distance from the position and gives the rank when the service is in the list", async () => {
    const backend = open();
    await fireEvent.input(screen.getByTestId("lat-input"), { target: { value: "39.78" } });
    await fireEvent.input(screen.getByTestId("lon-input"), { target: { value: "-89.65" } });
    await screen.findAllByTestId("service-result");
    await fireEvent.input(screen.getByTestId("service-search"), { target: { value: "stabilization" } });
    // With a position, each hit says how far it is.
    expect(await screen.findByTestId("service-hit-distance")).toHaveTextContent(/^· \d+\.\d mi$/);
    await fireEvent.click(await screen.findByTestId("service-hit"));
    const dialog = await screen.findByTestId("service-detail");
    await waitFor(() => expect(within(dialog).getByTestId("detail-why")).toHaveTextContent(/^Ranked \d+ here: /));
    expect(calls(backend, "serviceDetail").at(-1)?.args).toEqual(["sal-csu", [39.78, -89.65]]);
    expect(within(dialog).getByTestId("detail-address")).toHaveTextContent(/\d\.\d mi from your position/);
  });

  it("says when no service has that name, and does not ask for punctuation alone", async () => {
    const backend = open();
    await fireEvent.input(screen.getByTestId("service-search"), { target: { value: "zzzz" } });
    await waitFor(() => expect(screen.getByTestId("service-search-status")).toHaveTextContent("No service in the directory has that name."));
    const asked = calls(backend, "searchServices").length;
    await fireEvent.input(screen.getByTestId("service-search"), { target: { value: "--" } });
    await new Promise((r) => setTimeout(r, 20));
    expect(calls(backend, "searchServices").length).toBe(asked);
    expect(screen.queryByTestId("service-hit")).toBeNull();
  });

  it("moves from the box to the hits with the arrow keys", async () => {
    open();
    const box = screen.getByTestId("service-search");
    await fireEvent.input(box, { target: { value: "springfield" } });
    const hits = await screen.findAllByTestId("service-hit");
    expect(hits.length).toBeGreaterThan(1);
    box.focus();
    await fireEvent.keyDown(box, { key: "ArrowDown" });
    expect(document.activeElement).toBe(hits[0]);
    await fireEvent.keyDown(hits[0], { key: "ArrowDown" });
    expect(document.activeElement).toBe(hits[1]);
    await fireEvent.keyDown(hits[1], { key: "ArrowUp" });
    await fireEvent.keyDown(hits[0], { key: "ArrowUp" });
    expect(document.activeElement).toBe(box);
  });

  it("for an encounter: the detail adds the referral, once per service, and it is saved", async () => {
    const { backend, draft } = await unlockedWithDraft();
    let back: Encounter | null = null;
    open(backend, { encounter: draft, onback: (encounter: Encounter) => (back = encounter) });
    await fireEvent.input(screen.getByTestId("service-search"), { target: { value: "vet center" } });
    await fireEvent.click(await screen.findByTestId("service-hit"));
    const dialog = await screen.findByTestId("service-detail");
    const accept = await within(dialog).findByTestId("detail-referral-accepted");
    await fireEvent.click(accept);
    expect(accept).toHaveAttribute("aria-pressed", "true");
    await fireEvent.click(within(dialog).getByTestId("detail-referral-declined"));
    expect(within(dialog).getByTestId("detail-referral-declined")).toHaveAttribute("aria-pressed", "true");
    expect(accept).toHaveAttribute("aria-pressed", "false");
    await fireEvent.click(within(dialog).getByTestId("close-service-detail"));
    await fireEvent.click(screen.getByTestId("back-to-encounter"));
    await waitFor(() => expect(back).not.toBeNull());
    const expected = [{ service_id: "svc-vet", service_name: "Springfield Vet Center", outcome: "declined" }];
    expect(back!.referrals).toEqual(expected);
    expect((await backend.getEncounter(draft.id)).current.referrals).toEqual(expected);
  });
});

describe("Find services: the encounter's location", () => {
  it("writes a typed place back as a manual location with the place as address, and saves it", async () => {
    const { backend, draft } = await unlockedWithDraft();
    let back: Encounter | null = null;
    open(backend, { encounter: draft, placing: true, onback: (encounter: Encounter) => (back = encounter) });
    expect(screen.getByTestId("placing-hint")).toBeInTheDocument();
    expect(screen.getByTestId("encounter-location-text")).toHaveTextContent("not set");
    expect(screen.getByTestId("use-for-encounter")).toBeDisabled();

    await fireEvent.input(screen.getByTestId("place-search"), { target: { value: "62702" } });
    await fireEvent.click((await screen.findAllByTestId("place-result"))[0]);
    const place = (await backend.findPlaces("62702"))[0];
    await fireEvent.click(screen.getByTestId("use-for-encounter"));
    const want = { lat: place.latitude, lon: place.longitude, accuracy_m: null, source: "manual", address: place.label };
    expect(screen.getByTestId("encounter-location-note")).toHaveTextContent("Encounter location set");
    expect(screen.getByTestId("use-for-encounter")).toHaveTextContent("The encounter is here");
    expect(screen.getByTestId("use-for-encounter")).toBeDisabled();
    await waitFor(async () => expect((await backend.getEncounter(draft.id)).current.location).toEqual(want));
    await fireEvent.click(screen.getByTestId("back-to-encounter"));
    await waitFor(() => expect(back!.location).toEqual(want));
  });

  it("writes GPS back with its accuracy; coordinates typed afterwards are manual and keep the address", async () => {
    const { backend, draft } = await unlockedWithDraft({ ...NOWHERE, address: "412 Birch St" });
    backend.gps = { state: "fix", fix: { lat: 39.8, lon: -89.64, accuracy_m: 12, mode: 3, time: null, received_at: "2026-01-01T00:00:00Z" }, message: "GPS ±12 m" };
    open(backend, { encounter: draft });
    await fireEvent.click(screen.getByTestId("use-gps"));
    await waitFor(() => expect(screen.getByTestId("use-for-encounter")).toBeEnabled());
    await fireEvent.click(screen.getByTestId("use-for-encounter"));
    await waitFor(async () => expect((await backend.getEncounter(draft.id)).current.location).toEqual({ lat: 39.8, lon: -89.64, accuracy_m: 12, source: "gps", address: "412 Birch St" }));

    await fireEvent.input(screen.getByTestId("lat-input"), { target: { value: "39.7" } });
    await fireEvent.click(screen.getByTestId("use-for-encounter"));
    await waitFor(async () => expect((await backend.getEncounter(draft.id)).current.location).toEqual({ lat: 39.7, lon: -89.64, accuracy_m: null, source: "manual", address: "412 Birch St" }));
    expect(screen.getByTestId("encounter-location-text")).toHaveTextContent("39.70000, -89.64000 (placed by hand)");
  });

  it("shows no encounter location controls when opened on its own", async () => {
    open();
    expect(screen.queryByTestId("encounter-location")).toBeNull();
    expect(screen.queryByTestId("placing-hint")).toBeNull();
  });
});
