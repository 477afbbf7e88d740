//! [`AccountStore`] on SQLite (times as RFC 3339 text in UTC, like the rest of the store).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::{parse_role, parse_time, text, SqliteStore};
use crate::store::{
    AccountStore, DeviceCredential, DeviceSummary, MfaEnrolment, SessionState, StoreError, StoreResult, UserAccount,
};

fn optional_time(value: Option<String>) -> rusqlite::Result<Option<DateTime<Utc>>> {
    value.as_deref().map(parse_time).transpose()
}

const ACCOUNT_COLUMNS: &str =
    "username, role, password_hash, enabled, failed_sign_ins, locked_until, totp_secret, last_sign_in_at";

fn account(row: &rusqlite::Row) -> rusqlite::Result<UserAccount> {
    Ok(UserAccount {
        username: row.get(0)?,
        role: parse_role(&row.get::<_, String>(1)?)?,
        password_hash: row.get(2)?,
        enabled: row.get(3)?,
        failed_sign_ins: row.get(4)?,
        locked_until: optional_time(row.get(5)?)?,
        totp_secret: row.get(6)?,
        last_sign_in_at: optional_time(row.get(7)?)?,
    })
}

/// `NotFound` when an UPDATE of one user changed no row.
fn one_user(changed: usize, username: &str) -> StoreResult<()> {
    if changed == 0 {
        return Err(StoreError::NotFound(format!("user {username}")));
    }
    Ok(())
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn user_account(&self, username: &str) -> StoreResult<Option<UserAccount>> {
        let username = username.to_string();
        self.run(move |conn| {
            let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM users WHERE username = ?1");
            Ok(conn.prepare_cached(&sql)?.query_row([username], account).optional()?)
        })
        .await
    }

    async fn user_accounts(&self) -> StoreResult<Vec<UserAccount>> {
        self.run(move |conn| {
            let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM users ORDER BY username");
            let mut statement = conn.prepare(&sql)?;
            let rows = statement.query_map([], account)?.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn record_failed_sign_in(
        &self,
        username: &str,
        now: DateTime<Utc>,
        max_failures: u32,
        lock_until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let username = username.to_string();
        self.write(move |tx| {
            let locked: Option<bool> = tx
                .query_row(
                    "UPDATE users SET
                        locked_until = CASE WHEN failed_sign_ins + 1 >= ?2 THEN ?4 ELSE NULL END,
                        failed_sign_ins = CASE WHEN failed_sign_ins + 1 >= ?2 THEN 0 ELSE failed_sign_ins + 1 END
                     WHERE username = ?1 AND enabled = 1 AND (locked_until IS NULL OR locked_until <= ?3)
                     RETURNING locked_until IS NOT NULL",
                    params![username, max_failures, text(now), text(lock_until)],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(locked.unwrap_or(false))
        })
        .await
    }

    async fn record_sign_in(&self, username: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let username = username.to_string();
        self.write(move |tx| {
            let changed = tx.execute(
                "UPDATE users SET failed_sign_ins = 0, locked_until = NULL, last_sign_in_at = ?2 WHERE username = ?1",
                params![username, text(at)],
            )?;
            one_user(changed, &username)
        })
        .await
    }

    async fn set_user_enabled(&self, username: &str, enabled: bool) -> StoreResult<()> {
        let username = username.to_string();
        self.write(move |tx| {
            let changed =
                tx.execute("UPDATE users SET enabled = ?2 WHERE username = ?1", params![username, enabled])?;
            one_user(changed, &username)?;
            if !enabled {
                tx.execute("DELETE FROM sessions WHERE username = ?1", [&username])?;
            }
            Ok(())
        })
        .await
    }

    async fn unlock_user(&self, username: &str) -> StoreResult<()> {
        let username = username.to_string();
        self.write(move |tx| {
            let changed = tx.execute(
                "UPDATE users SET failed_sign_ins = 0, locked_until = NULL WHERE username = ?1",
                [&username],
            )?;
            one_user(changed, &username)
        })
        .await
    }

    async fn set_password_hash(&self, username: &str, password_hash: &str) -> StoreResult<()> {
        let (username, password_hash) = (username.to_string(), password_hash.to_string());
        self.write(move |tx| {
            let changed = tx
                .execute("UPDATE users SET password_hash = ?2 WHERE username = ?1", params![username, password_hash])?;
            one_user(changed, &username)?;
            tx.execute("DELETE FROM sessions WHERE username = ?1", [&username])?;
            Ok(())
        })
        .await
    }

    async fn set_totp(&self, username: &str, secret: &str, recovery_code_hashes: &[String]) -> StoreResult<()> {
        let (username, secret, hashes) = (username.to_string(), secret.to_string(), recovery_code_hashes.to_vec());
        self.write(move |tx| {
            let changed =
                tx.execute("UPDATE users SET totp_secret = ?2 WHERE username = ?1", params![username, secret])?;
            one_user(changed, &username)?;
            tx.execute("DELETE FROM recovery_codes WHERE username = ?1", [&username])?;
            let mut insert = tx.prepare_cached("INSERT INTO recovery_codes (username, code_hash) VALUES (?1, ?2)")?;
            for hash in &hashes {
                insert.execute(params![username, hash])?;
            }
            Ok(())
        })
        .await
    }

    async fn reset_mfa(&self, username: &str) -> StoreResult<()> {
        let username = username.to_string();
        self.write(move |tx| {
            let changed = tx.execute("UPDATE users SET totp_secret = NULL WHERE username = ?1", [&username])?;
            one_user(changed, &username)?;
            for table in ["recovery_codes", "mfa_enrolments", "sessions"] {
                tx.execute(&format!("DELETE FROM {table} WHERE username = ?1"), [&username])?;
            }
            Ok(())
        })
        .await
    }

    async fn use_recovery_code(&self, username: &str, code_hash: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        let (username, code_hash) = (username.to_string(), code_hash.to_string());
        self.write(move |tx| {
            let changed = tx.execute(
                "UPDATE recovery_codes SET used_at = ?3 WHERE username = ?1 AND code_hash = ?2 AND used_at IS NULL",
                params![username, code_hash, text(at)],
            )?;
            Ok(changed == 1)
        })
        .await
    }

    async fn unused_recovery_codes(&self, username: &str) -> StoreResult<u32> {
        let username = username.to_string();
        self.run(move |conn| {
            Ok(conn.query_row(
                "SELECT COUNT(*) FROM recovery_codes WHERE username = ?1 AND used_at IS NULL",
                [username],
                |r| r.get(0),
            )?)
        })
        .await
    }

    async fn add_mfa_enrolment(&self, token_hash: &str, username: &str, expires_at: DateTime<Utc>) -> StoreResult<()> {
        let (token_hash, username) = (token_hash.to_string(), username.to_string());
        self.write(move |tx| {
            tx.execute("DELETE FROM mfa_enrolments WHERE expires_at < ?1", [text(Utc::now())])?;
            tx.execute(
                "INSERT INTO mfa_enrolments (token_hash, username, expires_at) VALUES (?1, ?2, ?3)",
                params![token_hash, username, text(expires_at)],
            )?;
            Ok(())
        })
        .await
    }

    async fn mfa_enrolment(&self, token_hash: &str) -> StoreResult<Option<MfaEnrolment>> {
        let token_hash = token_hash.to_string();
        self.run(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT username, expires_at, secret FROM mfa_enrolments WHERE token_hash = ?1",
                    [token_hash],
                    |r| {
                        Ok(MfaEnrolment {
                            username: r.get(0)?,
                            expires_at: parse_time(&r.get::<_, String>(1)?)?,
                            secret: r.get(2)?,
                        })
                    },
                )
                .optional()?)
        })
        .await
    }

    async fn set_mfa_enrolment_secret(&self, token_hash: &str, secret: &str) -> StoreResult<()> {
        let (token_hash, secret) = (token_hash.to_string(), secret.to_string());
        self.write(move |tx| {
            tx.execute("UPDATE mfa_enrolments SET secret = ?2 WHERE token_hash = ?1", params![token_hash, secret])?;
            Ok(())
        })
        .await
    }

    async fn end_mfa_enrolment(&self, token_hash: &str) -> StoreResult<()> {
        let token_hash = token_hash.to_string();
        self.write(move |tx| {
            tx.execute(
                "DELETE FROM mfa_enrolments WHERE token_hash = ?1 OR expires_at < ?2",
                params![token_hash, text(Utc::now())],
            )?;
            Ok(())
        })
        .await
    }

    async fn session_state(&self, token_hash: &str) -> StoreResult<Option<SessionState>> {
        let token_hash = token_hash.to_string();
        self.run(move |conn| {
            Ok(conn
                .prepare_cached("SELECT username, role, expires_at, last_used_at FROM sessions WHERE token_hash = ?1")?
                .query_row([token_hash], |r| {
                    Ok(SessionState {
                        username: r.get(0)?,
                        role: parse_role(&r.get::<_, String>(1)?)?,
                        expires_at: parse_time(&r.get::<_, String>(2)?)?,
                        last_used_at: optional_time(r.get(3)?)?,
                    })
                })
                .optional()?)
        })
        .await
    }

    async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let token_hash = token_hash.to_string();
        self.write(move |tx| {
            tx.execute("UPDATE sessions SET last_used_at = ?2 WHERE token_hash = ?1", params![token_hash, text(at)])?;
            Ok(())
        })
        .await
    }

    async fn end_session(&self, token_hash: &str) -> StoreResult<bool> {
        let token_hash = token_hash.to_string();
        self.write(move |tx| Ok(tx.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])? == 1)).await
    }

    async fn device_credential(&self, token_hash: &str) -> StoreResult<Option<DeviceCredential>> {
        let token_hash = token_hash.to_string();
        self.run(move |conn| {
            Ok(conn
                .prepare_cached("SELECT device_id, revoked_at, last_seen_at FROM devices WHERE token_hash = ?1")?
                .query_row([token_hash], |r| {
                    Ok(DeviceCredential {
                        device_id: r.get(0)?,
                        revoked_at: optional_time(r.get(1)?)?,
                        last_seen_at: optional_time(r.get(2)?)?,
                    })
                })
                .optional()?)
        })
        .await
    }

    async fn touch_device(&self, device_id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let device_id = device_id.to_string();
        self.write(move |tx| {
            tx.execute("UPDATE devices SET last_seen_at = ?2 WHERE device_id = ?1", params![device_id, text(at)])?;
            Ok(())
        })
        .await
    }

    async fn devices(&self) -> StoreResult<Vec<DeviceSummary>> {
        self.run(move |conn| {
            let mut statement = conn.prepare(
                "SELECT device_id, enrolled_at, last_seen_at, revoked_at FROM devices ORDER BY enrolled_at, device_id",
            )?;
            let rows = statement
                .query_map([], |r| {
                    Ok(DeviceSummary {
                        device_id: r.get(0)?,
                        enrolled_at: parse_time(&r.get::<_, String>(1)?)?,
                        last_seen_at: optional_time(r.get(2)?)?,
                        revoked_at: optional_time(r.get(3)?)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn revoke_device(&self, device_id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let device_id = device_id.to_string();
        self.write(move |tx| {
            let changed = tx.execute(
                "UPDATE devices SET revoked_at = COALESCE(revoked_at, ?2) WHERE device_id = ?1",
                params![device_id, text(at)],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound(format!("device {device_id}")));
            }
            Ok(())
        })
        .await
    }

    async fn rotate_device_token(&self, device_id: &str, new_token_hash: &str) -> StoreResult<bool> {
        let (device_id, new_token_hash) = (device_id.to_string(), new_token_hash.to_string());
        self.write(move |tx| {
            let changed = tx.execute(
                "UPDATE devices SET token_hash = ?2 WHERE device_id = ?1 AND revoked_at IS NULL",
                params![device_id, new_token_hash],
            )?;
            Ok(changed == 1)
        })
        .await
    }
}
