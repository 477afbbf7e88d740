//! TOTP (RFC 6238, via totp-rs): 6 digits, 30-second steps, one step of clock drift either way,
//! SHA-1 (what every authenticator app supports). Recovery codes are one-time codes in the
//! enrollment-code alphabet, stored SHA-256 hashed like every other random credential.

use totp_rs::{Builder, Secret, Totp};
use waypoint_protocol::MfaEnrolmentStart;

use crate::auth;

/// The name authenticator apps show beside the account.
pub const ISSUER: &str = "Waypoint";
/// Recovery codes issued at enrolment.
pub const RECOVERY_CODES: usize = 10;

/// A new random secret (160 bits), base32 as stored and shown.
pub fn new_secret() -> String {
    Secret::generate().to_base32()
}

fn totp(secret: &str, username: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret).ok()?;
    // The otpauth label separates issuer and account with ':'.
    let account = username.replace(':', "_");
    Builder::new().with_secret(secret).with_account_name(account).with_issuer(Some(ISSUER)).build().ok()
}

/// Whether `code` (spaces ignored) is the current code of `secret`, give or take one step.
pub fn code_matches(secret: &str, code: &str) -> bool {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    totp(secret, "user").is_some_and(|totp| totp.check_current(&code).is_some())
}

/// The code an authenticator app shows now (tests, benchmarks).
pub fn current_code(secret: &str) -> String {
    totp(secret, "user").expect("a valid base32 secret").generate_current().to_string()
}

/// What the enrolment screen shows: the otpauth URL, its QR code, the secret to type.
pub fn enrolment_start(secret: &str, username: &str) -> Result<MfaEnrolmentStart, String> {
    let totp = totp(secret, username).ok_or("the stored MFA secret is unreadable")?;
    Ok(MfaEnrolmentStart {
        otpauth_url: totp.to_url().map_err(|e| e.to_string())?,
        qr_png_base64: totp.to_qr_base64().map_err(|e| e.to_string())?,
        secret: secret.to_string(),
    })
}

/// Fresh recovery codes, as shown to the user once.
pub fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES).map(|_| auth::new_enrollment_code()).collect()
}

/// The hash a recovery code is stored under (case and dashes do not matter).
pub fn recovery_code_hash(code: &str) -> String {
    auth::enrollment_code_hash(code)
}

/// Whether a sign-in's `totp` looks like a recovery code rather than a 6-digit TOTP code.
pub fn is_recovery_code(code: &str) -> bool {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).count() > 8
}
