//! Open Referral HSDS 3.0: import of a tabular data package (CSV + datapackage.json) and of
//! API-shaped JSON documents (service, organization, location, service_at_location, lists),
//! and export of the directory as HSDS 3.0 service documents.
//!
//! HSDS ids are UUIDs already and are kept, so re-importing finds the same rows; a non-UUID id
//! is replaced by one derived from the source and that id.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Instant;

use rusqlite::{Connection, OptionalExtension};
use serde_json::{json, Map, Value};

use super::model::*;
use super::store::{self, stable_id, Outcome, SERVICE_TYPE_TAXONOMY};
use super::Directory;
use crate::error::{Error, Result};

pub const SOURCE: &str = "hsds";

/// The taxonomy-term code that carries `law_enforcement_dropoff` as an attribute ("yes"/"no").
pub const DROPOFF_CODE: &str = "law_enforcement_dropoff";

/// The tables this importer reads, in the order their references need.
const TABLES: &[&str] = &[
    "organizations",
    "services",
    "locations",
    "addresses",
    "service_at_location",
    "phones",
    "schedules",
    "taxonomy_terms",
    "attributes",
];

type Row = BTreeMap<String, String>;

fn is_uuid(text: &str) -> bool {
    uuid::Uuid::parse_str(text).is_ok()
}

/// The id to store: the source's own when it is a UUID.
fn hsds_id(table: &str, raw: &str) -> String {
    if is_uuid(raw) {
        raw.to_lowercase()
    } else {
        stable_id(&[SOURCE, table, raw])
    }
}

