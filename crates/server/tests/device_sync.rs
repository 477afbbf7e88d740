//! The device's sync client (`waypoint_core::sync`) against a real waypoint-server over
//! HTTPS on 127.0.0.1 with its self-signed certificate: enrolment with a typed fingerprint,
//! officer sign-in, the background worker riding out a server outage, records the server
//! refuses, and directory changes from the server's feed landing in the device's directory.
//!
//! The device is a real `Waypoint` with an encrypted store in a temporary folder. Its network
//! code is blocking, so these are plain tests: the server runs on a tokio runtime of its own
//! and the device is driven from the test thread (or its own worker thread).

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use common::*;
use serde_json::Value;
use uuid::Uuid;
use waypoint_core::directory::Directory;
use waypoint_core::keys::{KdfParams, KeyFile};
use waypoint_core::store::Store;
use waypoint_core::sync::{EnrollDevice, OfficerLogin, RoundOutcome, SyncStatus};
use waypoint_core::SyncState;
use waypoint_core::{AgencyConfig, AppError, Encounter, Error, Waypoint};
use waypoint_protocol::{CapacityUpdate, Role};
use waypoint_server::store::SharedStore;
use waypoint_server::Settings;

const PASSPHRASE: &str = "482913";

/// A server store, the server's self-signed certificate, and the server itself (which can be
/// stopped and started again on the same port).
struct Agency {
    rt: tokio::runtime::Runtime,
    t: TestStore,
    _tls_dir: tempfile::TempDir,
    cert: PathBuf,
    key: PathBuf,
    server: Option<axum_server::Handle>,
    addr: SocketAddr,
}

impl Agency {
    fn start() -> Self {
        Self::start_at("127.0.0.1")
    }

    /// On another loopback address (all of 127/8 is loopback on Linux).
    fn start_at(ip: &str) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let t = rt.block_on(TestStore::new(Backend::Sqlite));
        let tls_dir = tempfile::tempdir().unwrap();
        let (cert, key) = waypoint_server::tls::certificate_files(tls_dir.path(), None, None).unwrap();
        let listener = std::net::TcpListener::bind((ip, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let mut agency = Agency { rt, t, _tls_dir: tls_dir, cert, key, server: None, addr };
        agency.serve(listener);
        agency
    }

    fn store(&self) -> &SharedStore {
        &self.t.store
    }

    fn serve(&mut self, listener: std::net::TcpListener) {
        let _guard = self.rt.enter();
        let tls = waypoint_server::tls::server_config(&self.cert, &self.key).unwrap();
        let handle = axum_server::Handle::new();
        // The directory snapshot, when a test writes one, lives beside the certificate.
        let settings =
            Settings { directory_snapshot_dir: Some(self._tls_dir.path().to_path_buf()), ..Settings::default() };
        let app = waypoint_server::app(self.t.store.clone(), settings);
        self.rt.spawn(waypoint_server::serve(listener, app, Some(tls), handle.clone()));
        self.server = Some(handle);
    }

    /// Stops the server and waits until its port refuses connections.
    fn stop(&mut self) {
        self.server.take().expect("the server is running").shutdown();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
            assert!(Instant::now() < deadline, "the server did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts the server again on the port it had (same store, same certificate).
    fn restart(&mut self) {
        assert!(self.server.is_none());
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match std::net::TcpListener::bind(self.addr) {
                Ok(listener) => break listener,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("port {} not free yet: {e}", self.addr.port());
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("cannot bind {} again: {e}", self.addr),
            }
        };
        self.serve(listener);
    }

    fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    fn fingerprint(&self) -> String {
        waypoint_server::tls::fingerprint(&self.cert).unwrap()
    }

    fn code(&self) -> String {
        self.rt.block_on(waypoint_server::auth::create_enrollment(self.store())).unwrap()
    }

    fn held(&self) -> Vec<waypoint_server::store::StoredVersion> {
        self.rt.block_on(self.store().versions_since(None)).unwrap()
    }

    /// An async HTTPS client that trusts the server's certificate only.
    fn client(&self) -> reqwest::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&std::fs::read(&self.cert).unwrap()).unwrap()])
            .build()
            .unwrap()
    }
}

impl Drop for Agency {
    fn drop(&mut self) {
        if let Some(handle) = self.server.take() {
            handle.shutdown();
        }
    }
}

fn device(dir: &Path) -> Waypoint {
    let device = Waypoint::open_with_kdf(dir, AgencyConfig::demo(), KdfParams::insecure_fast()).unwrap();
    device.setup("badge-1207", PASSPHRASE).unwrap();
    device
}

fn enroll(device: &Waypoint, agency: &Agency) -> SyncStatus {
    device
        .enroll_device(EnrollDevice {
            server_url: agency.url(),
            code: agency.code(),
            certificate_fingerprint: Some(agency.fingerprint()),
        })
        .unwrap()
}

/// The officer the test devices are set up for (`badge-1207`), as the server knows them.
const OFFICER: &str = "ofc.diaz";
const OFFICER_PASSWORD: &str = "correct horse battery";

fn add_the_officer(agency: &Agency) {
    agency.rt.block_on(add_officer(agency.store(), OFFICER, "badge-1207", Role::Officer, OFFICER_PASSWORD));
}

fn sign_in(device: &Waypoint) -> SyncStatus {
    device
        .officer_login(OfficerLogin { username: OFFICER.into(), password: OFFICER_PASSWORD.into(), totp: None })
        .unwrap()
}

/// Enrols the device and signs its officer in (added to the server first): pushes need both.
fn enroll_and_sign_in(device: &Waypoint, agency: &Agency) -> SyncStatus {
    add_the_officer(agency);
    enroll(device, agency);
    sign_in(device)
}

