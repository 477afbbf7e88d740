//! Webhook delivery: the worker that empties the outbox (`webhook_deliveries`, written in the
//! decision's transaction), signing each request per the Standard Webhooks spec (the
//! `standardwebhooks` crate), retrying with exponential backoff (backon's schedule, with jitter)
//! for [`WebhookSettings::retry_window`], then parking the delivery as failed for an admin to
//! replay. At-least-once: a delivery is marked delivered only after a 2xx, so a server that stops
//! mid-delivery sends it again; receivers drop repeats by `webhook-id`.

use std::sync::Arc;
use std::time::Duration;

use backon::BackoffBuilder;
use base64::Engine;
use chrono::Utc;
use rand::RngCore;
use waypoint_protocol::{RecordEvent, WebhookPayload};

use crate::records;
use crate::store::records::{AttemptResult, DueDelivery};
use crate::store::SharedStore;

/// How deliveries are retried.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Retries stop this long after the first attempt (a replay starts a new window).
    pub retry_window: chrono::Duration,
    /// The wait after the first failure; each next one doubles, up to `max_interval`.
    pub first_retry: Duration,
    pub max_interval: Duration,
    /// One attempt's limit (connect, send and the answer).
    pub attempt_timeout: Duration,
    /// How often the worker looks for due deliveries when none is known to be due sooner.
    pub poll_interval: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            retry_window: chrono::Duration::hours(24),
            first_retry: Duration::from_secs(30),
            max_interval: Duration::from_secs(3600),
            attempt_timeout: Duration::from_secs(10),
            poll_interval: Duration::from_secs(1),
        }
    }
}

/// Deliveries claimed (and sent at once) per round.
const CLAIM_BATCH: usize = 16;

/// The wait before attempt `attempts + 1`, after `attempts` failures (1 or more): backon's
/// exponential schedule with jitter, so endpoints that recover are not hit all at once.
pub fn retry_delay(settings: &WebhookSettings, attempts: u32) -> Duration {
    backon::ExponentialBuilder::default()
        .with_min_delay(settings.first_retry)
        .with_max_delay(settings.max_interval)
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
        .build()
        .nth(attempts.saturating_sub(1) as usize)
        .unwrap_or(settings.max_interval)
}

/// A new signing secret: `whsec_` + base64 of 32 random bytes.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Checks an admin-given secret: `whsec_` + base64 of 24 to 64 bytes.
pub fn check_secret(secret: &str) -> Result<(), String> {
    let Some(encoded) = secret.strip_prefix("whsec_") else {
        return Err("the secret must start with `whsec_` (or leave it out and the server makes one)".into());
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| "the secret after `whsec_` must be standard base64".to_string())?;
    if !(24..=64).contains(&bytes.len()) {
        return Err(format!("the secret must hold 24 to 64 bytes; this one holds {}", bytes.len()));
    }
    Ok(())
}

/// Checks an endpoint URL: `https://`, or `http://` to this machine only (a local relay, tests):
/// these reports must not cross a network in the clear.
pub fn check_url(url: &str) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("put no user name or password in the URL: the signature authenticates the server".into());
    }
    let loopback = match parsed.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err(format!("`{url}` names no host")),
    };
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if loopback => Ok(parsed),
        "http" => Err("use https:// (plain http:// is allowed only to this machine: 127.0.0.1, ::1, localhost)".into()),
        other => Err(format!("`{other}://` is not a web address: use https://")),
    }
}

/// The three Standard Webhooks headers for `body`.
pub fn signature_headers(
    secret: &str,
    event_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<[(String, String); 3], String> {
    let signer = standardwebhooks::Webhook::new(secret).map_err(|e| format!("unusable secret: {e}"))?;
    let signature = signer.sign(event_id, timestamp, body).map_err(|e| format!("signing failed: {e}"))?;
    Ok([
        (standardwebhooks::HEADER_WEBHOOK_ID.to_string(), event_id.to_string()),
        (standardwebhooks::HEADER_WEBHOOK_TIMESTAMP.to_string(), timestamp.to_string()),
        (standardwebhooks::HEADER_WEBHOOK_SIGNATURE.to_string(), signature),
    ])
}

/// The delivery worker: runs until the task is aborted. One per server process; several servers
/// on one PostgreSQL database share the outbox (claims skip rows another holds).
pub fn spawn_worker(store: SharedStore, settings: WebhookSettings) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = match reqwest::Client::builder()
            .timeout(settings.attempt_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Waypoint-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
        {
            Ok(client) => client,
            Err(error) => {
                tracing::error!("webhooks: no HTTP client ({error}); deliveries wait");
                return;
            }
        };
        let settings = Arc::new(settings);
        loop {
            let claimed = deliver_due(&store, &client, &settings).await;
            if claimed == CLAIM_BATCH {
                continue;
            }
            let wait = match store.next_delivery_due().await {
                Ok(Some(due)) => (due - Utc::now()).to_std().unwrap_or(Duration::ZERO).min(settings.poll_interval),
                _ => settings.poll_interval,
            };
            tokio::time::sleep(wait.max(Duration::from_millis(20))).await;
        }
    })
}

