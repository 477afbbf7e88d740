//! Ranking: the right help for this person now, first.

use chrono::{DateTime, Duration, TimeZone, Utc};
use waypoint_directory::store::{INFERRED, LISTED};
use waypoint_directory::*;

const TZ: &str = "America/New_York";
// Columbus, Ohio.
const HERE: (f64, f64) = (39.9612, -82.9988);

fn saturday_2am() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 7, 0, 0).unwrap() // 02:00 EST
}

/// A service `miles` north of HERE.
fn service(key: &str, name: &str, miles: f64, types: &[&str]) -> ServiceRecord {
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
            timezone: Some(TZ.into()),
            ..Default::default()
        },
        address: Some(Address {
            id: id("address"),
            location_id: id("location"),
            address_1: "1 High Street".into(),
            city: "Columbus".into(),
            state_province: "OH".into(),
            postal_code: "43215".into(),
            country: "US".into(),
            address_type: "physical".into(),
            ..Default::default()
        }),
        phones: vec![Phone {
            id: id("phone"),
            service_id: Some(id("service")),
            number: "614-555-0100".into(),
            kind: Some("voice".into()),
            ..Default::default()
        }],
        schedules: Vec::new(),
        types: types.iter().map(|t| (t.to_string(), LISTED.to_string())).collect(),
        capacity: None,
    }
}

fn hours(mut r: ServiceRecord, days: &str, opens: &str, closes: &str) -> ServiceRecord {
    r.schedules.push(Schedule {
        id: stable_id(&["test", "schedule", &r.service.id, days, opens]),
        service_id: Some(r.service.id.clone()),
        freq: Some("WEEKLY".into()),
        byday: Some(days.into()),
        opens_at: Some(opens.into()),
        closes_at: Some(closes.into()),
        ..Default::default()
    });
    r
}

fn dropoff(mut r: ServiceRecord, yes: bool) -> ServiceRecord {
    r.service.law_enforcement_dropoff = Some(yes);
    r
}

const ALL_WEEK: &str = "MO,TU,WE,TH,FR,SA,SU";

fn directory() -> Directory {
    let mut dir = Directory::open_in_memory().unwrap();
    let records = vec![
        // Open 24/7 crisis unit with detox that takes police drop-offs, 6 miles away.
        dropoff(
            hours(
                service("csu", "Franklin Crisis Stabilization Unit", 6.0, &["crisis_stabilization", "detox"]),
                ALL_WEEK,
                "00:00",
                "00:00",
            ),
            true,
        ),
        // Outpatient office, much closer, closed at 02:00 on a Saturday.
        hours(
            service("opd", "Downtown Counseling Office", 0.5, &["outpatient", "mental_health", "substance_use"]),
            "MO,TU,WE,TH,FR",
            "08:00",
            "17:00",
        ),
        // Youth-only crisis centre, very close: not for an adult.
        {
            let mut r = hours(
                service("youth", "Youth Crisis Center", 0.3, &["crisis_stabilization", "youth"]),
                ALL_WEEK,
                "00:00",
                "00:00",
            );
            r.service.minimum_age = Some(0.0);
            r.service.maximum_age = Some(17.0);
            r
        },
        // A crisis centre beyond 25 miles.
        dropoff(
            hours(service("far", "Faraway Crisis Center", 40.0, &["crisis_stabilization"]), ALL_WEEK, "00:00", "00:00"),
            true,
        ),
        // A closed-down crisis centre nearby.
        {
            let mut r = service("gone", "Closed Crisis Center", 1.0, &["crisis_stabilization"]);
            r.service.status = "defunct".into();
            r
        },
        // Detox with unknown hours, 3 miles.
        service("detox", "Riverside Detox", 3.0, &["detox", "substance_use"]),
        // A shelter: matches nothing this person needs.
        hours(service("shelter", "Night Shelter", 0.2, &["shelter"]), ALL_WEEK, "20:00", "08:00"),
    ];
    dir.put_records(&records, "test").unwrap();
    dir
}

fn adult_suicidal_intoxicated() -> SuggestionRequest {
    SuggestionRequest {
        lat: HERE.0,
        lon: HERE.1,
        behaviours: vec!["suicide_threat".into()],
        substances: vec!["alcohol".into()],
        age_band: Some("25_44".into()),
        ..Default::default()
    }
}

