//! Export of the directory as HSDS 3.0 service documents (JSON), each with its organization,
//! locations, phones, schedules and attributes, cleaned to what the HSDS schema accepts.

use std::path::Path;

use rusqlite::OptionalExtension;
use serde_json::{json, Map, Value};

use super::DROPOFF_CODE;
use crate::error::{Error, Result};
use crate::model::*;
use crate::store::{stable_id, SERVICE_TYPE_TAXONOMY};
use crate::Directory;

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
