//! The device's side of the agency server: enrolment (server address, one-time code and the
//! server certificate's fingerprint), officer sign-in, and the background worker that drains the
//! outbox whenever the server is reachable — at unlock, shortly after a submit, periodically,
//! and on "Sync now" — backing off exponentially with jitter (backon) and honouring Retry-After.
//!
//! Nothing in the officer's flow waits for it: saves and submits only write the encrypted store;
//! the worker runs on its own thread and takes the store lock only between network calls.
//! The credentials live in the encrypted store, so sync runs only while the store is unlocked.

use std::net::{TcpStream, ToSocketAddrs};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ts_rs::TS;
use waypoint_protocol::{Change, LoginRequest};

use crate::api::Waypoint;
use crate::error::{Error, Result};
use crate::http_transport::{self, HttpConfig, HttpTransport};
use crate::store::{timestamp, Store};
use crate::sync::{self, SyncReport, TransportError};

const SETTINGS_KEY: &str = "sync_settings";
const SESSION_KEY: &str = "officer_session";
/// Where a directory snapshot is downloaded to (and resumed from) in the data folder.
const SNAPSHOT_FILE: &str = "directory-snapshot.jsonl.zst";
/// A round when all is well (new review results, directory changes).
pub const SYNC_PERIOD: Duration = Duration::from_secs(60);
/// How long after a submit the worker waits for more before it pushes (one request, not five).
pub const AFTER_SAVE_DELAY: Duration = Duration::from_millis(1500);
/// Retries after a failure: 2 s doubling to 30 s, with jitter so a fleet coming back into
/// coverage together does not hit the server in step. Short enough that a car leaving a dead
/// zone syncs within half a minute; a failed connect costs next to nothing.
pub const BACKOFF_MIN: Duration = Duration::from_secs(2);
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// What the enrolment screen sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct EnrollDevice {
    /// `https://host:port` (plain `http://` only to this machine, for demos and tests).
    pub server_url: String,
    /// The one-time code `waypoint-server device enroll` printed.
    pub code: String,
    /// SHA-256 of the server's certificate as the admin's tool printed it (`AB:CD:...`). Needed
    /// for a self-signed certificate; empty to rely on the system's trusted authorities.
    pub certificate_fingerprint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct OfficerLogin {
    pub username: String,
    pub password: String,
}

/// The sync line of the header and the Sync screen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SyncStatus {
    pub enrolled: bool,
    pub server_url: Option<String>,
    /// The id the server gave this device.
    pub device_id: Option<String>,
    /// Pinned certificate fingerprint, when the server's certificate is self-signed.
    pub certificate_fingerprint: Option<String>,
    pub signed_in_as: Option<String>,
    pub role: Option<String>,
    pub session_expires_at: Option<String>,
    /// Submitted versions not yet acknowledged.
    pub pending: u32,
    /// Versions the server refused, each with its reason (shown on the report).
    pub needs_attention: u32,
    pub last_synced_at: Option<String>,
    pub last_attempt_at: Option<String>,
    /// Why the last round failed (cleared by a successful one).
    pub last_error: Option<String>,
    pub syncing: bool,
    pub next_attempt_at: Option<String>,
    pub last_report: Option<SyncReport>,
}

/// Where and how this device syncs (kept in the encrypted store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct SyncSettings {
    server_url: String,
    device_id: String,
    device_token: String,
    certificate_pem: Option<String>,
    certificate_fingerprint: Option<String>,
    enrolled_at: String,
}

impl SyncSettings {
    fn http_config(&self) -> HttpConfig {
        let mut config = HttpConfig::new(self.server_url.clone());
        config.pinned_certificate_pem = self.certificate_pem.as_ref().map(|p| p.as_bytes().to_vec());
        config.timeout = Duration::from_secs(30);
        config
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct OfficerSession {
    username: String,
    role: String,
    token: String,
    expires_at: String,
}

/// What the worker is doing (memory only: it restarts with the app).
#[derive(Debug, Default)]
pub(crate) struct SyncRuntime {
    syncing: bool,
    last_attempt_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    next_attempt_at: Option<DateTime<Utc>>,
    last_report: Option<SyncReport>,
}

/// Why the worker wakes up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trigger {
    /// Something was submitted: push shortly (more may follow).
    Soon,
    /// "Sync now", unlock or enrolment.
    Now,
    /// The app is closing: end the worker (a round under way finishes first).
    Stop,
}

/// The worker's channel, made with the `Waypoint`.
pub(crate) struct SyncChannel {
    pub(crate) sender: Sender<Trigger>,
    pub(crate) receiver: Option<Receiver<Trigger>>,
}

impl SyncChannel {
    pub(crate) fn new() -> Self {
        let (sender, receiver) = std::sync::mpsc::channel();
        SyncChannel { sender, receiver: Some(receiver) }
    }
}

/// What one attempt came to, for the worker's choice of the next wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundOutcome {
    /// Locked or not enrolled: nothing to do.
    Idle,
    Synced(SyncReport),
    Failed(TransportError),
}

