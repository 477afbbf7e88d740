//! Credentials. Devices hold a bearer token from enrollment; officers, supervisors and admins
//! log in with a password (argon2id) and get a session token. The server stores only SHA-256
//! hashes of tokens and codes: they are long and random, so a fast hash is enough, and a stolen
//! database holds nothing that authenticates.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use sha2::{Digest, Sha256};
use waypoint_protocol::{Role, CSRF_HEADER, ERROR_CSRF, ERROR_DEVICE_REVOKED, SESSION_COOKIE};

use crate::error::ApiError;
use crate::store::{SessionState, SharedStore, StoreResult};
use crate::{AppState, Settings};

const DEVICE_TOKEN_PREFIX: &str = "wpd_";
const SESSION_TOKEN_PREFIX: &str = "wps_";
/// The agency records system's credentials (`GET /v1/records/encounters` only).
const RECORDS_TOKEN_PREFIX: &str = "wpr_";
/// MFA enrolment credentials: accepted by the enrolment endpoints only, never by [`Caller`].
pub const MFA_ENROLMENT_TOKEN_PREFIX: &str = "wpe_";
/// Last use of a session and last contact of a device are written at most this often, not on
/// every request.
const LAST_USE_GRAIN: Duration = Duration::minutes(1);
/// Enrollment codes: no 0/O, 1/I/L, so they can be read aloud and typed on a phone.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CODE_LENGTH: usize = 12;
pub const ENROLLMENT_TTL_HOURS: i64 = 72;

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn random_token(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::thread_rng().gen();
    format!("{prefix}{}", hex::encode(bytes))
}

pub fn new_device_token() -> String {
    random_token(DEVICE_TOKEN_PREFIX)
}

pub fn new_session_token() -> String {
    random_token(SESSION_TOKEN_PREFIX)
}

pub fn new_records_token() -> String {
    random_token(RECORDS_TOKEN_PREFIX)
}

pub fn new_mfa_enrolment_token() -> String {
    random_token(MFA_ENROLMENT_TOKEN_PREFIX)
}

/// The shortest password accepted (CLI and admin API).
pub const MIN_PASSWORD_CHARS: usize = 10;

pub fn check_new_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!("use a password of at least {MIN_PASSWORD_CHARS} characters"));
    }
    Ok(())
}

/// Whether `username` may act: exists and is not disabled. The one place this is decided, for
/// sessions here and for every other user-bound credential.
pub async fn user_is_active(store: &SharedStore, username: &str) -> StoreResult<bool> {
    Ok(store.user_account(username).await?.is_some_and(|account| account.enabled))
}

/// The token of an `Authorization: Bearer` header, or 401.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Result<&str, ApiError> {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer credential"))?;
    header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| ApiError::unauthorized("Authorization must be `Bearer <token>`"))
}

/// A credential as a request presents it.
#[derive(Debug, Clone, Copy)]
pub enum Presented<'a> {
    /// `Authorization: Bearer <token>`: devices, scripts, the records system.
    Bearer(&'a str),
    /// The console's session cookie ([`SESSION_COOKIE`]): a user session only, and a request
    /// that changes something must also carry its CSRF token.
    Cookie(&'a str),
}

impl<'a> Presented<'a> {
    pub fn token(self) -> &'a str {
        match self {
            Presented::Bearer(token) | Presented::Cookie(token) => token,
        }
    }
}

/// The request's credential: the bearer header when there is one, else the console's cookie.
pub fn presented_credential(headers: &axum::http::HeaderMap) -> Result<Presented<'_>, ApiError> {
    if headers.contains_key(axum::http::header::AUTHORIZATION) {
        return bearer_token(headers).map(Presented::Bearer);
    }
    session_cookie(headers).map(Presented::Cookie).ok_or_else(|| {
        ApiError::unauthorized("missing credential: sign in (Authorization: Bearer, or the console's session)")
    })
}

