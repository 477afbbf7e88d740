//! The directory's own error type. The core turns it into its boundary error
//! (`waypoint_core::Error`), keeping the field of a validation error.

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A field of an imported or posted record is wrong; `field` is its dotted path.
    #[error("{message}")]
    Validation { field: String, message: String },
    #[error("{0} not found")]
    NotFound(String),
    /// The action is not allowed in the directory's current state.
    #[error("{0}")]
    InvalidState(String),
    /// A mapping, a rule file or an imported file is not what it must be.
    #[error("{0}")]
    Config(String),
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
}
