//! A county/211 service list through a mapping (`tests/service-list/`): rows become services with
//! the mapped types; rows that cannot be services are rejected with row and reason; an offering
//! the mapping lacks is reported, not guessed; hostile text stays text; a re-import changes
//! nothing; a mapping naming an unknown type or column is refused before anything is written.

use std::path::{Path, PathBuf};

use waypoint_directory::service_list::{parse_mapping, ListMapping};
use waypoint_directory::Directory;

fn sample(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/service-list").join(file)
}

fn mapping() -> ListMapping {
    parse_mapping(&std::fs::read_to_string(sample("county-211-mapping.json")).unwrap()).unwrap()
}

fn service_named(directory: &Directory, name: &str) -> Option<String> {
    directory.connection().query_row("SELECT id FROM service WHERE name = ?1", [name], |r| r.get(0)).ok()
}

#[test]
fn a_service_list_is_imported_with_its_types_and_its_report() {
    let mut directory = Directory::open_in_memory().unwrap();
    let report = directory.import_service_list(&sample("county-211.csv"), &mapping()).unwrap();
    assert_eq!(report.rows_read, 9, "{report:?}");
    assert_eq!(report.created, 5, "{report:?}");
    let reasons: Vec<(u64, &str)> = report.rejected.iter().map(|r| (r.row, r.reason.as_str())).collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert!(reasons[0].0 == 5 && reasons[0].1.contains("no latitude and longitude"), "{reasons:?}");
    assert!(reasons[1].0 == 7 && reasons[1].1.contains("`211-0001` is already in the file"), "{reasons:?}");
    assert!(reasons[2].0 == 8 && reasons[2].1.contains("no name"), "{reasons:?}");
    assert!(reasons[3].0 == 9 && reasons[3].1.contains("not on Earth"), "{reasons:?}");
    let warned: Vec<&str> = report.warnings.iter().map(|w| w.reason.as_str()).collect();
    assert!(warned.iter().any(|w| w.contains("`Laundry` is not in the mapping")), "{warned:?}");

    let detox = service_named(&directory, "Austin Recovery Detox Center").expect("imported");
    let types = directory.service_types_of(std::slice::from_ref(&detox)).unwrap();
    assert_eq!(types[&detox], ["detox", "moud", "residential", "substance_use"]);
    let shelter = service_named(&directory, "Front Steps ARCH Shelter").unwrap();
    assert_eq!(directory.service_types_of(std::slice::from_ref(&shelter)).unwrap()[&shelter], ["shelter"]);
    let hostile = "<img src=x onerror=alert(1)> Methadone Clinic";
    let clinic = service_named(&directory, hostile).expect("the name is kept as the list wrote it, as text");
    let document = directory.export_service(&clinic).unwrap();
    assert_eq!(document["name"], hostile);
    let phones = document["phones"].as_array().cloned().unwrap_or_default();
    assert!(phones.iter().any(|p| p["number"].as_str().is_some_and(|n| n.contains("555"))), "{document:#}");

    // Found by the officer's search near Austin.
    let hits = directory.search_by_name_near("detox", Some((30.27, -97.74)), 5).unwrap();
    assert!(hits.iter().any(|h| h.service_id == detox), "{hits:?}");

    // The same file again: nothing created or changed.
    let again = directory.import_service_list(&sample("county-211.csv"), &mapping()).unwrap();
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 5), "{again:?}");
}

#[test]
fn a_mapping_that_does_not_fit_is_refused_before_anything_is_written() {
    let mut directory = Directory::open_in_memory().unwrap();
    let mut bad = mapping();
    bad.columns.latitude = "Latitude".into();
    bad.services.as_mut().unwrap().codes.insert("Yoga".into(), vec!["wellness_retreat".into()]);
    let error = directory.import_service_list(&sample("county-211.csv"), &bad).unwrap_err().to_string();
    assert!(error.contains("column `Latitude`"), "{error}");
    assert!(error.contains("`wellness_retreat`, which is not a Waypoint service type"), "{error}");
    let services: i64 = directory.connection().query_row("SELECT count(*) FROM service", [], |r| r.get(0)).unwrap();
    assert_eq!(services, 0);
    let unknown_key = parse_mapping(r#"{"source": "x", "columns": {}, "colour": "red"}"#).unwrap_err().to_string();
    assert!(unknown_key.contains("not valid"), "{unknown_key}");
}
