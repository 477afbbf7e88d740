//! The server's audit trail (both stores): what is recorded, a linear chain under concurrent
//! appends, `verify` naming the first changed, deleted, moved or cut row, and each device's own
//! audit log pushed with its chain checked for continuity.

mod common;

use common::*;
use waypoint_protocol::audit::{DeviceAuditEntry, GENESIS};
use waypoint_protocol::{ReviewDecision, Role};
use waypoint_server::audit::{self, AuditEvent, Verdict};
use waypoint_server::store::audit::AuditRow;

on_both_stores!(
    actions_through_the_api_are_in_the_trail,
    concurrent_appends_make_one_linear_chain,
    verify_names_a_changed_row,
    verify_names_a_deleted_middle_row,
    verify_names_two_swapped_rows,
    verify_names_a_cut_tail,
    the_database_refuses_to_change_the_trail,
    a_device_log_that_continues_its_chain_is_stored,
    a_rewritten_device_log_is_flagged,
    a_truncated_device_log_is_flagged,
    a_device_row_that_does_not_match_its_hash_is_flagged,
    report_reads_account_administration_and_sign_outs_are_in_the_trail,
    the_trail_says_why_a_sign_in_failed,
);

/// The reply to a failed sign-in is one for all; the trail says which it was.
async fn the_trail_says_why_a_sign_in_failed(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_user(&t.store, "ofc.lee", Role::Officer, "the right passphrase").await;
    let server = TestServer::start(t.store.clone(), waypoint_server::Settings::default()).await;
    let client = http_client();
    let attempt = |username: &'static str, password: &'static str| {
        let request =
            client.post(server.url("/v1/login")).json(&serde_json::json!({"username": username, "password": password}));
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(attempt("nobody", "whatever it is").await, 401);
    for _ in 0..5 {
        assert_eq!(attempt("ofc.lee", "a wrong passphrase").await, 401);
    }
    assert_eq!(attempt("ofc.lee", "the right passphrase").await, 401, "locked");
    let reasons: Vec<(String, String)> = all_rows(&t)
        .await
        .into_iter()
        .filter(|r| r.action == "sign_in")
        .map(|r| (r.actor, format!("{} {}", r.outcome, r.detail.unwrap_or_default())))
        .collect();
    let expected: Vec<(String, String)> = [
        ("nobody", "failed no such user"),
        ("ofc.lee", "failed wrong password"),
        ("ofc.lee", "failed wrong password"),
        ("ofc.lee", "failed wrong password"),
        ("ofc.lee", "failed wrong password"),
        ("ofc.lee", "failed wrong password; account now locked"),
        ("ofc.lee", "failed account locked"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(reasons, expected);
}

/// Every read of a report through the desk, every refused decision, user and device
/// administration and sign-outs leave a row naming who did it.
async fn report_reads_account_administration_and_sign_outs_are_in_the_trail(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_user(&t.store, "sgt.reyes", Role::Supervisor, "a long passphrase").await;
    add_user(&t.store, "admin", Role::Admin, "another long passphrase").await;
    let officer = signed_in_device(&t.store, "ofc.diaz").await;
    let server = TestServer::start(t.store.clone(), waypoint_server::Settings::default()).await;
    let client = http_client();
    let supervisor = login(&client, &server, "sgt.reyes", "a long passphrase").await;
    let admin = login(&client, &server, "admin", "another long passphrase").await;
    let id = uuid::Uuid::now_v7();
    let push = waypoint_protocol::PushRequest {
        records: vec![record_by(id, 1, 1, "calm", &officer.officer_id, &officer.device_id)],
    };
    let pushed = client
        .post(server.url("/v1/sync/push"))
        .bearer_auth(&officer.device_token)
        .header(OFFICER, &officer.officer_token)
        .json(&push)
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), 200);

    let read = client.get(server.url(&format!("/v1/review/encounters/{id}"))).bearer_auth(&supervisor).send().await;
    assert_eq!(read.unwrap().status(), 200);
    let returned = serde_json::json!({"encounter_id": id, "version": 1, "decision": "returned"});
    let refused = client.post(server.url("/v1/reviews")).bearer_auth(&supervisor).json(&returned).send().await;
    assert_eq!(refused.unwrap().status(), 422, "returned without a comment");
    for path in ["/v1/admin/users/ofc.diaz/disable", &format!("/v1/admin/devices/{}/revoke", officer.device_id)] {
        let reply = client.post(server.url(path)).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(reply.status(), 204, "{path}");
    }
    let out = client.post(server.url("/v1/logout")).bearer_auth(&supervisor).send().await.unwrap();
    assert_eq!(out.status(), 204);

    let rows = all_rows(&t).await;
    let has = |actor: &str, action: &str, target: &str| {
        rows.iter()
            .any(|r| r.actor == actor && r.action == action && r.target.as_deref().is_some_and(|t| t.contains(target)))
    };
    assert!(has("sgt.reyes", "report_read", &id.to_string()), "{rows:#?}");
    assert!(has("admin", "user_disabled", "ofc.diaz"), "{rows:#?}");
    assert!(has("admin", "device_revoked", &officer.device_id), "{rows:#?}");
    assert!(rows.iter().any(|r| r.actor == "sgt.reyes" && r.action == "sign_out"), "{rows:#?}");
    // A decision the rules refuse: the attempt is recorded before it is judged, then the refusal.
    let decisions: Vec<_> = rows.iter().filter(|r| r.action == "review_decision").map(|r| r.outcome.as_str()).collect();
    assert_eq!(decisions, ["ok", "failed"]);
}

async fn all_rows(t: &TestStore) -> Vec<AuditRow> {
    t.store.audit_rows(0, 10_000).await.unwrap()
}

async fn verdict(t: &TestStore) -> Verdict {
    audit::verify(&t.store).await.unwrap()
}

async fn actions_through_the_api_are_in_the_trail(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_user(&t.store, "sgt.reyes", Role::Supervisor, "a long passphrase").await;
    add_user(&t.store, "admin", Role::Admin, "another long passphrase").await;
    let server = TestServer::start(t.store.clone(), waypoint_server::Settings::default()).await;
    let client = http_client();

    let wrong = client
        .post(server.url("/v1/login"))
        .json(&serde_json::json!({"username": "sgt.reyes", "password": "not it at all"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let nobody = client
        .post(server.url("/v1/login"))
        .json(&serde_json::json!({"username": "nobody", "password": "not it at all"}))
        .send()
        .await
        .unwrap();
    assert_eq!(nobody.status(), 401);
    let supervisor = login(&client, &server, "sgt.reyes", "a long passphrase").await;
    let admin = login(&client, &server, "admin", "another long passphrase").await;

    let code: waypoint_protocol::EnrollmentCode = client
        .post(server.url("/v1/admin/enrollments"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let enrolled: waypoint_protocol::EnrollResponse = client
        .post(server.url("/v1/enroll"))
        .json(&serde_json::json!({"code": code.code}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reused =
        client.post(server.url("/v1/enroll")).json(&serde_json::json!({"code": code.code})).send().await.unwrap();
    assert_eq!(reused.status(), 401);

    let id = uuid::Uuid::now_v7();
    add_user(&t.store, "ofc.diaz", Role::Officer, "an officer passphrase").await;
    let officer = officer_credential(&t.store, "ofc.diaz", &enrolled.device_id).await;
    let push =
        waypoint_protocol::PushRequest { records: vec![record_by(id, 1, 1, "calm", "ofc.diaz", &enrolled.device_id)] };
    let pushed = client
        .post(server.url("/v1/sync/push"))
        .bearer_auth(&enrolled.device_token)
        .header(OFFICER, officer)
        .json(&push)
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), 200);
    let review = serde_json::json!({"encounter_id": id, "version": 1, "decision": ReviewDecision::Approved});
    let reviewed = client.post(server.url("/v1/reviews")).bearer_auth(&supervisor).json(&review).send().await.unwrap();
    assert_eq!(reviewed.status(), 200);
    let capacity = serde_json::json!({
        "id": "cap-1", "service_id": "svc-1", "unit": "beds", "available": 3, "maximum": 10,
        "updated_at": "2026-01-01T00:00:00Z"
    });
    let posted = client
        .post(server.url("/v1/directory/capacity"))
        .bearer_auth(&supervisor)
        .json(&capacity)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);

    let rows = all_rows(&t).await;
    let seen: Vec<(&str, &str, &str)> =
        rows.iter().map(|r| (r.actor.as_str(), r.action.as_str(), r.outcome.as_str())).collect();
    assert_eq!(
        seen,
        vec![
            ("sgt.reyes", "sign_in", "failed"),
            ("nobody", "sign_in", "failed"),
            ("sgt.reyes", "sign_in", "ok"),
            ("admin", "sign_in", "ok"),
            ("admin", "enrollment_code_issued", "ok"),
            (enrolled.device_id.as_str(), "device_enrolled", "ok"),
            ("anonymous", "device_enrolled", "failed"),
            ("sgt.reyes", "review_decision", "ok"),
            ("sgt.reyes", "capacity_update", "ok"),
        ]
    );
    assert!(rows.iter().all(|r| r.client.as_deref() == Some("127.0.0.1")), "the client address: {rows:?}");
    assert_eq!(rows[7].target.as_deref(), Some(format!("encounter {id} v1").as_str()));
    assert_eq!(rows[7].detail.as_deref(), Some("approved"));
    assert!(rows.iter().all(|r| !r.detail.as_deref().unwrap_or_default().contains(&code.code)), "no code in the trail");
    assert!(rows.iter().all(|r| chrono::DateTime::parse_from_rfc3339(&r.at).is_ok() && r.at.ends_with('Z')));
    assert_eq!(verdict(&t).await, Verdict::Intact { rows: 9, head_hash: rows[8].hash.clone() });
}

async fn concurrent_appends_make_one_linear_chain(backend: Backend) {
    let t = TestStore::new(backend).await;
    let appends = (0..40).map(|i| {
        let store = t.store.clone();
        tokio::spawn(async move {
            audit::record(&store, AuditEvent::new(format!("user{i}"), "test", "ok")).await.unwrap();
        })
    });
    for append in appends.collect::<Vec<_>>() {
        append.await.unwrap();
    }
    let rows = all_rows(&t).await;
    assert_eq!(rows.iter().map(|r| r.seq).collect::<Vec<_>>(), (1..=40).collect::<Vec<_>>());
    assert_eq!(rows[0].prev_hash, GENESIS);
    assert!(rows.windows(2).all(|w| w[1].prev_hash == w[0].hash), "each row follows the one before");
    assert!(matches!(verdict(&t).await, Verdict::Intact { rows: 40, .. }));
}

/// Five rows, then the store's own append-only guard taken away (as someone with the database
/// file or superuser rights could), so the test can tamper.
async fn five_rows_unguarded(backend: Backend) -> TestStore {
    let t = TestStore::new(backend).await;
    for i in 1..=5 {
        audit::record(&t.store, AuditEvent::by_cli("test", "ok").target(format!("thing {i}"))).await.unwrap();
    }
    assert!(matches!(verdict(&t).await, Verdict::Intact { rows: 5, .. }));
    sql(
        &t,
        match backend {
            Backend::Sqlite => "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;",
            Backend::Postgres => "ALTER TABLE audit_events DISABLE TRIGGER USER",
        },
    )
    .await;
    t
}

/// Runs `statements` beside the store.
async fn sql(t: &TestStore, statements: &str) {
    match t.backend {
        Backend::Sqlite => t.sqlite_connection().execute_batch(statements).unwrap(),
        Backend::Postgres => {
            let schema = t.schema.as_deref().unwrap();
            let (client, connection) = tokio_postgres::connect(&postgres_url(), tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            client.batch_execute(&format!("SET search_path = {schema}; {statements}")).await.unwrap();
        }
    }
}

fn broken_at(verdict: Verdict, seq: u64, words: &str) {
    match verdict {
        Verdict::Broken { seq: at, reason } => {
            assert_eq!(at, seq, "{reason}");
            assert!(reason.contains(words), "{reason}");
        }
        intact => panic!("tampering went unnoticed: {intact:?}"),
    }
}

async fn verify_names_a_changed_row(backend: Backend) {
    let t = five_rows_unguarded(backend).await;
    sql(&t, "UPDATE audit_events SET outcome = 'failed' WHERE seq = 3").await;
    broken_at(verdict(&t).await, 3, "row 3 was changed");
}

async fn verify_names_a_deleted_middle_row(backend: Backend) {
    let t = five_rows_unguarded(backend).await;
    sql(&t, "DELETE FROM audit_events WHERE seq = 3").await;
    broken_at(verdict(&t).await, 3, "row 3 is missing");
}

async fn verify_names_two_swapped_rows(backend: Backend) {
    let t = five_rows_unguarded(backend).await;
    sql(
        &t,
        "UPDATE audit_events SET seq = -1 WHERE seq = 2; UPDATE audit_events SET seq = 2 WHERE seq = 4;
         UPDATE audit_events SET seq = 4 WHERE seq = -1;",
    )
    .await;
    broken_at(verdict(&t).await, 2, "does not follow row 1");
}

async fn verify_names_a_cut_tail(backend: Backend) {
    let t = five_rows_unguarded(backend).await;
    sql(&t, "DELETE FROM audit_events WHERE seq >= 4").await;
    broken_at(verdict(&t).await, 4, "rows 4..=5 were removed");
}

async fn the_database_refuses_to_change_the_trail(backend: Backend) {
    let t = TestStore::new(backend).await;
    audit::record(&t.store, AuditEvent::by_cli("test", "ok")).await.unwrap();
    let refused = match t.backend {
        Backend::Sqlite => {
            t.sqlite_connection().execute_batch("UPDATE audit_events SET outcome = 'x'").unwrap_err().to_string()
        }
        Backend::Postgres => {
            let schema = t.schema.as_deref().unwrap();
            let (client, connection) = tokio_postgres::connect(&postgres_url(), tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            let error = client
                .batch_execute(&format!("SET search_path = {schema}; DELETE FROM audit_events"))
                .await
                .unwrap_err();
            error.as_db_error().map(|e| e.message().to_string()).unwrap_or_default()
        }
    };
    assert!(refused.contains("append-only"), "{refused}");
    assert!(matches!(verdict(&t).await, Verdict::Intact { rows: 1, .. }));
}

// --- Device audit logs ----------------------------------------------------------------------------

/// A device chain of rows `1..=n` (outcomes tagged with `tag`, so two chains differ).
fn device_chain(n: i64, tag: &str) -> Vec<DeviceAuditEntry> {
    let mut prev = GENESIS.to_string();
    (1..=n)
        .map(|seq| {
            let mut e = DeviceAuditEntry {
                seq,
                at: format!("2026-03-01T10:00:{seq:02}.000000Z"),
                actor: "badge-1207".into(),
                device: "device-local-id".into(),
                action: "submit".into(),
                record_id: Some(format!("record {seq}")),
                outcome: format!("ok {tag}"),
                prev_hash: prev.clone(),
                hash: String::new(),
            };
            e.hash = e.expected_hash(&prev);
            prev = e.hash.clone();
            e
        })
        .collect()
}

async fn breaks_in_trail(t: &TestStore) -> Vec<AuditRow> {
    all_rows(t).await.into_iter().filter(|r| r.action == "device_audit_break").collect()
}

async fn a_device_log_that_continues_its_chain_is_stored(backend: Backend) {
    let t = TestStore::new(backend).await;
    let (device, _) = enroll_device(&t.store).await;
    let chain = device_chain(7, "a");
    let first = t.store.push_device_audit(&device, chain[..4].to_vec()).await.unwrap();
    assert_eq!((first.stored, first.duplicates, first.last_seq), (4, 0, 4));
    assert!(first.chain_breaks.is_empty());
    // A resend after a lost reply overlaps: the held rows are duplicates, the rest continue.
    let second = t.store.push_device_audit(&device, chain[2..].to_vec()).await.unwrap();
    assert_eq!((second.stored, second.duplicates, second.last_seq), (3, 2, 7), "{second:?}");
    assert!(second.chain_breaks.is_empty(), "{second:?}");
    assert_eq!(second.last_hash, chain[6].hash);
    let status = t.store.device_audit_status(&device).await.unwrap().unwrap();
    assert_eq!((status.segment, status.last_seq, status.breaks.len()), (0, 7, 0));
    assert!(breaks_in_trail(&t).await.is_empty());
}

async fn a_rewritten_device_log_is_flagged(backend: Backend) {
    let t = TestStore::new(backend).await;
    let (device, _) = enroll_device(&t.store).await;
    t.store.push_device_audit(&device, device_chain(5, "a")).await.unwrap();
    // The same seq numbers, other content: the device's log was rewritten from row 1.
    let reply = t.store.push_device_audit(&device, device_chain(6, "b")).await.unwrap();
    assert_eq!(reply.chain_breaks.len(), 1, "{reply:?}");
    assert!(
        reply.chain_breaks[0].contains("row 1 differs") && reply.chain_breaks[0].contains("rewritten"),
        "{reply:?}"
    );
    assert_eq!((reply.stored, reply.last_seq), (6, 6), "kept as a new segment, not dropped");
    let status = t.store.device_audit_status(&device).await.unwrap().unwrap();
    assert_eq!((status.segment, status.breaks.len()), (1, 1), "{status:?}");
    let events = breaks_in_trail(&t).await;
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].actor.as_str(), events[0].outcome.as_str()), (device.as_str(), "flagged"));
    assert!(matches!(verdict(&t).await, Verdict::Intact { .. }), "the break event is part of the chain");
    // The new segment then continues normally.
    let more = device_chain(8, "b");
    let reply = t.store.push_device_audit(&device, more[6..].to_vec()).await.unwrap();
    assert!(reply.chain_breaks.is_empty() && reply.stored == 2, "{reply:?}");
}

async fn a_truncated_device_log_is_flagged(backend: Backend) {
    let t = TestStore::new(backend).await;
    let (device, _) = enroll_device(&t.store).await;
    let chain = device_chain(9, "a");
    t.store.push_device_audit(&device, chain[..3].to_vec()).await.unwrap();
    // Rows 4..6 deleted on the device before they were pushed; 7.. still chain to 6.
    let reply = t.store.push_device_audit(&device, chain[6..].to_vec()).await.unwrap();
    assert_eq!(reply.chain_breaks.len(), 1, "{reply:?}");
    assert!(reply.chain_breaks[0].contains("rows 4..6"), "{reply:?}");
    // A log cut back to row 2 and written again: its row 3 arrives after row 9.
    let regrown = device_chain(3, "c");
    let reply = t.store.push_device_audit(&device, regrown[2..].to_vec()).await.unwrap();
    assert_eq!(reply.chain_breaks.len(), 1, "{reply:?}");
    assert!(reply.chain_breaks[0].contains("cut back"), "{reply:?}");
    assert_eq!(t.store.device_audit_status(&device).await.unwrap().unwrap().breaks.len(), 2);
    assert_eq!(breaks_in_trail(&t).await.len(), 2);
}

async fn a_device_row_that_does_not_match_its_hash_is_flagged(backend: Backend) {
    let t = TestStore::new(backend).await;
    let (device, _) = enroll_device(&t.store).await;
    let mut chain = device_chain(3, "a");
    chain[1].outcome = "changed after the fact".into();
    let reply = t.store.push_device_audit(&device, chain).await.unwrap();
    assert_eq!(reply.chain_breaks.len(), 1, "{reply:?}");
    assert!(reply.chain_breaks[0].contains("row 2's hash does not match"), "{reply:?}");
}
