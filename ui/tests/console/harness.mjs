// The console's browser-test harness: a real waypoint-server (the binary in $WAYPOINT_SERVER) on
// 127.0.0.1 over TLS with its own self-signed certificate, on SQLite or on PostgreSQL (a database
// of its own at 127.0.0.1:5432, dropped afterwards); Debian's Chromium driven by playwright-core;
// TOTP codes computed as an authenticator app would; axe-core on every page. Nothing leaves
// 127.0.0.1.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const repo = fileURLToPath(new URL("../../..", import.meta.url));
export const artifacts = join(repo, "tests", "artifacts", "console");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const POSTGRES = process.env.WAYPOINT_TEST_POSTGRES ?? "postgres://postgres@127.0.0.1:5432/test";
const AXE_SOURCE = readFileSync(fileURLToPath(import.meta.resolve("axe-core/axe.min.js")), "utf8");

// The server's certificate is its own self-signed one, on loopback: Node's fetch takes it here.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";

export function serverBinary() {
  const binary = process.env.WAYPOINT_SERVER;
  if (!binary) throw new Error("set WAYPOINT_SERVER to a built waypoint-server (cargo build -p waypoint-server)");
  return binary;
}

/** The 6-digit RFC 6238 code of a base32 secret, as an authenticator app shows it now. */
export function totp(secret, at = Date.now()) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of secret.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(char).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const digest = createHmac("sha1", key).update(counter).digest();
  const offset = digest[digest.length - 1] & 15;
  return String((digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function psql(sql) {
  const result = spawnSync("psql", [POSTGRES, "-v", "ON_ERROR_STOP=1", "-qc", sql], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`psql failed (PostgreSQL at ${POSTGRES} is required): ${result.stderr || result.error}`);
}

/**
 * A running server on `store` ("sqlite" | "postgres"), with its CLI. With `existing`, the data
 * folder of a server already set up (SQLite; the console benchmark's), served and kept;
 * `serveArgs` are added to `serve` (a spec's `export const serveArgs`).
 */
export async function startServer(store, { existing = null, serveArgs = [] } = {}) {
  const dataDir = existing ?? mkdtempSync(join(tmpdir(), `waypoint-console-${store}-`));
  const globalArgs = ["--data-dir", dataDir];
  let database = null;
  if (store === "postgres") {
    database = `wp_console_${randomBytes(6).toString("hex")}`;
    psql(`CREATE DATABASE ${database}`);
    globalArgs.push("--database", POSTGRES.replace(/\/[^/]*$/, `/${database}`));
  }
  const cli = (args, input) => {
    const result = spawnSync(serverBinary(), [...globalArgs, ...args], { encoding: "utf8", input });
    if (result.status !== 0) throw new Error(`waypoint-server ${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
  };
  let fingerprint = null;
  if (!existing) {
    const initialized = cli(["init"]);
    fingerprint = /certificate SHA-256: (\S+)/.exec(initialized)?.[1];
    assert.ok(fingerprint, `init printed no certificate fingerprint:\n${initialized}`);
  }
  const port = await freePort();
  const log = [];
  const child = spawn(
    serverBinary(),
    [...globalArgs, "serve", "--listen", `127.0.0.1:${port}`, "--sign-in-burst", "10000", "--session-idle-minutes", "30", ...serveArgs],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout.on("data", (chunk) => log.push(String(chunk)));
  child.stderr.on("data", (chunk) => log.push(String(chunk)));
  const baseUrl = `https://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    try {
      if ((await fetch(`${baseUrl}/v1/health`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (attempt > 150 || child.exitCode !== null) throw new Error(`the server did not start:\n${log.join("")}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    store,
    baseUrl,
    dataDir,
    fingerprint,
    cli,
    log,
    addUser(username, role, password, officerId) {
      const args = ["user", "add", "--username", username, "--role", role, "--password-stdin"];
      if (officerId) args.push("--officer-id", officerId);
      cli(args, `${password}\n`);
    },
    async stop() {
      child.kill("SIGTERM");
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", resolve)));
      if (!existing) rmSync(dataDir, { recursive: true, force: true });
      if (database) psql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ],
  });
}

/**
 * What a spec gets: the server, the browser, and helpers that know the console. `secrets` holds
 * each user's TOTP secret once the console has enrolled them (the test reads it off the page,
 * as a person would type it into an app).
 */
export function makeContext(server, browser) {
  const secrets = new Map();
  let checks = 0;
  const pageErrors = [];
  const ctx = {
    server,
    store: server.store,
    baseUrl: server.baseUrl,
    secrets,
    check(condition, message) {
      assert.ok(condition, `[${server.store}] ${message}`);
      checks += 1;
    },
    get checks() {
      return checks;
    },
    pageErrors,
    /** A fresh browser context (its own cookies) and page at 1280x800. */
    async newPage({ width = 1280, height = 800 } = {}) {
      const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width, height } });
      const page = await context.newPage();
      page.on("pageerror", (error) => pageErrors.push(`${server.store}: ${error.message}`));
      page.on("console", (message) => {
        // A CSP violation is a bug: the console must run under its own strict policy.
        if (message.type() === "error" && /Content Security Policy/i.test(message.text())) {
          pageErrors.push(`${server.store}: CSP violation: ${message.text()}`);
        }
      });
      return page;
    },
    /** Signs `username` in at /console/, enrolling in MFA the first time (saving the secret). */
    async signIn(page, username, password) {
      await page.goto(`${server.baseUrl}/console/`);
      await page.getByTestId("sign-in-username").fill(username);
      await page.getByTestId("sign-in-password").fill(password);
      if (secrets.has(username)) await page.getByTestId("sign-in-totp").fill(await freshCode(secrets.get(username)));
      await page.getByTestId("sign-in-submit").click();
      const outcome = await Promise.race([
        page.getByTestId("signed-in-as").waitFor().then(() => "in"),
        page.getByTestId("mfa-secret").waitFor().then(() => "enrol"),
        page.getByTestId("sign-in-error").waitFor().then(() => "error"),
      ]);
      if (outcome === "error") throw new Error(`sign-in of ${username}: ${await page.getByTestId("sign-in-error").innerText()}`);
      if (outcome === "enrol") {
        const secret = (await page.getByTestId("mfa-secret").innerText()).trim();
        secrets.set(username, secret);
        await page.getByTestId("mfa-code").fill(totp(secret));
        await page.getByTestId("mfa-confirm").click();
        await page.getByTestId("recovery-codes").waitFor();
        await page.getByTestId("mfa-done").click();
        await page.getByTestId("signed-in-as").waitFor();
        // The next sign-in must not reuse this code: wait for the next 30-second step then.
        secrets.set(username, secret);
        usedSteps.set(secret, Math.floor(Date.now() / 30000));
      }
    },
    totp,
    /** Records that the current code of `secret` was used (a code is not accepted twice). */
    markCodeUsed(secret) {
      usedSteps.set(secret, Math.floor(Date.now() / 30000));
    },
    async screenshot(page, name) {
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, `${name}-${server.store}.png`), fullPage: true });
    },
    /** axe-core on the page as it is now: no serious or critical violation. */
    async axe(page, where) {
      // Evaluated by the driver, not as an inline <script>: the console's CSP refuses those.
      await page.evaluate(AXE_SOURCE);
      const result = await page.evaluate(async () => {
        // eslint-disable-next-line no-undef
        const report = await axe.run(document, { resultTypes: ["violations"] });
        return report.violations
          .filter((v) => v.impact === "serious" || v.impact === "critical")
          .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("; ")}`);
      });
      ctx.check(result.length === 0, `axe on ${where}: ${result.join("\n")}`);
    },
    /** A JSON request to the server (for what a device or a script does beside the browser). */
    async api(method, path, { bearer, body, headers = {} } = {}) {
      const response = await fetch(`${server.baseUrl}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      let json = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        json = null;
      }
      return { status: response.status, headers: response.headers, json, text };
    },
  };
  return ctx;
}

/** The TOTP step of the last code used per secret: a code is not accepted twice. */
const usedSteps = new Map();

/** A code of a step not used yet for this secret (waits for the next step if needed). */
async function freshCode(secret) {
  for (;;) {
    const step = Math.floor(Date.now() / 30000);
    if (usedSteps.get(secret) !== step) {
      usedSteps.set(secret, step);
      return totp(secret);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
