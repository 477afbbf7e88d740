//! `load`: 1,000 devices push 10 encounters each, all at once, to a waypoint-server on
//! 127.0.0.1, on SQLite and on PostgreSQL (`WAYPOINT_BENCH_POSTGRES`, default
//! `postgres://postgres@127.0.0.1:5432/test`, in a schema of its own dropped afterwards).
//! Reports encounters stored per second, p99 request latency and errors (non-200 replies or
//! records not acknowledged as stored).

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
}

async fn enroll_many(store: &SharedStore, count: usize) -> Result<Vec<String>, String> {
    use waypoint_server::auth;
    let mut tokens = Vec::with_capacity(count);
    for _ in 0..count {
        let code = auth::create_enrollment(store).await.map_err(err)?;
        let token = auth::new_device_token();
        let id = uuid::Uuid::now_v7().to_string();
        store
            .redeem_enrollment(&auth::enrollment_code_hash(&code), Utc::now(), &id, &auth::token_hash(&token))
            .await
            .map_err(err)?;
        tokens.push(token);
    }
    Ok(tokens)
}

fn load_run(runtime: &tokio::runtime::Runtime, store: SharedStore, args: &Args) -> Result<Outcome, String> {
    let tokens = runtime.block_on(enroll_many(&store, args.devices))?;
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
    let server = LocalServer::start(runtime, store)?;
    let url = format!("http://{}/v1/sync/push", server.addr);
    // reqwest is built without a bundled crypto provider in this workspace: ring is the one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().map_err(err)?;
    let expected = args.encounters;
    let outcome = runtime.block_on(async move {
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for (token, body) in tokens.into_iter().zip(bodies) {
            let (client, url) = (client.clone(), url.clone());
            tasks.spawn(async move {
                let sent = Instant::now();
                let reply = client
                    .post(url)
                    .bearer_auth(token)
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
        Ok::<_, String>(Outcome { per_s: stored as f64 / seconds, p99_ms: quantile_ms(&mut latencies, 0.99), errors })
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
    let on_sqlite = load_run(&runtime, sqlite.clone(), &args)?;
    let held = runtime.block_on(sqlite.versions_since(None)).map_err(err)?.len();
    eprintln!(
        "load: SQLite {:.0}/s, p99 {:.1} ms, {} errors, {held}/{total} held",
        on_sqlite.per_s, on_sqlite.p99_ms, on_sqlite.errors
    );

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
        let on_postgres = load_run(&runtime, postgres.clone(), &args)?;
        let held = runtime.block_on(postgres.versions_since(None)).map_err(err)?.len();
        eprintln!(
            "load: PostgreSQL {:.0}/s, p99 {:.1} ms, {} errors, {held}/{total} held",
            on_postgres.per_s, on_postgres.p99_ms, on_postgres.errors
        );
        Ok::<_, String>(on_postgres)
    })();
    runtime.block_on(admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))).map_err(err)?;
    let on_postgres = result?;
    Ok(json!({
        "bench": "load",
        "devices": args.devices,
        "encounters_per_device": args.encounters,
        "sqlite_per_s": round3(on_sqlite.per_s),
        "sqlite_p99_ms": round3(on_sqlite.p99_ms),
        "postgres_per_s": round3(on_postgres.per_s),
        "postgres_p99_ms": round3(on_postgres.p99_ms),
        "errors": on_sqlite.errors + on_postgres.errors,
    }))
}
