//! The agency server's directory changes, applied on the device: a service added or changed
//! (its whole HSDS document), a service removed, a capacity update. Applying a page twice gives
//! the same directory (a page is re-sent when its cursor did not commit).

use rusqlite::{params, Connection, OptionalExtension};
use waypoint_protocol::{CapacityUpdate, Change, ChangeKind, SNAPSHOT_CAPACITY_KEY};

use super::model::{ImportReport, ServiceCapacity};
use super::{hsds, store, Directory};
use crate::error::{Error, Result};

/// Rows that belong to one service alone; its organization and locations may be shared and are
/// upserted by the new document instead.
fn remove_service_rows(c: &Connection, service_id: &str) -> Result<()> {
    let sals: Vec<String> = c
        .prepare("SELECT id FROM service_at_location WHERE service_id = ?1")?
        .query_map([service_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for sal in &sals {
        c.execute("DELETE FROM phone WHERE service_at_location_id = ?1", [sal])?;
        c.execute("DELETE FROM schedule WHERE service_at_location_id = ?1", [sal])?;
        c.execute("DELETE FROM attribute WHERE link_id = ?1", [sal])?;
    }
    c.execute("DELETE FROM service_at_location WHERE service_id = ?1", [service_id])?;
    c.execute("DELETE FROM phone WHERE service_id = ?1", [service_id])?;
    c.execute("DELETE FROM schedule WHERE service_id = ?1", [service_id])?;
    c.execute("DELETE FROM attribute WHERE link_id = ?1", [service_id])?;
    // The column mirrors the drop-off attribute just deleted; the new document's attribute sets
    // it again. Without this, an answer the server no longer gives would stay (the service row
    // itself is left alone by the upsert when its other columns did not change).
    c.execute("UPDATE service SET law_enforcement_dropoff = NULL WHERE id = ?1", [service_id])?;
    Ok(())
}

/// After a service is removed: its locations that no other service is at, and its organization
/// when no service or location is left under it, go too (with their addresses, phones, schedules
/// and attributes). Shared ones stay.
fn remove_orphans(c: &Connection, locations: &[String], organization: Option<&str>) -> Result<()> {
    for location in locations {
        let in_use: Option<i64> = c
            .query_row("SELECT 1 FROM service_at_location WHERE location_id = ?1 LIMIT 1", [location], |r| r.get(0))
            .optional()?;
        if in_use.is_some() {
            continue;
        }
        c.execute("DELETE FROM address WHERE location_id = ?1", [location])?;
        c.execute("DELETE FROM phone WHERE location_id = ?1", [location])?;
        c.execute("DELETE FROM schedule WHERE location_id = ?1", [location])?;
        c.execute("DELETE FROM attribute WHERE link_id = ?1", [location])?;
        c.execute("DELETE FROM location WHERE id = ?1", [location])?;
    }
    if let Some(organization) = organization {
        let in_use: Option<i64> = c
            .query_row(
                "SELECT 1 FROM service WHERE organization_id = ?1
                 UNION ALL SELECT 1 FROM location WHERE organization_id = ?1 LIMIT 1",
                [organization],
                |r| r.get(0),
            )
            .optional()?;
        if in_use.is_none() {
            c.execute("DELETE FROM phone WHERE organization_id = ?1", [organization])?;
            c.execute("DELETE FROM attribute WHERE link_id = ?1", [organization])?;
            c.execute("DELETE FROM organization WHERE id = ?1", [organization])?;
        }
    }
    Ok(())
}

/// The most a directory snapshot may unpack to (the national listings unpack to about 200 MiB).
pub const MAX_SNAPSHOT_UNPACKED_BYTES: u64 = 1 << 30;

impl Directory {
    /// Applies one page of directory changes in one transaction and refreshes the search index
    /// once. A change that cannot be applied (a capacity for a service this device does not
    /// have, a malformed document) is rolled back alone and reported: the feed must not stall on
    /// one bad change. Only a failure of the file itself (disk full, I/O) fails the page.
    pub fn apply_feed_changes(&mut self, changes: &[Change]) -> Result<ImportReport> {
        let mut report = ImportReport::new("server directory feed");
        let mut tx = self.conn.transaction()?;
        for change in changes {
            let savepoint = tx.savepoint()?;
            match apply_change(&savepoint, change, &mut report) {
                Ok(()) => savepoint.commit()?,
                Err(error) if is_about_the_change(&error) => {
                    drop(savepoint); // rolls this change back, keeps the others
                    report.reject(
                        "server feed",
                        change.seq,
                        format!("change {} for `{}`: {error}", change.seq, change.key),
                    );
                }
                Err(error) => return Err(error),
            }
        }
        tx.commit()?;
        self.rebuild_search_index()?;
        Ok(report)
    }
}

/// Whether an error comes from the change's content (skip it) rather than from the directory
/// file or the machine (fail the page, so it is pulled again).
fn is_about_the_change(error: &Error) -> bool {
    use rusqlite::ErrorCode::*;
    match error {
        Error::Storage(rusqlite::Error::SqliteFailure(failure, _)) => !matches!(
            failure.code,
            DiskFull
                | SystemIoFailure
                | DatabaseBusy
                | DatabaseLocked
                | OutOfMemory
                | ReadOnly
                | DatabaseCorrupt
                | CannotOpen
                | NotADatabase
                | FileLockingProtocolFailed
        ),
        Error::Storage(_) => true,
        Error::Io(_) => false,
        _ => true,
    }
}

fn apply_change(tx: &Connection, change: &Change, report: &mut ImportReport) -> Result<()> {
    match change.kind {
        ChangeKind::DirectoryUpsert => {
            // Checked before the service's rows are removed (the savepoint would undo that too,
            // but a clear reason is worth more than a silent no-op).
            let id = change.body.get("id").and_then(|v| v.as_str());
            if id != Some(change.key.as_str()) {
                return Err(Error::InvalidState(match id {
                    Some(id) => format!("the service document's id `{id}` is not the change's key"),
                    None => "not an HSDS service document (no `id`)".to_owned(),
                }));
            }
            remove_service_rows(tx, &change.key)?;
            // Rows the document's walker rejects (a phone without a number) are reported and
            // the rest of the service is kept, as in an import.
            hsds::write_hsds_document(tx, &change.body, "server feed", report)?;
        }
        ChangeKind::DirectoryDelete => {
            let organization: Option<String> = tx
                .query_row("SELECT organization_id FROM service WHERE id = ?1", [&change.key], |r| r.get(0))
                .optional()?;
            let locations: Vec<String> = tx
                .prepare("SELECT DISTINCT location_id FROM service_at_location WHERE service_id = ?1")?
                .query_map([&change.key], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            remove_service_rows(tx, &change.key)?;
            tx.execute("DELETE FROM service_capacity WHERE service_id = ?1", [&change.key])?;
            tx.execute("DELETE FROM service WHERE id = ?1", [&change.key])?;
            remove_orphans(tx, &locations, organization.as_deref())?;
        }
        ChangeKind::CapacityUpdate => apply_capacity(tx, &change.body)?,
        // Not directory changes: the device's store applies them.
        ChangeKind::ReviewResult | ChangeKind::AgencyConfig => {}
    }
    Ok(())
}

/// A capacity update, for a service this device has (else `NotFound`: the caller skips it).
fn apply_capacity(tx: &Connection, body: &serde_json::Value) -> Result<()> {
    let update: CapacityUpdate = serde_json::from_value(body.clone())?;
    let known: Option<i64> =
        tx.query_row("SELECT 1 FROM service WHERE id = ?1", params![update.service_id], |r| r.get(0)).optional()?;
    if known.is_none() {
        return Err(Error::NotFound(format!("service {}", update.service_id)));
    }
    let updated_at = chrono::DateTime::parse_from_rfc3339(&update.updated_at)
        .map_err(|e| Error::InvalidState(format!("capacity time `{}`: {e}", update.updated_at)))?
        .with_timezone(&chrono::Utc);
    store::upsert_capacity(
        tx,
        &ServiceCapacity {
            id: update.id,
            service_id: update.service_id,
            unit: update.unit,
            available: update.available,
            maximum: update.maximum,
            updated_at,
        },
    )?;
    Ok(())
}

impl Directory {
    /// A fresh device's first copy of the agency's directory: the server's snapshot (zstd JSON
    /// lines, one HSDS service document each, then the capacities in effect at the snapshot's
    /// cursor as `{"capacity_update": ...}` lines), applied as upserts in one transaction with one
    /// index refresh. A capacity line that cannot be applied is reported and skipped, as in the
    /// feed. Services the device already has (the bundled national directory) are replaced by the
    /// agency's version; the rest stay. Returns the services applied and the row-level report.
    pub fn apply_snapshot(&mut self, compressed: &[u8]) -> Result<(u32, ImportReport)> {
        let started = std::time::Instant::now();
        let mut report = ImportReport::new("server directory snapshot");
        let text = crate::bounded_zstd::decode(compressed, MAX_SNAPSHOT_UNPACKED_BYTES, "the directory snapshot")
            .map_err(Error::InvalidState)?;
        let mut tx = self.conn.transaction()?;
        let mut services = 0u32;
        for (index, line) in text.split(|b| *b == b'\n').filter(|l| !l.is_empty()).enumerate() {
            let document: serde_json::Value = match serde_json::from_slice(line) {
                Ok(document) => document,
                Err(error) => {
                    report.reject("snapshot", index as u64 + 1, format!("not JSON: {error}"));
                    continue;
                }
            };
            if let Some(capacity) = document.get(SNAPSHOT_CAPACITY_KEY) {
                let savepoint = tx.savepoint()?;
                match apply_capacity(&savepoint, capacity) {
                    Ok(()) => savepoint.commit()?,
                    Err(error) if is_about_the_change(&error) => {
                        drop(savepoint);
                        report.reject("snapshot", index as u64 + 1, format!("capacity: {error}"));
                    }
                    Err(error) => return Err(error),
                }
                continue;
            }
            if let Some(id) = document.get("id").and_then(|v| v.as_str()) {
                remove_service_rows(&tx, id)?;
            }
            hsds::write_hsds_document(&tx, &document, "snapshot", &mut report)?;
            services += 1;
        }
        tx.commit()?;
        self.rebuild_search_index()?;
        report.seconds = started.elapsed().as_secs_f64();
        Ok((services, report))
    }
}
