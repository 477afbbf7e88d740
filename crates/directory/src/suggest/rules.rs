//! The suggestion rules: crisis -> service types with weights, and the scoring constants.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The rules shipped with Waypoint.
pub const DEFAULT_RULES_JSON: &str = include_str!("../../../../assets/suggestion_rules.json");

pub type Weights = BTreeMap<String, f64>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scoring {
    pub radius_miles: f64,
    pub limit: u32,
    /// Types beyond the best-matching one add this share of their weight.
    pub other_types_factor: f64,
    pub open_now: f64,
    pub open_24_7: f64,
    pub closed: f64,
    pub hours_unknown: f64,
    pub dropoff_yes: f64,
    pub dropoff_no: f64,
    pub capacity_available: f64,
    pub capacity_full: f64,
    /// Capacity older than this is shown but does not move the ranking.
    pub capacity_fresh_hours: f64,
    pub penalty_per_mile: f64,
    /// A type only guessed from the facility's name counts this share of its weight.
    pub inferred_type_factor: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuggestionRules {
    pub version: u32,
    /// Service-type code -> label used in the "why" line.
    pub service_types: BTreeMap<String, String>,
    pub needs: BTreeMap<String, Weights>,
    pub behaviours: BTreeMap<String, Weights>,
    pub crisis_natures: BTreeMap<String, Weights>,
    pub substances: BTreeMap<String, Weights>,
    pub housing_statuses: BTreeMap<String, Weights>,
    pub veteran: Weights,
    pub age_bands: BTreeMap<String, Weights>,
    pub age_band_years: BTreeMap<String, [f64; 2]>,
    pub when_nothing_known: Weights,
    pub scoring: Scoring,
}

impl SuggestionRules {
    pub fn from_json(text: &str) -> Result<Self> {
        let rules: SuggestionRules =
            serde_json::from_str(text).map_err(|e| Error::Config(format!("suggestion rules: {e}")))?;
        let all_maps = rules
            .needs
            .values()
            .chain(rules.behaviours.values())
            .chain(rules.crisis_natures.values())
            .chain(rules.substances.values())
            .chain(rules.housing_statuses.values())
            .chain(rules.age_bands.values())
            .chain([&rules.veteran, &rules.when_nothing_known]);
        for map in all_maps {
            for code in map.keys() {
                if !rules.service_types.contains_key(code) {
                    return Err(Error::Config(format!("suggestion rules: unknown service type `{code}`")));
                }
            }
        }
        Ok(rules)
    }

    pub fn load(path: &Path) -> Result<Self> {
        Self::from_json(&std::fs::read_to_string(path)?)
    }

    pub fn label<'a>(&'a self, code: &'a str) -> &'a str {
        self.service_types.get(code).map(String::as_str).unwrap_or(code)
    }
}

impl Default for SuggestionRules {
    fn default() -> Self {
        Self::from_json(DEFAULT_RULES_JSON).expect("the shipped suggestion rules parse")
    }
}
