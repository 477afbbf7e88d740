//! The local facts an agency keeps about a service (drop-offs, hours or 24/7, an intake phone, a
//! note for officers), checked, and laid over the service's HSDS document as HSDS content: the
//! drop-off attribute, schedules, a phone and a note attribute. Devices apply the document like
//! any other, so their ranking (drop-offs, open now, 24/7) and cards use the facts with no other
//! change. The overlay is a pure function of the listing's document and the facts, with stable
//! ids: the same listing and facts give the same document (and content hash) every time, so a
//! re-import of unchanged national data publishes nothing, and a changed listing keeps its facts.

use serde_json::{json, Map, Value};
use waypoint_protocol::{LocalFacts, LocalHours};

use crate::hsds::DROPOFF_CODE;
use crate::store::{stable_id, SERVICE_TYPE_TAXONOMY};

/// The taxonomy of the terms local facts add besides the drop-off one.
pub const LOCAL_TAXONOMY: &str = "waypoint_local";
/// The taxonomy-term code of the officers' note attribute (its value is the note).
pub const OFFICER_NOTE_CODE: &str = "waypoint_officer_note";
/// The description of the intake phone a local fact adds.
pub const INTAKE_PHONE_DESCRIPTION: &str = "Intake (agency-verified)";

pub const MAX_NOTE_CHARS: usize = 500;
const MAX_PERIODS: usize = 21;
const DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// What is wrong with a set of local facts: the field (dotted path) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactProblem {
    pub field: String,
    pub message: String,
}

fn problem(field: &str, message: impl Into<String>) -> FactProblem {
    FactProblem { field: field.into(), message: message.into() }
}

fn printable(text: &str) -> bool {
    !text.chars().any(|c| c.is_control() && c != '\n')
}

fn is_time(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() != 5 || b[2] != b':' || !text[..2].bytes().chain(text[3..].bytes()).all(|c| c.is_ascii_digit()) {
        return false;
    }
    let (h, m): (u32, u32) = (text[..2].parse().unwrap_or(99), text[3..].parse().unwrap_or(99));
    (h < 24 && m < 60) || text == "24:00"
}

/// Checks facts an admin typed. Returns them tidied (trimmed, days upper-case, empty text as absent).
pub fn check(facts: &LocalFacts) -> Result<LocalFacts, FactProblem> {
    let mut tidy = facts.clone();
    tidy.intake_phone = facts.intake_phone.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned);
    if let Some(phone) = &tidy.intake_phone {
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        let allowed = phone.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
        if !allowed || !(3..=15).contains(&digits) || phone.chars().count() > 32 {
            return Err(problem("intake_phone", "a phone number: digits, spaces, + - ( ) . (3 to 15 digits)"));
        }
    }
    tidy.officer_note = facts.officer_note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
    if let Some(note) = &tidy.officer_note {
        if note.chars().count() > MAX_NOTE_CHARS || !printable(note) {
            return Err(problem("officer_note", format!("at most {MAX_NOTE_CHARS} printable characters")));
        }
    }
    if let Some(LocalHours::Weekly { periods, timezone }) = &mut tidy.hours {
        if periods.is_empty() || periods.len() > MAX_PERIODS {
            return Err(problem("hours.periods", format!("1 to {MAX_PERIODS} periods (or open 24/7)")));
        }
        // Required: national listings carry no time zone a device could read the hours in.
        match timezone.as_deref().map(str::trim) {
            Some(zone) if zone.parse::<chrono_tz::Tz>().is_ok() => *timezone = Some(zone.to_owned()),
            _ => return Err(problem("hours.timezone", "an IANA time zone name, e.g. America/Chicago")),
        }
        for (i, period) in periods.iter_mut().enumerate() {
            let field = |name: &str| format!("hours.periods.{i}.{name}");
            period.days = period.days.iter().map(|d| d.trim().to_ascii_uppercase()).collect();
            if period.days.is_empty() || period.days.iter().any(|d| !DAYS.contains(&d.as_str())) {
                return Err(problem(&field("days"), "one or more of MO, TU, WE, TH, FR, SA, SU"));
            }
            period.days.sort_by_key(|d| DAYS.iter().position(|x| x == d));
            period.days.dedup();
            for (name, time) in [("opens_at", &period.opens_at), ("closes_at", &period.closes_at)] {
                if !is_time(time) {
                    return Err(problem(&field(name), "a time HH:MM (00:00 to 24:00)"));
                }
            }
            if period.opens_at == period.closes_at {
                return Err(problem(&field("closes_at"), "closes at the time it opens: use open 24/7 instead"));
            }
        }
    }
    Ok(tidy)
}

fn objects<'a>(doc: &'a mut Map<String, Value>, key: &str) -> &'a mut Vec<Value> {
    let slot = doc.entry(key.to_string()).or_insert_with(|| Value::Array(Vec::new()));
    if !slot.is_array() {
        *slot = Value::Array(Vec::new());
    }
    slot.as_array_mut().expect("made an array above")
}

