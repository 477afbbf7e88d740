//! `save`: how long a submitted encounter takes to be durable through the core (SQLCipher,
//! synchronous=FULL, outbox and audit rows), beside a plain unencrypted rusqlite insert of the
//! same JSON row with the same durability, measured in the same run.

use std::time::Instant;

use rusqlite::params;
use serde_json::json;
use waypoint_core::{AgencyConfig, Encounter, Waypoint};

use crate::stats::{quantile_ms, round3};

#[derive(clap::Args)]
pub struct Args {
    /// Saves measured on each side.
    #[arg(long, default_value_t = 2000)]
    pub count: usize,
    /// Folder for the databases (default: a temporary folder; use a real disk, not tmpfs).
    #[arg(long)]
    pub dir: Option<std::path::PathBuf>,
}

fn complete(mut e: Encounter, n: usize) -> Encounter {
    e.call.call_type = Some("911".into());
    e.call.nature_of_call = Some("welfare check, person talking about ending their life".into());
    e.crisis_natures = vec!["unknown".into()];
    e.behaviours = vec!["suicide_threat".into(), "hopeless_depressed".into(), "disoriented".into()];
    e.risk.substances = vec!["alcohol".into()];
    e.dispositions = vec!["transport_crisis_centre".into(), "referral_made".into()];
    e.diversion.custody_diverted = Some(true);
    e.response.minutes_on_scene = Some(45);
    e.narrative = format!("Encounter {n}. {}", "Officer arrived, de-escalated, subject agreed to go. ".repeat(20));
    e
}

pub fn run(args: Args) -> Result<serde_json::Value, String> {
    let tmp = tempfile::tempdir_in(args.dir.clone().unwrap_or_else(std::env::temp_dir)).map_err(|e| e.to_string())?;
    let core_dir = tmp.path().join("core");
    let wp = Waypoint::open(&core_dir, AgencyConfig::demo()).map_err(|e| e.to_string())?;
    wp.setup("bench-officer", "bench-passphrase").map_err(|e| e.to_string())?;

    let plain = rusqlite::Connection::open(tmp.path().join("plain.db")).map_err(|e| e.to_string())?;
    plain
        .execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
             CREATE TABLE encounter_versions (encounter_id TEXT NOT NULL, version INTEGER NOT NULL,
                 status TEXT NOT NULL, supersedes INTEGER, occurred_at TEXT NOT NULL, updated_at TEXT NOT NULL,
                 content_hash TEXT, body TEXT NOT NULL, search_text TEXT NOT NULL DEFAULT '',
                 PRIMARY KEY (encounter_id, version));",
        )
        .map_err(|e| e.to_string())?;

    let warmup = 50;
    let mut core = Vec::with_capacity(args.count);
    let mut draft = Vec::with_capacity(args.count);
    let mut baseline = Vec::with_capacity(args.count);
    eprintln!("save: {} encrypted submits (FULL) and {} plain inserts (FULL)", args.count, args.count);
    for n in 0..warmup + args.count {
        let fresh = complete(wp.new_encounter().map_err(|e| e.to_string())?, n);
        // Interleave the two sides so that disk noise hits both alike.
        let started = Instant::now();
        let saved = wp.save_draft(fresh).map_err(|e| e.to_string())?.encounter;
        let draft_time = started.elapsed();
        let started = Instant::now();
        let submitted = wp.submit(saved).map_err(|e| e.to_string())?;
        let core_time = started.elapsed();

        let body = serde_json::to_string(&submitted).map_err(|e| e.to_string())?;
        let started = Instant::now();
        plain
            .execute(
                "INSERT INTO encounter_versions (encounter_id, version, status, occurred_at, updated_at, body, search_text)
                 VALUES (?1, 1, 'submitted', ?2, ?2, ?3, ?4)",
                params![submitted.id.to_string(), submitted.occurred_at.to_rfc3339(), body, submitted.search_text()],
            )
            .map_err(|e| e.to_string())?;
        let plain_time = started.elapsed();
        if n >= warmup {
            core.push(core_time);
            draft.push(draft_time);
            baseline.push(plain_time);
        }
        if n > 0 && n % 500 == 0 {
            eprintln!("  {n} saves");
        }
    }
    let p50 = quantile_ms(&mut core, 0.50);
    let p99 = quantile_ms(&mut core, 0.99);
    let plain_p99 = quantile_ms(&mut baseline, 0.99);
    let figures = json!({
        "bench": "save",
        "count": args.count,
        "p50_ms": round3(p50),
        "p99_ms": round3(p99),
        "plain_p50_ms": round3(quantile_ms(&mut baseline, 0.50)),
        "plain_p99_ms": round3(plain_p99),
        "ratio": round3(p99 / plain_p99),
        "p999_ms": round3(quantile_ms(&mut core, 0.999)),
        "plain_p999_ms": round3(quantile_ms(&mut baseline, 0.999)),
        "draft_autosave_p50_ms": round3(quantile_ms(&mut draft, 0.50)),
        "draft_autosave_p99_ms": round3(quantile_ms(&mut draft, 0.99)),
    });
    eprintln!(
        "save: encrypted submit p50 {p50:.3} ms, p99 {p99:.3} ms; plain insert p99 {plain_p99:.3} ms; ratio {:.2} (target p99 <= 5 ms, ratio <= 3)",
        p99 / plain_p99
    );
    Ok(figures)
}
