//! Officer credentials on PostgreSQL.

use super::*;
use crate::store::identity::{CredentialHolder, OfficerCredential, OfficerCredentialStore};

#[async_trait]
impl OfficerCredentialStore for PostgresStore {
    async fn add_officer_credential(&self, token_hash: &str, username: &str, device_id: &str) -> StoreResult<()> {
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO officer_credentials (token_hash, username, device_id, issued_at) VALUES ($1, $2, $3, now())",
                &[&token_hash, &username, &device_id],
            )
            .await?;
        Ok(())
    }

    async fn officer_credential(&self, token_hash: &str) -> StoreResult<Option<CredentialHolder>> {
        let client = self.pool.get().await?;
        // Prepared once per connection: every push asks this.
        let statement = client
            .prepare_cached(
                "SELECT c.username, c.device_id, u.officer_id, u.role FROM officer_credentials c
                 JOIN users u ON u.username = c.username WHERE c.token_hash = $1 AND c.revoked_at IS NULL",
            )
            .await?;
        let row = client.query_opt(&statement, &[&token_hash]).await?;
        row.map(|r| {
            Ok(CredentialHolder {
                username: r.get(0),
                device_id: r.get(1),
                officer_id: r.get(2),
                role: role_of(r.get(3))?,
            })
        })
        .transpose()
    }

    async fn revoke_officer_credentials(&self, username: Option<&str>, device_id: Option<&str>) -> StoreResult<u64> {
        let client = self.pool.get().await?;
        Ok(client
            .execute(
                "UPDATE officer_credentials SET revoked_at = now()
                 WHERE revoked_at IS NULL AND ($1::text IS NULL OR username = $1) AND ($2::text IS NULL OR device_id = $2)",
                &[&username, &device_id],
            )
            .await?)
    }

    async fn officer_credentials_of(&self, username: &str) -> StoreResult<Vec<OfficerCredential>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT username, device_id, issued_at, revoked_at FROM officer_credentials WHERE username = $1
                 ORDER BY issued_at",
                &[&username],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| OfficerCredential {
                username: r.get(0),
                device_id: r.get(1),
                issued_at: r.get(2),
                revoked_at: r.get(3),
            })
            .collect())
    }
}
