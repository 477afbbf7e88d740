//! The agency configuration on the server, over HTTP, on both stores: version 1 is the bundled
//! file; an admin's change is checked by the core's rules, refused with the reports while they
//! use a code it removes (unless mapped), numbered, audited, kept in the history and broadcast in
//! the pull feed; each device's reported version is kept.

mod common;

use std::collections::BTreeMap;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;
use waypoint_core::AgencyConfig;
use waypoint_protocol::{
    AgencyConfigCheck, AgencyConfigRecord, AgencyConfigSaved, AgencyConfigVersion, ChangeKind, CodesInUse, ErrorBody,
    Role, AGENCY_CONFIG_KEY, CONFIG_VERSION_HEADER,
};
use waypoint_server::validation::check_records;
use waypoint_server::Settings;

on_both_stores!(
    a_change_is_checked_numbered_audited_and_broadcast,
    codes_in_use_are_refused_unless_mapped,
    the_device_policy_is_bounded_and_delivered
);

const ADMIN: &str = "admin.lee";
const PASSWORD: &str = "a long admin password";

struct Desk {
    t: TestStore,
    server: TestServer,
    client: reqwest::Client,
    admin: String,
}

async fn desk(backend: Backend) -> Desk {
    let t = TestStore::new(backend).await;
    add_user(&t.store, ADMIN, Role::Admin, PASSWORD).await;
    let server = TestServer::start(t.store.clone(), Settings::default()).await;
    let client = http_client();
    let admin = login(&client, &server, ADMIN, PASSWORD).await;
    Desk { t, server, client, admin }
}

impl Desk {
    async fn current(&self, token: &str) -> AgencyConfigVersion {
        let reply = self.client.get(self.server.url("/v1/agency/config")).bearer_auth(token).send().await.unwrap();
        assert_eq!(reply.status(), 200);
        reply.json().await.unwrap()
    }

    async fn save(&self, body: Value) -> reqwest::Response {
        self.client.put(self.server.url("/v1/admin/config")).bearer_auth(&self.admin).json(&body).send().await.unwrap()
    }

