//! `sync`: a fresh device pushes 10,000 encounters (about 2.1 KB of JSON each) to a
//! waypoint-server on 127.0.0.1 (SQLite), and a fresh device pulls 30,000 directory records
//! (about 0.7 KB each), through the real core sync engine and HTTP transport. Each is run again
//! with the connection cut half-way (by bytes) and resumed, to measure what a resume costs.
//! Bytes are counted on the wire by a loopback proxy (HTTP headers included).

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use waypoint_core::keys::KdfParams;
use waypoint_core::sync::http::{HttpConfig, HttpTransport};
use waypoint_core::{AgencyConfig, Encounter, Waypoint};

use crate::net::{CountingProxy, Direction, LocalServer};
use crate::stats::round3;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 10_000)]
    pub encounters: usize,
    #[arg(long, default_value_t = 30_000)]
    pub directory: usize,
    /// Push batch and pull page size, in body bytes.
    #[arg(long, default_value_t = waypoint_protocol::DEFAULT_BATCH_BYTES)]
    pub batch_bytes: usize,
}

const PIN: &str = "bench-passphrase";

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A complete encounter of about 2.1 KB of JSON.
fn complete(mut e: Encounter, n: usize, rng: &mut StdRng) -> Encounter {
    e.call.call_type = Some("911".into());
    e.call.nature_of_call = Some("welfare check, person talking about ending their life".into());
    e.incident_number = Some(format!("26-{:06}", rng.gen_range(0..999_999)));
    e.crisis_natures = vec!["unknown".into()];
    e.behaviours = vec!["suicide_threat".into(), "hopeless_depressed".into(), "disoriented".into()];
    e.risk.substances = vec!["alcohol".into()];
    e.dispositions = vec!["transport_crisis_centre".into(), "referral_made".into()];
    e.diversion.custody_diverted = Some(true);
    e.response.minutes_on_scene = Some(rng.gen_range(10..120));
    e.narrative = format!(
        "Encounter {n}. {}",
        "Officer arrived, de-escalated, subject agreed to go to the crisis centre voluntarily. ".repeat(8)
    );
    e
}

/// A directory service document of about 0.7 KB.
fn service(n: usize, rng: &mut StdRng) -> Value {
    let id = uuid::Uuid::from_u128(rng.gen()).to_string();
    json!({
        "id": id,
        "name": format!("Crisis stabilization unit {n}"),
        "description": "Walk-in crisis care for adults: assessment, short stays, referral to outpatient services.",
        "status": "active",
        "organization": {"id": uuid::Uuid::from_u128(rng.gen()).to_string(), "name": format!("County behavioral health {}", n % 700)},
        "phones": [{"number": format!("+1 {} {} {:04}", rng.gen_range(200..999), rng.gen_range(200..999), rng.gen_range(0..9999)), "type": "voice"}],
        "address": {"address_1": format!("{} Main Street", rng.gen_range(1..9999)), "city": "Springfield", "state_province": "IL", "postal_code": format!("{:05}", rng.gen_range(10000..99999)), "country": "US"},
        "location": {"latitude": rng.gen_range(25.0..49.0_f64), "longitude": rng.gen_range(-124.0..-67.0_f64)},
        "service_types": ["crisis_stabilization", "walk_in"],
        "schedules": [{"byday": "MO,TU,WE,TH,FR", "opens_at": "08:00", "closes_at": "20:00"}]
    })
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(err)?;
    for entry in std::fs::read_dir(from).map_err(err)? {
        let entry = entry.map_err(err)?;
        let target = to.join(entry.file_name());
        if entry.file_type().map_err(err)?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target).map_err(err)?;
        }
    }
    Ok(())
}

fn open_device(dir: &Path) -> Result<Waypoint, String> {
    Waypoint::open_with_kdf(dir, AgencyConfig::demo(), KdfParams::insecure_fast()).map_err(err)
}

/// Wraps the HTTP transport to split the time between the round trips (network and server) and
/// the rest (the device's own work: reading its outbox, applying acks and pages).
struct TimedTransport {
    inner: HttpTransport,
    round_trips: std::time::Duration,
}

