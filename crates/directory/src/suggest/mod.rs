//! Crisis-aware suggestions: which services near here fit this person now.
//!
//! The rules (crisis -> service types, weights) come from `assets/suggestion_rules.json`.
//! Ranking is two-phase: the R*Tree gives candidates in the radius with a matching type
//! (type bits are auxiliary columns, so no join), each gets an upper bound of its score from
//! the index alone; exact scores (schedules, capacity) are computed best-bound first until no
//! remaining bound can beat the N-th exact score. What the exact score needs (age range, parsed
//! schedules, latest capacity) is held in memory beside the grid, so ranking reads no table;
//! only the final top N are read from SQLite to be described.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::model::*;
use super::schedule::Hours;
use super::store::{FLAG_DROPOFF_NO, FLAG_DROPOFF_YES, FLAG_HAS_CAPACITY, FLAG_HAS_SCHEDULE};
use super::Directory;
use crate::error::{Error, Result};

/// The rules shipped with Waypoint.
pub const DEFAULT_RULES_JSON: &str = include_str!("../../../../assets/suggestion_rules.json");

pub type Weights = BTreeMap<String, f64>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scoring {
    pub radius_miles: f64,
    pub limit: u32,
    /// Types beyond the best-matching one add this share of their weight.
    pub other_types_factor: f64,
    pub open_now: f64,
    pub open_24_7: f64,
    pub closed: f64,
    pub hours_unknown: f64,
    pub dropoff_yes: f64,
    pub dropoff_no: f64,
    pub capacity_available: f64,
    pub capacity_full: f64,
    /// Capacity older than this is shown but does not move the ranking.
    pub capacity_fresh_hours: f64,
    pub penalty_per_mile: f64,
    /// A type only guessed from the facility's name counts this share of its weight.
    pub inferred_type_factor: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuggestionRules {
    pub version: u32,
    /// Service-type code -> label used in the "why" line.
    pub service_types: BTreeMap<String, String>,
    pub needs: BTreeMap<String, Weights>,
    pub behaviours: BTreeMap<String, Weights>,
    pub crisis_natures: BTreeMap<String, Weights>,
    pub substances: BTreeMap<String, Weights>,
    pub housing_statuses: BTreeMap<String, Weights>,
    pub veteran: Weights,
    pub age_bands: BTreeMap<String, Weights>,
    pub age_band_years: BTreeMap<String, [f64; 2]>,
    pub when_nothing_known: Weights,
    pub scoring: Scoring,
}

impl SuggestionRules {
    pub fn from_json(text: &str) -> Result<Self> {
        let rules: SuggestionRules =
            serde_json::from_str(text).map_err(|e| Error::Config(format!("suggestion rules: {e}")))?;
        let all_maps = rules
            .needs
            .values()
            .chain(rules.behaviours.values())
            .chain(rules.crisis_natures.values())
            .chain(rules.substances.values())
            .chain(rules.housing_statuses.values())
            .chain(rules.age_bands.values())
            .chain([&rules.veteran, &rules.when_nothing_known]);
        for map in all_maps {
            for code in map.keys() {
                if !rules.service_types.contains_key(code) {
                    return Err(Error::Config(format!("suggestion rules: unknown service type `{code}`")));
                }
            }
        }
        Ok(rules)
    }

    pub fn load(path: &Path) -> Result<Self> {
        Self::from_json(&std::fs::read_to_string(path)?)
    }

    pub fn label<'a>(&'a self, code: &'a str) -> &'a str {
        self.service_types.get(code).map(String::as_str).unwrap_or(code)
    }
}

impl Default for SuggestionRules {
    fn default() -> Self {
        Self::from_json(DEFAULT_RULES_JSON).expect("the shipped suggestion rules parse")
    }
}

/// How candidates are found. All three give the same answer (the tests and the benchmark check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// The in-memory grid over the R*Tree's rows (what the app uses: fastest).
    Indexed,
    /// The SQLite R*Tree queried directly.
    RTree,
    /// Every row read (the benchmark's baseline).
    FullScan,
}

/// Grid cell size in degrees (about 14 x 10 miles in the lower 48).
const CELL_DEG: f64 = 0.2;

