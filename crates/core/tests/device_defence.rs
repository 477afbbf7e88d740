//! How the device defends itself: the count of wrong PIN tries lives in the key file (a deleted
//! side file or a restart does not reset it), the wait between tries grows, the device erases
//! its reports at the agency's limit, a PIN change needs the store unlocked, two setups racing
//! on one folder leave one key that opens the database, and one app at a time has the folder.

mod common;

use chrono::{Duration, Utc};
use common::{complete, reopen, unlocked, PIN};
use waypoint_core::keys::{unlock_delay_seconds, KdfParams, KeyFile};
use waypoint_core::store::Store;
use waypoint_core::{AgencyConfig, ErrorKind, Waypoint};

const WRONG: &str = "000000";

fn failures(dir: &std::path::Path) -> usize {
    KeyFile::read(dir).unwrap().unwrap().failed_unlocks.len()
}

#[test]
fn the_wait_between_tries_grows_after_the_free_ones() {
    let waits: Vec<i64> = (0..12).map(unlock_delay_seconds).collect();
    assert_eq!(&waits[..3], &[0, 0, 0], "three free tries");
    assert_eq!(&waits[3..6], &[30, 60, 120]);
    assert!(waits.windows(2).all(|w| w[1] >= w[0]), "never shorter: {waits:?}");
    assert_eq!(*waits.last().unwrap(), 15 * 60, "at most 15 minutes");
}

#[test]
fn wrong_tries_survive_a_restart_and_the_deletion_of_side_files() {
    let dir = tempfile::tempdir().unwrap();
    drop(unlocked(dir.path()));
    let wp = reopen(dir.path());
    let now = Utc::now();
    let first = wp.unlock_at(WRONG, now).unwrap_err();
    assert_eq!(first.kind(), ErrorKind::WrongPassphrase);
    assert!(first.to_string().contains("9 tries left"), "{first}");
    wp.unlock_at(WRONG, now).unwrap_err();
    drop(wp);

    // Whatever else is in the folder goes; the count does not.
    for entry in std::fs::read_dir(dir.path()).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("waypoint.key") && !name.starts_with("waypoint.db") && name != "waypoint.lock" {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
    let wp = reopen(dir.path());
    assert_eq!(failures(dir.path()), 2);
    assert_eq!(wp.status().unwrap().unlock_tries_left, Some(8));
    let third = wp.unlock_at(WRONG, now).unwrap_err();
    assert!(third.to_string().contains("7 tries left") && third.to_string().contains("Wait 30 seconds"), "{third}");

    // The fourth try must wait; a try during the wait is refused and not counted.
    let early = wp.unlock_at(PIN, now + Duration::seconds(10)).unwrap_err();
    assert_eq!(early.kind(), ErrorKind::TooSoon);
    assert!(early.to_string().contains("20 seconds"), "{early}");
    assert_eq!(failures(dir.path()), 3, "a refused try is not a try");
    assert!(wp.status().unwrap().next_unlock_at.is_some(), "the unlock screen can say until when");

    // The right PIN after the wait opens it, the count starts again, the tries are audited.
    wp.unlock_at(PIN, now + Duration::seconds(31)).unwrap();
    assert_eq!(failures(dir.path()), 0);
    assert_eq!(wp.status().unwrap().unlock_tries_left, Some(10));
    let failed = wp.recent_audit(20).unwrap().into_iter().filter(|e| e.outcome == "failed: wrong passphrase").count();
    assert_eq!(failed, 3);
    wp.verify_audit().unwrap();
}

#[test]
fn the_device_erases_its_reports_at_the_agencys_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = AgencyConfig::demo();
    config.device_policy.max_failed_unlocks = 3;
    let wp = Waypoint::open_with_kdf(dir.path(), config.clone(), KdfParams::insecure_fast()).unwrap();
    wp.setup("badge-1207", PIN).unwrap();
    wp.submit(complete(wp.new_encounter().unwrap())).unwrap();
    let services = dir.path().join("directory.sqlite");
    std::fs::write(&services, b"the public directory").unwrap();
    wp.lock().unwrap();

    let now = Utc::now();
    assert!(wp.unlock_at(WRONG, now).unwrap_err().to_string().contains("2 tries left"));
    let last_chance = wp.unlock_at(WRONG, now).unwrap_err();
    assert!(last_chance.to_string().contains("one more wrong try erases"), "{last_chance}");
    let wiped = wp.unlock_at(WRONG, now).unwrap_err();
    assert_eq!(wiped.kind(), ErrorKind::Wiped, "{wiped}");
    assert!(wiped.to_string().contains("erased"), "{wiped}");

    for gone in ["waypoint.key", "waypoint.db", "waypoint.db-wal", "waypoint.db-shm"] {
        assert!(!dir.path().join(gone).exists(), "{gone} is still there");
    }
    assert_eq!(std::fs::read(&services).unwrap(), b"the public directory", "the public directory stays");
    let status = wp.status().unwrap();
    assert!(!status.initialized && !status.unlocked, "{status:?}");
    assert!(status.wiped.as_ref().unwrap().reason.contains("3 wrong"), "{status:?}");
    assert_eq!(wp.unlock(PIN).unwrap_err().kind(), ErrorKind::InvalidState, "nothing left to unlock");

    // First-run again, with nothing of the old reports.
    wp.setup("badge-1207", PIN).unwrap();
    assert!(wp.list(Default::default()).unwrap().is_empty());
    assert!(wp.status().unwrap().wiped.is_none(), "the note goes once set up again");
}

