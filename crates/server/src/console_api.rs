//! The console's session: sign-in that sets an `HttpOnly; Secure; SameSite=Strict` cookie
//! instead of handing script a bearer token, who is signed in (with the CSRF token the console
//! sends back on every change), and sign-out. Every other route accepts the cookie through
//! [`crate::auth::Caller`].

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::SecondsFormat;
use waypoint_protocol::{ConsoleSession, ErrorBody, LoginRequest, Role, SessionOrigin, SESSION_COOKIE};

use crate::audit::{self, action, outcome, AuditEvent, ClientAddr};
use crate::auth::{self, Caller};
use crate::error::{ApiError, ApiJson};
use crate::sign_in::{self, Audited};
use crate::AppState;

const EVERY_ROLE: &[Role] = &[Role::Officer, Role::Supervisor, Role::Admin, Role::Analyst];

/// The cookie that carries `token` for `max_age_seconds` (0 clears it).
fn session_cookie(token: &str, max_age_seconds: i64) -> HeaderValue {
    let cookie =
        format!("{SESSION_COOKIE}={token}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={max_age_seconds}");
    HeaderValue::from_str(&cookie).expect("session tokens are hex")
}

/// The console's view of the session `token` of `username`.
async fn console_session(state: &AppState, token: &str) -> Result<ConsoleSession, ApiError> {
    let session = state
        .store
        .session_state(&auth::token_hash(token))
        .await?
        .ok_or_else(|| ApiError::unauthorized("unknown or revoked credential"))?;
    let officer_id =
        state.store.user(&session.username).await?.map_or_else(|| session.username.clone(), |user| user.officer_id);
    Ok(ConsoleSession {
        username: session.username,
        role: session.role,
        officer_id,
        csrf_token: auth::csrf_token(token),
        expires_at: session.expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        idle_timeout_minutes: state.settings.session_idle_timeout.num_minutes().clamp(0, u32::MAX as i64) as u32,
    })
}

/// `session` as the reply, with the cookie that carries `token`.
async fn with_cookie(state: &AppState, token: &str) -> Result<Response, ApiError> {
    let session = console_session(state, token).await?;
    let mut response = ApiJson(session).into_response();
    response.headers_mut().insert(SET_COOKIE, session_cookie(token, state.settings.session_ttl.num_seconds()));
    Ok(response)
}

/// Console sign-in: password and TOTP code, as `/v1/login` (same lockout, rate limit and audit),
/// but the session travels in a cookie script cannot read.
#[utoipa::path(post, path = "/v1/console/sign-in", request_body = LoginRequest, responses(
    (status = 200, description = "Signed in: the session cookie is set", body = ConsoleSession),
    (status = 202, description = "Password right, but this user must enrol in MFA first", body = waypoint_protocol::MfaEnrolmentRequired),
    (status = 401, description = "Sign-in failed (one answer for all), or `mfa_required`: send the code in `totp`", body = ErrorBody),
    (status = 400, description = "The body is not JSON", body = ErrorBody),
    (status = 413, description = "The body is larger than the server's limit", body = ErrorBody),
    (status = 415, description = "The body is not `Content-Type: application/json`", body = ErrorBody),
    (status = 422, description = "The JSON is not a sign-in request", body = ErrorBody),
    (status = 429, description = "Too many sign-ins from this address: retry after `Retry-After` seconds", body = ErrorBody),
    (status = 503, description = "Too many sign-ins at once: retry after `Retry-After` seconds", body = ErrorBody),
))]
pub async fn sign_in(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let user = match sign_in::check_audited(&state, client, &request).await? {
        Audited::Accepted(user) => user,
        Audited::MustEnrol(reply) => return Ok(reply),
    };
    let started = sign_in::start_session_from(&state, &user, SessionOrigin::Console, None).await?;
    with_cookie(&state, &started.session_token).await
}

/// Moves a session the console got from MFA enrolment (`/v1/mfa/enrolment/confirm` answers with
/// a bearer session) into the cookie, so script holds the token only for that moment. (With the
/// cookie already, it sets the same cookie again.)
#[utoipa::path(post, path = "/v1/console/adopt", security(("bearer" = [])), responses(
    (status = 200, description = "The session cookie is set", body = ConsoleSession),
    (status = 401, body = ErrorBody),
    (status = 403, description = "Not a user session", body = ErrorBody),
))]
pub async fn adopt(State(state): State<AppState>, caller: Caller, headers: HeaderMap) -> Result<Response, ApiError> {
    caller.user_with(EVERY_ROLE)?;
    let token = auth::presented_credential(&headers)?.token();
    // From now on the console uses it: the admin's session list says so.
    state.store.set_session_origin(&auth::token_hash(token), SessionOrigin::Console).await?;
    with_cookie(&state, token).await
}

/// Who is signed in, and the CSRF token to send with changes.
#[utoipa::path(get, path = "/v1/console/session", security(("bearer" = [])), responses(
    (status = 200, body = ConsoleSession),
    (status = 401, description = "Not signed in, or the session ended", body = ErrorBody),
    (status = 403, description = "Not a user session", body = ErrorBody),
))]
pub async fn session(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<ApiJson<ConsoleSession>, ApiError> {
    caller.user_with(EVERY_ROLE)?;
    Ok(ApiJson(console_session(&state, auth::presented_credential(&headers)?.token()).await?))
}

/// Ends the session and clears the cookie.
#[utoipa::path(post, path = "/v1/console/sign-out", security(("bearer" = [])), responses(
    (status = 204, description = "Signed out: the cookie is cleared"),
    (status = 401, body = ErrorBody),
    (status = 403, description = "Not a user session, or the CSRF header is missing", body = ErrorBody),
))]
pub async fn sign_out(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientAddr,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let username = caller.user_with(EVERY_ROLE)?.to_string();
    audit::record(&state.store, AuditEvent::new(username, action::SIGN_OUT, outcome::OK).from(client)).await?;
    state.store.end_session(&auth::token_hash(auth::presented_credential(&headers)?.token())).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(SET_COOKIE, session_cookie("", 0));
    Ok(response)
}
