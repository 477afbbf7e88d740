//! The outcome figures a CIT programme is judged by (SAMHSA, "CIT: Methods for Using Data to
//! Inform Practice"), computed from the latest version of each report: one definition per
//! figure, written beside it and sent with it, the same for both stores.
//!
//! Percentiles are nearest-rank: the p-th of n sorted values is the one at rank ceil(p * n).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use waypoint_core::{AgencyConfig, Encounter};
use waypoint_protocol::{
    Breakdown, CodeCount, Figure, FigureUnit, GridCell, OutcomeArea, OutcomeInclusion, OutcomeReport, OutcomeSource,
    ReviewState, TrendPoint,
};

use crate::store::outcomes::OutcomeRow;
use crate::store::training::TrainedSince;

/// How far back a contact makes the next one with the same person a repeat.
pub const REPEAT_WINDOW_DAYS: i64 = 90;
/// Map squares are this many degrees of latitude and longitude (about 1 km).
pub const CELL_DEGREES: f64 = 0.01;
/// A square with fewer calls is not shown.
pub const GRID_MINIMUM: u64 = 3;

/// A period of whole days (UTC), first and last included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

impl Period {
    pub fn days(&self) -> i64 {
        (self.last - self.first).num_days() + 1
    }

    /// The period of the same length that ends the day before this one starts.
    pub fn previous(&self) -> Period {
        let last = self.first - Duration::days(1);
        Period { first: last - Duration::days(self.days() - 1), last }
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.first.and_hms_opt(0, 0, 0).expect("midnight").and_utc()
    }

    /// The first instant after the period.
    pub fn end(&self) -> DateTime<Utc> {
        (self.last + Duration::days(1)).and_hms_opt(0, 0, 0).expect("midnight").and_utc()
    }

    fn holds(&self, at: DateTime<Utc>) -> bool {
        at >= self.start() && at < self.end()
    }
}

/// The review states a choice counts.
pub fn states_of(include: OutcomeInclusion) -> Vec<ReviewState> {
    match include {
        OutcomeInclusion::Approved => vec![ReviewState::Approved],
        OutcomeInclusion::ApprovedAndSubmitted => vec![ReviewState::Approved, ReviewState::Submitted],
    }
}

/// The earliest report time the figures of `period` read: its previous period, and the repeat
/// window before that.
pub fn reads_from(period: Period) -> DateTime<Utc> {
    period.previous().start() - Duration::days(REPEAT_WINDOW_DAYS)
}

/// One report, as the figures see it.
pub(crate) struct Fact {
    pub(crate) encounter: Encounter,
    pub(crate) state: ReviewState,
    /// Another report about the same person in the repeat window before this one.
    pub(crate) repeat: bool,
    pub(crate) person: Option<String>,
    /// The training records show the reporting officer's initial CIT course on or before the
    /// day (UTC) of the call.
    pub(crate) trained: bool,
    /// Imported history, not a device's report.
    pub(crate) imported: bool,
}

/// Who a report is about, as a key compared in memory only: the subject's name, lower case,
/// letters and digits, words single-spaced. `None` without a name.
pub fn person_key(name: Option<&str>) -> Option<String> {
    let words: Vec<String> =
        name?.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// Marks each report that follows another about the same person by at most the repeat window
/// (same time: the one with the smaller id comes first).
fn with_repeats(encounters: Vec<(Encounter, ReviewState, bool, bool)>) -> Vec<Fact> {
    let mut facts: Vec<Fact> = encounters
        .into_iter()
        .map(|(encounter, state, trained, imported)| {
            let person = person_key(encounter.subject.name.as_deref());
            Fact { encounter, state, repeat: false, person, trained, imported }
        })
        .collect();
    facts.sort_by_key(|f| (f.encounter.occurred_at, f.encounter.id));
    let mut last_seen: HashMap<String, DateTime<Utc>> = HashMap::new();
    for fact in &mut facts {
        if let Some(person) = &fact.person {
            let at = fact.encounter.occurred_at;
            if let Some(before) = last_seen.insert(person.clone(), at) {
                fact.repeat = at - before <= Duration::days(REPEAT_WINDOW_DAYS);
            }
        }
    }
    facts
}

fn nearest_rank(sorted: &[u32], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(f64::from(sorted[rank.min(sorted.len()) - 1]))
}

fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 10_000.0 / whole as f64).round() / 100.0)
}

