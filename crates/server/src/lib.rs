//! waypoint-server: the central server Waypoint devices sync with.
//!
//! - [`store`]: what the server keeps, behind the [`store::Store`] trait ([`sqlite_store`] by
//!   default, [`postgres_store`] for `--database postgres://...`).
//! - [`api`]: the endpoints; [`auth`]: device and user credentials; [`openapi`]: `/openapi.json`.
//! - [`tls`]: rustls, with a self-signed certificate made on first run.
//! - [`directory_feed`], [`export`]: what the admin CLI (`src/main.rs`) does besides serving.

pub mod admin_api;
pub mod agency_config;
pub mod agency_config_api;
pub mod api;
pub mod audit;
pub mod audit_admin_api;
pub mod audit_api;
pub mod auth;
pub mod console_api;
pub mod console_assets;
pub mod credentials_api;
pub mod database_key;
pub mod demo;
pub mod device_report;
pub mod directory_admin_api;
pub mod directory_feed;
pub mod directory_local;
pub mod enrolment_api;
pub mod error;
pub mod export;
pub mod export_api;
pub mod history_import;
pub mod history_mapping;
pub mod identity;
pub mod mfa;
pub mod new_user;
pub mod openapi;
pub mod outcome_rows;
pub mod outcomes;
pub mod outcomes_api;
pub mod password_work;
pub mod postgres_store;
pub mod postgres_tls;
pub mod private_files;
pub mod rate_limit;
pub mod records;
pub mod records_api;
pub mod review_api;
pub mod review_diff;
pub mod review_rules;
pub mod sign_in;
pub mod snapshot;
pub mod sqlite_store;
pub mod store;
pub mod tls;
pub mod training_api;
pub mod validation;
pub mod webhooks;
pub mod zstd_body;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::Router;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::timeout::TimeoutLayer;

use crate::error::ApiError;
use crate::store::SharedStore;

/// Limits and lifetimes the server runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Largest request body accepted, after decompression (413 beyond).
    pub body_limit_bytes: usize,
    /// A request taking longer is answered 408.
    pub request_timeout: Duration,
    /// Absolute lifetime of a session from sign-in.
    pub session_ttl: chrono::Duration,
    /// A session unused this long ends (measured to about a minute, see [`auth`]).
    pub session_idle_timeout: chrono::Duration,
    /// Officers must enrol in TOTP MFA too (supervisors and admins always must).
    pub mfa_required_for_officers: bool,
    /// Failed sign-ins in a row that lock an account ...
    pub max_failed_sign_ins: u32,
    /// ... for this long (or until an admin unlocks it).
    pub lockout_duration: chrono::Duration,
    /// Sign-in, MFA and enrolment requests per client address: bursts of `burst`, then one per
    /// `replenish` (429 with Retry-After beyond).
    pub sign_in_rate: SignInRate,
    /// Password hashes computed at once (`0`: half the CPU cores, at least one) ...
    pub password_work_permits: usize,
    /// ... and how long a sign-in waits for a turn before 503 with Retry-After.
    pub password_work_wait: Duration,
    pub default_pull_bytes: usize,
    pub max_pull_bytes: usize,
    /// Where `directory import` writes the directory snapshot ([`snapshot`]); `None`: the
    /// snapshot endpoint answers 404.
    pub directory_snapshot_dir: Option<PathBuf>,
    /// Roles the agency allows to add versions to other officers' reports (none by default: a
    /// report is amended only by the officer who filed it, on the device it was filed from).
    pub amend_others_roles: Vec<waypoint_protocol::Role>,
    /// SHA-256 of the TLS certificate served (what enrolling devices pin), for the enrolment
    /// codes the admin API hands out; `None` without TLS.
    pub certificate_fingerprint: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            body_limit_bytes: 8 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            session_ttl: chrono::Duration::hours(12),
            session_idle_timeout: chrono::Duration::minutes(30),
            mfa_required_for_officers: false,
            max_failed_sign_ins: 5,
            lockout_duration: chrono::Duration::minutes(30),
            sign_in_rate: SignInRate::default(),
            password_work_permits: 0,
            password_work_wait: Duration::from_secs(2),
            default_pull_bytes: waypoint_protocol::DEFAULT_BATCH_BYTES,
            max_pull_bytes: 4 * 1024 * 1024,
            directory_snapshot_dir: None,
            amend_others_roles: Vec::new(),
            certificate_fingerprint: None,
        }
    }
}

