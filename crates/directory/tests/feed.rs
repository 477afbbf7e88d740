//! Directory changes pulled from the server: a change the device cannot apply is rolled back
//! alone and reported, and the rest of its page still applies (the feed never stalls on one).

use std::path::PathBuf;

use chrono::Utc;
use serde_json::json;
use waypoint_directory::Directory;
use waypoint_protocol::{Change, ChangeKind};

const SERVICE: &str = "ac148810-d857-441c-9679-408f346de14b";
const SERVICE_AT_LOCATION: &str = "e94c9f38-1e8f-4564-91d4-d53501ab1765";

/// The HSDS example service, placed in Austin (the example's own coordinates, 100/101, are out
/// of range, so it would have no place on the map and no detail).
fn service_full() -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/hsds-3.0/examples/service_full.json");
    let mut service: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    // Every copy of the location (it is nested under the organization too).
    fn place(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(object) => {
                if object.contains_key("latitude") {
                    object.insert("latitude".into(), json!(30.27));
                    object.insert("longitude".into(), json!(-97.74));
                }
                object.values_mut().for_each(place);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(place),
            _ => {}
        }
    }
    place(&mut service);
    service
}

fn change(seq: u64, kind: ChangeKind, key: &str, body: serde_json::Value) -> Change {
    Change { seq, kind, key: key.into(), body }
}

fn capacity(available: i64, updated_at: &str) -> serde_json::Value {
    json!({"id": "beds-1", "service_id": SERVICE, "unit": "beds", "available": available,
           "maximum": 12, "updated_at": updated_at})
}

#[test]
fn bad_changes_are_skipped_with_their_reason_and_the_good_ones_in_the_same_page_apply() {
    let mut dir = Directory::open_in_memory().unwrap();
    let now = Utc::now().to_rfc3339();
    let mut renamed = service_full();
    renamed["name"] = json!("Community Counselling Crisis Line");
    let page = vec![
        change(1, ChangeKind::DirectoryUpsert, SERVICE, service_full()),
        change(2, ChangeKind::CapacityUpdate, SERVICE, json!({"service_id": SERVICE, "unit": "beds"})),
        change(3, ChangeKind::CapacityUpdate, SERVICE, capacity(9, "yesterday at noon")),
        change(
            4,
            ChangeKind::CapacityUpdate,
            "nowhere",
            json!({"id": "x", "service_id": "nowhere", "unit": "beds",
            "available": 1, "maximum": null, "updated_at": now}),
        ),
        change(5, ChangeKind::CapacityUpdate, SERVICE, capacity(4, &now)),
        change(6, ChangeKind::DirectoryUpsert, SERVICE, renamed),
    ];
    let report = dir.apply_feed_changes(&page).unwrap();

    let skipped: Vec<u64> = report.rejected.iter().map(|r| r.row).collect();
    assert_eq!(skipped, vec![2, 3, 4], "{:?}", report.rejected);
    let reason = |seq: u64| report.rejected.iter().find(|r| r.row == seq).unwrap().reason.clone();
    assert!(reason(2).contains("missing field"), "names what is wrong: {}", reason(2));
    assert!(reason(3).contains("yesterday at noon"), "{}", reason(3));
    assert!(reason(4).contains("nowhere"), "{}", reason(4));

    // The changes around the bad ones applied: the later capacity and the rename.
    let detail = dir.service_detail(SERVICE_AT_LOCATION, None, Utc::now()).unwrap();
    assert_eq!(detail.name, "Community Counselling Crisis Line");
    let capacity = detail.capacity.expect("the good capacity update applied");
    assert_eq!((capacity.available, capacity.maximum), (4, Some(12)));
}

#[test]
fn a_document_that_is_not_the_service_it_claims_to_be_leaves_the_service_as_it_was() {
    let mut dir = Directory::open_in_memory().unwrap();
    dir.apply_feed_changes(&[change(1, ChangeKind::DirectoryUpsert, SERVICE, service_full())]).unwrap();
    let before = dir.stats().unwrap();
    let mut other = service_full();
    other["id"] = json!("0b7a1e6c-0000-4000-8000-000000000000");
    let report = dir
        .apply_feed_changes(&[
            change(2, ChangeKind::DirectoryUpsert, SERVICE, json!("not a document")),
            change(3, ChangeKind::DirectoryUpsert, SERVICE, other),
        ])
        .unwrap();
    let reasons: Vec<&str> = report.rejected.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons[0].contains("no `id`"), "{reasons:?}");
    assert!(reasons[1].contains("is not the change's key"), "{reasons:?}");
    assert_eq!(dir.stats().unwrap(), before, "no phone, schedule or location of the service was removed");
    assert_eq!(dir.service_detail(SERVICE_AT_LOCATION, None, Utc::now()).unwrap().name, "Community Counselling");
}

fn rows(dir: &Directory, sql: &str, id: &str) -> i64 {
    dir.connection().query_row(sql, [id], |r| r.get(0)).unwrap()
}

/// A service removed by the server takes its location (and the location's address and phones)
/// and its organization with it when nothing else uses them; a location another service is at
/// stays until that one goes too.
#[test]
fn a_removed_service_leaves_no_orphaned_location_or_organization() {
    const LOCATION: &str = "3a19ff88-4620-4d17-9830-ac1d859eb5d5";
    const ORGANIZATION: &str = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610";
    const OTHER: &str = "0190d6a4-0000-7000-8000-0000000000aa";
    let mut dir = Directory::open_in_memory().unwrap();
    // A second service of the same organization at the same place.
    let other = json!({
        "id": OTHER, "name": "Walk-in Counselling", "status": "active",
        "organization": {"id": ORGANIZATION, "name": "Community Counselling"},
        "service_at_locations": [{"id": "0190d6a4-0000-7000-8000-0000000000ab",
            "location": {"id": LOCATION, "name": "Main office", "latitude": 30.27, "longitude": -97.74}}]
    });
    let page = vec![
        change(1, ChangeKind::DirectoryUpsert, SERVICE, service_full()),
        change(2, ChangeKind::DirectoryUpsert, OTHER, other),
    ];
    let report = dir.apply_feed_changes(&page).unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    let location = |dir: &Directory| rows(dir, "SELECT count(*) FROM location WHERE id = ?1", LOCATION);
    let addresses = |dir: &Directory| rows(dir, "SELECT count(*) FROM address WHERE location_id = ?1", LOCATION);
    let organization = |dir: &Directory| rows(dir, "SELECT count(*) FROM organization WHERE id = ?1", ORGANIZATION);
    assert_eq!((location(&dir), organization(&dir)), (1, 1));
    assert!(addresses(&dir) > 0);

    dir.apply_feed_changes(&[change(3, ChangeKind::DirectoryDelete, SERVICE, json!(null))]).unwrap();
    assert_eq!((location(&dir), organization(&dir)), (1, 1), "still the other service's place");
    assert!(addresses(&dir) > 0);

    dir.apply_feed_changes(&[change(4, ChangeKind::DirectoryDelete, OTHER, json!(null))]).unwrap();
    assert_eq!(rows(&dir, "SELECT count(*) FROM service WHERE id <> ?1", ""), 0);
    assert_eq!(location(&dir), 0, "no service is there any more");
    assert_eq!(addresses(&dir), 0);
    assert_eq!(rows(&dir, "SELECT count(*) FROM phone WHERE location_id = ?1", LOCATION), 0);
    assert_eq!(organization(&dir), 0, "the organization goes with its last service and place");
    assert_eq!(rows(&dir, "SELECT count(*) FROM phone WHERE organization_id = ?1", ORGANIZATION), 0);
}
