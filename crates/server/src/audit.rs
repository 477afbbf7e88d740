//! The server's audit trail: who did what, from where, to what, with what outcome. Append-only and
//! hash-chained (each row's hash covers the previous row's hash and its own fields, see
//! [`event_hash`]); `waypoint-server audit verify` walks the chain ([`verify`]).
//!
//! Handlers call [`record`] with an [`AuditEvent`]. The rule: an action is never performed
//! unaudited. Where the action is a write of its own, its event is recorded *before* that write,
//! once the checks have passed; if the write then fails, a second event with outcome `error`
//! follows (best effort) and the request fails. An audit write that fails fails the request
//! (500) before the action happens.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use chrono::{SecondsFormat, Utc};
use waypoint_protocol::audit::{chain_hash, DeviceAuditEntry, GENESIS};

use crate::store::audit::{AuditRow, NewAuditEvent};
use crate::store::{SharedStore, StoreResult};

/// Action names, as stored in the `action` column.
pub mod action {
    pub const SIGN_IN: &str = "sign_in";
    pub const ENROLLMENT_CODE_ISSUED: &str = "enrollment_code_issued";
    pub const DEVICE_ENROLLED: &str = "device_enrolled";
    pub const REVIEW_DECISION: &str = "review_decision";
    pub const CAPACITY_UPDATE: &str = "capacity_update";
    pub const DIRECTORY_IMPORT: &str = "directory_import";
    pub const EXPORT: &str = "export";
    pub const AUDIT_EXPORT: &str = "audit_export";
    /// A page of the trail read through the admin API.
    pub const AUDIT_READ: &str = "audit_read";
    pub const AUDIT_VERIFY: &str = "audit_verify";
    pub const USER_ADDED: &str = "user_added";
    pub const ROLE_CHANGED: &str = "role_changed";
    pub const USER_DISABLED: &str = "user_disabled";
    pub const USER_ENABLED: &str = "user_enabled";
    pub const USER_UNLOCKED: &str = "user_unlocked";
    pub const MFA_RESET: &str = "mfa_reset";
    pub const PASSWORD_RESET: &str = "password_reset";
    pub const DEVICE_REVOKED: &str = "device_revoked";
    pub const DEVICE_TOKEN_ROTATED: &str = "device_token_rotated";
    /// An admin revoked a device's token and issued a code that re-enrols the same device id.
    pub const DEVICE_ROTATION: &str = "device_rotation";
    pub const SIGN_OUT: &str = "sign_out";
    pub const OFFICER_SIGN_OUT: &str = "officer_sign_out";
    pub const MFA_ENROLMENT_STARTED: &str = "mfa_enrolment_started";
    pub const MFA_ENROLLED: &str = "mfa_enrolled";
    /// A report (or a conflicting copy) read through the review desk or the admin API.
    pub const REPORT_READ: &str = "report_read";
    /// The outcome figures were read (the detail holds the filters).
    pub const OUTCOMES_READ: &str = "outcomes_read";
    /// The de-identified rows were read (the detail holds the filters and the row count).
    pub const OUTCOME_ROWS_READ: &str = "outcome_rows_read";
    /// A device's pushed audit log does not continue the chain the server holds.
    pub const DEVICE_AUDIT_BREAK: &str = "device_audit_break";
    /// A new version of the agency configuration saved (or refused: codes in use, stale, invalid).
    pub const AGENCY_CONFIG_SAVED: &str = "agency_config_saved";
    /// A change checked before saving (the listing names the reports using codes it removes).
    pub const AGENCY_CONFIG_CHECKED: &str = "agency_config_checked";
    /// A service's local facts (drop-offs, hours, intake phone, note) set or cleared.
    pub const DIRECTORY_LOCAL_FACTS: &str = "directory_local_facts";
    /// A page of the records feed was read by the records system (the detail names the reports).
    pub const RECORDS_READ: &str = "records_read";
    pub const RECORDS_CREDENTIAL_ISSUED: &str = "records_credential_issued";
    pub const RECORDS_CREDENTIAL_REVOKED: &str = "records_credential_revoked";
    pub const WEBHOOK_ADDED: &str = "webhook_added";
    /// A webhook endpoint disabled or enabled (the detail says which).
    pub const WEBHOOK_CHANGED: &str = "webhook_changed";
    pub const WEBHOOK_REPLAYED: &str = "webhook_replayed";
    /// A CIT course recorded for an officer, or removed (the detail says which course).
    pub const TRAINING_RECORDED: &str = "training_recorded";
    pub const TRAINING_REMOVED: &str = "training_removed";
    /// Older reports imported from a CSV extract (`waypoint-server import encounters`).
    pub const HISTORY_IMPORT: &str = "history_import";
}

