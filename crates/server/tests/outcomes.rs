//! The outcome figures (`GET /v1/outcomes`) against an independent computation: a generated
//! year of reports (two officers, random answers, repeat subjects, returned and amended reports)
//! goes in through the store's push path and the review decisions; the same figures are then
//! computed by `tests/outcomes/figures.py` from the admin's JSON export, and every figure, both
//! breakdowns, the weekly trend and the day-by-hour table must agree. On both stores.

mod common;

use chrono::{Duration, DurationRound, Utc};
use common::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{json, Value};
use waypoint_core::{Encounter, EncounterStatus, Referral, ReferralOutcome};
use waypoint_protocol::{AckStatus, OutcomeReport, PushRecord, ReviewRequest};
use waypoint_server::review_rules::DecisionInput;
use waypoint_server::store::{Pusher, SharedStore};
use waypoint_server::validation::check_records;
use waypoint_server::Settings;

on_both_stores!(
    the_figures_match_an_independent_computation,
    bad_periods_are_refused_by_name,
    an_analyst_reads_the_figures_and_no_name_or_narrative,
    referrals_are_counted_by_the_directorys_service_types,
    an_area_narrows_the_figures_to_the_calls_inside_it,
);

#[test]
fn every_figure_is_defined_in_the_docs() {
    let docs = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/outcomes.md"))
        .unwrap();
    for key in waypoint_server::outcomes::figure_keys() {
        assert!(docs.contains(&format!("| `{key}` |")), "docs/outcomes.md has no row for `{key}`");
    }
}

const PASSWORD: &str = "a long passphrase";
const OFFICERS: [&str; 2] = ["badge-1", "badge-2"];
const NAMES: [&str; 8] =
    ["Pat O'Brien", "pat obrien", "Lee Chen", "LEE  CHEN", "Sam Ortiz", "Ana Diaz", "Jo Park", "Kim Ruiz"];
const DISPOSITIONS: [&str; 7] = [
    "transport_crisis_centre",
    "transport_hospital",
    "emergency_detention",
    "arrested",
    "referral_made",
    "resolved_on_scene",
    "case_manager_notified",
];

/// One random report by `officer` at `at`.
fn generated(rng: &mut StdRng, officer: &str, device: &str, at: chrono::DateTime<Utc>) -> Encounter {
    let mut e = Encounter::new_draft(device, officer, 1, at);
    e.status = EncounterStatus::Submitted;
    e.submitted_at = Some(at);
    e.call.call_type = Some("911".into());
    e.response.cit_officer_dispatched = rng.gen_bool(0.6);
    e.response.cit_officer_arrived = e.response.cit_officer_dispatched && rng.gen_bool(0.8);
    e.response.officer_cit_certified = rng.gen_bool(0.5);
    e.response.reportable_force = rng.gen_bool(0.1);
    e.response.subject_injured = rng.gen_bool(0.07);
    e.response.officer_injured = rng.gen_bool(0.04);
    e.response.minutes_on_scene = rng.gen_bool(0.85).then(|| rng.gen_range(5..180));
    e.risk.weapon =
        [None, Some("none"), Some("knife"), Some("firearm"), Some("")].choose(rng).unwrap().map(String::from);
    e.risk.naloxone_administered = rng.gen_bool(0.05);
    e.diversion.custody_diverted = [None, Some(true), Some(false)].choose(rng).copied().unwrap();
    let how_many = rng.gen_range(0..3);
    let mut dispositions: Vec<String> = DISPOSITIONS.choose_multiple(rng, how_many).map(|d| d.to_string()).collect();
    dispositions.sort();
    e.dispositions = dispositions;
    e.referrals = (0..rng.gen_range(0..3))
        .map(|n| Referral {
            service_id: format!("service-{n}"),
            service_name: Some("Crisis centre".into()),
            outcome: *[ReferralOutcome::Accepted, ReferralOutcome::Declined, ReferralOutcome::Unknown]
                .choose(rng)
                .unwrap(),
        })
        .collect();
    e.subject.name = rng.gen_bool(0.7).then(|| NAMES.choose(rng).unwrap().to_string());
    if rng.gen_bool(0.8) {
        e.location.lat = Some(44.97 + f64::from(rng.gen_range(0..3)) * 0.01 + 0.004);
        e.location.lon = Some(-93.27 + f64::from(rng.gen_range(0..3)) * 0.01 + 0.004);
    }
    e.narrative = "Officer spoke with the subject.".into();
    e
}

