//! The agency configuration on the device: the rules a version meets, what a change orphans and
//! how a mapping reads, and a configuration pulled from the feed replacing the bundled one for
//! validation, new drafts and the status, kept across lock and restart, never replaced by an
//! older one, a malformed one skipped without stalling the feed.

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::json;
use waypoint_core::sync::{SyncError, Transport, TransportError};
use waypoint_core::vocab::{orphaned_codes, uses_of};
use waypoint_core::{AgencyConfig, Term};
use waypoint_protocol::audit::{AuditPushRequest, AuditPushResponse};
use waypoint_protocol::{
    AgencyConfigVersion, Change, ChangeKind, PullResponse, PushResponse, RawPushRequest, AGENCY_CONFIG_KEY,
};

/// A server that has only a feed: the pages given, one per pull, then nothing.
struct Feed {
    pages: Vec<Vec<Change>>,
}

impl Transport for Feed {
    fn push(&mut self, _request: &RawPushRequest) -> Result<PushResponse, TransportError> {
        Err(TransportError::Server("no push here".into()))
    }

    fn pull(&mut self, cursor: u64, _max_bytes: usize) -> Result<PullResponse, TransportError> {
        let changes: Vec<Change> = self.pages.iter().flatten().filter(|c| c.seq > cursor).cloned().collect();
        let page: Vec<Change> =
            self.pages.iter().find(|p| p.iter().any(|c| c.seq > cursor)).cloned().unwrap_or_default();
        let cursor = page.last().map_or(cursor, |c| c.seq);
        Ok(PullResponse { more: changes.len() > page.len(), changes: page, cursor })
    }

    fn push_audit(&mut self, _request: &AuditPushRequest) -> Result<AuditPushResponse, TransportError> {
        Err(TransportError::Server("no audit here".into()))
    }
}

fn pull(wp: &waypoint_core::Waypoint, pages: Vec<Vec<Change>>) -> Result<(), SyncError> {
    wp.pull_once(&mut Feed { pages }, 1 << 20, &mut |_| Ok(())).map(drop)
}

fn config_change(seq: u64, config: &AgencyConfig) -> Change {
    let body = AgencyConfigVersion { version: config.config_version, config: serde_json::to_value(config).unwrap() };
    Change {
        seq,
        kind: ChangeKind::AgencyConfig,
        key: AGENCY_CONFIG_KEY.into(),
        body: serde_json::to_value(body).unwrap(),
    }
}

/// Version 2: `text` relabelled, a new call type.
fn version_2() -> AgencyConfig {
    let mut config = AgencyConfig::demo();
    config.config_version = 2;
    let types = config.vocabularies.get_mut("call_types").unwrap();
    types.iter_mut().find(|t| t.code == "text").unwrap().label = "Text message to 911".into();
    types.push(Term { code: "mobile_app".into(), label: "Agency app".into() });
    config
}

#[test]
fn a_pulled_configuration_replaces_the_bundled_one_and_stays() {
    let dir = tempfile::tempdir().unwrap();
    let wp = unlocked(dir.path());
    assert_eq!(wp.status().unwrap().config_version, 1);
    let mut draft = complete(wp.new_encounter().unwrap());
    draft.call.call_type = Some("mobile_app".into());
    assert!(wp.check(draft.clone()).iter().any(|e| e.field.as_deref() == Some("call.call_type")), "unknown at v1");

    pull(&wp, vec![vec![config_change(1, &version_2())]]).unwrap();
    assert_eq!(wp.config(), version_2());
    assert_eq!(wp.status().unwrap().config_version, 2);
    assert_eq!(wp.sync_status().unwrap().config_version, 2);
    assert!(wp.check(draft.clone()).is_empty(), "the new code validates");
    let fresh = wp.new_encounter().unwrap();
    assert_eq!(fresh.config_version, 2, "new drafts carry the version in use");
    let submitted = wp.submit(draft).unwrap();
    assert_eq!(submitted.config_version, 2, "edited under v2");

    // Kept in the encrypted store: after lock, and after a restart of the app.
    wp.lock().unwrap();
    wp.unlock(PIN).unwrap();
    assert_eq!(wp.config().config_version, 2);
    drop(wp);
    let again = reopen(dir.path());
    assert_eq!(again.config().config_version, 1, "locked: only the bundled one is readable");
    again.unlock(PIN).unwrap();
    assert_eq!(again.config(), version_2());

    // An older version pulled later (a server restored from backup) changes nothing; a malformed
    // one is skipped, written in the audit log, and the feed goes on past it.
    let mut old = AgencyConfig::demo();
    old.agency_name = "Old name".into();
    let mut broken = config_change(3, &version_2());
    broken.body["config"]["vocabularies"]["weapons"] = json!([{"code": "", "label": "blank"}]);
    broken.body["version"] = json!(9);
    broken.body["config"]["config_version"] = json!(9);
    let mut version_3 = version_2();
    version_3.config_version = 3;
    version_3.agency_name = "Demo County Sheriff's Office (North)".into();
    pull(&again, vec![vec![config_change(2, &old), broken, config_change(4, &version_3)]]).unwrap();
    assert_eq!(again.config(), version_3);
    let log = again.recent_audit(20).unwrap();
    assert!(log.iter().any(|e| e.outcome.starts_with("agency configuration 3 skipped")), "{log:?}");
}

