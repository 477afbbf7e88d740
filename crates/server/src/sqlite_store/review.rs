//! [`ReviewStore`] on SQLite: decisions in `review_decisions`, the queue from `review_index`
//! (kept by the trigger of migration 0002) and its FTS5 table `review_narrative`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use uuid::Uuid;
use waypoint_protocol::{
    ChangeKind, ConflictPair, DecisionRecord, EncounterReview, Metrics, QueueItem, QueuePage, ReviewCounts,
    ReviewFlags, ReviewResultBody, ReviewState, ReviewedVersion, VersionCopy,
};

use super::{parse_time, parse_uuid, text, SqliteStore};
use crate::review_rules::{self, DecisionInput, LastDecision, ReviewTarget, Verdict};
use crate::store::review::*;
use crate::store::{Audience, NewChange, StoreError, StoreResult};

/// Who wrote a version: the officer whose credential pushed it (not what the body claims).
const AUTHOR: &str = "officer";

/// The queue's time text: what the migration's `strftime('%Y-%m-%dT%H:%M:%fZ', ...)` makes.
fn queue_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn target_in(conn: &Connection, input: &DecisionInput) -> StoreResult<Option<ReviewTarget>> {
    let id = input.encounter_id.to_string();
    let held: Option<(String, String)> = conn
        .query_row(
            &format!("SELECT device_id, {AUTHOR} FROM encounter_versions WHERE encounter_id = ?1 AND version = ?2"),
            params![id, input.version],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((device_id, author)) = held else { return Ok(None) };
    let latest_version: u32 =
        conn.query_row("SELECT max(version) FROM encounter_versions WHERE encounter_id = ?1", [&id], |r| r.get(0))?;
    let last: Option<(String, Option<String>, Option<i64>)> = conn
        .query_row(
            "SELECT decision, comment, feed_seq FROM review_decisions WHERE encounter_id = ?1 AND version = ?2
             ORDER BY id DESC LIMIT 1",
            params![id, input.version],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let last_decision = match last {
        Some((decision, comment, seq)) => {
            Some(LastDecision { decision: decision_of(&decision)?, comment, feed_seq: seq.unwrap_or(0) as u64 })
        }
        None => None,
    };
    Ok(Some(ReviewTarget { latest_version, author, device_id, last_decision }))
}

fn flags(r: &rusqlite::Row, from: usize) -> rusqlite::Result<ReviewFlags> {
    Ok(ReviewFlags {
        force_used: r.get(from)?,
        injury: r.get(from + 1)?,
        weapon: r.get(from + 2)?,
        emergency_detention: r.get(from + 3)?,
        arrest: r.get(from + 4)?,
    })
}

#[async_trait]
impl ReviewStore for SqliteStore {
    async fn decide(&self, input: DecisionInput) -> StoreResult<Decided> {
        self.write(move |tx| {
            let target = target_in(tx, &input)?;
            let verdict = match review_rules::judge(target.as_ref(), &input) {
                Ok(verdict) => verdict,
                Err(refusal) => return Ok(Err(refusal)),
            };
            let target = target.expect("judge refuses a version not held");
            if let Verdict::Repeat { feed_seq } = verdict {
                return Ok(Ok(DecisionOutcome { feed_seq, repeated: true }));
            }
            let now = Utc::now();
            let body = ReviewResultBody {
                version: input.version,
                decision: input.decision,
                comment: input.comment.clone(),
                reviewer: Some(input.reviewer.clone()),
                at: now,
            };
            let change = NewChange {
                audience: Audience::Device(target.device_id.clone()),
                kind: ChangeKind::ReviewResult,
                key: input.encounter_id.to_string(),
                body: serde_json::to_value(body)?,
            };
            let feed_seq = SqliteStore::append_changes_in(tx, &[change])?;
            let id = input.encounter_id.to_string();
            tx.execute(
                "INSERT INTO review_decisions (encounter_id, version, decision, comment, reason, reviewer, decided_at,
                 feed_seq, device_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    id,
                    input.version,
                    input.decision.as_str(),
                    input.comment,
                    input.reason,
                    input.reviewer,
                    text(now),
                    feed_seq as i64,
                    target.device_id
                ],
            )?;
            tx.execute(
                "UPDATE review_index SET state = ?3 WHERE encounter_id = ?1 AND version = ?2",
                params![id, input.version, input.decision.as_str()],
            )?;
            let in_force = target.last_decision.as_ref().map(|last| last.decision);
            super::records::record_event_in(tx, &input, in_force, feed_seq, now)?;
            Ok(Ok(DecisionOutcome { feed_seq, repeated: false }))
        })
        .await
    }

    async fn review_queue(&self, query: QueueQuery) -> StoreResult<QueuePage> {
        self.run(move |conn| {
            let mut sql = String::from(
                "SELECT i.encounter_id, i.version, i.officer_id, i.occurred_at, i.submitted_at, i.force_used, i.injury,
                 i.weapon, i.emergency_detention, i.arrest, i.flag_rank, i.call_type, i.dispositions
                 FROM review_index i WHERE i.state = ",
            );
            // The state is one of three fixed words, written as a literal so the planner can use
            // the partial indexes (they hold the submitted queue only), which a parameter would not.
            sql.push_str(&format!("'{}'", query.state.as_str()));
            let mut args: Vec<SqlValue> = Vec::new();
            let mut arg = |sql: &mut String, clause: &str, value: SqlValue| {
                args.push(value);
                sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
            };
            if let Some(officer) = &query.officer_id {
                arg(&mut sql, " AND i.officer_id = ?", officer.clone().into());
            }
            if let Some(from) = query.submitted_from {
                arg(&mut sql, " AND i.submitted_at >= ?", queue_time(from).into());
            }
            if let Some(to) = query.submitted_to {
                arg(&mut sql, " AND i.submitted_at < ?", queue_time(to).into());
            }
            for (wanted, column) in [
                (query.force_used, "force_used"),
                (query.injury, "injury"),
                (query.weapon, "weapon"),
                (query.emergency_detention, "emergency_detention"),
                (query.arrest, "arrest"),
            ] {
                if wanted {
                    sql.push_str(&format!(" AND i.{column} = 1"));
                }
            }
            if query.flagged {
                sql.push_str(" AND i.flag_rank = 0");
            }
            let words = query.words();
            if !words.is_empty() {
                // Each word quoted: FTS5 syntax in the search box is taken as plain words.
                let phrase = words.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(" ");
                arg(
                    &mut sql,
                    " AND i.rowid IN (SELECT rowid FROM review_narrative WHERE review_narrative MATCH ?)",
                    phrase.into(),
                );
            }
            let flagged_first = query.order == QueueOrder::FlaggedFirst;
            if let Some(after) = &query.after {
                if flagged_first {
                    arg(
                        &mut sql,
                        " AND (i.flag_rank, i.submitted_at, i.encounter_id) > (?",
                        i64::from(after.flag_rank).into(),
                    );
                    arg(&mut sql, ", ?", queue_time(after.submitted_at).into());
                    arg(&mut sql, ", ?)", after.encounter_id.to_string().into());
                } else {
                    arg(&mut sql, " AND (i.submitted_at, i.encounter_id) > (?", queue_time(after.submitted_at).into());
                    arg(&mut sql, ", ?)", after.encounter_id.to_string().into());
                }
            }
            sql.push_str(if flagged_first {
                " ORDER BY i.flag_rank, i.submitted_at, i.encounter_id"
            } else {
                " ORDER BY i.submitted_at, i.encounter_id"
            });
            arg(&mut sql, " LIMIT ?", (query.limit as i64 + 1).into());
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt
                .query_map(params_from_iter(args), |r| {
                    let item = QueueItem {
                        encounter_id: parse_uuid(&r.get::<_, String>(0)?)?,
                        version: r.get(1)?,
                        officer_id: r.get(2)?,
                        occurred_at: parse_time(&r.get::<_, String>(3)?)?,
                        submitted_at: parse_time(&r.get::<_, String>(4)?)?,
                        flags: flags(r, 5)?,
                        call_type: r.get(11)?,
                        dispositions: serde_json::from_str(&r.get::<_, String>(12)?).unwrap_or_default(),
                        state: query.state,
                    };
                    Ok((item, r.get::<_, i64>(10)? as i16))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let more = rows.len() > query.limit;
            rows.truncate(query.limit);
            let next_cursor = match rows.last() {
                Some((last, rank)) if more => Some(
                    QueueCursor { flag_rank: *rank, submitted_at: last.submitted_at, encounter_id: last.encounter_id }
                        .encode(),
                ),
                _ => None,
            };
            Ok(QueuePage { items: rows.into_iter().map(|(item, _)| item).collect(), next_cursor })
        })
        .await
    }

    async fn encounter_review(&self, encounter_id: Uuid) -> StoreResult<Option<EncounterReview>> {
        self.run(move |conn| {
            let id = encounter_id.to_string();
            let mut stmt = conn.prepare_cached(
                "SELECT version, content_hash, device_id, received_at, body FROM encounter_versions
                 WHERE encounter_id = ?1 ORDER BY version",
            )?;
            let versions = stmt
                .query_map([&id], |r| {
                    Ok(ReviewedVersion {
                        version: r.get(0)?,
                        content_hash: r.get(1)?,
                        device_id: r.get(2)?,
                        received_at: parse_time(&r.get::<_, String>(3)?)?,
                        state: ReviewState::Submitted,
                        decisions: Vec::new(),
                        body: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or_default(),
                        conflicting_copies: 0,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut stmt = conn.prepare_cached(
                "SELECT version, decision, comment, reason, reviewer, decided_at, delivered_at FROM review_decisions
                 WHERE encounter_id = ?1 ORDER BY id",
            )?;
            let decisions = stmt
                .query_map([&id], |r| {
                    Ok((
                        r.get::<_, u32>(0)?,
                        r.get::<_, String>(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, Option<String>>(6)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?
                .into_iter()
                .map(|(version, decision, comment, reason, reviewer, at, delivered)| {
                    let time = |t: &str| parse_time(t).map_err(|e| StoreError::Database(e.to_string()));
                    let decided_at = time(&at)?;
                    let delivered_at = delivered.as_deref().map(time).transpose()?;
                    Ok((
                        version,
                        DecisionRecord {
                            decision: decision_of(&decision)?,
                            comment,
                            reason,
                            reviewer,
                            decided_at,
                            delivered_at,
                        },
                    ))
                })
                .collect::<StoreResult<Vec<_>>>()?;
            let mut stmt = conn
                .prepare_cached("SELECT version, count(*) FROM conflicts WHERE encounter_id = ?1 GROUP BY version")?;
            let conflicts =
                stmt.query_map([&id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(assemble_review(encounter_id, versions, decisions, &conflicts))
        })
        .await
    }

    async fn conflict_pairs(&self) -> StoreResult<Vec<ConflictPair>> {
        self.run(|conn| {
            let mut stmt = conn.prepare(
                "SELECT c.encounter_id, c.version, v.content_hash, v.device_id, v.received_at, v.body,
                        c.content_hash, c.device_id, c.received_at, c.body
                 FROM conflicts c JOIN encounter_versions v ON v.encounter_id = c.encounter_id AND v.version = c.version
                 ORDER BY c.received_at, c.encounter_id, c.version",
            )?;
            let copy = |r: &rusqlite::Row, at: usize| -> rusqlite::Result<VersionCopy> {
                Ok(VersionCopy {
                    content_hash: r.get(at)?,
                    device_id: r.get(at + 1)?,
                    received_at: parse_time(&r.get::<_, String>(at + 2)?)?,
                    body: serde_json::from_str(&r.get::<_, String>(at + 3)?).unwrap_or_default(),
                })
            };
            let rows = stmt
                .query_map([], |r| {
                    Ok(ConflictPair {
                        encounter_id: parse_uuid(&r.get::<_, String>(0)?)?,
                        version: r.get(1)?,
                        held: copy(r, 2)?,
                        other: copy(r, 6)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn review_metrics(&self) -> StoreResult<Metrics> {
        self.run(|conn| {
            let conflicts: i64 = conn.query_row("SELECT count(*) FROM conflicts", [], |r| r.get(0))?;
            let queue: i64 =
                conn.query_row("SELECT count(*) FROM review_index WHERE state = 'submitted'", [], |r| r.get(0))?;
            Ok(Metrics { conflicts: conflicts as u64, review_queue: queue as u64 })
        })
        .await
    }

    async fn review_counts(&self) -> StoreResult<ReviewCounts> {
        self.run(|conn| {
            let mut stmt = conn.prepare_cached("SELECT state, count(*) FROM review_index GROUP BY state")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(counts_of(rows))
        })
        .await
    }
}
