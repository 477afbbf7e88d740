//! Background WAL checkpoints. SQLite copies the write-ahead log back into the database file
//! inside whichever commit crosses 1000 log pages, so one save in every few dozen paid ~1.5 ms
//! extra (an fsync of the database file): the officer's p99. Here a thread with its own
//! connection does that copy after every few commits, off the save path, and keeps at it until
//! writing stops. SQLite's own automatic checkpoint stays on, at 4000 pages, as a safety net for
//! when this thread cannot run.

use std::path::Path;
use std::sync::mpsc::RecvTimeoutError::Disconnected;
use std::sync::mpsc::{sync_channel, Receiver};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::keys::DataKey;

/// At ~8 log pages per commit this keeps the log near 250 pages, well under SQLite's 1000.
const COMMITS_PER_CHECKPOINT: u32 = 32;
/// SQLite's inline checkpoint, for when this thread cannot keep up.
const SAFETY_NET_PAGES: u32 = 4000;
const POLL_EVERY: Duration = Duration::from_millis(5);

/// The checkpoint thread of one store connection. It ends when that connection is closed (the
/// connection's commit hook holds the only sender), so the store must drop its connection first.
pub struct Checkpointer {
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Opens a second connection to `path` with the data key and asks `conn` to wake it after
    /// every `COMMITS_PER_CHECKPOINT` commits.
    pub fn start(conn: &Connection, path: &Path, data_key: &DataKey) -> Result<Checkpointer> {
        let own = crate::store::open_keyed(path, data_key)?;

        // Capacity 1: wake-ups that arrive while a checkpoint runs fold into the next one.
        let (wake, woken) = sync_channel::<()>(1);
        conn.pragma_update(None, "wal_autocheckpoint", SAFETY_NET_PAGES)?;
        let mut commits = 0u32;
        conn.commit_hook(Some(move || {
            commits = commits.wrapping_add(1);
            if commits.is_multiple_of(COMMITS_PER_CHECKPOINT) {
                let _ = wake.try_send(());
            }
            false // false lets the commit go ahead
        }));
        let thread = std::thread::Builder::new()
            .name("waypoint-checkpoint".into())
            .spawn(move || run(own, woken))
            .map_err(Error::Io)?;
        Ok(Checkpointer { thread: Some(thread) })
    }
}

fn run(conn: Connection, woken: Receiver<()>) {
    // A checkpoint woken by a commit races that commit and the ones after it. Until one finds
    // the log fully copied and unchanged since the last look (quiet: the next save then restarts
    // the log from its beginning), look again shortly. A look with nothing to copy costs no I/O.
    let mut last_log_pages = -1;
    let mut polling = false;
    loop {
        let wake = if polling { woken.recv_timeout(POLL_EVERY) } else { woken.recv().map_err(|_| Disconnected) };
        if wake == Err(Disconnected) {
            return;
        }
        // PASSIVE never waits for the writer or readers; what it cannot copy now, the next one will.
        let pages = conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?)));
        match pages {
            Ok((log_pages, copied_pages)) => {
                polling = copied_pages < log_pages || log_pages != last_log_pages;
                last_log_pages = log_pages;
            }
            Err(error) => {
                tracing::warn!(%error, "background checkpoint failed; SQLite's automatic checkpoint remains");
                polling = false;
            }
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