/// Outcome values.
pub mod outcome {
    pub const OK: &str = "ok";
    /// Refused: wrong credential, unknown code, ...
    pub const FAILED: &str = "failed";
    /// The action was recorded, then its own write failed.
    pub const ERROR: &str = "error";
    pub const FLAGGED: &str = "flagged";
}

/// The actor of the admin commands.
pub const CLI_ACTOR: &str = "cli";

/// The client's address when the server runs with connect info (`serve` does), else none: an
/// extractor that never fails, so any handler can take it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientAddr(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0)))
    }
}

impl From<Option<ConnectInfo<SocketAddr>>> for ClientAddr {
    fn from(info: Option<ConnectInfo<SocketAddr>>) -> Self {
        ClientAddr(info.map(|i| i.0))
    }
}

/// One event, built with `AuditEvent::new(actor, action, outcome).from(client).target(..)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent(NewAuditEvent);

impl AuditEvent {
    pub fn new(actor: impl Into<String>, action: &str, outcome: &str) -> Self {
        AuditEvent(NewAuditEvent {
            actor: actor.into(),
            client: None,
            action: action.to_string(),
            target: None,
            outcome: outcome.to_string(),
            detail: None,
        })
    }

    /// An admin command's event.
    pub fn by_cli(action: &str, outcome: &str) -> Self {
        Self::new(CLI_ACTOR, action, outcome)
    }

    pub fn from(mut self, client: impl Into<ClientAddr>) -> Self {
        self.0.client = client.into().0.map(|addr| addr.ip().to_string());
        self
    }

    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.0.target = Some(target.into());
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.0.detail = Some(detail.into());
        self
    }

    /// The same event with another outcome and detail (the `error` follow-up of a failed write).
    pub fn with_outcome(mut self, outcome: &str, detail: impl Into<String>) -> Self {
        self.0.outcome = outcome.to_string();
        self.0.detail = Some(detail.into());
        self
    }

    pub fn into_inner(self) -> NewAuditEvent {
        self.0
    }
}

/// Appends `event` to the trail. Its error converts into a 500 [`crate::error::ApiError`] with `?`.
pub async fn record(store: &SharedStore, event: AuditEvent) -> StoreResult<AuditRow> {
    store.append_audit(event.0).await
}

