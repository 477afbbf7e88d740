//! What the console's review desk reads beyond the queue of issue 14: each queue row's call type,
//! dispositions and arrest flag, the returned and approved lists, the counts per state, and when
//! the officer's device received a decision (it pulled past the decision's feed position). Every
//! test runs on both stores.

mod common;

use chrono::{Duration, Utc};
use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;
use waypoint_core::{Encounter, EncounterStatus};
use waypoint_protocol::{AckStatus, PushRecord, QueuePage, ReviewCounts, ReviewRequest, ReviewState, Role};
use waypoint_server::review_rules::DecisionInput;
use waypoint_server::store::review::QueueQuery;
use waypoint_server::store::{Pusher, SharedStore};
use waypoint_server::validation::check_records;
use waypoint_server::Settings;

on_both_stores!(
    queue_rows_carry_call_type_dispositions_and_arrest,
    the_returned_and_approved_lists_and_the_counts,
    a_decision_is_delivered_when_its_device_pulls_past_it,
    the_migration_fills_the_new_columns_for_reports_already_held,
);

const PASSWORD: &str = "a long passphrase";

/// A submitted version by `badge-1`, submitted `age` ago, changed by `edit`.
fn body(device: &str, id: Uuid, version: u32, age: Duration, edit: impl FnOnce(&mut Encounter)) -> Value {
    let at = Utc::now() - age;
    let mut e = Encounter::new_draft(device, "badge-1", 1, at);
    e.id = id;
    e.version = version;
    e.supersedes = (version > 1).then(|| version - 1);
    e.status = EncounterStatus::Submitted;
    e.submitted_at = Some(at);
    e.call.call_type = Some("911".into());
    e.dispositions = vec!["transport_crisis_centre".into()];
    e.narrative = "Officer spoke with the subject.".into();
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
    let acks = store.push(&Pusher::officer(device, "badge-1"), check_records(records)).await.unwrap();
    assert!(acks.acks.iter().all(|a| a.status == AckStatus::Stored), "{acks:?}");
}

async fn decide(store: &SharedStore, id: Uuid, version: u32, decision: &str, comment: Option<&str>) -> u64 {
    let request: ReviewRequest = serde_json::from_value(
        json!({"encounter_id": id, "version": version, "decision": decision, "comment": comment}),
    )
    .unwrap();
    store.decide(DecisionInput::new("sgt.reyes", request)).await.unwrap().expect("allowed").feed_seq
}

/// A server with a supervisor (session `sgt`) and an enrolled device.
struct Desk {
    t: TestStore,
    server: TestServer,
    client: reqwest::Client,
    device: String,
    device_token: String,
    sgt: String,
}

impl Desk {
    async fn new(backend: Backend) -> Self {
        let t = TestStore::new(backend).await;
        add_user(&t.store, "sgt.reyes", Role::Supervisor, PASSWORD).await;
        add_user(&t.store, "badge-1", Role::Officer, PASSWORD).await;
        let (device, device_token) = enroll_device(&t.store).await;
        let server = TestServer::start(t.store.clone(), Settings::default()).await;
        let client = http_client();
        let sgt = login(&client, &server, "sgt.reyes", PASSWORD).await;
        Desk { t, server, client, device, device_token, sgt }
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> reqwest::Response {
        self.client.get(self.server.url(path)).bearer_auth(&self.sgt).query(query).send().await.unwrap()
    }

    async fn queue(&self, query: &[(&str, &str)]) -> QueuePage {
        let reply = self.get("/v1/review/queue", query).await;
        assert_eq!(reply.status(), StatusCode::OK);
        reply.json().await.unwrap()
    }

    async fn counts(&self) -> ReviewCounts {
        let reply = self.get("/v1/review/counts", &[]).await;
        assert_eq!(reply.status(), StatusCode::OK);
        reply.json().await.unwrap()
    }

    async fn pull(&self, token: &str, cursor: u64) -> waypoint_protocol::PullResponse {
        let reply = self
            .client
            .get(self.server.url("/v1/sync/pull"))
            .bearer_auth(token)
            .query(&[("cursor", cursor.to_string())])
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::OK);
        reply.json().await.unwrap()
    }