/// The R*Tree's rows held in memory in fixed cells, so a query touches only the cells its
/// radius covers, at memory speed, with what exact scoring needs of each row. Reloaded from
/// the tables whenever the index is rebuilt (every write to the directory rebuilds it).
#[derive(Debug, Default)]
pub(crate) struct Grid {
    cells: HashMap<(i32, i32), Vec<Candidate>>,
    scoring: HashMap<i64, SalScoring>,
}

/// What the exact score of one service-at-location needs besides the R*Tree row.
#[derive(Debug, Default)]
struct SalScoring {
    min_age: Option<f64>,
    max_age: Option<f64>,
    /// The schedules that apply (see [`Directory::schedules_for`]), parsed; empty without
    /// [`FLAG_HAS_SCHEDULE`].
    hours: Hours,
    /// The service's latest capacity row; only with [`FLAG_HAS_CAPACITY`].
    capacity: Option<LatestCapacity>,
}

#[derive(Debug, Clone)]
struct LatestCapacity {
    unit: String,
    available: i64,
    maximum: Option<i64>,
    updated_at: String,
}

impl Grid {
    pub(crate) fn load(conn: &rusqlite::Connection) -> Result<Grid> {
        let mut cells: HashMap<(i32, i32), Vec<Candidate>> = HashMap::new();
        let mut stmt = conn.prepare(
            "SELECT sal_key, (min_lat + max_lat) / 2, (min_lon + max_lon) / 2, type_mask, inferred_mask, flags FROM sal_rtree",
        )?;
        let rows = stmt.query_map([], candidate_row)?;
        for c in rows {
            let c = c?;
            cells.entry(cell(c.lat, c.lon)).or_default().push(c);
        }
        Ok(Grid { cells, scoring: load_scoring(conn)? })
    }

    fn query(&self, lat: f64, lon: f64, dlat: f64, dlon: f64, mask: i64, visit: &mut dyn FnMut(Candidate)) {
        let (lo, hi) = (cell(lat - dlat, lon - dlon), cell(lat + dlat, lon + dlon));
        for i in lo.0..=hi.0 {
            for j in lo.1..=hi.1 {
                if let Some(cands) = self.cells.get(&(i, j)) {
                    cands.iter().filter(|c| c.mask & mask != 0).for_each(|c| visit(*c));
                }
            }
        }
    }
}

fn cell(lat: f64, lon: f64) -> (i32, i32) {
    ((lat / CELL_DEG).floor() as i32, (lon / CELL_DEG).floor() as i32)
}

/// Exact-scoring data for every row of the R*Tree, in a few passes over the tables instead of
/// a handful of lookups per candidate per query.
fn load_scoring(conn: &rusqlite::Connection) -> Result<HashMap<i64, SalScoring>> {
    // The schedules by each link column, in id order (as `schedules_where` returns them).
    let mut schedules: Vec<Schedule> = Vec::new();
    let (mut by_sal, mut by_service, mut by_location) = (
        HashMap::<String, Vec<usize>>::new(),
        HashMap::<String, Vec<usize>>::new(),
        HashMap::<String, Vec<usize>>::new(),
    );
    let mut stmt = conn.prepare(&format!("SELECT {SCHEDULE_COLUMNS} FROM schedule ORDER BY id"))?;
    for row in stmt.query_map([], schedule_row)? {
        let schedule = row?;
        let i = schedules.len();
        for (link, map) in [
            (&schedule.service_at_location_id, &mut by_sal),
            (&schedule.service_id, &mut by_service),
            (&schedule.location_id, &mut by_location),
        ] {
            if let Some(id) = link {
                map.entry(id.clone()).or_default().push(i);
            }
        }
        schedules.push(schedule);
    }
    // Each service's latest capacity row.
    let mut capacity: HashMap<String, LatestCapacity> = HashMap::new();
    let mut stmt = conn.prepare(
        "SELECT service_id, unit, available, maximum, updated_at FROM service_capacity ORDER BY service_id, updated_at DESC",
    )?;
    for row in stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            LatestCapacity { unit: r.get(1)?, available: r.get(2)?, maximum: r.get(3)?, updated_at: r.get(4)? },
        ))
    })? {
        let (service_id, latest) = row?;
        capacity.entry(service_id).or_insert(latest);
    }
    let mut out = HashMap::new();
    let mut stmt = conn.prepare(
        "SELECT r.sal_key, r.flags, sal.id, sal.service_id, sal.location_id, l.timezone, s.minimum_age, s.maximum_age
         FROM sal_rtree r JOIN service_at_location sal ON sal.sal_key = r.sal_key
         JOIN service s ON s.id = sal.service_id JOIN location l ON l.id = sal.location_id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let flags: i64 = r.get(1)?;
        let (sal_id, service_id, location_id): (String, String, String) = (r.get(2)?, r.get(3)?, r.get(4)?);
        let tz: Option<String> = r.get(5)?;
        let hours = if flags & FLAG_HAS_SCHEDULE != 0 {
            // The service-at-location's own schedules, else the service's, else the location's.
            let own = [by_sal.get(&sal_id), by_service.get(&service_id), by_location.get(&location_id)]
                .into_iter()
                .flatten()
                .find(|found| !found.is_empty());
            let own: Vec<Schedule> =
                own.map(|found| found.iter().map(|&i| schedules[i].clone()).collect()).unwrap_or_default();
            Hours::parse(&own, tz.as_deref())
        } else {
            Hours::default()
        };
        let capacity = if flags & FLAG_HAS_CAPACITY != 0 { capacity.get(&service_id).cloned() } else { None };
        out.insert(r.get(0)?, SalScoring { min_age: r.get(6)?, max_age: r.get(7)?, hours, capacity });
    }
    Ok(out)
}

