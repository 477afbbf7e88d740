//! Writing HSDS rows into the directory file, idempotently, and keeping the search indexes.

use rusqlite::types::ToSql;
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::model::*;
use crate::error::Result;

/// The taxonomy holding Waypoint's service-type codes (crisis_stabilization, detox, ...).
pub const SERVICE_TYPE_TAXONOMY: &str = "waypoint_service_type";

/// rtree `flags` bits.
pub const FLAG_DROPOFF_YES: i64 = 1;
pub const FLAG_DROPOFF_NO: i64 = 2;
pub const FLAG_HAS_SCHEDULE: i64 = 4;
pub const FLAG_HAS_CAPACITY: i64 = 8;

/// Attribute value of a service type guessed from the facility name (not listed by the source).
pub const INFERRED: &str = "inferred from name";
/// Attribute value of a service type the source lists.
pub const LISTED: &str = "listed";

const ID_NAMESPACE: Uuid = Uuid::from_u128(0x5f1c_2a7e_9d3b_4c61_8e0f_77a4_b2c9_d103);

/// A UUID that is the same each time for the same source and natural key.
pub fn stable_id(parts: &[&str]) -> String {
    Uuid::new_v5(&ID_NAMESPACE, parts.join("\u{1f}").as_bytes()).to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Unchanged,
    Updated,
    Created,
}

thread_local! {
    /// Set while bulk-loading into an empty directory: no row can exist yet, so the
    /// "is it already there?" lookup is skipped (first start loads twice as fast).
    static EMPTY_TARGET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with the lookups of existing rows skipped; only for a directory with no rows.
pub(crate) fn into_empty_directory<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    EMPTY_TARGET.with(|e| e.set(true));
    let result = f();
    EMPTY_TARGET.with(|e| e.set(false));
    result
}

/// Inserts or updates one row by `id`; says whether it was new, changed or the same.
pub(crate) fn upsert(conn: &Connection, table: &str, cols: &[&str], vals: &[&dyn ToSql]) -> Result<Outcome> {
    debug_assert_eq!(cols[0], "id");
    let mut hasher = Sha256::new();
    for v in vals {
        let value = v.to_sql()?;
        let value = match &value {
            rusqlite::types::ToSqlOutput::Borrowed(r) => *r,
            rusqlite::types::ToSqlOutput::Owned(v) => v.into(),
            _ => rusqlite::types::ValueRef::Null,
        };
        // Type tag + bytes: cheap and unambiguous.
        match value {
            rusqlite::types::ValueRef::Null => hasher.update([0u8]),
            rusqlite::types::ValueRef::Integer(i) => {
                hasher.update([1u8]);
                hasher.update(i.to_le_bytes());
            }
            rusqlite::types::ValueRef::Real(f) => {
                hasher.update([2u8]);
                hasher.update(f.to_le_bytes());
            }
            rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                hasher.update([3u8]);
                hasher.update((t.len() as u64).to_le_bytes());
                hasher.update(t);
            }
        }
    }
    let hash = hex::encode(&hasher.finalize()[..12]);
    let existing: Option<String> = if EMPTY_TARGET.with(|e| e.get()) {
        None
    } else {
        conn.prepare_cached(&format!("SELECT row_hash FROM {table} WHERE id = ?1"))?
            .query_row([vals[0]], |r| r.get(0))
            .optional()?
    };
    if existing.as_deref() == Some(hash.as_str()) {
        return Ok(Outcome::Unchanged);
    }
    let mut all: Vec<&dyn ToSql> = vals.to_vec();
    all.push(&hash);
    UPSERT_SQL.with(|cache| -> Result<()> {
        let mut cache = cache.borrow_mut();
        let (known_cols, sql) = cache.entry(table.to_owned()).or_default();
        if known_cols.iter().map(String::as_str).ne(cols.iter().copied()) {
            *known_cols = cols.iter().map(|c| c.to_string()).collect();
            *sql = upsert_sql(table, cols);
        }
        conn.prepare_cached(sql)?.execute(all.as_slice())?;
        Ok(())
    })?;
    Ok(if existing.is_some() { Outcome::Updated } else { Outcome::Created })
}

