// The outcome dashboard against a real server: a real device core files a known set of reports,
// a supervisor approves some over the API, and the sergeant's dashboard must show the figures
// those reports make (counted here from what was filed, not from the server): approved only, then
// with the reports awaiting review, then for one officer. The CSV download must match the table;
// the trend chart must draw; axe-core in the light and dark themes; screenshots, also as printed.
// Then history from an older records system is imported with the server's own command, and the
// Source choice must count it alone, the devices' reports alone, and both; a square of the map
// must narrow the figures to its calls.
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { newDevice } from "./device.mjs";

const SERGEANT = { username: "sgt.reyes", password: "sergeant passphrase 1", officerId: "B-0042" };
const APPROVER = { username: "sgt.okafor", password: "approver passphrase 1", officerId: "B-0043" };
const ANALYST = { username: "analyst.li", password: "analyst passphrase 1" };
const OFFICERS = [
  { username: "ofc.diaz", password: "officer passphrase 1", officerId: "B-1207" },
  { username: "ofc.park", password: "officer passphrase 2", officerId: "B-1311" },
];

/** The reports filed: who files, whether it is approved, and what it says. */
const HOUR = 3600 * 1000;
const now = Date.now();
const REPORTS = [
  { by: 0, approve: true, at: now - 2 * HOUR, force: true, arrest: true, minutes: 40, name: "Lee Chen" },
  { by: 0, approve: true, at: now - 26 * HOUR, force: false, arrest: false, minutes: 25, name: "lee chen" },
  { by: 0, approve: true, at: now - 50 * HOUR, force: false, arrest: false, minutes: 90, name: "Sam Ortiz" },
  { by: 1, approve: true, at: now - 74 * HOUR, force: true, arrest: false, minutes: 15, name: null },
  { by: 1, approve: false, at: now - 98 * HOUR, force: true, arrest: true, minutes: 60, name: "Ana Diaz" },
  { by: 1, approve: false, at: now - 122 * HOUR, force: false, arrest: false, minutes: null, name: "Jo Park" },
  { by: 0, approve: false, at: now - 146 * HOUR, force: false, arrest: true, minutes: 30, name: null },
];