/// The console session cookie's value, if the request carries one.
fn session_cookie(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// The CSRF token of a console session: derived from the session's secret token, so it needs no
/// storage and dies with the session; a page of another origin can read neither.
pub fn csrf_token(session_token: &str) -> String {
    token_hash(&format!("waypoint-csrf:{session_token}"))
}

/// A cookie-authenticated request that changes something must carry the session's CSRF token
/// (`SameSite=Strict` already keeps other sites' requests from sending the cookie; this is the
/// second lock).
fn check_csrf(parts: &Parts, session_token: &str) -> Result<(), ApiError> {
    if matches!(parts.method, axum::http::Method::GET | axum::http::Method::HEAD) {
        return Ok(());
    }
    let expected = csrf_token(session_token);
    let sent = parts.headers.get(CSRF_HEADER).and_then(|value| value.to_str().ok()).unwrap_or("");
    // Compared in constant time: the token is a secret.
    let same =
        sent.len() == expected.len() && sent.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if same {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "this request needs the console's {CSRF_HEADER} header (reload the console and try again)"
        ))
        .with_kind(ERROR_CSRF))
    }
}

/// Whether a last-use time is old enough to write again.
fn stale(last: Option<DateTime<Utc>>, now: DateTime<Utc>, grain: Duration) -> bool {
    !matches!(last, Some(last) if now - last < grain)
}

/// Why a session no longer works, if it does not.
fn session_ended(session: &SessionState, now: DateTime<Utc>, settings: &Settings) -> Option<&'static str> {
    if session.expires_at <= now {
        return Some("session expired: sign in again");
    }
    if session.last_used_at.is_some_and(|last| now - last > settings.session_idle_timeout) {
        return Some("session ended after a time without use: sign in again");
    }
    None
}

/// A one-time enrollment code like `ABCD-EFGH-JKMN` (about 59 bits).
pub fn new_enrollment_code() -> String {
    let mut rng = rand::thread_rng();
    let chars: Vec<char> =
        (0..CODE_LENGTH).map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char).collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// The hash a code is stored under: case and dashes do not matter when typing it.
pub fn enrollment_code_hash(code: &str) -> String {
    let normalized: String =
        code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect();
    token_hash(&normalized)
}

/// Creates a one-time enrollment code valid for [`ENROLLMENT_TTL_HOURS`] and stores its hash.
pub async fn create_enrollment(store: &SharedStore) -> StoreResult<String> {
    let code = new_enrollment_code();
    store.add_enrollment(&enrollment_code_hash(&code), Utc::now() + Duration::hours(ENROLLMENT_TTL_HOURS)).await?;
    Ok(code)
}

pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// Checked against when the username is unknown, so a login takes as long either way.
pub fn dummy_password_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("no such user").expect("argon2 hashes"))
}

/// Who is calling, from the `Authorization: Bearer` header or the console's session cookie. Missing or unknown credentials are
/// rejected here with 401; what a known caller may do is checked by the handler (403).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Device {
        device_id: String,
    },
    User {
        username: String,
        role: Role,
    },
    /// The agency's records system, by its credential's name.
    RecordsSystem {
        name: String,
    },
}

impl Caller {
    /// The device this caller speaks for, or 403.
    pub fn device(&self) -> Result<&str, ApiError> {
        match self {
            Caller::Device { device_id } => Ok(device_id),
            Caller::User { .. } | Caller::RecordsSystem { .. } => {
                Err(ApiError::forbidden("this endpoint needs a device credential (enroll the device)"))
            }
        }
    }

    /// The username, when the caller's role is one of `roles`; else 403.
    pub fn user_with(&self, roles: &[Role]) -> Result<&str, ApiError> {
        match self {
            Caller::User { username, role } if roles.contains(role) => Ok(username),
            Caller::User { role, .. } => {
                Err(ApiError::forbidden(format!("the {} role may not do this", role.as_str())))
            }
            Caller::Device { .. } => Err(ApiError::forbidden("this endpoint needs a user session, not a device")),
            Caller::RecordsSystem { .. } => {
                Err(ApiError::forbidden("a records-system credential reads GET /v1/records/encounters only"))
            }
        }
    }

