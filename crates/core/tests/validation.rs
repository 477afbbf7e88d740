mod common;

use chrono::{Duration, Utc};
use common::*;
use waypoint_core::validate::check;
use waypoint_core::vocab::VOCABULARIES;
use waypoint_core::{AgencyConfig, Encounter, Error, ErrorKind};

fn blank() -> Encounter {
    Encounter::new_draft("device-1", "officer-1", 1, Utc::now())
}

fn fields(problems: &[Error]) -> Vec<String> {
    problems
        .iter()
        .map(|p| match p {
            Error::Validation { field, .. } => field.clone(),
            other => panic!("not a validation error: {other:?}"),
        })
        .collect()
}

#[test]
fn a_complete_report_passes() {
    let problems = check(&complete(blank()), &AgencyConfig::demo(), Utc::now());
    assert!(problems.is_empty(), "{problems:?}");
}

#[test]
fn every_required_field_of_the_demo_agency_is_enforced() {
    let config = AgencyConfig::demo();
    let problems = fields(&check(&blank(), &config, Utc::now()));
    for required in &config.required_on_submit {
        assert!(problems.contains(required), "{required} not reported as missing: {problems:?}");
    }
}

/// Each vocabulary refuses a code outside it, naming the field and listing the allowed codes.
#[test]
fn each_vocabulary_refuses_unknown_codes() {
    let config = AgencyConfig::demo();
    type Case<'a> = (&'a str, &'a str, Box<dyn Fn(&mut Encounter)>);
    let cases: Vec<Case> = vec![
        ("call.call_type", "call_types", Box::new(|e| e.call.call_type = Some("carrier-pigeon".into()))),
        ("crisis_natures", "crisis_natures", Box::new(|e| e.crisis_natures.push("carrier-pigeon".into()))),
        ("behaviours", "behaviours", Box::new(|e| e.behaviours.push("carrier-pigeon".into()))),
        ("risk.weapon", "weapons", Box::new(|e| e.risk.weapon = Some("carrier-pigeon".into()))),
        ("risk.substances", "substances", Box::new(|e| e.risk.substances.push("carrier-pigeon".into()))),
        ("dispositions", "dispositions", Box::new(|e| e.dispositions.push("carrier-pigeon".into()))),
        ("subject.age_band", "age_bands", Box::new(|e| e.subject.age_band = Some("carrier-pigeon".into()))),
        ("subject.gender", "genders", Box::new(|e| e.subject.gender = Some("carrier-pigeon".into()))),
        (
            "subject.housing_status",
            "housing_statuses",
            Box::new(|e| e.subject.housing_status = Some("carrier-pigeon".into())),
        ),
        (
            "diversion.offences_considered",
            "offences",
            Box::new(|e| e.diversion.offences_considered.push("carrier-pigeon".into())),
        ),
    ];
    assert_eq!(cases.len(), VOCABULARIES.len(), "every vocabulary has a case");
    for (field, vocabulary, spoil) in cases {
        let mut e = complete(blank());
        spoil(&mut e);
        let problems = check(&e, &config, Utc::now());
        assert_eq!(fields(&problems), vec![field.to_string()], "for {vocabulary}");
        let message = problems[0].to_string();
        assert!(message.contains("carrier-pigeon"), "{message}");
        let first_code = &config.terms(vocabulary)[0].code;
        assert!(message.contains(first_code.as_str()), "allowed values listed: {message}");
    }
}

#[test]
fn every_code_of_every_vocabulary_is_accepted() {
    let config = AgencyConfig::demo();
    for term in config.terms("behaviours") {
        let mut e = complete(blank());
        e.behaviours = vec![term.code.clone()];
        e.behaviour_other = Some("paced and shouted at traffic".into());
        assert!(check(&e, &config, Utc::now()).is_empty(), "{}", term.code);
    }
    for term in config.terms("dispositions") {
        let mut e = complete(blank());
        e.dispositions = vec![term.code.clone()];
        e.diversion.custody_diverted = Some(term.code != "arrested");
        assert!(check(&e, &config, Utc::now()).is_empty(), "{}", term.code);
    }
}

