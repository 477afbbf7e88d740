//! The write-ahead log is copied back into the database file by a background thread, not inside
//! an officer's save. One test function: it counts the process's checkpoint threads, which other
//! tests running in parallel would disturb.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use waypoint_core::store::DB_FILE_NAME;

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn checkpoint_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim() == "waypoint-checkp") // comm keeps 15 bytes of the name
        .count()
}

fn submit_one(wp: &waypoint_core::Waypoint) {
    let draft = common::complete(wp.new_encounter().unwrap());
    let saved = wp.save_draft(draft).unwrap().encounter;
    wp.submit(saved).unwrap();
}

#[test]
fn the_log_is_checkpointed_by_a_thread_of_its_own_and_restarts_between_saves() {
    let dir = tempfile::tempdir().unwrap();
    let wp = common::unlocked(dir.path());
    // A thread names itself once it runs: give it a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    while checkpoint_threads() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(checkpoint_threads(), 1, "an unlocked store runs one checkpoint thread");
    let db = dir.path().join(DB_FILE_NAME);
    let wal = dir.path().join(format!("{DB_FILE_NAME}-wal"));

    // About 75 commits and 600 log pages: too few for SQLite's own automatic checkpoint, so only
    // the background thread can have grown the database file.
    let before = size(&db);
    for _ in 0..25 {
        submit_one(&wp);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while size(&db) < before + 50_000 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        size(&db) >= before + 50_000,
        "the database file grew from {before} to only {} bytes: nothing checkpointed it",
        size(&db)
    );

    // Saves with pauses between bursts (an officer's are seconds apart) leave the thread the idle
    // moment it needs, so the log starts again from its beginning instead of growing towards the
    // 4000-page safety net (16 MB): 300 more reports write over 7000 pages. A pause every 25
    // reports (~600 pages) is long enough for a checkpoint even on a disk with slow fsyncs.
    for n in 0..300 {
        submit_one(&wp);
        if n % 25 == 24 {
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let wal_bytes = size(&wal);
    eprintln!("log after the paced saves: {wal_bytes} bytes");
    assert!(wal_bytes < 12 << 20, "the log grew to {wal_bytes} bytes: it never restarted");
    assert_eq!(wp.list(Default::default()).unwrap().len(), 325);

    wp.lock().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while checkpoint_threads() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(checkpoint_threads(), 0, "locking the store ends its checkpoint thread");
}