fn text(row: &Row, key: &str) -> Option<String> {
    row.get(key).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn number(row: &Row, key: &str) -> Option<f64> {
    text(row, key).and_then(|v| v.parse().ok())
}

fn exists(c: &Connection, table: &str, id: &str) -> Result<bool> {
    Ok(c.prepare_cached(&format!("SELECT 1 FROM {table} WHERE id = ?1"))?
        .query_row([id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Writes one HSDS row of `table`; Err(reason) rejects it, warnings are pushed to `warn`.
fn import_row(
    c: &Connection,
    table: &str,
    row: &Row,
    warn: &mut Vec<String>,
) -> Result<std::result::Result<Outcome, String>> {
    let Some(raw_id) = text(row, "id") else { return Ok(Err("no id".into())) };
    let id = hsds_id(table, &raw_id);
    let reference = |key: &str, target: &str, warn: &mut Vec<String>| -> Result<Option<String>> {
        match text(row, key) {
            None => Ok(None),
            Some(raw) => {
                let rid = hsds_id(target, &raw);
                if exists(c, target, &rid)? {
                    Ok(Some(rid))
                } else {
                    warn.push(format!("{key} {raw} refers to no {target}; link dropped"));
                    Ok(None)
                }
            }
        }
    };
    let outcome = match table {
        "organizations" => {
            let Some(name) = text(row, "name") else { return Ok(Err("organization without a name".into())) };
            store::upsert_organization(
                c,
                &Organization {
                    id,
                    name,
                    alternate_name: text(row, "alternate_name"),
                    description: text(row, "description"),
                    email: text(row, "email"),
                    website: text(row, "website"),
                },
                SOURCE,
            )?
        }
        "services" => {
            let Some(name) = text(row, "name") else { return Ok(Err("service without a name".into())) };
            let Some(org) = reference("organization_id", "organization", warn)? else {
                return Ok(Err("service without a known organization".into()));
            };
            let status = text(row, "status").unwrap_or_else(|| "active".into());
            if !["active", "inactive", "defunct", "temporarily closed"].contains(&status.as_str()) {
                return Ok(Err(format!("status `{status}` is not an HSDS service status")));
            }
            store::upsert_service(
                c,
                &Service {
                    id,
                    organization_id: org,
                    name,
                    alternate_name: text(row, "alternate_name"),
                    description: text(row, "description"),
                    url: text(row, "url"),
                    email: text(row, "email"),
                    status,
                    eligibility_description: text(row, "eligibility_description"),
                    minimum_age: number(row, "minimum_age"),
                    maximum_age: number(row, "maximum_age"),
                    law_enforcement_dropoff: None,
                    last_modified: text(row, "last_modified"),
                },
                SOURCE,
            )?
        }
        "locations" => {
            let (mut lat, mut lon) = (number(row, "latitude"), number(row, "longitude"));
            if lat.is_some_and(|v| !(-90.0..=90.0).contains(&v)) || lon.is_some_and(|v| !(-180.0..=180.0).contains(&v))
            {
                warn.push(format!(
                    "coordinates {},{} out of range; dropped (not placed on the map)",
                    text(row, "latitude").unwrap_or_default(),
                    text(row, "longitude").unwrap_or_default()
                ));
                (lat, lon) = (None, None);
            }
            let location_type = text(row, "location_type").unwrap_or_else(|| "physical".into());
            if !["physical", "postal", "virtual"].contains(&location_type.as_str()) {
                return Ok(Err(format!("location_type `{location_type}` is not physical, postal or virtual")));
            }
            store::upsert_location(
                c,
                &Location {
                    id,
                    organization_id: reference("organization_id", "organization", warn)?,
                    location_type,
                    name: text(row, "name"),
                    alternate_name: text(row, "alternate_name"),
                    description: text(row, "description"),
                    latitude: lat,
                    longitude: lon,
                    timezone: text(row, "timezone"),
                },
                SOURCE,
            )?
        }
        "addresses" => {
            let Some(location_id) = reference("location_id", "location", warn)? else {
                return Ok(Err("address without a known location".into()));
            };
            let (Some(address_1), Some(city), Some(state), Some(postal), Some(country)) = (
                text(row, "address_1"),
                text(row, "city"),
                text(row, "state_province"),
                text(row, "postal_code"),
                text(row, "country"),
            ) else {
                return Ok(Err("address lacks address_1, city, state_province, postal_code or country".into()));
            };
            store::upsert_address(
                c,
                &Address {
                    id,
                    location_id,
                    attention: text(row, "attention"),
                    address_1,
                    address_2: text(row, "address_2"),
                    city,
                    region: text(row, "region"),
                    state_province: state,
                    postal_code: postal,
                    country,
                    address_type: text(row, "address_type").unwrap_or_else(|| "physical".into()),
                },
            )?
        }
        "service_at_location" => {
            let (Some(service_id), Some(location_id)) =
                (reference("service_id", "service", warn)?, reference("location_id", "location", warn)?)
            else {
                return Ok(Err("service_at_location without a known service and location".into()));
            };
            store::upsert_service_at_location(
                c,
                &ServiceAtLocation { id, service_id, location_id, description: text(row, "description") },
            )?
        }
        "phones" => {
            let Some(number) = text(row, "number") else { return Ok(Err("phone without a number".into())) };
            // Some exports quote the number twice ("""+44 1234 234567""").
            let number = number.trim_matches('"').trim().to_owned();
            store::upsert_phone(
                c,
                &Phone {
                    id,
                    organization_id: reference("organization_id", "organization", warn)?,
                    service_id: reference("service_id", "service", warn)?,
                    location_id: reference("location_id", "location", warn)?,
                    service_at_location_id: reference("service_at_location_id", "service_at_location", warn)?,
                    number,
                    extension: text(row, "extension"),
                    kind: text(row, "type"),
                    description: text(row, "description"),
                },
            )?
        }
        "schedules" => {
            let schedule = Schedule {
                id,
                service_id: reference("service_id", "service", warn)?,
                location_id: reference("location_id", "location", warn)?,
                service_at_location_id: reference("service_at_location_id", "service_at_location", warn)?,
                valid_from: text(row, "valid_from"),
                valid_to: text(row, "valid_to"),
                dtstart: text(row, "dtstart"),
                timezone: text(row, "timezone"),
                freq: text(row, "freq"),
                interval: number(row, "interval").map(|v| v as i64),
                byday: text(row, "byday"),
                bymonthday: text(row, "bymonthday"),
                opens_at: text(row, "opens_at"),
                closes_at: text(row, "closes_at"),
                description: text(row, "description"),
            };
            if schedule.service_id.is_none()
                && schedule.location_id.is_none()
                && schedule.service_at_location_id.is_none()
            {
                return Ok(Err("schedule of no known service or location".into()));
            }
            store::upsert_schedule(c, &schedule)?
        }
        "taxonomy_terms" => {
            let Some(name) = text(row, "name") else { return Ok(Err("taxonomy term without a name".into())) };
            store::upsert_taxonomy_term(
                c,
                &TaxonomyTerm {
                    id,
                    code: text(row, "code"),
                    name,
                    description: text(row, "description"),
                    taxonomy: text(row, "taxonomy"),
                },
            )?
        }
        "attributes" => {
            let (Some(link), Some(term)) = (text(row, "link_id"), text(row, "taxonomy_term_id")) else {
                return Ok(Err("attribute without link_id or taxonomy_term_id".into()));
            };
            let term_id = hsds_id("taxonomy_term", &term);
            let code: Option<String> = c
                .prepare_cached("SELECT code FROM taxonomy_term WHERE id = ?1")?
                .query_row([&term_id], |r| r.get(0))
                .optional()?
                .flatten();
            let link_id = hsds_id("service", &link);
            if code.as_deref() == Some(DROPOFF_CODE) {
                let yes = match text(row, "value").map(|v| v.to_lowercase()).as_deref() {
                    Some("yes" | "true" | "1") => Some(true),
                    Some("no" | "false" | "0") => Some(false),
                    _ => None,
                };
                c.prepare_cached("UPDATE service SET law_enforcement_dropoff = ?1 WHERE id = ?2")?
                    .execute(rusqlite::params![yes, link_id])?;
            }
            store::upsert_attribute(
                c,
                &Attribute {
                    id,
                    link_id,
                    link_type: text(row, "link_type"),
                    link_entity: text(row, "link_entity"),
                    taxonomy_term_id: term_id,
                    value: text(row, "value"),
                },
            )?
        }
        other => return Err(Error::Config(format!("HSDS table `{other}` not handled"))),
    };
    Ok(Ok(outcome))
}

fn record(
    report: &mut ImportReport,
    source: &str,
    row_no: u64,
    result: std::result::Result<Outcome, String>,
    warns: Vec<String>,
) {
    report.rows_read += 1;
    match result {
        Ok(outcome) => report.count(outcome),
        Err(reason) => report.reject(source, row_no, reason),
    }
    for w in warns {
        report.warn(source, row_no, w);
    }
}

/// The CSV file of each table, from datapackage.json when it lists resources.
fn package_paths(dir: &Path, report: &mut ImportReport) -> BTreeMap<String, std::path::PathBuf> {
    let mut paths = BTreeMap::new();
    let descriptor = std::fs::read_to_string(dir.join("datapackage.json")).ok();
    let parsed: Option<Value> = descriptor.as_deref().and_then(|t| serde_json::from_str(t).ok());
    match parsed.as_ref().and_then(|d| d.get("resources")).and_then(Value::as_array) {
        Some(resources) => {
            for r in resources {
                if let (Some(name), Some(path)) =
                    (r.get("name").and_then(Value::as_str), r.get("path").and_then(Value::as_str))
                {
                    paths.insert(name.to_owned(), dir.join(path));
                }
            }
        }
        None => {
            report.warn(
                "datapackage.json",
                0,
                "no readable resource list (missing, or a link to the spec's root package); using the standard HSDS file names",
            );
        }
    }
    for table in TABLES {
        paths.entry((*table).to_owned()).or_insert_with(|| dir.join(format!("{table}.csv")));
    }
    paths
}

impl Directory {
    /// Imports an HSDS 3.0 tabular data package (a folder of CSVs with datapackage.json).
    pub fn import_hsds_package(&mut self, dir: &Path) -> Result<ImportReport> {
        let started = Instant::now();
        let mut report = ImportReport::new(format!("HSDS package {}", dir.display()));
        let paths = package_paths(dir, &mut report);
        let tx = self.conn.transaction()?;
        for table in TABLES {
            let path = &paths[*table];
            if !path.exists() {
                continue;
            }
            let file = path.file_name().and_then(|n| n.to_str()).unwrap_or(table).to_owned();
            let mut reader = csv::Reader::from_path(path).map_err(|e| Error::Config(format!("{file}: {e}")))?;
            let headers = reader.headers().map_err(|e| Error::Config(format!("{file}: {e}")))?.clone();
            for (i, rec) in reader.records().enumerate() {
                let row_no = i as u64 + 1;
                let rec = match rec {
                    Ok(rec) => rec,
                    Err(e) => {
                        report.rows_read += 1;
                        report.reject(&file, row_no, format!("unreadable CSV row: {e}"));
                        continue;
                    }
                };
                let row: Row = headers.iter().zip(rec.iter()).map(|(h, v)| (h.to_owned(), v.to_owned())).collect();
                let mut warns = Vec::new();
                let result = import_row(&tx, table, &row, &mut warns)?;
                record(&mut report, &file, row_no, result, warns);
            }
        }
        let used: HashSet<std::path::PathBuf> = TABLES.iter().map(|t| paths[*t].clone()).collect();
        let mut others: Vec<String> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "csv") && !used.contains(p))
            .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_owned))
            .collect();
        others.sort();
        for name in others {
            report.warn(&name, 0, "table not used by Waypoint's directory; skipped");
        }
        tx.commit()?;
        self.rebuild_search_index()?;
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }

    /// Imports HSDS 3.0 JSON documents: a service, organization, location, service_at_location
    /// or taxonomy term, or a paginated list of them (`contents`).
    pub fn import_hsds_json(&mut self, path: &Path) -> Result<ImportReport> {
        let started = Instant::now();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("document").to_owned();
        let mut report = ImportReport::new(format!("HSDS JSON {name}"));
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
        let tx = self.conn.transaction()?;
        write_hsds_document(&tx, &doc, &name, &mut report)?;
        tx.commit()?;
        self.rebuild_search_index()?;
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }
}

/// Writes one HSDS JSON document (or a `contents` list of them) inside the caller's transaction,
/// without refreshing the search index.
pub(crate) fn write_hsds_document(tx: &Connection, doc: &Value, name: &str, report: &mut ImportReport) -> Result<()> {
    {
        let name = name.to_owned();
        let mut walker = Walker { c: tx, report, source: name, row: 0, skipped: BTreeMap::new(), seen: HashSet::new() };
        match doc.get("contents").and_then(Value::as_array) {
            Some(items) => {
                for item in items {
                    walker.document(item)?;
                }
            }
            None => walker.document(doc)?,
        }
        let skipped = std::mem::take(&mut walker.skipped);
        let source = walker.source.clone();
        for (kind, n) in skipped {
            report.warn(&source, 0, format!("{n} `{kind}` objects not used by Waypoint's directory; skipped"));
        }
        Ok(())
    }
}

/// Walks nested HSDS JSON, writing each object it knows as a row (parents before children).
struct Walker<'a> {
    c: &'a Connection,
    report: &'a mut ImportReport,
    source: String,
    row: u64,
    skipped: BTreeMap<String, u64>,
    /// Rows already written by this document: nested copies of one object (a location under
    /// the organization and again under a service) count once, the first copy wins.
    seen: HashSet<(String, String)>,
}

