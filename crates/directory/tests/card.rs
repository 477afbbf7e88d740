//! What the officer hands over and how a typed address finds a place: resource cards (text, a QR
//! code that decodes back to that text), weekly hours in words, places from the directory.

use chrono::{TimeZone, Utc};
use waypoint_directory::card::{qr_modules, CRISIS_LINE};
use waypoint_directory::schedule::weekly_hours;
use waypoint_directory::store::LISTED;
use waypoint_directory::*;

fn record(key: &str, name: &str, lat: f64, lon: f64, street: &str, city: &str, zip: &str) -> ServiceRecord {
    let id = |kind: &str| stable_id(&["card", kind, key]);
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
            latitude: Some(lat),
            longitude: Some(lon),
            timezone: Some("America/Chicago".into()),
            ..Default::default()
        },
        address: Some(Address {
            id: id("address"),
            location_id: id("location"),
            address_1: street.into(),
            city: city.into(),
            state_province: "TX".into(),
            postal_code: zip.into(),
            country: "US".into(),
            address_type: "physical".into(),
            ..Default::default()
        }),
        phones: vec![Phone {
            id: id("phone"),
            service_id: Some(id("service")),
            number: "512-555-0100".into(),
            extension: Some("12".into()),
            ..Default::default()
        }],
        schedules: vec![Schedule {
            id: id("schedule"),
            service_id: Some(id("service")),
            freq: Some("WEEKLY".into()),
            byday: Some("MO,TU,WE,TH,FR".into()),
            opens_at: Some("08:00:00".into()),
            closes_at: Some("17:00:00".into()),
            ..Default::default()
        }],
        types: vec![("crisis_stabilization".to_string(), LISTED.to_string())],
        capacity: None,
    }
}

fn directory() -> (Directory, Vec<String>) {
    let mut dir = Directory::open_in_memory().unwrap();
    let records = vec![
        record("a", "Integral Care Crisis Center", 30.2672, -97.7431, "1165 Airport Blvd", "Austin", "78702"),
        record("b", "Travis County Detox", 30.30, -97.70, "501 W 15th St", "Austin", "78701"),
        record("c", "Round Rock Shelter", 30.5083, -97.6789, "200 Main St", "Round Rock", "78664-1234"),
    ];
    dir.put_records(&records, "test").unwrap();
    let ids = records.iter().map(|r| r.sal_id()).collect();
    (dir, ids)
}

fn decode(text: &str) -> String {
    let (width, cells) = qr_modules(text).unwrap();
    // Draw it as a camera would see it: 4 pixels a module and a white quiet zone of 4 modules.
    let (scale, quiet) = (4usize, 4usize);
    let size = (width + 2 * quiet) * scale;
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(size, size, |x, y| {
        let (mx, my) = (x / scale, y / scale);
        if mx < quiet || my < quiet || mx >= width + quiet || my >= width + quiet {
            return 255;
        }
        if cells[(my - quiet) * width + (mx - quiet)] {
            0
        } else {
            255
        }
    });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the picture");
    grids[0].decode().unwrap().1
}

#[test]
fn a_card_holds_name_address_phone_hours_and_its_qr_code_decodes_to_the_same_text() {
    let (dir, ids) = directory();
    let now = Utc.with_ymd_and_hms(2026, 11, 28, 8, 0, 0).unwrap();
    let card = dir.resource_card(&ids[..2], now).unwrap();
    assert_eq!(card.entries.len(), 2);
    let first = &card.entries[0];
    assert_eq!(first.name, "Integral Care Crisis Center");
    assert_eq!(first.address.as_deref(), Some("1165 Airport Blvd, Austin, TX 78702"));
    assert_eq!(first.phones, vec!["512-555-0100 ext. 12".to_string()]);
    assert_eq!(first.hours, "Mon, Tue, Wed, Thu, Fri 08:00-17:00");
    assert!(card.text.contains("Travis County Detox"));
    assert!(card.text.ends_with(CRISIS_LINE), "the crisis line is always on the card");
    assert!(card.qr_svg.contains("<svg"));
    assert_eq!(decode(&card.text), card.text);
}

