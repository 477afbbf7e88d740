//! The agency records feed and its webhooks (issue 16, part 2), on both stores: which decisions
//! make which events, the feed's pages and cursor, who may read it, and webhook deliveries to a
//! real local receiver that fails, times out and answers slowly at random, checked with an HMAC
//! written here (not the crate that signed), through a worker killed mid-delivery and started
//! again, and a delivery parked after its retry window and replayed.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use common::webhook_receiver::{receiver, Behaviour};
use common::*;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;
use waypoint_protocol::{
    AckStatus, DeliveryState, PushRecord, RecordEventType, RecordsCredentialCreated, RecordsPage, ReviewRequest, Role,
    WebhookCreated, WebhookDeliveryInfo,
};
use waypoint_server::review_rules::DecisionInput;
use waypoint_server::store::{Pusher, SharedStore};
use waypoint_server::validation::check_records;
use waypoint_server::webhooks::{self, WebhookSettings};
use waypoint_server::Settings;

on_both_stores!(
    decisions_make_the_events_and_the_feed_pages_them,
    only_a_live_records_credential_reads_the_feed,
    webhooks_deliver_every_event_through_failures_and_a_restart,
    a_delivery_that_keeps_failing_is_parked_then_replayed,
    webhook_endpoints_are_checked_when_registered,
);

const PASSWORD: &str = "a long passphrase";

async fn push(store: &SharedStore, device: &str, id: Uuid, version: u32, narrative: &str) {
    let body = encounter_body(id, version, narrative);
    let record = PushRecord::new(id, version, Utc::now().timestamp_micros() as u64, body);
    let acks = store.push(&Pusher::officer(device, "badge-1"), check_records(vec![record])).await.unwrap();
    assert!(acks.acks.iter().all(|a| a.status == AckStatus::Stored), "{acks:?}");
}

async fn decide(
    store: &SharedStore,
    id: Uuid,
    version: u32,
    decision: &str,
    comment: Option<&str>,
    reason: Option<&str>,
) {
    let request: ReviewRequest = serde_json::from_value(
        json!({"encounter_id": id, "version": version, "decision": decision, "comment": comment, "reason": reason}),
    )
    .unwrap();
    store.decide(DecisionInput::new("sgt.reyes", request)).await.unwrap().expect("allowed");
}

/// A server with a supervisor, an admin (sessions) and an officer's enrolled device.
struct Agency {
    t: TestStore,
    server: TestServer,
    client: reqwest::Client,
    device: String,
    device_token: String,
    sgt: String,
    admin: String,
}

impl Agency {
    async fn new(backend: Backend) -> Self {
        let t = TestStore::new(backend).await;
        add_user(&t.store, "sgt.reyes", Role::Supervisor, PASSWORD).await;
        add_user(&t.store, "admin.kim", Role::Admin, PASSWORD).await;
        add_user(&t.store, "badge-1", Role::Officer, PASSWORD).await;
        let (device, device_token) = enroll_device(&t.store).await;
        let server = TestServer::start(t.store.clone(), Settings::default()).await;
        let client = http_client();
        let sgt = login(&client, &server, "sgt.reyes", PASSWORD).await;
        let admin = login(&client, &server, "admin.kim", PASSWORD).await;
        Agency { t, server, client, device, device_token, sgt, admin }
    }

    fn store(&self) -> &SharedStore {
        &self.t.store
    }

    async fn admin_post(&self, path: &str, body: Value) -> reqwest::Response {
        self.client.post(self.server.url(path)).bearer_auth(&self.admin).json(&body).send().await.unwrap()
    }

    async fn records_token(&self, name: &str) -> String {
        let reply = self.admin_post("/v1/admin/records/credentials", json!({"name": name})).await;
        assert_eq!(reply.status(), StatusCode::CREATED);
        let created: RecordsCredentialCreated = reply.json().await.unwrap();
        assert_eq!(created.name, name);
        created.token
    }

    async fn feed(&self, token: &str, after: u64, max_bytes: usize) -> reqwest::Response {
        self.client
            .get(self.server.url("/v1/records/encounters"))
            .bearer_auth(token)
            .query(&[("after", after.to_string()), ("max_bytes", max_bytes.to_string())])
            .send()
            .await
            .unwrap()
    }

