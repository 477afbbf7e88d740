//! The review state on the server: decisions judged by the state machine (self-review 403,
//! superseded 409, returned without comment 422, reversal with a reason), the review queue
//! (filters, pagination, full-text search), one encounter with its history, the diff between
//! versions, conflicts, counts and who may see them. Every test runs on both stores.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;
use waypoint_core::{Encounter, EncounterStatus};
use waypoint_protocol::{
    AckStatus, ConflictPair, EncounterReview, ErrorBody, Metrics, PushRecord, QueuePage, ReviewState, Role, VersionDiff,
};
use waypoint_server::store::{Pusher, SharedStore};
use waypoint_server::validation::check_records;
use waypoint_server::Settings;

on_both_stores!(
    a_reviewer_cannot_review_their_own_report,
    a_superseded_version_answers_409_naming_the_current_one,
    a_returned_report_needs_a_comment,
    an_amendment_of_a_returned_report_reenters_the_queue,
    a_reversal_needs_a_reason_and_both_decisions_stay,
    the_queue_filters_pages_and_searches_the_narrative,
    the_diff_lists_each_changed_field,
    only_supervisors_and_admins_use_the_desk,
    conflicts_are_listed_for_admins_and_counted,
    the_migration_indexes_reports_and_decisions_already_held,
);

const PASSWORD: &str = "a long passphrase";

/// A submitted version by `officer`, submitted `age` ago, changed by `edit`.
fn body(id: Uuid, version: u32, officer: &str, age: Duration, edit: impl FnOnce(&mut Encounter)) -> Value {
    let at = Utc::now() - age;
    let mut e = Encounter::new_draft("device-test", officer, 1, at);
    e.id = id;
    e.version = version;
    e.supersedes = (version > 1).then(|| version - 1);
    e.status = EncounterStatus::Submitted;
    e.submitted_at = Some(at);
    e.narrative = "Officer spoke with the subject and made a referral.".into();
    edit(&mut e);
    serde_json::to_value(e).unwrap()
}

async fn push(store: &SharedStore, device: &str, bodies: Vec<Value>) {
    let records: Vec<PushRecord> = bodies
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            let id = b["id"].as_str().unwrap().parse().unwrap();
            let version = b["version"].as_u64().unwrap() as u32;
            PushRecord::new(id, version, Utc::now().timestamp_micros() as u64 + i as u64, b)
        })
        .collect();
    // Each officer pushes their own reports (the author the server records is the pusher).
    let mut officers: Vec<String> =
        records.iter().map(|r| r.body["officer_id"].as_str().unwrap().to_string()).collect();
    let mut seen = std::collections::HashSet::new();
    officers.retain(|o| seen.insert(o.clone()));
    for officer in officers {
        let theirs: Vec<PushRecord> =
            records.iter().filter(|r| r.body["officer_id"] == officer.as_str()).cloned().collect();
        let acks = store.push(&Pusher::officer(device, &officer), check_records(theirs)).await.unwrap();
        assert!(acks.acks.iter().all(|a| a.status == AckStatus::Stored), "{acks:?}");
    }
}

/// A server with a device, supervisors `sgt.reyes` and `sgt.okafor`, admin `admin`, officer `badge-7`.
struct Desk {
    t: TestStore,
    server: TestServer,
    client: reqwest::Client,
    device: String,
    device_token: String,
    sgt: String,
    other_sgt: String,
    admin: String,
    officer: String,
}

impl Desk {
    async fn new(backend: Backend) -> Self {
        let t = TestStore::new(backend).await;
        for (name, role) in [
            ("sgt.reyes", Role::Supervisor),
            ("sgt.okafor", Role::Supervisor),
            ("admin", Role::Admin),
            ("badge-7", Role::Officer),
        ] {
            add_user(&t.store, name, role, PASSWORD).await;
        }
        let (device, device_token) = enroll_device(&t.store).await;
        let server = TestServer::start(t.store.clone(), Settings::default()).await;
        let client = http_client();
        let sgt = login(&client, &server, "sgt.reyes", PASSWORD).await;
        let other_sgt = login(&client, &server, "sgt.okafor", PASSWORD).await;
        let admin = login(&client, &server, "admin", PASSWORD).await;
        let officer = login(&client, &server, "badge-7", PASSWORD).await;
        Desk { t, server, client, device, device_token, sgt, other_sgt, admin, officer }
    }

