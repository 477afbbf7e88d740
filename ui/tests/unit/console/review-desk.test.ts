import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { config, encounterReview, ID, queueItem } from "./review-fixtures";

// The server, canned: each path answers what a server would; POST /v1/reviews as scripted.
const calls: { method: string; path: string; body?: unknown }[] = [];
let decisionReply: () => unknown = () => ({ seq: 7 });

vi.mock("../../../src/console/api", () => {
  class ApiFailure extends Error {
    constructor(
      readonly status: number,
      readonly kind: string,
      message: string,
      readonly field?: string,
    ) {
      super(message);
    }
  }
  return {
    ApiFailure,
    request: vi.fn(async (method: string, path: string, body?: unknown) => {
      calls.push({ method, path, body });
      if (path === "/v1/agency/config") return { version: 1, config };
      if (path === "/v1/review/counts") return { submitted: 1, returned: 2, approved: 3 };
      if (path.startsWith("/v1/review/queue")) return { items: [queueItem({ version: 2 })], next_cursor: null };
      if (path.endsWith("/diff?from=1&to=2")) {
        return { encounter_id: ID, from: 1, to: 2, changes: [{ path: "narrative", before: "a", after: "b" }] };
      }
      if (path === `/v1/review/encounters/${ID}`) return encounterReview();
      if (path === "/v1/reviews") {
        const reply = decisionReply();
        if (reply instanceof Error) throw reply;
        return reply;
      }
      throw new ApiFailure(404, "not_found", `no canned reply for ${path}`);
    }),
  };
});

const { default: ReviewDesk } = await import("../../../src/console/review/ReviewDesk.svelte");
const { ApiFailure } = await import("../../../src/console/api");

describe("the review desk page", () => {
  beforeEach(() => {
    calls.length = 0;
    decisionReply = () => ({ seq: 7 });
  });

  it("shows the counts, opens the report with its diff, and approves with the keyboard", async () => {
    render(ReviewDesk, { props: { rest: "" } });
    await screen.findByTestId("queue-row");
    expect(screen.getByTestId("count-returned")).toHaveTextContent("2");
    await fireEvent.keyDown(window, { key: "j" });
    await screen.findByTestId("report");
    await screen.findByTestId("diff-row");
    expect(calls.map((c) => c.path)).toContain(`/v1/review/encounters/${ID}/diff?from=1&to=2`);
    await fireEvent.keyDown(window, { key: "a" });
    await waitFor(() => expect(calls.some((c) => c.path === "/v1/reviews")).toBe(true));
    expect(calls.find((c) => c.path === "/v1/reviews")!.body).toMatchObject({ encounter_id: ID, version: 2, decision: "approved" });
    await screen.findByTestId("notice");
  });

  it("shows the server's refusal of a self-review above the form", async () => {
    decisionReply = () => new ApiFailure(403, "forbidden", "you wrote this report: another supervisor must review it");
    render(ReviewDesk, { props: { rest: ID } });
    await screen.findByTestId("report");
    await fireEvent.click(screen.getByTestId("approve"));
    const refusal = await screen.findByTestId("refusal");
    expect(within(refusal).getByTestId("refusal-message")).toHaveTextContent("another supervisor");
  });

  it("asks for the list chosen by its tab", async () => {
    render(ReviewDesk, { props: { rest: "" } });
    await screen.findByTestId("queue-row");
    await fireEvent.click(screen.getByTestId("tab-approved"));
    await waitFor(() => expect(calls.at(-1)!.path).toContain("state=approved"));
  });
});
