//! What the server keeps, behind one [`Store`] trait with two implementations: an embedded
//! SQLite file ([`crate::sqlite_store`], the zero-configuration default) and PostgreSQL
//! ([`crate::postgres_store`]). Both pass the same test suite (`tests/store.rs`).
//!
//! The pull feed is one table of changes numbered by a *serialized* counter: the transaction
//! that appends a change takes the next number under a row lock held until it commits, so changes
//! become visible in number order and a reader's cursor can never pass a change that commits later.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;
use waypoint_protocol::{ChangeKind, PullResponse, PushResponse, RawChange, RawPullResponse, RawPushRecord, Role};

pub mod accounts;
pub(crate) mod ack;
pub mod admin;
pub mod agency_config;
pub mod audit;
pub mod delivery;
pub mod directory_admin;
pub(crate) mod group_commit;
pub mod identity;
pub mod imported;
pub mod migrations;
pub mod outcomes;
pub mod records;
pub mod review;
pub mod training;

pub use review::ReviewStore;

pub use agency_config::AgencyConfigStore;
pub use directory_admin::DirectoryAdminStore;

pub use identity::{CredentialHolder, OfficerCredential, OfficerCredentialStore, Owner, Pusher};

pub use accounts::{AccountStore, DeviceCredential, DeviceSummary, MfaEnrolment, SessionState, UserAccount};

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(String),
    /// The database is saturated (no connection free in time): the client should retry later.
    #[error("database busy: {0}")]
    Busy(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// The database was migrated by a newer server: this one refuses to use it.
    #[error(
        "this database was migrated by a newer Waypoint server (schema version {found}; this server knows up to \
         {known}): run the newer server, or restore a backup made for this one"
    )]
    NewerSchema { found: u32, known: u32 },
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        match error {
            rusqlite::Error::SqliteFailure(e, _) if e.code == rusqlite::ErrorCode::DatabaseBusy => {
                StoreError::Busy(error.to_string())
            }
            other => StoreError::Database(other.to_string()),
        }
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(error: tokio_postgres::Error) -> Self {
        // Show the server's message, not just "db error".
        match error.as_db_error() {
            Some(db) => StoreError::Database(format!("{}: {}", db.code().code(), db.message())),
            None => StoreError::Database(error.to_string()),
        }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        match error {
            deadpool_postgres::PoolError::Timeout(_) => StoreError::Busy(error.to_string()),
            other => StoreError::Database(other.to_string()),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(error: serde_json::Error) -> Self {
        StoreError::Database(format!("stored JSON unreadable: {error}"))
    }
}

/// A pushed record with the verdict of [`crate::validation::check_record`]: `problem` set means
/// it is acknowledged as rejected with that reason and not stored.
#[derive(Debug, Clone)]
pub struct CheckedRecord {
    pub record: RawPushRecord,
    pub problem: Option<String>,
    /// The body's canonical JSON (the bytes its content hash covers), stored as sent.
    pub canonical_body: String,
}

/// Who receives a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every device (directory and capacity changes).
    AllDevices,
    /// One device (a review result for the device that pushed the encounter).
    Device(String),
}

