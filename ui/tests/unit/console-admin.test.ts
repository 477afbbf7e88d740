// The admin console's pages on canned server replies: what each shows and what it sends. The
// server's rules are not re-checked here (the server's tests do that); refusals are shown as sent.
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { beforeEach, describe, expect, it, vi } from "vitest";

const api = vi.hoisted(() => ({
  request: vi.fn(),
  download: vi.fn(),
}));

vi.mock("../../src/console/api", async (original) => {
  const real = await original<typeof import("../../src/console/api")>();
  return { ...real, request: api.request, download: api.download };
});
vi.mock("../../src/console/session.svelte", () => ({
  session: { current: { username: "admin.ng", role: "admin" }, has: () => true },
}));

import Users from "../../src/console/admin/Users.svelte";
import Devices from "../../src/console/admin/Devices.svelte";
import Audit from "../../src/console/admin/Audit.svelte";
import Exports from "../../src/console/admin/Exports.svelte";
import { ApiFailure } from "../../src/console/api";

const NOW = new Date().toISOString();

const USERS = [
  {
    username: "admin.ng", role: "admin", officer_id: "admin.ng", enabled: true, locked: false, locked_until: null,
    mfa_enrolled: true, last_sign_in_at: NOW,
    sessions: [{ created_at: NOW, last_used_at: NOW, expires_at: NOW, origin: "console", device_id: null }],
  },
  {
    username: "ofc.kim", role: "officer", officer_id: "B-1207", enabled: true, locked: true, locked_until: NOW,
    mfa_enrolled: false, last_sign_in_at: null,
    sessions: [{ created_at: NOW, last_used_at: NOW, expires_at: NOW, origin: "device", device_id: "dev-1" }],
  },
];

const DEVICE = {
  device_id: "0193-dev", enrolled_at: NOW, last_seen_at: NOW, revoked: false, revoked_at: null,
  last_officer: "ofc.kim", last_officer_signed_in_at: NOW, app_version: "0.9.1", pending_records: 4,
  reported_at: NOW, reenrolment_until: null,
};

/** Answers by "METHOD path" (the first match of a path prefix wins). */
function serve(routes: Record<string, unknown | ((body: unknown) => unknown)>) {
  api.request.mockImplementation(async (method: string, path: string, body?: unknown) => {
    const key = Object.keys(routes).find((k) => `${method} ${path}`.startsWith(k));
    if (!key) throw new Error(`unexpected ${method} ${path}`);
    const reply = routes[key];
    if (reply instanceof Error) throw reply;
    return typeof reply === "function" ? (reply as (b: unknown) => unknown)(body) : structuredClone(reply);
  });
}

beforeEach(() => {
  api.request.mockReset();
  api.download.mockReset();
});