async fn push(store: &SharedStore, device: &str, officer: &str, encounters: &[Encounter]) {
    let records: Vec<PushRecord> = encounters
        .iter()
        .enumerate()
        .map(|(i, e)| PushRecord::new(e.id, e.version, i as u64 + 1, serde_json::to_value(e).unwrap()))
        .collect();
    for chunk in records.chunks(100) {
        let acks = store.push(&Pusher::officer(device, officer), check_records(chunk.to_vec())).await.unwrap();
        assert!(acks.acks.iter().all(|a| a.status == AckStatus::Stored), "{acks:?}");
    }
}

async fn decide(store: &SharedStore, e: &Encounter, decision: &str) {
    let comment = (decision == "returned").then_some("add the time on scene");
    let request: ReviewRequest = serde_json::from_value(
        json!({"encounter_id": e.id, "version": e.version, "decision": decision, "comment": comment}),
    )
    .unwrap();
    store.decide(DecisionInput::new("sgt.reyes", request)).await.unwrap().expect("allowed");
}

struct Desk {
    t: TestStore,
    server: TestServer,
    client: reqwest::Client,
    sgt: String,
    admin: String,
}

impl Desk {
    async fn new(backend: Backend) -> Self {
        Self::with_settings(backend, Settings::default()).await
    }

    async fn with_settings(backend: Backend, settings: Settings) -> Self {
        let t = TestStore::new(backend).await;
        add_user(&t.store, "sgt.reyes", Role::Supervisor, PASSWORD).await;
        add_user(&t.store, "admin.kim", Role::Admin, PASSWORD).await;
        for officer in OFFICERS {
            add_user(&t.store, officer, Role::Officer, PASSWORD).await;
        }
        let server = TestServer::start(t.store.clone(), settings).await;
        let client = http_client();
        let sgt = login(&client, &server, "sgt.reyes", PASSWORD).await;
        let admin = login(&client, &server, "admin.kim", PASSWORD).await;
        Desk { t, server, client, sgt, admin }
    }

    async fn get(&self, token: &str, path: &str, query: &[(&str, &str)]) -> reqwest::Response {
        self.client.get(self.server.url(path)).bearer_auth(token).query(query).send().await.unwrap()
    }

    async fn outcomes(&self, query: &[(&str, &str)]) -> OutcomeReport {
        let reply = self.get(&self.sgt, "/v1/outcomes", query).await;
        assert_eq!(reply.status(), StatusCode::OK);
        reply.json().await.unwrap()
    }
}

use waypoint_protocol::{DeidentifiedRows, Role};