fn as_row(obj: &Map<String, Value>, extra: &[(&str, Option<&str>)]) -> Row {
    let mut row: Row = obj
        .iter()
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some((k.clone(), s.clone())),
            Value::Number(n) => Some((k.clone(), n.to_string())),
            Value::Bool(b) => Some((k.clone(), b.to_string())),
            _ => None,
        })
        .collect();
    for (k, v) in extra {
        if let Some(v) = v {
            row.entry((*k).to_owned()).or_insert_with(|| (*v).to_owned());
        }
    }
    row
}

const SKIPPED_KINDS: &[&str] = &[
    "contacts",
    "languages",
    "funding",
    "cost_options",
    "programs",
    "program",
    "required_documents",
    "service_areas",
    "accessibility",
    "organization_identifiers",
    "metadata",
];

impl Walker<'_> {
    fn put(&mut self, table: &str, row: Row) -> Result<Option<String>> {
        self.row += 1;
        let mut warns = Vec::new();
        let id = text(&row, "id").map(|raw| hsds_id(table, &raw));
        if let Some(id) = &id {
            if !self.seen.insert((table.to_owned(), id.clone())) {
                self.report.rows_read += 1;
                self.report.merged += 1;
                return Ok(Some(id.clone()));
            }
        }
        let result = import_row(self.c, table, &row, &mut warns)?;
        let ok = result.is_ok();
        record(self.report, &self.source, self.row, result, warns);
        Ok(if ok { id } else { None })
    }

    fn note_skipped(&mut self, obj: &Map<String, Value>) {
        for kind in SKIPPED_KINDS {
            match obj.get(*kind) {
                Some(Value::Array(a)) if !a.is_empty() => {
                    *self.skipped.entry((*kind).to_owned()).or_default() += a.len() as u64
                }
                Some(Value::Object(_)) => *self.skipped.entry((*kind).to_owned()).or_default() += 1,
                _ => {}
            }
        }
    }

    fn document(&mut self, v: &Value) -> Result<()> {
        let Some(obj) = v.as_object() else { return Ok(()) };
        if obj.contains_key("service") && obj.contains_key("location") {
            self.service_at_location(obj, None)
        } else if obj.contains_key("status") || obj.contains_key("service_at_locations") {
            self.service(obj, None).map(|_| ())
        } else if obj.contains_key("location_type") {
            self.location(obj, None).map(|_| ())
        } else if obj.contains_key("services") || obj.contains_key("legal_status") || obj.contains_key("tax_status") {
            self.organization(obj).map(|_| ())
        } else if obj.contains_key("name") && (obj.contains_key("code") || obj.contains_key("taxonomy")) {
            self.put("taxonomy_terms", as_row(obj, &[])).map(|_| ())
        } else {
            *self.skipped.entry("unrecognised document".into()).or_default() += 1;
            Ok(())
        }
    }

    fn each<'v>(obj: &'v Map<String, Value>, key: &str) -> impl Iterator<Item = &'v Map<String, Value>> {
        obj.get(key).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_object)
    }

    fn organization(&mut self, obj: &Map<String, Value>) -> Result<Option<String>> {
        self.note_skipped(obj);
        let Some(org_id) = self.put("organizations", as_row(obj, &[]))? else { return Ok(None) };
        for loc in Self::each(obj, "locations") {
            self.location(loc, Some(&org_id))?;
        }
        for phone in Self::each(obj, "phones") {
            self.put("phones", as_row(phone, &[("organization_id", Some(&org_id))]))?;
        }
        for svc in Self::each(obj, "services") {
            self.service(svc, Some(&org_id))?;
        }
        Ok(Some(org_id))
    }

    fn location(&mut self, obj: &Map<String, Value>, org_id: Option<&str>) -> Result<Option<String>> {
        self.note_skipped(obj);
        let Some(loc_id) = self.put("locations", as_row(obj, &[("organization_id", org_id)]))? else { return Ok(None) };
        for a in Self::each(obj, "addresses") {
            self.put("addresses", as_row(a, &[("location_id", Some(&loc_id))]))?;
        }
        for p in Self::each(obj, "phones") {
            self.put("phones", as_row(p, &[("location_id", Some(&loc_id))]))?;
        }
        for s in Self::each(obj, "schedules") {
            self.put("schedules", as_row(s, &[("location_id", Some(&loc_id))]))?;
        }
        Ok(Some(loc_id))
    }

    fn service(&mut self, obj: &Map<String, Value>, org_id: Option<&str>) -> Result<Option<String>> {
        self.note_skipped(obj);
        let nested_org = match obj.get("organization").and_then(Value::as_object) {
            Some(org) => self.organization(org)?,
            None => None,
        };
        let org_id = org_id.map(str::to_owned).or(nested_org);
        let Some(svc_id) = self.put("services", as_row(obj, &[("organization_id", org_id.as_deref())]))? else {
            return Ok(None);
        };
        for p in Self::each(obj, "phones") {
            self.put("phones", as_row(p, &[("service_id", Some(&svc_id))]))?;
        }
        for s in Self::each(obj, "schedules") {
            self.put("schedules", as_row(s, &[("service_id", Some(&svc_id))]))?;
        }
        for sal in Self::each(obj, "service_at_locations") {
            self.service_at_location(sal, Some(&svc_id))?;
        }
        for a in Self::each(obj, "attributes") {
            let term = a.get("taxonomy_term").and_then(Value::as_object);
            if let Some(term) = term {
                self.put("taxonomy_terms", as_row(term, &[]))?;
            }
            let term_id = term.and_then(|t| t.get("id")).and_then(Value::as_str);
            self.put("attributes", as_row(a, &[("link_id", Some(&svc_id)), ("taxonomy_term_id", term_id)]))?;
        }
        Ok(Some(svc_id))
    }

    fn service_at_location(&mut self, obj: &Map<String, Value>, svc_id: Option<&str>) -> Result<()> {
        self.note_skipped(obj);
        let svc_id = match (svc_id, obj.get("service").and_then(Value::as_object)) {
            (Some(id), _) => Some(id.to_owned()),
            (None, Some(svc)) => self.service(svc, None)?,
            (None, None) => None,
        };
        let loc_id = match obj.get("location").and_then(Value::as_object) {
            Some(loc) => self.location(loc, None)?,
            None => None,
        };
        let Some(sal_id) = self.put(
            "service_at_location",
            as_row(obj, &[("service_id", svc_id.as_deref()), ("location_id", loc_id.as_deref())]),
        )?
        else {
            return Ok(());
        };
        for p in Self::each(obj, "phones") {
            self.put("phones", as_row(p, &[("service_at_location_id", Some(&sal_id))]))?;
        }
        for s in Self::each(obj, "schedules") {
            self.put("schedules", as_row(s, &[("service_at_location_id", Some(&sal_id))]))?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- export

/// A URL the HSDS `uri` format accepts, or None (bare "www.x.org" gets "http://").
fn clean_uri(url: &str) -> Option<String> {
    let url = url.trim();
    if url.is_empty() || url.chars().any(|c| c.is_whitespace() || "<>\"{}|\\^`".contains(c)) {
        return None;
    }
    let lower = url.to_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        Some(url.to_owned())
    } else if url.contains('.') && !url.contains(':') {
        Some(format!("http://{url}"))
    } else {
        None
    }
}

fn clean_email(email: &str) -> Option<String> {
    let email = email.trim();
    let (local, domain) = email.split_once('@')?;
    (!local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace)).then(|| email.to_owned())
}