fn candidate_row(r: &rusqlite::Row) -> rusqlite::Result<Candidate> {
    Ok(Candidate {
        sal_key: r.get(0)?,
        lat: r.get(1)?,
        lon: r.get(2)?,
        mask: r.get(3)?,
        inferred: r.get(4)?,
        flags: r.get(5)?,
        distance: 0.0,
        relevance: 0.0,
        best_bit: 0,
        bound: 0.0,
    })
}

/// The request compiled against the directory's type bits.
struct Wanted {
    weight: [f64; 63],
    trigger: Vec<String>,
    mask: i64,
}

fn humanize(code: &str) -> String {
    code.replace('_', " ")
}

fn compile(rules: &SuggestionRules, bits: &HashMap<String, u8>, req: &SuggestionRequest) -> Result<Wanted> {
    let mut wanted = Wanted { weight: [0.0; 63], trigger: vec![String::new(); 63], mask: 0 };
    let mut apply = |weights: &Weights, why: String| {
        for (code, &w) in weights {
            if let Some(&bit) = bits.get(code) {
                let bit = bit as usize;
                if w > wanted.weight[bit] {
                    wanted.weight[bit] = w;
                    wanted.trigger[bit] = why.clone();
                }
            }
        }
    };
    let mut any = false;
    for need in &req.needs {
        let weights =
            rules.needs.get(need).ok_or_else(|| Error::validation("needs", format!("unknown need `{need}`")))?;
        apply(weights, format!("need: {}", humanize(need)));
        any = true;
    }
    // Agency vocabularies may hold codes the rules do not weigh: those simply add nothing.
    for (list, map) in [
        (&req.behaviours, &rules.behaviours),
        (&req.crisis_natures, &rules.crisis_natures),
        (&req.substances, &rules.substances),
    ] {
        for code in list {
            if let Some(weights) = map.get(code) {
                apply(weights, humanize(code));
                any = true;
            }
        }
    }
    if let Some(weights) = req.housing_status.as_ref().and_then(|h| rules.housing_statuses.get(h)) {
        apply(weights, humanize(req.housing_status.as_deref().unwrap_or("")));
        any = true;
    }
    if req.veteran == Some(true) {
        apply(&rules.veteran, "veteran".into());
    }
    if let Some(weights) = req.age_band.as_ref().and_then(|a| rules.age_bands.get(a)) {
        apply(weights, format!("age {}", humanize(req.age_band.as_deref().unwrap_or(""))));
    }
    if !any {
        apply(&rules.when_nothing_known, "general crisis help".into());
    }
    wanted.mask = (0..63).filter(|&b| wanted.weight[b] > 0.0).fold(0i64, |m, b| m | (1 << b));
    Ok(wanted)
}

/// One row of the R*Tree: what ranking needs before touching any other table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate {
    sal_key: i64,
    lat: f64,
    lon: f64,
    mask: i64,
    inferred: i64,
    flags: i64,
    distance: f64,
    relevance: f64,
    best_bit: usize,
    bound: f64,
}

