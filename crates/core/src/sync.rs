//! The device side of sync. The outbox is drained in batches sized by bytes; every record gets
//! an acknowledgement that settles it (stored, duplicate, conflict) or marks it "needs attention"
//! (rejected, with the server's reason) without holding back the records behind it. Pulled pages
//! (review results, directory changes) are applied with their cursor in one transaction.
//!
//! The network is behind [`Transport`], so the same engine runs over HTTP in the app and over
//! a model server in the property test.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;
use waypoint_protocol::{
    AckStatus, Change, ChangeKind, PullResponse, PushResponse, RawPushRecord, RawPushRequest, RecordAck,
};

use crate::audit;
use crate::error::{Error, Result};
use crate::model::{EncounterStatus, Review};
use crate::store::{timestamp, Store};

const CURSOR_KEY: &str = "sync_cursor";
const LAST_SYNC_KEY: &str = "last_sync_at";
/// Batches stay under this many body bytes (one oversized record still goes alone). A dropped
/// connection wastes at most the request it cut: at 192 KiB that is ~9 KB of zstd on the wire,
/// under 1 % of a 10,000-report push or a 30,000-service pull (256 KiB could waste 1.2 %). Smaller
/// costs round trips: 128 KiB made the push ~20 % slower and 11 % bigger.
pub const DEFAULT_BATCH_BYTES: usize = 192 * 1024;

/// Why a round trip failed. None of these changes the outbox: the next attempt resends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// No connection, a cut connection or a timeout.
    Unreachable(String),
    /// The server asked to wait (HTTP 429/503 with Retry-After).
    RetryAfter(std::time::Duration),
    /// The device credential or session is not accepted.
    Unauthorized(String),
    /// Anything else the server said.
    Server(String),
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::Unreachable(why) => write!(f, "server unreachable: {why}"),
            TransportError::RetryAfter(wait) => write!(f, "server busy: retry after {} s", wait.as_secs()),
            TransportError::Unauthorized(why) => write!(f, "not authorized: {why}"),
            TransportError::Server(why) => write!(f, "server error: {why}"),
        }
    }
}

pub trait Transport {
    /// Sends one batch (the wire form of a [`waypoint_protocol::PushRequest`]: bodies as the outbox holds them).
    fn push(&mut self, request: &RawPushRequest) -> std::result::Result<PushResponse, TransportError>;
    fn pull(&mut self, cursor: u64, max_bytes: usize) -> std::result::Result<PullResponse, TransportError>;
}

/// A version's place in sync, as the officer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SyncState {
    Pending { attempts: u32 },
    Synced { at: Option<String>, note: Option<String> },
    NeedsAttention { reason: String },
}

/// What one `sync_once` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SyncReport {
    pub pushed: u32,
    pub stored: u32,
    pub duplicates: u32,
    pub conflicts: u32,
    pub rejected: u32,
    pub pulled: u32,
    pub requests: u32,
    /// Services taken from the server's directory snapshot (a fresh device's first round).
    pub snapshot_services: u32,
}

/// What a review result in the pull feed carries (key: the encounter id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewResultBody {
    pub version: u32,
    pub decision: EncounterStatus,
    pub comment: Option<String>,
    pub reviewer: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug)]
pub enum SyncError {
    Transport(TransportError),
    Store(Error),
}

impl From<Error> for SyncError {
    fn from(error: Error) -> Self {
        SyncError::Store(error)
    }
}

impl From<TransportError> for SyncError {
    fn from(error: TransportError) -> Self {
        SyncError::Transport(error)
    }
}

impl std::fmt::Display for SyncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncError::Transport(e) => e.fmt(f),
            SyncError::Store(e) => e.fmt(f),
        }
    }
}

