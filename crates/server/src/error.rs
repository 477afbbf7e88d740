//! Every error reply is an [`ErrorBody`] JSON with a stable `error` kind, including the ones
//! axum produces itself (bad JSON, body too large), so clients handle one shape.

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use waypoint_protocol::ErrorBody;

use crate::store::StoreError;

/// Seconds a client is asked to wait when the database is saturated.
const BUSY_RETRY_AFTER_SECONDS: u32 = 2;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
    /// The request field it is about, when it is about one (see [`ApiError::on_field`]).
    pub field: Option<std::borrow::Cow<'static, str>>,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, kind, message: message.into(), field: None }
    }

    /// The same error, about the request's field `field`: the console shows it beside that field.
    pub fn on_field(self, field: &'static str) -> Self {
        ApiError { field: Some(field.into()), ..self }
    }

    /// The same error with another stable kind (e.g. a specific 401).
    pub fn with_kind(self, kind: &'static str) -> Self {
        ApiError { kind, ..self }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Busy(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "the server is busy; retry later")
            }
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::AlreadyExists(what) => ApiError::new(StatusCode::CONFLICT, "already_exists", what),
            StoreError::Database(why) => {
                tracing::error!("database error: {why}");
                ApiError::internal("database error")
            }
            // Only opening a store reports this; a request never should.
            newer @ StoreError::NewerSchema { .. } => {
                tracing::error!("{newer}");
                ApiError::internal("database error")
            }
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let kind = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            // Well-formed JSON that is not the expected shape (a missing field, a wrong type).
            StatusCode::UNPROCESSABLE_ENTITY => "invalid",
            _ => "bad_request",
        };
        let error = ApiError::new(status, kind, rejection.body_text());
        // serde names the field that failed first (`completed_on: premature end of input ...`):
        // the console shows the message beside it.
        match json_error_field(&error.message) {
            Some(field) if status == StatusCode::UNPROCESSABLE_ENTITY => {
                ApiError { field: Some(field.into()), ..error }
            }
            _ => error,
        }
    }
}

/// The field path a JSON shape error begins with (`completed_on`, `records[0].body`), if any.
fn json_error_field(message: &str) -> Option<String> {
    let detail = message.split_once("target type: ").map_or(message, |(_, rest)| rest);
    let (path, _) = detail.split_once(": ")?;
    let simple = !path.is_empty()
        && path.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']'))
        && path.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    simple.then(|| path.to_string())
}

#[cfg(test)]
mod field_tests {
    use super::json_error_field;

    #[test]
    fn a_json_shape_error_names_its_field() {
        let message = "Failed to deserialize the JSON body into the target type: completed_on: premature end of input";
        assert_eq!(json_error_field(message).as_deref(), Some("completed_on"));
        let nested = "Failed to deserialize the JSON body into the target type: records[0].body: invalid type";
        assert_eq!(json_error_field(nested).as_deref(), Some("records[0].body"));
        let top = "Failed to deserialize the JSON body into the target type: missing field `name` at line 1";
        assert_eq!(json_error_field(top), None);
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.kind.to_string(),
            message: self.message,
            field: self.field.map(|f| f.into_owned()),
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        match self.status {
            StatusCode::UNAUTHORIZED => {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(BUSY_RETRY_AFTER_SECONDS));
            }
            _ => {}
        }
        response
    }
}

/// `axum::Json` whose rejections are [`ApiError`]s.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    /// A well-formed JSON body is parsed straight from its bytes; anything else goes through
    /// `axum::Json`, whose rejection says what is wrong (415, 413, the path of a bad field).
    /// That path tracking costs a fifth of a large push's parse, so only failures pay for it.
    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json =
            request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
                v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !is_json {
            return axum::Json::<T>::from_request(request, state)
                .await
                .map(|json| ApiJson(json.0))
                .map_err(ApiError::from);
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|r| ApiError::from(JsonRejection::from(r)))?;
        match serde_json::from_slice(&bytes) {
            Ok(value) => Ok(ApiJson(value)),
            Err(_) => axum::Json::<T>::from_bytes(&bytes).map(|json| ApiJson(json.0)).map_err(ApiError::from),
        }
    }
}

/// `axum::extract::Query` whose rejections are [`ApiError`]s (JSON, like every other error),
/// not axum's plain-text 400.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// `axum::extract::Path` whose rejections are [`ApiError`]s.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}
