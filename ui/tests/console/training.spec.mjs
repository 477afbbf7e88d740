// The CIT training page (#/admin/training) against a real server: the admin opens it from the
// navigation, is refused a future day and an empty course name beside their fields, records an
// officer's initial course, a refresher and a mistaken initial course, removes the mistake after a
// confirmation (cancelled once). A real device core files four reports for that officer, on days
// before and after the course, answering "CIT-certified" or not; the outcome figures
// (officer_cit_trained_pct, cit_answer_without_record, cit_record_without_answer) must follow
// each change of the records as counted here from what was filed (not from the server), and the
// dashboard must show the three figures with their definitions. axe-core in both themes; a
// screenshot with data.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newDevice } from "./device.mjs";

const ADMIN = { username: "admin.rivera", password: "admin passphrase 12" };
const APPROVER = { username: "sgt.okafor", password: "approver passphrase 1", officerId: "B-0043" };
const OFFICER = { username: "ofc.diaz", password: "officer passphrase 1", officerId: "B-1207" };
const OTHER = { username: "ofc.park", password: "officer passphrase 2", officerId: "B-1311" };

const DAY = 24 * 3600 * 1000;
const now = Date.now();
/** The UTC day `days` from today (`YYYY-MM-DD`): the server measures calls and courses in UTC days. */
const utcDay = (days) => new Date(now + days * DAY).toISOString().slice(0, 10);

/** The officer's reports: how many days ago the call was, their own CIT-certified answer, approved. */
const REPORTS = [
  { daysAgo: 25, certified: false, approve: false },
  { daysAgo: 20, certified: true, approve: true },
  { daysAgo: 2, certified: true, approve: true },
  { daysAgo: 1, certified: false, approve: false },
];

