//! Directory records, aligned with Open Referral HSDS 3.0 (field names as in the spec), and the
//! suggestion types the UI shows. Ids are UUIDs as HSDS requires; imported ids are derived from
//! the source and a natural key, so re-importing the same data finds the same rows.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub alternate_name: Option<String>,
    pub description: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
pub struct Service {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub alternate_name: Option<String>,
    pub description: Option<String>,
    pub url: Option<String>,
    pub email: Option<String>,
    /// HSDS: active, inactive, defunct, temporarily closed. Only active services are suggested.
    pub status: String,
    pub eligibility_description: Option<String>,
    pub minimum_age: Option<f64>,
    pub maximum_age: Option<f64>,
    /// `None` when the source does not say (never assumed).
    pub law_enforcement_dropoff: Option<bool>,
    pub last_modified: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
pub struct Location {
    pub id: String,
    pub organization_id: Option<String>,
    pub location_type: String,
    pub name: Option<String>,
    pub alternate_name: Option<String>,
    pub description: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// IANA timezone for schedules that do not carry their own.
    pub timezone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
pub struct Address {
    pub id: String,
    pub location_id: String,
    pub attention: Option<String>,
    pub address_1: String,
    pub address_2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub state_province: String,
    pub postal_code: String,
    pub country: String,
    pub address_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
pub struct ServiceAtLocation {
    pub id: String,
    pub service_id: String,
    pub location_id: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
pub struct Phone {
    pub id: String,
    pub organization_id: Option<String>,
    pub service_id: Option<String>,
    pub location_id: Option<String>,
    pub service_at_location_id: Option<String>,
    pub number: String,
    pub extension: Option<String>,
    /// HSDS phone type: voice, fax, text, cell, video, pager, textphone.
    #[serde(rename = "type")]
    #[ts(rename = "type")]
    pub kind: Option<String>,
    pub description: Option<String>,
}

/// HSDS schedule (RFC 5545 RRULE style). `timezone` is an IANA name or a UTC offset in hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
pub struct Schedule {
    pub id: String,
    pub service_id: Option<String>,
    pub location_id: Option<String>,
    pub service_at_location_id: Option<String>,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub dtstart: Option<String>,
    pub timezone: Option<String>,
    pub freq: Option<String>,
    pub interval: Option<i64>,
    /// Comma separated: "MO,TU" (weekly) or "1MO,-1FR" (monthly).
    pub byday: Option<String>,
    pub bymonthday: Option<String>,
    /// "HH:MM" or "HH:MM:SS" local time; closes_at <= opens_at means overnight.
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
pub struct TaxonomyTerm {
    pub id: String,
    pub code: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub taxonomy: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
pub struct Attribute {
    pub id: String,
    pub link_id: String,
    pub link_type: Option<String>,
    pub link_entity: Option<String>,
    pub taxonomy_term_id: String,
    pub value: Option<String>,
}

/// How many places a service has free (HSDS 3.1 `service_capacity`), and when that was true.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ServiceCapacity {
    pub id: String,
    pub service_id: String,
    /// "beds", "chairs", "appointments"...
    pub unit: String,
    pub available: i64,
    pub maximum: Option<i64>,
    pub updated_at: DateTime<Utc>,
}

/// One input row an importer did not take, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Rejection {
    /// File (or document) and 1-based data row.
    pub source: String,
    pub row: u64,
    pub reason: String,
}

/// What an import did. Re-importing the same data gives created = 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
pub struct ImportReport {
    pub source: String,
    pub rows_read: u64,
    /// Records new to the directory.
    pub created: u64,
    /// Records already there whose content changed.
    pub updated: u64,
    /// Records already there, identical.
    pub unchanged: u64,
    /// Rows folded into a record another row (or file) already gave: same facility.
    pub merged: u64,
    pub rejected: Vec<Rejection>,
    /// Rows taken, with a field dropped or repaired (e.g. coordinates out of range).
    pub warnings: Vec<Rejection>,
    pub seconds: f64,
}

impl ImportReport {
    pub fn new(source: impl Into<String>) -> Self {
        ImportReport { source: source.into(), ..Default::default() }
    }

    pub fn reject(&mut self, source: &str, row: u64, reason: impl Into<String>) {
        self.rejected.push(Rejection { source: source.to_owned(), row, reason: reason.into() });
    }

