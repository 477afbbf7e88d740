//! The SQLite store's connections: read-only connections for the reads, so fifty supervisors
//! paging the review queue do not line up behind one connection (WAL lets readers run beside the
//! writer, each on the last committed state), and a writer thread that commits the writes waiting
//! in its queue together (each in a savepoint of one transaction, one fsync for all: an audited
//! read's audit row then costs a share of a commit, not a commit of its own).

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot, Semaphore};

use super::open_keyed;
use crate::database_key::DatabaseKey;
use crate::store::{StoreError, StoreResult};

/// Read connections at most. Each query runs on a blocking thread; more than a few per core only
/// adds page caches.
const READERS: usize = 4;
/// Page cache of each read connection, in KiB (SQLite's default is 2 MiB: at a million encounters
/// the queue's indexes alone are a few hundred MiB, and every page missed is read and decrypted).
const READER_CACHE_KIB: i64 = 64 * 1024;
/// Page cache of the writer, in KiB: every push updates indexes keyed by random UUIDs.
pub(super) const WRITER_CACHE_KIB: i64 = 256 * 1024;
/// Most writes committed together (bounds the time the first one waits).
const MAX_WRITE_GROUP: usize = 256;

fn failed(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

/// Read-only connections, opened on first need (up to [`READERS`]).
pub(super) struct ReadPool {
    path: PathBuf,
    key: DatabaseKey,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

impl ReadPool {
    pub fn new(path: &Path, key: &DatabaseKey) -> Self {
        ReadPool {
            path: path.to_path_buf(),
            key: key.clone(),
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(READERS)),
        }
    }

    fn open(&self) -> StoreResult<Connection> {
        let conn = open_keyed(&self.path, &self.key)?;
        // query_only: a write sent here by mistake fails loudly instead of racing the writer.
        conn.execute_batch(&format!(
            "PRAGMA query_only = 1; PRAGMA busy_timeout = 5000; PRAGMA cache_size = -{READER_CACHE_KIB};"
        ))?;
        Ok(conn)
    }

    pub async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let permit = self.permits.clone().acquire_owned().await.map_err(failed)?;
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let taken = pool.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let mut conn = match taken {
                Some(conn) => conn,
                None => pool.open()?,
            };
            let out = work(&mut conn);
            // A read left open (it cannot, but) would pin the WAL: such a connection is dropped.
            if conn.is_autocommit() {
                pool.idle.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
            }
            out
        })
        .await
        .map_err(|e| StoreError::Database(format!("store task failed: {e}")))?
    }
}

/// A write waiting for the writer: runs in its savepoint (or, given no connection, is told it was
/// not run), then hears how the commit went.
type Finish = Box<dyn FnOnce(StoreResult<()>) + Send>;
type WriteJob = Box<dyn FnOnce(Option<&Connection>) -> (bool, Finish) + Send>;

/// The store's end of the write queue.
pub(super) struct WriteQueue(mpsc::UnboundedSender<WriteJob>);

impl WriteQueue {
    /// Starts the writer thread on `conn` (shared with the push writer and the migrations).
    pub fn start(conn: Arc<Mutex<Connection>>) -> StoreResult<Self> {
        let (sender, receiver) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer(conn, receiver))
            .map_err(|e| StoreError::Database(format!("cannot start the writer thread: {e}")))?;
        Ok(WriteQueue(sender))
    }

    /// Runs `work` in a transaction shared with the other writes waiting, and answers once that
    /// transaction is committed. `work` failing rolls back its own changes only.
    pub async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let (reply, answer) = oneshot::channel::<StoreResult<T>>();
        let job: WriteJob = Box::new(move |conn: Option<&Connection>| {
            let outcome = match conn {
                Some(conn) => std::panic::catch_unwind(AssertUnwindSafe(|| work(conn)))
                    .unwrap_or_else(|_| Err(StoreError::Database("a store write panicked".into()))),
                None => Err(StoreError::Database("the write was not run".into())),
            };
            let ok = outcome.is_ok();
            let finish: Finish = Box::new(move |committed: StoreResult<()>| {
                let _ = reply.send(committed.and(outcome));
            });
            (ok, finish)
        });
        self.0.send(job).map_err(|_| StoreError::Database("the store writer has stopped".into()))?;
        answer.await.map_err(|_| StoreError::Database("the store writer stopped before answering".into()))?
    }
}

fn writer(conn: Arc<Mutex<Connection>>, mut jobs: mpsc::UnboundedReceiver<WriteJob>) {
    let mut group = Vec::new();
    while jobs.blocking_recv_many(&mut group, MAX_WRITE_GROUP) > 0 {
        let guard = conn.lock().unwrap_or_else(|p| p.into_inner());
        let outcome = commit_group(&guard, &mut group);
        drop(guard);
        for (finish, result) in outcome {
            finish(result);
        }
    }
}

/// Runs the group in one IMMEDIATE transaction, each job in a savepoint; returns each job's
/// finisher with what to tell it. If the transaction is lost (begin or commit fails, or SQLite
/// rolls it back after an error), every job of the group is told so: none of it was stored.
fn commit_group(conn: &Connection, group: &mut Vec<WriteJob>) -> Vec<(Finish, StoreResult<()>)> {
    let mut finishes = Vec::with_capacity(group.len());
    let mut lost = conn.execute_batch("BEGIN IMMEDIATE").err().map(|e| e.to_string());
    if group.len() == 1 && lost.is_none() {
        // Alone: the transaction is its savepoint (see `commit_push_group` for why that matters).
        let (ok, finish) = (group.pop().expect("one job"))(Some(conn));
        let end = if ok { conn.execute_batch("COMMIT") } else { conn.execute_batch("ROLLBACK") };
        if end.is_err() && !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        return vec![(finish, end.map_err(failed))];
    }
    for job in group.drain(..) {
        if lost.is_some() {
            finishes.push((job(None).1, Ok(())));
            continue;
        }
        if let Err(e) = conn.execute_batch("SAVEPOINT write_job") {
            finishes.push((job(None).1, Err(failed(e))));
            continue;
        }
        let (ok, finish) = job(Some(conn));
        let end = if ok {
            conn.execute_batch("RELEASE write_job")
        } else {
            conn.execute_batch("ROLLBACK TO write_job; RELEASE write_job")
        };
        if end.is_err() || conn.is_autocommit() {
            lost = Some(end.err().map_or_else(|| "the transaction was rolled back".to_string(), |e| e.to_string()));
        }
        finishes.push((finish, Ok(())));
    }
    if lost.is_none() {
        if let Err(e) = conn.execute_batch("COMMIT") {
            lost = Some(e.to_string());
        }
    }
    if let Some(message) = lost {
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        return finishes.into_iter().map(|(f, _)| (f, Err(StoreError::Database(message.clone())))).collect();
    }
    finishes
}
