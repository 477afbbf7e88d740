// Browser check: serves the built UI (ui/dist) with the in-memory demo backend on 127.0.0.1 and
// drives Debian's Chromium through setup -> new encounter -> fill -> submit at three screen sizes.
// Screenshots go to ui/test-artifacts/. Never downloads a browser.
import assert from "node:assert/strict";
import { createReadStream, existsSync, mkdirSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const uiDir = fileURLToPath(new URL("../..", import.meta.url));
const distDir = join(uiDir, "dist");
const artifacts = join(uiDir, "test-artifacts");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const VIEWPORTS = [
  { width: 1280, height: 800 },
  { width: 1024, height: 768 },
  { width: 800, height: 1280 },
];

if (!existsSync(join(distDir, "index.html"))) throw new Error("ui/dist is missing: run `npm run build` first");
mkdirSync(artifacts, { recursive: true });

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".svg": "image/svg+xml", ".png": "image/png" };
const server = createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
  let file = join(distDir, path);
  if (!file.startsWith(distDir) || !existsSync(file) || statSync(file).isDirectory()) file = join(distDir, "index.html");
  res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
  createReadStream(file).pipe(res);
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
    // Belt and braces with the routes below: no name but 127.0.0.1 resolves, so nothing can reach the internet.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
  ],
});

let checks = 0;
const check = (condition, message) => {
  assert.ok(condition, message);
  checks += 1;
};

async function noHorizontalOverflow(page, where) {
  const sizes = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  check(sizes.scroll <= sizes.client, `${where}: page is ${sizes.scroll}px wide in a ${sizes.client}px window (horizontal overflow)`);
}

async function inViewport(page, locator, what) {
  const box = await locator.boundingBox();
  const view = page.viewportSize();
  check(box && box.y >= 0 && box.y + box.height <= view.height && box.x >= 0 && box.x + box.width <= view.width, `${what} is not fully on screen: ${JSON.stringify(box)}`);
  await locator.click({ trial: true }); // throws if something covers it
}

/** A touch target: at least 44 px each way (the app's buttons are 48). */
async function bigEnough(locator, what) {
  const box = await locator.boundingBox();
  check(box && box.height >= 44 && box.width >= 44, `${what} is too small to tap: ${JSON.stringify(box)}`);
}

/** Keyboard focus is visible: the focused element has an outline. */
async function focusVisible(page, what) {
  const style = await page.evaluate(() => {
    const el = document.activeElement;
    const css = el && getComputedStyle(el);
    return el && { visible: el.matches(":focus-visible"), outline: css.outlineStyle, width: parseFloat(css.outlineWidth) };
  });
  check(style && style.visible && style.outline !== "none" && style.width >= 2, `${what}: no visible focus (${JSON.stringify(style)})`);
}

