//! waypoint-protocol: the wire types of Waypoint sync, shared by the device (core) and the server.
//!
//! Push (device -> server): `POST /v1/sync/push` with a [`PushRequest`]; the reply is a [`PushResponse`]
//! with one [`RecordAck`] per record. Pull (server -> device): `GET /v1/sync/pull?cursor=N&max_bytes=M`
//! replies with a [`PullResponse`]: the changes after the cursor and the cursor to store with them.
//! Bodies travel zstd- (or gzip-) compressed via HTTP `Content-Encoding`.

pub mod audit;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use ts_rs::TS;
use uuid::Uuid;

mod review;
pub use review::*;
mod accounts;
pub use accounts::*;
mod console;
pub use console::*;
mod admin;
pub mod bindings;
pub use admin::*;
mod agency;
pub use agency::*;
mod directory_admin;
pub use directory_admin::*;
mod outcomes;
pub use outcomes::*;
mod records;
pub use records::*;
mod training;
pub use training::*;

/// One version of one encounter as the device sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushRecord {
    /// Device-made UUIDv7.
    pub encounter_id: Uuid,
    /// 1 for the original report; each amendment adds one.
    pub version: u32,
    /// Per-device, strictly increasing outbox sequence number.
    pub seq: u64,
    /// Lower-case hex SHA-256 of the canonical JSON of `body` (see [`content_hash`]).
    pub content_hash: String,
    /// The encounter (waypoint_core::Encounter as JSON).
    pub body: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushRequest {
    pub records: Vec<PushRecord>,
}

/// What the server did with one pushed record. Every status except none is final: the device
/// removes `stored`, `duplicate` and `conflict` records from its outbox and marks `rejected` ones
/// "needs attention" with the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AckStatus {
    /// New version, stored now.
    Stored,
    /// The server already had this exact version (a retry after a lost reply).
    Duplicate,
    /// The server had the same id and version with different content; both are kept.
    Conflict,
    /// Invalid; not stored. See `reason`.
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordAck {
    pub encounter_id: Uuid,
    pub version: u32,
    pub seq: u64,
    pub status: AckStatus,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    pub acks: Vec<RecordAck>,
    /// Highest sequence number the server has acknowledged from this device (all time).
    pub device_seq: u64,
}

/// Push batches and pull pages stay under this many body bytes (one oversized record still goes
/// alone). A dropped connection wastes at most the request it cut: at 192 KiB that is ~9 KB of
/// zstd on the wire, under 1 % of a 10,000-report push or a 30,000-service pull (256 KiB could
/// waste 1.2 %). Smaller costs round trips: 128 KiB made the push ~20 % slower and 11 % bigger.
pub const DEFAULT_BATCH_BYTES: usize = 192 * 1024;

/// Kinds of change the pull feed carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A supervisor approved or returned an encounter version (body: review result).
    ReviewResult,
    /// A directory entry was added or changed (body: the entry).
    DirectoryUpsert,
    /// A directory entry was removed (body: null).
    DirectoryDelete,
    /// A service's capacity changed (body: the capacity update).
    CapacityUpdate,
    /// The agency saved a new configuration version (body: [`AgencyConfigVersion`]; key
    /// [`AGENCY_CONFIG_KEY`]). Every device takes the newest it receives.
    AgencyConfig,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::ReviewResult => "review_result",
            ChangeKind::DirectoryUpsert => "directory_upsert",
            ChangeKind::DirectoryDelete => "directory_delete",
            ChangeKind::CapacityUpdate => "capacity_update",
            ChangeKind::AgencyConfig => "agency_config",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "review_result" => ChangeKind::ReviewResult,
            "directory_upsert" => ChangeKind::DirectoryUpsert,
            "directory_delete" => ChangeKind::DirectoryDelete,
            "capacity_update" => ChangeKind::CapacityUpdate,
            "agency_config" => ChangeKind::AgencyConfig,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    /// Position in the server's change feed; gap-free and in commit order.
    pub seq: u64,
    pub kind: ChangeKind,
    /// What changed: an encounter id for review results, an entry id for directory changes.
    pub key: String,
    pub body: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullResponse {
    pub changes: Vec<Change>,
    /// Store this (in the same transaction as the changes) and send it on the next pull.
    pub cursor: u64,
    /// True when more changes wait after this page.
    pub more: bool,
}

