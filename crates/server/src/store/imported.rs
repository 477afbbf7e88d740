//! History imported from the agency's older records system, beside the [`super::Store`] trait
//! (`imported_encounters`; see [`crate::history_import`] for how rows become reports).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::StoreResult;

/// One imported report, ready to store.
#[derive(Debug, Clone)]
pub struct ImportedEncounter {
    /// UUID v5 of the source and row key: the same row always has the same id.
    pub id: Uuid,
    pub source: String,
    pub row_key: String,
    pub occurred_at: DateTime<Utc>,
    pub officer_id: String,
    /// The report as JSON (a Waypoint encounter body).
    pub body: String,
    /// SHA-256 of `body`: a re-import compares it to tell "unchanged" from "updated".
    pub content_hash: String,
}

/// What storing a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub imported: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl std::ops::AddAssign for ImportCounts {
    fn add_assign(&mut self, other: Self) {
        self.imported += other.imported;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
    }
}

#[async_trait]
pub trait ImportStore: Send + Sync {
    /// Stores a batch in one transaction: new rows inserted, rows whose content changed replaced,
    /// the rest left alone.
    async fn store_imported(&self, batch: Vec<ImportedEncounter>, at: DateTime<Utc>) -> StoreResult<ImportCounts>;

    /// How many imported reports are held, by source.
    async fn imported_sources(&self) -> StoreResult<Vec<(String, u64)>>;
}
