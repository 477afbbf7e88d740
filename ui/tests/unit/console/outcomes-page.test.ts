// The outcome page on canned server replies: what it lays out, and that an older answer never
// replaces a newer one. The figures themselves are the server's (its tests check them).
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { beforeEach, describe, expect, it, vi } from "vitest";

const api = vi.hoisted(() => ({ request: vi.fn(), download: vi.fn() }));

vi.mock("../../../src/console/api", async (original) => {
  const real = await original<typeof import("../../../src/console/api")>();
  return { ...real, request: api.request, download: api.download };
});
// Chart.js needs a real canvas; the chart is the browser tests' to see.
vi.mock("../../../src/console/outcomes/chart", () => ({
  Chart: class {
    destroy() {}
  },
}));

import OutcomesPage from "../../../src/console/outcomes/OutcomesPage.svelte";
import type { OutcomeReport } from "../../../src/console/bindings/OutcomeReport";

function reportOf(include: OutcomeReport["include"], calls: number): OutcomeReport {
  return {
    from: "2026-11-01", to: "2026-11-30", previous_from: "2026-10-02", previous_to: "2026-10-31",
    include, source: "all", officer: null, area: null, imported: 0,
    figures: [{ key: "calls", label: "Crisis calls", definition: "Reports in the period.", unit: "count", current: calls, previous: 0 }],
    breakdowns: [], weekly: [], monthly: [],
    by_day_and_hour: Array.from({ length: 7 }, () => Array(24).fill(0)),
    cell_degrees: 0.01, grid: [], grid_minimum: 3, unreadable: 0,
  };
}

/** A promise and the function that settles it, for an answer the test releases when it chooses. */
function later<T>() {
  let release!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (release = resolve));
  return { promise, release };
}

beforeEach(() => {
  api.request.mockReset();
});

describe("the outcome page", () => {
  it("keeps the newest request's figures when an older one answers last", async () => {
    // Two squares of the map, picked one after the other: the first answer comes in last.
    const grid = [
      { lat: 30.26, lon: -97.75, calls: 5 },
      { lat: 30.3, lon: -97.7, calls: 4 },
    ];
    const slow = later<OutcomeReport>();
    api.request.mockImplementation(async (_method: string, path: string) => {
      if (path.includes("area=30.26")) return slow.promise;
      if (path.includes("area=30.3")) return { ...reportOf("approved", 4), grid };
      return { ...reportOf("approved", 9), grid };
    });
    render(OutcomesPage, { rest: "" });
    await waitFor(() => expect(screen.getByTestId("figure-calls-current").textContent).toBe("9"));

    const squares = screen.getAllByTestId("outcome-map-square");
    await fireEvent.click(squares[0]);
    await fireEvent.click(squares[1]);
    await waitFor(() => expect(screen.getByTestId("figure-calls-current").textContent).toBe("4"));
    expect(screen.getByTestId("outcomes").getAttribute("aria-busy")).toBe("false");

    // The first square's answer comes in late: it is dropped.
    slow.release({ ...reportOf("approved", 5), grid });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(screen.getByTestId("figure-calls-current").textContent).toBe("4");
    expect(api.request.mock.calls.at(-1)?.[1]).toContain("area=30.3");
  });
});
