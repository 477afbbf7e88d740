//! Numbered, tracked migrations on both stores: a database at the first schema, or made before
//! migrations were tracked, reaches the latest with its data intact; a newer one is refused.

mod common;

use chrono::{Duration, Utc};
use common::*;
use serde_json::json;
use uuid::Uuid;
use waypoint_protocol::{AckStatus, ChangeKind, PushRecord, Role};
use waypoint_server::store::migrations::{self, Migration};
use waypoint_server::store::{Audience, NewChange, Pusher, SessionRecord, StoreError};
use waypoint_server::validation::check_records;

on_both_stores!(
    a_database_at_the_first_schema_migrates_to_the_latest_with_its_data_intact,
    a_database_from_before_tracking_at_the_first_schema_comes_under_tracking,
    a_database_from_before_tracking_at_the_latest_schema_comes_under_tracking,
    migrating_again_changes_nothing,
    a_database_migrated_by_a_newer_server_is_refused_naming_both_versions,
    the_records_feed_migration_makes_events_of_the_decisions_already_held,
);

fn migration_list(backend: Backend) -> &'static [Migration] {
    match backend {
        Backend::Sqlite => migrations::SQLITE,
        Backend::Postgres => migrations::POSTGRES,
    }
}

/// The newest schema a server made before migrations were tracked (SQLite 0001, PostgreSQL
/// 0001-0003, idempotent): later migrations run exactly once and need not be.
fn newest_before_tracking(backend: Backend) -> u32 {
    match backend {
        Backend::Sqlite => 1,
        Backend::Postgres => 3,
    }
}

fn newest(backend: Backend) -> u32 {
    migrations::newest(migration_list(backend))
}

/// What [`fill`] stored, to check after migrating.
struct Filled {
    device: String,
    device_token_hash: String,
    encounter: Uuid,
    first_version: PushRecord,
    feed_cursor: u64,
}

/// Whether the database has the identity schema (users' officer ids, version authors): before it,
/// [`fill`] writes users and versions in SQL as the servers of that schema did.
async fn has_identity_schema(t: &TestStore) -> bool {
    let sql = match t.backend {
        Backend::Sqlite => "SELECT CAST(count(*) AS TEXT) FROM pragma_table_info('users') WHERE name = 'officer_id'",
        Backend::Postgres => {
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema()
             AND table_name = 'users' AND column_name = 'officer_id'"
        }
    };
    sql_rows(t, sql).await[0][0] == "1"
}

fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// What an older server stored for a push: versions, a conflict row and the device's sequence.
async fn legacy_push(t: &TestStore, device: &str, versions: &[&PushRecord], conflict: &PushRecord, seq: u64) {
    let body = |r: &PushRecord| {
        let text = quoted(std::str::from_utf8(&waypoint_protocol::canonical_json(&r.body)).unwrap());
        if t.backend == Backend::Postgres {
            format!("{text}::jsonb")
        } else {
            text
        }
    };
    let now = quoted(&Utc::now().to_rfc3339());
    let row = |r: &PushRecord| {
        format!(
            "({}, {}, {}, {}, {now}, {})",
            quoted(&r.encounter_id.to_string()),
            r.version,
            quoted(&r.content_hash),
            quoted(device),
            body(r)
        )
    };
    let columns = "(encounter_id, version, content_hash, device_id, received_at, body)";
    let rows: Vec<String> = versions.iter().map(|r| row(r)).collect();
    sql_execute(t, &format!("INSERT INTO encounter_versions {columns} VALUES {}", rows.join(", "))).await;
    sql_execute(t, &format!("INSERT INTO conflicts {columns} VALUES {}", row(conflict))).await;
    sql_execute(t, &format!("UPDATE devices SET device_seq = {seq} WHERE device_id = {}", quoted(device))).await;
}

