//! HSDS 3.0: the tabular package and JSON documents import (idempotently), and the export
//! validates against the official compiled schema.

use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use serde_json::Value;
use waypoint_directory::samhsa::{self, Mapping};
use waypoint_directory::store::LISTED;
use waypoint_directory::*;

fn hsds() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/hsds-3.0")
}

fn validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(hsds().join("schema/compiled/service.json")).unwrap()).unwrap();
    jsonschema::options().should_validate_formats(true).build(&schema).unwrap()
}

fn assert_valid(v: &jsonschema::Validator, docs: &[Value]) {
    for doc in docs {
        let errors: Vec<String> = v.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "service {} invalid:\n{}", doc["id"], errors.join("\n"));
    }
}

#[test]
fn the_validator_can_fail() {
    // Guards the export test: a document missing `status` and with a bad uuid is refused.
    let v = validator();
    assert!(!v.is_valid(&serde_json::json!({"id": "not-a-uuid", "name": "x"})));
    assert!(
        !v.is_valid(&serde_json::json!({"id": "ac148810-d857-441c-9679-408f346de14b", "name": "x", "status": "open"}))
    );
    assert!(
        v.is_valid(&serde_json::json!({"id": "ac148810-d857-441c-9679-408f346de14b", "name": "x", "status": "active"}))
    );
}

#[test]
fn tabular_package_imports_with_a_report_and_reimport_changes_nothing() {
    let mut dir = Directory::open_in_memory().unwrap();
    let report = dir.import_hsds_package(&hsds().join("examples/csv")).unwrap();
    eprintln!("{}", report.summary());
    assert_eq!(report.rows_read, 9, "one row in each of the nine tables Waypoint reads");
    assert_eq!(report.created, 9);
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    // The example's real problems are reported, not hidden.
    let warned = |needle: &str| report.warnings.iter().any(|w| w.reason.contains(needle));
    assert!(warned("coordinates 100,101 out of range"));
    assert!(warned("organization_id 985e4a42-bd9f-4edc-911d-0243a4640aca refers to no organization"));
    assert!(warned("standard HSDS file names"), "datapackage.json is a link to the spec's root");
    assert!(report.warnings.iter().any(|w| w.source == "contacts.csv"));

    let again = dir.import_hsds_package(&hsds().join("examples/csv")).unwrap();
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 9));
    let stats = dir.stats().unwrap();
    assert_eq!((stats.organizations, stats.services, stats.locations, stats.service_at_locations), (1, 1, 1, 1));
    assert_eq!(stats.indexed, 0, "the example location has no valid coordinates, so it is not on the map");
    // The doubled quotes of the example phone are cleaned.
    let number: String = dir.connection().query_row("SELECT number FROM phone", [], |r| r.get(0)).unwrap();
    assert_eq!(number, "+44 1234 234567");
}

/// HSDS 3.0 asks for UUIDs, but agencies' exports often carry their own ids ("svc-12"): the
/// rows must still link (service to organization, location to service, the drop-off attribute).
#[test]
fn a_package_whose_ids_are_not_uuids_links_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("organizations.csv", "id,name,description\norg-1,Eastside Crisis Services,Crisis care\n");
    write("services.csv", "id,organization_id,name,status\nsvc-1,org-1,Eastside Crisis Stabilisation Unit,active\n");
    write("locations.csv", "id,organization_id,name,latitude,longitude\nloc-1,org-1,Eastside campus,39.74,-104.99\n");
    write("service_at_location.csv", "id,service_id,location_id\nsal-1,svc-1,loc-1\n");
    write("taxonomy_terms.csv", "id,code,name\nterm-1,law_enforcement_dropoff,takes law-enforcement drop-offs\n");
    write(
        "attributes.csv",
        "id,link_id,taxonomy_term_id,link_type,link_entity,value\nattr-1,svc-1,term-1,service,service,yes\n",
    );
    let mut directory = Directory::open_in_memory().unwrap();
    let report = directory.import_hsds_package(dir.path()).unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert!(!report.warnings.iter().any(|w| w.reason.contains("refers to no")), "{:?}", report.warnings);
    let stats = directory.stats().unwrap();
    assert_eq!((stats.organizations, stats.services, stats.locations, stats.service_at_locations), (1, 1, 1, 1));
    let dropoff: Option<bool> =
        directory.connection().query_row("SELECT law_enforcement_dropoff FROM service", [], |r| r.get(0)).unwrap();
    assert_eq!(dropoff, Some(true), "the attribute found its service and its term");
    let again = directory.import_hsds_package(dir.path()).unwrap();
    assert_eq!(again.created, 0, "the same stable ids on a re-import");
}