fn has(e: &Encounter, code: &str) -> bool {
    e.dispositions.iter().any(|d| d == code)
}

fn weapon_present(e: &Encounter) -> bool {
    e.risk.weapon.as_deref().is_some_and(|w| !w.is_empty() && w != "none")
}

const TRANSPORT_PREFIX: &str = "transport_";

/// A figure: key, label, unit, definition, and how to compute it over a period's reports.
struct Definition {
    key: &'static str,
    label: &'static str,
    unit: FigureUnit,
    definition: &'static str,
    compute: fn(&[&Fact]) -> Option<f64>,
}

fn count(facts: &[&Fact], test: impl Fn(&Fact) -> bool) -> u64 {
    facts.iter().filter(|f| test(f)).count() as u64
}

fn minutes(facts: &[&Fact]) -> Vec<u32> {
    let mut values: Vec<u32> = facts.iter().filter_map(|f| f.encounter.response.minutes_on_scene).collect();
    values.sort_unstable();
    values
}

const CALLS_DEFINITION: &str =
    "Crisis encounter reports whose time of occurrence falls in the period, counted once each \
     by their latest version. Returned reports are left out until they are amended and submitted again; \
     with \"approved only\", reports waiting for a decision are left out too.";

const DEFINITIONS: &[Definition] = &[
    Definition {
        key: "calls",
        label: "Crisis calls",
        unit: FigureUnit::Count,
        definition: CALLS_DEFINITION,
        compute: |f| Some(f.len() as f64),
    },
    Definition {
        key: "cit_dispatched_pct",
        label: "CIT officer dispatched",
        unit: FigureUnit::Percent,
        definition: "Share of crisis calls where the report says a CIT-trained officer was dispatched.",
        compute: |f| percent(count(f, |x| x.encounter.response.cit_officer_dispatched), f.len() as u64),
    },
    Definition {
        key: "cit_arrived_pct",
        label: "CIT officer on scene",
        unit: FigureUnit::Percent,
        definition: "Share of crisis calls where the report says a CIT-trained officer arrived on scene.",
        compute: |f| percent(count(f, |x| x.encounter.response.cit_officer_arrived), f.len() as u64),
    },
    Definition {
        key: "officer_cit_certified_pct",
        label: "Reporting officer CIT-certified (own answer)",
        unit: FigureUnit::Percent,
        definition: "Share of crisis calls whose reporting officer answered that they are CIT-certified.",
        compute: |f| percent(count(f, |x| x.encounter.response.officer_cit_certified), f.len() as u64),
    },
    Definition {
        key: "officer_cit_trained_pct",
        label: "Reporting officer CIT-trained (training records)",
        unit: FigureUnit::Percent,
        definition: "Share of crisis calls whose reporting officer (the one whose credential filed the report) had \
                     completed an initial CIT course on or before the day of the call (UTC), per the training \
                     records an admin keeps. Refreshers alone do not count.",
        compute: |f| percent(count(f, |x| x.trained), f.len() as u64),
    },
    Definition {
        key: "cit_answer_without_record",
        label: "Answered CIT-certified, no training record",
        unit: FigureUnit::Count,
        definition: "Calls whose reporting officer answered that they are CIT-certified, while the training \
                     records show no initial CIT course of theirs on or before the day of the call.",
        compute: |f| Some(count(f, |x| x.encounter.response.officer_cit_certified && !x.trained) as f64),
    },
    Definition {
        key: "cit_record_without_answer",
        label: "Trained per the records, not answered CIT-certified",
        unit: FigureUnit::Count,
        definition: "Calls whose reporting officer had an initial CIT course on or before the day of the call \
                     per the training records, but did not answer that they are CIT-certified.",
        compute: |f| Some(count(f, |x| !x.encounter.response.officer_cit_certified && x.trained) as f64),
    },
    Definition {
        key: "minutes_on_scene_median",
        label: "Time on scene, median",
        unit: FigureUnit::Minutes,
        definition: "Median of the minutes on scene reported (nearest rank); reports without a time are left out.",
        compute: |f| nearest_rank(&minutes(f), 0.5),
    },
    Definition {
        key: "minutes_on_scene_p90",
        label: "Time on scene, 90th percentile",
        unit: FigureUnit::Minutes,
        definition:
            "90th percentile of the minutes on scene reported (nearest rank); reports without a time are left out.",
        compute: |f| nearest_rank(&minutes(f), 0.9),
    },
    Definition {
        key: "arrests",
        label: "Arrests",
        unit: FigureUnit::Count,
        definition: "Crisis calls with the disposition `arrested`.",
        compute: |f| Some(count(f, |x| has(&x.encounter, "arrested")) as f64),
    },
    Definition {
        key: "custody_considered",
        label: "Custody considered",
        unit: FigureUnit::Count,
        definition:
            "Crisis calls where the officer answered whether custody was diverted (yes or no): an arrest was an option.",
        compute: |f| Some(count(f, |x| x.encounter.diversion.custody_diverted.is_some()) as f64),
    },
    Definition {
        key: "custody_diverted",
        label: "Custody diverted",
        unit: FigureUnit::Count,
        definition: "Crisis calls where the officer answered that custody was diverted (to treatment, or no action).",
        compute: |f| Some(count(f, |x| x.encounter.diversion.custody_diverted == Some(true)) as f64),
    },
    Definition {
        key: "diversion_rate_pct",
        label: "Diversion rate",
        unit: FigureUnit::Percent,
        definition: "Custody diverted as a share of custody considered.",
        compute: |f| {
            percent(
                count(f, |x| x.encounter.diversion.custody_diverted == Some(true)),
                count(f, |x| x.encounter.diversion.custody_diverted.is_some()),
            )
        },
    },
    Definition {
        key: "emergency_detentions",
        label: "Emergency detentions",
        unit: FigureUnit::Count,
        definition: "Crisis calls with the disposition `emergency_detention`.",
        compute: |f| Some(count(f, |x| has(&x.encounter, "emergency_detention")) as f64),
    },
    Definition {
        key: "transports",
        label: "Transports",
        unit: FigureUnit::Count,
        definition:
            "Crisis calls with at least one transport disposition (a code starting `transport_`); by destination below.",
        compute: |f| Some(count(f, |x| x.encounter.dispositions.iter().any(|d| d.starts_with(TRANSPORT_PREFIX))) as f64),
    },
    Definition {
        key: "force_used",
        label: "Force used",
        unit: FigureUnit::Count,
        definition: "Crisis calls where the report says reportable force was used.",
        compute: |f| Some(count(f, |x| x.encounter.response.reportable_force) as f64),
    },
    Definition {
        key: "subjects_injured",
        label: "Subjects injured",
        unit: FigureUnit::Count,
        definition: "Crisis calls where the report says the subject was injured.",
        compute: |f| Some(count(f, |x| x.encounter.response.subject_injured) as f64),
    },
    Definition {
        key: "officers_injured",
        label: "Officers injured",
        unit: FigureUnit::Count,
        definition: "Crisis calls where the report says an officer was injured.",
        compute: |f| Some(count(f, |x| x.encounter.response.officer_injured) as f64),
    },
    Definition {
        key: "weapons_present",
        label: "Weapons present",
        unit: FigureUnit::Count,
        definition: "Crisis calls whose report names a weapon (any answer but `none` or blank).",
        compute: |f| Some(count(f, |x| weapon_present(&x.encounter)) as f64),
    },
    Definition {
        key: "naloxone_given",
        label: "Naloxone given",
        unit: FigureUnit::Count,
        definition: "Crisis calls where the report says naloxone was administered.",
        compute: |f| Some(count(f, |x| x.encounter.risk.naloxone_administered) as f64),
    },
    Definition {
        key: "referrals_made",
        label: "Referrals made",
        unit: FigureUnit::Count,
        definition: "Referrals to services listed on the reports (a report may list several).",
        compute: |f| Some(f.iter().map(|x| x.encounter.referrals.len()).sum::<usize>() as f64),
    },
    Definition {
        key: "referrals_accepted",
        label: "Referrals accepted",
        unit: FigureUnit::Count,
        definition: "Referrals whose outcome on the report is `accepted`.",
        compute: |f| {
            Some(
                f.iter()
                    .flat_map(|x| &x.encounter.referrals)
                    .filter(|r| r.outcome == waypoint_core::model::ReferralOutcome::Accepted)
                    .count() as f64,
            )
        },
    },
    Definition {
        key: "repeat_contacts",
        label: "Repeat contacts",
        unit: FigureUnit::Count,
        definition:
            "Crisis calls about a person (same subject name, compared without case or punctuation) who was the \
             subject of another counted report in the 90 days before. Reports without a subject name are never repeats.",
        compute: |f| Some(count(f, |x| x.repeat) as f64),
    },
    Definition {
        key: "people_seen_repeatedly",
        label: "People seen 2+ times in 90 days",
        unit: FigureUnit::Count,
        definition: "Distinct people among the repeat contacts of the period.",
        compute: |f| {
            let people: std::collections::HashSet<&str> =
                f.iter().filter(|x| x.repeat).filter_map(|x| x.person.as_deref()).collect();
            Some(people.len() as f64)
        },
    },
];

