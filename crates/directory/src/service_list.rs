//! Any agency's service list (a county's, a 211's) as CSV, through a mapping file: which column
//! is the name, address, phone, website, coordinates, and how the free text that lists a
//! service's offerings ("Detoxification; Buprenorphine used in treatment; Residential") maps to
//! Waypoint's service types. Each row becomes one service with its location, as a SAMHSA facility
//! does; ids come from the list's `source` and the row's key, so a re-import of the same file
//! changes nothing. A value the mapping does not map is reported (the row is kept with the types
//! it has), never guessed. Format: `docs/service-list-import.md`.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Instant;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::model::ImportReport;
use crate::samhsa::{normalize_name, normalize_street, normalize_zip, parse_phone, Facility, FacilityPhone};
use crate::suggest::SuggestionRules;
use crate::Directory;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListMapping {
    /// Names the list ("Travis County 211, 2026-11"); part of every id, so keep it between runs.
    pub source: String,
    /// The column that tells rows apart; default: the name, street and ZIP together.
    pub row_key: Option<String>,
    pub columns: ListColumns,
    pub services: Option<ServicesColumn>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListColumns {
    pub name: String,
    pub street: String,
    pub street2: Option<String>,
    pub city: String,
    pub state: String,
    pub postal_code: String,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub latitude: String,
    pub longitude: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServicesColumn {
    pub column: String,
    /// What separates offerings in the cell (default `;`).
    pub separator: Option<String>,
    /// Offering as the list words it -> Waypoint service types (an empty list: known, no type).
    /// Matching ignores case and surrounding spaces.
    pub codes: BTreeMap<String, Vec<String>>,
}

struct Plan {
    key: Option<usize>,
    name: usize,
    street: usize,
    street2: Option<usize>,
    city: usize,
    state: usize,
    postal_code: usize,
    phone: Option<usize>,
    website: Option<usize>,
    latitude: usize,
    longitude: usize,
    services: Option<(usize, String, BTreeMap<String, Vec<String>>)>,
}

/// Reads a mapping file's text.
pub fn parse_mapping(text: &str) -> Result<ListMapping> {
    serde_json::from_str(text).map_err(|e| Error::Config(format!("the service list mapping is not valid: {e}")))
}

/// Checks `mapping` against the header and the service types Waypoint knows; lists every problem.
fn plan(mapping: &ListMapping, header: &[String], rules: &SuggestionRules) -> Result<Plan> {
    let mut problems = Vec::new();
    let mut column = |name: &str| -> usize {
        header.iter().position(|h| h.trim() == name.trim()).unwrap_or_else(|| {
            problems.push(format!("column `{name}` is not in the file's header ({})", header.join(", ")));
            0
        })
    };
    let c = &mapping.columns;
    let key = mapping.row_key.as_deref().map(&mut column);
    let name = column(&c.name);
    let street = column(&c.street);
    let street2 = c.street2.as_deref().map(&mut column);
    let city = column(&c.city);
    let state = column(&c.state);
    let postal_code = column(&c.postal_code);
    let phone = c.phone.as_deref().map(&mut column);
    let website = c.website.as_deref().map(&mut column);
    let latitude = column(&c.latitude);
    let longitude = column(&c.longitude);
    let services = mapping.services.as_ref().map(|s| {
        let codes: BTreeMap<String, Vec<String>> =
            s.codes.iter().map(|(k, v)| (k.trim().to_lowercase(), v.clone())).collect();
        (column(&s.column), s.separator.clone().unwrap_or_else(|| ";".into()), codes)
    });
    if mapping.source.trim().is_empty() {
        problems.push("`source` must name the list".into());
    }
    if let Some(s) = &mapping.services {
        for (offering, types) in &s.codes {
            for code in types.iter().filter(|t| !rules.service_types.contains_key(*t)) {
                problems.push(format!(
                    "`{offering}` maps to `{code}`, which is not a Waypoint service type ({})",
                    rules.service_types.keys().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Err(Error::Config(problems.join("\n")));
    }
    Ok(Plan { key, name, street, street2, city, state, postal_code, phone, website, latitude, longitude, services })
}

/// Reads the list into facilities, rejecting (with row and reason) what cannot be a service.
fn read(csv_path: &Path, mapping: &ListMapping, rules: &SuggestionRules) -> Result<(Vec<Facility>, ImportReport)> {
    let file_name = csv_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(csv_path)
        .map_err(|e| Error::Config(format!("cannot read {}: {e}", csv_path.display())))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| Error::Config(format!("CSV: {e}")))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    let plan = plan(mapping, &header, rules)?;
    let mut report = ImportReport::new(&mapping.source);
    let mut facilities = Vec::new();
    let mut seen = HashSet::new();
    for (index, row) in reader.records().enumerate() {
        let row_number = index as u64 + 1;
        report.rows_read += 1;
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                report.reject(&file_name, row_number, format!("not readable as CSV: {e}"));
                continue;
            }
        };
        let get = |i: usize| row.get(i).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
        let Some(name) = get(plan.name) else {
            report.reject(&file_name, row_number, "no name");
            continue;
        };
        let Some(street) = get(plan.street) else {
            report.reject(&file_name, row_number, format!("`{name}`: no street address"));
            continue;
        };
        let coordinate = |i: usize| get(i).and_then(|v| v.parse::<f64>().ok()).filter(|v| v.is_finite());
        let (Some(lat), Some(lon)) = (coordinate(plan.latitude), coordinate(plan.longitude)) else {
            report.reject(&file_name, row_number, format!("`{name}`: no latitude and longitude (the map needs them)"));
            continue;
        };
        if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
            report.reject(&file_name, row_number, format!("`{name}`: coordinates {lat},{lon} are not on Earth"));
            continue;
        }
        let postal_code = match get(plan.postal_code).map(|z| (normalize_zip(&z, None), z)) {
            Some((Some((five, Some(four))), _)) => format!("{five}-{four}"),
            Some((Some((five, None)), _)) => five,
            Some((None, text)) => {
                report.warn(&file_name, row_number, format!("`{name}`: ZIP `{text}` not understood; kept without it"));
                String::new()
            }
            None => String::new(),
        };
        let natural =
            format!("{}|{}|{}", normalize_name(&name), normalize_street(&street), postal_code.get(..5).unwrap_or(""));
        let key = match plan.key {
            Some(i) => match get(i) {
                Some(key) => key,
                None => {
                    report.reject(&file_name, row_number, format!("`{name}`: the row key is empty"));
                    continue;
                }
            },
            None => natural,
        };
        if !seen.insert(key.clone()) {
            report.reject(&file_name, row_number, format!("`{name}`: row key `{key}` is already in the file"));
            continue;
        }
        let mut phones = Vec::new();
        if let Some(text) = plan.phone.and_then(get) {
            match parse_phone(&text) {
                Some((number, extension)) => {
                    phones.push(FacilityPhone { number, extension, description: "main".into() })
                }
                None => {
                    report.warn(&file_name, row_number, format!("`{name}`: phone `{text}` not understood; dropped"))
                }
            }
        }
        let mut listed = Vec::new();
        if let Some((column, separator, codes)) = &plan.services {
            for offering in
                get(*column).unwrap_or_default().split(separator.as_str()).map(str::trim).filter(|o| !o.is_empty())
            {
                match codes.get(&offering.to_lowercase()) {
                    Some(types) => listed.extend(types.iter().cloned()),
                    None => report.warn(
                        &file_name,
                        row_number,
                        format!("`{name}`: service `{offering}` is not in the mapping; no type taken from it"),
                    ),
                }
            }
        }
        listed.sort();
        listed.dedup();
        facilities.push(Facility {
            key,
            name,
            alternate_names: Vec::new(),
            street1: street,
            street2: plan.street2.and_then(get),
            city: get(plan.city).unwrap_or_default(),
            state: get(plan.state).unwrap_or_default().to_uppercase(),
            postal_code,
            county: None,
            lat,
            lon,
            phones,
            website: plan.website.and_then(get),
            listed,
            inferred: Vec::new(),
            listings: vec![mapping.source.clone()],
        });
    }
    Ok((facilities, report))
}

impl Directory {
    /// Imports a service list through `mapping` (see the module's documentation). The services
    /// it gave before and no longer lists stay (a list may be partial); the report says what
    /// was created, updated, unchanged, rejected and warned about.
    pub fn import_service_list(&mut self, csv: &Path, mapping: &ListMapping) -> Result<ImportReport> {
        let started = Instant::now();
        let (facilities, mut report) = read(csv, mapping, self.rules())?;
        let source = format!("list:{}", mapping.source);
        let records: Vec<_> = facilities.iter().map(|f| f.to_record_in(&source)).collect();
        for outcome in self.put_records(&records, &source)? {
            report.count(outcome);
        }
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }
}