/// Runs the independent computation over the exports in `dir`.
fn independent(dir: &std::path::Path, args: &[&str], exports: &[&str]) -> Value {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/outcomes/figures.py");
    let output = std::process::Command::new("python3")
        .arg(script)
        .args(args)
        .args(exports.iter().map(|e| dir.join(e)))
        .output()
        .expect("python3 runs");
    assert!(output.status.success(), "figures.py failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn counts_of(report: &OutcomeReport, key: &str, current: bool) -> Value {
    let breakdown = report.breakdowns.iter().find(|b| b.key == key).unwrap();
    let counts: serde_json::Map<String, Value> = breakdown
        .rows
        .iter()
        .map(|r| (r.code.clone(), json!(if current { r.current } else { r.previous })))
        .filter(|(_, n)| n != &json!(0))
        .collect();
    Value::Object(counts)
}

async fn the_figures_match_an_independent_computation(backend: Backend) {
    let desk = Desk::new(backend).await;
    let store = &desk.t.store;
    let mut rng = StdRng::seed_from_u64(20261203);
    let today = Utc::now().duration_trunc(Duration::days(1)).unwrap();
    let mut all = Vec::new();
    for officer in OFFICERS {
        let (device, _) = enroll_device(store).await;
        let encounters: Vec<Encounter> = (0..180)
            .map(|_| {
                let at = today - Duration::minutes(rng.gen_range(0..(240 * 24 * 60))) + Duration::hours(12);
                generated(&mut rng, officer, &device, at.min(Utc::now()))
            })
            .collect();
        push(store, &device, officer, &encounters).await;
        // Reviews: about half approved, a fifth returned (of those, half amended and submitted
        // again, some of them approved), the rest still waiting.
        let mut amended = Vec::new();
        for e in &encounters {
            let roll: f64 = rng.gen();
            if roll < 0.5 {
                decide(store, e, "approved").await;
            } else if roll < 0.7 {
                decide(store, e, "returned").await;
                if rng.gen_bool(0.5) {
                    let mut next = e.clone();
                    next.version = 2;
                    next.supersedes = Some(1);
                    next.response.minutes_on_scene = Some(rng.gen_range(5..180));
                    next.response.reportable_force = !e.response.reportable_force;
                    next.dispositions = vec!["arrested".into()];
                    amended.push(next);
                }
            }
        }
        push(store, &device, officer, &amended).await;
        for e in &amended {
            if rng.gen_bool(0.5) {
                decide(store, e, "approved").await;
            }
        }
        all.extend(encounters);
    }
    assert_eq!(all.len(), 360);

    // Training records: badge-1 took the course 30 days before today (inside the period, so the
    // day of each call matters) and a refresher after; badge-2 only refreshers (never trained);
    // the supervisor long ago (files no reports).
    for (username, kind, days_ago) in [
        ("badge-1", "initial", 30),
        ("badge-1", "refresher", 10),
        ("badge-2", "refresher", 400),
        ("sgt.reyes", "initial", 900),
    ] {
        let completed_on = (today - Duration::days(days_ago)).date_naive().to_string();
        let body = json!({"username": username, "course": "CIT 40-hour", "kind": kind, "completed_on": completed_on});
        let reply = desk
            .client
            .post(desk.server.url("/v1/admin/training"))
            .bearer_auth(&desk.admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::CREATED, "{body}");
    }

    let dir = tempfile::tempdir().unwrap();
    for (path, file) in [("/v1/admin/training", "training.json"), ("/v1/admin/users", "users.json")] {
        let reply = desk.get(&desk.admin, path, &[]).await;
        assert_eq!(reply.status(), StatusCode::OK);
        std::fs::write(dir.path().join(file), reply.bytes().await.unwrap()).unwrap();
    }
    let training_args = [
        "--training".to_string(),
        dir.path().join("training.json").to_string_lossy().into_owned(),
        "--users".to_string(),
        dir.path().join("users.json").to_string_lossy().into_owned(),
    ];
    for state in ["approved", "submitted"] {
        let reply = desk.get(&desk.admin, "/v1/admin/export", &[("state", state), ("format", "json")]).await;
        assert_eq!(reply.status(), StatusCode::OK);
        std::fs::write(dir.path().join(format!("{state}.json")), reply.bytes().await.unwrap()).unwrap();
    }

    let to = (today - Duration::days(1)).date_naive().to_string();
    let from = (today - Duration::days(60)).date_naive().to_string();
    for (include, exports, officer) in [
        ("approved", vec!["approved.json"], None),
        ("approved_and_submitted", vec!["approved.json", "submitted.json"], None),
        ("approved_and_submitted", vec!["approved.json", "submitted.json"], Some("badge-2")),
    ] {
        let mut query = vec![("from", from.as_str()), ("to", to.as_str()), ("include", include)];
        let mut args = vec!["--from", from.as_str(), "--to", to.as_str(), "--include", include];
        args.extend(training_args.iter().map(String::as_str));
        if let Some(officer) = officer {
            query.push(("officer", officer));
            args.extend(["--officer", officer]);
        }
        let report = desk.outcomes(&query).await;
        let expected = independent(dir.path(), &args, &exports);
        let what = format!("{include}, officer {officer:?}");
        assert_eq!(report.from, from);
        assert_eq!(json!(report.previous_from), expected["previous_from"], "{what}");
        assert_eq!(json!(report.previous_to), expected["previous_to"], "{what}");
        assert_eq!(report.unreadable, 0);
        let figures = expected["figures"].as_object().unwrap();
        assert_eq!(report.figures.len(), figures.len(), "{what}: the same figures");
        for figure in &report.figures {
            let pair = &figures[&figure.key];
            assert_eq!(json!([figure.current, figure.previous]), *pair, "{what}: figure {}", figure.key);
        }
        let calls = report.figures.iter().find(|f| f.key == "calls").unwrap();
        assert!(calls.current.unwrap() >= 30.0 && calls.previous.unwrap() >= 30.0, "{what}: enough data {calls:?}");
        if officer.is_none() {
            // badge-1 was trained inside the period; badge-2 never (refreshers only).
            let trained = report.figures.iter().find(|f| f.key == "officer_cit_trained_pct").unwrap();
            assert!(trained.current > trained.previous, "{what}: training inside the period shows {trained:?}");
            for figure in ["cit_answer_without_record", "cit_record_without_answer"] {
                let f = report.figures.iter().find(|f| f.key == figure).unwrap();
                assert!(f.current.unwrap() > 0.0, "{what}: some {figure} to compare");
            }
        }
        for figure in ["repeat_contacts", "force_used", "arrests", "custody_diverted"] {
            let f = report.figures.iter().find(|f| f.key == figure).unwrap();
            assert!(f.current.unwrap() > 0.0, "{what}: some {figure} to compare");
        }
        for key in ["dispositions", "transports"] {
            assert_eq!(counts_of(&report, key, true), expected[key]["current"], "{what}: {key} now");
            assert_eq!(counts_of(&report, key, false), expected[key]["previous"], "{what}: {key} before");
        }
        assert_eq!(json!(report.by_day_and_hour), expected["by_day_and_hour"], "{what}: day by hour");
        let weekly: serde_json::Map<String, Value> =
            report.weekly.iter().filter(|p| p.calls > 0).map(|p| (p.start.clone(), json!(p.calls))).collect();
        assert_eq!(Value::Object(weekly), expected["weekly"], "{what}: weekly");
        let monthly_calls: u64 = report.monthly.iter().map(|p| p.calls).sum();
        assert_eq!(monthly_calls as f64, calls.current.unwrap(), "{what}: months add up to the calls");
        assert!(report.grid.iter().all(|c| c.calls >= report.grid_minimum), "{what}: small squares are hidden");
    }

    // The CSV carries the same figures, and every read is in the trail.
    let reply = desk.get(&desk.sgt, "/v1/outcomes", &[("from", &from), ("to", &to), ("format", "csv")]).await;
    assert_eq!(reply.status(), StatusCode::OK);
    assert!(reply.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let csv = reply.text().await.unwrap();
    let report = desk.outcomes(&[("from", &from), ("to", &to)]).await;
    let calls = report.figures.iter().find(|f| f.key == "calls").unwrap();
    let line = format!("figure,calls,Crisis calls,count,{},{}", calls.current.unwrap(), calls.previous.unwrap());
    assert!(csv.lines().any(|l| l == line), "{line} in\n{csv}");
    let trail = store.audit_rows(0, 100_000).await.unwrap();
    let reads = trail.iter().filter(|r| r.action == "outcomes_read" && r.actor == "sgt.reyes").count();
    assert_eq!(reads, 5, "every read of the figures is audited");

    // The de-identified rows add up to the same figures.
    let query = [("from", from.as_str()), ("to", to.as_str()), ("include", "approved_and_submitted")];
    let rows: DeidentifiedRows = desk.get(&desk.sgt, "/v1/outcomes/rows", &query).await.json().await.unwrap();
    let report = desk.outcomes(&query).await;
    let figure = |key: &str| report.figures.iter().find(|f| f.key == key).unwrap().current.unwrap();
    let n = rows.rows.len() as f64;
    assert_eq!(n, figure("calls"));
    assert_eq!(rows.rows.iter().filter(|r| r.force_used).count() as f64, figure("force_used"));
    assert_eq!(
        rows.rows.iter().filter(|r| r.dispositions.iter().any(|d| d == "arrested")).count() as f64,
        figure("arrests")
    );
    assert_eq!(rows.rows.iter().map(|r| r.referrals_accepted).sum::<u32>() as f64, figure("referrals_accepted"));
    assert_eq!(rows.rows.iter().filter(|r| r.repeat_contact).count() as f64, figure("repeat_contacts"));
    let repeated: std::collections::BTreeSet<u32> =
        rows.rows.iter().filter(|r| r.repeat_contact).filter_map(|r| r.person).collect();
    assert_eq!(repeated.len() as f64, figure("people_seen_repeatedly"));
    let trained = rows.rows.iter().filter(|r| r.officer_cit_trained).count() as f64;
    assert_eq!((trained * 10_000.0 / n).round() / 100.0, figure("officer_cit_trained_pct"));
    let mut squares: std::collections::BTreeMap<(String, String), usize> = Default::default();
    for r in rows.rows.iter().filter(|r| r.square_lat.is_some()) {
        *squares.entry((format!("{:?}", r.square_lat), format!("{:?}", r.square_lon))).or_default() += 1;
    }
    assert!(!squares.is_empty() && squares.values().all(|n| *n >= 3), "squares shown only where 3 calls share them");
    assert!(rows.rows.windows(2).all(|w| w[0].hour <= w[1].hour), "oldest first");
    let csv = desk.get(&desk.sgt, "/v1/outcomes/rows", &[query.as_slice(), &[("format", "csv")]].concat()).await;
    let csv = csv.text().await.unwrap();
    assert_eq!(csv.lines().count(), rows.rows.len() + 1, "a header and a line a row");
    assert!(csv.starts_with("hour,state,call_type,"));
    let body = serde_json::to_string(&rows).unwrap();
    for name in NAMES {
        assert!(!body.contains(name) && !csv.contains(name), "a name in the rows: {name}");
    }
    assert!(!body.contains("Officer spoke") && !body.contains("badge-1"), "a narrative or an officer in the rows");
}

async fn bad_periods_are_refused_by_name(backend: Backend) {
    let desk = Desk::new(backend).await;
    for (query, says) in [
        (vec![("from", "2026-05-01"), ("to", "2026-04-01")], "is after to"),
        (vec![("from", "May 1st")], "from must be a date"),
        (vec![("to", "2026-13-01")], "to must be a date"),
        (vec![("from", "2000-01-01"), ("to", "2026-01-01")], "at most 3660"),
        (vec![("include", "everything")], "include"),
        (vec![("from", "1066-10-14"), ("to", "1066-10-14")], "between the years"),
        (vec![("area", "30.2,-97.8,30.1,-97.7")], "area must be south,west,north,east"),
        (vec![("area", "30.2,-97.8,30.3")], "area must be"),
        (vec![("area", "north of the river")], "area must be"),
        (vec![("area", "95,-97.8,96,-97.7")], "area must be"),
    ] {
        let reply = desk.get(&desk.sgt, "/v1/outcomes", &query).await;
        assert_eq!(reply.status(), StatusCode::BAD_REQUEST, "{query:?}");
        let body: Value = reply.json().await.unwrap();
        assert!(body["message"].as_str().unwrap().contains(says), "{query:?}: {body}");
    }
    // An empty period has figures of nothing, not errors.
    let report = desk.outcomes(&[("from", "2020-01-01"), ("to", "2020-01-31")]).await;
    let calls = report.figures.iter().find(|f| f.key == "calls").unwrap();
    assert_eq!((calls.current, calls.previous), (Some(0.0), Some(0.0)));
    let median = report.figures.iter().find(|f| f.key == "minutes_on_scene_median").unwrap();
    assert_eq!(median.current, None, "no median of nothing");
}

/// The analyst role sees the figures, and no name and no narrative anywhere: every GET route of
/// the router is asked as an analyst (the report's own id in the path), and no answer may hold
/// the sentinel name or narrative; every route but the figures' (and the analyst's own session,
/// the agency configuration, health and the API document) refuses them. Signing in on a device
/// is refused too (an analyst has no officer credential, so nothing to push with).
async fn an_analyst_reads_the_figures_and_no_name_or_narrative(backend: Backend) {
    const NAME: &str = "Zebediah Quartermain";
    const NARRATIVE: &str = "sentinel-narrative-7731";
    let desk = Desk::new(backend).await;
    let store = &desk.t.store;
    add_user(store, "analyst.li", Role::Analyst, PASSWORD).await;
    let analyst = login(&desk.client, &desk.server, "analyst.li", PASSWORD).await;
    let (device, device_token) = enroll_device(store).await;
    let mut rng = StdRng::seed_from_u64(7);
    let encounters: Vec<Encounter> = (0..6)
        .map(|n| {
            let mut e = generated(&mut rng, "badge-1", &device, Utc::now() - Duration::hours(n + 1));
            e.subject.name = Some(NAME.into());
            e.narrative = format!("{NARRATIVE}: the subject, {NAME}, went to the crisis centre.");
            e.location.lat = Some(44.975);
            e.location.lon = Some(-93.265);
            e
        })
        .collect();
    push(store, &device, "badge-1", &encounters).await;
    for e in &encounters {
        decide(store, e, "approved").await;
    }
    let id = encounters[0].id.to_string();

    let mut admitted = Vec::new();
    for (method, path, _) in waypoint_server::api::route_table() {
        if method != reqwest::Method::GET {
            continue;
        }
        let concrete = path.replace("{id}", &id).replace("{username}", "badge-1").replace("{service_id}", "x");
        for format in ["json", "csv"] {
            let reply =
                desk.get(&analyst, &concrete, &[("format", format), ("include", "approved_and_submitted")]).await;
            let status = reply.status();
            let body = reply.text().await.unwrap();
            assert!(!body.contains(NAME) && !body.contains("Quartermain"), "{path} ({format}) shows the name: {body}");
            assert!(!body.contains(NARRATIVE), "{path} ({format}) shows the narrative");
            if status.is_success() {
                admitted.push(path);
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
            }
        }
    }
    admitted.sort();
    admitted.dedup();
    assert_eq!(
        admitted,
        [
            "/openapi.json",
            "/v1/agency/config",
            "/v1/console/session",
            "/v1/health",
            "/v1/outcomes",
            "/v1/outcomes/rows"
        ],
        "what an analyst may read"
    );
    let report = desk.outcomes(&[("include", "approved")]).await;
    let calls = report.figures.iter().find(|f| f.key == "calls").unwrap();
    assert_eq!(calls.current, Some(6.0), "the analyst's figures count the reports");
    let as_analyst: OutcomeReport =
        desk.get(&analyst, "/v1/outcomes", &[("include", "approved")]).await.json().await.unwrap();
    assert_eq!(as_analyst.figures, report.figures, "the analyst sees the same figures as the sergeant");
    // The rows: one a report, one person number for the one person, their shared square shown.
    let rows: DeidentifiedRows =
        desk.get(&analyst, "/v1/outcomes/rows", &[("include", "approved")]).await.json().await.unwrap();
    assert_eq!(rows.rows.len(), 6);
    assert!(rows
        .rows
        .iter()
        .all(|r| r.person == Some(1) && r.square_lat == Some(44.97) && r.square_lon == Some(-93.27)));
    assert_eq!(rows.rows.iter().filter(|r| r.repeat_contact).count(), 5, "the first is not a repeat");

    let on_device = desk
        .client
        .post(desk.server.url("/v1/login"))
        .bearer_auth(&device_token)
        .json(&json!({"username": "analyst.li", "password": PASSWORD, "totp": test_totp_code("analyst.li")}))
        .send()
        .await
        .unwrap();
    assert_eq!(on_device.status(), StatusCode::FORBIDDEN, "an analyst does not sign in on a device");
    let body: Value = on_device.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("analyst"), "{body}");
}

/// The first rows of each real SAMHSA listing, as a SAMHSA folder to import.
fn samhsa_sample(into: &std::path::Path) -> std::path::PathBuf {
    let from = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/samhsa");
    let to = into.join("samhsa");
    std::fs::create_dir_all(&to).unwrap();
    for file in ["mental_health_facilities.csv", "opioid_treatment_programs.csv", "substance_use_facilities.csv"] {
        // Bytes, not text: the listings hold the odd Latin-1 row.
        let bytes = std::fs::read(from.join(file)).unwrap();
        let head: Vec<&[u8]> = bytes.split(|b| *b == b'\n').take(41).collect();
        std::fs::write(to.join(file), [head.join(&b'\n'), b"\n".to_vec()].concat()).unwrap();
    }
    to
}

async fn referrals_are_counted_by_the_directorys_service_types(backend: Backend) {
    use waypoint_server::directory_feed::{self, DirectorySource};
    let data = tempfile::tempdir().unwrap();
    let settings = Settings { directory_snapshot_dir: Some(data.path().to_path_buf()), ..Settings::default() };
    let desk = Desk::with_settings(backend, settings).await;
    let store = &desk.t.store;
    directory_feed::import(store, data.path(), DirectorySource::Samhsa(samhsa_sample(data.path()))).await.unwrap();

    // Three services and their types, read from the directory file with SQL of this test's own.
    let directory = rusqlite::Connection::open(data.path().join("directory.sqlite")).unwrap();
    let types_of = |id: &str| -> Vec<String> {
        let mut statement = directory
            .prepare(
                "SELECT t.code FROM attribute a JOIN taxonomy_term t ON t.id = a.taxonomy_term_id
                 WHERE t.taxonomy = 'waypoint_service_type' AND a.link_id = ?1
                   AND t.code <> 'law_enforcement_dropoff'",
            )
            .unwrap();
        statement.query_map([id], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    let ids: Vec<String> = directory
        .prepare("SELECT id FROM service ORDER BY id LIMIT 3")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(ids.len(), 3, "the sample has services");
    let types: Vec<Vec<String>> = ids.iter().map(|id| types_of(id)).collect();
    assert!(types.iter().all(|t| !t.is_empty()), "SAMHSA services carry types: {types:?}");

    // Reports referring to them (one service twice, one accepted each) and to one the directory lacks.
    let (device, _) = enroll_device(store).await;
    let referral = |id: &str, outcome| Referral { service_id: id.into(), service_name: None, outcome };
    let mut rng = StdRng::seed_from_u64(9);
    let mut reports = Vec::new();
    for (n, referrals) in [
        vec![referral(&ids[0], ReferralOutcome::Accepted), referral(&ids[1], ReferralOutcome::Declined)],
        vec![referral(&ids[0], ReferralOutcome::Unknown), referral("not-a-listed-service", ReferralOutcome::Accepted)],
        vec![referral(&ids[2], ReferralOutcome::Accepted)],
    ]
    .into_iter()
    .enumerate()
    {
        let mut e = generated(&mut rng, "badge-1", &device, Utc::now() - Duration::hours(n as i64 + 1));
        e.referrals = referrals;
        reports.push(e);
    }
    push(store, &device, "badge-1", &reports).await;
    for e in &reports {
        decide(store, e, "approved").await;
    }

    let mut made: std::collections::BTreeMap<String, u64> = Default::default();
    let mut accepted: std::collections::BTreeMap<String, u64> = Default::default();
    for e in &reports {
        for r in &e.referrals {
            let codes = ids
                .iter()
                .position(|id| *id == r.service_id)
                .map_or(vec!["not_in_directory".to_string()], |i| types[i].clone());
            for code in codes {
                *made.entry(code.clone()).or_default() += 1;
                if r.outcome == ReferralOutcome::Accepted {
                    *accepted.entry(code).or_default() += 1;
                }
            }
        }
    }
    let report = desk.outcomes(&[]).await;
    for (key, want) in [("referrals_by_type", &made), ("referrals_accepted_by_type", &accepted)] {
        let breakdown = report.breakdowns.iter().find(|b| b.key == key).unwrap_or_else(|| panic!("no {key}"));
        let shown: std::collections::BTreeMap<String, u64> =
            breakdown.rows.iter().map(|r| (r.code.clone(), r.current)).collect();
        assert_eq!(&shown, want, "{key}");
        let unlisted = breakdown.rows.iter().find(|r| r.code == "not_in_directory").unwrap();
        assert_eq!(unlisted.label, "Service not in the directory");
        assert!(breakdown.rows.iter().any(|r| r.label != r.code && r.code != "not_in_directory"), "types have labels");
    }
}

async fn an_area_narrows_the_figures_to_the_calls_inside_it(backend: Backend) {
    let desk = Desk::new(backend).await;
    let store = &desk.t.store;
    let (device, _) = enroll_device(store).await;
    let mut rng = StdRng::seed_from_u64(21);
    // Downtown (4 calls, 1 with force), the airport (3 calls), and 2 without a location.
    let mut reports = Vec::new();
    for (n, place) in
        [Some((30.2672, -97.7431)); 4].into_iter().chain([Some((30.1975, -97.6664)); 3]).chain([None; 2]).enumerate()
    {
        let mut e = generated(&mut rng, "badge-1", &device, Utc::now() - Duration::hours(n as i64 + 1));
        e.location.lat = place.map(|p| p.0);
        e.location.lon = place.map(|p| p.1);
        e.response.reportable_force = n == 0;
        e.subject.name = None;
        reports.push(e);
    }
    push(store, &device, "badge-1", &reports).await;
    for e in &reports {
        decide(store, e, "approved").await;
    }
    let calls = |report: &OutcomeReport, key: &str| report.figures.iter().find(|f| f.key == key).unwrap().current;
    let everywhere = desk.outcomes(&[]).await;
    assert_eq!(calls(&everywhere, "calls"), Some(9.0));
    let downtown = desk.outcomes(&[("area", "30.26,-97.75,30.27,-97.74")]).await;
    assert_eq!((calls(&downtown, "calls"), calls(&downtown, "force_used")), (Some(4.0), Some(1.0)));
    assert_eq!(downtown.area.map(|a| (a.south, a.east)), Some((30.26, -97.74)), "the report says which area");
    let airport = desk.outcomes(&[("area", " 30.19 , -97.67 , 30.20 , -97.66 ")]).await;
    assert_eq!((calls(&airport, "calls"), calls(&airport, "force_used")), (Some(3.0), Some(0.0)));
    let rows: DeidentifiedRows =
        desk.get(&desk.sgt, "/v1/outcomes/rows", &[("area", "30.26,-97.75,30.27,-97.74")]).await.json().await.unwrap();
    assert_eq!(rows.rows.len(), 4, "the rows read the same area");
}
