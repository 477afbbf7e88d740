//! Officer credentials on SQLite.

use super::*;
use crate::store::identity::{CredentialHolder, OfficerCredential, OfficerCredentialStore};

#[async_trait]
impl OfficerCredentialStore for SqliteStore {
    async fn add_officer_credential(&self, token_hash: &str, username: &str, device_id: &str) -> StoreResult<()> {
        let (token_hash, username, device_id) = (token_hash.to_string(), username.to_string(), device_id.to_string());
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO officer_credentials (token_hash, username, device_id, issued_at) VALUES (?1, ?2, ?3, ?4)",
                params![token_hash, username, device_id, text(Utc::now())],
            )?;
            Ok(())
        })
        .await
    }

    async fn officer_credential(&self, token_hash: &str) -> StoreResult<Option<CredentialHolder>> {
        let token_hash = token_hash.to_string();
        self.run(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT c.username, c.device_id, u.officer_id, u.role FROM officer_credentials c
                 JOIN users u ON u.username = c.username WHERE c.token_hash = ?1 AND c.revoked_at IS NULL",
            )?;
            Ok(stmt
                .query_row([token_hash], |r| {
                    Ok(CredentialHolder {
                        username: r.get(0)?,
                        device_id: r.get(1)?,
                        officer_id: r.get(2)?,
                        role: parse_role(&r.get::<_, String>(3)?)?,
                    })
                })
                .optional()?)
        })
        .await
    }

    async fn revoke_officer_credentials(&self, username: Option<&str>, device_id: Option<&str>) -> StoreResult<u64> {
        let (username, device_id) = (username.map(str::to_string), device_id.map(str::to_string));
        self.write(move |tx| {
            let revoked = tx.execute(
                "UPDATE officer_credentials SET revoked_at = ?1
                 WHERE revoked_at IS NULL AND (?2 IS NULL OR username = ?2) AND (?3 IS NULL OR device_id = ?3)",
                params![text(Utc::now()), username, device_id],
            )?;
            Ok(revoked as u64)
        })
        .await
    }

    async fn officer_credentials_of(&self, username: &str) -> StoreResult<Vec<OfficerCredential>> {
        let username = username.to_string();
        self.run(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT username, device_id, issued_at, revoked_at FROM officer_credentials WHERE username = ?1
                 ORDER BY issued_at, rowid",
            )?;
            let rows = stmt
                .query_map([username], |r| {
                    Ok(OfficerCredential {
                        username: r.get(0)?,
                        device_id: r.get(1)?,
                        issued_at: parse_time(&r.get::<_, String>(2)?)?,
                        revoked_at: r.get::<_, Option<String>>(3)?.map(|t| parse_time(&t)).transpose()?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }
}
