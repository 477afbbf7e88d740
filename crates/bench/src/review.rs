//! `review`: the review desk at scale. 1,000,000 encounters (about 2.3 KB of JSON each, 400
//! officers over a year, with force, injury, weapon and emergency-detention flags at field rates
//! and narratives of common words with a long tail of specific ones; 5 % amended) are stored through the store's push path
//! (the trigger keeps the review index), then 50 supervisors at once page the review queue with
//! filters over loopback HTTP, open reports and diff amendments, on SQLite and on PostgreSQL
//! (`WAYPOINT_BENCH_POSTGRES`, in a schema of its own dropped afterwards). Beside the indexed
//! queue page, the same page computed by a full scan of the stored bodies (`review_fields`, the
//! migration's view over them), and their ratio.
//!
//! A quick check: `-- review --encounters 20000` (or `WAYPOINT_BENCH_REVIEW_ENCOUNTERS`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use waypoint_core::{Encounter, EncounterStatus};
use waypoint_protocol::{EncounterReview, PushRecord, QueuePage, Role};
use waypoint_server::store::{SessionRecord, SharedStore, UserRecord};

use crate::net::LocalServer;
use crate::stats::{quantile_ms, round3};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, env = "WAYPOINT_BENCH_REVIEW_ENCOUNTERS", default_value_t = 1_000_000)]
    pub encounters: usize,
    #[arg(long, default_value_t = 50)]
    pub supervisors: usize,
    /// Rounds per supervisor: each pages the queue twice, opens two reports, diffs one amendment.
    #[arg(long, default_value_t = 20)]
    pub rounds: usize,
    /// A supervisor's pause between two requests (reading the page, then the report), on average;
    /// 0 runs only the saturated loop. The targets are read from the paced run; the saturated one
    /// (no pause: each supervisor sends the next request as the last is answered) follows it and
    /// says what the machine can serve.
    #[arg(long, default_value_t = 1000)]
    pub think_ms: u64,
}

const OFFICERS: usize = 400;
/// Records per push: what a device sends in one request (192 KiB of bodies is about 80), so each
/// push's savepoint stays small; many in flight let the group commit store them together.
const BATCH: usize = 100;
const IN_FLIGHT: usize = 32;
const PAGE: usize = 50;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

const WORDS: &[&str] = &[
    "officer",
    "arrived",
    "subject",
    "calm",
    "agitated",
    "yelling",
    "crying",
    "sitting",
    "standing",
    "kitchen",
    "porch",
    "street",
    "parking",
    "lot",
    "store",
    "shelter",
    "bridge",
    "park",
    "bus",
    "stop",
    "mother",
    "father",
    "sister",
    "brother",
    "neighbour",
    "caller",
    "reported",
    "stated",
    "denied",
    "admitted",
    "voices",
    "medication",
    "stopped",
    "taking",
    "weeks",
    "days",
    "hours",
    "threatened",
    "himself",
    "herself",
    "knife",
    "bottle",
    "pills",
    "alcohol",
    "smell",
    "slurred",
    "speech",
    "paranoid",
    "afraid",
    "followed",
    "cameras",
    "talked",
    "listened",
    "offered",
    "water",
    "blanket",
    "agreed",
    "refused",
    "declined",
    "transport",
    "transported",
    "crisis",
    "centre",
    "hospital",
    "emergency",
    "department",
    "clinician",
    "mobile",
    "team",
    "arrived",
    "assessed",
    "safety",
    "plan",
    "case",
    "manager",
    "notified",
    "referral",
    "made",
    "housing",
    "food",
    "bank",
    "veteran",
    "services",
    "counsellor",
    "appointment",
    "tomorrow",
    "morning",
    "evening",
    "night",
    "rain",
    "cold",
    "warm",
    "quiet",
    "loud",
    "door",
    "window",
    "car",
    "phone",
    "called",
    "again",
    "later",
    "previous",
    "contact",
    "known",
    "history",
    "diagnosis",
    "bipolar",
    "schizophrenia",
    "depression",
    "anxiety",
    "ptsd",
    "autism",
    "dementia",
    "confused",
    "wandering",
    "lost",
    "address",
    "identified",
    "family",
    "present",
    "supervisor",
    "notified",
    "handcuffed",
    "briefly",
    "released",
    "injury",
    "scrape",
    "arm",
    "hand",
    "face",
    "medics",
    "treated",
    "scene",
    "cleared",
    "minutes",
];