/// [`PullResponse`] as the server writes it: the same JSON, each body the text the feed stored
/// (copied out, not parsed into a tree and serialized again).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawPullResponse {
    pub changes: Vec<RawChange>,
    pub cursor: u64,
    pub more: bool,
}

/// [`Change`] with its body as raw JSON text.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawChange {
    pub seq: u64,
    pub kind: ChangeKind,
    pub key: String,
    pub body: Box<serde_json::value::RawValue>,
}

impl RawPullResponse {
    /// The typed page (each body parsed).
    pub fn parse(self) -> Result<PullResponse, serde_json::Error> {
        let changes = self
            .changes
            .into_iter()
            .map(|c| Ok(Change { seq: c.seq, kind: c.kind, key: c.key, body: serde_json::from_str(c.body.get())? }))
            .collect::<Result<_, serde_json::Error>>()?;
        Ok(PullResponse { changes, cursor: self.cursor, more: self.more })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollRequest {
    /// The one-time code printed by `waypoint-server device enroll`.
    pub code: String,
    /// The id the device made for itself at setup (a UUID), which it stamps on every report: the
    /// server registers the device under it (409 when another device holds it). Absent: the
    /// server makes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollResponse {
    pub device_id: String,
    /// Bearer credential for every later request of this device. Shown once.
    pub device_token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// The current TOTP code, or an unused recovery code, for a user enrolled in MFA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Officer,
    Supervisor,
    Admin,
    /// Reads the outcome figures only: never a report, a name or a narrative; writes nothing.
    Analyst,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Officer => "officer",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::Analyst => "analyst",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "officer" => Role::Officer,
            "supervisor" => Role::Supervisor,
            "admin" => Role::Admin,
            "analyst" => Role::Analyst,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    pub session_token: String,
    pub role: Role,
    /// RFC 3339.
    pub expires_at: String,
    /// The officer id (badge number) the server knows this user by: pushed reports must carry it.
    #[serde(default)]
    pub officer_id: String,
    /// Only when the login carried a device credential (`Authorization: Bearer wpd_...`): the
    /// officer credential of this user on that device (prefix [`OFFICER_TOKEN_PREFIX`]), sent in
    /// [`OFFICER_CREDENTIAL_HEADER`] with every push. It does not expire (reports written
    /// offline sync whenever the device is back in coverage); it stops when revoked. Shown once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub officer_token: Option<String>,
}

/// The header a push carries the signed-in officer's credential in, beside the device's own
/// `Authorization: Bearer wpd_...`.
pub const OFFICER_CREDENTIAL_HEADER: &str = "waypoint-officer";

/// The header every pull carries the version of the agency configuration the device uses in
/// (a decimal number): the server keeps it per device for the admin's device list.
pub const CONFIG_VERSION_HEADER: &str = "waypoint-config-version";

/// Officer credentials (device-bound, issued at sign-in) start with this.
pub const OFFICER_TOKEN_PREFIX: &str = "wpo_";

/// The error kind of a 401 that the device's officer credential (not its device credential) is
/// missing, unknown, revoked or another device's: the officer must sign in on the device.
pub const SIGN_IN_REQUIRED: &str = "sign_in_required";

/// Body of every error reply (4xx/5xx).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Stable machine-readable kind, e.g. `unauthorized`, `forbidden`, `payload_too_large`.
    pub error: String,
    pub message: String,
    /// The request field the error is about (`comment`, `password`, ...), where it is about one:
    /// a form shows the message beside that field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub field: Option<String>,
}

/// A supervisor's decision on one encounter version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    Approved,
    /// Sent back to the officer to correct; a comment says what.
    Returned,
}