#[test]
fn a_pin_change_needs_the_store_unlocked_and_counts_wrong_tries() {
    let dir = tempfile::tempdir().unwrap();
    let wp = unlocked(dir.path());
    wp.lock().unwrap();
    assert_eq!(wp.change_passphrase(PIN, "new-passphrase-2026").unwrap_err().kind(), ErrorKind::Locked);
    assert_eq!(failures(dir.path()), 0, "refused before any check");

    wp.unlock(PIN).unwrap();
    let wrong = wp.change_passphrase(WRONG, "new-passphrase-2026").unwrap_err();
    assert_eq!(wrong.kind(), ErrorKind::WrongPassphrase);
    assert!(wrong.to_string().contains("9 tries left"), "{wrong}");
    assert_eq!(failures(dir.path()), 1, "counted like a wrong unlock");
    wp.change_passphrase(PIN, "new-passphrase-2026").unwrap();
    assert_eq!(failures(dir.path()), 0);

    let changes: Vec<String> = wp
        .recent_audit(20)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "change_passphrase")
        .map(|e| e.outcome)
        .collect();
    assert_eq!(changes, ["ok", "failed: wrong current PIN"], "newest first, each once");
    let locks = wp.recent_audit(20).unwrap().into_iter().filter(|e| e.action == "lock").count();
    assert_eq!(locks, 1, "locking is audited");
    wp.verify_audit().unwrap();
}

/// Runs `attempt` for two PINs at the same moment on two threads; checks that exactly one
/// succeeds and the other is told the device is set up already. Returns the winner's PIN.
fn race_two<F>(attempt: F) -> &'static str
where
    F: Fn(&'static str) -> waypoint_core::Result<()> + Send + Sync + 'static,
{
    let attempt = std::sync::Arc::new(attempt);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let racers: Vec<_> = ["first-pin-1", "second-pin-2"]
        .into_iter()
        .map(|pin| {
            let (attempt, barrier) = (attempt.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                attempt(pin).map(|()| pin)
            })
        })
        .collect();
    let results: Vec<_> = racers.into_iter().map(|t| t.join().unwrap()).collect();
    let winners: Vec<&str> = results.iter().filter_map(|r| r.as_ref().ok().copied()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let loser = results.iter().find_map(|r| r.as_ref().err()).unwrap();
    assert_eq!(loser.kind(), ErrorKind::AlreadyInitialized, "{loser}");
    winners[0]
}

#[test]
fn two_setups_racing_on_one_folder_leave_one_key_that_opens_the_store() {
    for round in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        // Beneath the folder lock: two setups that both got past "not set up yet" race to link
        // their key file into place.
        let folder = dir.path().to_path_buf();
        let winner = race_two(move |pin| {
            let (key_file, _) = KeyFile::create("badge-1", "device", pin, &KdfParams::insecure_fast())?;
            key_file.write_new(&folder)
        });
        let stored = KeyFile::read(dir.path()).unwrap().unwrap();
        assert!(stored.unwrap_data_key(winner).is_ok(), "round {round}: the key in place is the winner's");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left: {leftovers:?}");
    }
}

#[test]
fn a_second_app_process_cannot_open_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let wp = Waypoint::open_with_kdf(dir.path(), AgencyConfig::demo(), KdfParams::insecure_fast()).unwrap();
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "second_instance_child", "--nocapture"])
        .env("WAYPOINT_SECOND_INSTANCE_DIR", dir.path())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&child.stdout).into_owned();
    assert!(said.contains("refused: already_running"), "{said}");
    wp.setup("badge-1207", PIN).unwrap();
    drop(wp);
    // Once the first app is closed, the folder opens again.
    let again = reopen(dir.path());
    again.unlock(PIN).unwrap();
    assert!(Store::db_path(dir.path()).exists());
}

/// Run by the test above in a process of its own.
#[test]
fn second_instance_child() {
    let Some(dir) = std::env::var_os("WAYPOINT_SECOND_INSTANCE_DIR") else { return };
    match Waypoint::open_with_kdf(std::path::Path::new(&dir), AgencyConfig::demo(), KdfParams::insecure_fast()) {
        Ok(_) => println!("opened"),
        Err(e) => println!("refused: {}: {e}", serde_json::to_value(e.kind()).unwrap().as_str().unwrap()),
    }
}

#[test]
fn a_second_waypoint_on_the_same_folder_is_refused_with_a_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let first = unlocked(dir.path());
    let second = Waypoint::open_with_kdf(dir.path(), AgencyConfig::demo(), KdfParams::insecure_fast()).err().unwrap();
    assert_eq!(second.kind(), ErrorKind::AlreadyRunning);
    assert!(second.to_string().contains("already running"), "{second}");
    drop(first);
    reopen(dir.path()).unlock(PIN).unwrap();
}

#[test]
fn two_setups_at_once_in_one_app_one_wins_and_its_pin_opens_the_store() {
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let wp = std::sync::Arc::new(
            Waypoint::open_with_kdf(dir.path(), AgencyConfig::demo(), KdfParams::insecure_fast()).unwrap(),
        );
        let racing = wp.clone();
        let winner = race_two(move |pin| racing.setup("badge-1207", pin).map(|_| ()));
        wp.submit(complete(wp.new_encounter().unwrap())).unwrap();
        drop(std::sync::Arc::into_inner(wp).unwrap());
        let again = reopen(dir.path());
        again.unlock(winner).unwrap();
        assert_eq!(again.list(Default::default()).unwrap().len(), 1);
    }
}
