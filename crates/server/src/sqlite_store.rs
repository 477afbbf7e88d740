//! The embedded SQLite store: one file, encrypted with SQLCipher (AES-256, key from
//! [`crate::database_key`]), no other setup. One writing connection behind a mutex: SQLite has a
//! single writer anyway, and this keeps every write one transaction without busy retries. Reads
//! run on a few read-only connections beside it ([`pool::ReadPool`], WAL). Timestamps are RFC 3339
//! text in UTC (sortable as text).
//!
//! Writes are committed in groups: pushes through [`crate::store::group_commit`], every other write
//! through [`pool::WriteQueue`]. A writer thread takes every write waiting in its queue, runs each
//! in a savepoint of one transaction (so each is still all-or-nothing) and commits them with one
//! fsync; each is answered after that commit.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde_json::Value;
use uuid::Uuid;
use waypoint_protocol::{PushResponse, RawPullResponse, Role};

use crate::database_key::DatabaseKey;
use crate::store::ack::{self, StoredSoFar};
use crate::store::group_commit::{self, PushGroups, PushJob, PushQueue};
use crate::store::identity::{self as authorship, Owners};
use crate::store::migrations;
use crate::store::*;

mod accounts;
mod admin;
mod agency_config;
mod audit;
mod delivery;
mod directory_admin;
mod identity;
mod imported;
mod outcomes;
mod pool;
mod records;
mod review;
mod training;

/// Which migrations ran, and when (see [`crate::store::migrations`]).
const TRACKING_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";

pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    pushes: PushQueue,
    writes: pool::WriteQueue,
    reads: Arc<pool::ReadPool>,
}

/// Most pushes committed together (bounds the time the first one waits for the group).
const MAX_PUSH_GROUP: usize = 256;

/// The group-commit writer: runs until the store (the queue's sender) is dropped.
fn push_writer(conn: Arc<Mutex<Connection>>, groups: PushGroups) {
    while let Some(mut jobs) = groups.blocking_next() {
        let mut guard = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let outcome = commit_push_group(&mut guard, &mut jobs);
        drop(guard);
        group_commit::answer(jobs, outcome);
    }
}

