//! The network behind a sync round, and how a round fails. The same engine runs over HTTP in
//! the app ([`super::http`]) and over a model server in the property test.

use waypoint_protocol::audit::{AuditPushRequest, AuditPushResponse};
use waypoint_protocol::{PullResponse, PushResponse, RawPushRequest};

use crate::error::Error;

/// Why a round trip failed. None of these changes the outbox: the next attempt resends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// No connection, a cut connection or a timeout.
    Unreachable(String),
    /// The server asked to wait (HTTP 429/503 with Retry-After).
    RetryAfter(std::time::Duration),
    /// The device credential or session is not accepted.
    Unauthorized(String),
    /// The device is fine but no officer is signed in on it (or their credential was revoked):
    /// pushes wait for a sign-in.
    SignInRequired(String),
    /// The agency revoked this device (`device_revoked`): it can no longer sync.
    DeviceRevoked(String),
    /// The password was right; the server wants the user's TOTP code too (`mfa_required`).
    MfaRequired(String),
    /// Anything else the server said.
    Server(String),
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::Unreachable(why) => write!(f, "server unreachable: {why}"),
            TransportError::RetryAfter(wait) => write!(f, "server busy: retry after {} s", wait.as_secs()),
            TransportError::Unauthorized(why) => write!(f, "not authorized: {why}"),
            TransportError::SignInRequired(why) => write!(f, "sign in to sync: {why}"),
            TransportError::DeviceRevoked(why) => write!(f, "device revoked: {why}"),
            TransportError::MfaRequired(why) => write!(f, "code needed: {why}"),
            TransportError::Server(why) => write!(f, "server error: {why}"),
        }
    }
}

pub trait Transport {
    /// Sends one batch (the wire form of a [`waypoint_protocol::PushRequest`]: bodies as the outbox holds them).
    fn push(&mut self, request: &RawPushRequest) -> std::result::Result<PushResponse, TransportError>;
    /// Sends two batches, at once where the transport can (two connections), and answers each.
    /// The server acknowledges each record of each on its own, so they may be stored in either
    /// order; the first's reply is first. By default one after the other, the second not sent
    /// when the first failed.
    fn push_two(
        &mut self,
        first: &RawPushRequest,
        second: &RawPushRequest,
    ) -> [std::result::Result<PushResponse, TransportError>; 2] {
        match self.push(first) {
            Ok(reply) => [Ok(reply), self.push(second)],
            Err(error) => [Err(error.clone()), Err(error)],
        }
    }
    fn pull(&mut self, cursor: u64, max_bytes: usize) -> std::result::Result<PullResponse, TransportError>;
    /// Sends audit-log rows the server has not acknowledged yet (`POST /v1/sync/audit`).
    fn push_audit(&mut self, request: &AuditPushRequest) -> std::result::Result<AuditPushResponse, TransportError>;
}

#[derive(Debug)]
pub enum SyncError {
    Transport(TransportError),
    Store(Error),
}

impl From<Error> for SyncError {
    fn from(error: Error) -> Self {
        SyncError::Store(error)
    }
}

impl From<TransportError> for SyncError {
    fn from(error: TransportError) -> Self {
        SyncError::Transport(error)
    }
}

impl std::fmt::Display for SyncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncError::Transport(e) => e.fmt(f),
            SyncError::Store(e) => e.fmt(f),
        }
    }
}