/// Rare words for the text search (each in about 0.7 % of narratives).
const RARE: &[&str] = &["trampoline", "saxophone", "lighthouse", "glacier", "harmonica", "orchard"];

/// The long tail of a real narrative's words (names, places, specifics): 3,000 made-up words,
/// each in about 0.3 % of narratives.
fn tail_words() -> &'static [String] {
    static TAIL: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    TAIL.get_or_init(|| {
        let syllables = ["ka", "lo", "mir", "ten", "su", "vak", "ri", "don", "pel", "qua", "zor", "bim", "ne", "hult"];
        let mut words = Vec::new();
        'all: for a in syllables {
            for b in syllables {
                for c in syllables {
                    words.push(format!("{a}{b}{c}"));
                    if words.len() == 3000 {
                        break 'all;
                    }
                }
            }
        }
        words
    })
}

fn narrative(rng: &mut StdRng) -> String {
    let mut text = String::with_capacity(1500);
    while text.len() < 1100 + rng.gen_range(0..400) {
        let sentence_words = rng.gen_range(6..16);
        for i in 0..sentence_words {
            let word = if rng.gen_bool(0.0002) { RARE.choose(rng).unwrap() } else { WORDS.choose(rng).unwrap() };
            if i > 0 {
                text.push(' ');
            }
            text.push_str(word);
        }
        text.push_str(". ");
    }
    text.push_str("Noted:");
    for word in tail_words().choose_multiple(rng, 10) {
        text.push(' ');
        text.push_str(word);
    }
    text.push('.');
    text
}

fn officer(n: usize) -> String {
    format!("badge-{n:04}")
}

/// One year, ending now.
fn year_ago() -> DateTime<Utc> {
    Utc::now() - chrono::Duration::days(365)
}

fn encounter(id: uuid::Uuid, version: u32, occurred: DateTime<Utc>, rng: &mut StdRng) -> Value {
    let mut e = Encounter::new_draft("bench-device", &officer(rng.gen_range(0..OFFICERS)), 1, occurred);
    e.id = id;
    e.version = version;
    e.supersedes = (version > 1).then(|| version - 1);
    e.status = EncounterStatus::Submitted;
    e.submitted_at = Some(occurred + chrono::Duration::minutes(rng.gen_range(20..600)));
    e.incident_number = Some(format!("26-{:06}", rng.gen_range(0..999_999)));
    e.call.call_type = Some("911".into());
    e.call.nature_of_call = Some("welfare check, person talking about ending their life".into());
    e.crisis_natures = vec!["unknown".into()];
    e.behaviours = vec!["suicide_threat".into(), "hopeless_depressed".into()];
    e.risk.substances = vec!["alcohol".into()];
    e.risk.weapon = Some(if rng.gen_bool(0.06) { "knife" } else { "none" }.into());
    e.response.reportable_force = rng.gen_bool(0.04);
    e.response.subject_injured = rng.gen_bool(0.03);
    e.response.minutes_on_scene = Some(rng.gen_range(10..120));
    e.dispositions = vec![if rng.gen_bool(0.05) { "emergency_detention" } else { "transport_crisis_centre" }.into()];
    e.narrative = narrative(rng);
    serde_json::to_value(e).expect("an encounter serializes")
}

