//! One sync round: push the whole outbox, then the audit log's new rows, then pull the feed until
//! it is drained.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;
use waypoint_protocol::audit::AuditPushRequest;

use super::feed::{apply_pull, cursor, mark_synced, split_page};
use super::outbox::{apply_acks, outbox_batch};
use super::transport::{SyncError, Transport, TransportError};
use crate::api::Waypoint;
use crate::audit;
use crate::error::Result;
use crate::model::SyncState;

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
    /// Rows of the device's audit log the server took this round.
    pub audit_pushed: u32,
    /// Breaks the server found between the audit chain it holds and the rows sent (rewritten or
    /// truncated log): it keeps them and flags the device.
    pub audit_chain_breaks: u32,
}

impl Waypoint {
    /// One sync round: push the whole outbox, then pull until the feed is drained. The store is
    /// locked only between network calls, so saving never waits for the network. A transport
    /// error ends the round with the outbox as it was; the caller retries with backoff.
    ///
    /// The network calls run on a thread of their own, one request ahead of the store work: while
    /// the server stores batch k, this thread settles batch k-1 and reads batch k+1 (and while the
    /// device applies page k, page k+1 is already on its way). Round trips, not bytes, bound a
    /// sync on a good connection.
    pub fn sync_once(
        &self,
        transport: &mut (dyn Transport + Send),
        max_bytes: usize,
        directory: &mut dyn FnMut(&[waypoint_protocol::Change]) -> Result<()>,
    ) -> std::result::Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        self.push_outbox(&mut *transport, max_bytes, &mut report)?;
        // After the records, so the log's rows about this push travel in the same round.
        self.push_audit_log(&mut *transport, &mut report)?;
        self.pull_feed(transport, max_bytes, directory, &mut report)?;
        self.with_store(mark_synced)?;
        Ok(report)
    }

    /// A round without the push: the feed only (no officer signed in on this device, so the
    /// outbox waits for a sign-in).
    pub fn pull_once(
        &self,
        transport: &mut (dyn Transport + Send),
        max_bytes: usize,
        directory: &mut dyn FnMut(&[waypoint_protocol::Change]) -> Result<()>,
    ) -> std::result::Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        self.pull_feed(transport, max_bytes, directory, &mut report)?;
        self.with_store(mark_synced)?;
        Ok(report)
    }

    fn push_outbox(
        &self,
        transport: &mut (dyn Transport + Send),
        max_bytes: usize,
        report: &mut SyncReport,
    ) -> std::result::Result<(), SyncError> {
        use std::sync::mpsc;
        /// Batches sent and not yet answered: two on the wire (the server commits them together,
        /// one fsync for both), two read and queued behind them.
        const AHEAD: usize = 4;
        std::thread::scope(|scope| {
            let (to_network, batches) = mpsc::sync_channel::<waypoint_protocol::RawPushRequest>(AHEAD - 2);
            let (replies_out, replies) = mpsc::channel();
            scope.spawn(move || {
                while let Ok(request) = batches.recv() {
                    // Two at once when two are waiting; each reply is settled on its own, in order.
                    let sent = match batches.try_recv() {
                        Ok(next) => transport.push_two(&request, &next).into_iter().collect::<Vec<_>>(),
                        Err(_) => vec![transport.push(&request)],
                    };
                    let failed = sent.iter().any(|reply| reply.is_err());
                    for reply in sent {
                        if replies_out.send(reply).is_err() {
                            return;
                        }
                    }
                    // After a failure nothing more is sent: the next round starts over.
                    if failed {
                        break;
                    }
                }
            });
            let mut outcome = Ok(());
            let settle = |reply: std::result::Result<_, TransportError>,
                          report: &mut SyncReport|
             -> std::result::Result<(), SyncError> {
                let response: waypoint_protocol::PushResponse = reply?;
                let settled = |r: &SyncReport| r.stored + r.duplicates + r.conflicts + r.rejected;
                let before = settled(report);
                self.with_store(|s| apply_acks(s, &response.acks, report))?;
                if settled(report) == before {
                    // The server answered without settling anything: stop rather than loop.
                    return Err(TransportError::Server("the server acknowledged none of the records".into()).into());
                }
                Ok(())
            };
            let mut sent_up_to = 0u64;
            let mut in_flight = 0usize;
            loop {
                let batch = match self.with_store(|s| outbox_batch(s, sent_up_to, max_bytes)) {
                    Ok(batch) if batch.is_empty() => break,
                    Ok(batch) => batch,
                    Err(error) => {
                        outcome = Err(error.into());
                        break;
                    }
                };
                sent_up_to = batch.last().map_or(sent_up_to, |r| r.seq);
                report.pushed += batch.len() as u32;
                report.requests += 1;
                if to_network.send(waypoint_protocol::RawPushRequest { records: batch }).is_err() {
                    break; // the network thread stopped on a failure; its reply says which
                }
                in_flight += 1;
                if in_flight == AHEAD {
                    in_flight -= 1;
                    match replies.recv() {
                        Ok(reply) => {
                            if let Err(error) = settle(reply, report) {
                                outcome = Err(error);
                                break;
                            }
                        }
                        Err(_) => break,
                    }
                }
            }
            drop(to_network);
            // Settle what is still out (a failure keeps the first error; later replies still count).
            for reply in replies.iter().take(in_flight) {
                if let Err(error) = settle(reply, report) {
                    if outcome.is_ok() {
                        outcome = Err(error);
                    }
                }
            }
            outcome
        })
    }

    /// Sends the audit rows after the last one the server acknowledged, in batches; each reply
    /// moves the mark (every row sent is settled, a chain break included: the server keeps it).
    fn push_audit_log(
        &self,
        transport: &mut (dyn Transport + Send),
        report: &mut SyncReport,
    ) -> std::result::Result<(), SyncError> {
        /// About 250 bytes a row: about 1.2 MiB a request, few requests (each one a commit) for a long log.
        const AUDIT_BATCH: u32 = 5000;
        loop {
            let entries = self.with_store(|s| {
                let conn = s.connection();
                audit::entries_after(conn, audit::pushed_seq(conn)?, AUDIT_BATCH)
            })?;
            let Some(last) = entries.last().map(|e| e.seq) else { return Ok(()) };
            let sent = entries.len() as u32;
            report.requests += 1;
            let reply = transport.push_audit(&AuditPushRequest { entries })?;
            report.audit_pushed += reply.stored;
            report.audit_chain_breaks += reply.chain_breaks.len() as u32;
            self.with_store(|s| audit::set_pushed_seq(s.connection(), last))?;
            if sent < AUDIT_BATCH {
                return Ok(());
            }
        }
    }

    fn pull_feed(
        &self,
        transport: &mut (dyn Transport + Send),
        max_bytes: usize,
        directory: &mut dyn FnMut(&[waypoint_protocol::Change]) -> Result<()>,
        report: &mut SyncReport,
    ) -> std::result::Result<(), SyncError> {
        use std::sync::mpsc;
        let start = self.with_store(cursor)?;
        std::thread::scope(|scope| {
            // One page may wait while the next is fetched; more would only hold memory.
            let (pages_out, pages) = mpsc::sync_channel(1);
            scope.spawn(move || {
                let mut cursor = start;
                loop {
                    let page = transport.pull(cursor, max_bytes);
                    let next = page.as_ref().ok().filter(|p| p.more).map(|p| p.cursor);
                    if pages_out.send(page).is_err() {
                        break; // the device stopped applying (a store error)
                    }
                    match next {
                        Some(after) => cursor = after,
                        None => break,
                    }
                }
            });
            for page in pages {
                report.requests += 1;
                let page = page?;
                // Directory changes first and outside the store lock: opening the directory (the
                // national load on a fresh install) and refreshing its index take seconds, and
                // autosaves must not wait for them.
                let (directory_changes, reviews) = split_page(page);
                if !directory_changes.is_empty() {
                    directory(&directory_changes)?;
                }
                let new_config = reviews.changes.iter().any(|c| c.kind == waypoint_protocol::ChangeKind::AgencyConfig);
                report.pulled += self.with_store(|s| apply_pull(s, &reviews))?;
                if new_config {
                    // Validation, vocabularies and the form use it from the next call on.
                    self.with_store(|s| self.refresh_config(s))?;
                }
            }
            Ok(())
        })
    }

    /// The sync state of one version (`None` for a draft).
    pub fn sync_state(&self, id: Uuid, version: u32) -> Result<Option<SyncState>> {
        self.with_store(|s| s.sync_state(id, version))
    }
}
