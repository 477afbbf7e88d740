//! The parts of a score: the request compiled to type weights, the relevance of a row's types,
//! the upper bound's drop-off part, and the exact score with hours and capacity.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::index::{Candidate, LatestCapacity};
use super::rules::{Scoring, SuggestionRules, Weights};
use crate::error::{Error, Result};
use crate::model::*;
use crate::schedule::OpenState;
use crate::store::{FLAG_DROPOFF_NO, FLAG_DROPOFF_YES, FLAG_HAS_CAPACITY};
use crate::Directory;

/// The request compiled against the directory's type bits.
pub(super) struct Wanted {
    pub(super) weight: [f64; 63],
    pub(super) trigger: Vec<String>,
    pub(super) mask: i64,
}

fn humanize(code: &str) -> String {
    code.replace('_', " ")
}

pub(super) fn compile(rules: &SuggestionRules, bits: &HashMap<String, u8>, req: &SuggestionRequest) -> Result<Wanted> {
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

pub(super) struct Exact {
    pub(super) cand: Candidate,
    pub(super) score: f64,
    pub(super) state: OpenState,
    pub(super) capacity: Option<CapacityInfo>,
}

impl Directory {
    pub(super) fn exact(
        &self,
        c: Candidate,
        now: DateTime<Utc>,
        s: &Scoring,
        age: Option<&[f64; 2]>,
    ) -> Result<Option<Exact>> {
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
}

pub(super) fn dropoff_score(flags: i64, s: &Scoring) -> f64 {
    if flags & FLAG_DROPOFF_YES != 0 {
        s.dropoff_yes
    } else if flags & FLAG_DROPOFF_NO != 0 {
        s.dropoff_no
    } else {
        0.0
    }
}

/// Best matching type's weight plus a share of the others'; types guessed from a name count less.
pub(super) fn relevance(wanted: &Wanted, mask: i64, inferred: i64, s: &Scoring) -> (f64, usize) {
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
