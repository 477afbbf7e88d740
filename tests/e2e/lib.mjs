// Shared by the end-to-end tests: tauri-driver, the app session, screenshots, element helpers.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { remote } from 'webdriverio';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const targetDir = process.env.CARGO_TARGET_DIR || join(repoRoot, 'target');
export const appBinary = process.env.WAYPOINT_APP || join(targetDir, 'debug', 'waypoint-app');
export const artifacts = join(repoRoot, 'tests', 'artifacts');

let driverPort;
let driverLog = '';

export const byTestId = (id) => `[data-testid="${id}"]`;

export function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

export async function waitForDriver(port, deadlineMs = 20000) {
  const start = Date.now();
  while (Date.now() - start < deadlineMs) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/status`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`tauri-driver did not answer on port ${port}:\n${driverLog}`);
}

/** Starts the app (a new WebDriver session launches the binary) on the test's data folder. */
export async function launchApp() {
  return remote({
    hostname: '127.0.0.1',
    port: driverPort,
    logLevel: 'warn',
    connectionRetryCount: 0,
    // A hung WebKitWebDriver call should fail the test, not stall it for minutes.
    connectionRetryTimeout: 30000,
    capabilities: {
      browserName: 'wry',
      'wdio:enforceWebDriverClassic': true,
      'tauri:options': { application: appBinary },
    },
  });
}

// Screenshots of the whole X screen (the real window) with ImageMagick: WebKitWebDriver's own
// screenshot command hangs now and then under Xvfb.
export async function shot(_browser, name) {
  execFileSync('import', ['-window', 'root', join(artifacts, `${name}.png`)], { timeout: 15000 });
}

export function step(what) {
  console.error(`[e2e ${new Date().toISOString().slice(11, 19)}] ${what}`);
}

export async function el(browser, testId, timeout = 15000) {
  step(testId);
  const element = await browser.$(byTestId(testId));
  await element.waitForDisplayed({ timeout, timeoutMsg: `data-testid="${testId}" not displayed within ${timeout} ms` });
  return element;
}

/** Clicks an element once shown, centred first so the sticky header and footer never cover it. */
export async function click(browser, testId) {
  const element = await el(browser, testId);
  // The page may still be settling (results arriving, the map resizing): if something covers
  // the target, centre it again and retry, as a person would.
  for (let attempt = 1; ; attempt++) {
    await element.scrollIntoView({ block: 'center' });
    try {
      await element.click();
      return;
    } catch (error) {
      if (attempt >= 4 || !/intercepted/.test(String(error))) throw error;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

/** The list's rows, once it has loaded at least one (the list may render before its data). */
export async function rows(browser) {
  await el(browser, 'encounter-list');
  await browser.waitUntil(async () => (await browser.$$(byTestId('encounter-row'))).length > 0, {
    timeout: 10000,
    timeoutMsg: 'the encounter list stayed empty',
  });
  return browser.$$(byTestId('encounter-row'));
}


/**
 * Starts tauri-driver; the app it launches inherits `env` (data folder, gpsd address...).
 * Returns a function that stops it.
 */
export async function startDriver(env) {
  assert.ok(existsSync(appBinary), `app binary missing: ${appBinary} (build it first: cargo build -p waypoint-app)`);
  assert.ok(process.env.DISPLAY, 'DISPLAY is not set: run under Xvfb (tests/e2e/run.sh)');
  mkdirSync(artifacts, { recursive: true });
  driverPort = await freePort();
  const nativePort = await freePort();
  const tauriDriver = process.env.TAURI_DRIVER || 'tauri-driver';
  const driver = spawn(tauriDriver, ['--port', String(driverPort), '--native-port', String(nativePort)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  driver.stdout.on('data', (d) => (driverLog += d));
  driver.stderr.on('data', (d) => (driverLog += d));
  await waitForDriver(driverPort);
  return () => driver.kill('SIGTERM');
}

/** First run of a fresh data folder: choose officer id and PIN, land on the encounter list. */
export async function setUp(browser, officerId, pin) {
  await el(browser, 'officer-id', 30000);
  await (await el(browser, 'officer-id')).setValue(officerId);
  await (await el(browser, 'passphrase')).setValue(pin);
  await (await el(browser, 'passphrase-confirm')).setValue(pin);
  await click(browser, 'unlock-submit');
}