impl waypoint_core::sync::Transport for TimedTransport {
    fn push(
        &mut self,
        request: &waypoint_protocol::RawPushRequest,
    ) -> Result<waypoint_protocol::PushResponse, waypoint_core::sync::TransportError> {
        let started = Instant::now();
        let reply = self.inner.push(request);
        self.round_trips += started.elapsed();
        reply
    }

    fn push_two(
        &mut self,
        first: &waypoint_protocol::RawPushRequest,
        second: &waypoint_protocol::RawPushRequest,
    ) -> [Result<waypoint_protocol::PushResponse, waypoint_core::sync::TransportError>; 2] {
        let started = Instant::now();
        let replies = self.inner.push_two(first, second);
        self.round_trips += started.elapsed();
        replies
    }

    fn pull(
        &mut self,
        cursor: u64,
        max_bytes: usize,
    ) -> Result<waypoint_protocol::PullResponse, waypoint_core::sync::TransportError> {
        let started = Instant::now();
        let reply = self.inner.pull(cursor, max_bytes);
        self.round_trips += started.elapsed();
        reply
    }

    fn push_audit(
        &mut self,
        request: &waypoint_protocol::audit::AuditPushRequest,
    ) -> Result<waypoint_protocol::audit::AuditPushResponse, waypoint_core::sync::TransportError> {
        let started = Instant::now();
        let reply = self.inner.push_audit(request);
        self.round_trips += started.elapsed();
        reply
    }
}

struct Run {
    seconds: f64,
    wire_up: u64,
    wire_down: u64,
    requests: u64,
    attempts: u32,
    round_trip_seconds: f64,
    /// Push: versions the server holds (and how many duplicate acks the resume got).
    held: usize,
    duplicate_acks: u32,
    /// Pull: how many times each directory key reached the device.
    received: HashMap<String, u32>,
}

/// Syncs `device` until a round completes (a cut makes the first round fail).
fn sync_until_done(
    device: &Waypoint,
    transport: &mut TimedTransport,
    batch_bytes: usize,
    received: &mut HashMap<String, u32>,
) -> Result<(u32, u32), String> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let mut on_change = |changes: &[waypoint_protocol::Change]| {
            for change in changes {
                *received.entry(change.key.clone()).or_default() += 1;
            }
            Ok(())
        };
        match device.sync_once(transport, batch_bytes, &mut on_change) {
            // Records settled before the cut stay settled: the resumed round re-sends only the rest.
            Ok(report) => return Ok((attempts, report.duplicates)),
            Err(e) if attempts < 5 => eprintln!("  round {attempts} failed ({e}); resuming"),
            Err(e) => return Err(format!("sync does not complete: {e}")),
        }
    }
}

/// The server's encrypted SQLite store in `work`, with its key file beside it.
async fn open_server_store(work: &Path) -> Result<waypoint_server::store::SharedStore, String> {
    std::fs::create_dir_all(work).map_err(err)?;
    let database = work.join("server.sqlite");
    let key = waypoint_server::database_key::DatabaseKey::for_database(&work.join("database.key"), &database)
        .map_err(|e| format!("{e:#}"))?;
    waypoint_server::store::open(&database.to_string_lossy(), Some(&key)).await.map_err(|e| format!("{e:#}"))
}

