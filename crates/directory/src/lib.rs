//! The service directory: public information about places that help people in crisis, kept in
//! its own unencrypted SQLite file (apart from the encrypted encounter store), so it works offline.
//!
//! - [`model`]: HSDS 3.0 aligned records and the suggestion types the UI shows.
//! - [`samhsa`], [`hsds`]: importers with a report; [`Directory::export_hsds`] writes HSDS 3.0 JSON.
//! - [`bundle`]: the national directory shipped in `assets/directory/`, loaded on first start.
//! - [`suggest`]: crisis-aware ranking with rules from `assets/suggestion_rules.json`.

pub mod bounded_zstd;
pub mod bundle;
pub mod card;
pub mod error;
pub mod feed;
pub mod hsds;
pub mod local_facts;
pub mod model;
pub mod samhsa;
pub mod schedule;
pub mod schema;
pub mod service_list;
pub mod store;
pub mod suggest;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

pub use card::{CardEntry, Place, ResourceCard};
pub use model::*;
pub use store::{stable_id, Outcome};
pub use suggest::{Strategy, SuggestionRules};

pub use error::{Error, Result};

/// One service an admin's search finds ([`Directory::find_services`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceMatch {
    pub service_id: String,
    pub name: String,
    pub organization: String,
    pub city: Option<String>,
    /// The listing's own answer.
    pub law_enforcement_dropoff: Option<bool>,
}

/// A service with everything ranking and the resource card need, at one location.
/// What tests, the synthetic benchmark and the bundled directory write through.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServiceRecord {
    pub organization: Organization,
    pub service: Service,
    pub location: Location,
    pub address: Option<Address>,
    pub phones: Vec<Phone>,
    pub schedules: Vec<Schedule>,
    /// (service-type code, how we know: [`store::LISTED`] or [`store::INFERRED`]).
    pub types: Vec<(String, String)>,
    pub capacity: Option<ServiceCapacity>,
}

impl ServiceRecord {
    /// The service-at-location id this record's service and location get.
    pub fn sal_id(&self) -> String {
        stable_id(&["service_at_location", &self.service.id, &self.location.id])
    }
}

pub struct Directory {
    conn: Connection,
    type_bits: HashMap<String, u8>,
    rules: SuggestionRules,
    grid: suggest::Grid,
}

