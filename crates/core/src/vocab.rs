//! The agency configuration: versioned vocabularies and the fields required to submit.
//! The bundled default lives in `assets/agency.json`; the agency server holds the versions an
//! admin saves (`PUT /v1/admin/config`) and delivers the newest to every device through the pull
//! feed, so an agency relabels or adds codes once, without a code change.
//!
//! A code is never taken back silently: [`orphaned_codes`] lists what a new version drops, and the
//! server refuses the change while stored reports use one of them, unless the change maps each to
//! a new code ([`AgencyConfig::renamed_codes`]). The mapping changes how old codes read (their
//! label is the new code's), never the reports that hold them.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::device_policy::DevicePolicy;
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
    /// Codes taken out of a vocabulary and mapped to the code that replaces them: vocabulary ->
    /// old code -> current code. Reports keep the old code as filed; it reads with the current
    /// code's label. New reports and amendments must use a current code.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[ts(optional, as = "Option<BTreeMap<String, BTreeMap<String, String>>>")]
    pub renamed_codes: BTreeMap<String, BTreeMap<String, String>>,
    /// Auto-lock, PIN or passphrase, wrong tries before a wipe (the defaults when absent).
    #[serde(default)]
    pub device_policy: DevicePolicy,
}

/// Longest code, label and agency name accepted (a configuration is typed by an admin and shown
/// on every device: bounded, printable).
pub const MAX_CODE_CHARS: usize = 64;
pub const MAX_LABEL_CHARS: usize = 200;
/// Most terms in one vocabulary.
pub const MAX_TERMS: usize = 500;

/// Every coded field of an encounter and the vocabulary its codes come from.
pub const CODED_FIELDS: &[(&str, &str)] = &[
    ("call.call_type", "call_types"),
    ("crisis_natures", "crisis_natures"),
    ("behaviours", "behaviours"),
    ("risk.weapon", "weapons"),
    ("risk.substances", "substances"),
    ("dispositions", "dispositions"),
    ("subject.age_band", "age_bands"),
    ("subject.gender", "genders"),
    ("subject.housing_status", "housing_statuses"),
    ("diversion.offences_considered", "offences"),
];

/// The codes a report holds in `field` (one of [`CODED_FIELDS`]).
pub fn codes_in<'a>(e: &'a crate::model::Encounter, field: &str) -> Vec<&'a str> {
    let one = |v: &'a Option<String>| v.as_deref().into_iter().collect::<Vec<_>>();
    let many = |v: &'a Vec<String>| v.iter().map(String::as_str).collect::<Vec<_>>();
    match field {
        "call.call_type" => one(&e.call.call_type),
        "crisis_natures" => many(&e.crisis_natures),
        "behaviours" => many(&e.behaviours),
        "risk.weapon" => one(&e.risk.weapon),
        "risk.substances" => many(&e.risk.substances),
        "dispositions" => many(&e.dispositions),
        "subject.age_band" => one(&e.subject.age_band),
        "subject.gender" => one(&e.subject.gender),
        "subject.housing_status" => one(&e.subject.housing_status),
        "diversion.offences_considered" => many(&e.diversion.offences_considered),
        _ => Vec::new(),
    }
}

/// One use of a code by a report: which field, from which vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CodeUse {
    pub field: String,
    pub vocabulary: String,
    pub code: String,
}

/// The uses, in `e`, of the `(vocabulary, code)` pairs in `codes`.
pub fn uses_of(e: &crate::model::Encounter, codes: &[(String, String)]) -> Vec<CodeUse> {
    let mut out = Vec::new();
    for (field, vocabulary) in CODED_FIELDS {
        for code in codes_in(e, field) {
            if codes.iter().any(|(v, c)| v == vocabulary && c == code) {
                out.push(CodeUse { field: (*field).into(), vocabulary: (*vocabulary).into(), code: code.into() });
            }
        }
    }
    out
}

/// The `(vocabulary, code)` pairs a report filed under `old` may hold that `new` no longer knows:
/// codes `old` offers or maps that `new` neither offers nor maps to a current code.
pub fn orphaned_codes(old: &AgencyConfig, new: &AgencyConfig) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for name in VOCABULARIES {
        let held = old
            .terms(name)
            .iter()
            .map(|t| t.code.as_str())
            .chain(old.renamed_codes.get(*name).into_iter().flat_map(|m| m.keys().map(String::as_str)));
        for code in held {
            let kept = new.has_code(name, code) || new.renamed_codes.get(*name).is_some_and(|m| m.contains_key(code));
            if !kept && !out.iter().any(|(v, c): &(String, String)| v == name && c == code) {
                out.push(((*name).to_string(), code.to_string()));
            }
        }
    }
    out
}