/// Great-circle distance in miles.
pub fn haversine_miles(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 3958.8 * a.sqrt().asin()
}

struct Exact {
    cand: Candidate,
    score: f64,
    state: super::schedule::OpenState,
    capacity: Option<CapacityInfo>,
}

/// Candidates in the order exact scores are computed: highest bound first, then lowest key.
struct ByBound(Candidate);

impl Ord for ByBound {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.bound.total_cmp(&other.0.bound).then(other.0.sal_key.cmp(&self.0.sal_key))
    }
}

impl PartialOrd for ByBound {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for ByBound {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ByBound {}

impl Directory {
    /// The top services for this request at `now`, best first.
    pub fn suggest(&self, req: &SuggestionRequest, now: DateTime<Utc>) -> Result<Vec<Suggestion>> {
        self.suggest_with(&self.rules, req, now, Strategy::Indexed)
    }

    pub fn suggest_with(
        &self,
        rules: &SuggestionRules,
        req: &SuggestionRequest,
        now: DateTime<Utc>,
        strategy: Strategy,
    ) -> Result<Vec<Suggestion>> {
        if !(-90.0..=90.0).contains(&req.lat) || !(-180.0..=180.0).contains(&req.lon) {
            return Err(Error::validation("location", "latitude or longitude out of range"));
        }
        let s = &rules.scoring;
        let radius = req.radius_miles.unwrap_or(s.radius_miles);
        let limit = req.limit.unwrap_or(s.limit).max(1) as usize;
        let wanted = compile(rules, &self.type_bits, req)?;
        if wanted.mask == 0 {
            return Ok(Vec::new());
        }
        // One read transaction: every lookup below sees the same directory, and SQLite takes its
        // read lock once instead of once per statement. Ended (rolled back: it wrote nothing) on drop.
        let _read = if self.conn.is_autocommit() { Some(self.conn.unchecked_transaction()?) } else { None };
        let best_status = s.open_now.max(s.hours_unknown) + s.open_24_7.max(0.0);
        let mut ranked: Vec<ByBound> = Vec::new();
        // Flat-earth distance is within 1% at these ranges: a cheap test before the trigonometry.
        let miles_per_lon = 69.172 * req.lat.to_radians().cos();
        let reach = (radius * 1.02).powi(2);
        self.candidates(req.lat, req.lon, radius, wanted.mask, strategy, &mut |mut c| {
            let (dy, dx) = ((c.lat - req.lat) * 69.0, (c.lon - req.lon) * miles_per_lon);
            if dx * dx + dy * dy > reach {
                return;
            }
            c.distance = haversine_miles(req.lat, req.lon, c.lat, c.lon);
            if c.distance > radius {
                return;
            }
            let (relevance, best_bit) = relevance(&wanted, c.mask, c.inferred, s);
            if relevance <= 0.0 {
                return;
            }
            c.relevance = relevance;
            c.best_bit = best_bit;
            c.bound = relevance - s.penalty_per_mile * c.distance
                + dropoff_score(c.flags, s)
                + if c.flags & FLAG_HAS_SCHEDULE != 0 { best_status } else { s.hours_unknown }
                + if c.flags & FLAG_HAS_CAPACITY != 0 { s.capacity_available.max(0.0) } else { 0.0 };
            ranked.push(ByBound(c));
        })?;
        // Usually only a few dozen candidates are scored exactly: a heap (built in linear time)
        // hands them out in bound order without sorting all of them.
        let mut ranked = BinaryHeap::from(ranked);
        let age = req.age_band.as_ref().and_then(|a| rules.age_band_years.get(a));
        let mut top: Vec<Exact> = Vec::with_capacity(limit + 1);
        while let Some(ByBound(c)) = ranked.pop() {
            if top.len() == limit && c.bound < top[limit - 1].score {
                break; // nothing left can beat the N-th
            }
            let Some(exact) = self.exact(c, now, s, age)? else { continue };
            let at = top.partition_point(|e| {
                e.score > exact.score || (e.score == exact.score && e.cand.sal_key < exact.cand.sal_key)
            });
            top.insert(at, exact);
            top.truncate(limit);
        }
        top.into_iter().enumerate().map(|(i, e)| self.describe(rules, &wanted, e, i as u32 + 1)).collect()
    }

