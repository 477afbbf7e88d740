//! The store's contract, run against SQLite and PostgreSQL alike.

mod common;

use chrono::{Duration, Utc};
use common::*;
use serde_json::json;
use uuid::Uuid;
use waypoint_protocol::{AckStatus, ChangeKind, PushRecord, Role};
use waypoint_server::store::{Audience, CheckedRecord, NewChange, Pusher, SessionRecord, StoreError};
use waypoint_server::validation::check_records;

on_both_stores!(
    push_stores_new_versions_and_repeats_are_duplicates,
    same_version_with_other_content_is_a_conflict_and_the_original_stays,
    invalid_records_are_rejected_without_blocking_the_rest,
    device_sequence_only_moves_forward,
    pull_feed_is_per_device_paged_by_bytes_and_resumable,
    directory_publication_sends_only_differences,
    capacities_in_effect_follow_the_feed_as_a_device_applies_it,
    enrollment_codes_work_once_and_expire,
    users_and_sessions_round_trip,
    export_selects_by_receipt_time,
    concurrent_pushes_stay_independent,
    the_same_version_pushed_at_once_by_many_is_stored_once,
);

async fn push_stores_new_versions_and_repeats_are_duplicates(backend: Backend) {
    let t = TestStore::new(backend).await;
    let (device, _) = enroll_device(&t.store).await;
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let batch = vec![record(a, 1, 1, "first"), record(a, 2, 2, "amended"), record(b, 1, 3, "other")];

    let reply = t.store.push(&Pusher::officer(&device, "badge-1"), check_records(batch.clone())).await.unwrap();
    assert_eq!(reply.acks.iter().map(|a| a.status).collect::<Vec<_>>(), vec![AckStatus::Stored; 3]);
    assert_eq!(reply.device_seq, 3);
    assert_eq!(reply.acks.iter().map(|a| a.seq).collect::<Vec<_>>(), vec![1, 2, 3]);

    // The reply was lost and the device sends the same batch again.
    let again = t.store.push(&Pusher::officer(&device, "badge-1"), check_records(batch)).await.unwrap();
    assert_eq!(again.acks.iter().map(|a| a.status).collect::<Vec<_>>(), vec![AckStatus::Duplicate; 3]);
    let held = t.store.versions_since(None).await.unwrap();
    assert_eq!(held.len(), 3, "every version exactly once");
    assert!(held.iter().all(|v| v.device_id == device));
    let a2 = held.iter().find(|v| v.encounter_id == a && v.version == 2).unwrap();
    assert_eq!(a2.body["narrative"], "amended");
    assert_eq!(t.store.version_owner(a, 2).await.unwrap(), Some(device.clone()));
    assert_eq!(t.store.version_owner(a, 3).await.unwrap(), None);
}

async fn same_version_with_other_content_is_a_conflict_and_the_original_stays(backend: Backend) {
    let t = TestStore::new(backend).await;
    let (device, _) = enroll_device(&t.store).await;
    let id = Uuid::now_v7();
    let original = record(id, 1, 1, "original");
    let rival = record(id, 1, 2, "rewritten elsewhere");
    t.store.push(&Pusher::officer(&device, "badge-1"), check_records(vec![original.clone()])).await.unwrap();

    let reply = t.store.push(&Pusher::officer(&device, "badge-1"), check_records(vec![rival.clone()])).await.unwrap();
    assert_eq!(reply.acks[0].status, AckStatus::Conflict);
    // Sent again, still a conflict, still one conflict row.
    let reply = t.store.push(&Pusher::officer(&device, "badge-1"), check_records(vec![rival.clone()])).await.unwrap();
    assert_eq!(reply.acks[0].status, AckStatus::Conflict);

    let held = t.store.versions_since(None).await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].content_hash, original.content_hash, "never overwritten");
    let conflicts = t.store.conflicts().await.unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!((conflicts[0].encounter_id, conflicts[0].version), (id, 1));
    assert_eq!(conflicts[0].content_hash, rival.content_hash);
    assert_eq!(conflicts[0].body["narrative"], "rewritten elsewhere");

    // The same key twice in one push: the first is stored, an identical repeat is a duplicate,
    // other content a conflict.
    let other = Uuid::now_v7();
    let (first, rival) = (record(other, 1, 3, "one"), record(other, 1, 5, "two"));
    let mut repeat = first.clone();
    repeat.seq = 4;
    let reply =
        t.store.push(&Pusher::officer(&device, "badge-1"), check_records(vec![first, repeat, rival])).await.unwrap();
    let statuses: Vec<AckStatus> = reply.acks.iter().map(|a| a.status).collect();
    assert_eq!(statuses, vec![AckStatus::Stored, AckStatus::Duplicate, AckStatus::Conflict]);
    assert_eq!(t.store.conflicts().await.unwrap().len(), 2);
}

