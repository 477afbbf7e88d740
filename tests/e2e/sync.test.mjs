// End-to-end sync: the real app enrols with a real waypoint-server (HTTPS, its self-signed
// certificate checked by fingerprint), an officer signs in, a report is submitted while the
// server is down, the server comes back, and the report reaches it in the background: its badge
// turns to "synced" and the server's own export holds it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { byTestId, click, el, freePort, launchApp, rows, setUp, shot, startDriver, targetDir } from './lib.mjs';

const serverBinary = process.env.WAYPOINT_SERVER || join(targetDir, 'debug', 'waypoint-server');
const SENTINEL = `sync-e2e-${Date.now()}`;
const OFFICER_PASSWORD = 'correct horse battery';

let appDir;
let serverDir;
let stopDriver;
let server;
let port;
let initOutput;

function serverCli(args, input) {
  return execFileSync(serverBinary, ['--data-dir', serverDir, ...args], {
    input,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: 'warn' },
  });
}

function portOpen() {
  return new Promise((ok) => {
    const socket = connect({ host: '127.0.0.1', port }, () => (socket.destroy(), ok(true)));
    socket.on('error', () => ok(false));
  });
}

async function startServer() {
  server = spawn(serverBinary, ['--data-dir', serverDir, 'serve', '--listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, RUST_LOG: 'warn' },
  });
  let log = '';
  server.stderr.on('data', (d) => (log += d));
  for (let i = 0; i < 100; i++) {
    if (await portOpen()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`waypoint-server did not listen on ${port}:\n${log}`);
}

async function stopServer() {
  if (!server) return;
  const exited = new Promise((ok) => server.once('exit', ok));
  server.kill('SIGTERM');
  await exited;
  server = null;
  assert.equal(await portOpen(), false, 'the server still answers after it was stopped');
}

before(async () => {
  assert.ok(existsSync(serverBinary), `server binary missing: ${serverBinary} (cargo build -p waypoint-server)`);
  appDir = mkdtempSync(join(tmpdir(), 'waypoint-e2e-sync-app-'));
  serverDir = mkdtempSync(join(tmpdir(), 'waypoint-e2e-sync-server-'));
  port = await freePort();
  initOutput = serverCli(['init']);
  // The officer id is the one the app is set up with below: pushed reports must carry it.
  serverCli(['user', 'add', '--username', 'officer.e2e', '--role', 'officer', '--officer-id', 'E2E-SYNC', '--password-stdin'], `${OFFICER_PASSWORD}\n`);
  stopDriver = await startDriver({ WAYPOINT_DATA_DIR: appDir, WAYPOINT_AGENCY_CONFIG: '' });
});

after(async () => {
  if (stopDriver) stopDriver();
  await stopServer().catch(() => {});
  for (const dir of [appDir, serverDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A one-time code and the certificate fingerprint, as the admin's tool prints them. */
function enrolmentSlip() {
  const output = execFileSync(serverBinary, ['--data-dir', serverDir, 'device', 'enroll'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: 'warn' },
  });
  return output.trim();
}

function fingerprint() {
  const line = initOutput.split('\n').find((l) => l.startsWith('certificate SHA-256:'));
  assert.ok(line, 'waypoint-server init prints the certificate fingerprint');
  return line.replace('certificate SHA-256:', '').trim();
}

test('enrol, go offline, submit, come back online: the report syncs by itself', async () => {
  const code = enrolmentSlip();
  const sha256 = fingerprint();
  await startServer();
  const browser = await launchApp();
  try {
    await setUp(browser, 'E2E-SYNC', '630514');
    await el(browser, 'encounter-list', 30000);
    const headline = await el(browser, 'sync-headline');
    assert.match(await headline.getText(), /Not connected/);

    // Enrol: a wrong fingerprint is refused beside its field, the right one is accepted.
    await click(browser, 'sync-indicator');
    const url = await el(browser, 'enroll-server-url');
    await url.setValue(`https://localhost:${port}`);
    await (await el(browser, 'enroll-code')).setValue(code);
    await (await el(browser, 'enroll-fingerprint')).setValue('00:'.repeat(31) + '00');
    await click(browser, 'enroll-submit');
    const wrong = await el(browser, 'field-error-certificate_fingerprint', 30000);
    assert.match(await wrong.getText(), /fingerprint/);
    await (await el(browser, 'enroll-fingerprint')).setValue(sha256);
    await click(browser, 'enroll-submit');
    await browser.waitUntil(async () => (await (await el(browser, 'sync-server')).getText()).includes(`localhost:${port}`), {
      timeout: 30000,
      timeoutMsg: 'the Sync screen never showed the enrolled server',
    });
    await browser.waitUntil(async () => /Synced/.test(await headline.getText()), {
      timeout: 30000,
      timeoutMsg: 'the first sync round never finished',
    });

    // Officer sign-in: a wrong password is refused beside the field.
    await (await el(browser, 'login-username')).setValue('officer.e2e');
    await (await el(browser, 'login-password')).setValue('wrong password!');
    await click(browser, 'login-submit');
    await el(browser, 'field-error-password', 30000);
    await (await el(browser, 'login-password')).setValue(OFFICER_PASSWORD);
    await click(browser, 'login-submit');
    const signedIn = await el(browser, 'sync-signed-in', 30000);
    assert.match(await signedIn.getText(), /officer\.e2e \(officer\)/);
    await browser.execute(() => window.scrollTo(0, 0));
    await shot(browser, 'sync-screen');

    // The server goes away; the officer logs and submits a report as usual.
    await stopServer();
    await click(browser, 'nav-encounters');
    await click(browser, 'new-encounter');
    await (await el(browser, 'field-call.call_type')).selectByAttribute('value', '911');
    await click(browser, 'field-crisis_natures-unknown');
    await click(browser, 'field-behaviours-suicide_threat');
    await click(browser, 'field-dispositions-referral_made');
    await (await el(browser, 'field-diversion.custody_diverted')).selectByAttribute('value', 'yes');
    await (await el(browser, 'field-narrative')).setValue(`Submitted in a dead zone. ${SENTINEL}`);
    await click(browser, 'submit-encounter');
    await click(browser, 'confirm-submit');
    await browser.waitUntil(
      async () =>
        (await browser.$(byTestId('encounter-list')).isDisplayed()) || (await browser.$(byTestId('encounter-detail')).isDisplayed()),
      { timeout: 15000, timeoutMsg: 'neither the list nor the detail appeared after submit' },
    );
    if (!(await browser.$(byTestId('encounter-list')).isDisplayed())) await click(browser, 'nav-encounters');
    const [row] = await rows(browser);
    const badge = await row.$(byTestId('sync-badge'));
    assert.equal(await badge.getAttribute('data-state'), 'pending');
    // The worker tries, fails, and says so; the officer's flow never waited for it.
    await browser.waitUntil(async () => /1 pending · offline/.test(await headline.getText()), {
      timeout: 30000,
      timeoutMsg: 'the header never said the report is pending while the server is down',
    });
    await shot(browser, 'sync-offline-pending');

    // The server comes back on the same address: the background retry delivers the report.
    await startServer();
    await browser.waitUntil(async () => (await (await (await rows(browser))[0].$(byTestId('sync-badge'))).getAttribute('data-state')) === 'synced', {
      timeout: 90000,
      interval: 1000,
      timeoutMsg: 'the report never turned to synced after the server came back',
    });
    assert.match(await headline.getText(), /Synced/);
    await shot(browser, 'sync-synced');

    const exported = serverCli(['export', 'encounters', '--format', 'json']);
    const occurrences = exported.split(SENTINEL).length - 1;
    assert.equal(occurrences, 1, 'the server holds the report exactly once');

    // The laptop is reported stolen: the admin revokes it. On its next round the device erases
    // its reports and key and is back at first-run, saying why.
    const listed = serverCli(['device', 'list']);
    const deviceId = listed.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/)?.[0];
    assert.ok(deviceId, `the device list names the device: ${listed}`);
    serverCli(['device', 'revoke', deviceId]);
    await click(browser, 'sync-indicator');
    await click(browser, 'sync-now');
    const wiped = await el(browser, 'wiped-note', 60000);
    assert.match(await wiped.getText(), /revoked/, 'the first-run screen says the agency revoked the device');
    assert.ok(await (await el(browser, 'officer-id')).isDisplayed(), 'back at first-run');
    for (const gone of ['waypoint.key', 'waypoint.db']) {
      assert.equal(existsSync(join(appDir, gone)), false, `${gone} is erased`);
    }
    await shot(browser, 'sync-revoked-wiped');
  } catch (error) {
    console.error('sync e2e failed:', error);
    await shot(browser, 'failure-sync').catch(() => {});
    throw error;
  } finally {
    await browser.deleteSession();
  }
});