thread_local! {
    /// The upsert statement of each table, by its columns: built once, not per row (bulk loads
    /// write hundreds of thousands of rows).
    static UPSERT_SQL: std::cell::RefCell<std::collections::HashMap<String, (Vec<String>, String)>> =
        Default::default();
}

fn upsert_sql(table: &str, cols: &[&str]) -> String {
    let placeholders: Vec<String> = (1..=cols.len() + 1).map(|i| format!("?{i}")).collect();
    let updates: Vec<String> = cols[1..].iter().map(|c| format!("{c} = excluded.{c}")).collect();
    format!(
        "INSERT INTO {table} ({}, row_hash) VALUES ({}) ON CONFLICT(id) DO UPDATE SET {}, row_hash = excluded.row_hash",
        cols.join(", "),
        placeholders.join(", "),
        updates.join(", ")
    )
}

pub(crate) fn upsert_organization(c: &Connection, o: &Organization, source: &str) -> Result<Outcome> {
    upsert(
        c,
        "organization",
        &["id", "name", "alternate_name", "description", "email", "website", "source"],
        &[&o.id, &o.name, &o.alternate_name, &o.description, &o.email, &o.website, &source],
    )
}

pub(crate) fn upsert_service(c: &Connection, s: &Service, source: &str) -> Result<Outcome> {
    upsert(
        c,
        "service",
        &[
            "id",
            "organization_id",
            "name",
            "alternate_name",
            "description",
            "url",
            "email",
            "status",
            "eligibility_description",
            "minimum_age",
            "maximum_age",
            "law_enforcement_dropoff",
            "last_modified",
            "source",
        ],
        &[
            &s.id,
            &s.organization_id,
            &s.name,
            &s.alternate_name,
            &s.description,
            &s.url,
            &s.email,
            &s.status,
            &s.eligibility_description,
            &s.minimum_age,
            &s.maximum_age,
            &s.law_enforcement_dropoff,
            &s.last_modified,
            &source,
        ],
    )
}

pub(crate) fn upsert_location(c: &Connection, l: &Location, source: &str) -> Result<Outcome> {
    upsert(
        c,
        "location",
        &[
            "id",
            "organization_id",
            "location_type",
            "name",
            "alternate_name",
            "description",
            "latitude",
            "longitude",
            "timezone",
            "source",
        ],
        &[
            &l.id,
            &l.organization_id,
            &l.location_type,
            &l.name,
            &l.alternate_name,
            &l.description,
            &l.latitude,
            &l.longitude,
            &l.timezone,
            &source,
        ],
    )
}

pub(crate) fn upsert_address(c: &Connection, a: &Address) -> Result<Outcome> {
    upsert(
        c,
        "address",
        &[
            "id",
            "location_id",
            "attention",
            "address_1",
            "address_2",
            "city",
            "region",
            "state_province",
            "postal_code",
            "country",
            "address_type",
        ],
        &[
            &a.id,
            &a.location_id,
            &a.attention,
            &a.address_1,
            &a.address_2,
            &a.city,
            &a.region,
            &a.state_province,
            &a.postal_code,
            &a.country,
            &a.address_type,
        ],
    )
}

pub(crate) fn upsert_service_at_location(c: &Connection, s: &ServiceAtLocation) -> Result<Outcome> {
    upsert(
        c,
        "service_at_location",
        &["id", "service_id", "location_id", "description"],
        &[&s.id, &s.service_id, &s.location_id, &s.description],
    )
}

pub(crate) fn upsert_phone(c: &Connection, p: &Phone) -> Result<Outcome> {
    upsert(
        c,
        "phone",
        &[
            "id",
            "organization_id",
            "service_id",
            "location_id",
            "service_at_location_id",
            "number",
            "extension",
            "type",
            "description",
        ],
        &[
            &p.id,
            &p.organization_id,
            &p.service_id,
            &p.location_id,
            &p.service_at_location_id,
            &p.number,
            &p.extension,
            &p.kind,
            &p.description,
        ],
    )
}

