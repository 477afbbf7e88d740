//! Password sign-in with MFA and lockout. What a failure reveals, and what it does not:
//!
//! - An unknown user, a wrong password, a disabled account and a locked account (whatever the
//!   password) all answer the same 401 `unauthorized` with [`SIGN_IN_FAILED`], after the same
//!   work: one Argon2 verification (against a dummy hash for an unknown user) and one
//!   `record_failed_sign_in` query (which changes no row for an unknown, disabled or locked user).
//!   What remains is whether a row was written, well under the Argon2 time and its jitter.
//! - Only a caller who got the password right learns more: `mfa_required` (send the code) or the
//!   enrolment reply. A wrong code is the same 401 as a wrong password and counts as a failure.

use chrono::{SecondsFormat, Utc};
use waypoint_protocol::{LoginRequest, LoginResponse, Role, SessionOrigin, ERROR_MFA_REQUIRED};

use crate::auth;
use crate::error::ApiError;
use crate::mfa;
use crate::store::{SessionRecord, UserAccount};
use crate::{AppState, Settings};

/// The one answer to every failed sign-in (see the module comment).
pub const SIGN_IN_FAILED: &str = "wrong username, password or code (after repeated failures an account is locked for \
                                  a while; an admin can unlock it)";

pub enum SignIn {
    /// Password (and code, if enrolled) right: start a session.
    Accepted(UserAccount),
    /// Password right, but this user must enrol in MFA first.
    MustEnrolMfa(UserAccount),
}

/// Whether `role` must use MFA under `settings`.
pub fn mfa_required(role: Role, settings: &Settings) -> bool {
    role != Role::Officer || settings.mfa_required_for_officers
}

/// A refused sign-in: the reply the caller gets, and (for the audit trail only) why.
pub struct Refusal {
    pub reply: ApiError,
    pub reason: &'static str,
}

impl<E: Into<ApiError>> From<E> for Refusal {
    fn from(error: E) -> Self {
        let reply = error.into();
        Refusal { reason: reply.kind, reply }
    }
}

fn failed(reason: &'static str) -> Refusal {
    Refusal { reply: ApiError::unauthorized(SIGN_IN_FAILED), reason }
}

/// Counts a failure against `username` (no effect on an unknown, disabled or locked user); true
/// when this failure locked the account.
async fn count_failure(state: &AppState, username: &str) -> Result<bool, ApiError> {
    let now = Utc::now();
    let lock_until = now + state.settings.lockout_duration;
    let locked =
        state.store.record_failed_sign_in(username, now, state.settings.max_failed_sign_ins, lock_until).await?;
    if locked {
        tracing::warn!(username, "account locked after {} failed sign-ins", state.settings.max_failed_sign_ins);
    }
    Ok(locked)
}

/// Checks a sign-in (password, lockout, MFA code); see the module comment for what fails how.
pub async fn check(state: &AppState, request: &LoginRequest) -> Result<SignIn, Refusal> {
    let account = state.store.user_account(&request.username).await?;
    let phc = account.as_ref().map_or_else(|| auth::dummy_password_hash().to_string(), |a| a.password_hash.clone());
    let password_matches = state.password_work.verify(request.password.clone(), phc).await?;
    let now = Utc::now();
    let reason = match &account {
        None => Some("no such user"),
        Some(account) if !account.enabled => Some("account disabled"),
        Some(account) if account.is_locked(now) => Some("account locked"),
        Some(_) if !password_matches => Some("wrong password"),
        Some(_) => None,
    };
    let account = match (account, reason) {
        (Some(account), None) => account,
        (_, reason) => {
            // The same query for every failure: only a real, active account's row changes.
            let locked_now = count_failure(state, &request.username).await?;
            return Err(failed(if locked_now { "wrong password; account now locked" } else { reason.unwrap_or("") }));
        }
    };
    let Some(secret) = account.totp_secret.as_deref() else {
        if mfa_required(account.role, &state.settings) {
            return Ok(SignIn::MustEnrolMfa(account));
        }
        state.store.record_sign_in(&account.username, now).await?;
        return Ok(SignIn::Accepted(account));
    };
    let code = request.totp.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let Some(code) = code else {
        let reply = ApiError::unauthorized("enter the code from your authenticator app (or a recovery code)")
            .with_kind(ERROR_MFA_REQUIRED);
        return Err(Refusal { reply, reason: "MFA code missing" });
    };
    let code_ok = if mfa::is_recovery_code(code) {
        state.store.use_recovery_code(&account.username, &mfa::recovery_code_hash(code), now).await?
    } else {
        mfa::code_matches(secret, code)
    };
    if !code_ok {
        let locked_now = count_failure(state, &account.username).await?;
        return Err(failed(if locked_now { "wrong MFA code; account now locked" } else { "wrong MFA code" }));
    }
    state.store.record_sign_in(&account.username, now).await?;
    Ok(SignIn::Accepted(account))
}