async fn invalid_records_are_rejected_without_blocking_the_rest(backend: Backend) {
    let t = TestStore::new(backend).await;
    let (device, _) = enroll_device(&t.store).await;
    let good_before = record(Uuid::now_v7(), 1, 1, "fine");
    let mut bad_hash = record(Uuid::now_v7(), 1, 2, "tampered");
    bad_hash.body["narrative"] = json!("changed after hashing");
    let not_an_encounter = PushRecord::new(Uuid::now_v7(), 1, 3, json!({"hello": "world"}));
    let other_id = Uuid::now_v7();
    let wrong_id = PushRecord::new(other_id, 1, 4, encounter_body(Uuid::now_v7(), 1, "mismatch"));
    let mut draft_body = encounter_body(Uuid::now_v7(), 1, "draft");
    draft_body["submitted_at"] = json!(null);
    let draft = PushRecord::new(draft_body["id"].as_str().unwrap().parse().unwrap(), 1, 5, draft_body);
    let good_after = record(Uuid::now_v7(), 1, 6, "also fine");

    let batch = vec![good_before, bad_hash, not_an_encounter, wrong_id, draft, good_after];
    let reply = t.store.push(&Pusher::officer(&device, "badge-1"), check_records(batch)).await.unwrap();
    let statuses: Vec<AckStatus> = reply.acks.iter().map(|a| a.status).collect();
    use AckStatus::*;
    assert_eq!(statuses, vec![Stored, Rejected, Rejected, Rejected, Rejected, Stored]);
    let reasons: Vec<&str> = reply.acks.iter().filter_map(|a| a.reason.as_deref()).collect();
    assert!(reasons[0].contains("content hash"), "{reasons:?}");
    assert!(reasons[1].contains("not an encounter"), "{reasons:?}");
    assert!(reasons[2].contains("record says"), "{reasons:?}");
    assert!(reasons[3].contains("draft"), "{reasons:?}");
    assert_eq!(reply.device_seq, 6, "rejected records are acknowledged too");
    assert_eq!(t.store.versions_since(None).await.unwrap().len(), 2);
}

async fn device_sequence_only_moves_forward(backend: Backend) {
    let t = TestStore::new(backend).await;
    let (device, _) = enroll_device(&t.store).await;
    let (other, _) = enroll_device(&t.store).await;
    assert_eq!(t.store.device_seq(&device).await.unwrap(), Some(0));
    let reply = t
        .store
        .push(&Pusher::officer(&device, "badge-1"), check_records(vec![record(Uuid::now_v7(), 1, 7, "x")]))
        .await
        .unwrap();
    assert_eq!(reply.device_seq, 7);
    // An old batch arriving late does not move it back.
    let reply = t
        .store
        .push(&Pusher::officer(&device, "badge-1"), check_records(vec![record(Uuid::now_v7(), 1, 3, "late")]))
        .await
        .unwrap();
    assert_eq!(reply.device_seq, 7);
    assert_eq!(t.store.device_seq(&other).await.unwrap(), Some(0), "per device");
    assert_eq!(t.store.device_seq("no-such-device").await.unwrap(), None);
    let unknown = t.store.push(&Pusher::officer("no-such-device", "badge-1"), Vec::<CheckedRecord>::new()).await;
    assert!(matches!(unknown, Err(StoreError::NotFound(_))), "{unknown:?}");
}

