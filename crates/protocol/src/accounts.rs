//! Wire types and error kinds of sign-in with MFA, logout and device credential changes.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::LoginResponse;

/// Error kind (401) of a sign-in whose password was right but that needs the user's TOTP code
/// (or a recovery code) in `totp`: the client shows a code field and sends the sign-in again.
pub const ERROR_MFA_REQUIRED: &str = "mfa_required";
/// Error kind (401) of any request made with a device token an admin revoked: the device should
/// stop syncing and tell its user (the wipe itself is the device hardening issue's).
pub const ERROR_DEVICE_REVOKED: &str = "device_revoked";
/// Error kind (429) of a client address that sent too many sign-in or enrolment requests; the
/// `Retry-After` header says how many seconds to wait.
pub const ERROR_RATE_LIMITED: &str = "rate_limited";

/// Reply (202) to a right password of a user who must use MFA and has not enrolled: the token
/// reaches only the enrolment endpoints, for a few minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MfaEnrolmentRequired {
    /// Bearer credential for `/v1/mfa/enrolment` and `/v1/mfa/enrolment/confirm` only.
    pub enrolment_token: String,
    /// RFC 3339.
    pub expires_at: String,
    pub message: String,
}

/// A new TOTP secret to add to an authenticator app (not active until confirmed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MfaEnrolmentStart {
    /// `otpauth://totp/...`, what the QR code encodes.
    pub otpauth_url: String,
    /// The same as a PNG image, base64-encoded (for `<img src="data:image/png;base64,...">`).
    pub qr_png_base64: String,
    /// Base32, for typing into an app that cannot scan.
    pub secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MfaConfirmRequest {
    /// The current 6-digit code of the new secret.
    pub code: String,
}

/// Enrolment done: a session, and recovery codes shown this once (each signs in once instead of
/// a TOTP code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MfaConfirmResponse {
    pub session: LoginResponse,
    pub recovery_codes: Vec<String>,
}

/// A device's new token; the one it called with no longer works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceTokenRotation {
    pub device_token: String,
}
