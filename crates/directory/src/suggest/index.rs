//! Candidate search: the R*Tree's rows in an in-memory grid (or the R*Tree itself, or a full
//! scan), with what exact scoring needs of each row loaded beside them.

use std::collections::HashMap;

use rusqlite::params;

use crate::error::Result;
use crate::model::*;
use crate::schedule::Hours;
use crate::store::{FLAG_HAS_CAPACITY, FLAG_HAS_SCHEDULE};
use crate::Directory;

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
    pub(super) scoring: HashMap<i64, SalScoring>,
}

/// What the exact score of one service-at-location needs besides the R*Tree row.
#[derive(Debug, Default)]
pub(super) struct SalScoring {
    pub(super) min_age: Option<f64>,
    pub(super) max_age: Option<f64>,
    /// The schedules that apply (see [`Directory::schedules_for`]), parsed; empty without
    /// [`FLAG_HAS_SCHEDULE`].
    pub(super) hours: Hours,
    /// The service's latest capacity row; only with [`FLAG_HAS_CAPACITY`].
    pub(super) capacity: Option<LatestCapacity>,
}

#[derive(Debug, Clone)]
pub(super) struct LatestCapacity {
    pub(super) unit: String,
    pub(super) available: i64,
    pub(super) maximum: Option<i64>,
    pub(super) updated_at: String,
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

pub(super) fn candidate_row(r: &rusqlite::Row) -> rusqlite::Result<Candidate> {
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

/// One row of the R*Tree: what ranking needs before touching any other table.
#[derive(Debug, Clone, Copy)]
pub(super) struct Candidate {
    pub(super) sal_key: i64,
    pub(super) lat: f64,
    pub(super) lon: f64,
    pub(super) mask: i64,
    pub(super) inferred: i64,
    pub(super) flags: i64,
    pub(super) distance: f64,
    pub(super) relevance: f64,
    pub(super) best_bit: usize,
    pub(super) bound: f64,
}

/// Great-circle distance in miles.
pub fn haversine_miles(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 3958.8 * a.sqrt().asin()
}

impl Directory {
    /// Calls `visit` with each row whose box overlaps the radius's and whose types meet `mask`.
    pub(super) fn candidates(
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