#[test]
fn enrolment_says_when_the_certificate_does_not_name_the_address() {
    // The certificate names localhost, 127.0.0.1 and ::1; the server answers on 127.0.0.2.
    let agency = Agency::start_at("127.0.0.2");
    let dir = tempfile::tempdir().unwrap();
    let device = device(dir.path());
    let request = |fingerprint: Option<String>| EnrollDevice {
        server_url: agency.url(),
        code: agency.code(),
        certificate_fingerprint: fingerprint,
    };
    let refused = device.enroll_device(request(Some(agency.fingerprint()))).unwrap_err();
    assert_eq!(field_of(&refused).as_deref(), Some("server_url"), "{refused}");
    let message = refused.to_string();
    assert!(message.contains("does not name `127.0.0.2`"), "{message}");
    assert!(message.contains("--tls-name 127.0.0.2"), "{message}");
    assert!(message.contains("(it names localhost, 127.0.0.1, "), "{message}");
    assert!(!device.sync_status().unwrap().enrolled, "not enrolled");
}

/// The form field an error names.
fn field_of(error: &Error) -> Option<String> {
    AppError::from(error).field
}

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

fn submit(device: &Waypoint, narrative: &str) -> Uuid {
    let draft = device.new_encounter().unwrap();
    device.submit(complete(draft, narrative)).unwrap().id
}

/// Polls `check` every 200 ms until it holds or `limit` passes.
fn wait_for(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "gave up after {limit:?} waiting for: {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn enrolment_checks_the_fingerprint_the_code_and_the_address() {
    let agency = Agency::start();
    let dir = tempfile::tempdir().unwrap();
    let device = device(dir.path());
    let right = agency.fingerprint();

    // A fingerprint that differs in one digit: refused, nothing stored.
    let first = right.chars().next().unwrap();
    let wrong = format!("{}{}", if first == '0' { '1' } else { '0' }, &right[1..]);
    let error = device
        .enroll_device(EnrollDevice {
            server_url: agency.url(),
            code: agency.code(),
            certificate_fingerprint: Some(wrong),
        })
        .unwrap_err();
    assert_eq!(field_of(&error).as_deref(), Some("certificate_fingerprint"), "{error}");
    assert!(error.to_string().contains(&right), "the message shows the certificate's real fingerprint: {error}");
    let status = device.sync_status().unwrap();
    assert!(!status.enrolled && status.server_url.is_none() && status.certificate_fingerprint.is_none(), "{status:?}");

    // A code the server never issued.
    let error = device
        .enroll_device(EnrollDevice {
            server_url: agency.url(),
            code: "NOT-A-REAL-CODE".into(),
            certificate_fingerprint: Some(right.clone()),
        })
        .unwrap_err();
    assert_eq!(field_of(&error).as_deref(), Some("code"), "{error}");
    assert!(!device.sync_status().unwrap().enrolled);

    // Plain http:// to another machine is never tried.
    for address in ["http://records.agency.example:8080", "http://10.1.2.3:8443"] {
        let error = device
            .enroll_device(EnrollDevice {
                server_url: address.into(),
                code: agency.code(),
                certificate_fingerprint: None,
            })
            .unwrap_err();
        assert_eq!(field_of(&error).as_deref(), Some("server_url"), "{address}: {error}");
    }
    // https with the self-signed certificate and no fingerprint: the system roots refuse it.
    let error = device
        .enroll_device(EnrollDevice { server_url: agency.url(), code: agency.code(), certificate_fingerprint: None })
        .unwrap_err();
    assert_eq!(field_of(&error).as_deref(), Some("server_url"), "{error}");
    assert!(!device.sync_status().unwrap().enrolled);
    assert!(
        !device.recent_audit(100).unwrap().iter().any(|e| e.action == "enroll"),
        "refused enrolments leave no enroll entry"
    );

    // The right fingerprint, typed in lower case with spaces, and a trailing slash on the address.
    let code = agency.code();
    let typed = right.to_lowercase().replace(':', " ");
    let status = device
        .enroll_device(EnrollDevice {
            server_url: format!("{}/", agency.url()),
            code: code.clone(),
            certificate_fingerprint: Some(typed),
        })
        .unwrap();
    assert!(status.enrolled, "{status:?}");
    assert_eq!(status.server_url.as_deref(), Some(agency.url().as_str()));
    assert_eq!(status.certificate_fingerprint.as_deref(), Some(right.as_str()));
    let device_id = status.device_id.clone().expect("the server's device id");
    assert_eq!(
        Some(device_id.as_str()),
        device.status().unwrap().device_id.as_deref(),
        "the server registered the device under the id it made at setup (the one its reports carry)"
    );
    assert_eq!(
        agency.rt.block_on(agency.store().device_seq(&device_id)).unwrap(),
        Some(0),
        "the server knows the device by the id the status shows"
    );
    let audit = device.recent_audit(100).unwrap();
    let entry = audit.iter().find(|e| e.action == "enroll").expect("an enroll entry in the audit log");
    assert!(entry.outcome.starts_with("ok") && entry.outcome.contains(&device_id), "{entry:?}");
    device.verify_audit().expect("the audit chain holds");

    // The pinned certificate is what later requests trust: a round works.
    match device.sync_round() {
        RoundOutcome::Synced(report) => assert_eq!(report.pushed, 0),
        other => panic!("expected a round over the pinned certificate, got {other:?}"),
    }
    assert!(device.sync_status().unwrap().last_synced_at.is_some());

    // The code was used once.
    let other_dir = tempfile::tempdir().unwrap();
    let other = self::device(other_dir.path());
    let error = other
        .enroll_device(EnrollDevice { server_url: agency.url(), code, certificate_fingerprint: Some(right.clone()) })
        .unwrap_err();
    assert_eq!(field_of(&error).as_deref(), Some("code"), "{error}");
}