    async fn delivered_at(&self, id: Uuid) -> Vec<Option<chrono::DateTime<Utc>>> {
        let review = self.t.store.encounter_review(id).await.unwrap().unwrap();
        review.versions.iter().flat_map(|v| v.decisions.iter().map(|d| d.delivered_at)).collect()
    }
}

async fn queue_rows_carry_call_type_dispositions_and_arrest(backend: Backend) {
    let desk = Desk::new(backend).await;
    let (arrested, calm) = (Uuid::now_v7(), Uuid::now_v7());
    push(
        &desk.t.store,
        &desk.device,
        vec![
            body(&desk.device, arrested, 1, Duration::hours(2), |e| {
                e.call.call_type = Some("on_view".into());
                e.dispositions = vec!["arrested".into(), "case_manager_notified".into()];
                e.response.reportable_force = true;
            }),
            body(&desk.device, calm, 1, Duration::hours(1), |e| e.call.call_type = None),
        ],
    )
    .await;
    let page = desk.queue(&[]).await;
    assert_eq!(page.items.len(), 2);
    let first = &page.items[0];
    assert_eq!(first.encounter_id, arrested, "oldest first");
    assert_eq!(first.call_type.as_deref(), Some("on_view"));
    assert_eq!(first.dispositions, ["arrested", "case_manager_notified"]);
    assert!(first.flags.arrest && first.flags.force_used && !first.flags.emergency_detention);
    assert_eq!(first.state, ReviewState::Submitted);
    let second = &page.items[1];
    assert_eq!((second.call_type.as_deref(), second.flags.arrest), (None, false));
    assert_eq!(second.dispositions, ["transport_crisis_centre"]);

    let only_arrests = desk.queue(&[("arrest", "true")]).await;
    assert_eq!(only_arrests.items.iter().map(|i| i.encounter_id).collect::<Vec<_>>(), [arrested]);
    // An amendment's row is the new version's: the arrest is gone.
    push(&desk.t.store, &desk.device, vec![body(&desk.device, arrested, 2, Duration::minutes(30), |_| {})]).await;
    assert!(desk.queue(&[("arrest", "true")]).await.items.is_empty());
    assert_eq!(desk.queue(&[]).await.items[0].dispositions, ["transport_crisis_centre"]);
}

