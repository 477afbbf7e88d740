//! Wire types of the Waypoint Console (the browser console `waypoint-server` serves at
//! `/console/`): its cookie session and what it reads that no device needs.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::Role;

/// The console's session cookie: `HttpOnly; Secure; SameSite=Strict; Path=/`, so no script reads
/// it and no other site's page sends it.
pub const SESSION_COOKIE: &str = "waypoint_session";

/// With the session cookie, every request that changes something (not GET or HEAD) carries the
/// session's [`ConsoleSession::csrf_token`] in this header, or is refused (403, kind [`ERROR_CSRF`]).
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Error kind (403) of a cookie-authenticated request without the right [`CSRF_HEADER`].
pub const ERROR_CSRF: &str = "csrf";

/// Who is signed in to the console (`POST /v1/console/sign-in`, `GET /v1/console/session`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsoleSession {
    pub username: String,
    pub role: Role,
    pub officer_id: String,
    /// Send in [`CSRF_HEADER`] with every request that is not GET or HEAD.
    pub csrf_token: String,
    /// RFC 3339: the session's absolute end (it also ends after a time without use).
    pub expires_at: String,
    /// Minutes without use after which the session ends.
    pub idle_timeout_minutes: u32,
}
