//! Wire types of the outcome figures (`GET /v1/outcomes`): what a CIT programme is judged by
//! (SAMHSA's CIT data guide), for a period beside the period of the same length before it. Each
//! figure carries its own label and definition, so the console shows them without knowing them.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Which reports count: approved only, or approved and those still waiting for a decision.
/// Returned reports never count until they are amended and submitted again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OutcomeInclusion {
    #[default]
    Approved,
    ApprovedAndSubmitted,
}

/// Whose reports the figures count: every report, the reports officers filed with Waypoint, or
/// the history imported from the agency's older records system (`waypoint-server import
/// encounters`), which lets a programme compare its years before Waypoint with its years since.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OutcomeSource {
    #[default]
    All,
    Waypoint,
    Imported,
}

impl OutcomeSource {
    pub fn counts_waypoint(self) -> bool {
        self != OutcomeSource::Imported
    }

    pub fn counts_imported(self) -> bool {
        self != OutcomeSource::Waypoint
    }
}

/// A rectangle of the map the figures are narrowed to (decimal degrees); a call counts when its
/// location is inside (south and west edges included). Calls without a location are left out.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutcomeArea {
    pub south: f64,
    pub west: f64,
    pub north: f64,
    pub east: f64,
}

impl OutcomeArea {
    pub fn holds(&self, lat: f64, lon: f64) -> bool {
        lat >= self.south && lat < self.north && lon >= self.west && lon < self.east
    }
}

/// How a figure's value reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FigureUnit {
    Count,
    Percent,
    Minutes,
}

/// One figure, this period and the one before. `null` where it cannot be computed (a rate with
/// nothing to divide by, a median of no values).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Figure {
    pub key: String,
    pub label: String,
    /// What counts and what is excluded.
    pub definition: String,
    pub unit: FigureUnit,
    pub current: Option<f64>,
    pub previous: Option<f64>,
}

/// A count by code (a disposition, a transport destination, a referral outcome).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodeCount {
    pub code: String,
    pub label: String,
    #[ts(type = "number")]
    pub current: u64,
    #[ts(type = "number")]
    pub previous: u64,
}

/// A figure broken down by code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Breakdown {
    pub key: String,
    pub label: String,
    pub definition: String,
    pub rows: Vec<CodeCount>,
}

/// Calls in one week (starting Monday) or month of the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrendPoint {
    /// The first day of the week or month (`YYYY-MM-DD`).
    pub start: String,
    #[ts(type = "number")]
    pub calls: u64,
    #[ts(type = "number")]
    pub force_used: u64,
    #[ts(type = "number")]
    pub arrests: u64,
}

/// Calls in one square of the map grid (its south-west corner; `cell_degrees` wide).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GridCell {
    pub lat: f64,
    pub lon: f64,
    #[ts(type = "number")]
    pub calls: u64,
}

/// `GET /v1/outcomes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutcomeReport {
    /// The period: first and last day, inclusive (`YYYY-MM-DD`, UTC).
    pub from: String,
    pub to: String,
    /// The period of the same length just before it.
    pub previous_from: String,
    pub previous_to: String,
    pub include: OutcomeInclusion,
    pub source: OutcomeSource,
    /// Only this officer's reports, when the request named one.
    pub officer: Option<String>,
    /// Only the calls in this area, when the request named one.
    pub area: Option<OutcomeArea>,
    /// How many of the period's counted reports were imported history (the rest came from
    /// devices).
    #[ts(type = "number")]
    pub imported: u64,
    pub figures: Vec<Figure>,
    pub breakdowns: Vec<Breakdown>,
    pub weekly: Vec<TrendPoint>,
    pub monthly: Vec<TrendPoint>,
    /// Calls in the period by day of week (0 = Monday) and hour of day (UTC): 7 rows of 24.
    #[ts(type = "number[][]")]
    pub by_day_and_hour: Vec<Vec<u64>>,
    pub cell_degrees: f64,
    /// Squares with fewer calls than `grid_minimum` are left out, so a lone call cannot be placed.
    pub grid: Vec<GridCell>,
    #[ts(type = "number")]
    pub grid_minimum: u64,
    /// Reports in the period that were left out because their body could not be read.
    #[ts(type = "number")]
    pub unreadable: u64,
}

/// One report as an analyst may see it (`GET /v1/outcomes/rows`): codes, flags and counts only.
/// No name, narrative, free text, address, exact place or time, officer or device: the person is
/// a number that holds within one answer only, the place a map square shown only when at least
/// the grid minimum of calls share it, the time the hour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeidentifiedRow {
    /// The hour the call happened, UTC (`2026-11-30T21:00:00Z`).
    pub hour: String,
    /// `approved` or `submitted` (imported history counts as approved).
    pub state: crate::ReviewState,
    /// From the agency's older records system, not from a device.
    pub imported: bool,
    pub call_type: Option<String>,
    pub crisis_natures: Vec<String>,
    pub behaviours: Vec<String>,
    pub substances: Vec<String>,
    pub weapon_present: bool,
    pub cit_dispatched: bool,
    pub cit_arrived: bool,
    /// The reporting officer's own answer, and the training records on the day of the call.
    pub officer_cit_certified: bool,
    pub officer_cit_trained: bool,
    pub minutes_on_scene: Option<u32>,
    pub dispositions: Vec<String>,
    /// `null` when custody was not considered.
    pub custody_diverted: Option<bool>,
    pub force_used: bool,
    pub subject_injured: bool,
    pub officer_injured: bool,
    pub naloxone_given: bool,
    pub referrals_made: u32,
    pub referrals_accepted: u32,
    /// Another report about the same person in the 90 days before this one.
    pub repeat_contact: bool,
    /// The same number for the same person within this answer (none without a name); never the
    /// same across answers.
    pub person: Option<u32>,
    /// The south-west corner of the call's map square, when at least the grid minimum of this
    /// answer's calls fall in it.
    pub square_lat: Option<f64>,
    pub square_lon: Option<f64>,
}

/// `GET /v1/outcomes/rows`: the period's reports, de-identified, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeidentifiedRows {
    pub from: String,
    pub to: String,
    pub include: OutcomeInclusion,
    pub source: OutcomeSource,
    #[ts(type = "number")]
    pub grid_minimum: u64,
    pub rows: Vec<DeidentifiedRow>,
}