/// A new session for a user who signed in, used as of now (the idle clock starts), started
/// neither from a device nor from the console (see [`start_session_from`]).
pub async fn start_session(state: &AppState, user: &UserAccount) -> Result<LoginResponse, ApiError> {
    start_session_from(state, user, SessionOrigin::Api, None).await
}

/// [`start_session`], recording where it was started (the admin console lists sessions so).
pub async fn start_session_from(
    state: &AppState,
    user: &UserAccount,
    origin: SessionOrigin,
    device_id: Option<&str>,
) -> Result<LoginResponse, ApiError> {
    let token = auth::new_session_token();
    let hash = auth::token_hash(&token);
    let now = Utc::now();
    let expires_at = now + state.settings.session_ttl;
    state
        .store
        .add_session(&hash, SessionRecord { username: user.username.clone(), role: user.role, expires_at })
        .await?;
    state.store.touch_session(&hash, now).await?;
    state.store.describe_session(&hash, now, origin, device_id).await?;
    // The officer id (badge number) a device checks its profile against.
    let officer_id = state.store.user(&user.username).await?.map_or_else(|| user.username.clone(), |u| u.officer_id);
    Ok(LoginResponse {
        session_token: token,
        role: user.role,
        expires_at: expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        officer_id,
        officer_token: None,
    })
}

/// What an audited password sign-in ended in.
pub enum Audited {
    /// Start a session for this user.
    Accepted(UserAccount),
    /// The reply to send as is: 202, the user must enrol in MFA first.
    MustEnrol(axum::response::Response),
}

/// [`check`] with its row in the audit trail, shared by every password sign-in (a device's
/// `/v1/login` and the console's): the row says why a sign-in failed, the reply stays one for all.
pub async fn check_audited(
    state: &AppState,
    client: crate::audit::ClientAddr,
    request: &LoginRequest,
) -> Result<Audited, ApiError> {
    use crate::audit::{self, action, outcome, AuditEvent};
    // The name as typed is the target either way; the trail is for the agency.
    let event = AuditEvent::new(request.username.clone(), action::SIGN_IN, outcome::OK)
        .from(client)
        .target(format!("user {}", request.username));
    match check(state, request).await {
        Ok(SignIn::Accepted(user)) => {
            audit::record(&state.store, event.detail(user.role.as_str())).await?;
            Ok(Audited::Accepted(user))
        }
        Ok(SignIn::MustEnrolMfa(user)) => {
            audit::record(&state.store, event.with_outcome(outcome::OK, "password right; must enrol in MFA")).await?;
            Ok(Audited::MustEnrol(crate::credentials_api::enrolment_required(state, &user).await?))
        }
        Err(refusal) => {
            if refusal.reply.status == axum::http::StatusCode::UNAUTHORIZED {
                audit::record(&state.store, event.with_outcome(outcome::FAILED, refusal.reason)).await?;
            }
            Err(refusal.reply)
        }
    }
}
