//! The sync [`Transport`] over HTTPS to waypoint-server: reqwest's blocking client on rustls
//! (ring), request bodies zstd-compressed, replies accepted as zstd. Compression is done here
//! rather than by reqwest so the bytes on the wire can be counted (the sync benchmark reports
//! them). Retry-After from a busy server comes back as [`TransportError::RetryAfter`].
//!
//! Blocking: call it from a plain thread, not from inside an async runtime.

use std::time::Duration;

use reqwest::blocking::{Client, Response};
use reqwest::header::{ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use waypoint_protocol::audit::{AuditPushRequest, AuditPushResponse};
use waypoint_protocol::{
    EnrollRequest, EnrollResponse, ErrorBody, PullResponse, PushResponse, RawPushRequest, APP_VERSION_HEADER,
    CONFIG_VERSION_HEADER, OFFICER_CREDENTIAL_HEADER, PENDING_RECORDS_HEADER, SIGN_IN_REQUIRED,
};

use super::transport::{Transport, TransportError};

/// zstd level 1: on push batches (encounters that repeat the same keys and phrases) it compressed
/// as well as level 3 (0.98 vs 1.02 MB for the 10,000-encounter benchmark) for less CPU.
const ZSTD_LEVEL: i32 = 1;
/// When a busy server gives no usable Retry-After.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// `https://host:port` (or `http://` on loopback for tests).
    pub base_url: String,
    /// PEM certificate to trust instead of the system roots (the server's self-signed one).
    pub pinned_certificate_pem: Option<Vec<u8>>,
    pub timeout: Duration,
    /// Keep connections open between requests (true except in the chaos test, which wants each
    /// request on its own connection so each meets its own fault).
    pub reuse_connections: bool,
}

impl HttpConfig {
    pub fn new(base_url: impl Into<String>) -> Self {
        HttpConfig {
            base_url: base_url.into(),
            pinned_certificate_pem: None,
            timeout: Duration::from_secs(60),
            reuse_connections: true,
        }
    }
}

/// Bytes and requests this transport has sent, for the officer's status line and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WireCounters {
    pub requests: u64,
    /// Request bodies as sent (compressed).
    pub bytes_up: u64,
    /// Reply bodies as received (compressed).
    pub bytes_down: u64,
}

pub struct HttpTransport {
    client: Client,
    base_url: String,
    device_token: String,
    /// The signed-in officer's device-bound credential: pushes need it, pulls do not.
    officer_token: Option<String>,
    /// Records the outbox holds unacknowledged, told to the server with every request (the admin
    /// console shows it); `None`: not reported. Lowered as pushes are acknowledged.
    pending_records: Option<u64>,
    /// The agency configuration version in use, sent with every request ([`CONFIG_VERSION_HEADER`]).
    config_version: Option<u32>,
    pub counters: WireCounters,
}

/// This app's version, told to the server with every sync request.
pub const APP_VERSION: &str = env!("CARGO_PKG_VERSION");

fn client_for(config: &HttpConfig) -> Result<Client, TransportError> {
    // rustls needs a process-wide crypto provider; ring is the one the workspace builds.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = Client::builder()
        .timeout(config.timeout)
        .connect_timeout(Duration::from_secs(10))
        // Bodies are (de)compressed here so their wire size is known.
        .no_gzip()
        .no_zstd();
    if !config.reuse_connections {
        builder = builder.pool_max_idle_per_host(0);
    }
    if let Some(pem) = &config.pinned_certificate_pem {
        let certificate = reqwest::Certificate::from_pem(pem)
            .map_err(|e| TransportError::Server(format!("the pinned certificate is unreadable: {e}")))?;
        builder = builder.tls_certs_only([certificate]);
    }
    builder.build().map_err(|e| TransportError::Server(format!("cannot set up HTTPS: {e}")))
}

/// reqwest's own message is "error sending request for url (...)"; the reason (refused, timed
/// out, a certificate problem) is in its sources, and is what the officer or admin can act on.
fn unreachable(error: reqwest::Error) -> TransportError {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    TransportError::Unreachable(message)
}

fn url(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim_end_matches('/'))
}

/// The most a sync reply may unpack to: pages are cut by bytes far below this.
pub const MAX_REPLY_UNPACKED_BYTES: u64 = 64 << 20;

