import { fireEvent, render, screen, within } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";

import DecisionForm from "../../../src/console/review/DecisionForm.svelte";
import DiffView from "../../../src/console/review/DiffView.svelte";
import { changeLabel, changeValue, waited } from "../../../src/console/review/format";
import { deskKey } from "../../../src/console/review/keys";
import QueueList from "../../../src/console/review/QueueList.svelte";
import { NO_FILTERS, queuePath } from "../../../src/console/review/query";
import VersionHistory from "../../../src/console/review/VersionHistory.svelte";
import { config, encounterReview, ID, queueItem } from "./review-fixtures";

describe("the queue", () => {
  it("shows waited time, officer, call type and disposition with the agency's labels, and the flags", async () => {
    const onselect = vi.fn();
    render(QueueList, {
      props: { items: [queueItem()], config, selectedId: null, now: new Date("2026-12-02T02:12:00Z"), onselect },
    });
    const row = screen.getByTestId("queue-row");
    expect(within(row).getByTestId("queue-open")).toHaveTextContent("3 h 12 min");
    expect(within(row).getByTestId("queue-officer")).toHaveTextContent("badge-1207");
    expect(within(row).getByTestId("queue-call-type")).toHaveTextContent("911 call");
    expect(within(row).getByTestId("queue-dispositions")).toHaveTextContent(/Arrest/);
    expect(within(row).getByTestId("queue-flag-force_used")).toBeInTheDocument();
    expect(within(row).getByTestId("queue-flag-arrest")).toBeInTheDocument();
    expect(within(row).queryByTestId("queue-flag-weapon")).toBeNull();
    await fireEvent.click(within(row).getByTestId("queue-open"));
    expect(onselect).toHaveBeenCalledWith(ID);
  });

  it("says so when a list is empty", () => {
    render(QueueList, { props: { items: [], config, selectedId: null, now: new Date(), onselect: () => {} } });
    expect(screen.getByTestId("queue-empty")).toBeInTheDocument();
  });

  it("asks the server for the list, filters and order chosen", () => {
    const path = queuePath("returned", { ...NO_FILTERS, officer: " badge-1 ", arrest: true, q: "bridge", flaggedFirst: true });
    const params = new URL(path, "https://x").searchParams;
    expect(params.get("state")).toBe("returned");
    expect(params.get("officer")).toBe("badge-1");
    expect(params.get("arrest")).toBe("true");
    expect(params.get("force_used")).toBeNull();
    expect(params.get("q")).toBe("bridge");
    expect(params.get("order")).toBe("flagged_first");
    const dated = new URL(queuePath("submitted", { ...NO_FILTERS, from: "2026-12-01", to: "2026-12-01" }), "https://x").searchParams;
    const day = new Date(dated.get("submitted_to")!).getTime() - new Date(dated.get("submitted_from")!).getTime();
    expect(day).toBeGreaterThanOrEqual(23 * 3600_000); // the last day is included
  });

  it("words waiting times", () => {
    const now = new Date("2026-12-03T05:00:00Z");
    expect(waited("2026-12-03T04:59:40Z", now)).toBe("just now");
    expect(waited("2026-12-03T04:52:00Z", now)).toBe("8 min");
    expect(waited("2026-12-01T02:00:00Z", now)).toBe("2 d 3 h");
  });
});

