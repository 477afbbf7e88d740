//! The bound on concurrent Argon2 work. Each password check takes tens of milliseconds of one
//! core and 19 MiB by design; a flood of sign-ins would take every core from sync. So checks
//! take a permit (half the cores, at least one, by default), wait briefly for one, and otherwise
//! answer 503 with Retry-After: the flood is shed while pushes and pulls, which never hash, keep
//! the other cores.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use tokio::sync::Semaphore;

use crate::auth;
use crate::error::ApiError;

pub struct PasswordWork {
    permits: Arc<Semaphore>,
    wait: Duration,
}

impl PasswordWork {
    /// `permits == 0`: half the available cores, at least one.
    pub fn new(permits: usize, wait: Duration) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let permits = if permits == 0 { (cores / 2).max(1) } else { permits };
        PasswordWork { permits: Arc::new(Semaphore::new(permits)), wait }
    }

    pub async fn verify(&self, password: String, phc: String) -> Result<bool, ApiError> {
        self.run(move || auth::verify_password(&password, &phc)).await
    }

    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move || auth::hash_password(&password)).await?.map_err(|e| ApiError::internal(format!("hashing: {e}")))
    }

    /// Runs `work` on a blocking thread once a permit is free (503 if none frees in time).
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "too many sign-ins at once: retry in a moment")
            })?
            .map_err(|e| ApiError::internal(e.to_string()))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|e| ApiError::internal(e.to_string()))
    }
}
