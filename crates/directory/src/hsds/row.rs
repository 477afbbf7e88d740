//! One HSDS row, from a CSV record or a flattened JSON object: its id, its fields, and the
//! write of it to the directory's tables, with the reasons a row is rejected.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension};

use super::{DROPOFF_CODE, SOURCE};
use crate::error::{Error, Result};
use crate::model::*;
use crate::store::{self, stable_id, Outcome};

pub(super) type Row = BTreeMap<String, String>;

fn is_uuid(text: &str) -> bool {
    uuid::Uuid::parse_str(text).is_ok()
}

/// The id to store: the source's own when it is a UUID.
pub(super) fn hsds_id(table: &str, raw: &str) -> String {
    if is_uuid(raw) {
        raw.to_lowercase()
    } else {
        stable_id(&[SOURCE, table, raw])
    }
}

/// The entity (and table) a file's rows are: what a reference to one of them names.
fn entity_of(file_table: &str) -> &str {
    match file_table {
        "organizations" => "organization",
        "services" => "service",
        "locations" => "location",
        "addresses" => "address",
        "phones" => "phone",
        "schedules" => "schedule",
        "taxonomy_terms" => "taxonomy_term",
        "attributes" => "attribute",
        other => other,
    }
}

pub(super) fn text(row: &Row, key: &str) -> Option<String> {
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
pub(super) fn import_row(
    c: &Connection,
    table: &str,
    row: &Row,
    warn: &mut Vec<String>,
) -> Result<std::result::Result<Outcome, String>> {
    let Some(raw_id) = text(row, "id") else { return Ok(Err("no id".into())) };
    // Named as references name it (`service`, not the file's `services`): a package whose ids
    // are not UUIDs must link its rows to the same stable ids.
    let id = hsds_id(entity_of(table), &raw_id);
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

pub(super) fn record(
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