    /// The records system's credential name, or 403.
    pub fn records_system(&self) -> Result<&str, ApiError> {
        match self {
            Caller::RecordsSystem { name } => Ok(name),
            _ => Err(ApiError::forbidden(
                "the records feed is read with a records-system credential (an admin issues one)",
            )),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let presented = presented_credential(&parts.headers)?;
        let token = presented.token();
        let hash = token_hash(token);
        let now = Utc::now();
        if let Presented::Cookie(_) = presented {
            // The cookie carries user sessions only; the CSRF check comes once the session is known.
            if !token.starts_with(SESSION_TOKEN_PREFIX) {
                return Err(ApiError::unauthorized("unknown or revoked credential"));
            }
        }
        if token.starts_with(DEVICE_TOKEN_PREFIX) {
            if let Some(device) = state.store.device_credential(&hash).await? {
                if device.revoked_at.is_some() {
                    return Err(ApiError::unauthorized(
                        "this device was revoked by the agency: it can no longer sync (ask an admin)",
                    )
                    .with_kind(ERROR_DEVICE_REVOKED));
                }
                if stale(device.last_seen_at, now, LAST_USE_GRAIN) {
                    state.store.touch_device(&device.device_id, now).await?;
                }
                return Ok(Caller::Device { device_id: device.device_id });
            }
        } else if token.starts_with(RECORDS_TOKEN_PREFIX) {
            // A bearer only: the check above keeps it out of the cookie.
            if let Some(credential) = state.store.api_credential(&hash).await? {
                if credential.revoked_at.is_some() {
                    return Err(ApiError::unauthorized(
                        "this records credential was revoked: ask an admin for a new one",
                    ));
                }
                if stale(credential.last_used_at, now, LAST_USE_GRAIN) {
                    state.store.touch_api_credential(&credential.name, now).await?;
                }
                return Ok(Caller::RecordsSystem { name: credential.name });
            }
        } else if token.starts_with(SESSION_TOKEN_PREFIX) {
            if let Some(session) = state.store.session_state(&hash).await? {
                if let Some(why) = session_ended(&session, now, &state.settings) {
                    state.store.end_session(&hash).await?;
                    return Err(ApiError::unauthorized(why));
                }
                if !user_is_active(&state.store, &session.username).await? {
                    return Err(ApiError::unauthorized("this account is disabled: ask an admin"));
                }
                // Finer than the idle timeout, so a short one (tests) is still measured well.
                let grain = LAST_USE_GRAIN.min(state.settings.session_idle_timeout / 4);
                if let Presented::Cookie(_) = presented {
                    check_csrf(parts, token)?;
                }
                if stale(session.last_used_at, now, grain) {
                    state.store.touch_session(&hash, now).await?;
                }
                return Ok(Caller::User { username: session.username, role: session.role });
            }
        }
        Err(ApiError::unauthorized("unknown or revoked credential"))
    }
}

/// Extractors that refuse a caller of the wrong kind or role (403) before the request body is
/// read, so a caller a route does not admit learns nothing about what it accepts.
macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub String);

        impl FromRequestParts<AppState> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
                let caller = Caller::from_request_parts(parts, state).await?;
                let check: fn(&Caller) -> Result<&str, ApiError> = $check;
                check(&caller).map(|who| $name(who.to_string()))
            }
        }
    };
}

role_extractor!(
    /// An enrolled device: its device id.
    DeviceCaller,
    |caller| caller.device()
);
role_extractor!(
    /// A supervisor or an admin: their username.
    Reviewer,
    |caller| caller.user_with(&[Role::Supervisor, Role::Admin])
);
role_extractor!(
    /// Whoever may read the outcome figures (supervisors, admins, analysts): their username.
    FigureReader,
    |caller| caller.user_with(&[Role::Supervisor, Role::Admin, Role::Analyst])
);
role_extractor!(
    /// The agency's records system: its credential's name.
    RecordsReader,
    |caller| caller.records_system()
);
role_extractor!(
    /// An admin: their username.
    AdminCaller,
    |caller| caller.user_with(&[Role::Admin])
);
