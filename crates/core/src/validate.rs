//! What must hold before a report can be submitted. Drafts are saved whatever their state; these
//! problems are shown beside their fields and block only the submit.

use chrono::{DateTime, Duration, Utc};

use crate::error::Error;
use crate::model::{Encounter, LocationSource};
use crate::vocab::AgencyConfig;

const MAX_MINUTES_ON_SCENE: u32 = 24 * 60;
const MAX_NARRATIVE_CHARS: usize = 20_000;
const MAX_SHORT_TEXT_CHARS: usize = 200;
/// Clocks in patrol cars drift; a few minutes ahead is not an error.
const FUTURE_TOLERANCE_MINUTES: i64 = 5;

/// Every problem with the encounter, in form order; empty when it can be submitted.
pub fn check(e: &Encounter, config: &AgencyConfig, now: DateTime<Utc>) -> Vec<Error> {
    let mut problems = Vec::new();
    let mut add = |field: &str, message: String| problems.push(Error::validation(field, message));

    if e.occurred_at > now + Duration::minutes(FUTURE_TOLERANCE_MINUTES) {
        add("occurred_at", "The time of the encounter is in the future.".into());
    }
    short_text(&mut add, "incident_number", e.incident_number.as_deref());
    if let Some(n) = e.incident_number.as_deref() {
        if n.trim().chars().any(|c| c.is_control()) {
            add("incident_number", "The incident number has control characters in it.".into());
        }
    }

    // Location: coordinates must be real, and a GPS or manual fix needs both of them.
    let loc = &e.location;
    if let Some(lat) = loc.lat {
        if !(-90.0..=90.0).contains(&lat) || lat.is_nan() {
            add("location.lat", format!("Latitude must be between -90 and 90 (got {lat})."));
        }
    }
    if let Some(lon) = loc.lon {
        if !(-180.0..=180.0).contains(&lon) || lon.is_nan() {
            add("location.lon", format!("Longitude must be between -180 and 180 (got {lon})."));
        }
    }
    if loc.lat.is_some() != loc.lon.is_some() {
        let missing = if loc.lat.is_none() { "location.lat" } else { "location.lon" };
        add(missing, "Give both latitude and longitude, or neither.".into());
    }
    if loc.source != LocationSource::None && (loc.lat.is_none() || loc.lon.is_none()) {
        add("location.source", "A GPS or map location needs latitude and longitude.".into());
    }
    if let Some(acc) = loc.accuracy_m {
        if acc.is_nan() || acc < 0.0 {
            add("location.accuracy_m", "Accuracy must be zero or more metres.".into());
        }
    }
    short_text(&mut add, "location.address", loc.address.as_deref());

    one_code(&mut add, config, "call.call_type", "call_types", e.call.call_type.as_deref());
    short_text(&mut add, "call.nature_of_call", e.call.nature_of_call.as_deref());
    short_text(&mut add, "subject.name", e.subject.name.as_deref());
    one_code(&mut add, config, "subject.age_band", "age_bands", e.subject.age_band.as_deref());
    one_code(&mut add, config, "subject.gender", "genders", e.subject.gender.as_deref());
    one_code(&mut add, config, "subject.housing_status", "housing_statuses", e.subject.housing_status.as_deref());
    many_codes(&mut add, config, "crisis_natures", "crisis_natures", &e.crisis_natures);
    many_codes(&mut add, config, "behaviours", "behaviours", &e.behaviours);
    if e.behaviours.iter().any(|b| b == "other") && blank(e.behaviour_other.as_deref()) {
        add("behaviour_other", "Describe the other behaviour.".into());
    }
    one_code(&mut add, config, "risk.weapon", "weapons", e.risk.weapon.as_deref());
    many_codes(&mut add, config, "risk.substances", "substances", &e.risk.substances);
    if let Some(minutes) = e.response.minutes_on_scene {
        if minutes > MAX_MINUTES_ON_SCENE {
            add("response.minutes_on_scene", format!("Minutes on scene must be at most {MAX_MINUTES_ON_SCENE}."));
        }
    }
    many_codes(&mut add, config, "dispositions", "dispositions", &e.dispositions);
    many_codes(&mut add, config, "diversion.offences_considered", "offences", &e.diversion.offences_considered);
    let arrested = e.dispositions.iter().any(|d| d == "arrested");
    if arrested && e.diversion.custody_diverted == Some(true) {
        add(
            "diversion.custody_diverted",
            "Custody cannot have been diverted when the disposition includes an arrest.".into(),
        );
    }
    for (i, referral) in e.referrals.iter().enumerate() {
        if referral.service_id.trim().is_empty() {
            add(&format!("referrals.{i}"), "A referral must name a service.".into());
        } else if e.referrals[..i].iter().any(|earlier| earlier.service_id == referral.service_id) {
            // One outcome per service: two would contradict each other in the report.
            add(&format!("referrals.{i}"), "This service is already referred to: change its outcome instead.".into());
        }
    }
    if e.narrative.chars().count() > MAX_NARRATIVE_CHARS {
        add("narrative", format!("The narrative is longer than {MAX_NARRATIVE_CHARS} characters."));
    }

    for field in &config.required_on_submit {
        if is_missing(e, field) {
            add(field, format!("{} is required.", describe(field)));
        }
    }
    problems
}

