// The records feed page (#/admin/records) against a real server: a refused credential name shown
// beside its field; a credential issued with its token shown once, read with at the records feed,
// revoked after a confirmation (then refused); a refused webhook address beside its field; a
// webhook registered to a receiver started here (it answers 500), disabled and enabled; a report
// filed by a real device core and approved, so the receiver gets a signed delivery (checked with
// the secret the page showed) that fails, is retried, parked as failed and replayed. axe-core in
// both themes; a screenshot with data.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { newDevice } from "./device.mjs";

/** Retries fast and gives up after ~2 s, so a failing delivery is parked within the spec. */
export const serveArgs = ["--webhook-first-retry-seconds", "0.2", "--webhook-retry-hours", "0.0005", "--webhook-timeout-seconds", "1"];

const ADMIN = { username: "admin.rivera", password: "admin passphrase 12" };
const APPROVER = { username: "sgt.okafor", password: "approver passphrase 1", officerId: "B-0043" };
const OFFICER = { username: "ofc.diaz", password: "officer passphrase 1", officerId: "B-1207" };

/** A webhook receiver on 127.0.0.1 that keeps every request and answers 500. */
async function startReceiver() {
  const received = [];
  const server = createServer((request, response) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ url: request.url, headers: request.headers, body: Buffer.concat(chunks).toString("utf8") });
      response.writeHead(500, { "content-type": "text/plain" });
      response.end("receiver is down");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/waypoint-hook`,
    received,
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Standard Webhooks: v1 = base64 HMAC-SHA256 over `id.timestamp.body` with the secret's bytes. */
function signatureValid(secret, headers, body) {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(`${headers["webhook-id"]}.${headers["webhook-timestamp"]}.${body}`).digest();
  return String(headers["webhook-signature"] ?? "")
    .split(" ")
    .some((part) => {
      const [version, value] = part.split(",");
      const given = Buffer.from(value ?? "", "base64");
      return version === "v1" && given.length === expected.length && timingSafeEqual(given, expected);
    });
}

/** Signs a supervisor in over the API, enrolling their authenticator: a session token. */
async function apiSession(ctx, user) {
  const login = await ctx.api("POST", "/v1/login", { body: { username: user.username, password: user.password } });
  ctx.check(login.status === 202, `${user.username} must enrol in MFA first: ${login.status}`);
  const enrolment = login.json.enrolment_token;
  const start = await ctx.api("POST", "/v1/mfa/enrolment", { bearer: enrolment });
  const confirm = await ctx.api("POST", "/v1/mfa/enrolment/confirm", { bearer: enrolment, body: { code: ctx.totp(start.json.secret) } });
  ctx.check(confirm.status === 200, `${user.username} enrolled: ${confirm.status} ${confirm.text}`);
  return confirm.json.session.session_token;
}

/** Waits until `probe()` answers something truthy (at most `ms`). */
async function until(ctx, what, probe, ms = 20_000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) {
      ctx.check(false, `timed out waiting for ${what}`);
      return value;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export async function run(ctx) {
  const { server } = ctx;
  server.addUser(ADMIN.username, "admin", ADMIN.password);
  server.addUser(APPROVER.username, "supervisor", APPROVER.password, APPROVER.officerId);
  server.addUser(OFFICER.username, "officer", OFFICER.password, OFFICER.officerId);
  const receiver = await startReceiver();
  const device = newDevice(OFFICER.officerId);
  try {
    const page = await ctx.newPage();
    await ctx.signIn(page, ADMIN.username, ADMIN.password);
    const cookie = async () => ({ cookie: (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ") });
    ctx.check(await page.getByTestId("nav-admin/records").isVisible(), "the navigation offers the records feed page");
    await page.getByTestId("nav-admin/records").click();
    await page.getByTestId("admin-records").waitFor();
    await page.getByTestId("no-credentials").waitFor();
    ctx.check((await page.title()).startsWith("Records feed"), `the page title: ${await page.title()}`);
    const howto = await page.getByTestId("records-howto").innerText();
    ctx.check(howto.includes("/v1/records/encounters?after=CURSOR&max_bytes=N") && howto.includes("Bearer <token>"), `the records admin is told how to read: ${howto}`);
    await ctx.axe(page, "records feed, empty");

    // --- Credentials: a refused name beside its field, then one issued -----------------------------
    await page.getByTestId("credential-name").fill("county rms!");
    await page.getByTestId("credential-issue").click();
    const refused = page.getByTestId("credential-error");
    await refused.waitFor();
    ctx.check((await refused.getAttribute("data-field")) === "name", `the refusal names the field: ${await refused.innerText()}`);
    ctx.check((await page.getByTestId("credential-name").getAttribute("aria-invalid")) === "true", "the name field is marked invalid");
    await ctx.axe(page, "credential refused by field");

    await page.getByTestId("credential-name").fill("rms");
    await page.getByTestId("credential-issue").click();
    await page.getByTestId("credential-token").waitFor();
    const token = (await page.getByTestId("credential-token").innerText()).trim();
    ctx.check(token.startsWith("wpr_"), `the token is shown (${token.slice(0, 6)}…)`);
    ctx.check((await page.getByTestId("credential-token-once").innerText()).includes("Shown once"), "the token is marked shown once");
    ctx.check(await page.getByTestId("credential-token-copy").isVisible(), "the token has a copy button");
    ctx.check((await page.getByTestId("records-status").innerText()).includes("Credential rms issued"), "the issue is announced");
    await page.getByTestId("credential-row-rms").waitFor();
    ctx.check((await page.getByTestId("credential-state-rms").innerText()).includes("active"), "the credential is listed as active");
    ctx.check(!(await page.getByTestId("credential-error").isVisible().catch(() => false)), "the earlier refusal is gone");

    // The same name again: the server's refusal is shown.
    await page.getByTestId("credential-name").fill("rms");
    await page.getByTestId("credential-issue").click();
    await refused.waitFor();
    ctx.check((await refused.innerText()).length > 0, `a taken name is refused: ${await refused.innerText()}`);
    ctx.check((await page.getByTestId("credential-token").innerText()).trim() === token, "the issued token is still on screen");
    // A second one: the refusal goes, the new token replaces the first on screen.
    await page.getByTestId("credential-name").fill("county-rms");
    await page.getByTestId("credential-issue").click();
    await page.getByTestId("credential-row-county-rms").waitFor();
    const second = (await page.getByTestId("credential-token").innerText()).trim();
    ctx.check(second.startsWith("wpr_") && second !== token, "a second credential has its own token");
    ctx.check(!(await refused.isVisible().catch(() => false)), "the refusal is gone after a success");

    // The token reads the records feed, and nothing is approved yet.
    const empty = await ctx.api("GET", "/v1/records/encounters?after=0", { bearer: token });
    ctx.check(empty.status === 200 && Array.isArray(empty.json?.events) && empty.json.events.length === 0, `the feed answers, empty: ${empty.status} ${empty.text.slice(0, 200)}`);
    ctx.check(empty.json?.more === false && typeof empty.json?.cursor === "number", `the page has a cursor and more=false: ${empty.text.slice(0, 200)}`);
    ctx.check((await ctx.api("GET", "/v1/records/encounters?after=0")).status === 401, "the feed refuses a request without a token");

    // --- Webhooks: a refused address beside its field, then the receiver --------------------------
    await page.getByTestId("webhook-url").fill("http://records.example.org/hook");
    await page.getByTestId("webhook-add").click();
    const refusedHook = page.getByTestId("webhook-error");
    await refusedHook.waitFor();
    ctx.check((await refusedHook.getAttribute("data-field")) === "url" && /https/.test(await refusedHook.innerText()), `plain http elsewhere is refused by field: ${await refusedHook.innerText()}`);
    ctx.check((await page.getByTestId("webhook-url").getAttribute("aria-invalid")) === "true", "the address field is marked invalid");
    await page.getByTestId("webhook-url").fill(receiver.url);
    await page.getByTestId("webhook-secret").fill("not-a-secret");
    await page.getByTestId("webhook-add").click();
    await page.getByTestId("webhook-error").filter({ hasText: "whsec_" }).waitFor();
    ctx.check((await refusedHook.getAttribute("data-field")) === "secret", "a malformed secret is refused beside its field");
    ctx.check((await page.getByTestId("webhook-secret").getAttribute("aria-invalid")) === "true", "the secret field is marked invalid");
    await page.getByTestId("webhook-secret").fill("");
    await page.getByTestId("webhook-add").click();
    await page.getByTestId("webhook-secret-value").waitFor();
    const secret = (await page.getByTestId("webhook-secret-value").innerText()).trim();
    ctx.check(secret.startsWith("whsec_"), "the server-made signing secret is shown");
    ctx.check((await page.getByTestId("webhook-secret-value-once").innerText()).includes("Shown once"), "the secret is marked shown once");
    const hooks = await ctx.api("GET", "/v1/admin/webhooks", { headers: await cookie() });
    ctx.check(hooks.status === 200 && hooks.json.length === 1, `one webhook registered: ${hooks.text}`);
    const hook = hooks.json[0];
    const hookRow = page.getByTestId(`webhook-row-${hook.id}`);
    await hookRow.waitFor();
    ctx.check((await hookRow.innerText()).includes(receiver.url), "the webhook is listed with its address");
    for (const text of ["encounter.approved", "encounter.amended", "encounter.approval_withdrawn", "webhook-signature"]) {
      ctx.check((await page.getByTestId("records-webhooks").innerText()).includes(text), `the page explains ${text}`);
    }
    await ctx.axe(page, "records feed with a new webhook and its secret");

    await page.getByTestId(`disable-webhook-${hook.id}`).click();
    await page.getByTestId(`enable-webhook-${hook.id}`).waitFor();
    ctx.check((await page.getByTestId(`webhook-state-${hook.id}`).innerText()).includes("disabled"), "disabled");
    ctx.check((await ctx.api("GET", "/v1/admin/webhooks", { headers: await cookie() })).json[0].enabled === false, "the server has it disabled");
    await page.getByTestId(`enable-webhook-${hook.id}`).click();
    await page.getByTestId(`disable-webhook-${hook.id}`).waitFor();
    ctx.check((await page.getByTestId(`webhook-state-${hook.id}`).innerText()).includes("enabled"), "enabled again");

    // --- A report approved: an event in the feed and a delivery to the receiver ---------------------
    device.enrol(server);
    device.signIn(OFFICER.username, OFFICER.password);
    const filed = device.run("file", "--narrative", "Welfare check at the library; resources given.");
    ctx.check(device.sync().report.stored === 1, "the device pushed its report");
    const approver = await apiSession(ctx, APPROVER);
    const decided = await ctx.api("POST", "/v1/reviews", { bearer: approver, body: { encounter_id: filed.id, version: 1, decision: "approved" } });
    ctx.check(decided.status === 200, `approved: ${decided.status} ${decided.text}`);

    const feed = await ctx.api("GET", "/v1/records/encounters?after=0&max_bytes=1048576", { bearer: token });
    const [event] = feed.json?.events ?? [];
    ctx.check(feed.status === 200 && feed.json.events.length === 1 && event.type === "encounter.approved" && event.encounter_id === filed.id,
      `the feed has the approval: ${feed.text.slice(0, 300)}`);
    ctx.check(Array.isArray(event?.encounter?.versions) && event.encounter.versions.length === 1, "the event carries the report's versions");
    const next = await ctx.api("GET", `/v1/records/encounters?after=${feed.json.cursor}`, { bearer: token });
    ctx.check(next.status === 200 && next.json.events.length === 0 && next.json.more === false, `nothing after the cursor: ${next.text.slice(0, 200)}`);

    const first = await until(ctx, "the receiver's first request", () => receiver.received[0]);
    ctx.check(first.headers["webhook-id"] === event.id, `webhook-id is the event's id: ${first.headers["webhook-id"]} / ${event.id}`);
    ctx.check(/^\d+$/.test(first.headers["webhook-timestamp"] ?? ""), "webhook-timestamp is set");
    ctx.check(signatureValid(secret, first.headers, first.body), "webhook-signature checks with the secret the page showed");
    const payload = JSON.parse(first.body);
    ctx.check(payload.type === "encounter.approved" && payload.data.encounter_id === filed.id, `the body is the event: ${first.body.slice(0, 200)}`);

    // The receiver answers 500: retried, then parked as failed (within ~2 s with this server's flags).
    const parked = await until(ctx, "the delivery parked as failed", async () => {
      const listed = await ctx.api("GET", "/v1/admin/webhooks/deliveries?state=failed", { headers: await cookie() });
      return listed.json?.[0];
    });
    ctx.check(parked.attempts >= 1 && parked.last_status === 500 && /500/.test(parked.last_error ?? ""), `the delivery failed with 500: ${JSON.stringify(parked)}`);
    ctx.check(receiver.received.length === parked.attempts, `each attempt reached the receiver (${receiver.received.length} requests, ${parked.attempts} attempts)`);
    ctx.check(new Set(receiver.received.map((r) => r.headers["webhook-id"])).size === 1, "every retry carries the same webhook-id");

    await page.getByTestId("deliveries-refresh").click();
    const row = page.getByTestId(`delivery-row-${parked.id}`);
    await page.locator(`[data-testid="delivery-row-${parked.id}"][data-state="failed"]`).waitFor();
    ctx.check((await page.getByTestId(`delivery-state-${parked.id}`).innerText()).includes("failed"), "the row says failed");
    ctx.check(await row.evaluate((tr) => tr.classList.contains("records-failed")), "the failed row is marked");
    ctx.check(Number(await page.getByTestId(`delivery-attempts-${parked.id}`).innerText()) === parked.attempts, "its attempts are shown");
    ctx.check(/500/.test(await page.getByTestId(`delivery-error-${parked.id}`).innerText()), "its last error mentions 500");
    ctx.check((await row.innerText()).includes(filed.id), "the row names the report");
    ctx.check((await page.getByTestId(`webhook-failed-${hook.id}`).innerText()).trim() === "1", "the webhook counts one failed delivery");

    // Filters: failed shows it, delivered shows none.
    await page.getByTestId("deliveries-filter").selectOption("delivered");
    await page.getByTestId("no-deliveries").filter({ hasText: "No delivered delivery" }).waitFor();
    await page.getByTestId("deliveries-filter").selectOption("failed");
    await row.waitFor();
    await ctx.axe(page, "records feed with a failed delivery");
    await ctx.screenshot(page, "console-records");

    // Replay: sent again now (the receiver gets one more request), parked again.
    const before = receiver.received.length;
    await page.getByTestId(`replay-${parked.id}`).click();
    await page.getByTestId("records-status").filter({ hasText: `Delivery ${parked.id}` }).waitFor();
    ctx.check(!(await page.getByTestId("deliveries-error").isVisible().catch(() => false)), "the replay is accepted");
    await until(ctx, "the replayed request", () => receiver.received.length > before);
    ctx.check(receiver.received.at(-1).headers["webhook-id"] === event.id, "the replay carries the same webhook-id");
    const again = await until(ctx, "the replay parked again", async () => {
      const listed = await ctx.api("GET", "/v1/admin/webhooks/deliveries?state=failed", { headers: await cookie() });
      const found = listed.json?.find((d) => d.id === parked.id);
      return found && found.attempts > parked.attempts ? found : null;
    });
    ctx.check(again.state === "failed", `replayed and failed again: ${JSON.stringify(again)}`);

    // --- Revoke the credential after a confirmation: its token is refused ---------------------------
    await page.getByTestId("revoke-credential-rms").click();
    await page.getByTestId("confirm-revoke-credential").waitFor();
    await ctx.axe(page, "revoke confirmation");
    await page.keyboard.press("Escape");
    ctx.check((await ctx.api("GET", "/v1/records/encounters", { bearer: token })).status === 200, "cancelled: the token still reads");
    await page.getByTestId("revoke-credential-rms").click();
    await page.getByTestId("confirm-revoke-credential").click();
    await page.getByTestId("records-status").filter({ hasText: "Credential rms revoked" }).waitFor();
    await page.getByTestId("credential-state-rms").filter({ hasText: "revoked" }).waitFor();
    ctx.check(!(await page.getByTestId("revoke-credential-rms").isVisible().catch(() => false)), "the revoked credential offers no revoke");
    ctx.check((await ctx.api("GET", "/v1/records/encounters", { bearer: second })).status === 200, "the other credential still reads");
    const afterRevoke = await ctx.api("GET", "/v1/records/encounters", { bearer: token });
    ctx.check(afterRevoke.status === 401, `the revoked token is refused: ${afterRevoke.status} ${afterRevoke.text}`);

    // Dark theme: axe again.
    await page.getByRole("button", { name: /Switch to dark theme/ }).click();
    await ctx.axe(page, "records feed, dark theme");
    await page.context().close();
  } finally {
    device.remove();
    await receiver.stop();
  }
}