describe("Users", () => {
  it("lists users with their state and sessions, and adds one", async () => {
    serve({
      "GET /v1/admin/users": USERS,
      "POST /v1/admin/users": (body: unknown) => ({ ...USERS[1], ...(body as object), username: "ofc.new", officer_id: "B-9" }),
    });
    render(Users, { props: { rest: "" } });
    await screen.findByTestId("user-row-ofc.kim");
    expect(screen.getByTestId("user-state-ofc.kim")).toHaveTextContent("locked until");
    expect(screen.getByTestId("unlock-ofc.kim")).toBeInTheDocument();
    expect(screen.queryByTestId("unlock-admin.ng")).toBeNull();
    expect(screen.getByTestId("disable-admin.ng")).toBeDisabled();

    await fireEvent.click(screen.getByTestId("sessions-toggle-ofc.kim"));
    expect(screen.getByTestId("session-ofc.kim-0")).toHaveTextContent("from device dev-1");

    await fireEvent.input(screen.getByTestId("add-username"), { target: { value: "ofc.new" } });
    await fireEvent.input(screen.getByTestId("add-officer-id"), { target: { value: " " } });
    await fireEvent.input(screen.getByTestId("add-password"), { target: { value: "a long passphrase" } });
    await fireEvent.submit(screen.getByTestId("add-user-form"));
    await waitFor(() => expect(screen.getByTestId("users-status")).toHaveTextContent("Added ofc.new"));
    expect(api.request).toHaveBeenCalledWith("POST", "/v1/admin/users", {
      username: "ofc.new", role: "officer", officer_id: null, password: "a long passphrase",
    });
  });

  it("shows the server's refusal of a new user", async () => {
    serve({
      "GET /v1/admin/users": USERS,
      "POST /v1/admin/users": new ApiFailure(409, "already_exists", "user ofc.kim or officer id B-1207"),
    });
    render(Users, { props: { rest: "" } });
    await screen.findByTestId("users-table");
    await fireEvent.input(screen.getByTestId("add-username"), { target: { value: "ofc.kim" } });
    await fireEvent.input(screen.getByTestId("add-password"), { target: { value: "a long passphrase" } });
    await fireEvent.submit(screen.getByTestId("add-user-form"));
    expect(await screen.findByTestId("add-user-error")).toHaveTextContent("user ofc.kim or officer id B-1207");
  });

  it("disables after a confirmation, changes a role, unlocks", async () => {
    serve({ "GET /v1/admin/users": USERS, "POST /v1/admin/users/": undefined });
    render(Users, { props: { rest: "" } });
    await screen.findByTestId("user-row-ofc.kim");
    await fireEvent.click(screen.getByTestId("disable-ofc.kim"));
    expect(api.request).not.toHaveBeenCalledWith("POST", "/v1/admin/users/ofc.kim/disable", undefined);
    await fireEvent.click(await screen.findByTestId("confirm-disable"));
    await waitFor(() => expect(api.request).toHaveBeenCalledWith("POST", "/v1/admin/users/ofc.kim/disable", undefined));
    await waitFor(() => expect(screen.queryByTestId("confirm-disable")).toBeNull());

    await fireEvent.change(screen.getByTestId("role-ofc.kim"), { target: { value: "supervisor" } });
    await fireEvent.click(await screen.findByTestId("role-save-ofc.kim"));
    await waitFor(() =>
      expect(api.request).toHaveBeenCalledWith("POST", "/v1/admin/users/ofc.kim/role", { role: "supervisor" }),
    );
    await fireEvent.click(screen.getByTestId("unlock-ofc.kim"));
    await waitFor(() => expect(api.request).toHaveBeenCalledWith("POST", "/v1/admin/users/ofc.kim/unlock", undefined));
  });
});

describe("Devices", () => {
  it("lists what each device reported and enrols one with code, fingerprint and QR", async () => {
    serve({
      "GET /v1/admin/devices": [DEVICE],
      "POST /v1/admin/enrollments": {
        code: "ABCD-EFGH-JKMN", expires_at: NOW, certificate_fingerprint: "AB:CD", server_url: "https://wp.lan:8443",
        enrolment_uri: "waypoint-enrol:?code=ABCD", qr_svg: "<svg xmlns='http://www.w3.org/2000/svg'></svg>", device_id: null,
      },
    });
    render(Devices, { props: { rest: "" } });
    const row = await screen.findByTestId("device-row-0193-dev");
    expect(row).toHaveTextContent("ofc.kim");
    expect(row).toHaveTextContent("0.9.1");
    expect(screen.getByTestId("device-pending-0193-dev")).toHaveTextContent("4");
    expect(screen.getByTestId("device-state-0193-dev")).toHaveTextContent("active");

    await fireEvent.click(screen.getByTestId("enrol-device"));
    expect(await screen.findByTestId("enrolment-code")).toHaveTextContent("ABCD-EFGH-JKMN");
    expect(screen.getByTestId("enrolment-fingerprint")).toHaveTextContent("AB:CD");
    expect(screen.getByTestId("enrolment-server")).toHaveTextContent("https://wp.lan:8443");
    expect((screen.getByTestId("enrolment-qr") as HTMLImageElement).src).toMatch(/^data:image\/svg\+xml/);
  });

  it("revokes only after the confirmation, and rotation shows the new code", async () => {
    serve({
      "GET /v1/admin/devices": [DEVICE],
      "POST /v1/admin/devices/0193-dev/revoke": undefined,
      "POST /v1/admin/devices/0193-dev/rotate": {
        code: "WXYZ-2345-6789", expires_at: NOW, qr_svg: "<svg></svg>", device_id: "0193-dev",
      },
    });
    render(Devices, { props: { rest: "" } });
    await fireEvent.click(await screen.findByTestId("revoke-0193-dev"));
    const dialog = await screen.findByRole("dialog");
    await fireEvent.click(within(dialog).getByText("Cancel"));
    expect(api.request).not.toHaveBeenCalledWith("POST", "/v1/admin/devices/0193-dev/revoke");
    await fireEvent.click(screen.getByTestId("revoke-0193-dev"));
    await fireEvent.click(await screen.findByTestId("confirm-revoke"));
    await waitFor(() => expect(screen.getByTestId("devices-status")).toHaveTextContent("revoked"));
    expect(api.request).toHaveBeenCalledWith("POST", "/v1/admin/devices/0193-dev/revoke");

    await fireEvent.click(screen.getByTestId("rotate-0193-dev"));
    await fireEvent.click(await screen.findByTestId("confirm-rotate"));
    expect(await screen.findByTestId("enrolment-code")).toHaveTextContent("WXYZ-2345-6789");
    expect(screen.getByTestId("enrolment")).toHaveTextContent("0193-dev");
  });
});

