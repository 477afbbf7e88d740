//! The PostgreSQL store for larger agencies: a deadpool connection pool over tokio-postgres.
//!
//! Change numbers come from a one-row counter updated inside the transaction that appends the
//! change: the row lock is held until commit, so a later number can never commit before an
//! earlier one and a pulling device never skips a change (a plain SEQUENCE would allow that).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Transaction};
use serde_json::Value;
use tokio_postgres::types::Json;
use tokio_postgres::NoTls;
use uuid::Uuid;
use waypoint_protocol::{PushResponse, RawPullResponse, Role};

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
mod records;
mod review;
mod training;

/// Which migrations ran, and when (see [`crate::store::migrations`]).
const TRACKING_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())";

pub struct PostgresStore {
    pool: Pool,
    pushes: PushQueue,
    audits: audit::AuditQueue,
}

fn role_of(text: &str) -> StoreResult<Role> {
    Role::parse(text).ok_or_else(|| StoreError::Database(format!("unknown role `{text}` stored")))
}

impl PostgresStore {
    /// Connects a pool to `url`. `search_path` puts every connection in that schema (tests give
    /// each run its own).
    pub async fn connect(url: &str, search_path: Option<&str>) -> StoreResult<Self> {
        // TLS when the URL's sslmode asks for it (crate::postgres_tls).
        let target = crate::postgres_tls::parse(url)?;
        let tls = crate::postgres_tls::connector(&target)?;
        let mut config = target.config;
        if let Some(schema) = search_path {
            config.options(format!("-c search_path={schema}"));
        }
        config.connect_timeout(Duration::from_secs(5));
        let manager_config = ManagerConfig { recycling_method: RecyclingMethod::Fast };
        let manager = match tls {
            Some(tls) => Manager::from_config(config, tls, manager_config),
            None => Manager::from_config(config, NoTls, manager_config),
        };
        let pool = Pool::builder(manager)
            .max_size(16)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(5)))
            .build()
            .map_err(|e| StoreError::Database(e.to_string()))?;
        // Fail now, with the reason (a refused certificate included), rather than at the first request.
        match pool.get().await {
            Ok(client) => drop(client),
            Err(deadpool_postgres::PoolError::Backend(error)) if error.as_db_error().is_none() => {
                return Err(StoreError::Database(format!(
                    "cannot connect to PostgreSQL: {}",
                    crate::postgres_tls::describe(&error)
                )));
            }
            Err(other) => return Err(other.into()),
        }
        let (pushes, groups) = group_commit::push_queue(MAX_PUSH_GROUP);
        for _ in 0..PUSH_WRITERS {
            tokio::spawn(push_writer(pool.clone(), groups.clone()));
        }
        let audits = audit::AuditQueue::start(pool.clone());
        Ok(PostgresStore { pool, pushes, audits })
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Appends changes inside `tx`. The counter row stays locked until `tx` ends, which
    /// serializes appenders in commit order.
    pub async fn append_changes_in(tx: &Transaction<'_>, changes: &[NewChange]) -> StoreResult<u64> {
        let count = changes.len() as i64;
        let row = tx
            .query_one("UPDATE change_counter SET last_seq = last_seq + $1 WHERE id = 1 RETURNING last_seq", &[&count])
            .await?;
        let last: i64 = row.get(0);
        let insert = tx
            .prepare_cached("INSERT INTO changes (seq, device_id, kind, key, body) VALUES ($1, $2, $3, $4, $5)")
            .await?;
        for (i, change) in changes.iter().enumerate() {
            let seq = last - count + 1 + i as i64;
            let body = change.body.to_string();
            tx.execute(&insert, &[&seq, &change.audience.device_id(), &change.kind.as_str(), &change.key, &body])
                .await?;
        }
        Ok(last as u64)
    }
}

/// Group-commit writers: each takes the pushes waiting in the queue (up to [`MAX_PUSH_GROUP`]) and
/// stores them in one transaction of a handful of statements, whatever the number of devices.
/// Two, so PostgreSQL works on one group while the next is gathered and sent.
const PUSH_WRITERS: usize = 2;
/// Most pushes committed together (bounds the time the first one waits for the group).
const MAX_PUSH_GROUP: usize = 64;

/// Runs until the store (the queue's sender) is dropped.
async fn push_writer(pool: Pool, groups: PushGroups) {
    while let Some(mut jobs) = groups.next().await {
        let outcome = commit_push_group(&pool, &mut jobs).await;
        group_commit::answer(jobs, outcome);
    }
}

