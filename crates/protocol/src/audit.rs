//! Hash-chained audit logs, shared by the device and the server: the chain hash both compute, and
//! the wire types of `POST /v1/sync/audit` (a device pushing its own audit log).
//!
//! A row's hash is the SHA-256 of the previous row's hash and the row's fields, each
//! length-prefixed (so no two different rows hash alike by moving text between fields). The first
//! row follows [`GENESIS`].

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The "previous hash" of the first row of a chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Lower-case hex SHA-256 over `prev_hash` and `fields` (a `None` field hashes as one NUL byte,
/// distinct from an empty string).
pub fn chain_hash(prev_hash: &str, fields: &[Option<&str>]) -> String {
    let mut hasher = Sha256::new();
    for field in std::iter::once(prev_hash).chain(fields.iter().map(|f| f.unwrap_or("\u{0}"))) {
        hasher.update((field.len() as u64).to_le_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// One row of a device's audit log as the device holds it and pushes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceAuditEntry {
    /// 1, 2, 3, ... on each device.
    pub seq: i64,
    /// RFC 3339 UTC time as the device wrote it.
    pub at: String,
    /// The officer signed in on the device.
    pub actor: String,
    pub device: String,
    pub action: String,
    pub record_id: Option<String>,
    pub outcome: String,
    /// The hash of the device's row `seq - 1` ([`GENESIS`] for row 1).
    pub prev_hash: String,
    /// [`DeviceAuditEntry::expected_hash`] as the device computed it.
    pub hash: String,
}

impl DeviceAuditEntry {
    /// The hash this row must carry after `prev_hash` (the device's chain function).
    pub fn expected_hash(&self, prev_hash: &str) -> String {
        device_entry_hash(
            prev_hash,
            self.seq,
            &self.at,
            &self.actor,
            &self.device,
            &self.action,
            self.record_id.as_deref(),
            &self.outcome,
        )
    }
}

/// The device log's chain hash of one row (what `waypoint_core::audit` stores).
#[allow(clippy::too_many_arguments)]
pub fn device_entry_hash(
    prev_hash: &str,
    seq: i64,
    at: &str,
    actor: &str,
    device: &str,
    action: &str,
    record_id: Option<&str>,
    outcome: &str,
) -> String {
    let seq = seq.to_string();
    chain_hash(prev_hash, &[Some(&seq), Some(at), Some(actor), Some(device), Some(action), record_id, Some(outcome)])
}

/// Device -> server: the audit rows after the last one the server acknowledged, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPushRequest {
    pub entries: Vec<DeviceAuditEntry>,
}

/// What the server did with a device's audit rows. Every row sent is settled: the device does
/// not send them again. A break in the chain is stored and flagged, not refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPushResponse {
    /// Rows stored now.
    pub stored: u32,
    /// Rows the server already held, identical (a resend after a lost reply).
    pub duplicates: u32,
    /// The highest device seq the server holds for this device.
    pub last_seq: i64,
    /// The hash of that row.
    pub last_hash: String,
    /// Set when the rows do not continue the chain the server holds (rewritten, truncated or
    /// changed log): why, per break. The server keeps the new rows as a new segment, flags the
    /// device and writes a server audit event.
    pub chain_breaks: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_boundary_shift_changes_the_hash() {
        assert_ne!(chain_hash(GENESIS, &[Some("ab"), Some("c")]), chain_hash(GENESIS, &[Some("a"), Some("bc")]));
        assert_ne!(chain_hash(GENESIS, &[None]), chain_hash(GENESIS, &[Some("")]));
        assert_eq!(chain_hash(GENESIS, &[Some("x")]).len(), 64);
    }
}
