//! Wire types of the admin console's endpoints (`/v1/admin/...`): users and their sessions,
//! devices and what they last reported, enrolment codes, the audit trail. Times are RFC 3339 UTC
//! text, as elsewhere in this crate.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::Role;

/// Request header a device sends with every sync request: its app's version.
pub const APP_VERSION_HEADER: &str = "waypoint-app-version";
/// Request header a device sends with every sync request: how many records its outbox still
/// holds unacknowledged (a decimal number).
pub const PENDING_RECORDS_HEADER: &str = "waypoint-pending-records";

/// Scheme of the enrolment link a QR code carries: `waypoint-enrol:?server=..&code=..&fingerprint=..`.
pub const ENROLMENT_URI_SCHEME: &str = "waypoint-enrol";

/// Where a session was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SessionOrigin {
    /// A sign-in from an enrolled device (its credential beside the password).
    Device,
    /// A sign-in to the web console.
    Console,
    /// A sign-in with neither (a script, `curl`), or an MFA enrolment's first session (until the
    /// console adopts it into its cookie: then `Console`).
    Api,
    /// A session made before the server recorded where sessions come from.
    Unknown,
}

impl SessionOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionOrigin::Device => "device",
            SessionOrigin::Console => "console",
            SessionOrigin::Api => "api",
            SessionOrigin::Unknown => "unknown",
        }
    }

    pub fn parse(text: Option<&str>) -> Self {
        match text {
            Some("device") => SessionOrigin::Device,
            Some("console") => SessionOrigin::Console,
            Some("api") => SessionOrigin::Api,
            _ => SessionOrigin::Unknown,
        }
    }
}

/// One live session of a user (the token itself is never shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    /// None for a session made before the server recorded it.
    pub created_at: Option<String>,
    /// To about a minute.
    pub last_used_at: Option<String>,
    pub expires_at: String,
    pub origin: SessionOrigin,
    /// The device signed in from, when `origin` is `device`.
    pub device_id: Option<String>,
}

/// A user as the admin console lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserInfo {
    pub username: String,
    pub role: Role,
    /// The officer id (badge number) the user's reports carry.
    pub officer_id: String,
    pub enabled: bool,
    /// Locked after too many failed sign-ins, until `locked_until` or an admin unlocks it.
    pub locked: bool,
    pub locked_until: Option<String>,
    pub mfa_enrolled: bool,
    pub last_sign_in_at: Option<String>,
    /// Sessions that still work (not expired, not idle too long), newest first.
    pub sessions: Vec<SessionInfo>,
}

/// `POST /v1/admin/users`: a new user (the rules of `waypoint-server user add`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewUser {
    /// 1 to 64 of letters, digits, `.`, `_`, `-`, `@`.
    pub username: String,
    pub role: Role,
    /// The badge number their reports carry; default: the username.
    #[serde(default)]
    pub officer_id: Option<String>,
    /// At least 10 characters.
    pub password: String,
}

/// `POST /v1/admin/users/{username}/role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleChange {
    pub role: Role,
}

/// A device as the admin console lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceInfo {
    pub device_id: String,
    pub enrolled_at: String,
    /// Last authenticated request, to about a minute.
    pub last_seen_at: Option<String>,
    pub revoked: bool,
    pub revoked_at: Option<String>,
    /// The user who last signed in on this device, and when.
    pub last_officer: Option<String>,
    pub last_officer_signed_in_at: Option<String>,
    /// What the device last reported with a sync request (none before its first sync with an
    /// app that reports).
    pub app_version: Option<String>,
    #[ts(type = "number | null")]
    pub pending_records: Option<u64>,
    pub reported_at: Option<String>,
    /// The agency configuration version it last reported using (none before it reported one).
    pub config_version: Option<u32>,
    /// Until when an unused re-enrolment code (a rotation) waits for this device.
    pub reenrolment_until: Option<String>,
}

/// `POST /v1/admin/enrollments` and `POST /v1/admin/devices/{device_id}/rotate`: a one-time code
/// for enrolling one device, with what the device checks the server by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollmentCode {
    pub code: String,
    /// RFC 3339.
    pub expires_at: String,
    /// SHA-256 of the server's TLS certificate (colon-separated hex), what the device pins; none
    /// when the server does not serve TLS itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub certificate_fingerprint: Option<String>,
    /// The address the device reaches the server at, as this request reached it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub server_url: Option<String>,
    /// `waypoint-enrol:?server=..&code=..&fingerprint=..`: what the QR code holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub enrolment_uri: Option<String>,
    /// The QR code of `enrolment_uri` as an SVG document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub qr_svg: Option<String>,
    /// Set for a rotation: the code re-enrols only this device (under the same id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub device_id: Option<String>,
}

/// One row of the server's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    #[ts(type = "number")]
    pub seq: u64,
    /// RFC 3339 UTC with microseconds.
    pub at: String,
    pub actor: String,
    pub client: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// `GET /v1/admin/audit`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` for the next (older) page; none on the last page.
    #[ts(type = "number | null")]
    pub next_before: Option<u64>,
}

/// `GET /v1/admin/audit/verify`: what `waypoint-server audit verify` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditVerification {
    pub intact: bool,
    /// Rows checked (when intact).
    #[ts(type = "number")]
    pub rows: u64,
    /// The last row's hash (when intact): note it, a later verify ending elsewhere shows a rewrite.
    pub head_hash: Option<String>,
    /// The first row that does not fit, and why (when broken).
    #[ts(type = "number | null")]
    pub broken_at: Option<u64>,
    pub reason: Option<String>,
}
