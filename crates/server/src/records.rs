//! The agency records feed: record events (see [`crate::store::records`]) with the report they
//! concern, for `GET /v1/records/encounters` and the webhooks' payloads. One builder, so a feed
//! page and a webhook carry the same event.

use waypoint_protocol::{RecordEvent, RecordsPage};

use crate::store::records::RecordEventRow;
use crate::store::{SharedStore, StoreError, StoreResult};

/// Events read per page before byte sizing trims it.
const PAGE_ROWS: usize = 200;

/// The event with every version of its report up to the event's version, each with its
/// decisions as they stand now (later versions are later events).
pub async fn event_with_record(store: &SharedStore, row: &RecordEventRow) -> StoreResult<RecordEvent> {
    let mut encounter = store
        .encounter_review(row.encounter_id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("encounter {} of event {}", row.encounter_id, row.event_id())))?;
    encounter.versions.retain(|version| version.version <= row.version);
    Ok(RecordEvent {
        seq: row.seq,
        id: row.event_id(),
        event_type: row.event_type,
        at: row.decided_at,
        encounter_id: row.encounter_id,
        version: row.version,
        reviewer: row.reviewer.clone(),
        encounter,
    })
}

/// The events after `cursor` whose JSON fits in about `max_bytes` (always one when any waits).
pub async fn page(store: &SharedStore, cursor: u64, max_bytes: usize) -> StoreResult<RecordsPage> {
    let rows = store.record_events_after(cursor, PAGE_ROWS).await?;
    let fetched = rows.len();
    let mut events = Vec::new();
    let mut bytes = 0usize;
    for row in &rows {
        let event = event_with_record(store, row).await?;
        let size = serde_json::to_vec(&event)?.len();
        if !events.is_empty() && bytes + size > max_bytes {
            break;
        }
        bytes += size;
        events.push(event);
    }
    let more = events.len() < fetched || fetched == PAGE_ROWS;
    let cursor = events.last().map_or(cursor, |event| event.seq);
    Ok(RecordsPage { events, cursor, more })
}
