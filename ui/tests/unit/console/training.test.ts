// The CIT training page (#/admin/training) on canned server replies: what it shows and what it
// sends. The server's rules (who can be trained, course names, days) are not re-checked here; its
// refusals are shown as sent, beside the field they name.
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { beforeEach, describe, expect, it, vi } from "vitest";

const api = vi.hoisted(() => ({ request: vi.fn() }));

vi.mock("../../../src/console/api", async (original) => {
  const real = await original<typeof import("../../../src/console/api")>();
  return { ...real, request: api.request };
});

import TrainingPage from "../../../src/console/training/TrainingPage.svelte";
import { ApiFailure } from "../../../src/console/api";
import { match } from "../../../src/console/routes";
import type { TrainingRecord } from "../../../src/console/bindings/TrainingRecord";
import type { OfficerTraining } from "../../../src/console/bindings/OfficerTraining";

const NOW = new Date().toISOString();

/** The server's summary of RECORDS (its rule: trained since the first initial course). */
const SUMMARY: OfficerTraining[] = [
  { username: "ofc.diaz", role: "officer", officer_id: "B-1207", trained_since: "2024-03-08", refreshers: 2, last_refresher: "2026-01-20" },
  { username: "ofc.park", role: "officer", officer_id: "B-1311", trained_since: null, refreshers: 0, last_refresher: null },
  { username: "sgt.reyes", role: "supervisor", officer_id: "B-0042", trained_since: null, refreshers: 1, last_refresher: "2025-06-02" },
];

function record(id: number, username: string, kind: TrainingRecord["kind"], completed_on: string, course = kind === "initial" ? "CIT 40-hour" : "CIT refresher"): TrainingRecord {
  return { id, username, course, kind, completed_on, recorded_by: "admin.ng", recorded_at: NOW };
}

const RECORDS: TrainingRecord[] = [
  record(1, "ofc.diaz", "initial", "2024-03-08", "CIT 40-hour (Memphis model)"),
  record(4, "ofc.diaz", "refresher", "2025-03-14"),
  record(5, "ofc.diaz", "refresher", "2026-01-20"),
  record(2, "sgt.reyes", "refresher", "2025-06-02"),
];

/** Answers by "METHOD path" (the first match of a prefix wins; exact keys first). */
function serve(routes: Record<string, unknown | ((body: unknown) => unknown)>) {
  api.request.mockImplementation(async (method: string, path: string, body?: unknown) => {
    const wanted = `${method} ${path}`;
    const key = Object.keys(routes).find((k) => k === wanted) ?? Object.keys(routes).find((k) => wanted.startsWith(k));
    if (!key) throw new Error(`unexpected ${wanted}`);
    const reply = routes[key];
    if (reply instanceof Error) throw reply;
    return typeof reply === "function" ? (reply as (b: unknown) => unknown)(body) : structuredClone(reply);
  });
}

const LISTS = {
  "GET /v1/admin/training/summary": SUMMARY,
  "GET /v1/admin/training": RECORDS,
};

beforeEach(() => {
  api.request.mockReset();
});

describe("the CIT training route", () => {
  it("is an admin page titled CIT training", () => {
    const found = match("#/admin/training");
    expect(found?.route.title).toBe("CIT training");
    expect(found?.route.roles).toEqual(["admin"]);
  });
});