/// The oldest pending records after sequence number `after` (those already sent in this round),
/// in sequence order, up to `max_bytes` of bodies.
pub fn outbox_batch(store: &Store, after: u64, max_bytes: usize) -> Result<Vec<RawPushRecord>> {
    let mut stmt = store.connection().prepare_cached(
        // The version's own row stands in for a missing body row (none should be): a record
        // is never left pending unseen.
        "SELECT o.seq, o.encounter_id, o.version, o.content_hash,
                COALESCE(b.body, (SELECT v.body FROM encounter_versions v
                                  WHERE v.encounter_id = o.encounter_id AND v.version = o.version), 'null')
         FROM outbox o LEFT JOIN outbox_body b ON b.seq = o.seq
         WHERE o.state = 'pending' AND o.seq > ?1 ORDER BY o.seq LIMIT 1000",
    )?;
    let mut rows = stmt.query([after as i64])?;
    let mut batch = Vec::new();
    let mut bytes = 0usize;
    while let Some(row) = rows.next()? {
        let body: String = row.get(4)?;
        if !batch.is_empty() && bytes + body.len() > max_bytes {
            break;
        }
        bytes += body.len();
        let id: String = row.get(1)?;
        batch.push(RawPushRecord {
            seq: row.get::<_, i64>(0)? as u64,
            encounter_id: Uuid::parse_str(&id).map_err(|e| Error::InvalidState(format!("bad id in outbox: {e}")))?,
            version: row.get(2)?,
            content_hash: row.get(3)?,
            // Sent as stored: the canonical JSON that was hashed (checked as JSON, not parsed
            // into a tree).
            body: serde_json::value::RawValue::from_string(body)?,
        });
    }
    Ok(batch)
}

/// Settles the records the server acknowledged, in one transaction. Acks for records this device
/// does not hold pending are ignored (a duplicate reply). Not forced to disk (no fsync): the
/// server holds the records durably before it acknowledges, so if a power cut undoes this
/// transaction the records are simply sent again and re-acknowledged as duplicates.
///
/// The audit log gets one event per reply for the records it settled, and one per record that
/// needs a person's attention (rejected, or a conflict on the server).
pub fn apply_acks(store: &Store, acks: &[RecordAck], report: &mut SyncReport) -> Result<()> {
    let now = Utc::now();
    let at = timestamp(now);
    store.transaction(|tx| {
        let mut settle = tx.prepare_cached(
            "UPDATE outbox SET state = ?1, last_error = ?2, acknowledged_at = ?3, attempts = attempts + 1
             WHERE seq = ?4 AND encounter_id = ?5 AND version = ?6 AND state = 'pending'",
        )?;
        let mut settled = SyncReport::default();
        for ack in acks {
            let (state, note) = match ack.status {
                AckStatus::Stored | AckStatus::Duplicate => ("acknowledged", None),
                AckStatus::Conflict => (
                    "acknowledged",
                    Some("the server already held different content for this version; both were kept".to_string()),
                ),
                AckStatus::Rejected => {
                    ("rejected", Some(ack.reason.clone().unwrap_or_else(|| "rejected without a reason".into())))
                }
            };
            let changed =
                settle.execute(params![state, note, at, ack.seq as i64, ack.encounter_id.to_string(), ack.version])?;
            if changed == 0 {
                continue;
            }
            match ack.status {
                AckStatus::Stored => settled.stored += 1,
                AckStatus::Duplicate => settled.duplicates += 1,
                AckStatus::Conflict => settled.conflicts += 1,
                AckStatus::Rejected => settled.rejected += 1,
            }
            if let (Some(note), AckStatus::Rejected | AckStatus::Conflict) = (&note, ack.status) {
                let record = format!("{} v{}", ack.encounter_id, ack.version);
                let outcome = match ack.status {
                    AckStatus::Rejected => format!("rejected: {note}"),
                    _ => format!("conflict: {note}"),
                };
                audit::append(tx, now, store.officer_id(), store.device_id(), "sync", Some(&record), &outcome)?;
            }
        }
        if settled.stored + settled.duplicates > 0 {
            let outcome = format!("{} stored, {} already held", settled.stored, settled.duplicates);
            audit::append(tx, now, store.officer_id(), store.device_id(), "sync", None, &outcome)?;
        }
        report.stored += settled.stored;
        report.duplicates += settled.duplicates;
        report.conflicts += settled.conflicts;
        report.rejected += settled.rejected;
        Ok(())
    })
}

