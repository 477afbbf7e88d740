// The agency configuration and the directory's local facts in the console, against a real server
// and a real device core: the admin relabels a code and saves (the new version in the history);
// removing a code a stored report uses is refused with the list of reports, then saved with a
// mapping; the device takes the new version and reports it (the Devices page shows it); a
// service's local facts (open 24/7, an intake phone, a note) are refused beside the field when
// wrong, then saved and shown; the device policy is refused beside its field when out of bounds,
// then saved and taken by the device; a capacity update is refused when out of range, then posted
// and audited; a re-import whose listing contradicts a local fact shows the conflict. axe-core on every page, screenshots to tests/artifacts/console/.
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { newDevice } from "./device.mjs";

const ADMIN = { username: "admin.rivera", password: "admin passphrase 12" };
const OFFICER = { username: "ofc.okafor", password: "officer passphrase 1", officerId: "B-3301" };
const HSDS_EXAMPLE = fileURLToPath(new URL("../../../tests/data/hsds-3.0/examples/csv", import.meta.url));

async function open(page, ctx, hash, testid) {
  await page.goto(`${ctx.baseUrl}/console/${hash}`);
  await page.getByTestId(testid).waitFor();
}

async function cookieHeader(page) {
  return (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
}

export async function run(ctx) {
  const { server } = ctx;
  server.addUser(ADMIN.username, "admin", ADMIN.password);
  server.addUser(OFFICER.username, "officer", OFFICER.password, OFFICER.officerId);

  // A report filed with call type `text` is stored on the server.
  const device = newDevice(OFFICER.officerId);
  const hsds = mkdtempSync(join(tmpdir(), "waypoint-hsds-"));
  try {
    device.enrol(server);
    device.signIn(OFFICER.username, OFFICER.password);
    const filed = device.run("file", "--narrative", "Caller texted 911 from the bus shelter; walked to the crisis centre.", "--call-type", "text");
    const pushed = device.sync();
    ctx.check(pushed.report.stored === 1, `the device pushed its report: ${JSON.stringify(pushed.report)}`);
    ctx.check(device.run("status").config_version === 1, "the device starts on configuration version 1");

    const page = await ctx.newPage();
    await ctx.signIn(page, ADMIN.username, ADMIN.password);

    // --- Relabel a code and save: version 2 in the history -------------------------------------
    await open(page, ctx, "#/admin/config", "config-page");
    ctx.check((await page.getByTestId("config-version").innerText()).trim() === "1", "version 1 is in force");
    ctx.check(await page.getByTestId("nav-admin/config").isVisible(), "the navigation offers the configuration page");
    await ctx.axe(page, "configuration");
    const label = page.getByTestId("config-label-on_view");
    await label.fill("On-view (officer initiated)");
    await label.press("Tab");
    await page.getByTestId("config-changes").filter({ hasText: "relabelled" }).waitFor();
    await page.getByTestId("config-note").fill("clearer on-view label");
    await page.getByTestId("config-save").click();
    await page.getByTestId("config-status").filter({ hasText: "Saved as version 2" }).waitFor();
    ctx.check((await page.getByTestId("config-version").innerText()).trim() === "2", "version 2 is shown in force");
    const v2 = page.locator('[data-testid="config-version-row"][data-version="2"]');
    ctx.check((await v2.innerText()).includes(ADMIN.username) && (await v2.innerText()).includes("clearer on-view label"), `the history lists version 2: ${await v2.innerText()}`);
    ctx.check((await page.getByTestId("config-label-on_view").inputValue()) === "On-view (officer initiated)", "the saved label is shown");
    const served = await ctx.api("GET", "/v1/agency/config", { headers: { cookie: await cookieHeader(page) } });
    const onView = served.json?.config?.vocabularies?.call_types?.find((t) => t.code === "on_view");
    ctx.check(served.json?.version === 2 && onView?.label === "On-view (officer initiated)", `the server serves version 2: ${served.text.slice(0, 200)}`);

    // --- Remove a code a stored report uses: refused with the list, then saved with a mapping ---
    await page.getByTestId("config-remove-text").click();
    ctx.check((await page.getByTestId("config-term-text").count()) === 0, "the code is gone from the draft");
    await page.getByTestId("config-save").click();
    await page.getByTestId("config-codes-in-use").waitFor();
    ctx.check((await page.getByTestId("config-codes-in-use").innerText()).includes("(1 use)"), "the refusal says how many uses");
    const uses = await page.getByTestId("config-use").all();
    ctx.check(uses.length === 1 && (await uses[0].getAttribute("data-id")) === filed.id, `the report using it is listed (${filed.id})`);
    ctx.check((await uses[0].innerText()).includes("call.call_type"), `with its field: ${await uses[0].innerText()}`);
    ctx.check((await page.getByTestId("config-version").innerText()).trim() === "2", "nothing was saved");
    await ctx.axe(page, "configuration with codes in use");
    await ctx.screenshot(page, "console-config-codes-in-use");
    await page.locator('[data-testid="config-mapping"][data-code="text"]').getByTestId("config-mapping-select").selectOption("911");
    await page.getByTestId("config-save").click();
    await page.getByTestId("config-status").filter({ hasText: "Saved as version 3" }).waitFor();
    const v3 = page.locator('[data-testid="config-version-row"][data-version="3"]');
    ctx.check((await v3.getByTestId("config-version-mapping").innerText()).includes("call_types.text → 911"), `version 3 carries the mapping: ${await v3.innerText()}`);
    ctx.check((await page.getByTestId("config-term-text").count()) === 0, "the removed code is not offered");
    ctx.check(!(await page.getByTestId("config-error").isVisible().catch(() => false)), "no error is left on the page");
    await ctx.axe(page, "configuration saved");
    await ctx.screenshot(page, "console-config");

    // --- The device takes it and reports it; the Devices page shows the version -----------------
    device.sync();
    ctx.check(device.run("status").config_version === 3, "the device took version 3 from its pull feed");
    device.sync(); // reports the version it now uses
    await open(page, ctx, "#/admin/devices", "devices-table");
    const configCells = await page.locator('[data-testid^="device-config-"]').allInnerTexts();
    ctx.check(configCells.length === 1 && configCells[0].trim() === "version 3", `the device's configuration version is shown: ${configCells}`);
    await ctx.axe(page, "devices with configuration versions");

    // --- The device policy: refused beside its field when out of bounds, then delivered --------
    await open(page, ctx, "#/admin/config", "config-policy");
    const autoLock = page.getByTestId("policy-auto_lock_minutes");
    ctx.check((await autoLock.inputValue()) === "15", `the default auto-lock is 15 minutes: ${await autoLock.inputValue()}`);
    await autoLock.fill("45");
    await autoLock.press("Tab");
    await page.getByTestId("config-policy-change-auto_lock_minutes").waitFor();
    await page.getByTestId("config-save").click();
    await page.getByTestId("policy-error-auto_lock_minutes").waitFor();
    const lockError = await page.getByTestId("policy-error-auto_lock_minutes").innerText();
    ctx.check(lockError.includes("1 to 30 minutes"), `a 45-minute lock is refused beside its field: ${lockError}`);
    ctx.check((await autoLock.getAttribute("aria-invalid")) === "true", "the field is marked invalid");
    ctx.check((await page.getByTestId("config-version").innerText()).trim() === "3", "nothing was saved");
    await ctx.axe(page, "configuration with a policy refused");
    await autoLock.fill("5");
    await autoLock.press("Tab");
    await page.getByTestId("policy-secret_kind").selectOption("pin");
    const minLength = page.getByTestId("policy-secret_min_length");
    await minLength.fill("8");
    await minLength.press("Tab");
    await page.getByTestId("config-note").fill("CJIS: 5-minute lock, 8-digit PIN");
    await page.getByTestId("config-save").click();
    await page.getByTestId("config-status").filter({ hasText: "Saved as version 4" }).waitFor();
    ctx.check(!(await page.getByTestId("policy-error-auto_lock_minutes").isVisible().catch(() => false)), "the field error is gone");
    await ctx.screenshot(page, "console-config-policy");
    device.sync();
    const policy = device.run("policy");
    ctx.check(policy.auto_lock_minutes === 5 && policy.secret_kind === "pin" && policy.secret_min_length === 8, `the device took the policy: ${JSON.stringify(policy)}`);

    // --- Directory local facts: refused beside the field, then saved and shown -------------------
    cpSync(HSDS_EXAMPLE, hsds, { recursive: true });
    server.cli(["directory", "import", "--hsds", hsds]);
    await open(page, ctx, "#/admin/directory", "directory-page");
    await page.getByTestId("directory-import").first().waitFor();
    ctx.check((await page.getByTestId("directory-import").count()) === 1, "the import is listed");
    await page.getByTestId("directory-query").fill("counselling");
    await page.getByTestId("directory-search").click();
    const result = page.getByTestId("directory-result").first();
    await result.waitFor();
    await result.getByTestId("directory-pick").click();
    await page.getByTestId("facts-editor").waitFor();
    await page.getByTestId("facts-hours-always_open").check();
    await page.getByTestId("facts-dropoffs-yes").check();
    await page.getByTestId("facts-phone").fill("call the desk");
    await page.getByTestId("facts-note").fill("Use the ambulance bay; call ahead.");
    await page.getByTestId("facts-save").click();
    await page.getByTestId("facts-error-intake_phone").waitFor();
    ctx.check((await page.getByTestId("facts-error-intake_phone").innerText()).includes("phone"), "a bad phone is refused beside its field");
    ctx.check((await page.getByTestId("directory-local").count()) === 0, "nothing was saved");
    await page.getByTestId("facts-phone").fill("+1 (303) 555-0142");
    await page.getByTestId("facts-save").click();
    await page.getByTestId("facts-notice").waitFor();
    ctx.check(!(await page.getByTestId("facts-error-intake_phone").isVisible().catch(() => false)), "the field error is gone");
    const local = page.getByTestId("directory-local").first();
    await local.waitFor();
    const localText = await local.innerText();
    ctx.check(localText.includes("open 24/7") && localText.includes("+1 (303) 555-0142"), `the local facts are shown: ${localText}`);
    await page.getByTestId("facts-updated").filter({ hasText: ADMIN.username }).waitFor();
    const stored = await ctx.api("GET", "/v1/admin/directory/services?q=counselling", { headers: { cookie: await cookieHeader(page) } });
    const facts = stored.json?.[0]?.local?.facts;
    ctx.check(facts?.hours?.kind === "always_open" && facts?.accepts_dropoffs === true && facts?.intake_phone === "+1 (303) 555-0142", `the server holds them: ${stored.text.slice(0, 300)}`);
    await ctx.axe(page, "directory with local facts");
    await ctx.screenshot(page, "console-directory");
    const serviceId = stored.json?.[0]?.service_id;

    // --- A capacity update: refused beside the form when out of range, then posted and audited ---
    await page.getByTestId("capacity-form").waitFor();
    await page.getByTestId("capacity-available").fill("9");
    await page.getByTestId("capacity-maximum").fill("4");
    await page.getByTestId("capacity-post").click();
    await page.getByTestId("capacity-error").waitFor();
    const capacityError = await page.getByTestId("capacity-error").innerText();
    ctx.check(capacityError.includes("between 0 and maximum"), `9 free of 4 is refused: ${capacityError}`);
    await page.getByTestId("capacity-available").fill("3");
    await page.getByTestId("capacity-maximum").fill("12");
    await page.getByTestId("capacity-post").click();
    await page.getByTestId("capacity-notice").waitFor();
    ctx.check((await page.getByTestId("capacity-notice").innerText()).includes("3 beds free"), "the posted capacity is confirmed");
    ctx.check(!(await page.getByTestId("capacity-error").isVisible().catch(() => false)), "the refusal is gone");
    const trail = await ctx.api("GET", "/v1/admin/audit?action=capacity_update&limit=10", { headers: { cookie: await cookieHeader(page) } });
    const posted = (trail.json?.entries ?? []).filter((e) => e.outcome === "ok" && e.actor === ADMIN.username);
    ctx.check(posted.length === 1 && posted[0].target === `service ${serviceId}` && posted[0].detail.includes("available 3 of Some(12)"), `the capacity update is audited once: ${trail.text.slice(0, 400)}`);

    // --- Conflicts: a re-import whose listing says "no drop-offs" against the local "yes" --------
    ctx.check((await page.getByTestId("directory-no-conflicts").count()) === 1, "no conflict before the re-import");
    const listedId = readFileSync(join(hsds, "services.csv"), "utf8").split("\n")[1].split(",")[0];
    appendFileSync(join(hsds, "taxonomy_terms.csv"), "dropoff-term-1,law_enforcement_dropoff,takes law-enforcement drop-offs,,,,,,\n");
    appendFileSync(join(hsds, "attributes.csv"), `dropoff-attr-1,${listedId},dropoff-term-1,service,service,no\n`);
    server.cli(["directory", "import", "--hsds", hsds]);
    // The same address: a reload, so the page reads its lists again.
    await page.reload();
    await page.getByTestId("directory-page").waitFor();
    const conflict = page.getByTestId("directory-conflict");
    await conflict.first().waitFor();
    const conflictText = await conflict.first().innerText();
    ctx.check((await conflict.count()) === 1 && (await conflict.first().getAttribute("data-kind")) === "dropoffs_differ", `one conflict, about drop-offs: ${conflictText}`);
    ctx.check(conflictText.includes("Community Counselling") && conflictText.includes("does not take police drop-offs"), `it names the service and what differs: ${conflictText}`);
    ctx.check((await page.getByTestId("directory-import").count()) === 2, "both imports are listed");
    await ctx.axe(page, "directory with a conflict");
    await ctx.screenshot(page, "console-directory-conflict");
  } finally {
    device.remove();
    rmSync(hsds, { recursive: true, force: true });
  }
}
