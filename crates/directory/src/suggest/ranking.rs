//! Ranking: candidates in the radius get an upper bound, exact scores are computed best bound
//! first until no bound left can beat the N-th, and the top N are described from SQLite.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::index::{candidate_row, haversine_miles, Candidate, Strategy};
use super::rules::SuggestionRules;
use super::scoring::{compile, dropoff_score, relevance, Exact, Wanted};
use crate::error::{Error, Result};
use crate::model::*;
use crate::store::{FLAG_DROPOFF_NO, FLAG_DROPOFF_YES, FLAG_HAS_CAPACITY, FLAG_HAS_SCHEDULE};
use crate::Directory;

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
        // The agency's intake line first (a local fact), then the service-at-location's own
        // numbers, then the service's, then the location's.
        let mut stmt = self.conn.prepare_cached(
            "SELECT number, extension, type, description, service_at_location_id IS NULL, service_id IS NULL, id,
                    description IS NOT ?4
             FROM phone WHERE service_at_location_id = ?1 OR service_id = ?2 OR location_id = ?3",
        )?;
        let mut phones: Vec<((bool, bool, bool, String), PhoneInfo)> = stmt
            .query_map(params![sal_id, service_id, location_id, crate::local_facts::INTAKE_PHONE_DESCRIPTION], |r| {
                Ok((
                    (r.get(7)?, r.get(4)?, r.get(5)?, r.get(6)?),
                    PhoneInfo { number: r.get(0)?, extension: r.get(1)?, kind: r.get(2)?, description: r.get(3)? },
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        phones.sort_by(|a, b| a.0.cmp(&b.0));
        let mut phones: Vec<PhoneInfo> = phones.into_iter().map(|(_, phone)| phone).collect();
        phones.dedup_by(|a, b| a.number == b.number && a.extension == b.extension);
        let types: Vec<String> = self.codes_of(e.cand.mask);
        let officer_note: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT a.value FROM attribute a JOIN taxonomy_term t ON t.id = a.taxonomy_term_id
                 WHERE a.link_id = ?1 AND t.code = ?2 LIMIT 1",
            )?
            .query_row(params![service_id, crate::local_facts::OFFICER_NOTE_CODE], |r| r.get(0))
            .optional()?
            .flatten();
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
            officer_note,
            phones,
            website,
            score: (e.score * 100.0).round() / 100.0,
            why,
        })
    }
}
