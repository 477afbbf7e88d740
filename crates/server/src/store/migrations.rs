//! Embedded, numbered schema migrations of each store, tracked in its `schema_migrations` table
//! (version, name, applied_at). Each store applies them one transaction each, holding its write
//! lock from reading the current version to recording the new one, so two servers starting at
//! once apply each migration once.
//!
//! Databases made before tracking have no `schema_migrations` table: they start at version 0 and
//! run every migration once. That is safe because the migrations written before tracking (SQLite
//! 0001, PostgreSQL 0001-0003) are idempotent: `IF NOT EXISTS` tables, upgrades that check the
//! schema first, as the server ran them at every start. Migrations after those run exactly once.

use super::{StoreError, StoreResult};

/// One numbered migration. Never edit one that has shipped: add the next number.
#[derive(Debug)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

pub const SQLITE: &[Migration] = &[
    Migration { version: 1, name: "init", sql: include_str!("../../migrations/sqlite/0001_init.sql") },
    Migration { version: 2, name: "identity", sql: include_str!("../../migrations/sqlite/0002_identity.sql") },
    Migration { version: 3, name: "review", sql: include_str!("../../migrations/sqlite/0003_review.sql") },
    Migration { version: 4, name: "accounts", sql: include_str!("../../migrations/sqlite/0004_accounts.sql") },
    Migration { version: 5, name: "audit", sql: include_str!("../../migrations/sqlite/0005_audit.sql") },
    Migration { version: 6, name: "review_desk", sql: include_str!("../../migrations/sqlite/0006_review_desk.sql") },
    Migration { version: 7, name: "admin", sql: include_str!("../../migrations/sqlite/0007_admin.sql") },
    Migration {
        version: 8,
        name: "review_queue_covering",
        sql: include_str!("../../migrations/sqlite/0008_review_queue_covering.sql"),
    },
    Migration {
        version: 9,
        name: "agency_config",
        sql: include_str!("../../migrations/sqlite/0009_agency_config.sql"),
    },
    Migration { version: 10, name: "records_feed", sql: include_str!("../../migrations/sqlite/0010_records_feed.sql") },
    Migration { version: 11, name: "cit_training", sql: include_str!("../../migrations/sqlite/0011_cit_training.sql") },
    Migration {
        version: 12,
        name: "imported_history",
        sql: include_str!("../../migrations/sqlite/0012_imported_history.sql"),
    },
];

pub const POSTGRES: &[Migration] = &[
    Migration { version: 1, name: "init", sql: include_str!("../../migrations/postgres/0001_init.sql") },
    Migration { version: 2, name: "json_bodies", sql: include_str!("../../migrations/postgres/0002_json_bodies.sql") },
    Migration { version: 3, name: "lz4_bodies", sql: include_str!("../../migrations/postgres/0003_lz4_bodies.sql") },
    Migration { version: 4, name: "identity", sql: include_str!("../../migrations/postgres/0004_identity.sql") },
    Migration { version: 5, name: "review", sql: include_str!("../../migrations/postgres/0005_review.sql") },
    Migration { version: 6, name: "accounts", sql: include_str!("../../migrations/postgres/0006_accounts.sql") },
    Migration { version: 7, name: "audit", sql: include_str!("../../migrations/postgres/0007_audit.sql") },
    Migration { version: 8, name: "review_desk", sql: include_str!("../../migrations/postgres/0008_review_desk.sql") },
    Migration { version: 9, name: "admin", sql: include_str!("../../migrations/postgres/0009_admin.sql") },
    Migration {
        version: 10,
        name: "review_queue_covering",
        sql: include_str!("../../migrations/postgres/0010_review_queue_covering.sql"),
    },
    Migration {
        version: 11,
        name: "agency_config",
        sql: include_str!("../../migrations/postgres/0011_agency_config.sql"),
    },
    Migration {
        version: 12,
        name: "records_feed",
        sql: include_str!("../../migrations/postgres/0012_records_feed.sql"),
    },
    Migration {
        version: 13,
        name: "cit_training",
        sql: include_str!("../../migrations/postgres/0013_cit_training.sql"),
    },
    Migration {
        version: 14,
        name: "imported_history",
        sql: include_str!("../../migrations/postgres/0014_imported_history.sql"),
    },
];

/// The highest version in `migrations`: the schema this server writes.
pub fn newest(migrations: &[Migration]) -> u32 {
    migrations.last().map_or(0, |m| m.version)
}

/// The migration to apply next to a database at `current`, if any at or below `target`. Fails
/// when the database was migrated by a newer server than this one: it may hold what this one
/// would misread or damage.
pub fn next(migrations: &'static [Migration], current: u32, target: u32) -> StoreResult<Option<&'static Migration>> {
    let known = newest(migrations);
    if current > known {
        return Err(StoreError::NewerSchema { found: current, known });
    }
    Ok(migrations.iter().find(|m| m.version > current && m.version <= target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_numbered_one_by_one() {
        for list in [SQLITE, POSTGRES] {
            for (index, migration) in list.iter().enumerate() {
                assert_eq!(migration.version as usize, index + 1, "{}", migration.name);
            }
        }
    }

    #[test]
    fn next_walks_up_to_the_target_and_refuses_a_newer_database() {
        assert_eq!(next(POSTGRES, 0, u32::MAX).unwrap().map(|m| m.version), Some(1));
        assert_eq!(next(POSTGRES, 1, u32::MAX).unwrap().map(|m| m.version), Some(2));
        assert!(next(POSTGRES, 1, 1).unwrap().is_none());
        assert!(next(POSTGRES, newest(POSTGRES), u32::MAX).unwrap().is_none());
        let newer = next(POSTGRES, newest(POSTGRES) + 1, u32::MAX).unwrap_err();
        assert!(matches!(newer, StoreError::NewerSchema { found, known } if found == known + 1), "{newer}");
    }
}