#[test]
fn officer_login_names_the_password_field_or_signs_in() {
    let agency = Agency::start();
    add_the_officer(&agency);
    let dir = tempfile::tempdir().unwrap();
    let device = device(dir.path());

    let before = device
        .officer_login(OfficerLogin {
            username: "ofc.diaz".into(),
            password: "correct horse battery".into(),
            totp: None,
        })
        .unwrap_err();
    assert!(matches!(before, Error::InvalidState(_)), "sign-in needs an enrolled device: {before:?}");

    enroll(&device, &agency);
    let error = device
        .officer_login(OfficerLogin { username: "ofc.diaz".into(), password: "wrong horse".into(), totp: None })
        .unwrap_err();
    assert_eq!(field_of(&error).as_deref(), Some("password"), "{error}");
    let status = device.sync_status().unwrap();
    assert_eq!((status.signed_in_as, status.role), (None, None));

    assert!(status.needs_sign_in, "no officer credential yet");
    let status = device
        .officer_login(OfficerLogin {
            username: " ofc.diaz ".into(),
            password: "correct horse battery".into(),
            totp: None,
        })
        .unwrap();
    assert_eq!(status.signed_in_as.as_deref(), Some("ofc.diaz"), "{status:?}");
    assert_eq!(status.role.as_deref(), Some("officer"));
    assert!(status.session_expires_at.is_some());
    assert!(!status.needs_sign_in, "an officer credential for this device is held: {status:?}");
    let device_id = status.device_id.clone().unwrap();
    let credentials = agency.rt.block_on(agency.store().officer_credentials_of("ofc.diaz")).unwrap();
    assert_eq!(credentials.len(), 1);
    assert_eq!((credentials[0].device_id.as_str(), credentials[0].revoked_at), (device_id.as_str(), None));
    // Signing in again: a new credential, which supersedes the last.
    sign_in(&device);
    let credentials = agency.rt.block_on(agency.store().officer_credentials_of("ofc.diaz")).unwrap();
    let live: Vec<_> = credentials.iter().map(|c| c.revoked_at.is_none()).collect();
    assert_eq!(live, [false, true], "{credentials:?}");
    assert!(device.recent_audit(20).unwrap().iter().any(|e| e.action == "login" && e.outcome.starts_with("ok")));
}

/// A user enrolled in MFA: the password alone makes the code field appear (a `totp` field
/// error); with the code the officer is signed in.
#[test]
fn a_sign_in_that_needs_a_code_names_the_totp_field() {
    let agency = Agency::start();
    agency.rt.block_on(async {
        // Known to the server by the officer id this device was set up for.
        add_officer(agency.store(), "sgt.reyes", "badge-1207", Role::Supervisor, "correct horse battery").await;
        agency.store().set_totp("sgt.reyes", &test_totp_secret("sgt.reyes"), &[]).await.unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let device = device(dir.path());
    enroll(&device, &agency);
    let login = |totp: Option<String>| {
        device.officer_login(OfficerLogin {
            username: "sgt.reyes".into(),
            password: "correct horse battery".into(),
            totp,
        })
    };
    let error = login(None).unwrap_err();
    assert_eq!(field_of(&error).as_deref(), Some("totp"), "{error}");
    let error = login(Some("  ".into())).unwrap_err();
    assert_eq!(field_of(&error).as_deref(), Some("totp"), "a blank code is no code: {error}");
    let status = login(Some(test_totp_code("sgt.reyes"))).unwrap();
    assert_eq!(status.signed_in_as.as_deref(), Some("sgt.reyes"), "{status:?}");
}

/// A device the agency revoked is told so on its next round, and erases its reports and key
/// (a lost or stolen laptop): it is back at first-run, with the reason shown there.
#[test]
fn a_revoked_device_erases_itself_on_its_next_round() {
    let agency = Agency::start();
    let dir = tempfile::tempdir().unwrap();
    let device = device(dir.path());
    let status = enroll(&device, &agency);
    round(&device);
    // A draft typed after the last sync: lost by design once the device is revoked.
    device.new_encounter().unwrap();
    let device_id = status.device_id.unwrap();
    agency.rt.block_on(agency.store().revoke_device(&device_id, Utc::now())).unwrap();
    match device.sync_round() {
        RoundOutcome::Failed(waypoint_core::sync::TransportError::DeviceRevoked(_)) => {}
        other => panic!("expected the revocation, got {other:?}"),
    }
    let after = device.status().unwrap();
    assert!(!after.initialized && !after.unlocked, "back at first-run: {after:?}");
    assert!(after.wiped.as_ref().unwrap().reason.contains("revoked"), "{after:?}");
    for gone in ["waypoint.key", "waypoint.db", "waypoint.db-wal"] {
        assert!(!dir.path().join(gone).exists(), "{gone} is still there");
    }
    assert_eq!(device.list(Default::default()).unwrap_err().kind(), waypoint_core::ErrorKind::Locked);
}

#[test]
fn the_background_worker_rides_out_a_server_outage() {
    let mut agency = Agency::start();
    let dir = tempfile::tempdir().unwrap();
    let device = Arc::new(device(dir.path()));
    let status = enroll_and_sign_in(&device, &agency);
    assert!(status.enrolled);

    // Into the dead zone: the server goes away, then the worker starts (as at app start).
    agency.stop();
    let worker = {
        let device = Arc::clone(&device);
        std::thread::spawn(move || device.run_background_sync())
    };
    let id = submit(&device, "talked down from the railing");
    wait_for(Duration::from_secs(20), "a failed round while the server is down", || {
        let status = device.sync_status().unwrap();
        status.last_error.is_some() && status.pending == 1
    });
    let status = device.sync_status().unwrap();
    assert_eq!(status.pending, 1, "{status:?}");
    assert_eq!(status.last_synced_at, None);
    assert!(status.last_attempt_at.is_some() && status.next_attempt_at.is_some(), "{status:?}");
    assert!(status.last_error.as_deref().unwrap().contains("unreachable"), "{status:?}");
    assert_eq!(device.sync_state(id, 1).unwrap(), Some(SyncState::Pending { attempts: 0 }));
    assert!(!worker.is_finished(), "the worker survives a failed round");
    // The officer's flow does not wait for the network.
    let started = Instant::now();
    let draft = device.new_encounter().unwrap();
    device.save_draft(complete(draft, "still typing")).unwrap();
    assert!(started.elapsed() < Duration::from_secs(2), "saving took {:?}", started.elapsed());
    assert!(agency.held().is_empty());

    // Back in coverage: the worker's backoff (2 s doubling, with jitter) finds the server.
    agency.restart();
    let started = Instant::now();
    wait_for(Duration::from_secs(60), "the encounter reaching the server", || {
        agency.held().iter().any(|v| v.encounter_id == id && v.version == 1)
    });
    wait_for(Duration::from_secs(10), "the device settling the round", || {
        let status = device.sync_status().unwrap();
        status.pending == 0 && status.last_synced_at.is_some() && status.last_error.is_none()
    });
    eprintln!("synced {:?} after the server came back", started.elapsed());
    assert!(matches!(device.sync_state(id, 1).unwrap(), Some(SyncState::Synced { .. })));
    let status = device.sync_status().unwrap();
    assert_eq!((status.pending, status.needs_attention), (0, 0), "{status:?}");
    let held = agency.held();
    assert_eq!(held.len(), 1, "the draft stays on the device; the report arrives once");
    assert_eq!(held[0].body["narrative"], "talked down from the railing");
    assert_eq!(held[0].body["officer_id"], "badge-1207");
    assert_eq!(Some(held[0].device_id.as_str()), status.device_id.as_deref());
    assert_eq!(held[0].officer, OFFICER, "pushed with the officer's credential");

    // A submit while all is well reaches the server shortly after, without "Sync now".
    let second = submit(&device, "welfare check, calm");
    wait_for(Duration::from_secs(20), "a second submit reaching the server", || {
        agency.held().iter().any(|v| v.encounter_id == second)
    });
    wait_for(Duration::from_secs(10), "the second submit settled", || {
        matches!(device.sync_state(second, 1).unwrap(), Some(SyncState::Synced { .. }))
    });
    assert!(!worker.is_finished());
    // Locking the store stops sync (its credentials are inside); the worker just idles.
    device.lock().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(!worker.is_finished());
    // The app closing: the worker ends now (idle, it would wait a whole sync period otherwise).
    device.stop_background_sync();
    wait_for(Duration::from_secs(5), "the worker to end when told to stop", || worker.is_finished());
    worker.join().unwrap();
}

/// The device's own encrypted store, opened a second time (as a damaged disk or a bug would
/// leave it), to spoil one outbox record in a way only the server notices.
fn spoil_outbox_hash(dir: &Path, id: Uuid) {
    let key_file = KeyFile::read(dir).unwrap().unwrap();
    let data_key = key_file.unwrap_data_key(PASSPHRASE).unwrap();
    let store = Store::open(dir, &data_key, &key_file, &AgencyConfig::demo()).unwrap();
    let changed = store
        .connection()
        .execute(
            "UPDATE outbox SET content_hash = ?1 WHERE encounter_id = ?2",
            rusqlite::params![format!("sha256:{}", "0".repeat(64)), id.to_string()],
        )
        .unwrap();
    assert_eq!(changed, 1);
}

#[test]
fn a_refused_record_needs_attention_and_does_not_hold_back_the_next() {
    let agency = Agency::start();
    let dir = tempfile::tempdir().unwrap();
    let device = device(dir.path());
    enroll_and_sign_in(&device, &agency);
    let bad = submit(&device, "first report, spoiled on the device");
    let good = submit(&device, "second report");
    spoil_outbox_hash(dir.path(), bad);

    let report = match device.sync_round() {
        RoundOutcome::Synced(report) => report,
        other => panic!("expected a round, got {other:?}"),
    };
    assert_eq!((report.pushed, report.stored, report.rejected), (2, 1, 1), "{report:?}");
    match device.sync_state(bad, 1).unwrap() {
        Some(SyncState::NeedsAttention { reason }) => assert!(reason.contains("content hash"), "{reason}"),
        other => panic!("expected needs attention, got {other:?}"),
    }
    assert!(matches!(device.sync_state(good, 1).unwrap(), Some(SyncState::Synced { .. })));
    let status = device.sync_status().unwrap();
    assert_eq!((status.pending, status.needs_attention), (0, 1), "{status:?}");
    assert!(status.last_error.is_none() && status.last_synced_at.is_some(), "{status:?}");
    assert_eq!(status.last_report.as_ref(), Some(&report));
    let held = agency.held();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].encounter_id, good);
    // The refusal is not retried: the next round sends nothing.
    match device.sync_round() {
        RoundOutcome::Synced(again) => assert_eq!(again.pushed, 0, "{again:?}"),
        other => panic!("{other:?}"),
    }
    let audit = device.recent_audit(50).unwrap();
    assert!(audit.iter().any(|e| e.action == "sync" && e.outcome.starts_with("rejected: content hash")), "{audit:?}");
}

