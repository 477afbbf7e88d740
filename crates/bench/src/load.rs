//! `load`: 1,000 devices push 10 encounters each, all at once, to a waypoint-server on
//! 127.0.0.1, on SQLite and on PostgreSQL (`WAYPOINT_BENCH_POSTGRES`, default
//! `postgres://postgres@127.0.0.1:5432/test`, in a schema of its own dropped afterwards).
//! Reports encounters stored per second, p99 request latency and errors (non-200 replies or
//! records not acknowledged as stored). Each store runs twice: quiet, then with a flood of
//! sign-ins (wrong passwords, from many tasks, the per-address rate limit lifted as if from many
//! addresses) beside the pushes, to show the Argon2 bound keeps sync's cores.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{json, Value};
use waypoint_core::Encounter;
use waypoint_protocol::{AckStatus, PushRecord, PushRequest, PushResponse};
use waypoint_server::store::SharedStore;

use crate::net::LocalServer;
use crate::stats::{quantile_ms, round3};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 1000)]
    pub devices: usize,
    #[arg(long, default_value_t = 10)]
    pub encounters: usize,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn encounter(device: usize, n: usize) -> Value {
    let mut e = Encounter::new_draft(&format!("device-{device}"), &format!("badge-{device}"), 1, Utc::now());
    e.status = waypoint_core::EncounterStatus::Submitted;
    e.submitted_at = Some(Utc::now());
    e.call.call_type = Some("911".into());
    e.behaviours = vec!["suicide_threat".into(), "hopeless_depressed".into()];
    e.dispositions = vec!["transport_crisis_centre".into()];
    e.narrative = format!("Device {device} encounter {n}. {}", "Officer arrived and de-escalated. ".repeat(40));
    serde_json::to_value(e).expect("an encounter serializes")
}

struct Outcome {
    per_s: f64,
    p99_ms: f64,
    errors: u64,
    /// Sign-ins sent during the run (flood runs) and how many were shed with 503.
    sign_ins: u64,
    sign_ins_shed: u64,
}

/// Concurrent sign-in loops of the flood.
const FLOOD_TASKS: usize = 64;

/// Sends wrong-password sign-ins until `stop`; returns (sent, answered 503).
async fn flood_sign_ins(url: String, stop: Arc<std::sync::atomic::AtomicBool>) -> (u64, u64) {
    use std::sync::atomic::Ordering;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("a client");
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..FLOOD_TASKS {
        let (client, url, stop) = (client.clone(), url.clone(), stop.clone());
        tasks.spawn(async move {
            let (mut sent, mut shed) = (0u64, 0u64);
            while !stop.load(Ordering::Relaxed) {
                let guess = json!({"username": "flood.target", "password": format!("guess {n} {sent}")});
                if let Ok(reply) = client.post(&url).json(&guess).send().await {
                    shed += u64::from(reply.status() == 503);
                }
                sent += 1;
            }
            (sent, shed)
        });
    }
    let (mut sent, mut shed) = (0, 0);
    while let Some(Ok((s, d))) = tasks.join_next().await {
        sent += s;
        shed += d;
    }
    (sent, shed)
}

/// Enrolls `device-{d}` for each device and signs its officer `badge-{d}` in on it, as a real
/// fleet would have done before the shift: returns each device's (device token, officer token).
async fn enroll_many(store: &SharedStore, count: usize) -> Result<Vec<(String, String)>, String> {
    use waypoint_server::auth;
    // One Argon2 hash for every officer: the benchmark measures pushes, not password hashing.
    let password_hash = auth::hash_password("bench password").map_err(err)?;
    let mut tokens = Vec::with_capacity(count);
    for d in 0..count {
        let (device_id, officer) = (format!("device-{d}"), format!("badge-{d}"));
        let code = auth::create_enrollment(store).await.map_err(err)?;
        let token = auth::new_device_token();
        store
            .redeem_enrollment(&auth::enrollment_code_hash(&code), Utc::now(), &device_id, &auth::token_hash(&token))
            .await
            .map_err(err)?;
        let user = waypoint_server::store::UserRecord {
            username: officer.clone(),
            officer_id: officer.clone(),
            role: waypoint_protocol::Role::Officer,
            password_hash: password_hash.clone(),
        };
        store.add_user(user).await.map_err(err)?;
        let officer_token = waypoint_server::identity::new_officer_token();
        store.add_officer_credential(&auth::token_hash(&officer_token), &officer, &device_id).await.map_err(err)?;
        tokens.push((token, officer_token));
    }
    Ok(tokens)
}