/// Stores some of everything through the store itself, at whatever schema the database is (the
/// users and versions in SQL before the identity schema, which the store now writes).
async fn fill(t: &TestStore) -> Filled {
    let legacy = !has_identity_schema(t).await;
    if legacy {
        let hash = waypoint_server::auth::hash_password("correct horse battery").unwrap();
        let now = quoted(&Utc::now().to_rfc3339());
        sql_execute(
            t,
            &format!(
                "INSERT INTO users (username, role, password_hash, created_at) VALUES ('sgt.reyes', 'supervisor', {}, {now})",
                quoted(&hash)
            ),
        )
        .await;
    } else {
        add_user_without_mfa(&t.store, "sgt.reyes", Role::Supervisor, "correct horse battery").await;
    }
    let session = SessionRecord { username: "sgt.reyes".into(), role: Role::Supervisor, expires_at: far_future() };
    t.store.add_session("session-hash", session).await.unwrap();
    t.store.add_enrollment("unused-code", far_future()).await.unwrap();
    let (device, token) = enroll_device(&t.store).await;
    let encounter = Uuid::now_v7();
    let first_version = record(encounter, 1, 1, "kept across the migration");
    let second_version = record(encounter, 2, 2, "the second version");
    let rival = record(encounter, 1, 3, "a rival copy");
    if legacy {
        legacy_push(t, &device, &[&first_version, &second_version], &rival, 3).await;
    } else {
        let pusher = Pusher::officer(&device, "badge-1");
        let records = check_records(vec![first_version.clone(), second_version]);
        let pushed = t.store.push(&pusher, records).await.unwrap();
        assert!(pushed.acks.iter().all(|a| a.status == AckStatus::Stored), "{pushed:?}");
        let rival = t.store.push(&pusher, check_records(vec![rival])).await.unwrap();
        assert_eq!(rival.acks[0].status, AckStatus::Conflict);
    }
    let services = vec![json!({"id": "a", "name": "a crisis line"}), json!({"id": "b", "name": "b crisis line"})];
    waypoint_server::directory_feed::publish(&t.store, services).await.unwrap();
    let capacity = NewChange {
        audience: Audience::AllDevices,
        kind: ChangeKind::CapacityUpdate,
        key: "a".into(),
        body: json!({"id": "beds-a", "service_id": "a", "unit": "beds", "available": 4, "maximum": 12,
                     "updated_at": "2026-11-29T02:00:00Z"}),
    };
    t.store.append_changes(vec![capacity]).await.unwrap();
    let review = NewChange {
        audience: Audience::Device(device.clone()),
        kind: ChangeKind::ReviewResult,
        key: encounter.to_string(),
        body: json!({"encounter_id": encounter, "version": 1, "decision": "approved"}),
    };
    let feed_cursor = t.store.append_changes(vec![review]).await.unwrap();
    let device_token_hash = waypoint_server::auth::token_hash(&token);
    Filled { device, device_token_hash, encounter, first_version, feed_cursor }
}

fn far_future() -> chrono::DateTime<Utc> {
    Utc::now() + Duration::days(3650)
}

