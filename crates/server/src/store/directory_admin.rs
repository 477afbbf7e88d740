//! What the server keeps for the directory's admin side, beside the [`super::Store`] trait: the
//! local facts of services (kept apart from the imported national data, so a re-import never
//! touches them; [`crate::directory_local`] lays them over each service's document when it is
//! published) and the record of each import.

use async_trait::async_trait;
use waypoint_protocol::{DirectoryImportInfo, LocalFactsRecord};

use super::StoreResult;

#[async_trait]
pub trait DirectoryAdminStore: Send + Sync {
    async fn local_facts(&self, service_id: &str) -> StoreResult<Option<LocalFactsRecord>>;

    /// Every service's local facts, by service id.
    async fn all_local_facts(&self) -> StoreResult<Vec<LocalFactsRecord>>;

    /// Sets a service's local facts (replacing what was there).
    async fn put_local_facts(&self, record: LocalFactsRecord) -> StoreResult<()>;

    /// Removes a service's local facts; `false` when it had none.
    async fn clear_local_facts(&self, service_id: &str) -> StoreResult<bool>;

    /// Records a finished import (`info.id` is ignored: the store numbers it).
    async fn record_directory_import(&self, info: DirectoryImportInfo) -> StoreResult<u64>;

    /// The last `limit` imports, newest first.
    async fn directory_imports(&self, limit: usize) -> StoreResult<Vec<DirectoryImportInfo>>;
}
