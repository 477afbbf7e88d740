import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import { MemoryBackend } from "../../src/lib/backend/memory";
import EncounterList from "../../src/lib/components/EncounterList.svelte";

async function seededList() {
  const backend = new MemoryBackend({ initialized: { officerId: "B-1", passphrase: "123456" }, seed: true });
  await backend.unlock("123456");
  const config = await backend.agencyConfig();
  const onopen = vi.fn();
  render(EncounterList, { props: { backend, config, onopen, onnew: () => {} } });
  await waitFor(() => expect(screen.getAllByTestId("encounter-row")).toHaveLength(3));
  return { backend, onopen };
}

describe("EncounterList", () => {
  it("shows each report newest first with its status badge", async () => {
    await seededList();
    const rows = screen.getAllByTestId("encounter-row");
    expect(rows.map((row) => within(row).getByTestId("status-badge").textContent)).toEqual(["submitted", "returned", "approved"]);
    for (const row of rows) expect(row.dataset.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("shows 'amended vN' only for amended reports, and the supervisor's comment on returned ones", async () => {
    await seededList();
    const [amended, returned, approved] = screen.getAllByTestId("encounter-row");
    expect(within(amended).getByTestId("amended-badge")).toHaveTextContent("amended v2");
    expect(within(returned).queryByTestId("amended-badge")).toBeNull();
    expect(within(approved).queryByTestId("amended-badge")).toBeNull();
    expect(within(returned).getByTestId("review-comment")).toHaveTextContent("Please add the minutes on scene");
  });

  it("labels codes with the agency's vocabulary", async () => {
    await seededList();
    const [amended] = screen.getAllByTestId("encounter-row");
    expect(amended).toHaveTextContent("On-view / proactive");
    expect(amended).toHaveTextContent("Transport to detox, Referral made");
  });

  it("searches by text and date range", async () => {
    const { backend } = await seededList();
    await fireEvent.input(screen.getByTestId("search-text"), { target: { value: "birch" } });
    await waitFor(() => expect(screen.getAllByTestId("encounter-row")).toHaveLength(1));
    expect(screen.getByTestId("status-badge")).toHaveTextContent("returned");
    const last = backend.calls.filter((c) => c.method === "listEncounters").at(-1)!;
    expect(last.args[0]).toMatchObject({ text: "birch" });

    await fireEvent.input(screen.getByTestId("search-text"), { target: { value: "" } });
    await fireEvent.input(screen.getByTestId("search-from"), { target: { value: "2001-01-01" } });
    await fireEvent.input(screen.getByTestId("search-to"), { target: { value: "2001-01-02" } });
    await waitFor(() => expect(screen.queryAllByTestId("encounter-row")).toHaveLength(0));
    expect(screen.getByText("No reports match this search.")).toBeInTheDocument();
  });

  it("opens a row", async () => {
    const { onopen } = await seededList();
    const [row] = screen.getAllByTestId("encounter-row");
    await fireEvent.click(row);
    expect(onopen).toHaveBeenCalledWith(expect.objectContaining({ id: row.dataset.id, version: 2 }));
  });
});
