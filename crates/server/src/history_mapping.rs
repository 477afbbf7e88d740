//! The mapping file of `waypoint-server import encounters`: which column of the agency's old
//! extract is which Waypoint field, and how its old codes map to the agency's vocabularies. The
//! mapping is checked against the CSV's header and the agency configuration before a row is
//! read; then each row becomes a Waypoint encounter or a reason it cannot. A value the mapping
//! does not map is reported, never guessed. Format and examples: `docs/history-import.md`.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::{Map, Value};
use uuid::Uuid;
use waypoint_core::vocab::CODED_FIELDS;
use waypoint_core::{AgencyConfig, Encounter};

/// Device id imported reports carry: no device made them.
pub const IMPORT_DEVICE: &str = "import";
/// Officer id of an imported report whose row names none.
pub const UNKNOWN_OFFICER: &str = "unknown";
/// Ids of imported reports are UUID v5 in this namespace of (source, row key).
const ID_NAMESPACE: Uuid = Uuid::from_u128(0x5f1c_2a6e_8d0b_4c7e_9a33_1b2f_7e4d_c001);

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingFile {
    /// Names the system and extract the rows come from ("Travis County RMS 2019-2024"); with the
    /// row key, it makes each report's id.
    pub source: String,
    /// The column (or columns, joined) that tells one row from another in the old system.
    pub row_key: OneOrMany,
    pub occurred_at: TimeColumn,
    /// Waypoint field (dotted path) -> where its value comes from.
    #[serde(default)]
    pub fields: BTreeMap<String, FieldMapping>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn columns(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(c) => vec![c.as_str()],
            OneOrMany::Many(cs) => cs.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeColumn {
    pub column: String,
    /// A chrono format (`%m/%d/%Y %H:%M`); default RFC 3339.
    pub format: Option<String>,
    /// The IANA time zone the old system wrote local times in (`America/Chicago`); default UTC.
    /// Ignored when the format carries an offset.
    pub timezone: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMapping {
    pub column: String,
    /// Old value -> Waypoint value (a code, `true`/`false`, or `null` for "no answer"). Without
    /// it, codes must already be Waypoint codes and yes/no columns read Y/Yes/True/1 and
    /// N/No/False/0 (empty: no).
    pub codes: Option<BTreeMap<String, Value>>,
    /// For fields that hold several codes: what separates them in the cell (default `;`).
    pub separator: Option<String>,
}

/// What kind of value a Waypoint field holds, so how a cell is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Code(&'static str),
    Codes(&'static str),
    Flag,
    /// `Option<bool>`: a question that may be unanswered.
    Answer,
    YesNoUnknown,
    Minutes,
    Coordinate,
}

const TEXT_FIELDS: &[&str] = &[
    "officer_id",
    "incident_number",
    "location.address",
    "call.nature_of_call",
    "subject.name",
    "behaviour_other",
    "narrative",
];
const FLAG_FIELDS: &[&str] = &[
    "risk.threatened_violence",
    "risk.self_injury",
    "risk.naloxone_administered",
    "response.cit_officer_requested",
    "response.cit_officer_dispatched",
    "response.cit_officer_arrived",
    "response.officer_cit_certified",
    "response.supervisor_on_scene",
    "response.mobile_crisis_team",
    "response.verbal_deescalation",
    "response.handcuffs",
    "response.reportable_force",
    "response.subject_injured",
    "response.officer_injured",
];
const MANY_CODE_FIELDS: &[&str] =
    &["crisis_natures", "behaviours", "risk.substances", "dispositions", "diversion.offences_considered"];

fn kind_of(field: &str) -> Option<Kind> {
    if TEXT_FIELDS.contains(&field) {
        return Some(Kind::Text);
    }
    if FLAG_FIELDS.contains(&field) {
        return Some(Kind::Flag);
    }
    if let Some((_, vocabulary)) = CODED_FIELDS.iter().find(|(f, _)| *f == field) {
        return Some(if MANY_CODE_FIELDS.contains(&field) { Kind::Codes(vocabulary) } else { Kind::Code(vocabulary) });
    }
    Some(match field {
        "diversion.custody_diverted" => Kind::Answer,
        "subject.veteran" => Kind::YesNoUnknown,
        "response.minutes_on_scene" => Kind::Minutes,
        "location.lat" | "location.lon" => Kind::Coordinate,
        _ => return None,
    })
}

/// Every field a mapping may name, for the error that lists them.
pub fn mappable_fields() -> Vec<&'static str> {
    let mut all: Vec<&str> = TEXT_FIELDS.iter().chain(FLAG_FIELDS).copied().collect();
    all.extend(CODED_FIELDS.iter().map(|(f, _)| *f));
    all.extend(["diversion.custody_diverted", "subject.veteran", "response.minutes_on_scene"]);
    all.extend(["location.lat", "location.lon"]);
    all
}

struct FieldPlan {
    field: String,
    kind: Kind,
    column_name: String,
    column: usize,
    codes: Option<BTreeMap<String, Value>>,
    separator: String,
}

/// A mapping checked against a header and the agency configuration, ready to turn rows into
/// reports.
pub struct Mapping {
    pub source: String,
    key_columns: Vec<usize>,
    time_column: usize,
    time_column_name: String,
    time_format: Option<String>,
    timezone: Tz,
    fields: Vec<FieldPlan>,
    config: AgencyConfig,
}

/// A row made into a report: its key, the report, and where it came from.
pub struct MappedRow {
    pub row_key: String,
    pub encounter: Encounter,
}

impl Mapping {
    /// Checks `file` against the CSV `header` and `config`: every column it names exists, every
    /// field is one Waypoint has, every code it maps to is in the agency's vocabulary. The error
    /// lists every problem, not only the first.
    pub fn new(file: MappingFile, header: &[String], config: &AgencyConfig) -> Result<Mapping, String> {
        let mut problems = Vec::new();
        let column = |name: &str, problems: &mut Vec<String>| -> usize {
            match header.iter().position(|h| h.trim() == name.trim()) {
                Some(i) => i,
                None => {
                    problems.push(format!("column `{name}` is not in the file's header ({})", header.join(", ")));
                    0
                }
            }
        };
        if file.source.trim().is_empty() {
            problems.push("`source` must name the system the rows come from".into());
        }
        let key_columns: Vec<usize> = file.row_key.columns().iter().map(|c| column(c, &mut problems)).collect();
        if key_columns.is_empty() {
            problems.push("`row_key` must name at least one column".into());
        }
        let time_column = column(&file.occurred_at.column, &mut problems);
        let timezone = match file.occurred_at.timezone.as_deref() {
            None => Tz::UTC,
            Some(name) => name.parse::<Tz>().unwrap_or_else(|_| {
                problems.push(format!("`{name}` is not an IANA time zone (such as America/Chicago)"));
                Tz::UTC
            }),
        };
        let mut fields = Vec::new();
        for (field, mapping) in file.fields {
            let Some(kind) = kind_of(&field) else {
                problems.push(format!(
                    "`{field}` is not a field an import can fill; these are: {}",
                    mappable_fields().join(", ")
                ));
                continue;
            };
            let index = column(&mapping.column, &mut problems);
            if let Some(codes) = &mapping.codes {
                for (old, new) in codes {
                    if let Some(problem) = target_problem(kind, new, config) {
                        problems.push(format!("`{field}`: `{old}` maps to {new}, {problem}"));
                    }
                }
            }
            fields.push(FieldPlan {
                field,
                kind,
                column_name: mapping.column,
                column: index,
                codes: mapping.codes,
                separator: mapping.separator.unwrap_or_else(|| ";".into()),
            });
        }
        if !problems.is_empty() {
            return Err(problems.join("\n"));
        }
        let mut config = config.clone();
        // History was written under the old system's rules: today's required fields do not apply.
        config.required_on_submit.clear();
        Ok(Mapping {
            source: file.source,
            key_columns,
            time_column,
            time_column_name: file.occurred_at.column,
            time_format: file.occurred_at.format,
            timezone,
            fields,
            config,
        })
    }

    /// The report a row makes, or why it cannot (naming the column and the value).
    pub fn row(&self, cells: &csv::StringRecord, now: DateTime<Utc>) -> Result<MappedRow, String> {
        let cell = |i: usize| cells.get(i).unwrap_or("").trim();
        let key_parts: Vec<&str> = self.key_columns.iter().map(|i| cell(*i)).collect();
        if key_parts.iter().all(|p| p.is_empty()) {
            return Err("the row key is empty".into());
        }
        let row_key = key_parts.join("|");
        let occurred_at = self.time(cell(self.time_column))?;
        let mut body = Map::new();
        for plan in &self.fields {
            if let Some(value) = self.value(plan, cell(plan.column))? {
                set(&mut body, &plan.field, value);
            }
        }
        let id = Uuid::new_v5(&ID_NAMESPACE, format!("{}\u{0}{row_key}", self.source).as_bytes());
        let officer_id = body.remove("officer_id").and_then(|v| v.as_str().map(str::to_string));
        let mut object = Value::Object(body);
        let at = serde_json::to_value(occurred_at).expect("a time serializes");
        for (key, value) in [
            ("id", Value::from(id.to_string())),
            ("version", 1.into()),
            ("supersedes", Value::Null),
            ("status", "approved".into()),
            ("device_id", IMPORT_DEVICE.into()),
            ("officer_id", officer_id.unwrap_or_else(|| UNKNOWN_OFFICER.into()).into()),
            ("config_version", self.config.config_version.into()),
            ("created_at", at.clone()),
            ("updated_at", at.clone()),
            ("occurred_at", at.clone()),
            ("submitted_at", at),
            ("review", Value::Null),
        ] {
            object[key] = value;
        }
        let encounter: Encounter = serde_json::from_value(object).map_err(|e| format!("not a report: {e}"))?;
        let problems = waypoint_core::validate::check(&encounter, &self.config, now);
        if let Some(problem) = problems.first() {
            let (field, message) = match problem {
                waypoint_core::Error::Validation { field, message } => (field.as_str(), message.clone()),
                other => ("report", other.to_string()),
            };
            let column =
                self.fields.iter().find(|p| p.field == field).map(|p| format!(" (column `{}`)", p.column_name));
            return Err(format!("{field}{}: {message}", column.unwrap_or_default()));
        }
        Ok(MappedRow { row_key, encounter })
    }

    fn time(&self, text: &str) -> Result<DateTime<Utc>, String> {
        let column = &self.time_column_name;
        if text.is_empty() {
            return Err(format!("`{column}` (the time of the call) is empty"));
        }
        let Some(format) = &self.time_format else {
            return DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| format!("`{column}` is `{text}`, not an RFC 3339 time"));
        };
        if let Ok(with_offset) = DateTime::parse_from_str(text, format) {
            return Ok(with_offset.with_timezone(&Utc));
        }
        let local = NaiveDateTime::parse_from_str(text, format)
            .or_else(|_| {
                chrono::NaiveDate::parse_from_str(text, format).map(|d| d.and_hms_opt(0, 0, 0).expect("midnight"))
            })
            .map_err(|_| format!("`{column}` is `{text}`, which does not read as `{format}`"))?;
        // A time the clock skipped (spring forward) or repeated (fall back) takes the earlier reading.
        self.timezone
            .from_local_datetime(&local)
            .earliest()
            .or_else(|| self.timezone.from_local_datetime(&(local + chrono::Duration::hours(1))).earliest())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| format!("`{column}` is `{text}`, which does not exist in {}", self.timezone))
    }

    fn value(&self, plan: &FieldPlan, text: &str) -> Result<Option<Value>, String> {
        let column = &plan.column_name;
        let mapped = |text: &str| -> Result<Option<Value>, String> {
            match &plan.codes {
                Some(codes) => match codes
                    .get(text)
                    .or_else(|| codes.iter().find(|(k, _)| k.eq_ignore_ascii_case(text)).map(|(_, v)| v))
                {
                    Some(value) => Ok((!value.is_null()).then(|| value.clone())),
                    None if text.is_empty() => Ok(None),
                    None => Err(format!("`{column}` is `{text}`, which the mapping does not map for {}", plan.field)),
                },
                None => Ok((!text.is_empty()).then(|| Value::from(text))),
            }
        };
        match plan.kind {
            Kind::Text => Ok((!text.is_empty()).then(|| Value::from(text))),
            Kind::Code(vocabulary) => {
                let value = mapped(text)?;
                self.known_code(plan, vocabulary, text, value.as_ref())?;
                Ok(value)
            }
            Kind::Codes(vocabulary) => {
                let mut codes = Vec::new();
                for part in text.split(plan.separator.as_str()).map(str::trim).filter(|p| !p.is_empty()) {
                    if let Some(value) = mapped(part)? {
                        self.known_code(plan, vocabulary, part, Some(&value))?;
                        if !codes.contains(&value) {
                            codes.push(value);
                        }
                    }
                }
                Ok((!codes.is_empty()).then_some(Value::Array(codes)))
            }
            Kind::Flag | Kind::Answer => {
                let value = match &plan.codes {
                    Some(_) => mapped(text)?,
                    None => yes_or_no(text)
                        .map_err(|_| format!("`{column}` is `{text}`, not yes or no (map it with `codes`)"))?
                        .map(Value::from),
                };
                match (plan.kind, value) {
                    (Kind::Flag, None) => Ok(Some(false.into())),
                    (_, value) => Ok(value),
                }
            }
            Kind::YesNoUnknown => {
                let value = match &plan.codes {
                    Some(_) => mapped(text)?,
                    None => match yes_or_no(text) {
                        Ok(answer) => answer.map(|yes| Value::from(if yes { "yes" } else { "no" })),
                        Err(()) if text.eq_ignore_ascii_case("unknown") || text.eq_ignore_ascii_case("u") => {
                            Some("unknown".into())
                        }
                        Err(()) => return Err(format!("`{column}` is `{text}`, not yes, no or unknown")),
                    },
                };
                Ok(value)
            }
            Kind::Minutes => {
                if text.is_empty() {
                    return Ok(None);
                }
                text.parse::<u32>()
                    .map(|m| Some(m.into()))
                    .map_err(|_| format!("`{column}` is `{text}`, not a whole number of minutes"))
            }
            Kind::Coordinate => {
                if text.is_empty() {
                    return Ok(None);
                }
                text.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .map(|v| Some(v.into()))
                    .ok_or_else(|| format!("`{column}` is `{text}`, not a number of degrees"))
            }
        }
    }

    fn known_code(&self, plan: &FieldPlan, vocabulary: &str, text: &str, value: Option<&Value>) -> Result<(), String> {
        match value.map(|v| v.as_str()) {
            None => Ok(()),
            Some(Some(code)) if self.config.has_code(vocabulary, code) => Ok(()),
            Some(_) => Err(format!(
                "`{}` is `{text}`, which is not a code of {vocabulary} (map it with `codes`)",
                plan.column_name
            )),
        }
    }
}