/// Every figure's key, in the order the report lists them.
pub fn figure_keys() -> Vec<&'static str> {
    DEFINITIONS.iter().map(|d| d.key).collect()
}

/// Labels of a vocabulary's codes in the agency's configuration (a code it no longer lists
/// reads as itself).
fn labels(config: &AgencyConfig, vocabulary: &str) -> HashMap<String, String> {
    config
        .vocabularies
        .get(vocabulary)
        .into_iter()
        .flatten()
        .map(|term| (term.code.clone(), term.label.clone()))
        .collect()
}

fn breakdown(
    key: &str,
    label: &str,
    definition: &str,
    names: &HashMap<String, String>,
    current: &[&Fact],
    previous: &[&Fact],
    codes_of: impl Fn(&Encounter) -> Vec<String>,
) -> Breakdown {
    let mut counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for fact in current {
        for code in codes_of(&fact.encounter) {
            counts.entry(code).or_default().0 += 1;
        }
    }
    for fact in previous {
        for code in codes_of(&fact.encounter) {
            counts.entry(code).or_default().1 += 1;
        }
    }
    let mut rows: Vec<CodeCount> = counts
        .into_iter()
        .map(|(code, (current, previous))| CodeCount {
            label: names.get(&code).cloned().unwrap_or_else(|| code.clone()),
            code,
            current,
            previous,
        })
        .collect();
    rows.sort_by(|a, b| b.current.cmp(&a.current).then(b.previous.cmp(&a.previous)).then(a.code.cmp(&b.code)));
    Breakdown { key: key.into(), label: label.into(), definition: definition.into(), rows }
}

