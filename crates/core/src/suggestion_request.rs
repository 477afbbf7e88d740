//! The suggestion request an encounter form implies. It lives in the core because it reads the
//! encounter model; the directory crate knows no encounters.

use crate::directory::SuggestionRequest;
use crate::model::{Encounter, YesNoUnknown};

/// The request this encounter so far calls for, at its location (None without one).
pub fn for_encounter(encounter: &Encounter, needs: Vec<String>) -> Option<SuggestionRequest> {
    Some(SuggestionRequest {
        lat: encounter.location.lat?,
        lon: encounter.location.lon?,
        crisis_natures: encounter.crisis_natures.clone(),
        behaviours: encounter.behaviours.clone(),
        substances: encounter.risk.substances.clone(),
        age_band: encounter.subject.age_band.clone(),
        veteran: match encounter.subject.veteran {
            Some(YesNoUnknown::Yes) => Some(true),
            Some(YesNoUnknown::No) => Some(false),
            _ => None,
        },
        housing_status: encounter.subject.housing_status.clone(),
        needs,
        radius_miles: None,
        limit: None,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn request_from_an_encounter_form() {
        let mut e = Encounter::new_draft("dev", "off", 1, Utc.with_ymd_and_hms(2026, 3, 7, 2, 0, 0).unwrap());
        assert!(for_encounter(&e, vec![]).is_none(), "no location yet");
        e.location.lat = Some(30.27);
        e.location.lon = Some(-97.74);
        e.crisis_natures = vec!["mental_health".into()];
        e.behaviours = vec!["suicide_threat".into()];
        e.risk.substances = vec!["alcohol".into()];
        e.subject.age_band = Some("25_44".into());
        e.subject.housing_status = Some("unhoused".into());
        e.subject.veteran = Some(YesNoUnknown::Yes);
        let req = for_encounter(&e, vec!["detox".into()]).unwrap();
        assert_eq!((req.lat, req.lon), (30.27, -97.74));
        assert_eq!(req.crisis_natures, ["mental_health"]);
        assert_eq!(req.behaviours, ["suicide_threat"]);
        assert_eq!(req.substances, ["alcohol"]);
        assert_eq!(req.age_band.as_deref(), Some("25_44"));
        assert_eq!(req.housing_status.as_deref(), Some("unhoused"));
        assert_eq!(req.veteran, Some(true));
        assert_eq!(req.needs, ["detox"]);
        e.subject.veteran = Some(YesNoUnknown::No);
        assert_eq!(for_encounter(&e, vec![]).unwrap().veteran, Some(false));
        e.subject.veteran = Some(YesNoUnknown::Unknown);
        assert_eq!(for_encounter(&e, vec![]).unwrap().veteran, None);
    }
}
