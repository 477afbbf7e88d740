//! Embedded, numbered schema migrations, tracked in `schema_migrations`.

use chrono::Utc;
use rusqlite::{params, Connection};

use crate::error::{Error, Result};

/// Every migration, in order. Never edit one that has shipped: add the next number.
pub const MIGRATIONS: &[(u32, &str, &str)] = &[
    (1, "init", include_str!("../migrations/0001_init.sql")),
    (2, "search", include_str!("../migrations/0002_search.sql")),
    (3, "outbox_body", include_str!("../migrations/0003_outbox_body.sql")),
    (4, "outbox_body_apart", include_str!("../migrations/0004_outbox_body_apart.sql")),
    (5, "agency_config", include_str!("../migrations/0005_agency_config.sql")),
];

/// Applies the migrations above `target` that are not applied yet, each in its own transaction.
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<u32> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )?;
    let current = current_version(conn)?;
    let newest_known = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
    if current > newest_known {
        return Err(Error::InvalidState(format!(
            "this database was written by a newer Waypoint (schema {current}, this one knows {newest_known}): update the app"
        )));
    }
    for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current && m.0 <= target) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![version, name, Utc::now().to_rfc3339()],
        )?;
        tx.commit()?;
        tracing::info!(version, name, "applied migration");
    }
    current_version(conn)
}

pub fn migrate(conn: &mut Connection) -> Result<u32> {
    migrate_to(conn, u32::MAX)
}

pub fn current_version(conn: &Connection) -> Result<u32> {
    Ok(conn.query_row("SELECT coalesce(max(version), 0) FROM schema_migrations", [], |row| row.get(0))?)
}