async fn pull_feed_is_per_device_paged_by_bytes_and_resumable(backend: Backend) {
    let t = TestStore::new(backend).await;
    let (alice, _) = enroll_device(&t.store).await;
    let (bob, _) = enroll_device(&t.store).await;
    let padding = "x".repeat(1000);
    let mut changes = Vec::new();
    for i in 0..10 {
        changes.push(NewChange {
            audience: Audience::AllDevices,
            kind: ChangeKind::DirectoryUpsert,
            key: format!("svc-{i}"),
            body: json!({"id": format!("svc-{i}"), "padding": padding}),
        });
        changes.push(NewChange {
            audience: Audience::Device(if i % 2 == 0 { alice.clone() } else { bob.clone() }),
            kind: ChangeKind::ReviewResult,
            key: Uuid::now_v7().to_string(),
            body: json!({"n": i}),
        });
    }
    let last = t.store.append_changes(changes).await.unwrap();
    assert_eq!(last, 20);

    // Pages of at most ~3 KB: three 1 KB upserts (plus small reviews) per page.
    let mut cursor = 0;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = t.store.pull(&alice, cursor, 3 * 1024).await.unwrap();
        pages += 1;
        let bytes: usize = page.changes.iter().map(|c| c.body.to_string().len()).sum();
        assert!(page.changes.len() == 1 || bytes <= 3 * 1024, "page of {bytes} bytes");
        assert!(page.changes.iter().all(|c| c.seq > cursor));
        seen.extend(page.changes.iter().map(|c| (c.seq, c.kind)));
        cursor = page.cursor;
        if !page.more {
            break;
        }
        assert!(pages < 20, "the feed must end");
    }
    assert!(pages >= 4, "paged by bytes, got {pages} pages");
    assert_eq!(seen.iter().filter(|(_, k)| *k == ChangeKind::DirectoryUpsert).count(), 10);
    assert_eq!(seen.iter().filter(|(_, k)| *k == ChangeKind::ReviewResult).count(), 5, "only alice's reviews");
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "in feed order");
    assert_eq!(cursor, 19, "alice's last change is the 19th");

    // Nothing new: an empty page that keeps the cursor.
    let idle = t.store.pull(&alice, cursor, 3 * 1024).await.unwrap();
    assert!(idle.changes.is_empty() && !idle.more && idle.cursor == cursor);
    // Resuming from the middle re-sends nothing before the cursor.
    let resumed = t.store.pull(&bob, 10, 1 << 20).await.unwrap();
    assert!(resumed.changes.iter().all(|c| c.seq > 10));
    assert_eq!(resumed.changes.len(), 5 + 3, "five upserts and bob's three reviews after seq 10");
}

async fn directory_publication_sends_only_differences(backend: Backend) {
    let t = TestStore::new(backend).await;
    let (device, _) = enroll_device(&t.store).await;
    let services =
        |names: &[&str]| names.iter().map(|n| json!({"id": n, "name": format!("{n} crisis line")})).collect();
    let first = waypoint_server::directory_feed::publish(&t.store, services(&["a", "b", "c"])).await.unwrap();
    assert_eq!((first.upserts, first.deletes), (3, 0));
    let same = waypoint_server::directory_feed::publish(&t.store, services(&["a", "b", "c"])).await.unwrap();
    assert_eq!((same.upserts, same.deletes), (0, 0), "a re-import of the same data publishes nothing");
    let mut changed: Vec<serde_json::Value> = services(&["a", "b"]);
    changed[1]["name"] = json!("b renamed");
    let next = waypoint_server::directory_feed::publish(&t.store, changed).await.unwrap();
    assert_eq!((next.upserts, next.deletes), (1, 1));

    let page = t.store.pull(&device, 0, 1 << 20).await.unwrap();
    let feed: Vec<(ChangeKind, String)> = page.changes.iter().map(|c| (c.kind, c.key.clone())).collect();
    use ChangeKind::*;
    assert_eq!(
        feed,
        vec![
            (DirectoryUpsert, "a".into()),
            (DirectoryUpsert, "b".into()),
            (DirectoryUpsert, "c".into()),
            (DirectoryUpsert, "b".into()),
            (DirectoryDelete, "c".into()),
        ]
    );
    assert_eq!(page.changes[3].body["name"], "b renamed");
}

