//! Open now / closed / unknown across timezones, overnight hours, 24/7, DST and missing data.

use chrono::{DateTime, TimeZone, Utc};
use waypoint_directory::schedule::open_state;
use waypoint_directory::{OpenNow, Schedule};

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn weekly(days: &str, opens: &str, closes: &str, tz: Option<&str>) -> Schedule {
    Schedule {
        id: "s".into(),
        timezone: tz.map(str::to_owned),
        freq: Some("WEEKLY".into()),
        byday: Some(days.into()),
        opens_at: Some(opens.into()),
        closes_at: Some(closes.into()),
        ..Default::default()
    }
}

const WEEKDAYS: &str = "MO,TU,WE,TH,FR";

#[test]
fn office_hours_follow_the_services_own_timezone() {
    let ny = [weekly(WEEKDAYS, "09:00", "17:00", Some("America/New_York"))];
    let la = [weekly(WEEKDAYS, "09:00", "17:00", Some("America/Los_Angeles"))];
    // Monday 30 Nov 2026, 14:00 UTC = 09:00 in New York, 06:00 in Los Angeles.
    let now = at(2026, 11, 30, 14, 0);
    let s = open_state(&ny, None, now);
    assert_eq!(s.open_now, OpenNow::Open);
    assert_eq!(s.text, "open until 17:00");
    let s = open_state(&la, None, now);
    assert_eq!(s.open_now, OpenNow::Closed);
    assert_eq!(s.text, "closed, opens Mon 09:00");
    // One minute before opening in New York.
    assert_eq!(open_state(&ny, None, at(2026, 11, 30, 13, 59)).open_now, OpenNow::Closed);
    // Closing time is exclusive: 17:00 New York = 22:00 UTC.
    assert_eq!(open_state(&ny, None, at(2026, 11, 30, 21, 59)).open_now, OpenNow::Open);
    assert_eq!(open_state(&ny, None, at(2026, 11, 30, 22, 0)).open_now, OpenNow::Closed);
    // Saturday: closed, next opening Monday.
    let s = open_state(&ny, None, at(2026, 11, 28, 16, 0));
    assert_eq!((s.open_now, s.text.as_str()), (OpenNow::Closed, "closed, opens Mon 09:00"));
}

#[test]
fn daylight_saving_time_moves_the_utc_hours() {
    let ny = [weekly(WEEKDAYS, "09:00", "17:00", Some("America/New_York"))];
    // 13:00 UTC is 09:00 EDT in July (open) but 08:00 EST in January (closed).
    assert_eq!(open_state(&ny, None, at(2026, 7, 6, 13, 0)).open_now, OpenNow::Open);
    assert_eq!(open_state(&ny, None, at(2027, 1, 4, 13, 0)).open_now, OpenNow::Closed);
}

#[test]
fn overnight_hours_run_past_midnight() {
    let chi = [weekly("MO,TU,WE,TH,FR,SA,SU", "22:00", "06:00", Some("America/Chicago"))];
    // Saturday 28 Nov 2026 08:00 UTC = 02:00 in Chicago: open from Friday 22:00.
    let s = open_state(&chi, None, at(2026, 11, 28, 8, 0));
    assert_eq!((s.open_now, s.text.as_str()), (OpenNow::Open, "open until 06:00"));
    // 07:00 in Chicago: closed until 22:00.
    let s = open_state(&chi, None, at(2026, 11, 28, 13, 0));
    assert_eq!((s.open_now, s.text.as_str()), (OpenNow::Closed, "closed, opens Sat 22:00"));
    // 23:00 in Chicago: open.
    assert_eq!(open_state(&chi, None, at(2026, 11, 29, 5, 0)).open_now, OpenNow::Open);

    // Friday nights only: open early Saturday, closed early Sunday.
    let fri = [weekly("FR", "22:00", "06:00", Some("America/Chicago"))];
    assert_eq!(open_state(&fri, None, at(2026, 11, 28, 8, 0)).open_now, OpenNow::Open);
    assert_eq!(open_state(&fri, None, at(2026, 11, 29, 8, 0)).open_now, OpenNow::Closed);
}

#[test]
fn round_the_clock_is_open_24_7() {
    for (opens, closes) in [("00:00", "00:00"), ("00:00", "23:59"), ("00:00", "24:00")] {
        let s = [weekly("MO,TU,WE,TH,FR,SA,SU", opens, closes, Some("America/Denver"))];
        let state = open_state(&s, None, at(2026, 11, 28, 9, 30));
        assert_eq!(state.open_now, OpenNow::Open, "{opens}-{closes}");
        assert!(state.always_open);
        assert_eq!(state.text, "open 24/7");
    }
}