/// One service from the HSDS 3.0 example package, as the server's directory exports it, put at
/// a real place (the example's coordinates are out of range, so it would not be on the map) and
/// given a name nothing in the national directory has; `dropoff`: whether it takes
/// law-enforcement drop-offs, when known.
fn example_service(name: &str, dropoff: Option<bool>) -> Value {
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/hsds-3.0/examples/csv");
    let mut directory = Directory::open_in_memory().unwrap();
    directory.import_hsds_package(&examples).unwrap();
    directory.connection().execute("UPDATE service SET law_enforcement_dropoff = ?1", [dropoff]).unwrap();
    let mut services = directory.export_hsds(None).unwrap();
    assert_eq!(services.len(), 1, "the example package has one service");
    let mut service = services.remove(0);
    service["name"] = Value::String(name.into());
    let location = &mut service["service_at_locations"][0]["location"];
    location["latitude"] = serde_json::json!(30.2672);
    location["longitude"] = serde_json::json!(-97.7431);
    service
}

fn publish(agency: &Agency, services: Vec<Value>) -> waypoint_server::directory_feed::Publication {
    agency.rt.block_on(waypoint_server::directory_feed::publish(agency.store(), services)).unwrap()
}

fn round(device: &Waypoint) -> waypoint_core::sync::SyncReport {
    match device.sync_round() {
        RoundOutcome::Synced(report) => report,
        other => panic!("expected a round, got {other:?}"),
    }
}

/// What the device's directory shows of one service, without the parts that move with the clock.
fn shown(device: &Waypoint, sal_id: &str) -> Value {
    let detail = device.service_detail(sal_id.to_string(), Some((30.27, -97.74))).unwrap();
    serde_json::json!({
        "name": detail.name,
        "organization": detail.organization,
        "address": detail.address,
        "at": [detail.latitude, detail.longitude],
        "types": detail.types,
        "phones": serde_json::to_value(&detail.phones).unwrap(),
        "capacity": detail.capacity.map(|c| (c.unit, c.available, c.maximum, c.updated_at)),
    })
}