/// Records `event`, runs `action`, and when the action fails records the `error` follow-up (best
/// effort: the action's own error is what the caller gets).
pub async fn recorded<T, E: std::fmt::Display + From<crate::store::StoreError>>(
    store: &SharedStore,
    event: AuditEvent,
    action: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, E> {
    record(store, event.clone()).await?;
    let outcome = action.await;
    if let Err(error) = &outcome {
        if let Err(audit_error) = record(store, event.with_outcome(outcome::ERROR, error.to_string())).await {
            tracing::error!(%audit_error, "could not record the failure of an audited action");
        }
    }
    outcome
}

/// Now, as the trail stores times.
pub fn now_text() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A row's chain hash: SHA-256 over the previous row's hash and this row's fields
/// ([`waypoint_protocol::audit::chain_hash`]).
pub fn event_hash(prev_hash: &str, seq: u64, at: &str, event: &NewAuditEvent) -> String {
    let seq = seq.to_string();
    chain_hash(
        prev_hash,
        &[
            Some(&seq),
            Some(at),
            Some(&event.actor),
            event.client.as_deref(),
            Some(&event.action),
            event.target.as_deref(),
            Some(&event.outcome),
            event.detail.as_deref(),
        ],
    )
}

/// The row that follows `(last_seq, last_hash)` for `event`.
pub fn next_row(last_seq: u64, last_hash: &str, event: NewAuditEvent) -> AuditRow {
    let seq = last_seq + 1;
    let at = now_text();
    let hash = event_hash(last_hash, seq, &at, &event);
    let NewAuditEvent { actor, client, action, target, outcome, detail } = event;
    AuditRow { seq, at, actor, client, action, target, outcome, detail, prev_hash: last_hash.to_string(), hash }
}

fn row_hash(row: &AuditRow) -> String {
    let event = NewAuditEvent {
        actor: row.actor.clone(),
        client: row.client.clone(),
        action: row.action.clone(),
        target: row.target.clone(),
        outcome: row.outcome.clone(),
        detail: row.detail.clone(),
    };
    event_hash(&row.prev_hash, row.seq, &row.at, &event)
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every row is in place: `rows` of them, the last with `head_hash` (note it down: a
    /// later verify that ends on another hash at that seq shows a rewrite of the whole tail).
    Intact { rows: u64, head_hash: String },
    /// The first row that does not fit (`seq`), and why.
    Broken { seq: u64, reason: String },
}

/// Walks the whole chain from row 1: seq numbers without gaps, each row following the one before
/// and matching its hash, and the last row being the one `audit_head` says was written last.
pub async fn verify(store: &SharedStore) -> StoreResult<Verdict> {
    const PAGE: usize = 2000;
    let (head_seq, head_hash) = store.audit_head().await?;
    let (mut expected, mut prev_hash) = (1u64, GENESIS.to_string());
    loop {
        let rows = store.audit_rows(expected - 1, PAGE).await?;
        let fetched = rows.len();
        for row in rows {
            if row.seq != expected {
                let reason = format!("row {expected} is missing (the next row is {})", row.seq);
                return Ok(Verdict::Broken { seq: expected, reason });
            }
            if row.prev_hash != prev_hash {
                let reason =
                    format!("row {} does not follow row {} (rows reordered or replaced)", row.seq, expected - 1);
                return Ok(Verdict::Broken { seq: row.seq, reason });
            }
            if row_hash(&row) != row.hash {
                return Ok(Verdict::Broken { seq: row.seq, reason: format!("row {} was changed", row.seq) });
            }
            prev_hash = row.hash;
            expected += 1;
        }
        if fetched < PAGE {
            break;
        }
    }
    let rows = expected - 1;
    if head_seq != rows {
        let reason = if head_seq > rows {
            format!(
                "the trail ends at row {rows} but row {head_seq} was written: rows {}..={head_seq} were removed",
                rows + 1
            )
        } else {
            format!("rows after {head_seq}, the last one recorded as written, were added around the server")
        };
        return Ok(Verdict::Broken { seq: rows + 1, reason });
    }
    if head_hash != prev_hash {
        return Ok(Verdict::Broken { seq: rows, reason: format!("row {rows} is not the row that was written last") });
    }
    Ok(Verdict::Intact { rows, head_hash })
}

/// The server event written (in the same transaction) when a device's pushed log breaks its chain.
pub fn device_break_event(device_id: &str, segment: i64, reason: &str) -> NewAuditEvent {
    AuditEvent::new(device_id, action::DEVICE_AUDIT_BREAK, outcome::FLAGGED)
        .target(format!("device {device_id} audit log, segment {segment}"))
        .detail(reason)
        .into_inner()
}

/// Writes the rows with `at >= since` (RFC 3339 text as stored), one JSON object a line; returns
/// how many.
pub async fn export(store: &SharedStore, since: &str, mut out: impl std::io::Write) -> anyhow::Result<u64> {
    const PAGE: usize = 2000;
    let (mut after, mut written) = (0u64, 0u64);
    loop {
        let rows = store.audit_rows(after, PAGE).await?;
        for row in &rows {
            if row.at.as_str() >= since {
                serde_json::to_writer(&mut out, row)?;
                out.write_all(b"\n")?;
                written += 1;
            }
        }
        match rows.last() {
            Some(last) if rows.len() == PAGE => after = last.seq,
            _ => break,
        }
    }
    out.flush()?;
    Ok(written)
}

/// Where a device's chain stands on the server: the segment rows go into, its last row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceChain {
    pub segment: i64,
    pub last_seq: i64,
    pub last_hash: String,
}

impl Default for DeviceChain {
    fn default() -> Self {
        DeviceChain { segment: 0, last_seq: 0, last_hash: GENESIS.to_string() }
    }
}

/// What to do with one pushed device row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Held already, identical: a resend.
    Duplicate,
    /// Store it in `segment`; `break_reason` set when it starts that segment after a break.
    Store { segment: i64, break_reason: Option<String> },
}