/// Stores `count` encounters (5 % with a second version) through the store's push path.
pub(crate) async fn fill(store: &SharedStore, count: usize) -> Result<Vec<uuid::Uuid>, String> {
    let code = waypoint_server::auth::create_enrollment(store).await.map_err(err)?;
    let device = "bench-device".to_string();
    let token_hash = waypoint_server::auth::token_hash(&waypoint_server::auth::new_device_token());
    store
        .redeem_enrollment(&waypoint_server::auth::enrollment_code_hash(&code), Utc::now(), &device, &token_hash)
        .await
        .map_err(err)?;
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(14);
    let mut amended = Vec::new();
    let mut seq = 0u64;
    let start = year_ago();
    let mut pending = tokio::task::JoinSet::new();
    let mut done = 0usize;
    while done < count {
        let n = BATCH.min(count - done);
        let mut records = Vec::with_capacity(n + n / 10);
        for i in 0..n {
            // Reports arrive in about the order they happened, over the year, with ids made as a
            // device makes them (UUID v7: the creation time, then random bits).
            let at = (done + i) as i64 * 365 * 86_400_000 / count as i64 + rng.gen_range(0..60_000);
            let occurred = start + chrono::Duration::milliseconds(at);
            let id =
                uuid::Builder::from_unix_timestamp_millis(occurred.timestamp_millis() as u64, &rng.gen()).into_uuid();
            seq += 1;
            records.push(PushRecord::new(id, 1, seq, encounter(id, 1, occurred, &mut rng)));
            if rng.gen_bool(0.05) {
                seq += 1;
                records.push(PushRecord::new(id, 2, seq, encounter(id, 2, occurred, &mut rng)));
                amended.push(id);
            }
        }
        let (store, device) = (store.clone(), device.clone());
        pending.spawn(async move {
            let checked = waypoint_server::validation::check_records(records);
            store.push(&waypoint_server::store::Pusher::officer(&device, "bench.officer"), checked).await.map_err(err)
        });
        // Pushes in flight: the group commit stores them together.
        while pending.len() >= IN_FLIGHT {
            pending.join_next().await.expect("a task").map_err(err)??;
        }
        done += n;
        if done % 100_000 < BATCH {
            eprintln!("review:   {done} stored ({:.0}/s)", done as f64 / started.elapsed().as_secs_f64());
        }
    }
    while let Some(result) = pending.join_next().await {
        result.map_err(err)??;
    }
    Ok(amended)
}

/// Supervisors with sessions made straight in the store (no Argon2 in the measurement).
async fn sessions(store: &SharedStore, count: usize) -> Result<Vec<String>, String> {
    let password_hash = waypoint_server::auth::hash_password("bench passphrase").map_err(err)?;
    let mut tokens = Vec::new();
    for n in 0..count {
        let username = format!("sgt.{n}");
        store
            .add_user(UserRecord {
                username: username.clone(),
                officer_id: username.clone(),
                role: Role::Supervisor,
                password_hash: password_hash.clone(),
            })
            .await
            .map_err(err)?;
        let token = waypoint_server::auth::new_session_token();
        let session =
            SessionRecord { username, role: Role::Supervisor, expires_at: Utc::now() + chrono::Duration::hours(12) };
        store.add_session(&waypoint_server::auth::token_hash(&token), session).await.map_err(err)?;
        tokens.push(token);
    }
    Ok(tokens)
}

/// The kinds of queue request [`filters_of`] makes, by its number.
const FILTER_KINDS: [&str; 9] = [
    "all",
    "flagged_first",
    "officer",
    "month",
    "force",
    "detention+weapon",
    "rare_word",
    "tail_word+flagged",
    "officer+injury",
];

fn filters_of(kind: usize, rng: &mut StdRng) -> Vec<(String, String)> {
    let pair = |k: &str, v: String| (k.to_string(), v);
    let month_start = year_ago() + chrono::Duration::days(rng.gen_range(0..330));
    match kind {
        0 => vec![],
        1 => vec![pair("order", "flagged_first".into())],
        2 => vec![pair("officer", officer(rng.gen_range(0..OFFICERS)))],
        3 => vec![
            pair("submitted_from", month_start.to_rfc3339()),
            pair("submitted_to", (month_start + chrono::Duration::days(30)).to_rfc3339()),
        ],
        4 => vec![pair("force_used", "true".into())],
        5 => vec![pair("emergency_detention", "true".into()), pair("weapon", "true".into())],
        6 => vec![pair("q", RARE.choose(rng).unwrap().to_string())],
        7 => vec![pair("q", tail_words().choose(rng).unwrap().clone()), pair("flagged", "true".into())],
        _ => vec![pair("officer", officer(rng.gen_range(0..OFFICERS))), pair("injury", "true".into())],
    }
}

/// The store's queue query for the HTTP parameters [`filters_of`] makes.
fn query_of(pairs: &[(String, String)]) -> waypoint_server::store::review::QueueQuery {
    use waypoint_server::store::review::{QueueOrder, QueueQuery};
    let mut q = QueueQuery { limit: PAGE, ..Default::default() };
    let time = |v: &str| DateTime::parse_from_rfc3339(v).expect("a time").with_timezone(&Utc);
    for (k, v) in pairs {
        match k.as_str() {
            "order" => q.order = QueueOrder::FlaggedFirst,
            "officer" => q.officer_id = Some(v.clone()),
            "submitted_from" => q.submitted_from = Some(time(v)),
            "submitted_to" => q.submitted_to = Some(time(v)),
            "force_used" => q.force_used = true,
            "injury" => q.injury = true,
            "weapon" => q.weapon = true,
            "emergency_detention" => q.emergency_detention = true,
            "flagged" => q.flagged = true,
            "q" => q.text = Some(v.clone()),
            other => panic!("unknown filter {other}"),
        }
    }
    q
}

