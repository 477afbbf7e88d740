//! The outbox side of sync: submitted versions are read in batches sized by bytes, and every
//! record gets an acknowledgement that settles it (stored, duplicate, conflict) or marks it
//! "needs attention" (rejected, with the server's reason) without holding back the records
//! behind it.

use chrono::Utc;
use rusqlite::params;
use uuid::Uuid;
use waypoint_protocol::{AckStatus, RawPushRecord, RecordAck};

use super::SyncReport;
use crate::audit;
use crate::error::{Error, Result};
use crate::store::{timestamp, Store};

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

/// Records waiting for the server's acknowledgement (what the device reports with each sync).
pub fn pending_count(store: &Store) -> Result<u64> {
    let count: i64 =
        store.connection().query_row("SELECT COUNT(*) FROM outbox WHERE state = 'pending'", [], |r| r.get(0))?;
    Ok(count.max(0) as u64)
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
