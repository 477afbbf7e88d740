//! The acknowledgement of each pushed record, decided once for both stores: `rejected` when
//! validation found a problem (nothing stored), `stored` when its id+version is new, `duplicate`
//! when the server holds that version with the same content hash, `conflict` when it holds it
//! with other content (the store keeps the second copy apart; the first stays).

use std::collections::HashMap;

use uuid::Uuid;
use waypoint_protocol::{AckStatus, RecordAck};

use super::{CheckedRecord, StoreResult};

/// The versions stored so far in one transaction (id+version -> content hash): later records of
/// it, in the same push or another of the group, are judged against them.
#[derive(Default)]
pub(crate) struct StoredSoFar(HashMap<(Uuid, u32), String>);

/// One push's acknowledgements, in record order, and what the store still has to write.
pub(crate) struct PushAcks<'r> {
    pub acks: Vec<RecordAck>,
    /// Records whose id+version is held with other content: each becomes a conflict row.
    pub conflicts: Vec<&'r CheckedRecord>,
    /// The highest device sequence number among the records, rejected ones included.
    pub highest_seq: u64,
}

/// Acknowledges `records` in order. `held_before` is asked about each valid record whose
/// id+version this transaction has not stored yet: the content hash the server already held for
/// it, or `None` when the version is new and this record's copy is (or will be) the stored one.
pub(crate) fn acknowledge<'r>(
    records: &'r [CheckedRecord],
    stored: &mut StoredSoFar,
    mut held_before: impl FnMut(&CheckedRecord) -> StoreResult<Option<String>>,
) -> StoreResult<PushAcks<'r>> {
    let mut acks = Vec::with_capacity(records.len());
    let mut conflicts = Vec::new();
    let mut highest_seq = 0;
    for checked in records {
        let record = &checked.record;
        highest_seq = highest_seq.max(record.seq);
        let status = if checked.problem.is_some() {
            AckStatus::Rejected
        } else {
            let key = (record.encounter_id, record.version);
            let same_as_held = match stored.0.get(&key) {
                Some(hash) => Some(*hash == record.content_hash),
                None => held_before(checked)?.map(|hash| hash == record.content_hash),
            };
            match same_as_held {
                None => {
                    stored.0.insert(key, record.content_hash.clone());
                    AckStatus::Stored
                }
                Some(true) => AckStatus::Duplicate,
                Some(false) => {
                    conflicts.push(checked);
                    AckStatus::Conflict
                }
            }
        };
        acks.push(record.ack(status, checked.problem.clone()));
    }
    Ok(PushAcks { acks, conflicts, highest_seq })
}

#[cfg(test)]
mod tests {
    use super::*;
    use waypoint_protocol::PushRecord;

    fn checked(id: Uuid, seq: u64, narrative: &str, problem: Option<&str>) -> CheckedRecord {
        let record = PushRecord::new(id, 1, seq, serde_json::json!({ "narrative": narrative }));
        CheckedRecord { record: record.into(), problem: problem.map(String::from), canonical_body: String::new() }
    }

    #[test]
    fn each_status_follows_what_is_held_and_what_this_transaction_stored() {
        let (new, held) = (Uuid::now_v7(), Uuid::now_v7());
        let held_copy = checked(held, 1, "held", None);
        let records = [
            checked(new, 1, "first", None),
            checked(new, 2, "first", None),
            checked(new, 3, "other", None),
            checked(held, 4, "held", None),
            checked(held, 5, "rival", None),
            checked(Uuid::now_v7(), 9, "bad", Some("no narrative")),
        ];
        let mut asked = Vec::new();
        let acked = acknowledge(&records, &mut StoredSoFar::default(), |r| {
            asked.push(r.record.seq);
            Ok((r.record.encounter_id == held).then(|| held_copy.record.content_hash.clone()))
        })
        .unwrap();
        let statuses: Vec<_> = acked.acks.iter().map(|a| a.status).collect();
        use AckStatus::*;
        assert_eq!(statuses, [Stored, Duplicate, Conflict, Duplicate, Conflict, Rejected]);
        assert_eq!(asked, [1, 4, 5], "versions stored in this transaction are not looked up again");
        assert_eq!(acked.conflicts.iter().map(|r| r.record.seq).collect::<Vec<_>>(), [3, 5]);
        assert_eq!(acked.highest_seq, 9);
        assert_eq!(acked.acks[5].reason.as_deref(), Some("no narrative"));
    }
}
