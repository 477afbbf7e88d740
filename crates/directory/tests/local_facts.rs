//! Local facts laid over a service's document reach a device as an ordinary directory change, and
//! its ranking uses them: a service the agency knows takes drop-offs around the clock ranks above
//! a nearer one nobody knows about, and shows the officers' note and the intake phone first.

use chrono::{TimeZone, Utc};
use serde_json::json;
use waypoint_directory::local_facts::{check, overlay};
use waypoint_directory::store::LISTED;
use waypoint_directory::*;
use waypoint_protocol::{Change, ChangeKind, LocalFacts, LocalHours, WeeklyPeriod};

const HERE: (f64, f64) = (39.9612, -82.9988);

fn detox(key: &str, name: &str, miles: f64) -> ServiceRecord {
    let id = |kind: &str| stable_id(&["test", kind, key]);
    ServiceRecord {
        organization: Organization { id: id("org"), name: format!("{name} Inc"), ..Default::default() },
        service: Service {
            id: id("service"),
            organization_id: id("org"),
            name: name.into(),
            status: "active".into(),
            ..Default::default()
        },
        location: Location {
            id: id("location"),
            location_type: "physical".into(),
            latitude: Some(HERE.0 + miles / 69.0),
            longitude: Some(HERE.1),
            ..Default::default()
        },
        phones: vec![Phone {
            id: id("phone"),
            service_id: Some(id("service")),
            number: "614-555-0100".into(),
            kind: Some("voice".into()),
            ..Default::default()
        }],
        types: vec![("detox".into(), LISTED.into())],
        ..Default::default()
    }
}

fn known() -> LocalFacts {
    LocalFacts {
        accepts_dropoffs: Some(true),
        hours: Some(LocalHours::AlwaysOpen),
        intake_phone: Some("614-555-0199".into()),
        officer_note: Some("Call ahead; use the ambulance bay.".into()),
    }
}

#[test]
fn a_device_ranks_by_the_local_facts_it_receives() {
    // The server's directory: two detox units with nothing known of hours or drop-offs.
    let mut server = Directory::open_in_memory().unwrap();
    let near = detox("near", "Riverside Detox", 1.0);
    let far = detox("far", "Parkside Detox", 4.0);
    server.put_records(&[near.clone(), far.clone()], "test").unwrap();
    let mut device = Directory::open_in_memory().unwrap();
    let page: Vec<Change> = server
        .export_hsds(None)
        .unwrap()
        .into_iter()
        .enumerate()
        .map(|(i, doc)| Change {
            seq: i as u64 + 1,
            kind: ChangeKind::DirectoryUpsert,
            key: doc["id"].as_str().unwrap().into(),
            body: doc,
        })
        .collect();
    device.apply_feed_changes(&page).unwrap();
    let request =
        SuggestionRequest { lat: HERE.0, lon: HERE.1, substances: vec!["alcohol".into()], ..Default::default() };
    let at_2am = Utc.with_ymd_and_hms(2026, 11, 28, 7, 0, 0).unwrap();
    let before = device.suggest(&request, at_2am).unwrap();
    assert_eq!(before[0].name, "Riverside Detox", "nearer first when nothing is known");
    assert!(before[1].why.contains("police drop-offs unknown"), "{}", before[1].why);

    // The agency's facts about the farther one, laid over its document and sent as a change.
    let mut doc = server.export_service(&far.service.id).unwrap();
    overlay(&mut doc, &check(&known()).unwrap());
    let change = Change { seq: 3, kind: ChangeKind::DirectoryUpsert, key: far.service.id.clone(), body: doc };
    let report = device.apply_feed_changes(&[change]).unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);

    let after = device.suggest(&request, at_2am).unwrap();
    let first = &after[0];
    assert_eq!(first.name, "Parkside Detox", "{after:?}");
    assert_eq!(first.law_enforcement_dropoff, Some(true));
    assert_eq!(first.hours, "open 24/7");
    assert!(first.why.contains("takes police drop-offs"), "{}", first.why);
    assert_eq!(first.officer_note.as_deref(), Some("Call ahead; use the ambulance bay."));
    assert_eq!(first.phones[0].number, "614-555-0199", "the intake phone first");
    assert_eq!(after[1].officer_note, None);
}

