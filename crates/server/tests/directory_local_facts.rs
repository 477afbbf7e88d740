//! The directory's local facts over HTTP, on both stores: checked (hostile input refused, named),
//! audited, laid over the service's document and published to devices at once, kept through a
//! re-import of the same and of changed national data, cleared; the admin's directory search,
//! imports and conflicts.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::{json, Value};
use waypoint_protocol::{
    ChangeKind, DirectoryConflict, DirectoryImportInfo, DirectoryServiceInfo, ErrorBody, LocalFactsRecord,
    LocalFactsSaved, Role,
};
use waypoint_server::directory_feed::{self, DirectorySource};
use waypoint_server::Settings;

on_both_stores!(local_facts_are_published_and_survive_a_reimport);

const ADMIN: &str = "admin.ito";
const PASSWORD: &str = "a long admin password";
/// The one service of the HSDS example package.
const SERVICE: &str = "ac148810-d857-441c-9679-408f346de14b";

/// A copy of the HSDS example package that a test may change.
fn package_copy(into: &Path) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/hsds-3.0/examples/csv");
    let to = into.join("hsds");
    std::fs::create_dir_all(&to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
    to
}

/// The service's document as the feed last published it.
async fn published(t: &TestStore) -> (u64, Value) {
    let feed = t.store.pull("any-device", 0, 1 << 24).await.unwrap();
    let last = feed
        .changes
        .iter()
        .rfind(|c| c.kind == ChangeKind::DirectoryUpsert && c.key == SERVICE)
        .expect("the service was published");
    (last.seq, last.body.clone())
}

/// A GET that must answer 200 with JSON.
async fn get_json<T: serde::de::DeserializeOwned>(client: &reqwest::Client, url: &str, token: &str) -> T {
    let reply = client.get(url).bearer_auth(token).send().await.unwrap();
    let status = reply.status();
    let text = reply.text().await.unwrap();
    assert_eq!(status, 200, "{url}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"))
}