/// `POST /v1/reviews`: queues a review result for the device that pushed the version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewRequest {
    pub encounter_id: Uuid,
    pub version: u32,
    pub decision: ReviewDecision,
    /// Required when returning.
    pub comment: Option<String>,
    /// Required to change the decision of a version already decided (the earlier decision stays
    /// in its history).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Where a queued change sits in the pull feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeedPosition {
    #[ts(type = "number")]
    pub seq: u64,
}

/// What a review result in the pull feed carries (the change's key is the encounter id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewResultBody {
    pub version: u32,
    pub decision: ReviewDecision,
    pub comment: Option<String>,
    pub reviewer: Option<String>,
    pub at: DateTime<Utc>,
}

/// `POST /v1/directory/capacity`: how many places a service has free now. Broadcast to every
/// device as a `capacity_update` change with this body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CapacityUpdate {
    pub id: String,
    pub service_id: String,
    /// "beds", "chairs", "appointments"...
    pub unit: String,
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    #[ts(type = "number")]
    pub available: i64,
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    #[ts(type = "number | null")]
    pub maximum: Option<i64>,
    /// RFC 3339.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub updated_at: String,
}

/// Canonical JSON: object keys sorted at every level, no whitespace. Independent of serde_json's
/// `preserve_order` feature, so device and server always hash the same bytes.
pub fn canonical_json(value: &Value) -> Vec<u8> {
    fn write(value: &Value, out: &mut Vec<u8>) {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                out.push(b'{');
                for (i, (key, item)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    serde_json::to_writer(&mut *out, key).expect("a string serializes");
                    out.push(b':');
                    write(item, out);
                }
                out.push(b'}');
            }
            Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write(item, out);
                }
                out.push(b']');
            }
            scalar => serde_json::to_writer(&mut *out, scalar).expect("a scalar serializes"),
        }
    }
    let mut out = Vec::new();
    write(value, &mut out);
    out
}

/// Lower-case hex SHA-256 of [`canonical_json`] of `body`.
pub fn content_hash(body: &Value) -> String {
    hex::encode(Sha256::digest(canonical_json(body)))
}

/// [`PushRequest`] as the device sends and the server reads it: the same JSON, with each body
/// kept as the exact bytes on the wire. The device sends the canonical JSON it hashed straight
/// from its outbox, and the server checks the hash over those bytes: no body is parsed into a
/// tree, re-serialized or canonicalized on the way (see [`RawPushRecord::canonical_body`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawPushRequest {
    pub records: Vec<RawPushRecord>,
}

/// [`PushRecord`] with its body as raw JSON text.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawPushRecord {
    pub encounter_id: Uuid,
    pub version: u32,
    pub seq: u64,
    pub content_hash: String,
    pub body: Box<serde_json::value::RawValue>,
}

impl RawPushRecord {
    /// The body's canonical JSON (what `content_hash` covers), and whether it hashes to
    /// `content_hash`. When the bytes sent hash right they are that canonical JSON already (they
    /// are what the device hashed) and are returned as they are; otherwise (a client that does
    /// not send canonical bytes, or a damaged body) the body is parsed and canonicalized, so an
    /// honest client with another serializer still matches. `None` when the body is not JSON.
    pub fn canonical_body(&self) -> Option<(String, bool)> {
        let raw = self.body.get();
        if hex::encode(Sha256::digest(raw.as_bytes())) == self.content_hash {
            return Some((raw.to_owned(), true));
        }
        let value: Value = serde_json::from_str(raw).ok()?;
        let canonical = canonical_json(&value);
        let matches = hex::encode(Sha256::digest(&canonical)) == self.content_hash;
        Some((String::from_utf8(canonical).expect("serde_json writes UTF-8"), matches))
    }
}