    pub fn warn(&mut self, source: &str, row: u64, reason: impl Into<String>) {
        self.warnings.push(Rejection { source: source.to_owned(), row, reason: reason.into() });
    }

    pub fn count(&mut self, outcome: super::store::Outcome) {
        match outcome {
            super::store::Outcome::Created => self.created += 1,
            super::store::Outcome::Updated => self.updated += 1,
            super::store::Outcome::Unchanged => self.unchanged += 1,
        }
    }

    /// The printed report: counts, then each rejection with its reason.
    pub fn summary(&self) -> String {
        let mut text = format!(
            "{}: {} rows read, {} created, {} updated, {} unchanged, {} merged, {} rejected, {} warnings ({:.2} s)",
            self.source,
            self.rows_read,
            self.created,
            self.updated,
            self.unchanged,
            self.merged,
            self.rejected.len(),
            self.warnings.len(),
            self.seconds
        );
        for r in &self.rejected {
            text.push_str(&format!("\n  rejected {} row {}: {}", r.source, r.row, r.reason));
        }
        for w in &self.warnings {
            text.push_str(&format!("\n  warning {} row {}: {}", w.source, w.row, w.reason));
        }
        text
    }
}

/// What the officer knows so far, as the suggestion rules read it. Codes are the agency's
/// vocabulary codes (see `assets/agency.json`); needs are the codes in `suggestion_rules.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
#[serde(default)]
pub struct SuggestionRequest {
    pub lat: f64,
    pub lon: f64,
    pub crisis_natures: Vec<String>,
    pub behaviours: Vec<String>,
    pub substances: Vec<String>,
    pub age_band: Option<String>,
    pub veteran: Option<bool>,
    pub housing_status: Option<String>,
    /// crisis_stabilization, detox, moud, shelter, mobile_crisis, outpatient...
    pub needs: Vec<String>,
    /// Defaults to the rules' radius (25 miles).
    pub radius_miles: Option<f64>,
    /// Defaults to the rules' limit (10).
    pub limit: Option<u32>,
}

/// Open now, closed, or unknown: unknown is never shown as open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum OpenNow {
    Open,
    Closed,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CapacityInfo {
    pub unit: String,
    #[ts(type = "number")]
    pub available: i64,
    #[ts(type = "number | null")]
    pub maximum: Option<i64>,
    pub updated_at: DateTime<Utc>,
    #[ts(type = "number")]
    pub age_minutes: i64,
    /// "4 beds, as of 2 h ago".
    pub text: String,
    /// Older than the rules' freshness limit: shown, not trusted for ranking.
    pub stale: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PhoneInfo {
    pub number: String,
    pub extension: Option<String>,
    pub kind: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Suggestion {
    pub rank: u32,
    pub service_id: String,
    pub service_at_location_id: String,
    pub location_id: String,
    pub name: String,
    pub organization: String,
    pub address: Option<String>,
    pub latitude: f64,
    pub longitude: f64,
    pub distance_miles: f64,
    /// Service-type codes (see `suggestion_rules.json`).
    pub types: Vec<String>,
    pub open_now: OpenNow,
    /// "open 24/7", "open until 06:00", "closed, opens Mon 08:00", "hours unknown".
    pub hours: String,
    pub capacity: Option<CapacityInfo>,
    pub law_enforcement_dropoff: Option<bool>,
    /// The agency's note for officers ("call ahead; use the ambulance bay"), from its local facts.
    pub officer_note: Option<String>,
    pub phones: Vec<PhoneInfo>,
    pub website: Option<String>,
    pub score: f64,
    /// One line: why it is ranked here.
    pub why: String,
}

/// A full-text hit on a service name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ServiceHit {
    pub service_id: String,
    pub service_at_location_id: String,
    pub name: String,
    pub organization: String,
    pub city: Option<String>,
    pub latitude: f64,
    pub longitude: f64,
    /// Straight-line miles from the position searched from (None when the search had none).
    pub distance_miles: Option<f64>,
}

/// Counts of what the directory holds (for the status bar and tests).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
pub struct DirectoryStats {
    pub organizations: u64,
    pub services: u64,
    pub locations: u64,
    pub service_at_locations: u64,
    pub phones: u64,
    pub schedules: u64,
    pub indexed: u64,
}