#[test]
fn directory_changes_from_the_server_reach_the_device_directory() {
    let agency = Agency::start();
    agency.rt.block_on(add_user(agency.store(), "sgt.reyes", Role::Supervisor, "another passphrase"));
    let dir = tempfile::tempdir().unwrap();
    let device = device(dir.path());
    let status = enroll(&device, &agency);
    let device_id = status.device_id.unwrap();
    let started = Instant::now();
    let national = device.prepare_directory().unwrap();
    eprintln!("national directory: {} services in {:?}", national.services, started.elapsed());
    assert!(device.search_services("Zephyrine".into()).unwrap().is_empty());
    let directory_file = dir.path().join(waypoint_core::services::DIRECTORY_FILE);
    let stats = || Directory::open(&directory_file).unwrap().stats().unwrap();
    let empty = stats();

    // A new service.
    let service = example_service("Zephyrine Crisis Stabilization Unit", None);
    let service_id = service["id"].as_str().unwrap().to_string();
    let sal_id = service["service_at_locations"][0]["id"].as_str().unwrap().to_string();
    let publication = publish(&agency, vec![service.clone()]);
    assert_eq!((publication.upserts, publication.deletes), (1, 0));
    round(&device);
    let hits = device.search_services("Zephyrine".into()).unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].service_id, service_id);
    assert_eq!(hits[0].name, "Zephyrine Crisis Stabilization Unit");
    assert_eq!(hits[0].service_at_location_id, sal_id);
    let detail = device.service_detail(sal_id.clone(), Some((30.27, -97.74))).unwrap();
    assert_eq!(detail.name, "Zephyrine Crisis Stabilization Unit");
    assert!(detail.capacity.is_none());
    let added = stats();
    assert_eq!(added.services, empty.services + 1, "{added:?}");
    assert_eq!(added.service_at_locations, empty.service_at_locations + 1);

    // The same service renamed: replaced, not duplicated.
    let renamed = example_service("Zephyrine Crisis Respite Centre", None);
    assert_eq!(publish(&agency, vec![renamed.clone()]).upserts, 1);
    round(&device);
    let hits = device.search_services("Zephyrine".into()).unwrap();
    assert_eq!(hits.len(), 1, "one service, not two: {hits:?}");
    assert_eq!(hits[0].name, "Zephyrine Crisis Respite Centre");
    assert!(device.search_services("Zephyrine Stabilization".into()).unwrap().is_empty(), "the old name is gone");
    assert_eq!(device.service_detail(sal_id.clone(), None).unwrap().name, "Zephyrine Crisis Respite Centre");
    assert_eq!(stats(), added);

    // The server learns it takes drop-offs, then no longer knows: the device follows both times.
    let dropoff = example_service("Zephyrine Crisis Respite Centre", Some(true));
    assert_eq!(publish(&agency, vec![dropoff]).upserts, 1);
    round(&device);
    assert_eq!(device.service_detail(sal_id.clone(), None).unwrap().law_enforcement_dropoff, Some(true));
    assert_eq!(publish(&agency, vec![renamed.clone()]).upserts, 1);
    round(&device);
    assert_eq!(
        device.service_detail(sal_id.clone(), None).unwrap().law_enforcement_dropoff,
        None,
        "a drop-off answer the server no longer gives is not kept"
    );

    // A capacity update through the API (a supervisor reports beds free).
    let client = agency.client();
    let token = agency.rt.block_on(async {
        let login: waypoint_protocol::LoginResponse = client
            .post(format!("{}/v1/login", agency.url()))
            .json(&serde_json::json!({"username": "sgt.reyes", "password": "another passphrase", "totp": test_totp_code("sgt.reyes")}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        login.session_token
    });
    let post_capacity = |available: i64| {
        let update = CapacityUpdate {
            id: format!("capacity-{service_id}-beds"),
            service_id: service_id.clone(),
            unit: "beds".into(),
            available,
            maximum: Some(12),
            updated_at: Utc::now().to_rfc3339(),
        };
        agency.rt.block_on(async {
            let reply = client
                .post(format!("{}/v1/directory/capacity", agency.url()))
                .bearer_auth(&token)
                .json(&update)
                .send()
                .await
                .unwrap();
            assert_eq!(reply.status(), 200);
        });
    };
    post_capacity(3);
    round(&device);
    let capacity = device.service_detail(sal_id.clone(), None).unwrap().capacity.expect("capacity on the device");
    assert_eq!((capacity.unit.as_str(), capacity.available, capacity.maximum), ("beds", 3, Some(12)), "{capacity:?}");

    // The whole feed so far applied again, twice (a page whose cursor did not commit): the
    // directory stays as it was.
    let page = agency.rt.block_on(agency.store().pull(&device_id, 0, 4 * 1024 * 1024)).unwrap();
    assert_eq!(page.changes.len(), 5, "{:?}", page.changes.iter().map(|c| c.kind).collect::<Vec<_>>());
    let exported = || Directory::open(&directory_file).unwrap().export_service(&service_id).unwrap();
    let before = (device.search_services("Zephyrine".into()).unwrap(), shown(&device, &sal_id), exported(), stats());
    device.apply_directory_changes(&page.changes).unwrap();
    device.apply_directory_changes(&page.changes).unwrap();
    let after = (device.search_services("Zephyrine".into()).unwrap(), shown(&device, &sal_id), exported(), stats());
    assert_eq!(before, after);

    // The service withdrawn: gone from search and detail.
    assert_eq!(publish(&agency, vec![]).deletes, 1);
    round(&device);
    assert!(device.search_services("Zephyrine".into()).unwrap().is_empty());
    assert!(device.service_detail(sal_id.clone(), None).is_err());
    assert_eq!(stats().services, empty.services);

    // A capacity update for the withdrawn service is skipped; the feed does not stall on it.
    post_capacity(1);
    round(&device);
    // Published again, it comes back (with no capacity: the update for it was skipped).
    assert_eq!(publish(&agency, vec![renamed]).upserts, 1);
    round(&device);
    let hits = device.search_services("Zephyrine".into()).unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert!(device.service_detail(sal_id.clone(), None).unwrap().capacity.is_none());
    let idle = round(&device);
    assert_eq!((idle.pushed, idle.pulled), (0, 0));
}

#[test]
fn saving_does_not_wait_while_a_round_applies_directory_changes() {
    let agency = Agency::start();
    let dir = tempfile::tempdir().unwrap();
    let device = Arc::new(device(dir.path()));
    enroll(&device, &agency);
    publish(&agency, vec![example_service("Zephyrine Crisis Stabilization Unit", None)]);
    // The directory is not open yet: the first directory change opens it and loads the national
    // directory (seconds), then rebuilds its search index. The officer keeps typing meanwhile.
    let mut draft = device.new_encounter().unwrap();
    let round = {
        let device = Arc::clone(&device);
        std::thread::spawn(move || device.sync_round())
    };
    let mut slowest = Duration::ZERO;
    let mut saves = 0;
    while !round.is_finished() {
        let started = Instant::now();
        draft = device.save_draft(complete(draft, &format!("still typing {saves}"))).unwrap().encounter;
        slowest = slowest.max(started.elapsed());
        saves += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(matches!(round.join().unwrap(), RoundOutcome::Synced(_)));
    assert_eq!(device.search_services("Zephyrine".into()).unwrap().len(), 1, "the round applied the change");
    eprintln!("{saves} saves during the round, the slowest took {slowest:?}");
    assert!(slowest < Duration::from_millis(750), "an autosave waited {slowest:?} for the directory");
    assert!(saves >= 5, "the round was too quick to tell ({saves} saves)");
}

#[test]
fn a_fresh_device_takes_the_directory_snapshot_then_only_the_changes_after_it() {
    let agency = Agency::start();
    let service = example_service("Quillon Withdrawal Management", Some(true));
    let sal_id = service["service_at_locations"][0]["id"].as_str().unwrap().to_string();
    let (publication, manifest) = agency
        .rt
        .block_on(waypoint_server::directory_feed::publish_with_snapshot(
            agency.store(),
            agency._tls_dir.path(),
            vec![service.clone()],
        ))
        .unwrap();
    assert_eq!(publication.upserts, 1);
    assert!(manifest.cursor > 0, "{manifest:?}");

    let dir = tempfile::tempdir().unwrap();
    let device = device(dir.path());
    enroll(&device, &agency);
    let first = round(&device);
    assert_eq!(first.snapshot_services, 1, "the first round took the snapshot: {first:?}");
    assert_eq!(shown(&device, &sal_id)["name"], "Quillon Withdrawal Management");
    assert_eq!(device.search_services("Quillon".into()).unwrap().len(), 1);
    assert!(!dir.path().join("directory-snapshot.jsonl.zst").exists(), "the downloaded file is removed once applied");

    // Later rounds pull the feed after the snapshot's position: a rename arrives, no snapshot again.
    let mut renamed = service.clone();
    renamed["name"] = Value::String("Quillon Detox and Withdrawal".into());
    assert_eq!(publish(&agency, vec![renamed]).upserts, 1);
    let second = round(&device);
    assert_eq!(second.snapshot_services, 0, "{second:?}");
    let hits = device.search_services("Quillon".into()).unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].name, "Quillon Detox and Withdrawal");
}