impl RawPushRecord {
    /// The server's answer for this record.
    pub fn ack(&self, status: AckStatus, reason: Option<String>) -> RecordAck {
        RecordAck { encounter_id: self.encounter_id, version: self.version, seq: self.seq, status, reason }
    }
}

impl From<PushRecord> for RawPushRecord {
    fn from(record: PushRecord) -> Self {
        let body = serde_json::value::to_raw_value(&record.body).expect("a JSON value serializes");
        RawPushRecord {
            encounter_id: record.encounter_id,
            version: record.version,
            seq: record.seq,
            content_hash: record.content_hash,
            body,
        }
    }
}

impl From<PushRequest> for RawPushRequest {
    fn from(request: PushRequest) -> Self {
        RawPushRequest { records: request.records.into_iter().map(Into::into).collect() }
    }
}

impl PushRecord {
    /// Builds a record with its content hash filled in.
    pub fn new(encounter_id: Uuid, version: u32, seq: u64, body: Value) -> Self {
        let content_hash = content_hash(&body);
        PushRecord { encounter_id, version, seq, content_hash, body }
    }
}

/// The key of a directory snapshot line that carries a capacity update (the lines after the
/// service documents: `{"capacity_update": CapacityUpdate}`).
pub const SNAPSHOT_CAPACITY_KEY: &str = "capacity_update";

/// `AB:CD:...`: the SHA-256 of a DER certificate, as the server's admin tool prints it and the
/// device pins it.
pub fn certificate_fingerprint(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    digest.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hash_ignores_key_order_but_not_content() {
        let a = json!({"b": 1, "a": {"y": [1, 2], "x": "s"}});
        let b = json!({"a": {"x": "s", "y": [1, 2]}, "b": 1});
        let c = json!({"a": {"x": "s", "y": [2, 1]}, "b": 1});
        assert_eq!(content_hash(&a), content_hash(&b));
        assert_ne!(content_hash(&a), content_hash(&c));
        assert_eq!(canonical_json(&a), br#"{"a":{"x":"s","y":[1,2]},"b":1}"#.to_vec());
    }

    fn raw(record: &PushRecord, body: String) -> RawPushRecord {
        RawPushRecord { body: serde_json::value::RawValue::from_string(body).unwrap(), ..record.clone().into() }
    }

    #[test]
    fn a_raw_body_is_taken_as_sent_when_it_is_what_was_hashed_and_canonicalized_when_not() {
        let record = PushRecord::new(Uuid::nil(), 1, 1, json!({"narrative": "calm", "id": "x", "n": [1, 2]}));
        let canonical = String::from_utf8(canonical_json(&record.body)).unwrap();
        assert_eq!(raw(&record, canonical.clone()).canonical_body(), Some((canonical.clone(), true)));
        // Another serializer's layout (spaces, key order) of the same content still matches.
        let pretty = "{\n  \"n\": [1, 2],\n  \"narrative\": \"calm\",\n  \"id\": \"x\"\n}".to_string();
        assert_eq!(raw(&record, pretty).canonical_body(), Some((canonical, true)));
        // Changed content does not.
        let changed = raw(&record, r#"{"id":"x","n":[1,2],"narrative":"violent"}"#.into());
        assert_eq!(changed.canonical_body().map(|(_, matches)| matches), Some(false));
    }

    #[test]
    fn wire_names_are_snake_case() {
        let ack = RecordAck {
            encounter_id: Uuid::nil(),
            version: 1,
            seq: 3,
            status: AckStatus::Rejected,
            reason: Some("bad".into()),
        };
        let text = serde_json::to_string(&ack).unwrap();
        assert!(text.contains(r#""status":"rejected""#), "{text}");
        for kind in [
            ChangeKind::ReviewResult,
            ChangeKind::DirectoryUpsert,
            ChangeKind::DirectoryDelete,
            ChangeKind::CapacityUpdate,
            ChangeKind::AgencyConfig,
        ] {
            assert_eq!(ChangeKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
        }
    }
}