/// Runs each push in its own savepoint of one transaction: a push that fails is rolled back alone.
/// A push alone in its group runs without a savepoint (the transaction is its own): while a
/// savepoint is open SQLite keeps every page the push changes in an in-memory sub-journal, and
/// each statement's end walks that list from its start, which made a large push quadratic
/// (a third of the writer's time storing 1,000-record pushes).
fn commit_push_group(conn: &mut Connection, jobs: &mut [PushJob]) -> StoreResult<Vec<StoreResult<PushResponse>>> {
    if let [job] = jobs {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let outcome = push_in(&tx, &job.pusher, &mut job.records);
        // A failed push is rolled back (tx dropped), as its savepoint would be.
        if outcome.is_ok() {
            tx.commit()?;
        }
        return Ok(vec![outcome]);
    }
    let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut outcomes = Vec::with_capacity(jobs.len());
    for job in jobs {
        let savepoint = tx.savepoint()?;
        let outcome = push_in(&savepoint, &job.pusher, &mut job.records);
        // A failed push is rolled back to its savepoint (when dropped); the others stand.
        if outcome.is_ok() {
            savepoint.commit()?;
        }
        outcomes.push(outcome);
    }
    tx.commit()?;
    Ok(outcomes)
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
    /// Opens (creating if needed) the SQLCipher database at `path` with `key`. A plaintext database
    /// left by a version before encryption is encrypted in place first ([`encrypt_in_place`]).
    pub fn open(path: &Path, key: &DatabaseKey) -> StoreResult<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::Database(format!("{}: {e}", parent.display())))?;
        }
        if is_plaintext(path).map_err(|e| StoreError::Database(e.to_string()))? {
            encrypt_in_place(path, key)?;
        }
        // 0600 before SQLite creates it; the -wal and -shm files take the database file's mode.
        crate::private_files::open_private(path, false)
            .map_err(|e| StoreError::Database(format!("{}: {e}", path.display())))?;
        let conn = open_keyed(path, key)?;
        // FULL: an acknowledged record must survive a power cut, since the device then drops it.
        // 8 KiB pages (cipher_page_size, set before the first read; the same on every open): an
        // encounter version is about 2.3 KB, so a 4 KiB page held one and wasted nearly half, and
        // every push wrote (and checkpointed) almost twice its bytes. Three fit in 8 KiB.
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 5000; PRAGMA cache_size = -{};",
            pool::WRITER_CACHE_KIB
        ))?;
        let conn = Arc::new(Mutex::new(conn));
        let (pushes, groups) = group_commit::push_queue(MAX_PUSH_GROUP);
        let writer_conn = conn.clone();
        std::thread::Builder::new()
            .name("sqlite-push-writer".into())
            .spawn(move || push_writer(writer_conn, groups))
            .map_err(|e| StoreError::Database(format!("cannot start the writer thread: {e}")))?;
        let writes = pool::WriteQueue::start(conn.clone())?;
        Ok(SqliteStore { conn, pushes, writes, reads: Arc::new(pool::ReadPool::new(path, key)) })
    }

    /// Runs a read on one of the read-only connections.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        self.reads.run(work).await
    }

    /// Runs `work` on the writing connection, outside the group commit (the migrations).
    async fn run_writer<T: Send + 'static>(
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

    /// Runs `work` in an IMMEDIATE transaction (in a savepoint of one shared with the other writes
    /// waiting, see [`pool::WriteQueue`]) and answers once it is committed.
    async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        self.writes.write(work).await
    }

    /// Appends changes inside `tx`, numbering them from the counter row. SQLite has one writer
    /// at a time, so the numbers commit in order.
    pub fn append_changes_in(tx: &Connection, changes: &[NewChange]) -> StoreResult<u64> {
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

/// SQLCipher's page size for the server database (see [`SqliteStore::open`]).
const CIPHER_PAGE_SIZE: u32 = 8192;

/// A connection to the SQLCipher database at `path`, keyed and checked: a wrong key (or a file
/// that is not a database) fails here with a message saying so.
pub fn open_keyed(path: &Path, key: &DatabaseKey) -> StoreResult<Connection> {
    let conn = Connection::open(path)?;
    conn.execute_batch(&format!("{} PRAGMA cipher_page_size = {CIPHER_PAGE_SIZE};", key.pragma()))?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).map_err(|_| {
        StoreError::Database(format!(
            "{} does not open with this database key: it belongs to another key (check --database-key-file) or is damaged",
            path.display()
        ))
    })?;
    Ok(conn)
}