fn distinct(codes: &[String]) -> Vec<String> {
    let mut codes = codes.to_vec();
    codes.sort();
    codes.dedup();
    codes
}

fn trend(
    facts: &[&Fact],
    start_of: impl Fn(NaiveDate) -> NaiveDate,
    period: Period,
    step: fn(NaiveDate) -> NaiveDate,
) -> Vec<TrendPoint> {
    let mut points: BTreeMap<NaiveDate, TrendPoint> = BTreeMap::new();
    let mut day = start_of(period.first);
    while day <= period.last {
        points.insert(day, TrendPoint { start: day.to_string(), calls: 0, force_used: 0, arrests: 0 });
        day = step(day);
    }
    for fact in facts {
        let key = start_of(fact.encounter.occurred_at.date_naive());
        if let Some(point) = points.get_mut(&key) {
            point.calls += 1;
            point.force_used += u64::from(fact.encounter.response.reportable_force);
            point.arrests += u64::from(has(&fact.encounter, "arrested"));
        }
    }
    points.into_values().collect()
}

fn monday_of(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).expect("day 1")
}

fn next_month(day: NaiveDate) -> NaiveDate {
    day.checked_add_months(chrono::Months::new(1)).expect("a month later")
}

/// The map square of a report, as (row, column) of [`CELL_DEGREES`]; `None` without a place.
pub(crate) fn square_of(fact: &Fact) -> Option<(i64, i64)> {
    let (Some(lat), Some(lon)) = (fact.encounter.location.lat, fact.encounter.location.lon) else { return None };
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return None;
    }
    Some(((lat / CELL_DEGREES).floor() as i64, (lon / CELL_DEGREES).floor() as i64))
}

