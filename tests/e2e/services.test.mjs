// End-to-end, the service directory in the real app: a fresh install with the bundled national
// directory, GPS from a real gpsd fed by gpsfake (tests/gps/patrol.nmea: Austin, TX), "Find
// services" at a typed ZIP with ranked results and the offline map, a referral added to an
// encounter, and the resource card with its QR code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { byTestId, click, el, freePort, launchApp, repoRoot, setUp, shot, step, startDriver } from './lib.mjs';

let dataDir;
let stopDriver;
let gpsfake;

const OPEN_STATES = ['open', 'closed', 'hours unknown'];

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'waypoint-e2e-services-'));
  const gpsdPort = await freePort();
  // A real gpsd on a private port, fed the patrol log in a loop.
  gpsfake = spawn('gpsfake', ['-q', '-c', '0.2', '-P', String(gpsdPort), join(repoRoot, 'tests', 'gps', 'patrol.nmea')], {
    stdio: 'ignore',
  });
  stopDriver = await startDriver({
    WAYPOINT_DATA_DIR: dataDir,
    WAYPOINT_AGENCY_CONFIG: '',
    WAYPOINT_GPSD: `127.0.0.1:${gpsdPort}`,
  });
});

after(() => {
  if (stopDriver) stopDriver();
  if (gpsfake) gpsfake.kill('SIGTERM');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** The ranked results once at least one shows (the directory may still be loading). */
async function results(browser) {
  await browser.waitUntil(async () => (await browser.$$(byTestId('service-result'))).length > 0, {
    timeout: 60000,
    timeoutMsg: 'no ranked services appeared',
  });
  return browser.$$(byTestId('service-result'));
}

async function checkRanked(browser) {
  const list = await results(browser);
  assert.ok(list.length >= 3, `only ${list.length} services near Austin, TX`);
  const ranks = [];
  for (const item of list) ranks.push(Number(await item.getAttribute('data-rank')));
  assert.deepEqual(ranks, ranks.map((_, i) => i + 1), 'results are shown in rank order');
  for (const item of list.slice(0, 3)) {
    const open = (await (await item.$(byTestId('service-open'))).getText()).trim().toLowerCase();
    assert.ok(OPEN_STATES.includes(open), `open state "${open}"`);
    const why = (await (await item.$(byTestId('service-why'))).getText()).trim();
    assert.ok(why.length > 10, `the "why" line is missing: "${why}"`);
  }
  return list;
}

async function checkMap(browser) {
  const map = await el(browser, 'services-map');
  // Offline basemap: state outlines drawn as SVG paths, and the service markers.
  await browser.waitUntil(
    async () => (await map.$$('.leaflet-overlay-pane path')).length > 40,
    { timeout: 20000, timeoutMsg: 'the offline map drew no state outlines or markers' },
  );
  const tiles = await map.$$('.leaflet-tile-pane img');
  assert.equal(tiles.length, 0, 'no online tiles are loaded by default');
}

test('Find services at a typed ZIP: ranked results and the offline map', async () => {
  const browser = await launchApp();
  try {
    await setUp(browser, 'E2E-SVC-1', '482916');
    await click(browser, 'nav-find-services');
    await el(browser, 'find-services');
    await (await el(browser, 'place-search')).setValue('78751');
    await browser.waitUntil(async () => (await browser.$$(byTestId('place-result'))).length > 0, {
      timeout: 60000,
      timeoutMsg: 'the ZIP 78751 matched no place (directory not loaded?)',
    });
    const place = (await browser.$$(byTestId('place-result')))[0];
    await place.scrollIntoView({ block: 'center' });
    await place.click();
    await click(browser, 'need-crisis_stabilization');
    await checkRanked(browser);
    await checkMap(browser);
    await shot(browser, '11-find-services');
  } catch (error) {
    await shot(browser, 'failure-find-services').catch(() => {});
    throw error;
  } finally {
    await browser.deleteSession();
  }
});

test('an encounter located by GPS gets suggestions, a referral and a resource card', async () => {
  const browser = await launchApp();
  try {
    await (await el(browser, 'passphrase', 30000)).setValue('482916');
    await click(browser, 'unlock-submit');
    await click(browser, 'new-encounter');
    await click(browser, 'field-behaviours-suicide_threat');
    await click(browser, 'form-use-gps');
    // gpsd (fed by gpsfake) puts the car on Congress Ave, Austin.
    await browser.waitUntil(
      async () => {
        const lat = Number(await (await browser.$(byTestId('field-location.lat'))).getValue());
        return lat > 30.26 && lat < 30.28;
      },
      { timeout: 30000, timeoutMsg: 'GPS did not fill the latitude' },
    );
    const panel = await el(browser, 'suggestions-panel');
    await browser.waitUntil(async () => (await panel.$$(byTestId('suggestion'))).length > 0, {
      timeout: 60000,
      timeoutMsg: 'the suggestions panel stayed empty',
    });
    await shot(browser, '12-form-suggestions');

    await click(browser, 'open-find-services');
    const list = await checkRanked(browser);
    const firstName = (await (await list[0].$(byTestId('service-name'))).getText()).trim();
    step(`referring to ${firstName}`);
    for (const [item, testId] of [[list[0], 'add-referral-accepted'], [list[0], 'card-pick'], [list[1], 'card-pick']]) {
      const target = await item.$(byTestId(testId));
      await target.scrollIntoView({ block: 'center' });
      await target.click();
    }
    await click(browser, 'show-card');
    const card = await el(browser, 'resource-card');
    await (await card.$(byTestId('card-qr'))).waitForDisplayed({ timeout: 10000 });
    assert.ok((await card.getText()).includes(firstName), 'the card names the chosen service');
    assert.ok((await card.getText()).includes('988'), 'the card carries the 988 crisis line');
    await shot(browser, '13-resource-card');
    await click(browser, 'close-card');

    await click(browser, 'back-to-encounter');
    await browser.waitUntil(async () => (await browser.$$(byTestId('referral-item'))).length === 1, {
      timeout: 10000,
      timeoutMsg: 'the referral did not reach the encounter',
    });
    const referral = (await (await browser.$$(byTestId('referral-item')))[0].getText()).toLowerCase();
    assert.ok(referral.includes(firstName.toLowerCase()), `referral reads "${referral}"`);
    assert.ok(referral.includes('accepted'), `referral reads "${referral}"`);
    await shot(browser, '14-referral');
  } catch (error) {
    await shot(browser, 'failure-encounter-services').catch(() => {});
    throw error;
  } finally {
    await browser.deleteSession();
  }
});