async fn capacities_in_effect_follow_the_feed_as_a_device_applies_it(backend: Backend) {
    let t = TestStore::new(backend).await;
    let services = |names: &[&str]| names.iter().map(|n| json!({"id": n, "name": format!("{n} unit")})).collect();
    let capacity = |service: &str, available: i64| NewChange {
        audience: Audience::AllDevices,
        kind: ChangeKind::CapacityUpdate,
        key: service.into(),
        body: json!({"id": format!("beds-{service}"), "service_id": service, "unit": "beds",
                     "available": available, "maximum": 12, "updated_at": "2026-11-29T02:00:00Z"}),
    };
    let available = |bodies: Vec<serde_json::Value>| -> Vec<(String, i64)> {
        bodies
            .iter()
            .map(|b| (b["service_id"].as_str().unwrap().to_owned(), b["available"].as_i64().unwrap()))
            .collect()
    };
    // Before anything is published, an update has no service to go to (a device skips it).
    t.store.append_changes(vec![capacity("a", 9)]).await.unwrap();
    waypoint_server::directory_feed::publish(&t.store, services(&["a", "b", "c"])).await.unwrap();
    t.store.append_changes(vec![capacity("a", 3), capacity("b", 1)]).await.unwrap();
    let at = t.store.append_changes(vec![capacity("a", 5)]).await.unwrap();
    // A review for one device is not part of anyone's directory.
    t.store
        .append_changes(vec![NewChange {
            audience: Audience::Device("d1".into()),
            kind: ChangeKind::CapacityUpdate,
            key: "c".into(),
            body: json!({"bogus": true}),
        }])
        .await
        .unwrap();
    // b withdrawn: its capacity goes with it.
    let withdrawn = waypoint_server::directory_feed::publish(&t.store, services(&["a", "c"])).await.unwrap();
    assert_eq!(withdrawn.deletes, 1);

    assert_eq!(available(t.store.capacities_at(at - 1).await.unwrap()), vec![("a".into(), 3), ("b".into(), 1)]);
    assert_eq!(available(t.store.capacities_at(at).await.unwrap()), vec![("a".into(), 5), ("b".into(), 1)]);
    let now = withdrawn.last_seq.unwrap();
    assert_eq!(available(t.store.capacities_at(now).await.unwrap()), vec![("a".into(), 5)], "the latest, b withdrawn");
    assert!(t.store.capacities_at(1).await.unwrap().is_empty(), "none before the services were published");
}

async fn enrollment_codes_work_once_and_expire(backend: Backend) {
    let t = TestStore::new(backend).await;
    let code = waypoint_server::auth::create_enrollment(&t.store).await.unwrap();
    assert!(regex_like_code(&code), "{code}");
    let hash = waypoint_server::auth::enrollment_code_hash(&code.to_lowercase());
    let now = Utc::now();
    assert!(t.store.redeem_enrollment(&hash, now, "dev-1", "token-hash-1").await.unwrap(), "case does not matter");
    assert!(!t.store.redeem_enrollment(&hash, now, "dev-2", "token-hash-2").await.unwrap(), "used once only");
    assert_eq!(t.store.device_for_token("token-hash-1").await.unwrap(), Some("dev-1".into()));
    assert_eq!(t.store.device_for_token("token-hash-2").await.unwrap(), None);

    t.store.add_enrollment("expiring", now + Duration::hours(1)).await.unwrap();
    assert!(!t.store.redeem_enrollment("expiring", now + Duration::hours(2), "dev-3", "h3").await.unwrap());
    assert!(!t.store.redeem_enrollment("unknown", now, "dev-4", "h4").await.unwrap());
}