#[test]
fn unknown_is_never_shown_as_open() {
    let now = at(2026, 11, 30, 15, 0);
    // No schedule at all.
    assert_eq!(open_state(&[], Some("America/New_York"), now).open_now, OpenNow::Unknown);
    assert_eq!(open_state(&[], None, now).text, "hours unknown");
    // No timezone anywhere: can't tell what "09:00" means.
    let s = open_state(&[weekly(WEEKDAYS, "09:00", "17:00", None)], None, now);
    assert_eq!(s.open_now, OpenNow::Unknown);
    assert!(s.text.contains("no timezone"), "{}", s.text);
    // Unreadable times, unknown zones, a rule with no days.
    assert_eq!(
        open_state(&[weekly(WEEKDAYS, "9am", "5pm", Some("America/New_York"))], None, now).open_now,
        OpenNow::Unknown
    );
    assert_eq!(
        open_state(&[weekly(WEEKDAYS, "09:00", "17:00", Some("Mars/Olympus"))], None, now).open_now,
        OpenNow::Unknown
    );
    let no_days = Schedule { byday: None, ..weekly("", "09:00", "17:00", Some("America/New_York")) };
    assert_eq!(open_state(&[no_days], None, now).open_now, OpenNow::Unknown);
    // Only an opening time.
    let half = Schedule { closes_at: None, ..weekly(WEEKDAYS, "09:00", "", Some("America/New_York")) };
    assert_eq!(open_state(&[half], None, now).open_now, OpenNow::Unknown);
    // A schedule that expired.
    let old = Schedule {
        valid_to: Some("2005-01-01".into()),
        ..weekly(WEEKDAYS, "09:00", "17:00", Some("America/New_York"))
    };
    assert_eq!(open_state(&[old], None, now).open_now, OpenNow::Unknown);
    // One readable closed rule beside an unreadable one: unknown, not closed.
    let mixed = [
        weekly("SA", "09:00", "17:00", Some("America/New_York")),
        weekly(WEEKDAYS, "bad", "17:00", Some("America/New_York")),
    ];
    assert_eq!(open_state(&mixed, None, now).open_now, OpenNow::Unknown);
}

#[test]
fn location_timezone_and_hsds_numeric_offsets() {
    let now = at(2026, 11, 30, 14, 30); // 09:30 at UTC-5
                                        // The schedule has no zone: the location's applies.
    let s = [weekly(WEEKDAYS, "09:00", "17:00", None)];
    assert_eq!(open_state(&s, Some("America/New_York"), now).open_now, OpenNow::Open);
    assert_eq!(open_state(&s, Some("America/Los_Angeles"), now).open_now, OpenNow::Closed);
    // HSDS 3.0 writes the timezone as hours from UTC.
    assert_eq!(open_state(&[weekly(WEEKDAYS, "09:00", "17:00", Some("-5"))], None, now).open_now, OpenNow::Open);
    // 14:30 UTC is 17:30 at UTC+3: just closed.
    assert_eq!(open_state(&[weekly(WEEKDAYS, "09:00", "17:00", Some("3"))], None, now).open_now, OpenNow::Closed);
    assert_eq!(open_state(&[weekly(WEEKDAYS, "09:00", "18:00", Some("+3"))], None, now).open_now, OpenNow::Open);
    assert_eq!(open_state(&[weekly(WEEKDAYS, "09:00", "17:00", Some("-8"))], None, now).open_now, OpenNow::Closed);
}

#[test]
fn monthly_rules_and_split_days() {
    // First Monday of the month, 10:00-12:00 UTC.
    let first_monday = Schedule {
        id: "m".into(),
        timezone: Some("UTC".into()),
        freq: Some("MONTHLY".into()),
        byday: Some("1MO".into()),
        opens_at: Some("10:00".into()),
        closes_at: Some("12:00".into()),
        ..Default::default()
    };
    assert_eq!(open_state(std::slice::from_ref(&first_monday), None, at(2026, 12, 7, 11, 0)).open_now, OpenNow::Open);
    assert_eq!(open_state(&[first_monday], None, at(2026, 12, 14, 11, 0)).open_now, OpenNow::Closed);
    // Morning and afternoon sessions: closed over lunch.
    let split = [weekly(WEEKDAYS, "08:00", "12:00", Some("UTC")), weekly(WEEKDAYS, "13:00", "17:00", Some("UTC"))];
    assert_eq!(open_state(&split, None, at(2026, 11, 30, 12, 30)).text, "closed, opens Mon 13:00");
    assert_eq!(open_state(&split, None, at(2026, 11, 30, 13, 30)).open_now, OpenNow::Open);
}