#[test]
fn a_fresh_device_gets_the_capacity_posted_before_its_snapshot() {
    let agency = Agency::start();
    let service = example_service("Marrowby Crisis Stabilization Unit", Some(true));
    let service_id = service["id"].as_str().unwrap().to_string();
    let sal_id = service["service_at_locations"][0]["id"].as_str().unwrap().to_string();
    let snapshot_dir = agency._tls_dir.path();
    let import = |services: Vec<Value>| {
        agency
            .rt
            .block_on(waypoint_server::directory_feed::publish_with_snapshot(agency.store(), snapshot_dir, services))
            .unwrap()
    };
    import(vec![service.clone()]);
    // Beds reported at 2 a.m., then the directory re-imported with a change: the new snapshot
    // starts after the update, so a device starting from it never pulls the update itself.
    let update = CapacityUpdate {
        id: format!("capacity-{service_id}-beds"),
        service_id: service_id.clone(),
        unit: "beds".into(),
        available: 4,
        maximum: Some(16),
        updated_at: "2026-11-29T02:00:00Z".into(),
    };
    let posted = agency
        .rt
        .block_on(agency.store().append_changes(vec![waypoint_server::store::NewChange {
            audience: waypoint_server::store::Audience::AllDevices,
            kind: waypoint_protocol::ChangeKind::CapacityUpdate,
            key: service_id.clone(),
            body: serde_json::to_value(&update).unwrap(),
        }]))
        .unwrap();
    let mut renamed = service.clone();
    renamed["name"] = Value::String("Marrowby Crisis Centre".into());
    let (_, manifest) = import(vec![renamed]);
    assert!(manifest.cursor > posted, "{manifest:?}");
    assert_eq!(manifest.capacities, 1, "{manifest:?}");

    let dir = tempfile::tempdir().unwrap();
    let device = device(dir.path());
    enroll(&device, &agency);
    let first = round(&device);
    assert_eq!(first.snapshot_services, 1, "{first:?}");
    let detail = device.service_detail(sal_id, None).unwrap();
    assert_eq!(detail.name, "Marrowby Crisis Centre");
    let capacity = detail.capacity.expect("the snapshot carries the capacity in effect");
    assert_eq!((capacity.unit.as_str(), capacity.available, capacity.maximum), ("beds", 4, Some(16)));
}

#[test]
fn without_a_directory_on_the_server_the_first_round_skips_the_snapshot() {
    let agency = Agency::start();
    let dir = tempfile::tempdir().unwrap();
    let device = device(dir.path());
    enroll(&device, &agency);
    let report = round(&device);
    assert_eq!(report.snapshot_services, 0, "{report:?}");
    assert!(device.sync_status().unwrap().last_error.is_none());
}

