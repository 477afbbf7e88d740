//! The embedded SQLite store: one file, no setup. One connection behind a mutex, used on tokio's
//! blocking threads: SQLite has a single writer anyway, and this keeps every push one
//! transaction without busy retries. Timestamps are RFC 3339 text in UTC (sortable as text).
//!
//! Pushes go through a group commit: a writer thread takes every push waiting in its queue, runs
//! each in a savepoint of one transaction (so each is still all-or-nothing) and commits them with
//! one fsync. Under load that turns a thousand fsyncs into a few dozen.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde_json::Value;
use uuid::Uuid;
use waypoint_protocol::{AckStatus, PushResponse, RawPullResponse, Role};

use crate::store::*;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users (username),
    role TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS enrollments (
    code_hash TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    device_id TEXT
);
CREATE TABLE IF NOT EXISTS devices (
    device_id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    enrolled_at TEXT NOT NULL,
    device_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS encounter_versions (
    encounter_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    device_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (encounter_id, version)
);
CREATE INDEX IF NOT EXISTS encounter_versions_received ON encounter_versions (received_at);
CREATE TABLE IF NOT EXISTS conflicts (
    encounter_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    device_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (encounter_id, version, content_hash)
);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY,
    device_id TEXT,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS change_counter (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq INTEGER NOT NULL
);
INSERT OR IGNORE INTO change_counter (id, last_seq) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS directory_published (
    key TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL
);
"#;

pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    pushes: std::sync::mpsc::Sender<PushJob>,
}

struct PushJob {
    device_id: String,
    records: Vec<CheckedRecord>,
    reply: tokio::sync::oneshot::Sender<StoreResult<PushResponse>>,
}

/// Most pushes committed together (bounds the time the first one waits for the group).
const MAX_PUSH_GROUP: usize = 256;

/// The group-commit writer: runs until the store (the queue's sender) is dropped.
fn push_writer(conn: Arc<Mutex<Connection>>, queue: std::sync::mpsc::Receiver<PushJob>) {
    while let Ok(first) = queue.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_PUSH_GROUP {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let mut guard = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (replies, outcomes) = commit_push_group(&mut guard, jobs);
        drop(guard);
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            let _ = reply.send(outcome);
        }
    }
}

/// Runs each push in its own savepoint of one transaction. If the commit fails, every push of
/// the group gets the error (none of them was stored).
#[allow(clippy::type_complexity)]
fn commit_push_group(
    conn: &mut Connection,
    jobs: Vec<PushJob>,
) -> (Vec<tokio::sync::oneshot::Sender<StoreResult<PushResponse>>>, Vec<StoreResult<PushResponse>>) {
    let mut replies = Vec::with_capacity(jobs.len());
    let mut outcomes = Vec::with_capacity(jobs.len());
    let committed = (|| -> StoreResult<()> {
        let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for job in jobs {
            let savepoint = tx.savepoint()?;
            let outcome = push_in(&savepoint, &job.device_id, &job.records);
            // A failed push is rolled back to its savepoint (when dropped); the others stand.
            if outcome.is_ok() {
                savepoint.commit()?;
            }
            replies.push(job.reply);
            outcomes.push(outcome);
        }
        tx.commit()?;
        Ok(())
    })();
    if let Err(error) = committed {
        let message = error.to_string();
        outcomes = replies.iter().map(|_| Err(StoreError::Database(message.clone()))).collect();
    }
    (replies, outcomes)
}