async fn the_returned_and_approved_lists_and_the_counts(backend: Backend) {
    let desk = Desk::new(backend).await;
    let ids: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
    let bodies =
        ids.iter().enumerate().map(|(i, id)| body(&desk.device, *id, 1, Duration::hours(10 - i as i64), |_| {}));
    push(&desk.t.store, &desk.device, bodies.collect()).await;
    assert_eq!(desk.counts().await, ReviewCounts { submitted: 4, returned: 0, approved: 0 });

    decide(&desk.t.store, ids[0], 1, "returned", Some("name the hospital")).await;
    decide(&desk.t.store, ids[1], 1, "approved", None).await;
    decide(&desk.t.store, ids[2], 1, "approved", None).await;
    assert_eq!(desk.counts().await, ReviewCounts { submitted: 1, returned: 1, approved: 2 });

    let ids_of = |page: QueuePage| page.items.iter().map(|i| (i.encounter_id, i.state)).collect::<Vec<_>>();
    assert_eq!(ids_of(desk.queue(&[]).await), [(ids[3], ReviewState::Submitted)]);
    assert_eq!(ids_of(desk.queue(&[("state", "submitted")]).await), [(ids[3], ReviewState::Submitted)]);
    assert_eq!(ids_of(desk.queue(&[("state", "returned")]).await), [(ids[0], ReviewState::Returned)]);
    assert_eq!(
        ids_of(desk.queue(&[("state", "approved")]).await),
        [(ids[1], ReviewState::Approved), (ids[2], ReviewState::Approved)],
        "oldest first"
    );
    // Pages and filters apply to every list.
    let first = desk.queue(&[("state", "approved"), ("limit", "1")]).await;
    let cursor = first.next_cursor.clone().expect("a second page");
    assert_eq!(ids_of(first), [(ids[1], ReviewState::Approved)]);
    assert_eq!(
        ids_of(desk.queue(&[("state", "approved"), ("limit", "1"), ("cursor", &cursor)]).await),
        [(ids[2], ReviewState::Approved)]
    );

    // The amendment of a returned report is submitted again: it moves between the counts.
    push(&desk.t.store, &desk.device, vec![body(&desk.device, ids[0], 2, Duration::hours(1), |_| {})]).await;
    assert_eq!(desk.counts().await, ReviewCounts { submitted: 2, returned: 0, approved: 2 });
    assert!(desk.queue(&[("state", "returned")]).await.items.is_empty());

    let reply = desk.get("/v1/review/queue", &[("state", "draft")]).await;
    assert_eq!(reply.status(), StatusCode::BAD_REQUEST, "not a list");
    let officer = login(&desk.client, &desk.server, "badge-1", PASSWORD).await;
    let reply = desk.client.get(desk.server.url("/v1/review/counts")).bearer_auth(officer).send().await.unwrap();
    assert_eq!(reply.status(), StatusCode::FORBIDDEN, "supervisors and admins only");
}

async fn a_decision_is_delivered_when_its_device_pulls_past_it(backend: Backend) {
    let desk = Desk::new(backend).await;
    let (other_device, other_token) = enroll_device(&desk.t.store).await;
    let (mine, theirs) = (Uuid::now_v7(), Uuid::now_v7());
    push(&desk.t.store, &desk.device, vec![body(&desk.device, mine, 1, Duration::hours(2), |_| {})]).await;
    push(&desk.t.store, &other_device, vec![body(&other_device, theirs, 1, Duration::hours(1), |_| {})]).await;
    let seq = decide(&desk.t.store, mine, 1, "returned", Some("name the hospital")).await;
    let their_seq = decide(&desk.t.store, theirs, 1, "approved", None).await;
    assert_eq!(desk.delivered_at(mine).await, [None], "not delivered yet");

    // The page that carries the decision is sent, but the device has not said it applied it.
    let page = desk.pull(&desk.device_token, 0).await;
    assert_eq!(page.changes.iter().map(|c| c.seq).collect::<Vec<_>>(), [seq]);
    assert_eq!(desk.delivered_at(mine).await, [None]);
    // Another device pulling past it confirms nothing for this one.
    desk.pull(&other_token, their_seq).await;
    assert_eq!(desk.delivered_at(mine).await, [None]);
    assert!(desk.delivered_at(theirs).await[0].is_some(), "its own decision is delivered");

    // The next pull starts after the page it applied: delivered.
    let before = Utc::now();
    desk.pull(&desk.device_token, page.cursor).await;
    let delivered = desk.delivered_at(mine).await[0].expect("delivered");
    assert!(delivered >= before - Duration::seconds(1) && delivered <= Utc::now(), "{delivered}");
    // Over HTTP too, beside the decision.
    let reply = desk.get(&format!("/v1/review/encounters/{mine}"), &[]).await;
    let review: Value = reply.json().await.unwrap();
    assert!(review["versions"][0]["decisions"][0]["delivered_at"].is_string(), "{review}");
    // A later pull does not move the time.
    desk.pull(&desk.device_token, page.cursor).await;
    assert_eq!(desk.delivered_at(mine).await[0], Some(delivered));
}

