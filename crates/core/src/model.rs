//! The encounter report: the fields CIT programmes collect, as one versioned record.
//!
//! Coded fields (call type, behaviours, dispositions, ...) are plain codes checked against the
//! agency's vocabularies (see `vocab`), so an agency can add codes without a code change.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

/// Where a version is in its lifecycle. Only `Draft` can be edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum EncounterStatus {
    Draft,
    Submitted,
    Returned,
    Approved,
}

impl EncounterStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EncounterStatus::Draft => "draft",
            EncounterStatus::Submitted => "submitted",
            EncounterStatus::Returned => "returned",
            EncounterStatus::Approved => "approved",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "draft" => EncounterStatus::Draft,
            "submitted" => EncounterStatus::Submitted,
            "returned" => EncounterStatus::Returned,
            "approved" => EncounterStatus::Approved,
            _ => return None,
        })
    }
}

/// A supervisor's decision (as the wire carries it) is the status the version takes.
impl From<waypoint_protocol::ReviewDecision> for EncounterStatus {
    fn from(decision: waypoint_protocol::ReviewDecision) -> Self {
        match decision {
            waypoint_protocol::ReviewDecision::Approved => EncounterStatus::Approved,
            waypoint_protocol::ReviewDecision::Returned => EncounterStatus::Returned,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "snake_case")]
pub enum LocationSource {
    Gps,
    Manual,
    #[default]
    None,
}

/// A yes/no question where "unknown" is a real answer and `None` means "not asked".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum YesNoUnknown {
    Yes,
    No,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
#[serde(default)]
pub struct Location {
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub accuracy_m: Option<f64>,
    pub source: LocationSource,
    pub address: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
#[serde(default)]
pub struct CallInfo {
    /// Code from the `call_types` vocabulary.
    pub call_type: Option<String>,
    /// What the caller or dispatcher reported, in words.
    pub nature_of_call: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
#[serde(default)]
pub struct Subject {
    pub name: Option<String>,
    /// Code from `age_bands` ("unknown" is a code).
    pub age_band: Option<String>,
    /// Code from `genders`.
    pub gender: Option<String>,
    pub veteran: Option<YesNoUnknown>,
    /// Code from `housing_statuses`.
    pub housing_status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
#[serde(default)]
pub struct Risk {
    /// Code from `weapons` ("none" is a code).
    pub weapon: Option<String>,
    pub threatened_violence: bool,
    pub self_injury: bool,
    /// Codes from `substances`.
    pub substances: Vec<String>,
    pub naloxone_administered: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
#[serde(default)]
pub struct Response {
    pub cit_officer_requested: bool,
    pub cit_officer_dispatched: bool,
    pub cit_officer_arrived: bool,
    pub officer_cit_certified: bool,
    pub supervisor_on_scene: bool,
    pub mobile_crisis_team: bool,
    pub verbal_deescalation: bool,
    pub handcuffs: bool,
    pub reportable_force: bool,
    pub subject_injured: bool,
    pub officer_injured: bool,
    pub minutes_on_scene: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
#[serde(default)]
pub struct Diversion {
    /// "Was criminal custody diverted?" `None` until answered.
    pub custody_diverted: Option<bool>,
    /// Codes from `offences`.
    pub offences_considered: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ReferralOutcome {
    Accepted,
    Declined,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Referral {
    pub service_id: String,
    /// Name at the time of referral, so the report reads well even if the directory changes.
    pub service_name: Option<String>,
    pub outcome: ReferralOutcome,
}

/// A supervisor's decision on a submitted version (made on the server, pulled by the device).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Review {
    pub decision: EncounterStatus,
    pub comment: Option<String>,
    pub reviewer: Option<String>,
    pub at: DateTime<Utc>,
}

/// One version of an encounter report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Encounter {
    #[ts(type = "string")]
    pub id: Uuid,
    /// 1 for the original report; each amendment adds one.
    pub version: u32,
    /// The version this one amends.
    pub supersedes: Option<u32>,
    pub status: EncounterStatus,
    pub device_id: String,
    pub officer_id: String,
    /// The agency configuration version the codes were chosen from.
    pub config_version: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub occurred_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub review: Option<Review>,
    pub incident_number: Option<String>,
    #[serde(default)]
    pub location: Location,
    #[serde(default)]
    pub call: CallInfo,
    #[serde(default)]
    pub subject: Subject,
    /// Codes from `crisis_natures`.
    #[serde(default)]
    pub crisis_natures: Vec<String>,
    /// Codes from `behaviours`.
    #[serde(default)]
    pub behaviours: Vec<String>,
    /// Words for the "other" behaviour.
    #[serde(default)]
    pub behaviour_other: Option<String>,
    #[serde(default)]
    pub risk: Risk,
    #[serde(default)]
    pub response: Response,
    /// Codes from `dispositions`.
    #[serde(default)]
    pub dispositions: Vec<String>,
    #[serde(default)]
    pub diversion: Diversion,
    #[serde(default)]
    pub referrals: Vec<Referral>,
    #[serde(default)]
    pub narrative: String,
}

impl Encounter {
    /// A blank draft made on this device, occurring now.
    pub fn new_draft(device_id: &str, officer_id: &str, config_version: u32, now: DateTime<Utc>) -> Self {
        Encounter {
            id: Uuid::now_v7(),
            version: 1,
            supersedes: None,
            status: EncounterStatus::Draft,
            device_id: device_id.to_owned(),
            officer_id: officer_id.to_owned(),
            config_version,
            created_at: now,
            updated_at: now,
            occurred_at: now,
            submitted_at: None,
            review: None,
            incident_number: None,
            location: Location::default(),
            call: CallInfo::default(),
            subject: Subject::default(),
            crisis_natures: Vec::new(),
            behaviours: Vec::new(),
            behaviour_other: None,
            risk: Risk::default(),
            response: Response::default(),
            dispositions: Vec::new(),
            diversion: Diversion::default(),
            referrals: Vec::new(),
            narrative: String::new(),
        }
    }

