// End-to-end: the real Waypoint binary, driven through tauri-driver -> WebKitWebDriver.
// Needs an X display (scripts/test.sh and tests/e2e/run.sh start Xvfb) and a built app
// (WAYPOINT_APP, default <target>/debug/waypoint-app).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appBinary, byTestId, click, el, launchApp, rows, setUp, shot, startDriver } from './lib.mjs';

const OFFICER_ID = 'E2E-4711';
const PIN = '482916';
const SENTINEL = `e2e-sentinel-${Date.now()}`;
const INCIDENT = `INC-${Date.now() % 1000000}`;

let dataDir;
let stopDriver;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'waypoint-e2e-'));
  stopDriver = await startDriver({ WAYPOINT_DATA_DIR: dataDir, WAYPOINT_AGENCY_CONFIG: '' });
});

after(() => {
  if (stopDriver) stopDriver();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('first run: set up, record and submit an encounter', async () => {
  const browser = await launchApp();
  try {
    await el(browser, 'officer-id', 30000);
    await shot(browser, '01-setup');
    await setUp(browser, OFFICER_ID, PIN);

    await click(browser, 'new-encounter');
    await el(browser, 'field-call.call_type');
    const incident = await browser.$(byTestId('field-incident_number'));
    if (await incident.isExisting()) await incident.setValue(INCIDENT);
    await (await el(browser, 'field-call.call_type')).selectByAttribute('value', '911');
    await click(browser, 'field-crisis_natures-unknown');
    await click(browser, 'field-behaviours-suicide_threat');
    await click(browser, 'field-dispositions-referral_made');
    await (await el(browser, 'field-diversion.custody_diverted')).selectByAttribute('value', 'yes');
    await (await el(browser, 'field-narrative')).setValue(`Calm conversation, referral accepted. ${SENTINEL}`);
    const saveStatus = await el(browser, 'save-status');
    await browser.waitUntil(async () => (await saveStatus.getText()).includes('Saved'), {
      timeout: 10000,
      timeoutMsg: 'autosave never reported "Saved"',
    });
    await shot(browser, '02-form-filled');

    await click(browser, 'submit-encounter');
    await click(browser, 'confirm-submit');

    // After submitting the UI may show the list or the detail: go to the list either way.
    await browser.waitUntil(
      async () =>
        (await browser.$(byTestId('encounter-list')).isDisplayed()) ||
        (await browser.$(byTestId('encounter-detail')).isDisplayed()),
      { timeout: 15000, timeoutMsg: 'neither the list nor the detail appeared after submit' },
    );
    if (!(await browser.$(byTestId('encounter-list')).isDisplayed())) await click(browser, 'nav-encounters');
    const list = await rows(browser);
    assert.equal(list.length, 1, 'exactly one encounter in the list');
    const badge = await list[0].$(byTestId('status-badge'));
    await browser.waitUntil(async () => (await badge.getText()).trim().toLowerCase() === 'submitted', {
      timeout: 10000,
      timeoutMsg: 'status badge never read "submitted"',
    });
    await shot(browser, '03-list-submitted');
  } catch (error) {
    console.error('first run failed:', error);
    await shot(browser, 'failure-first-run').catch(() => {});
    throw error;
  } finally {
    // Ends the session, which closes the app.
    await browser.deleteSession();
  }
});

test('the data folder holds no plaintext of the record', () => {
  const files = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk(dataDir);
  assert.ok(files.length > 0, 'the data folder is empty: nothing was stored');
  for (const file of files) {
    const bytes = readFileSync(file);
    assert.ok(!bytes.includes(Buffer.from(SENTINEL)), `${file} contains the narrative in plain text`);
    assert.ok(!bytes.includes(Buffer.from('suicide_threat')), `${file} contains a behaviour code in plain text`);
  }
});

test('second start: a wrong PIN is refused, the right one shows the saved encounter', async () => {
  const browser = await launchApp();
  try {
    await el(browser, 'passphrase', 30000);
    assert.equal(await browser.$(byTestId('officer-id')).isExisting(), false, 'setup shown again on second start');
    await (await el(browser, 'passphrase')).setValue('000000');
    await click(browser, 'unlock-submit');
    const error = await el(browser, 'unlock-error');
    const said = (await error.getText()).trim();
    assert.match(said, /Wrong PIN or passphrase\. 9 tries left before this device erases/, `the refusal counts the tries: ${said}`);
    await shot(browser, '04-wrong-pin');

    // A second Waypoint on the same data folder is refused with a sentence (it waits a few
    // seconds first, in case the first one is only finishing its exit).
    const second = spawnSync(appBinary, [], {
      env: { ...process.env, WAYPOINT_DATA_DIR: dataDir, WAYPOINT_AGENCY_CONFIG: '' },
      encoding: 'utf8',
      timeout: 30000,
    });
    assert.equal(second.status, 1, `the second instance exits with 1: ${second.status} ${second.stderr}`);
    assert.match(second.stderr, /already running/, `the second instance says why: ${second.stderr}`);

    const passphrase = await el(browser, 'passphrase');
    await passphrase.clearValue();
    await passphrase.setValue(PIN);
    await click(browser, 'unlock-submit');

    const list = await rows(browser);
    assert.equal(list.length, 1, 'the encounter survived the restart');
    assert.equal((await (await list[0].$(byTestId('status-badge'))).getText()).trim().toLowerCase(), 'submitted');
    await shot(browser, '05-after-restart');

    await list[0].click();
    const detail = await el(browser, 'encounter-detail');
    await browser.waitUntil(async () => (await detail.getText()).includes(SENTINEL), {
      timeout: 10000,
      timeoutMsg: 'the detail view does not show the narrative typed before the restart',
    });
    await shot(browser, '06-detail');
  } catch (error) {
    console.error('second run failed:', error);
    await shot(browser, 'failure-second-run').catch(() => {});
    throw error;
  } finally {
    await browser.deleteSession();
  }
});