#[test]
fn what_a_change_orphans_and_how_a_mapping_reads() {
    let v1 = AgencyConfig::demo();
    let mut edited = v1.clone();
    edited.vocabularies.get_mut("call_types").unwrap().retain(|t| t.code != "text");
    assert_eq!(orphaned_codes(&v1, &edited), vec![("call_types".to_string(), "text".to_string())]);

    let mapping =
        BTreeMap::from([("call_types".to_string(), BTreeMap::from([("text".to_string(), "911".to_string())]))]);
    let v2 = v1.successor(edited.clone(), 2, &mapping).unwrap();
    assert_eq!(v2.config_version, 2);
    assert!(orphaned_codes(&v1, &v2).is_empty(), "mapped, so not orphaned");
    assert_eq!(v2.label("call_types", "text"), "911 call", "an old report reads with the new code's label");
    assert!(!v2.has_code("call_types", "text"), "new reports cannot use it");

    // A mapping must lead from a code no longer offered to one that is.
    for bad in [
        BTreeMap::from([(
            "call_types".to_string(),
            BTreeMap::from([("text".to_string(), "smoke_signal".to_string())]),
        )]),
        BTreeMap::from([("call_types".to_string(), BTreeMap::from([("911".to_string(), "on_view".to_string())]))]),
        BTreeMap::from([("nonsense".to_string(), BTreeMap::from([("a".to_string(), "b".to_string())]))]),
    ] {
        assert!(v1.successor(edited.clone(), 2, &bad).is_err(), "{bad:?}");
    }

    // A report's uses of codes, field by field.
    let mut report = complete(waypoint_core::Encounter::new_draft("d", "o", 1, chrono::Utc::now()));
    report.call.call_type = Some("text".into());
    report.diversion.offences_considered = vec!["trespass".into(), "theft".into()];
    let uses = uses_of(&report, &[("call_types".into(), "text".into()), ("offences".into(), "theft".into())]);
    let fields: Vec<&str> = uses.iter().map(|u| u.field.as_str()).collect();
    assert_eq!(fields, vec!["call.call_type", "diversion.offences_considered"]);
}

#[test]
fn the_rules_refuse_what_no_device_should_show() {
    let good = AgencyConfig::demo();
    let with = |change: &dyn Fn(&mut AgencyConfig)| {
        let mut c = good.clone();
        change(&mut c);
        AgencyConfig::from_value(serde_json::to_value(c).unwrap())
    };
    assert!(with(&|_| {}).is_ok());
    assert!(with(&|c| c.agency_name = " ".into()).is_err());
    assert!(with(&|c| c.agency_name = "x".repeat(201)).is_err());
    assert!(with(&|c| c.vocabularies.get_mut("genders").unwrap()[0].label = "\u{202e}evil\u{0}".into()).is_err());
    assert!(with(&|c| c.vocabularies.get_mut("genders").unwrap()[0].code = "has space".into()).is_err());
    assert!(with(&|c| c.vocabularies.get_mut("genders").unwrap()[0].label = "".into()).is_err());
    assert!(with(&|c| {
        c.vocabularies.insert("favourite_colours".into(), vec![]);
    })
    .is_err());
    assert!(with(&|c| c
        .vocabularies
        .get_mut("weapons")
        .unwrap()
        .extend((0..501).map(|i| Term { code: format!("w{i}"), label: "w".into() })))
    .is_err());
}

#[test]
fn a_pulled_device_policy_governs_the_next_pin() {
    let dir = tempfile::tempdir().unwrap();
    let wp = unlocked(dir.path());
    assert_eq!(wp.config().device_policy, waypoint_core::device_policy::DevicePolicy::default());

    // The agency asks for a PIN of 8 digits, a 5-minute lock and 5 tries.
    let mut strict = AgencyConfig::demo();
    strict.config_version = 2;
    strict.device_policy = waypoint_core::device_policy::DevicePolicy {
        auto_lock_minutes: 5,
        secret_kind: waypoint_core::device_policy::SecretKind::Pin,
        secret_min_length: 8,
        max_failed_unlocks: 5,
    };
    pull(&wp, vec![vec![config_change(1, &strict)]]).unwrap();
    assert_eq!(wp.config().device_policy, strict.device_policy);

    let field_of = |r: waypoint_core::Result<()>| match r {
        Err(waypoint_core::Error::Validation { field, message }) => (field, message),
        other => panic!("expected a refusal, got {other:?}"),
    };
    let (field, message) = field_of(wp.change_passphrase(PIN, "correct horse battery"));
    assert_eq!(field, "passphrase");
    assert!(message.contains("PIN"), "{message}");
    let (_, message) = field_of(wp.change_passphrase(PIN, "1234567"));
    assert!(message.contains("at least 8 digits"), "{message}");
    wp.change_passphrase(PIN, "20261202").unwrap();
    wp.lock().unwrap();
    assert!(wp.unlock(PIN).is_err(), "the old PIN no longer opens the store");
    wp.unlock("20261202").unwrap();

    // A policy out of bounds in a pulled version is skipped like any broken configuration.
    let mut lax = strict.clone();
    lax.config_version = 3;
    lax.device_policy.auto_lock_minutes = 240;
    pull(&wp, vec![vec![config_change(2, &lax)]]).unwrap();
    assert_eq!(wp.config().device_policy.auto_lock_minutes, 5, "the 4-hour lock was not taken");
}
