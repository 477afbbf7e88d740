// Runs every console browser spec (*.spec.mjs here) against a real waypoint-server, first on
// SQLite then on PostgreSQL. Each spec exports `async function run(ctx)` (see harness.mjs).
// Exits non-zero when any spec fails; screenshots go to tests/artifacts/console/.
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { launchBrowser, makeContext, startServer } from "./harness.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const only = process.argv.slice(2);
const specs = readdirSync(here)
  .filter((name) => name.endsWith(".spec.mjs"))
  .filter((name) => only.length === 0 || only.some((wanted) => name.includes(wanted)))
  .sort();
if (specs.length === 0) throw new Error(`no console spec matches ${only.join(" ")}`);
const stores = (process.env.WAYPOINT_CONSOLE_STORES ?? "sqlite,postgres").split(",");

const browser = await launchBrowser();
const results = [];
try {
  for (const store of stores) {
    for (const spec of specs) {
      const module = await import(new URL(spec, import.meta.url));
      const server = await startServer(store, { serveArgs: module.serveArgs });
      const ctx = makeContext(server, browser);
      const started = Date.now();
      try {
        await module.run(ctx);
        if (ctx.pageErrors.length) throw new Error(`errors in the page:\n${ctx.pageErrors.join("\n")}`);
        if (ctx.checks === 0) throw new Error("the spec checked nothing");
        results.push({ ok: true, line: `PASS ${store} ${spec}: ${ctx.checks} checks (${Date.now() - started} ms)` });
      } catch (error) {
        results.push({ ok: false, line: `FAIL ${store} ${spec}: ${error.stack ?? error}\n--- server log ---\n${server.log.join("").slice(-4000)}` });
      } finally {
        await server.stop();
      }
    }
  }
} finally {
  await browser.close();
}
for (const result of results) console.log(result.line);
const failed = results.filter((r) => !r.ok).length;
console.log(`console browser tests: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