#[test]
fn sign_in_is_refused_when_the_server_knows_the_officer_by_another_id() {
    let agency = Agency::start();
    // The records admin typed another badge number than the one this device was set up with.
    agency.rt.block_on(add_officer(agency.store(), OFFICER, "badge-7021", Role::Officer, OFFICER_PASSWORD));
    let dir = tempfile::tempdir().unwrap();
    let device = device(dir.path());
    enroll(&device, &agency);
    let error = device
        .officer_login(OfficerLogin { username: OFFICER.into(), password: OFFICER_PASSWORD.into(), totp: None })
        .unwrap_err();
    assert_eq!(field_of(&error).as_deref(), Some("username"), "{error}");
    let message = error.to_string();
    assert!(message.contains("badge-7021") && message.contains("badge-1207"), "names both ids: {message}");
    let status = device.sync_status().unwrap();
    assert!(status.signed_in_as.is_none() && status.needs_sign_in, "{status:?}");
    // The credential the server issued for that sign-in was given back.
    let issued = agency.rt.block_on(agency.store().officer_credentials_of(OFFICER)).unwrap();
    assert_eq!(issued.len(), 1);
    assert!(issued[0].revoked_at.is_some(), "{issued:?}");
}

#[test]
fn without_a_signed_in_officer_the_device_pulls_but_does_not_push() {
    let agency = Agency::start();
    add_the_officer(&agency);
    let dir = tempfile::tempdir().unwrap();
    let device = device(dir.path());
    enroll(&device, &agency);
    let first = submit(&device, "written before anyone signed in");
    publish(&agency, vec![example_service("Zephyrine Crisis Stabilization Unit", None)]);

    let report = round(&device);
    assert_eq!(report.pushed, 0, "{report:?}");
    assert!(agency.held().is_empty());
    assert_eq!(device.search_services("Zephyrine".into()).unwrap().len(), 1, "the feed was pulled");
    let status = device.sync_status().unwrap();
    assert!(status.needs_sign_in && status.pending == 1 && status.last_error.is_none(), "{status:?}");
    assert!(status.last_synced_at.is_some(), "{status:?}");
    assert_eq!(device.sync_state(first, 1).unwrap(), Some(SyncState::Pending { attempts: 0 }));

    // Signed in, the waiting report goes with the next round.
    sign_in(&device);
    assert_eq!(round(&device).stored, 1);
    assert_eq!(agency.held().len(), 1);

    // The server revokes the officer's credential (an admin, or a sign-out elsewhere): the round
    // says "Sign in to sync", the device forgets the credential and goes on pulling.
    let device_id = device.sync_status().unwrap().device_id.unwrap();
    agency.rt.block_on(agency.store().revoke_officer_credentials(Some(OFFICER), Some(&device_id))).unwrap();
    let second = submit(&device, "written after the revocation");
    match device.sync_round() {
        RoundOutcome::Failed(waypoint_core::sync::TransportError::SignInRequired(why)) => {
            assert!(why.contains("sign in on this device"), "{why}")
        }
        other => panic!("expected a sign-in to be required, got {other:?}"),
    }
    let status = device.sync_status().unwrap();
    assert!(status.needs_sign_in, "{status:?}");
    assert!(status.last_error.as_deref().unwrap().starts_with("Sign in to sync"), "{status:?}");
    assert_eq!(round(&device).pushed, 0, "pull only until a sign-in");
    sign_in(&device);
    assert_eq!(round(&device).stored, 1);
    assert!(agency.held().iter().any(|v| v.encounter_id == second));

    // Signing out on the device revokes the credential on the server.
    let status = device.officer_sign_out().unwrap();
    assert!(status.signed_in_as.is_none() && status.needs_sign_in, "{status:?}");
    let credentials = agency.rt.block_on(agency.store().officer_credentials_of(OFFICER)).unwrap();
    assert!(credentials.iter().all(|c| c.revoked_at.is_some()), "{credentials:?}");
}

/// The device's own audit log travels after its records (`POST /v1/sync/audit`) and lands on the
/// server as the same chain; a log cut back and written again on the device (as restoring an old
/// backup of its store would) still verifies on the device, but the server sees the break.
#[test]
fn the_device_audit_log_reaches_the_server_and_a_rewritten_one_is_flagged() {
    let agency = Agency::start();
    let dir = tempfile::tempdir().unwrap();
    let device = device(dir.path());
    let device_id = enroll(&device, &agency).device_id.expect("enrolled");
    add_the_officer(&agency);
    sign_in(&device);
    submit(&device, "a report for the audit log");
    let first = round(&device);
    assert!(first.audit_pushed > 0 && first.audit_chain_breaks == 0, "{first:?}");
    round(&device);
    let local = device.verify_audit().unwrap();
    let held =
        agency.rt.block_on(agency.store().device_audit_status(&device_id)).unwrap().expect("the server holds the log");
    assert_eq!((held.last_seq, held.last_hash.as_str()), (local.entries, local.head_hash.as_str()), "{held:?}");
    assert!(held.breaks.is_empty());

    // Cut the device's log back to row 2 and forget what was pushed, then write on.
    let key_file = KeyFile::read(dir.path()).unwrap().unwrap();
    let data_key = key_file.unwrap_data_key(PASSPHRASE).unwrap();
    let store = Store::open(dir.path(), &data_key, &key_file, &AgencyConfig::demo()).unwrap();
    let conn = store.connection();
    let hash2: String = conn.query_row("SELECT hash FROM audit_log WHERE seq = 2", [], |r| r.get(0)).unwrap();
    conn.execute_batch(&format!(
        "DELETE FROM audit_log WHERE seq > 2;
         UPDATE meta SET value = '2:{hash2}' WHERE key = 'audit_head';
         UPDATE meta SET value = '2' WHERE key = 'audit_pushed_seq';"
    ))
    .unwrap();
    drop(store);
    assert!(device.verify_audit().is_ok(), "the cut log is consistent on its own");
    submit(&device, "written after the cut");
    let after = round(&device);
    assert_eq!(after.audit_chain_breaks, 1, "{after:?}");
    let held = agency.rt.block_on(agency.store().device_audit_status(&device_id)).unwrap().unwrap();
    assert_eq!(held.breaks.len(), 1, "{held:?}");
    assert!(held.breaks[0].contains("row 3"), "{held:?}");
    let trail = agency.rt.block_on(agency.store().audit_rows(0, 1000)).unwrap();
    assert!(trail.iter().any(|r| r.action == "device_audit_break" && r.actor == device_id), "{trail:?}");
}