/// `AB:CD:...`: the SHA-256 of a DER certificate, as the server's admin tool prints it.
pub fn certificate_fingerprint(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    digest.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// Hex digits only, upper case: how typed fingerprints are compared.
fn normalize_fingerprint(text: &str) -> String {
    text.chars().filter(|c| c.is_ascii_hexdigit()).map(|c| c.to_ascii_uppercase()).collect()
}

fn der_to_pem(der: &[u8]) -> String {
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> =
        body.as_bytes().chunks(64).map(|chunk| std::str::from_utf8(chunk).expect("base64 is ascii")).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

/// Checks the typed server address: https, or http to this machine only.
fn parse_server_url(text: &str) -> Result<reqwest::Url> {
    let text = text.trim().trim_end_matches('/');
    let field = "server_url";
    let url = reqwest::Url::parse(text)
        .map_err(|_| Error::validation(field, "Enter the server address, like https://waypoint.agency.local:8443"))?;
    let host = url.host_str().unwrap_or("");
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1");
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::validation(field, "Use https:// — reports must never cross the network unencrypted."))
        }
        _ => return Err(Error::validation(field, "The address must start with https://")),
    }
    if host.is_empty() {
        return Err(Error::validation(field, "The address has no host name."));
    }
    Ok(url)
}

/// Runs blocking network code on a thread of its own: reqwest's blocking client must not run
/// inside an async runtime, which is where Tauri calls commands from.
fn off_runtime<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| scope.spawn(work).join().expect("network thread panicked"))
}

/// The server's certificate as presented in a TLS handshake, trusted for nothing: it is only
/// compared with the fingerprint the admin gave.
fn fetch_server_certificate(url: &reqwest::Url) -> std::result::Result<Vec<u8>, String> {
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};

    #[derive(Debug)]
    struct RecordOnly(Arc<rustls::crypto::CryptoProvider>);
    impl ServerCertVerifier for RecordOnly {
        fn verify_server_cert(
            &self,
            _end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp_response: &[u8],
            _now: UnixTime,
        ) -> std::result::Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
        }
        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }

    let host = url.host_str().ok_or("no host")?.trim_matches(|c| c == '[' || c == ']').to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(RecordOnly(provider)))
        .with_no_client_auth();
    let name = ServerName::try_from(host.clone()).map_err(|e| e.to_string())?;
    let mut connection = ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    // "localhost" may give ::1 before 127.0.0.1: try each address as a browser would.
    let mut last_error = format!("cannot find {host}");
    let mut connected = None;
    for address in (host.as_str(), port).to_socket_addrs().map_err(|e| format!("cannot find {host}: {e}"))? {
        match TcpStream::connect_timeout(&address, Duration::from_secs(10)) {
            Ok(socket) => {
                connected = Some(socket);
                break;
            }
            Err(error) => last_error = error.to_string(),
        }
    }
    let mut socket = connected.ok_or(last_error)?;
    socket.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    socket.set_write_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    while connection.is_handshaking() {
        connection.complete_io(&mut socket).map_err(|e| e.to_string())?;
    }
    let certificate = connection.peer_certificates().and_then(|c| c.first()).ok_or("the server sent no certificate")?;
    Ok(certificate.to_vec())
}

fn read_meta<T: serde::de::DeserializeOwned>(store: &Store, key: &str) -> Result<Option<T>> {
    let text: Option<String> =
        store.connection().query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?;
    Ok(match text {
        Some(text) => Some(serde_json::from_str(&text)?),
        None => None,
    })
}

fn write_meta<T: Serialize>(store: &Store, key: &str, value: &T) -> Result<()> {
    store.connection().execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        rusqlite::params![key, serde_json::to_string(value)?],
    )?;
    Ok(())
}

