//! What the server keeps of the agency configuration, beside the [`super::Store`] trait: its
//! versions (the newest is what devices use; each saved one is broadcast in the pull feed in the
//! same transaction), the version each device last reported, and the scan that finds stored
//! reports holding codes a change would take away.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;
use waypoint_protocol::{AgencyConfigRecord, DeviceConfigVersion};

use super::StoreResult;

/// A stored report version whose body mentions one of the codes looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MentioningVersion {
    pub encounter_id: Uuid,
    pub version: u32,
    /// The canonical JSON as stored.
    pub body: String,
}

#[async_trait]
pub trait AgencyConfigStore: Send + Sync {
    /// The newest version, if any was stored.
    async fn newest_agency_config(&self) -> StoreResult<Option<AgencyConfigRecord>>;

    /// Every version, newest first.
    async fn agency_config_history(&self) -> StoreResult<Vec<AgencyConfigRecord>>;

    /// Stores `record` (version 1) when no version is stored yet; `false` when one is (then
    /// nothing changes). Not broadcast: devices carry the same bundled configuration.
    async fn seed_agency_config(&self, record: AgencyConfigRecord) -> StoreResult<bool>;

    /// Stores `record` as the newest version and appends its `agency_config` change to the feed,
    /// in one transaction, when the newest stored version is still `after` (`record.version` is
    /// `after + 1`). Returns the change's feed position, or `None` when another version was saved
    /// since (nothing is stored).
    async fn save_agency_config(&self, after: u32, record: AgencyConfigRecord) -> StoreResult<Option<u64>>;

    /// Up to `limit` stored versions after `after` (in `(encounter_id, version)` order) whose body
    /// contains one of `needles` as text: a superset of the reports using those codes, which the
    /// caller checks exactly. Paged, so a scan over every report holds one page at a time.
    async fn versions_mentioning(
        &self,
        needles: Vec<String>,
        after: Option<(Uuid, u32)>,
        limit: usize,
    ) -> StoreResult<Vec<MentioningVersion>>;

    /// Records the configuration version a device says it uses (written only when it changed).
    async fn note_device_config_version(&self, device_id: &str, version: u32, at: DateTime<Utc>) -> StoreResult<()>;

    /// What every device last reported, by device id.
    async fn device_config_versions(&self) -> StoreResult<Vec<DeviceConfigVersion>>;
}

/// `text` as a LIKE pattern matching it anywhere (`\` escapes `%`, `_` and itself).
pub(crate) fn like_anywhere(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}
