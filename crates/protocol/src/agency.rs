//! Wire types of the agency configuration held by the server: the versions an admin saves, the
//! refusal of a change that would orphan codes stored reports use, and what the pull feed carries.
//! The configuration itself is the core's `AgencyConfig` (checked by the core's rules); here it
//! travels as JSON.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;
use uuid::Uuid;

/// The key of every `agency_config` change in the pull feed (there is one configuration).
pub const AGENCY_CONFIG_KEY: &str = "agency_config";

/// Error kind (409) of a configuration change that drops codes stored reports use: the body is a
/// [`CodesInUse`].
pub const ERROR_CODES_IN_USE: &str = "codes_in_use";
/// Error kind (412) of a change made from a version that is no longer the newest.
pub const ERROR_STALE_CONFIG: &str = "stale_config";

/// One version of the agency configuration: `GET /v1/agency/config`, and the body of an
/// `agency_config` change in the pull feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgencyConfigVersion {
    /// 1 for the configuration `init` stored; each saved change adds one. Equal to the
    /// configuration's own `config_version`.
    pub version: u32,
    /// The core's `AgencyConfig` as JSON.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    #[ts(type = "import(\"../../lib/bindings/AgencyConfig\").AgencyConfig")]
    pub config: Value,
}

/// vocabulary -> old code -> the code that replaces it.
pub type CodeMapping = BTreeMap<String, BTreeMap<String, String>>;

/// `PUT /v1/admin/config`: a new version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaveAgencyConfig {
    /// The whole configuration as edited (its `config_version` is ignored: the server numbers it).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    #[ts(type = "import(\"../../lib/bindings/AgencyConfig\").AgencyConfig")]
    pub config: Value,
    /// The version the edit started from: when another admin saved since, the change is refused
    /// (412 `stale_config`) rather than silently undoing theirs. Absent: no check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub base_version: Option<u32>,
    /// Codes the change removes, mapped to the code that replaces each (vocabulary -> old ->
    /// new). Stored reports are never rewritten: they keep the old code, which reads with the new
    /// code's label on every device and in the console.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[ts(as = "Option<CodeMapping>", optional)]
    pub mapping: CodeMapping,
    /// Why, for the history (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub note: Option<String>,
}

/// The reply to a saved change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgencyConfigSaved {
    pub version: u32,
    /// Where the change sits in the pull feed.
    #[ts(type = "number")]
    pub feed_seq: u64,
}

/// A code a change would take away.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VocabularyCode {
    pub vocabulary: String,
    pub code: String,
}

/// A stored report version holding a code a change would take away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodeInUse {
    pub encounter_id: Uuid,
    pub version: u32,
    /// The encounter field (dotted path, e.g. `call.call_type`).
    pub field: String,
    pub vocabulary: String,
    pub code: String,
}

/// The 409 body of a refused change (`error` = [`ERROR_CODES_IN_USE`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodesInUse {
    pub error: String,
    pub message: String,
    /// Every code the change takes away that some report uses.
    pub codes: Vec<VocabularyCode>,
    /// The uses, oldest report first, at most [`MAX_CODE_USES_LISTED`].
    pub reports: Vec<CodeInUse>,
    /// How many uses there are in all.
    #[ts(type = "number")]
    pub total: u64,
}

/// `POST /v1/admin/config/check`: what saving the change would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgencyConfigCheck {
    /// The version it would be saved as.
    pub version: u32,
    /// Every code the change takes away without a mapping (used or not).
    pub removed: Vec<VocabularyCode>,
    /// Those of them stored reports use: the save is refused while this is not empty.
    pub codes_in_use: Vec<VocabularyCode>,
    /// The uses, at most [`MAX_CODE_USES_LISTED`].
    pub reports: Vec<CodeInUse>,
    #[ts(type = "number")]
    pub total: u64,
}

/// Uses listed in a refusal (the total is always given).
pub const MAX_CODE_USES_LISTED: usize = 500;

/// One saved version in the history (`GET /v1/admin/config/versions`, newest first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgencyConfigRecord {
    pub version: u32,
    pub saved_at: DateTime<Utc>,
    /// The admin's username, or `init` for the bundled configuration.
    pub saved_by: String,
    /// The mapping sent with this change (empty when none).
    pub mapping: CodeMapping,
    pub note: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    #[ts(type = "import(\"../../lib/bindings/AgencyConfig\").AgencyConfig")]
    pub config: Value,
}

/// What a device last said about its configuration (the admin's device list shows it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceConfigVersion {
    pub device_id: String,
    pub config_version: u32,
    pub reported_at: DateTime<Utc>,
}