fn push_run(
    runtime: &tokio::runtime::Runtime,
    work: &Path,
    template: &Path,
    batch_bytes: usize,
    cut_at: Option<u64>,
) -> Result<Run, String> {
    let store = runtime.block_on(open_server_store(work)).map_err(err)?;
    let server = LocalServer::start(runtime, store.clone())?;
    let proxy = CountingProxy::start(runtime, server.addr)?;
    let device_dir = work.join("device");
    copy_dir(template, &device_dir)?;
    let device = open_device(&device_dir)?;
    device.unlock(PIN).map_err(err)?;
    // Enrolled under the id its reports carry, with its officer signed in (pushes need both).
    let device_id = device.status().map_err(err)?.device_id.ok_or("the device has no id")?;
    let (token, officer_token) = runtime.block_on(enroll_signed_in(&store, &device_id))?;
    let inner = HttpTransport::new(&HttpConfig::new(format!("http://{}", proxy.addr)), token)
        .map_err(err)?
        .with_officer(officer_token);
    let mut transport = TimedTransport { inner, round_trips: std::time::Duration::ZERO };
    if let Some(at) = cut_at {
        proxy.cut_once_at(Direction::Up, at);
    }
    let started = Instant::now();
    let (attempts, duplicate_acks) = sync_until_done(&device, &mut transport, batch_bytes, &mut HashMap::new())?;
    let seconds = started.elapsed().as_secs_f64();
    let (wire_up, wire_down) = proxy.bytes();
    let held = runtime.block_on(store.versions_since(None)).map_err(err)?.len();
    Ok(Run {
        seconds,
        wire_up,
        wire_down,
        requests: transport.inner.counters.requests,
        round_trip_seconds: transport.round_trips.as_secs_f64(),
        attempts,
        held,
        duplicate_acks,
        received: HashMap::new(),
    })
}

fn pull_run(
    runtime: &tokio::runtime::Runtime,
    work: &Path,
    services: &[Value],
    batch_bytes: usize,
    cut_at: Option<u64>,
) -> Result<Run, String> {
    let store = runtime.block_on(open_server_store(work)).map_err(err)?;
    runtime.block_on(waypoint_server::directory_feed::publish(&store, services.to_vec())).map_err(err)?;
    let server = LocalServer::start(runtime, store.clone())?;
    let proxy = CountingProxy::start(runtime, server.addr)?;
    let device = open_device(&work.join("device"))?;
    device.setup("bench-officer", PIN).map_err(err)?;
    let device_id = uuid::Uuid::now_v7().to_string();
    let token = runtime.block_on(enroll(&store, &device_id))?;
    let inner = HttpTransport::new(&HttpConfig::new(format!("http://{}", proxy.addr)), token).map_err(err)?;
    let mut transport = TimedTransport { inner, round_trips: std::time::Duration::ZERO };
    if let Some(at) = cut_at {
        proxy.cut_once_at(Direction::Down, at);
    }
    let mut received = HashMap::new();
    let started = Instant::now();
    let (attempts, _) = sync_until_done(&device, &mut transport, batch_bytes, &mut received)?;
    let seconds = started.elapsed().as_secs_f64();
    let (wire_up, wire_down) = proxy.bytes();
    Ok(Run {
        seconds,
        wire_up,
        wire_down,
        requests: transport.inner.counters.requests,
        round_trip_seconds: transport.round_trips.as_secs_f64(),
        attempts,
        held: 0,
        duplicate_acks: 0,
        received,
    })
}

/// Enrolls `device_id` and signs `bench-officer` in on it: (device token, officer token).
async fn enroll_signed_in(
    store: &waypoint_server::store::SharedStore,
    device_id: &str,
) -> Result<(String, String), String> {
    use waypoint_server::auth;
    let token = enroll(store, device_id).await?;
    let password_hash = auth::hash_password("bench password").map_err(err)?;
    let officer = waypoint_server::store::UserRecord {
        username: "bench-officer".into(),
        officer_id: "bench-officer".into(),
        role: waypoint_protocol::Role::Officer,
        password_hash,
    };
    store.add_user(officer).await.map_err(err)?;
    let officer_token = waypoint_server::identity::new_officer_token();
    store.add_officer_credential(&auth::token_hash(&officer_token), "bench-officer", device_id).await.map_err(err)?;
    Ok((token, officer_token))
}

async fn enroll(store: &waypoint_server::store::SharedStore, device_id: &str) -> Result<String, String> {
    use waypoint_server::auth;
    let code = auth::create_enrollment(store).await.map_err(err)?;
    let token = auth::new_device_token();
    let ok = store
        .redeem_enrollment(&auth::enrollment_code_hash(&code), chrono::Utc::now(), device_id, &auth::token_hash(&token))
        .await
        .map_err(err)?;
    if !ok {
        return Err("enrollment failed".into());
    }
    Ok(token)
}

