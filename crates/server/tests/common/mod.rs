#![allow(dead_code)]
//! Test helpers: a fresh store of either kind, a running server on 127.0.0.1, encounter bodies.
//!
//! PostgreSQL tests use the server at `WAYPOINT_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/test`), each in a schema of its own that is dropped
//! afterwards. If PostgreSQL is unreachable they fail: CI has it, and a skip would hide a
//! broken store.

pub mod webhook_receiver;

use std::net::SocketAddr;
use std::sync::Arc;

use chrono::Utc;
use serde_json::Value;
use uuid::Uuid;
use waypoint_core::{Encounter, EncounterStatus};
use waypoint_protocol::{PushRecord, Role};
use waypoint_server::database_key::DatabaseKey;
use waypoint_server::postgres_store::PostgresStore;
use waypoint_server::sqlite_store::SqliteStore;
use waypoint_server::store::{SharedStore, UserRecord};
use waypoint_server::Settings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn postgres_url() -> String {
    std::env::var("WAYPOINT_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A store that cleans up after itself (the schema is dropped even if the test panics).
pub struct TestStore {
    pub store: SharedStore,
    pub backend: Backend,
    pub schema: Option<String>,
    pub dir: tempfile::TempDir,
    /// The SQLite database's key (unused on PostgreSQL).
    pub key: DatabaseKey,
}

impl TestStore {
    pub async fn new(backend: Backend) -> Self {
        let t = Self::unmigrated(backend).await;
        t.store.migrate().await.unwrap();
        t
    }

    /// An empty database, not migrated yet (for migration tests).
    pub async fn unmigrated(backend: Backend) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let key = DatabaseKey::generate();
        let (store, schema): (SharedStore, Option<String>) = match backend {
            Backend::Sqlite => (Arc::new(SqliteStore::open(&dir.path().join("server.sqlite"), &key).unwrap()), None),
            Backend::Postgres => {
                let schema = format!("t_{}", Uuid::now_v7().simple());
                let (client, connection) = tokio_postgres::connect(&postgres_url(), tokio_postgres::NoTls)
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL at {} is required for these tests: {e}", postgres_url()));
                tokio::spawn(connection);
                client.batch_execute(&format!("CREATE SCHEMA {schema}")).await.unwrap();
                let store = PostgresStore::connect(&postgres_url(), Some(&schema)).await.unwrap();
                (Arc::new(store), Some(schema))
            }
        };
        TestStore { store, backend, schema, dir, key }
    }

    pub fn sqlite_path(&self) -> std::path::PathBuf {
        self.dir.path().join("server.sqlite")
    }

    /// A second connection to the SQLite database, keyed (to inspect or tamper beside the store).
    pub fn sqlite_connection(&self) -> rusqlite::Connection {
        waypoint_server::sqlite_store::open_keyed(&self.sqlite_path(), &self.key).unwrap()
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        let Some(schema) = self.schema.take() else { return };
        // Drop runs inside the test's runtime: use a thread with its own.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                if let Ok((client, connection)) = tokio_postgres::connect(&postgres_url(), tokio_postgres::NoTls).await
                {
                    tokio::spawn(connection);
                    let _ = client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).await;
                }
            });
        })
        .join()
        .unwrap();
    }
}

/// A submitted encounter version as JSON, with `narrative`.
pub fn encounter_body(id: Uuid, version: u32, narrative: &str) -> Value {
    encounter_body_by(id, version, narrative, "badge-1", "device-test")
}

/// [`encounter_body`] written by `officer_id` on `device_id`.
pub fn encounter_body_by(id: Uuid, version: u32, narrative: &str, officer_id: &str, device_id: &str) -> Value {
    let mut encounter = Encounter::new_draft(device_id, officer_id, 1, Utc::now());
    encounter.id = id;
    encounter.version = version;
    encounter.supersedes = (version > 1).then(|| version - 1);
    encounter.status = EncounterStatus::Submitted;
    encounter.submitted_at = Some(Utc::now());
    encounter.narrative = narrative.to_string();
    serde_json::to_value(encounter).unwrap()
}

pub fn record(id: Uuid, version: u32, seq: u64, narrative: &str) -> PushRecord {
    PushRecord::new(id, version, seq, encounter_body(id, version, narrative))
}

/// [`record`] written by `officer_id` on `device_id`.
pub fn record_by(id: Uuid, version: u32, seq: u64, narrative: &str, officer_id: &str, device_id: &str) -> PushRecord {
    PushRecord::new(id, version, seq, encounter_body_by(id, version, narrative, officer_id, device_id))
}

/// An enrolled device with an officer signed in on it (credentials made through the store).
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub device_id: String,
    pub device_token: String,
    pub username: String,
    pub officer_id: String,
    pub officer_token: String,
}

impl SignedIn {
    /// A record this officer wrote on this device.
    pub fn record(&self, id: Uuid, version: u32, seq: u64, narrative: &str) -> PushRecord {
        record_by(id, version, seq, narrative, &self.officer_id, &self.device_id)
    }

    /// Who the store is told pushed (as the push handler would).
    pub fn pusher(&self) -> waypoint_server::store::Pusher {
        waypoint_server::store::Pusher {
            device_id: self.device_id.clone(),
            username: self.username.clone(),
            officer_id: self.officer_id.clone(),
            may_amend_others: false,
        }
    }
}

/// Issues `username` an officer credential on `device_id` straight through the store; returns
/// the token.
pub async fn officer_credential(store: &SharedStore, username: &str, device_id: &str) -> String {
    let token = waypoint_server::identity::new_officer_token();
    store.add_officer_credential(&waypoint_server::auth::token_hash(&token), username, device_id).await.unwrap();
    token
}

