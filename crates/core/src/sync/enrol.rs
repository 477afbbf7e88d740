//! Enrolment (server address, one-time code and the server certificate's fingerprint) and the
//! officer's sign-in on the agency server.

use std::time::Duration;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use waypoint_protocol::{certificate_fingerprint, LoginRequest};

use super::feed;
use super::http::{self, HttpConfig};
use super::pinning::{certificate_names_host, der_to_pem, fetch_server_certificate, normalize_fingerprint};
use super::settings::{read_meta, write_meta, OfficerSession, SyncSettings, SESSION_KEY, SETTINGS_KEY};
use super::status::SyncStatus;
use super::transport::TransportError;
use super::worker::Trigger;
use crate::api::Waypoint;
use crate::error::{Error, Result};
use crate::store::timestamp;

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
    /// The authenticator app's code (or a recovery code), once the server asked for one.
    #[serde(default)]
    #[ts(optional)]
    pub totp: Option<String>,
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

/// A transport failure as the officer reads it next to the form field.
fn enrolment_error(error: TransportError) -> Error {
    match error {
        TransportError::Unauthorized(message) => {
            Error::validation("code", format!("The server refused the code: {message}"))
        }
        TransportError::Server(message) if message.starts_with("409") => Error::validation(
            "code",
            format!("The server already has a device enrolled under this device's id: {message}"),
        ),
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
        // The server registers the device under the id it stamps on its reports.
        let own_device_id = self.with_store(|s| Ok(s.device_id().to_string()))?;
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
        let response = off_runtime(|| http::enroll(&config, &code, Some(&own_device_id))).map_err(enrolment_error)?;
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
                feed::forget_feed_position(s)?;
            }
            s.connection().execute("DELETE FROM meta WHERE key = ?1", [SESSION_KEY])?;
            write_meta(s, SETTINGS_KEY, &settings)?;
            s.audit("enroll", None, &format!("ok: {} as device {}", settings.server_url, settings.device_id))
        })?;
        self.request_sync(Trigger::Now);
        self.sync_status()
    }

    /// Signs the officer in on the server (password checked there, argon2-hashed). The server
    /// also issues the officer's credential on this device, which pushes carry: it does not
    /// expire, so reports written offline sync later without the password. Refused when the
    /// server knows the user by another officer id than the one this device was set up with (the
    /// server would refuse every report).
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
        let totp = login.totp.map(|code| code.trim().to_string()).filter(|code| !code.is_empty());
        let request = LoginRequest { username: username.clone(), password: login.password, totp };
        let response = off_runtime(|| http::login(&config, Some(&settings.device_token), &request)).map_err(
            |error| match error {
                // The password was right: the form shows a code field (`totp`) and sends it again.
                TransportError::MfaRequired(message) => Error::validation("totp", message),
                TransportError::Unauthorized(message) => Error::validation("password", message),
                // Not about what was typed: shown above the form, not beside a field.
                other => Error::InvalidState(format!("Cannot sign in now: {other}")),
            },
        )?;
        let profile_officer_id = self.with_store(|s| Ok(s.officer_id().to_string()))?;
        if response.officer_id != profile_officer_id {
            // The credential just issued would only push reports the server refuses: give it back.
            if let Some(officer_token) = &response.officer_token {
                let _ = off_runtime(|| http::sign_out(&config, &settings.device_token, officer_token));
            }
            return Err(Error::validation(
                "username",
                format!(
                    "The server knows {username} as officer {}, but this device was set up for officer {profile_officer_id}. \
                     Sign in as the officer this device was set up for, or ask the records admin to correct the officer id.",
                    response.officer_id
                ),
            ));
        }
        let session = OfficerSession {
            username: username.clone(),
            role: response.role.as_str().to_string(),
            token: response.session_token,
            expires_at: response.expires_at,
            officer_token: response.officer_token,
            officer_id: Some(response.officer_id),
        };
        // The server revoked any earlier credential of this officer on this device (superseded).
        self.with_store(|s| {
            write_meta(s, SESSION_KEY, &session)?;
            s.audit("login", None, &format!("ok: {username} on {}", settings.server_url))
        })?;
        // Reports may have waited for this sign-in.
        self.request_sync(Trigger::Now);
        self.sync_status()
    }

    /// Signs the officer out on this device: the server revokes their credential on it and the
    /// device forgets the session. Reports not synced yet stay in the outbox for the next sign-in.
    /// Offline, the device forgets the session all the same (the credential then stays live on the
    /// server until an admin revokes it or the officer signs in on this device again, which
    /// supersedes it).
    pub fn officer_sign_out(&self) -> Result<SyncStatus> {
        let (settings, session) = self.with_store(|s| {
            Ok((read_meta::<SyncSettings>(s, SETTINGS_KEY)?, read_meta::<OfficerSession>(s, SESSION_KEY)?))
        })?;
        let revoked = match (&settings, session.as_ref().and_then(|s| s.officer_token.as_ref())) {
            (Some(settings), Some(officer_token)) => {
                let config = settings.http_config();
                off_runtime(|| http::sign_out(&config, &settings.device_token, officer_token)).is_ok()
            }
            _ => false,
        };
        self.with_store(|s| {
            s.connection().execute("DELETE FROM meta WHERE key = ?1", [SESSION_KEY])?;
            let who = session.as_ref().map_or("nobody", |s| s.username.as_str());
            s.audit("logout", None, &format!("ok: {who}{}", if revoked { "" } else { " (server not told)" }))
        })?;
        self.sync_status()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_is_accepted() {
        assert!(parse_server_url("https://records.agency.example:8443").is_ok());
        assert!(parse_server_url("http://127.0.0.1:8080/").is_ok());
        let plain = parse_server_url("http://records.agency.example").unwrap_err();
        assert_eq!(crate::AppError::from(&plain).field.as_deref(), Some("server_url"));
        assert!(parse_server_url("records.agency.example").is_err());
        assert!(parse_server_url("ftp://127.0.0.1").is_err());
    }
}
