//! `waypoint-server import services` through the real binary, on both stores: a county/211 list
//! (`tests/service-list/`) goes into the server's directory with its report printed (each
//! rejected row with its reason), its services are published to every device's pull feed, a
//! re-import publishes nothing, and both runs are in the audit trail.

mod common;

use std::path::Path;

use common::*;

on_both_stores!(a_service_list_is_imported_published_once_and_audited);

fn sample(file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/service-list").join(file).to_string_lossy().into_owned()
}

async fn a_service_list_is_imported_published_once_and_audited(backend: Backend) {
    let t = TestStore::new(backend).await;
    let data = tempfile::tempdir().unwrap();
    let (csv, mapping) = (sample("county-211.csv"), sample("county-211-mapping.json"));
    let args = ["import", "services", "--csv", csv.as_str(), "--mapping", mapping.as_str()];

    let first = server_cli(&t, data.path(), &args);
    let stdout = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(first.status.success(), "{stdout}{}", String::from_utf8_lossy(&first.stderr));
    assert!(stdout.contains("9 rows read, 5 created, 0 updated, 0 unchanged, 4 rejected"), "{stdout}");
    assert!(stdout.contains("published 5 changes and 0 removals"), "{stdout}");
    assert!(stdout.contains("rejected: county-211.csv row 5: `Clinic With No Coordinates`: no latitude"), "{stdout}");
    assert!(
        stdout.contains("warning: county-211.csv row 3: `Front Steps ARCH Shelter`: service `Laundry`"),
        "{stdout}"
    );
    let published = t.store.published_directory().await.unwrap();
    assert_eq!(published.len(), 5, "every device is sent the five services");

    let again = server_cli(&t, data.path(), &args);
    let stdout = String::from_utf8_lossy(&again.stdout).to_string();
    assert!(again.status.success(), "{stdout}");
    assert!(stdout.contains("0 created, 0 updated, 5 unchanged"), "{stdout}");
    assert!(stdout.contains("published 0 changes and 0 removals"), "{stdout}");
    assert_eq!(t.store.published_directory().await.unwrap(), published);

    let trail = t.store.audit_rows(0, 100).await.unwrap();
    let finished: Vec<_> = trail.iter().filter(|r| r.action == "directory_import" && r.outcome == "ok").collect();
    assert_eq!(finished.len(), 2, "{trail:?}");
    assert!(finished[0].target.as_deref().unwrap_or("").contains("Travis County 211"), "{:?}", finished[0]);

    // A mapping that names a type Waypoint lacks: refused, nothing published.
    let bad = data.path().join("bad-mapping.json");
    let text = std::fs::read_to_string(&mapping).unwrap().replace("\"detox\"", "\"spa_day\"");
    std::fs::write(&bad, text).unwrap();
    let refused =
        server_cli(&t, data.path(), &["import", "services", "--csv", csv.as_str(), "--mapping", bad.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("`spa_day`, which is not a Waypoint service type"));
    assert_eq!(t.store.published_directory().await.unwrap(), published);
}