    /// Calls `visit` with each row whose box overlaps the radius's and whose types meet `mask`.
    fn candidates(
        &self,
        lat: f64,
        lon: f64,
        radius: f64,
        mask: i64,
        strategy: Strategy,
        visit: &mut dyn FnMut(Candidate),
    ) -> Result<()> {
        let row = candidate_row;
        let dlat = radius / 69.0;
        let dlon = radius / (69.172 * lat.to_radians().cos().abs().max(0.01));
        match strategy {
            Strategy::Indexed => self.grid.query(lat, lon, dlat, dlon, mask, visit),
            Strategy::RTree => {
                let mut stmt = self.conn.prepare_cached(
                    "SELECT sal_key, (min_lat + max_lat) / 2, (min_lon + max_lon) / 2, type_mask, inferred_mask, flags
                     FROM sal_rtree
                     WHERE max_lat >= ?1 AND min_lat <= ?2 AND max_lon >= ?3 AND min_lon <= ?4
                       AND (type_mask & ?5) != 0",
                )?;
                for c in stmt.query_map(params![lat - dlat, lat + dlat, lon - dlon, lon + dlon, mask], row)? {
                    visit(c?);
                }
            }
            Strategy::FullScan => {
                let mut stmt = self.conn.prepare_cached(
                    "SELECT sal_key, (min_lat + max_lat) / 2, (min_lon + max_lon) / 2, type_mask, inferred_mask, flags FROM sal_rtree",
                )?;
                for c in stmt.query_map([], row)? {
                    let c = c?;
                    if c.mask & mask != 0 {
                        visit(c);
                    }
                }
            }
        }
        Ok(())
    }

    fn exact(&self, c: Candidate, now: DateTime<Utc>, s: &Scoring, age: Option<&[f64; 2]>) -> Result<Option<Exact>> {
        let info = self.grid.scoring.get(&c.sal_key).ok_or_else(|| {
            Error::InvalidState(format!("service-at-location {} is indexed but not loaded", c.sal_key))
        })?;
        if let Some([lo, hi]) = age {
            // Skip services whose age range cannot include this person (e.g. youth-only for an adult).
            if info.min_age.is_some_and(|m| m > *hi) || info.max_age.is_some_and(|m| m < *lo) {
                return Ok(None);
            }
        }
        let state = info.hours.open_state(now);
        let capacity = match &info.capacity {
            Some(latest) if c.flags & FLAG_HAS_CAPACITY != 0 => Some(capacity_info(latest, now, s)?),
            _ => None,
        };
        let mut score = c.relevance - s.penalty_per_mile * c.distance + dropoff_score(c.flags, s);
        score += match state.open_now {
            OpenNow::Open => s.open_now + if state.always_open { s.open_24_7 } else { 0.0 },
            OpenNow::Closed => s.closed,
            OpenNow::Unknown => s.hours_unknown,
        };
        if let Some(cap) = capacity.as_ref().filter(|c| !c.stale) {
            score += if cap.available > 0 { s.capacity_available } else { s.capacity_full };
        }
        Ok(Some(Exact { cand: c, score, state, capacity }))
    }

    /// One service-at-location described as a suggestion is (for referrals and resource cards):
    /// hours, capacity, phones; distance from `from` when given, else 0. `why` is left empty.
    pub fn service_detail(&self, sal_id: &str, from: Option<(f64, f64)>, now: DateTime<Utc>) -> Result<Suggestion> {
        let mut cand = self
            .conn
            .prepare_cached(
                "SELECT r.sal_key, (r.min_lat + r.max_lat) / 2, (r.min_lon + r.max_lon) / 2, r.type_mask, r.inferred_mask, r.flags
                 FROM sal_rtree r JOIN service_at_location sal ON sal.sal_key = r.sal_key WHERE sal.id = ?1",
            )?
            .query_row([sal_id], candidate_row)
            .optional()?
            .ok_or_else(|| Error::NotFound(format!("No service `{sal_id}` in the directory.")))?;
        if let Some((lat, lon)) = from {
            cand.distance = haversine_miles(lat, lon, cand.lat, cand.lon);
        }
        cand.best_bit = cand.mask.trailing_zeros().min(62) as usize;
        let rules = &self.rules;
        let exact = self
            .exact(cand, now, &rules.scoring, None)?
            .ok_or_else(|| Error::NotFound(format!("No service `{sal_id}` in the directory.")))?;
        let nothing = Wanted { weight: [0.0; 63], trigger: vec![String::new(); 63], mask: 0 };
        let mut detail = self.describe(rules, &nothing, exact, 0)?;
        detail.why = String::new();
        Ok(detail)
    }