/// One caller at a time, straight on the store: each kind of queue page, first and second page,
/// to tell a slow query from a queue of requests. Printed on stderr.
async fn probe(store: &SharedStore) -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(99);
    for (kind, name) in FILTER_KINDS.iter().enumerate() {
        let (mut first, mut second) = (Vec::new(), Vec::new());
        for _ in 0..10 {
            let mut query = query_of(&filters_of(kind, &mut rng));
            let started = Instant::now();
            let page = store.review_queue(query.clone()).await.map_err(err)?;
            first.push(started.elapsed());
            if let Some(cursor) = page.next_cursor {
                query.after = waypoint_server::store::review::QueueCursor::decode(&cursor);
                let started = Instant::now();
                store.review_queue(query).await.map_err(err)?;
                second.push(started.elapsed());
            }
        }
        let p = |s: &mut Vec<Duration>, q| if s.is_empty() { 0.0 } else { quantile_ms(s, q) };
        eprintln!(
            "review:   probe {name:<18} page 1 p50 {:6.2} ms max {:6.2} ms, page 2 p50 {:6.2} ms max {:6.2} ms",
            p(&mut first, 0.5),
            p(&mut first, 1.0),
            p(&mut second, 0.5),
            p(&mut second, 1.0)
        );
    }
    Ok(())
}

#[derive(Default)]
struct Latencies {
    queue: Vec<Duration>,
    /// The queue's first pages again, by kind of filter ([`FILTER_KINDS`]).
    by_kind: [Vec<Duration>; FILTER_KINDS.len()],
    read: Vec<Duration>,
    diff: Vec<Duration>,
    errors: u64,
}

async fn desk(
    server: &LocalServer,
    tokens: Vec<String>,
    amended: Arc<Vec<uuid::Uuid>>,
    rounds: usize,
    think: Duration,
) -> Result<Latencies, String> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().map_err(err)?;
    let base = format!("http://{}", server.addr);
    let mut tasks = tokio::task::JoinSet::new();
    for (n, token) in tokens.into_iter().enumerate() {
        let (client, base, amended) = (client.clone(), base.clone(), amended.clone());
        tasks.spawn(async move {
            let mut rng = StdRng::seed_from_u64(n as u64);
            let mut out = Latencies::default();
            // The supervisors start spread over one pause, then each pauses 0.5 to 1.5 times
            // `think` before each request, as a person reads before the next click.
            let pause = |rng: &mut StdRng| think.mul_f64(rng.gen_range(0.5..1.5));
            if !think.is_zero() {
                tokio::time::sleep(think.mul_f64(rng.gen_range(0.0..1.0))).await;
            }
            let timed = |path: String, query: Vec<(String, String)>, wait: Duration| {
                let (client, token) = (client.clone(), token.clone());
                async move {
                    if !wait.is_zero() {
                        tokio::time::sleep(wait).await;
                    }
                    let sent = Instant::now();
                    let reply = client.get(path).bearer_auth(token).query(&query).send().await;
                    let body = match reply {
                        Ok(r) if r.status().is_success() => r.bytes().await.ok(),
                        Ok(r) => {
                            eprintln!("  HTTP {}", r.status());
                            None
                        }
                        Err(e) => {
                            eprintln!("  request failed: {e}");
                            None
                        }
                    };
                    (sent.elapsed(), body)
                }
            };
            for _ in 0..rounds {
                let kind = rng.gen_range(0..FILTER_KINDS.len());
                let query = filters_of(kind, &mut rng);
                let (took, body) = timed(format!("{base}/v1/review/queue"), query.clone(), pause(&mut rng)).await;
                out.queue.push(took);
                out.by_kind[kind].push(took);
                let Some(page) = body.and_then(|b| serde_json::from_slice::<QueuePage>(&b).ok()) else {
                    out.errors += 1;
                    continue;
                };
                if let Some(cursor) = &page.next_cursor {
                    let mut next = query.clone();
                    next.push(("cursor".into(), cursor.clone()));
                    let (took, body) = timed(format!("{base}/v1/review/queue"), next, pause(&mut rng)).await;
                    out.queue.push(took);
                    out.errors += u64::from(body.is_none());
                }
                let opened: Vec<_> = page.items.choose_multiple(&mut rng, 2).map(|i| i.encounter_id).collect();
                for id in opened {
                    let wait = pause(&mut rng);
                    let (took, body) = timed(format!("{base}/v1/review/encounters/{id}"), vec![], wait).await;
                    out.read.push(took);
                    out.errors +=
                        u64::from(body.and_then(|b| serde_json::from_slice::<EncounterReview>(&b).ok()).is_none());
                }
                if let Some(id) = amended.choose(&mut rng) {
                    let query = vec![("from".to_string(), "1".to_string()), ("to".to_string(), "2".to_string())];
                    let wait = pause(&mut rng);
                    let (took, body) = timed(format!("{base}/v1/review/encounters/{id}/diff"), query, wait).await;
                    out.diff.push(took);
                    out.errors += u64::from(body.is_none());
                }
            }
            out
        });
    }
    let mut all = Latencies::default();
    while let Some(done) = tasks.join_next().await {
        let one = done.map_err(err)?;
        all.queue.extend(one.queue);
        for (all, one) in all.by_kind.iter_mut().zip(one.by_kind) {
            all.extend(one);
        }
        all.read.extend(one.read);
        all.diff.extend(one.diff);
        all.errors += one.errors;
    }
    Ok(all)
}