fn text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_time(text: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

fn parse_uuid(text: &str) -> rusqlite::Result<Uuid> {
    Uuid::parse_str(text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

fn parse_role(text: &str) -> rusqlite::Result<Role> {
    Role::parse(text)
        .ok_or_else(|| rusqlite::Error::InvalidColumnType(0, text.to_string(), rusqlite::types::Type::Text))
}

impl SqliteStore {
    pub fn open(path: &Path) -> StoreResult<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::Database(format!("{}: {e}", parent.display())))?;
        }
        let conn = Connection::open(path)?;
        // FULL: an acknowledged record must survive a power cut, since the device then drops it.
        // 8 KiB pages (a new file only; an existing one keeps its size): an encounter version is
        // about 2.3 KB, so a 4 KiB page held one and wasted nearly half, and every push wrote
        // (and checkpointed) almost twice its bytes. Three fit in 8 KiB.
        conn.execute_batch(
            "PRAGMA page_size = 8192; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 5000;",
        )?;
        let conn = Arc::new(Mutex::new(conn));
        let (pushes, queue) = std::sync::mpsc::channel();
        let writer_conn = conn.clone();
        std::thread::Builder::new()
            .name("sqlite-push-writer".into())
            .spawn(move || push_writer(writer_conn, queue))
            .map_err(|e| StoreError::Database(format!("cannot start the writer thread: {e}")))?;
        Ok(SqliteStore { conn, pushes })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            work(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Database(format!("store task failed: {e}")))?
    }

    /// Runs `work` in an IMMEDIATE transaction (takes the write lock at once) and commits it.
    async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Transaction) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = work(&tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    /// Appends changes inside `tx`, numbering them from the counter row. SQLite has one writer
    /// at a time, so the numbers commit in order.
    pub fn append_changes_in(tx: &Transaction, changes: &[NewChange]) -> StoreResult<u64> {
        let now = text(Utc::now());
        let mut last: i64 = tx.query_row("SELECT last_seq FROM change_counter WHERE id = 1", [], |r| r.get(0))?;
        let mut insert = tx.prepare_cached(
            "INSERT INTO changes (seq, device_id, kind, key, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for change in changes {
            last += 1;
            insert.execute(params![
                last,
                change.audience.device_id(),
                change.kind.as_str(),
                change.key,
                change.body.to_string(),
                now
            ])?;
        }
        tx.execute("UPDATE change_counter SET last_seq = ?1 WHERE id = 1", [last])?;
        Ok(last as u64)
    }
}

fn push_in(tx: &Connection, device_id: &str, records: &[CheckedRecord]) -> StoreResult<PushResponse> {
    let now = text(Utc::now());
    let mut acks = Vec::with_capacity(records.len());
    let mut highest_seq = 0u64;
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO encounter_versions (encounter_id, version, content_hash, device_id, received_at, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (encounter_id, version) DO NOTHING",
        )?;
        let mut existing =
            tx.prepare_cached("SELECT content_hash FROM encounter_versions WHERE encounter_id = ?1 AND version = ?2")?;
        let mut insert_conflict = tx.prepare_cached(
            "INSERT INTO conflicts (encounter_id, version, content_hash, device_id, received_at, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
        )?;
        for CheckedRecord { record, problem, canonical_body } in records {
            highest_seq = highest_seq.max(record.seq);
            let id = record.encounter_id.to_string();
            let status = if problem.is_some() {
                AckStatus::Rejected
            } else {
                let row = params![id, record.version, record.content_hash, device_id, now, canonical_body];
                if insert.execute(row)? == 1 {
                    AckStatus::Stored
                } else {
                    let held: String = existing.query_row(params![id, record.version], |r| r.get(0))?;
                    if held == record.content_hash {
                        AckStatus::Duplicate
                    } else {
                        insert_conflict.execute(row)?;
                        AckStatus::Conflict
                    }
                }
            };
            acks.push(record.ack(status, problem.clone()));
        }
    }
    let device_seq: Option<i64> = tx
        .query_row(
            "UPDATE devices SET device_seq = MAX(device_seq, ?2) WHERE device_id = ?1 RETURNING device_seq",
            params![device_id, highest_seq as i64],
            |r| r.get(0),
        )
        .optional()?;
    let device_seq = device_seq.ok_or_else(|| StoreError::NotFound(format!("device {device_id}")))?;
    Ok(PushResponse { acks, device_seq: device_seq as u64 })
}