impl AgencyConfig {
    pub fn demo() -> Self {
        Self::from_json(DEMO_AGENCY_JSON).expect("the bundled demo agency configuration is valid")
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
        Self::from_json(&text)
    }

    pub fn from_json(text: &str) -> Result<Self> {
        let config: AgencyConfig =
            serde_json::from_str(text).map_err(|e| Error::Config(format!("not a valid configuration: {e}")))?;
        config.check()?;
        Ok(config)
    }

    /// A configuration read from JSON already parsed (the server's stored document, a pulled change).
    pub fn from_value(value: serde_json::Value) -> Result<Self> {
        let config: AgencyConfig =
            serde_json::from_value(value).map_err(|e| Error::Config(format!("not a valid configuration: {e}")))?;
        config.check()?;
        Ok(config)
    }

    /// The rules every configuration meets (the bundled one, one an admin saves, one a device pulls).
    pub fn check(&self) -> Result<()> {
        let name_chars = self.agency_name.trim().chars().count();
        if name_chars == 0 || name_chars > MAX_LABEL_CHARS || self.agency_name.chars().any(char::is_control) {
            return Err(Error::Config(format!("agency_name must be 1 to {MAX_LABEL_CHARS} printable characters")));
        }
        for name in self.vocabularies.keys() {
            if !VOCABULARIES.contains(&name.as_str()) {
                return Err(Error::Config(format!(
                    "vocabulary `{}` is not one of: {}",
                    printable(name),
                    VOCABULARIES.join(", ")
                )));
            }
        }
        for name in VOCABULARIES {
            let terms =
                self.vocabularies.get(*name).ok_or_else(|| Error::Config(format!("vocabulary `{name}` is missing")))?;
            if terms.len() > MAX_TERMS {
                return Err(Error::Config(format!("vocabulary `{name}` has more than {MAX_TERMS} codes")));
            }
            let mut seen = std::collections::HashSet::new();
            for term in terms {
                if term.code.trim().is_empty() {
                    return Err(Error::Config(format!("vocabulary `{name}` has an empty code")));
                }
                if !is_code(&term.code) {
                    return Err(Error::Config(format!(
                        "vocabulary `{name}`: code `{}` must be 1 to {MAX_CODE_CHARS} letters, digits, `_`, `-` or `.`",
                        printable(&term.code)
                    )));
                }
                let label_chars = term.label.trim().chars().count();
                if label_chars == 0 || label_chars > MAX_LABEL_CHARS || term.label.chars().any(char::is_control) {
                    return Err(Error::Config(format!(
                        "vocabulary `{name}`: the label of `{}` must be 1 to {MAX_LABEL_CHARS} printable characters",
                        term.code
                    )));
                }
                if !seen.insert(term.code.as_str()) {
                    return Err(Error::Config(format!("vocabulary `{name}` repeats code `{}`", term.code)));
                }
            }
        }
        for (name, map) in &self.renamed_codes {
            if !VOCABULARIES.contains(&name.as_str()) {
                return Err(Error::Config(format!(
                    "renamed_codes names vocabulary `{}`, which does not exist",
                    printable(name)
                )));
            }
            for (old, new) in map {
                if !is_code(old) {
                    return Err(Error::Config(format!("renamed_codes.{name}: `{}` is not a code", printable(old))));
                }
                if self.has_code(name, old) {
                    return Err(Error::Config(format!(
                        "renamed_codes.{name}: `{old}` is still a code of the vocabulary, so it cannot be mapped to another"
                    )));
                }
                if !self.has_code(name, new) {
                    return Err(Error::Config(format!(
                        "renamed_codes.{name}: `{old}` maps to `{}`, which is not a code of the vocabulary",
                        printable(new)
                    )));
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
        self.device_policy.check()
    }

    pub fn terms(&self, vocabulary: &str) -> &[Term] {
        self.vocabularies.get(vocabulary).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn has_code(&self, vocabulary: &str, code: &str) -> bool {
        self.terms(vocabulary).iter().any(|t| t.code == code)
    }

    /// The label of a code; a renamed code reads as the code that replaced it; an unknown code as itself.
    pub fn label<'a>(&'a self, vocabulary: &str, code: &'a str) -> &'a str {
        let current = self.current_code(vocabulary, code);
        self.terms(vocabulary).iter().find(|t| t.code == current).map(|t| t.label.as_str()).unwrap_or(code)
    }

    /// The code that stands for `code` now: itself, or what it was renamed to.
    pub fn current_code<'a>(&'a self, vocabulary: &str, code: &'a str) -> &'a str {
        self.renamed_codes.get(vocabulary).and_then(|m| m.get(code)).map(String::as_str).unwrap_or(code)
    }

    /// A mapping (vocabulary -> old code -> new code) is valid for this configuration when each
    /// old code is no longer offered and each new one is.
    pub fn check_mapping(&self, mapping: &BTreeMap<String, BTreeMap<String, String>>) -> Result<()> {
        for (name, map) in mapping {
            if !VOCABULARIES.contains(&name.as_str()) {
                return Err(Error::Config(format!(
                    "the mapping names vocabulary `{}`, which does not exist",
                    printable(name)
                )));
            }
            for (old, new) in map {
                if self.has_code(name, old) {
                    return Err(Error::Config(format!(
                        "the mapping maps `{}` in `{name}`, which the configuration still offers",
                        printable(old)
                    )));
                }
                if !self.has_code(name, new) {
                    return Err(Error::Config(format!(
                        "the mapping maps `{}` in `{name}` to `{}`, which is not one of its codes",
                        printable(old),
                        printable(new)
                    )));
                }
            }
        }
        Ok(())
    }

    /// This configuration's successor: `next` (as an admin edited it) numbered `version`, with
    /// the renamed codes of this one and `mapping` (vocabulary -> old -> new) added (those `next`
    /// carries are ignored).
    /// A chain (a -> b, then b -> c) is followed to its end; a mapping whose old code is offered
    /// again is dropped. Checked.
    pub fn successor(
        &self,
        mut next: AgencyConfig,
        version: u32,
        mapping: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> Result<AgencyConfig> {
        next.config_version = version;
        // What the admin sends must make sense as it stands; what earlier versions mapped is
        // dropped where it no longer leads to a code (those old codes become orphaned, and the
        // caller's check of stored reports decides).
        // `renamed_codes` as `next` carries them (the edited copy of this one) are not the
        // admin's to change: they are this configuration's, plus `mapping`.
        next.check_mapping(mapping)?;
        let mut renamed = self.renamed_codes.clone();
        for (name, map) in mapping {
            renamed.entry(name.clone()).or_default().extend(map.iter().map(|(o, n)| (o.clone(), n.clone())));
        }
        for (name, map) in renamed.iter_mut() {
            let snapshot = map.clone();
            for target in map.values_mut() {
                // Bounded: a cycle (a -> b -> a) stops here and is refused by check().
                for _ in 0..snapshot.len() {
                    match snapshot.get(target.as_str()) {
                        Some(further) if !next.has_code(name, target) => *target = further.clone(),
                        _ => break,
                    }
                }
            }
            map.retain(|old, new| !next.has_code(name, old) && next.has_code(name, new));
        }
        renamed.retain(|_, map| !map.is_empty());
        next.renamed_codes = renamed;
        next.check()?;
        Ok(next)
    }

    pub fn is_required(&self, field: &str) -> bool {
        self.required_on_submit.iter().any(|f| f == field)
    }
}

/// The device-policy field a refusal of [`AgencyConfig::check`] names, if any (the console shows
/// the refusal beside that input).
pub fn refused_field(error: &Error) -> Option<&'static str> {
    match error {
        Error::Validation { field, .. } => {
            crate::device_policy::POLICY_FIELDS.iter().find(|known| **known == field.as_str()).copied()
        }
        _ => None,
    }
}

/// Codes are identifiers: letters, digits, `_`, `-`, `.`, at most [`MAX_CODE_CHARS`].
fn is_code(code: &str) -> bool {
    !code.is_empty()
        && code.chars().count() <= MAX_CODE_CHARS
        && code.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// A name as it may be shown in an error: control characters escaped, at most 80 characters.
fn printable(text: &str) -> String {
    text.chars().take(80).flat_map(char::escape_default).collect()
}