describe("the decision form", () => {
  const props = (extra = {}) => ({
    version: 2,
    reviewState: "submitted" as const,
    onapprove: vi.fn(),
    onreturn: vi.fn(),
    onreload: vi.fn(),
    ...extra,
  });

  it("approves, and returns with the comment typed", async () => {
    const p = props();
    render(DecisionForm, { props: p });
    await fireEvent.click(screen.getByTestId("approve"));
    expect(p.onapprove).toHaveBeenCalledWith(null);
    await fireEvent.input(screen.getByTestId("decision-comment"), { target: { value: "Name the hospital" } });
    await fireEvent.click(screen.getByTestId("return"));
    expect(p.onreturn).toHaveBeenCalledWith("Name the hospital", null);
  });

  it("shows a refused return beside the comment", () => {
    const failure = { status: 422, kind: "invalid", message: "a returned report needs a comment saying what to correct" };
    render(DecisionForm, { props: props({ failure }) });
    expect(screen.getByTestId("comment-error")).toHaveTextContent("needs a comment");
    expect(screen.getByTestId("decision-comment")).toHaveAttribute("aria-invalid", "true");
    expect(screen.queryByTestId("refusal")).toBeNull();
  });

  it("shows self-review and a superseded version above the form, with a way to the current version", async () => {
    const own = { status: 403, kind: "forbidden", message: "you wrote this report: another supervisor must review it" };
    const { unmount } = render(DecisionForm, { props: props({ failure: own }) });
    expect(screen.getByTestId("refusal")).toHaveTextContent("cannot decide");
    expect(screen.getByTestId("refusal-message")).toHaveTextContent("another supervisor");
    expect(screen.queryByTestId("reload")).toBeNull();
    unmount();

    const p = props({ failure: { status: 409, kind: "superseded", message: "the current version is 3" } });
    render(DecisionForm, { props: p });
    expect(screen.getByTestId("refusal")).toHaveTextContent("newer version");
    await fireEvent.click(screen.getByTestId("reload"));
    expect(p.onreload).toHaveBeenCalled();
  });

  it("asks for a reason to change a decision", async () => {
    const p = props({ reviewState: "approved", failure: { status: 409, kind: "already_decided", message: "needs a reason" } });
    render(DecisionForm, { props: p });
    expect(screen.getByTestId("reason-error")).toHaveTextContent("needs a reason");
    await fireEvent.input(screen.getByTestId("decision-reason"), { target: { value: "approved by mistake" } });
    await fireEvent.input(screen.getByTestId("decision-comment"), { target: { value: "times wrong" } });
    await fireEvent.click(screen.getByTestId("return"));
    expect(p.onreturn).toHaveBeenCalledWith("times wrong", "approved by mistake");
  });
});

describe("the report's history and difference", () => {
  it("lists every version with its decisions, reviewer, comment and delivery", () => {
    render(VersionHistory, { props: { versions: encounterReview().versions as never } });
    const versions = screen.getAllByTestId("history-version");
    expect(versions.map((v) => v.dataset.version)).toEqual(["2", "1"]);
    const decision = within(versions[1]).getByTestId("decision");
    expect(within(decision).getByTestId("decision-reviewer")).toHaveTextContent("sgt.reyes");
    expect(within(decision).getByTestId("decision-comment")).toHaveTextContent("Name the hospital");
    expect(within(decision).getByTestId("decision-delivered")).toHaveTextContent("Delivered to the device");
  });

  it("says when a decision has not reached the device", () => {
    const versions = encounterReview().versions;
    versions[0].decisions[0].delivered_at = null as never;
    render(VersionHistory, { props: { versions: versions as never } });
    expect(screen.getByTestId("decision-delivered")).toHaveTextContent("Not delivered");
  });

  it("shows each changed field with the agency's labels, not the bookkeeping", () => {
    const diff = {
      encounter_id: ID,
      from: 1,
      to: 2,
      changes: [
        { path: "version", before: 1, after: 2 },
        { path: "narrative", before: "Talked down.", after: "Taken to St. Mary's." },
        { path: "dispositions[0]", before: "transport_crisis_centre", after: "arrested" },
        { path: "response.reportable_force", before: false, after: true },
      ],
    };
    render(DiffView, { props: { diff: diff as never, config } });
    const rows = screen.getAllByTestId("diff-row");
    expect(rows.map((r) => r.dataset.path)).toEqual(["narrative", "dispositions[0]", "response.reportable_force"]);
    expect(within(rows[1]).getByTestId("diff-after")).toHaveTextContent("Arrest");
    expect(within(rows[2]).getByRole("rowheader")).toHaveTextContent("Reportable use of force");
    expect(within(rows[2]).getByTestId("diff-after")).toHaveTextContent("Yes");
  });

  it("labels nested paths and missing sides", () => {
    expect(changeLabel("referrals[0].outcome")).toBe("Referrals (item 1) · outcome");
    expect(changeLabel("dispositions[1]")).toBe("Disposition (item 2)");
    expect(changeValue(config, "narrative", undefined)).toBe("—");
  });
});

describe("the desk's keys", () => {
  const key = (key: string, target: Partial<HTMLElement> = { tagName: "BODY" }, mods = {}) =>
    deskKey({ key, ctrlKey: false, altKey: false, metaKey: false, target: target as EventTarget, ...mods });

  it("maps j/k, the arrows, a and r; not while typing or with a modifier", () => {
    expect([key("j"), key("ArrowDown"), key("k"), key("ArrowUp"), key("a"), key("r")]).toEqual([
      "next", "next", "previous", "previous", "approve", "return",
    ]);
    expect(key("a", { tagName: "TEXTAREA" })).toBeNull();
    expect(key("j", { tagName: "INPUT" })).toBeNull();
    expect(key("r", { tagName: "BODY" }, { ctrlKey: true })).toBeNull();
    expect(key("x")).toBeNull();
  });
});