fn stored_version(row: &rusqlite::Row) -> rusqlite::Result<StoredVersion> {
    let body: String = row.get(5)?;
    Ok(StoredVersion {
        encounter_id: parse_uuid(&row.get::<_, String>(0)?)?,
        version: row.get(1)?,
        content_hash: row.get(2)?,
        device_id: row.get(3)?,
        received_at: parse_time(&row.get::<_, String>(4)?)?,
        body: serde_json::from_str(&body).unwrap_or(Value::Null),
    })
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> StoreResult<()> {
        self.run(|conn| Ok(conn.execute_batch(SCHEMA)?)).await
    }

    async fn push(&self, device_id: &str, records: Vec<CheckedRecord>) -> StoreResult<PushResponse> {
        let (reply, outcome) = tokio::sync::oneshot::channel();
        let job = PushJob { device_id: device_id.to_string(), records, reply };
        self.pushes.send(job).map_err(|_| StoreError::Database("the writer thread has stopped".into()))?;
        outcome.await.map_err(|_| StoreError::Database("the writer thread dropped a push".into()))?
    }

    async fn pull_page(&self, device_id: &str, cursor: u64, max_bytes: usize) -> StoreResult<RawPullResponse> {
        let device_id = device_id.to_string();
        self.run(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT seq, kind, key, body FROM changes WHERE seq > ?1 AND (device_id IS NULL OR device_id = ?2)
                 ORDER BY seq LIMIT ?3",
            )?;
            let rows = stmt
                .query_map(params![cursor as i64, device_id, pull_row_limit(max_bytes) as i64], |r| {
                    Ok(FeedRow { seq: r.get::<_, i64>(0)? as u64, kind: r.get(1)?, key: r.get(2)?, body: r.get(3)? })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            page_of(rows, pull_row_limit(max_bytes), cursor, max_bytes)
        })
        .await
    }

    async fn capacities_at(&self, cursor: u64) -> StoreResult<Vec<Value>> {
        self.run(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT kind, key, CASE WHEN kind = 'capacity_update' THEN body END FROM changes
                 WHERE device_id IS NULL AND seq <= ?1 ORDER BY seq",
            )?;
            let rows = stmt
                .query_map([cursor as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            capacities_in_effect(rows)
        })
        .await
    }

    async fn append_changes(&self, changes: Vec<NewChange>) -> StoreResult<u64> {
        self.write(move |tx| Self::append_changes_in(tx, &changes)).await
    }

    async fn version_owner(&self, encounter_id: Uuid, version: u32) -> StoreResult<Option<String>> {
        self.run(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT device_id FROM encounter_versions WHERE encounter_id = ?1 AND version = ?2",
                    params![encounter_id.to_string(), version],
                    |r| r.get(0),
                )
                .optional()?)
        })
        .await
    }

    async fn versions_since(&self, since: Option<DateTime<Utc>>) -> StoreResult<Vec<StoredVersion>> {
        self.run(move |conn| {
            let since = since.map(text).unwrap_or_default();
            let mut stmt = conn.prepare(
                "SELECT encounter_id, version, content_hash, device_id, received_at, body FROM encounter_versions
                 WHERE received_at >= ?1 ORDER BY received_at, encounter_id, version",
            )?;
            let rows = stmt.query_map([since], stored_version)?.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn conflicts(&self) -> StoreResult<Vec<ConflictRecord>> {
        self.run(|conn| {
            let mut stmt = conn.prepare(
                "SELECT encounter_id, version, content_hash, device_id, received_at, body FROM conflicts
                 ORDER BY received_at, encounter_id, version",
            )?;
            let rows = stmt
                .query_map([], |row| {
                    let v = stored_version(row)?;
                    Ok(ConflictRecord {
                        encounter_id: v.encounter_id,
                        version: v.version,
                        content_hash: v.content_hash,
                        device_id: v.device_id,
                        received_at: v.received_at,
                        body: v.body,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn device_seq(&self, device_id: &str) -> StoreResult<Option<u64>> {
        let device_id = device_id.to_string();
        self.run(move |conn| {
            let seq: Option<i64> = conn
                .query_row("SELECT device_seq FROM devices WHERE device_id = ?1", [device_id], |r| r.get(0))
                .optional()?;
            Ok(seq.map(|s| s as u64))
        })
        .await
    }

    async fn add_user(&self, user: UserRecord) -> StoreResult<()> {
        self.write(move |tx| {
            let added = tx.execute(
                "INSERT INTO users (username, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (username) DO NOTHING",
                params![user.username, user.role.as_str(), user.password_hash, text(Utc::now())],
            )?;
            if added == 0 {
                return Err(StoreError::AlreadyExists(format!("user {}", user.username)));
            }
            Ok(())
        })
        .await
    }

    async fn user(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        let username = username.to_string();
        self.run(move |conn| {
            Ok(conn
                .query_row("SELECT username, role, password_hash FROM users WHERE username = ?1", [username], |r| {
                    Ok(UserRecord {
                        username: r.get(0)?,
                        role: parse_role(&r.get::<_, String>(1)?)?,
                        password_hash: r.get(2)?,
                    })
                })
                .optional()?)
        })
        .await
    }

    async fn add_session(&self, token_hash: &str, session: SessionRecord) -> StoreResult<()> {
        let token_hash = token_hash.to_string();
        self.write(move |tx| {
            // Sweep expired sessions here: logins are rare enough for it to cost nothing.
            tx.execute("DELETE FROM sessions WHERE expires_at < ?1", [text(Utc::now())])?;
            tx.execute(
                "INSERT INTO sessions (token_hash, username, role, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![token_hash, session.username, session.role.as_str(), text(session.expires_at)],
            )?;
            Ok(())
        })
        .await
    }

    async fn session(&self, token_hash: &str) -> StoreResult<Option<SessionRecord>> {
        let token_hash = token_hash.to_string();
        self.run(move |conn| {
            Ok(conn
                .query_row("SELECT username, role, expires_at FROM sessions WHERE token_hash = ?1", [token_hash], |r| {
                    Ok(SessionRecord {
                        username: r.get(0)?,
                        role: parse_role(&r.get::<_, String>(1)?)?,
                        expires_at: parse_time(&r.get::<_, String>(2)?)?,
                    })
                })
                .optional()?)
        })
        .await
    }

    async fn add_enrollment(&self, code_hash: &str, expires_at: DateTime<Utc>) -> StoreResult<()> {
        let code_hash = code_hash.to_string();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO enrollments (code_hash, created_at, expires_at) VALUES (?1, ?2, ?3)",
                params![code_hash, text(Utc::now()), text(expires_at)],
            )?;
            Ok(())
        })
        .await
    }

    async fn redeem_enrollment(
        &self,
        code_hash: &str,
        now: DateTime<Utc>,
        device_id: &str,
        token_hash: &str,
    ) -> StoreResult<bool> {
        let (code_hash, device_id, token_hash) = (code_hash.to_string(), device_id.to_string(), token_hash.to_string());
        self.write(move |tx| {
            let used = tx.execute(
                "UPDATE enrollments SET used_at = ?2, device_id = ?3
                 WHERE code_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
                params![code_hash, text(now), device_id],
            )?;
            if used == 0 {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO devices (device_id, token_hash, enrolled_at) VALUES (?1, ?2, ?3)",
                params![device_id, token_hash, text(now)],
            )?;
            Ok(true)
        })
        .await
    }

    async fn device_for_token(&self, token_hash: &str) -> StoreResult<Option<String>> {
        let token_hash = token_hash.to_string();
        self.run(move |conn| {
            Ok(conn
                .query_row("SELECT device_id FROM devices WHERE token_hash = ?1", [token_hash], |r| r.get(0))
                .optional()?)
        })
        .await
    }

    async fn published_directory(&self) -> StoreResult<PublishedDirectory> {
        self.run(|conn| {
            let mut stmt = conn.prepare("SELECT key, content_hash FROM directory_published")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
        .await
    }

    async fn publish_directory(&self, upserts: Vec<(String, String, Value)>, deletes: Vec<String>) -> StoreResult<u64> {
        self.write(move |tx| {
            let changes = directory_changes(&upserts, &deletes);
            for (key, hash, _) in &upserts {
                tx.execute(
                    "INSERT INTO directory_published (key, content_hash) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET content_hash = excluded.content_hash",
                    params![key, hash],
                )?;
            }
            for key in &deletes {
                tx.execute("DELETE FROM directory_published WHERE key = ?1", [key])?;
            }
            Self::append_changes_in(tx, &changes)
        })
        .await
    }
}