impl Directory {
    /// Opens (creating if needed) the directory file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // A 64 MB page cache holds the whole national directory: random UUID keys otherwise
        // make bulk loads spill pages.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;\n             PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; PRAGMA mmap_size = 1073741824;",
        )?;
        Self::from_connection(conn)
    }

    pub fn open_in_memory() -> Result<Self> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536;")?;
        Self::from_connection(conn)
    }

    fn from_connection(mut conn: Connection) -> Result<Self> {
        schema::migrate(&mut conn)?;
        let mut dir =
            Directory { conn, type_bits: HashMap::new(), rules: SuggestionRules::default(), grid: Default::default() };
        dir.load_type_bits()?;
        Ok(dir)
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub fn rules(&self) -> &SuggestionRules {
        &self.rules
    }

    pub fn set_rules(&mut self, rules: SuggestionRules) {
        self.rules = rules;
    }

    fn load_type_bits(&mut self) -> Result<()> {
        let mut stmt = self.conn.prepare("SELECT code, bit FROM service_type_bit")?;
        self.type_bits = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u8>(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        self.grid = suggest::Grid::load(&self.conn)?;
        Ok(())
    }

    pub(crate) fn codes_of(&self, mask: i64) -> Vec<String> {
        let mut codes: Vec<(u8, String)> =
            self.type_bits.iter().filter(|(_, &b)| mask & (1 << b) != 0).map(|(c, &b)| (b, c.clone())).collect();
        codes.sort();
        codes.into_iter().map(|(_, c)| c).collect()
    }

    pub(crate) fn code_of_bit(&self, bit: usize) -> Option<String> {
        self.type_bits.iter().find(|(_, &b)| b as usize == bit).map(|(c, _)| c.clone())
    }

    /// Rebuilds the R*Tree and FTS5 tables from the HSDS tables. Importers call it.
    pub fn rebuild_search_index(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        store::rebuild_search_index(&tx)?;
        tx.commit()?;
        self.load_type_bits()
    }

    /// Writes records in one transaction, then refreshes the search index.
    pub fn put_records(&mut self, records: &[ServiceRecord], source: &str) -> Result<Vec<Outcome>> {
        let tx = self.conn.transaction()?;
        let outcomes = records.iter().map(|r| put_record(&tx, r, source)).collect::<Result<Vec<_>>>()?;
        tx.commit()?;
        self.rebuild_search_index()?;
        Ok(outcomes)
    }

    /// Writes records in one transaction without refreshing the search index: for bulk loads
    /// that call [`Directory::rebuild_search_index`] once at the end.
    pub fn put_records_unindexed(&mut self, records: &[ServiceRecord], source: &str) -> Result<Vec<Outcome>> {
        let tx = self.conn.transaction()?;
        let outcomes = records.iter().map(|r| put_record(&tx, r, source)).collect::<Result<Vec<_>>>()?;
        tx.commit()?;
        Ok(outcomes)
    }

    /// Bulk-writes records whose ids are all new (a generated or freshly built directory),
    /// skipping the per-row "already there?" lookups. Known ids would still be updated
    /// correctly, only counted as created. Call [`Directory::rebuild_search_index`] after.
    pub fn put_new_records_unindexed(&mut self, records: &[ServiceRecord], source: &str) -> Result<()> {
        let tx = self.conn.transaction()?;
        store::into_empty_directory(|| records.iter().try_for_each(|r| put_record(&tx, r, source).map(|_| ())))?;
        tx.commit()?;
        Ok(())
    }

    /// Records how many places a service has free now (from a phone call or a feed).
    pub fn set_capacity(&mut self, capacity: &ServiceCapacity) -> Result<()> {
        let tx = self.conn.transaction()?;
        store::upsert_capacity(&tx, capacity)?;
        tx.commit()?;
        self.rebuild_search_index()
    }

    /// Services whose name (or organization, or city) matches the words typed, best first.
    pub fn search_by_name(&self, text: &str, limit: u32) -> Result<Vec<ServiceHit>> {
        self.search_by_name_near(text, None, limit)
    }

    /// Services (not places) whose name, organization or city matches the words typed, best
    /// first, whether or not they have a position on the map: what an admin looks for.
    pub fn find_services(&self, text: &str, limit: u32) -> Result<Vec<ServiceMatch>> {
        let query: Vec<String> =
            text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(|w| format!("\"{w}\"*")).collect();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        // Places best first (bm25 cannot be aggregated in SQL), each service kept once.
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.id, s.name, COALESCE(o.name, ''),
                    (SELECT a.city FROM address a WHERE a.location_id = sal.location_id LIMIT 1),
                    s.law_enforcement_dropoff
             FROM service_fts f
             JOIN service_at_location sal ON sal.sal_key = f.rowid
             JOIN service s ON s.id = sal.service_id
             LEFT JOIN organization o ON o.id = s.organization_id
             WHERE service_fts MATCH ?1
             ORDER BY bm25(service_fts, 10.0, 3.0, 1.0), s.id LIMIT ?2",
        )?;
        let rows = stmt.query_map(rusqlite::params![query.join(" "), limit.saturating_mul(8)], |r| {
            Ok(ServiceMatch {
                service_id: r.get(0)?,
                name: r.get(1)?,
                organization: r.get(2)?,
                city: r.get(3)?,
                law_enforcement_dropoff: r.get(4)?,
            })
        })?;
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for row in rows {
            let row = row?;
            if seen.insert(row.service_id.clone()) && out.len() < limit as usize {
                out.push(row);
            }
        }
        Ok(out)
    }

    /// The Waypoint service types of each of `service_ids` that the directory holds (a service
    /// may have several; the police drop-off tag is a fact, not a type, and is left out). A
    /// service the directory does not hold is absent from the answer.
    pub fn service_types_of(&self, service_ids: &[String]) -> Result<BTreeMap<String, Vec<String>>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT t.code FROM attribute a
             JOIN taxonomy_term t ON t.id = a.taxonomy_term_id AND t.taxonomy = '{}'
             WHERE a.link_id = ?1 AND t.code IS NOT NULL AND t.code <> '{}' ORDER BY t.code",
            store::SERVICE_TYPE_TAXONOMY,
            hsds::DROPOFF_CODE
        ))?;
        let mut known = self.conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM service WHERE id = ?1)")?;
        let mut out = BTreeMap::new();
        for id in service_ids {
            if out.contains_key(id) || !known.query_row([id], |r| r.get::<_, bool>(0))? {
                continue;
            }
            let codes = stmt.query_map([id], |r| r.get::<_, String>(0))?.collect::<std::result::Result<Vec<_>, _>>()?;
            out.insert(id.clone(), codes);
        }
        Ok(out)
    }

    /// As [`Self::search_by_name`]; with a position, every match is ranked by distance from it
    /// instead (an officer typing "crisis" wants the nearest crisis services, not the best-named
    /// one three states away).
    pub fn search_by_name_near(&self, text: &str, from: Option<(f64, f64)>, limit: u32) -> Result<Vec<ServiceHit>> {
        // Each word as a quoted prefix term, so user input is never FTS5 syntax.
        let query: Vec<String> =
            text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(|w| format!("\"{w}\"*")).collect();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT sal.service_id, sal.id, s.name, COALESCE(o.name, ''),
                    (SELECT a.city FROM address a WHERE a.location_id = sal.location_id LIMIT 1),
                    l.latitude, l.longitude
             FROM service_fts f
             JOIN service_at_location sal ON sal.sal_key = f.rowid
             JOIN service s ON s.id = sal.service_id
             JOIN location l ON l.id = sal.location_id
             LEFT JOIN organization o ON o.id = s.organization_id
             WHERE service_fts MATCH ?1 AND l.latitude IS NOT NULL
             ORDER BY CASE WHEN ?3 IS NULL THEN 0.0
                           ELSE (l.latitude - ?3) * (l.latitude - ?3)
                                + (l.longitude - ?4) * (l.longitude - ?4) * ?5 END,
                      bm25(service_fts, 10.0, 3.0, 1.0)
             LIMIT ?2",
        )?;
        // Equirectangular distance: the order is right at the scale of a county or a state.
        let (lat, lon) = from.map_or((None, None), |(lat, lon)| (Some(lat), Some(lon)));
        let lon_scale = lat.map_or(1.0, |lat: f64| lat.to_radians().cos().powi(2));
        let rows = stmt.query_map(rusqlite::params![query.join(" "), limit, lat, lon, lon_scale], |r| {
            let (latitude, longitude): (f64, f64) = (r.get(5)?, r.get(6)?);
            Ok(ServiceHit {
                service_id: r.get(0)?,
                service_at_location_id: r.get(1)?,
                name: r.get(2)?,
                organization: r.get(3)?,
                city: r.get(4)?,
                latitude,
                longitude,
                distance_miles: from.map(|(lat, lon)| suggest::haversine_miles(lat, lon, latitude, longitude)),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn stats(&self) -> Result<DirectoryStats> {
        let count = |table: &str| -> Result<u64> {
            Ok(self.conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get::<_, i64>(0))? as u64)
        };
        Ok(DirectoryStats {
            organizations: count("organization")?,
            services: count("service")?,
            locations: count("location")?,
            service_at_locations: count("service_at_location")?,
            phones: count("phone")?,
            schedules: count("schedule")?,
            indexed: count("sal_rtree")?,
        })
    }

    /// True when SQLite was built with what the directory needs (R*Tree and FTS5).
    pub fn check_sqlite_features(&self) -> Result<()> {
        for option in ["ENABLE_RTREE", "ENABLE_FTS5"] {
            let on: bool = self.conn.query_row("SELECT sqlite_compileoption_used(?1)", [option], |r| r.get(0))?;
            if !on {
                return Err(Error::Config(format!("SQLite lacks {option}")));
            }
        }
        Ok(())
    }
}

/// Writes one record: created when its service is new, updated when any of its rows changed.
pub(crate) fn put_record(c: &Connection, r: &ServiceRecord, source: &str) -> Result<Outcome> {
    let sal_id = r.sal_id();
    let mut outcome = store::upsert_organization(c, &r.organization, source)?;
    let service_outcome = store::upsert_service(c, &r.service, source)?;
    outcome = outcome.max(service_outcome);
    // A new service has no old children to prune.
    let prune = service_outcome != Outcome::Created;
    outcome = outcome.max(store::upsert_location(c, &r.location, source)?);
    if let Some(address) = &r.address {
        outcome = outcome.max(store::upsert_address(c, address)?);
    }
    outcome = outcome.max(store::upsert_service_at_location(
        c,
        &ServiceAtLocation {
            id: sal_id.clone(),
            service_id: r.service.id.clone(),
            location_id: r.location.id.clone(),
            description: None,
        },
    )?);
    let phone_ids: Vec<String> = r.phones.iter().map(|p| p.id.clone()).collect();
    for phone in &r.phones {
        outcome = outcome.max(store::upsert_phone(c, phone)?);
    }
    if prune && store::prune_children(c, "phone", "service_id", &r.service.id, &phone_ids)? {
        outcome = outcome.max(Outcome::Updated);
    }
    let schedule_ids: Vec<String> = r.schedules.iter().map(|s| s.id.clone()).collect();
    for schedule in &r.schedules {
        outcome = outcome.max(store::upsert_schedule(c, schedule)?);
    }
    if prune && store::prune_children(c, "schedule", "service_id", &r.service.id, &schedule_ids)? {
        outcome = outcome.max(Outcome::Updated);
    }
    let mut attribute_ids = Vec::new();
    for (code, how) in &r.types {
        outcome = outcome.max(store::tag_service_type(c, &r.service.id, code, how)?);
        attribute_ids.push(stable_id(&["attribute", &r.service.id, &stable_id(&[store::SERVICE_TYPE_TAXONOMY, code])]));
    }
    if prune && store::prune_children(c, "attribute", "link_id", &r.service.id, &attribute_ids)? {
        outcome = outcome.max(Outcome::Updated);
    }
    if let Some(capacity) = &r.capacity {
        outcome = outcome.max(store::upsert_capacity(c, capacity)?);
    }
    // The record is new when its service is; a new phone on a known service is an update.
    Ok(match (service_outcome, outcome) {
        (Outcome::Created, _) => Outcome::Created,
        (_, Outcome::Unchanged) => Outcome::Unchanged,
        _ => Outcome::Updated,
    })
}