/// Reads a reply: the body (zstd-decoded if so encoded) as `T`, or the matching error.
fn read_reply<T: DeserializeOwned>(response: Response, counters: &mut WireCounters) -> Result<T, TransportError> {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let zstd_encoded = response.headers().get(CONTENT_ENCODING).is_some_and(|v| v.as_bytes() == b"zstd");
    let wire = response.bytes().map_err(unreachable)?;
    counters.bytes_down += wire.len() as u64;
    let body = if zstd_encoded {
        waypoint_directory::bounded_zstd::decode(&wire, MAX_REPLY_UNPACKED_BYTES, "the server's reply")
            .map_err(|why| TransportError::Server(format!("damaged reply: {why}")))?
    } else {
        wire.to_vec()
    };
    if status.is_success() {
        return serde_json::from_slice(&body).map_err(|e| TransportError::Server(format!("unreadable reply: {e}")));
    }
    let error = serde_json::from_slice::<ErrorBody>(&body).ok();
    let kind = error.as_ref().map(|e| e.error.clone()).unwrap_or_default();
    let message =
        error.map(|e| e.message).unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(200).collect());
    Err(match status {
        StatusCode::UNAUTHORIZED if kind == SIGN_IN_REQUIRED => TransportError::SignInRequired(message),
        StatusCode::UNAUTHORIZED if kind == waypoint_protocol::ERROR_DEVICE_REVOKED => {
            TransportError::DeviceRevoked(message)
        }
        StatusCode::UNAUTHORIZED if kind == waypoint_protocol::ERROR_MFA_REQUIRED => {
            TransportError::MfaRequired(message)
        }
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => TransportError::Unauthorized(message),
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
            TransportError::RetryAfter(retry_after.unwrap_or(DEFAULT_RETRY_AFTER))
        }
        // A timeout or a proxy failing is a network problem: the next round retries.
        StatusCode::REQUEST_TIMEOUT | StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT => {
            TransportError::Unreachable(format!("{status}: {message}"))
        }
        _ => TransportError::Server(format!("{status}: {message}")),
    })
}

/// Exchanges a one-time enrollment code for this device's credential, registering the device
/// under `device_id` (the id it stamps on its reports) when given.
pub fn enroll(config: &HttpConfig, code: &str, device_id: Option<&str>) -> Result<EnrollResponse, TransportError> {
    let client = client_for(config)?;
    let response = client
        .post(url(&config.base_url, "/v1/enroll"))
        .json(&EnrollRequest { code: code.trim().to_string(), device_id: device_id.map(str::to_string) })
        .send()
        .map_err(unreachable)?;
    read_reply(response, &mut WireCounters::default())
}

impl HttpTransport {
    pub fn new(config: &HttpConfig, device_token: impl Into<String>) -> Result<Self, TransportError> {
        Ok(HttpTransport {
            client: client_for(config)?,
            base_url: config.base_url.clone(),
            device_token: device_token.into(),
            officer_token: None,
            pending_records: None,
            config_version: None,
            counters: WireCounters::default(),
        })
    }

    /// Tells the server, with each request, that `pending` records wait in the outbox.
    pub fn with_pending_records(mut self, pending: u64) -> Self {
        self.pending_records = Some(pending);
        self
    }

    /// The device's report headers on `request`: app version, records pending, configuration version.
    fn report(&self, request: reqwest::blocking::RequestBuilder) -> reqwest::blocking::RequestBuilder {
        let mut request = request.header(APP_VERSION_HEADER, APP_VERSION);
        if let Some(pending) = self.pending_records {
            request = request.header(PENDING_RECORDS_HEADER, pending.to_string());
        }
        if let Some(version) = self.config_version {
            request = request.header(CONFIG_VERSION_HEADER, version.to_string());
        }
        request
    }

    /// Pushes as the officer holding `officer_token` (from their sign-in on this device).
    pub fn with_officer(mut self, officer_token: impl Into<String>) -> Self {
        self.officer_token = Some(officer_token.into());
        self
    }

    /// Tells the server, with every request, which agency configuration version this device uses.
    pub fn with_config_version(mut self, version: u32) -> Self {
        self.config_version = Some(version);
        self
    }
}

