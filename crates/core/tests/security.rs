mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;
use rusqlite::Connection;
use waypoint_core::keys::{KdfParams, KeyFile};
use waypoint_core::store::{open_encrypted, Store};
use waypoint_core::{AgencyConfig, ErrorKind, Waypoint};

const SENTINEL: &str = "SENTINEL-7f3a9c-narrative-must-never-appear-in-plaintext";

#[test]
fn narrative_text_is_in_none_of_the_database_files() {
    let dir = tempfile::tempdir().unwrap();
    let wp = unlocked(dir.path());
    // Drafts (WAL, NORMAL) and a submitted version (FULL), enough to spill pages into the WAL.
    for i in 0..20 {
        let mut e = complete(wp.new_encounter().unwrap());
        e.narrative = format!("{SENTINEL} #{i} {}", "padding ".repeat(200));
        e.subject.name = Some(format!("{SENTINEL}-name"));
        let e = wp.save_draft(e).unwrap().encounter;
        if i % 2 == 0 {
            wp.submit(e).unwrap();
        }
    }
    let mut checked = 0;
    for name in ["waypoint.db", "waypoint.db-wal", "waypoint.db-shm"] {
        let path = dir.path().join(name);
        if let Ok(bytes) = std::fs::read(&path) {
            checked += 1;
            assert!(
                !bytes.windows(SENTINEL.len()).any(|w| w == SENTINEL.as_bytes()),
                "the sentinel is readable in {name}"
            );
            assert!(!bytes.starts_with(b"SQLite format 3"), "{name} has a plain SQLite header");
        }
    }
    assert!(checked >= 2, "the database and its WAL exist while the store is open");
    // The data is really there for the right key.
    let found =
        wp.list(waypoint_core::ListQuery { text: Some("sentinel-7f3a9c".into()), ..Default::default() }).unwrap();
    assert_eq!(found.len(), 20);
}

#[test]
fn the_wrong_key_does_not_open_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let wp = unlocked(dir.path());
    wp.new_encounter().unwrap();
    drop(wp);
    let wrong_key = zeroize::Zeroizing::new([7u8; 32]);
    let err = open_encrypted(&Store::db_path(dir.path()), &wrong_key).expect_err("a wrong key must not open it");
    assert_eq!(err.kind(), ErrorKind::Crypto);
    // Nor does plain SQLite.
    let plain = Connection::open(Store::db_path(dir.path())).unwrap();
    assert!(plain.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).is_err());
}

#[test]
fn a_wrong_pin_leaves_the_store_closed_and_is_audited_at_the_next_unlock() {
    let dir = tempfile::tempdir().unwrap();
    let wp = unlocked(dir.path());
    let draft = wp.new_encounter().unwrap();
    drop(wp);
    let wp = reopen(dir.path());
    let err = wp.unlock("000000").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WrongPassphrase);
    assert!(!wp.status().unwrap().unlocked);
    assert_eq!(wp.list(Default::default()).unwrap_err().kind(), ErrorKind::Locked);
    wp.unlock(PIN).unwrap();
    assert_eq!(wp.get(draft.id).unwrap().current.id, draft.id);
    let actions: Vec<(String, String)> =
        wp.recent_audit(10).unwrap().into_iter().map(|e| (e.action, e.outcome)).collect();
    assert!(actions.contains(&("unlock".into(), "failed: wrong passphrase".into())), "{actions:?}");
    assert!(actions.contains(&("unlock".into(), "ok".into())), "{actions:?}");
    wp.verify_audit().unwrap();
}

#[test]
fn changing_the_pin_rewraps_the_key_without_reencrypting() {
    let dir = tempfile::tempdir().unwrap();
    let wp = unlocked(dir.path());
    let draft = wp.new_encounter().unwrap();
    let db_before = std::fs::metadata(Store::db_path(dir.path())).unwrap().len();
    wp.change_passphrase(PIN, "new-passphrase-2026").unwrap();
    assert_eq!(wp.change_passphrase("not-it-at-all", "whatever123").unwrap_err().kind(), ErrorKind::WrongPassphrase);
    assert_eq!(wp.change_passphrase(PIN, "123").unwrap_err().kind(), ErrorKind::Validation);
    drop(wp);
    let wp = reopen(dir.path());
    assert_eq!(wp.unlock(PIN).unwrap_err().kind(), ErrorKind::WrongPassphrase);
    wp.unlock("new-passphrase-2026").unwrap();
    assert_eq!(wp.get(draft.id).unwrap().current.id, draft.id);
    assert!(std::fs::metadata(Store::db_path(dir.path())).unwrap().len() >= db_before);
}