/// An admin's session on the agency's server (over HTTPS, with the admin's TOTP code).
fn admin_session(agency: &Agency) -> String {
    const ADMIN: &str = "admin.okafor";
    const PASSWORD: &str = "a long admin password";
    agency.rt.block_on(add_user(agency.store(), ADMIN, Role::Admin, PASSWORD));
    let reply = agency
        .rt
        .block_on(
            agency
                .client()
                .post(format!("{}/v1/login", agency.url()))
                .json(&serde_json::json!({"username": ADMIN, "password": PASSWORD, "totp": test_totp_code(ADMIN)}))
                .send(),
        )
        .unwrap();
    assert_eq!(reply.status(), 200);
    agency.rt.block_on(reply.json::<waypoint_protocol::LoginResponse>()).unwrap().session_token
}

/// Saves `config` as the next version through `PUT /v1/admin/config`; returns the version.
fn save_config(agency: &Agency, admin: &str, config: &AgencyConfig) -> u32 {
    let reply = agency
        .rt
        .block_on(
            agency
                .client()
                .put(format!("{}/v1/admin/config", agency.url()))
                .bearer_auth(admin)
                .json(&serde_json::json!({"config": config}))
                .send(),
        )
        .unwrap();
    assert_eq!(reply.status(), 200);
    agency.rt.block_on(reply.json::<waypoint_protocol::AgencyConfigSaved>()).unwrap().version
}

fn device_config_version(agency: &Agency, device_id: &str) -> Option<u32> {
    let held = agency.rt.block_on(agency.store().device_config_versions()).unwrap();
    held.into_iter().find(|v| v.device_id == device_id).map(|v| v.config_version)
}

#[test]
fn a_changed_label_reaches_the_device_and_the_server_learns_its_version() {
    let agency = Agency::start();
    let admin = admin_session(&agency);
    let dir = tempfile::tempdir().unwrap();
    let device = device(dir.path());
    let status = enroll_and_sign_in(&device, &agency);
    let device_id = status.device_id.clone().unwrap();
    round(&device);
    assert_eq!(device.config().config_version, 1);
    assert_eq!(device_config_version(&agency, &device_id), Some(1), "the pull said which version it uses");

    // The admin relabels a call type and adds a disposition, once, on the server.
    let mut edited = AgencyConfig::demo();
    edited.vocabularies.get_mut("call_types").unwrap().iter_mut().find(|t| t.code == "text").unwrap().label =
        "Text message to 911".into();
    edited.vocabularies.get_mut("dispositions").unwrap().push(waypoint_core::Term {
        code: "mobile_crisis_handoff".into(),
        label: "Handed to the mobile crisis team".into(),
    });
    assert_eq!(save_config(&agency, &admin, &edited), 2);

    // The device's next round brings it: labels, validation and new drafts use it at once.
    round(&device);
    let config = device.config();
    assert_eq!(config.config_version, 2);
    assert_eq!(config.label("call_types", "text"), "Text message to 911");
    assert_eq!(device.status().unwrap().config_version, 2, "what the settings screen shows");
    let mut draft = complete(device.new_encounter().unwrap(), "handed over to the mobile team");
    assert_eq!(draft.config_version, 2);
    draft.dispositions = vec!["mobile_crisis_handoff".into()];
    let id = device.submit(draft).unwrap().id;
    round(&device);
    let held = agency.held();
    let stored = held.iter().find(|v| v.encounter_id == id).expect("the report reached the server");
    assert_eq!(stored.body["config_version"], 2);
    assert_eq!(stored.body["dispositions"][0], "mobile_crisis_handoff");
    assert_eq!(device_config_version(&agency, &device_id), Some(2), "the admin's device list can show it");

    // Kept in the device's encrypted store across a restart of the app.
    drop(device);
    let reopened = Waypoint::open_with_kdf(dir.path(), AgencyConfig::demo(), KdfParams::insecure_fast()).unwrap();
    reopened.unlock(PASSWORD_OF_DEVICE).unwrap();
    assert_eq!(reopened.config().label("call_types", "text"), "Text message to 911");
}

const PASSWORD_OF_DEVICE: &str = PASSPHRASE;

#[test]
fn a_fresh_device_takes_the_configuration_saved_before_its_snapshot() {
    let agency = Agency::start();
    let admin = admin_session(&agency);
    let mut edited = AgencyConfig::demo();
    edited.agency_name = "Demo County Sheriff's Office, North Precinct".into();
    assert_eq!(save_config(&agency, &admin, &edited), 2);
    // The directory is published after: the snapshot's cursor is past the configuration change.
    let (_, manifest) = agency
        .rt
        .block_on(waypoint_server::directory_feed::publish_with_snapshot(
            agency.store(),
            agency._tls_dir.path(),
            vec![example_service("Quillon Withdrawal Management", Some(true))],
        ))
        .unwrap();
    let feed = agency.rt.block_on(agency.store().pull("nobody", 0, 1 << 20)).unwrap();
    let config_seq = feed.changes.iter().find(|c| c.kind == waypoint_protocol::ChangeKind::AgencyConfig).unwrap().seq;
    assert!(manifest.cursor > config_seq, "the snapshot skips the change");

    let dir = tempfile::tempdir().unwrap();
    let device = device(dir.path());
    enroll(&device, &agency);
    let first = round(&device);
    assert_eq!(first.snapshot_services, 1);
    assert_eq!(device.config().config_version, 2, "taken from GET /v1/agency/config with the snapshot");
    assert_eq!(device.status().unwrap().agency_name, "Demo County Sheriff's Office, North Precinct");
}