    async fn push(&self, bodies: Vec<Value>) {
        push(&self.t.store, &self.device, bodies).await
    }

    async fn decide(&self, token: &str, review: Value) -> (StatusCode, Value) {
        let reply =
            self.client.post(self.server.url("/v1/reviews")).bearer_auth(token).json(&review).send().await.unwrap();
        (reply.status(), reply.json().await.unwrap())
    }

    async fn get(&self, token: &str, path: &str, query: &[(&str, &str)]) -> reqwest::Response {
        self.client.get(self.server.url(path)).bearer_auth(token).query(query).send().await.unwrap()
    }

    async fn queue(&self, query: &[(&str, &str)]) -> QueuePage {
        let reply = self.get(&self.sgt, "/v1/review/queue", query).await;
        assert_eq!(reply.status(), StatusCode::OK);
        reply.json().await.unwrap()
    }

    async fn encounter(&self, id: Uuid) -> EncounterReview {
        let reply = self.get(&self.sgt, &format!("/v1/review/encounters/{id}"), &[]).await;
        assert_eq!(reply.status(), StatusCode::OK);
        reply.json().await.unwrap()
    }
}

fn ids_of(page: &QueuePage) -> Vec<Uuid> {
    page.items.iter().map(|i| i.encounter_id).collect()
}

