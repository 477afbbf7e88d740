import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import { MemoryBackend } from "../../src/lib/backend/memory";
import type { Encounter } from "../../src/lib/bindings/Encounter";
import EncounterForm from "../../src/lib/components/EncounterForm.svelte";

async function openDraft(props: Record<string, unknown> = {}) {
  const backend = new MemoryBackend({ initialized: { officerId: "B-1", passphrase: "123456" } });
  await backend.unlock("123456");
  const config = await backend.agencyConfig();
  const draft = await backend.newEncounter();
  render(EncounterForm, { props: { backend, config, initial: draft, onsubmitted: () => {}, onback: () => {}, saveDelayMs: 0, suggestDelayMs: 0, ...props } });
  return { backend, draft };
}

const stored = async (backend: MemoryBackend, id: string) => (await backend.getEncounter(id)).current;

describe("suggestions panel in the encounter form", () => {
  it("without a location shows the backend's hint instead of suggestions", async () => {
    const { backend } = await openDraft();
    const hint = await screen.findByTestId("suggestions-hint");
    expect(hint).toHaveTextContent("Set the location");
    expect(screen.getByTestId("suggestions-panel")).toContainElement(hint);
    expect(screen.queryAllByTestId("suggestion")).toHaveLength(0);
    expect(backend.calls.some((c) => c.method === "suggestForEncounter")).toBe(true);
  });

  it("Use GPS fills the location from the fix, and suggestions follow", async () => {
    const { backend, draft } = await openDraft();
    await screen.findByTestId("suggestions-hint");
    await fireEvent.click(screen.getByTestId("form-use-gps"));
    await waitFor(() => expect(screen.getByTestId("field-location.lat")).toHaveValue(String(backend.gps.fix!.lat)));
    expect(screen.getByTestId("field-location.lon")).toHaveValue(String(backend.gps.fix!.lon));
    expect(screen.getByTestId("field-location.source")).toHaveValue("gps");
    expect(await screen.findByTestId("form-gps-status")).toHaveTextContent(backend.gps.message);
    const items = await screen.findAllByTestId("suggestion");
    expect(items.length).toBeGreaterThan(0);
    expect(items.length).toBeLessThanOrEqual(5);
    expect(screen.queryByTestId("suggestions-hint")).toBeNull();
    await waitFor(async () => expect((await stored(backend, draft.id)).location).toMatchObject({ source: "gps", accuracy_m: backend.gps.fix!.accuracy_m }));
  });

  it("asks again with the chosen needs", async () => {
    const { backend } = await openDraft();
    await fireEvent.click(await screen.findByTestId("need-shelter"));
    await waitFor(() => expect(backend.calls.filter((c) => c.method === "suggestForEncounter").at(-1)?.args[1]).toEqual(["shelter"]));
  });

  it("adds a referral once, changes its outcome on a second click, and removes it; the draft is saved with it", async () => {
    const { backend, draft } = await openDraft();
    await fireEvent.click(await screen.findByTestId("form-use-gps"));
    const first = (await screen.findAllByTestId("suggestion"))[0];
    const name = within(first).getByTestId("service-name").textContent!;

    await fireEvent.click(within(first).getByTestId("add-referral-accepted"));
    let items = await screen.findAllByTestId("referral-item");
    expect(items).toHaveLength(1);
    expect(items[0]).toHaveTextContent(`${name} — accepted`);

    await fireEvent.click(within(screen.getAllByTestId("suggestion")[0]).getByTestId("add-referral-declined"));
    items = screen.getAllByTestId("referral-item");
    expect(items).toHaveLength(1);
    expect(items[0]).toHaveTextContent(`${name} — declined`);
    await waitFor(async () => expect((await stored(backend, draft.id)).referrals).toEqual([{ service_id: expect.any(String), service_name: name, outcome: "declined" }]));

    await fireEvent.click(within(items[0]).getByTestId("remove-referral"));
    expect(screen.queryAllByTestId("referral-item")).toHaveLength(0);
    await waitFor(async () => expect((await stored(backend, draft.id)).referrals).toEqual([]));
  });

  it("opens Find services with the draft and its needs", async () => {
    const onfindservices = vi.fn();
    await openDraft({ onfindservices, initialNeeds: ["detox"] });
    await fireEvent.click(screen.getByTestId("field-behaviours-suicide_threat"));
    await fireEvent.click(screen.getByTestId("open-find-services"));
    expect(onfindservices).toHaveBeenCalledTimes(1);
    const [encounter, needs] = onfindservices.mock.calls[0] as [Encounter, string[]];
    expect(encounter.behaviours).toEqual(["suicide_threat"]);
    expect(needs).toEqual(["detox"]);
    expect(onfindservices.mock.calls[0][2]).toBe(false);
  });

  it("\"Place on map\" opens Find services to place the draft", async () => {
    const onfindservices = vi.fn();
    await openDraft({ onfindservices });
    await fireEvent.click(screen.getByTestId("place-on-map"));
    expect(onfindservices).toHaveBeenCalledTimes(1);
    expect(onfindservices.mock.calls[0][2]).toBe(true);
  });
});