impl HttpTransport {
    /// POSTs `request` as zstd JSON with the device credential; reads the reply.
    fn post_json<T: DeserializeOwned>(
        &mut self,
        path: &str,
        request: &impl serde::Serialize,
    ) -> Result<T, TransportError> {
        let json = serde_json::to_vec(request).map_err(|e| TransportError::Server(e.to_string()))?;
        let body = zstd::encode_all(&json[..], ZSTD_LEVEL).map_err(|e| TransportError::Server(e.to_string()))?;
        self.counters.requests += 1;
        self.counters.bytes_up += body.len() as u64;
        let mut request = self.report(self.client.post(url(&self.base_url, path)));
        if let Some(officer_token) = &self.officer_token {
            request = request.header(OFFICER_CREDENTIAL_HEADER, officer_token);
        }
        let response = request
            .header(AUTHORIZATION, format!("Bearer {}", self.device_token))
            .header(CONTENT_TYPE, "application/json")
            .header(CONTENT_ENCODING, "zstd")
            .header(ACCEPT, "application/json")
            .header(ACCEPT_ENCODING, "zstd")
            .body(body)
            .send()
            .map_err(unreachable)?;
        read_reply(response, &mut self.counters)
    }
}

impl Transport for HttpTransport {
    fn push(&mut self, request: &RawPushRequest) -> Result<PushResponse, TransportError> {
        let reply: PushResponse = self.post_json("/v1/sync/push", request)?;
        // Every ack settles a record (rejected ones wait for a person, not for the server).
        self.pending_records = self.pending_records.map(|n| n.saturating_sub(reply.acks.len() as u64));
        Ok(reply)
    }

    /// The second batch goes on a connection of its own (the client's pool opens it), so the
    /// server can store both in one group commit: one fsync for two batches.
    fn push_two(
        &mut self,
        first: &RawPushRequest,
        second: &RawPushRequest,
    ) -> [Result<PushResponse, TransportError>; 2] {
        let mut other = HttpTransport {
            client: self.client.clone(),
            base_url: self.base_url.clone(),
            device_token: self.device_token.clone(),
            officer_token: self.officer_token.clone(),
            counters: WireCounters::default(),
            pending_records: self.pending_records,
            config_version: self.config_version,
        };
        let (first, second) = std::thread::scope(|scope| {
            let second = scope.spawn(|| other.push(second));
            let first = self.push(first);
            (first, second.join().unwrap_or_else(|_| Err(TransportError::Server("the push thread panicked".into()))))
        });
        self.counters.requests += other.counters.requests;
        self.counters.bytes_up += other.counters.bytes_up;
        self.counters.bytes_down += other.counters.bytes_down;
        // Both batches settle records: the count this device reports next has the second's acks off too.
        if let Ok(reply) = &second {
            self.pending_records = self.pending_records.map(|n| n.saturating_sub(reply.acks.len() as u64));
        }
        [first, second]
    }

    fn push_audit(&mut self, request: &AuditPushRequest) -> Result<AuditPushResponse, TransportError> {
        self.post_json("/v1/sync/audit", request)
    }

    fn pull(&mut self, cursor: u64, max_bytes: usize) -> Result<PullResponse, TransportError> {
        self.counters.requests += 1;
        let response = self
            .report(
                self.client.get(url(&self.base_url, &format!("/v1/sync/pull?cursor={cursor}&max_bytes={max_bytes}"))),
            )
            .header(AUTHORIZATION, format!("Bearer {}", self.device_token))
            .header(ACCEPT, "application/json")
            .header(ACCEPT_ENCODING, "zstd")
            .send()
            .map_err(unreachable)?;
        read_reply(response, &mut self.counters)
    }
}

/// The agency configuration the server has in force (`GET /v1/agency/config`): what a device
/// that took the directory snapshot, and so skips the feed before it, starts from.
pub fn agency_config(
    config: &HttpConfig,
    device_token: &str,
) -> Result<waypoint_protocol::AgencyConfigVersion, TransportError> {
    let client = client_for(config)?;
    let response = client
        .get(url(&config.base_url, "/v1/agency/config"))
        .header(AUTHORIZATION, format!("Bearer {device_token}"))
        .header(ACCEPT, "application/json")
        .send()
        .map_err(unreachable)?;
    read_reply(response, &mut WireCounters::default())
}

