//! The analyst's de-identified rows (`GET /v1/outcomes/rows`): the period's reports as codes,
//! flags and counts, for analyses the figures do not make. What each row leaves out, and why, is
//! in [`waypoint_protocol::DeidentifiedRow`] and `docs/outcomes.md`.

use std::collections::HashMap;

use waypoint_core::model::ReferralOutcome;
use waypoint_protocol::{DeidentifiedRow, DeidentifiedRows};

use crate::outcomes::{corner, facts_of, square_counts, square_of, OutcomeRequest, GRID_MINIMUM};
use crate::store::outcomes::OutcomeRow;
use crate::store::training::TrainedSince;

/// The reports of `rows` that happened in the request's period, de-identified, oldest first.
pub fn deidentified(request: &OutcomeRequest, rows: Vec<OutcomeRow>, trained_since: &TrainedSince) -> DeidentifiedRows {
    let period = request.period;
    let (facts, _) = facts_of(rows, trained_since);
    let current: Vec<_> = facts
        .iter()
        .filter(|f| period.start() <= f.encounter.occurred_at && f.encounter.occurred_at < period.end())
        .collect();
    let squares = square_counts(&current);
    // People numbered in order of first appearance in this answer: nothing links two answers.
    let mut people: HashMap<&str, u32> = HashMap::new();
    let rows = current
        .iter()
        .map(|fact| {
            let e = &fact.encounter;
            let person = fact.person.as_deref().map(|key| {
                let next = people.len() as u32 + 1;
                *people.entry(key).or_insert(next)
            });
            let square = square_of(fact).filter(|square| squares.get(square).copied().unwrap_or(0) >= GRID_MINIMUM);
            let (square_lat, square_lon) = square.map(corner).unzip();
            DeidentifiedRow {
                hour: e.occurred_at.format("%Y-%m-%dT%H:00:00Z").to_string(),
                state: fact.state,
                imported: fact.imported,
                call_type: e.call.call_type.clone(),
                crisis_natures: e.crisis_natures.clone(),
                behaviours: e.behaviours.clone(),
                substances: e.risk.substances.clone(),
                weapon_present: e.risk.weapon.as_deref().is_some_and(|w| !w.is_empty() && w != "none"),
                cit_dispatched: e.response.cit_officer_dispatched,
                cit_arrived: e.response.cit_officer_arrived,
                officer_cit_certified: e.response.officer_cit_certified,
                officer_cit_trained: fact.trained,
                minutes_on_scene: e.response.minutes_on_scene,
                dispositions: e.dispositions.clone(),
                custody_diverted: e.diversion.custody_diverted,
                force_used: e.response.reportable_force,
                subject_injured: e.response.subject_injured,
                officer_injured: e.response.officer_injured,
                naloxone_given: e.risk.naloxone_administered,
                referrals_made: e.referrals.len() as u32,
                referrals_accepted: e.referrals.iter().filter(|r| r.outcome == ReferralOutcome::Accepted).count()
                    as u32,
                repeat_contact: fact.repeat,
                person,
                square_lat,
                square_lon,
            }
        })
        .collect();
    DeidentifiedRows {
        from: period.first.to_string(),
        to: period.last.to_string(),
        include: request.include,
        source: request.source,
        grid_minimum: GRID_MINIMUM,
        rows,
    }
}

/// The rows as CSV, lists joined by `;` (cells a spreadsheet would run are neutralised).
pub fn csv(rows: &DeidentifiedRows) -> anyhow::Result<String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "hour",
        "state",
        "call_type",
        "crisis_natures",
        "behaviours",
        "substances",
        "weapon_present",
        "cit_dispatched",
        "cit_arrived",
        "officer_cit_certified",
        "officer_cit_trained",
        "minutes_on_scene",
        "dispositions",
        "custody_diverted",
        "force_used",
        "subject_injured",
        "officer_injured",
        "naloxone_given",
        "referrals_made",
        "referrals_accepted",
        "repeat_contact",
        "person",
        "square_lat",
        "square_lon",
    ])?;
    let text = |value: Option<String>| value.unwrap_or_default();
    for r in &rows.rows {
        let record = [
            r.hour.clone(),
            r.state.as_str().to_string(),
            text(r.call_type.clone()),
            r.crisis_natures.join(";"),
            r.behaviours.join(";"),
            r.substances.join(";"),
            r.weapon_present.to_string(),
            r.cit_dispatched.to_string(),
            r.cit_arrived.to_string(),
            r.officer_cit_certified.to_string(),
            r.officer_cit_trained.to_string(),
            text(r.minutes_on_scene.map(|m| m.to_string())),
            r.dispositions.join(";"),
            text(r.custody_diverted.map(|d| d.to_string())),
            r.force_used.to_string(),
            r.subject_injured.to_string(),
            r.officer_injured.to_string(),
            r.naloxone_given.to_string(),
            r.referrals_made.to_string(),
            r.referrals_accepted.to_string(),
            r.repeat_contact.to_string(),
            text(r.person.map(|p| p.to_string())),
            text(r.square_lat.map(|v| v.to_string())),
            text(r.square_lon.map(|v| v.to_string())),
        ];
        out.write_record(record.into_iter().map(crate::export::spreadsheet_safe))?;
    }
    Ok(String::from_utf8(out.into_inner()?)?)
}
