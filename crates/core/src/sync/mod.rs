//! The device's side of sync with the agency server, one concern a file:
//!
//! - [`transport`]: the network behind a round ([`Transport`]) and how a round fails.
//! - [`outbox`]: submitted versions read in batches sized by bytes; acknowledgements settled.
//! - [`feed`]: pulled pages (review results, directory changes) applied with their cursor.
//! - [`round`]: one round, push then pull, with the network one request ahead of the store.
//! - [`enrol`]: enrolment and officer sign-in; [`pinning`]: the server certificate's fingerprint.
//! - [`settings`]: the server, credentials and session, kept in the encrypted store.
//! - [`worker`]: the background worker and its backoff; [`status`]: what the Sync screen shows.
//! - [`http`]: the HTTPS transport (reqwest, rustls, zstd bodies).
//!
//! Nothing in the officer's flow waits for sync: saves and submits only write the encrypted
//! store; the worker runs on its own thread and takes the store lock only between network calls.
//! Wire types and constants both sides agree on live in `waypoint_protocol`.

pub mod enrol;
pub mod feed;
pub mod http;
pub mod outbox;
pub mod pinning;
pub mod round;
pub mod settings;
pub mod status;
pub mod transport;
pub mod worker;

pub use enrol::{EnrollDevice, OfficerLogin};
pub use feed::{apply_pull, cursor, forget_feed_position, last_sync_at, mark_synced, set_cursor, split_page};
pub use outbox::{apply_acks, outbox_batch};
pub use round::SyncReport;
pub use status::SyncStatus;
pub use transport::{SyncError, Transport, TransportError};
pub use worker::{next_wait, RoundOutcome, AFTER_SAVE_DELAY, BACKOFF_MAX, BACKOFF_MIN, SYNC_PERIOD};
