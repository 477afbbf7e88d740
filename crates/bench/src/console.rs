//! `console`: the Waypoint Console in headless Chromium on loopback. A release `waypoint-server`
//! (beside this binary; it embeds `ui/dist`, so build the UI first) serves a data folder holding
//! `--encounters` reports (the `review` bench's realistic ones, stored through the push path), and
//! `ui/tests/console/bench.mjs` measures, over `--loads` page loads each: the time until the review
//! queue is interactive (its first row's button can be clicked) on a first load (new browser
//! profile, empty cache) and a warm one (reload, cached), the same Chromium loading a blank page
//! from the same server (TLS included) as the baseline, and the console's JavaScript and CSS as
//! loaded for the queue, gzip-compressed. Keys: `first_load_ms, warm_load_ms, blank_ms,
//! js_css_gzip_kb` (medians), with their ranges.
//!
//! A quick check: `-- console --encounters 2000`. A filled folder can be kept and reused with
//! `--data-dir DIR` (filled once, then reused while it holds that many reports).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::Value;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, env = "WAYPOINT_BENCH_CONSOLE_ENCOUNTERS", default_value_t = 1_000_000)]
    pub encounters: usize,
    /// Page loads measured per figure (the median is reported).
    #[arg(long, default_value_t = 7)]
    pub loads: usize,
    /// A data folder to fill (once) and serve; a temporary one when not given.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The release server beside this binary (`cargo build --release -p waypoint-server`).
fn server_binary() -> Result<PathBuf, String> {
    let here = std::env::current_exe().map_err(err)?;
    let server = here.with_file_name("waypoint-server");
    if !server.exists() {
        return Err(format!(
            "no waypoint-server beside {}: cd ui && npm run build, then cargo build --release -p waypoint-server",
            here.display()
        ));
    }
    Ok(server)
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// How many reports the folder's store holds (0 when it has none yet).
fn held(runtime: &tokio::runtime::Runtime, data_dir: &Path) -> Result<u64, String> {
    let store = open(runtime, data_dir)?;
    let held = runtime.block_on(store.review_metrics()).map_err(err)?.review_queue;
    Ok(held)
}

fn open(runtime: &tokio::runtime::Runtime, data_dir: &Path) -> Result<waypoint_server::store::SharedStore, String> {
    let key = waypoint_server::database_key::DatabaseKey::read(&data_dir.join(waypoint_server::database_key::KEY_FILE))
        .map_err(err)?;
    let database = data_dir.join("waypoint.sqlite");
    runtime.block_on(waypoint_server::store::open(&database.to_string_lossy(), Some(&key))).map_err(err)
}

pub fn run(args: Args) -> Result<Value, String> {
    let server = server_binary()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(err)?;
    let tmp = tempfile::tempdir().map_err(err)?;
    let data_dir = args.data_dir.clone().unwrap_or_else(|| tmp.path().join("server"));
    if !data_dir.join("waypoint.sqlite").exists() {
        std::fs::create_dir_all(&data_dir).map_err(err)?;
        let init = Command::new(&server).arg("--data-dir").arg(&data_dir).arg("init").output().map_err(err)?;
        if !init.status.success() {
            return Err(format!("waypoint-server init: {}", String::from_utf8_lossy(&init.stderr)));
        }
    }
    let already = held(&runtime, &data_dir)?;
    if already == 0 {
        eprintln!("console: storing {} encounters in {}", args.encounters, data_dir.display());
        let started = Instant::now();
        let store = open(&runtime, &data_dir)?;
        runtime.block_on(crate::review::fill(&store, args.encounters))?;
        drop(store);
        eprintln!("console:   stored in {:.0} s", started.elapsed().as_secs_f64());
    } else if already != args.encounters as u64 {
        return Err(format!(
            "{} holds {already} reports, not {}: give another --data-dir or --encounters {already}",
            data_dir.display(),
            args.encounters
        ));
    } else {
        eprintln!("console: reusing {} ({already} reports)", data_dir.display());
    }

    let ui = repo_root().join("ui");
    let output = Command::new("node")
        .arg("tests/console/bench.mjs")
        .current_dir(&ui)
        .env("WAYPOINT_SERVER", &server)
        .env("WAYPOINT_BENCH_DATA_DIR", &data_dir)
        .env("WAYPOINT_BENCH_LOADS", args.loads.to_string())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("node tests/console/bench.mjs: {e} (node and ui/node_modules are needed)"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!("the browser part failed: {stdout}"));
    }
    let last = stdout.lines().last().unwrap_or_default();
    let mut figures: Value = serde_json::from_str(last).map_err(|e| format!("{e}: {last}"))?;
    figures["bench"] = "console".into();
    figures["encounters"] = args.encounters.into();
    Ok(figures)
}
