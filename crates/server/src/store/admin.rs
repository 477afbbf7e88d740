//! What the admin console reads and writes beside [`super::AccountStore`]: where sessions come
//! from, role changes, devices with their last officer and last report, re-enrolment codes (a
//! rotation), the audit trail searched newest first, and filtered exports. A supertrait of
//! [`super::Store`], implemented in `sqlite_store/admin.rs` and `postgres_store/admin.rs`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use waypoint_protocol::{Role, SessionOrigin};

use super::audit::AuditRow;
use super::{StoreResult, StoredVersion};

/// A live session as the users page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub username: String,
    pub created_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    pub origin: SessionOrigin,
    pub device_id: Option<String>,
}

/// A device with what the console lists beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceDetail {
    pub device_id: String,
    pub enrolled_at: DateTime<Utc>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The newest officer credential issued on it: who signed in last, and when.
    pub last_officer: Option<String>,
    pub last_officer_signed_in_at: Option<DateTime<Utc>>,
    pub app_version: Option<String>,
    pub pending_records: Option<u64>,
    pub reported_at: Option<DateTime<Utc>>,
    /// The agency configuration version it last reported using (`device_config_versions`).
    pub config_version: Option<u32>,
    /// The latest expiry of an unused re-enrolment code bound to it.
    pub reenrolment_until: Option<DateTime<Utc>>,
}

/// What a device says about itself with a sync request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceReport {
    pub app_version: Option<String>,
    pub pending_records: Option<u64>,
    /// The agency configuration version it uses (`CONFIG_VERSION_HEADER`).
    pub config_version: Option<u32>,
}

/// An audit search: each filter set narrows it; newest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    /// Words of the target, case-insensitively, anywhere in it.
    pub target: Option<String>,
    /// On `at` as stored (RFC 3339 UTC with microseconds): from (inclusive), to (exclusive).
    pub from: Option<String>,
    pub to: Option<String>,
    /// Only rows with a lower seq (the cursor of the page before).
    pub before: Option<u64>,
    pub limit: usize,
}

/// An export: every version of each encounter that matches, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExportFilter {
    /// On the version's `received_at`: from (inclusive), to (exclusive).
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// The username or officer id (badge number) that pushed the version.
    pub officer: Option<String>,
    /// The encounter's review state now: `submitted`, `approved` or `returned`.
    pub state: Option<String>,
}

/// `%`, `_` and the escape character itself taken literally in a `LIKE ... ESCAPE '\'` pattern.
pub fn like_pattern(words: &str) -> String {
    let mut pattern = String::from("%");
    for c in words.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[async_trait]
pub trait AdminStore: Send + Sync {
    /// Records when and from where the session `token_hash` started (right after it is added).
    async fn describe_session(
        &self,
        token_hash: &str,
        created_at: DateTime<Utc>,
        origin: SessionOrigin,
        device_id: Option<&str>,
    ) -> StoreResult<()>;

    /// Records that the session `token_hash` is now used from `origin` (an MFA enrolment's first
    /// session, adopted by the console into its cookie).
    async fn set_session_origin(&self, token_hash: &str, origin: SessionOrigin) -> StoreResult<()>;

    /// Every user's officer id (badge number): (username, officer id).
    async fn officer_ids(&self) -> StoreResult<Vec<(String, String)>>;

    /// Every session not past its absolute end, newest first (idle ones are the caller's to drop).
    async fn live_sessions(&self, now: DateTime<Utc>) -> StoreResult<Vec<SessionRow>>;

    /// Changes a user's role and ends their sessions (each held the old role); `NotFound` for an
    /// unknown user.
    async fn set_role(&self, username: &str, role: Role) -> StoreResult<()>;

    /// Every enrolled device with its last officer and report, oldest enrolment first.
    async fn device_details(&self, now: DateTime<Utc>) -> StoreResult<Vec<DeviceDetail>>;

    /// Stores what a device reported about itself (fields left `None` keep their value).
    async fn record_device_report(&self, device_id: &str, report: &DeviceReport, at: DateTime<Utc>) -> StoreResult<()>;

    /// A rotation, in one transaction: revokes the device's token (and its officer credentials)
    /// and stores a one-time code that enrols only this device id again. `NotFound` for an
    /// unknown device.
    async fn add_reenrolment(&self, device_id: &str, code_hash: &str, expires_at: DateTime<Utc>) -> StoreResult<()>;

    /// Audit rows matching `filter`, newest first, at most `filter.limit`.
    async fn search_audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRow>>;

    /// Stored versions matching `filter`, in the order received.
    async fn export_versions(&self, filter: &ExportFilter) -> StoreResult<Vec<StoredVersion>>;
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(super::like_pattern("user a_b%"), "%user a\\_b\\%%");
        assert_eq!(super::like_pattern("c\\d"), "%c\\\\d%");
    }
}
