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
use waypoint_protocol::{EnrollRequest, EnrollResponse, ErrorBody, PullResponse, PushRequest, PushResponse};

use crate::sync::{Transport, TransportError};

/// zstd level 3: most of the ratio of higher levels at a fraction of the CPU on a phone.
const ZSTD_LEVEL: i32 = 3;
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
    pub counters: WireCounters,
}

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

fn unreachable(error: reqwest::Error) -> TransportError {
    TransportError::Unreachable(error.to_string())
}

fn url(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim_end_matches('/'))
}

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
        zstd::decode_all(&wire[..]).map_err(|e| TransportError::Unreachable(format!("damaged reply: {e}")))?
    } else {
        wire.to_vec()
    };
    if status.is_success() {
        return serde_json::from_slice(&body).map_err(|e| TransportError::Server(format!("unreadable reply: {e}")));
    }
    let message = serde_json::from_slice::<ErrorBody>(&body)
        .map(|e| e.message)
        .unwrap_or_else(|_| String::from_utf8_lossy(&body).chars().take(200).collect());
    Err(match status {
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

/// Exchanges a one-time enrollment code for this device's credential.
pub fn enroll(config: &HttpConfig, code: &str) -> Result<EnrollResponse, TransportError> {
    let client = client_for(config)?;
    let response = client
        .post(url(&config.base_url, "/v1/enroll"))
        .json(&EnrollRequest { code: code.trim().to_string() })
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
            counters: WireCounters::default(),
        })
    }
}

impl Transport for HttpTransport {
    fn push(&mut self, request: &PushRequest) -> Result<PushResponse, TransportError> {
        let json = serde_json::to_vec(request).map_err(|e| TransportError::Server(e.to_string()))?;
        let body = zstd::encode_all(&json[..], ZSTD_LEVEL).map_err(|e| TransportError::Server(e.to_string()))?;
        self.counters.requests += 1;
        self.counters.bytes_up += body.len() as u64;
        let response = self
            .client
            .post(url(&self.base_url, "/v1/sync/push"))
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

    fn pull(&mut self, cursor: u64, max_bytes: usize) -> Result<PullResponse, TransportError> {
        self.counters.requests += 1;
        let response = self
            .client
            .get(url(&self.base_url, &format!("/v1/sync/pull?cursor={cursor}&max_bytes={max_bytes}")))
            .header(AUTHORIZATION, format!("Bearer {}", self.device_token))
            .header(ACCEPT, "application/json")
            .header(ACCEPT_ENCODING, "zstd")
            .send()
            .map_err(unreachable)?;
        read_reply(response, &mut self.counters)
    }
}

/// Signs an officer in: the server checks the password and returns a session.
pub fn login(
    config: &HttpConfig,
    request: &waypoint_protocol::LoginRequest,
) -> Result<waypoint_protocol::LoginResponse, TransportError> {
    let client = client_for(config)?;
    let response = client.post(url(&config.base_url, "/v1/login")).json(request).send().map_err(unreachable)?;
    read_reply(response, &mut WireCounters::default())
}