describe("the CIT training page", () => {
  it("explains how the figures use the records, and links to the outcomes", async () => {
    serve(LISTS);
    render(TrainingPage, { props: { rest: "" } });
    const howto = await screen.findByTestId("training-howto");
    expect(howto).toHaveTextContent("on or before the day of the call");
    expect(howto).toHaveTextContent("refreshers are kept here but do not change that");
    expect(within(howto).getByRole("link", { name: "outcome dashboard" })).toHaveAttribute("href", "#/outcomes");
  });

  it("shows the records by officer and a summary: trained since, refreshers, last refresher", async () => {
    serve(LISTS);
    render(TrainingPage, { props: { rest: "" } });
    await screen.findByTestId("training-table");
    expect(screen.getByTestId("training-row-1")).toHaveTextContent("CIT 40-hour (Memphis model)");
    expect(screen.getByTestId("training-kind-1")).toHaveTextContent("Initial course");
    expect(screen.getByTestId("training-kind-4")).toHaveTextContent("Refresher");
    expect(screen.getByTestId("training-date-1")).toHaveTextContent("2024-03-08");
    expect(screen.getByTestId("training-row-1")).toHaveTextContent("by admin.ng");
    // In the server's order (by officer, then day).
    const rows = within(screen.getByTestId("training-table")).getAllByRole("row").slice(1);
    expect(rows.map((r) => r.dataset.testid)).toEqual(["training-row-1", "training-row-4", "training-row-5", "training-row-2"]);

    expect(screen.getByTestId("summary-since-ofc.diaz")).toHaveTextContent("trained since 2024-03-08");
    expect(screen.getByTestId("summary-refreshers-ofc.diaz")).toHaveTextContent("2");
    expect(screen.getByTestId("summary-last-ofc.diaz")).toHaveTextContent("2026-01-20");
    expect(screen.getByTestId("summary-row-ofc.diaz")).toHaveTextContent("B-1207");
    expect(screen.getByTestId("summary-since-ofc.park")).toHaveTextContent("no initial course");
    expect(screen.getByTestId("summary-since-sgt.reyes")).toHaveTextContent("no initial course");
    expect(screen.getByTestId("summary-row-sgt.reyes")).toHaveTextContent("supervisor");
    expect(screen.queryByTestId("summary-row-admin.ng")).toBeNull();
    expect(screen.queryByTestId("summary-row-analyst.li")).toBeNull();

    // The picker offers officers and supervisors, with their role.
    const options = within(screen.getByTestId("training-officer")).getAllByRole("option").map((o) => o.textContent);
    expect(options).toEqual(["Choose an officer", "ofc.diaz (officer, officer id B-1207)", "ofc.park (officer, officer id B-1311)", "sgt.reyes (supervisor, officer id B-0042)"]);
    expect(screen.getByTestId("training-course")).toHaveValue("CIT 40-hour");
    expect(screen.getByTestId("training-kind-initial")).toBeChecked();
  });

  it("records a course as entered and lists it", async () => {
    let listed = RECORDS;
    let summary = SUMMARY;
    // What the server answers once the course is recorded (canned, as the server would sum it up).
    const after = SUMMARY.map((row) => (row.username === "ofc.park" ? { ...row, trained_since: "2026-02-03" } : row));
    serve({
      "GET /v1/admin/training/summary": () => summary,
      "GET /v1/admin/training": () => listed,
      "POST /v1/admin/training": (body: unknown) => {
        const added = { ...(body as TrainingRecord), id: 12, recorded_by: "admin.ng", recorded_at: NOW };
        listed = [...RECORDS, added];
        summary = after;
        return added;
      },
    });
    render(TrainingPage, { props: { rest: "" } });
    await screen.findByTestId("training-table");
    await fireEvent.change(screen.getByTestId("training-officer"), { target: { value: "ofc.park" } });
    await fireEvent.input(screen.getByTestId("training-date"), { target: { value: "2026-02-03" } });
    await fireEvent.submit(screen.getByTestId("training-form"));
    await screen.findByTestId("training-row-12");
    expect(api.request).toHaveBeenCalledWith("POST", "/v1/admin/training", { username: "ofc.park", course: "CIT 40-hour", kind: "initial", completed_on: "2026-02-03" });
    expect(screen.getByTestId("training-status")).toHaveTextContent('Recorded for ofc.park: initial course "CIT 40-hour", completed 2026-02-03.');
    expect(screen.getByTestId("training-status")).toHaveAttribute("aria-live", "polite");
    expect(screen.getByTestId("summary-since-ofc.park")).toHaveTextContent("trained since 2026-02-03");
    // The officer stays chosen for the next course; the day is cleared.
    expect(screen.getByTestId("training-officer")).toHaveValue("ofc.park");
    expect(screen.getByTestId("training-date")).toHaveValue("");

    // A refresher: the course suggestion follows the kind while it is untouched.
    await fireEvent.click(screen.getByTestId("training-kind-refresher"));
    expect(screen.getByTestId("training-course")).toHaveValue("CIT refresher");
    await fireEvent.input(screen.getByTestId("training-course"), { target: { value: "Autism awareness (CIT refresher)" } });
    await fireEvent.click(screen.getByTestId("training-kind-initial"));
    expect(screen.getByTestId("training-course")).toHaveValue("Autism awareness (CIT refresher)");
  });

  it("shows the server's refusal beside the field it names", async () => {
    let refusal = new ApiFailure(422, "invalid", "completed_on: a day from 1970 to today (YYYY-MM-DD)", "completed_on");
    serve({ ...LISTS, "POST /v1/admin/training": () => { throw refusal; } });
    render(TrainingPage, { props: { rest: "" } });
    await screen.findByTestId("training-table");
    await fireEvent.change(screen.getByTestId("training-officer"), { target: { value: "ofc.diaz" } });
    await fireEvent.input(screen.getByTestId("training-date"), { target: { value: "2999-01-01" } });
    await fireEvent.submit(screen.getByTestId("training-form"));
    const error = await screen.findByTestId("training-error-completed_on");
    expect(error).toHaveTextContent("a day from 1970 to today");
    expect(error).toHaveAttribute("data-field", "completed_on");
    expect(screen.getByTestId("training-date")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByTestId("training-date")).toHaveAttribute("aria-describedby", "training-error-completed_on");
    expect(screen.getByTestId("training-course")).toHaveAttribute("aria-invalid", "false");
    // What was sent is what the admin typed: no rule of the page's own.
    expect(api.request).toHaveBeenCalledWith("POST", "/v1/admin/training", { username: "ofc.diaz", course: "CIT 40-hour", kind: "initial", completed_on: "2999-01-01" });

    refusal = new ApiFailure(422, "invalid", "name the course in 1 to 200 characters", "course");
    await fireEvent.input(screen.getByTestId("training-course"), { target: { value: "" } });
    await fireEvent.submit(screen.getByTestId("training-form"));
    expect(await screen.findByTestId("training-error-course")).toHaveTextContent("1 to 200 characters");
    expect(screen.queryByTestId("training-error-completed_on")).toBeNull();
    expect(screen.getByTestId("training-course")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByTestId("training-date")).toHaveAttribute("aria-invalid", "false");

    refusal = new ApiFailure(422, "invalid", "user `nobody`: add the user first", "username");
    await fireEvent.submit(screen.getByTestId("training-form"));
    expect(await screen.findByTestId("training-error-username")).toHaveTextContent("add the user first");
    expect(screen.getByTestId("training-officer")).toHaveAttribute("aria-describedby", "training-error-username");

    // A refusal that names no field (a malformed body) is shown under the form.
    refusal = new ApiFailure(422, "invalid", "completed_on: input contains invalid characters");
    await fireEvent.submit(screen.getByTestId("training-form"));
    expect(await screen.findByTestId("training-form-error")).toHaveTextContent("invalid characters");
    expect(screen.queryByTestId("training-error-username")).toBeNull();
  });

  it("removes a record only after the confirmation", async () => {
    serve({ ...LISTS, "POST /v1/admin/training/4/delete": undefined });
    render(TrainingPage, { props: { rest: "" } });
    await fireEvent.click(await screen.findByTestId("remove-training-4"));
    const dialog = await screen.findByRole("dialog");
    expect(dialog).toHaveTextContent("Remove this training record?");
    expect(dialog).toHaveTextContent('ofc.diaz: refresher "CIT refresher", completed 2025-03-14');
    expect(dialog).toHaveTextContent("entered by mistake");
    expect(dialog).toHaveTextContent("audit log keeps what it said");
    await fireEvent.click(within(dialog).getByText("Cancel"));
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(api.request).not.toHaveBeenCalledWith("POST", "/v1/admin/training/4/delete");

    await fireEvent.click(screen.getByTestId("remove-training-4"));
    await fireEvent.click(await screen.findByTestId("confirm-remove-training"));
    await waitFor(() => expect(screen.getByTestId("training-status")).toHaveTextContent("Removed ofc.diaz's refresher"));
    expect(api.request).toHaveBeenCalledWith("POST", "/v1/admin/training/4/delete");
  });

  it("shows a refused removal, and one officer's courses through the server's filter", async () => {
    serve({
      ...LISTS,
      "GET /v1/admin/training?username=sgt.reyes": [RECORDS[3]],
      "GET /v1/admin/training?username=ofc.park": [],
      "POST /v1/admin/training/2/delete": new ApiFailure(404, "not_found", "no training record 2"),
    });
    render(TrainingPage, { props: { rest: "" } });
    await fireEvent.click(await screen.findByTestId("remove-training-2"));
    await fireEvent.click(await screen.findByTestId("confirm-remove-training"));
    expect(await screen.findByTestId("training-error")).toHaveTextContent("no training record 2");

    await fireEvent.change(screen.getByTestId("training-filter"), { target: { value: "sgt.reyes" } });
    await waitFor(() => expect(screen.queryByTestId("training-row-1")).toBeNull());
    expect(screen.getByTestId("training-row-2")).toBeInTheDocument();
    expect(api.request).toHaveBeenCalledWith("GET", "/v1/admin/training?username=sgt.reyes");
    // The summary still covers everyone.
    expect(screen.getByTestId("summary-since-ofc.diaz")).toHaveTextContent("trained since 2024-03-08");

    await fireEvent.change(screen.getByTestId("training-filter"), { target: { value: "ofc.park" } });
    expect(await screen.findByTestId("no-training")).toHaveTextContent("No course is recorded for ofc.park.");
  });

  it("says so when nothing is recorded and the list cannot be read", async () => {
    serve({ "GET /v1/admin/training/summary": SUMMARY, "GET /v1/admin/training": new ApiFailure(403, "forbidden", "this needs an admin") });
    render(TrainingPage, { props: { rest: "" } });
    expect(await screen.findByTestId("training-error")).toHaveTextContent("this needs an admin");
    expect(screen.getByTestId("no-training")).toHaveTextContent("No course is recorded yet.");
  });
});