/// A square's south-west corner in degrees.
pub(crate) fn corner(square: (i64, i64)) -> (f64, f64) {
    let degrees = |n: i64| (n as f64 * CELL_DEGREES * 100.0).round() / 100.0;
    (degrees(square.0), degrees(square.1))
}

/// Calls per square.
pub(crate) fn square_counts(facts: &[&Fact]) -> BTreeMap<(i64, i64), u64> {
    let mut cells: BTreeMap<(i64, i64), u64> = BTreeMap::new();
    for square in facts.iter().filter_map(|fact| square_of(fact)) {
        *cells.entry(square).or_default() += 1;
    }
    cells
}

fn grid(facts: &[&Fact]) -> Vec<GridCell> {
    square_counts(facts)
        .into_iter()
        .filter(|(_, calls)| *calls >= GRID_MINIMUM)
        .map(|(square, calls)| {
            let (lat, lon) = corner(square);
            GridCell { lat, lon, calls }
        })
        .collect()
}

/// What the server's directory says of the services the period's reports referred to.
#[derive(Debug, Clone, Default)]
pub struct ServiceTypes {
    /// Service id -> its Waypoint service types; a service the directory does not hold is absent.
    pub of_service: BTreeMap<String, Vec<String>>,
    /// Service type code -> label (the suggestion rules' names).
    pub labels: HashMap<String, String>,
}

/// A referral to a service the directory does not hold (or no directory was imported).
pub const NOT_IN_DIRECTORY: &str = "not_in_directory";
/// A referral to a service the directory holds without a service type.
pub const UNTYPED: &str = "untyped";

impl ServiceTypes {
    /// The type codes a referral counts under: each of its service's types, or one of the two
    /// codes above.
    fn of(&self, service_id: &str) -> Vec<String> {
        match self.of_service.get(service_id) {
            None => vec![NOT_IN_DIRECTORY.to_string()],
            Some(types) if types.is_empty() => vec![UNTYPED.to_string()],
            Some(types) => types.clone(),
        }
    }

    fn names(&self) -> HashMap<String, String> {
        let mut names = self.labels.clone();
        names.insert(NOT_IN_DIRECTORY.into(), "Service not in the directory".into());
        names.insert(UNTYPED.into(), "Service without a type".into());
        names
    }
}

/// Keeps the rows whose report has a location inside `area` (all of them without one): the
/// figures, their previous period and the repeat lookback all read the area alone.
pub fn keep_area(rows: &mut Vec<OutcomeRow>, area: Option<OutcomeArea>) {
    if let Some(area) = area {
        rows.retain(|row| {
            row.encounter.as_ref().is_some_and(|e| match (e.location.lat, e.location.lon) {
                (Some(lat), Some(lon)) => area.holds(lat, lon),
                _ => false,
            })
        });
    }
}

