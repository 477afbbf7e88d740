//! What sign-in, MFA, lockout and revocation keep: the account state of users, sessions' last
//! use, MFA enrolments and recovery codes, devices' last contact and revocation. A supertrait of
//! [`super::Store`], implemented by both stores (`sqlite_store/accounts.rs`,
//! `postgres_store/accounts.rs`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use waypoint_protocol::Role;

use super::StoreResult;

/// A user with everything sign-in needs to decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAccount {
    pub username: String,
    pub role: Role,
    /// Argon2 PHC string.
    pub password_hash: String,
    /// `false`: disabled by an admin; cannot sign in, sessions refused.
    pub enabled: bool,
    /// Failed sign-ins since the last success or lock.
    pub failed_sign_ins: u32,
    pub locked_until: Option<DateTime<Utc>>,
    /// Base32 TOTP secret once MFA enrolment was confirmed.
    pub totp_secret: Option<String>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
}

impl UserAccount {
    pub fn is_locked(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }
}

/// A session as the credential check sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionState {
    pub username: String,
    pub role: Role,
    /// Absolute end, set at sign-in.
    pub expires_at: DateTime<Utc>,
    /// Recorded at most about once a minute (see `auth`), so idle time is measured to that grain.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A device token's owner and state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCredential {
    pub device_id: String,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_seen_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSummary {
    pub device_id: String,
    pub enrolled_at: DateTime<Utc>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A started MFA enrolment: whose, until when, and the secret once shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaEnrolment {
    pub username: String,
    pub expires_at: DateTime<Utc>,
    pub secret: Option<String>,
}

/// Account administration and sign-in state. Methods naming a user or device that does not
/// exist fail with `StoreError::NotFound` unless they say otherwise.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// `None` when there is no such user.
    async fn user_account(&self, username: &str) -> StoreResult<Option<UserAccount>>;
    /// Every user, by username.
    async fn user_accounts(&self) -> StoreResult<Vec<UserAccount>>;

    /// Counts one failed sign-in of an unlocked account; the `max_failures`th locks it until
    /// `lock_until` and starts the count again. An unknown or already locked user changes nothing
    /// (the query runs all the same: see "timing" in docs/server.md). Returns whether it locked now.
    async fn record_failed_sign_in(
        &self,
        username: &str,
        now: DateTime<Utc>,
        max_failures: u32,
        lock_until: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// A successful sign-in: clears the failure count and records the time.
    async fn record_sign_in(&self, username: &str, at: DateTime<Utc>) -> StoreResult<()>;

    /// Disabling also ends every session of the user.
    async fn set_user_enabled(&self, username: &str, enabled: bool) -> StoreResult<()>;
    async fn unlock_user(&self, username: &str) -> StoreResult<()>;
    /// Sets a new password hash and ends every session of the user.
    async fn set_password_hash(&self, username: &str, password_hash: &str) -> StoreResult<()>;

    /// Completes MFA enrolment: the secret, fresh recovery codes (hashes; earlier ones dropped).
    async fn set_totp(&self, username: &str, secret: &str, recovery_code_hashes: &[String]) -> StoreResult<()>;
    /// Drops the secret, the recovery codes, pending enrolments and every session: the user
    /// enrols again at the next sign-in.
    async fn reset_mfa(&self, username: &str) -> StoreResult<()>;
    /// Spends an unused recovery code; `false` when it is unknown or spent.
    async fn use_recovery_code(&self, username: &str, code_hash: &str, at: DateTime<Utc>) -> StoreResult<bool>;
    async fn unused_recovery_codes(&self, username: &str) -> StoreResult<u32>;

    async fn add_mfa_enrolment(&self, token_hash: &str, username: &str, expires_at: DateTime<Utc>) -> StoreResult<()>;
    async fn mfa_enrolment(&self, token_hash: &str) -> StoreResult<Option<MfaEnrolment>>;
    async fn set_mfa_enrolment_secret(&self, token_hash: &str, secret: &str) -> StoreResult<()>;
    /// Ends an enrolment (used or abandoned). Also sweeps expired ones.
    async fn end_mfa_enrolment(&self, token_hash: &str) -> StoreResult<()>;

    async fn session_state(&self, token_hash: &str) -> StoreResult<Option<SessionState>>;
    async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// `false` when there was no such session.
    async fn end_session(&self, token_hash: &str) -> StoreResult<bool>;

    async fn device_credential(&self, token_hash: &str) -> StoreResult<Option<DeviceCredential>>;
    async fn touch_device(&self, device_id: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// Every enrolled device, oldest enrolment first.
    async fn devices(&self) -> StoreResult<Vec<DeviceSummary>>;
    /// Marks the device revoked (its token is kept, so its next contact is told so). Revoking
    /// again keeps the first time.
    async fn revoke_device(&self, device_id: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// Replaces the token of a device that is not revoked; `false` if it is (or is unknown).
    async fn rotate_device_token(&self, device_id: &str, new_token_hash: &str) -> StoreResult<bool>;
}
