//! [`ReviewStore`] on PostgreSQL: decisions in `review_decisions`, the queue from `review_index`
//! (kept by the trigger of migration 0004) with its GIN-indexed `narrative_search` tsvector.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde_json::Value;
use tokio_postgres::types::{Json, ToSql};
use uuid::Uuid;
use waypoint_protocol::{
    ChangeKind, ConflictPair, DecisionRecord, EncounterReview, Metrics, QueueItem, QueuePage, ReviewCounts,
    ReviewFlags, ReviewResultBody, ReviewState, ReviewedVersion, VersionCopy,
};

use super::PostgresStore;
use crate::review_rules::{self, DecisionInput, LastDecision, ReviewTarget, Verdict};
use crate::store::review::*;
use crate::store::{Audience, NewChange, StoreResult};

/// Who wrote a version: the officer whose credential pushed it (not what the body claims).
const AUTHOR: &str = "officer";

async fn target_in(
    tx: &deadpool_postgres::Transaction<'_>,
    input: &DecisionInput,
) -> StoreResult<Option<ReviewTarget>> {
    let version = input.version as i32;
    // Locks the encounter's queue row: decisions on one encounter are judged one at a time.
    tx.execute("SELECT 1 FROM review_index WHERE encounter_id = $1 FOR UPDATE", &[&input.encounter_id]).await?;
    let held = tx
        .query_opt(
            &format!("SELECT device_id, {AUTHOR} FROM encounter_versions WHERE encounter_id = $1 AND version = $2"),
            &[&input.encounter_id, &version],
        )
        .await?;
    let Some(held) = held else { return Ok(None) };
    let latest: i32 = tx
        .query_one("SELECT max(version) FROM encounter_versions WHERE encounter_id = $1", &[&input.encounter_id])
        .await?
        .get(0);
    let last = tx
        .query_opt(
            "SELECT decision, comment, feed_seq FROM review_decisions WHERE encounter_id = $1 AND version = $2
             ORDER BY id DESC LIMIT 1",
            &[&input.encounter_id, &version],
        )
        .await?;
    let last_decision = match last {
        Some(row) => Some(LastDecision {
            decision: decision_of(row.get(0))?,
            comment: row.get(1),
            feed_seq: row.get::<_, Option<i64>>(2).unwrap_or(0) as u64,
        }),
        None => None,
    };
    Ok(Some(ReviewTarget { latest_version: latest as u32, author: held.get(1), device_id: held.get(0), last_decision }))
}