async fn commit_push_group(pool: &Pool, jobs: &mut [PushJob]) -> StoreResult<Vec<StoreResult<PushResponse>>> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let outcomes = push_group_in(&tx, jobs).await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// Stores a group of pushes (from any devices) in a handful of statements: all new versions in one
/// INSERT, the ones already held looked up in one SELECT, every device's sequence in one UPDATE;
/// only conflicts (rare) go one by one. Acknowledgements ([`ack::acknowledge`]) are as if the
/// pushes ran one after the other in queue order: the first copy of a version is `stored`, a later
/// identical one (a retry in the same group) `duplicate`, a later different one `conflict`.
/// Authorship too: the owners of every encounter the group names are read in one SELECT, and a
/// record naming someone else's encounter (held, or created earlier in the group) is rejected.
async fn push_group_in(tx: &Transaction<'_>, jobs: &mut [PushJob]) -> StoreResult<Vec<StoreResult<PushResponse>>> {
    let now = Utc::now();
    // A device is known when it enrolled (its token was checked): this only guards against one
    // removed meanwhile. Its push stores nothing.
    let device_ids: Vec<&str> = jobs.iter().map(|j| j.pusher.device_id.as_str()).collect();
    let known: HashSet<String> = tx
        .query(&tx.prepare_cached("SELECT device_id FROM devices WHERE device_id = ANY($1)").await?, &[&device_ids])
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    // Each encounter the group names is claimed for the first pusher naming it (queue order) unless
    // it has an owner; a claim racing another transaction's waits for it on the primary key and
    // then yields. Then every owner is read, committed ones included.
    let mut first_named: Vec<(Uuid, &Pusher)> = Vec::new();
    let mut seen = HashSet::new();
    for job in jobs.iter().filter(|j| known.contains(&j.pusher.device_id)) {
        for checked in job.records.iter().filter(|r| r.problem.is_none()) {
            if seen.insert(checked.record.encounter_id) {
                first_named.push((checked.record.encounter_id, &job.pusher));
            }
        }
    }
    // In id order, so two writers claiming overlapping encounters wait on each other without deadlock.
    first_named.sort_by_key(|(id, _)| *id);
    let mut owners = Owners::default();
    if !first_named.is_empty() {
        let named: Vec<Uuid> = first_named.iter().map(|(id, _)| *id).collect();
        let officers: Vec<&str> = first_named.iter().map(|(_, p)| p.username.as_str()).collect();
        let devices: Vec<&str> = first_named.iter().map(|(_, p)| p.device_id.as_str()).collect();
        let claim = tx
            .prepare_cached(
                "INSERT INTO encounter_owners (encounter_id, officer, device_id)
                 SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING",
            )
            .await?;
        tx.execute(&claim, &[&named, &officers, &devices]).await?;
        let owner_rows = tx
            .prepare_cached(
                "SELECT encounter_id, officer, device_id FROM encounter_owners WHERE encounter_id = ANY($1)",
            )
            .await?;
        for row in tx.query(&owner_rows, &[&named]).await? {
            owners.held(row.get(0), Owner { username: row.get(1), device_id: row.get(2) });
        }
    }
    for job in jobs.iter_mut().filter(|j| known.contains(&j.pusher.device_id)) {
        // Every encounter named has its owner in `owners` now.
        authorship::check_authorship(&mut job.records, &job.pusher, &mut owners, |_| Ok(None))?;
    }
    let jobs = &*jobs;
    let valid: Vec<(&Pusher, &CheckedRecord)> = jobs
        .iter()
        .filter(|j| known.contains(&j.pusher.device_id))
        .flat_map(|j| j.records.iter().filter(|r| r.problem.is_none()).map(|r| (&j.pusher, r)))
        .collect();
    let ids: Vec<Uuid> = valid.iter().map(|(_, r)| r.record.encounter_id).collect();
    let versions: Vec<i32> = valid.iter().map(|(_, r)| r.record.version as i32).collect();
    let hashes: Vec<&str> = valid.iter().map(|(_, r)| r.record.content_hash.as_str()).collect();
    let devices: Vec<&str> = valid.iter().map(|(pusher, _)| pusher.device_id.as_str()).collect();
    let officers: Vec<&str> = valid.iter().map(|(pusher, _)| pusher.username.as_str()).collect();
    // The canonical JSON text, stored as it is (PostgreSQL only checks it is JSON).
    let bodies: Vec<&str> = valid.iter().map(|(_, r)| r.canonical_body.as_str()).collect();
    let insert = tx
        .prepare_cached(
            "INSERT INTO encounter_versions (encounter_id, version, content_hash, device_id, received_at, body, officer)
             SELECT id, version, hash, device, $5, body::json, officer
             FROM UNNEST($1::uuid[], $2::int[], $3::text[], $4::text[], $6::text[], $7::text[])
                 AS r (id, version, hash, device, body, officer)
             ON CONFLICT (encounter_id, version) DO NOTHING
             RETURNING encounter_id, version",
        )
        .await?;
    let inserted: HashSet<(Uuid, i32)> = tx
        .query(&insert, &[&ids, &versions, &hashes, &devices, &now, &bodies, &officers])
        .await?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    // What the server already held for the rest (a retry, or a conflict).
    let (held_ids, held_versions): (Vec<Uuid>, Vec<i32>) =
        ids.iter().zip(&versions).filter(|key| !inserted.contains(&(*key.0, *key.1))).map(|(i, v)| (*i, *v)).unzip();
    let mut held: HashMap<(Uuid, i32), String> = HashMap::new();
    if !held_ids.is_empty() {
        let existing = tx
            .prepare_cached(
                "SELECT v.encounter_id, v.version, v.content_hash FROM encounter_versions v
                 JOIN UNNEST($1::uuid[], $2::int[]) AS k (id, version) ON v.encounter_id = k.id AND v.version = k.version",
            )
            .await?;
        for row in tx.query(&existing, &[&held_ids, &held_versions]).await? {
            held.insert((row.get(0), row.get(1)), row.get(2));
        }
    }
    let insert_conflict = tx
        .prepare_cached(
            "INSERT INTO conflicts (encounter_id, version, content_hash, device_id, received_at, body)
             VALUES ($1, $2, $3, $4, $5, $6::text::json) ON CONFLICT DO NOTHING",
        )
        .await?;
    // One ledger for the whole group: it is one transaction, all stored or none.
    let mut stored = StoredSoFar::default();
    let mut highest_seq: HashMap<&str, i64> = HashMap::new();
    let mut acks_of = Vec::with_capacity(jobs.len());
    for job in jobs {
        let device_id = &job.pusher.device_id;
        if !known.contains(device_id) {
            acks_of.push(None);
            continue;
        }
        // The INSERT above stored the first copy of each new version (in queue order).
        let acked = ack::acknowledge(&job.records, &mut stored, |checked| {
            let key = (checked.record.encounter_id, checked.record.version as i32);
            if inserted.contains(&key) {
                return Ok(None);
            }
            let hash = held
                .get(&key)
                .ok_or_else(|| StoreError::Database(format!("version {key:?} was neither stored nor found held")))?;
            Ok(Some(hash.clone()))
        })?;
        for CheckedRecord { record, canonical_body, .. } in acked.conflicts {
            let version = record.version as i32;
            let params: [&(dyn tokio_postgres::types::ToSql + Sync); 6] =
                [&record.encounter_id, &version, &record.content_hash, device_id, &now, canonical_body];
            tx.execute(&insert_conflict, &params).await?;
        }
        // Every device of the group gets its sequence back, even for an empty push.
        let highest = highest_seq.entry(device_id.as_str()).or_insert(0);
        *highest = (*highest).max(acked.highest_seq as i64);
        acks_of.push(Some(acked.acks));
    }
    let (seq_devices, seqs): (Vec<&str>, Vec<i64>) = highest_seq.into_iter().unzip();
    let advance = tx
        .prepare_cached(
            "UPDATE devices SET device_seq = GREATEST(devices.device_seq, u.seq)
             FROM UNNEST($1::text[], $2::bigint[]) AS u (id, seq) WHERE devices.device_id = u.id
             RETURNING devices.device_id, devices.device_seq",
        )
        .await?;
    let device_seq: HashMap<String, i64> =
        tx.query(&advance, &[&seq_devices, &seqs]).await?.iter().map(|row| (row.get(0), row.get(1))).collect();
    Ok(jobs
        .iter()
        .zip(acks_of)
        .map(|(job, acks)| match (acks, device_seq.get(&job.pusher.device_id)) {
            (Some(acks), Some(seq)) => Ok(PushResponse { acks, device_seq: *seq as u64 }),
            _ => Err(StoreError::NotFound(format!("device {}", job.pusher.device_id))),
        })
        .collect())
}

