//! Model-based property test of the device's sync state machine: random saves, amendments,
//! pushes and pulls through a transport that drops requests, drops replies after the server
//! committed, and duplicates requests, plus client restarts. After the network heals, the outbox
//! is empty, the server holds every version exactly once, and every review reached the device.

mod common;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use common::*;
use proptest::prelude::*;
use uuid::Uuid;
use waypoint_core::sync::{Transport, TransportError};
use waypoint_core::SyncState;
use waypoint_core::{EncounterStatus, Waypoint};
use waypoint_protocol::audit::{AuditPushRequest, AuditPushResponse};
use waypoint_protocol::DEFAULT_BATCH_BYTES;
use waypoint_protocol::{
    content_hash, AckStatus, Change, ChangeKind, PullResponse, PushResponse, RawPushRequest, RecordAck,
};

/// What the server holds: the reference the device is checked against.
#[derive(Default)]
struct ModelServer {
    versions: HashMap<(Uuid, u32), String>,
    times_stored: HashMap<(Uuid, u32), u32>,
    conflicts: u32,
    device_seq: u64,
    feed: Vec<Change>,
}

impl ModelServer {
    fn push(&mut self, request: &RawPushRequest) -> PushResponse {
        let mut acks = Vec::new();
        for record in &request.records {
            let key = (record.encounter_id, record.version);
            let body: serde_json::Value = serde_json::from_str(record.body.get()).unwrap();
            let narrative = body["narrative"].as_str().unwrap_or_default();
            let (status, reason) = if content_hash(&body) != record.content_hash {
                (AckStatus::Rejected, Some("content hash does not match the body".to_string()))
            } else if narrative.contains("REJECT") {
                (AckStatus::Rejected, Some("narrative flagged by the server".to_string()))
            } else {
                match self.versions.get(&key) {
                    Some(hash) if *hash == record.content_hash => (AckStatus::Duplicate, None),
                    Some(_) => {
                        self.conflicts += 1;
                        (AckStatus::Conflict, None)
                    }
                    None => {
                        self.versions.insert(key, record.content_hash.clone());
                        *self.times_stored.entry(key).or_default() += 1;
                        (AckStatus::Stored, None)
                    }
                }
            };
            self.device_seq = self.device_seq.max(record.seq);
            acks.push(RecordAck {
                encounter_id: record.encounter_id,
                version: record.version,
                seq: record.seq,
                status,
                reason,
            });
        }
        PushResponse { acks, device_seq: self.device_seq }
    }

    fn pull(&self, cursor: u64) -> PullResponse {
        const PAGE: usize = 3;
        let rest: Vec<&Change> = self.feed.iter().filter(|c| c.seq > cursor).collect();
        let page: Vec<Change> = rest.iter().take(PAGE).map(|c| (*c).clone()).collect();
        PullResponse { cursor: page.last().map_or(cursor, |c| c.seq), more: rest.len() > PAGE, changes: page }
    }

    fn review(&mut self, id: Uuid, version: u32, approve: bool) {
        let seq = self.feed.len() as u64 + 1;
        self.feed.push(Change {
            seq,
            kind: ChangeKind::ReviewResult,
            key: id.to_string(),
            body: serde_json::json!({
                "version": version,
                "decision": if approve { "approved" } else { "returned" },
                "comment": if approve { None } else { Some("add detail") },
                "reviewer": "sgt-1",
                "at": chrono::Utc::now(),
            }),
        });
    }
}

#[derive(Debug, Clone, Copy)]
enum Fault {
    None,
    DropRequest,
    DropReply,
    Duplicate,
}

struct FlakyTransport {
    server: Arc<Mutex<ModelServer>>,
    faults: VecDeque<Fault>,
}

