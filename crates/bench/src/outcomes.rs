//! `outcomes`: the dashboard's figures at scale. 1,000,000 reports (five years of a large city's
//! crisis calls) go in through the history import (`waypoint-server import encounters`' own code,
//! with `tests/history/rms-mapping.json`), which is also the import throughput; then the full set
//! of figures (`outcomes::report`, what `GET /v1/outcomes` answers) for the last year and for all
//! time, p50/p99, on SQLite and on PostgreSQL (`WAYPOINT_BENCH_POSTGRES`, in a schema of its own
//! dropped afterwards). Beside them, the same year's figures computed by a full scan: every
//! stored body read and the period picked in memory. Their ratio is `scan_ratio`.
//!
//! A quick check: `-- outcomes --encounters 20000` (or `WAYPOINT_BENCH_OUTCOMES_ENCOUNTERS`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use waypoint_protocol::{OutcomeInclusion, OutcomeSource};
use waypoint_server::outcomes::{self, OutcomeRequest, Period};
use waypoint_server::store::outcomes::OutcomeRange;
use waypoint_server::store::SharedStore;

use crate::stats::{quantile_ms, round3};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, env = "WAYPOINT_BENCH_OUTCOMES_ENCOUNTERS", default_value_t = 1_000_000)]
    pub encounters: usize,
    /// Requests for the year's figures (p50/p99 over them); all-time and the scan run a fifth as many.
    #[arg(long, default_value_t = 20)]
    pub runs: usize,
}

const MAPPING: &str = include_str!("../../../tests/history/rms-mapping.json");
const HEADER: &str = "Incident No,Call Time,Badge,Call Source,Behaviours,Disposition,Weapon,CIT Dispatched,CIT Arrived,Force,Subject Injured,Minutes On Scene,Diverted,Subject,Lat,Lon,Notes";
const YEARS: i64 = 5;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The extract: `count` calls spread over five years ending yesterday, at field rates.
fn extract(count: usize, end: DateTime<Utc>) -> String {
    let mut rng = StdRng::seed_from_u64(16);
    let start = end - chrono::Duration::days(365 * YEARS);
    let span_minutes = 365 * YEARS * 24 * 60;
    let mut text = String::with_capacity(count * 160);
    text.push_str(HEADER);
    text.push('\n');
    let people: Vec<String> = (0..count / 8).map(|n| format!("Person {n}")).collect();
    for n in 0..count {
        let at = start + chrono::Duration::minutes(n as i64 * span_minutes / count as i64);
        let disposition =
            *["TRANS-CRISIS", "TRANS-HOSP", "EDO", "ARREST", "REFER", "RESOLVED"].choose(&mut rng).unwrap();
        let diverted = if disposition == "ARREST" { "N" } else { *["Y", "N", "NA"].choose(&mut rng).unwrap() };
        let dispatched = rng.gen_bool(0.6);
        let subject = if rng.gen_bool(0.7) { people.choose(&mut rng).unwrap().as_str() } else { "" };
        text.push_str(&format!(
            "RMS-{n:07},{},B{},{},{},{disposition},{},{},{},{},{},{},{diverted},{subject},{:.5},{:.5},call {n}\n",
            at.format("%m/%d/%Y %H:%M"),
            rng.gen_range(100..500),
            ["911", "PHONE", "ONVIEW", "WALKIN"].choose(&mut rng).unwrap(),
            ["SUICIDAL", "DEPRESSED;HALLUC", "BELLIG", ""].choose(&mut rng).unwrap(),
            ["NONE", "NONE", "NONE", "KNIFE", "GUN"].choose(&mut rng).unwrap(),
            if dispatched { "Y" } else { "N" },
            if dispatched && rng.gen_bool(0.8) { "Y" } else { "N" },
            if rng.gen_bool(0.04) { "1" } else { "0" },
            if rng.gen_bool(0.03) { "Y" } else { "N" },
            rng.gen_range(5..240),
            rng.gen_range(30.10..30.50),
            rng.gen_range(-97.90..-97.50),
        ));
    }
    text
}

struct Figures {
    import_s: f64,
    year: Vec<Duration>,
    all: Vec<Duration>,
    scan: Vec<Duration>,
}

fn request(period: Period) -> OutcomeRequest {
    OutcomeRequest {
        period,
        include: OutcomeInclusion::Approved,
        officer: None,
        source: OutcomeSource::All,
        area: None,
    }
}

/// The figures for `request` as the API computes them; returns how many calls they counted.
async fn figures(store: &SharedStore, request: &OutcomeRequest, range: OutcomeRange) -> Result<f64, String> {
    let (_, config) = waypoint_server::agency_config::newest(store).await.map_err(err)?;
    let rows = store.outcome_rows(range).await.map_err(err)?;
    let trained = waypoint_server::store::training::trained_since(&store.training(None).await.map_err(err)?);
    let report = outcomes::report(request, rows, &config, &trained, &outcomes::ServiceTypes::default());
    Ok(report.figures.iter().find(|f| f.key == "calls").and_then(|f| f.current).unwrap_or(0.0))
}

fn range_for(request: &OutcomeRequest, from: DateTime<Utc>) -> OutcomeRange {
    OutcomeRange {
        from,
        to: request.period.end(),
        states: outcomes::states_of(request.include),
        officer: None,
        source: request.source,
    }
}

