//! `startup`: process start to first painted frame of the Waypoint app beside a bare Tauri window
//! (the same hook, an inline page, no core), alternating runs in the same session. Both report
//! through `report_first_paint` when WAYPOINT_EXIT_AFTER_FIRST_PAINT=1 and exit.
//! The file cache is warm (one unmeasured run of each first): this measures the app's own start-up
//! work, not the disk.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::stats::{quantile_ms, round3};

#[derive(clap::Args)]
pub struct Args {
    /// Measured runs of each binary.
    #[arg(long, default_value_t = 7)]
    pub runs: usize,
    /// The Waypoint app binary (default: <target>/release/waypoint-app).
    #[arg(long)]
    pub app: Option<PathBuf>,
    /// The bare-window baseline binary (default: <target>/release/bare-window).
    #[arg(long)]
    pub bare: Option<PathBuf>,
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

fn binary(given: Option<PathBuf>, name: &str) -> Result<PathBuf, String> {
    let path = given.unwrap_or_else(|| target_dir().join("release").join(name));
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing: build it first with `npm --prefix ui run build && cargo build --release -p waypoint-app`",
            path.display()
        ))
    }
}

/// An Xvfb server for the run when there is no display; stopped on drop.
struct VirtualDisplay(Option<Child>);

impl Drop for VirtualDisplay {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn ensure_display() -> Result<(VirtualDisplay, String), String> {
    if let Ok(display) = std::env::var("DISPLAY") {
        if !display.is_empty() {
            return Ok((VirtualDisplay(None), display));
        }
    }
    // -displayfd: Xvfb picks a free display itself and writes its number once it accepts
    // clients. Guessing a free number raced with the previous run's Xvfb still exiting.
    let mut child = Command::new("Xvfb")
        .args(["-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("no DISPLAY and Xvfb cannot start ({e}): apt-get install xvfb"))?;
    let stdout = child.stdout.take().expect("piped");
    let guard = VirtualDisplay(Some(child));
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
        let _ = sender.send(line);
    });
    let line =
        receiver.recv_timeout(Duration::from_secs(10)).map_err(|_| "Xvfb did not start within 10 s".to_string())?;
    let number: u32 = line.trim().parse().map_err(|_| format!("Xvfb reported no display number ({line:?})"))?;
    eprintln!("startup: started Xvfb on :{number}");
    Ok((guard, format!(":{number}")))
}

/// Spawn to the `first-paint` line, in a fresh data folder (the first-run screen).
fn time_to_first_paint(bin: &Path, display: &str) -> Result<Duration, String> {
    let data_dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut child = Command::new(bin)
        .env("DISPLAY", display)
        .env("WAYPOINT_EXIT_AFTER_FIRST_PAINT", "1")
        .env("WAYPOINT_DATA_DIR", data_dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.trim() == "first-paint" {
                let _ = tx.send(started.elapsed());
                return;
            }
        }
    });
    let result = rx.recv_timeout(Duration::from_secs(60));
    // The app exits by itself after reporting; make sure of it either way.
    let deadline = Instant::now() + Duration::from_secs(5);
    while child.try_wait().map_err(|e| e.to_string())?.is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    result.map_err(|_| format!("{} did not report a first paint within 60 s", bin.display()))
}

pub fn run(args: Args) -> Result<serde_json::Value, String> {
    let app = binary(args.app, "waypoint-app")?;
    let bare = binary(args.bare, "bare-window")?;
    let (_display_guard, display) = ensure_display()?;
    time_to_first_paint(&bare, &display)?;
    time_to_first_paint(&app, &display)?;
    let mut app_times = Vec::new();
    let mut bare_times = Vec::new();
    for run in 0..args.runs {
        bare_times.push(time_to_first_paint(&bare, &display)?);
        app_times.push(time_to_first_paint(&app, &display)?);
        eprintln!(
            "startup: run {}: bare {:.0} ms, app {:.0} ms",
            run + 1,
            bare_times[run].as_secs_f64() * 1000.0,
            app_times[run].as_secs_f64() * 1000.0
        );
    }
    let app_ms = quantile_ms(&mut app_times, 0.5);
    let bare_ms = quantile_ms(&mut bare_times, 0.5);
    eprintln!("startup: median app {app_ms:.0} ms vs bare window {bare_ms:.0} ms (target ratio <= 1.3)");
    Ok(json!({
        "bench": "startup",
        "runs": args.runs,
        "app_ms": round3(app_ms),
        "bare_ms": round3(bare_ms),
        "ratio": round3(app_ms / bare_ms),
    }))
}
