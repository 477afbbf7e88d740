//! [`AccountStore`] on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;

use super::{role_of, PostgresStore};
use crate::store::{
    AccountStore, DeviceCredential, DeviceSummary, MfaEnrolment, SessionState, StoreError, StoreResult, UserAccount,
};

const ACCOUNT_COLUMNS: &str =
    "username, role, password_hash, enabled, failed_sign_ins, locked_until, totp_secret, last_sign_in_at";

fn account(row: &tokio_postgres::Row) -> StoreResult<UserAccount> {
    Ok(UserAccount {
        username: row.get(0),
        role: role_of(row.get(1))?,
        password_hash: row.get(2),
        enabled: row.get(3),
        failed_sign_ins: row.get::<_, i32>(4).max(0) as u32,
        locked_until: row.get(5),
        totp_secret: row.get(6),
        last_sign_in_at: row.get(7),
    })
}

/// `NotFound` when an UPDATE of one user changed no row.
fn one_user(changed: u64, username: &str) -> StoreResult<()> {
    if changed == 0 {
        return Err(StoreError::NotFound(format!("user {username}")));
    }
    Ok(())
}

#[async_trait]
impl AccountStore for PostgresStore {
    async fn user_account(&self, username: &str) -> StoreResult<Option<UserAccount>> {
        let client = self.pool.get().await?;
        let statement =
            client.prepare_cached(&format!("SELECT {ACCOUNT_COLUMNS} FROM users WHERE username = $1")).await?;
        client.query_opt(&statement, &[&username]).await?.as_ref().map(account).transpose()
    }

    async fn user_accounts(&self) -> StoreResult<Vec<UserAccount>> {
        let client = self.pool.get().await?;
        let rows = client.query(&format!("SELECT {ACCOUNT_COLUMNS} FROM users ORDER BY username"), &[]).await?;
        rows.iter().map(account).collect()
    }

    async fn record_failed_sign_in(
        &self,
        username: &str,
        now: DateTime<Utc>,
        max_failures: u32,
        lock_until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let client = self.pool.get().await?;
        let max = max_failures as i32;
        let row = client
            .query_opt(
                "UPDATE users SET
                    locked_until = CASE WHEN failed_sign_ins + 1 >= $2 THEN $4::TIMESTAMPTZ ELSE NULL END,
                    failed_sign_ins = CASE WHEN failed_sign_ins + 1 >= $2 THEN 0 ELSE failed_sign_ins + 1 END
                 WHERE username = $1 AND enabled AND (locked_until IS NULL OR locked_until <= $3)
                 RETURNING locked_until IS NOT NULL",
                &[&username, &max, &now, &lock_until],
            )
            .await?;
        Ok(row.is_some_and(|r| r.get::<_, bool>(0)))
    }

    async fn record_sign_in(&self, username: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let client = self.pool.get().await?;
        let changed = client
            .execute(
                "UPDATE users SET failed_sign_ins = 0, locked_until = NULL, last_sign_in_at = $2 WHERE username = $1",
                &[&username, &at],
            )
            .await?;
        one_user(changed, username)
    }

