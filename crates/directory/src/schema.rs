//! The directory's own SQLite file: embedded, numbered migrations and a tracking table.
//!
//! Tables follow Open Referral HSDS 3.0 names and fields; `service_capacity` follows the
//! HSDS 3.1 addition. `row_hash` lets an import tell "updated" from "unchanged".
//! The search tables (`sal_rtree`, `service_fts`) are derived and rebuilt from the others.

use rusqlite::Connection;

use crate::error::Result;

/// (version, name, SQL). Append only: never edit a migration that has shipped.
pub const MIGRATIONS: &[(u32, &str, &str)] = &[(
    1,
    "hsds core tables and search indexes",
    r#"
CREATE TABLE organization (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    alternate_name TEXT,
    description TEXT,
    email TEXT,
    website TEXT,
    source TEXT NOT NULL,
    row_hash TEXT NOT NULL
);
CREATE TABLE service (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organization(id),
    name TEXT NOT NULL,
    alternate_name TEXT,
    description TEXT,
    url TEXT,
    email TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    eligibility_description TEXT,
    minimum_age REAL,
    maximum_age REAL,
    -- NULL: unknown; 0: no; 1: takes law-enforcement drop-offs.
    law_enforcement_dropoff INTEGER,
    last_modified TEXT,
    source TEXT NOT NULL,
    row_hash TEXT NOT NULL
);
CREATE INDEX service_org ON service(organization_id);
CREATE TABLE location (
    id TEXT PRIMARY KEY,
    organization_id TEXT,
    location_type TEXT NOT NULL DEFAULT 'physical',
    name TEXT,
    alternate_name TEXT,
    description TEXT,
    latitude REAL,
    longitude REAL,
    -- IANA name; used by schedules that carry no timezone of their own.
    timezone TEXT,
    source TEXT NOT NULL,
    row_hash TEXT NOT NULL
);
CREATE TABLE address (
    id TEXT PRIMARY KEY,
    location_id TEXT NOT NULL REFERENCES location(id),
    attention TEXT,
    address_1 TEXT NOT NULL,
    address_2 TEXT,
    city TEXT NOT NULL,
    region TEXT,
    state_province TEXT NOT NULL,
    postal_code TEXT NOT NULL,
    country TEXT NOT NULL,
    address_type TEXT NOT NULL DEFAULT 'physical',
    row_hash TEXT NOT NULL
);
CREATE INDEX address_location ON address(location_id);
CREATE TABLE service_at_location (
    -- Integer key for the R*Tree and FTS rows; stable across VACUUM.
    sal_key INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    service_id TEXT NOT NULL REFERENCES service(id),
    location_id TEXT NOT NULL REFERENCES location(id),
    description TEXT,
    row_hash TEXT NOT NULL
);
CREATE INDEX sal_service ON service_at_location(service_id);
CREATE INDEX sal_location ON service_at_location(location_id);
CREATE TABLE phone (
    id TEXT PRIMARY KEY,
    organization_id TEXT,
    service_id TEXT,
    location_id TEXT,
    service_at_location_id TEXT,
    number TEXT NOT NULL,
    extension TEXT,
    type TEXT,
    description TEXT,
    row_hash TEXT NOT NULL
);
CREATE INDEX phone_service ON phone(service_id);
CREATE INDEX phone_location ON phone(location_id);
CREATE INDEX phone_sal ON phone(service_at_location_id);
CREATE INDEX phone_organization ON phone(organization_id);
CREATE TABLE schedule (
    id TEXT PRIMARY KEY,
    service_id TEXT,
    location_id TEXT,
    service_at_location_id TEXT,
    valid_from TEXT,
    valid_to TEXT,
    dtstart TEXT,
    -- IANA name ("America/Chicago") or a fixed UTC offset in hours ("-5").
    timezone TEXT,
    freq TEXT,
    interval INTEGER,
    byday TEXT,
    bymonthday TEXT,
    opens_at TEXT,
    closes_at TEXT,
    description TEXT,
    row_hash TEXT NOT NULL
);
CREATE INDEX schedule_service ON schedule(service_id);
CREATE INDEX schedule_location ON schedule(location_id);
CREATE INDEX schedule_sal ON schedule(service_at_location_id);
CREATE TABLE taxonomy_term (
    id TEXT PRIMARY KEY,
    code TEXT,
    name TEXT NOT NULL,
    description TEXT,
    taxonomy TEXT,
    row_hash TEXT NOT NULL
);
CREATE TABLE attribute (
    id TEXT PRIMARY KEY,
    link_id TEXT NOT NULL,
    link_type TEXT,
    link_entity TEXT,
    taxonomy_term_id TEXT NOT NULL,
    value TEXT,
    row_hash TEXT NOT NULL
);
CREATE INDEX attribute_link ON attribute(link_id);
CREATE TABLE service_capacity (
    id TEXT PRIMARY KEY,
    service_id TEXT NOT NULL REFERENCES service(id),
    unit TEXT NOT NULL,
    available INTEGER NOT NULL,
    maximum INTEGER,
    updated_at TEXT NOT NULL,
    row_hash TEXT NOT NULL
);
CREATE INDEX capacity_service ON service_capacity(service_id);
-- Bit positions of service-type codes in `sal_rtree.type_mask`.
CREATE TABLE service_type_bit (
    code TEXT PRIMARY KEY,
    bit INTEGER NOT NULL UNIQUE CHECK (bit BETWEEN 0 AND 62)
);
-- One point per service-at-location; auxiliary columns let a query rank without joins.
CREATE VIRTUAL TABLE sal_rtree USING rtree(
    sal_key, min_lat, max_lat, min_lon, max_lon, +type_mask, +inferred_mask, +flags
);
CREATE VIRTUAL TABLE service_fts USING fts5(
    name, organization, city, tokenize = 'unicode61 remove_diacritics 2'
);
"#,
)];

/// Brings the file up to the newest migration; each runs once, in its own transaction.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at TEXT NOT NULL
        );",
    )?;
    let current: u32 = conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))?;
    for (version, name, sql) in MIGRATIONS {
        if *version <= current {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![version, name, chrono::Utc::now().to_rfc3339()],
        )?;
        tx.commit()?;
    }
    Ok(())
}