/// Whether the pinned certificate names the host the device was given. Requests check it (the
/// fingerprint does not replace the name check), and a failure there only says "cannot reach".
fn certificate_names_host(der: &[u8], url: &reqwest::Url) -> std::result::Result<(), String> {
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::CertificateError;

    let host = url.host_str().unwrap_or_default().trim_matches(|c| c == '[' || c == ']').to_string();
    let certificate = CertificateDer::from(der.to_vec());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(certificate.clone()).map_err(|e| format!("The server's certificate is unusable: {e}."))?;
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::new(rustls::crypto::ring::default_provider()),
    )
    .build()
    .map_err(|e| format!("The server's certificate is unusable: {e}."))?;
    let name = ServerName::try_from(host.clone()).map_err(|e| format!("`{host}` is not a host name: {e}."))?;
    match verifier.verify_server_cert(&certificate, &[], &name, &[], UnixTime::now()) {
        Ok(_) => Ok(()),
        Err(rustls::Error::InvalidCertificate(
            error @ (CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }),
        )) => {
            let names = match error {
                // rustls shows them as `DnsName("localhost")`, `IpAddress(127.0.0.1)`.
                CertificateError::NotValidForNameContext { presented, .. } => format!(
                    " (it names {})",
                    presented
                        .iter()
                        .map(|n| n
                            .trim_start_matches("DnsName(")
                            .trim_start_matches("IpAddress(")
                            .trim_end_matches(')'))
                        .map(|n| n.trim_matches('"'))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                _ => String::new(),
            };
            Err(format!(
                "The fingerprint matches, but the server's certificate does not name `{host}`{names}. Use an \
                 address it names, or ask the records admin to add this one: `waypoint-server init \
                 --tls-name {host}` on a new certificate."
            ))
        }
        Err(other) => Err(format!("The server's certificate is not usable here: {other}.")),
    }
}

/// A transport failure as the officer reads it next to the form field.
fn enrolment_error(error: TransportError) -> Error {
    match error {
        TransportError::Unauthorized(message) => {
            Error::validation("code", format!("The server refused the code: {message}"))
        }
        TransportError::Unreachable(why) => Error::validation(
            "server_url",
            format!("Cannot reach the server ({why}). Check the address and the connection."),
        ),
        other => Error::validation("server_url", other.to_string()),
    }
}

impl Waypoint {
    /// Enrols this device with the agency server. With a fingerprint, the server's certificate is
    /// fetched, compared with it and pinned: later requests trust that certificate only.
    pub fn enroll_device(&self, request: EnrollDevice) -> Result<SyncStatus> {
        self.with_store(|_| Ok(()))?;
        let url = parse_server_url(&request.server_url)?;
        let code = request.code.trim().to_string();
        if code.is_empty() {
            return Err(Error::validation("code", "Enter the one-time enrolment code from the records admin."));
        }
        let wanted = request.certificate_fingerprint.as_deref().map(normalize_fingerprint).filter(|f| !f.is_empty());
        let mut config = HttpConfig::new(url.as_str().trim_end_matches('/'));
        config.timeout = Duration::from_secs(30);
        let mut pinned = None;
        if let Some(wanted) = &wanted {
            if url.scheme() != "https" {
                return Err(Error::validation(
                    "certificate_fingerprint",
                    "A fingerprint only applies to an https:// address.",
                ));
            }
            if wanted.len() != 64 {
                return Err(Error::validation(
                    "certificate_fingerprint",
                    "A SHA-256 fingerprint has 64 hexadecimal digits (32 pairs like AB:CD:...).",
                ));
            }
            let der = off_runtime(|| fetch_server_certificate(&url))
                .map_err(|why| Error::validation("server_url", format!("Cannot reach the server over TLS ({why}).")))?;
            let shown = certificate_fingerprint(&der);
            if normalize_fingerprint(&shown) != *wanted {
                return Err(Error::validation(
                    "certificate_fingerprint",
                    format!("The server's certificate has fingerprint {shown}, not the one entered. Do not enrol: check the address with the records admin."),
                ));
            }
            certificate_names_host(&der, &url).map_err(|why| Error::validation("server_url", why))?;
            let pem = der_to_pem(&der);
            config.pinned_certificate_pem = Some(pem.as_bytes().to_vec());
            pinned = Some((pem, shown));
        }
        let response = off_runtime(|| http_transport::enroll(&config, &code)).map_err(enrolment_error)?;
        let settings = SyncSettings {
            server_url: config.base_url.clone(),
            device_id: response.device_id,
            device_token: response.device_token,
            certificate_pem: pinned.as_ref().map(|(pem, _)| pem.clone()),
            certificate_fingerprint: pinned.map(|(_, shown)| shown),
            enrolled_at: timestamp(Utc::now()),
        };
        self.with_store(|s| {
            // Another server (or a fresh enrolment) has its own feed and its own sessions.
            let previous = read_meta::<SyncSettings>(s, SETTINGS_KEY)?;
            if previous.as_ref().is_none_or(|p| p.server_url != settings.server_url) {
                sync::forget_feed_position(s)?;
            }
            s.connection().execute("DELETE FROM meta WHERE key = ?1", [SESSION_KEY])?;
            write_meta(s, SETTINGS_KEY, &settings)?;
            s.audit("enroll", None, &format!("ok: {} as device {}", settings.server_url, settings.device_id))
        })?;
        self.request_sync(Trigger::Now);
        self.sync_status()
    }