#[test]
fn the_overlay_is_stable_and_leaves_what_is_not_known_alone() {
    let mut server = Directory::open_in_memory().unwrap();
    let record = detox("one", "Riverside Detox", 1.0);
    server.put_records(std::slice::from_ref(&record), "test").unwrap();
    let listed = server.export_service(&record.service.id).unwrap();
    let facts = check(&known()).unwrap();
    let once = {
        let mut doc = listed.clone();
        overlay(&mut doc, &facts);
        doc
    };
    let twice = {
        let mut doc = once.clone();
        overlay(&mut doc, &facts);
        doc
    };
    assert_eq!(waypoint_protocol::content_hash(&once), waypoint_protocol::content_hash(&twice), "idempotent");
    let mut nothing = listed.clone();
    overlay(&mut nothing, &LocalFacts::default());
    assert_eq!(nothing, listed, "no facts, no change");
    let mut only_note = listed.clone();
    overlay(&mut only_note, &LocalFacts { officer_note: Some("Side door".into()), ..Default::default() });
    assert_eq!(only_note["phones"], listed["phones"]);
    assert_eq!(only_note["schedules"], listed["schedules"]);
}

#[test]
fn facts_are_checked_and_tidied() {
    let weekly = |days: &[&str], opens: &str, closes: &str, zone: Option<&str>| LocalFacts {
        hours: Some(LocalHours::Weekly {
            periods: vec![WeeklyPeriod {
                days: days.iter().map(|d| d.to_string()).collect(),
                opens_at: opens.into(),
                closes_at: closes.into(),
            }],
            timezone: zone.map(str::to_owned),
        }),
        ..Default::default()
    };
    let tidy = check(&weekly(&["fr", "mo", "MO"], "08:00", "17:00", Some(" America/Chicago "))).unwrap();
    let Some(LocalHours::Weekly { periods, timezone }) = tidy.hours else { panic!() };
    assert_eq!(periods[0].days, vec!["MO", "FR"], "upper case, week order, once each");
    assert_eq!(timezone.as_deref(), Some("America/Chicago"));
    assert!(check(&weekly(&["MO"], "22:00", "06:00", Some("America/Chicago"))).is_ok(), "past midnight");
    for (facts, field) in [
        (weekly(&["MO"], "8am", "17:00", Some("America/Chicago")), "hours.periods.0.opens_at"),
        (weekly(&["MO"], "08:00", "08:00", Some("America/Chicago")), "hours.periods.0.closes_at"),
        (weekly(&[], "08:00", "17:00", Some("America/Chicago")), "hours.periods.0.days"),
        (weekly(&["MO"], "08:00", "17:00", None), "hours.timezone"),
        (
            LocalFacts { intake_phone: Some("+1 (614) 555-0199 ext 2; rm -rf".into()), ..Default::default() },
            "intake_phone",
        ),
        (LocalFacts { officer_note: Some("\u{0}".into()), ..Default::default() }, "officer_note"),
    ] {
        assert_eq!(check(&facts).unwrap_err().field, field, "{facts:?}");
    }
    let blank =
        check(&LocalFacts { intake_phone: Some("  ".into()), officer_note: Some("".into()), ..Default::default() });
    assert!(blank.unwrap().is_empty(), "blank text is not a fact");
    assert_eq!(json!(LocalHours::AlwaysOpen), json!({"kind": "always_open"}));
}

#[test]
fn an_admin_finds_services_without_a_place_on_the_map() {
    let examples = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/hsds-3.0/examples/csv");
    let mut dir = Directory::open_in_memory().unwrap();
    dir.import_hsds_package(&examples).unwrap();
    // The example's coordinates are out of range: no place on the map, still found by name.
    let found = dir.find_services("counselling", 10).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].name, "Community Counselling");
    assert!(dir.find_services("\" OR 1=1 --", 10).unwrap().is_empty(), "words, never FTS syntax");
    assert!(dir.find_services("", 10).unwrap().is_empty());
}