/// The first page of the force-used queue, oldest first, computed from the bodies.
const SCAN_SQLITE: &str = "SELECT f.encounter_id FROM review_fields f
    WHERE f.force_used AND f.version = (SELECT max(version) FROM encounter_versions v WHERE v.encounter_id = f.encounter_id)
    AND NOT EXISTS (SELECT 1 FROM review_decisions d WHERE d.encounter_id = f.encounter_id AND d.version = f.version)
    ORDER BY f.submitted_at, f.encounter_id LIMIT 50";
const SCAN_POSTGRES: &str = "SELECT f.encounter_id::text FROM review_fields f
    WHERE f.force_used AND f.version = (SELECT max(version) FROM encounter_versions v WHERE v.encounter_id = f.encounter_id)
    AND NOT EXISTS (SELECT 1 FROM review_decisions d WHERE d.encounter_id = f.encounter_id AND d.version = f.version)
    ORDER BY f.submitted_at, f.encounter_id LIMIT 50";

/// One run of the desk: latency by request type and what was served.
struct DeskFigures {
    queue_p50: f64,
    queue_p99: f64,
    read_p50: f64,
    read_p99: f64,
    diff_p99: f64,
    requests_per_s: f64,
    errors: u64,
}

struct Figures {
    /// Supervisors pausing between requests, as people do: the targets are read here.
    paced: DeskFigures,
    /// No pause (closed loop): what this machine can serve, and the latency at that rate.
    saturated: Option<DeskFigures>,
    indexed_ms: f64,
    scan_ms: f64,
}

/// The indexed page and the scanned page must list the same reports.
async fn indexed_page(store: &SharedStore) -> Result<(f64, Vec<String>), String> {
    let query = waypoint_server::store::review::QueueQuery { force_used: true, limit: PAGE, ..Default::default() };
    let started = Instant::now();
    let page = store.review_queue(query).await.map_err(err)?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok((ms, page.items.iter().map(|i| i.encounter_id.to_string()).collect()))
}