describe("Audit", () => {
  const ROW = {
    seq: 7, at: NOW, actor: "admin.ng", client: "127.0.0.1", action: "user_disabled", target: "user ofc.kim",
    outcome: "ok", detail: null, prev_hash: "a", hash: "b",
  };

  it("searches with the filters given, pages back, verifies", async () => {
    serve({
      "GET /v1/admin/audit/verify": { intact: true, rows: 42, head_hash: "ff00", broken_at: null, reason: null },
      "GET /v1/admin/audit?action=user_disabled&before=7&limit=50": { entries: [{ ...ROW, seq: 3 }], next_before: null },
      "GET /v1/admin/audit": { entries: [ROW], next_before: 7 },
    });
    render(Audit, { props: { rest: "" } });
    expect(await screen.findAllByTestId("audit-row")).toHaveLength(1);
    expect(api.request).toHaveBeenCalledWith("GET", "/v1/admin/audit?limit=50");

    await fireEvent.input(screen.getByTestId("audit-action"), { target: { value: "user_disabled" } });
    await fireEvent.submit(screen.getByTestId("audit-filters"));
    await waitFor(() => expect(api.request).toHaveBeenCalledWith("GET", "/v1/admin/audit?action=user_disabled&limit=50"));
    await fireEvent.click(await screen.findByTestId("audit-more"));
    await waitFor(() => expect(screen.getAllByTestId("audit-row")).toHaveLength(2));
    expect(screen.queryByTestId("audit-more")).toBeNull();

    await fireEvent.click(screen.getByTestId("audit-verify"));
    expect(await screen.findByText("Intact")).toBeInTheDocument();
    expect(screen.getByTestId("audit-verdict")).toHaveTextContent("42 rows");
  });

  it("names the row where the chain breaks, and exports", async () => {
    serve({
      "GET /v1/admin/audit/verify": { intact: false, rows: 0, head_hash: null, broken_at: 5, reason: "row 5 was changed" },
      "GET /v1/admin/audit": { entries: [], next_before: null },
    });
    api.download.mockResolvedValue("waypoint-audit-1.csv");
    render(Audit, { props: { rest: "" } });
    await screen.findByTestId("audit-empty");
    await fireEvent.click(screen.getByTestId("audit-verify"));
    expect(await screen.findByText("Broken at row 5")).toBeInTheDocument();
    await fireEvent.input(screen.getByTestId("audit-export-since"), { target: { value: "2026-12-01" } });
    await fireEvent.submit(screen.getByTestId("audit-export-form"));
    await waitFor(() => expect(screen.getByTestId("audit-exported")).toHaveTextContent("waypoint-audit-1.csv"));
    expect(api.download).toHaveBeenCalledWith("/v1/admin/audit/export?since=2026-12-01&format=csv", "waypoint-audit");
  });
});

describe("Exports", () => {
  it("downloads with the filters set and shows a refusal", async () => {
    api.download.mockResolvedValueOnce("waypoint-encounters-1.json");
    render(Exports, { props: { rest: "" } });
    await fireEvent.input(screen.getByTestId("export-officer"), { target: { value: "B-1207" } });
    await fireEvent.change(screen.getByTestId("export-state"), { target: { value: "approved" } });
    await fireEvent.change(screen.getByTestId("export-format"), { target: { value: "json" } });
    await fireEvent.submit(screen.getByTestId("export-form"));
    await waitFor(() => expect(screen.getByTestId("export-status")).toHaveTextContent("waypoint-encounters-1.json"));
    expect(api.download).toHaveBeenCalledWith("/v1/admin/export?officer=B-1207&state=approved&format=json", "waypoint-encounters");

    api.download.mockRejectedValueOnce(new ApiFailure(400, "bad_request", "from must be a date"));
    await fireEvent.submit(screen.getByTestId("export-form"));
    expect(await screen.findByTestId("export-error")).toHaveTextContent("from must be a date");
  });
});
