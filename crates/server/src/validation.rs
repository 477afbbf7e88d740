//! Which pushed records the server accepts. A record that fails is acknowledged as `rejected`
//! with the reason (shown on the device as "needs attention"); it never blocks the others.

use waypoint_core::Encounter;
use waypoint_protocol::RawPushRecord;

use crate::identity::identity_problem;
use crate::store::{CheckedRecord, Pusher};

/// `None` when the record may be stored, else why not. `canonical` is the body's canonical JSON
/// (what its content hash covers) and whether it hashes to the record's content hash; `None`
/// when the body is not JSON. With `pusher`, the body must also be theirs (see
/// [`identity_problem`]).
pub fn problem_with(
    record: &RawPushRecord,
    canonical: Option<(&str, bool)>,
    pusher: Option<&Pusher>,
) -> Option<String> {
    if record.version == 0 {
        return Some("version must be 1 or more".into());
    }
    // Both stores keep versions as 32-bit and sequence numbers as 64-bit signed integers.
    if record.version > i32::MAX as u32 {
        return Some("version is out of range".into());
    }
    if record.seq > i64::MAX as u64 {
        return Some("seq is out of range".into());
    }
    let Some((canonical, hash_matches)) = canonical else { return Some("body is not JSON".into()) };
    if !hash_matches {
        return Some("content hash does not match the body (damaged in transit or changed after hashing)".into());
    }
    let encounter: Encounter = match serde_json::from_str(canonical) {
        Ok(encounter) => encounter,
        Err(error) => return Some(format!("body is not an encounter: {error}")),
    };
    if encounter.id != record.encounter_id {
        return Some(format!("body is encounter {} but the record says {}", encounter.id, record.encounter_id));
    }
    if encounter.version != record.version {
        return Some(format!("body is version {} but the record says {}", encounter.version, record.version));
    }
    if encounter.submitted_at.is_none() {
        return Some("a draft cannot be synced: submit it first".into());
    }
    pusher.and_then(|pusher| identity_problem(&encounter, pusher))
}

/// Checks each record of a push, without identity (for tools and tests that push through the
/// store). Takes the wire form ([`RawPushRecord`]) or the typed one.
pub fn check_records<R: Into<RawPushRecord>>(records: Vec<R>) -> Vec<CheckedRecord> {
    check(records, None)
}

/// Checks each record of a push from `pusher`: what [`check_records`] checks, and that each body
/// names the signed-in officer and this device and claims no review state.
pub fn check_records_from<R: Into<RawPushRecord>>(records: Vec<R>, pusher: &Pusher) -> Vec<CheckedRecord> {
    check(records, Some(pusher))
}

fn check<R: Into<RawPushRecord>>(records: Vec<R>, pusher: Option<&Pusher>) -> Vec<CheckedRecord> {
    records
        .into_iter()
        .map(|record| {
            let record: RawPushRecord = record.into();
            // Made once: hashed, parsed for validation, and stored as the body.
            let canonical = record.canonical_body();
            let problem = problem_with(&record, canonical.as_ref().map(|(body, ok)| (body.as_str(), *ok)), pusher);
            CheckedRecord { record, problem, canonical_body: canonical.map(|(body, _)| body).unwrap_or_default() }
        })
        .collect()
}