/// One round: claims the due deliveries and sends them at once. Returns how many were claimed.
async fn deliver_due(store: &SharedStore, client: &reqwest::Client, settings: &Arc<WebhookSettings>) -> usize {
    // A claim outlives any attempt, so only a stopped server's claims expire.
    let lease = chrono::Duration::from_std(settings.attempt_timeout * 3).unwrap_or(chrono::Duration::minutes(1));
    let due = match store.claim_due_deliveries(Utc::now(), lease, settings.retry_window, CLAIM_BATCH).await {
        Ok(due) => due,
        Err(error) => {
            tracing::warn!("webhooks: cannot read the outbox: {error}");
            return 0;
        }
    };
    let count = due.len();
    let attempts = due.into_iter().map(|delivery| {
        let (store, client, settings) = (store.clone(), client.clone(), settings.clone());
        async move {
            let id = delivery.id;
            let result = attempt(&store, &client, &settings, delivery).await;
            if let Err(error) = store.finish_attempt(id, Utc::now(), result).await {
                // The claim expires and the delivery is tried again: at-least-once.
                tracing::warn!("webhooks: delivery {id}: cannot record the attempt: {error}");
            }
        }
    });
    futures_join_all(attempts).await;
    count
}

/// Runs the futures concurrently and waits for them all.
async fn futures_join_all<F: std::future::Future<Output = ()> + Send + 'static>(futures: impl Iterator<Item = F>) {
    let mut set = tokio::task::JoinSet::new();
    for future in futures {
        set.spawn(future);
    }
    while set.join_next().await.is_some() {}
}

/// One attempt at one delivery.
async fn attempt(
    store: &SharedStore,
    client: &reqwest::Client,
    settings: &WebhookSettings,
    delivery: DueDelivery,
) -> AttemptResult {
    let failed = |status: Option<u16>, error: String| {
        let next =
            Utc::now() + chrono::Duration::from_std(retry_delay(settings, delivery.attempts + 1)).unwrap_or_default();
        AttemptResult::Failed { status, error, next_attempt_at: (next <= delivery.retry_until).then_some(next) }
    };
    let event: RecordEvent = match records::event_with_record(store, &delivery.event).await {
        Ok(event) => event,
        Err(error) => return failed(None, format!("cannot read the report: {error}")),
    };
    let now = Utc::now();
    let payload = WebhookPayload { event_type: event.event_type, timestamp: now, data: event };
    let body = match serde_json::to_vec(&payload) {
        Ok(body) => body,
        Err(error) => return failed(None, format!("cannot write the payload: {error}")),
    };
    let headers = match signature_headers(&delivery.secret, &delivery.event.event_id(), now.timestamp(), &body) {
        Ok(headers) => headers,
        Err(error) => return failed(None, error),
    };
    let mut request = client.post(&delivery.url).header(reqwest::header::CONTENT_TYPE, "application/json");
    for (name, value) in headers {
        request = request.header(name, value);
    }
    match request.body(body).send().await {
        Ok(reply) if reply.status().is_success() => AttemptResult::Delivered { status: reply.status().as_u16() },
        Ok(reply) => {
            let status = reply.status();
            failed(Some(status.as_u16()), format!("the endpoint answered {status}"))
        }
        Err(error) if error.is_timeout() => {
            failed(None, format!("no answer within {} s", settings.attempt_timeout.as_secs_f64()))
        }
        Err(error) if error.is_connect() => failed(None, "could not connect to the endpoint".into()),
        Err(error) => failed(None, format!("the request failed: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap() {
        let settings = WebhookSettings {
            first_retry: Duration::from_secs(30),
            max_interval: Duration::from_secs(3600),
            ..WebhookSettings::default()
        };
        // Jitter adds up to one more delay: each wait is within [d, 2d).
        for (attempts, base) in [(1u32, 30u64), (2, 60), (3, 120), (8, 3600), (40, 3600)] {
            let wait = retry_delay(&settings, attempts).as_secs_f64();
            assert!(wait >= base as f64 && wait <= 2.0 * base as f64, "attempt {attempts}: {wait} s");
        }
        // Enough tries fit in 24 hours that an endpoint down for a night is still reached.
        let total: f64 = (1..=30).map(|n| retry_delay(&settings, n).as_secs_f64()).sum();
        assert!(total >= 24.0 * 3600.0, "30 retries span only {total} s");
    }

    #[test]
    fn urls_must_be_https_unless_local() {
        assert!(check_url("https://rms.example.gov/hooks").is_ok());
        assert!(check_url("http://127.0.0.1:9000/hooks").is_ok());
        assert!(check_url("http://localhost/hooks").is_ok());
        assert!(check_url("http://[::1]:80/").is_ok());
        assert!(check_url("http://rms.example.gov/hooks").unwrap_err().contains("https"));
        assert!(check_url("ftp://rms.example.gov/").is_err());
        assert!(check_url("https://user:pw@rms.example.gov/").unwrap_err().contains("password"));
        assert!(check_url("not a url").is_err());
    }

    #[test]
    fn secrets_are_whsec_base64_of_enough_bytes() {
        assert!(check_secret(&new_secret()).is_ok());
        assert!(check_secret("whsec_c2hvcnQ=").unwrap_err().contains("24 to 64"));
        assert!(check_secret("secret").unwrap_err().contains("whsec_"));
        assert!(check_secret("whsec_***").unwrap_err().contains("base64"));
    }
}
