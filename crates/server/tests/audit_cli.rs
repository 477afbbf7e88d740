//! `waypoint-server audit verify` and `audit export`, run as the built binary on both stores.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::*;
use waypoint_server::audit::{self, AuditEvent};

on_both_stores!(audit_verify_and_export_from_the_command_line);

fn database_arg(t: &TestStore) -> String {
    match t.backend {
        Backend::Sqlite => t.sqlite_path().to_string_lossy().into_owned(),
        Backend::Postgres => {
            let schema = t.schema.as_ref().unwrap();
            format!("{}?options=-c%20search_path%3D{schema}", postgres_url())
        }
    }
}

fn cli(t: &TestStore, data_dir: &Path, args: &[&str]) -> Output {
    let key_file = t.dir.path().join("database.key");
    if !key_file.exists() {
        t.key.write_new(&key_file).unwrap();
    }
    Command::new(env!("CARGO_BIN_EXE_waypoint-server"))
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--database")
        .arg(database_arg(t))
        .arg("--database-key-file")
        .arg(&key_file)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

async fn audit_verify_and_export_from_the_command_line(backend: Backend) {
    let t = TestStore::new(backend).await;
    let data = tempfile::tempdir().unwrap();
    for i in 1..=3 {
        audit::record(&t.store, AuditEvent::new("sgt.reyes", "sign_in", "ok").target(format!("user {i}")))
            .await
            .unwrap();
    }
    // The CLI's own actions are audited too: the enrolment code and the export below.
    let code = cli(&t, data.path(), &["device", "enroll"]);
    assert!(code.status.success(), "{code:?}");

    let verified = cli(&t, data.path(), &["audit", "verify"]);
    let out = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success() && out.contains("intact: 4 rows"), "{verified:?}");

    let exported = cli(&t, data.path(), &["audit", "export", "--since", "2000-01-01"]);
    assert!(exported.status.success(), "{exported:?}");
    let rows: Vec<serde_json::Value> =
        String::from_utf8(exported.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    // The export records itself before it reads: 3 sign-ins, the code, the export.
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert_eq!(rows[3]["action"], "enrollment_code_issued");
    assert_eq!(rows[3]["actor"], "cli");
    assert_eq!(rows[4]["action"], "audit_export");
    assert!(rows.iter().all(|r| r["hash"].as_str().is_some_and(|h| h.len() == 64)));
    let later = cli(&t, data.path(), &["audit", "export", "--since", "2999-01-01T00:00:00Z"]);
    assert!(later.status.success() && later.stdout.is_empty(), "{later:?}");
    assert!(!cli(&t, data.path(), &["audit", "export", "--since", "last week"]).status.success());

    // Someone with the database changes row 2: verify fails and names it.
    match backend {
        Backend::Sqlite => {
            t.sqlite_connection()
                .execute_batch(
                    "DROP TRIGGER audit_events_no_update; UPDATE audit_events SET actor = 'someone' WHERE seq = 2",
                )
                .unwrap();
        }
        Backend::Postgres => {
            let (client, connection) = tokio_postgres::connect(&postgres_url(), tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            let schema = t.schema.as_deref().unwrap();
            client
                .batch_execute(&format!(
                    "SET search_path = {schema}; ALTER TABLE audit_events DISABLE TRIGGER USER;
                     UPDATE audit_events SET actor = 'someone' WHERE seq = 2"
                ))
                .await
                .unwrap();
        }
    }
    let broken = cli(&t, data.path(), &["audit", "verify"]);
    assert!(!broken.status.success(), "{broken:?}");
    let why = String::from_utf8_lossy(&broken.stderr);
    assert!(why.contains("audit trail broken at row 2") && why.contains("changed"), "{why}");
}