fn load_run(
    runtime: &tokio::runtime::Runtime,
    store: SharedStore,
    args: &Args,
    flood: bool,
) -> Result<Outcome, String> {
    let tokens = runtime.block_on(enroll_many(&store, args.devices))?;
    if flood {
        let password_hash = waypoint_server::auth::hash_password("the real passphrase").map_err(err)?;
        let user = waypoint_server::store::UserRecord {
            username: "flood.target".into(),
            officer_id: "flood.target".into(),
            role: waypoint_protocol::Role::Officer,
            password_hash,
        };
        match runtime.block_on(store.add_user(user)) {
            Ok(()) | Err(waypoint_server::store::StoreError::AlreadyExists(_)) => {}
            Err(e) => return Err(err(e)),
        }
    }
    // Bodies made (and compressed, as devices send them) before the clock starts.
    let bodies: Vec<Vec<u8>> = (0..args.devices)
        .map(|d| {
            let records = (0..args.encounters)
                .map(|n| {
                    let body = encounter(d, n);
                    let id = body["id"].as_str().and_then(|id| id.parse().ok()).expect("an encounter has an id");
                    PushRecord::new(id, 1, n as u64 + 1, body)
                })
                .collect();
            let json = serde_json::to_vec(&PushRequest { records }).expect("serializes");
            zstd::encode_all(&json[..], 3).expect("compresses")
        })
        .collect();
    let settings = waypoint_server::Settings {
        // The flood stands for many addresses: the per-address limit would shed it before Argon2.
        sign_in_rate: waypoint_server::SignInRate { burst: u32::MAX, replenish: Duration::from_nanos(1) },
        ..waypoint_server::Settings::default()
    };
    let server = LocalServer::start_with(runtime, store, settings)?;
    let url = format!("http://{}/v1/sync/push", server.addr);
    let stop_flood = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flood_task = flood.then(|| {
        let task = runtime.spawn(flood_sign_ins(format!("http://{}/v1/login", server.addr), stop_flood.clone()));
        // Let the flood reach its pace before the pushes start.
        std::thread::sleep(Duration::from_millis(500));
        task
    });
    // reqwest is built without a bundled crypto provider in this workspace: ring is the one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().map_err(err)?;
    let expected = args.encounters;
    let outcome = runtime.block_on(async move {
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for ((token, officer_token), body) in tokens.into_iter().zip(bodies) {
            let (client, url) = (client.clone(), url.clone());
            tasks.spawn(async move {
                let sent = Instant::now();
                let reply = client
                    .post(url)
                    .bearer_auth(token)
                    .header(waypoint_protocol::OFFICER_CREDENTIAL_HEADER, officer_token)
                    .header("content-type", "application/json")
                    .header("content-encoding", "zstd")
                    .body(body)
                    .send()
                    .await;
                let ok = match reply {
                    Ok(reply) if reply.status().is_success() => match reply.json::<PushResponse>().await {
                        Ok(acks) => {
                            let not_stored = acks.acks.iter().find(|a| a.status != AckStatus::Stored);
                            if let Some(ack) = not_stored {
                                eprintln!("  not stored: {:?} {:?}", ack.status, ack.reason);
                            }
                            acks.acks.len() == expected && not_stored.is_none()
                        }
                        Err(_) => false,
                    },
                    Ok(reply) => {
                        eprintln!("  HTTP {}", reply.status());
                        false
                    }
                    Err(e) => {
                        eprintln!("  request failed: {e}");
                        false
                    }
                };
                (sent.elapsed(), ok)
            });
        }
        let mut latencies = Vec::new();
        let mut errors = 0u64;
        while let Some(done) = tasks.join_next().await {
            let (latency, ok) = done.map_err(err)?;
            latencies.push(latency);
            errors += u64::from(!ok);
        }
        let seconds = started.elapsed().as_secs_f64();
        let stored = (latencies.len() as u64 - errors) * expected as u64;
        stop_flood.store(true, std::sync::atomic::Ordering::Relaxed);
        let (sign_ins, sign_ins_shed) = match flood_task {
            Some(task) => task.await.map_err(err)?,
            None => (0, 0),
        };
        Ok::<_, String>(Outcome {
            per_s: stored as f64 / seconds,
            p99_ms: quantile_ms(&mut latencies, 0.99),
            errors,
            sign_ins,
            sign_ins_shed,
        })
    })?;
    drop(server);
    Ok(outcome)
}