fn blank(text: Option<&str>) -> bool {
    text.is_none_or(|t| t.trim().is_empty())
}

fn short_text(add: &mut impl FnMut(&str, String), field: &str, text: Option<&str>) {
    if let Some(text) = text {
        if text.chars().count() > MAX_SHORT_TEXT_CHARS {
            add(field, format!("At most {MAX_SHORT_TEXT_CHARS} characters."));
        }
    }
}

fn allowed(config: &AgencyConfig, vocabulary: &str) -> String {
    config.terms(vocabulary).iter().map(|t| t.code.as_str()).collect::<Vec<_>>().join(", ")
}

fn one_code(
    add: &mut impl FnMut(&str, String),
    config: &AgencyConfig,
    field: &str,
    vocabulary: &str,
    code: Option<&str>,
) {
    if let Some(code) = code {
        if !config.has_code(vocabulary, code) {
            add(field, format!("`{code}` is not an allowed value; allowed: {}.", allowed(config, vocabulary)));
        }
    }
}

fn many_codes(
    add: &mut impl FnMut(&str, String),
    config: &AgencyConfig,
    field: &str,
    vocabulary: &str,
    codes: &[String],
) {
    for (i, code) in codes.iter().enumerate() {
        if !config.has_code(vocabulary, code) {
            add(field, format!("`{code}` is not an allowed value; allowed: {}.", allowed(config, vocabulary)));
        } else if codes[..i].contains(code) {
            add(field, format!("`{code}` is listed twice."));
        }
    }
}

/// Whether a field named in `required_on_submit` is still empty.
fn is_missing(e: &Encounter, field: &str) -> bool {
    match field {
        "incident_number" => blank(e.incident_number.as_deref()),
        "call.call_type" => e.call.call_type.is_none(),
        "call.nature_of_call" => blank(e.call.nature_of_call.as_deref()),
        "subject.age_band" => e.subject.age_band.is_none(),
        "subject.gender" => e.subject.gender.is_none(),
        "crisis_natures" => e.crisis_natures.is_empty(),
        "behaviours" => e.behaviours.is_empty(),
        "risk.weapon" => e.risk.weapon.is_none(),
        "response.minutes_on_scene" => e.response.minutes_on_scene.is_none(),
        "dispositions" => e.dispositions.is_empty(),
        "diversion.custody_diverted" => e.diversion.custody_diverted.is_none(),
        "narrative" => e.narrative.trim().is_empty(),
        // The configuration is checked against REQUIRABLE_FIELDS when it is loaded.
        _ => false,
    }
}

fn describe(field: &str) -> &'static str {
    match field {
        "incident_number" => "The incident number",
        "call.call_type" => "The call type",
        "call.nature_of_call" => "The nature of the call",
        "subject.age_band" => "The age band",
        "subject.gender" => "The gender",
        "crisis_natures" => "At least one nature of crisis",
        "behaviours" => "At least one behaviour",
        "risk.weapon" => "The weapon question",
        "response.minutes_on_scene" => "Minutes on scene",
        "dispositions" => "At least one disposition",
        "diversion.custody_diverted" => "Whether custody was diverted",
        "narrative" => "The narrative",
        _ => "This field",
    }
}
