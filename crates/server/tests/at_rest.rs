//! Encryption at rest and on the wire: the SQLite database is SQLCipher with a key made at `init`
//! (a plaintext database from an earlier version is encrypted in place), the data folder is 0700
//! and its files 0600, a pushed narrative is found in no file of it; PostgreSQL over TLS when the
//! URL says `sslmode=require|verify-ca|verify-full`.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;
use waypoint_protocol::Role;
use waypoint_server::database_key::DatabaseKey;
use waypoint_server::postgres_store::PostgresStore;
use waypoint_server::sqlite_store::SqliteStore;
use waypoint_server::store::UserRecord;

fn server_cli(data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_waypoint-server"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("WAYPOINT_DATABASE")
        .env_remove("WAYPOINT_DATABASE_KEY_FILE")
        .output()
        .unwrap()
}

fn ok(output: std::process::Output) -> String {
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// The server process, killed and reaped however the test ends.
struct Serving(std::process::Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The real server, as an operator runs it: init, directory import, serve; a device enrolls and
/// pushes a report whose narrative is a sentinel; no file of the data folder holds it, the
/// database does not start with SQLite's plaintext header, and every file is the owner's alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pushed_narrative_is_in_no_file_of_the_data_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = ok(server_cli(&data, &["init"]));
    assert!(out.contains("database key:"), "{out}");
    let hsds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/hsds-3.0/examples/csv");
    ok(server_cli(&data, &["directory", "import", "--hsds", hsds.to_str().unwrap()]));
    let code = ok(server_cli(&data, &["device", "enroll"])).trim().to_string();
    let mut add_officer = Command::new(env!("CARGO_BIN_EXE_waypoint-server"))
        .arg("--data-dir")
        .arg(&data)
        .args(["user", "add", "--username", "ofc.diaz", "--role", "officer", "--password-stdin"])
        .env("RUST_LOG", "warn")
        .env_remove("WAYPOINT_DATABASE")
        .env_remove("WAYPOINT_DATABASE_KEY_FILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(add_officer.stdin.as_mut().unwrap(), b"an officer passphrase\n").unwrap();
    drop(add_officer.stdin.take());
    ok(add_officer.wait_with_output().unwrap());

    let mut server = Serving(
        Command::new(env!("CARGO_BIN_EXE_waypoint-server"))
            .arg("--data-dir")
            .arg(&data)
            .args(["serve", "--no-tls", "--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .env_remove("WAYPOINT_DATABASE")
            .env_remove("WAYPOINT_DATABASE_KEY_FILE")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(server.0.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected: {line}")).to_string();
    let client = http_client();
    let enrolled: waypoint_protocol::EnrollResponse = client
        .post(format!("{url}/v1/enroll"))
        .json(&serde_json::json!({"code": code}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The officer signs in on the device: their credential goes with the push.
    let signed_in: waypoint_protocol::LoginResponse = client
        .post(format!("{url}/v1/login"))
        .bearer_auth(&enrolled.device_token)
        .json(&serde_json::json!({"username": "ofc.diaz", "password": "an officer passphrase"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sentinel = "SENTINEL-narrative-7f3c9a-he said the voices told him to";
    let push = waypoint_protocol::PushRequest {
        records: vec![record_by(uuid::Uuid::now_v7(), 1, 1, sentinel, "ofc.diaz", &enrolled.device_id)],
    };
    let reply = client
        .post(format!("{url}/v1/sync/push"))
        .bearer_auth(&enrolled.device_token)
        .header(OFFICER, signed_in.officer_token.unwrap())
        .json(&push)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let reply: waypoint_protocol::PushResponse = reply.json().await.unwrap();
    assert_eq!(reply.acks[0].status, waypoint_protocol::AckStatus::Stored);

    // While the server runs (the report is in the WAL) and after it is killed.
    for moment in ["while serving", "after a kill"] {
        let files = files_under(&data);
        let names: Vec<String> = files.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
        for expected in ["waypoint.sqlite", "database.key", "key.pem", "cert.pem"] {
            assert!(names.iter().any(|n| n == expected), "{expected} in {names:?}");
        }
        assert!(names.iter().any(|n| n.starts_with("directory-snapshot")), "{names:?}");
        if moment == "while serving" {
            assert!(names.iter().any(|n| n == "waypoint.sqlite-wal"), "the WAL is checked too: {names:?}");
        }
        for file in &files {
            let bytes = std::fs::read(file).unwrap();
            assert!(
                !bytes.windows(sentinel.len()).any(|w| w == sentinel.as_bytes()),
                "{moment}: the narrative is readable in {}",
                file.display()
            );
            assert!(!bytes.windows(8).any(|w| w == b"SENTINEL"), "{moment}: part of it in {}", file.display());
            #[cfg(unix)]
            assert_eq!(mode(file), 0o600, "{moment}: {} is {:o}", file.display(), mode(file));
        }
        let header = std::fs::read(data.join("waypoint.sqlite")).unwrap();
        assert!(!header.starts_with(b"SQLite format 3"), "the database file is not plaintext SQLite");
        #[cfg(unix)]
        {
            assert_eq!(mode(&data), 0o700);
            assert_eq!(mode(&data.join("tls")), 0o700);
        }
        if moment == "while serving" {
            server.0.kill().unwrap();
            server.0.wait().unwrap();
        }
    }

    // The database does not open without its key, and says what is missing.
    std::fs::rename(data.join("database.key"), tmp.path().join("moved.key")).unwrap();
    let refused = server_cli(&data, &["audit", "verify"]);
    assert!(!refused.status.success());
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("encrypted but its key file") && why.contains("database.key"), "{why}");
    let moved = tmp.path().join("moved.key");
    let with_flag = server_cli(&data, &["--database-key-file", moved.to_str().unwrap(), "audit", "verify"]);
    assert!(ok(with_flag).contains("audit trail intact"), "the key named by --database-key-file opens it");
    let wrong = tmp.path().join("wrong.key");
    DatabaseKey::generate().write_new(&wrong).unwrap();
    let refused = server_cli(&data, &["--database-key-file", wrong.to_str().unwrap(), "audit", "verify"]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("does not open with this database key"), "{refused:?}");
}

/// A database from before encryption: plaintext, the first schema, a user in it. Opening it with
/// a key encrypts it in place and keeps what it held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plaintext_database_from_an_earlier_version_is_encrypted_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.sqlite");
    let first_schema =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite/0001_init.sql")).unwrap();
    {
        let plain = rusqlite::Connection::open(&path).unwrap();
        plain.execute_batch("PRAGMA page_size = 8192; PRAGMA journal_mode = WAL;").unwrap();
        plain.execute_batch(&first_schema).unwrap();
        plain
            .execute(
                "INSERT INTO users (username, role, password_hash, created_at) VALUES ('old.timer', 'officer', 'phc', 'then')",
                [],
            )
            .unwrap();
    }
    assert!(std::fs::read(&path).unwrap().starts_with(b"SQLite format 3"));
    let key = DatabaseKey::generate();
    let store: waypoint_server::store::SharedStore = std::sync::Arc::new(SqliteStore::open(&path, &key).unwrap());
    store.migrate().await.unwrap();
    assert!(!std::fs::read(&path).unwrap().starts_with(b"SQLite format 3"), "encrypted now");
    let user = store.user("old.timer").await.unwrap().expect("the user survived the encryption");
    assert_eq!(user.role, Role::Officer);
    store
        .add_user(UserRecord {
            username: "new.hire".into(),
            officer_id: "new.hire".into(),
            role: Role::Officer,
            password_hash: "phc".into(),
        })
        .await
        .unwrap();
    drop(store);
    let again = SqliteStore::open(&path, &key).unwrap();
    drop(again);
    let wrong = SqliteStore::open(&path, &DatabaseKey::generate()).err().expect("another key does not open it");
    assert!(wrong.to_string().contains("does not open with this database key"), "{wrong}");
    assert!(!dir.path().join("server.encrypting").exists(), "no leftover");
}

// --- PostgreSQL over TLS: the local server has ssl=on with Debian's self-signed "snakeoil"
// certificate for CN=localhost (/etc/ssl/certs/ssl-cert-snakeoil.pem). ----------------------------

const SNAKEOIL: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";

fn with_query(url: &str, query: &str) -> String {
    format!("{url}{}{query}", if url.contains('?') { "&" } else { "?" })
}

async fn backend_uses_tls(store: &PostgresStore) -> bool {
    let client = store.pool().get().await.unwrap();
    client.query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[]).await.unwrap().get(0)
}

#[tokio::test]
async fn sslmode_require_connects_over_tls() {
    let store = PostgresStore::connect(&with_query(&postgres_url(), "sslmode=require"), None).await.unwrap();
    assert!(backend_uses_tls(&store).await, "pg_stat_ssl says the connection is encrypted");
    let plain = PostgresStore::connect(&postgres_url(), None).await.unwrap();
    assert!(!backend_uses_tls(&plain).await, "without sslmode the connection is plain TCP");
}

#[tokio::test]
async fn sslmode_verify_full_refuses_an_untrusted_certificate() {
    // Against the system roots (the local certificate names localhost, not 127.0.0.1, at least).
    let refused =
        PostgresStore::connect(&with_query(&postgres_url(), "sslmode=verify-full"), None).await.err().unwrap();
    let message = refused.to_string();
    assert!(
        message.contains("cannot connect to PostgreSQL") && message.contains("invalid peer certificate"),
        "{message}"
    );
    // Against a root that did not issue it, by the name it holds.
    let other_root = rcgen::generate_simple_self_signed(vec!["some other authority".to_string()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root_file = dir.path().join("other-root.pem");
    std::fs::write(&root_file, other_root.cert.pem()).unwrap();
    let by_name = with_query(&postgres_url().replace("@127.0.0.1:", "@localhost:"), "hostaddr=127.0.0.1");
    let url = with_query(&by_name, &format!("sslmode=verify-full&sslrootcert={}", root_file.display()));
    let message = PostgresStore::connect(&url, None).await.err().unwrap().to_string();
    assert!(message.contains("invalid peer certificate: UnknownIssuer"), "the reason is named: {message}");
}

#[tokio::test]
async fn sslmode_verify_full_checks_the_host_name_against_a_named_root() {
    assert!(Path::new(SNAKEOIL).exists(), "the local PostgreSQL's certificate");
    let rooted = |url: &str, mode: &str| with_query(url, &format!("sslmode={mode}&sslrootcert={SNAKEOIL}"));
    // 127.0.0.1 is not the name in the certificate (localhost): verify-full refuses, verify-ca takes it.
    let wrong_name = PostgresStore::connect(&rooted(&postgres_url(), "verify-full"), None).await.err().unwrap();
    assert!(wrong_name.to_string().contains("not valid for name \"127.0.0.1\""), "{wrong_name}");
    let chain_only = PostgresStore::connect(&rooted(&postgres_url(), "verify-ca"), None).await.unwrap();
    assert!(backend_uses_tls(&chain_only).await);
    // The name the certificate holds, still reached at 127.0.0.1 (hostaddr).
    let by_name = with_query(&postgres_url().replace("@127.0.0.1:", "@localhost:"), "hostaddr=127.0.0.1");
    let verified = PostgresStore::connect(&rooted(&by_name, "verify-full"), None).await.unwrap();
    assert!(backend_uses_tls(&verified).await);
}