    /// Signs the officer in on the server (password checked there, argon2-hashed).
    pub fn officer_login(&self, login: OfficerLogin) -> Result<SyncStatus> {
        let settings = self
            .with_store(|s| read_meta::<SyncSettings>(s, SETTINGS_KEY))?
            .ok_or_else(|| Error::InvalidState("Enrol this device with the agency server first.".into()))?;
        let username = login.username.trim().to_string();
        if username.is_empty() {
            return Err(Error::validation("username", "Enter your user name on the agency server."));
        }
        if login.password.is_empty() {
            return Err(Error::validation("password", "Enter your password."));
        }
        let config = settings.http_config();
        let request = LoginRequest { username: username.clone(), password: login.password };
        let response = off_runtime(|| http_transport::login(&config, &request)).map_err(|error| match error {
            TransportError::Unauthorized(message) => Error::validation("password", message),
            // Not about what was typed: shown above the form, not beside a field.
            other => Error::InvalidState(format!("Cannot sign in now: {other}")),
        })?;
        let session = OfficerSession {
            username: username.clone(),
            role: response.role.as_str().to_string(),
            token: response.session_token,
            expires_at: response.expires_at,
        };
        self.with_store(|s| {
            write_meta(s, SESSION_KEY, &session)?;
            s.audit("login", None, &format!("ok: {username} on {}", settings.server_url))
        })?;
        self.sync_status()
    }

    pub fn sync_status(&self) -> Result<SyncStatus> {
        let (settings, session, pending, needs_attention, last_synced_at) = self.with_store(|s| {
            Ok((
                read_meta::<SyncSettings>(s, SETTINGS_KEY)?,
                read_meta::<OfficerSession>(s, SESSION_KEY)?,
                s.pending_outbox()?,
                s.rejected_outbox()?,
                sync::last_sync_at(s)?,
            ))
        })?;
        let runtime = self.sync_runtime.lock().unwrap_or_else(|p| p.into_inner());
        Ok(SyncStatus {
            enrolled: settings.is_some(),
            server_url: settings.as_ref().map(|s| s.server_url.clone()),
            device_id: settings.as_ref().map(|s| s.device_id.clone()),
            certificate_fingerprint: settings.as_ref().and_then(|s| s.certificate_fingerprint.clone()),
            signed_in_as: session.as_ref().map(|s| s.username.clone()),
            role: session.as_ref().map(|s| s.role.clone()),
            session_expires_at: session.map(|s| s.expires_at),
            pending,
            needs_attention,
            last_synced_at,
            last_attempt_at: runtime.last_attempt_at.map(timestamp),
            last_error: runtime.last_error.clone(),
            syncing: runtime.syncing,
            next_attempt_at: runtime.next_attempt_at.map(timestamp),
            last_report: runtime.last_report.clone(),
        })
    }

    /// "Sync now": wakes the worker; the status shows the round as it runs.
    pub fn sync_now(&self) -> Result<SyncStatus> {
        self.request_sync(Trigger::Now);
        let mut status = self.sync_status()?;
        status.syncing = status.enrolled;
        Ok(status)
    }

