//! Enrolling devices from the admin console: a one-time code with what the device checks the
//! server by (the certificate's fingerprint) and a QR code of both, and a device's rotation.
//!
//! **Rotation** (`POST /v1/admin/devices/{device_id}/rotate`): when a device's token may have
//! leaked, or the device was reset, the admin revokes its token and issues a re-enrolment code
//! bound to that device id, in one transaction. The device is answered `device_revoked` from then
//! on, its officer credentials stop, and the field app's enrolment with that code (and the id it
//! made at setup) gives it a new token under the **same device id**: its reports stay its own
//! (amendments are accepted only from the device that filed a report). The code enrols no other
//! id; a newer rotation voids an older unused code. Revoking (`.../revoke`) is for good; rotating
//! is revoking with a way back for that device.

use axum::extract::State;
use axum::http::HeaderMap;
use chrono::{SecondsFormat, Utc};
use waypoint_protocol::{EnrollmentCode, ErrorBody, ENROLMENT_URI_SCHEME};

use crate::audit::{self, action, outcome, AuditEvent, ClientAddr};
use crate::auth::{self, AdminCaller};
use crate::error::{ApiError, ApiJson, ApiPath};
use crate::AppState;

/// `https://host:port` as the admin's request reached this server (the address devices on the
/// same network use), when the Host header is a plain host name or address.
fn server_url(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let host = headers.get(axum::http::header::HOST)?.to_str().ok()?;
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    if host.is_empty() || !host.chars().all(plain) {
        return None;
    }
    let behind_tls_proxy =
        headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|p| p.eq_ignore_ascii_case("https"));
    let tls = state.settings.certificate_fingerprint.is_some() || behind_tls_proxy;
    Some(format!("{}://{host}", if tls { "https" } else { "http" }))
}

/// The link a QR code carries: `waypoint-enrol:?server=..&code=..&fingerprint=..`.
pub fn enrolment_uri(server: Option<&str>, code: &str, fingerprint: Option<&str>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(server) = server {
        query.append_pair("server", server);
    }
    query.append_pair("code", code);
    if let Some(fingerprint) = fingerprint {
        query.append_pair("fingerprint", fingerprint);
    }
    format!("{ENROLMENT_URI_SCHEME}:?{}", query.finish())
}

/// `text` as a QR code, an SVG document.
pub fn qr_svg(text: &str) -> Result<String, ApiError> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(|e| ApiError::internal(format!("QR code: {e}")))?;
    Ok(code.render::<qrcode::render::svg::Color>().min_dimensions(240, 240).quiet_zone(true).build())
}

fn reply(
    state: &AppState,
    headers: &HeaderMap,
    code: String,
    device_id: Option<String>,
) -> Result<EnrollmentCode, ApiError> {
    let expires_at = Utc::now() + chrono::Duration::hours(auth::ENROLLMENT_TTL_HOURS);
    let fingerprint = state.settings.certificate_fingerprint.clone();
    let server = server_url(state, headers);
    let uri = enrolment_uri(server.as_deref(), &code, fingerprint.as_deref());
    Ok(EnrollmentCode {
        qr_svg: Some(qr_svg(&uri)?),
        enrolment_uri: Some(uri),
        code,
        expires_at: expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        certificate_fingerprint: fingerprint,
        server_url: server,
        device_id,
    })
}

/// Admin: a one-time code to enroll one device (as `waypoint-server device enroll` prints), with
/// the server certificate's fingerprint and a QR code of both.
#[utoipa::path(post, path = "/v1/admin/enrollments", security(("bearer" = [])), responses(
    (status = 200, body = EnrollmentCode),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
))]
pub async fn create_enrollment(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    client: ClientAddr,
    headers: HeaderMap,
) -> Result<ApiJson<EnrollmentCode>, ApiError> {
    // The code itself is a credential: it is not in the trail.
    let event = AuditEvent::new(admin, action::ENROLLMENT_CODE_ISSUED, outcome::OK).from(client);
    let code = audit::recorded(&state.store, event, auth::create_enrollment(&state.store)).await?;
    Ok(ApiJson(reply(&state, &headers, code, None)?))
}

/// Admin: rotates a device (see the module comment): its token and officer credentials stop at
/// once, and the code in the reply re-enrols this device id only.
#[utoipa::path(post, path = "/v1/admin/devices/{device_id}/rotate", params(("device_id" = String, Path)), security(("bearer" = [])), responses(
    (status = 200, body = EnrollmentCode),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
))]
pub async fn rotate_device(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    client: ClientAddr,
    headers: HeaderMap,
    ApiPath(device_id): ApiPath<String>,
) -> Result<ApiJson<EnrollmentCode>, ApiError> {
    let code = auth::new_enrollment_code();
    let expires_at = Utc::now() + chrono::Duration::hours(auth::ENROLLMENT_TTL_HOURS);
    let event = AuditEvent::new(admin, action::DEVICE_ROTATION, outcome::OK)
        .from(client)
        .target(format!("device {device_id}"))
        .detail("token revoked; re-enrolment code issued");
    let code_hash = auth::enrollment_code_hash(&code);
    let stored = state.store.add_reenrolment(&device_id, &code_hash, expires_at);
    audit::recorded(&state.store, event, stored).await?;
    tracing::info!(device_id, "device rotated: re-enrolment code issued");
    Ok(ApiJson(reply(&state, &headers, code, Some(device_id))?))
}