/// Signs an officer in: the server checks the password and returns a session. With this device's
/// credential, the reply also holds the officer's credential on this device (what pushes carry).
pub fn login(
    config: &HttpConfig,
    device_token: Option<&str>,
    request: &waypoint_protocol::LoginRequest,
) -> Result<waypoint_protocol::LoginResponse, TransportError> {
    let client = client_for(config)?;
    let mut builder = client.post(url(&config.base_url, "/v1/login")).json(request);
    if let Some(device_token) = device_token {
        builder = builder.header(AUTHORIZATION, format!("Bearer {device_token}"));
    }
    let response = builder.send().map_err(unreachable)?;
    if response.status() == StatusCode::ACCEPTED {
        // MFA enrolment required: done on the agency's console, not on a device (yet).
        return Err(TransportError::Server(
            "this account must set up an authenticator app first: ask an admin how to enrol it".into(),
        ));
    }
    read_reply(response, &mut WireCounters::default())
}

/// Signs the officer out on this device: the server revokes their credential on it.
pub fn sign_out(config: &HttpConfig, device_token: &str, officer_token: &str) -> Result<(), TransportError> {
    let client = client_for(config)?;
    let response = client
        .post(url(&config.base_url, "/v1/officer/sign-out"))
        .header(AUTHORIZATION, format!("Bearer {device_token}"))
        .header(OFFICER_CREDENTIAL_HEADER, officer_token)
        .send()
        .map_err(unreachable)?;
    if response.status() == StatusCode::NO_CONTENT {
        return Ok(());
    }
    Err(read_reply::<serde_json::Value>(response, &mut WireCounters::default())
        .err()
        .unwrap_or_else(|| TransportError::Server("unexpected reply to sign-out".into())))
}

// --- Directory snapshot: a fresh device's first, resumable download ------------------------------

/// What [`download_directory_snapshot`] fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// The snapshot's strong ETag as the server sent it (the quoted SHA-256 of the file).
    pub etag: String,
    /// Pull with this cursor once the snapshot is applied: the feed's changes up to it are in it.
    pub cursor: u64,
    /// Size of the snapshot file.
    pub bytes: u64,
    /// Bytes already held from an earlier, cut attempt and kept (0: downloaded from the start).
    pub resumed_from: u64,
    /// Body bytes received by this call.
    pub bytes_downloaded: u64,
}

fn snapshot_side_path(dest: &std::path::Path, suffix: &str) -> std::path::PathBuf {
    let mut name = dest.as_os_str().to_os_string();
    name.push(suffix);
    std::path::PathBuf::from(name)
}

fn local_error(what: &str, error: std::io::Error) -> TransportError {
    TransportError::Server(format!("{what}: {error}"))
}

/// The SHA-256 an ETag names (`"hex"`, possibly `W/"hex"`), lower-case.
fn etag_sha256(etag: &str) -> String {
    etag.trim().trim_start_matches("W/").trim_matches('"').to_ascii_lowercase()
}