/// An approval recorded by the server before this migration (whose `decide` writes the new
/// columns): a review result in the device's feed and its `review_decisions` row.
async fn old_decision(t: &TestStore, device: &str, id: Uuid) -> u64 {
    let result = json!({"version": 1, "decision": "approved", "comment": null, "reviewer": "sgt.reyes",
                        "at": "2026-11-30T10:00:00Z"});
    let seq = t
        .store
        .append_changes(vec![waypoint_server::store::NewChange {
            audience: waypoint_server::store::Audience::Device(device.to_string()),
            kind: waypoint_protocol::ChangeKind::ReviewResult,
            key: id.to_string(),
            body: result,
        }])
        .await
        .unwrap();
    let insert = "INSERT INTO review_decisions (encounter_id, version, decision, reviewer, decided_at, feed_seq)";
    match t.backend {
        Backend::Sqlite => {
            let conn = t.sqlite_connection();
            conn.execute(
                &format!("{insert} VALUES (?1, 1, 'approved', 'sgt.reyes', '2026-11-30T10:00:00Z', ?2)"),
                rusqlite::params![id.to_string(), seq as i64],
            )
            .unwrap();
            conn.execute("UPDATE review_index SET state = 'approved' WHERE encounter_id = ?1", [id.to_string()])
                .unwrap();
        }
        Backend::Postgres => {
            let (client, connection) = tokio_postgres::connect(&postgres_url(), tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            let schema = t.schema.as_deref().unwrap();
            client
                .execute(
                    &format!("{insert} VALUES ($1, 1, 'approved', 'sgt.reyes', now(), $2)")
                        .replace("INTO review_decisions", &format!("INTO {schema}.review_decisions")),
                    &[&id, &(seq as i64)],
                )
                .await
                .unwrap();
            client
                .execute(
                    &format!("UPDATE {schema}.review_index SET state = 'approved' WHERE encounter_id = $1"),
                    &[&id],
                )
                .await
                .unwrap();
        }
    }
    seq
}

async fn the_migration_fills_the_new_columns_for_reports_already_held(backend: Backend) {
    let t = TestStore::unmigrated(backend).await;
    let before = match backend {
        Backend::Sqlite => 5,
        Backend::Postgres => 7,
    };
    t.store.migrate_to(before).await.unwrap();
    add_user(&t.store, "sgt.reyes", Role::Supervisor, PASSWORD).await;
    let (device, _) = enroll_device(&t.store).await;
    let (arrested, decided) = (Uuid::now_v7(), Uuid::now_v7());
    push(
        &t.store,
        &device,
        vec![
            body(&device, arrested, 1, Duration::hours(3), |e| {
                e.call.call_type = Some("telephone".into());
                e.dispositions = vec!["arrested".into()];
            }),
            body(&device, decided, 1, Duration::hours(2), |_| {}),
        ],
    )
    .await;
    let seq = old_decision(&t, &device, decided).await;
    t.store.migrate().await.unwrap();

    let page = t.store.review_queue(QueueQuery { arrest: true, ..Default::default() }).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].encounter_id, arrested);
    assert_eq!(page.items[0].call_type.as_deref(), Some("telephone"));
    assert_eq!(page.items[0].dispositions, ["arrested"]);
    // A decision made before knows its device: the device's next pull delivers it.
    assert_eq!(t.store.confirm_pulled("another-device", seq, Utc::now()).await.unwrap(), 0);
    assert_eq!(t.store.confirm_pulled(&device, seq, Utc::now()).await.unwrap(), 1);
    let review = t.store.encounter_review(decided).await.unwrap().unwrap();
    assert!(review.versions[0].decisions[0].delivered_at.is_some());
    // The trigger the migration replaced still indexes new pushes, with the new columns.
    let later = Uuid::now_v7();
    push(
        &t.store,
        &device,
        vec![body(&device, later, 1, Duration::hours(1), |e| e.dispositions.push("arrested".into()))],
    )
    .await;
    let page = t.store.review_queue(QueueQuery { arrest: true, ..Default::default() }).await.unwrap();
    assert_eq!(page.items.iter().map(|i| i.encounter_id).collect::<Vec<_>>(), [arrested, later]);
}