fn regex_like_code(code: &str) -> bool {
    let groups: Vec<&str> = code.split('-').collect();
    groups.len() == 3
        && groups.iter().all(|g| g.len() == 4 && g.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
}

async fn users_and_sessions_round_trip(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_user(&t.store, "sgt.reyes", Role::Supervisor, "correct horse battery").await;
    let user = t.store.user("sgt.reyes").await.unwrap().unwrap();
    assert_eq!(user.role, Role::Supervisor);
    assert!(user.password_hash.starts_with("$argon2id$"), "stored as an argon2 hash, not the password");
    assert!(waypoint_server::auth::verify_password("correct horse battery", &user.password_hash));
    assert!(!waypoint_server::auth::verify_password("wrong", &user.password_hash));
    let duplicate = t
        .store
        .add_user(waypoint_server::store::UserRecord {
            username: "sgt.reyes".into(),
            officer_id: "badge-77".into(),
            role: Role::Admin,
            password_hash: "x".into(),
        })
        .await;
    assert!(matches!(duplicate, Err(StoreError::AlreadyExists(_))), "{duplicate:?}");
    assert_eq!(user.officer_id, "sgt.reyes", "the officer id defaults to the username");
    // Two users cannot share an officer id: reports name their officer by it.
    let same_badge = t
        .store
        .add_user(waypoint_server::store::UserRecord {
            username: "ofc.other".into(),
            officer_id: "sgt.reyes".into(),
            role: Role::Officer,
            password_hash: "x".into(),
        })
        .await;
    assert!(matches!(same_badge, Err(StoreError::AlreadyExists(_))), "{same_badge:?}");
    assert_eq!(t.store.user("nobody").await.unwrap(), None);

    let expires_at = Utc::now() + Duration::hours(1);
    let session = SessionRecord { username: "sgt.reyes".into(), role: Role::Supervisor, expires_at };
    t.store.add_session("session-hash", session.clone()).await.unwrap();
    let read = t.store.session("session-hash").await.unwrap().unwrap();
    assert_eq!((read.username, read.role), (session.username, session.role));
    assert!((read.expires_at - expires_at).num_milliseconds().abs() < 1);
    assert_eq!(t.store.session("other").await.unwrap(), None);
}

async fn export_selects_by_receipt_time(backend: Backend) {
    let t = TestStore::new(backend).await;
    let (device, _) = enroll_device(&t.store).await;
    t.store
        .push(&Pusher::officer(&device, "badge-1"), check_records(vec![record(Uuid::now_v7(), 1, 1, "early")]))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let between = Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    t.store
        .push(&Pusher::officer(&device, "badge-1"), check_records(vec![record(Uuid::now_v7(), 1, 2, "late")]))
        .await
        .unwrap();
    let all = t.store.versions_since(None).await.unwrap();
    assert_eq!(all.len(), 2);
    let recent = t.store.versions_since(Some(between)).await.unwrap();
    assert_eq!(recent.len(), 1);
    assert_eq!(recent[0].body["narrative"], "late");
}

/// Many pushes at once (SQLite commits them as a group): a failing one (unknown device) changes
/// nothing for the others, and each gets its own acks.
async fn concurrent_pushes_stay_independent(backend: Backend) {
    let t = TestStore::new(backend).await;
    let mut devices = Vec::new();
    for _ in 0..4 {
        devices.push(enroll_device(&t.store).await.0);
    }
    let mut pushes = tokio::task::JoinSet::new();
    for n in 0..60u64 {
        let store = t.store.clone();
        let device = if n % 5 == 0 { "not-enrolled".to_string() } else { devices[n as usize % 4].clone() };
        pushes.spawn(async move {
            let records = vec![record(Uuid::now_v7(), 1, n + 1, "a"), record(Uuid::now_v7(), 1, n + 1, "b")];
            (n, store.push(&Pusher::officer(&device, "badge-1"), check_records(records)).await)
        });
    }
    let mut stored = 0;
    while let Some(done) = pushes.join_next().await {
        let (n, outcome) = done.unwrap();
        match outcome {
            Ok(reply) => {
                assert_ne!(n % 5, 0, "push {n} from an unknown device succeeded");
                assert_eq!(reply.acks.len(), 2);
                assert!(reply.acks.iter().all(|a| a.status == AckStatus::Stored && a.seq == n + 1));
                stored += 2;
            }
            Err(StoreError::NotFound(_)) => assert_eq!(n % 5, 0, "push {n} failed"),
            Err(other) => panic!("push {n}: {other}"),
        }
    }
    assert_eq!(stored, 96);
    assert_eq!(t.store.versions_since(None).await.unwrap().len(), 96, "failed pushes left nothing behind");
}

/// PostgreSQL: a change whose transaction commits after a later-started one must still be
/// delivered. With a plain SEQUENCE, the second transaction would commit number 2 first, a
/// device would pull it and store cursor 2, and number 1 would never reach it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_feed_never_skips_a_change_committed_out_of_order() {
    use waypoint_server::postgres_store::PostgresStore;
    let t = TestStore::new(Backend::Postgres).await;
    let (device, _) = enroll_device(&t.store).await;
    let schema = t.schema.clone().unwrap();
    let first_store = PostgresStore::connect(&postgres_url(), Some(&schema)).await.unwrap();
    let change = |key: &str| NewChange {
        audience: Audience::AllDevices,
        kind: ChangeKind::CapacityUpdate,
        key: key.into(),
        body: json!({"key": key}),
    };

    // Transaction 1 appends and stays open.
    let mut first_client = first_store.pool().get().await.unwrap();
    let first_tx = first_client.transaction().await.unwrap();
    let first_seq = PostgresStore::append_changes_in(&first_tx, &[change("first")]).await.unwrap();

    // Transaction 2 starts later and tries to commit before transaction 1.
    let second_store = t.store.clone();
    let second = tokio::spawn(async move { second_store.append_changes(vec![change("second")]).await.unwrap() });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    // A device pulls while transaction 1 is still open.
    let early = t.store.pull(&device, 0, 1 << 20).await.unwrap();
    let mut delivered: Vec<String> = early.changes.iter().map(|c| c.key.clone()).collect();

    first_tx.commit().await.unwrap();
    let second_seq = second.await.unwrap();
    assert!(first_seq < second_seq);
    let late = t.store.pull(&device, early.cursor, 1 << 20).await.unwrap();
    delivered.extend(late.changes.iter().map(|c| c.key.clone()));
    assert_eq!(delivered, vec!["first".to_string(), "second".to_string()], "both delivered, in commit order");
}