pub fn run(args: Args) -> Result<Value, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(err)?;
    let tmp = tempfile::tempdir().map_err(err)?;
    let total = args.devices * args.encounters;

    eprintln!("load: {} devices x {} encounters on SQLite", args.devices, args.encounters);
    let sqlite = runtime
        .block_on(waypoint_server::store::open(
            &tmp.path().join("server.sqlite").to_string_lossy(),
            Some(&waypoint_server::database_key::DatabaseKey::generate()),
        ))
        .map_err(err)?;
    let on_sqlite = load_run(&runtime, sqlite.clone(), &args, false)?;
    let held = runtime.block_on(sqlite.versions_since(None)).map_err(err)?.len();
    eprintln!(
        "load: SQLite {:.0}/s, p99 {:.1} ms, {} errors, {held}/{total} held",
        on_sqlite.per_s, on_sqlite.p99_ms, on_sqlite.errors
    );
    let sqlite_flood = load_run(&runtime, sqlite.clone(), &args, true)?;
    report_flood("SQLite", &sqlite_flood);

    let url =
        std::env::var("WAYPOINT_BENCH_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("bench_{}", uuid::Uuid::now_v7().simple());
    let (admin, connection) = runtime.block_on(tokio_postgres::connect(&url, tokio_postgres::NoTls)).map_err(err)?;
    runtime.spawn(connection);
    runtime.block_on(admin.batch_execute(&format!("CREATE SCHEMA {schema}"))).map_err(err)?;
    let result = (|| {
        eprintln!("load: {} devices x {} encounters on PostgreSQL", args.devices, args.encounters);
        let postgres: SharedStore = Arc::new(
            runtime
                .block_on(waypoint_server::postgres_store::PostgresStore::connect(&url, Some(&schema)))
                .map_err(err)?,
        );
        runtime.block_on(postgres.migrate()).map_err(err)?;
        let on_postgres = load_run(&runtime, postgres.clone(), &args, false)?;
        let held = runtime.block_on(postgres.versions_since(None)).map_err(err)?.len();
        eprintln!(
            "load: PostgreSQL {:.0}/s, p99 {:.1} ms, {} errors, {held}/{total} held",
            on_postgres.per_s, on_postgres.p99_ms, on_postgres.errors
        );
        let postgres_flood = load_run(&runtime, postgres.clone(), &args, true)?;
        report_flood("PostgreSQL", &postgres_flood);
        Ok::<_, String>((on_postgres, postgres_flood))
    })();
    runtime.block_on(admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))).map_err(err)?;
    let (on_postgres, postgres_flood) = result?;
    Ok(json!({
        "bench": "load",
        "devices": args.devices,
        "encounters_per_device": args.encounters,
        "sqlite_per_s": round3(on_sqlite.per_s),
        "sqlite_p99_ms": round3(on_sqlite.p99_ms),
        "postgres_per_s": round3(on_postgres.per_s),
        "postgres_p99_ms": round3(on_postgres.p99_ms),
        "sqlite_push_p99_quiet_ms": round3(on_sqlite.p99_ms),
        "sqlite_push_p99_signin_flood_ms": round3(sqlite_flood.p99_ms),
        "sqlite_per_s_signin_flood": round3(sqlite_flood.per_s),
        "postgres_push_p99_quiet_ms": round3(on_postgres.p99_ms),
        "postgres_push_p99_signin_flood_ms": round3(postgres_flood.p99_ms),
        "postgres_per_s_signin_flood": round3(postgres_flood.per_s),
        "signin_flood_requests": sqlite_flood.sign_ins + postgres_flood.sign_ins,
        "signin_flood_shed_503": sqlite_flood.sign_ins_shed + postgres_flood.sign_ins_shed,
        "errors": on_sqlite.errors + on_postgres.errors + sqlite_flood.errors + postgres_flood.errors,
    }))
}

fn report_flood(store: &str, outcome: &Outcome) {
    eprintln!(
        "load: {store} with a sign-in flood: {:.0}/s, p99 {:.1} ms, {} errors; {} sign-ins sent, {} shed with 503",
        outcome.per_s, outcome.p99_ms, outcome.errors, outcome.sign_ins, outcome.sign_ins_shed
    );
}