/// Whether `path` is an unencrypted SQLite database (its first bytes are SQLite's header; an
/// encrypted file starts with random salt). A missing or empty file is not.
pub fn is_plaintext(path: &Path) -> std::io::Result<bool> {
    use std::io::Read;
    let mut header = [0u8; 16];
    match std::fs::File::open(path) {
        Ok(mut file) => Ok(file.read_exact(&mut header).is_ok() && &header == b"SQLite format 3\0"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Encrypts a plaintext database from an earlier version: `sqlcipher_export` into a new 0600 file
/// beside it, which then replaces it (rename, so a crash leaves one or the other whole). The old
/// file is unlinked, not overwritten: its blocks are free space on the disk until reused.
fn encrypt_in_place(path: &Path, key: &DatabaseKey) -> StoreResult<()> {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        StoreError::Database(format!("encrypting {}: {what}: {e}", path.display()))
    };
    tracing::warn!("{} is not encrypted (made by an earlier version): encrypting it now", path.display());
    let encrypted = path.with_extension("encrypting");
    let _ = std::fs::remove_file(&encrypted);
    crate::private_files::open_private(&encrypted, true).map_err(|e| fail("creating the new file", &e))?;
    {
        let plain = Connection::open(path)?;
        // Fold the WAL in first, so the export reads everything.
        plain.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        let file = encrypted.to_string_lossy().replace('\'', "''");
        plain.execute_batch(&format!(
            "ATTACH DATABASE '{file}' AS encrypted KEY {}; PRAGMA encrypted.cipher_page_size = {CIPHER_PAGE_SIZE};",
            key.attach_clause()
        ))?;
        plain.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
        let version: i64 = plain.query_row("PRAGMA main.user_version", [], |r| r.get(0))?;
        plain.execute_batch(&format!("PRAGMA encrypted.user_version = {version}; DETACH DATABASE encrypted;"))?;
    }
    std::fs::File::open(&encrypted).and_then(|f| f.sync_all()).map_err(|e| fail("saving the new file", &e))?;
    std::fs::rename(&encrypted, path).map_err(|e| fail("replacing the old file", &e))?;
    for side in ["-wal", "-shm"] {
        let mut name = path.as_os_str().to_os_string();
        name.push(side);
        let _ = std::fs::remove_file(std::path::PathBuf::from(name));
    }
    open_keyed(path, key)?;
    tracing::info!("{} is encrypted", path.display());
    Ok(())
}

/// One push, in the savepoint `tx`. The savepoint is its own: what it stores is judged against
/// the database alone (a fresh [`StoredSoFar`] and [`Owners`]), so rolling it back leaves nothing
/// stale behind.
fn push_in(tx: &Connection, pusher: &Pusher, records: &mut [CheckedRecord]) -> StoreResult<PushResponse> {
    let device_id = pusher.device_id.as_str();
    let now = text(Utc::now());
    // Records naming someone else's encounter are rejected before anything is stored.
    // SQLite has one writer: what this transaction reads of `encounter_owners` stays true to commit.
    let mut owner_of = tx.prepare_cached("SELECT officer, device_id FROM encounter_owners WHERE encounter_id = ?1")?;
    let mut owners = Owners::default();
    authorship::check_authorship(records, pusher, &mut owners, |id| {
        Ok(owner_of
            .query_row([id.to_string()], |r| Ok(Owner { username: r.get(0)?, device_id: r.get(1)? }))
            .optional()?)
    })?;
    let mut claim =
        tx.prepare_cached("INSERT INTO encounter_owners (encounter_id, officer, device_id) VALUES (?1, ?2, ?3)")?;
    for (id, owner) in &owners.claims {
        claim.execute(params![id.to_string(), owner.username, owner.device_id])?;
    }
    let records = &*records;
    let mut insert = tx.prepare_cached(
        "INSERT INTO encounter_versions (encounter_id, version, content_hash, device_id, received_at, body, officer)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (encounter_id, version) DO NOTHING",
    )?;
    let mut existing =
        tx.prepare_cached("SELECT content_hash FROM encounter_versions WHERE encounter_id = ?1 AND version = ?2")?;
    // Stores a new version; else says what is held.
    let acked = ack::acknowledge(records, &mut StoredSoFar::default(), |checked| {
        let (record, id) = (&checked.record, checked.record.encounter_id.to_string());
        let row =
            params![id, record.version, record.content_hash, device_id, now, checked.canonical_body, pusher.username];
        if insert.execute(row)? == 1 {
            return Ok(None);
        }
        Ok(Some(existing.query_row(params![id, record.version], |r| r.get(0))?))
    })?;
    let mut insert_conflict = tx.prepare_cached(
        "INSERT INTO conflicts (encounter_id, version, content_hash, device_id, received_at, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
    )?;
    for CheckedRecord { record, canonical_body, .. } in acked.conflicts {
        let id = record.encounter_id.to_string();
        insert_conflict.execute(params![id, record.version, record.content_hash, device_id, now, canonical_body])?;
    }
    let device_seq: Option<i64> = tx
        .query_row(
            "UPDATE devices SET device_seq = MAX(device_seq, ?2) WHERE device_id = ?1 RETURNING device_seq",
            params![device_id, acked.highest_seq as i64],
            |r| r.get(0),
        )
        .optional()?;
    let device_seq = device_seq.ok_or_else(|| StoreError::NotFound(format!("device {device_id}")))?;
    Ok(PushResponse { acks: acked.acks, device_seq: device_seq as u64 })
}

fn stored_version(row: &rusqlite::Row) -> rusqlite::Result<StoredVersion> {
    let body: String = row.get(5)?;
    Ok(StoredVersion {
        encounter_id: parse_uuid(&row.get::<_, String>(0)?)?,
        version: row.get(1)?,
        content_hash: row.get(2)?,
        device_id: row.get(3)?,
        officer: row.get(6)?,
        received_at: parse_time(&row.get::<_, String>(4)?)?,
        body: serde_json::from_str(&body).unwrap_or(Value::Null),
    })
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate_to(&self, target: u32) -> StoreResult<u32> {
        self.run_writer(move |conn| {
            conn.execute_batch(TRACKING_TABLE)?;
            loop {
                // IMMEDIATE: another process migrating the same file waits, then sees its work.
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let current =
                    tx.query_row("SELECT coalesce(max(version), 0) FROM schema_migrations", [], |r| r.get(0))?;
                let Some(migration) = migrations::next(migrations::SQLITE, current, target)? else {
                    return Ok(current);
                };
                tx.execute_batch(migration.sql)?;
                tx.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                    params![migration.version, migration.name, text(Utc::now())],
                )?;
                tx.commit()?;
                tracing::info!(version = migration.version, name = migration.name, "applied migration");
            }
        })
        .await
    }

    async fn push(&self, pusher: &Pusher, records: Vec<CheckedRecord>) -> StoreResult<PushResponse> {
        self.pushes.push(pusher, records).await
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
                "SELECT encounter_id, version, content_hash, device_id, received_at, body, officer FROM encounter_versions
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
                "SELECT encounter_id, version, content_hash, device_id, received_at, body, '' FROM conflicts
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
                "INSERT INTO users (username, role, password_hash, created_at, officer_id) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT DO NOTHING",
                params![user.username, user.role.as_str(), user.password_hash, text(Utc::now()), user.officer_id],
            )?;
            if added == 0 {
                return Err(StoreError::AlreadyExists(format!(
                    "user {} or officer id {}",
                    user.username, user.officer_id
                )));
            }
            Ok(())
        })
        .await
    }

    async fn user(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        let username = username.to_string();
        self.run(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT username, role, password_hash, officer_id FROM users WHERE username = ?1",
                    [username],
                    |r| {
                        Ok(UserRecord {
                            username: r.get(0)?,
                            officer_id: r.get(3)?,
                            role: parse_role(&r.get::<_, String>(1)?)?,
                            password_hash: r.get(2)?,
                        })
                    },
                )
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
                // Perhaps a code that re-enrols this very device (a rotation, see enrolment_api).
                return admin::reenrol(tx, &code_hash, now, &device_id, &token_hash);
            }
            let added = tx.execute(
                "INSERT INTO devices (device_id, token_hash, enrolled_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (device_id) DO NOTHING",
                params![device_id, token_hash, text(now)],
            )?;
            if added == 0 {
                // Rolled back: the code stays unused.
                return Err(StoreError::AlreadyExists(format!("device {device_id}")));
            }
            Ok(true)
        })
        .await
    }

    async fn device_for_token(&self, token_hash: &str) -> StoreResult<Option<String>> {
        let token_hash = token_hash.to_string();
        self.run(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT device_id FROM devices WHERE token_hash = ?1 AND revoked_at IS NULL",
                    [token_hash],
                    |r| r.get(0),
                )
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
