// The records feed page (#/admin/records) on canned server replies: what it shows and what it
// sends. The server's rules (names, addresses, secrets, retries) are not re-checked here; its
// refusals are shown as sent, beside the field they name.
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { beforeEach, describe, expect, it, vi } from "vitest";

const api = vi.hoisted(() => ({ request: vi.fn() }));

vi.mock("../../../src/console/api", async (original) => {
  const real = await original<typeof import("../../../src/console/api")>();
  return { ...real, request: api.request };
});

import RecordsFeedPage from "../../../src/console/records/RecordsFeedPage.svelte";
import { ApiFailure } from "../../../src/console/api";
import { match } from "../../../src/console/routes";

const NOW = new Date().toISOString();
const ENCOUNTER = "0193a5b2-7c1e-7000-8000-000000000001";

const CREDENTIALS = [
  { name: "rms", created_at: NOW, created_by: "admin.ng", last_used_at: NOW, revoked_at: null },
  { name: "old-rms", created_at: NOW, created_by: "admin.ng", last_used_at: null, revoked_at: NOW },
];

const WEBHOOK = {
  id: 3, url: "https://records.example.org/hook", enabled: true, created_at: NOW, created_by: "admin.ng",
  pending: 1, delivered: 4, failed: 1,
};

const FAILED = {
  id: 11, webhook_id: 3, event_id: "evt_11", type: "encounter.approved", encounter_id: ENCOUNTER, version: 1,
  state: "failed", attempts: 7, created_at: NOW, last_attempt_at: NOW, last_status: 500,
  last_error: "the endpoint answered 500 Internal Server Error", next_attempt_at: null, delivered_at: null,
};
const DELIVERED = {
  ...FAILED, id: 10, event_id: "evt_10", type: "encounter.amended", version: 2, state: "delivered", attempts: 1,
  last_status: 200, last_error: null, delivered_at: NOW,
};

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
  "GET /v1/admin/records/credentials": CREDENTIALS,
  "GET /v1/admin/webhooks/deliveries": [FAILED, DELIVERED],
  "GET /v1/admin/webhooks": [WEBHOOK],
};

beforeEach(() => {
  api.request.mockReset();
});

describe("the records feed route", () => {
  it("is an admin page titled Records feed", () => {
    const found = match("#/admin/records");
    expect(found?.route.title).toBe("Records feed");
    expect(found?.route.roles).toEqual(["admin"]);
  });
});

describe("records system credentials", () => {
  it("lists them, issues one and shows its token once with a copy button", async () => {
    serve({ ...LISTS, "POST /v1/admin/records/credentials": (body: unknown) => ({ ...(body as object), token: "wpr_secret-token" }) });
    render(RecordsFeedPage, { props: { rest: "" } });
    await screen.findByTestId("credential-row-rms");
    expect(screen.getByTestId("credential-state-rms")).toHaveTextContent("active");
    expect(screen.getByTestId("credential-state-old-rms")).toHaveTextContent("revoked");
    expect(screen.getByTestId("revoke-credential-rms")).toBeInTheDocument();
    expect(screen.queryByTestId("revoke-credential-old-rms")).toBeNull();
    expect(screen.getByTestId("records-howto")).toHaveTextContent("GET /v1/records/encounters?after=CURSOR&max_bytes=N");
    expect(screen.getByTestId("records-howto")).toHaveTextContent("Authorization: Bearer <token>");

    await fireEvent.input(screen.getByTestId("credential-name"), { target: { value: "county-rms" } });
    await fireEvent.submit(screen.getByTestId("credential-form"));
    expect(await screen.findByTestId("credential-token")).toHaveTextContent("wpr_secret-token");
    expect(screen.getByTestId("credential-token-once")).toHaveTextContent("Shown once");
    expect(api.request).toHaveBeenCalledWith("POST", "/v1/admin/records/credentials", { name: "county-rms" });
    expect(screen.getByTestId("records-status")).toHaveTextContent("Credential county-rms issued");
    expect(screen.getByTestId("records-status")).toHaveAttribute("aria-live", "polite");

    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    await fireEvent.click(screen.getByTestId("credential-token-copy"));
    await waitFor(() => expect(screen.getByTestId("credential-token-copied")).toHaveTextContent("Copied"));
    expect(writeText).toHaveBeenCalledWith("wpr_secret-token");
  });

  it("shows the server's refusal beside the name, and a taken name as sent", async () => {
    let refusal: ApiFailure = new ApiFailure(422, "invalid", "name: use 1 to 64 letters, digits, `-` or `_`", "name");
    serve({ ...LISTS, "POST /v1/admin/records/credentials": () => { throw refusal; } });
    render(RecordsFeedPage, { props: { rest: "" } });
    await screen.findByTestId("credentials-table");
    await fireEvent.input(screen.getByTestId("credential-name"), { target: { value: "county rms!" } });
    await fireEvent.submit(screen.getByTestId("credential-form"));
    const error = await screen.findByTestId("credential-error");
    expect(error).toHaveTextContent("1 to 64 letters");
    expect(error).toHaveAttribute("data-field", "name");
    expect(screen.getByTestId("credential-name")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByTestId("credential-name")).toHaveAttribute("aria-describedby", "credential-error");
    expect(screen.queryByTestId("credential-token")).toBeNull();

    refusal = new ApiFailure(409, "conflict", "a records credential named `rms` exists");
    await fireEvent.input(screen.getByTestId("credential-name"), { target: { value: "rms" } });
    await fireEvent.submit(screen.getByTestId("credential-form"));
    await waitFor(() => expect(screen.getByTestId("credential-error")).toHaveTextContent("named `rms` exists"));
  });

  it("revokes only after the confirmation", async () => {
    serve({ ...LISTS, "POST /v1/admin/records/credentials/rms/revoke": undefined });
    render(RecordsFeedPage, { props: { rest: "" } });
    await fireEvent.click(await screen.findByTestId("revoke-credential-rms"));
    const dialog = await screen.findByRole("dialog");
    expect(dialog).toHaveTextContent("Revoke the credential rms?");
    await fireEvent.click(within(dialog).getByText("Cancel"));
    expect(api.request).not.toHaveBeenCalledWith("POST", "/v1/admin/records/credentials/rms/revoke");
    await fireEvent.click(screen.getByTestId("revoke-credential-rms"));
    await fireEvent.click(await screen.findByTestId("confirm-revoke-credential"));
    await waitFor(() => expect(screen.getByTestId("records-status")).toHaveTextContent("Credential rms revoked"));
    expect(api.request).toHaveBeenCalledWith("POST", "/v1/admin/records/credentials/rms/revoke");
  });
});