    /// The schedules that apply: the service-at-location's own, else the service's, else the location's.
    pub fn schedules_for(&self, sal_id: &str, service_id: &str, location_id: &str) -> Result<Vec<Schedule>> {
        for (column, id) in
            [("service_at_location_id", sal_id), ("service_id", service_id), ("location_id", location_id)]
        {
            let found = self.schedules_where(column, id)?;
            if !found.is_empty() {
                return Ok(found);
            }
        }
        Ok(Vec::new())
    }

    pub(crate) fn schedules_where(&self, column: &str, id: &str) -> Result<Vec<Schedule>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {SCHEDULE_COLUMNS} FROM schedule WHERE {column} = ?1 ORDER BY id"))?;
        let rows = stmt.query_map([id], schedule_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn describe(&self, rules: &SuggestionRules, wanted: &Wanted, e: Exact, rank: u32) -> Result<Suggestion> {
        #[allow(clippy::type_complexity)]
        let (sal_id, service_id, location_id, name, organization, website): (
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
        ) = self
            .conn
            .prepare_cached(
                "SELECT sal.id, sal.service_id, sal.location_id, s.name, o.name, COALESCE(s.url, o.website)
                 FROM service_at_location sal JOIN service s ON s.id = sal.service_id
                 LEFT JOIN organization o ON o.id = s.organization_id WHERE sal.sal_key = ?1",
            )?
            .query_row([e.cand.sal_key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))?;
        // A location has an address or two: they are ordered here rather than by SQLite, whose
        // ORDER BY would build a temporary B-tree for each suggestion. Physical first, then by id.
        let mut stmt = self.conn.prepare_cached(
            "SELECT address_type = 'physical', id,
                    address_1 || COALESCE(', ' || NULLIF(address_2, ''), '') || ', ' || city || ', ' || state_province || ' ' || postal_code
             FROM address WHERE location_id = ?1",
        )?;
        let mut address: Option<((u8, String), Option<String>)> = None;
        for row in stmt.query_map([&location_id], |r| {
            let physical: Option<bool> = r.get(0)?;
            let rank = match physical {
                Some(true) => 0u8,
                Some(false) => 1,
                None => 2,
            };
            Ok(((rank, r.get::<_, String>(1)?), r.get::<_, Option<String>>(2)?))
        })? {
            let row = row?;
            if address.as_ref().is_none_or(|best| row.0 < best.0) {
                address = Some(row);
            }
        }
        let address = address.and_then(|(_, text)| text);
        // The service-at-location's own numbers first, then the service's, then the location's.
        let mut stmt = self.conn.prepare_cached(
            "SELECT number, extension, type, description, service_at_location_id IS NULL, service_id IS NULL, id
             FROM phone WHERE service_at_location_id = ?1 OR service_id = ?2 OR location_id = ?3",
        )?;
        let mut phones: Vec<((bool, bool, String), PhoneInfo)> = stmt
            .query_map(params![sal_id, service_id, location_id], |r| {
                Ok((
                    (r.get(4)?, r.get(5)?, r.get(6)?),
                    PhoneInfo { number: r.get(0)?, extension: r.get(1)?, kind: r.get(2)?, description: r.get(3)? },
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        phones.sort_by(|a, b| a.0.cmp(&b.0));
        let mut phones: Vec<PhoneInfo> = phones.into_iter().map(|(_, phone)| phone).collect();
        phones.dedup_by(|a, b| a.number == b.number && a.extension == b.extension);
        let types: Vec<String> = self.codes_of(e.cand.mask);
        let dropoff = match e.cand.flags & (FLAG_DROPOFF_YES | FLAG_DROPOFF_NO) {
            FLAG_DROPOFF_YES => Some(true),
            FLAG_DROPOFF_NO => Some(false),
            _ => None,
        };
        let best_code = self.code_of_bit(e.cand.best_bit).unwrap_or_default();
        let mut why = rules.label(&best_code).to_string();
        if e.cand.inferred & (1 << e.cand.best_bit) != 0 {
            why.push_str(" (going by its name)");
        }
        let trigger = &wanted.trigger[e.cand.best_bit];
        if !trigger.is_empty() {
            why.push_str(&format!(" for {trigger}"));
        }
        why.push_str(&format!(" · {}", e.state.text));
        why.push_str(match dropoff {
            Some(true) => " · takes police drop-offs",
            Some(false) => " · no police drop-offs",
            None => " · police drop-offs unknown",
        });
        if let Some(cap) = &e.capacity {
            why.push_str(&format!(" · {}{}", cap.text, if cap.stale { " (stale)" } else { "" }));
        }
        why.push_str(&format!(" · {:.1} mi", e.cand.distance));
        Ok(Suggestion {
            rank,
            service_id,
            service_at_location_id: sal_id,
            location_id,
            name,
            organization: organization.unwrap_or_default(),
            address,
            latitude: e.cand.lat,
            longitude: e.cand.lon,
            distance_miles: (e.cand.distance * 10.0).round() / 10.0,
            types,
            open_now: e.state.open_now,
            hours: e.state.text,
            capacity: e.capacity,
            law_enforcement_dropoff: dropoff,
            phones,
            website,
            score: (e.score * 100.0).round() / 100.0,
            why,
        })
    }
}

fn dropoff_score(flags: i64, s: &Scoring) -> f64 {
    if flags & FLAG_DROPOFF_YES != 0 {
        s.dropoff_yes
    } else if flags & FLAG_DROPOFF_NO != 0 {
        s.dropoff_no
    } else {
        0.0
    }
}

/// Best matching type's weight plus a share of the others'; types guessed from a name count less.
fn relevance(wanted: &Wanted, mask: i64, inferred: i64, s: &Scoring) -> (f64, usize) {
    let mut matched = mask & wanted.mask;
    let (mut best, mut best_bit, mut sum) = (0.0f64, 0usize, 0.0f64);
    while matched != 0 {
        let bit = matched.trailing_zeros() as usize;
        matched &= matched - 1;
        let mut w = wanted.weight[bit];
        if inferred & (1 << bit) != 0 {
            w *= s.inferred_type_factor;
        }
        sum += w;
        if w > best {
            best = w;
            best_bit = bit;
        }
    }
    (best + s.other_types_factor * (sum - best), best_bit)
}

const SCHEDULE_COLUMNS: &str = "id, service_id, location_id, service_at_location_id, valid_from, valid_to, dtstart, \
     timezone, freq, interval, byday, bymonthday, opens_at, closes_at, description";

fn schedule_row(r: &rusqlite::Row) -> rusqlite::Result<Schedule> {
    Ok(Schedule {
        id: r.get(0)?,
        service_id: r.get(1)?,
        location_id: r.get(2)?,
        service_at_location_id: r.get(3)?,
        valid_from: r.get(4)?,
        valid_to: r.get(5)?,
        dtstart: r.get(6)?,
        timezone: r.get(7)?,
        freq: r.get(8)?,
        interval: r.get(9)?,
        byday: r.get(10)?,
        bymonthday: r.get(11)?,
        opens_at: r.get(12)?,
        closes_at: r.get(13)?,
        description: r.get(14)?,
    })
}

/// A capacity row as shown at `now`: its age in words, and stale past the rules' limit.
fn capacity_info(latest: &LatestCapacity, now: DateTime<Utc>, s: &Scoring) -> Result<CapacityInfo> {
    let LatestCapacity { unit, available, maximum, updated_at: updated } = latest;
    let updated_at = DateTime::parse_from_rfc3339(updated)
        .map_err(|e| Error::InvalidState(format!("capacity time `{updated}`: {e}")))?
        .with_timezone(&Utc);
    let age_minutes = (now - updated_at).num_minutes().max(0);
    let age = if age_minutes < 60 {
        format!("{age_minutes} min ago")
    } else if age_minutes < 48 * 60 {
        format!("{} h ago", age_minutes / 60)
    } else {
        format!("{} days ago", age_minutes / (24 * 60))
    };
    let text = match maximum {
        Some(max) => format!("{available} of {max} {unit}, as of {age}"),
        None => format!("{available} {unit}, as of {age}"),
    };
    let stale = age_minutes as f64 > s.capacity_fresh_hours * 60.0;
    Ok(CapacityInfo {
        unit: unit.clone(),
        available: *available,
        maximum: *maximum,
        updated_at,
        age_minutes,
        text,
        stale,
    })
}