fn stored_version(row: &tokio_postgres::Row) -> StoredVersion {
    let Json(body): Json<Value> = row.get(5);
    StoredVersion {
        encounter_id: row.get(0),
        version: row.get::<_, i32>(1) as u32,
        content_hash: row.get(2),
        device_id: row.get(3),
        officer: row.get(6),
        received_at: row.get(4),
        body,
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn migrate_to(&self, target: u32) -> StoreResult<u32> {
        let mut client = self.pool.get().await?;
        client.batch_execute(TRACKING_TABLE).await?;
        loop {
            let tx = client.transaction().await?;
            // Held to commit: another server migrating the same schema waits, then sees its work.
            tx.batch_execute("LOCK TABLE schema_migrations IN EXCLUSIVE MODE").await?;
            let row = tx.query_one("SELECT coalesce(max(version), 0) FROM schema_migrations", &[]).await?;
            let current = row.get::<_, i32>(0) as u32;
            let Some(migration) = migrations::next(migrations::POSTGRES, current, target)? else {
                return Ok(current);
            };
            tx.batch_execute(migration.sql).await?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                &[&(migration.version as i32), &migration.name],
            )
            .await?;
            tx.commit().await?;
            tracing::info!(version = migration.version, name = migration.name, "applied migration");
        }
    }

    async fn push(&self, pusher: &Pusher, records: Vec<CheckedRecord>) -> StoreResult<PushResponse> {
        self.pushes.push(pusher, records).await
    }

    async fn pull_page(&self, device_id: &str, cursor: u64, max_bytes: usize) -> StoreResult<RawPullResponse> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(
                "SELECT seq, kind, key, body FROM changes WHERE seq > $1 AND (device_id IS NULL OR device_id = $2)
                 ORDER BY seq LIMIT $3",
            )
            .await?;
        let rows = client
            .query(&stmt, &[&(cursor as i64), &device_id, &(pull_row_limit(max_bytes) as i64)])
            .await?
            .into_iter()
            .map(|r| FeedRow { seq: r.get::<_, i64>(0) as u64, kind: r.get(1), key: r.get(2), body: r.get(3) })
            .collect();
        page_of(rows, pull_row_limit(max_bytes), cursor, max_bytes)
    }

    async fn capacities_at(&self, cursor: u64) -> StoreResult<Vec<Value>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT kind, key, CASE WHEN kind = 'capacity_update' THEN body END FROM changes
                 WHERE device_id IS NULL AND seq <= $1 ORDER BY seq",
                &[&(cursor as i64)],
            )
            .await?
            .into_iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)));
        capacities_in_effect(rows)
    }

    async fn append_changes(&self, changes: Vec<NewChange>) -> StoreResult<u64> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let last = Self::append_changes_in(&tx, &changes).await?;
        tx.commit().await?;
        Ok(last)
    }

    async fn version_owner(&self, encounter_id: Uuid, version: u32) -> StoreResult<Option<String>> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT device_id FROM encounter_versions WHERE encounter_id = $1 AND version = $2",
                &[&encounter_id, &(version as i32)],
            )
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn versions_since(&self, since: Option<DateTime<Utc>>) -> StoreResult<Vec<StoredVersion>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT encounter_id, version, content_hash, device_id, received_at, body, officer FROM encounter_versions
                 WHERE $1::timestamptz IS NULL OR received_at >= $1 ORDER BY received_at, encounter_id, version",
                &[&since],
            )
            .await?;
        Ok(rows.iter().map(stored_version).collect())
    }

    async fn conflicts(&self) -> StoreResult<Vec<ConflictRecord>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT encounter_id, version, content_hash, device_id, received_at, body, '' AS officer FROM conflicts
                 ORDER BY received_at, encounter_id, version",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(stored_version)
            .map(|v| ConflictRecord {
                encounter_id: v.encounter_id,
                version: v.version,
                content_hash: v.content_hash,
                device_id: v.device_id,
                received_at: v.received_at,
                body: v.body,
            })
            .collect())
    }

    async fn device_seq(&self, device_id: &str) -> StoreResult<Option<u64>> {
        let client = self.pool.get().await?;
        let row = client.query_opt("SELECT device_seq FROM devices WHERE device_id = $1", &[&device_id]).await?;
        Ok(row.map(|r| r.get::<_, i64>(0) as u64))
    }

    async fn add_user(&self, user: UserRecord) -> StoreResult<()> {
        let client = self.pool.get().await?;
        let added = client
            .execute(
                "INSERT INTO users (username, role, password_hash, officer_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                &[&user.username, &user.role.as_str(), &user.password_hash, &user.officer_id],
            )
            .await?;
        if added == 0 {
            return Err(StoreError::AlreadyExists(format!("user {} or officer id {}", user.username, user.officer_id)));
        }
        Ok(())
    }

    async fn user(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt("SELECT username, role, password_hash, officer_id FROM users WHERE username = $1", &[&username])
            .await?;
        row.map(|r| {
            Ok(UserRecord {
                username: r.get(0),
                officer_id: r.get(3),
                role: role_of(r.get(1))?,
                password_hash: r.get(2),
            })
        })
        .transpose()
    }

    async fn add_session(&self, token_hash: &str, session: SessionRecord) -> StoreResult<()> {
        let client = self.pool.get().await?;
        // Sweep expired sessions here: logins are rare enough for it to cost nothing.
        client.execute("DELETE FROM sessions WHERE expires_at < now()", &[]).await?;
        client
            .execute(
                "INSERT INTO sessions (token_hash, username, role, expires_at) VALUES ($1, $2, $3, $4)",
                &[&token_hash, &session.username, &session.role.as_str(), &session.expires_at],
            )
            .await?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> StoreResult<Option<SessionRecord>> {
        let client = self.pool.get().await?;
        let statement =
            client.prepare_cached("SELECT username, role, expires_at FROM sessions WHERE token_hash = $1").await?;
        let row = client.query_opt(&statement, &[&token_hash]).await?;
        row.map(|r| Ok(SessionRecord { username: r.get(0), role: role_of(r.get(1))?, expires_at: r.get(2) }))
            .transpose()
    }

    async fn add_enrollment(&self, code_hash: &str, expires_at: DateTime<Utc>) -> StoreResult<()> {
        let client = self.pool.get().await?;
        client
            .execute("INSERT INTO enrollments (code_hash, expires_at) VALUES ($1, $2)", &[&code_hash, &expires_at])
            .await?;
        Ok(())
    }

    async fn redeem_enrollment(
        &self,
        code_hash: &str,
        now: DateTime<Utc>,
        device_id: &str,
        token_hash: &str,
    ) -> StoreResult<bool> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let used = tx
            .execute(
                "UPDATE enrollments SET used_at = $2, device_id = $3
                 WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2",
                &[&code_hash, &now, &device_id],
            )
            .await?;
        if used == 0 {
            // Perhaps a code that re-enrols this very device (a rotation, see enrolment_api).
            let reenrolled = admin::reenrol(&tx, code_hash, now, device_id, token_hash).await?;
            tx.commit().await?;
            return Ok(reenrolled);
        }
        let added = tx
            .execute(
                "INSERT INTO devices (device_id, token_hash, enrolled_at) VALUES ($1, $2, $3)
                 ON CONFLICT (device_id) DO NOTHING",
                &[&device_id, &token_hash, &now],
            )
            .await?;
        if added == 0 {
            // Rolled back (dropped): the code stays unused.
            return Err(StoreError::AlreadyExists(format!("device {device_id}")));
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn device_for_token(&self, token_hash: &str) -> StoreResult<Option<String>> {
        let client = self.pool.get().await?;
        // Prepared once per connection: every request asks this (one round trip, no re-planning).
        let statement =
            client.prepare_cached("SELECT device_id FROM devices WHERE token_hash = $1 AND revoked_at IS NULL").await?;
        let row = client.query_opt(&statement, &[&token_hash]).await?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn published_directory(&self) -> StoreResult<PublishedDirectory> {
        let client = self.pool.get().await?;
        let rows = client.query("SELECT key, content_hash FROM directory_published", &[]).await?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn publish_directory(&self, upserts: Vec<(String, String, Value)>, deletes: Vec<String>) -> StoreResult<u64> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let upsert = tx
            .prepare_cached(
                "INSERT INTO directory_published (key, content_hash) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET content_hash = excluded.content_hash",
            )
            .await?;
        for (key, hash, _) in &upserts {
            tx.execute(&upsert, &[key, hash]).await?;
        }
        for key in &deletes {
            tx.execute("DELETE FROM directory_published WHERE key = $1", &[key]).await?;
        }
        let last = Self::append_changes_in(&tx, &directory_changes(&upserts, &deletes)).await?;
        tx.commit().await?;
        Ok(last)
    }
}