/// Everything [`fill`] stored reads back as it was, and the store goes on working.
async fn check_intact(t: &TestStore, filled: &Filled) {
    let user = t.store.user("sgt.reyes").await.unwrap().expect("user kept");
    assert_eq!(user.role, Role::Supervisor);
    assert_eq!(user.officer_id, "sgt.reyes", "a user from before officer ids has their username as it");
    assert!(waypoint_server::auth::verify_password("correct horse battery", &user.password_hash));
    assert_eq!(t.store.session("session-hash").await.unwrap().expect("session kept").username, "sgt.reyes");
    // Accounts made before MFA and lockout: enabled, unlocked, not enrolled, devices not revoked.
    let account = t.store.user_account("sgt.reyes").await.unwrap().unwrap();
    assert!(account.enabled && account.failed_sign_ins == 0 && account.locked_until.is_none());
    assert_eq!(account.totp_secret, None);
    assert_eq!(t.store.session_state("session-hash").await.unwrap().unwrap().username, "sgt.reyes");
    assert_eq!(t.store.device_credential(&filled.device_token_hash).await.unwrap().unwrap().revoked_at, None);
    assert_eq!(t.store.device_for_token(&filled.device_token_hash).await.unwrap().as_deref(), Some(&*filled.device));
    assert_eq!(t.store.device_seq(&filled.device).await.unwrap(), Some(3));
    assert!(
        t.store.redeem_enrollment("unused-code", Utc::now(), "device-later", "token-later").await.unwrap(),
        "the unused enrollment code still works"
    );

    let versions = t.store.versions_since(None).await.unwrap();
    let narratives: Vec<_> = versions.iter().map(|v| (v.version, v.body["narrative"].clone())).collect();
    assert_eq!(narratives, [(1, json!("kept across the migration")), (2, json!("the second version"))]);
    assert!(versions.iter().all(|v| v.encounter_id == filled.encounter && v.device_id == filled.device));
    assert!(versions.iter().all(|v| v.officer == "badge-1"), "the author is known (backfilled from the body)");
    for version in &versions {
        assert_eq!(waypoint_protocol::content_hash(&version.body), version.content_hash, "body unchanged");
    }
    let conflicts = t.store.conflicts().await.unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].body["narrative"], "a rival copy");

    let feed = t.store.pull(&filled.device, 0, 1 << 20).await.unwrap();
    let kinds: Vec<_> = feed.changes.iter().map(|c| (c.kind, c.key.clone())).collect();
    use ChangeKind::*;
    let review = (ReviewResult, filled.encounter.to_string());
    assert_eq!(
        kinds,
        [(DirectoryUpsert, "a".into()), (DirectoryUpsert, "b".into()), (CapacityUpdate, "a".into()), review]
    );
    assert_eq!(feed.cursor, filled.feed_cursor);
    assert_eq!(feed.changes[0].body["name"], "a crisis line");
    let published = t.store.published_directory().await.unwrap();
    assert_eq!(published.len(), 2);
    let capacities = t.store.capacities_at(filled.feed_cursor).await.unwrap();
    assert_eq!(capacities.len(), 1);
    assert_eq!(capacities[0]["available"], 4);

    let again = PushRecord { seq: 4, ..filled.first_version.clone() };
    let after = t.store.push(&Pusher::officer(&filled.device, "badge-1"), check_records(vec![again])).await.unwrap();
    assert_eq!(after.acks[0].status, AckStatus::Duplicate, "the held version is still recognised");
    // The encounter's owner is known (backfilled): another device cannot add to it.
    let stranger = Pusher::officer("another-device", "badge-1");
    let taken = t.store.push(&stranger, check_records(vec![record(filled.encounter, 3, 1, "taken over")])).await;
    let taken = taken.unwrap_err();
    assert!(matches!(taken, StoreError::NotFound(_)), "an unenrolled device's push stores nothing: {taken}");
    let (other_device, _) = enroll_device(&t.store).await;
    let stranger = Pusher::officer(&other_device, "badge-1");
    let taken =
        t.store.push(&stranger, check_records(vec![record(filled.encounter, 3, 1, "taken over")])).await.unwrap();
    assert_eq!(taken.acks[0].status, AckStatus::Rejected, "{taken:?}");
    let new = t
        .store
        .push(&Pusher::officer(&filled.device, "badge-1"), check_records(vec![record(Uuid::now_v7(), 1, 5, "after")]))
        .await
        .unwrap();
    assert_eq!(new.acks[0].status, AckStatus::Stored);
}

/// `(version, name)` of each recorded migration, after checking each has its time.
async fn tracked(t: &TestStore) -> Vec<(u32, String)> {
    let rows =
        // Ordered by the number, not by the text the cast names `version` too (PostgreSQL would
        // sort "10" before "9").
        sql_rows(t, "SELECT CAST(version AS TEXT), name, applied_at FROM schema_migrations ORDER BY schema_migrations.version")
            .await;
    rows.into_iter()
        .map(|row| {
            assert!(!row[2].is_empty(), "applied_at recorded: {row:?}");
            (row[0].parse().unwrap(), row[1].clone())
        })
        .collect()
}

fn all_migrations(backend: Backend) -> Vec<(u32, String)> {
    migration_list(backend).iter().map(|m| (m.version, m.name.to_string())).collect()
}

/// PostgreSQL: the column types and compression each schema version is known by.
async fn postgres_bodies(t: &TestStore) -> Vec<Vec<String>> {
    sql_rows(
        t,
        "SELECT c.table_name::text, c.data_type::text, coalesce(a.attcompression::text, '') FROM information_schema.columns c
         JOIN pg_attribute a ON a.attrelid = c.table_name::text::regclass AND a.attname = c.column_name
         WHERE c.table_schema = current_schema() AND c.column_name = 'body'
         AND c.table_name IN ('conflicts', 'encounter_versions') ORDER BY c.table_name",
    )
    .await
}

