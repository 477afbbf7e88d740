//! Crash safety: a child process saving encounters is SIGKILLed at random moments, 200 times.
//! Every save it reported as done must be there afterwards, and the database must be intact.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use rand::Rng;
use waypoint_core::EncounterStatus;

const CHILD_ENV: &str = "WAYPOINT_CRASH_CHILD_DIR";
const KILLS: usize = 200;

/// The child: saves drafts and submits every third one, reporting each save once it returned.
#[test]
fn crash_child_process() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else { return };
    let run: u64 = std::env::var("WAYPOINT_CRASH_RUN").unwrap().parse().unwrap();
    let wp = reopen(std::path::Path::new(&dir));
    wp.unlock(PIN).unwrap();
    for n in 0u64.. {
        let mut e = complete(wp.new_encounter().unwrap());
        e.narrative = format!("run {run} save {n} {}", "x".repeat((n % 7 * 300) as usize));
        let saved = wp.save_draft(e).unwrap().encounter;
        println!("saved {} draft {}", saved.id, saved.narrative.len());
        if n % 3 == 0 {
            let submitted = wp.submit(saved).unwrap();
            println!("saved {} submitted {}", submitted.id, submitted.narrative.len());
        }
    }
}

#[test]
fn every_reported_save_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    drop(unlocked(dir.path()));
    let exe = std::env::current_exe().unwrap();
    let mut rng = rand::thread_rng();
    // id -> (strongest status reported, narrative length)
    let mut reported: HashMap<String, (EncounterStatus, usize)> = HashMap::new();
    let mut killed_mid_run = 0;
    for run in 0..KILLS {
        let mut child = Command::new(&exe)
            .args(["crash_child_process", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .env("WAYPOINT_CRASH_RUN", run.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout).lines().map_while(Result::ok).filter(|l| l.starts_with("saved ")).collect::<Vec<_>>()
        });
        std::thread::sleep(Duration::from_millis(rng.gen_range(5..80)));
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        for line in reader.join().unwrap() {
            let parts: Vec<&str> = line.split(' ').collect();
            let status = if parts[2] == "submitted" { EncounterStatus::Submitted } else { EncounterStatus::Draft };
            let entry = reported.entry(parts[1].to_string()).or_insert((status, parts[3].parse().unwrap()));
            if status == EncounterStatus::Submitted {
                entry.0 = status;
            }
        }
    }
    assert_eq!(killed_mid_run, KILLS, "every child was still saving when it was killed");
    assert!(reported.len() > KILLS, "the children reported only {} saves: the test proves little", reported.len());

    let wp = reopen(dir.path());
    wp.unlock(PIN).unwrap();
    for (id, (status, narrative_len)) in &reported {
        let stored = wp.get_version(id.parse().unwrap(), 1).unwrap_or_else(|e| panic!("reported save {id} is lost: {e}"));
        assert_eq!(stored.narrative.len(), *narrative_len, "{id} lost content");
        if *status == EncounterStatus::Submitted {
            assert_eq!(stored.status, EncounterStatus::Submitted, "{id} was reported submitted");
        }
    }
    let submitted = reported.values().filter(|(s, _)| *s == EncounterStatus::Submitted).count() as u32;
    assert!(wp.status().unwrap().pending_sync >= submitted, "every reported submit has its outbox row");
    wp.verify_audit().expect("the audit chain survives the crashes");
    drop(wp);

    let key = waypoint_core::keys::KeyFile::read(dir.path()).unwrap().unwrap().unwrap_data_key(PIN).unwrap();
    let conn = waypoint_core::store::open_encrypted(&waypoint_core::store::Store::db_path(dir.path()), &key).unwrap();
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok");
    eprintln!("{} saves reported across {KILLS} kills, all present; integrity ok", reported.len());
}
