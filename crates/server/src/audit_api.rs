//! `POST /v1/sync/audit`: a device pushes its own audit log, after its records.

use axum::extract::State;
use waypoint_protocol::audit::{AuditPushRequest, AuditPushResponse};
use waypoint_protocol::ErrorBody;

use crate::auth::DeviceCaller;
use crate::error::{ApiError, ApiJson};
use crate::AppState;

/// Device -> server: the rows of the device's audit log after the last one acknowledged. Rows that
/// continue the device's chain are stored; a rewritten or truncated log is stored as a new segment
/// and flagged (`chain_breaks` in the reply, a server audit event, the device's stored flag).
#[utoipa::path(post, path = "/v1/sync/audit", request_body = AuditPushRequest, security(("bearer" = [])), responses(
    (status = 200, body = AuditPushResponse),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 400, description = "The body is not JSON", body = ErrorBody),
    (status = 413, description = "The body is larger than the server's limit (after decompression)", body = ErrorBody),
    (status = 415, description = "The body is not `Content-Type: application/json`", body = ErrorBody),
    (status = 422, description = "The JSON is not an audit push, or its rows are not in seq order", body = ErrorBody),
    (status = 503, description = "The database is saturated: retry after `Retry-After` seconds", body = ErrorBody),
))]
pub async fn push_audit(
    State(state): State<AppState>,
    DeviceCaller(device_id): DeviceCaller,
    ApiJson(request): ApiJson<AuditPushRequest>,
) -> Result<ApiJson<AuditPushResponse>, ApiError> {
    if request.entries.windows(2).any(|pair| pair[1].seq <= pair[0].seq) || request.entries.iter().any(|e| e.seq < 1) {
        return Err(ApiError::invalid("audit rows must have seq 1 or more, in increasing order"));
    }
    let reply = state.store.push_device_audit(&device_id, request.entries).await?;
    if !reply.chain_breaks.is_empty() {
        tracing::warn!(device_id, breaks = ?reply.chain_breaks, "device audit log does not continue its chain");
    }
    Ok(ApiJson(reply))
}