fn run_store(
    runtime: &tokio::runtime::Runtime,
    store: SharedStore,
    args: &Args,
    analyze: impl FnOnce() -> Result<(), String>,
    scan: impl FnOnce() -> Result<Vec<String>, String>,
) -> Result<Figures, String> {
    let started = Instant::now();
    let amended = runtime.block_on(fill(&store, args.encounters))?;
    eprintln!("review:   loaded in {:.0} s ({} amended)", started.elapsed().as_secs_f64(), amended.len());
    let waiting = runtime.block_on(store.review_metrics()).map_err(err)?.review_queue;
    if waiting != args.encounters as u64 {
        return Err(format!("{waiting} reports in the queue, {} pushed", args.encounters));
    }
    analyze()?;
    runtime.block_on(probe(&store))?;
    let tokens = runtime.block_on(sessions(&store, args.supervisors))?;
    let server = LocalServer::start(runtime, store.clone())?;
    let amended = Arc::new(amended);
    let think = Duration::from_millis(args.think_ms);
    let paced = desk_run(runtime, &server, &tokens, &amended, args.rounds, think, "paced")?;
    let saturated = if think.is_zero() {
        None
    } else {
        Some(desk_run(runtime, &server, &tokens, &amended, args.rounds, Duration::ZERO, "saturated")?)
    };
    drop(server);
    let (indexed_ms, indexed_ids) = runtime.block_on(indexed_page(&store))?;
    let scan_started = Instant::now();
    let scanned_ids = scan()?;
    let scan_ms = scan_started.elapsed().as_secs_f64() * 1000.0;
    if scanned_ids != indexed_ids {
        return Err(format!("the indexed page differs from the scanned one: {indexed_ids:?} vs {scanned_ids:?}"));
    }
    Ok(Figures { paced, saturated, indexed_ms, scan_ms })
}

/// One run of the desk by every supervisor, `think` apart; prints latency by filter.
fn desk_run(
    runtime: &tokio::runtime::Runtime,
    server: &LocalServer,
    tokens: &[String],
    amended: &Arc<Vec<uuid::Uuid>>,
    rounds: usize,
    think: Duration,
    name: &str,
) -> Result<DeskFigures, String> {
    let started = Instant::now();
    let mut lat = runtime.block_on(desk(server, tokens.to_vec(), amended.clone(), rounds, think))?;
    let seconds = started.elapsed().as_secs_f64();
    let requests = lat.queue.len() + lat.read.len() + lat.diff.len();
    eprintln!(
        "review:   desk {name} ({} ms pauses): {requests} requests in {seconds:.1} s ({:.0}/s)",
        think.as_millis(),
        requests as f64 / seconds
    );
    for (kind, samples) in FILTER_KINDS.iter().zip(lat.by_kind.iter_mut()) {
        if !samples.is_empty() {
            eprintln!(
                "review:     {kind:<18} page 1 p50 {:7.1} ms p99 {:7.1} ms",
                quantile_ms(samples, 0.5),
                quantile_ms(samples, 0.99)
            );
        }
    }
    let p = |samples: &mut Vec<Duration>, q| if samples.is_empty() { 0.0 } else { quantile_ms(samples, q) };
    Ok(DeskFigures {
        queue_p50: p(&mut lat.queue, 0.5),
        queue_p99: p(&mut lat.queue, 0.99),
        read_p50: p(&mut lat.read, 0.5),
        read_p99: p(&mut lat.read, 0.99),
        diff_p99: p(&mut lat.diff, 0.99),
        requests_per_s: requests as f64 / seconds,
        errors: lat.errors,
    })
}

fn report(name: &str, f: &Figures) {
    for (run, d) in [("paced", Some(&f.paced)), ("saturated", f.saturated.as_ref())] {
        let Some(d) = d else { continue };
        eprintln!(
            "review: {name} {run}: queue p50 {:.1} ms p99 {:.1} ms, read p50 {:.1} ms p99 {:.1} ms, diff p99 {:.1} ms, \
             {:.0} requests/s, {} errors",
            d.queue_p50, d.queue_p99, d.read_p50, d.read_p99, d.diff_p99, d.requests_per_s, d.errors
        );
    }
    eprintln!("review: {name} page {:.1} ms indexed vs {:.0} ms scanned", f.indexed_ms, f.scan_ms);
}

/// The figures of one store under `prefix` (`sqlite`, `postgres`): the paced run's under the
/// target keys, the saturated run's with `_saturated` in their names.
fn keys(prefix: &str, f: &Figures, out: &mut serde_json::Map<String, Value>) {
    let mut put = |key: String, value: f64| {
        out.insert(key, json!(round3(value)));
    };
    for (suffix, d) in [("", Some(&f.paced)), ("_saturated", f.saturated.as_ref())] {
        let Some(d) = d else { continue };
        put(format!("{prefix}{suffix}_queue_p50_ms"), d.queue_p50);
        put(format!("{prefix}{suffix}_queue_p99_ms"), d.queue_p99);
        put(format!("{prefix}{suffix}_read_p50_ms"), d.read_p50);
        put(format!("{prefix}{suffix}_read_p99_ms"), d.read_p99);
        put(format!("{prefix}{suffix}_diff_p99_ms"), d.diff_p99);
        put(format!("{prefix}{suffix}_requests_per_s"), d.requests_per_s);
    }
    put(format!("{prefix}_page_indexed_ms"), f.indexed_ms);
    put(format!("{prefix}_page_scan_ms"), f.scan_ms);
}