pub fn cursor(store: &Store) -> Result<u64> {
    let value: Option<String> =
        store.connection().query_row("SELECT value FROM meta WHERE key = ?1", [CURSOR_KEY], |r| r.get(0)).optional()?;
    Ok(value.and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// Splits a pulled page into its directory changes (everything but review results), to be applied
/// together (one index refresh per page) before [`apply_pull`] stores the page's cursor, and the
/// page with only its review results. Directory changes are applied idempotently: they are
/// re-sent if that commit is lost. They go to the directory, not the encrypted store, so they are
/// applied without holding the store's lock. Moves the changes (no copy of their bodies).
pub fn split_page(page: PullResponse) -> (Vec<Change>, PullResponse) {
    let PullResponse { changes, cursor, more } = page;
    let (reviews, directory): (Vec<Change>, Vec<Change>) =
        changes.into_iter().partition(|c| c.kind == ChangeKind::ReviewResult);
    (directory, PullResponse { changes: reviews, cursor, more })
}

/// Applies one pulled page's review results and stores its cursor in the same transaction (its
/// directory changes, see [`split_page`], are applied first, by the caller). Not forced to disk: a page undone by
/// a power cut is pulled and applied again (applying is idempotent).
pub fn apply_pull(store: &Store, page: &PullResponse) -> Result<u32> {
    store.transaction(|tx| {
        let mut applied = 0;
        for change in page.changes.iter().filter(|c| c.kind == ChangeKind::ReviewResult) {
            match apply_review_change(store, tx, change) {
                Ok(()) => applied += 1,
                // A report made on another device: nothing to update here.
                Err(Error::NotFound(_)) => {}
                // A review this device cannot apply (malformed, or for a version in a state that
                // does not take it) is kept in the audit log and skipped: the feed goes on.
                Err(error @ (Error::InvalidState(_) | Error::Json(_) | Error::Validation { .. })) => {
                    tracing::warn!(seq = change.seq, %error, "skipped a review result");
                    let outcome = format!("review result {} skipped: {error}", change.seq);
                    audit::append(
                        tx,
                        Utc::now(),
                        store.officer_id(),
                        store.device_id(),
                        "sync",
                        Some(&change.key),
                        &outcome,
                    )?;
                }
                Err(other) => return Err(other),
            }
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![CURSOR_KEY, page.cursor.to_string()],
        )?;
        Ok(applied)
    })
}

fn apply_review_change(store: &Store, tx: &rusqlite::Transaction, change: &Change) -> Result<()> {
    let id = Uuid::parse_str(&change.key)
        .map_err(|_| Error::InvalidState(format!("review result for a bad id `{}`", change.key)))?;
    let body: ReviewResultBody = serde_json::from_value(change.body.clone())?;
    let review = Review { decision: body.decision, comment: body.comment, reviewer: body.reviewer, at: body.at };
    store.apply_review_in(tx, id, body.version, review)?;
    Ok(())
}

/// Records the end of a complete round.
pub fn mark_synced(store: &Store) -> Result<()> {
    store.connection().execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![LAST_SYNC_KEY, timestamp(Utc::now())],
    )?;
    Ok(())
}

pub fn last_sync_at(store: &Store) -> Result<Option<String>> {
    Ok(store
        .connection()
        .query_row("SELECT value FROM meta WHERE key = ?1", [LAST_SYNC_KEY], |r| r.get(0))
        .optional()?)
}

/// The sync state of one submitted version; `None` for drafts.
pub fn state_of(store: &Store, id: Uuid, version: u32) -> Result<Option<SyncState>> {
    let row: Option<(String, u32, Option<String>, Option<String>)> = store
        .connection()
        .query_row(
            "SELECT state, attempts, last_error, acknowledged_at FROM outbox WHERE encounter_id = ?1 AND version = ?2",
            params![id.to_string(), version],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    Ok(row.map(|(state, attempts, last_error, at)| match state.as_str() {
        "pending" => SyncState::Pending { attempts },
        "rejected" => SyncState::NeedsAttention { reason: last_error.unwrap_or_default() },
        _ => SyncState::Synced { at, note: last_error },
    }))
}

/// Starts the pull feed from the beginning (a device enrolled with another server).
pub fn forget_feed_position(store: &Store) -> Result<()> {
    store.connection().execute("DELETE FROM meta WHERE key = ?1", [CURSOR_KEY])?;
    Ok(())
}

/// Sets where the pull feed continues (after a directory snapshot taken at that position).
pub fn set_cursor(store: &Store, cursor: u64) -> Result<()> {
    store.connection().execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![CURSOR_KEY, cursor.to_string()],
    )?;
    Ok(())
}
