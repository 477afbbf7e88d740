//! When a decision reached the officer's device. A device pulls its feed with the cursor of the
//! last page it applied, so a pull at cursor S says it holds every change up to S: its review
//! results at or before S are delivered. The review desk shows the time (`DecisionRecord::delivered_at`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;

#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// `device_id` pulled with `cursor`: marks its decisions with a feed position at or before it,
    /// not marked yet, delivered `at`. Returns how many it marked (usually none: the lookup is
    /// an index of undelivered decisions, and nothing is written when none match).
    async fn confirm_pulled(&self, device_id: &str, cursor: u64, at: DateTime<Utc>) -> StoreResult<u64>;
}