    /// The words a text search looks in.
    pub fn search_text(&self) -> String {
        let mut parts: Vec<&str> = vec![&self.narrative];
        parts.extend(self.incident_number.as_deref());
        parts.extend(self.call.nature_of_call.as_deref());
        parts.extend(self.call.call_type.as_deref());
        parts.extend(self.subject.name.as_deref());
        parts.extend(self.location.address.as_deref());
        parts.extend(self.behaviour_other.as_deref());
        parts.extend(self.behaviours.iter().map(String::as_str));
        parts.extend(self.dispositions.iter().map(String::as_str));
        parts.extend(self.referrals.iter().filter_map(|r| r.service_name.as_deref()));
        parts.join(" ").to_lowercase()
    }
}

/// A row of the encounter list: the newest version of each encounter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct EncounterSummary {
    #[ts(type = "string")]
    pub id: Uuid,
    pub version: u32,
    pub status: EncounterStatus,
    pub occurred_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub incident_number: Option<String>,
    pub call_type: Option<String>,
    pub nature_of_call: Option<String>,
    pub subject_name: Option<String>,
    pub address: Option<String>,
    pub dispositions: Vec<String>,
    pub review_comment: Option<String>,
    /// Where this version is in sync with the agency server (`None` for a draft).
    pub sync: Option<SyncState>,
}

impl From<&Encounter> for EncounterSummary {
    fn from(e: &Encounter) -> Self {
        EncounterSummary {
            id: e.id,
            version: e.version,
            status: e.status,
            occurred_at: e.occurred_at,
            updated_at: e.updated_at,
            incident_number: e.incident_number.clone(),
            call_type: e.call.call_type.clone(),
            nature_of_call: e.call.nature_of_call.clone(),
            subject_name: e.subject.name.clone(),
            address: e.location.address.clone(),
            dispositions: e.dispositions.clone(),
            review_comment: e.review.as_ref().and_then(|r| r.comment.clone()),
            sync: None,
        }
    }
}

/// One entry of a record's version history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct VersionInfo {
    pub version: u32,
    pub status: EncounterStatus,
    pub supersedes: Option<u32>,
    pub updated_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub review: Option<Review>,
    /// Where this version is in sync with the agency server (`None` for a draft).
    pub sync: Option<SyncState>,
}

/// An encounter with its whole history, newest version first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct EncounterDetail {
    pub current: Encounter,
    pub versions: Vec<VersionInfo>,
}

/// Filters for the encounter list; all optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, Default)]
#[serde(default)]
pub struct ListQuery {
    /// Words to look for in the narrative, names, addresses, incident numbers.
    pub text: Option<String>,
    /// Occurred on or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Occurred before this instant.
    pub to: Option<DateTime<Utc>>,
    pub status: Option<EncounterStatus>,
}

/// A version's place in sync, as the officer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SyncState {
    Pending { attempts: u32 },
    Synced { at: Option<String>, note: Option<String> },
    NeedsAttention { reason: String },
}