impl FlakyTransport {
    fn round_trip<T>(&mut self, mut call: impl FnMut(&mut ModelServer) -> T) -> Result<T, TransportError> {
        match self.faults.pop_front().unwrap_or(Fault::None) {
            Fault::None => Ok(call(&mut self.server.lock().unwrap())),
            Fault::DropRequest => Err(TransportError::Unreachable("request lost".into())),
            Fault::DropReply => {
                call(&mut self.server.lock().unwrap());
                Err(TransportError::Unreachable("reply lost after the server committed".into()))
            }
            Fault::Duplicate => {
                call(&mut self.server.lock().unwrap());
                Ok(call(&mut self.server.lock().unwrap()))
            }
        }
    }
}

impl Transport for FlakyTransport {
    fn push(&mut self, request: &RawPushRequest) -> Result<PushResponse, TransportError> {
        self.round_trip(|server| server.push(request))
    }

    fn pull(&mut self, cursor: u64, _max_bytes: usize) -> Result<PullResponse, TransportError> {
        self.round_trip(|server| server.pull(cursor))
    }

    // The model server takes the audit rows as they come (chain checks are the real server's, tested there).
    fn push_audit(&mut self, request: &AuditPushRequest) -> Result<AuditPushResponse, TransportError> {
        self.round_trip(|_| {
            let last = request.entries.last();
            AuditPushResponse {
                stored: request.entries.len() as u32,
                duplicates: 0,
                last_seq: last.map_or(0, |e| e.seq),
                last_hash: last.map_or_else(String::new, |e| e.hash.clone()),
                chain_breaks: Vec::new(),
            }
        })
    }
}

#[derive(Debug, Clone)]
enum Op {
    Submit { flagged: bool },
    Amend { pick: usize },
    Sync { faults: Vec<Fault>, batch_bytes: usize },
    Review { pick: usize, approve: bool },
    Restart,
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![Just(Fault::None), Just(Fault::DropRequest), Just(Fault::DropReply), Just(Fault::Duplicate)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<bool>().prop_map(|b| Op::Submit { flagged: b && rand_flag(b) }),
        2 => any::<usize>().prop_map(|pick| Op::Amend { pick }),
        3 => (prop::collection::vec(fault(), 0..5), prop_oneof![Just(1usize), Just(4000), Just(DEFAULT_BATCH_BYTES)])
            .prop_map(|(faults, batch_bytes)| Op::Sync { faults, batch_bytes }),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(pick, approve)| Op::Review { pick, approve }),
        1 => Just(Op::Restart),
    ]
}

/// About one submit in eight is one the server will reject.
fn rand_flag(b: bool) -> bool {
    b && rand::random::<u8>() < 64
}