/// Judges pushed rows against the chain the server holds, updating `chain`. A row continues the
/// chain when its seq is the next one, its `prev_hash` is the last stored hash and its hash
/// recomputes. Anything else is a break: a row that differs from the one held at its seq
/// (rewritten log), a gap (rows deleted or the log truncated and regrown), a `prev_hash` that
/// does not match (rewritten), or a hash that does not recompute (changed after writing). A break
/// starts a new segment at that row: nothing is dropped, and the break is named.
/// `held_hash(segment, seq)` looks up a stored row's hash.
pub fn place_device_entries(
    chain: &mut DeviceChain,
    entries: &[DeviceAuditEntry],
    mut held_hash: impl FnMut(i64, i64) -> StoreResult<Option<String>>,
) -> StoreResult<Vec<Placement>> {
    let mut placements = Vec::with_capacity(entries.len());
    for entry in entries {
        let seq = entry.seq;
        let break_reason = if entry.expected_hash(&entry.prev_hash) != entry.hash {
            Some(format!("row {seq}'s hash does not match its content: it was changed after it was written"))
        } else if seq <= chain.last_seq {
            match held_hash(chain.segment, seq)? {
                Some(held) if held == entry.hash => {
                    placements.push(Placement::Duplicate);
                    continue;
                }
                Some(_) => {
                    Some(format!("row {seq} differs from the row {seq} the server holds: the log was rewritten"))
                }
                None => Some(format!(
                    "row {seq} comes after row {} yet is numbered lower: the log was cut back and written again",
                    chain.last_seq
                )),
            }
        } else if seq > chain.last_seq + 1 {
            Some(format!(
                "rows {}..{} never reached the server and the log goes on at row {seq}: rows were deleted",
                chain.last_seq + 1,
                seq - 1
            ))
        } else if entry.prev_hash != chain.last_hash {
            Some(format!(
                "row {seq} does not follow row {} the server holds: the log was rewritten or truncated",
                chain.last_seq
            ))
        } else {
            None
        };
        if break_reason.is_some() {
            chain.segment += 1;
        }
        chain.last_seq = seq;
        chain.last_hash = entry.hash.clone();
        placements.push(Placement::Store { segment: chain.segment, break_reason });
    }
    Ok(placements)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain_of(n: i64, outcome: &str) -> Vec<DeviceAuditEntry> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let mut e = DeviceAuditEntry {
                    seq,
                    at: format!("2026-01-01T00:00:{seq:02}Z"),
                    actor: "badge-1".into(),
                    device: "dev".into(),
                    action: "submit".into(),
                    record_id: None,
                    outcome: outcome.into(),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = e.expected_hash(&prev);
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    #[test]
    fn a_continuing_chain_is_stored_and_a_resend_is_a_duplicate() {
        let entries = chain_of(4, "ok");
        let mut chain = DeviceChain::default();
        let first = place_device_entries(&mut chain, &entries[..2], |_, _| Ok(None)).unwrap();
        assert!(first.iter().all(|p| *p == Placement::Store { segment: 0, break_reason: None }));
        let held = entries[1].hash.clone();
        let again =
            place_device_entries(&mut chain, &entries[1..], |_, seq| Ok((seq == 2).then(|| held.clone()))).unwrap();
        assert_eq!(again[0], Placement::Duplicate);
        assert_eq!(again[1], Placement::Store { segment: 0, break_reason: None });
        assert_eq!(chain.last_seq, 4);
    }

    #[test]
    fn a_rewritten_or_gapped_chain_starts_a_new_segment() {
        let entries = chain_of(4, "ok");
        let mut chain = DeviceChain::default();
        place_device_entries(&mut chain, &entries, |_, _| Ok(None)).unwrap();
        let rewritten = chain_of(2, "other");
        let held = entries[0].hash.clone();
        let placed = place_device_entries(&mut chain, &rewritten[..1], |_, _| Ok(Some(held.clone()))).unwrap();
        assert!(
            matches!(&placed[0], Placement::Store { segment: 1, break_reason: Some(r) } if r.contains("rewritten"))
        );
        let mut gap = DeviceChain { segment: 0, last_seq: 1, last_hash: entries[0].hash.clone() };
        let placed = place_device_entries(&mut gap, &entries[3..], |_, _| Ok(None)).unwrap();
        assert!(matches!(&placed[0], Placement::Store { segment: 1, break_reason: Some(r) } if r.contains("deleted")));
    }
}
