// The browser part of `cargo run --release -p waypoint-bench -- console` (crates/bench/src/console.rs,
// which fills the data folder and runs this; not a test, run.mjs runs only *.spec.mjs). Serves
// $WAYPOINT_BENCH_DATA_DIR with $WAYPOINT_SERVER, signs a supervisor in (enrolling MFA as a person
// would), then measures $WAYPOINT_BENCH_LOADS loads of each: a blank page from the same server (the
// baseline: TLS, one request), the review queue on a first load (a new browser profile: empty cache,
// only the session cookie) and warm (reloaded). "Interactive" is when the first row's open button
// is visible and enabled. Prints progress on stderr and one JSON object of figures on stdout.
import { gzipSync } from "node:zlib";
import { launchBrowser, makeContext, startServer } from "./harness.mjs";

const dataDir = process.env.WAYPOINT_BENCH_DATA_DIR;
if (!dataDir) throw new Error("set WAYPOINT_BENCH_DATA_DIR (run it through: cargo run --release -p waypoint-bench -- console)");
const loads = Number(process.env.WAYPOINT_BENCH_LOADS ?? 7);
const SUPERVISOR = { username: `sgt.bench.${Date.now()}`, password: "bench supervisor passphrase" };

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const round1 = (value) => Math.round(value * 10) / 10;
const summary = (values) => ({ median: round1(median(values)), min: round1(Math.min(...values)), max: round1(Math.max(...values)) });

const server = await startServer("sqlite", { existing: dataDir });
const browser = await launchBrowser();
try {
  server.addUser(SUPERVISOR.username, "supervisor", SUPERVISOR.password);
  const ctx = makeContext(server, browser);
  const signedIn = await ctx.newPage();
  await ctx.signIn(signedIn, SUPERVISOR.username, SUPERVISOR.password);
  const session = await signedIn.context().storageState();
  await signedIn.context().close();

  const fresh = () => browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 }, storageState: session });
  const firstRow = (page) => page.locator('[data-testid="queue-row"] [data-testid="queue-open"]').first();
  const interactive = async (page) => {
    await firstRow(page).waitFor({ state: "visible", timeout: 60_000 });
    if (!(await firstRow(page).isEnabled())) throw new Error("the first row's button is not enabled");
  };

  const blank = [];
  const first = [];
  const warm = [];
  let assetBytes = null;
  for (let n = 0; n < loads; n++) {
    const context = await fresh();
    const page = await context.newPage();
    let started = performance.now();
    await page.goto(`${server.baseUrl}/v1/health`, { waitUntil: "load" });
    blank.push(performance.now() - started);
    await context.close();

    const measured = await fresh();
    const queuePage = await measured.newPage();
    const assets = [];
    queuePage.on("response", (response) => {
      const type = response.request().resourceType();
      if (type === "script" || type === "stylesheet") assets.push(response);
    });
    started = performance.now();
    await queuePage.goto(`${server.baseUrl}/console/#/review`);
    await interactive(queuePage);
    first.push(performance.now() - started);
    if (assetBytes === null) {
      // What this load fetched to show the queue, as the server's gzip would send it.
      const bodies = await Promise.all(assets.map((response) => response.body()));
      assetBytes = bodies.reduce((sum, body) => sum + gzipSync(body, { level: 9 }).length, 0);
      process.stderr.write(`console: ${assets.length} JS/CSS files for the queue, ${round1(assetBytes / 1024)} KB gzip\n`);
    }
    started = performance.now();
    await queuePage.reload();
    await interactive(queuePage);
    warm.push(performance.now() - started);
    await measured.close();
    process.stderr.write(`console: load ${n + 1}/${loads}: blank ${round1(blank.at(-1))} ms, first ${round1(first.at(-1))} ms, warm ${round1(warm.at(-1))} ms\n`);
  }
  const [b, f, w] = [summary(blank), summary(first), summary(warm)];
  console.log(
    JSON.stringify({
      first_load_ms: f.median,
      warm_load_ms: w.median,
      blank_ms: b.median,
      js_css_gzip_kb: round1(assetBytes / 1024),
      first_load_range_ms: [f.min, f.max],
      warm_load_range_ms: [w.min, w.max],
      blank_range_ms: [b.min, b.max],
      first_load_vs_blank: round1(f.median / b.median),
      loads,
    }),
  );
} finally {
  await browser.close();
  await server.stop();
}
