//! The encrypted encounter store: SQLCipher (AES-256) opened with the raw data key, in WAL mode.
//! Drafts are committed with `synchronous=NORMAL` (durable across a crash of the app); submits and
//! amendments with `synchronous=FULL` (durable across a power cut too).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use uuid::Uuid;

use crate::audit::{self, AuditEntry, AuditReport};
use crate::checkpoint::Checkpointer;
use crate::error::{Error, Result};
use crate::keys::{DataKey, KeyFile};
use crate::migrations;
use crate::model::{
    Encounter, EncounterDetail, EncounterStatus, EncounterSummary, ListQuery, Review, SyncState, VersionInfo,
};
use crate::vocab::AgencyConfig;

pub const DB_FILE_NAME: &str = "waypoint.db";
/// Autosaves of the same draft within this window make one "edit" row in the audit log, not hundreds.
const EDIT_AUDIT_WINDOW: StdDuration = StdDuration::from_secs(600);
const LIST_LIMIT: u32 = 2000;

pub struct Store {
    // Declared before `_checkpointer`: closing the connection is what ends the checkpoint thread.
    conn: Connection,
    _checkpointer: Checkpointer,
    officer_id: String,
    device_id: String,
    /// The agency configuration version new drafts are stamped with (the one in use).
    config_version: Cell<u32>,
    last_edit_audit: RefCell<HashMap<(Uuid, u32), Instant>>,
}

/// Timestamps are stored as fixed-width RFC 3339 UTC text so that text order is time order.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The hash the server checks: SHA-256 of the canonical JSON of the version.
pub fn content_hash(encounter: &Encounter) -> Result<String> {
    Ok(canonical_body(encounter)?.1)
}

/// The version's canonical JSON (what the outbox sends, byte for byte) and its content hash.
pub fn canonical_body(encounter: &Encounter) -> Result<(String, String)> {
    use sha2::{Digest, Sha256};
    let canonical = waypoint_protocol::canonical_json(&serde_json::to_value(encounter)?);
    let hash = hex::encode(Sha256::digest(&canonical));
    Ok((String::from_utf8(canonical).expect("serde_json writes UTF-8"), hash))
}

impl Store {
    pub fn db_path(dir: &Path) -> PathBuf {
        dir.join(DB_FILE_NAME)
    }

    pub fn open(dir: &Path, data_key: &DataKey, key_file: &KeyFile, config: &AgencyConfig) -> Result<Store> {
        let path = Self::db_path(dir);
        let conn = open_encrypted(&path, data_key)?;
        let checkpointer = Checkpointer::start(&conn, &path, data_key)?;
        Ok(Store {
            conn,
            _checkpointer: checkpointer,
            officer_id: key_file.officer_id.clone(),
            device_id: key_file.device_id.clone(),
            config_version: Cell::new(config.config_version),
            last_edit_audit: RefCell::new(HashMap::new()),
        })
    }

    pub fn officer_id(&self) -> &str {
        &self.officer_id
    }

    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// The configuration version new drafts and edits are stamped with from now on.
    pub fn set_config_version(&self, version: u32) {
        self.config_version.set(version);
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub fn audit(&self, action: &str, record_id: Option<&str>, outcome: &str) -> Result<()> {
        self.audit_at(Utc::now(), action, record_id, outcome)
    }

    /// An event on its own: the row and the new chain head are written in one transaction.
    pub fn audit_at(&self, at: DateTime<Utc>, action: &str, record_id: Option<&str>, outcome: &str) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        audit::append(&tx, at, &self.officer_id, &self.device_id, action, record_id, outcome)?;
        tx.commit()?;
        Ok(())
    }

    pub fn verify_audit(&self) -> Result<AuditReport> {
        audit::verify(&self.conn)
    }

    pub fn recent_audit(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        audit::recent(&self.conn, limit)
    }

    pub fn pending_outbox(&self) -> Result<u32> {
        Ok(self.conn.query_row("SELECT count(*) FROM outbox WHERE state = 'pending'", [], |r| r.get(0))?)
    }

    /// Versions the server refused: they wait, with the reason, for the officer to amend.
    pub fn rejected_outbox(&self) -> Result<u32> {
        Ok(self.conn.query_row("SELECT count(*) FROM outbox WHERE state = 'rejected'", [], |r| r.get(0))?)
    }

    pub fn create_draft(&self, now: DateTime<Utc>) -> Result<Encounter> {
        let encounter = Encounter::new_draft(&self.device_id, &self.officer_id, self.config_version.get(), now);
        let tx = self.conn.unchecked_transaction()?;
        insert_version(&tx, &encounter)?;
        audit::append(&tx, now, &self.officer_id, &self.device_id, "create", Some(&record_ref(&encounter)), "ok")?;
        tx.commit()?;
        Ok(encounter)
    }