#[test]
fn json_documents_import_and_reimport_changes_nothing() {
    let mut dir = Directory::open_in_memory().unwrap();
    let docs = [
        "organization_full.json",
        "service_full.json",
        "service_at_location_full.json",
        "location.json",
        "service_list.json",
        "organization_list.json",
        "service_at_location_list.json",
        "taxonomy_term.json",
    ];
    let mut first = Vec::new();
    for doc in docs {
        let report = dir.import_hsds_json(&hsds().join("examples").join(doc)).unwrap();
        eprintln!("{}", report.summary().lines().next().unwrap());
        assert!(report.rejected.is_empty(), "{}", report.summary());
        // The same document again changes nothing. (The examples disagree with each other
        // about some shared rows, so a different document may update them.)
        let again = dir.import_hsds_json(&hsds().join("examples").join(doc)).unwrap();
        assert_eq!((again.created, again.updated), (0, 0), "{doc}: {}", again.summary());
        first.push(report);
    }
    let service_full = &first[1];
    assert!(service_full.rows_read >= 10, "{}", service_full.summary());
    assert!(first[0].created > 0);
    assert!(service_full.warnings.iter().any(|w| w.reason.contains("`contacts` objects not used")));
    let stats = dir.stats().unwrap();
    assert!(stats.services >= 1 && stats.organizations >= 1 && stats.phones >= 1 && stats.schedules >= 1);
    let last = docs[docs.len() - 1];
    dir.import_hsds_json(&hsds().join("examples").join(last)).unwrap();
    assert_eq!(dir.stats().unwrap(), stats);
}

#[test]
fn export_validates_against_the_official_schema() {
    let mut dir = Directory::open_in_memory().unwrap();
    dir.import_hsds_package(&hsds().join("examples/csv")).unwrap();
    dir.import_hsds_json(&hsds().join("examples/service_full.json")).unwrap();
    dir.import_hsds_json(&hsds().join("examples/organization_full.json")).unwrap();
    // Real SAMHSA rows (the OTP file: odd ZIPs, a Latin-1 name) ...
    let files = vec![samhsa::files_in(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/samhsa"),
        &Mapping::shipped(),
    )
    .into_iter()
    .find(|p| p.ends_with("opioid_treatment_programs.csv"))
    .unwrap()];
    dir.import_samhsa(&files).unwrap();
    // ... and a service with an IANA-zoned schedule, drop-off policy and capacity.
    let id = |k: &str| stable_id(&["export-test", k]);
    dir.put_records(
        &[ServiceRecord {
            organization: Organization { id: id("org"), name: "County Crisis".into(), ..Default::default() },
            service: Service {
                id: id("svc"),
                organization_id: id("org"),
                name: "Crisis Stabilization Unit".into(),
                status: "active".into(),
                law_enforcement_dropoff: Some(true),
                url: Some("www.crisis.example.org".into()),
                ..Default::default()
            },
            location: Location {
                id: id("loc"),
                location_type: "physical".into(),
                latitude: Some(39.96),
                longitude: Some(-83.0),
                ..Default::default()
            },
            schedules: vec![Schedule {
                id: id("sched"),
                service_id: Some(id("svc")),
                timezone: Some("America/New_York".into()),
                freq: Some("WEEKLY".into()),
                byday: Some("MO,TU,WE,TH,FR,SA,SU".into()),
                opens_at: Some("22:00".into()),
                closes_at: Some("06:00".into()),
                ..Default::default()
            }],
            phones: vec![Phone {
                id: id("phone"),
                service_id: Some(id("svc")),
                number: "614-555-0100".into(),
                extension: Some("12".into()),
                ..Default::default()
            }],
            types: vec![("crisis_stabilization".into(), LISTED.into())],
            capacity: Some(ServiceCapacity {
                id: id("cap"),
                service_id: id("svc"),
                unit: "beds".into(),
                available: 3,
                maximum: Some(10),
                updated_at: Utc.with_ymd_and_hms(2026, 11, 28, 6, 0, 0).unwrap(),
            }),
            ..Default::default()
        }],
        "test",
    )
    .unwrap();

    let docs = dir.export_hsds(None).unwrap();
    let services = dir.stats().unwrap().services as usize;
    assert_eq!(docs.len(), services);
    assert!(services > 1_500);
    assert_valid(&validator(), &docs);

    let ours = docs.iter().find(|d| d["id"] == Value::String(id("svc"))).unwrap();
    assert_eq!(ours["url"], "http://www.crisis.example.org");
    assert_eq!(ours["schedules"][0]["timezone"], serde_json::json!(-5.0));
    assert_eq!(ours["schedules"][0]["notes"], "IANA timezone: America/New_York");
    assert_eq!(ours["phones"][0]["extension"], serde_json::json!(12));
    let attrs = ours["attributes"].as_array().unwrap();
    assert!(attrs.iter().any(|a| a["taxonomy_term"]["code"] == "law_enforcement_dropoff" && a["value"] == "yes"));
    assert!(attrs.iter().any(|a| a["taxonomy_term"]["code"] == "crisis_stabilization"));

    // Round trip: the exported file imports into an empty directory with the same services.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("export.json");
    assert_eq!(dir.export_hsds_to(&out).unwrap(), services);
    let list = tmp.path().join("list.json");
    let docs: Vec<Value> = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    std::fs::write(&list, serde_json::to_vec(&serde_json::json!({ "contents": docs })).unwrap()).unwrap();
    let mut copy = Directory::open_in_memory().unwrap();
    let report = copy.import_hsds_json(&list).unwrap();
    assert!(report.rejected.is_empty(), "{:?}", &report.rejected[..report.rejected.len().min(5)]);
    assert_eq!(copy.stats().unwrap().services as usize, services);
    let dropoff: Option<bool> = copy
        .connection()
        .query_row("SELECT law_enforcement_dropoff FROM service WHERE id = ?1", [id("svc")], |r| r.get(0))
        .unwrap();
    assert_eq!(dropoff, Some(true), "drop-off policy survives the round trip");
}
