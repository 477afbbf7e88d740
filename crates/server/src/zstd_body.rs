//! Request bodies sent with `Content-Encoding: zstd` (every device's push) are decompressed here,
//! with one zstd context kept per worker thread. tower-http's layer made a fresh context (and
//! zeroed its tables) for every request: 2.6 % of the CPU of the 1,000-device push burst.
//! gzip bodies still go through tower-http. The body limit counts decompressed bytes, as before:
//! a small zstd bomb gets 413.

use std::cell::RefCell;
use std::io::Read;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use zstd::zstd_safe::{DCtx, ResetDirective};

use crate::error::ApiError;

#[derive(Debug, PartialEq, Eq)]
pub enum DecompressError {
    /// The decompressed body would be larger than the limit.
    TooLarge,
    /// Not a zstd stream (or a damaged one).
    Invalid(String),
}

thread_local! {
    static CONTEXT: RefCell<Option<DCtx<'static>>> = const { RefCell::new(None) };
}

/// Decompresses `compressed` (one or more zstd frames) with this thread's context.
pub fn decompress(compressed: &[u8], limit: usize) -> Result<Vec<u8>, DecompressError> {
    CONTEXT.with(|cell| {
        let mut slot = cell.borrow_mut();
        let context = match slot.as_mut() {
            Some(context) => context,
            None => slot.insert(DCtx::try_create().ok_or_else(|| DecompressError::Invalid("no zstd context".into()))?),
        };
        // A stream that failed half-way must not leave its state to the next request.
        context.reset(ResetDirective::SessionOnly).map_err(|code| DecompressError::Invalid(error_name(code)))?;
        // One allocation when the frame says its size (bulk-compressed bodies do).
        let expected = match zstd::zstd_safe::get_frame_content_size(compressed) {
            Ok(Some(size)) => size as usize,
            _ => compressed.len().saturating_mul(8),
        };
        let mut plain = Vec::with_capacity(expected.min(limit.saturating_add(1)));
        let decoder = zstd::stream::read::Decoder::with_context(compressed, context);
        decoder
            .take(limit as u64 + 1)
            .read_to_end(&mut plain)
            .map_err(|e| DecompressError::Invalid(format!("the body is not valid zstd: {e}")))?;
        if plain.len() > limit {
            return Err(DecompressError::TooLarge);
        }
        Ok(plain)
    })
}

fn error_name(code: usize) -> String {
    zstd::zstd_safe::get_error_name(code).to_string()
}

fn too_large(limit: usize) -> Response {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the body is larger than {limit} bytes (after decompression)"),
    )
    .into_response()
}

/// Middleware (state: the body limit in bytes): a zstd body reaches the handlers decompressed,
/// without its Content-Encoding.
pub async fn decompress_request(State(limit): State<usize>, request: Request, next: Next) -> Response {
    let zstd =
        request.headers().get(header::CONTENT_ENCODING).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"zstd"));
    if !zstd {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let compressed = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => return too_large(limit),
        Err(error) => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("the body could not be read: {error}"),
            )
            .into_response()
        }
    };
    let plain = match decompress(&compressed, limit) {
        Ok(plain) => plain,
        Err(DecompressError::TooLarge) => return too_large(limit),
        Err(DecompressError::Invalid(why)) => {
            return ApiError::new(StatusCode::BAD_REQUEST, "bad_request", why).into_response();
        }
    };
    parts.headers.remove(header::CONTENT_ENCODING);
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(plain.len()));
    next.run(Request::from_parts(parts, Body::from(plain))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decompresses_streamed_and_bulk_frames_and_several_frames_in_a_row() {
        let text = b"{\"records\":[]}".repeat(500);
        let streamed = zstd::encode_all(&text[..], 1).unwrap();
        let bulk = zstd::bulk::compress(&text, 1).unwrap();
        assert_eq!(decompress(&streamed, 1 << 20).unwrap(), text);
        assert_eq!(decompress(&bulk, 1 << 20).unwrap(), text);
        let two = [bulk.clone(), bulk].concat();
        assert_eq!(decompress(&two, 1 << 20).unwrap(), [text.clone(), text].concat());
    }

    #[test]
    fn a_body_over_the_limit_is_refused_whatever_its_compressed_size() {
        let bomb = zstd::bulk::compress(&vec![b' '; 1_000_000], 3).unwrap();
        assert!(bomb.len() < 1_000);
        assert_eq!(decompress(&bomb, 999_999), Err(DecompressError::TooLarge));
        assert_eq!(decompress(&bomb, 1_000_000).unwrap().len(), 1_000_000);
    }

    #[test]
    fn a_damaged_stream_is_invalid_and_leaves_the_thread_context_usable() {
        let good = zstd::encode_all(&b"officer narrative ".repeat(100)[..], 1).unwrap();
        assert!(matches!(decompress(b"this is not zstd", 1 << 20), Err(DecompressError::Invalid(_))));
        // Cut half-way: the context is left mid-frame.
        assert!(decompress(&good[..good.len() / 2], 1 << 20).is_err());
        assert_eq!(decompress(&good, 1 << 20).unwrap(), b"officer narrative ".repeat(100));
    }
}