impl Audience {
    pub(crate) fn device_id(&self) -> Option<&str> {
        match self {
            Audience::AllDevices => None,
            Audience::Device(id) => Some(id),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewChange {
    pub audience: Audience,
    pub kind: ChangeKind,
    pub key: String,
    pub body: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredVersion {
    pub encounter_id: Uuid,
    pub version: u32,
    pub content_hash: String,
    /// The device that pushed it first.
    pub device_id: String,
    /// The signed-in officer (username) whose credential pushed it.
    pub officer: String,
    pub received_at: DateTime<Utc>,
    pub body: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConflictRecord {
    pub encounter_id: Uuid,
    pub version: u32,
    /// The hash of the content that arrived second (the stored version keeps the first).
    pub content_hash: String,
    pub device_id: String,
    pub received_at: DateTime<Utc>,
    pub body: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub username: String,
    /// The officer id (badge number) this user's reports carry; unique.
    pub officer_id: String,
    pub role: Role,
    /// Argon2 PHC string.
    pub password_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub username: String,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
}

/// What the directory feed has published so far: entry key -> content hash.
pub type PublishedDirectory = HashMap<String, String>;

#[async_trait]
pub trait Store:
    OfficerCredentialStore
    + ReviewStore
    + delivery::DeliveryStore
    + AccountStore
    + audit::AuditStore
    + admin::AdminStore
    + AgencyConfigStore
    + DirectoryAdminStore
    + outcomes::OutcomeStore
    + records::RecordsStore
    + training::TrainingStore
    + imported::ImportStore
    + Send
    + Sync
{
    /// Which implementation this is ("sqlite" or "postgres"), for logs and benchmark output.
    fn backend(&self) -> &'static str;

    /// Applies the migrations this database lacks (see [`migrations`]). Idempotent. Fails with
    /// [`StoreError::NewerSchema`] on a database a newer server migrated.
    async fn migrate(&self) -> StoreResult<()> {
        self.migrate_to(u32::MAX).await.map(drop)
    }

    /// Applies the migrations up to version `target` that are not applied yet; returns the
    /// database's version after.
    async fn migrate_to(&self, target: u32) -> StoreResult<u32>;

    /// Applies one push in one transaction: rejected records are acknowledged as such, new
    /// versions stored, exact repeats acknowledged as duplicates, same id+version with other
    /// content kept as a conflict row; the device's sequence advances to the highest seq seen.
    /// A record naming an encounter another officer or device owns is rejected (see
    /// [`identity::check_authorship`]); each stored version keeps `pusher`'s username.
    async fn push(&self, pusher: &Pusher, records: Vec<CheckedRecord>) -> StoreResult<PushResponse>;

    /// The changes after `cursor` meant for `device_id`, in feed order, up to about `max_bytes`
    /// of bodies (at least one change when any is waiting).
    async fn pull(&self, device_id: &str, cursor: u64, max_bytes: usize) -> StoreResult<PullResponse> {
        Ok(self.pull_page(device_id, cursor, max_bytes).await?.parse()?)
    }

    /// [`Store::pull`] with the bodies as the feed stored them (what the HTTP handler sends).
    async fn pull_page(&self, device_id: &str, cursor: u64, max_bytes: usize) -> StoreResult<RawPullResponse>;

    /// Appends changes to the feed in one transaction; returns the feed number of the last.
    async fn append_changes(&self, changes: Vec<NewChange>) -> StoreResult<u64>;

    /// The device that first pushed this version, if the server holds it.
    async fn version_owner(&self, encounter_id: Uuid, version: u32) -> StoreResult<Option<String>>;

    /// Every stored version received at or after `since` (all when `None`), oldest first.
    async fn versions_since(&self, since: Option<DateTime<Utc>>) -> StoreResult<Vec<StoredVersion>>;

    async fn conflicts(&self) -> StoreResult<Vec<ConflictRecord>>;

    async fn device_seq(&self, device_id: &str) -> StoreResult<Option<u64>>;

    /// Fails with `AlreadyExists` when the username or the officer id is taken.
    async fn add_user(&self, user: UserRecord) -> StoreResult<()>;
    async fn user(&self, username: &str) -> StoreResult<Option<UserRecord>>;

    async fn add_session(&self, token_hash: &str, session: SessionRecord) -> StoreResult<()>;
    async fn session(&self, token_hash: &str) -> StoreResult<Option<SessionRecord>>;

    async fn add_enrollment(&self, code_hash: &str, expires_at: DateTime<Utc>) -> StoreResult<()>;
    /// Uses up an unexpired, unused code and registers the device with its token hash, in one
    /// transaction. `false` when the code is unknown, used or expired.
    async fn redeem_enrollment(
        &self,
        code_hash: &str,
        now: DateTime<Utc>,
        device_id: &str,
        token_hash: &str,
    ) -> StoreResult<bool>;
    async fn device_for_token(&self, token_hash: &str) -> StoreResult<Option<String>>;

    async fn published_directory(&self) -> StoreResult<PublishedDirectory>;

    /// The capacity updates in effect at feed position `cursor`: what a device that applied the
    /// whole feed up to there holds (see [`capacities_in_effect`]). They go into the directory
    /// snapshot, whose devices pull only the changes after it.
    async fn capacities_at(&self, cursor: u64) -> StoreResult<Vec<Value>>;

    /// Records the new hashes and appends their changes in one transaction.
    async fn publish_directory(&self, upserts: Vec<(String, String, Value)>, deletes: Vec<String>) -> StoreResult<u64>;
}

pub type SharedStore = Arc<dyn Store>;

/// Whether a `--database` value names PostgreSQL (else it is a SQLite file path).
pub fn is_postgres(database: &str) -> bool {
    database.starts_with("postgres://") || database.starts_with("postgresql://")
}

/// The SQLite file a `--database` value names (`sqlite://` prefix optional).
pub fn sqlite_path(database: &str) -> &std::path::Path {
    std::path::Path::new(database.strip_prefix("sqlite://").unwrap_or(database))
}

/// Opens the store a `--database` value names: a `postgres://` or `postgresql://` URL, else a
/// SQLite file path (`sqlite://` prefix optional), encrypted with `sqlite_key` (required for
/// SQLite, unused for PostgreSQL). Migrates it.
pub async fn open(
    database: &str,
    sqlite_key: Option<&crate::database_key::DatabaseKey>,
) -> anyhow::Result<SharedStore> {
    let store: SharedStore = if is_postgres(database) {
        Arc::new(crate::postgres_store::PostgresStore::connect(database, None).await?)
    } else {
        let key = sqlite_key.ok_or_else(|| anyhow::anyhow!("a SQLite database needs its database key"))?;
        Arc::new(crate::sqlite_store::SqliteStore::open(sqlite_path(database), key)?)
    };
    store.migrate().await?;
    Ok(store)
}

/// One change as read from the feed table, before byte sizing.
pub(crate) struct FeedRow {
    pub seq: u64,
    pub kind: String,
    pub key: String,
    pub body: String,
}

/// Sizes a pull page: keeps changes while their bodies fit in `max_bytes` (always at least one).
pub(crate) fn page_of(
    rows: Vec<FeedRow>,
    fetched_limit: usize,
    cursor: u64,
    max_bytes: usize,
) -> StoreResult<RawPullResponse> {
    let fetched = rows.len();
    let mut changes = Vec::new();
    let mut bytes = 0usize;
    for row in rows {
        let size = row.key.len() + row.body.len();
        if !changes.is_empty() && bytes + size > max_bytes {
            break;
        }
        bytes += size;
        let kind = ChangeKind::parse(&row.kind)
            .ok_or_else(|| StoreError::Database(format!("unknown change kind `{}` in the feed", row.kind)))?;
        changes.push(RawChange {
            seq: row.seq,
            kind,
            key: row.key,
            // Checked as JSON (a damaged row fails here, not on the device), not parsed into a tree.
            body: serde_json::value::RawValue::from_string(row.body)?,
        });
    }
    let more = changes.len() < fetched || fetched == fetched_limit;
    let cursor = changes.last().map_or(cursor, |c| c.seq);
    Ok(RawPullResponse { changes, cursor, more })
}

/// Rows fetched per pull query before byte sizing trims the page: enough to fill `max_bytes` with
/// changes of 512 bytes or more (directory entries are about 700), without reading thousands of
/// rows only to drop most of them.
pub(crate) fn pull_row_limit(max_bytes: usize) -> usize {
    (max_bytes / 512).clamp(16, 2000)
}

/// Replays the all-device feed rows `(kind, key, body)` in feed order as a device applies them: a
/// capacity update counts only for a service published and not withdrawn at that point (a device
/// skips the others), a withdrawal drops the service's capacity, the latest update wins. Only
/// capacity rows need their body. Returns the update bodies, ordered by service id.
pub(crate) fn capacities_in_effect(
    rows: impl IntoIterator<Item = (String, String, Option<String>)>,
) -> StoreResult<Vec<Value>> {
    let mut published = std::collections::HashSet::new();
    let mut capacity = std::collections::BTreeMap::new();
    for (kind, key, body) in rows {
        match kind.as_str() {
            k if k == ChangeKind::DirectoryUpsert.as_str() => {
                published.insert(key);
            }
            k if k == ChangeKind::DirectoryDelete.as_str() => {
                published.remove(&key);
                capacity.remove(&key);
            }
            k if k == ChangeKind::CapacityUpdate.as_str() && published.contains(&key) => {
                let body =
                    body.ok_or_else(|| StoreError::Database(format!("capacity change for {key} has no body")))?;
                capacity.insert(key, serde_json::from_str::<Value>(&body)?);
            }
            _ => {}
        }
    }
    Ok(capacity.into_values().collect())
}

/// The feed changes for a directory publication: upserts carry the entry, deletes carry null.
pub(crate) fn directory_changes(upserts: &[(String, String, Value)], deletes: &[String]) -> Vec<NewChange> {
    upserts
        .iter()
        .map(|(key, _, body)| NewChange {
            audience: Audience::AllDevices,
            kind: ChangeKind::DirectoryUpsert,
            key: key.clone(),
            body: body.clone(),
        })
        .chain(deletes.iter().map(|key| NewChange {
            audience: Audience::AllDevices,
            kind: ChangeKind::DirectoryDelete,
            key: key.clone(),
            body: Value::Null,
        }))
        .collect()
}
