//! waypoint-core: the domain of Waypoint, with no Tauri and no web server in it.
//!
//! The one surface every caller (the Tauri shell, benchmarks, tests) uses is [`api::Waypoint`].

pub mod agency_config;
pub mod api;
pub mod audit;
pub mod bindings;
pub mod checkpoint;
pub mod device_policy;
pub mod error;
pub mod gps;
pub mod instance_lock;
pub mod keys;
pub mod migrations;
pub mod model;
pub mod services;
pub mod store;
pub mod suggestion_request;
pub mod sync;
pub mod validate;
pub mod vocab;
pub mod wipe;

/// The service directory the device carries (its own crate, shared with the server's importers).
pub use waypoint_directory as directory;

pub use api::{AppStatus, AuditReport, BootSnapshot, SaveOutcome, Waypoint};
pub use error::{AppError, Error, ErrorKind, Result};
pub use model::*;
pub use vocab::{AgencyConfig, Term};
