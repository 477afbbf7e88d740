import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import { CORE_FIXTURES, MemoryBackend } from "../../src/lib/backend/memory";
import type { Encounter } from "../../src/lib/bindings/Encounter";
import EncounterForm from "../../src/lib/components/EncounterForm.svelte";
import { SECTION_COMPONENTS } from "../../src/lib/components/form/sections";
import { SECTIONS } from "../../src/lib/layout";

async function openDraft(options: { saveDelayMs?: number } = {}) {
  const backend = new MemoryBackend({ initialized: { officerId: "B-1", passphrase: "123456" } });
  await backend.unlock("123456");
  const config = await backend.agencyConfig();
  const draft = await backend.newEncounter();
  const onsubmitted = vi.fn();
  const view = render(EncounterForm, { props: { backend, config, initial: draft, onsubmitted, onback: () => {}, ...options } });
  return { backend, draft, onsubmitted, view };
}

function fieldContainer(path: string): HTMLElement {
  const container = document.querySelector<HTMLElement>(`[data-field="${path}"]`);
  if (!container) throw new Error(`no field ${path}`);
  return container;
}

describe("EncounterForm", () => {
  it("draws every section of the layout, in its order", async () => {
    await openDraft();
    const titles = [...document.querySelectorAll(".encounter-form > details > summary .section-title")].map((t) => t.textContent);
    expect(titles).toEqual(SECTIONS.map((s) => s.title));
    for (const section of SECTIONS) expect(SECTION_COMPONENTS[section.id], section.id).toBeDefined();
  });

  it("marks the fields the agency requires", async () => {
    await openDraft();
    expect(within(fieldContainer("call.call_type")).getByTitle("Required to submit")).toBeInTheDocument();
    expect(within(fieldContainer("dispositions")).getByTitle("Required to submit")).toBeInTheDocument();
    expect(within(fieldContainer("incident_number")).queryByTitle("Required to submit")).toBeNull();
  });

  it("shows a submit rejection beside its field and keeps the draft", async () => {
    const { backend, draft } = await openDraft();
    await fireEvent.input(screen.getByTestId("field-narrative"), { target: { value: "Talked for an hour." } });
    await fireEvent.click(screen.getByTestId("submit-encounter"));
    await fireEvent.click(await screen.findByTestId("confirm-submit"));

    const error = await screen.findByTestId("field-error-call.call_type");
    expect(fieldContainer("call.call_type")).toContainElement(error);
    const expected = CORE_FIXTURES.blank_draft_issues.find((issue) => issue.field === "call.call_type")!;
    expect(error).toHaveTextContent(expected.message);
    expect(screen.getByTestId("field-call.call_type")).toHaveAttribute("aria-describedby", error.id);
    // The draft is still being edited, and was stored as typed.
    expect(screen.getByTestId("field-narrative")).toHaveValue("Talked for an hour.");
    const stored = (await backend.getEncounter(draft.id)).current;
    expect(stored.status).toBe("draft");
    expect(stored.narrative).toBe("Talked for an hour.");
  });

  it("submits a complete report after confirmation", async () => {
    const { onsubmitted } = await openDraft();
    await fireEvent.change(screen.getByTestId("field-call.call_type"), { target: { value: "911" } });
    await fireEvent.click(screen.getByTestId("field-crisis_natures-unknown"));
    await fireEvent.click(screen.getByTestId("field-behaviours-suicide_threat"));
    await fireEvent.click(screen.getByTestId("field-dispositions-referral_made"));
    await fireEvent.change(screen.getByTestId("field-diversion.custody_diverted"), { target: { value: "yes" } });
    await fireEvent.click(screen.getByTestId("submit-encounter"));
    await fireEvent.click(await screen.findByTestId("confirm-submit"));
    await waitFor(() => expect(onsubmitted).toHaveBeenCalledTimes(1));
    const submitted = onsubmitted.mock.calls[0][0] as Encounter;
    expect(submitted.status).toBe("submitted");
    expect(submitted.behaviours).toEqual(["suicide_threat"]);
    expect(submitted.diversion.custody_diverted).toBe(true);
  });

  it("autosaves 400 ms after typing stops; a failed save keeps the text and shows the error", async () => {
    vi.useFakeTimers();
    const { backend, draft } = await openDraft();
    backend.failures.set("saveDraft", { kind: "storage", message: "database is full" });
    const narrative = screen.getByTestId("field-narrative");
    await fireEvent.input(narrative, { target: { value: "Subject calm" } });
    await vi.advanceTimersByTimeAsync(200);
    await fireEvent.input(narrative, { target: { value: "Subject calm, agreed to go" } });
    expect(screen.getByTestId("save-status")).toHaveTextContent("Saving…");
    await vi.advanceTimersByTimeAsync(400);

    expect(backend.calls.filter((c) => c.method === "saveDraft")).toHaveLength(1);
    expect(screen.getByTestId("save-status")).toHaveTextContent("Not saved: database is full");
    expect(narrative).toHaveValue("Subject calm, agreed to go");

    // The store recovers: the retry saves what is in memory.
    backend.failures.delete("saveDraft");
    await vi.advanceTimersByTimeAsync(5000);
    expect(screen.getByTestId("save-status")).toHaveTextContent(/^Saved \d\d:\d\d:\d\d$/);
    expect((await backend.getEncounter(draft.id)).current.narrative).toBe("Subject calm, agreed to go");
  });

  it("converts occurred-at from the local picker to UTC", async () => {
    const { backend, draft } = await openDraft({ saveDelayMs: 0 });
    await fireEvent.change(screen.getByTestId("field-occurred_at"), { target: { value: "2026-11-28T11:42" } });
    const expected = new Date(2026, 10, 28, 11, 42).toISOString();
    await waitFor(async () => expect((await backend.getEncounter(draft.id)).current.occurred_at).toBe(expected));
  });

  it("shows a format error for a number that is not whole and does not save it", async () => {
    const { backend, draft } = await openDraft({ saveDelayMs: 0 });
    await fireEvent.input(screen.getByTestId("field-response.minutes_on_scene"), { target: { value: "4.5" } });
    expect(await screen.findByTestId("field-error-response.minutes_on_scene")).toHaveTextContent("Enter a whole number.");
    await fireEvent.input(screen.getByTestId("field-response.minutes_on_scene"), { target: { value: "45" } });
    await waitFor(() => expect(screen.queryByTestId("field-error-response.minutes_on_scene")).toBeNull());
    await waitFor(async () => expect((await backend.getEncounter(draft.id)).current.response.minutes_on_scene).toBe(45));
  });

  it("Ctrl+S saves now, Ctrl+Enter asks to submit, Escape closes the dialog", async () => {
    const { backend } = await openDraft({ saveDelayMs: 60_000 });
    await fireEvent.input(screen.getByTestId("field-incident_number"), { target: { value: "24-1" } });
    await fireEvent.keyDown(window, { key: "s", ctrlKey: true });
    await waitFor(() => expect(backend.calls.some((c) => c.method === "saveDraft")).toBe(true));
    await fireEvent.keyDown(window, { key: "Enter", ctrlKey: true });
    const confirm = await screen.findByTestId("confirm-submit");
    await fireEvent.keyDown(confirm, { key: "Escape" });
    await waitFor(() => expect(screen.queryByTestId("confirm-submit")).toBeNull());
  });

  it("renders a submitted version read-only", async () => {
    const backend = new MemoryBackend({ initialized: { officerId: "B-1", passphrase: "123456" }, seed: true });
    await backend.unlock("123456");
    const config = await backend.agencyConfig();
    const [row] = await backend.listEncounters({ text: null, from: null, to: null, status: "approved" });
    const approved = (await backend.getEncounter(row.id)).current;
    render(EncounterForm, { props: { backend, config, initial: approved, onsubmitted: () => {}, onback: () => {} } });
    expect(screen.queryByTestId("submit-encounter")).toBeNull();
    expect(screen.queryByTestId("field-narrative")).toBeNull();
    expect(screen.getByText(/read-only/)).toBeInTheDocument();
  });
});

describe("EncounterForm errors without a field of their own", () => {
  it("shows a rejection about a field with no error slot in the general error", async () => {
    const { backend } = await openDraft();
    backend.failures.set("submitEncounter", { kind: "validation", message: "Outcome is missing.", field: "referrals[0].outcome" });
    await fireEvent.click(screen.getByTestId("submit-encounter"));
    await fireEvent.click(await screen.findByTestId("confirm-submit"));
    expect(await screen.findByTestId("form-error")).toHaveTextContent("referrals[0].outcome: Outcome is missing.");
  });

  it("shows a rejection without a field in the general error", async () => {
    const { backend } = await openDraft();
    backend.failures.set("submitEncounter", { kind: "locked", message: "the store is locked: unlock it first" });
    await fireEvent.click(screen.getByTestId("submit-encounter"));
    await fireEvent.click(await screen.findByTestId("confirm-submit"));
    expect(await screen.findByTestId("form-error")).toHaveTextContent("the store is locked");
  });
});