    /// Stores the draft's content. Identity, lifecycle and timestamps come from the store, not the caller.
    pub fn save_draft(&self, draft: &Encounter, now: DateTime<Utc>) -> Result<Encounter> {
        let tx = self.conn.unchecked_transaction()?;
        let stored = load_version(&tx, draft.id, draft.version)?;
        let saved = match stored {
            None => {
                if draft.version != 1 || latest_version(&tx, draft.id)?.is_some() {
                    return Err(Error::InvalidState(
                        "A new version of a report can only be started with Amend.".into(),
                    ));
                }
                let mut fresh = draft.clone();
                fresh.status = EncounterStatus::Draft;
                fresh.supersedes = None;
                fresh.device_id = self.device_id.clone();
                fresh.officer_id = self.officer_id.clone();
                fresh.submitted_at = None;
                fresh.review = None;
                fresh.updated_at = now;
                insert_version(&tx, &fresh)?;
                audit::append(&tx, now, &self.officer_id, &self.device_id, "create", Some(&record_ref(&fresh)), "ok")?;
                fresh
            }
            Some(stored) if stored.status != EncounterStatus::Draft => {
                return Err(Error::InvalidState(format!(
                    "Version {} of this report was submitted and cannot be changed: amend it instead.",
                    stored.version
                )));
            }
            Some(stored) => {
                let mut merged = draft.clone();
                merged.status = EncounterStatus::Draft;
                merged.supersedes = stored.supersedes;
                merged.device_id = stored.device_id.clone();
                merged.officer_id = stored.officer_id.clone();
                merged.created_at = stored.created_at;
                merged.submitted_at = None;
                merged.review = stored.review.clone();
                merged.config_version = self.config_version.get();
                merged.updated_at = now;
                update_version(&tx, &merged, None)?;
                if self.should_audit_edit(merged.id, merged.version) {
                    audit::append(
                        &tx,
                        now,
                        &self.officer_id,
                        &self.device_id,
                        "edit",
                        Some(&record_ref(&merged)),
                        "ok",
                    )?;
                }
                merged
            }
        };
        tx.commit()?;
        Ok(saved)
    }

    fn should_audit_edit(&self, id: Uuid, version: u32) -> bool {
        let mut last = self.last_edit_audit.borrow_mut();
        let now = Instant::now();
        match last.get(&(id, version)) {
            Some(at) if now.duration_since(*at) < EDIT_AUDIT_WINDOW => false,
            _ => {
                last.insert((id, version), now);
                true
            }
        }
    }

