// The admin console against a real server: add a user; disable a signed-in user and see their
// session stop; enrol a device from the code and fingerprint the page shows, see what it reports,
// revoke it and see its token refused; verify the audit chain and find rows in it; download an
// export. axe-core on every page, every action reached by keyboard, screenshots of each page.
import { readFileSync } from "node:fs";

const ADMIN = { username: "admin.rivera", password: "admin passphrase 12" };
const OFFICER = { username: "ofc.okafor", password: "officer passphrase 1" };

/** Tabs from the top of the page until `testid` has focus (at most `limit` presses). */
async function tabTo(ctx, page, testid, limit = 80) {
  await page.evaluate(() => {
    (document.activeElement instanceof HTMLElement ? document.activeElement : document.body).blur();
    window.scrollTo(0, 0);
  });
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => document.activeElement?.getAttribute("data-testid"));
    if (focused === testid) return;
  }
  ctx.check(false, `${testid} is not reached by Tab`);
}

async function open(page, ctx, hash, testid) {
  await page.goto(`${ctx.baseUrl}/console/${hash}`);
  await page.getByTestId(testid).waitFor();
}

export async function run(ctx) {
  ctx.server.addUser(ADMIN.username, "admin", ADMIN.password);
  ctx.server.addUser(OFFICER.username, "officer", OFFICER.password, "B-3301");
  const page = await ctx.newPage();
  await ctx.signIn(page, ADMIN.username, ADMIN.password);

  // --- Users: add one with the keyboard only --------------------------------------------------
  await open(page, ctx, "#/admin/users", "users-table");
  await tabTo(ctx, page, "add-username");
  await page.keyboard.type("ofc.nguyen");
  await page.keyboard.press("Tab"); // role
  await page.keyboard.press("Tab");
  await page.keyboard.type("B-4410");
  await page.keyboard.press("Tab");
  await page.keyboard.type("a new officer passphrase");
  await page.keyboard.press("Enter");
  await page.getByTestId("user-row-ofc.nguyen").waitFor();
  const status = await page.getByTestId("users-status").innerText();
  ctx.check(status.includes("Added ofc.nguyen") && status.includes("B-4410"), `added: ${status}`);
  const signedIn = await ctx.api("POST", "/v1/login", { body: { username: "ofc.nguyen", password: "a new officer passphrase" } });
  ctx.check(signedIn.status === 200, `the new user signs in: ${signedIn.status}`);
  await ctx.axe(page, "users");
  await ctx.screenshot(page, "console-admin-users");

  // --- Disable a signed-in user: their session stops ------------------------------------------
  const login = await ctx.api("POST", "/v1/login", { body: { username: OFFICER.username, password: OFFICER.password } });
  ctx.check(login.status === 200, `the officer signs in: ${login.status}`);
  const token = login.json.session_token;
  // 403 (not 401): the officer's session is accepted, the admin API refused.
  ctx.check((await ctx.api("GET", "/v1/admin/users", { bearer: token })).status === 403, "the officer's session works");
  await page.reload();
  await page.getByTestId(`sessions-toggle-${OFFICER.username}`).click();
  await page.getByTestId(`session-${OFFICER.username}-0`).waitFor();
  await ctx.axe(page, "users with sessions open");
  await page.getByTestId(`disable-${OFFICER.username}`).focus();
  await page.keyboard.press("Enter");
  await page.getByTestId("confirm-disable").waitFor();
  await ctx.axe(page, "disable confirmation");
  await page.getByTestId("confirm-disable").click();
  await page.getByTestId(`enable-${OFFICER.username}`).waitFor();
  ctx.check((await page.getByTestId(`user-state-${OFFICER.username}`).innerText()).includes("disabled"), "shown disabled");
  const after = await ctx.api("GET", "/v1/admin/users", { bearer: token });
  ctx.check(after.status === 401, `the disabled officer's session stopped: ${after.status}`);

  // --- Devices: enrol from the page, see its report, revoke, token refused ----------------------
  await open(page, ctx, "#/admin/devices", "admin-devices");
  await tabTo(ctx, page, "enrol-device");
  await page.keyboard.press("Enter");
  await page.getByTestId("enrolment").waitFor();
  const code = (await page.getByTestId("enrolment-code").innerText()).trim();
  const fingerprint = (await page.getByTestId("enrolment-fingerprint").innerText()).trim();
  ctx.check(fingerprint === ctx.server.fingerprint, `the page shows the certificate fingerprint (${fingerprint})`);
  ctx.check(await page.getByTestId("enrolment-qr").isVisible(), "the enrolment QR code is shown");
  await ctx.axe(page, "devices with an enrolment code");
  await ctx.screenshot(page, "console-admin-enrol");
  const enrolled = await ctx.api("POST", "/v1/enroll", { body: { code } });
  ctx.check(enrolled.status === 200, `the code enrols a device: ${enrolled.status}`);
  const device = enrolled.json;
  const reporting = { "waypoint-app-version": "0.9.0-test", "waypoint-pending-records": "2" };
  const pull = () => ctx.api("GET", "/v1/sync/pull", { bearer: device.device_token, headers: reporting });
  ctx.check((await pull()).status === 200, "the enrolled device pulls");
  await page.reload();
  const row = page.getByTestId(`device-row-${device.device_id}`);
  await row.waitFor();
  const rowText = await row.innerText();
  ctx.check(rowText.includes("0.9.0-test"), `the app version it reported: ${rowText}`);
  ctx.check((await page.getByTestId(`device-pending-${device.device_id}`).innerText()).startsWith("2"), "its pending records");
  await ctx.axe(page, "devices");
  await ctx.screenshot(page, "console-admin-devices");
  await page.getByTestId(`revoke-${device.device_id}`).click();
  await page.getByTestId("confirm-revoke").waitFor();
  await page.keyboard.press("Escape");
  ctx.check(!(await page.getByTestId("confirm-revoke").isVisible().catch(() => false)), "Escape cancels the revoke");
  ctx.check((await pull()).status === 200, "still enrolled after cancelling");
  await page.getByTestId(`revoke-${device.device_id}`).click();
  await page.getByTestId("confirm-revoke").click();
  await page.getByTestId("devices-status").filter({ hasText: "revoked" }).waitFor();
  const refused = await pull();
  ctx.check(refused.status === 401 && refused.json?.error === "device_revoked", `the revoked token is refused: ${refused.text}`);

  // --- Audit: verify, find the disabling, keyboard to the export --------------------------------
  await open(page, ctx, "#/admin/audit", "audit-table");
  await tabTo(ctx, page, "audit-verify");
  await page.keyboard.press("Enter");
  await page.getByTestId("audit-verdict").filter({ hasText: "Intact" }).waitFor();
  await page.getByTestId("audit-action").fill("user_disabled");
  await page.getByTestId("audit-search").click();
  // The unfiltered page is on screen until the filtered one replaces it.
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=audit-row]").length === 1);
  const found = await page.getByTestId("audit-row").allInnerTexts();
  ctx.check(found.length === 1 && found[0].includes(OFFICER.username) && found[0].includes(ADMIN.username), `the disabling is in the trail: ${found}`);
  await ctx.axe(page, "audit");
  await ctx.screenshot(page, "console-admin-audit");
  const [auditFile] = await Promise.all([page.waitForEvent("download"), page.getByTestId("audit-export").click()]);
  ctx.check(/^waypoint-audit-.*\.csv$/.test(auditFile.suggestedFilename()), `audit export file: ${auditFile.suggestedFilename()}`);

  // --- Exports: download one, see it in the trail ------------------------------------------------
  await open(page, ctx, "#/admin/exports", "export-form");
  await ctx.axe(page, "exports");
  await ctx.screenshot(page, "console-admin-exports");
  await tabTo(ctx, page, "export-download");
  const [file] = await Promise.all([page.waitForEvent("download"), page.keyboard.press("Enter")]);
  const name = file.suggestedFilename();
  ctx.check(/^waypoint-encounters-.*\.csv$/.test(name), `export file name: ${name}`);
  const csv = readFileSync(await file.path(), "utf8");
  ctx.check(csv.startsWith("encounter_id,version,officer_id"), `the CSV header: ${csv.slice(0, 80)}`);
  await page.getByTestId("export-status").filter({ hasText: "Downloaded" }).waitFor();
  const trail = await ctx.api("GET", "/v1/admin/audit?action=export", {
    headers: { cookie: (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ") },
  });
  ctx.check(trail.status === 200 && trail.json.entries.some((e) => e.actor === ADMIN.username), `the export is audited: ${trail.status}`);
}
