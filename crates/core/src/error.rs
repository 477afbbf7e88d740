//! The one error type of Waypoint. It crosses the IPC boundary as `{kind, message, field?}`.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A field of a record is wrong; `field` is its dotted path (`call.call_type`).
    #[error("{message}")]
    Validation { field: String, message: String },
    #[error("wrong passphrase or PIN")]
    WrongPassphrase,
    /// A wrong PIN or passphrase at unlock or at a change, counted against the agency's limit.
    #[error("{}", wrong_secret_message(*tries_left, *wait_seconds))]
    WrongSecret { tries_left: u32, wait_seconds: i64 },
    /// Too many wrong tries in a row: the next one is accepted after a wait.
    #[error("Too many wrong tries: wait {} before the next one ({tries_left} left before this device erases its reports).", wait_text(*wait_seconds))]
    TooSoon { wait_seconds: i64, tries_left: u32 },
    /// The device erased its encrypted store and key (too many wrong tries, or revoked).
    #[error("{0}")]
    Wiped(String),
    /// Another Waypoint has this data folder open.
    #[error("{0}")]
    AlreadyRunning(String),
    #[error("the store is locked: unlock it first")]
    Locked,
    #[error("{0}")]
    AlreadyInitialized(String),
    #[error("{0} not found")]
    NotFound(String),
    /// The action is not allowed in the record's current state (e.g. editing a submitted version).
    #[error("{0}")]
    InvalidState(String),
    #[error("agency configuration: {0}")]
    Config(String),
    #[error("audit log: {0}")]
    AuditTampered(String),
    #[error("encryption: {0}")]
    Crypto(String),
    #[error("database: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("file system: {0}")]
    Io(#[from] std::io::Error),
    #[error("data format: {0}")]
    Json(#[from] serde_json::Error),
}

impl Error {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation { field: field.into(), message: message.into() }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Validation { .. } => ErrorKind::Validation,
            Error::WrongPassphrase | Error::WrongSecret { .. } => ErrorKind::WrongPassphrase,
            Error::TooSoon { .. } => ErrorKind::TooSoon,
            Error::Wiped(_) => ErrorKind::Wiped,
            Error::AlreadyRunning(_) => ErrorKind::AlreadyRunning,
            Error::Locked => ErrorKind::Locked,
            Error::AlreadyInitialized(_) => ErrorKind::AlreadyInitialized,
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::InvalidState(_) => ErrorKind::InvalidState,
            Error::Config(_) => ErrorKind::Config,
            Error::AuditTampered(_) => ErrorKind::AuditTampered,
            Error::Crypto(_) => ErrorKind::Crypto,
            Error::Storage(_) => ErrorKind::Storage,
            Error::Io(_) => ErrorKind::Io,
            Error::Json(_) => ErrorKind::Internal,
        }
    }
}

/// "30 seconds", "2 minutes", "1 minute 30 seconds".
pub fn wait_text(seconds: i64) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    let (minutes, seconds) = (seconds / 60, seconds % 60);
    match (minutes, seconds) {
        (0, s) => plural(s, "second"),
        (m, 0) => plural(m, "minute"),
        (m, s) => format!("{} {}", plural(m, "minute"), plural(s, "second")),
    }
}

fn wrong_secret_message(tries_left: u32, wait_seconds: i64) -> String {
    let left = match tries_left {
        1 => "1 try left: one more wrong try erases this device's reports and key.".to_string(),
        n => format!("{n} tries left before this device erases its reports and key."),
    };
    let wait = if wait_seconds > 0 {
        format!(" Wait {} before the next try.", wait_text(wait_seconds))
    } else {
        String::new()
    };
    format!("Wrong PIN or passphrase. {left}{wait}")
}

impl From<waypoint_directory::Error> for Error {
    fn from(error: waypoint_directory::Error) -> Self {
        use waypoint_directory::Error as Directory;
        match error {
            Directory::Validation { field, message } => Error::Validation { field, message },
            Directory::NotFound(what) => Error::NotFound(what),
            Directory::InvalidState(why) => Error::InvalidState(why),
            Directory::Config(why) => Error::Config(why),
            Directory::Storage(e) => Error::Storage(e),
            Directory::Io(e) => Error::Io(e),
            Directory::Json(e) => Error::Json(e),
        }
    }
}

/// The closed set of error kinds the UI may match on (it never matches on messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Validation,
    WrongPassphrase,
    TooSoon,
    Wiped,
    AlreadyRunning,
    Locked,
    AlreadyInitialized,
    NotFound,
    InvalidState,
    Config,
    AuditTampered,
    Crypto,
    Storage,
    Io,
    Internal,
}

/// What the UI receives when a command fails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AppError {
    pub kind: ErrorKind,
    pub message: String,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl From<&Error> for AppError {
    fn from(error: &Error) -> Self {
        let field = match error {
            Error::Validation { field, .. } => Some(field.clone()),
            _ => None,
        };
        AppError { kind: error.kind(), message: error.to_string(), field }
    }
}

impl From<Error> for AppError {
    fn from(error: Error) -> Self {
        AppError::from(&error)
    }
}

impl Serialize for Error {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        AppError::from(self).serialize(serializer)
    }
}
