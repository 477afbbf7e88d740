import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import { MemoryBackend } from "../../src/lib/backend/memory";
import EncounterDetail from "../../src/lib/components/EncounterDetail.svelte";

async function showSample(status: "submitted" | "returned") {
  const backend = new MemoryBackend({ initialized: { officerId: "B-1", passphrase: "123456" }, seed: true });
  await backend.unlock("123456");
  const config = await backend.agencyConfig();
  const [row] = await backend.listEncounters({ text: null, from: null, to: null, status });
  const onedit = vi.fn();
  render(EncounterDetail, { props: { backend, config, id: row.id, onback: () => {}, onedit } });
  await screen.findByTestId("version-history");
  return { backend, row, onedit };
}

describe("EncounterDetail", () => {
  it("lists the versions newest first and shows an older one when clicked", async () => {
    const { backend, row } = await showSample("submitted");
    const items = screen.getAllByTestId("version-item");
    expect(items.map((item) => item.textContent)).toEqual([expect.stringContaining("v2"), expect.stringContaining("v1")]);
    expect(screen.getByTestId("encounter-detail")).toHaveTextContent("Corrected disposition");

    await fireEvent.click(items[1]);
    await waitFor(() => expect(screen.getByTestId("encounter-detail")).not.toHaveTextContent("Corrected disposition"));
    expect(backend.calls.at(-1)).toEqual({ method: "getEncounterVersion", args: [row.id, 1] });
    expect(items[1]).toHaveAttribute("aria-current", "true");
    expect(screen.getByText("version 1 of 2")).toBeInTheDocument();
  });

  it("amends: a new draft version opens in the form with the supervisor's comment", async () => {
    const { onedit } = await showSample("returned");
    expect(within(screen.getByTestId("encounter-detail")).getByText(/Please add the minutes on scene/)).toBeInTheDocument();
    await fireEvent.click(screen.getByTestId("amend-encounter"));
    await waitFor(() => expect(onedit).toHaveBeenCalledTimes(1));
    const [draft, comment] = onedit.mock.calls[0];
    expect(draft).toMatchObject({ status: "draft", version: 2, supersedes: 1 });
    expect(comment).toContain("Please add the minutes on scene");
  });
});