fn names(v: &[Suggestion]) -> Vec<&str> {
    v.iter().map(|s| s.name.as_str()).collect()
}

#[test]
fn intoxicated_suicidal_adult_at_2am_gets_the_open_crisis_unit_that_takes_police_first() {
    let dir = directory();
    let out = dir.suggest(&adult_suicidal_intoxicated(), saturday_2am()).unwrap();
    let first = &out[0];
    assert_eq!(first.name, "Franklin Crisis Stabilization Unit", "{:#?}", names(&out));
    assert_eq!(first.open_now, OpenNow::Open);
    assert_eq!(first.hours, "open 24/7");
    assert_eq!(first.law_enforcement_dropoff, Some(true));
    assert_eq!(first.rank, 1);
    assert!((first.distance_miles - 6.0).abs() < 0.2, "{}", first.distance_miles);
    assert_eq!(first.phones[0].number, "614-555-0100");
    assert!(first.why.contains("crisis stabilization for suicide threat"), "{}", first.why);
    assert!(first.why.contains("takes police drop-offs"), "{}", first.why);
    assert!(first.types.contains(&"detox".to_string()));

    // The nearer outpatient office is closed at 02:00: it ranks below, and says so.
    let office = out.iter().position(|s| s.name == "Downtown Counseling Office").expect("office listed");
    let detox = out.iter().position(|s| s.name == "Riverside Detox").expect("detox listed");
    assert!(detox < office, "{:?}", names(&out));
    assert_eq!(out[office].open_now, OpenNow::Closed);
    assert_eq!(out[office].hours, "closed, opens Mon 08:00");
    // Unknown hours are shown as unknown, never as open.
    assert_eq!(out[detox].open_now, OpenNow::Unknown);
    assert!(out[detox].why.contains("hours unknown"), "{}", out[detox].why);
    assert!(out[detox].why.contains("police drop-offs unknown"), "{}", out[detox].why);

    // Not for this person, too far, closed down, or no match.
    for absent in ["Youth Crisis Center", "Faraway Crisis Center", "Closed Crisis Center", "Night Shelter"] {
        assert!(!names(&out).contains(&absent), "{absent} in {:?}", names(&out));
    }
}

#[test]
fn in_office_hours_the_office_is_open_but_the_crisis_unit_still_leads_for_a_suicide_threat() {
    let dir = directory();
    let monday_10am = Utc.with_ymd_and_hms(2026, 11, 30, 15, 0, 0).unwrap();
    let out = dir.suggest(&adult_suicidal_intoxicated(), monday_10am).unwrap();
    assert_eq!(out[0].name, "Franklin Crisis Stabilization Unit");
    let office = out.iter().find(|s| s.name == "Downtown Counseling Office").unwrap();
    assert_eq!(office.open_now, OpenNow::Open);
    assert_eq!(office.hours, "open until 17:00");
}

#[test]
fn the_youth_centre_is_offered_to_a_teenager_and_the_shelter_to_someone_who_needs_one() {
    let dir = directory();
    let teen = SuggestionRequest {
        behaviours: vec!["suicide_threat".into()],
        substances: vec![],
        age_band: Some("13_17".into()),
        ..adult_suicidal_intoxicated()
    };
    let out = dir.suggest(&teen, saturday_2am()).unwrap();
    assert_eq!(out[0].name, "Youth Crisis Center", "{:?}", names(&out));
    let shelter = SuggestionRequest { needs: vec!["shelter".into()], ..Default::default() };
    let out = dir.suggest(&SuggestionRequest { lat: HERE.0, lon: HERE.1, ..shelter }, saturday_2am()).unwrap();
    assert_eq!(names(&out), vec!["Night Shelter"]);
    assert_eq!(out[0].hours, "open until 08:00");
}