async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`) });
}

const tid = (page, id) => page.getByTestId(id);

async function run({ width, height }, index) {
  const size = `${width}x${height}`;
  const context = await browser.newContext({ viewport: { width, height }, colorScheme: "light" });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(`${base}/?demo`);

  // --- setup (first run) ---
  await tid(page, "officer-id").fill("B-4711");
  await tid(page, "passphrase").fill("246810");
  await tid(page, "passphrase-confirm").fill("246810");
  await shot(page, `${size}-1-setup-light`);
  await tid(page, "unlock-submit").click();
  await tid(page, "encounter-list").waitFor();

  if (index === 0) {
    // Wrong PIN: clear error, still locked; right PIN unlocks.
    await tid(page, "lock-button").click();
    await tid(page, "passphrase").fill("000000");
    await tid(page, "unlock-submit").click();
    await tid(page, "unlock-error").waitFor();
    check((await tid(page, "unlock-error").innerText()).includes("Wrong PIN"), "wrong PIN message");
    check((await tid(page, "new-encounter").count()) === 0, "store stays locked after a wrong PIN");
    await shot(page, `${size}-1b-unlock-error-light`);
    await tid(page, "passphrase").fill("246810");
    await tid(page, "unlock-submit").click();
    await tid(page, "encounter-list").waitFor();
  }

  // --- list with sample reports ---
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="encounter-row"]').length >= 3);
  const badges = await tid(page, "status-badge").allInnerTexts();
  for (const status of ["approved", "returned", "submitted"]) check(badges.includes(status), `list shows a ${status} badge (got ${badges})`);
  check((await page.getByText("amended v2").count()) === 1, "amended v2 chip");
  check((await tid(page, "review-comment").count()) === 1, "returned report shows the supervisor's comment");
  await noHorizontalOverflow(page, `${size} list`);
  await shot(page, `${size}-2-list-light`);

  // --- new encounter, fill ---
  await tid(page, "new-encounter").click();
  await tid(page, "field-incident_number").waitFor();
  await tid(page, "field-incident_number").fill(`24-12${index}001`);
  await tid(page, "field-call.nature_of_call").fill("Caller reports brother threatening self-harm");
  await tid(page, "field-location.address").fill("18 Harbour View Rd");
  await tid(page, "field-crisis_natures-unknown").check();
  await tid(page, "field-behaviours-suicide_threat").check();
  await tid(page, "field-behaviours-hopeless_depressed").check();
  await tid(page, "field-response.verbal_deescalation").check();
  await tid(page, "field-response.minutes_on_scene").fill("45");
  await tid(page, "field-dispositions-referral_made").check();
  await tid(page, "field-diversion.custody_diverted").selectOption("yes");
  await tid(page, "field-narrative").fill("Spoke with subject for 40 minutes; agreed to a referral to the county crisis line.");
  await page.waitForFunction(() => document.querySelector('[data-testid="save-status"]')?.textContent?.startsWith("Saved"));
  await noHorizontalOverflow(page, `${size} form`);
  await inViewport(page, tid(page, "submit-encounter"), `${size} submit button`);
  await page.screenshot({ path: join(artifacts, `${size}-3-form-full-light.png`), fullPage: true });

  // --- submit with a required field missing: the error appears beside the field, draft kept ---
  await tid(page, "submit-encounter").click();
  await tid(page, "confirm-submit").waitFor();
  await inViewport(page, tid(page, "confirm-submit"), `${size} confirm button`);
  await shot(page, `${size}-4-confirm-light`);
  if (index === 0) {
    await page.keyboard.press("Escape");
    await tid(page, "confirm-submit").waitFor({ state: "detached" });
    await page.keyboard.press("Control+Enter");
    await tid(page, "confirm-submit").waitFor();
  }
  await tid(page, "confirm-submit").click();
  await tid(page, "field-error-call.call_type").waitFor();
  const errorInField = await page.locator('[data-field="call.call_type"] [data-testid="field-error-call.call_type"]').count();
  check(errorInField === 1, "the call-type error is shown inside the call-type field");
  check((await tid(page, "field-narrative").inputValue()).startsWith("Spoke with subject"), "draft kept after a rejected submit");
  await shot(page, `${size}-5-field-error-light`);

  // --- complete and submit ---
  await tid(page, "field-call.call_type").selectOption("911");
  if (index === 0) {
    await page.keyboard.press("Control+s");
    await page.waitForFunction(() => document.querySelector('[data-testid="save-status"]')?.textContent?.startsWith("Saved"));
  }
  // Dark mode from here on.
  await tid(page, "theme-toggle").click();
  check((await page.evaluate(() => document.documentElement.dataset.theme)) === "dark", "night mode on");
  await inViewport(page, tid(page, "submit-encounter"), `${size} submit button (dark)`);
  await shot(page, `${size}-6-form-dark`);
  await tid(page, "submit-encounter").click();
  await tid(page, "confirm-submit").click();
  await tid(page, "encounter-detail").waitFor();
  check((await tid(page, "detail-status").innerText()) === "submitted", "detail shows the submitted report");
  await noHorizontalOverflow(page, `${size} detail`);
  await shot(page, `${size}-7-detail-dark`);

  // --- amend: a new draft version; the list shows it amended ---
  await tid(page, "amend-encounter").click();
  await tid(page, "field-narrative").waitFor();
  await tid(page, "field-narrative").fill("Amended: referral accepted next morning.");
  await tid(page, "nav-encounters").click();
  await tid(page, "encounter-list").waitFor();
  const top = tid(page, "encounter-row").first();
  check((await top.getByTestId("status-badge").innerText()) === "draft", "amended draft heads the list");
  check((await top.innerText()).includes("amended v2"), "amended draft shows amended v2");
  // What was typed just before leaving the form was saved on the way out.
  await top.click();
  await tid(page, "field-narrative").waitFor();
  check((await tid(page, "field-narrative").inputValue()) === "Amended: referral accepted next morning.", "text typed before leaving the form was saved");
  await tid(page, "nav-encounters").click();
  await tid(page, "encounter-list").waitFor();
  await noHorizontalOverflow(page, `${size} list (dark)`);
  await shot(page, `${size}-8-list-dark`);

  // --- settings: change the PIN (errors beside their field), verify the audit log ---
  await tid(page, "nav-settings").click();
  await tid(page, "settings-screen").waitFor();
  await tid(page, "pin-current").fill("000000");
  await tid(page, "pin-new").fill("135790");
  await tid(page, "pin-confirm").fill("135790");
  await tid(page, "change-pin-submit").click();
  await tid(page, "field-error-current_passphrase").waitFor();
  const besideCurrent = await page.locator('[data-field="current_passphrase"] [data-testid="field-error-current_passphrase"]').count();
  check(besideCurrent === 1, `${size}: a wrong current PIN is shown beside the current PIN`);
  await tid(page, "pin-current").fill("246810");
  await tid(page, "change-pin-submit").click();
  await tid(page, "change-pin-done").waitFor();
  await tid(page, "audit-verify").click();
  await tid(page, "audit-result").waitFor();
  const audit = await tid(page, "audit-result").innerText();
  check(/^Intact, \d+ entries\.$/.test(audit), `${size}: the audit check says it is intact (${audit})`);
  await noHorizontalOverflow(page, `${size} settings`);
  await shot(page, `${size}-8b-settings-dark`);
  // The new PIN is the one that unlocks.
  await tid(page, "lock-button").click();
  await tid(page, "passphrase").fill("135790");
  await tid(page, "unlock-submit").click();
  await tid(page, "encounter-list").waitFor();

  // Night mode is remembered across reloads.
  await page.reload();
  await tid(page, "theme-toggle").waitFor();
  check((await page.evaluate(() => document.documentElement.dataset.theme)) === "dark", "night mode remembered");

  check(errors.length === 0, `no page errors: ${errors.join("; ")}`);
  await context.close();
  console.log(`ok ${size}`);
}

/** Nothing may be fetched from outside the test server: the map must draw offline. */
function blockTheInternet(context, base, outside) {
  return context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(base) || url.startsWith("data:")) return route.continue();
    outside.push(url);
    return route.abort();
  });
}

async function findServices({ width, height }, index) {
  const size = `${width}x${height}`;
  const context = await browser.newContext({ viewport: { width, height }, colorScheme: "light" });
  const outside = [];
  // Tile requests the online-map toggle made (stopped at the route: none leaves the machine).
  const tileTries = [];
  await blockTheInternet(context, base, outside);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(`${base}/?demo`);
  await tid(page, "officer-id").fill("B-4711");
  await tid(page, "passphrase").fill("246810");
  await tid(page, "passphrase-confirm").fill("246810");
  await tid(page, "unlock-submit").click();
  await tid(page, "encounter-list").waitFor();

  // --- stand-alone screen: place by typed city, map with state outlines and markers ---
  await tid(page, "nav-find-services").click();
  await tid(page, "find-services").waitFor();
  await tid(page, "gps-status").waitFor();
  await tid(page, "place-search").fill("Springfield");
  await tid(page, "place-result").first().click();
  await tid(page, "service-result").first().waitFor();
  const map = tid(page, "services-map");
  await map.locator(".service-marker").first().waitFor();
  const outlines = await map.locator(".leaflet-overlay-pane svg path.state-outline").count();
  check(outlines >= 49, `${size}: the map draws the state outlines as SVG paths (got ${outlines})`);
  const results = await tid(page, "service-result").count();
  const markers = await map.locator(".leaflet-overlay-pane svg path.service-marker").count();
  check(markers === results && results > 0, `${size}: one marker per listed service (${markers} markers, ${results} results)`);
  check((await map.locator(".leaflet-overlay-pane svg path.officer-marker").count()) === 1, `${size}: the officer's position is drawn`);
  const ranks = await tid(page, "service-result").evaluateAll((items) => items.map((item) => Number(item.dataset.rank)));
  check(ranks.every((rank, i) => rank === i + 1), `${size}: results are listed in rank order (${ranks})`);
  for (const text of await tid(page, "service-open").allInnerTexts()) check(["open", "closed", "hours unknown"].includes(text.trim()), `${size}: open-now badge says ${text}`);
  check((await page.locator("img.leaflet-tile").count()) === 0, `${size}: no map tiles`);
  await noHorizontalOverflow(page, `${size} find services`);
  await shot(page, `${size}-9-find-services-light`);

  // A marker chosen on the map highlights its list item.
  const lastMarker = map.locator("path.service-marker").last();
  await lastMarker.dispatchEvent("click");
  const selected = page.locator('[data-testid="service-result"].selected');
  await selected.waitFor();
  check((await selected.count()) === 1, `${size}: clicking a marker highlights one list item`);

  // Clicking the map places the officer there (manual placement) and refreshes the list.
  const before = await tid(page, "lat-input").inputValue();
  await map.scrollIntoViewIfNeeded();
  const box = await map.boundingBox();
  await map.click({ position: { x: box.width * 0.85, y: box.height * 0.9 } });
  await page.waitForFunction((old) => document.querySelector('[data-testid="lat-input"]').value !== old, before);
  check((await tid(page, "position-summary").innerText()).includes("Placed by hand"), `${size}: map click places the officer by hand`);

  // Needs narrow the list; the resource card shows the chosen services with a QR code.
  await tid(page, "need-crisis_stabilization").click();
  check((await tid(page, "need-crisis_stabilization").getAttribute("aria-pressed")) === "true", `${size}: need chip pressed`);
  await tid(page, "place-search").fill("62702");
  await tid(page, "place-result").first().click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="service-result"]').length > 0);
  await tid(page, "card-pick").first().check();
  await tid(page, "show-card").click();
  await tid(page, "card-qr").waitFor();
  check(await tid(page, "card-qr").evaluate((img) => img.complete && img.naturalWidth > 0), `${size}: the QR code image loads`);
  await inViewport(page, tid(page, "print-card"), `${size} print button`);
  await shot(page, `${size}-10-resource-card-light`);
  // Printing shows the card alone.
  await page.emulateMedia({ media: "print" });
  check(!(await tid(page, "find-services").isVisible()) && (await tid(page, "card-qr").isVisible()), `${size}: print shows only the resource card`);
  await page.emulateMedia({ media: "screen" });
  await page.keyboard.press("Escape");
  await tid(page, "resource-card").waitFor({ state: "detached" });

  // --- search by name -> detail (keyboard only): phones, hours, capacity, drop-off, why; on the card ---
  await tid(page, "service-search").fill("withdrawal");
  await tid(page, "service-hit").first().waitFor();
  await tid(page, "service-search").press("ArrowDown");
  check(await tid(page, "service-hit").first().evaluate((el) => el === document.activeElement), `${size}: ArrowDown moves from the search box to the first hit`);
  await focusVisible(page, `${size} search hit`);
  await bigEnough(tid(page, "service-hit").first(), `${size} search hit`);
  await page.keyboard.press("Enter");
  const detail = tid(page, "service-detail");
  await detail.getByTestId("detail-name").waitFor();
  check((await detail.getByTestId("detail-name").innerText()) === "Memorial Withdrawal Management Center", `${size}: the detail shows the service opened`);
  for (const [id, text] of [["detail-hours", "open 24/7"], ["detail-capacity", "as of"], ["detail-dropoff", "yes"], ["detail-why", "Found by name"]]) {
    check((await detail.getByTestId(id).innerText()).includes(text), `${size}: detail ${id} says ${text}`);
  }
  check((await detail.getByTestId("detail-phone").first().getAttribute("href")).startsWith("tel:"), `${size}: the detail's phone is tap-to-call`);
  await inViewport(page, tid(page, "close-service-detail"), `${size} detail close button`);
  await bigEnough(detail.getByTestId("detail-copy-phone").first(), `${size} detail copy button`);
  await detail.getByTestId("detail-card-pick").check();
  check((await tid(page, "show-card").innerText()).includes("(2)"), `${size}: a service from the detail goes on the resource card`);
  await shot(page, `${size}-10b-service-detail-light`);
  // Escape closes it; focus goes back to the hit it was opened from.
  await page.keyboard.press("Escape");
  await detail.waitFor({ state: "detached" });
  check(await tid(page, "service-hit").first().evaluate((el) => el === document.activeElement), `${size}: focus returns to the hit after the detail closes`);
  // "Show on map": a service far from the list is drawn as its own marker.
  await tid(page, "service-search").fill("vet center");
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="service-hit"]').length === 1);
  await tid(page, "service-hit").first().click();
  await tid(page, "detail-show-on-map").click();
  await detail.waitFor({ state: "detached" });
  await map.locator("path.spotlight-marker").waitFor();

  // --- online street map: off by default, remembered; offline the outlines still draw ---
  const tiles = tid(page, "online-tiles");
  check((await tiles.getAttribute("aria-pressed")) === "false" && (await map.getAttribute("data-online-tiles")) === "off", `${size}: online map is off by default`);
  await bigEnough(tiles, `${size} online map toggle`);
  await bigEnough(map.locator(".leaflet-control-zoom-in"), `${size} map zoom-in button`);
  await tiles.click();
  check((await tiles.getAttribute("aria-pressed")) === "true", `${size}: online map toggle turns on`);
  check((await page.evaluate(() => localStorage.getItem("waypoint.map.onlineTiles"))) === "on", `${size}: online map choice stored`);
  // Leaving the screen and coming back keeps the choice (the map is drawn anew).
  await tid(page, "nav-encounters").click();
  await tid(page, "nav-find-services").click();
  await tid(page, "online-tiles").waitFor();
  check((await tid(page, "online-tiles").getAttribute("aria-pressed")) === "true", `${size}: online map choice remembered`);
  // The tiles cannot load here (no network): the offline map still draws and says so.
  await tid(page, "online-tiles-failed").waitFor();
  check((await map.locator("path.state-outline").count()) >= 49, `${size}: offline outlines drawn with the online map on`);
  await tid(page, "online-tiles").click();
  check((await tid(page, "online-tiles").getAttribute("aria-pressed")) === "false", `${size}: online map toggle turns off`);
  check((await page.evaluate(() => localStorage.getItem("waypoint.map.onlineTiles"))) === "off", `${size}: online map off stored`);
  check((await page.locator("img.leaflet-tile").count()) === 0, `${size}: no tiles once the online map is off`);
  tileTries.push(...outside.splice(0));
  check(tileTries.every((url) => url.startsWith("https://tile.openstreetmap.org/")), `${size}: only OpenStreetMap tiles were asked for, and only with the online map on (${tileTries.slice(0, 3)})`);

  await tid(page, "place-search").fill("Springfield");
  await tid(page, "place-result").first().click();
  await tid(page, "theme-toggle").click();
  await page.waitForTimeout(100);
  await shot(page, `${size}-11-find-services-dark`);

  if (index === 0) {
    // --- in the form: GPS, suggestions, referrals; then Find services for this encounter and back ---
    await tid(page, "nav-encounters").click();
    await tid(page, "new-encounter").click();
    await tid(page, "suggestions-hint").waitFor();
    await tid(page, "form-use-gps").click();
    check((await tid(page, "field-location.lat").inputValue()) !== "", "Use GPS fills the latitude");
    await tid(page, "suggestion").first().waitFor();
    await tid(page, "suggestion").first().getByTestId("add-referral-accepted").click();
    await tid(page, "referral-item").first().waitFor();
    await tid(page, "open-find-services").click();
    await tid(page, "find-services").waitFor();
    await tid(page, "service-result").nth(1).waitFor();
    await tid(page, "service-result").nth(1).getByTestId("add-referral-declined").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="find-save-status"]')?.textContent?.startsWith("Saved"));
    await shot(page, `${size}-12-find-services-for-encounter-dark`);
    await tid(page, "back-to-encounter").click();
    await tid(page, "referral-item").nth(1).waitFor();
    const outcomes = await tid(page, "referral-item").evaluateAll((items) => items.map((item) => item.dataset.outcome));
    check(JSON.stringify(outcomes) === JSON.stringify(["accepted", "declined"]), `referrals from both screens are on the encounter (${outcomes})`);
    await tid(page, "suggestion").first().waitFor();
    await tid(page, "suggestions-panel").scrollIntoViewIfNeeded();
    await shot(page, `${size}-13-form-suggestions-dark`);
    // They were saved: the draft reopened from the list still has them.
    await tid(page, "nav-encounters").click();
    await tid(page, "encounter-row").first().click();
    await tid(page, "referral-item").nth(1).waitFor();
  }

  // --- the form's "Place on map": a map click sets the encounter's location; a service found by name is referred ---
  await tid(page, "nav-encounters").click();
  await tid(page, "new-encounter").click();
  await tid(page, "place-on-map").waitFor();
  await bigEnough(tid(page, "place-on-map"), `${size} Place on map button`);
  await tid(page, "place-on-map").click();
  await tid(page, "placing-hint").waitFor();
  await tid(page, "services-map").locator("path.state-outline").first().waitFor();
  await page.waitForTimeout(300); // the scroll to the map
  const shown = await tid(page, "services-map").boundingBox();
  check(shown.y >= 0 && (shown.y < page.viewportSize().height / 2 || shown.y + shown.height <= page.viewportSize().height), `${size}: opened to place, the map is scrolled into view (${JSON.stringify(shown)})`);
  check((await tid(page, "encounter-location-text").innerText()) === "not set", `${size}: a new encounter has no location`);
  check(await tid(page, "use-for-encounter").isDisabled(), `${size}: nothing to set before a position is chosen`);
  await tid(page, "place-search").fill("62703");
  await tid(page, "place-result").first().click();
  await tid(page, "service-result").first().waitFor();
  const placeMap = tid(page, "services-map");
  await placeMap.locator("path.officer-marker").waitFor();
  await placeMap.scrollIntoViewIfNeeded();
  const officerBefore = await placeMap.locator("path.officer-marker").boundingBox();
  const latBefore = await tid(page, "lat-input").inputValue();
  const mapBox = await placeMap.boundingBox();
  await placeMap.click({ position: { x: mapBox.width * 0.3, y: mapBox.height * 0.35 } });
  await page.waitForFunction((old) => document.querySelector('[data-testid="lat-input"]').value !== old, latBefore);
  check((await tid(page, "position-summary").innerText()).includes("Placed by hand"), `${size}: map click places by hand`);
  await page.waitForFunction(() => document.querySelectorAll(".services-map path.officer-marker").length === 1);
  const officerAfter = await placeMap.locator("path.officer-marker").boundingBox();
  check(officerAfter && (Math.abs(officerAfter.x - officerBefore.x) > 5 || Math.abs(officerAfter.y - officerBefore.y) > 5), `${size}: the officer's marker moved to the click`);
  const placed = { lat: Number(await tid(page, "lat-input").inputValue()), lon: Number(await tid(page, "lon-input").inputValue()) };
  check(placed.lat > 39 && placed.lat < 41 && placed.lon > -91 && placed.lon < -88, `${size}: the click is near Springfield (${JSON.stringify(placed)})`);
  // The button on the map sets it, right where the officer clicked.
  await inViewport(page, tid(page, "map-use-for-encounter"), `${size} set-location button on the map`);
  await bigEnough(tid(page, "map-use-for-encounter"), `${size} set-location button on the map`);
  await tid(page, "map-use-for-encounter").click();
  await tid(page, "encounter-location-note").waitFor();
  check((await tid(page, "map-use-for-encounter").innerText()).includes("The encounter is here"), `${size}: the map button says the encounter is here`);
  check((await tid(page, "encounter-location-text").innerText()).includes("placed by hand"), `${size}: the encounter's location is set by hand`);
  await page.waitForFunction(() => document.querySelector('[data-testid="find-save-status"]')?.textContent?.startsWith("Saved"));
  await noHorizontalOverflow(page, `${size} find services (placing)`);
  await shot(page, `${size}-14-place-on-map`);
  // Search by name -> detail -> referral accepted.
  await tid(page, "service-search").fill("Capital City");
  await tid(page, "service-hit").first().click();
  const accept = tid(page, "detail-referral-accepted");
  await accept.waitFor();
  await bigEnough(accept, `${size} referral button in the detail`);
  await accept.click();
  check((await accept.getAttribute("aria-pressed")) === "true", `${size}: the referral is marked accepted in the detail`);
  await page.waitForFunction(() => document.querySelector('[data-testid="find-save-status"]')?.textContent?.startsWith("Saved"));
  await inViewport(page, tid(page, "close-service-detail"), `${size} detail close button (encounter)`);
  // The dialog covers the whole page, the map's own buttons included.
  const bar = await tid(page, "map-use-for-encounter").boundingBox();
  const covered = await page.evaluate(([x, y]) => {
    const hit = document.elementFromPoint(x, y);
    return hit === null || !!hit.closest(".backdrop");
  }, [bar.x + bar.width / 2, bar.y + bar.height / 2]);
  check(covered, `${size}: the detail dialog is above the map's buttons`);
  await shot(page, `${size}-15-detail-referral`);
  await tid(page, "close-service-detail").click();
  await tid(page, "back-to-encounter").click();
  await tid(page, "field-location.lat").waitFor();
  check(Number(await tid(page, "field-location.lat").inputValue()) === placed.lat && Number(await tid(page, "field-location.lon").inputValue()) === placed.lon, `${size}: the form has the placed location`);
  check((await tid(page, "field-location.source").inputValue()) === "manual", `${size}: the form's location source is manual`);
  const referral = tid(page, "referral-item").first();
  await referral.waitFor();
  check((await referral.innerText()).includes("Capital City Night Shelter") && (await referral.getAttribute("data-outcome")) === "accepted", `${size}: the referral from the detail is on the encounter`);
  // Saved: the draft reopened from the list still has both.
  await tid(page, "nav-encounters").click();
  await tid(page, "encounter-row").first().click();
  await tid(page, "referral-item").first().waitFor();
  check(Number(await tid(page, "field-location.lat").inputValue()) === placed.lat, `${size}: the placed location was saved`);

  check(outside.length === 0, `${size}: nothing fetched from the internet (${outside.join(", ")})`);
  check(errors.length === 0, `no page errors: ${errors.join("; ")}`);
  await context.close();
  console.log(`ok ${size} find services`);
}

let failed = false;
try {
  for (const [index, viewport] of VIEWPORTS.entries()) await run(viewport, index);
  for (const [index, viewport] of VIEWPORTS.entries()) await findServices(viewport, index);
  console.log(`browser check passed: ${checks} checks at ${VIEWPORTS.length} sizes; screenshots in ${artifacts}`);
} catch (error) {
  failed = true;
  console.error(error);
} finally {
  await browser.close();
  server.close();
}
process.exit(failed ? 1 : 0);
