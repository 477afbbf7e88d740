//! `waypoint-server import encounters` on both stores: a generated extract of an older records
//! system with bad rows goes in through the real binary and `tests/history/rms-mapping.json`;
//! the report names each bad row's line and reason; a re-import changes nothing; the figures
//! count the imported reports (checked against counts made from the CSV itself), tell them apart
//! by `source`, and the review queue and records feed never see them. A mapping that does not
//! fit the file or the vocabularies is refused before anything is stored.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use chrono::{Duration, TimeZone};
use common::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::Value;
use waypoint_protocol::{OutcomeReport, Role};
use waypoint_server::Settings;

on_both_stores!(history_is_imported_reported_counted_and_idempotent, a_mapping_that_does_not_fit_stores_nothing);

const PASSWORD: &str = "a long passphrase";
const GOOD_ROWS: usize = 300;

fn mapping_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/history/rms-mapping.json")
}

fn cli(t: &TestStore, data_dir: &Path, args: &[&str]) -> Output {
    server_cli(t, data_dir, args)
}

/// What the CSV says of its good rows, counted here from the cells (not from the server).
#[derive(Default, Debug)]
struct Expected {
    calls: u64,
    force: u64,
    arrests: u64,
    detentions: u64,
    diverted: u64,
    considered: u64,
    dispatched: u64,
}

const HEADER: &str = "Incident No,Call Time,Badge,Call Source,Behaviours,Disposition,Weapon,CIT Dispatched,CIT Arrived,Force,Subject Injured,Minutes On Scene,Diverted,Subject,Lat,Lon,Notes";

