//! How a device guards itself, part of the agency configuration: how soon it locks, what an
//! officer unlocks it with, how many wrong tries it takes. An admin sets it once on the server
//! (the console's configuration page); it reaches every device through the pull feed with the
//! rest of the configuration. The core is the one place that checks a PIN or passphrase against
//! it (at setup and at a change); the UI asks the core.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};

/// What an officer unlocks the device with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SecretKind {
    /// Digits only (a PIN typed on a car's touchscreen).
    Pin,
    /// Any characters, and not digits only.
    Passphrase,
    /// Either: the officer chooses.
    PinOrPassphrase,
}

/// The device security policy. Every field has a default, so a configuration saved before the
/// policy existed reads as the defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct DevicePolicy {
    /// Minutes without input before the app locks itself (a draft being typed is saved first).
    pub auto_lock_minutes: u32,
    pub secret_kind: SecretKind,
    /// Fewest characters (or digits) of the PIN or passphrase.
    pub secret_min_length: u32,
    /// Wrong unlock tries after which the device wipes its encrypted store and key.
    pub max_failed_unlocks: u32,
}

pub const DEFAULT_AUTO_LOCK_MINUTES: u32 = 15;
/// CJIS session lock: at most 30 minutes of inactivity.
pub const MAX_AUTO_LOCK_MINUTES: u32 = 30;
/// Fewest characters of any secret, and of a PIN (digits only).
pub const MIN_SECRET_LENGTH: u32 = 6;
/// Fewest characters an agency may ask of a passphrase-only policy.
pub const MIN_PASSPHRASE_LENGTH: u32 = 8;
pub const MAX_SECRET_LENGTH: u32 = 64;
pub const DEFAULT_MAX_FAILED_UNLOCKS: u32 = 10;
/// Fewer would wipe a device after a couple of fumbled tries in the dark.
pub const MIN_FAILED_UNLOCKS: u32 = 3;
pub const MAX_FAILED_UNLOCKS: u32 = 20;

/// The fields a policy refusal may name.
pub const POLICY_FIELDS: &[&str] =
    &["device_policy.auto_lock_minutes", "device_policy.secret_min_length", "device_policy.max_failed_unlocks"];

impl Default for DevicePolicy {
    fn default() -> Self {
        Self {
            auto_lock_minutes: DEFAULT_AUTO_LOCK_MINUTES,
            secret_kind: SecretKind::PinOrPassphrase,
            secret_min_length: MIN_SECRET_LENGTH,
            max_failed_unlocks: DEFAULT_MAX_FAILED_UNLOCKS,
        }
    }
}

impl DevicePolicy {
    /// The bounds every policy keeps (the field named is the policy's, for the console).
    pub fn check(&self) -> Result<()> {
        if !(1..=MAX_AUTO_LOCK_MINUTES).contains(&self.auto_lock_minutes) {
            return Err(policy_error(
                "auto_lock_minutes",
                format!("The auto-lock delay must be 1 to {MAX_AUTO_LOCK_MINUTES} minutes."),
            ));
        }
        let least = match self.secret_kind {
            SecretKind::Passphrase => MIN_PASSPHRASE_LENGTH,
            SecretKind::Pin | SecretKind::PinOrPassphrase => MIN_SECRET_LENGTH,
        };
        if !(least..=MAX_SECRET_LENGTH).contains(&self.secret_min_length) {
            return Err(policy_error(
                "secret_min_length",
                format!("The shortest {} must be {least} to {MAX_SECRET_LENGTH} characters.", self.secret_kind.noun()),
            ));
        }
        if !(MIN_FAILED_UNLOCKS..=MAX_FAILED_UNLOCKS).contains(&self.max_failed_unlocks) {
            return Err(policy_error(
                "max_failed_unlocks",
                format!("The wrong tries before a wipe must be {MIN_FAILED_UNLOCKS} to {MAX_FAILED_UNLOCKS}."),
            ));
        }
        Ok(())
    }

    /// Whether `secret` may protect the device; the refusal names the `passphrase` field and says
    /// what the agency asks for.
    pub fn check_secret(&self, secret: &str) -> Result<()> {
        let length = secret.chars().count();
        let digits_only = !secret.is_empty() && secret.chars().all(|c| c.is_ascii_digit());
        let min = self.secret_min_length as usize;
        let refuse = |message: String| Err(Error::validation("passphrase", message));
        match self.secret_kind {
            SecretKind::Pin if !digits_only => {
                refuse(format!("Your agency asks for a PIN: {min} or more digits only."))
            }
            SecretKind::Passphrase if digits_only => refuse(format!(
                "Your agency asks for a passphrase, not a PIN: {min} or more characters, not only digits."
            )),
            _ if length < min => refuse(format!("Use at least {min} {}.", self.secret_kind.units())),
            _ if length > MAX_SECRET_LENGTH as usize => refuse(format!("Use at most {MAX_SECRET_LENGTH} characters.")),
            _ => Ok(()),
        }
    }
}