fn sync(wp: &Waypoint, transport: &mut FlakyTransport, batch_bytes: usize) {
    let _ = wp.sync_once(transport, batch_bytes, &mut |_| Ok(()));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn sync_converges_whatever_the_network_does(ops in prop::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let mut wp = unlocked(dir.path());
        let server = Arc::new(Mutex::new(ModelServer::default()));
        // Every version the device submitted, and whether the server is meant to reject it.
        let mut submitted: Vec<(Uuid, u32, bool)> = Vec::new();
        let mut encounters: Vec<Uuid> = Vec::new();

        for op in ops {
            match op {
                Op::Submit { flagged } => {
                    let mut e = complete(wp.new_encounter().unwrap());
                    if flagged {
                        e.narrative = "REJECT this one".into();
                    }
                    let e = wp.submit(e).unwrap();
                    submitted.push((e.id, e.version, flagged));
                    encounters.push(e.id);
                }
                Op::Amend { pick } if !encounters.is_empty() => {
                    let id = encounters[pick % encounters.len()];
                    let mut amendment = wp.amend(id).unwrap();
                    amendment.narrative = format!("amended to version {}", amendment.version);
                    let e = wp.submit(amendment).unwrap();
                    submitted.push((e.id, e.version, false));
                }
                Op::Amend { .. } => {}
                Op::Sync { faults, batch_bytes } => {
                    let mut transport = FlakyTransport { server: server.clone(), faults: faults.into() };
                    sync(&wp, &mut transport, batch_bytes);
                }
                Op::Review { pick, approve } => {
                    let stored: Vec<(Uuid, u32)> = server.lock().unwrap().versions.keys().copied().collect();
                    if !stored.is_empty() {
                        let mut stored = stored;
                        stored.sort();
                        let (id, version) = stored[pick % stored.len()];
                        server.lock().unwrap().review(id, version, approve);
                    }
                }
                Op::Restart => {
                    drop(wp);
                    wp = reopen(dir.path());
                    wp.unlock(PIN).unwrap();
                }
            }
        }

        // The network heals.
        let mut transport = FlakyTransport { server: server.clone(), faults: VecDeque::new() };
        wp.sync_once(&mut transport, DEFAULT_BATCH_BYTES, &mut |_| Ok(())).unwrap();

        prop_assert_eq!(wp.status().unwrap().pending_sync, 0, "the outbox is empty");
        let server = server.lock().unwrap();
        prop_assert_eq!(server.conflicts, 0);
        for (id, version, flagged) in &submitted {
            let times = server.times_stored.get(&(*id, *version)).copied().unwrap_or(0);
            let state = wp.sync_state(*id, *version).unwrap();
            if *flagged {
                prop_assert_eq!(times, 0);
                prop_assert!(matches!(state, Some(SyncState::NeedsAttention { .. })), "{:?}", state);
            } else {
                prop_assert_eq!(times, 1, "{} v{} stored exactly once", id, version);
                prop_assert!(matches!(state, Some(SyncState::Synced { .. })), "{:?}", state);
            }
        }
        // The last review of each version is what the device shows.
        let mut last_decision: HashMap<(Uuid, u32), EncounterStatus> = HashMap::new();
        for change in &server.feed {
            let decision: EncounterStatus = serde_json::from_value(change.body["decision"].clone()).unwrap();
            let version = change.body["version"].as_u64().unwrap() as u32;
            last_decision.insert((change.key.parse().unwrap(), version), decision);
        }
        for ((id, version), decision) in last_decision {
            prop_assert_eq!(wp.get_version(id, version).unwrap().status, decision);
        }
        wp.verify_audit().unwrap();
    }
}

#[test]
fn a_rejected_record_does_not_block_the_ones_behind_it() {
    let dir = tempfile::tempdir().unwrap();
    let wp = unlocked(dir.path());
    let mut bad = complete(wp.new_encounter().unwrap());
    bad.narrative = "REJECT".into();
    let bad = wp.submit(bad).unwrap();
    let good = wp.submit(complete(wp.new_encounter().unwrap())).unwrap();
    let server = Arc::new(Mutex::new(ModelServer::default()));
    let mut transport = FlakyTransport { server: server.clone(), faults: VecDeque::new() };
    // One record per batch: the rejected one goes first, alone.
    let report = wp.sync_once(&mut transport, 1, &mut |_| Ok(())).unwrap();
    assert_eq!((report.rejected, report.stored), (1, 1));
    assert_eq!(
        wp.sync_state(bad.id, 1).unwrap(),
        Some(SyncState::NeedsAttention { reason: "narrative flagged by the server".into() })
    );
    assert!(matches!(wp.sync_state(good.id, 1).unwrap(), Some(SyncState::Synced { .. })));
    assert_eq!(wp.status().unwrap().pending_sync, 0);
}