fn term_code(attribute: &Value) -> Option<&str> {
    attribute.get("taxonomy_term").and_then(|t| t.get("code")).and_then(Value::as_str)
}

/// The schedules `hours` stands for, linked by `link` (`service_id` or `service_at_location_id`) to `id`.
fn schedules(hours: &LocalHours, link: &str, id: &str, zone: Option<&str>) -> Vec<Value> {
    let all_days = DAYS.join(",");
    let periods: Vec<(String, &str, &str)> = match hours {
        LocalHours::AlwaysOpen => vec![(all_days, "00:00", "23:59")],
        LocalHours::Weekly { periods, .. } => {
            periods.iter().map(|p| (p.days.join(","), p.opens_at.as_str(), p.closes_at.as_str())).collect()
        }
    };
    periods
        .into_iter()
        .enumerate()
        .map(|(i, (days, opens, closes))| {
            let mut s = json!({
                "id": stable_id(&["local-hours", id, &i.to_string()]),
                link: id,
                "freq": "WEEKLY",
                "interval": 1,
                "byday": days,
                "opens_at": opens,
                "closes_at": closes,
            });
            if matches!(hours, LocalHours::AlwaysOpen) {
                s["description"] = json!("Open 24 hours, every day (agency-verified)");
            }
            if let Some(zone) = zone {
                s["timezone"] = json!(zone);
            }
            s
        })
        .collect()
}

/// Lays `facts` over one service's HSDS document (as [`crate::Directory::export_hsds`] writes
/// it). Facts left absent leave the listing's content as it is.
pub fn overlay(doc: &mut Value, facts: &LocalFacts) {
    let Some(service) = doc.as_object_mut() else { return };
    let Some(service_id) = service.get("id").and_then(Value::as_str).map(str::to_owned) else { return };
    if let Some(yes) = facts.accepts_dropoffs {
        let term_id = stable_id(&[SERVICE_TYPE_TAXONOMY, DROPOFF_CODE]);
        let attributes = objects(service, "attributes");
        attributes.retain(|a| term_code(a) != Some(DROPOFF_CODE) && a.get("taxonomy_term_id") != Some(&json!(term_id)));
        attributes.push(json!({
            "id": stable_id(&["attribute", &service_id, &term_id]),
            "link_id": service_id, "link_type": "service", "link_entity": "service",
            "taxonomy_term_id": term_id, "value": if yes { "yes" } else { "no" },
            "taxonomy_term": {
                "id": term_id, "code": DROPOFF_CODE, "name": "takes law-enforcement drop-offs",
                "description": "Whether police may bring a person in crisis here directly.",
                "taxonomy": SERVICE_TYPE_TAXONOMY
            }
        }));
    }
    if let Some(note) = &facts.officer_note {
        let term_id = stable_id(&[LOCAL_TAXONOMY, OFFICER_NOTE_CODE]);
        let attributes = objects(service, "attributes");
        attributes.retain(|a| term_code(a) != Some(OFFICER_NOTE_CODE));
        attributes.push(json!({
            "id": stable_id(&["attribute", &service_id, &term_id]),
            "link_id": service_id, "link_type": "service", "link_entity": "service",
            "taxonomy_term_id": term_id, "value": note,
            "taxonomy_term": {
                "id": term_id, "code": OFFICER_NOTE_CODE, "name": "note for officers",
                "description": "What officers should know before bringing someone (the agency's own note).",
                "taxonomy": LOCAL_TAXONOMY
            }
        }));
    }
    if let Some(phone) = &facts.intake_phone {
        let id = stable_id(&["local-intake-phone", &service_id]);
        let phones = objects(service, "phones");
        phones.retain(|p| p.get("id") != Some(&json!(id)));
        // First: officers call this one.
        phones.insert(
            0,
            json!({"id": id, "service_id": service_id, "number": phone, "type": "voice", "description": INTAKE_PHONE_DESCRIPTION}),
        );
    }
    if let Some(hours) = &facts.hours {
        let zone = match hours {
            LocalHours::Weekly { timezone, .. } => timezone.as_deref().map(str::trim).map(str::to_owned),
            // 24/7 is the same in every zone; a schedule needs one to be read at all.
            LocalHours::AlwaysOpen => Some("UTC".to_owned()),
        };
        *objects(service, "schedules") = schedules(hours, "service_id", &service_id, zone.as_deref());
        // A service-at-location's own schedules come first when hours are read: replace them too.
        for sal in objects(service, "service_at_locations").iter_mut() {
            let Some(sal) = sal.as_object_mut() else { continue };
            let Some(sal_id) = sal.get("id").and_then(Value::as_str).map(str::to_owned) else { continue };
            *objects(sal, "schedules") = schedules(hours, "service_at_location_id", &sal_id, zone.as_deref());
        }
    }
}