    /// Freezes a draft version and queues it for the server, in one durable transaction.
    /// Validation is the caller's job (`Waypoint::submit`).
    pub fn submit(&self, id: Uuid, version: u32, now: DateTime<Utc>) -> Result<Encounter> {
        self.durably(|tx| {
            let mut encounter = load_version(tx, id, version)?
                .ok_or_else(|| Error::NotFound(format!("report {id} version {version}")))?;
            if encounter.status != EncounterStatus::Draft {
                return Err(Error::InvalidState(format!("Version {version} of this report was already submitted.")));
            }
            encounter.status = EncounterStatus::Submitted;
            encounter.submitted_at = Some(now);
            encounter.updated_at = now;
            // The outbox keeps the exact bytes that were hashed: a push sends them as they are.
            let (body, hash) = canonical_body(&encounter)?;
            update_version(tx, &encounter, Some(&hash))?;
            tx.prepare_cached(
                "INSERT INTO outbox (encounter_id, version, content_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![id.to_string(), version, hash, timestamp(now)])?;
            tx.prepare_cached("INSERT INTO outbox_body (seq, body) VALUES (?1, ?2)")?
                .execute(params![tx.last_insert_rowid(), body])?;
            audit::append(tx, now, &self.officer_id, &self.device_id, "submit", Some(&record_ref(&encounter)), "ok")?;
            Ok(encounter)
        })
    }

    /// A new draft version that supersedes the newest version, which must not be a draft.
    pub fn amend(&self, id: Uuid, now: DateTime<Utc>) -> Result<Encounter> {
        self.durably(|tx| {
            let newest = latest_version(tx, id)?.ok_or_else(|| Error::NotFound(format!("report {id}")))?;
            if newest.status == EncounterStatus::Draft {
                return Err(Error::InvalidState(format!(
                    "Version {} of this report is still a draft: continue it instead.",
                    newest.version
                )));
            }
            let mut amendment = newest.clone();
            amendment.version = newest.version + 1;
            amendment.supersedes = Some(newest.version);
            amendment.status = EncounterStatus::Draft;
            amendment.submitted_at = None;
            amendment.review = None;
            amendment.updated_at = now;
            amendment.officer_id = self.officer_id.clone();
            insert_version(tx, &amendment)?;
            audit::append(tx, now, &self.officer_id, &self.device_id, "amend", Some(&record_ref(&amendment)), "ok")?;
            Ok(amendment)
        })
    }

    /// Records a supervisor's decision on a submitted version. Only the status and the review change.
    pub fn apply_review(&self, id: Uuid, version: u32, review: Review) -> Result<Encounter> {
        self.durably(|tx| self.apply_review_in(tx, id, version, review))
    }

    /// As `apply_review`, inside the caller's transaction (a pulled page is applied in one).
    pub fn apply_review_in(&self, tx: &Transaction, id: Uuid, version: u32, review: Review) -> Result<Encounter> {
        if !matches!(review.decision, EncounterStatus::Approved | EncounterStatus::Returned) {
            return Err(Error::validation("review.decision", "A review either approves or returns a report."));
        }
        let mut encounter =
            load_version(tx, id, version)?.ok_or_else(|| Error::NotFound(format!("report {id} version {version}")))?;
        if encounter.status == EncounterStatus::Draft {
            return Err(Error::InvalidState("A draft cannot be reviewed.".into()));
        }
        encounter.status = review.decision;
        let at = review.at;
        encounter.review = Some(review);
        let hash: Option<String> = tx.query_row(
            "SELECT content_hash FROM encounter_versions WHERE encounter_id = ?1 AND version = ?2",
            params![id.to_string(), version],
            |r| r.get(0),
        )?;
        update_version(tx, &encounter, hash.as_deref())?;
        let outcome = encounter.status.as_str();
        audit::append(tx, at, &self.officer_id, &self.device_id, "review", Some(&record_ref(&encounter)), outcome)?;
        Ok(encounter)
    }

    /// The sync state of one submitted version; `None` for drafts.
    pub fn sync_state(&self, id: Uuid, version: u32) -> Result<Option<SyncState>> {
        let row: Option<(String, u32, Option<String>, Option<String>)> = self
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

    /// Runs `work` in one transaction committed with the store's default `synchronous=NORMAL`:
    /// atomic, and durable across a crash of the app, but a power cut may undo it. For state
    /// that is safe to redo (sync acknowledgements, pulled pages).
    pub fn transaction<T>(&self, work: impl FnOnce(&Transaction) -> Result<T>) -> Result<T> {
        let tx = self.conn.unchecked_transaction()?;
        let value = work(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    pub fn list(&self, query: &ListQuery) -> Result<Vec<EncounterSummary>> {
        let text = query.text.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(|t| {
            let escaped = t.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            format!("%{escaped}%")
        });
        let mut stmt = self.conn.prepare_cached(
            "SELECT body FROM encounter_versions v
             WHERE version = (SELECT max(version) FROM encounter_versions w WHERE w.encounter_id = v.encounter_id)
               AND (?1 IS NULL OR search_text LIKE ?1 ESCAPE '\\')
               AND (?2 IS NULL OR occurred_at >= ?2)
               AND (?3 IS NULL OR occurred_at < ?3)
               AND (?4 IS NULL OR status = ?4)
             ORDER BY occurred_at DESC, encounter_id DESC
             LIMIT ?5",
        )?;
        let rows = stmt.query_map(
            params![
                text,
                query.from.map(timestamp),
                query.to.map(timestamp),
                query.status.map(|s| s.as_str()),
                LIST_LIMIT
            ],
            |row| row.get::<_, String>(0),
        )?;
        let mut out = Vec::new();
        for body in rows {
            let encounter: Encounter = serde_json::from_str(&body?)?;
            let mut summary = EncounterSummary::from(&encounter);
            summary.sync = self.sync_state(encounter.id, encounter.version)?;
            out.push(summary);
        }
        Ok(out)
    }

    pub fn detail(&self, id: Uuid) -> Result<EncounterDetail> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT body FROM encounter_versions WHERE encounter_id = ?1 ORDER BY version DESC")?;
        let bodies = stmt.query_map([id.to_string()], |row| row.get::<_, String>(0))?;
        let mut versions = Vec::new();
        for body in bodies {
            versions.push(serde_json::from_str::<Encounter>(&body?)?);
        }
        let current = versions.first().cloned().ok_or_else(|| Error::NotFound(format!("report {id}")))?;
        let versions = versions
            .iter()
            .map(|v| {
                Ok(VersionInfo {
                    version: v.version,
                    status: v.status,
                    supersedes: v.supersedes,
                    updated_at: v.updated_at,
                    submitted_at: v.submitted_at,
                    review: v.review.clone(),
                    sync: self.sync_state(id, v.version)?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(EncounterDetail { current, versions })
    }

    pub fn version(&self, id: Uuid, version: u32) -> Result<Encounter> {
        load_version(&self.conn, id, version)?.ok_or_else(|| Error::NotFound(format!("report {id} version {version}")))
    }

    /// Runs `work` in a transaction committed with `synchronous=FULL`.
    fn durably<T>(&self, work: impl FnOnce(&Transaction) -> Result<T>) -> Result<T> {
        // Cached statements: parsing SQL was a visible part of a ~1 ms save.
        self.conn.prepare_cached("PRAGMA synchronous = FULL")?.execute([])?;
        let result = (|| {
            let tx = self.conn.unchecked_transaction()?;
            let value = work(&tx)?;
            tx.commit()?;
            Ok(value)
        })();
        self.conn.prepare_cached("PRAGMA synchronous = NORMAL")?.execute([])?;
        result
    }
}

fn record_ref(e: &Encounter) -> String {
    format!("{} v{}", e.id, e.version)
}

/// Opens (creating if needed) the SQLCipher database with a raw 256-bit key and brings its schema up to date.
pub fn open_encrypted(path: &Path, data_key: &DataKey) -> Result<Connection> {
    create_private_file(path)?;
    let mut conn = open_keyed(path, data_key)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA temp_store = MEMORY;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 5000;",
    )?;
    migrations::migrate(&mut conn)?;
    Ok(conn)
}

/// A connection to the existing SQLCipher database at `path`, keyed and checked (no schema work).
pub fn open_keyed(path: &Path, data_key: &DataKey) -> Result<Connection> {
    let conn = Connection::open(path)?;
    // A raw key (x'..') skips SQLCipher's own passphrase KDF: our key is already random.
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", hex::encode(data_key.as_ref())))?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).map_err(|_| {
        Error::Crypto(
            "the database does not open with this device's key: it is damaged or belongs to another key".into(),
        )
    })?;
    Ok(conn)
}

/// The database file is made 0600 before SQLite creates it; its -wal and -shm files take its mode.
fn create_private_file(path: &Path) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?;
    Ok(())
}

fn insert_version(conn: &Connection, e: &Encounter) -> Result<()> {
    let body = serde_json::to_string(e)?;
    conn.prepare_cached(
        "INSERT INTO encounter_versions
             (encounter_id, version, status, supersedes, occurred_at, updated_at, content_hash, body, search_text)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7, ?8)",
    )?
    .execute(params![
        e.id.to_string(),
        e.version,
        e.status.as_str(),
        e.supersedes,
        timestamp(e.occurred_at),
        timestamp(e.updated_at),
        body,
        e.search_text()
    ])?;
    Ok(())
}

fn update_version(conn: &Connection, e: &Encounter, content_hash: Option<&str>) -> Result<()> {
    let body = serde_json::to_string(e)?;
    conn.prepare_cached(
        "UPDATE encounter_versions
         SET status = ?3, occurred_at = ?4, updated_at = ?5, content_hash = ?6, body = ?7, search_text = ?8
         WHERE encounter_id = ?1 AND version = ?2",
    )?
    .execute(params![
        e.id.to_string(),
        e.version,
        e.status.as_str(),
        timestamp(e.occurred_at),
        timestamp(e.updated_at),
        content_hash,
        body,
        e.search_text()
    ])?;
    Ok(())
}

fn load_version(conn: &Connection, id: Uuid, version: u32) -> Result<Option<Encounter>> {
    one_body(
        conn,
        "SELECT body FROM encounter_versions WHERE encounter_id = ?1 AND version = ?2",
        params![id.to_string(), version],
    )
}

fn latest_version(conn: &Connection, id: Uuid) -> Result<Option<Encounter>> {
    one_body(
        conn,
        "SELECT body FROM encounter_versions WHERE encounter_id = ?1 ORDER BY version DESC LIMIT 1",
        params![id.to_string()],
    )
}

fn one_body(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<Option<Encounter>> {
    let body: Option<String> = conn.prepare_cached(sql)?.query_row(params, |row| row.get(0)).optional()?;
    Ok(match body {
        Some(body) => Some(serde_json::from_str(&body)?),
        None => None,
    })
}
