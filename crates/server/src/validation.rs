//! Which pushed records the server accepts. A record that fails is acknowledged as `rejected`
//! with the reason (shown on the device as "needs attention"); it never blocks the others.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use waypoint_core::Encounter;
use waypoint_protocol::{canonical_json, PushRecord};

use crate::store::CheckedRecord;

/// `None` when the record may be stored, else why not. `canonical` is the body's canonical JSON
/// (what its content hash covers).
pub fn problem_with(record: &PushRecord, canonical: &[u8]) -> Option<String> {
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
    if record.content_hash != hex::encode(Sha256::digest(canonical)) {
        return Some("content hash does not match the body (damaged in transit or changed after hashing)".into());
    }
    let encounter = match Encounter::deserialize(&record.body) {
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
    None
}

pub fn check_records(records: Vec<PushRecord>) -> Vec<CheckedRecord> {
    records
        .into_iter()
        .map(|record| {
            // Made once: hashed here, and stored as the body (no second serialization).
            let canonical = canonical_json(&record.body);
            let problem = problem_with(&record, &canonical);
            let canonical_body = String::from_utf8(canonical).expect("serde_json writes UTF-8");
            CheckedRecord { record, problem, canonical_body }
        })
        .collect()
}