#[test]
fn a_card_refuses_no_services_too_many_and_unknown_ids_by_name() {
    let (dir, ids) = directory();
    let now = Utc::now();
    let empty = dir.resource_card(&[], now).unwrap_err();
    assert!(matches!(&empty, Error::Validation { field, .. } if field == "services"), "{empty:?}");
    let six: Vec<String> = std::iter::repeat_n(ids[0].clone(), 6).collect();
    assert!(dir.resource_card(&six, now).unwrap_err().to_string().contains("at most 5"));
    let unknown = dir.resource_card(&["no-such-service".to_string()], now).unwrap_err();
    assert!(unknown.to_string().contains("no-such-service"), "{unknown}");
}

#[test]
fn weekly_hours_say_what_the_schedule_says_and_never_invent_hours() {
    assert_eq!(weekly_hours(&[]), "Hours not listed: call first");
    let always = Schedule {
        id: "s".into(),
        freq: Some("WEEKLY".into()),
        byday: Some("MO,TU,WE,TH,FR,SA,SU".into()),
        opens_at: Some("00:00".into()),
        closes_at: Some("23:59".into()),
        ..Default::default()
    };
    assert_eq!(weekly_hours(&[always]), "Open 24 hours, every day");
    let overnight = Schedule {
        id: "n".into(),
        freq: Some("WEEKLY".into()),
        byday: Some("FR,SA".into()),
        opens_at: Some("22:00".into()),
        closes_at: Some("06:00".into()),
        ..Default::default()
    };
    assert_eq!(weekly_hours(&[overnight]), "Fri, Sat 22:00-06:00");
    let described = Schedule { id: "d".into(), description: Some("By appointment".into()), ..Default::default() };
    assert_eq!(weekly_hours(&[described]), "By appointment");
}

#[test]
fn typed_zip_city_and_street_find_places_from_the_directory() {
    let (dir, _) = directory();
    let zip = dir.find_places("78702", 10).unwrap();
    assert_eq!(zip.len(), 1);
    assert_eq!(zip[0].kind, "postal_code");
    assert!((zip[0].latitude - 30.2672).abs() < 1e-6);

    let zip_plus_four = dir.find_places("78664", 10).unwrap();
    assert_eq!(zip_plus_four.len(), 1, "a ZIP+4 address matches its five-digit ZIP");
    assert!(zip_plus_four[0].label.starts_with("78664 (Round Rock"), "{}", zip_plus_four[0].label);
    assert!(dir.find_places("99999", 10).unwrap().is_empty());

    let city = dir.find_places("austin, tx", 10).unwrap();
    assert_eq!(city.len(), 1, "{city:?}");
    assert_eq!(city[0].locations, 2, "a city's centre is the mean of its locations");
    assert!((city[0].latitude - (30.2672 + 30.30) / 2.0).abs() < 1e-6);
    assert!(dir.find_places("Round", 10).unwrap().iter().any(|p| p.label.starts_with("Round Rock")));

    let street = dir.find_places("501 W 15", 10).unwrap();
    assert_eq!(street.len(), 1);
    assert_eq!(street[0].kind, "address");
    assert!(street[0].label.contains("501 W 15th St"));

    assert!(dir.find_places("Nowhere", 10).unwrap().is_empty());
    assert!(dir.find_places("%_", 10).unwrap().is_empty(), "LIKE wildcards are matched literally");
}

#[test]
fn service_detail_gives_distance_from_the_officer() {
    let (dir, ids) = directory();
    let detail = dir.service_detail(&ids[2], Some((30.2672, -97.7431)), Utc::now()).unwrap();
    assert_eq!(detail.name, "Round Rock Shelter");
    assert!((15.0..20.0).contains(&detail.distance_miles), "{}", detail.distance_miles);
    assert_eq!(detail.phones[0].number, "512-555-0100");
}
