//! The directory snapshot a fresh device downloads instead of pulling the whole directory change
//! by change: `GET /v1/directory/snapshot`.
//!
//! `waypoint-server directory import` writes it next to the directory: the HSDS service documents
//! (what [`waypoint_directory::Directory::export_hsds`] yields), one JSON document a line,
//! zstd-compressed, in a file named after its content hash, and then `directory-snapshot.json`, a
//! small manifest naming that file, its SHA-256 (the strong `ETag`), its size, and the feed cursor
//! it reflects (`X-Waypoint-Cursor`): the device stores that cursor and pulls only what came after.
//! The manifest is replaced atomically, so a reader sees the old snapshot or the new one, never a
//! mix; a download already under way keeps its open file.
//!
//! Serving is written here rather than with tower-http's `ServeFile`: that one (0.6) does
//! `Range` but has no `ETag`, `If-None-Match` or `If-Range`, and the `ETag` must be the content
//! hash so a resumed download can be verified.

use std::io::{SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use utoipa::ToSchema;

use crate::auth::DeviceCaller;
use crate::error::ApiError;
use crate::AppState;

pub const MANIFEST_FILE: &str = "directory-snapshot.json";
/// The header carrying the feed cursor the snapshot reflects.
pub const CURSOR_HEADER: &str = "x-waypoint-cursor";
pub const CONTENT_TYPE: &str = "application/zstd";
/// zstd level: a one-off cost at import, paid back on every device's download.
const ZSTD_LEVEL: i32 = 12;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// File name of the snapshot, in the same folder.
    pub file: String,
    /// Lower-case hex SHA-256 of the file (the ETag, quoted, on the wire).
    pub sha256: String,
    pub bytes: u64,
    pub services: usize,
    /// Capacity lines after the services (0 in manifests written before they existed).
    #[serde(default)]
    pub capacities: usize,
    /// The change-feed position the snapshot reflects: pull with `cursor` = this afterwards.
    pub cursor: u64,
    pub created_at: String,
}

impl Manifest {
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.sha256)
    }
}

/// The key of a snapshot line that carries a capacity update rather than a service document
/// (the device reads it with the same constant).
pub use waypoint_protocol::SNAPSHOT_CAPACITY_KEY as CAPACITY_LINE_KEY;

/// The snapshot's bytes: one HSDS service document a line, then one `{"capacity_update": ...}`
/// line per capacity in effect at the snapshot's cursor (a device that starts from the snapshot
/// never pulls the updates posted before it), zstd-compressed. Deterministic for the same
/// services and capacities, so a re-import of the same data keeps the same ETag.
pub fn encode(services: &[Value], capacities: &[Value]) -> anyhow::Result<Vec<u8>> {
    let mut encoder = zstd::Encoder::new(Vec::new(), ZSTD_LEVEL)?;
    for service in services {
        serde_json::to_writer(&mut encoder, service)?;
        encoder.write_all(b"\n")?;
    }
    for capacity in capacities {
        serde_json::to_writer(&mut encoder, &serde_json::json!({ CAPACITY_LINE_KEY: capacity }))?;
        encoder.write_all(b"\n")?;
    }
    Ok(encoder.finish()?)
}

/// Reads a snapshot file back into its service documents.
pub fn decode(bytes: &[u8]) -> anyhow::Result<Vec<Value>> {
    let text = zstd::decode_all(bytes).context("snapshot is not zstd")?;
    text.split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice(line).context("snapshot line is not JSON"))
        .collect()
}

pub fn manifest_path(dir: &Path) -> PathBuf {
    dir.join(MANIFEST_FILE)
}

