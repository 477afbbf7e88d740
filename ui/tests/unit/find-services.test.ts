import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import { MemoryBackend } from "../../src/lib/backend/memory";
import type { Encounter } from "../../src/lib/bindings/Encounter";
import FindServices from "../../src/lib/services/FindServices.svelte";

const FAST = { showMap: false, refreshDelayMs: 0, placeDelayMs: 0, gpsPollMs: 60_000, saveDelayMs: 0 };

function open(backend = new MemoryBackend(), props: Record<string, unknown> = {}) {
  render(FindServices, { props: { backend, ...FAST, ...props } });
  return backend;
}

async function placeAt(lat: string, lon: string) {
  await fireEvent.input(screen.getByTestId("lat-input"), { target: { value: lat } });
  await fireEvent.input(screen.getByTestId("lon-input"), { target: { value: lon } });
}

const calls = (backend: MemoryBackend, method: string) => backend.calls.filter((c) => c.method === method);

describe("Find services", () => {
  it("asks the backend with the chosen needs and position, and lists what it ranked", async () => {
    const backend = open();
    await placeAt("39.78", "-89.65");
    await screen.findAllByTestId("service-result");
    await fireEvent.click(await screen.findByTestId("need-detox"));
    await fireEvent.click(screen.getByTestId("need-crisis_stabilization"));
    expect(screen.getByTestId("need-detox")).toHaveAttribute("aria-pressed", "true");

    await waitFor(() => expect(calls(backend, "suggestServices").at(-1)?.args[0]).toMatchObject({ lat: 39.78, lon: -89.65, needs: ["detox", "crisis_stabilization"] }));
    // Un-choosing a need asks again without it.
    await fireEvent.click(screen.getByTestId("need-detox"));
    expect(screen.getByTestId("need-detox")).toHaveAttribute("aria-pressed", "false");
    await waitFor(() => expect(calls(backend, "suggestServices").at(-1)?.args[0]).toMatchObject({ needs: ["crisis_stabilization"] }));

    const answer = await backend.suggestServices({ lat: 39.78, lon: -89.65, needs: ["crisis_stabilization"], crisis_natures: [], behaviours: [], substances: [], age_band: null, veteran: null, housing_status: null, radius_miles: null, limit: null });
    await waitFor(() => expect(screen.getAllByTestId("service-name").map((n) => n.textContent)).toEqual(answer.map((s) => s.name)));
    expect(screen.getAllByTestId("service-result").map((item) => item.dataset.rank)).toEqual(answer.map((s) => String(s.rank)));
  });

  it("never shows an unknown open state as open", async () => {
    const backend = open();
    await placeAt("39.78", "-89.65");
    const items = await screen.findAllByTestId("service-result");
    const unknown = items.filter((item) => within(item).getByTestId("service-open").dataset.state === "unknown");
    expect(unknown.length).toBeGreaterThan(0);
    for (const item of unknown) {
      const badge = within(item).getByTestId("service-open");
      expect(badge).toHaveTextContent("hours unknown");
      expect(badge.textContent).not.toMatch(/\bopen\b/i);
      expect(badge).not.toHaveClass("open-open");
    }
    const openItem = items.find((item) => within(item).getByTestId("service-open").dataset.state === "open")!;
    expect(within(openItem).getByTestId("service-open")).toHaveTextContent(/^open$/);
    expect(calls(backend, "suggestServices").length).toBeGreaterThan(0);
  });

  it("shows the backend's location error beside the location, not as a general error", async () => {
    const backend = new MemoryBackend();
    backend.failures.set("suggestServices", { kind: "validation", field: "location", message: "latitude or longitude out of range" });
    open(backend);
    await placeAt("95", "-89.65");
    const error = await screen.findByTestId("location-error");
    expect(error).toHaveTextContent("latitude or longitude out of range");
    expect(screen.getByTestId("lat-input").closest('[data-field="location"]')).toContainElement(error);
    expect(screen.queryByTestId("find-error")).toBeNull();
  });

  it("uses GPS when asked, with its accuracy, and shows the receiver's message", async () => {
    const backend = new MemoryBackend({ gps: { state: "fix", fix: { lat: 39.8, lon: -89.64, accuracy_m: 12, mode: 3, time: null, received_at: "2026-01-01T00:00:00Z" }, message: "GPS ±12 m" } });
    open(backend);
    await waitFor(() => expect(screen.getByTestId("gps-status")).toHaveTextContent("GPS ±12 m"));
    expect(screen.getByTestId("lat-input")).toHaveValue("");
    await fireEvent.click(screen.getByTestId("use-gps"));
    await waitFor(() => expect(screen.getByTestId("lat-input")).toHaveValue("39.8"));
    expect(screen.getByTestId("position-summary")).toHaveTextContent("±12 m");
    await waitFor(() => expect(calls(backend, "suggestServices").at(-1)?.args[0]).toMatchObject({ lat: 39.8, lon: -89.64 }));
  });

  it("places the officer at a typed place", async () => {
    const backend = open();
    await fireEvent.input(screen.getByTestId("place-search"), { target: { value: "62702" } });
    await fireEvent.click((await screen.findAllByTestId("place-result"))[0]);
    const place = (await backend.findPlaces("62702"))[0];
    await waitFor(() => expect(calls(backend, "suggestServices").at(-1)?.args[0]).toMatchObject({ lat: place.latitude, lon: place.longitude }));
  });

  it("says the directory is loading on first start until it is ready", async () => {
    open(new MemoryBackend({ directoryLoadingCalls: 1 }));
    expect(await screen.findByTestId("directory-loading")).toBeInTheDocument();
    await waitFor(() => expect(screen.queryByTestId("directory-loading")).toBeNull(), { timeout: 2500 });
  });

  it("for an encounter: asks with the encounter, records referrals once each and saves them", async () => {
    const backend = new MemoryBackend({ initialized: { officerId: "B-1", passphrase: "123456" } });
    await backend.unlock("123456");
    const draft: Encounter = await backend.newEncounter();
    draft.location = { lat: 39.78, lon: -89.65, accuracy_m: null, source: "manual", address: null };
    draft.behaviours = ["suicide_threat"];
    let back: { encounter: Encounter; needs: string[] } | null = null;
    open(backend, { encounter: draft, initialNeeds: ["detox"], onback: (encounter: Encounter, needs: string[]) => (back = { encounter, needs }) });

    const first = (await screen.findAllByTestId("service-result"))[0];
    const sent = calls(backend, "suggestForEncounter").at(-1)!.args as [Encounter, string[]];
    expect(sent[0].behaviours).toEqual(["suicide_threat"]);
    expect(sent[1]).toEqual(["detox"]);
    expect(screen.getByTestId("need-detox")).toHaveAttribute("aria-pressed", "true");

    await fireEvent.click(within(first).getByTestId("add-referral-accepted"));
    await fireEvent.click(within(first).getByTestId("add-referral-declined"));
    expect(within(first).getByTestId("add-referral-declined")).toHaveAttribute("aria-pressed", "true");
    expect(within(first).getByTestId("add-referral-accepted")).toHaveAttribute("aria-pressed", "false");
    await fireEvent.click(screen.getByTestId("back-to-encounter"));
    await waitFor(() => expect(back).not.toBeNull());
    const name = within(first).getByTestId("service-name").textContent;
    expect(back!.encounter.referrals).toEqual([{ service_id: expect.any(String), service_name: name, outcome: "declined" }]);
    expect(back!.needs).toEqual(["detox"]);
    expect((await backend.getEncounter(draft.id)).current.referrals).toEqual(back!.encounter.referrals);
  });

  it("enables the resource card once a service is picked", async () => {
    open();
    await placeAt("39.78", "-89.65");
    expect(screen.getByTestId("show-card")).toBeDisabled();
    await fireEvent.click((await screen.findAllByTestId("card-pick"))[0]);
    expect(screen.getByTestId("show-card")).toBeEnabled();
  });

  it("links phones for calling and copies them", async () => {
    const written: string[] = [];
    Object.defineProperty(navigator, "clipboard", { value: { writeText: async (text: string) => void written.push(text) }, configurable: true });
    open();
    await placeAt("39.78", "-89.65");
    const phone = (await screen.findAllByTestId("service-phone"))[0];
    expect(phone.getAttribute("href")).toMatch(/^tel:\d{10}$/);
    await fireEvent.click(screen.getAllByTestId("copy-phone")[0]);
    await waitFor(() => expect(written).toEqual([phone.textContent!.replace("☎", "").trim()]));
    expect(screen.getAllByTestId("copy-phone")[0]).toHaveTextContent("Copied");
  });
});
