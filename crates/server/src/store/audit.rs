//! What the audit trail keeps (see [`crate::audit`] for how the rest of the server writes to it).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use waypoint_protocol::audit::{AuditPushResponse, DeviceAuditEntry};

use super::StoreResult;

/// One event to append; the store numbers, times and chains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEvent {
    pub actor: String,
    pub client: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
}

/// One row of the server's audit trail as stored (what `audit export` prints, one JSON a line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub seq: u64,
    /// RFC 3339 UTC with microseconds: hashed as this text.
    pub at: String,
    /// A username, a device id, or `cli` for the admin commands.
    pub actor: String,
    /// The client's address as the server saw it (a proxy's, behind one); none for the CLI.
    pub client: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// Where a device's pushed audit log stands on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceAuditStatus {
    pub device_id: String,
    /// 0 until the first break; each break starts the next.
    pub segment: i64,
    pub last_seq: i64,
    pub last_hash: String,
    /// The reasons of the breaks found so far, oldest first (empty: one unbroken chain).
    pub breaks: Vec<String>,
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends one event at the end of the chain, serialized with every other append (SQLite: the
    /// one connection; PostgreSQL: the `audit_head` row lock, held to commit).
    async fn append_audit(&self, event: NewAuditEvent) -> StoreResult<AuditRow>;

    /// Up to `limit` rows with `seq > after_seq`, in seq order.
    async fn audit_rows(&self, after_seq: u64, limit: usize) -> StoreResult<Vec<AuditRow>>;

    /// The last seq and hash written, as `audit_head` records them.
    async fn audit_head(&self) -> StoreResult<(u64, String)>;

    /// Stores a device's audit rows where they continue its chain; a break (rows rewritten,
    /// missing, or not matching their hash) starts a new segment, is recorded and flagged, and
    /// gets a server audit event in the same transaction. See [`crate::audit::place_device_entries`].
    async fn push_device_audit(
        &self,
        device_id: &str,
        entries: Vec<DeviceAuditEntry>,
    ) -> StoreResult<AuditPushResponse>;

    async fn device_audit_status(&self, device_id: &str) -> StoreResult<Option<DeviceAuditStatus>>;
}
