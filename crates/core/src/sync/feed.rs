//! The pull side of sync: pulled pages (review results, agency configurations, directory
//! changes) are applied with their cursor in one transaction, and the feed position is kept in
//! the store's meta table.

use chrono::Utc;
use rusqlite::{params, OptionalExtension};
use uuid::Uuid;
use waypoint_protocol::{Change, ChangeKind, PullResponse, ReviewResultBody};

use crate::audit;
use crate::error::{Error, Result};
use crate::model::Review;
use crate::store::{timestamp, Store};

const CURSOR_KEY: &str = "sync_cursor";
const LAST_SYNC_KEY: &str = "last_sync_at";

pub fn cursor(store: &Store) -> Result<u64> {
    let value: Option<String> =
        store.connection().query_row("SELECT value FROM meta WHERE key = ?1", [CURSOR_KEY], |r| r.get(0)).optional()?;
    Ok(value.and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// Whether a change goes to the encrypted store (review results, the agency configuration) rather
/// than to the directory.
fn for_the_store(kind: ChangeKind) -> bool {
    matches!(kind, ChangeKind::ReviewResult | ChangeKind::AgencyConfig)
}

/// Splits a pulled page into its directory changes (everything but review results and agency
/// configurations), to be applied
/// together (one index refresh per page) before [`apply_pull`] stores the page's cursor, and the
/// page with only the changes for the store. Directory changes are applied idempotently: they are
/// re-sent if that commit is lost. They go to the directory, not the encrypted store, so they are
/// applied without holding the store's lock. Moves the changes (no copy of their bodies).
pub fn split_page(page: PullResponse) -> (Vec<Change>, PullResponse) {
    let PullResponse { changes, cursor, more } = page;
    let (reviews, directory): (Vec<Change>, Vec<Change>) = changes.into_iter().partition(|c| for_the_store(c.kind));
    (directory, PullResponse { changes: reviews, cursor, more })
}

/// Applies one pulled page's review results and agency configurations (the newest is kept) and
/// stores its cursor in the same transaction (its
/// directory changes, see [`split_page`], are applied first, by the caller). Not forced to disk: a page undone by
/// a power cut is pulled and applied again (applying is idempotent).
pub fn apply_pull(store: &Store, page: &PullResponse) -> Result<u32> {
    store.transaction(|tx| {
        let mut applied = 0;
        for change in page.changes.iter().filter(|c| for_the_store(c.kind)) {
            match apply_change(store, tx, change) {
                Ok(()) => applied += 1,
                // A report made on another device: nothing to update here.
                Err(Error::NotFound(_)) => {}
                // A change this device cannot apply (a malformed review or configuration, a review
                // for a version in a state that does not take it) is kept in the audit log and
                // skipped: the feed goes on.
                Err(
                    error @ (Error::InvalidState(_) | Error::Json(_) | Error::Validation { .. } | Error::Config(_)),
                ) => {
                    tracing::warn!(seq = change.seq, %error, "skipped a pulled change");
                    let what = match change.kind {
                        ChangeKind::AgencyConfig => "agency configuration",
                        _ => "review result",
                    };
                    let outcome = format!("{what} {} skipped: {error}", change.seq);
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

fn apply_change(store: &Store, tx: &rusqlite::Transaction, change: &Change) -> Result<()> {
    if change.kind == ChangeKind::AgencyConfig {
        crate::agency_config::apply_change(tx, change)?;
        return Ok(());
    }
    apply_review_change(store, tx, change)
}

fn apply_review_change(store: &Store, tx: &rusqlite::Transaction, change: &Change) -> Result<()> {
    let id = Uuid::parse_str(&change.key)
        .map_err(|_| Error::InvalidState(format!("review result for a bad id `{}`", change.key)))?;
    let body: ReviewResultBody = serde_json::from_value(change.body.clone())?;
    let review = Review { decision: body.decision.into(), comment: body.comment, reviewer: body.reviewer, at: body.at };
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