pub(crate) fn upsert_schedule(c: &Connection, s: &Schedule) -> Result<Outcome> {
    upsert(
        c,
        "schedule",
        &[
            "id",
            "service_id",
            "location_id",
            "service_at_location_id",
            "valid_from",
            "valid_to",
            "dtstart",
            "timezone",
            "freq",
            "interval",
            "byday",
            "bymonthday",
            "opens_at",
            "closes_at",
            "description",
        ],
        &[
            &s.id,
            &s.service_id,
            &s.location_id,
            &s.service_at_location_id,
            &s.valid_from,
            &s.valid_to,
            &s.dtstart,
            &s.timezone,
            &s.freq,
            &s.interval,
            &s.byday,
            &s.bymonthday,
            &s.opens_at,
            &s.closes_at,
            &s.description,
        ],
    )
}

pub(crate) fn upsert_taxonomy_term(c: &Connection, t: &TaxonomyTerm) -> Result<Outcome> {
    upsert(
        c,
        "taxonomy_term",
        &["id", "code", "name", "description", "taxonomy"],
        &[&t.id, &t.code, &t.name, &t.description, &t.taxonomy],
    )
}

pub(crate) fn upsert_attribute(c: &Connection, a: &Attribute) -> Result<Outcome> {
    upsert(
        c,
        "attribute",
        &["id", "link_id", "link_type", "link_entity", "taxonomy_term_id", "value"],
        &[&a.id, &a.link_id, &a.link_type, &a.link_entity, &a.taxonomy_term_id, &a.value],
    )
}

pub(crate) fn upsert_capacity(c: &Connection, k: &ServiceCapacity) -> Result<Outcome> {
    let updated = k.updated_at.to_rfc3339();
    upsert(
        c,
        "service_capacity",
        &["id", "service_id", "unit", "available", "maximum", "updated_at"],
        &[&k.id, &k.service_id, &k.unit, &k.available, &k.maximum, &updated],
    )
}

/// Tags a service with a Waypoint service type. `how` says where the type came from
/// ("listed" by the source, or "inferred from name"), shown in the "why" line.
pub(crate) fn tag_service_type(c: &Connection, service_id: &str, code: &str, how: &str) -> Result<Outcome> {
    let term_id = stable_id(&[SERVICE_TYPE_TAXONOMY, code]);
    // The term is a pure function of its code: insert once, never update.
    c.prepare_cached(
        "INSERT OR IGNORE INTO taxonomy_term (id, code, name, description, taxonomy, row_hash) VALUES (?1, ?2, ?3, ?4, ?5, '')",
    )?
    .execute(params![term_id, code, code.replace('_', " "), format!("Waypoint service type `{code}`"), SERVICE_TYPE_TAXONOMY])?;
    upsert_attribute(
        c,
        &Attribute {
            id: stable_id(&["attribute", service_id, &term_id]),
            link_id: service_id.to_owned(),
            link_type: Some("service".to_owned()),
            link_entity: Some("service".to_owned()),
            taxonomy_term_id: term_id,
            value: Some(how.to_owned()),
        },
    )
}

/// Deletes a service's rows in `table` (linked by `service_id`) whose ids are not in `keep`:
/// a re-import that drops a phone number drops it here too.
pub(crate) fn prune_children(
    c: &Connection,
    table: &str,
    link_col: &str,
    link_id: &str,
    keep: &[String],
) -> Result<bool> {
    let existing: Vec<String> = c
        .prepare_cached(&format!("SELECT id FROM {table} WHERE {link_col} = ?1"))?
        .query_map([link_id], |r| r.get(0))?
        .collect::<std::result::Result<_, _>>()?;
    let mut pruned = false;
    for id in existing {
        if !keep.contains(&id) {
            c.prepare_cached(&format!("DELETE FROM {table} WHERE id = ?1"))?.execute([&id])?;
            pruned = true;
        }
    }
    Ok(pruned)
}

