//! The admin CLI, run as the built binary against both stores.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::*;
use uuid::Uuid;
use waypoint_protocol::Role;
use waypoint_server::store::Pusher;
use waypoint_server::validation::check_records;

on_both_stores!(admin_commands_work_end_to_end, serve_listens_and_answers, user_and_device_administration);

fn cli(t: &TestStore, data_dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_waypoint-server"))
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--database")
        .arg(database_arg(t))
        .args(key_file_arg(t))
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

async fn admin_commands_work_end_to_end(backend: Backend) {
    let t = TestStore::new(backend).await;
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path();

    let out = ok(cli(&t, data_dir, &["init", "--tls-name", "waypoint.lan"], ""));
    assert!(out.contains("initialized"), "{out}");
    assert!(out.contains("certificate names: localhost, 127.0.0.1, ::1, waypoint.lan"), "{out}");
    assert!(data_dir.join("tls/cert.pem").exists() && data_dir.join("tls/key.pem").exists());
    // init again with the same name keeps the certificate; a name it lacks is refused, with the way out.
    ok(cli(&t, data_dir, &["init", "--tls-name", "waypoint.lan"], ""));
    let refused = cli(&t, data_dir, &["init", "--tls-name", "10.0.0.5"], "");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not 10.0.0.5"), "{refused:?}");

    let out = ok(cli(
        &t,
        data_dir,
        &["user", "add", "--username", "sgt.reyes", "--role", "supervisor", "--password-stdin"],
        "a long passphrase\n",
    ));
    assert!(out.contains("added supervisor sgt.reyes"), "{out}");
    let user = t.store.user("sgt.reyes").await.unwrap().unwrap();
    assert_eq!(user.role, Role::Supervisor);
    assert!(waypoint_server::auth::verify_password("a long passphrase", &user.password_hash));
    let bad_role = cli(
        &t,
        data_dir,
        &["user", "add", "--username", "x", "--role", "chief", "--password-stdin"],
        "a long passphrase\n",
    );
    assert!(!bad_role.status.success());
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("not a role"));
    let short =
        cli(&t, data_dir, &["user", "add", "--username", "y", "--role", "officer", "--password-stdin"], "short\n");
    assert!(!short.status.success(), "a short password is refused");
    let taken = cli(
        &t,
        data_dir,
        &["user", "add", "--username", "sgt.reyes", "--role", "admin", "--password-stdin"],
        "a long passphrase\n",
    );
    assert!(!taken.status.success(), "a taken username is refused");
    assert_eq!(t.store.user("sgt.reyes").await.unwrap().unwrap().officer_id, "sgt.reyes", "by default the username");
    let out = ok(cli(
        &t,
        data_dir,
        &["user", "add", "--username", "ofc.diaz", "--role", "officer", "--officer-id", "1207", "--password-stdin"],
        "a long passphrase\n",
    ));
    assert!(out.contains("added officer ofc.diaz (officer id 1207)"), "{out}");
    assert_eq!(t.store.user("ofc.diaz").await.unwrap().unwrap().officer_id, "1207");
    let same_badge = cli(
        &t,
        data_dir,
        &["user", "add", "--username", "ofc.other", "--role", "officer", "--officer-id", "1207", "--password-stdin"],
        "a long passphrase\n",
    );
    assert!(!same_badge.status.success(), "an officer id already taken is refused");

    let code = ok(cli(&t, data_dir, &["device", "enroll"], "")).trim().to_string();
    assert_eq!(code.len(), 14, "{code}");
    let code_hash = waypoint_server::auth::enrollment_code_hash(&code);
    assert!(t.store.redeem_enrollment(&code_hash, chrono::Utc::now(), "dev-cli", "token-hash").await.unwrap());

    let ids = [Uuid::now_v7(), Uuid::now_v7()];
    let records = vec![
        record(ids[0], 1, 1, "first, with a \"quote\""),
        record(ids[0], 2, 2, "amended"),
        record(ids[1], 1, 3, "second"),
    ];
    t.store.push(&Pusher::officer("dev-cli", "badge-1"), check_records(records)).await.unwrap();
    let json = ok(cli(&t, data_dir, &["export", "encounters", "--format", "json"], ""));
    let exported: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    assert_eq!(exported.len(), 3);
    assert!(exported.iter().any(|v| v["encounter_id"] == ids[0].to_string() && v["version"] == 2));
    let csv_text = ok(cli(&t, data_dir, &["export", "encounters", "--format", "csv", "--since", "2000-01-01"], ""));
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    assert_eq!(&reader.headers().unwrap()[0], "encounter_id");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    let body: serde_json::Value = serde_json::from_str(&rows[0][9]).unwrap();
    assert_eq!(body["narrative"], "first, with a \"quote\"", "quotes and commas survive CSV");
    let none = ok(cli(&t, data_dir, &["export", "encounters", "--format", "csv", "--since", "2999-01-01"], ""));
    assert_eq!(none.lines().count(), 1, "only the header: {none}");
    assert!(!cli(&t, data_dir, &["export", "encounters", "--format", "csv", "--since", "yesterday"], "")
        .status
        .success());

    let hsds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/hsds-3.0/examples/csv");
    let out = ok(cli(&t, data_dir, &["directory", "import", "--hsds", hsds.to_str().unwrap()], ""));
    assert!(out.contains("published 1 changes and 0 removals"), "{out}");
    let manifest = waypoint_server::snapshot::read_manifest(data_dir).unwrap().expect("import writes the snapshot");
    assert_eq!(manifest.services, 1);
    assert!(manifest.cursor >= 1, "the snapshot reflects the published change");
    let snapshot_file = std::fs::read(data_dir.join(&manifest.file)).unwrap();
    assert_eq!(waypoint_server::snapshot::decode(&snapshot_file).unwrap().len(), 1);
    let again = ok(cli(&t, data_dir, &["directory", "import", "--hsds", hsds.to_str().unwrap()], ""));
    assert!(again.contains("published 0 changes"), "a re-import publishes nothing: {again}");
    let feed = t.store.pull("dev-cli", 0, 1 << 20).await.unwrap();
    assert_eq!(feed.changes.len(), 1);
    assert_eq!(feed.changes[0].kind, waypoint_protocol::ChangeKind::DirectoryUpsert);
    assert!(feed.changes[0].body["name"].is_string(), "an HSDS service document");
    let neither = cli(&t, data_dir, &["directory", "import"], "");
    assert!(!neither.status.success(), "one of --samhsa or --hsds is required");
}