fn put(obj: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        obj.insert(key.to_owned(), v);
    }
}

fn s(v: &Option<String>) -> Option<Value> {
    v.as_ref().map(|x| Value::String(x.clone()))
}

impl Directory {
    /// Every service as an HSDS 3.0 service document (with its organization, locations,
    /// phones, schedules and attributes), ordered by id. `limit` caps how many.
    pub fn export_hsds(&self, limit: Option<usize>) -> Result<Vec<Value>> {
        let ids: Vec<String> = self
            .conn
            .prepare("SELECT id FROM service ORDER BY id LIMIT ?1")?
            .query_map([limit.map(|l| l as i64).unwrap_or(-1)], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        ids.iter().map(|id| self.export_service(id)).collect()
    }

    /// Writes the whole directory as a JSON array of HSDS service documents.
    pub fn export_hsds_to(&self, path: &Path) -> Result<usize> {
        let docs = self.export_hsds(None)?;
        std::fs::write(path, serde_json::to_vec(&docs)?)?;
        Ok(docs.len())
    }

    pub fn export_service(&self, service_id: &str) -> Result<Value> {
        let c = &self.conn;
        let svc = c
            .prepare_cached(
                "SELECT id, organization_id, name, alternate_name, description, url, email, status,
                        eligibility_description, minimum_age, maximum_age, law_enforcement_dropoff, last_modified
                 FROM service WHERE id = ?1",
            )?
            .query_row([service_id], |r| {
                Ok(Service {
                    id: r.get(0)?,
                    organization_id: r.get(1)?,
                    name: r.get(2)?,
                    alternate_name: r.get(3)?,
                    description: r.get(4)?,
                    url: r.get(5)?,
                    email: r.get(6)?,
                    status: r.get(7)?,
                    eligibility_description: r.get(8)?,
                    minimum_age: r.get(9)?,
                    maximum_age: r.get(10)?,
                    law_enforcement_dropoff: r.get(11)?,
                    last_modified: r.get(12)?,
                })
            })
            .optional()?
            .ok_or_else(|| Error::NotFound(format!("service {service_id}")))?;
        let mut doc = Map::new();
        doc.insert("id".into(), json!(svc.id));
        doc.insert("organization_id".into(), json!(svc.organization_id));
        doc.insert("name".into(), json!(svc.name));
        doc.insert("status".into(), json!(svc.status));
        put(&mut doc, "alternate_name", s(&svc.alternate_name));
        put(&mut doc, "description", s(&svc.description));
        put(&mut doc, "url", svc.url.as_deref().and_then(clean_uri).map(Value::String));
        put(&mut doc, "email", svc.email.as_deref().and_then(clean_email).map(Value::String));
        put(&mut doc, "eligibility_description", s(&svc.eligibility_description));
        put(&mut doc, "minimum_age", svc.minimum_age.map(|v| json!(v)));
        put(&mut doc, "maximum_age", svc.maximum_age.map(|v| json!(v)));
        put(
            &mut doc,
            "last_modified",
            svc.last_modified.as_deref().filter(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()).map(|t| json!(t)),
        );
        doc.insert("phones".into(), Value::Array(self.export_phones("service_id", &svc.id)?));
        doc.insert("schedules".into(), Value::Array(self.export_schedules("service_id", &svc.id)?));
        // Service-at-locations, each with its location.
        let sals: Vec<(String, String, Option<String>)> = c
            .prepare_cached(
                "SELECT id, location_id, description FROM service_at_location WHERE service_id = ?1 ORDER BY id",
            )?
            .query_map([&svc.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut sal_docs = Vec::new();
        for (sal_id, loc_id, description) in sals {
            let mut sal = Map::new();
            sal.insert("id".into(), json!(sal_id));
            sal.insert("service_id".into(), json!(svc.id));
            sal.insert("location_id".into(), json!(loc_id));
            put(&mut sal, "description", s(&description));
            sal.insert("phones".into(), Value::Array(self.export_phones("service_at_location_id", &sal_id)?));
            sal.insert("schedules".into(), Value::Array(self.export_schedules("service_at_location_id", &sal_id)?));
            sal.insert("location".into(), self.export_location(&loc_id)?);
            sal_docs.push(Value::Object(sal));
        }
        doc.insert("service_at_locations".into(), Value::Array(sal_docs));
        doc.insert("organization".into(), self.export_organization(&svc.organization_id)?);
        let mut attributes = self.export_attributes(&svc.id)?;
        if let Some(yes) = svc.law_enforcement_dropoff {
            let term_id = stable_id(&[SERVICE_TYPE_TAXONOMY, DROPOFF_CODE]);
            let attr_id = stable_id(&["attribute", &svc.id, &term_id]);
            if !attributes.iter().any(|a| a["id"] == json!(attr_id)) {
                attributes.push(json!({
                    "id": attr_id, "link_id": svc.id, "link_type": "service", "link_entity": "service",
                    "taxonomy_term_id": term_id, "value": if yes { "yes" } else { "no" },
                    "taxonomy_term": {
                        "id": term_id, "code": DROPOFF_CODE, "name": "takes law-enforcement drop-offs",
                        "description": "Whether police may bring a person in crisis here directly.",
                        "taxonomy": SERVICE_TYPE_TAXONOMY
                    }
                }));
            }
        }
        doc.insert("attributes".into(), Value::Array(attributes));
        Ok(Value::Object(doc))
    }

    fn export_phones(&self, column: &str, id: &str) -> Result<Vec<Value>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT id, number, extension, type, description, organization_id, service_id, location_id, service_at_location_id
             FROM phone WHERE {column} = ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([id], |r| {
            let mut p = Map::new();
            p.insert("id".into(), json!(r.get::<_, String>(0)?));
            p.insert("number".into(), json!(r.get::<_, String>(1)?));
            // HSDS 3.0 types the extension as a number.
            put(
                &mut p,
                "extension",
                r.get::<_, Option<String>>(2)?.and_then(|e| e.parse::<i64>().ok()).map(|e| json!(e)),
            );
            put(&mut p, "type", r.get::<_, Option<String>>(3)?.map(Value::String));
            put(&mut p, "description", r.get::<_, Option<String>>(4)?.map(Value::String));
            for (i, key) in
                [(5, "organization_id"), (6, "service_id"), (7, "location_id"), (8, "service_at_location_id")]
            {
                put(&mut p, key, r.get::<_, Option<String>>(i)?.map(Value::String));
            }
            Ok(Value::Object(p))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn export_schedules(&self, column: &str, id: &str) -> Result<Vec<Value>> {
        let schedules = self.schedules_where(column, id)?;
        let now = chrono::Utc::now();
        Ok(schedules
            .into_iter()
            .map(|sc| {
                let mut o = Map::new();
                o.insert("id".into(), json!(sc.id));
                put(&mut o, "service_id", s(&sc.service_id));
                put(&mut o, "location_id", s(&sc.location_id));
                put(&mut o, "service_at_location_id", s(&sc.service_at_location_id));
                for (key, value) in [
                    ("valid_from", &sc.valid_from),
                    ("valid_to", &sc.valid_to),
                    ("dtstart", &sc.dtstart),
                    ("byday", &sc.byday),
                    ("bymonthday", &sc.bymonthday),
                    ("opens_at", &sc.opens_at),
                    ("closes_at", &sc.closes_at),
                    ("description", &sc.description),
                ] {
                    put(&mut o, key, s(value));
                }
                put(&mut o, "freq", sc.freq.as_ref().filter(|f| *f == "WEEKLY" || *f == "MONTHLY").map(|f| json!(f)));
                put(&mut o, "interval", sc.interval.map(|i| json!(i)));
                // HSDS 3.0 timezone is a UTC offset in hours; an IANA name is kept in notes.
                if let Some(tz) = &sc.timezone {
                    match tz.parse::<f64>() {
                        Ok(hours) => {
                            o.insert("timezone".into(), json!(hours));
                        }
                        Err(_) => {
                            if let Ok(zone) = tz.parse::<chrono_tz::Tz>() {
                                use chrono::Offset;
                                let secs = now.with_timezone(&zone).offset().fix().local_minus_utc();
                                o.insert("timezone".into(), json!(secs as f64 / 3600.0));
                            }
                            o.insert("notes".into(), json!(format!("IANA timezone: {tz}")));
                        }
                    }
                }
                Value::Object(o)
            })
            .collect())
    }

    fn export_location(&self, id: &str) -> Result<Value> {
        type LocationRow =
            (String, Option<String>, Option<String>, Option<String>, Option<f64>, Option<f64>, Option<String>);
        let (location_type, name, alternate_name, description, lat, lon, org): LocationRow = self
            .conn
            .prepare_cached(
                "SELECT location_type, name, alternate_name, description, latitude, longitude, organization_id FROM location WHERE id = ?1",
            )?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))?;
        let mut o = Map::new();
        o.insert("id".into(), json!(id));
        o.insert("location_type".into(), json!(location_type));
        put(&mut o, "organization_id", s(&org));
        put(&mut o, "name", s(&name));
        put(&mut o, "alternate_name", s(&alternate_name));
        put(&mut o, "description", s(&description));
        put(&mut o, "latitude", lat.map(|v| json!(v)));
        put(&mut o, "longitude", lon.map(|v| json!(v)));
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, attention, address_1, address_2, city, region, state_province, postal_code, country, address_type
             FROM address WHERE location_id = ?1 ORDER BY id",
        )?;
        let addresses = stmt
            .query_map([id], |r| {
                let mut a = Map::new();
                a.insert("id".into(), json!(r.get::<_, String>(0)?));
                a.insert("location_id".into(), json!(id));
                put(&mut a, "attention", r.get::<_, Option<String>>(1)?.map(Value::String));
                a.insert("address_1".into(), json!(r.get::<_, String>(2)?));
                put(&mut a, "address_2", r.get::<_, Option<String>>(3)?.map(Value::String));
                a.insert("city".into(), json!(r.get::<_, String>(4)?));
                put(&mut a, "region", r.get::<_, Option<String>>(5)?.map(Value::String));
                a.insert("state_province".into(), json!(r.get::<_, String>(6)?));
                a.insert("postal_code".into(), json!(r.get::<_, String>(7)?));
                a.insert("country".into(), json!(r.get::<_, String>(8)?));
                a.insert("address_type".into(), json!(r.get::<_, String>(9)?));
                Ok(Value::Object(a))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        o.insert("addresses".into(), Value::Array(addresses));
        o.insert("phones".into(), Value::Array(self.export_phones("location_id", id)?));
        o.insert("schedules".into(), Value::Array(self.export_schedules("location_id", id)?));
        Ok(Value::Object(o))
    }

    fn export_organization(&self, id: &str) -> Result<Value> {
        let org = self
            .conn
            .prepare_cached("SELECT name, alternate_name, description, email, website FROM organization WHERE id = ?1")?
            .query_row([id], |r| {
                Ok(Organization {
                    id: id.to_owned(),
                    name: r.get(0)?,
                    alternate_name: r.get(1)?,
                    description: r.get(2)?,
                    email: r.get(3)?,
                    website: r.get(4)?,
                })
            })?;
        let mut o = Map::new();
        o.insert("id".into(), json!(org.id));
        o.insert("name".into(), json!(org.name));
        // HSDS requires a description.
        o.insert("description".into(), json!(org.description.unwrap_or_default()));
        put(&mut o, "alternate_name", s(&org.alternate_name));
        put(&mut o, "email", org.email.as_deref().and_then(clean_email).map(Value::String));
        put(&mut o, "website", org.website.as_deref().and_then(clean_uri).map(Value::String));
        Ok(Value::Object(o))
    }

    fn export_attributes(&self, link_id: &str) -> Result<Vec<Value>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT a.id, a.link_type, a.link_entity, a.taxonomy_term_id, a.value, t.code, t.name, t.description, t.taxonomy
             FROM attribute a LEFT JOIN taxonomy_term t ON t.id = a.taxonomy_term_id
             WHERE a.link_id = ?1 ORDER BY a.id",
        )?;
        let rows = stmt.query_map([link_id], |r| {
            let mut a = Map::new();
            a.insert("id".into(), json!(r.get::<_, String>(0)?));
            a.insert("link_id".into(), json!(link_id));
            put(&mut a, "link_type", r.get::<_, Option<String>>(1)?.map(Value::String));
            put(&mut a, "link_entity", r.get::<_, Option<String>>(2)?.map(Value::String));
            let term_id: String = r.get(3)?;
            a.insert("taxonomy_term_id".into(), json!(term_id));
            put(&mut a, "value", r.get::<_, Option<String>>(4)?.map(Value::String));
            if let Some(name) = r.get::<_, Option<String>>(6)? {
                let mut t = Map::new();
                t.insert("id".into(), json!(term_id));
                t.insert("name".into(), json!(name));
                t.insert("description".into(), json!(r.get::<_, Option<String>>(7)?.unwrap_or_default()));
                put(&mut t, "code", r.get::<_, Option<String>>(5)?.map(Value::String));
                put(&mut t, "taxonomy", r.get::<_, Option<String>>(8)?.map(Value::String));
                a.insert("taxonomy_term".into(), Value::Object(t));
            }
            Ok(Value::Object(a))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