#[test]
fn a_lost_reply_then_a_review_then_a_retry_is_a_duplicate_not_a_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let wp = unlocked(dir.path());
    let e = wp.submit(complete(wp.new_encounter().unwrap())).unwrap();
    let server = Arc::new(Mutex::new(ModelServer::default()));
    // The push commits but its reply is lost.
    let mut transport = FlakyTransport { server: server.clone(), faults: VecDeque::from([Fault::DropReply]) };
    assert!(wp.sync_once(&mut transport, DEFAULT_BATCH_BYTES, &mut |_| Ok(())).is_err());
    // The supervisor returns it, and the device learns of that before re-pushing.
    server.lock().unwrap().review(e.id, 1, false);
    let page = server.lock().unwrap().pull(0);
    wp.apply_review(
        e.id,
        1,
        serde_json::from_value::<waypoint_protocol::ReviewResultBody>(page.changes[0].body.clone())
            .map(|b| waypoint_core::Review {
                decision: b.decision.into(),
                comment: b.comment,
                reviewer: b.reviewer,
                at: b.at,
            })
            .unwrap(),
    )
    .unwrap();
    let mut transport = FlakyTransport { server: server.clone(), faults: VecDeque::new() };
    let report = wp.sync_once(&mut transport, DEFAULT_BATCH_BYTES, &mut |_| Ok(())).unwrap();
    assert_eq!((report.duplicates, report.conflicts), (1, 0), "the outbox re-sends the version as submitted");
    assert_eq!(wp.get_version(e.id, 1).unwrap().status, EncounterStatus::Returned);
}

#[test]
fn a_reply_is_audited_once_for_its_stored_records_and_once_per_rejected_record() {
    let dir = tempfile::tempdir().unwrap();
    let wp = unlocked(dir.path());
    for _ in 0..5 {
        wp.submit(complete(wp.new_encounter().unwrap())).unwrap();
    }
    let mut bad = complete(wp.new_encounter().unwrap());
    bad.narrative = "REJECT".into();
    let bad = wp.submit(bad).unwrap();
    let server = Arc::new(Mutex::new(ModelServer::default()));
    let mut transport = FlakyTransport { server, faults: VecDeque::new() };
    let report = wp.sync_once(&mut transport, DEFAULT_BATCH_BYTES, &mut |_| Ok(())).unwrap();
    assert_eq!((report.stored, report.rejected, report.requests), (5, 1, 3), "one push, one audit-log push, one pull");
    let events: Vec<_> = wp.recent_audit(100).unwrap().into_iter().filter(|e| e.action == "sync").collect();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.iter().any(|e| e.record_id.is_none() && e.outcome == "5 stored, 0 already held"), "{events:?}");
    let rejected = format!("{} v1", bad.id);
    assert!(
        events.iter().any(|e| e.record_id.as_deref() == Some(rejected.as_str()) && e.outcome.starts_with("rejected: ")),
        "{events:?}"
    );
    wp.verify_audit().expect("the chain still verifies");
}

#[test]
fn a_failed_push_in_the_middle_leaves_the_batches_after_it_pending_and_the_next_round_sends_them() {
    let dir = tempfile::tempdir().unwrap();
    let wp = unlocked(dir.path());
    for _ in 0..6 {
        wp.submit(complete(wp.new_encounter().unwrap())).unwrap();
    }
    let server = Arc::new(Mutex::new(ModelServer::default()));
    // One record a batch, so several batches are in the pipeline when the third request is lost.
    let faults = VecDeque::from([Fault::None, Fault::None, Fault::DropRequest]);
    let mut transport = FlakyTransport { server: server.clone(), faults };
    assert!(wp.sync_once(&mut transport, 1, &mut |_| Ok(())).is_err());
    assert_eq!(wp.status().unwrap().pending_sync, 4, "the two answered batches are settled, the rest wait");
    assert_eq!(server.lock().unwrap().versions.len(), 2, "nothing was sent after the failure");
    let report = wp.sync_once(&mut transport, 1, &mut |_| Ok(())).unwrap();
    assert_eq!((report.stored, report.duplicates), (4, 0));
    assert_eq!(wp.status().unwrap().pending_sync, 0);
}