describe("webhooks", () => {
  it("lists endpoints with their deliveries by state, registers one and shows its secret once", async () => {
    serve({
      ...LISTS,
      "POST /v1/admin/webhooks/3/disable": undefined,
      "POST /v1/admin/webhooks": (body: unknown) => ({
        webhook: { ...WEBHOOK, id: 4, url: (body as { url: string }).url, pending: 0, delivered: 0, failed: 0 },
        secret: "whsec_c2VjcmV0",
      }),
    });
    render(RecordsFeedPage, { props: { rest: "" } });
    const row = await screen.findByTestId("webhook-row-3");
    expect(row).toHaveTextContent("https://records.example.org/hook");
    expect(screen.getByTestId("webhook-state-3")).toHaveTextContent("enabled");
    expect(screen.getByTestId("webhook-pending-3")).toHaveTextContent("1");
    expect(screen.getByTestId("webhook-delivered-3")).toHaveTextContent("4");
    expect(screen.getByTestId("webhook-failed-3")).toHaveTextContent("1");
    const explained = screen.getByTestId("records-webhooks");
    for (const text of ["encounter.approved", "encounter.amended", "encounter.approval_withdrawn", "webhook-id", "webhook-timestamp", "webhook-signature", "https://"]) {
      expect(explained).toHaveTextContent(text);
    }

    await fireEvent.input(screen.getByTestId("webhook-url"), { target: { value: "https://rms.example.org/in" } });
    await fireEvent.submit(screen.getByTestId("webhook-form"));
    expect(await screen.findByTestId("webhook-secret-value")).toHaveTextContent("whsec_c2VjcmV0");
    expect(screen.getByTestId("webhook-secret-value-once")).toHaveTextContent("Shown once");
    expect(api.request).toHaveBeenCalledWith("POST", "/v1/admin/webhooks", { url: "https://rms.example.org/in", secret: null });

    await fireEvent.click(screen.getByTestId("disable-webhook-3"));
    await waitFor(() => expect(api.request).toHaveBeenCalledWith("POST", "/v1/admin/webhooks/3/disable"));
    await waitFor(() => expect(screen.getByTestId("records-status")).toHaveTextContent("Webhook 3 disabled"));
  });

  it("shows the server's refusal beside the field it names", async () => {
    serve({
      ...LISTS,
      "POST /v1/admin/webhooks": new ApiFailure(422, "invalid", "the secret must start with `whsec_`", "secret"),
    });
    render(RecordsFeedPage, { props: { rest: "" } });
    await screen.findByTestId("webhooks-table");
    await fireEvent.input(screen.getByTestId("webhook-url"), { target: { value: "https://rms.example.org/in" } });
    await fireEvent.input(screen.getByTestId("webhook-secret"), { target: { value: "not-a-secret" } });
    await fireEvent.submit(screen.getByTestId("webhook-form"));
    const error = await screen.findByTestId("webhook-error");
    expect(error).toHaveTextContent("must start with `whsec_`");
    expect(error).toHaveAttribute("data-field", "secret");
    expect(screen.getByTestId("webhook-secret")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByTestId("webhook-url")).toHaveAttribute("aria-invalid", "false");
    expect(api.request).toHaveBeenCalledWith("POST", "/v1/admin/webhooks", { url: "https://rms.example.org/in", secret: "not-a-secret" });
  });

  it("enables a disabled endpoint", async () => {
    serve({ ...LISTS, "GET /v1/admin/webhooks": [{ ...WEBHOOK, enabled: false }], "POST /v1/admin/webhooks/3/enable": undefined });
    render(RecordsFeedPage, { props: { rest: "" } });
    expect(await screen.findByTestId("webhook-state-3")).toHaveTextContent("disabled");
    await fireEvent.click(screen.getByTestId("enable-webhook-3"));
    await waitFor(() => expect(api.request).toHaveBeenCalledWith("POST", "/v1/admin/webhooks/3/enable"));
  });
});