    async fn add_webhook(&self, url: &str) -> WebhookCreated {
        let reply = self.admin_post("/v1/admin/webhooks", json!({"url": url})).await;
        assert_eq!(reply.status(), StatusCode::CREATED, "{:?}", reply.text().await);
        reply.json().await.unwrap()
    }

    async fn deliveries(&self) -> Vec<WebhookDeliveryInfo> {
        let reply = self
            .client
            .get(self.server.url("/v1/admin/webhooks/deliveries"))
            .bearer_auth(&self.admin)
            .query(&[("limit", "500")])
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::OK);
        reply.json().await.unwrap()
    }
}

async fn decisions_make_the_events_and_the_feed_pages_them(backend: Backend) {
    let agency = Agency::new(backend).await;
    let store = agency.store();
    let (a, b, c, d) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    for id in [a, b, c, d] {
        push(store, &agency.device, id, 1, "first version").await;
    }
    decide(store, a, 1, "approved", None, None).await; // approved
    decide(store, b, 1, "returned", Some("add the hospital"), None).await; // no event
    push(store, &agency.device, b, 2, "second version").await;
    decide(store, b, 2, "approved", None, None).await; // approved: no earlier version was
    push(store, &agency.device, a, 2, "amended after approval").await;
    decide(store, a, 2, "approved", None, None).await; // amended
    decide(store, c, 1, "approved", None, None).await; // approved
    decide(store, c, 1, "returned", Some("wrong time"), Some("seen after approval")).await; // withdrawn
                                                                                            // d stays submitted: no event.

    let token = agency.records_token("rms").await;
    let expected = [
        (RecordEventType::Approved, a, 1),
        (RecordEventType::Approved, b, 2),
        (RecordEventType::Amended, a, 2),
        (RecordEventType::Approved, c, 1),
        (RecordEventType::ApprovalWithdrawn, c, 1),
    ];
    // The smallest pages: one event each, the cursor moving by feed position.
    let mut cursor = 0;
    let mut events = Vec::new();
    loop {
        let reply = agency.feed(&token, cursor, 1024).await;
        assert_eq!(reply.status(), StatusCode::OK);
        let page: RecordsPage = reply.json().await.unwrap();
        assert!(page.events.len() <= 1, "a 1 KiB page holds one event (each is larger)");
        if let Some(event) = page.events.last() {
            assert!(event.seq > cursor);
            assert_eq!(page.cursor, event.seq);
        }
        cursor = page.cursor;
        events.extend(page.events);
        if !page.more {
            break;
        }
    }
    let seen: Vec<_> = events.iter().map(|e| (e.event_type, e.encounter_id, e.version)).collect();
    assert_eq!(seen, expected);
    // Each event carries its report: the versions up to its own, bodies and decisions.
    let amended = &events[2];
    assert_eq!(amended.encounter.versions.iter().map(|v| v.version).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(amended.encounter.versions[1].body["narrative"], "amended after approval");
    assert_eq!(amended.encounter.versions[0].decisions.len(), 1);
    assert_eq!(amended.reviewer, "sgt.reyes");
    let returned_b = &events[1].encounter.versions[0].decisions[0];
    assert_eq!(returned_b.comment.as_deref(), Some("add the hospital"));
    let withdrawn = &events[4];
    assert_eq!(withdrawn.encounter.versions[0].decisions.len(), 2, "both decisions stay");
    assert_eq!(withdrawn.encounter.versions[0].decisions[1].reason.as_deref(), Some("seen after approval"));
    let ids: BTreeSet<_> = events.iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids.len(), events.len(), "event ids are unique");

    // One large page holds them all, the same events; past the end: nothing, and the cursor stays.
    let page: RecordsPage = agency.feed(&token, 0, 8 * 1024 * 1024).await.json().await.unwrap();
    assert_eq!(page.events, events);
    assert!(!page.more);
    let end: RecordsPage = agency.feed(&token, page.cursor, 1024).await.json().await.unwrap();
    assert!(end.events.is_empty() && !end.more && end.cursor == page.cursor);

    // A later decision is a new event after the cursor.
    decide(store, d, 1, "approved", None, None).await;
    let next: RecordsPage = agency.feed(&token, page.cursor, 1024 * 1024).await.json().await.unwrap();
    assert_eq!(
        next.events.iter().map(|e| (e.event_type, e.encounter_id)).collect::<Vec<_>>(),
        [(RecordEventType::Approved, d)]
    );

    // Every page read is in the audit trail, naming the reports sent.
    let trail = store.audit_rows(0, 10_000).await.unwrap();
    let reads: Vec<_> = trail.iter().filter(|row| row.action == "records_read").collect();
    assert!(reads.len() >= 8, "{} records_read rows", reads.len());
    assert!(reads.iter().all(|row| row.actor == "rms"));
    assert!(reads.iter().any(|row| row.detail.as_deref().unwrap_or_default().contains(&format!("{d} v1"))));
}