    async fn set_user_enabled(&self, username: &str, enabled: bool) -> StoreResult<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let changed = tx.execute("UPDATE users SET enabled = $2 WHERE username = $1", &[&username, &enabled]).await?;
        one_user(changed, username)?;
        if !enabled {
            tx.execute("DELETE FROM sessions WHERE username = $1", &[&username]).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn unlock_user(&self, username: &str) -> StoreResult<()> {
        let client = self.pool.get().await?;
        let changed = client
            .execute("UPDATE users SET failed_sign_ins = 0, locked_until = NULL WHERE username = $1", &[&username])
            .await?;
        one_user(changed, username)
    }

    async fn set_password_hash(&self, username: &str, password_hash: &str) -> StoreResult<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let changed =
            tx.execute("UPDATE users SET password_hash = $2 WHERE username = $1", &[&username, &password_hash]).await?;
        one_user(changed, username)?;
        tx.execute("DELETE FROM sessions WHERE username = $1", &[&username]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_totp(&self, username: &str, secret: &str, recovery_code_hashes: &[String]) -> StoreResult<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let changed =
            tx.execute("UPDATE users SET totp_secret = $2 WHERE username = $1", &[&username, &secret]).await?;
        one_user(changed, username)?;
        tx.execute("DELETE FROM recovery_codes WHERE username = $1", &[&username]).await?;
        tx.execute(
            "INSERT INTO recovery_codes (username, code_hash) SELECT $1, unnest($2::TEXT[])",
            &[&username, &recovery_code_hashes],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn reset_mfa(&self, username: &str) -> StoreResult<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let changed = tx.execute("UPDATE users SET totp_secret = NULL WHERE username = $1", &[&username]).await?;
        one_user(changed, username)?;
        for table in ["recovery_codes", "mfa_enrolments", "sessions"] {
            tx.execute(&format!("DELETE FROM {table} WHERE username = $1"), &[&username]).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn use_recovery_code(&self, username: &str, code_hash: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        let client = self.pool.get().await?;
        let changed = client
            .execute(
                "UPDATE recovery_codes SET used_at = $3 WHERE username = $1 AND code_hash = $2 AND used_at IS NULL",
                &[&username, &code_hash, &at],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn unused_recovery_codes(&self, username: &str) -> StoreResult<u32> {
        let client = self.pool.get().await?;
        let row = client
            .query_one("SELECT COUNT(*) FROM recovery_codes WHERE username = $1 AND used_at IS NULL", &[&username])
            .await?;
        Ok(row.get::<_, i64>(0) as u32)
    }

    async fn add_mfa_enrolment(&self, token_hash: &str, username: &str, expires_at: DateTime<Utc>) -> StoreResult<()> {
        let client = self.pool.get().await?;
        client.execute("DELETE FROM mfa_enrolments WHERE expires_at < now()", &[]).await?;
        client
            .execute(
                "INSERT INTO mfa_enrolments (token_hash, username, expires_at) VALUES ($1, $2, $3)",
                &[&token_hash, &username, &expires_at],
            )
            .await?;
        Ok(())
    }

    async fn mfa_enrolment(&self, token_hash: &str) -> StoreResult<Option<MfaEnrolment>> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt("SELECT username, expires_at, secret FROM mfa_enrolments WHERE token_hash = $1", &[&token_hash])
            .await?;
        Ok(row.map(|r| MfaEnrolment { username: r.get(0), expires_at: r.get(1), secret: r.get(2) }))
    }

    async fn set_mfa_enrolment_secret(&self, token_hash: &str, secret: &str) -> StoreResult<()> {
        let client = self.pool.get().await?;
        client.execute("UPDATE mfa_enrolments SET secret = $2 WHERE token_hash = $1", &[&token_hash, &secret]).await?;
        Ok(())
    }

    async fn end_mfa_enrolment(&self, token_hash: &str) -> StoreResult<()> {
        let client = self.pool.get().await?;
        client
            .execute("DELETE FROM mfa_enrolments WHERE token_hash = $1 OR expires_at < now()", &[&token_hash])
            .await?;
        Ok(())
    }

    async fn session_state(&self, token_hash: &str) -> StoreResult<Option<SessionState>> {
        let client = self.pool.get().await?;
        let statement = client
            .prepare_cached("SELECT username, role, expires_at, last_used_at FROM sessions WHERE token_hash = $1")
            .await?;
        let row = client.query_opt(&statement, &[&token_hash]).await?;
        row.map(|r| {
            Ok(SessionState {
                username: r.get(0),
                role: role_of(r.get(1))?,
                expires_at: r.get(2),
                last_used_at: r.get(3),
            })
        })
        .transpose()
    }

    async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let client = self.pool.get().await?;
        client.execute("UPDATE sessions SET last_used_at = $2 WHERE token_hash = $1", &[&token_hash, &at]).await?;
        Ok(())
    }

    async fn end_session(&self, token_hash: &str) -> StoreResult<bool> {
        let client = self.pool.get().await?;
        Ok(client.execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash]).await? == 1)
    }

    async fn device_credential(&self, token_hash: &str) -> StoreResult<Option<DeviceCredential>> {
        let client = self.pool.get().await?;
        // Prepared once per connection: every device request asks this.
        let statement = client
            .prepare_cached("SELECT device_id, revoked_at, last_seen_at FROM devices WHERE token_hash = $1")
            .await?;
        let row = client.query_opt(&statement, &[&token_hash]).await?;
        Ok(row.map(|r| DeviceCredential { device_id: r.get(0), revoked_at: r.get(1), last_seen_at: r.get(2) }))
    }

    async fn touch_device(&self, device_id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let client = self.pool.get().await?;
        client.execute("UPDATE devices SET last_seen_at = $2 WHERE device_id = $1", &[&device_id, &at]).await?;
        Ok(())
    }

    async fn devices(&self) -> StoreResult<Vec<DeviceSummary>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT device_id, enrolled_at, last_seen_at, revoked_at FROM devices ORDER BY enrolled_at, device_id",
                &[],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| DeviceSummary {
                device_id: r.get(0),
                enrolled_at: r.get(1),
                last_seen_at: r.get(2),
                revoked_at: r.get(3),
            })
            .collect())
    }

    async fn revoke_device(&self, device_id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let client = self.pool.get().await?;
        let changed = client
            .execute(
                "UPDATE devices SET revoked_at = COALESCE(revoked_at, $2) WHERE device_id = $1",
                &[&device_id, &at],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::NotFound(format!("device {device_id}")));
        }
        Ok(())
    }

    async fn rotate_device_token(&self, device_id: &str, new_token_hash: &str) -> StoreResult<bool> {
        let client = self.pool.get().await?;
        let changed = client
            .execute(
                "UPDATE devices SET token_hash = $2 WHERE device_id = $1 AND revoked_at IS NULL",
                &[&device_id, &new_token_hash],
            )
            .await?;
        Ok(changed == 1)
    }
}