#[async_trait]
impl ReviewStore for PostgresStore {
    async fn decide(&self, input: DecisionInput) -> StoreResult<Decided> {
        let mut client = self.pool().get().await?;
        let tx = client.transaction().await?;
        let target = target_in(&tx, &input).await?;
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
        let feed_seq = PostgresStore::append_changes_in(&tx, &[change]).await?;
        let version = input.version as i32;
        tx.execute(
            "INSERT INTO review_decisions (encounter_id, version, decision, comment, reason, reviewer, decided_at, feed_seq,
             device_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &input.encounter_id,
                &version,
                &input.decision.as_str(),
                &input.comment,
                &input.reason,
                &input.reviewer,
                &now,
                &(feed_seq as i64),
                &target.device_id,
            ],
        )
        .await?;
        tx.execute(
            "UPDATE review_index SET state = $3 WHERE encounter_id = $1 AND version = $2",
            &[&input.encounter_id, &version, &input.decision.as_str()],
        )
        .await?;
        let in_force = target.last_decision.as_ref().map(|last| last.decision);
        super::records::record_event_in(&tx, &input, in_force, feed_seq, now).await?;
        tx.commit().await?;
        Ok(Ok(DecisionOutcome { feed_seq, repeated: false }))
    }

    async fn review_queue(&self, query: QueueQuery) -> StoreResult<QueuePage> {
        let mut sql = String::from(
            "SELECT i.encounter_id, i.version, i.officer_id, i.occurred_at, i.submitted_at, i.force_used, i.injury,
             i.weapon, i.emergency_detention, i.arrest, i.flag_rank, i.call_type, i.dispositions
             FROM review_index i WHERE i.state = ",
        );
        // The state is one of three fixed words, written as a literal so the planner can use the
        // partial indexes (they hold the submitted queue only), which a parameter would not allow.
        sql.push_str(&format!("'{}'", query.state.as_str()));
        let mut args: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
        let mut arg = |sql: &mut String, clause: &str, value: Box<dyn ToSql + Sync + Send>| {
            args.push(value);
            sql.push_str(&clause.replace('?', &format!("${}", args.len())));
        };
        if let Some(officer) = &query.officer_id {
            arg(&mut sql, " AND i.officer_id = ?", Box::new(officer.clone()));
        }
        if let Some(from) = query.submitted_from {
            arg(&mut sql, " AND i.submitted_at >= ?", Box::new(from));
        }
        if let Some(to) = query.submitted_to {
            arg(&mut sql, " AND i.submitted_at < ?", Box::new(to));
        }
        for (wanted, column) in [
            (query.force_used, "force_used"),
            (query.injury, "injury"),
            (query.weapon, "weapon"),
            (query.emergency_detention, "emergency_detention"),
            (query.arrest, "arrest"),
        ] {
            if wanted {
                sql.push_str(&format!(" AND i.{column}"));
            }
        }
        if query.flagged {
            sql.push_str(" AND i.flag_rank = 0");
        }
        let words = query.words();
        if !words.is_empty() {
            arg(&mut sql, " AND i.narrative_search @@ plainto_tsquery('english', ?)", Box::new(words.join(" ")));
        }
        let flagged_first = query.order == QueueOrder::FlaggedFirst;
        if let Some(after) = &query.after {
            if flagged_first {
                arg(
                    &mut sql,
                    " AND (i.flag_rank, i.submitted_at, i.encounter_id) > (?::smallint",
                    Box::new(after.flag_rank),
                );
                arg(&mut sql, ", ?", Box::new(after.submitted_at));
                arg(&mut sql, ", ?)", Box::new(after.encounter_id));
            } else {
                arg(&mut sql, " AND (i.submitted_at, i.encounter_id) > (?", Box::new(after.submitted_at));
                arg(&mut sql, ", ?)", Box::new(after.encounter_id));
            }
        }
        sql.push_str(if flagged_first {
            " ORDER BY i.flag_rank, i.submitted_at, i.encounter_id"
        } else {
            " ORDER BY i.submitted_at, i.encounter_id"
        });
        arg(&mut sql, " LIMIT ?", Box::new(query.limit as i64 + 1));
        let client = self.pool().get().await?;
        let statement = client.prepare_cached(&sql).await?;
        let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a.as_ref() as &(dyn ToSql + Sync)).collect();
        let mut rows: Vec<(QueueItem, i16)> = client
            .query(&statement, &params)
            .await?
            .into_iter()
            .map(|r| {
                let item = QueueItem {
                    encounter_id: r.get(0),
                    version: r.get::<_, i32>(1) as u32,
                    officer_id: r.get(2),
                    occurred_at: r.get(3),
                    submitted_at: r.get(4),
                    flags: ReviewFlags {
                        force_used: r.get(5),
                        injury: r.get(6),
                        weapon: r.get(7),
                        emergency_detention: r.get(8),
                        arrest: r.get(9),
                    },
                    call_type: r.get(11),
                    dispositions: r.get(12),
                    state: query.state,
                };
                (item, r.get(10))
            })
            .collect();
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
    }

    async fn encounter_review(&self, encounter_id: Uuid) -> StoreResult<Option<EncounterReview>> {
        let client = self.pool().get().await?;
        let versions_sql = client
            .prepare_cached(
                "SELECT version, content_hash, device_id, received_at, body FROM encounter_versions
                 WHERE encounter_id = $1 ORDER BY version",
            )
            .await?;
        let versions = client
            .query(&versions_sql, &[&encounter_id])
            .await?
            .into_iter()
            .map(|r| {
                let Json(body): Json<Value> = r.get(4);
                ReviewedVersion {
                    version: r.get::<_, i32>(0) as u32,
                    content_hash: r.get(1),
                    device_id: r.get(2),
                    received_at: r.get(3),
                    state: ReviewState::Submitted,
                    decisions: Vec::new(),
                    body,
                    conflicting_copies: 0,
                }
            })
            .collect();
        let decisions_sql = client
            .prepare_cached(
                "SELECT version, decision, comment, reason, reviewer, decided_at, delivered_at FROM review_decisions
                 WHERE encounter_id = $1 ORDER BY id",
            )
            .await?;
        let decisions = client
            .query(&decisions_sql, &[&encounter_id])
            .await?
            .into_iter()
            .map(|r| {
                let decided_at: DateTime<Utc> = r.get(5);
                Ok((
                    r.get::<_, i32>(0) as u32,
                    DecisionRecord {
                        decision: decision_of(r.get(1))?,
                        comment: r.get(2),
                        reason: r.get(3),
                        reviewer: r.get(4),
                        decided_at,
                        delivered_at: r.get(6),
                    },
                ))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let conflicts_sql = client
            .prepare_cached("SELECT version, count(*) FROM conflicts WHERE encounter_id = $1 GROUP BY version")
            .await?;
        let conflicts: Vec<(u32, u32)> = client
            .query(&conflicts_sql, &[&encounter_id])
            .await?
            .into_iter()
            .map(|r| (r.get::<_, i32>(0) as u32, r.get::<_, i64>(1) as u32))
            .collect();
        Ok(assemble_review(encounter_id, versions, decisions, &conflicts))
    }

    async fn conflict_pairs(&self) -> StoreResult<Vec<ConflictPair>> {
        let client = self.pool().get().await?;
        let rows = client
            .query(
                "SELECT c.encounter_id, c.version, v.content_hash, v.device_id, v.received_at, v.body,
                        c.content_hash, c.device_id, c.received_at, c.body
                 FROM conflicts c JOIN encounter_versions v ON v.encounter_id = c.encounter_id AND v.version = c.version
                 ORDER BY c.received_at, c.encounter_id, c.version",
                &[],
            )
            .await?;
        let copy = |r: &tokio_postgres::Row, at: usize| {
            let Json(body): Json<Value> = r.get(at + 3);
            VersionCopy { content_hash: r.get(at), device_id: r.get(at + 1), received_at: r.get(at + 2), body }
        };
        Ok(rows
            .iter()
            .map(|r| ConflictPair {
                encounter_id: r.get(0),
                version: r.get::<_, i32>(1) as u32,
                held: copy(r, 2),
                other: copy(r, 6),
            })
            .collect())
    }

    async fn review_metrics(&self) -> StoreResult<Metrics> {
        let client = self.pool().get().await?;
        let row = client
            .query_one(
                "SELECT (SELECT count(*) FROM conflicts), (SELECT count(*) FROM review_index WHERE state = 'submitted')",
                &[],
            )
            .await?;
        Ok(Metrics { conflicts: row.get::<_, i64>(0) as u64, review_queue: row.get::<_, i64>(1) as u64 })
    }

    async fn review_counts(&self) -> StoreResult<ReviewCounts> {
        let client = self.pool().get().await?;
        let rows = client.query("SELECT state, count(*) FROM review_index GROUP BY state", &[]).await?;
        Ok(counts_of(rows.iter().map(|r| (r.get(0), r.get(1)))))
    }
}