fn file_sha256(path: &std::path::Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

/// Downloads the server's directory snapshot (`GET /v1/directory/snapshot`: HSDS services, one
/// JSON document a line, zstd-compressed) to `dest`, resuming a cut download: the bytes so far
/// are in `dest.part` and the ETag they came from in `dest.part.etag`; the next call asks for the
/// rest with `Range: bytes=N-` and `If-Range: <etag>`, so a snapshot replaced in between comes
/// whole from byte 0 instead of being spliced. When complete, the file's SHA-256 is checked
/// against the ETag and `dest.part` is renamed to `dest` (a damaged file is deleted and the error
/// says so). Blocking.
pub fn download_directory_snapshot(
    config: &HttpConfig,
    device_token: &str,
    dest: &std::path::Path,
) -> Result<SnapshotInfo, TransportError> {
    use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, ETAG, IF_RANGE, RANGE};
    use std::io::{Read, Write};

    let part = snapshot_side_path(dest, ".part");
    let etag_file = snapshot_side_path(dest, ".part.etag");
    let client = client_for(config)?;
    // Twice at most: a 416 (the partial copy is as long as the file or longer) starts over once.
    for _ in 0..2 {
        let held_etag = std::fs::read_to_string(&etag_file).ok().map(|e| e.trim().to_string());
        let held_bytes = match (&held_etag, std::fs::metadata(&part)) {
            (Some(_), Ok(meta)) => meta.len(),
            _ => 0,
        };
        let mut request = client
            .get(url(&config.base_url, "/v1/directory/snapshot"))
            .header(AUTHORIZATION, format!("Bearer {device_token}"));
        if let (Some(etag), true) = (&held_etag, held_bytes > 0) {
            request = request.header(RANGE, format!("bytes={held_bytes}-")).header(IF_RANGE, etag.as_str());
        }
        let mut response = request.send().map_err(unreachable)?;
        let status = response.status();
        if status == StatusCode::RANGE_NOT_SATISFIABLE {
            let _ = std::fs::remove_file(&part);
            let _ = std::fs::remove_file(&etag_file);
            continue;
        }
        if status != StatusCode::OK && status != StatusCode::PARTIAL_CONTENT {
            return Err(read_reply::<serde_json::Value>(response, &mut WireCounters::default())
                .err()
                .unwrap_or_else(|| TransportError::Server(format!("unexpected {status}"))));
        }
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let etag = header(ETAG.as_str()).ok_or_else(|| TransportError::Server("the snapshot has no ETag".into()))?;
        let cursor = header("x-waypoint-cursor")
            .and_then(|c| c.trim().parse::<u64>().ok())
            .ok_or_else(|| TransportError::Server("the snapshot has no X-Waypoint-Cursor".into()))?;
        let (offset, total) = if status == StatusCode::PARTIAL_CONTENT {
            // `bytes START-END/TOTAL`: it must continue exactly where the partial copy ends.
            let range = header(CONTENT_RANGE.as_str()).unwrap_or_default();
            let parsed = range.strip_prefix("bytes ").and_then(|r| {
                let (span, total) = r.split_once('/')?;
                let (start, _) = span.split_once('-')?;
                Some((start.trim().parse::<u64>().ok()?, total.trim().parse::<u64>().ok()?))
            });
            match parsed {
                Some((start, total)) if start == held_bytes && Some(&etag) == held_etag.as_ref() => (start, total),
                _ => {
                    let _ = std::fs::remove_file(&part);
                    let _ = std::fs::remove_file(&etag_file);
                    return Err(TransportError::Server(format!("the server resumed at a different place ({range})")));
                }
            }
        } else {
            let total = header(CONTENT_LENGTH.as_str()).and_then(|l| l.parse::<u64>().ok()).unwrap_or(0);
            (0, total)
        };
        let mut file = if offset == 0 {
            // A new download (or the snapshot changed): start the partial copy afresh, and note
            // which snapshot it is before the first byte lands.
            let file = std::fs::File::create(&part).map_err(|e| local_error("creating the partial file", e))?;
            std::fs::write(&etag_file, &etag).map_err(|e| local_error("writing the ETag file", e))?;
            file
        } else {
            std::fs::OpenOptions::new()
                .append(true)
                .open(&part)
                .map_err(|e| local_error("opening the partial file", e))?
        };
        let mut downloaded = 0u64;
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            match response.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => {
                    file.write_all(&buffer[..n]).map_err(|e| local_error("writing the partial file", e))?;
                    downloaded += n as u64;
                }
                Err(e) => {
                    let _ = file.flush();
                    return Err(TransportError::Unreachable(format!(
                        "snapshot cut after {} of {total} bytes: {e}",
                        offset + downloaded
                    )));
                }
            }
        }
        file.sync_all().map_err(|e| local_error("saving the partial file", e))?;
        drop(file);
        let length = offset + downloaded;
        if total != 0 && length != total {
            return Err(TransportError::Unreachable(format!("snapshot cut after {length} of {total} bytes")));
        }
        let sha256 = file_sha256(&part).map_err(|e| local_error("reading the partial file", e))?;
        if sha256 != etag_sha256(&etag) {
            let _ = std::fs::remove_file(&part);
            let _ = std::fs::remove_file(&etag_file);
            return Err(TransportError::Server(format!(
                "the downloaded snapshot is damaged (SHA-256 {sha256}, expected {etag}); it will be downloaded again"
            )));
        }
        std::fs::rename(&part, dest).map_err(|e| local_error("moving the snapshot into place", e))?;
        let _ = std::fs::remove_file(&etag_file);
        return Ok(SnapshotInfo { etag, cursor, bytes: length, resumed_from: offset, bytes_downloaded: downloaded });
    }
    Err(TransportError::Server("the server refused every range of the snapshot (416)".into()))
}
