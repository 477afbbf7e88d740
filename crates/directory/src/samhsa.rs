//! Importer for the SAMHSA treatment locator extracts (mental health, substance use, opioid
//! treatment programmes). Column and type mapping live in `assets/directory/samhsa_mapping.json`.
//!
//! The real mess, handled without hand editing: numeric ZIPs that lost their leading zeros
//! (6708 = 06708), ZIP+4 in one column (99654-8525) or in two, "NA" for missing values, a
//! Latin-1 row in a UTF-8 file, missing phones, and one facility listed in several files
//! (merged on normalized name + street + ZIP).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::model::*;
use super::store::{stable_id, INFERRED, LISTED};
use super::{put_record, Directory, ServiceRecord};
use crate::error::{Error, Result};

pub const DEFAULT_MAPPING_JSON: &str = include_str!("../../../assets/directory/samhsa_mapping.json");

/// The source name stored on every row this importer writes.
pub const SOURCE: &str = "samhsa";

#[derive(Debug, Clone, Deserialize)]
pub struct Mapping {
    pub files: Vec<FileMapping>,
    pub facility_types: BTreeMap<String, Vec<String>>,
    pub name_keywords: Vec<KeywordRule>,
    pub default_inferred: DefaultInferred,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FileMapping {
    pub file: String,
    pub listing: String,
    pub types: Vec<String>,
    pub columns: Columns,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Columns {
    pub name: String,
    pub name2: Option<String>,
    pub street1: String,
    pub street2: Option<String>,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub zip4: Option<String>,
    pub county: Option<String>,
    pub phone: Option<String>,
    #[serde(default)]
    pub intake: Vec<String>,
    pub website: Option<String>,
    pub latitude: String,
    pub longitude: String,
    pub facility_type: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct KeywordRule {
    pub words: Vec<String>,
    pub types: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DefaultInferred {
    pub types: Vec<String>,
    pub unless: Vec<String>,
}

impl Mapping {
    pub fn shipped() -> Self {
        serde_json::from_str(DEFAULT_MAPPING_JSON).expect("the shipped SAMHSA mapping parses")
    }
}

/// One facility after merging every row that lists it: the bundled directory's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facility {
    /// Normalized name | street | ZIP5: the natural key the ids derive from.
    pub key: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternate_names: Vec<String>,
    pub street1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street2: Option<String>,
    pub city: String,
    pub state: String,
    pub postal_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub county: Option<String>,
    pub lat: f64,
    pub lon: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<FacilityPhone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// Types the listing states (from the file / facility type).
    pub listed: Vec<String>,
    /// Types guessed from the name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inferred: Vec<String>,
    /// Which SAMHSA listings name this facility.
    pub listings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FacilityPhone {
    pub number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    pub description: String,
}

const US_STATES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA",
    "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR",
    "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "PR", "GU", "VI", "AS", "MP",
];

/// The SAMHSA files found in `dir`, in mapping order.
pub fn files_in(dir: &Path, mapping: &Mapping) -> Vec<PathBuf> {
    mapping.files.iter().map(|f| dir.join(&f.file)).filter(|p| p.exists()).collect()
}

fn clean(value: &str) -> Option<String> {
    let v = value.trim();
    (!v.is_empty() && v != "NA" && v != "N/A").then(|| v.to_owned())
}

/// UTF-8, or (for the odd row saved in Windows-1252/Latin-1) each byte as its Latin-1 char.
fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    }
}

/// "6708" -> "06708"; "99654-8525" -> ("99654", "8525"); "953" -> "00953".
pub fn normalize_zip(zip: &str, zip4: Option<&str>) -> Option<(String, Option<String>)> {
    let zip = zip.trim();
    let (five, four) = match zip.split_once('-') {
        Some((a, b)) => (a, Some(b.trim().to_owned())),
        None => (zip, zip4.map(str::trim).filter(|z| !z.is_empty() && *z != "NA").map(str::to_owned)),
    };
    let five = five.trim().trim_end_matches(".0");
    if five.is_empty() || five.len() > 5 || !five.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let four = four
        .map(|f| f.trim_end_matches(".0").to_owned())
        .filter(|f| !f.is_empty() && f.len() <= 4 && f.chars().all(|c| c.is_ascii_digit()))
        .map(|f| format!("{f:0>4}"));
    Some((format!("{five:0>5}"), four))
}

fn words(text: &str) -> String {
    let lowered: String = text.to_lowercase().chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
    lowered.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The name part of the merge key: words without legal-form noise ("Inc", "LLC", "The").
pub fn normalize_name(name: &str) -> String {
    words(&name.replace('&', " and "))
        .split(' ')
        .filter(|w| !matches!(*w, "inc" | "llc" | "corp" | "corporation" | "the" | "co" | "pc" | "pllc" | "ltd"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The street part of the merge key: before any comma or suite, with usual abbreviations.
pub fn normalize_street(street: &str) -> String {
    let first = street.split(',').next().unwrap_or("");
    let mut out = Vec::new();
    let lowered = words(first);
    for w in lowered.split(' ') {
        if matches!(w, "suite" | "ste" | "unit" | "bldg" | "building" | "floor" | "fl" | "room" | "rm" | "apt") {
            break;
        }
        out.push(match w {
            "street" => "st",
            "avenue" => "ave",
            "road" => "rd",
            "drive" => "dr",
            "boulevard" => "blvd",
            "lane" => "ln",
            "place" => "pl",
            "court" => "ct",
            "highway" => "hwy",
            "parkway" => "pkwy",
            "circle" => "cir",
            "north" => "n",
            "south" => "s",
            "east" => "e",
            "west" => "w",
            other => other,
        });
    }
    out.join(" ")
}

/// "860-276-3000 x301" -> ("860-276-3000", Some("301")); None without 10 digits.
pub fn parse_phone(text: &str) -> Option<(String, Option<String>)> {
    let lower = text.to_lowercase();
    let (number, ext) = match lower.find(['x', 'e']) {
        Some(i) => (&text[..i], Some(text[i..].chars().filter(|c| c.is_ascii_digit()).collect::<String>())),
        None => (text, None),
    };
    let digits: String = number.chars().filter(|c| c.is_ascii_digit()).collect();
    let digits = digits.strip_prefix('1').filter(|d| d.len() == 10).map(str::to_owned).unwrap_or(digits);
    if digits.len() != 10 {
        return None;
    }
    Some((format!("{}-{}-{}", &digits[..3], &digits[3..6], &digits[6..]), ext.filter(|e| !e.is_empty())))
}

fn infer_types(name: &str, mapping: &Mapping) -> Vec<String> {
    let padded = format!(" {} ", words(name));
    let mut types = BTreeSet::new();
    for rule in &mapping.name_keywords {
        if rule.words.iter().any(|w| padded.contains(&format!(" {w}"))) {
            types.extend(rule.types.iter().cloned());
        }
    }
    if !types.iter().any(|t| mapping.default_inferred.unless.contains(t)) {
        types.extend(mapping.default_inferred.types.iter().cloned());
    }
    types.into_iter().collect()
}

/// Reads the files into merged facilities; the report counts rows, merges and rejections.
pub fn read_facilities(files: &[PathBuf], mapping: &Mapping) -> Result<(Vec<Facility>, ImportReport)> {
    let mut report = ImportReport::new(SOURCE);
    let mut facilities: Vec<Facility> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for path in files {
        let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_owned();
        let fm = mapping
            .files
            .iter()
            .find(|f| f.file == file_name)
            .ok_or_else(|| Error::Config(format!("no SAMHSA mapping for `{file_name}`")))?;
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_path(path).map_err(csv_error)?;
        let headers: Vec<String> = reader.byte_headers().map_err(csv_error)?.iter().map(decode).collect();
        let col = |name: &str| -> Result<usize> {
            headers
                .iter()
                .position(|h| h == name)
                .ok_or_else(|| Error::Config(format!("`{file_name}` has no column `{name}`")))
        };
        let opt_col = |name: &Option<String>| -> Result<Option<usize>> { name.as_deref().map(col).transpose() };
        let c = &fm.columns;
        let (i_name, i_street1, i_city, i_state, i_zip, i_lat, i_lon) = (
            col(&c.name)?,
            col(&c.street1)?,
            col(&c.city)?,
            col(&c.state)?,
            col(&c.zip)?,
            col(&c.latitude)?,
            col(&c.longitude)?,
        );
        let (i_name2, i_street2, i_zip4, i_county, i_phone, i_website, i_type) = (
            opt_col(&c.name2)?,
            opt_col(&c.street2)?,
            opt_col(&c.zip4)?,
            opt_col(&c.county)?,
            opt_col(&c.phone)?,
            opt_col(&c.website)?,
            opt_col(&c.facility_type)?,
        );
        let i_intake: Vec<usize> = c.intake.iter().map(|n| col(n)).collect::<Result<_>>()?;
        let mut record = csv::ByteRecord::new();
        let mut row: u64 = 0;
        while reader.read_byte_record(&mut record).map_err(csv_error)? {
            row += 1;
            report.rows_read += 1;
            let get = |i: usize| record.get(i).map(decode).and_then(|v| clean(&v));
            let get_opt = |i: Option<usize>| i.and_then(get);
            let Some(name) = get(i_name) else {
                report.reject(&file_name, row, "no facility name");
                continue;
            };
            let (lat, lon) = match (
                get(i_lat).and_then(|v| v.parse::<f64>().ok()),
                get(i_lon).and_then(|v| v.parse::<f64>().ok()),
            ) {
                (Some(lat), Some(lon))
                    if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) && (lat, lon) != (0.0, 0.0) =>
                {
                    (lat, lon)
                }
                _ => {
                    report.reject(&file_name, row, format!("`{name}`: missing or invalid coordinates"));
                    continue;
                }
            };
            // US states and territories span these; anything outside is a geocoding error.
            if !(13.0..=72.0).contains(&lat) || !((-180.0..=-64.0).contains(&lon) || (144.0..=146.0).contains(&lon)) {
                report.reject(&file_name, row, format!("`{name}`: coordinates {lat},{lon} outside the US"));
                continue;
            }
            let state = get(i_state).unwrap_or_default().to_uppercase();
            if !US_STATES.contains(&state.as_str()) {
                report.reject(&file_name, row, format!("`{name}`: state `{state}` is not a US state or territory"));
                continue;
            }
            let Some(street1) = get(i_street1) else {
                report.reject(&file_name, row, format!("`{name}`: no street address"));
                continue;
            };
            let city = get(i_city).unwrap_or_default();
            let postal_code = match get(i_zip).and_then(|z| normalize_zip(&z, get_opt(i_zip4).as_deref())) {
                Some((five, Some(four))) => format!("{five}-{four}"),
                Some((five, None)) => five,
                None => {
                    report.warn(
                        &file_name,
                        row,
                        format!("`{name}`: ZIP `{}` not understood; kept without it", get(i_zip).unwrap_or_default()),
                    );
                    String::new()
                }
            };
            let key = format!(
                "{}|{}|{}",
                normalize_name(&name),
                normalize_street(&street1),
                postal_code.get(..5).unwrap_or("")
            );
            let mut phones = Vec::new();
            for (i, description) in i_phone.iter().map(|&i| (i, "main")).chain(i_intake.iter().map(|&i| (i, "intake")))
            {
                if let Some(text) = get(i) {
                    match parse_phone(&text) {
                        Some((number, extension)) => {
                            phones.push(FacilityPhone { number, extension, description: description.into() })
                        }
                        None => {
                            report.warn(&file_name, row, format!("`{name}`: phone `{text}` not understood; dropped"))
                        }
                    }
                }
            }
            let mut listed = fm.types.clone();
            if let Some(kind) = get_opt(i_type) {
                match mapping.facility_types.get(&kind) {
                    Some(types) => listed.extend(types.iter().cloned()),
                    None => report.warn(&file_name, row, format!("`{name}`: facility type `{kind}` not mapped")),
                }
            }
            let incoming = Facility {
                key: key.clone(),
                name: name.clone(),
                alternate_names: get_opt(i_name2).into_iter().collect(),
                street1: street1.clone(),
                street2: get_opt(i_street2),
                city,
                state,
                postal_code,
                county: get_opt(i_county),
                lat,
                lon,
                phones,
                website: get_opt(i_website),
                listed,
                inferred: Vec::new(),
                listings: vec![fm.listing.clone()],
            };
            match by_key.get(&key) {
                Some(&at) => {
                    report.merged += 1;
                    merge(&mut facilities[at], incoming);
                }
                None => {
                    by_key.insert(key, facilities.len());
                    facilities.push(incoming);
                }
            }
        }
    }
    for f in &mut facilities {
        let mut all_names = f.name.clone();
        for alt in &f.alternate_names {
            all_names.push(' ');
            all_names.push_str(alt);
        }
        f.listed.sort();
        f.listed.dedup();
        f.inferred = infer_types(&all_names, mapping).into_iter().filter(|t| !f.listed.contains(t)).collect();
    }
    facilities.sort_by(|a, b| a.key.cmp(&b.key));
    Ok((facilities, report))
}

fn csv_error(e: csv::Error) -> Error {
    Error::Config(format!("CSV: {e}"))
}

/// Folds another listing of the same facility in: union of names, phones, types, listings;
/// fills fields the first listing lacked.
fn merge(into: &mut Facility, other: Facility) {
    for alt in other.alternate_names {
        if !into.alternate_names.contains(&alt) && alt != into.name {
            into.alternate_names.push(alt);
        }
    }
    if into.street2.is_none() {
        into.street2 = other.street2;
    }
    if into.county.is_none() {
        into.county = other.county;
    }
    if into.website.is_none() {
        into.website = other.website;
    }
    if into.postal_code.len() < other.postal_code.len() {
        into.postal_code = other.postal_code;
    }
    for p in other.phones {
        if !into.phones.iter().any(|q| q.number == p.number && q.extension == p.extension) {
            into.phones.push(p);
        }
    }
    into.listed.extend(other.listed);
    for l in other.listings {
        if !into.listings.contains(&l) {
            into.listings.push(l);
        }
    }
}

impl Facility {
    /// The HSDS rows for this facility: one organization, service, location, address.
    pub fn to_record(&self) -> ServiceRecord {
        self.to_record_in(SOURCE)
    }

    /// As [`Self::to_record`], with ids made in `source` (a service list's name): the same key
    /// in two sources makes two services.
    pub fn to_record_in(&self, source: &str) -> ServiceRecord {
        let k = self.key.as_str();
        let org_id = stable_id(&[source, "organization", k]);
        let service_id = stable_id(&[source, "service", k]);
        let location_id = stable_id(&[source, "location", k]);
        let alternate = (!self.alternate_names.is_empty()).then(|| self.alternate_names.join("; "));
        let phones = self
            .phones
            .iter()
            .map(|p| Phone {
                id: stable_id(&[source, "phone", k, &p.number, p.extension.as_deref().unwrap_or("")]),
                organization_id: None,
                service_id: Some(service_id.clone()),
                location_id: None,
                service_at_location_id: None,
                number: p.number.clone(),
                extension: p.extension.clone(),
                kind: Some("voice".into()),
                description: Some(p.description.clone()),
            })
            .collect();
        let mut types: Vec<(String, String)> = self.listed.iter().map(|t| (t.clone(), LISTED.to_owned())).collect();
        types.extend(self.inferred.iter().map(|t| (t.clone(), INFERRED.to_owned())));
        ServiceRecord {
            organization: Organization {
                id: org_id.clone(),
                name: self.name.clone(),
                alternate_name: alternate.clone(),
                description: Some(format!("Listed in: {}.", self.listings.join(", "))),
                email: None,
                website: self.website.clone(),
            },
            service: Service {
                id: service_id,
                organization_id: org_id.clone(),
                name: self.name.clone(),
                alternate_name: alternate,
                description: Some(format!("Listed in: {}.", self.listings.join(", "))),
                url: self.website.clone(),
                email: None,
                status: "active".into(),
                eligibility_description: None,
                minimum_age: None,
                maximum_age: None,
                law_enforcement_dropoff: None,
                last_modified: None,
            },
            location: Location {
                id: location_id.clone(),
                organization_id: Some(org_id),
                location_type: "physical".into(),
                name: Some(self.name.clone()),
                alternate_name: None,
                description: None,
                latitude: Some(self.lat),
                longitude: Some(self.lon),
                timezone: None,
            },
            address: Some(Address {
                id: stable_id(&[source, "address", k]),
                location_id,
                attention: None,
                address_1: self.street1.clone(),
                address_2: self.street2.clone(),
                city: self.city.clone(),
                region: self.county.clone(),
                state_province: self.state.clone(),
                postal_code: self.postal_code.clone(),
                country: "US".into(),
                address_type: "physical".into(),
            }),
            phones,
            schedules: Vec::new(),
            types,
            capacity: None,
        }
    }
}

impl Directory {
    /// Imports SAMHSA listing files (any of the three); re-importing updates, never duplicates.
    pub fn import_samhsa(&mut self, files: &[PathBuf]) -> Result<ImportReport> {
        let started = Instant::now();
        let (facilities, mut report) = read_facilities(files, &Mapping::shipped())?;
        self.write_facilities(&facilities, &mut report)?;
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }

    pub(crate) fn write_facilities(&mut self, facilities: &[Facility], report: &mut ImportReport) -> Result<()> {
        let empty: i64 = self.conn.query_row("SELECT COUNT(*) FROM service", [], |r| r.get(0))?;
        if empty == 0 {
            // Records built by `to_record` reference only rows they carry: skip per-row FK checks.
            self.conn.execute_batch("PRAGMA foreign_keys = OFF")?;
        }
        let tx = self.conn.transaction()?;
        let mut write = || -> Result<()> {
            for f in facilities {
                report.count(put_record(&tx, &f.to_record(), SOURCE)?);
            }
            Ok(())
        };
        if empty == 0 {
            super::store::into_empty_directory(write)?;
        } else {
            write()?;
        }
        tx.commit()?;
        self.conn.execute_batch("PRAGMA foreign_keys = ON")?;
        let t = std::time::Instant::now();
        self.rebuild_search_index()?;
        tracing::debug!("search index rebuilt in {:?}", t.elapsed());
        Ok(())
    }
}