    pub(crate) fn request_sync(&self, trigger: Trigger) {
        let channel = self.sync_channel.lock().unwrap_or_else(|p| p.into_inner());
        // No worker (tests, benchmarks): nothing to wake.
        let _ = channel.sender.send(trigger);
    }

    /// One attempt now, on the calling thread (blocking network I/O: not from an async task).
    pub fn sync_round(&self) -> RoundOutcome {
        let settings = match self.with_store(|s| read_meta::<SyncSettings>(s, SETTINGS_KEY)) {
            Ok(Some(settings)) => settings,
            _ => return RoundOutcome::Idle,
        };
        {
            let mut runtime = self.sync_runtime.lock().unwrap_or_else(|p| p.into_inner());
            runtime.syncing = true;
            runtime.last_attempt_at = Some(Utc::now());
        }
        let result = self.take_directory_snapshot(&settings).and_then(|snapshot_services| {
            let mut transport = HttpTransport::new(&settings.http_config(), settings.device_token.clone())?;
            let mut report =
                self.sync_once(&mut transport, sync::DEFAULT_BATCH_BYTES, &mut |changes: &[Change]| {
                    self.apply_directory_changes(changes)
                })?;
            report.snapshot_services = snapshot_services;
            Ok(report)
        });
        let mut runtime = self.sync_runtime.lock().unwrap_or_else(|p| p.into_inner());
        runtime.syncing = false;
        match result {
            Ok(report) => {
                runtime.last_error = None;
                runtime.last_report = Some(report.clone());
                RoundOutcome::Synced(report)
            }
            Err(sync::SyncError::Transport(error)) => {
                runtime.last_error = Some(match &error {
                    TransportError::Unauthorized(why) => {
                        format!("The server no longer accepts this device ({why}): enrol it again.")
                    }
                    other => other.to_string(),
                });
                RoundOutcome::Failed(error)
            }
            Err(sync::SyncError::Store(error)) => {
                runtime.last_error = Some(error.to_string());
                RoundOutcome::Failed(TransportError::Server(error.to_string()))
            }
        }
    }

    /// A device that never pulled takes the server's directory snapshot first (resumable:
    /// ETag + Range), then pulls only the changes after it. A server with no directory (404)
    /// leaves the whole feed to the pull.
    fn take_directory_snapshot(&self, settings: &SyncSettings) -> std::result::Result<u32, sync::SyncError> {
        if self.with_store(sync::cursor)? > 0 {
            return Ok(0);
        }
        let dest = self.data_dir().join(SNAPSHOT_FILE);
        let info =
            match http_transport::download_directory_snapshot(&settings.http_config(), &settings.device_token, &dest) {
                Ok(info) => info,
                Err(TransportError::Server(message)) if message.starts_with("404") => return Ok(0),
                Err(other) => return Err(other.into()),
            };
        let bytes = std::fs::read(&dest).map_err(Error::from)?;
        let (services, report) = {
            let mut guard = self.directory_guard()?;
            guard.as_mut().expect("directory_guard opens the directory").apply_snapshot(&bytes)?
        };
        tracing::info!(summary = %report.summary(), cursor = info.cursor, "applied the server's directory snapshot");
        self.with_store(|s| sync::set_cursor(s, info.cursor))?;
        let _ = std::fs::remove_file(&dest);
        Ok(services)
    }

    /// Ends `run_background_sync` (after the round under way, if any).
    pub fn stop_background_sync(&self) {
        self.request_sync(Trigger::Stop);
    }

    /// The background worker: runs until `stop_background_sync`. The shell starts it on a
    /// thread of its own; a second call returns at once.
    pub fn run_background_sync(&self) {
        let Some(triggers) = self.sync_channel.lock().unwrap_or_else(|p| p.into_inner()).receiver.take() else {
            return;
        };
        run_worker(self, &triggers);
    }
}

fn fresh_backoff() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(BACKOFF_MIN)
        // backon's jitter adds up to the delay again on top of it: capping the delay at half the
        // maximum keeps the jittered wait within BACKOFF_MAX (15..30 s once it stops growing).
        .with_max_delay(BACKOFF_MAX / 2)
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
        .build()
}

