//! End to end: a real core `Waypoint` on a device syncs with a real server over HTTPS on
//! 127.0.0.1 (self-signed certificate, pinned by the device). Encounters submitted while the
//! server is unreachable stay pending, reach the server when it is there, amendments follow, and
//! a supervisor's review comes back and changes the encounter's status on the device.

mod common;

use common::*;
use waypoint_core::keys::KdfParams;
use waypoint_core::sync::http::{self, HttpConfig, HttpTransport};
use waypoint_core::sync::{SyncError, TransportError};
use waypoint_core::SyncState;
use waypoint_core::{AgencyConfig, Encounter, EncounterStatus, Waypoint};
use waypoint_protocol::Role;
use waypoint_protocol::DEFAULT_BATCH_BYTES;
use waypoint_server::Settings;

on_both_stores!(a_device_syncs_offline_work_and_receives_reviews);

/// Fills every field the demo agency requires (as the core's tests do).
fn complete(mut e: Encounter, narrative: &str) -> Encounter {
    e.call.call_type = Some("911".into());
    e.call.nature_of_call = Some("man on bridge railing".into());
    e.crisis_natures = vec!["unknown".into()];
    e.behaviours = vec!["suicide_threat".into(), "hopeless_depressed".into()];
    e.dispositions = vec!["transport_crisis_centre".into()];
    e.diversion.custody_diverted = Some(true);
    e.narrative = narrative.into();
    e
}

fn no_directory(_: &[waypoint_protocol::Change]) -> waypoint_core::Result<()> {
    Ok(())
}