/// The service ids the reports in `rows` refer to, for the directory lookup.
pub fn referred_services(rows: &[OutcomeRow]) -> Vec<String> {
    let mut ids: Vec<String> = rows
        .iter()
        .filter_map(|row| row.encounter.as_ref())
        .flat_map(|e| e.referrals.iter().map(|r| r.service_id.clone()))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// What a request asks for.
#[derive(Debug, Clone)]
pub struct OutcomeRequest {
    pub period: Period,
    pub include: OutcomeInclusion,
    pub officer: Option<String>,
    pub source: OutcomeSource,
    pub area: Option<OutcomeArea>,
}

/// The reports of `rows` as facts, oldest first, with their repeats and training; and how many
/// bodies could not be read.
pub(crate) fn facts_of(rows: Vec<OutcomeRow>, trained_since: &TrainedSince) -> (Vec<Fact>, u64) {
    let mut unreadable = 0;
    let mut encounters = Vec::with_capacity(rows.len());
    for row in rows {
        match row.encounter {
            Some(encounter) => {
                let day = encounter.occurred_at.date_naive();
                let trained = trained_since.get(&row.officer).is_some_and(|since| *since <= day);
                encounters.push((encounter, row.state, trained, row.imported))
            }
            None => unreadable += 1,
        }
    }
    (with_repeats(encounters), unreadable)
}

/// The report for `request` from `rows`: the latest versions read from [`reads_from`] to the
/// period's end, in the states the inclusion counts (the store filters them).
/// `trained_since`: the day each officer (username) completed their first initial CIT course.
pub fn report(
    request: &OutcomeRequest,
    rows: Vec<OutcomeRow>,
    config: &AgencyConfig,
    trained_since: &TrainedSince,
    service_types: &ServiceTypes,
) -> OutcomeReport {
    let period = request.period;
    let previous_period = period.previous();
    let (facts, unreadable) = facts_of(rows, trained_since);
    let current: Vec<&Fact> = facts.iter().filter(|f| period.holds(f.encounter.occurred_at)).collect();
    let previous: Vec<&Fact> = facts.iter().filter(|f| previous_period.holds(f.encounter.occurred_at)).collect();

    let figures = DEFINITIONS
        .iter()
        .map(|d| Figure {
            key: d.key.into(),
            label: d.label.into(),
            definition: d.definition.into(),
            unit: d.unit,
            current: (d.compute)(&current),
            previous: (d.compute)(&previous),
        })
        .collect();
    let dispositions = labels(config, "dispositions");
    let breakdowns = vec![
        breakdown(
            "dispositions",
            "Dispositions",
            "Crisis calls with each disposition (a report may have several).",
            &dispositions,
            &current,
            &previous,
            |e| distinct(&e.dispositions),
        ),
        breakdown(
            "transports",
            "Transports by destination",
            "Crisis calls with each transport disposition.",
            &dispositions,
            &current,
            &previous,
            |e| distinct(&e.dispositions).into_iter().filter(|d| d.starts_with(TRANSPORT_PREFIX)).collect(),
        ),
        breakdown(
            "referral_outcomes",
            "Referrals by outcome",
            "Referrals listed on the reports, by their outcome.",
            &HashMap::from([
                ("accepted".to_string(), "Accepted".to_string()),
                ("declined".to_string(), "Declined".to_string()),
                ("unknown".to_string(), "Outcome unknown".to_string()),
            ]),
            &current,
            &previous,
            |e| {
                e.referrals
                    .iter()
                    .map(|r| serde_json::to_value(r.outcome).ok().and_then(|v| v.as_str().map(str::to_string)))
                    .map(|code| code.unwrap_or_default())
                    .collect()
            },
        ),
        breakdown(
            "referrals_by_type",
            "Referrals by service type",
            "Referrals listed on the reports, by the Waypoint service type of the referred service in the \
             server's directory; a service of several types counts under each. `Service not in the directory`: \
             the directory holds no such service (or none was imported).",
            &service_types.names(),
            &current,
            &previous,
            |e| e.referrals.iter().flat_map(|r| service_types.of(&r.service_id)).collect(),
        ),
        breakdown(
            "referrals_accepted_by_type",
            "Referrals accepted, by service type",
            "Referrals whose outcome is accepted, by service type as above.",
            &service_types.names(),
            &current,
            &previous,
            |e| {
                e.referrals
                    .iter()
                    .filter(|r| r.outcome == waypoint_core::model::ReferralOutcome::Accepted)
                    .flat_map(|r| service_types.of(&r.service_id))
                    .collect()
            },
        ),
    ];

    let mut by_day_and_hour = vec![vec![0u64; 24]; 7];
    for fact in &current {
        let at = fact.encounter.occurred_at;
        by_day_and_hour[at.weekday().num_days_from_monday() as usize][at.hour() as usize] += 1;
    }

    OutcomeReport {
        from: period.first.to_string(),
        to: period.last.to_string(),
        previous_from: previous_period.first.to_string(),
        previous_to: previous_period.last.to_string(),
        include: request.include,
        source: request.source,
        officer: request.officer.clone(),
        area: request.area,
        imported: current.iter().filter(|f| f.imported).count() as u64,
        figures,
        breakdowns,
        weekly: trend(&current, monday_of, period, |d| d + Duration::days(7)),
        monthly: trend(&current, first_of_month, period, next_month),
        by_day_and_hour,
        cell_degrees: CELL_DEGREES,
        grid: grid(&current),
        grid_minimum: GRID_MINIMUM,
        unreadable,
    }
}

/// The report's figures and breakdowns as CSV: `section,key,label,unit,current,previous`
/// (cells a spreadsheet would run as formulas are neutralised, as in the export).
pub fn csv(report: &OutcomeReport) -> anyhow::Result<String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["section", "key", "label", "unit", "current", "previous"])?;
    let number = |value: Option<f64>| value.map(|v| v.to_string()).unwrap_or_default();
    for figure in &report.figures {
        let unit = match figure.unit {
            FigureUnit::Count => "count",
            FigureUnit::Percent => "percent",
            FigureUnit::Minutes => "minutes",
        };
        let row = [
            "figure".into(),
            figure.key.clone(),
            figure.label.clone(),
            unit.into(),
            number(figure.current),
            number(figure.previous),
        ];
        out.write_record(row.map(crate::export::spreadsheet_safe))?;
    }
    for breakdown in &report.breakdowns {
        for r in &breakdown.rows {
            let row = [
                breakdown.key.clone(),
                r.code.clone(),
                r.label.clone(),
                "count".into(),
                r.current.to_string(),
                r.previous.to_string(),
            ];
            out.write_record(row.map(crate::export::spreadsheet_safe))?;
        }
    }
    Ok(String::from_utf8(out.into_inner()?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(nearest_rank(&[], 0.5), None);
        assert_eq!(nearest_rank(&[7], 0.9), Some(7.0));
        assert_eq!(nearest_rank(&[1, 2, 3, 4], 0.5), Some(2.0));
        assert_eq!(nearest_rank(&(1..=10).collect::<Vec<_>>(), 0.9), Some(9.0));
        assert_eq!(nearest_rank(&(1..=11).collect::<Vec<_>>(), 0.9), Some(10.0));
    }

    #[test]
    fn the_previous_period_has_the_same_length() {
        let period = Period { first: "2026-03-01".parse().unwrap(), last: "2026-03-31".parse().unwrap() };
        let previous = period.previous();
        assert_eq!(previous.days(), 31);
        assert_eq!(previous.last.to_string(), "2026-02-28");
        assert_eq!(previous.first.to_string(), "2026-01-29");
    }

    #[test]
    fn a_person_key_ignores_case_and_punctuation() {
        assert_eq!(person_key(Some("  O'Brien,  Pat ")), Some("o brien pat".into()));
        assert_eq!(person_key(Some("o brien PAT")), Some("o brien pat".into()));
        assert_eq!(person_key(Some(" - ")), None);
        assert_eq!(person_key(None), None);
    }

    #[test]
    fn percent_rounds_to_two_places_and_needs_a_whole() {
        assert_eq!(percent(1, 3), Some(33.33));
        assert_eq!(percent(0, 0), None);
    }
}