#[tokio::test]
async fn a_new_sqlite_store_uses_pages_that_hold_more_than_one_encounter_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.sqlite");
    let key = waypoint_server::database_key::DatabaseKey::generate();
    let store = waypoint_server::store::open(&path.to_string_lossy(), Some(&key)).await.unwrap();
    let (device, _) = enroll_device(&store).await;
    let pages = || {
        // SQLCipher: the page size is `cipher_page_size` (as text); the file is whole pages.
        let conn = waypoint_server::sqlite_store::open_keyed(&path, &key).unwrap();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
        let page_size: String = conn.query_row("PRAGMA cipher_page_size", [], |r| r.get(0)).unwrap();
        let page_size: u32 = page_size.parse().unwrap();
        let pages = (std::fs::metadata(&path).unwrap().len() / page_size as u64) as u32;
        (pages, page_size)
    };
    let (before, page_size) = pages();
    assert_eq!(page_size, 8192);
    let records: Vec<_> = (1..=30).map(|seq| record(Uuid::now_v7(), 1, seq, &"calm words ".repeat(150))).collect();
    let body_bytes = serde_json::to_string(&records[0].body).unwrap().len();
    assert!(body_bytes > 2048, "a realistic version is over half a 4 KiB page: {body_bytes} bytes");
    store.push(&Pusher::officer(&device, "badge-1"), check_records(records)).await.unwrap();
    let (after, _) = pages();
    // Three versions to a page, plus their index and b-tree interior pages; at 4 KiB each
    // version took a page of its own (30 or more).
    assert!(after - before < 20, "30 versions took {} new pages", after - before);
}

/// PostgreSQL: encounter bodies (over the TOAST threshold) are compressed with lz4, not pglz,
/// and running the migration again (every server start) keeps it so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_compresses_encounter_bodies_with_lz4() {
    use waypoint_server::postgres_store::PostgresStore;
    let t = TestStore::new(Backend::Postgres).await;
    t.store.migrate().await.unwrap();
    let schema = t.schema.clone().unwrap();
    let store = PostgresStore::connect(&postgres_url(), Some(&schema)).await.unwrap();
    let client = store.pool().get().await.unwrap();
    let method: String = client
        .query_one(
            "SELECT attcompression::text FROM pg_attribute
             WHERE attrelid = 'encounter_versions'::regclass AND attname = 'body'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(method, "l");
}