#[test]
fn capacity_shows_its_age_and_a_full_unit_drops() {
    let mut dir = directory();
    let csu = stable_id(&["test", "service", "csu"]);
    let now = saturday_2am();
    dir.set_capacity(&ServiceCapacity {
        id: stable_id(&["capacity", &csu]),
        service_id: csu.clone(),
        unit: "beds".into(),
        available: 4,
        maximum: Some(12),
        updated_at: now - Duration::hours(2),
    })
    .unwrap();
    let out = dir.suggest(&adult_suicidal_intoxicated(), now).unwrap();
    let cap = out[0].capacity.as_ref().expect("capacity shown");
    assert_eq!(cap.text, "4 of 12 beds, as of 2 h ago");
    assert!(!cap.stale);
    assert!(out[0].why.contains("4 of 12 beds, as of 2 h ago"), "{}", out[0].why);
    let with_beds = out[0].score;

    dir.set_capacity(&ServiceCapacity {
        id: stable_id(&["capacity", &csu]),
        service_id: csu.clone(),
        unit: "beds".into(),
        available: 0,
        maximum: Some(12),
        updated_at: now - Duration::minutes(10),
    })
    .unwrap();
    let out = dir.suggest(&adult_suicidal_intoxicated(), now).unwrap();
    let unit = out.iter().find(|s| s.service_id == csu).unwrap();
    assert!(unit.score < with_beds);
    assert_eq!(unit.capacity.as_ref().unwrap().text, "0 of 12 beds, as of 10 min ago");

    // A day-old count is shown as stale and does not move the ranking.
    dir.set_capacity(&ServiceCapacity {
        id: stable_id(&["capacity", &csu]),
        service_id: csu.clone(),
        unit: "beds".into(),
        available: 0,
        maximum: Some(12),
        updated_at: now - Duration::hours(30),
    })
    .unwrap();
    let out = dir.suggest(&adult_suicidal_intoxicated(), now).unwrap();
    let unit = out.iter().find(|s| s.service_id == csu).unwrap();
    assert!(unit.capacity.as_ref().unwrap().stale);
    assert!(unit.why.contains("(stale)"));
}

#[test]
fn index_and_full_scan_agree_and_limit_and_radius_apply() {
    let dir = directory();
    let now = saturday_2am();
    for req in [
        adult_suicidal_intoxicated(),
        SuggestionRequest { lat: HERE.0, lon: HERE.1, needs: vec!["outpatient".into()], ..Default::default() },
        SuggestionRequest { lat: HERE.0, lon: HERE.1, ..Default::default() },
    ] {
        let a = dir.suggest_with(dir.rules(), &req, now, Strategy::Indexed).unwrap();
        let b = dir.suggest_with(dir.rules(), &req, now, Strategy::FullScan).unwrap();
        let c = dir.suggest_with(dir.rules(), &req, now, Strategy::RTree).unwrap();
        assert!(!a.is_empty());
        assert_eq!(a, b);
        assert_eq!(a, c);
    }
    let one = SuggestionRequest { limit: Some(1), ..adult_suicidal_intoxicated() };
    assert_eq!(dir.suggest(&one, now).unwrap().len(), 1);
    let wide = SuggestionRequest { radius_miles: Some(50.0), ..adult_suicidal_intoxicated() };
    assert!(names(&dir.suggest(&wide, now).unwrap()).contains(&"Faraway Crisis Center"));
    let unknown_need = SuggestionRequest { needs: vec!["spaceship".into()], ..adult_suicidal_intoxicated() };
    assert!(dir.suggest(&unknown_need, now).is_err());
}

#[test]
fn weights_come_from_the_rules_file_not_code() {
    let mut dir = directory();
    let req = SuggestionRequest { needs: vec!["outpatient".into()], ..adult_suicidal_intoxicated() };
    assert_eq!(dir.suggest(&req, saturday_2am()).unwrap()[0].name, "Franklin Crisis Stabilization Unit");
    // An agency that weighs outpatient care far above crisis care, and ignores hours.
    let mut rules = SuggestionRules::from_json(waypoint_directory::suggest::DEFAULT_RULES_JSON).unwrap();
    rules.behaviours.clear();
    rules.substances.clear();
    rules.needs.get_mut("outpatient").unwrap().insert("outpatient".into(), 50.0);
    rules.scoring.closed = 0.0;
    dir.set_rules(rules);
    assert_eq!(dir.suggest(&req, saturday_2am()).unwrap()[0].name, "Downtown Counseling Office");
    // Rules naming a service type that does not exist are refused.
    let bad = waypoint_directory::suggest::DEFAULT_RULES_JSON.replace("\"shelter\": 10", "\"shelterz\": 10");
    assert!(SuggestionRules::from_json(&bad).is_err());
}