fn bodies(conflicts: &str, encounter_versions: &str, compression: &str) -> Vec<Vec<String>> {
    vec![
        vec!["conflicts".into(), conflicts.into(), String::new()],
        vec!["encounter_versions".into(), encounter_versions.into(), compression.into()],
    ]
}

async fn a_database_at_the_first_schema_migrates_to_the_latest_with_its_data_intact(backend: Backend) {
    let t = TestStore::unmigrated(backend).await;
    assert_eq!(t.store.migrate_to(1).await.unwrap(), 1);
    if backend == Backend::Postgres {
        assert_eq!(postgres_bodies(&t).await, bodies("jsonb", "jsonb", ""), "the first schema has jsonb bodies");
    }
    let filled = fill(&t).await;

    assert_eq!(t.store.migrate_to(u32::MAX).await.unwrap(), newest(backend));
    assert_eq!(tracked(&t).await, all_migrations(backend));
    if backend == Backend::Postgres {
        assert_eq!(postgres_bodies(&t).await, bodies("json", "json", "l"), "json bodies, lz4 for versions");
    }
    check_intact(&t, &filled).await;
}

/// A database the server made before migrations were tracked: its schema at `version`, no
/// `schema_migrations` table.
async fn before_tracking(backend: Backend, version: u32) -> (TestStore, Filled) {
    let t = TestStore::unmigrated(backend).await;
    t.store.migrate_to(version).await.unwrap();
    let filled = fill(&t).await;
    sql_execute(&t, "DROP TABLE schema_migrations").await;
    (t, filled)
}

/// The oldest server (PostgreSQL bodies in jsonb) and one from just before tracking.
async fn a_database_from_before_tracking_at_the_first_schema_comes_under_tracking(backend: Backend) {
    let (t, filled) = before_tracking(backend, 1).await;
    t.store.migrate().await.unwrap();
    assert_eq!(tracked(&t).await, all_migrations(backend));
    if backend == Backend::Postgres {
        assert_eq!(postgres_bodies(&t).await, bodies("json", "json", "l"));
    }
    check_intact(&t, &filled).await;
}

/// The newest schema a server before tracking could have made: the migrations after it were
/// written for tracking and run once only.
async fn a_database_from_before_tracking_at_the_latest_schema_comes_under_tracking(backend: Backend) {
    let (t, filled) = before_tracking(backend, newest_before_tracking(backend)).await;
    t.store.migrate().await.unwrap();
    assert_eq!(tracked(&t).await, all_migrations(backend));
    check_intact(&t, &filled).await;
}

async fn migrating_again_changes_nothing(backend: Backend) {
    let t = TestStore::new(backend).await;
    let filled = fill(&t).await;
    let before = tracked(&t).await;
    assert_eq!(t.store.migrate_to(u32::MAX).await.unwrap(), newest(backend));
    let times = |rows: Vec<Vec<String>>| rows.into_iter().map(|r| r[0].clone()).collect::<Vec<_>>();
    let applied_at = "SELECT applied_at FROM schema_migrations ORDER BY version";
    let first_times = times(sql_rows(&t, applied_at).await);
    t.store.migrate().await.unwrap();
    assert_eq!(tracked(&t).await, before);
    assert_eq!(times(sql_rows(&t, applied_at).await), first_times, "nothing applied twice");
    check_intact(&t, &filled).await;
}

async fn a_database_migrated_by_a_newer_server_is_refused_naming_both_versions(backend: Backend) {
    let t = TestStore::new(backend).await;
    let known = newest(backend);
    let found = known + 1;
    let now = Utc::now().to_rfc3339();
    sql_execute(
        &t,
        &format!(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ({found}, 'from_the_future', '{now}')"
        ),
    )
    .await;

    let refused = t.store.migrate().await.unwrap_err();
    assert!(matches!(refused, StoreError::NewerSchema { found: f, known: k } if f == found && k == known), "{refused}");
    let database = match backend {
        Backend::Sqlite => t.dir.path().join("server.sqlite").to_string_lossy().into_owned(),
        Backend::Postgres => postgres_url_in(t.schema.as_deref().unwrap()),
    };
    let message = match waypoint_server::store::open(&database, Some(&t.key)).await {
        Ok(_) => panic!("a database of schema {found} opened on a server that knows {known}"),
        Err(error) => error.to_string(),
    };
    assert!(message.contains(&format!("schema version {found}")), "{message}");
    assert!(message.contains(&format!("knows up to {known}")), "{message}");
    assert_eq!(tracked(&t).await.last(), Some(&(found, "from_the_future".to_string())), "left as it was");
}

