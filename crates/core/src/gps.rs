//! Position from gpsd, which is what patrol-car GPS receivers feed on Linux.
//!
//! A background thread keeps a connection to gpsd (reconnecting when it goes away) and keeps the
//! latest fix. Nothing waits on it: without gpsd, or without a fix, the officer places the
//! location on the map or types an address instead.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// gpsd's own port.
pub const DEFAULT_GPSD_ADDR: &str = "127.0.0.1:2947";
/// A fix older than this is reported as lost: a stale position would send the officer wrong.
pub const FIX_MAX_AGE_SECS: i64 = 15;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct GpsFix {
    pub lat: f64,
    pub lon: f64,
    /// Horizontal error estimate in metres (gpsd's `eph`, else the larger of `epx`/`epy`).
    pub accuracy_m: Option<f64>,
    /// 2 = 2D fix, 3 = 3D fix.
    pub mode: u8,
    /// The receiver's time of the fix, as gpsd gave it.
    pub time: Option<String>,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum GpsState {
    /// gpsd is not reachable.
    Unavailable,
    /// gpsd answers but has no (recent) fix.
    Searching,
    Fix,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct GpsReading {
    pub state: GpsState,
    pub fix: Option<GpsFix>,
    /// What to show beside the GPS button ("GPS ±8 m", "No GPS receiver (gpsd not running)").
    pub message: String,
}

/// One gpsd report line; only the fields Waypoint uses.
#[derive(Debug, Deserialize)]
struct Report {
    class: String,
    #[serde(default)]
    mode: u8,
    lat: Option<f64>,
    lon: Option<f64>,
    eph: Option<f64>,
    epx: Option<f64>,
    epy: Option<f64>,
    time: Option<String>,
}

/// Parses one line from gpsd: `Some(fix)` for a TPV report with a 2D/3D position.
pub fn parse_fix(line: &str, now: DateTime<Utc>) -> Option<GpsFix> {
    let report: Report = serde_json::from_str(line).ok()?;
    if report.class != "TPV" || report.mode < 2 {
        return None;
    }
    let (lat, lon) = (report.lat?, report.lon?);
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return None;
    }
    let accuracy_m = report.eph.or_else(|| match (report.epx, report.epy) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    });
    Some(GpsFix { lat, lon, accuracy_m, mode: report.mode, time: report.time, received_at: now })
}

#[derive(Debug, Default)]
struct Shared {
    connected: bool,
    last_fix: Option<GpsFix>,
    last_error: Option<String>,
}

/// Watches gpsd in a background thread until dropped.
pub struct GpsWatcher {
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl GpsWatcher {
    /// Starts watching gpsd at `addr` ("host:port").
    pub fn start(addr: impl Into<String>) -> GpsWatcher {
        let addr = addr.into();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (shared, stop) = (shared.clone(), stop.clone());
            std::thread::Builder::new()
                .name("gpsd".into())
                .spawn(move || watch(&addr, &shared, &stop))
                .expect("spawn the gpsd thread")
        };
        GpsWatcher { shared, stop, thread: Some(thread) }
    }

    /// The latest reading; a fix older than [`FIX_MAX_AGE_SECS`] counts as lost.
    pub fn reading(&self) -> GpsReading {
        self.reading_at(Utc::now())
    }

    pub fn reading_at(&self, now: DateTime<Utc>) -> GpsReading {
        let shared = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = shared.last_fix.as_ref().filter(|f| (now - f.received_at).num_seconds() <= FIX_MAX_AGE_SECS);
        match (shared.connected, fresh) {
            (_, Some(fix)) => GpsReading {
                state: GpsState::Fix,
                fix: Some(fix.clone()),
                message: match fix.accuracy_m {
                    Some(m) => format!("GPS ±{} m", m.round() as i64),
                    None => "GPS (accuracy unknown)".into(),
                },
            },
            (true, None) => {
                GpsReading { state: GpsState::Searching, fix: None, message: "GPS: searching for a fix".into() }
            }
            (false, None) => GpsReading {
                state: GpsState::Unavailable,
                fix: None,
                message: format!("No GPS receiver ({})", shared.last_error.as_deref().unwrap_or("gpsd not reachable")),
            },
        }
    }
}

impl Drop for GpsWatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn watch(addr: &str, shared: &Mutex<Shared>, stop: &AtomicBool) {
    let mut backoff = Duration::from_millis(250);
    while !stop.load(Ordering::Relaxed) {
        match session(addr, shared, stop) {
            Ok(()) => backoff = Duration::from_millis(250),
            Err(error) => {
                let mut s = shared.lock().unwrap_or_else(|p| p.into_inner());
                s.connected = false;
                s.last_error = Some(error);
            }
        }
        // Sleep in short steps so that dropping the watcher is prompt.
        let mut slept = Duration::ZERO;
        while slept < backoff && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(50));
            slept += Duration::from_millis(50);
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// One connection: WATCH, then read reports until gpsd goes away or the watcher stops.
fn session(addr: &str, shared: &Mutex<Shared>, stop: &AtomicBool) -> Result<(), String> {
    let target = addr
        .to_socket_addrs()
        .map_err(|e| format!("bad gpsd address {addr}: {e}"))?
        .next()
        .ok_or_else(|| format!("bad gpsd address {addr}"))?;
    let mut stream = TcpStream::connect_timeout(&target, Duration::from_secs(1))
        .map_err(|e| format!("gpsd at {addr}: {}", e.kind()))?;
    stream.set_read_timeout(Some(Duration::from_millis(500))).map_err(|e| e.to_string())?;
    stream.write_all(b"?WATCH={\"enable\":true,\"json\":true};\n").map_err(|e| e.to_string())?;
    shared.lock().unwrap_or_else(|p| p.into_inner()).connected = true;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    while !stop.load(Ordering::Relaxed) {
        // A read timeout keeps the partial line in `line`; it is cleared only once complete.
        match reader.read_line(&mut line) {
            Ok(0) => return Err("gpsd closed the connection".into()),
            Ok(_) => {
                if let Some(fix) = parse_fix(line.trim(), Utc::now()) {
                    let mut s = shared.lock().unwrap_or_else(|p| p.into_inner());
                    s.last_fix = Some(fix);
                    s.last_error = None;
                }
                line.clear();
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(e) => return Err(format!("gpsd: {e}")),
        }
    }
    Ok(())
}
