// Smoke check in WebKitGTK (the engine Tauri uses on Linux): serves ui/dist on 127.0.0.1, starts
// WebKitWebDriver with MiniBrowser under Xvfb and goes setup -> new encounter -> submit with the
// in-memory demo backend, through plain W3C WebDriver calls.
// Run with: xvfb-run -a node tests/browser/webkit-smoke.mjs
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const distDir = fileURLToPath(new URL("../../dist", import.meta.url));
const MINIBROWSER = process.env.MINIBROWSER ?? "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" };

const server = createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
  let file = join(distDir, path);
  if (!file.startsWith(distDir) || !existsSync(file) || statSync(file).isDirectory()) file = join(distDir, "index.html");
  res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
  createReadStream(file).pipe(res);
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const site = `http://127.0.0.1:${server.address().port}`;

const port = 4000 + Math.floor(Math.random() * 900);
const driver = spawn("WebKitWebDriver", [`--port=${port}`, "--host=127.0.0.1"], { stdio: "inherit" });
const wd = `http://127.0.0.1:${port}`;

async function call(method, path, body) {
  const response = await fetch(`${wd}${path}`, { method, headers: { "content-type": "application/json" }, body: body && JSON.stringify(body) });
  const json = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json.value)}`);
  return json.value;
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let session;
let failed = false;
try {
  for (let i = 0; i < 50; i += 1) {
    try {
      await call("GET", "/status");
      break;
    } catch {
      await sleep(100);
    }
  }
  session = (
    await call("POST", "/session", {
      capabilities: { alwaysMatch: { "webkitgtk:browserOptions": { binary: MINIBROWSER, args: ["--automation"] } } },
    })
  ).sessionId;
  const s = `/session/${session}`;
  const find = async (testid, timeoutMs = 5000) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        const found = await call("POST", `${s}/element`, { using: "css selector", value: `[data-testid="${testid}"]` });
        return Object.values(found)[0];
      } catch (error) {
        if (Date.now() > until) throw error;
        await sleep(100);
      }
    }
  };
  const type = async (testid, text) => call("POST", `${s}/element/${await find(testid)}/value`, { text });
  const click = async (testid) => call("POST", `${s}/element/${await find(testid)}/click`, {});
  const text = async (testid) => call("GET", `${s}/element/${await find(testid)}/text`);
  const run = (script) => call("POST", `${s}/execute/sync`, { script, args: [] });

  await call("POST", `${s}/url`, { url: `${site}/?demo` });
  await type("officer-id", "B-4711");
  await type("passphrase", "246810");
  await type("passphrase-confirm", "246810");
  await click("unlock-submit");
  await find("encounter-list");
  await click("new-encounter");
  await find("field-narrative");
  await run(`const s = document.querySelector('[data-testid="field-call.call_type"]'); s.value = "911"; s.dispatchEvent(new Event("change", { bubbles: true }));`);
  await click("field-crisis_natures-unknown");
  await click("field-behaviours-suicide_threat");
  await click("field-dispositions-referral_made");
  await run(`const s = document.querySelector('[data-testid="field-diversion.custody_diverted"]'); s.value = "no"; s.dispatchEvent(new Event("change", { bubbles: true }));`);
  await type("field-narrative", "WebKit smoke check.");
  await sleep(800);
  assert.match(await text("save-status"), /^Saved/);
  await click("submit-encounter");
  await click("confirm-submit");
  await find("encounter-detail");
  assert.equal(await text("detail-status"), "submitted");
  console.log("WebKitGTK smoke check passed");
} catch (error) {
  failed = true;
  console.error(error);
} finally {
  if (session) await call("DELETE", `/session/${session}`).catch(() => {});
  driver.kill();
  server.close();
}
process.exit(failed ? 1 : 0);