fn postgres_url_in(schema: &str) -> String {
    format!("{}?options=-c%20search_path%3D{schema}", postgres_url())
}

/// Runs `sql` on the test's database, beside the store.
async fn sql_execute(t: &TestStore, sql: &str) {
    match t.backend {
        Backend::Sqlite => sqlite(t).execute_batch(sql).unwrap(),
        Backend::Postgres => postgres(t).await.batch_execute(sql).await.unwrap(),
    }
}

/// The rows `sql` returns, every column as text (empty for NULL).
async fn sql_rows(t: &TestStore, sql: &str) -> Vec<Vec<String>> {
    match t.backend {
        Backend::Sqlite => {
            let conn = sqlite(t);
            let mut stmt = conn.prepare(sql).unwrap();
            let columns = stmt.column_count();
            let rows = stmt.query_map([], |row| {
                (0..columns).map(|i| Ok(row.get::<_, Option<String>>(i)?.unwrap_or_default())).collect()
            });
            rows.unwrap().collect::<rusqlite::Result<_>>().unwrap()
        }
        Backend::Postgres => {
            let messages = postgres(t).await.simple_query(sql).await.unwrap();
            messages
                .iter()
                .filter_map(|message| match message {
                    tokio_postgres::SimpleQueryMessage::Row(row) => {
                        Some((0..row.len()).map(|i| row.get(i).unwrap_or_default().to_string()).collect())
                    }
                    _ => None,
                })
                .collect()
        }
    }
}

fn sqlite(t: &TestStore) -> rusqlite::Connection {
    t.sqlite_connection()
}

async fn postgres(t: &TestStore) -> tokio_postgres::Client {
    let url = postgres_url_in(t.schema.as_deref().unwrap());
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// Decisions made before the records feed existed become its first events, classified as the
/// server classifies new ones (approved, amended, approval withdrawn; a plain return is none).
async fn the_records_feed_migration_makes_events_of_the_decisions_already_held(backend: Backend) {
    let t = TestStore::unmigrated(backend).await;
    let records_feed = migration_list(backend).iter().find(|m| m.name == "records_feed").unwrap().version;
    t.store.migrate_to(records_feed - 1).await.unwrap();
    let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let at = "2026-01-01T00:00:00.000000Z";
    sql_execute(
        &t,
        &format!(
            "INSERT INTO review_decisions (encounter_id, version, decision, comment, reason, reviewer, decided_at,
             feed_seq, device_id) VALUES
             ('{a}', 1, 'approved', NULL, NULL, 'sgt.reyes', '{at}', 101, 'd'),
             ('{a}', 2, 'approved', NULL, NULL, 'sgt.reyes', '{at}', 102, 'd'),
             ('{b}', 1, 'approved', NULL, NULL, 'sgt.okafor', '{at}', 103, 'd'),
             ('{b}', 1, 'returned', 'wrong time', 'seen late', 'sgt.okafor', '{at}', 104, 'd'),
             ('{c}', 1, 'returned', 'add the hospital', NULL, 'sgt.reyes', '{at}', 105, 'd');"
        ),
    )
    .await;
    t.store.migrate().await.unwrap();
    let events =
        sql_rows(&t, "SELECT CAST(seq AS TEXT), event_type, CAST(encounter_id AS TEXT), CAST(version AS TEXT), reviewer FROM record_events ORDER BY seq").await;
    let expected: Vec<Vec<String>> = [
        (101, "encounter.approved", a, 1, "sgt.reyes"),
        (102, "encounter.amended", a, 2, "sgt.reyes"),
        (103, "encounter.approved", b, 1, "sgt.okafor"),
        (104, "encounter.approval_withdrawn", b, 1, "sgt.okafor"),
    ]
    .iter()
    .map(|(seq, kind, id, version, who)| {
        vec![seq.to_string(), kind.to_string(), id.to_string(), version.to_string(), who.to_string()]
    })
    .collect();
    assert_eq!(events, expected);
}
