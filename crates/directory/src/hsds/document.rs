//! Import of HSDS 3.0 JSON documents (service, organization, location, service_at_location,
//! taxonomy term, or a `contents` list of them), as a file or inside a feed or snapshot.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Instant;

use rusqlite::Connection;
use serde_json::{Map, Value};

use super::row::{hsds_id, import_row, record, text, Row};
use crate::error::Result;
use crate::model::*;
use crate::Directory;

impl Directory {
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