function expected(reports) {
  return {
    calls: reports.length,
    force_used: reports.filter((r) => r.force).length,
    arrests: reports.filter((r) => r.arrest).length,
    repeat_contacts: reports.filter((r) => r.name && reports.some((o) => o !== r && o.name && o.name.toLowerCase() === r.name.toLowerCase() && o.at < r.at)).length,
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

async function figure(page, key) {
  return (await page.getByTestId(`figure-${key}-current`).innerText()).trim();
}

/** Five older reports in the RMS extract form of `tests/history/rms-mapping.json`, this month. */
const HISTORY = [
  { days: 5, force: "1", disposition: "ARREST" },
  { days: 6, force: "0", disposition: "TRANS-CRISIS" },
  { days: 7, force: "1", disposition: "RESOLVED" },
  { days: 8, force: "0", disposition: "EDO" },
  { days: 9, force: "0", disposition: "ARREST" },
];

function historyCsv() {
  const header =
    "Incident No,Call Time,Badge,Call Source,Behaviours,Disposition,Weapon,CIT Dispatched,CIT Arrived,Force,Subject Injured,Minutes On Scene,Diverted,Subject,Lat,Lon,Notes";
  const lines = HISTORY.map((h, n) => {
    const at = new Date(now - h.days * 24 * HOUR);
    const two = (v) => String(v).padStart(2, "0");
    const when = `${two(at.getUTCMonth() + 1)}/${two(at.getUTCDate())}/${at.getUTCFullYear()} 12:00`;
    return `RMS-${n},${when},B-1207,911,SUICIDAL,${h.disposition},NONE,Y,Y,${h.force},N,30,N,,,,old note ${n}`;
  });
  return [header, ...lines, ""].join("\n");
}

async function show(page, include, officer = "", source = "all") {
  await page.getByTestId("outcome-include").selectOption(include);
  await page.getByTestId("outcome-source").selectOption(source);
  await page.getByTestId("outcome-officer").fill(officer);
  // The answer to this request, not the page's first load (which may still be on its way).
  const answered = page.waitForResponse((r) => {
    const url = new URL(r.url());
    return (
      url.pathname === "/v1/outcomes" &&
      r.request().method() === "GET" &&
      url.searchParams.get("include") === include &&
      url.searchParams.get("source") === source &&
      (url.searchParams.get("officer") ?? "") === officer
    );
  });
  await page.getByTestId("outcome-apply").click();
  await answered;
  // Laid out once the newest load has settled (an older answer never replaces it).
  await page.locator('[data-testid="outcomes"][aria-busy="false"]').waitFor();
  await page.getByTestId("outcome-period").waitFor();
}

async function figuresAre(ctx, page, want, what) {
  for (const [key, value] of Object.entries(want)) {
    const shown = await figure(page, key);
    ctx.check(shown === String(value), `${what}: ${key} shows ${shown}, the filed reports make ${value}`);
  }
}

export async function run(ctx) {
  const { server } = ctx;
  server.addUser(SERGEANT.username, "supervisor", SERGEANT.password, SERGEANT.officerId);
  server.addUser(APPROVER.username, "supervisor", APPROVER.password, APPROVER.officerId);
  server.addUser(ANALYST.username, "analyst", ANALYST.password);
  for (const officer of OFFICERS) server.addUser(officer.username, "officer", officer.password, officer.officerId);

  const devices = OFFICERS.map((officer) => {
    const device = newDevice(officer.officerId);
    device.enrol(server);
    device.signIn(officer.username, officer.password);
    return device;
  });
  const work = mkdtempSync(join(tmpdir(), "waypoint-outcomes-"));
  const filed = [];
  try {
    for (const [n, report] of REPORTS.entries()) {
      const fields = {
        occurred_at: new Date(report.at).toISOString(),
        call: { call_type: "911", nature_of_call: "welfare check" },
        crisis_natures: ["unknown"],
        behaviours: ["suicide_threat"],
        dispositions: report.arrest ? ["arrested"] : ["transport_crisis_centre"],
        diversion: { custody_diverted: !report.arrest, offences_considered: [] },
        response: { reportable_force: report.force, minutes_on_scene: report.minutes, cit_officer_dispatched: true, cit_officer_arrived: true },
        subject: { name: report.name },
        location: { lat: 39.7392, lon: -104.9903, source: "manual", address: "Colfax Ave" },
        narrative: `Report ${n}: the subject was calm by the end.`,
      };
      const path = join(work, `report-${n}.json`);
      // The device merges these into its draft, one level deep.
      writeFileSync(path, JSON.stringify(fields));
      filed.push({ ...report, id: devices[report.by].run("file", "--json", path).id });
    }
    for (const [by, device] of devices.entries()) {
      const pushed = device.sync();
      const mine = filed.filter((r) => r.by === by).length;
      ctx.check(pushed.report.stored === mine && pushed.report.rejected === 0, `device ${by} pushed its ${mine}: ${JSON.stringify(pushed.report)}`);
    }
    const approver = await apiSession(ctx, APPROVER);
    for (const report of filed.filter((r) => r.approve)) {
      const decided = await ctx.api("POST", "/v1/reviews", { bearer: approver, body: { encounter_id: report.id, version: 1, decision: "approved" } });
      ctx.check(decided.status === 200, `approved ${report.id}: ${decided.status} ${decided.text}`);
    }

    const page = await ctx.newPage();
    await ctx.signIn(page, SERGEANT.username, SERGEANT.password);
    await page.goto(`${ctx.baseUrl}/console/#/outcomes`);
    await page.getByTestId("outcome-figures").waitFor();
    await figuresAre(ctx, page, expected(filed.filter((r) => r.approve)), "approved only");
    await show(page, "approved_and_submitted");
    await figuresAre(ctx, page, expected(filed), "approved and awaiting review");
    await show(page, "approved_and_submitted", OFFICERS[1].officerId);
    await figuresAre(ctx, page, expected(filed.filter((r) => r.by === 1)), `officer ${OFFICERS[1].officerId}`);
    await show(page, "approved_and_submitted");

    // The definition is written next to the figure.
    const calls = await page.getByTestId("figure-calls").innerText();
    ctx.check(/latest version/.test(calls) && /Returned reports are left out/.test(calls), `the calls figure says what counts: ${calls}`);

    // The trend chart draws (Chart.js on a canvas: some pixels are not blank).
    const canvas = page.getByTestId("outcome-trend-chart");
    await canvas.waitFor();
    await page.waitForFunction(() => {
      const c = document.querySelector('[data-testid="outcome-trend-chart"]');
      if (!(c instanceof HTMLCanvasElement) || c.width === 0) return false;
      const pixels = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return true;
      return false;
    });
    ctx.check(true, "the trend chart is drawn");
    const trendRows = await page.getByTestId("outcome-trend-table").locator("tbody tr").count();
    ctx.check(trendRows >= 1, `the trend table has its weeks: ${trendRows}`);
    ctx.check(await page.getByTestId("outcome-map").isVisible(), "the map of squares is drawn (7 calls in one square)");
    const hours = await page.getByTestId("outcome-hours").locator("tbody td").allInnerTexts();
    ctx.check(hours.reduce((sum, n) => sum + Number(n), 0) === filed.length, "the day-by-hour table adds up to the calls");

    // The CSV download carries the numbers the table shows.
    const downloading = page.waitForEvent("download");
    await page.getByTestId("outcome-csv").click();
    const download = await downloading;
    const csv = readFileSync(await download.path(), "utf8");
    for (const key of ["calls", "force_used", "arrests", "repeat_contacts"]) {
      const line = csv.split("\n").find((l) => l.startsWith(`figure,${key},`));
      ctx.check(line !== undefined, `the CSV has ${key}`);
      const current = line.split(",")[4];
      ctx.check(current === (await figure(page, key)), `CSV ${key} = ${current}, the table shows ${await figure(page, key)}`);
    }

    // The de-identified rows: a line a call, no name or narrative of what was filed.
    const downloadingRows = page.waitForEvent("download");
    await page.getByTestId("outcome-rows-csv").click();
    const rowsCsv = readFileSync(await (await downloadingRows).path(), "utf8");
    const rowLines = rowsCsv.trim().split("\n");
    ctx.check(rowLines[0].startsWith("hour,state,call_type,"), "the rows CSV has its header");
    ctx.check(rowLines.length - 1 === Number(await figure(page, "calls")), `a row a call: ${rowLines.length - 1}`);
    const names = filed.map((f) => f.name).filter(Boolean);
    ctx.check(names.length > 0 && names.every((n) => !rowsCsv.includes(n)), "no subject's name in the rows");
    ctx.check(!rowsCsv.includes("the subject was calm"), "no narrative in the rows");

    // A refused period is said plainly.
    await page.getByTestId("outcome-from").fill("2026-05-01");
    await page.getByTestId("outcome-to").fill("2026-04-01");
    await page.getByTestId("outcome-apply").click();
    await page.getByTestId("outcome-error").waitFor();
    ctx.check(/after/.test(await page.getByTestId("outcome-error").innerText()), "from after to is refused with a reason");
    await page.getByTestId("outcome-from").fill("");
    await page.getByTestId("outcome-to").fill("");
    await show(page, "approved_and_submitted");

    // History from the older records system, through the server's own import command.
    const extract = join(work, "rms.csv");
    writeFileSync(extract, historyCsv());
    const mapping = fileURLToPath(new URL("../../../tests/history/rms-mapping.json", import.meta.url));
    const imported = server.cli(["import", "encounters", "--csv", extract, "--mapping", mapping]);
    ctx.check(/5 imported, 0 updated, 0 unchanged, 0 rejected/.test(imported), `the import's report: ${imported}`);
    const history = HISTORY.map((h) => ({ force: h.force === "1", arrest: h.disposition === "ARREST", name: null }));
    await show(page, "approved_and_submitted", "", "imported");
    await figuresAre(ctx, page, expected(history), "imported history only");
    ctx.check((await page.getByTestId("outcome-imported").innerText()).includes("5 imported"), "the period line says how many were imported");
    await show(page, "approved_and_submitted", "", "waypoint");
    await figuresAre(ctx, page, expected(filed), "Waypoint reports only");
    await show(page, "approved_and_submitted", "", "all");
    await figuresAre(ctx, page, { calls: filed.length + history.length, force_used: expected(filed).force_used + expected(history).force_used }, "both");

    // A square of the map narrows the figures to its area: the filed reports are all in it, the
    // imported history has no location.
    const narrowed = page.waitForResponse((r) => new URL(r.url()).pathname === "/v1/outcomes" && new URL(r.url()).searchParams.has("area"));
    await page.getByTestId("outcome-map-square").first().click();
    await narrowed;
    await page.getByTestId("outcome-area").waitFor();
    await figuresAre(ctx, page, expected(filed), "one square of the map");
    const widened = page.waitForResponse((r) => new URL(r.url()).pathname === "/v1/outcomes" && !new URL(r.url()).searchParams.has("area"));
    await page.getByTestId("outcome-area-clear").click();
    await widened;
    await page.getByTestId("outcome-area").waitFor({ state: "detached" });
    await figuresAre(ctx, page, { calls: filed.length + history.length }, "the whole map again");

    await ctx.axe(page, "outcomes");
    await ctx.screenshot(page, "console-outcomes");
    await page.getByRole("button", { name: /Switch to dark theme/ }).click();
    await ctx.axe(page, "outcomes (dark)");
    await ctx.screenshot(page, "console-outcomes-dark");
    await page.getByRole("button", { name: /Switch to light theme/ }).click();
    await page.emulateMedia({ media: "print" });
    ctx.check(!(await page.getByTestId("outcome-filters").isVisible()), "the printed page leaves out the filters");
    await ctx.screenshot(page, "console-outcomes-print");
    await page.emulateMedia({ media: "screen" });

    // An analyst: the figures, and no other page; no name anywhere on what the analyst is shown.
    const analystPage = await ctx.newPage();
    await ctx.signIn(analystPage, ANALYST.username, ANALYST.password);
    const nav = await analystPage.getByTestId("console-nav").innerText();
    ctx.check(nav.includes("Outcomes") && !nav.includes("Review desk") && !nav.includes("Users"), `the analyst's navigation: ${nav}`);
    await analystPage.goto(`${ctx.baseUrl}/console/#/outcomes`);
    await analystPage.getByTestId("outcome-figures").waitFor();
    // Approved only: the approved reports and the imported history (which counts as approved).
    const approved = filed.filter((r) => r.approve);
    await figuresAre(ctx, analystPage, { calls: approved.length + HISTORY.length }, "the analyst's figures");
    const shown = await analystPage.locator("body").innerText();
    ctx.check(!shown.includes("Lee Chen") && !shown.includes("Sam Ortiz") && !/Report \d+:/.test(shown), "no name or narrative on the analyst's page");
    await ctx.axe(analystPage, "outcomes (analyst)");
    await analystPage.goto(`${ctx.baseUrl}/console/#/review`);
    await analystPage.getByTestId("not-allowed").waitFor();
    ctx.check(true, "the review desk is not for an analyst");

    // An officer's session cannot read the figures.
    const officer = await ctx.api("POST", "/v1/login", { body: { username: OFFICERS[0].username, password: OFFICERS[0].password } });
    const refused = await ctx.api("GET", "/v1/outcomes", { bearer: officer.json.session_token });
    ctx.check(refused.status === 403, `an officer is refused the figures: ${refused.status}`);
  } finally {
    for (const device of devices) device.remove();
  }
}