async fn serve_listens_and_answers(backend: Backend) {
    let t = TestStore::new(backend).await;
    let data = tempfile::tempdir().unwrap();
    // Plain HTTP off loopback: refused with what to do, unless a TLS proxy is said to stand in front.
    let mut refused = Command::new(env!("CARGO_BIN_EXE_waypoint-server"))
        .arg("--data-dir")
        .arg(data.path())
        .arg("--database")
        .arg(database_arg(&t))
        .args(key_file_arg(&t))
        .args(["serve", "--no-tls", "--listen", "0.0.0.0:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A server that starts instead of refusing would never exit: give it 10 s.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while refused.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    if refused.try_wait().unwrap().is_none() {
        refused.kill().unwrap();
        panic!("plain HTTP on every interface was served, not refused");
    }
    let refused = refused.wait_with_output().unwrap();
    assert!(!refused.status.success(), "plain HTTP on every interface must be refused");
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("unencrypted") && why.contains("--behind-tls-proxy"), "{why}");
    let mut proxied = Command::new(env!("CARGO_BIN_EXE_waypoint-server"))
        .arg("--data-dir")
        .arg(data.path())
        .arg("--database")
        .arg(database_arg(&t))
        .args(key_file_arg(&t))
        .args(["serve", "--no-tls", "--behind-tls-proxy", "--listen", "0.0.0.0:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(proxied.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    proxied.kill().unwrap();
    proxied.wait().unwrap();
    assert!(line.starts_with("listening on http://0.0.0.0:"), "{line}");

    let mut child = Command::new(env!("CARGO_BIN_EXE_waypoint-server"))
        .arg("--data-dir")
        .arg(data.path())
        .arg("--database")
        .arg(database_arg(&t))
        .args(key_file_arg(&t))
        .args(["serve", "--no-tls", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected: {line}")).to_string();
    let health: serde_json::Value =
        http_client().get(format!("{url}/v1/health")).send().await.unwrap().json().await.unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let expected = if backend == Backend::Sqlite { "sqlite" } else { "postgres" };
    assert_eq!(health["store"], expected);
}

/// `user list|disable|enable|reset-password|reset-mfa|unlock` and `device list|revoke`.
async fn user_and_device_administration(backend: Backend) {
    let t = TestStore::new(backend).await;
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path();
    add_user(&t.store, "sgt.reyes", Role::Supervisor, "a long passphrase").await;
    add_user(&t.store, "officer.kim", Role::Officer, "a long passphrase").await;
    let now = chrono::Utc::now();
    for _ in 0..5 {
        t.store.record_failed_sign_in("officer.kim", now, 5, now + chrono::Duration::minutes(30)).await.unwrap();
    }
    let (device_id, _) = enroll_device(&t.store).await;
    let account = |username: &'static str| {
        let store = t.store.clone();
        async move { store.user_account(username).await.unwrap().unwrap() }
    };

    let list = ok(cli(&t, data_dir, &["user", "list"], ""));
    let kim = list.lines().find(|l| l.starts_with("officer.kim\t")).unwrap_or_else(|| panic!("{list}"));
    assert!(kim.contains("\tofficer\tyes\tuntil ") && kim.contains("\tnone\t"), "{kim}");
    let reyes = list.lines().find(|l| l.starts_with("sgt.reyes\t")).unwrap();
    assert!(reyes.contains("\tsupervisor\tyes\tno\tenrolled\t"), "{reyes}");

    ok(cli(&t, data_dir, &["user", "unlock", "officer.kim"], ""));
    assert!(!account("officer.kim").await.is_locked(chrono::Utc::now()));
    ok(cli(&t, data_dir, &["user", "disable", "officer.kim"], ""));
    assert!(!account("officer.kim").await.enabled);
    ok(cli(&t, data_dir, &["user", "enable", "officer.kim"], ""));
    assert!(account("officer.kim").await.enabled);
    ok(cli(&t, data_dir, &["user", "reset-password", "officer.kim", "--password-stdin"], "a new long passphrase\n"));
    assert!(waypoint_server::auth::verify_password(
        "a new long passphrase",
        &account("officer.kim").await.password_hash
    ));
    assert!(!cli(&t, data_dir, &["user", "reset-password", "officer.kim", "--password-stdin"], "short\n")
        .status
        .success());
    ok(cli(&t, data_dir, &["user", "reset-mfa", "sgt.reyes"], ""));
    assert_eq!(account("sgt.reyes").await.totp_secret, None);
    for command in ["disable", "enable", "unlock", "reset-mfa"] {
        let missing = cli(&t, data_dir, &["user", command, "nobody"], "");
        assert!(!missing.status.success(), "{command} of an unknown user");
        assert!(String::from_utf8_lossy(&missing.stderr).contains("nobody"), "{missing:?}");
    }

    let devices = ok(cli(&t, data_dir, &["device", "list"], ""));
    let row = devices.lines().find(|l| l.starts_with(&device_id)).unwrap_or_else(|| panic!("{devices}"));
    assert!(row.ends_with("\t-"), "not revoked: {row}");
    ok(cli(&t, data_dir, &["device", "revoke", &device_id], ""));
    let devices = ok(cli(&t, data_dir, &["device", "list"], ""));
    let row = devices.lines().find(|l| l.starts_with(&device_id)).unwrap();
    assert!(!row.ends_with("\t-"), "revoked: {row}");
    assert!(t.store.devices().await.unwrap()[0].revoked_at.is_some());
    assert!(!cli(&t, data_dir, &["device", "revoke", "no-such-device"], "").status.success());
}