/// The wait before the next attempt, given how the last one went.
pub fn next_wait(outcome: &RoundOutcome, backoff: &mut dyn Iterator<Item = Duration>) -> Duration {
    match outcome {
        RoundOutcome::Idle | RoundOutcome::Synced(_) => SYNC_PERIOD,
        // The server said how long: never sooner, and still backing off beyond it.
        RoundOutcome::Failed(TransportError::RetryAfter(wait)) => (*wait).max(backoff.next().unwrap_or(BACKOFF_MAX)),
        // A refused credential will not fix itself quickly: try rarely, the status says why.
        RoundOutcome::Failed(TransportError::Unauthorized(_)) => SYNC_PERIOD * 5,
        RoundOutcome::Failed(_) => backoff.next().unwrap_or(BACKOFF_MAX),
    }
}

fn run_worker(waypoint: &Waypoint, triggers: &Receiver<Trigger>) {
    let mut backoff: Box<dyn Iterator<Item = Duration> + Send> = Box::new(fresh_backoff());
    let mut wait = Duration::ZERO;
    loop {
        waypoint.sync_runtime.lock().unwrap_or_else(|p| p.into_inner()).next_attempt_at =
            Some(Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default());
        match triggers.recv_timeout(wait) {
            Ok(Trigger::Now) | Err(RecvTimeoutError::Timeout) => {}
            Ok(Trigger::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Ok(Trigger::Soon) => {
                // Gather the submits that follow closely; "Sync now" cuts the wait short.
                let deadline = Instant::now() + AFTER_SAVE_DELAY;
                while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                    match triggers.recv_timeout(left) {
                        Ok(Trigger::Now) => break,
                        Ok(Trigger::Soon) | Err(RecvTimeoutError::Timeout) => {}
                        Ok(Trigger::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            }
        }
        let outcome = waypoint.sync_round();
        if matches!(outcome, RoundOutcome::Synced(_) | RoundOutcome::Idle) {
            backoff = Box::new(fresh_backoff());
        }
        wait = next_wait(&outcome, backoff.as_mut());
        if let RoundOutcome::Failed(error) = &outcome {
            tracing::info!(%error, wait_s = wait.as_secs_f64(), "sync failed; retrying later");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_compare_whatever_the_separators_and_case() {
        let shown = certificate_fingerprint(b"certificate");
        assert_eq!(shown.len(), 32 * 3 - 1);
        assert_eq!(normalize_fingerprint(&shown.to_lowercase().replace(':', " ")), normalize_fingerprint(&shown));
    }

    #[test]
    fn only_https_or_loopback_http_is_accepted() {
        assert!(parse_server_url("https://records.agency.example:8443").is_ok());
        assert!(parse_server_url("http://127.0.0.1:8080/").is_ok());
        let plain = parse_server_url("http://records.agency.example").unwrap_err();
        assert_eq!(crate::AppError::from(&plain).field.as_deref(), Some("server_url"));
        assert!(parse_server_url("records.agency.example").is_err());
        assert!(parse_server_url("ftp://127.0.0.1").is_err());
    }

    #[test]
    fn backoff_grows_with_jitter_and_honours_retry_after() {
        let mut backoff = fresh_backoff();
        let failed = RoundOutcome::Failed(TransportError::Unreachable("down".into()));
        let waits: Vec<Duration> = (0..40).map(|_| next_wait(&failed, &mut backoff)).collect();
        assert!(waits[0] >= BACKOFF_MIN && waits[0] < BACKOFF_MIN * 2, "{waits:?}");
        assert!(waits.iter().all(|w| *w >= BACKOFF_MIN && *w <= BACKOFF_MAX), "never beyond the maximum: {waits:?}");
        assert!(waits[3] > waits[0], "the wait grows: {waits:?}");
        assert!(waits[10..].iter().all(|w| *w >= BACKOFF_MAX / 2), "{waits:?}");
        let distinct: std::collections::HashSet<Duration> = waits[10..].iter().copied().collect();
        assert!(distinct.len() > 1, "still jittered at the maximum: {waits:?}");
        let busy = RoundOutcome::Failed(TransportError::RetryAfter(Duration::from_secs(120)));
        assert!(next_wait(&busy, &mut fresh_backoff()) >= Duration::from_secs(120));
        assert_eq!(next_wait(&RoundOutcome::Synced(SyncReport::default()), &mut fresh_backoff()), SYNC_PERIOD);
    }

    #[test]
    fn pem_wraps_der_in_64_column_base64() {
        let pem = der_to_pem(&[7u8; 100]);
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(pem.lines().all(|l| l.len() <= 64));
    }
}