/// Signs `username` (an existing user whose officer id is `officer_id`) in on `device`.
pub async fn sign_in_on(store: &SharedStore, device: &(String, String), username: &str, officer_id: &str) -> SignedIn {
    SignedIn {
        device_id: device.0.clone(),
        device_token: device.1.clone(),
        username: username.into(),
        officer_id: officer_id.into(),
        officer_token: officer_credential(store, username, &device.0).await,
    }
}

/// A new device with a new officer (officer id = username) signed in on it.
pub async fn signed_in_device(store: &SharedStore, username: &str) -> SignedIn {
    add_user(store, username, Role::Officer, "a long passphrase").await;
    let device = enroll_device(store).await;
    sign_in_on(store, &device, username, username).await
}

/// The officer-credential header a push carries.
pub const OFFICER: &str = waypoint_protocol::OFFICER_CREDENTIAL_HEADER;

/// Enrolls a device straight through the store; returns (device id, device token).
pub async fn enroll_device(store: &SharedStore) -> (String, String) {
    let device_id = Uuid::now_v7().to_string();
    let token = enroll_device_as(store, &device_id).await;
    (device_id, token)
}

/// Enrolls a device under `device_id` (the id a real device made at setup) straight through the
/// store; returns its token.
pub async fn enroll_device_as(store: &SharedStore, device_id: &str) -> String {
    let code = waypoint_server::auth::create_enrollment(store).await.unwrap();
    let token = waypoint_server::auth::new_device_token();
    let hash = waypoint_server::auth::token_hash(&token);
    let code_hash = waypoint_server::auth::enrollment_code_hash(&code);
    assert!(store.redeem_enrollment(&code_hash, Utc::now(), device_id, &hash).await.unwrap());
    token
}

/// Adds a user whose officer id is their username. Supervisors and admins must use MFA: they are
/// enrolled with [`test_totp_secret`] (no recovery codes), and [`login`] sends its current code.
pub async fn add_user(store: &SharedStore, username: &str, role: Role, password: &str) {
    add_officer(store, username, username, role, password).await;
    if role != Role::Officer {
        store.set_totp(username, &test_totp_secret(username), &[]).await.unwrap();
    }
}

pub async fn add_user_without_mfa(store: &SharedStore, username: &str, role: Role, password: &str) {
    add_officer(store, username, username, role, password).await
}

pub async fn add_officer(store: &SharedStore, username: &str, officer_id: &str, role: Role, password: &str) {
    let password_hash = waypoint_server::auth::hash_password(password).unwrap();
    let user = UserRecord { username: username.into(), officer_id: officer_id.into(), role, password_hash };
    store.add_user(user).await.unwrap();
}

/// The TOTP secret [`add_user`] enrolls a test user with (fixed per username).
pub fn test_totp_secret(username: &str) -> String {
    use sha2::Digest;
    let bytes = sha2::Sha256::digest(format!("waypoint test totp {username}").as_bytes());
    totp_rs::Secret::from(bytes[..20].to_vec()).to_base32()
}

/// The code an authenticator app enrolled by [`add_user`] shows now.
pub fn test_totp_code(username: &str) -> String {
    waypoint_server::mfa::current_code(&test_totp_secret(username))
}

/// A server on 127.0.0.1 (random port, plain HTTP) that stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub handle: axum_server::Handle,
}

impl TestServer {
    pub async fn start(store: SharedStore, settings: Settings) -> Self {
        Self::start_with_tls(store, settings, None).await
    }

    pub async fn start_with_tls(
        store: SharedStore,
        settings: Settings,
        tls: Option<axum_server::tls_rustls::RustlsConfig>,
    ) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = axum_server::Handle::new();
        let app = waypoint_server::app(store, settings);
        tokio::spawn(waypoint_server::serve(listener, app, tls, handle.clone()));
        TestServer { addr, handle }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

/// Generates one `#[tokio::test]` per backend for each listed `async fn name(backend: Backend)`.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            )*
        }
    };
}

/// reqwest with rustls on the ring provider (the one the server uses too).
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().build().unwrap()
}

/// Logs in over HTTP (with the user's current [`test_totp_code`]); returns the session token.
pub async fn login(client: &reqwest::Client, server: &TestServer, username: &str, password: &str) -> String {
    let reply = client
        .post(server.url("/v1/login"))
        .json(&serde_json::json!({"username": username, "password": password, "totp": test_totp_code(username)}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200, "login of {username}");
    let body: waypoint_protocol::LoginResponse = reply.json().await.unwrap();
    body.session_token
}

/// The `--database` value that reaches this test's store.
pub fn database_arg(t: &TestStore) -> String {
    match t.backend {
        Backend::Sqlite => t.dir.path().join("server.sqlite").to_string_lossy().into_owned(),
        Backend::Postgres => {
            let schema = t.schema.as_ref().unwrap();
            format!("{}?options=-c%20search_path%3D{schema}", postgres_url())
        }
    }
}

/// The SQLite key of this test's store, as a key file (the CLI's data folder is another folder).
pub fn key_file_arg(t: &TestStore) -> Vec<String> {
    if t.backend != Backend::Sqlite {
        return Vec::new();
    }
    let key_file = t.dir.path().join("database.key");
    if !key_file.exists() {
        t.key.write_new(&key_file).unwrap();
    }
    vec!["--database-key-file".into(), key_file.to_string_lossy().into_owned()]
}

/// Runs the built `waypoint-server` with `args` against this test's store, `data_dir` as its
/// data folder, no input.
#[allow(dead_code)]
pub fn server_cli(t: &TestStore, data_dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_waypoint-server"))
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--database")
        .arg(database_arg(t))
        .args(key_file_arg(t))
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}