/// PostgreSQL: bodies are `json`, which keeps the canonical text the content hash covers, byte
/// for byte (`jsonb` would reorder and respace it). The upgrade from jsonb is in `migrations.rs`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keeps_the_canonical_text_of_bodies() {
    use waypoint_server::postgres_store::PostgresStore;
    let t = TestStore::new(Backend::Postgres).await;
    let (device, _) = enroll_device(&t.store).await;
    let id = Uuid::now_v7();
    t.store
        .push(&Pusher::officer(&device, "badge-1"), check_records(vec![record(id, 1, 1, "the officer's words")]))
        .await
        .unwrap();
    t.store
        .push(&Pusher::officer(&device, "badge-1"), check_records(vec![record(id, 1, 2, "a rival copy")]))
        .await
        .unwrap();
    let store = PostgresStore::connect(&postgres_url(), Some(t.schema.as_deref().unwrap())).await.unwrap();
    let client = store.pool().get().await.unwrap();
    let stored = "SELECT body::text, content_hash FROM encounter_versions UNION ALL SELECT body::text, content_hash FROM conflicts";
    let rows = client.query(stored, &[]).await.unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        let (text, hash): (String, String) = (row.get(0), row.get(1));
        let body: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(text.as_bytes(), waypoint_protocol::canonical_json(&body));
        assert_eq!(waypoint_protocol::content_hash(&body), hash);
    }
}

/// Pushes arriving together (committed as one group on PostgreSQL) are acknowledged as if they
/// ran one after the other: one copy of a version is stored, identical copies are duplicates,
/// different ones conflicts kept apart; an empty push still gets its device's sequence. (All from
/// one officer on one device, as retries are: another pusher's copy would be rejected, see
/// `tests/identity.rs`.)
async fn the_same_version_pushed_at_once_by_many_is_stored_once(backend: Backend) {
    let t = TestStore::new(backend).await;
    let device = enroll_device(&t.store).await.0;
    let devices = [device.clone(), device.clone(), device];
    let id = Uuid::now_v7();
    let original = record(id, 1, 1, "the officer's words");
    let rival = record(id, 1, 1, "someone else's words");
    let mut pushes = tokio::task::JoinSet::new();
    for n in 0..24usize {
        let store = t.store.clone();
        let device = devices[n % 3].clone();
        let records = match n % 4 {
            0 => vec![rival.clone()],
            3 => vec![],
            _ => vec![original.clone(), record(Uuid::now_v7(), 1, 2, "another")],
        };
        pushes.spawn(
            async move { store.push(&Pusher::officer(&device, "badge-1"), check_records(records)).await.unwrap() },
        );
    }
    let mut statuses = Vec::new();
    while let Some(done) = pushes.join_next().await {
        let reply = done.unwrap();
        statuses.extend(reply.acks.iter().filter(|a| a.encounter_id == id).map(|a| a.status));
    }
    let count = |status: AckStatus| statuses.iter().filter(|s| **s == status).count();
    assert_eq!(count(AckStatus::Stored), 1, "{statuses:?}");
    assert_eq!(statuses.len(), 18, "{statuses:?}");
    let held = t.store.versions_since(None).await.unwrap();
    let copies: Vec<_> = held.iter().filter(|v| v.encounter_id == id).collect();
    assert_eq!(copies.len(), 1);
    let conflicts = t.store.conflicts().await.unwrap();
    // Whichever came first is the stored one; every copy with the other content is a conflict
    // (kept once: the conflict rows are keyed by content).
    let stored_original = copies[0].content_hash == original.content_hash;
    let expected_conflicts = if stored_original { 6 } else { 12 };
    assert_eq!(count(AckStatus::Conflict), expected_conflicts, "{statuses:?}");
    assert_eq!(count(AckStatus::Duplicate), 17 - expected_conflicts, "{statuses:?}");
    assert_eq!(conflicts.iter().filter(|c| c.encounter_id == id).count(), 1);
    assert_eq!(held.len(), 1 + 12, "one copy of the shared version and the 12 others");
}
