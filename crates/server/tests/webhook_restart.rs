//! No webhook event is lost across a server restart: the real binary is killed (SIGKILL) while
//! deliveries are in flight to a receiver that hangs, then started again on the same database;
//! every event arrives, signed, on both stores. Deliveries are at-least-once: a repeat carries
//! the same `webhook-id`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use common::webhook_receiver::{receiver, Behaviour};
use common::*;
use serde_json::json;
use uuid::Uuid;
use waypoint_protocol::{AckStatus, DeliveryState, PushRecord, ReviewRequest};
use waypoint_server::review_rules::DecisionInput;
use waypoint_server::store::Pusher;
use waypoint_server::validation::check_records;

on_both_stores!(no_event_is_lost_when_the_server_is_killed_mid_delivery);

/// `waypoint-server serve` on this test's database with quick retries; returns once it listens.
fn serve(t: &TestStore, data: &std::path::Path) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_waypoint-server"))
        .arg("--data-dir")
        .arg(data)
        .arg("--database")
        .arg(database_arg(t))
        .args(key_file_arg(t))
        .args(["serve", "--no-tls", "--listen", "127.0.0.1:0"])
        .args(["--webhook-timeout-seconds", "1", "--webhook-first-retry-seconds", "0.2"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("listening on "), "{line}");
    child
}

async fn no_event_is_lost_when_the_server_is_killed_mid_delivery(backend: Backend) {
    let t = TestStore::new(backend).await;
    let data = tempfile::tempdir().unwrap();
    let secret = Arc::new(Mutex::new(String::new()));
    // The first requests hang past the sender's 1 s timeout: the kill comes while they are open.
    let rx = receiver(secret.clone(), |n| if n <= 4 { Behaviour::Hang } else { Behaviour::Accept }).await;
    let signing = waypoint_server::webhooks::new_secret();
    *secret.lock().unwrap() = signing.clone();
    t.store.add_webhook(&rx.url, &signing, "admin", Utc::now()).await.unwrap();
    let (device, _) = enroll_device(&t.store).await;
    let mut ids = Vec::new();
    for _ in 0..10 {
        let id = Uuid::now_v7();
        let record = PushRecord::new(id, 1, Utc::now().timestamp_micros() as u64, encounter_body(id, 1, "filed"));
        let acks = t.store.push(&Pusher::officer(&device, "badge-1"), check_records(vec![record])).await.unwrap();
        assert_eq!(acks.acks[0].status, AckStatus::Stored);
        let request: ReviewRequest =
            serde_json::from_value(json!({"encounter_id": id, "version": 1, "decision": "approved"})).unwrap();
        t.store.decide(DecisionInput::new("sgt.reyes", request)).await.unwrap().expect("allowed");
        ids.push(id);
    }

    let mut first = serve(&t, data.path());
    let start = Instant::now();
    while rx.received.lock().unwrap().requests < 3 && start.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(rx.received.lock().unwrap().requests >= 3, "the first server sent nothing");
    first.kill().unwrap(); // SIGKILL: no shutdown, claims left as they are
    first.wait().unwrap();
    let before_restart = rx.received.lock().unwrap().verified.len();
    assert!(before_restart < ids.len(), "everything arrived before the kill: the test proves nothing");

    let mut second = serve(&t, data.path());
    let start = Instant::now();
    let mut all = false;
    while !all && start.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        all = t.store.webhook_deliveries(None, 100).await.unwrap().iter().all(|d| d.state == DeliveryState::Delivered);
    }
    second.kill().unwrap();
    second.wait().unwrap();
    let deliveries = t.store.webhook_deliveries(None, 100).await.unwrap();
    assert!(all, "not delivered after the restart: {deliveries:?}");
    let received = rx.received.lock().unwrap();
    assert!(received.bad.is_empty(), "{:?}", received.bad);
    let expected: std::collections::BTreeSet<String> = deliveries.iter().map(|d| d.event_id.clone()).collect();
    let got: std::collections::BTreeSet<String> = received.verified.keys().cloned().collect();
    assert_eq!(expected.len(), ids.len());
    assert_eq!(got, expected, "every event arrived, verified, after the restart");
}