fn yes_or_no(text: &str) -> Result<Option<bool>, ()> {
    match text.to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "y" | "yes" | "true" | "t" | "1" => Ok(Some(true)),
        "n" | "no" | "false" | "f" | "0" => Ok(Some(false)),
        _ => Err(()),
    }
}

/// Why `value` cannot be what `kind` holds, if it cannot.
fn target_problem(kind: Kind, value: &Value, config: &AgencyConfig) -> Option<String> {
    match (kind, value) {
        (_, Value::Null) => None,
        (Kind::Code(vocabulary) | Kind::Codes(vocabulary), Value::String(code)) => {
            (!config.has_code(vocabulary, code)).then(|| format!("which is not a code of {vocabulary}"))
        }
        (Kind::Flag | Kind::Answer, Value::Bool(_)) => None,
        (Kind::YesNoUnknown, Value::String(s)) if ["yes", "no", "unknown"].contains(&s.as_str()) => None,
        (Kind::Text, Value::String(_)) => None,
        (Kind::Minutes | Kind::Coordinate, Value::Number(_)) => None,
        (Kind::Flag | Kind::Answer, _) => Some("but the field takes true, false or null".into()),
        (Kind::YesNoUnknown, _) => Some("but the field takes \"yes\", \"no\", \"unknown\" or null".into()),
        _ => Some("which the field cannot hold".into()),
    }
}

/// Sets `value` at the dotted `path` of `object`.
fn set(object: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            object.insert(path.to_string(), value);
        }
        Some((head, rest)) => {
            let inner = object.entry(head.to_string()).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = inner {
                set(inner, rest, value);
            }
        }
    }
}

/// Reads a mapping file's text, naming the line of a JSON mistake.
pub fn parse(text: &str) -> Result<MappingFile, String> {
    serde_json::from_str(text).map_err(|e| format!("the mapping is not valid: {e}"))
}

/// Keeps the first row seen for each key; a later one is refused naming the first's line.
#[derive(Default)]
pub struct SeenKeys(HashMap<String, u64>);

impl SeenKeys {
    pub fn first_line(&mut self, key: &str, line: u64) -> Option<u64> {
        match self.0.get(key) {
            Some(first) => Some(*first),
            None => {
                self.0.insert(key.to_string(), line);
                None
            }
        }
    }
}
