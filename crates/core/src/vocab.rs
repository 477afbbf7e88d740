//! The agency configuration: versioned vocabularies and the fields required to submit.
//! It lives in `assets/agency.json` so an agency can relabel or add codes without a code change.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};

/// The demo agency shipped with Waypoint.
pub const DEMO_AGENCY_JSON: &str = include_str!("../../../assets/agency.json");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Term {
    pub code: String,
    pub label: String,
}

/// The names of every vocabulary an encounter uses. A configuration must define all of them.
pub const VOCABULARIES: &[&str] = &[
    "call_types",
    "crisis_natures",
    "behaviours",
    "weapons",
    "substances",
    "dispositions",
    "age_bands",
    "genders",
    "housing_statuses",
    "offences",
];

/// Fields a configuration may require before submit (dotted paths of `Encounter`).
pub const REQUIRABLE_FIELDS: &[&str] = &[
    "incident_number",
    "call.call_type",
    "call.nature_of_call",
    "subject.age_band",
    "subject.gender",
    "crisis_natures",
    "behaviours",
    "risk.weapon",
    "response.minutes_on_scene",
    "dispositions",
    "diversion.custody_diverted",
    "narrative",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AgencyConfig {
    pub agency_name: String,
    /// Raised each time codes change; saved on every encounter.
    pub config_version: u32,
    pub vocabularies: BTreeMap<String, Vec<Term>>,
    /// Dotted field paths that must be filled before a report can be submitted.
    pub required_on_submit: Vec<String>,
}

impl AgencyConfig {
    pub fn demo() -> Self {
        Self::from_json(DEMO_AGENCY_JSON).expect("the bundled demo agency configuration is valid")
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
        Self::from_json(&text)
    }

    pub fn from_json(text: &str) -> Result<Self> {
        let config: AgencyConfig =
            serde_json::from_str(text).map_err(|e| Error::Config(format!("not a valid configuration: {e}")))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<()> {
        for name in VOCABULARIES {
            let terms = self
                .vocabularies
                .get(*name)
                .ok_or_else(|| Error::Config(format!("vocabulary `{name}` is missing")))?;
            let mut seen = std::collections::HashSet::new();
            for term in terms {
                if term.code.trim().is_empty() {
                    return Err(Error::Config(format!("vocabulary `{name}` has an empty code")));
                }
                if !seen.insert(term.code.as_str()) {
                    return Err(Error::Config(format!("vocabulary `{name}` repeats code `{}`", term.code)));
                }
            }
        }
        for field in &self.required_on_submit {
            if !REQUIRABLE_FIELDS.contains(&field.as_str()) {
                return Err(Error::Config(format!(
                    "required_on_submit names `{field}`, which is not one of: {}",
                    REQUIRABLE_FIELDS.join(", ")
                )));
            }
        }
        Ok(())
    }

    pub fn terms(&self, vocabulary: &str) -> &[Term] {
        self.vocabularies.get(vocabulary).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn has_code(&self, vocabulary: &str, code: &str) -> bool {
        self.terms(vocabulary).iter().any(|t| t.code == code)
    }

    pub fn label<'a>(&'a self, vocabulary: &str, code: &'a str) -> &'a str {
        self.terms(vocabulary).iter().find(|t| t.code == code).map(|t| t.label.as_str()).unwrap_or(code)
    }

    pub fn is_required(&self, field: &str) -> bool {
        self.required_on_submit.iter().any(|f| f == field)
    }
}
