//! Chaos: devices sync through a loopback TCP proxy that cuts connections at random byte offsets
//! (requests cut short, replies dropped after the server committed), delays traffic and replays
//! whole requests a second time. Devices keep working (submits, amendments, restarts) throughout.
//! After the network heals, every outbox is empty and the server holds every version exactly
//! once, with no false conflicts, on SQLite and PostgreSQL.
//!
//! CI runs a small fleet; the size runs by hand:
//! `WAYPOINT_CHAOS_DEVICES=20 WAYPOINT_CHAOS_ENCOUNTERS=500 cargo test --release -p waypoint-server --test chaos`
//! (`WAYPOINT_CHAOS_SEED` replays a run).

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;
use waypoint_core::keys::KdfParams;
use waypoint_core::sync::http::{HttpConfig, HttpTransport};
use waypoint_core::SyncState;
use waypoint_core::{AgencyConfig, Encounter, Waypoint};
use waypoint_protocol::{Role, DEFAULT_BATCH_BYTES};
use waypoint_server::Settings;

on_both_stores!(every_version_arrives_exactly_once_through_a_hostile_network);

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[derive(Default)]
struct FaultCounts {
    connections: AtomicU64,
    cut_requests: AtomicU64,
    cut_replies: AtomicU64,
    replayed: AtomicU64,
    delayed: AtomicU64,
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    None,
    /// Close both ways once this many request bytes went through.
    CutRequest(usize),
    /// Close both ways once this many reply bytes went through (the server has usually committed).
    CutReply(usize),
    /// Forward normally, then send the same request bytes again on a new connection.
    Replay,
    /// Forward normally, pausing before each chunk.
    Delay(u64),
}

struct ChaosProxy {
    addr: SocketAddr,
    counts: Arc<FaultCounts>,
    healed: Arc<AtomicBool>,
    in_flight: Arc<AtomicUsize>,
}

enum Copied {
    Eof,
    Cut,
}

/// Copies until EOF, or until `cut_after` bytes passed (then stops: the caller drops both sockets).
async fn copy(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    cut_after: Option<usize>,
    delay_ms: u64,
    mut tee: Option<&mut Vec<u8>>,
) -> Copied {
    let mut buffer = vec![0u8; 16 * 1024];
    let mut passed = 0usize;
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => {
                let _ = to.shutdown().await;
                return Copied::Eof;
            }
            Ok(n) => n,
        };
        if delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        }
        let allowed = cut_after.map_or(n, |limit| n.min(limit - passed));
        if let Some(tee) = tee.as_deref_mut() {
            tee.extend_from_slice(&buffer[..allowed]);
        }
        if to.write_all(&buffer[..allowed]).await.is_err() {
            return Copied::Cut;
        }
        passed += allowed;
        if cut_after.is_some_and(|limit| passed >= limit) {
            return Copied::Cut;
        }
    }
}

impl ChaosProxy {
    async fn start(upstream: SocketAddr, seed: u64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = ChaosProxy {
            addr: listener.local_addr().unwrap(),
            counts: Arc::new(FaultCounts::default()),
            healed: Arc::new(AtomicBool::new(false)),
            in_flight: Arc::new(AtomicUsize::new(0)),
        };
        let (counts, healed, in_flight) = (proxy.counts.clone(), proxy.healed.clone(), proxy.in_flight.clone());
        tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed);
            while let Ok((client, _)) = listener.accept().await {
                counts.connections.fetch_add(1, Ordering::Relaxed);
                let fault = if healed.load(Ordering::SeqCst) {
                    Fault::None
                } else {
                    match rng.gen_range(0..100) {
                        0..=34 => Fault::None,
                        35..=54 => Fault::CutRequest(rng.gen_range(0..1500)),
                        55..=74 => Fault::CutReply(rng.gen_range(0..400)),
                        75..=89 => Fault::Replay,
                        _ => Fault::Delay(rng.gen_range(1..20)),
                    }
                };
                let (counts, in_flight) = (counts.clone(), in_flight.clone());
                in_flight.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let _ =
                        tokio::time::timeout(Duration::from_secs(30), relay(client, upstream, fault, &counts)).await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        proxy
    }

    fn heal(&self) {
        self.healed.store(true, Ordering::SeqCst);
    }