impl SecretKind {
    fn noun(self) -> &'static str {
        match self {
            SecretKind::Pin => "PIN",
            SecretKind::Passphrase => "passphrase",
            SecretKind::PinOrPassphrase => "PIN or passphrase",
        }
    }

    fn units(self) -> &'static str {
        match self {
            SecretKind::Pin => "digits",
            SecretKind::Passphrase => "characters",
            SecretKind::PinOrPassphrase => "characters or digits",
        }
    }
}

/// A policy out of bounds names its field (`device_policy.FIELD`), so the console shows the
/// refusal beside the input.
fn policy_error(field: &str, message: String) -> Error {
    Error::validation(format!("device_policy.{field}"), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(kind: SecretKind, min: u32) -> DevicePolicy {
        DevicePolicy { secret_kind: kind, secret_min_length: min, ..DevicePolicy::default() }
    }

    fn refusal(result: Result<()>) -> String {
        match result {
            Err(Error::Validation { field, message }) => {
                assert_eq!(field, "passphrase");
                message
            }
            other => panic!("expected a refusal of the passphrase, got {other:?}"),
        }
    }

    #[test]
    fn the_default_takes_six_digits_or_six_characters_as_before() {
        let p = DevicePolicy::default();
        p.check().unwrap();
        p.check_secret("123456").unwrap();
        p.check_secret("horses").unwrap();
        assert!(refusal(p.check_secret("12345")).contains("at least 6"));
    }

    #[test]
    fn a_pin_policy_takes_digits_only() {
        let p = policy(SecretKind::Pin, 8);
        p.check_secret("20261202").unwrap();
        assert!(refusal(p.check_secret("2026120")).contains("at least 8 digits"));
        assert!(refusal(p.check_secret("correct horse")).contains("digits only"));
    }

    #[test]
    fn a_passphrase_policy_refuses_a_pin_and_a_short_phrase() {
        let p = policy(SecretKind::Passphrase, 12);
        p.check_secret("correct horse battery").unwrap();
        assert!(refusal(p.check_secret("123456789012345")).contains("not a PIN"));
        assert!(refusal(p.check_secret("short one")).contains("at least 12 characters"));
        assert!(refusal(p.check_secret(&"x".repeat(65))).contains("at most 64"));
    }

    #[test]
    fn the_bounds_are_kept_and_the_field_is_named() {
        let refused = |p: DevicePolicy| match p.check() {
            Err(Error::Validation { field, message }) => format!("{field}: {message}"),
            other => panic!("expected a refusal naming its field, got {other:?}"),
        };
        assert!(refused(DevicePolicy { auto_lock_minutes: 31, ..DevicePolicy::default() })
            .starts_with("device_policy.auto_lock_minutes: "));
        assert!(refused(DevicePolicy { auto_lock_minutes: 0, ..DevicePolicy::default() }).contains("1 to 30"));
        assert!(refused(policy(SecretKind::Pin, 4)).starts_with("device_policy.secret_min_length: "));
        assert!(refused(policy(SecretKind::Passphrase, 6)).contains("8 to 64"));
        assert!(refused(DevicePolicy { max_failed_unlocks: 2, ..DevicePolicy::default() })
            .starts_with("device_policy.max_failed_unlocks: "));
        for field in ["auto_lock_minutes", "secret_min_length", "max_failed_unlocks"] {
            assert!(POLICY_FIELDS.contains(&format!("device_policy.{field}").as_str()), "{field} is listed");
        }
        policy(SecretKind::Passphrase, 8).check().unwrap();
    }

    #[test]
    fn a_configuration_without_a_policy_reads_as_the_defaults() {
        let policy: DevicePolicy = serde_json::from_str("{}").unwrap();
        assert_eq!(policy, DevicePolicy::default());
        let partial: DevicePolicy = serde_json::from_str(r#"{"auto_lock_minutes": 5}"#).unwrap();
        assert_eq!(partial.auto_lock_minutes, 5);
        assert_eq!(partial.max_failed_unlocks, DEFAULT_MAX_FAILED_UNLOCKS);
    }
}