async fn a_device_syncs_offline_work_and_receives_reviews(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_user(&t.store, "sgt.reyes", Role::Supervisor, "another passphrase").await;
    add_officer(&t.store, "ofc.diaz", "badge-1207", Role::Officer, "a long passphrase").await;
    let tls_dir = tempfile::tempdir().unwrap();
    let (cert, key) = waypoint_server::tls::certificate_files(tls_dir.path(), None, None).unwrap();
    let tls = waypoint_server::tls::server_config(&cert, &key).unwrap();
    let server = TestServer::start_with_tls(t.store.clone(), Settings::default(), Some(tls)).await;
    let code = waypoint_server::auth::create_enrollment(&t.store).await.unwrap();
    let online = HttpConfig {
        pinned_certificate_pem: Some(std::fs::read(&cert).unwrap()),
        ..HttpConfig::new(format!("https://localhost:{}", server.addr.port()))
    };
    // A port nobody listens on: the server as seen from a dead zone.
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let offline = HttpConfig { base_url: format!("https://127.0.0.1:{dead_port}"), ..online.clone() };

    let device_dir = tempfile::tempdir().unwrap();
    let device_path = device_dir.path().to_path_buf();
    // The core's HTTP client is blocking: the device runs on a plain thread.
    let (device, transport, ids) = tokio::task::spawn_blocking(move || {
        let device = Waypoint::open_with_kdf(&device_path, AgencyConfig::demo(), KdfParams::insecure_fast()).unwrap();
        device.setup("badge-1207", "482913").unwrap();
        let mut ids = Vec::new();
        for narrative in ["talked down from the railing", "welfare check, calm", "transported voluntarily"] {
            let draft = device.new_encounter().unwrap();
            ids.push(device.submit(complete(draft, narrative)).unwrap().id);
        }
        let own_id = device.status().unwrap().device_id.expect("made at setup");
        let enrolled = http::enroll(&online, &code, Some(&own_id)).unwrap();
        assert_eq!(enrolled.device_id, own_id, "enrolled under the id its reports carry");
        // The officer signs in on the device: their credential on it is what pushes carry.
        let credentials = waypoint_protocol::LoginRequest {
            username: "ofc.diaz".into(),
            password: "a long passphrase".into(),
            totp: None,
        };
        let signed_in = http::login(&online, Some(&enrolled.device_token), &credentials).unwrap();
        assert_eq!(signed_in.officer_id, "badge-1207");
        let officer_token = signed_in.officer_token.expect("an officer credential");

        // Without it, the push is refused and nothing is lost.
        let mut anonymous = HttpTransport::new(&online, &enrolled.device_token).unwrap();
        match device.sync_once(&mut anonymous, DEFAULT_BATCH_BYTES, &mut no_directory) {
            Err(SyncError::Transport(TransportError::SignInRequired(why))) => assert!(why.contains("sign in"), "{why}"),
            other => panic!("expected a sign-in to be required, got {other:?}"),
        }
        assert_eq!(device.status().unwrap().pending_sync, 3);

        let mut unreachable =
            HttpTransport::new(&offline, &enrolled.device_token).unwrap().with_officer(&officer_token);
        match device.sync_once(&mut unreachable, DEFAULT_BATCH_BYTES, &mut no_directory) {
            Err(SyncError::Transport(TransportError::Unreachable(_))) => {}
            other => panic!("expected the server to be unreachable, got {other:?}"),
        }
        assert_eq!(device.status().unwrap().pending_sync, 3, "nothing lost while offline");
        assert_eq!(device.sync_state(ids[0], 1).unwrap(), Some(SyncState::Pending { attempts: 0 }));

        let mut transport = HttpTransport::new(&online, &enrolled.device_token).unwrap().with_officer(&officer_token);
        let report = device.sync_once(&mut transport, DEFAULT_BATCH_BYTES, &mut no_directory).unwrap();
        assert_eq!((report.pushed, report.stored), (3, 3), "{report:?}");
        assert_eq!(device.status().unwrap().pending_sync, 0);
        assert!(matches!(device.sync_state(ids[0], 1).unwrap(), Some(SyncState::Synced { .. })));
        assert!(transport.counters.bytes_up > 0 && transport.counters.requests >= 2);

        // An amendment of the first report.
        let amendment = device.amend(ids[0]).unwrap();
        let mut amendment = complete(amendment, "talked down from the railing; hospital: St. Mary's");
        amendment.incident_number = Some("24-118".into());
        device.submit(amendment).unwrap();
        let report = device.sync_once(&mut transport, DEFAULT_BATCH_BYTES, &mut no_directory).unwrap();
        assert_eq!(report.stored, 1, "{report:?}");
        // A second round with nothing to do sends no record.
        let idle = device.sync_once(&mut transport, DEFAULT_BATCH_BYTES, &mut no_directory).unwrap();
        assert_eq!((idle.pushed, idle.pulled), (0, 0));
        (device, transport, ids)
    })
    .await
    .unwrap();

    let held = t.store.versions_since(None).await.unwrap();
    assert_eq!(held.len(), 4, "three reports and one amendment, each once");
    let amended = held.iter().find(|v| v.encounter_id == ids[0] && v.version == 2).unwrap();
    assert_eq!(amended.body["incident_number"], "24-118");
    assert_eq!(amended.body["officer_id"], "badge-1207");
    assert!(held.iter().all(|v| v.officer == "ofc.diaz"), "each version stored as the signed-in officer's");

    // A supervisor approves the amendment and returns the second report.
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&std::fs::read(&cert).unwrap()).unwrap()])
        .build()
        .unwrap();
    let base = format!("https://localhost:{}", server.addr.port());
    let login: waypoint_protocol::LoginResponse = client
        .post(format!("{base}/v1/login"))
        .json(&serde_json::json!({"username": "sgt.reyes", "password": "another passphrase", "totp": test_totp_code("sgt.reyes")}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for review in [
        serde_json::json!({"encounter_id": ids[0], "version": 2, "decision": "approved"}),
        serde_json::json!({"encounter_id": ids[1], "version": 1, "decision": "returned", "comment": "add the subject's age"}),
    ] {
        let reply = client
            .post(format!("{base}/v1/reviews"))
            .bearer_auth(&login.session_token)
            .json(&review)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200, "{}", reply.text().await.unwrap());
    }

    let checked = ids.clone();
    let (device, transport) = tokio::task::spawn_blocking(move || {
        let ids = checked;
        let mut transport = transport;
        let report = device.sync_once(&mut transport, DEFAULT_BATCH_BYTES, &mut no_directory).unwrap();
        assert_eq!(report.pulled, 2, "{report:?}");
        let approved = device.get(ids[0]).unwrap().current;
        assert_eq!((approved.version, approved.status), (2, EncounterStatus::Approved));
        let returned = device.get(ids[1]).unwrap().current;
        assert_eq!(returned.status, EncounterStatus::Returned);
        assert_eq!(returned.review.unwrap().comment.as_deref(), Some("add the subject's age"));
        assert_eq!(device.get(ids[2]).unwrap().current.status, EncounterStatus::Submitted, "not reviewed yet");
        (device, transport)
    })
    .await
    .unwrap();
    // The page with the decisions was sent; the device confirms it applied it on its next pull.
    let delivered = |review: waypoint_protocol::EncounterReview| {
        review.versions.last().unwrap().decisions.iter().map(|d| d.delivered_at.is_some()).collect::<Vec<_>>()
    };
    assert_eq!(delivered(t.store.encounter_review(ids[1]).await.unwrap().unwrap()), [false]);

    let again = tokio::task::spawn_blocking(move || {
        let mut transport = transport;
        // Pulled once only: the stored cursor moved past them.
        device.sync_once(&mut transport, DEFAULT_BATCH_BYTES, &mut no_directory).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(again.pulled, 0);
    for id in [ids[0], ids[1]] {
        assert_eq!(
            delivered(t.store.encounter_review(id).await.unwrap().unwrap()),
            [true],
            "the console shows it delivered"
        );
    }
}