    /// Waits until no relayed connection or replay is still open.
    async fn settle(&self) {
        for _ in 0..600 {
            if self.in_flight.load(Ordering::SeqCst) == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the proxy did not settle");
    }
}

async fn relay(client: TcpStream, upstream: SocketAddr, fault: Fault, counts: &FaultCounts) {
    let Ok(server) = TcpStream::connect(upstream).await else { return };
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let (cut_up, cut_down, delay) = match fault {
        Fault::CutRequest(at) => (Some(at), None, 0),
        Fault::CutReply(at) => (None, Some(at), 0),
        Fault::Delay(ms) => (None, None, ms),
        Fault::None | Fault::Replay => (None, None, 0),
    };
    let mut request_bytes = Vec::new();
    let outcome = {
        let tee = matches!(fault, Fault::Replay).then_some(&mut request_bytes);
        let up = copy(client_read, server_write, cut_up, delay, tee);
        let down = copy(server_read, client_write, cut_down, delay, None);
        tokio::pin!(up, down);
        // A cut in either direction ends the relay, dropping (closing) all four halves.
        tokio::select! {
            copied = &mut up => match copied { Copied::Cut => Copied::Cut, Copied::Eof => (&mut down).await },
            copied = &mut down => match copied { Copied::Cut => Copied::Cut, Copied::Eof => (&mut up).await },
        }
    };
    match (fault, outcome) {
        (Fault::CutRequest(_), Copied::Cut) => counts.cut_requests.fetch_add(1, Ordering::Relaxed),
        (Fault::CutReply(_), Copied::Cut) => counts.cut_replies.fetch_add(1, Ordering::Relaxed),
        (Fault::Delay(_), _) => counts.delayed.fetch_add(1, Ordering::Relaxed),
        _ => 0,
    };
    if matches!(fault, Fault::Replay) && !request_bytes.is_empty() {
        // The same request again, late, from "nowhere": its reply goes unread.
        if let Ok(mut again) = TcpStream::connect(upstream).await {
            if again.write_all(&request_bytes).await.is_ok() {
                let _ = again.shutdown().await;
                let mut sink = Vec::new();
                let _ = tokio::time::timeout(Duration::from_secs(10), again.read_to_end(&mut sink)).await;
                counts.replayed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

fn complete(mut e: Encounter, narrative: &str) -> Encounter {
    e.call.call_type = Some("911".into());
    e.call.nature_of_call = Some("welfare check".into());
    e.crisis_natures = vec!["unknown".into()];
    e.behaviours = vec!["suicide_threat".into()];
    e.dispositions = vec!["transport_crisis_centre".into()];
    e.diversion.custody_diverted = Some(true);
    e.narrative = narrative.into();
    e
}

fn no_directory(_: &[waypoint_protocol::Change]) -> waypoint_core::Result<()> {
    Ok(())
}

const PIN: &str = "482913";

/// Sets a device up for officer `badge-{index}` in `dir`; returns the device id it made.
fn set_up_device(index: usize, dir: &std::path::Path) -> String {
    let device = Waypoint::open_with_kdf(dir, AgencyConfig::demo(), KdfParams::insecure_fast()).unwrap();
    device.setup(&format!("badge-{index}"), PIN).unwrap();
    let status = device.status().unwrap();
    status.device_id.expect("a device id made at setup")
}

/// The device's credentials: its device token and its officer's credential on it.
#[derive(Clone)]
struct Credentials {
    device_token: String,
    officer_token: String,
}

impl Credentials {
    fn transport(&self, config: &HttpConfig) -> HttpTransport {
        HttpTransport::new(config, self.device_token.clone()).unwrap().with_officer(self.officer_token.clone())
    }
}

/// One device's life: submits, amends every fourth report, restarts now and then, and tries to
/// sync after every few saves whatever the network does. Returns what it submitted:
/// (id, version) -> narrative, and the device's folder.
fn device_life(
    index: usize,
    encounters: usize,
    credentials: Credentials,
    config: HttpConfig,
    dir: std::path::PathBuf,
) -> HashMap<(Uuid, u32), String> {
    let open = || Waypoint::open_with_kdf(&dir, AgencyConfig::demo(), KdfParams::insecure_fast()).unwrap();
    let mut device = open();
    device.unlock(PIN).unwrap();
    let mut transport = credentials.transport(&config);
    let mut submitted = HashMap::new();
    for n in 0..encounters {
        let narrative = format!("device {index} report {n}");
        let saved = device.submit(complete(device.new_encounter().unwrap(), &narrative)).unwrap();
        submitted.insert((saved.id, 1), narrative.clone());
        if n % 4 == 3 {
            let amended_text = format!("{narrative}, amended");
            let amended = device.submit(complete(device.amend(saved.id).unwrap(), &amended_text)).unwrap();
            submitted.insert((amended.id, amended.version), amended_text);
        }
        if n % 3 == 2 {
            // Small batches so one round spans several requests (and several faults).
            let _ = device.sync_once(&mut transport, 4 * 1024, &mut no_directory);
        }
        if n % 25 == 24 {
            // The app is closed and opened again.
            drop(device);
            device = open();
            device.unlock(PIN).unwrap();
        }
    }
    submitted
}

async fn every_version_arrives_exactly_once_through_a_hostile_network(backend: Backend) {
    let devices = env_or("WAYPOINT_CHAOS_DEVICES", 6) as usize;
    let encounters = env_or("WAYPOINT_CHAOS_ENCOUNTERS", 60) as usize;
    let seed = env_or("WAYPOINT_CHAOS_SEED", rand::random());
    eprintln!("chaos on {backend:?}: {devices} devices x {encounters} encounters, seed {seed}");

    let t = TestStore::new(backend).await;
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let proxy = ChaosProxy::start(server.addr, seed).await;
    let config = HttpConfig {
        timeout: Duration::from_secs(10),
        reuse_connections: false,
        ..HttpConfig::new(format!("http://{}", proxy.addr))
    };
    let folders = tempfile::tempdir().unwrap();

    let mut lives = Vec::new();
    for index in 0..devices {
        // Set up for badge-{index}, enrolled under the id it made, and that officer signed in on it.
        let (config, dir) = (config.clone(), folders.path().join(format!("device-{index}")));
        let device_id = tokio::task::spawn_blocking({
            let dir = dir.clone();
            move || set_up_device(index, &dir)
        })
        .await
        .unwrap();
        let officer = format!("badge-{index}");
        add_user(&t.store, &officer, Role::Officer, "a long passphrase").await;
        let device_token = enroll_device_as(&t.store, &device_id).await;
        let officer_token = officer_credential(&t.store, &officer, &device_id).await;
        let credentials = Credentials { device_token, officer_token };
        lives.push(tokio::task::spawn_blocking(move || {
            let submitted = device_life(index, encounters, credentials.clone(), config, dir.clone());
            (submitted, credentials, dir)
        }));
    }
    let mut fleet = Vec::new();
    for life in lives {
        fleet.push(life.await.unwrap());
    }

    proxy.heal();
    proxy.settle().await;
    let counts = &proxy.counts;
    let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
    eprintln!(
        "faults: {} connections, {} requests cut, {} replies cut, {} replayed, {} delayed",
        load(&counts.connections),
        load(&counts.cut_requests),
        load(&counts.cut_replies),
        load(&counts.replayed),
        load(&counts.delayed)
    );
    assert!(load(&counts.cut_requests) > 0 && load(&counts.cut_replies) > 0 && load(&counts.replayed) > 0);

    // The network is healthy again: each device syncs until its outbox is empty.
    let mut expected = HashMap::new();
    for (submitted, credentials, dir) in fleet {
        let config = config.clone();
        let check = submitted.clone();
        tokio::task::spawn_blocking(move || {
            let device = Waypoint::open_with_kdf(&dir, AgencyConfig::demo(), KdfParams::insecure_fast()).unwrap();
            device.unlock(PIN).unwrap();
            let mut transport = credentials.transport(&config);
            let mut rounds = 0;
            while device.status().unwrap().pending_sync > 0 || rounds == 0 {
                rounds += 1;
                assert!(rounds <= 20, "the outbox does not drain");
                let _ = device.sync_once(&mut transport, DEFAULT_BATCH_BYTES, &mut no_directory);
            }
            for (id, version) in check.keys() {
                let state = device.sync_state(*id, *version).unwrap();
                assert!(matches!(state, Some(SyncState::Synced { note: None, .. })), "{id} v{version}: {state:?}");
            }
        })
        .await
        .unwrap();
        expected.extend(submitted);
    }
    proxy.settle().await;

    let held = t.store.versions_since(None).await.unwrap();
    let mut seen = HashMap::new();
    for version in &held {
        let key = (version.encounter_id, version.version);
        assert!(seen.insert(key, ()).is_none(), "{key:?} held twice");
        let narrative = expected.get(&key).unwrap_or_else(|| panic!("{key:?} was never submitted"));
        assert_eq!(version.body["narrative"].as_str(), Some(narrative.as_str()));
        // Pushed with the officer's credential: the author is the officer the body names.
        assert_eq!(version.body["officer_id"].as_str(), Some(version.officer.as_str()), "{key:?}");
        assert_eq!(version.body["device_id"].as_str(), Some(version.device_id.as_str()), "{key:?}");
    }
    assert_eq!(held.len(), expected.len(), "every submitted version is on the server");
    assert!(t.store.conflicts().await.unwrap().is_empty(), "retries and replays are never conflicts");
}