pub fn run(args: Args) -> Result<Value, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(err)?;
    let tmp = tempfile::tempdir().map_err(err)?;
    let mut rng = StdRng::seed_from_u64(7);

    eprintln!("sync: preparing a device with {} submitted encounters (not timed)", args.encounters);
    let template = tmp.path().join("device-template");
    let mut body_bytes = 0usize;
    {
        let device = open_device(&template)?;
        device.setup("bench-officer", PIN).map_err(err)?;
        for n in 0..args.encounters {
            let submitted = device.submit(complete(device.new_encounter().map_err(err)?, n, &mut rng)).map_err(err)?;
            body_bytes += serde_json::to_vec(&submitted).map_err(err)?.len();
            if n > 0 && n % 2000 == 0 {
                eprintln!("  {n} submitted");
            }
        }
    }
    let services: Vec<Value> = (0..args.directory).map(|n| service(n, &mut rng)).collect();
    let directory_bytes: usize = services.iter().map(|s| s.to_string().len()).sum();
    eprintln!(
        "sync: encounters average {:.0} bytes of JSON, directory records {:.0} bytes",
        body_bytes as f64 / args.encounters.max(1) as f64,
        directory_bytes as f64 / args.directory.max(1) as f64
    );

    let push = push_run(&runtime, &tmp.path().join("push"), &template, args.batch_bytes, None)?;
    eprintln!(
        "sync: push {:.3} s ({:.3} s in round trips), {} bytes up, {} bytes down, {} requests",
        push.seconds, push.round_trip_seconds, push.wire_up, push.wire_down, push.requests
    );
    let push_cut =
        push_run(&runtime, &tmp.path().join("push-cut"), &template, args.batch_bytes, Some(push.wire_up / 2))?;
    eprintln!(
        "sync: push cut half-way and resumed: {} bytes up in {} rounds, {} re-acknowledged as duplicates",
        push_cut.wire_up, push_cut.attempts, push_cut.duplicate_acks
    );
    let pull = pull_run(&runtime, &tmp.path().join("pull"), &services, args.batch_bytes, None)?;
    eprintln!(
        "sync: pull {:.3} s ({:.3} s in round trips), {} bytes down, {} bytes up, {} requests",
        pull.seconds, pull.round_trip_seconds, pull.wire_down, pull.wire_up, pull.requests
    );
    let pull_cut =
        pull_run(&runtime, &tmp.path().join("pull-cut"), &services, args.batch_bytes, Some(pull.wire_down / 2))?;
    eprintln!("sync: pull cut half-way and resumed: {} bytes down in {} rounds", pull_cut.wire_down, pull_cut.attempts);

    let extra_pct = |cut: u64, clean: u64| round3((cut as f64 - clean as f64) / clean.max(1) as f64 * 100.0);
    let pulled_twice = |run: &Run| run.received.values().map(|n| n.saturating_sub(1) as u64).sum::<u64>();
    let pull_missing = |run: &Run| (args.directory - run.received.len()) as u64;
    let duplicates = pulled_twice(&pull) + pulled_twice(&pull_cut);
    let lost = (args.encounters - push.held) as u64
        + (args.encounters - push_cut.held) as u64
        + pull_missing(&pull)
        + pull_missing(&pull_cut);
    Ok(json!({
        "bench": "sync",
        "encounters": args.encounters,
        "directory_records": args.directory,
        "push_s": round3(push.seconds),
        "push_bytes_up": push.wire_up,
        "push_bytes_down": push.wire_down,
        "push_requests": push.requests,
        "pull_s": round3(pull.seconds),
        "pull_bytes_down": pull.wire_down,
        "pull_bytes_up": pull.wire_up,
        "pull_requests": pull.requests,
        "push_resume_extra_pct": extra_pct(push_cut.wire_up, push.wire_up),
        "pull_resume_extra_pct": extra_pct(pull_cut.wire_down, pull.wire_down),
        "duplicates": duplicates,
        "lost": lost,
    }))
}