/// Gives every service-type code in the directory a bit of the R*Tree's `type_mask`.
pub(crate) fn assign_type_bits(c: &Connection) -> Result<()> {
    let codes: Vec<String> = c
        .prepare("SELECT DISTINCT code FROM taxonomy_term WHERE taxonomy = ?1 AND code IS NOT NULL AND code NOT IN (SELECT code FROM service_type_bit) ORDER BY code")?
        .query_map([SERVICE_TYPE_TAXONOMY], |r| r.get(0))?
        .collect::<std::result::Result<_, _>>()?;
    let first: i64 = c.query_row("SELECT COALESCE(MAX(bit) + 1, 0) FROM service_type_bit", [], |r| r.get(0))?;
    for (bit, code) in (first..).zip(codes) {
        if bit > 62 {
            return Err(crate::error::Error::Config(format!("too many service types; `{code}` has no index bit")));
        }
        c.execute("INSERT INTO service_type_bit(code, bit) VALUES (?1, ?2)", params![code, bit])?;
    }
    Ok(())
}

/// Rebuilds the R*Tree and the FTS5 index from the HSDS tables (one pass; 300k rows in seconds).
pub(crate) fn rebuild_search_index(c: &Connection) -> Result<()> {
    assign_type_bits(c)?;
    c.execute_batch(&format!(
        r#"
DROP TABLE IF EXISTS temp.service_mask;
CREATE TEMP TABLE service_mask AS
SELECT a.link_id AS service_id,
       SUM(1 << b.bit) AS type_mask,
       SUM(CASE WHEN a.value = '{INFERRED}' THEN 1 << b.bit ELSE 0 END) AS inferred_mask
FROM attribute a
JOIN taxonomy_term t ON t.id = a.taxonomy_term_id AND t.taxonomy = '{SERVICE_TYPE_TAXONOMY}'
JOIN service_type_bit b ON b.code = t.code
GROUP BY a.link_id;
CREATE INDEX temp.service_mask_id ON service_mask(service_id);
DELETE FROM sal_rtree;
INSERT INTO sal_rtree (sal_key, min_lat, max_lat, min_lon, max_lon, type_mask, inferred_mask, flags)
SELECT sal.sal_key, l.latitude, l.latitude, l.longitude, l.longitude,
    COALESCE(m.type_mask, 0), COALESCE(m.inferred_mask, 0),
    (CASE s.law_enforcement_dropoff WHEN 1 THEN {FLAG_DROPOFF_YES} WHEN 0 THEN {FLAG_DROPOFF_NO} ELSE 0 END)
    | (CASE WHEN EXISTS (SELECT 1 FROM schedule x WHERE x.service_id = s.id)
             OR EXISTS (SELECT 1 FROM schedule x WHERE x.location_id = l.id)
             OR EXISTS (SELECT 1 FROM schedule x WHERE x.service_at_location_id = sal.id)
           THEN {FLAG_HAS_SCHEDULE} ELSE 0 END)
    | (CASE WHEN EXISTS (SELECT 1 FROM service_capacity k WHERE k.service_id = s.id) THEN {FLAG_HAS_CAPACITY} ELSE 0 END)
FROM service_at_location sal
JOIN service s ON s.id = sal.service_id
JOIN location l ON l.id = sal.location_id
LEFT JOIN temp.service_mask m ON m.service_id = s.id
WHERE l.latitude IS NOT NULL AND l.longitude IS NOT NULL
  AND COALESCE(s.status, 'active') = 'active';
DROP TABLE temp.service_mask;
DELETE FROM service_fts;
INSERT INTO service_fts (rowid, name, organization, city)
SELECT sal.sal_key,
       s.name || COALESCE(' ' || s.alternate_name, '') || COALESCE(' ' || l.name, ''),
       COALESCE(o.name, ''),
       COALESCE((SELECT a.city FROM address a WHERE a.location_id = l.id LIMIT 1), '')
FROM service_at_location sal
JOIN service s ON s.id = sal.service_id
JOIN location l ON l.id = sal.location_id
LEFT JOIN organization o ON o.id = s.organization_id;
"#
    ))?;
    Ok(())
}