#[test]
fn key_and_database_files_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let wp = unlocked(dir.path());
    wp.submit(complete(wp.new_encounter().unwrap())).unwrap();
    for name in ["waypoint.key", "waypoint.db", "waypoint.db-wal", "waypoint.db-shm"] {
        let mode = std::fs::metadata(dir.path().join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name} is {mode:o}");
    }
    let dir_mode = std::fs::metadata(dir.path()).unwrap().permissions().mode() & 0o777;
    assert_eq!(dir_mode, 0o700);
}

#[test]
fn setup_refuses_weak_pins_and_a_second_setup() {
    let dir = tempfile::tempdir().unwrap();
    let wp = Waypoint::open_with_kdf(dir.path(), AgencyConfig::demo(), KdfParams::insecure_fast()).unwrap();
    let err = wp.setup("badge-9", "123").unwrap_err();
    assert_eq!(
        (err.kind(), waypoint_core::AppError::from(&err).field.as_deref()),
        (ErrorKind::Validation, Some("passphrase"))
    );
    assert_eq!(wp.setup("  ", "123456").unwrap_err().kind(), ErrorKind::Validation);
    wp.setup("badge-9", "123456").unwrap();
    assert_eq!(wp.setup("badge-9", "654321").unwrap_err().kind(), ErrorKind::AlreadyInitialized);
    let key_file = KeyFile::read(dir.path()).unwrap().unwrap();
    assert!(!key_file.wrapped_key.is_empty());
    assert_eq!(key_file.officer_id, "badge-9");
}

fn tamper(dir: &std::path::Path, sql: &str) {
    // Open the store with its real key, as an attacker with the PIN (or a buggy tool) would.
    let key_file = KeyFile::read(dir).unwrap().unwrap();
    let key = key_file.unwrap_data_key(PIN).unwrap();
    let conn = open_encrypted(&Store::db_path(dir), &key).unwrap();
    conn.execute_batch(sql).unwrap();
}

fn audit_after_tampering(sql: &str) -> waypoint_core::Error {
    let dir = tempfile::tempdir().unwrap();
    let wp = unlocked(dir.path());
    for _ in 0..3 {
        wp.submit(complete(wp.new_encounter().unwrap())).unwrap();
    }
    let report = wp.verify_audit().unwrap();
    assert!(report.entries >= 7, "setup + 3 x (create, edit, submit): {report:?}");
    drop(wp);
    tamper(dir.path(), sql);
    let wp = reopen(dir.path());
    wp.unlock(PIN).unwrap();
    wp.verify_audit().unwrap_err()
}

#[test]
fn audit_verification_catches_a_changed_row() {
    let err = audit_after_tampering("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3");
    assert_eq!(err.kind(), ErrorKind::AuditTampered);
    assert!(err.to_string().contains("row 3"), "{err}");
}

#[test]
fn audit_verification_catches_a_deleted_row() {
    let err = audit_after_tampering("DELETE FROM audit_log WHERE seq = 4");
    assert_eq!(err.kind(), ErrorKind::AuditTampered);
    assert!(err.to_string().contains("row 4"), "{err}");
}

#[test]
fn audit_verification_catches_a_rehashed_row() {
    // Changing a row and recomputing its own hash still breaks the link from the next row.
    let err =
        audit_after_tampering("UPDATE audit_log SET outcome = 'denied', hash = '00' || substr(hash, 3) WHERE seq = 2");
    assert_eq!(err.kind(), ErrorKind::AuditTampered);
}

#[test]
fn audit_verification_catches_removed_newest_rows() {
    let dir = tempfile::tempdir().unwrap();
    let wp = unlocked(dir.path());
    wp.submit(complete(wp.new_encounter().unwrap())).unwrap();
    drop(wp);
    tamper(dir.path(), "DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)");
    // Checked before anything else is appended: the chain itself is intact, only its head is gone.
    let key = KeyFile::read(dir.path()).unwrap().unwrap().unwrap_data_key(PIN).unwrap();
    let conn = open_encrypted(&Store::db_path(dir.path()), &key).unwrap();
    let err = waypoint_core::audit::verify(&conn).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AuditTampered);
    assert!(err.to_string().contains("removed"), "{err}");
    // And once the app appends again, the gap is named.
    let wp = reopen(dir.path());
    wp.unlock(PIN).unwrap();
    assert_eq!(wp.verify_audit().unwrap_err().kind(), ErrorKind::AuditTampered);
}
