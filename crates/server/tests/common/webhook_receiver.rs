//! A webhook endpoint on 127.0.0.1 for the tests: it behaves as told per request (accept, fail,
//! hang past the sender's timeout, answer slowly) and checks every signature as the Standard
//! Webhooks spec says, with an HMAC-SHA256 of its own (not the `standardwebhooks` crate).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use base64::Engine;
use chrono::Utc;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use waypoint_protocol::WebhookPayload;

/// What the receiver does with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Accept,
    Fail,
    /// Answers after the sender's timeout.
    Hang,
    /// Answers 2xx, late but within the timeout.
    Slow,
}

#[derive(Default)]
pub struct Received {
    /// Verified deliveries: event id -> how many times.
    pub verified: BTreeMap<String, u32>,
    /// Requests whose signature, id or timestamp did not check out.
    pub bad: Vec<String>,
    pub requests: u32,
}

pub struct Receiver {
    pub url: String,
    pub received: Arc<Mutex<Received>>,
    _server: tokio::task::JoinHandle<()>,
}

/// Checks a Standard Webhooks request as the spec says, without the `standardwebhooks` crate.
pub fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) -> Result<String, String> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).ok_or(format!("no {name}"));
    let (id, timestamp, signatures) =
        (header("webhook-id")?, header("webhook-timestamp")?, header("webhook-signature")?);
    let sent: i64 = timestamp.parse().map_err(|_| "timestamp not a number".to_string())?;
    if (Utc::now().timestamp() - sent).abs() > 300 {
        return Err(format!("timestamp {sent} is stale"));
    }
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").ok_or("secret prefix")?)
        .map_err(|e| e.to_string())?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    if !signatures.split(' ').any(|s| s.strip_prefix("v1,") == Some(expected.as_str())) {
        return Err(format!("no signature of {id} matches"));
    }
    let payload: WebhookPayload = serde_json::from_slice(body).map_err(|e| format!("payload: {e}"))?;
    if payload.data.id != id || payload.event_type != payload.data.event_type {
        return Err(format!("payload of {id} names {} ({:?})", payload.data.id, payload.event_type));
    }
    Ok(id.to_string())
}

pub async fn receiver(
    secret: Arc<Mutex<String>>,
    behave: impl Fn(u32) -> Behaviour + Send + Sync + 'static,
) -> Receiver {
    let received = Arc::new(Mutex::new(Received::default()));
    let state = (received.clone(), secret, Arc::new(behave));
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let (received, secret, behave) = state.clone();
            async move {
                let n = {
                    let mut r = received.lock().unwrap();
                    r.requests += 1;
                    r.requests
                };
                match behave(n) {
                    Behaviour::Fail => return AxumStatus::INTERNAL_SERVER_ERROR,
                    Behaviour::Hang => {
                        tokio::time::sleep(Duration::from_secs(2)).await;
                        return AxumStatus::OK; // too late: the sender gave up
                    }
                    Behaviour::Slow => tokio::time::sleep(Duration::from_millis(150)).await,
                    Behaviour::Accept => {}
                }
                let secret = secret.lock().unwrap().clone();
                let mut r = received.lock().unwrap();
                match verify(&secret, &headers, &body) {
                    Ok(id) => *r.verified.entry(id).or_default() += 1,
                    Err(why) => r.bad.push(why),
                }
                AxumStatus::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Receiver { url, received, _server: server }
}