/// The manifest in `dir`, if a snapshot was written there.
pub fn read_manifest(dir: &Path) -> anyhow::Result<Option<Manifest>> {
    match std::fs::read(manifest_path(dir)) {
        Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).context("directory-snapshot.json is unreadable")?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).context("reading directory-snapshot.json"),
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file =
        crate::private_files::open_private(&tmp, true).with_context(|| format!("creating {}", tmp.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}

/// Writes `bytes` (from [`encode`]) as the current snapshot at `cursor`, replaces the manifest,
/// and removes older snapshot files. Returns the new manifest.
pub fn write(dir: &Path, bytes: &[u8], services: usize, capacities: usize, cursor: u64) -> anyhow::Result<Manifest> {
    let sha256 = hex::encode(Sha256::digest(bytes));
    let file = format!("directory-snapshot-{}.jsonl.zst", &sha256[..16]);
    let manifest = Manifest {
        file: file.clone(),
        sha256,
        bytes: bytes.len() as u64,
        services,
        capacities,
        cursor,
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    write_atomically(&dir.join(&file), bytes)?;
    write_atomically(&manifest_path(dir), &serde_json::to_vec_pretty(&manifest)?)?;
    for entry in std::fs::read_dir(dir)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("directory-snapshot-") && name.ends_with(".jsonl.zst") && name != file {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(manifest)
}

/// The bytes a `Range` header asks for, resolved against the file size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// No usable Range header (absent, another unit, several ranges, unreadable): the whole file.
    Whole,
    /// `start..=end`, within the file.
    Bytes { start: u64, end: u64 },
    /// Nothing of the file matches: 416.
    Unsatisfiable,
}

/// Parses a single `bytes=` range (`N-`, `N-M`, `-SUFFIX`). As RFC 9110 §14.2 allows, a header
/// that cannot be parsed, or asks for several ranges, is ignored (the whole file is sent).
pub fn parse_range(header: &str, size: u64) -> RangeRequest {
    let Some(spec) = header.trim().strip_prefix("bytes=") else { return RangeRequest::Whole };
    if spec.contains(',') {
        return RangeRequest::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else { return RangeRequest::Whole };
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
    };
    match (first.trim().is_empty(), last.trim().is_empty()) {
        // -SUFFIX: the last SUFFIX bytes.
        (true, false) => match number(last) {
            Some(0) => RangeRequest::Unsatisfiable,
            Some(suffix) if size > 0 => RangeRequest::Bytes { start: size.saturating_sub(suffix), end: size - 1 },
            Some(_) => RangeRequest::Unsatisfiable,
            None => RangeRequest::Whole,
        },
        (false, true) => match number(first) {
            Some(start) if start < size => RangeRequest::Bytes { start, end: size - 1 },
            Some(_) => RangeRequest::Unsatisfiable,
            None => RangeRequest::Whole,
        },
        (false, false) => match (number(first), number(last)) {
            (Some(start), Some(end)) if start > end => RangeRequest::Whole,
            (Some(start), Some(_)) if start >= size => RangeRequest::Unsatisfiable,
            (Some(start), Some(end)) => RangeRequest::Bytes { start, end: end.min(size - 1) },
            _ => RangeRequest::Whole,
        },
        (true, true) => RangeRequest::Whole,
    }
}

/// `If-None-Match`: weak comparison against our strong ETag; `*` matches any.
fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers.get_all(header::IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).any(|value| {
        value.split(',').map(str::trim).any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
    })
}

/// `If-Range`: the range is honoured only if the client's entity tag is strongly equal to ours
/// (a date, a weak tag or anything else means "send the whole file").
fn if_range_holds(headers: &HeaderMap, etag: &str) -> bool {
    match headers.get(header::IF_RANGE) {
        None => true,
        Some(value) => value.to_str().is_ok_and(|v| v.trim() == etag),
    }
}

/// The snapshot file: binary, `application/zstd` (zstd-compressed JSON lines of HSDS services).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct SnapshotFile(pub Vec<u8>);

/// A fresh device's first download of the directory: the whole directory as HSDS service
/// documents, one a line, zstd-compressed; then it pulls only changes after `X-Waypoint-Cursor`.
/// Resumable: strong `ETag` (the file's SHA-256), `If-None-Match` (304), a single
/// `Range: bytes=N-` (206) guarded by `If-Range`.
#[utoipa::path(
    get,
    path = "/v1/directory/snapshot",
    security(("bearer" = [])),
    params(
        ("Range" = Option<String>, Header, description = "A single byte range, e.g. `bytes=1048576-`", example = "bytes=100-"),
        ("If-Range" = Option<String>, Header, description = "The ETag the partial copy came from: the range is served only if it still matches"),
        ("If-None-Match" = Option<String>, Header, description = "ETags the device holds: 304 if the snapshot is one of them"),
    ),
    responses(
        (status = 200, description = "The whole snapshot", content_type = "application/zstd", body = SnapshotFile, headers(
            ("ETag" = String, description = "Strong: the quoted SHA-256 of the file"),
            ("X-Waypoint-Cursor" = u64, description = "Pull with this cursor after applying the snapshot"),
            ("Accept-Ranges" = String, description = "`bytes`"),
        )),
        (status = 206, description = "The requested range", content_type = "application/zstd", body = SnapshotFile, headers(
            ("ETag" = String), ("X-Waypoint-Cursor" = u64), ("Content-Range" = String, description = "`bytes N-M/SIZE`"),
        )),
        (status = 304, description = "Not modified (If-None-Match matched)", headers(("ETag" = String), ("X-Waypoint-Cursor" = u64))),
        (status = 401, body = waypoint_protocol::ErrorBody), (status = 403, body = waypoint_protocol::ErrorBody),
        (status = 404, description = "No directory has been imported yet", body = waypoint_protocol::ErrorBody),
        (status = 416, description = "The range starts past the end", body = waypoint_protocol::ErrorBody, headers(("Content-Range" = String, description = "`bytes */SIZE`"))),
    )
)]
pub async fn directory_snapshot(
    State(state): State<AppState>,
    _device: DeviceCaller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(dir) = state.settings.directory_snapshot_dir.clone() else {
        return Err(ApiError::not_found("this server keeps no directory snapshot"));
    };
    // The manifest may be replaced between reading it and opening its file: read it again then.
    let mut opened = None;
    for _ in 0..3 {
        let manifest = {
            let dir = dir.clone();
            tokio::task::spawn_blocking(move || read_manifest(&dir))
                .await
                .map_err(|e| ApiError::internal(e.to_string()))?
                .map_err(|e| ApiError::internal(format!("{e:#}")))?
        };
        let Some(manifest) = manifest else {
            return Err(ApiError::not_found("no directory has been imported yet"));
        };
        match tokio::fs::File::open(dir.join(&manifest.file)).await {
            Ok(file) => {
                opened = Some((manifest, file));
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(ApiError::internal(format!("opening the snapshot: {e}"))),
        }
    }
    let Some((manifest, mut file)) = opened else {
        return Err(ApiError::not_found("the directory snapshot is being replaced; retry"));
    };
    let etag = manifest.etag();
    let size = manifest.bytes;
    let mut common = HeaderMap::new();
    common.insert(header::ETAG, HeaderValue::from_str(&etag).map_err(|e| ApiError::internal(e.to_string()))?);
    common.insert(CURSOR_HEADER, HeaderValue::from(manifest.cursor));
    common.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    common.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));

    if none_match(&headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(value) if if_range_holds(&headers, &etag) => parse_range(value, size),
        _ => RangeRequest::Whole,
    };
    let (status, start, length) = match range {
        RangeRequest::Whole => (StatusCode::OK, 0, size),
        RangeRequest::Bytes { start, end } => {
            common.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes {start}-{end}/{size}")).expect("ascii"),
            );
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        RangeRequest::Unsatisfiable => {
            let mut response = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                format!("the snapshot has {size} bytes"),
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_RANGE, HeaderValue::from_str(&format!("bytes */{size}")).expect("ascii"));
            return Ok(response);
        }
    };
    if start > 0 {
        file.seek(SeekFrom::Start(start)).await.map_err(|e| ApiError::internal(format!("seeking: {e}")))?;
    }
    let body = Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file.take(length), 64 * 1024));
    common.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    common.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    Ok((status, common, body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeRequest::*;
        assert_eq!(parse_range("bytes=10-", 100), Bytes { start: 10, end: 99 });
        assert_eq!(parse_range("bytes=10-19", 100), Bytes { start: 10, end: 19 });
        assert_eq!(parse_range("bytes=90-200", 100), Bytes { start: 90, end: 99 });
        assert_eq!(parse_range("bytes=-30", 100), Bytes { start: 70, end: 99 });
        assert_eq!(parse_range("bytes=-300", 100), Bytes { start: 0, end: 99 });
        assert_eq!(parse_range("bytes=100-", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-", 0), Unsatisfiable);
        assert_eq!(parse_range("bytes=5-2", 100), Whole);
        assert_eq!(parse_range("bytes=1-2,5-6", 100), Whole);
        assert_eq!(parse_range("items=1-2", 100), Whole);
        assert_eq!(parse_range("bytes=x-", 100), Whole);
        assert_eq!(parse_range("bytes=+1-", 100), Whole);
        assert_eq!(parse_range("bytes=99999999999999999999999-", 100), Whole);
    }

    #[test]
    fn encode_decode_round_trip_and_is_deterministic() {
        let services = vec![serde_json::json!({"id": "a", "name": "A"}), serde_json::json!({"id": "b"})];
        let capacities = vec![serde_json::json!({"service_id": "a", "available": 2})];
        let bytes = encode(&services, &capacities).unwrap();
        assert_eq!(bytes, encode(&services, &capacities).unwrap());
        let mut expected = services.clone();
        expected.push(serde_json::json!({ CAPACITY_LINE_KEY: capacities[0] }));
        assert_eq!(decode(&bytes).unwrap(), expected, "services first, then one line per capacity");
        assert_eq!(decode(&encode(&services, &[]).unwrap()).unwrap(), services);
    }
}