/// See [`Settings::sign_in_rate`].
#[derive(Debug, Clone, Copy)]
pub struct SignInRate {
    pub burst: u32,
    pub replenish: Duration,
}

impl Default for SignInRate {
    /// A shift signing in behind one NAT address gets through; a password sprayer gets one guess
    /// every two seconds (and each account locks after [`Settings::max_failed_sign_ins`]).
    fn default() -> Self {
        SignInRate { burst: 30, replenish: Duration::from_secs(2) }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: SharedStore,
    pub settings: Arc<Settings>,
    /// The bound on concurrent Argon2 work.
    pub password_work: Arc<password_work::PasswordWork>,
    /// What devices last reported with their sync requests, as last written ([`device_report`]).
    pub device_reports: Arc<device_report::RecentReports>,
}

/// The whole HTTP application: every route of [`api::route_table`] with limits, timeouts and
/// compression both ways.
pub fn app(store: SharedStore, settings: Settings) -> Router {
    let body_limit = settings.body_limit_bytes;
    let timeout = settings.request_timeout;
    let password_work =
        Arc::new(password_work::PasswordWork::new(settings.password_work_permits, settings.password_work_wait));
    let sign_in_limit = rate_limit::layer(settings.sign_in_rate);
    let state = AppState { store, settings: Arc::new(settings), password_work, device_reports: Default::default() };
    let mut router = Router::new();
    for (_, path, handler) in api::route_table() {
        let handler =
            if rate_limit::LIMITED_PATHS.contains(&path) { handler.layer(sign_in_limit.clone()) } else { handler };
        router = router.route(path, handler);
    }
    router
        .merge(console_assets::routes())
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not take that method",
            )
        })
        .with_state(state)
        // Layers run outermost last-added: timeout, then compression, then decompression, so
        // the body limit counts decompressed bytes (a small zstd bomb still gets 413).
        .layer(DefaultBodyLimit::max(body_limit))
        // gzip here; zstd (what devices send) in the next, outer, layer with a reused context.
        .layer(RequestDecompressionLayer::new())
        .layer(axum::middleware::from_fn_with_state(body_limit, zstd_body::decompress_request))
        // The directory snapshot is zstd already (and served by byte ranges): never wrap it.
        // Fastest: measured on a 30,000-entry pull, zstd's fastest level streamed in chunks gave
        // smaller pages (2.74 MB against 2.98 MB) in less time than the default level.
        .layer(
            CompressionLayer::new()
                .quality(tower_http::CompressionLevel::Fastest)
                .compress_when(DefaultPredicate::new().and(NotForContentType::const_new(snapshot::CONTENT_TYPE))),
        )
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(axum::middleware::from_fn(console_assets::security_headers))
}

/// Serves `app` on an already bound listener until `handle` is told to shut down. Handlers and
/// the sign-in rate limit see the peer address (`ConnectInfo<SocketAddr>`).
pub async fn serve(
    listener: std::net::TcpListener,
    app: Router,
    tls: Option<axum_server::tls_rustls::RustlsConfig>,
    handle: axum_server::Handle,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    // Connect info: handlers learn the client's address for the audit trail (crate::audit::ClientAddr).
    let service = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    match tls {
        Some(config) => axum_server::from_tcp_rustls(listener, config).handle(handle).serve(service).await,
        None => axum_server::from_tcp(listener).handle(handle).serve(service).await,
    }
}