/** The three figures as the filed reports make them for an officer trained since `since` (days ago, or null). */
function expected(reports, since) {
  const trained = (r) => since !== null && r.daysAgo >= 0 && utcDay(-r.daysAgo) >= utcDay(-since);
  const pct = reports.length ? Math.round((reports.filter(trained).length * 10_000) / reports.length) / 100 : null;
  return {
    officer_cit_trained_pct: pct,
    cit_answer_without_record: reports.filter((r) => r.certified && !trained(r)).length,
    cit_record_without_answer: reports.filter((r) => !r.certified && trained(r)).length,
  };
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

/** The outcome figures as the admin's console session reads them (the page's own fetch). */
async function figures(page, include = "approved_and_submitted") {
  const report = await page.evaluate(async (path) => {
    const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    return { status: response.status, body: await response.json() };
  }, `/v1/outcomes?include=${include}`);
  if (report.status !== 200) throw new Error(`GET /v1/outcomes: ${report.status} ${JSON.stringify(report.body)}`);
  return Object.fromEntries(report.body.figures.map((f) => [f.key, f.current]));
}

async function figuresAre(ctx, page, want, what, include) {
  const got = await figures(page, include);
  for (const [key, value] of Object.entries(want)) {
    ctx.check(got[key] === value, `${what}: ${key} is ${got[key]}, the filed reports make ${value}`);
  }
}

/** Fills the form and submits it; resolves when the server has answered. */
async function submit(page, { username, kind, course, day }) {
  if (username !== undefined) await page.getByTestId("training-officer").selectOption(username);
  if (kind !== undefined) await page.getByTestId(`training-kind-${kind}`).check();
  if (course !== undefined) await page.getByTestId("training-course").fill(course);
  if (day !== undefined) await page.getByTestId("training-date").fill(day);
  const answered = page.waitForResponse((r) => r.url().endsWith("/v1/admin/training") && r.request().method() === "POST");
  await page.getByTestId("training-submit").click();
  return answered;
}

/** The id of the listed record whose course is `course`. */
async function idOf(page, course) {
  const row = page.locator('[data-testid^="training-row-"]', { hasText: course });
  await row.waitFor();
  return Number((await row.getAttribute("data-testid")).replace("training-row-", ""));
}

export async function run(ctx) {
  const { server } = ctx;
  server.addUser(ADMIN.username, "admin", ADMIN.password);
  server.addUser(APPROVER.username, "supervisor", APPROVER.password, APPROVER.officerId);
  server.addUser(OFFICER.username, "officer", OFFICER.password, OFFICER.officerId);
  server.addUser(OTHER.username, "officer", OTHER.password, OTHER.officerId);
  const device = newDevice(OFFICER.officerId);
  const work = mkdtempSync(join(tmpdir(), "waypoint-training-"));
  try {
    // --- The officer's reports: calls 25, 20, 2 and 1 days ago ------------------------------------
    device.enrol(server);
    device.signIn(OFFICER.username, OFFICER.password);
    const filed = [];
    for (const [n, report] of REPORTS.entries()) {
      const fields = {
        occurred_at: new Date(now - report.daysAgo * DAY).toISOString(),
        call: { call_type: "911", nature_of_call: "welfare check" },
        crisis_natures: ["unknown"],
        behaviours: ["suicide_threat"],
        dispositions: ["transport_crisis_centre"],
        diversion: { custody_diverted: true, offences_considered: [] },
        response: { officer_cit_certified: report.certified, cit_officer_dispatched: true, cit_officer_arrived: true, minutes_on_scene: 30 },
        location: { lat: 39.7392, lon: -104.9903, source: "manual", address: "Colfax Ave" },
        narrative: `Report ${n}: the subject was calm by the end.`,
      };
      const path = join(work, `report-${n}.json`);
      writeFileSync(path, JSON.stringify(fields));
      filed.push({ ...report, id: device.run("file", "--json", path).id });
    }
    const pushed = device.sync();
    ctx.check(pushed.report.stored === REPORTS.length && pushed.report.rejected === 0, `the device pushed its ${REPORTS.length}: ${JSON.stringify(pushed.report)}`);
    const approver = await apiSession(ctx, APPROVER);
    for (const report of filed.filter((r) => r.approve)) {
      const decided = await ctx.api("POST", "/v1/reviews", { bearer: approver, body: { encounter_id: report.id, version: 1, decision: "approved" } });
      ctx.check(decided.status === 200, `approved ${report.id}: ${decided.status} ${decided.text}`);
    }

    // --- The page, from the navigation --------------------------------------------------------------
    const page = await ctx.newPage();
    await ctx.signIn(page, ADMIN.username, ADMIN.password);
    ctx.check(await page.getByTestId("nav-admin/training").isVisible(), "the navigation offers the CIT training page");
    await page.getByTestId("nav-admin/training").click();
    await page.getByTestId("admin-training").waitFor();
    await page.getByTestId("no-training").waitFor();
    ctx.check((await page.title()).startsWith("CIT training"), `the page title: ${await page.title()}`);
    const howto = await page.getByTestId("training-howto").innerText();
    ctx.check(/on or before the day of the call/.test(howto) && /refreshers are kept here but do not change that/.test(howto), `the page says how the figures count: ${howto}`);
    ctx.check((await page.getByTestId("training-howto").getByRole("link", { name: "outcome dashboard" }).getAttribute("href")) === "#/outcomes", "it links to the outcome dashboard");
    const offered = await page.getByTestId("training-officer").locator("option").allInnerTexts();
    ctx.check(
      offered.includes(`${OFFICER.username} (officer, officer id ${OFFICER.officerId})`) &&
        offered.includes(`${APPROVER.username} (supervisor, officer id ${APPROVER.officerId})`) &&
        !offered.some((o) => o.startsWith(ADMIN.username)),
      `the picker offers officers and supervisors with their role: ${offered.join(" | ")}`,
    );
    ctx.check((await page.getByTestId(`summary-since-${OFFICER.username}`).innerText()).includes("no initial course"), "the officer has no initial course yet");
    ctx.check((await page.getByTestId("training-course").inputValue()) === "CIT 40-hour", "the course name suggests the 40-hour course");
    await ctx.axe(page, "CIT training, empty");
    await figuresAre(ctx, page, expected(REPORTS, null), "no training recorded");

    // --- Refusals beside their fields: a future day, an empty course ---------------------------------
    let answer = await submit(page, { username: OFFICER.username, day: utcDay(3) });
    ctx.check(answer.status() === 422, `a future day is refused: ${answer.status()}`);
    const dayError = page.getByTestId("training-error-completed_on");
    await dayError.waitFor();
    ctx.check(/today/.test(await dayError.innerText()), `the day's refusal says why: ${await dayError.innerText()}`);
    ctx.check((await page.getByTestId("training-date").getAttribute("aria-invalid")) === "true", "the day field is marked invalid");
    ctx.check((await page.getByTestId("training-date").getAttribute("aria-describedby")) === "training-error-completed_on", "the day field is described by its refusal");
    ctx.check((await page.getByTestId("training-course").getAttribute("aria-invalid")) === "false", "the course field is not marked");
    await ctx.axe(page, "a future day refused beside its field");

    answer = await submit(page, { course: "", day: utcDay(-10) });
    ctx.check(answer.status() === 422, `an empty course name is refused: ${answer.status()}`);
    const courseError = page.getByTestId("training-error-course");
    await courseError.waitFor();
    ctx.check((await courseError.getAttribute("data-field")) === "course", `the refusal names the course: ${await courseError.innerText()}`);
    ctx.check((await page.getByTestId("training-course").getAttribute("aria-invalid")) === "true", "the course field is marked invalid");
    ctx.check(!(await dayError.isVisible().catch(() => false)), "the day's refusal is gone");
    ctx.check((await ctx.api("GET", "/v1/admin/training", { headers: { cookie: await cookieOf(page) } })).json.length === 0, "nothing was recorded");

    // --- The initial course, ten days ago -----------------------------------------------------------
    answer = await submit(page, { course: "CIT 40-hour", day: utcDay(-10) });
    ctx.check(answer.status() === 201, `the initial course is recorded: ${answer.status()}`);
    const initialId = await idOf(page, "CIT 40-hour");
    ctx.check(!(await courseError.isVisible().catch(() => false)), "the refusal is gone after a success");
    ctx.check((await page.getByTestId("training-status").innerText()).includes(`Recorded for ${OFFICER.username}`), "the course is announced");
    ctx.check((await page.getByTestId(`training-date-${initialId}`).innerText()).trim() === utcDay(-10), "the row has the day entered");
    ctx.check((await page.getByTestId(`training-kind-${initialId}`).innerText()).includes("Initial"), "the row says initial");
    ctx.check((await page.getByTestId(`training-row-${initialId}`).innerText()).includes(`by ${ADMIN.username}`), "the row says who recorded it");
    await page.getByTestId(`summary-since-${OFFICER.username}`).filter({ hasText: `trained since ${utcDay(-10)}` }).waitFor();
    ctx.check((await page.getByTestId(`summary-since-${OTHER.username}`).innerText()).includes("no initial course"), "the other officer still has none");
    ctx.check((await page.getByTestId("training-officer").inputValue()) === OFFICER.username, "the officer stays chosen for the next course");
    await figuresAre(ctx, page, expected(REPORTS, 10), "trained ten days ago");

    // --- A refresher before the 20-days-ago call: it changes no figure ------------------------------
    await page.getByTestId("training-kind-refresher").check();
    ctx.check((await page.getByTestId("training-course").inputValue()) === "CIT refresher", "the course name follows the kind");
    answer = await submit(page, { course: "CIT refresher: de-escalation", day: utcDay(-25) });
    ctx.check(answer.status() === 201, `the refresher is recorded: ${answer.status()}`);
    const refresherId = await idOf(page, "CIT refresher: de-escalation");
    await page.getByTestId(`summary-refreshers-${OFFICER.username}`).filter({ hasText: "1" }).waitFor();
    ctx.check((await page.getByTestId(`summary-last-${OFFICER.username}`).innerText()).trim() === utcDay(-25), "the last refresher is shown");
    ctx.check((await page.getByTestId(`summary-since-${OFFICER.username}`).innerText()).includes(`trained since ${utcDay(-10)}`), "a refresher does not change trained since");
    await figuresAre(ctx, page, expected(REPORTS, 10), "a refresher before the calls, trained ten days ago");

    // --- A mistaken initial course thirty days ago: every call counts as trained ---------------------
    answer = await submit(page, { kind: "initial", course: "CIT 40-hour (wrong day)", day: utcDay(-30) });
    ctx.check(answer.status() === 201, `the mistaken course is recorded: ${answer.status()}`);
    const mistakeId = await idOf(page, "CIT 40-hour (wrong day)");
    await page.getByTestId(`summary-since-${OFFICER.username}`).filter({ hasText: `trained since ${utcDay(-30)}` }).waitFor();
    const order = await page.getByTestId("training-table").locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-testid")));
    ctx.check(
      JSON.stringify(order) === JSON.stringify([`training-row-${mistakeId}`, `training-row-${refresherId}`, `training-row-${initialId}`]),
      `the officer's courses are listed by day: ${order.join(", ")}`,
    );
    await figuresAre(ctx, page, expected(REPORTS, 30), "trained thirty days ago (by mistake)");
    await ctx.axe(page, "CIT training with records");

    // --- Remove it: cancelled once, then confirmed --------------------------------------------------
    await page.getByTestId(`remove-training-${mistakeId}`).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    const said = await dialog.innerText();
    ctx.check(/entered by mistake/.test(said) && /audit log keeps/.test(said) && said.includes(utcDay(-30)), `the confirmation says what is removed and why: ${said}`);
    await ctx.axe(page, "remove confirmation");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });
    ctx.check(await page.getByTestId(`training-row-${mistakeId}`).isVisible(), "cancelled: the record is still listed");
    const kept = await ctx.api("GET", `/v1/admin/training?username=${OFFICER.username}`, { headers: { cookie: await cookieOf(page) } });
    ctx.check(kept.json.some((r) => r.id === mistakeId), "cancelled: the server still has it");

    await page.getByTestId(`remove-training-${mistakeId}`).click();
    await page.getByTestId("confirm-remove-training").click();
    await page.getByTestId("training-status").filter({ hasText: "Removed" }).waitFor();
    await page.getByTestId(`training-row-${mistakeId}`).waitFor({ state: "detached" });
    await page.getByTestId(`summary-since-${OFFICER.username}`).filter({ hasText: `trained since ${utcDay(-10)}` }).waitFor();
    const left = await ctx.api("GET", "/v1/admin/training", { headers: { cookie: await cookieOf(page) } });
    ctx.check(left.json.length === 2 && !left.json.some((r) => r.id === mistakeId), `the server has the two others: ${left.text}`);
    const audit = await ctx.api("GET", "/v1/admin/audit?action=training_removed", { headers: { cookie: await cookieOf(page) } });
    ctx.check(audit.status === 200 && audit.text.includes("CIT 40-hour (wrong day)"), `the audit log keeps what the removed record said: ${audit.status}`);
    await ctx.screenshot(page, "console-training");
    await figuresAre(ctx, page, expected(REPORTS, 10), "the mistake removed: trained ten days ago");
    await figuresAre(ctx, page, expected(REPORTS.filter((r) => r.approve), 10), "approved reports only", "approved");

    // One officer's courses, through the server's filter.
    await page.getByTestId("training-filter").selectOption(OTHER.username);
    await page.getByTestId("no-training").filter({ hasText: `No course is recorded for ${OTHER.username}` }).waitFor();
    await page.getByTestId("training-filter").selectOption(OFFICER.username);
    await page.getByTestId(`training-row-${initialId}`).waitFor();

    await page.getByRole("button", { name: /Switch to dark theme/ }).click();
    await ctx.axe(page, "CIT training, dark theme");
    await page.getByRole("button", { name: /Switch to light theme/ }).click();

    // --- The dashboard shows the three figures with their definitions --------------------------------
    await page.getByTestId("training-howto").getByRole("link", { name: "outcome dashboard" }).click();
    await page.getByTestId("outcome-figures").waitFor();
    await page.getByTestId("outcome-include").selectOption("approved_and_submitted");
    // The answer to this request, not the page's first load (approved only, maybe still on its way).
    const read = page.waitForResponse((r) => {
      const url = new URL(r.url());
      return url.pathname === "/v1/outcomes" && url.searchParams.get("include") === "approved_and_submitted";
    });
    await page.getByTestId("outcome-apply").click();
    await read;
    await page.locator('[data-testid="outcomes"][aria-busy="false"]').waitFor();
    await page.getByTestId("outcome-period").filter({ hasText: "awaiting review" }).waitFor();
    const want = expected(REPORTS, 10);
    const definitions = {
      officer_cit_trained_pct: /initial CIT course on or before the day of the call/,
      cit_answer_without_record: /answered that they are CIT-certified/,
      cit_record_without_answer: /did not answer that they are CIT-certified/,
    };
    for (const [key, definition] of Object.entries(definitions)) {
      const row = await page.getByTestId(`figure-${key}`).innerText();
      ctx.check(definition.test(row), `the dashboard defines ${key}: ${row}`);
      const shown = (await page.getByTestId(`figure-${key}-current`).innerText()).trim();
      const value = key.endsWith("_pct") ? `${want[key]} %` : String(want[key]);
      ctx.check(shown === value, `the dashboard shows ${key} = ${shown}, the filed reports make ${value}`);
    }
    await ctx.axe(page, "outcomes with the training figures");
    await page.context().close();
  } finally {
    device.remove();
    rmSync(work, { recursive: true, force: true });
  }
}

/** The page's session cookie, for a request beside the browser. */
async function cookieOf(page) {
  return (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
}
