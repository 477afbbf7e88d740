//! A database made by the first schema is brought up to date without losing anything.

use rusqlite::params;
use waypoint_core::migrations::{current_version, migrate, migrate_to, MIGRATIONS};
use waypoint_core::store::{open_encrypted, Store};

#[test]
fn upgrade_from_the_first_schema_keeps_and_indexes_old_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = Store::db_path(dir.path());
    let key = zeroize::Zeroizing::new([3u8; 32]);
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", hex::encode(key.as_ref()))).unwrap();
        assert_eq!(migrate_to(&mut conn, 1).unwrap(), 1);
        let old = waypoint_core::Encounter {
            narrative: "Written by schema one, found by schema two".into(),
            ..waypoint_core::Encounter::new_draft("dev", "off", 1, chrono::Utc::now())
        };
        conn.execute(
            "INSERT INTO encounter_versions (encounter_id, version, status, supersedes, occurred_at, updated_at, body)
             VALUES (?1, 1, 'draft', NULL, ?2, ?2, ?3)",
            params![
                old.id.to_string(),
                waypoint_core::store::timestamp(old.occurred_at),
                serde_json::to_string(&old).unwrap()
            ],
        )
        .unwrap();
    }
    // Opening through the store runs the remaining migrations.
    let conn = open_encrypted(&path, &key).unwrap();
    let newest = MIGRATIONS.last().unwrap().0;
    assert_eq!(current_version(&conn).unwrap(), newest);
    let applied: Vec<u32> = conn
        .prepare("SELECT version FROM schema_migrations ORDER BY version")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(applied, (1..=newest).collect::<Vec<_>>());
    let found: i64 = conn
        .query_row("SELECT count(*) FROM encounter_versions WHERE search_text LIKE '%schema two%'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(found, 1, "the migration filled search_text for existing rows");
}

#[test]
fn migrating_twice_changes_nothing_and_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = zeroize::Zeroizing::new([4u8; 32]);
    let mut conn = open_encrypted(&Store::db_path(dir.path()), &key).unwrap();
    let version = current_version(&conn).unwrap();
    assert_eq!(migrate(&mut conn).unwrap(), version);
    conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', 'x')", []).unwrap();
    let err = migrate(&mut conn).unwrap_err();
    assert!(err.to_string().contains("newer Waypoint"), "{err}");
}

#[test]
fn the_outbox_body_moves_to_its_own_table_and_is_still_what_a_push_sends() {
    let dir = tempfile::tempdir().unwrap();
    let path = Store::db_path(dir.path());
    let key = zeroize::Zeroizing::new([5u8; 32]);
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", hex::encode(key.as_ref()))).unwrap();
        assert_eq!(migrate_to(&mut conn, 3).unwrap(), 3);
        for (n, state) in [(1, "pending"), (2, "acknowledged")] {
            conn.execute(
                "INSERT INTO outbox (encounter_id, version, content_hash, created_at, state, body)
                 VALUES (?1, 1, 'h', 't', ?2, ?3)",
                params![format!("0190a000-0000-7000-8000-00000000000{n}"), state, format!("{{\"n\":{n}}}")],
            )
            .unwrap();
        }
    }
    let conn = open_encrypted(&path, &key).unwrap();
    let bodies: Vec<(i64, String)> = conn
        .prepare("SELECT seq, body FROM outbox_body ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(bodies, vec![(1, r#"{"n":1}"#.to_string()), (2, r#"{"n":2}"#.to_string())]);
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('outbox')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(!columns.contains(&"body".to_string()), "{columns:?}");
    assert!(columns.contains(&"state".to_string()) && columns.contains(&"acknowledged_at".to_string()));
}