async fn only_a_live_records_credential_reads_the_feed(backend: Backend) {
    let agency = Agency::new(backend).await;
    let token = agency.records_token("rms").await;
    assert_eq!(agency.feed(&token, 0, 4096).await.status(), StatusCode::OK);
    // Users and devices are refused the feed, whatever their role.
    for other in [&agency.admin, &agency.sgt, &agency.device_token] {
        assert_eq!(agency.feed(other, 0, 4096).await.status(), StatusCode::FORBIDDEN);
    }
    // The records credential reads nothing else.
    for path in ["/v1/review/queue", "/v1/admin/users", "/v1/outcomes", "/v1/sync/pull", "/v1/admin/webhooks"] {
        let reply = agency.client.get(agency.server.url(path)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(reply.status(), StatusCode::FORBIDDEN, "{path}");
    }
    // Not as a console cookie either.
    let reply = agency
        .client
        .get(agency.server.url("/v1/records/encounters"))
        .header("cookie", format!("{}={token}", waypoint_protocol::SESSION_COOKIE))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
    // Names are unique and checked; a supervisor may not issue one.
    assert_eq!(
        agency.admin_post("/v1/admin/records/credentials", json!({"name": "rms"})).await.status(),
        StatusCode::CONFLICT
    );
    let bad = agency.admin_post("/v1/admin/records/credentials", json!({"name": "no spaces"})).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json::<Value>().await.unwrap()["field"], "name");
    let by_sgt = agency
        .client
        .post(agency.server.url("/v1/admin/records/credentials"))
        .bearer_auth(&agency.sgt)
        .json(&json!({"name": "other"}))
        .send()
        .await
        .unwrap();
    assert_eq!(by_sgt.status(), StatusCode::FORBIDDEN);
    // Listed without the token; revoked, it stops at once.
    let list: Vec<waypoint_protocol::RecordsCredentialInfo> = agency
        .client
        .get(agency.server.url("/v1/admin/records/credentials"))
        .bearer_auth(&agency.admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert!(list[0].last_used_at.is_some(), "the read above is its last use");
    let revoke = agency.admin_post("/v1/admin/records/credentials/rms/revoke", json!({})).await;
    assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
    let after = agency.feed(&token, 0, 4096).await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    assert!(after.text().await.unwrap().contains("revoked"));
    assert_eq!(
        agency.admin_post("/v1/admin/records/credentials/rms/revoke", json!({})).await.status(),
        StatusCode::NOT_FOUND
    );
    let made_up = format!("wpr_{}", "0".repeat(64));
    assert_eq!(agency.feed(&made_up, 0, 4096).await.status(), StatusCode::UNAUTHORIZED);
}

fn fast_retries() -> WebhookSettings {
    WebhookSettings {
        retry_window: chrono::Duration::hours(1),
        first_retry: Duration::from_millis(50),
        max_interval: Duration::from_millis(300),
        attempt_timeout: Duration::from_millis(500),
        poll_interval: Duration::from_millis(50),
    }
}

/// Waits until `done` holds (at most `limit`), checking every 100 ms.
async fn wait_for(limit: Duration, mut done: impl AsyncFnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

async fn webhooks_deliver_every_event_through_failures_and_a_restart(backend: Backend) {
    let agency = Agency::new(backend).await;
    let store = agency.store().clone();
    let secret = Arc::new(Mutex::new(String::new()));
    // Seeded: a failure is reproducible. About 30 % fail, 10 % hang past the timeout, 20 % slow.
    let rng = Arc::new(Mutex::new(rand::rngs::StdRng::seed_from_u64(16)));
    let rx = receiver(secret.clone(), move |_| {
        let roll: f64 = rng.lock().unwrap().gen();
        match roll {
            r if r < 0.3 => Behaviour::Fail,
            r if r < 0.4 => Behaviour::Hang,
            r if r < 0.6 => Behaviour::Slow,
            _ => Behaviour::Accept,
        }
    })
    .await;
    let created = agency.add_webhook(&rx.url).await;
    *secret.lock().unwrap() = created.secret.clone();
    assert!(created.secret.starts_with("whsec_"));

    let ids: Vec<Uuid> = (0..24).map(|_| Uuid::now_v7()).collect();
    for id in &ids {
        push(&store, &agency.device, *id, 1, "filed").await;
    }
    let worker = webhooks::spawn_worker(store.clone(), fast_retries());
    for id in &ids[..12] {
        decide(&store, *id, 1, "approved", None, None).await;
    }
    // Some deliveries are under way: the worker dies mid-round, as a server killed would.
    let started = wait_for(Duration::from_secs(20), async || rx.received.lock().unwrap().verified.len() >= 3).await;
    assert!(started, "nothing was delivered");
    worker.abort();
    // Decisions while no worker runs wait in the outbox.
    for id in &ids[12..] {
        decide(&store, *id, 1, "approved", None, None).await;
    }
    let worker = webhooks::spawn_worker(store.clone(), fast_retries());
    let all = wait_for(Duration::from_secs(90), async || {
        agency.deliveries().await.iter().all(|d| d.state == DeliveryState::Delivered)
    })
    .await;
    worker.abort();
    let deliveries = agency.deliveries().await;
    assert!(
        all,
        "not all delivered: {:?}",
        deliveries.iter().filter(|d| d.state != DeliveryState::Delivered).collect::<Vec<_>>()
    );
    assert_eq!(deliveries.len(), ids.len(), "one delivery per event");
    let received = rx.received.lock().unwrap();
    assert!(received.bad.is_empty(), "bad deliveries: {:?}", received.bad);
    let event_ids: BTreeSet<String> = deliveries.iter().map(|d| d.event_id.clone()).collect();
    let verified: BTreeSet<String> = received.verified.keys().cloned().collect();
    assert_eq!(verified, event_ids, "every event arrived, verified");
    // The receiver really failed and timed out: retries happened.
    assert!(deliveries.iter().any(|d| d.attempts > 1), "no delivery needed a retry");
    assert!(received.requests as usize > ids.len());
}

async fn a_delivery_that_keeps_failing_is_parked_then_replayed(backend: Backend) {
    let agency = Agency::new(backend).await;
    let store = agency.store().clone();
    let secret = Arc::new(Mutex::new(String::new()));
    let healthy = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let up = healthy.clone();
    let rx = receiver(secret.clone(), move |_| {
        if up.load(std::sync::atomic::Ordering::SeqCst) {
            Behaviour::Accept
        } else {
            Behaviour::Fail
        }
    })
    .await;
    *secret.lock().unwrap() = agency.add_webhook(&rx.url).await.secret;
    let id = Uuid::now_v7();
    push(&store, &agency.device, id, 1, "filed").await;
    decide(&store, id, 1, "approved", None, None).await;
    let settings = WebhookSettings { retry_window: chrono::Duration::milliseconds(1500), ..fast_retries() };
    let worker = webhooks::spawn_worker(store.clone(), settings);
    let parked = wait_for(Duration::from_secs(30), async || {
        agency.deliveries().await.first().is_some_and(|d| d.state == DeliveryState::Failed)
    })
    .await;
    assert!(parked, "the delivery was not parked: {:?}", agency.deliveries().await);
    let delivery = agency.deliveries().await.remove(0);
    assert!(delivery.attempts >= 2, "{delivery:?}");
    assert_eq!(delivery.last_status, Some(500));
    assert!(delivery.last_error.as_deref().unwrap_or_default().contains("500"));
    assert!(delivery.next_attempt_at.is_none());
    // Parked means parked: no more attempts.
    let requests = rx.received.lock().unwrap().requests;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(rx.received.lock().unwrap().requests, requests);

    // The endpoint is fixed; the admin replays it (the failed list shows it first).
    healthy.store(true, std::sync::atomic::Ordering::SeqCst);
    let failed: Vec<WebhookDeliveryInfo> = agency
        .client
        .get(agency.server.url("/v1/admin/webhooks/deliveries"))
        .bearer_auth(&agency.admin)
        .query(&[("state", "failed")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(failed.iter().map(|d| d.id).collect::<Vec<_>>(), [delivery.id]);
    let replay = agency.admin_post(&format!("/v1/admin/webhooks/deliveries/{}/replay", delivery.id), json!({})).await;
    assert_eq!(replay.status(), StatusCode::NO_CONTENT);
    let delivered = wait_for(Duration::from_secs(20), async || {
        agency.deliveries().await.first().is_some_and(|d| d.state == DeliveryState::Delivered)
    })
    .await;
    worker.abort();
    assert!(delivered, "{:?}", agency.deliveries().await);
    let verified: Vec<String> = rx.received.lock().unwrap().verified.keys().cloned().collect();
    assert_eq!(verified, vec![delivery.event_id.clone()]);
    assert_eq!(
        agency.admin_post("/v1/admin/webhooks/deliveries/999999/replay", json!({})).await.status(),
        StatusCode::NOT_FOUND
    );
    let trail = store.audit_rows(0, 10_000).await.unwrap();
    assert!(trail.iter().any(|row| row.action == "webhook_replayed" && row.actor == "admin.kim"));
}

async fn webhook_endpoints_are_checked_when_registered(backend: Backend) {
    let agency = Agency::new(backend).await;
    for (body, field) in [
        (json!({"url": "http://rms.example.gov/hooks"}), "url"),
        (json!({"url": "ftp://127.0.0.1/"}), "url"),
        (json!({"url": "https://user:pw@rms.example.gov/"}), "url"),
        (json!({"url": "https://rms.example.gov/hooks", "secret": "hunter2"}), "secret"),
        (json!({"url": "https://rms.example.gov/hooks", "secret": "whsec_c2hvcnQ="}), "secret"),
    ] {
        let reply = agency.admin_post("/v1/admin/webhooks", body.clone()).await;
        assert_eq!(reply.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(reply.json::<Value>().await.unwrap()["field"], field, "{body}");
    }
    let given = webhooks::new_secret();
    let reply =
        agency.admin_post("/v1/admin/webhooks", json!({"url": "https://rms.example.gov/hooks", "secret": given})).await;
    assert_eq!(reply.status(), StatusCode::CREATED);
    let created: WebhookCreated = reply.json().await.unwrap();
    assert_eq!(created.secret, given);
    assert!(created.webhook.enabled);
    // Disabled, it gets no new events; enabled again, it does.
    let path = format!("/v1/admin/webhooks/{}", created.webhook.id);
    assert_eq!(agency.admin_post(&format!("{path}/disable"), json!({})).await.status(), StatusCode::NO_CONTENT);
    let id = Uuid::now_v7();
    push(agency.store(), &agency.device, id, 1, "filed").await;
    decide(agency.store(), id, 1, "approved", None, None).await;
    assert!(agency.deliveries().await.is_empty());
    assert_eq!(agency.admin_post(&format!("{path}/enable"), json!({})).await.status(), StatusCode::NO_CONTENT);
    let other = Uuid::now_v7();
    push(agency.store(), &agency.device, other, 1, "filed").await;
    decide(agency.store(), other, 1, "approved", None, None).await;
    assert_eq!(agency.deliveries().await.iter().map(|d| d.encounter_id).collect::<Vec<_>>(), [other]);
    assert_eq!(agency.admin_post("/v1/admin/webhooks/424242/disable", json!({})).await.status(), StatusCode::NOT_FOUND);
    // Secrets are never listed.
    let listed = agency
        .client
        .get(agency.server.url("/v1/admin/webhooks"))
        .bearer_auth(&agency.admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!listed.contains(&given) && listed.contains("rms.example.gov"));
}