#[test]
fn a_review_the_device_cannot_apply_is_audited_and_skipped_and_the_feed_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let wp = unlocked(dir.path());
    let e = wp.submit(complete(wp.new_encounter().unwrap())).unwrap();
    let server = Arc::new(Mutex::new(ModelServer::default()));
    {
        let mut server = server.lock().unwrap();
        let bad = |seq: u64, key: &str, body: serde_json::Value| Change {
            seq,
            kind: ChangeKind::ReviewResult,
            key: key.into(),
            body,
        };
        server.feed.push(bad(1, "not-a-uuid", serde_json::json!({})));
        server.feed.push(bad(2, &e.id.to_string(), serde_json::json!({"version": 1, "decision": "maybe"})));
        server.review(e.id, 1, true); // seq 3, after the two bad ones in the same page
    }
    let mut transport = FlakyTransport { server: server.clone(), faults: VecDeque::new() };
    let report = wp.sync_once(&mut transport, DEFAULT_BATCH_BYTES, &mut |_| Ok(())).unwrap();
    assert_eq!(report.pulled, 1, "the good review applied");
    assert_eq!(wp.get_version(e.id, 1).unwrap().status, EncounterStatus::Approved);
    let skipped: Vec<_> = wp
        .recent_audit(100)
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "sync" && a.outcome.starts_with("review result"))
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(skipped.iter().any(|a| a.outcome.contains("bad id `not-a-uuid`")), "{skipped:?}");
    assert!(skipped.iter().any(|a| a.outcome.contains("maybe")), "the reason names the bad value: {skipped:?}");
    // The cursor moved past them: the next round pulls nothing.
    let again = wp.sync_once(&mut transport, DEFAULT_BATCH_BYTES, &mut |_| Ok(())).unwrap();
    assert_eq!(again.pulled, 0);
    wp.verify_audit().unwrap();
}

/// Like the HTTP transport: both batches of a pair go out at once, so the second is stored even
/// when the first is lost, and the server may take them in either order (here the second first).
struct PairTransport(FlakyTransport);

impl Transport for PairTransport {
    fn push(&mut self, request: &RawPushRequest) -> Result<PushResponse, TransportError> {
        self.0.push(request)
    }

    fn push_two(
        &mut self,
        first: &RawPushRequest,
        second: &RawPushRequest,
    ) -> [Result<PushResponse, TransportError>; 2] {
        let second = self.0.push(second);
        [self.0.push(first), second]
    }

    fn pull(&mut self, cursor: u64, max_bytes: usize) -> Result<PullResponse, TransportError> {
        self.0.pull(cursor, max_bytes)
    }

    fn push_audit(&mut self, request: &AuditPushRequest) -> Result<AuditPushResponse, TransportError> {
        self.0.push_audit(request)
    }
}

#[test]
fn with_two_pushes_in_flight_a_lost_one_is_sent_again_and_its_pair_is_settled() {
    let dir = tempfile::tempdir().unwrap();
    let wp = unlocked(dir.path());
    for _ in 0..8 {
        wp.submit(complete(wp.new_encounter().unwrap())).unwrap();
    }
    let server = Arc::new(Mutex::new(ModelServer::default()));
    // Sent second-first: the pair's later batch is answered, the earlier one is lost.
    let faults = VecDeque::from([Fault::None, Fault::DropRequest]);
    let mut transport = PairTransport(FlakyTransport { server: server.clone(), faults });
    assert!(wp.sync_once(&mut transport, 1, &mut |_| Ok(())).is_err());
    let held = server.lock().unwrap().versions.len() as u32;
    assert!(held < 8, "the lost batch is not held");
    assert_eq!(wp.status().unwrap().pending_sync as u32, 8 - held, "every record the server holds is settled");
    let report = wp.sync_once(&mut transport, 1, &mut |_| Ok(())).unwrap();
    assert_eq!((report.stored, report.duplicates), (8 - held, 0), "nothing sent twice, nothing lost");
    assert_eq!(wp.status().unwrap().pending_sync, 0);
    assert_eq!(server.lock().unwrap().versions.len(), 8);
}