    async fn save_ok(&self, body: Value) -> AgencyConfigSaved {
        let reply = self.save(body).await;
        let status = reply.status();
        let text = reply.text().await.unwrap();
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    async fn refused(&self, body: Value, status: StatusCode) -> ErrorBody {
        let reply = self.save(body).await;
        assert_eq!(reply.status(), status);
        reply.json().await.unwrap()
    }
}

fn relabel(config: &mut AgencyConfig, vocabulary: &str, code: &str, label: &str) {
    let term = config.vocabularies.get_mut(vocabulary).unwrap().iter_mut().find(|t| t.code == code).unwrap();
    term.label = label.into();
}

fn without(config: &mut AgencyConfig, vocabulary: &str, code: &str) {
    config.vocabularies.get_mut(vocabulary).unwrap().retain(|t| t.code != code);
}

async fn a_change_is_checked_numbered_audited_and_broadcast(backend: Backend) {
    let d = desk(backend).await;
    let (device_id, device_token) = enroll_device(&d.t.store).await;

    // Version 1 is the bundled file, for a device and any user alike.
    let first = d.current(&device_token).await;
    assert_eq!(first.version, 1);
    assert_eq!(AgencyConfig::from_value(first.config.clone()).unwrap(), AgencyConfig::demo());
    assert_eq!(d.current(&d.admin).await, first);

    // A relabel and a new code: version 2, whatever number the body carries.
    let mut edited = AgencyConfig::demo();
    edited.config_version = 77;
    relabel(&mut edited, "call_types", "text", "Text message to 911");
    edited.vocabularies.get_mut("dispositions").unwrap().push(waypoint_core::Term {
        code: "mobile_crisis_handoff".into(),
        label: "Handed to the mobile crisis team".into(),
    });
    let saved = d.save_ok(json!({"config": edited, "base_version": 1, "note": "SMS wording"})).await;
    assert_eq!(saved.version, 2);
    let now = AgencyConfig::from_value(d.current(&device_token).await.config).unwrap();
    assert_eq!(now.config_version, 2);
    assert_eq!(now.label("call_types", "text"), "Text message to 911");
    assert!(now.has_code("dispositions", "mobile_crisis_handoff"));

    // Every device gets it in its pull feed, at the position the reply gave.
    let feed = d.t.store.pull(&device_id, 0, 1 << 20).await.unwrap();
    let change = feed.changes.iter().find(|c| c.kind == ChangeKind::AgencyConfig).expect("a configuration change");
    assert_eq!(change.seq, saved.feed_seq);
    assert_eq!(change.key, AGENCY_CONFIG_KEY);
    let body: AgencyConfigVersion = serde_json::from_value(change.body.clone()).unwrap();
    assert_eq!(body.version, 2);
    assert_eq!(AgencyConfig::from_value(body.config).unwrap(), now);

    // Made from version 1 again: stale, nothing saved.
    let stale = d.refused(json!({"config": edited, "base_version": 1}), StatusCode::PRECONDITION_FAILED).await;
    assert_eq!(stale.error, "stale_config");

    // The core's rules, and hostile input: 422 each, nothing saved.
    let mut repeated = now.clone();
    repeated
        .vocabularies
        .get_mut("weapons")
        .unwrap()
        .push(waypoint_core::Term { code: "knife".into(), label: "x".into() });
    let mut control = now.clone();
    relabel(&mut control, "genders", "other", "Other\u{7}\u{1b}[31m");
    let mut long_code = now.clone();
    long_code
        .vocabularies
        .get_mut("offences")
        .unwrap()
        .push(waypoint_core::Term { code: "x".repeat(5000), label: "x".into() });
    let mut bad_required = now.clone();
    bad_required.required_on_submit.push("subject.name'; DROP TABLE users; --".into());
    let mut missing = serde_json::to_value(&now).unwrap();
    missing["vocabularies"].as_object_mut().unwrap().remove("weapons");
    let mut unknown = serde_json::to_value(&now).unwrap();
    unknown["vocabularies"]["<script>alert(1)</script>"] = json!([]);
    for (what, config) in [
        ("a repeated code", serde_json::to_value(&repeated).unwrap()),
        ("a control character", serde_json::to_value(&control).unwrap()),
        ("a 5000-character code", serde_json::to_value(&long_code).unwrap()),
        ("an unknown required field", serde_json::to_value(&bad_required).unwrap()),
        ("a missing vocabulary", missing),
        ("an unknown vocabulary", unknown),
        ("not a configuration", json!({"agency_name": 7})),
        ("a number", json!(12)),
    ] {
        let refusal = d.refused(json!({"config": config}), StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(refusal.error, "invalid", "{what}: {}", refusal.message);
    }
    let mapping_to_nothing = json!({"config": now, "mapping": {"weapons": {"knife": "spoon"}}});
    assert_eq!(d.refused(mapping_to_nothing, StatusCode::UNPROCESSABLE_ENTITY).await.error, "invalid");
    assert_eq!(d.current(&device_token).await.version, 2, "nothing refused was saved");

    // The history, newest first, with who and the note.
    let history: Vec<AgencyConfigRecord> = d
        .client
        .get(d.server.url("/v1/admin/config/versions"))
        .bearer_auth(&d.admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(history.iter().map(|r| r.version).collect::<Vec<_>>(), vec![2, 1]);
    assert_eq!(history[0].saved_by, ADMIN);
    assert_eq!(history[0].note.as_deref(), Some("SMS wording"));
    assert_eq!(history[1].saved_by, "init");

    // Audited: the save, and each refusal.
    let trail = d.t.store.audit_rows(0, 10_000).await.unwrap();
    let saves: Vec<_> = trail.iter().filter(|r| r.action == "agency_config_saved").collect();
    assert!(saves.iter().any(|r| r.outcome == "ok"
        && r.actor == ADMIN
        && r.detail.as_deref().unwrap().contains("1 codes added, 1 relabelled")));
    assert!(saves.iter().filter(|r| r.outcome == "failed").count() >= 9, "{saves:?}");

    // A pull carries the version the device uses; the server keeps it per device (a garbage
    // header is ignored, the pull still works).
    for (header, expect) in [("2", Some(2)), ("not a number", Some(2)), ("1", Some(1))] {
        let reply = d
            .client
            .get(d.server.url("/v1/sync/pull?cursor=0"))
            .bearer_auth(&device_token)
            .header(CONFIG_VERSION_HEADER, header)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
        let held = d.t.store.device_config_versions().await.unwrap();
        let version = held.iter().find(|v| v.device_id == device_id).map(|v| v.config_version);
        assert_eq!(version, expect, "after `{header}`");
    }
    // The admin's device list shows it.
    let devices: Vec<waypoint_protocol::DeviceInfo> = d
        .client
        .get(d.server.url("/v1/admin/devices"))
        .bearer_auth(&d.admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = devices.iter().find(|device| device.device_id == device_id).expect("the device is listed");
    assert_eq!(listed.config_version, Some(1), "{listed:?}");
}

async fn codes_in_use_are_refused_unless_mapped(backend: Backend) {
    let d = desk(backend).await;
    let officer = signed_in_device(&d.t.store, "ofc.ramos").await;
    // Two reports: one texted in and arrested, one on view.
    let ids = [Uuid::now_v7(), Uuid::now_v7()];
    let mut records = Vec::new();
    for (i, (call_type, dispositions)) in
        [("text", vec!["arrested", "referral_made"]), ("on_view", vec!["referral_made"])].into_iter().enumerate()
    {
        let mut record = officer.record(ids[i], 1, i as u64 + 1, "report");
        record.body["call"]["call_type"] = json!(call_type);
        record.body["dispositions"] = json!(dispositions);
        records.push(waypoint_protocol::PushRecord::new(ids[i], 1, i as u64 + 1, record.body));
    }
    let acks = d.t.store.push(&officer.pusher(), check_records(records)).await.unwrap();
    assert!(acks.acks.iter().all(|a| a.status == waypoint_protocol::AckStatus::Stored), "{acks:?}");

    // Removing `text` and `arrested` (both used) and `unable_to_contact` (unused): refused, with
    // the reports that use them.
    let mut edited = AgencyConfig::demo();
    without(&mut edited, "call_types", "text");
    without(&mut edited, "dispositions", "arrested");
    without(&mut edited, "dispositions", "unable_to_contact");
    // The console asks first: what would this change do?
    let check: AgencyConfigCheck = d
        .client
        .post(d.server.url("/v1/admin/config/check"))
        .bearer_auth(&d.admin)
        .json(&json!({"config": edited}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(check.version, 2);
    assert_eq!(check.removed.len(), 3, "{check:?}");
    assert_eq!(check.codes_in_use.len(), 2);
    assert_eq!(check.total, 2);
    let reply = d.save(json!({"config": edited})).await;
    assert_eq!(reply.status(), 409);
    let refusal: CodesInUse = reply.json().await.unwrap();
    assert_eq!(refusal.error, "codes_in_use");
    assert_eq!(refusal.total, 2);
    let named: Vec<(String, String)> = refusal.codes.iter().map(|c| (c.vocabulary.clone(), c.code.clone())).collect();
    assert_eq!(named, vec![("call_types".into(), "text".into()), ("dispositions".into(), "arrested".into())]);
    assert!(refusal.reports.iter().all(|r| r.encounter_id == ids[0] && r.version == 1), "{:?}", refusal.reports);
    let fields: Vec<&str> = refusal.reports.iter().map(|r| r.field.as_str()).collect();
    assert_eq!(fields, vec!["call.call_type", "dispositions"]);
    assert!(refusal.message.contains("call_types.text"), "{}", refusal.message);
    // A narrative that mentions a code is not a use of it: `on_view` is in the other report's
    // body as a call type only.
    assert_eq!(d.current(&d.admin).await.version, 1);

    // A mapping for one of them is not enough.
    let half = json!({"config": edited, "mapping": {"call_types": {"text": "911"}}});
    let reply = d.save(half).await;
    assert_eq!(reply.status(), 409);
    let refusal: CodesInUse = reply.json().await.unwrap();
    assert_eq!(refusal.codes.len(), 1);
    assert_eq!(refusal.codes[0].code, "arrested");

    // Mapping both: saved. Stored reports keep their codes; the old code reads with its new
    // code's label on every device.
    let mapping: BTreeMap<&str, BTreeMap<&str, &str>> = BTreeMap::from([
        ("call_types", BTreeMap::from([("text", "911")])),
        ("dispositions", BTreeMap::from([("arrested", "referral_made")])),
    ]);
    let saved = d.save_ok(json!({"config": edited, "mapping": mapping})).await;
    assert_eq!(saved.version, 2);
    let now = AgencyConfig::from_value(d.current(&d.admin).await.config).unwrap();
    assert!(!now.has_code("call_types", "text"), "not offered for new reports");
    assert_eq!(now.label("call_types", "text"), "911 call");
    assert_eq!(now.current_code("dispositions", "arrested"), "referral_made");
    let held = d.t.store.versions_since(None).await.unwrap();
    let first = held.iter().find(|v| v.encounter_id == ids[0]).unwrap();
    assert_eq!(first.body["call"]["call_type"], "text", "the stored report is not rewritten");

    // Later: `911` is renamed to `emergency` (a chain: text -> 911 -> emergency), mapped too.
    let mut next = now.clone();
    next.vocabularies.get_mut("call_types").unwrap()[0].code = "emergency".into();
    let unmapped = d.save(json!({"config": next})).await;
    assert_eq!(unmapped.status(), 409, "`text` (mapped to 911) is used: dropping 911 orphans it");
    let saved = d.save_ok(json!({"config": next, "mapping": {"call_types": {"911": "emergency"}}})).await;
    assert_eq!(saved.version, 3);
    let now = AgencyConfig::from_value(d.current(&d.admin).await.config).unwrap();
    assert_eq!(now.current_code("call_types", "text"), "emergency");
    assert_eq!(now.label("call_types", "text"), "911 call");
}

async fn the_device_policy_is_bounded_and_delivered(backend: Backend) {
    use waypoint_core::device_policy::{DevicePolicy, SecretKind};
    let d = desk(backend).await;
    let (device_id, _device_token) = enroll_device(&d.t.store).await;
    let first = AgencyConfig::from_value(d.current(&d.admin).await.config).unwrap();
    assert_eq!(first.device_policy, DevicePolicy::default(), "version 1: the bundled defaults");

    // Out of bounds: 422 naming the policy's field, nothing saved.
    for (field, policy) in [
        ("device_policy.auto_lock_minutes", DevicePolicy { auto_lock_minutes: 45, ..DevicePolicy::default() }),
        ("device_policy.auto_lock_minutes", DevicePolicy { auto_lock_minutes: 0, ..DevicePolicy::default() }),
        (
            "device_policy.secret_min_length",
            DevicePolicy { secret_kind: SecretKind::Passphrase, secret_min_length: 6, ..DevicePolicy::default() },
        ),
        ("device_policy.max_failed_unlocks", DevicePolicy { max_failed_unlocks: 1000, ..DevicePolicy::default() }),
    ] {
        let mut config = first.clone();
        config.device_policy = policy;
        let refusal = d.refused(json!({"config": config}), StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(refusal.error, "invalid");
        assert_eq!(refusal.field.as_deref(), Some(field), "{}", refusal.message);
    }
    // Not a kind the core knows: the body does not parse.
    let mut unknown = serde_json::to_value(&first).unwrap();
    unknown["device_policy"]["secret_kind"] = json!("fingerprint");
    let refusal = d.refused(json!({"config": unknown}), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(refusal.field.as_deref(), Some("config"), "{}", refusal.message);

    // Within bounds: version 2, audited as a policy change, in every device's feed.
    let strict = DevicePolicy {
        auto_lock_minutes: 5,
        secret_kind: SecretKind::Pin,
        secret_min_length: 8,
        max_failed_unlocks: 5,
    };
    let mut config = first.clone();
    config.device_policy = strict.clone();
    let saved = d.save_ok(json!({"config": config, "base_version": 1, "note": "CJIS audit"})).await;
    assert_eq!(saved.version, 2);
    let feed = d.t.store.pull(&device_id, 0, 1 << 20).await.unwrap();
    let change = feed.changes.iter().find(|c| c.kind == ChangeKind::AgencyConfig).expect("a configuration change");
    let body: AgencyConfigVersion = serde_json::from_value(change.body.clone()).unwrap();
    assert_eq!(AgencyConfig::from_value(body.config).unwrap().device_policy, strict);
    let trail = d.t.store.audit_rows(0, 10_000).await.unwrap();
    assert!(
        trail.iter().any(|r| r.action == "agency_config_saved"
            && r.outcome == "ok"
            && r.detail.as_deref().unwrap().contains("device policy changed")),
        "the save is audited as a policy change"
    );
}