/// A generated extract: good rows from 2020 to 2022 (one with a note over two lines), and bad
/// ones at known lines with the words their reason must contain.
fn extract(rng: &mut StdRng) -> (String, Expected, Vec<(u64, &'static str)>) {
    let mut text = format!("{HEADER}\n");
    let mut line = 2u64;
    let mut expected = Expected::default();
    let mut bad = Vec::new();
    let start = chrono_tz::America::Chicago.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
    for n in 0..GOOD_ROWS {
        let at = start + Duration::minutes(rng.gen_range(0..(3 * 365 * 24 * 60)));
        let how_many = rng.gen_range(1..3);
        let dispositions: Vec<&str> = ["TRANS-CRISIS", "TRANS-HOSP", "EDO", "ARREST", "REFER", "RESOLVED"]
            .choose_multiple(rng, how_many)
            .copied()
            .collect();
        let arrested = dispositions.contains(&"ARREST");
        let diverted =
            if arrested { *["N", "NA"].choose(rng).unwrap() } else { *["Y", "N", "NA", ""].choose(rng).unwrap() };
        let force = rng.gen_bool(0.1);
        let dispatched = rng.gen_bool(0.6);
        expected.calls += 1;
        expected.force += force as u64;
        expected.arrests += arrested as u64;
        expected.detentions += dispositions.contains(&"EDO") as u64;
        expected.diverted += (diverted == "Y") as u64;
        expected.considered += (diverted == "Y" || diverted == "N") as u64;
        expected.dispatched += dispatched as u64;
        let notes = if n == 3 { "\"Two lines,\nof notes\"".to_string() } else { format!("note {n}") };
        text.push_str(&format!(
            "RMS-{n:05},{},B{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            at.format("%m/%d/%Y %H:%M"),
            rng.gen_range(100..110),
            ["911", "PHONE", "ONVIEW", "WALKIN"].choose(rng).unwrap(),
            ["SUICIDAL", "DEPRESSED;HALLUC", "NONE", ""].choose(rng).unwrap(),
            dispositions.join(";"),
            ["NONE", "KNIFE", "GUN", ""].choose(rng).unwrap(),
            if dispatched { "Y" } else { "N" },
            if dispatched && rng.gen_bool(0.8) { "Yes" } else { "No" },
            if force { "1" } else { "0" },
            ["Y", "N", ""].choose(rng).unwrap(),
            if rng.gen_bool(0.8) { rng.gen_range(5..200).to_string() } else { String::new() },
            diverted,
            ["Pat Doe", "Lee Roe", "", "Sam Poe"].choose(rng).unwrap(),
            rng.gen_range(30.20..30.40),
            rng.gen_range(-97.80..-97.60),
            notes,
        ));
        line += 1 + notes.matches('\n').count() as u64;
        if n % 50 == 10 {
            let (row, why): (String, &str) = match bad.len() {
                0 => ("RMS-90001,03/02/2021 10:00,B101,FAX,,RESOLVED,NONE,N,N,0,N,10,N,,,,".into(), "`FAX`"),
                1 => ("RMS-90002,31/31/2021 25:00,B101,911,,RESOLVED,NONE,N,N,0,N,10,N,,,,".into(), "does not read as"),
                2 => (",03/02/2021 10:00,B101,911,,RESOLVED,NONE,N,N,0,N,10,N,,,,".into(), "row key is empty"),
                3 => {
                    ("RMS-00001,03/02/2021 10:00,B101,911,,RESOLVED,NONE,N,N,0,N,10,N,,,,".into(), "already on line 3")
                }
                4 => ("RMS-90005,03/02/2021 10:00,B101,911,,RESOLVED,BAT,N,N,0,N,10,N,,,,".into(), "`BAT`"),
                _ => ("RMS-90006,03/02/2021 10:00,B101,911,,ARREST,NONE,N,N,0,N,about 20,N,,,,".into(), "`about 20`"),
            };
            text.push_str(&row);
            text.push('\n');
            bad.push((line, why));
            line += 1;
        }
    }
    // An arrest with custody diverted contradicts itself (the device's own check), and a call
    // in the future is not history.
    text.push_str("RMS-90007,03/02/2021 10:00,B101,911,,ARREST,NONE,N,N,0,N,10,Y,,,,\n");
    bad.push((line, "diversion.custody_diverted"));
    text.push_str("RMS-90008,03/02/2099 10:00,B101,911,,RESOLVED,NONE,N,N,0,N,10,N,,,,\n");
    bad.push((line + 1, "future"));
    (text, expected, bad)
}

fn figure(report: &OutcomeReport, key: &str) -> Option<f64> {
    report.figures.iter().find(|f| f.key == key).unwrap_or_else(|| panic!("no figure {key}")).current
}

async fn history_is_imported_reported_counted_and_idempotent(backend: Backend) {
    let t = TestStore::new(backend).await;
    let data = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(16);
    let (text, expected, bad) = extract(&mut rng);
    let csv = data.path().join("rms.csv");
    std::fs::write(&csv, &text).unwrap();
    let report_file = data.path().join("report.json");
    let mapping = mapping_path();
    let args = [
        "import",
        "encounters",
        "--csv",
        csv.to_str().unwrap(),
        "--mapping",
        mapping.to_str().unwrap(),
        "--report",
        report_file.to_str().unwrap(),
    ];

    let first = cli(&t, data.path(), &args);
    let stdout = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(first.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&first.stderr));
    let report: Value = serde_json::from_slice(&std::fs::read(&report_file).unwrap()).unwrap();
    assert_eq!(report["rows_read"], (GOOD_ROWS + bad.len()) as u64, "{report:#}");
    assert_eq!(report["imported"], GOOD_ROWS as u64, "{report:#}");
    assert_eq!(report["rejected"], bad.len() as u64, "{report:#}");
    let rejections = report["rejections"].as_array().unwrap();
    for ((line, why), rejection) in bad.iter().zip(rejections) {
        assert_eq!(rejection["line"], *line, "{rejection}");
        let reason = rejection["reason"].as_str().unwrap();
        assert!(reason.contains(why), "line {line}: `{reason}` does not say {why}");
        assert!(stdout.contains(&format!("line {line}: {reason}")), "the report printed: {stdout}");
    }
    assert!(stdout.contains(&format!("{GOOD_ROWS} imported")), "{stdout}");

    // The same file again: nothing new, nothing changed.
    let again = cli(&t, data.path(), &args);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let report: Value = serde_json::from_slice(&std::fs::read(&report_file).unwrap()).unwrap();
    assert_eq!((report["imported"].as_u64(), report["updated"].as_u64()), (Some(0), Some(0)), "{report:#}");
    assert_eq!(report["unchanged"], GOOD_ROWS as u64);
    assert_eq!(
        t.store.imported_sources().await.unwrap(),
        vec![("Metro PD RMS 2019-2024".to_string(), GOOD_ROWS as u64)]
    );

    // A corrected extract: one row's disposition changed is an update, not a second report.
    let first_row = text.lines().nth(1).unwrap().to_string();
    let mut cells: Vec<String> = first_row.split(',').map(str::to_string).collect();
    cells[5] = if cells[5] == "RESOLVED" { "REFER".into() } else { "RESOLVED".into() };
    std::fs::write(&csv, text.replacen(&first_row, &cells.join(","), 1)).unwrap();
    let updated = cli(&t, data.path(), &args);
    assert!(updated.status.success(), "{}", String::from_utf8_lossy(&updated.stderr));
    let report: Value = serde_json::from_slice(&std::fs::read(&report_file).unwrap()).unwrap();
    assert_eq!((report["imported"].as_u64(), report["updated"].as_u64()), (Some(0), Some(1)), "{report:#}");
    std::fs::write(&csv, &text).unwrap();
    assert!(cli(&t, data.path(), &args).status.success());

    // The figures count the history, and tell it apart.
    add_user(&t.store, "sgt.reyes", Role::Supervisor, PASSWORD).await;
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();
    let sgt = login(&client, &server, "sgt.reyes", PASSWORD).await;
    let outcomes = |source: &'static str| {
        let request = client.get(server.url("/v1/outcomes")).bearer_auth(&sgt).query(&[
            ("from", "2020-01-01"),
            ("to", "2022-12-31"),
            ("source", source),
        ]);
        async move {
            let reply = request.send().await.unwrap();
            assert_eq!(reply.status(), StatusCode::OK);
            reply.json::<OutcomeReport>().await.unwrap()
        }
    };
    let imported = outcomes("imported").await;
    assert_eq!(imported.imported, expected.calls);
    assert_eq!(figure(&imported, "calls"), Some(expected.calls as f64));
    assert_eq!(figure(&imported, "force_used"), Some(expected.force as f64));
    assert_eq!(figure(&imported, "arrests"), Some(expected.arrests as f64));
    assert_eq!(figure(&imported, "emergency_detentions"), Some(expected.detentions as f64));
    assert_eq!(figure(&imported, "custody_diverted"), Some(expected.diverted as f64));
    assert_eq!(figure(&imported, "custody_considered"), Some(expected.considered as f64));
    let dispatched = figure(&imported, "cit_dispatched_pct").unwrap();
    assert!((dispatched - 100.0 * expected.dispatched as f64 / expected.calls as f64).abs() < 0.051, "{dispatched}");
    assert_eq!(figure(&outcomes("all").await, "calls"), Some(expected.calls as f64));
    let waypoint = outcomes("waypoint").await;
    assert_eq!((figure(&waypoint, "calls"), waypoint.imported), (Some(0.0), 0));
    let refused =
        client.get(server.url("/v1/outcomes")).bearer_auth(&sgt).query(&[("source", "rumour")]).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.unwrap().contains("source"));

    // The local time of the old system is kept as a time: the first good row's hour in Chicago.
    let first_time = text.lines().nth(1).unwrap().split(',').nth(1).unwrap().to_string();
    let local = chrono::NaiveDateTime::parse_from_str(&first_time, "%m/%d/%Y %H:%M").unwrap();
    let utc = chrono_tz::America::Chicago.from_local_datetime(&local).earliest().unwrap().with_timezone(&chrono::Utc);
    let day = utc.date_naive().to_string();
    let rows: Value = client
        .get(server.url("/v1/outcomes/rows"))
        .bearer_auth(&sgt)
        .query(&[("from", day.as_str()), ("to", day.as_str()), ("source", "imported")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hour = utc.format("%Y-%m-%dT%H:00:00Z").to_string();
    let rows = rows["rows"].as_array().unwrap();
    assert!(rows.iter().any(|r| r["hour"] == hour.as_str() && r["imported"] == true), "{hour} in {rows:?}");

    // Not reviewable, not in the records feed.
    let queue: Value = client
        .get(server.url("/v1/review/queue"))
        .bearer_auth(&sgt)
        .query(&[("state", "submitted")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(queue["items"].as_array().map(Vec::len), Some(0), "{queue}");
    for state in ["approved", "returned"] {
        let listed: Value = client
            .get(server.url("/v1/review/queue"))
            .bearer_auth(&sgt)
            .query(&[("state", state)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(listed["items"].as_array().map(Vec::len), Some(0), "{state}: {listed}");
    }
    assert!(t.store.versions_since(None).await.unwrap().is_empty(), "no device version was made");

    // Each run is in the audit trail with its counts.
    let trail = t.store.audit_rows(0, 1000).await.unwrap();
    let finished: Vec<_> = trail.iter().filter(|r| r.action == "history_import" && r.outcome == "ok").collect();
    assert_eq!(finished.len(), 4, "{trail:?}");
    assert!(finished[0].detail.as_deref().unwrap_or("").contains(&format!("{GOOD_ROWS} imported")));
}

async fn a_mapping_that_does_not_fit_stores_nothing(backend: Backend) {
    let t = TestStore::new(backend).await;
    let data = tempfile::tempdir().unwrap();
    let csv = data.path().join("rms.csv");
    std::fs::write(&csv, format!("{HEADER}\nRMS-1,03/02/2021 10:00,B101,911,,RESOLVED,NONE,N,N,0,N,10,N,,,,\n"))
        .unwrap();
    let mut mapping: Value = serde_json::from_str(&std::fs::read_to_string(mapping_path()).unwrap()).unwrap();
    mapping["fields"]["dispositions"]["codes"]["JAIL"] = "jailed".into();
    mapping["fields"]["risk.weapon"]["column"] = "Armed".into();
    mapping["fields"]["subject.shoe_size"] = serde_json::json!({"column": "Badge"});
    mapping["occurred_at"]["timezone"] = "Mars/Olympus".into();
    let mapping_file = data.path().join("mapping.json");
    std::fs::write(&mapping_file, mapping.to_string()).unwrap();
    let out = cli(
        &t,
        data.path(),
        &["import", "encounters", "--csv", csv.to_str().unwrap(), "--mapping", mapping_file.to_str().unwrap()],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    for problem in
        ["`JAIL` maps to \"jailed\"", "column `Armed`", "`subject.shoe_size`", "Mars/Olympus", "nothing was imported"]
    {
        assert!(stderr.contains(problem), "the error does not name {problem}: {stderr}");
    }
    assert!(t.store.imported_sources().await.unwrap().is_empty());

    std::fs::write(&mapping_file, "{\"source\": \"x\", \"row_key\": \"Incident No\"").unwrap();
    let out = cli(
        &t,
        data.path(),
        &["import", "encounters", "--csv", csv.to_str().unwrap(), "--mapping", mapping_file.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("the mapping is not valid"));
}