async fn a_reviewer_cannot_review_their_own_report(backend: Backend) {
    let desk = Desk::new(backend).await;
    let id = Uuid::now_v7();
    // A supervisor who wrote a report in the field.
    desk.push(vec![body(id, 1, "sgt.reyes", Duration::hours(1), |_| {})]).await;
    let (status, error) =
        desk.decide(&desk.sgt, json!({"encounter_id": id, "version": 1, "decision": "approved"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
    assert_eq!(error["error"], "forbidden");
    assert!(error["message"].as_str().unwrap().contains("another supervisor"), "{error}");
    assert_eq!(desk.encounter(id).await.state, ReviewState::Submitted, "nothing recorded");
    let (status, _) =
        desk.decide(&desk.other_sgt, json!({"encounter_id": id, "version": 1, "decision": "approved"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(desk.encounter(id).await.state, ReviewState::Approved);
}

async fn a_superseded_version_answers_409_naming_the_current_one(backend: Backend) {
    let desk = Desk::new(backend).await;
    let id = Uuid::now_v7();
    desk.push(vec![
        body(id, 1, "badge-1", Duration::hours(2), |_| {}),
        body(id, 2, "badge-1", Duration::hours(1), |_| {}),
    ])
    .await;
    let (status, error) =
        desk.decide(&desk.sgt, json!({"encounter_id": id, "version": 1, "decision": "approved"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert_eq!(error["error"], "superseded");
    assert!(error["message"].as_str().unwrap().contains("current version is 2"), "{error}");
    let (status, _) = desk.decide(&desk.sgt, json!({"encounter_id": id, "version": 2, "decision": "approved"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = desk.decide(&desk.sgt, json!({"encounter_id": id, "version": 3, "decision": "approved"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a version not held");
}

async fn a_returned_report_needs_a_comment(backend: Backend) {
    let desk = Desk::new(backend).await;
    let id = Uuid::now_v7();
    desk.push(vec![body(id, 1, "badge-1", Duration::hours(1), |_| {})]).await;
    for comment in [json!(null), json!("   ")] {
        let review = json!({"encounter_id": id, "version": 1, "decision": "returned", "comment": comment});
        let (status, error) = desk.decide(&desk.sgt, review).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
        assert!(error["message"].as_str().unwrap().contains("comment"), "{error}");
        assert_eq!(error["field"], "comment", "the reply names the field: {error}");
    }
    assert!(desk.encounter(id).await.versions[0].decisions.is_empty());
}

async fn an_amendment_of_a_returned_report_reenters_the_queue(backend: Backend) {
    let desk = Desk::new(backend).await;
    let id = Uuid::now_v7();
    desk.push(vec![body(id, 1, "badge-1", Duration::hours(3), |_| {})]).await;
    assert_eq!(ids_of(&desk.queue(&[]).await), [id]);
    let review = json!({"encounter_id": id, "version": 1, "decision": "returned", "comment": "name the hospital"});
    let (status, position) = desk.decide(&desk.sgt, review).await;
    assert_eq!(status, StatusCode::OK);
    assert!(desk.queue(&[]).await.items.is_empty(), "a returned report leaves the queue");

    // The device still receives the decision through its pull feed.
    let pull: waypoint_protocol::PullResponse = desk
        .client
        .get(desk.server.url("/v1/sync/pull"))
        .bearer_auth(&desk.device_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pull.changes.len(), 1);
    assert_eq!(pull.changes[0].seq, position["seq"].as_u64().unwrap());
    assert_eq!(pull.changes[0].body["decision"], "returned");

    desk.push(vec![body(id, 2, "badge-1", Duration::hours(1), |e| e.narrative = "Taken to St. Mary's.".into())]).await;
    let page = desk.queue(&[]).await;
    assert_eq!(ids_of(&page), [id]);
    assert_eq!(page.items[0].version, 2, "the amendment is what waits");
    let review = desk.encounter(id).await;
    assert_eq!((review.latest_version, review.state), (2, ReviewState::Submitted));
    assert_eq!(review.versions[0].state, ReviewState::Returned, "version 1 keeps its decision");
}

async fn a_reversal_needs_a_reason_and_both_decisions_stay(backend: Backend) {
    let desk = Desk::new(backend).await;
    let id = Uuid::now_v7();
    desk.push(vec![body(id, 1, "badge-1", Duration::hours(1), |_| {})]).await;
    let approve = json!({"encounter_id": id, "version": 1, "decision": "approved"});
    let (status, first) = desk.decide(&desk.sgt, approve.clone()).await;
    assert_eq!(status, StatusCode::OK);
    // The same decision again is a retry: same feed position, nothing new recorded.
    let (status, again) = desk.decide(&desk.sgt, approve).await;
    assert_eq!((status, &again), (StatusCode::OK, &first));
    assert_eq!(desk.encounter(id).await.versions[0].decisions.len(), 1);

    let reverse = json!({"encounter_id": id, "version": 1, "decision": "returned", "comment": "the times are wrong"});
    let (status, error) = desk.decide(&desk.other_sgt, reverse.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert_eq!(error["error"], "already_decided");
    assert_eq!(error["field"], "reason", "the reply names the field: {error}");
    assert!(error["message"].as_str().unwrap().contains("reason"), "{error}");

    let mut with_reason = reverse;
    with_reason["reason"] = json!("approved by mistake: the arrival time is before the call");
    let (status, second) = desk.decide(&desk.other_sgt, with_reason).await;
    assert_eq!(status, StatusCode::OK);
    assert!(second["seq"].as_u64() > first["seq"].as_u64());
    let review = desk.encounter(id).await;
    assert_eq!(review.state, ReviewState::Returned);
    let decisions = &review.versions[0].decisions;
    assert_eq!(decisions.len(), 2, "both decisions stay");
    assert_eq!((decisions[0].reviewer.as_str(), decisions[0].reason.as_deref()), ("sgt.reyes", None));
    assert_eq!(decisions[1].reviewer, "sgt.okafor");
    assert!(decisions[1].reason.as_deref().unwrap().contains("by mistake"));
    assert_eq!(decisions[1].comment.as_deref(), Some("the times are wrong"));
}

async fn the_queue_filters_pages_and_searches_the_narrative(backend: Backend) {
    let desk = Desk::new(backend).await;
    let ids: Vec<Uuid> = (0..7).map(|_| Uuid::now_v7()).collect();
    let hours = |n: i64| Duration::hours(n);
    desk.push(vec![
        // Oldest first: ids[0] is the oldest.
        body(ids[0], 1, "badge-1", hours(70), |e| e.narrative = "Subject was calm; transported voluntarily.".into()),
        body(ids[1], 1, "badge-2", hours(60), |e| e.response.reportable_force = true),
        body(ids[2], 1, "badge-1", hours(50), |e| e.response.subject_injured = true),
        body(ids[3], 1, "badge-2", hours(40), |e| e.risk.weapon = Some("knife".into())),
        body(ids[4], 1, "badge-1", hours(30), |e| e.dispositions = vec!["emergency_detention".into()]),
        body(ids[5], 1, "badge-3", hours(20), |e| {
            e.risk.weapon = Some("none".into());
            e.narrative = "Neighbours reported shouting; the subject was transported to hospital.".into();
        }),
        body(ids[6], 1, "badge-3", hours(10), |_| {}),
    ])
    .await;
    assert_eq!(ids_of(&desk.queue(&[]).await), ids);

    // Pages of two, by the opaque cursor, cover the queue once in order.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = desk.queue(&[("limit", "2"), ("cursor", &cursor)]).await;
        assert!(page.items.len() <= 2);
        seen.extend(ids_of(&page));
        match page.next_cursor {
            Some(next) => cursor = next,
            None => break,
        }
    }
    assert_eq!(seen, ids);
    let bad = desk.get(&desk.sgt, "/v1/review/queue", &[("cursor", "not-a-cursor")]).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    assert_eq!(ids_of(&desk.queue(&[("officer", "badge-2")]).await), [ids[1], ids[3]]);
    assert_eq!(ids_of(&desk.queue(&[("force_used", "true")]).await), [ids[1]]);
    assert_eq!(ids_of(&desk.queue(&[("injury", "true")]).await), [ids[2]]);
    assert_eq!(ids_of(&desk.queue(&[("weapon", "true")]).await), [ids[3]], "`none` is no weapon");
    assert_eq!(ids_of(&desk.queue(&[("emergency_detention", "true")]).await), [ids[4]]);
    assert_eq!(ids_of(&desk.queue(&[("flagged", "true")]).await), [ids[1], ids[2]]);
    let flagged_first = desk.queue(&[("order", "flagged_first")]).await;
    assert_eq!(ids_of(&flagged_first), [ids[1], ids[2], ids[0], ids[3], ids[4], ids[5], ids[6]]);
    assert!(flagged_first.items[0].flags.force_used && flagged_first.items[1].flags.injury);
    // Flagged first pages as well.
    let first = desk.queue(&[("order", "flagged_first"), ("limit", "3")]).await;
    let rest = desk.queue(&[("order", "flagged_first"), ("cursor", first.next_cursor.as_deref().unwrap())]).await;
    assert_eq!([ids_of(&first), ids_of(&rest)].concat(), ids_of(&flagged_first));

    let since = |age: Duration| (Utc::now() - age).to_rfc3339();
    let (from, to) = (since(hours(45)), since(hours(25)));
    let window = desk.queue(&[("submitted_from", &from), ("submitted_to", &to)]).await;
    assert_eq!(ids_of(&window), [ids[3], ids[4]]);

    // Full text: stemmed words, all of them, in any order; search syntax is taken as words.
    assert_eq!(ids_of(&desk.queue(&[("q", "transport")]).await), [ids[0], ids[5]]);
    assert_eq!(ids_of(&desk.queue(&[("q", "hospital transported")]).await), [ids[5]]);
    assert_eq!(ids_of(&desk.queue(&[("q", "shouting"), ("officer", "badge-1")]).await), Vec::<Uuid>::new());
    assert_eq!(ids_of(&desk.queue(&[("q", "\"calm*")]).await), [ids[0]]);

    // A decided report leaves the queue.
    let (status, _) =
        desk.decide(&desk.sgt, json!({"encounter_id": ids[0], "version": 1, "decision": "approved"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids_of(&desk.queue(&[]).await), ids[1..]);
}

async fn the_diff_lists_each_changed_field(backend: Backend) {
    let desk = Desk::new(backend).await;
    let id = Uuid::now_v7();
    desk.push(vec![
        body(id, 1, "badge-1", Duration::hours(2), |_| {}),
        body(id, 2, "badge-1", Duration::hours(2), |e| {
            e.response.reportable_force = true;
            e.incident_number = Some("24-118".into());
        }),
    ])
    .await;
    let reply = desk.get(&desk.sgt, &format!("/v1/review/encounters/{id}/diff"), &[("from", "1"), ("to", "2")]).await;
    assert_eq!(reply.status(), StatusCode::OK);
    let diff: VersionDiff = reply.json().await.unwrap();
    let change =
        |path: &str| diff.changes.iter().find(|c| c.path == path).unwrap_or_else(|| panic!("{path}: {diff:?}"));
    assert_eq!(change("response.reportable_force").before, Some(json!(false)));
    assert_eq!(change("response.reportable_force").after, Some(json!(true)));
    assert_eq!(change("incident_number").after, Some(json!("24-118")));
    assert_eq!(change("version").after, Some(json!(2)));
    assert!(diff.changes.iter().all(|c| c.path != "narrative"), "unchanged fields are not listed");
    let missing = desk.get(&desk.sgt, &format!("/v1/review/encounters/{id}/diff"), &[("from", "1"), ("to", "3")]).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let review = desk.encounter(id).await;
    assert_eq!(review.versions.len(), 2);
    assert_eq!(review.versions[1].body["incident_number"], "24-118");
    let unknown = desk.get(&desk.sgt, &format!("/v1/review/encounters/{}", Uuid::now_v7()), &[]).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let bad = desk.get(&desk.sgt, "/v1/review/encounters/not-a-uuid", &[]).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

async fn only_supervisors_and_admins_use_the_desk(backend: Backend) {
    let desk = Desk::new(backend).await;
    let id = Uuid::now_v7();
    desk.push(vec![body(id, 1, "badge-1", Duration::hours(1), |_| {})]).await;
    let reads = [
        "/v1/review/queue".to_string(),
        format!("/v1/review/encounters/{id}"),
        format!("/v1/review/encounters/{id}/diff?from=1&to=1"),
        "/v1/metrics".to_string(),
        "/v1/admin/conflicts".to_string(),
    ];
    for path in &reads {
        for token in [&desk.officer, &desk.device_token] {
            let reply = desk.get(token, path, &[]).await;
            assert_eq!(reply.status(), StatusCode::FORBIDDEN, "{path}");
            assert_eq!(reply.json::<ErrorBody>().await.unwrap().error, "forbidden");
        }
        let anonymous = desk.client.get(desk.server.url(path)).send().await.unwrap();
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{path}");
        let expected = if path.starts_with("/v1/admin/") { StatusCode::FORBIDDEN } else { StatusCode::OK };
        assert_eq!(desk.get(&desk.sgt, path, &[]).await.status(), expected, "supervisor: {path}");
        assert_eq!(desk.get(&desk.admin, path, &[]).await.status(), StatusCode::OK, "admin: {path}");
    }
    let (status, _) =
        desk.decide(&desk.officer, json!({"encounter_id": id, "version": 1, "decision": "approved"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = desk.decide(&desk.admin, json!({"encounter_id": id, "version": 1, "decision": "approved"})).await;
    assert_eq!(status, StatusCode::OK, "an admin may review");
}

async fn conflicts_are_listed_for_admins_and_counted(backend: Backend) {
    let desk = Desk::new(backend).await;
    let id = Uuid::now_v7();
    let held = body(id, 1, "badge-1", Duration::hours(1), |e| e.narrative = "the first copy".into());
    desk.push(vec![held.clone()]).await;
    let mut rival = held;
    rival["narrative"] = json!("another copy");
    let record = PushRecord::new(id, 1, 99, rival);
    let acks = desk.t.store.push(&Pusher::officer(&desk.device, "badge-1"), check_records(vec![record])).await.unwrap();
    assert_eq!(acks.acks[0].status, AckStatus::Conflict);

    let metrics: Metrics = desk.get(&desk.sgt, "/v1/metrics", &[]).await.json().await.unwrap();
    assert_eq!((metrics.conflicts, metrics.review_queue), (1, 1));
    let pairs: Vec<ConflictPair> = desk.get(&desk.admin, "/v1/admin/conflicts", &[]).await.json().await.unwrap();
    assert_eq!(pairs.len(), 1);
    assert_eq!((pairs[0].encounter_id, pairs[0].version), (id, 1));
    assert_eq!(pairs[0].held.body["narrative"], "the first copy");
    assert_eq!(pairs[0].other.body["narrative"], "another copy");
    assert_eq!(desk.encounter(id).await.versions[0].conflicting_copies, 1);

    let mut json_out = Vec::new();
    let versions = desk.t.store.versions_since(None).await.unwrap();
    let conflicts = desk.t.store.conflicts().await.unwrap();
    waypoint_server::export::write(&versions, &conflicts, waypoint_server::export::Format::Json, &mut json_out)
        .unwrap();
    let exported: Vec<Value> = serde_json::from_slice(&json_out).unwrap();
    let copies: Vec<_> =
        exported.iter().map(|r| (r["copy"].as_str().unwrap(), r["body"]["narrative"].clone())).collect();
    assert_eq!(copies, [("held", json!("the first copy")), ("conflict", json!("another copy"))]);
}

/// Reports and decisions stored before the review tables existed are in the queue and history.
async fn the_migration_indexes_reports_and_decisions_already_held(backend: Backend) {
    let t = TestStore::unmigrated(backend).await;
    // The schema just before the review migration (identity, which pushes need, is in).
    let before_review = match backend {
        Backend::Sqlite => 2,
        Backend::Postgres => 4,
    };
    t.store.migrate_to(before_review).await.unwrap();
    let (device, _) = enroll_device(&t.store).await;
    let (waiting, decided) = (Uuid::now_v7(), Uuid::now_v7());
    push(
        &t.store,
        &device,
        vec![
            body(decided, 1, "badge-1", Duration::hours(5), |e| e.response.officer_injured = true),
            body(waiting, 1, "badge-1", Duration::hours(4), |_| {}),
            body(waiting, 2, "badge-1", Duration::hours(3), |e| e.narrative = "amended with the hospital".into()),
        ],
    )
    .await;
    // A decision made the old way: only a review result in the device's feed.
    let result = json!({"version": 1, "decision": "approved", "comment": null, "reviewer": "sgt.reyes",
                        "at": "2026-11-30T10:00:00Z"});
    t.store
        .append_changes(vec![waypoint_server::store::NewChange {
            audience: waypoint_server::store::Audience::Device(device.clone()),
            kind: waypoint_protocol::ChangeKind::ReviewResult,
            key: decided.to_string(),
            body: result,
        }])
        .await
        .unwrap();
    t.store.migrate().await.unwrap();

    let query = waypoint_server::store::review::QueueQuery { limit: 10, ..Default::default() };
    let page = t.store.review_queue(query.clone()).await.unwrap();
    assert_eq!(page.items.iter().map(|i| (i.encounter_id, i.version)).collect::<Vec<_>>(), [(waiting, 2)]);
    let searched = waypoint_server::store::review::QueueQuery { text: Some("hospital".into()), ..query };
    assert_eq!(t.store.review_queue(searched).await.unwrap().items.len(), 1, "the narrative is searchable");
    let review = t.store.encounter_review(decided).await.unwrap().unwrap();
    assert_eq!(review.state, ReviewState::Approved);
    assert_eq!(review.versions[0].decisions[0].reviewer, "sgt.reyes");
    let at: DateTime<Utc> = "2026-11-30T10:00:00Z".parse().unwrap();
    assert_eq!(review.versions[0].decisions[0].decided_at, at);
}