fn attribute_value(doc: &Value, code: &str) -> Option<String> {
    doc["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["taxonomy_term"]["code"] == code)
        .and_then(|a| a["value"].as_str().map(str::to_owned))
}

fn carries_the_facts(doc: &Value) {
    assert_eq!(attribute_value(doc, "law_enforcement_dropoff").as_deref(), Some("yes"), "{doc}");
    assert_eq!(attribute_value(doc, "waypoint_officer_note").as_deref(), Some("Call ahead; use the ambulance bay."));
    assert_eq!(doc["phones"][0]["number"], "(555) 010-4477", "the intake phone first");
    let schedules = doc["schedules"].as_array().unwrap();
    assert_eq!(schedules.len(), 1);
    assert_eq!(schedules[0]["byday"], "MO,TU,WE,TH,FR,SA,SU");
    for sal in doc["service_at_locations"].as_array().unwrap() {
        assert_eq!(sal["schedules"][0]["opens_at"], "00:00", "a location's own hours are replaced too");
    }
}

async fn local_facts_are_published_and_survive_a_reimport(backend: Backend) {
    let t = TestStore::new(backend).await;
    add_user(&t.store, ADMIN, Role::Admin, PASSWORD).await;
    let data = tempfile::tempdir().unwrap();
    let settings = Settings { directory_snapshot_dir: Some(data.path().to_path_buf()), ..Settings::default() };
    let server = TestServer::start(t.store.clone(), settings).await;
    let client = http_client();
    let admin = login(&client, &server, ADMIN, PASSWORD).await;
    let facts_url = |id: &str| server.url(&format!("/v1/admin/directory/services/{id}/local-facts"));
    let put = |id: &str, body: Value| client.put(facts_url(id)).bearer_auth(&admin).json(&body).send();

    // No directory yet: nothing to set facts on.
    assert_eq!(put(SERVICE, json!({"accepts_dropoffs": true})).await.unwrap().status(), 404);

    let package = package_copy(data.path());
    let (report, publication, _) =
        directory_feed::import(&t.store, data.path(), DirectorySource::Hsds(package.clone())).await.unwrap();
    assert_eq!(publication.upserts, 1);
    directory_feed::record_import(&t.store, "HSDS package example".into(), "cli", &report, &publication).await.unwrap();
    let (first_seq, listed) = published(&t).await;
    assert_eq!(attribute_value(&listed, "law_enforcement_dropoff"), None, "the listing says nothing of drop-offs");

    // The admin finds it.
    let found: Vec<DirectoryServiceInfo> =
        get_json(&client, &server.url("/v1/admin/directory/services?q=counselling"), &admin).await;
    assert!(found.iter().any(|s| s.service_id == SERVICE && s.local.is_none()), "{found:?}");

    // Wrong or hostile facts: refused, naming the fact, nothing stored or published.
    for (body, named) in [
        (json!({"intake_phone": "call me maybe"}), "intake_phone"),
        (json!({"intake_phone": "1".repeat(40)}), "intake_phone"),
        (json!({"officer_note": "x".repeat(501)}), "officer_note"),
        (json!({"officer_note": "ring the bell\u{7}\u{1b}[2J"}), "officer_note"),
        (
            json!({"hours": {"kind": "weekly", "periods": [{"days": ["XX"], "opens_at": "08:00", "closes_at": "17:00"}], "timezone": "America/Chicago"}}),
            "hours.periods.0.days",
        ),
        (
            json!({"hours": {"kind": "weekly", "periods": [{"days": ["MO"], "opens_at": "25:00", "closes_at": "17:00"}], "timezone": "America/Chicago"}}),
            "hours.periods.0.opens_at",
        ),
        (
            json!({"hours": {"kind": "weekly", "periods": [{"days": ["MO"], "opens_at": "08:00", "closes_at": "17:00"}], "timezone": "Mars/Olympus_Mons"}}),
            "hours.timezone",
        ),
        (
            json!({"hours": {"kind": "weekly", "periods": [{"days": ["MO"], "opens_at": "08:00", "closes_at": "17:00"}]}}),
            "hours.timezone",
        ),
        (json!({"hours": {"kind": "weekly", "periods": [], "timezone": "America/Chicago"}}), "hours.periods"),
    ] {
        let reply = put(SERVICE, body.clone()).await.unwrap();
        assert_eq!(reply.status(), 422, "{body}");
        let error: ErrorBody = reply.json().await.unwrap();
        assert!(error.message.starts_with(named), "{body}: {}", error.message);
        let fact = named.split('.').next().unwrap();
        assert_eq!(error.field.as_deref(), Some(fact), "{body}: the field a form shows it beside");
    }
    for body in [json!({"accepts_dropoffs": "yes please"}), json!({"sql": "'; DROP TABLE services; --"}), json!([1, 2])]
    {
        assert_eq!(put(SERVICE, body.clone()).await.unwrap().status(), 422, "{body}");
    }
    assert_eq!(put("no-such-service", json!({"accepts_dropoffs": true})).await.unwrap().status(), 404);
    assert_eq!(put("%3Cscript%3E", json!({"accepts_dropoffs": true})).await.unwrap().status(), 404);
    assert_eq!(published(&t).await.0, first_seq, "nothing refused was published");

    // Set: stored, audited, published at once.
    let facts = json!({
        "accepts_dropoffs": true,
        "hours": {"kind": "always_open"},
        "intake_phone": " (555) 010-4477 ",
        "officer_note": "Call ahead; use the ambulance bay."
    });
    let reply = put(SERVICE, facts.clone()).await.unwrap();
    assert_eq!(reply.status(), 200);
    let saved: LocalFactsSaved = reply.json().await.unwrap();
    let (seq, doc) = published(&t).await;
    assert_eq!(saved.feed_seq, Some(seq));
    carries_the_facts(&doc);
    let record: LocalFactsRecord = get_json(&client, &facts_url(SERVICE), &admin).await;
    assert_eq!(record.updated_by, ADMIN);
    assert_eq!(record.facts.intake_phone.as_deref(), Some("(555) 010-4477"), "kept tidy");
    // The same facts again publish nothing.
    let again: LocalFactsSaved = put(SERVICE, facts.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(again.feed_seq, None);

    // A re-import of the same national data publishes nothing and keeps the facts ...
    let (_, same, manifest) =
        directory_feed::import(&t.store, data.path(), DirectorySource::Hsds(package.clone())).await.unwrap();
    assert_eq!((same.upserts, same.deletes), (0, 0));
    let snapshot =
        waypoint_server::snapshot::decode(&std::fs::read(data.path().join(&manifest.file)).unwrap()).unwrap();
    carries_the_facts(snapshot.iter().find(|d| d["id"] == SERVICE).unwrap());
    // ... and one of changed national data publishes the change with the facts still on it.
    let services = package.join("services.csv");
    let text = std::fs::read_to_string(&services).unwrap();
    std::fs::write(&services, text.replace("Counselling Services provided", "Counselling services now provided"))
        .unwrap();
    let (_, changed, _) = directory_feed::import(&t.store, data.path(), DirectorySource::Hsds(package)).await.unwrap();
    assert_eq!(changed.upserts, 1);
    let (_, doc) = published(&t).await;
    assert!(doc["description"].as_str().unwrap().contains("now provided"), "the new listing");
    carries_the_facts(&doc);

    // The search shows them; no conflict with a listing that says nothing.
    let found: Vec<DirectoryServiceInfo> =
        get_json(&client, &server.url("/v1/admin/directory/services?q=counselling"), &admin).await;
    assert_eq!(
        found.iter().find(|s| s.service_id == SERVICE).unwrap().local.as_ref().unwrap().facts.accepts_dropoffs,
        Some(true)
    );
    let conflicts: Vec<DirectoryConflict> =
        get_json(&client, &server.url("/v1/admin/directory/conflicts"), &admin).await;
    assert!(conflicts.is_empty(), "{conflicts:?}");
    let imports: Vec<DirectoryImportInfo> = get_json(&client, &server.url("/v1/admin/directory/imports"), &admin).await;
    assert_eq!(imports.len(), 1);
    assert_eq!(imports[0].upserts, 1);
    assert_eq!(imports[0].report["created"].as_u64().map(|c| c > 0), Some(true), "{}", imports[0].report);

    // Cleared: the listing's own document goes out again.
    let cleared: LocalFactsSaved = put(SERVICE, json!({})).await.unwrap().json().await.unwrap();
    assert!(cleared.feed_seq.is_some());
    let (_, doc) = published(&t).await;
    assert_eq!(attribute_value(&doc, "law_enforcement_dropoff"), None);
    assert_eq!(client.get(facts_url(SERVICE)).bearer_auth(&admin).send().await.unwrap().status(), 404);

    let trail = t.store.audit_rows(0, 10_000).await.unwrap();
    let edits: Vec<_> = trail.iter().filter(|r| r.action == "directory_local_facts").collect();
    assert!(
        edits.iter().any(|r| r.outcome == "ok"
            && r.detail.as_deref() == Some("drop-offs yes, open 24/7, intake phone, note for officers")),
        "{edits:?}"
    );
    assert!(edits.iter().any(|r| r.outcome == "ok" && r.detail.as_deref() == Some("cleared")));
    assert!(edits.iter().filter(|r| r.outcome == "failed").count() >= 9);
}