fn errors(f: &Figures) -> u64 {
    f.paced.errors + f.saturated.as_ref().map_or(0, |d| d.errors)
}

pub fn run(args: Args) -> Result<Value, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(err)?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tmp = tempfile::tempdir().map_err(err)?;

    eprintln!("review: {} encounters, {} supervisors on SQLite", args.encounters, args.supervisors);
    let path = tmp.path().join("server.sqlite");
    let key = waypoint_server::database_key::DatabaseKey::generate();
    let sqlite = runtime.block_on(waypoint_server::store::open(&path.to_string_lossy(), Some(&key))).map_err(err)?;
    // The file is encrypted: the analysis and the scan open it with its key.
    let open = || waypoint_server::sqlite_store::open_keyed(&path, &key).map_err(err);
    let analyze_sqlite = || {
        let conn = open()?;
        conn.execute_batch("PRAGMA analysis_limit = 1000; ANALYZE").map_err(err)
    };
    let on_sqlite = run_store(&runtime, sqlite.clone(), &args, analyze_sqlite, || {
        let conn = open()?;
        let mut stmt = conn.prepare(SCAN_SQLITE).map_err(err)?;
        let ids = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(err)?;
        ids.collect::<Result<Vec<_>, _>>().map_err(err)
    })?;
    report("SQLite", &on_sqlite);
    drop(sqlite);

    let url =
        std::env::var("WAYPOINT_BENCH_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("bench_{}", uuid::Uuid::now_v7().simple());
    let (admin, connection) = runtime.block_on(tokio_postgres::connect(&url, tokio_postgres::NoTls)).map_err(err)?;
    runtime.spawn(connection);
    runtime.block_on(admin.batch_execute(&format!("CREATE SCHEMA {schema}"))).map_err(err)?;
    let result = (|| {
        eprintln!("review: {} encounters, {} supervisors on PostgreSQL", args.encounters, args.supervisors);
        let postgres: SharedStore = Arc::new(
            runtime
                .block_on(waypoint_server::postgres_store::PostgresStore::connect(&url, Some(&schema)))
                .map_err(err)?,
        );
        runtime.block_on(postgres.migrate()).map_err(err)?;
        // VACUUM as autovacuum would after a bulk load: the visibility map lets the covering
        // indexes answer without visiting the table.
        let analyze = || {
            runtime
                .block_on(async {
                    admin.batch_execute(&format!("SET search_path = {schema}")).await?;
                    // One statement per call: VACUUM refuses to run in a multi-statement string.
                    admin
                        .batch_execute(
                            "VACUUM (ANALYZE) review_index, encounter_versions, encounter_owners, review_decisions",
                        )
                        .await
                })
                .map_err(err)
        };
        let figures = run_store(&runtime, postgres, &args, analyze, || {
            runtime.block_on(async {
                let rows = admin.query(SCAN_POSTGRES, &[]).await.map_err(err)?;
                Ok(rows.iter().map(|r| r.get::<_, String>(0)).collect())
            })
        })?;
        report("PostgreSQL", &figures);
        Ok::<_, String>(figures)
    })();
    runtime.block_on(admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))).map_err(err)?;
    let on_postgres = result?;
    let ratio = |f: &Figures| f.scan_ms / f.indexed_ms.max(0.001);
    let mut out = serde_json::Map::new();
    out.insert("bench".into(), json!("review"));
    out.insert("encounters".into(), json!(args.encounters));
    out.insert("supervisors".into(), json!(args.supervisors));
    out.insert("think_ms".into(), json!(args.think_ms));
    keys("sqlite", &on_sqlite, &mut out);
    keys("postgres", &on_postgres, &mut out);
    // The smaller of the two stores' ratios: how many times the index beats the scan at least.
    out.insert("scan_ratio".into(), json!(round3(ratio(&on_sqlite).min(ratio(&on_postgres)))));
    out.insert("errors".into(), json!(errors(&on_sqlite) + errors(&on_postgres)));
    Ok(Value::Object(out))
}