async fn run_store(store: SharedStore, args: &Args, csv: &str, end: DateTime<Utc>) -> Result<Figures, String> {
    let (_, config) = waypoint_server::agency_config::newest(&store).await.map_err(err)?;
    let mapping = waypoint_server::history_mapping::parse(MAPPING)?;
    let started = Instant::now();
    let report =
        waypoint_server::history_import::import(&store, csv.as_bytes(), mapping, &config, Utc::now(), |rows| {
            if rows % 200_000 < waypoint_server::history_import::BATCH_ROWS as u64 {
                eprintln!("outcomes:   {rows} rows imported");
            }
        })
        .await
        .map_err(err)?;
    let import_s = started.elapsed().as_secs_f64();
    if report.imported != args.encounters as u64 || report.rejected != 0 {
        return Err(format!("the import went wrong: {}", report.summary()));
    }
    eprintln!("outcomes:   {} in {import_s:.1} s", report.summary());

    let last = end.date_naive();
    let year = request(Period { first: last - chrono::Duration::days(364), last });
    let all = request(Period { first: last - chrono::Duration::days(365 * YEARS), last });
    let mut measured = Figures { import_s, year: Vec::new(), all: Vec::new(), scan: Vec::new() };
    let mut year_calls = 0.0;
    for _ in 0..args.runs {
        let at = Instant::now();
        year_calls = figures(&store, &year, range_for(&year, outcomes::reads_from(year.period))).await?;
        measured.year.push(at.elapsed());
    }
    for _ in 0..(args.runs / 5).max(1) {
        let at = Instant::now();
        figures(&store, &all, range_for(&all, outcomes::reads_from(all.period))).await?;
        measured.all.push(at.elapsed());
        // The scan: every stored report read, the year picked in memory by the same computation.
        let at = Instant::now();
        let beginning = DateTime::<Utc>::from_timestamp(0, 0).expect("the epoch");
        let scanned = figures(&store, &year, range_for(&year, beginning)).await?;
        measured.scan.push(at.elapsed());
        if scanned != year_calls {
            return Err(format!("the scan counted {scanned} calls in the year, the range read {year_calls}"));
        }
    }
    eprintln!("outcomes:   {year_calls} calls in the last year");
    Ok(measured)
}

fn keys(prefix: &str, f: &mut Figures, rows: usize, out: &mut serde_json::Map<String, Value>) {
    out.insert(format!("{prefix}_year_p50_ms"), json!(round3(quantile_ms(&mut f.year, 0.5))));
    out.insert(format!("{prefix}_year_p99_ms"), json!(round3(quantile_ms(&mut f.year, 0.99))));
    out.insert(format!("{prefix}_all_p50_ms"), json!(round3(quantile_ms(&mut f.all, 0.5))));
    out.insert(format!("{prefix}_all_p99_ms"), json!(round3(quantile_ms(&mut f.all, 0.99))));
    out.insert(format!("{prefix}_scan_p50_ms"), json!(round3(quantile_ms(&mut f.scan, 0.5))));
    out.insert(format!("{prefix}_import_rows_per_s"), json!((rows as f64 / f.import_s).round()));
}

fn ratio(f: &mut Figures) -> f64 {
    quantile_ms(&mut f.scan, 0.5) / quantile_ms(&mut f.year, 0.5).max(0.001)
}

pub fn run(args: Args) -> Result<Value, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(err)?;
    let tmp = tempfile::tempdir().map_err(err)?;
    let end = Utc::now() - chrono::Duration::days(1);
    eprintln!("outcomes: generating {} rows over {YEARS} years", args.encounters);
    let csv = extract(args.encounters, end);
    eprintln!("outcomes: {} MB of CSV; on SQLite", csv.len() / 1_000_000);

    let path = tmp.path().join("server.sqlite");
    let key = waypoint_server::database_key::DatabaseKey::generate();
    let sqlite = runtime.block_on(waypoint_server::store::open(&path.to_string_lossy(), Some(&key))).map_err(err)?;
    let mut on_sqlite = runtime.block_on(run_store(sqlite.clone(), &args, &csv, end))?;
    drop(sqlite);

    let url =
        std::env::var("WAYPOINT_BENCH_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("bench_{}", uuid::Uuid::now_v7().simple());
    let (admin, connection) = runtime.block_on(tokio_postgres::connect(&url, tokio_postgres::NoTls)).map_err(err)?;
    runtime.spawn(connection);
    runtime.block_on(admin.batch_execute(&format!("CREATE SCHEMA {schema}"))).map_err(err)?;
    eprintln!("outcomes: on PostgreSQL");
    let result = runtime.block_on(async {
        let postgres: SharedStore =
            Arc::new(waypoint_server::postgres_store::PostgresStore::connect(&url, Some(&schema)).await.map_err(err)?);
        postgres.migrate().await.map_err(err)?;
        run_store(postgres, &args, &csv, end).await
    });
    runtime.block_on(admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))).map_err(err)?;
    let mut on_postgres = result?;

    let mut out = serde_json::Map::new();
    out.insert("bench".into(), json!("outcomes"));
    out.insert("encounters".into(), json!(args.encounters));
    out.insert("runs".into(), json!(args.runs));
    keys("sqlite", &mut on_sqlite, args.encounters, &mut out);
    keys("postgres", &mut on_postgres, args.encounters, &mut out);
    // The smaller of the two stores' ratios, as the review benchmark does.
    out.insert("scan_ratio".into(), json!(round3(ratio(&mut on_sqlite).min(ratio(&mut on_postgres)))));
    // The slower store's import: what an agency can count on.
    let slower = (args.encounters as f64 / on_sqlite.import_s).min(args.encounters as f64 / on_postgres.import_s);
    out.insert("import_rows_per_s".into(), json!(slower.round()));
    Ok(Value::Object(out))
}