#[test]
fn inconsistent_and_impossible_values_are_refused() {
    let config = AgencyConfig::demo();
    let now = Utc::now();
    let mut e = complete(blank());
    e.dispositions = vec!["arrested".into()];
    e.diversion.custody_diverted = Some(true);
    assert_eq!(fields(&check(&e, &config, now)), vec!["diversion.custody_diverted"]);

    let mut e = complete(blank());
    e.location.lat = Some(123.0);
    e.location.lon = Some(-87.6);
    assert_eq!(fields(&check(&e, &config, now)), vec!["location.lat"]);

    let mut e = complete(blank());
    e.location.source = waypoint_core::LocationSource::Gps;
    assert!(fields(&check(&e, &config, now)).contains(&"location.source".to_string()));

    let mut e = complete(blank());
    e.occurred_at = now + Duration::hours(2);
    assert_eq!(fields(&check(&e, &config, now)), vec!["occurred_at"]);

    let mut e = complete(blank());
    e.response.minutes_on_scene = Some(5000);
    assert_eq!(fields(&check(&e, &config, now)), vec!["response.minutes_on_scene"]);

    let mut e = complete(blank());
    e.behaviours = vec!["other".into(), "other".into()];
    let f = fields(&check(&e, &config, now));
    assert!(f.contains(&"behaviour_other".to_string()) && f.contains(&"behaviours".to_string()), "{f:?}");
}

#[test]
fn an_agency_can_add_codes_and_require_fields_without_a_code_change() {
    let mut json: serde_json::Value = serde_json::from_str(waypoint_core::vocab::DEMO_AGENCY_JSON).unwrap();
    json["vocabularies"]["call_types"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"code": "co_responder", "label": "Co-responder"}));
    json["required_on_submit"].as_array_mut().unwrap().push("narrative".into());
    let config = AgencyConfig::from_json(&json.to_string()).unwrap();
    let mut e = complete(blank());
    e.call.call_type = Some("co_responder".into());
    e.narrative = " ".into();
    assert_eq!(fields(&check(&e, &config, Utc::now())), vec!["narrative"]);
}

#[test]
fn a_broken_configuration_is_refused_with_a_reason() {
    let mut json: serde_json::Value = serde_json::from_str(waypoint_core::vocab::DEMO_AGENCY_JSON).unwrap();
    json["required_on_submit"].as_array_mut().unwrap().push("shoe_size".into());
    let err = AgencyConfig::from_json(&json.to_string()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("shoe_size"), "{err}");

    let mut json: serde_json::Value = serde_json::from_str(waypoint_core::vocab::DEMO_AGENCY_JSON).unwrap();
    json["vocabularies"].as_object_mut().unwrap().remove("weapons");
    let err = AgencyConfig::from_json(&json.to_string()).unwrap_err();
    assert!(err.to_string().contains("weapons"), "{err}");
}

#[test]
fn the_error_crosses_ipc_as_kind_message_field() {
    let err = Error::validation("call.call_type", "The call type is required.");
    let json = serde_json::to_value(&err).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"kind": "validation", "message": "The call type is required.", "field": "call.call_type"})
    );
    let json = serde_json::to_value(Error::WrongPassphrase).unwrap();
    assert_eq!(json["kind"], "wrong_passphrase");
    assert!(json.get("field").is_none());
}

#[test]
fn a_service_is_referred_to_once() {
    use waypoint_core::model::{Referral, ReferralOutcome};
    let referral = |service_id: &str, outcome| Referral { service_id: service_id.into(), service_name: None, outcome };
    let mut e = complete(blank());
    e.referrals = vec![referral("svc-a", ReferralOutcome::Accepted), referral("svc-b", ReferralOutcome::Declined)];
    assert!(check(&e, &AgencyConfig::demo(), Utc::now()).is_empty());
    e.referrals.push(referral("svc-a", ReferralOutcome::Declined));
    assert_eq!(fields(&check(&e, &AgencyConfig::demo(), Utc::now())), vec!["referrals.2".to_string()]);
}