#[test]
fn a_type_guessed_from_the_name_says_so() {
    let mut dir = Directory::open_in_memory().unwrap();
    let mut r = service("guess", "Eastside Detox House", 2.0, &[]);
    r.types = vec![("detox".into(), INFERRED.into()), ("substance_use".into(), LISTED.into())];
    dir.put_records(&[r], "test").unwrap();
    let out = dir.suggest(&adult_suicidal_intoxicated(), saturday_2am()).unwrap();
    assert!(out[0].why.starts_with("detox / withdrawal management (going by its name) for alcohol"), "{}", out[0].why);
}

#[test]
fn name_search_uses_fts5() {
    let dir = directory();
    let hits = dir.search_by_name("crisis stab", 10).unwrap();
    assert_eq!(hits[0].name, "Franklin Crisis Stabilization Unit");
    assert!(dir.search_by_name("riverside", 10).unwrap().iter().any(|h| h.name == "Riverside Detox"));
    // FTS syntax in user input is just text.
    assert!(dir.search_by_name("\"unbalanced AND (", 10).is_ok());
    assert!(dir.search_by_name("zzzzqqq", 10).unwrap().is_empty());
}

#[test]
fn a_name_search_from_a_position_says_how_far_each_hit_is() {
    let dir = directory();
    let near = dir.search_by_name_near("riverside", Some(HERE), 10).unwrap();
    let hit = near.iter().find(|h| h.name == "Riverside Detox").unwrap();
    let expected = waypoint_directory::suggest::haversine_miles(HERE.0, HERE.1, hit.latitude, hit.longitude);
    assert!(expected > 0.1, "the fixture service is away from HERE");
    assert_eq!(hit.distance_miles, Some(expected));
    assert!(dir.search_by_name("riverside", 10).unwrap().iter().all(|h| h.distance_miles.is_none()));
}

#[test]
fn national_directory_answers_for_a_real_city() {
    let mut dir = Directory::open_in_memory().unwrap();
    dir.ensure_national_directory().unwrap();
    // Denver, Colorado.
    let req = SuggestionRequest { lat: 39.7392, lon: -104.9903, ..adult_suicidal_intoxicated() };
    let out = dir.suggest(&req, saturday_2am()).unwrap();
    assert_eq!(out.len(), 10);
    for s in &out {
        assert!(s.distance_miles <= 25.0);
        // SAMHSA lists no hours and no drop-off policy: both stay unknown.
        assert_eq!(s.open_now, OpenNow::Unknown);
        assert_eq!(s.law_enforcement_dropoff, None);
        assert!(s.address.as_deref().unwrap_or("").contains(", CO "), "{:?}", s.address);
    }
    assert!(out.windows(2).all(|w| w[0].score >= w[1].score));
    let top_types = &out[0].types;
    assert!(
        top_types
            .iter()
            .any(|t| ["crisis_stabilization", "psychiatric_emergency", "detox", "hospital"].contains(&t.as_str())),
        "{top_types:?}"
    );
}

#[test]
fn changed_hours_and_ages_are_ranked_by_at_once() {
    // Ranking reads hours and age ranges from memory: a write must refresh them.
    let mut dir = directory();
    let req = adult_suicidal_intoxicated();
    let office = |out: &[Suggestion]| out.iter().find(|s| s.name == "Downtown Counseling Office").cloned();
    assert_eq!(office(&dir.suggest(&req, saturday_2am()).unwrap()).unwrap().open_now, OpenNow::Closed);
    let mut open_all_night =
        service("opd", "Downtown Counseling Office", 0.5, &["outpatient", "mental_health", "substance_use"]);
    open_all_night = hours(open_all_night, ALL_WEEK, "00:00", "00:00");
    dir.put_records(&[open_all_night], "test").unwrap();
    let now_open = office(&dir.suggest(&req, saturday_2am()).unwrap()).expect("office listed");
    assert_eq!(now_open.open_now, OpenNow::Open);
    assert_eq!(now_open.hours, "open 24/7");

    let mut youth_only =
        service("opd", "Downtown Counseling Office", 0.5, &["outpatient", "mental_health", "substance_use"]);
    youth_only = hours(youth_only, ALL_WEEK, "00:00", "00:00");
    youth_only.service.maximum_age = Some(17.0);
    dir.put_records(&[youth_only], "test").unwrap();
    assert!(office(&dir.suggest(&req, saturday_2am()).unwrap()).is_none(), "youth-only office offered to an adult");
}