describe("deliveries", () => {
  it("marks the failed ones, filters by state and replays one", async () => {
    serve({
      ...LISTS,
      "GET /v1/admin/webhooks/deliveries?state=failed&limit=100": [FAILED],
      "POST /v1/admin/webhooks/deliveries/11/replay": undefined,
    });
    render(RecordsFeedPage, { props: { rest: "" } });
    const failed = await screen.findByTestId("delivery-row-11");
    expect(api.request).toHaveBeenCalledWith("GET", "/v1/admin/webhooks/deliveries?limit=100");
    expect(failed).toHaveClass("records-failed");
    expect(screen.getByTestId("delivery-state-11")).toHaveTextContent("failed");
    expect(screen.getByTestId("delivery-attempts-11")).toHaveTextContent("7");
    expect(screen.getByTestId("delivery-last-11")).toHaveTextContent("answered 500");
    expect(screen.getByTestId("delivery-error-11")).toHaveTextContent("500 Internal Server Error");
    expect(failed).toHaveTextContent("encounter.approved");
    expect(failed).toHaveTextContent(`${ENCOUNTER} v1`);
    expect(failed).toHaveTextContent("https://records.example.org/hook");
    expect(screen.getByTestId("delivery-row-10")).not.toHaveClass("records-failed");
    expect(screen.getByTestId("delivery-state-10")).toHaveTextContent("delivered");

    await fireEvent.change(screen.getByTestId("deliveries-filter"), { target: { value: "failed" } });
    await waitFor(() => expect(screen.queryByTestId("delivery-row-10")).toBeNull());
    expect(api.request).toHaveBeenCalledWith("GET", "/v1/admin/webhooks/deliveries?state=failed&limit=100");

    const calls = api.request.mock.calls.length;
    await fireEvent.click(screen.getByTestId("replay-11"));
    await waitFor(() => expect(screen.getByTestId("records-status")).toHaveTextContent("Delivery 11"));
    expect(api.request).toHaveBeenCalledWith("POST", "/v1/admin/webhooks/deliveries/11/replay");
    // Then the lists are asked again, still filtered.
    const after = api.request.mock.calls.slice(calls).map((c) => `${c[0]} ${c[1]}`);
    expect(after).toContain("GET /v1/admin/webhooks/deliveries?state=failed&limit=100");
  });

  it("says there is none in the state chosen, and shows a refused replay", async () => {
    serve({
      ...LISTS,
      "GET /v1/admin/webhooks/deliveries?state=pending&limit=100": [],
      "POST /v1/admin/webhooks/deliveries/11/replay": new ApiFailure(404, "not_found", "no webhook delivery 11"),
    });
    render(RecordsFeedPage, { props: { rest: "" } });
    await fireEvent.click(await screen.findByTestId("replay-11"));
    expect(await screen.findByTestId("deliveries-error")).toHaveTextContent("no webhook delivery 11");
    await fireEvent.change(screen.getByTestId("deliveries-filter"), { target: { value: "pending" } });
    expect(await screen.findByTestId("no-deliveries")).toHaveTextContent("No pending delivery.");
  });
});
