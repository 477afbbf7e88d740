//! The SAMHSA importer on the real shared data, and on the mess it must survive.

use std::path::{Path, PathBuf};

use waypoint_directory::samhsa::{self, normalize_street, normalize_zip, parse_phone, Mapping};
use waypoint_directory::Directory;

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/samhsa")
}

const ROWS: u64 = 14_034 + 11_375 + 1_831;

#[test]
fn imports_the_national_listings_and_reimport_never_duplicates() {
    let files = samhsa::files_in(&shared(), &Mapping::shipped());
    assert_eq!(files.len(), 3);
    let tmp = tempfile::tempdir().unwrap();
    let mut dir = Directory::open(&tmp.path().join("d.sqlite")).unwrap();
    let report = dir.import_samhsa(&files).unwrap();
    eprintln!("{}", report.summary().lines().next().unwrap());
    assert_eq!(report.rows_read, ROWS);
    assert_eq!(report.created + report.updated + report.unchanged + report.merged + report.rejected.len() as u64, ROWS);
    // One facility in several files (or twice in one) is one service.
    assert!(report.merged > 1000, "merged {}", report.merged);
    assert!(report.created > 20_000, "created {}", report.created);
    let stats = dir.stats().unwrap();
    assert_eq!(stats.services, report.created);
    assert_eq!(stats.indexed, report.created);
    let phones_first = stats.phones;
    assert!(phones_first > 9_000);

    // Again: nothing new, nothing changed, same counts.
    let again = dir.import_samhsa(&files).unwrap();
    eprintln!("{}", again.summary().lines().next().unwrap());
    assert_eq!(again.created, 0);
    assert_eq!(again.updated, 0);
    assert_eq!(again.unchanged, report.created);
    let stats = dir.stats().unwrap();
    assert_eq!(stats.services, report.created);
    assert_eq!(stats.phones, phones_first);

    let conn = dir.connection();
    let one = |sql: &str| -> String { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    // Numeric ZIP 6708 with zip4 2460 is 06708-2460 (Waterbury, CT).
    assert_eq!(
        one("SELECT a.postal_code FROM address a JOIN location l ON l.id = a.location_id WHERE l.name = 'Perspectives Center for Care Inc' AND a.address_1 = '60 Westwood Avenue'"),
        "06708-2460"
    );
    // ZIP+4 in one column (OTP file): 99654-8525.
    assert_eq!(
        one("SELECT postal_code FROM address WHERE address_1 LIKE '2521 E. Mountain Village Drive%'"),
        "99654-8525"
    );
    // Puerto Rico's three-digit ZIPs get their zeros back.
    let pr_short: i64 = conn
        .query_row("SELECT COUNT(*) FROM address WHERE state_province = 'PR' AND length(postal_code) < 5", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(pr_short, 0);
    // The Latin-1 row reads as text, and FTS finds it without the accent.
    assert!(dir
        .search_by_name("Clinica Tratamiento Cayey", 5)
        .unwrap()
        .iter()
        .any(|h| h.name.starts_with("Clínica de Tratamiento")));
    // With a position, a name search lists the nearest matches first, not the best-named
    // service three states away.
    let austin = (30.2672, -97.7431);
    let near = dir.search_by_name_near("hospital", Some(austin), 20).unwrap();
    let miles: Vec<f64> = near.iter().map(|h| h.distance_miles.expect("a distance from the position")).collect();
    assert!(miles.len() >= 5, "{near:?}");
    // Austin Lakes Hospital and Austin State Hospital are within 3 miles.
    assert!(miles[0] < 5.0, "nearest 'hospital' is {:.0} mi away: {:?}", miles[0], near[0]);
    assert!(miles.windows(2).all(|w| w[0] <= w[1] + 0.5), "not nearest first: {miles:?}");
    let anywhere = dir.search_by_name("hospital", 20).unwrap();
    assert_eq!(anywhere.len(), near.len(), "the position changes the order, not what matches");
    // A facility in the mental-health and the substance-use files is one service with both types.
    let both: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM organization WHERE description LIKE '%mental health facility%' AND description LIKE '%substance use facility%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(both > 500, "{both}");
    // OTPs are listed as medication for opioid use disorder.
    let moud: i64 = conn
        .query_row(
            "SELECT COUNT(DISTINCT a.link_id) FROM attribute a JOIN taxonomy_term t ON t.id = a.taxonomy_term_id WHERE t.code = 'moud' AND a.value = 'listed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(moud > 1_400, "{moud}");
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn bad_rows_are_rejected_with_their_reason_and_a_changed_row_updates() {
    let tmp = tempfile::tempdir().unwrap();
    let header = "\"\",\"name1\",\"name2\",\"street1\",\"street2\",\"city\",\"state\",\"zip\",\"zip4\",\"county\",\"phone\",\"intake_prompt\",\"intake1\",\"intake2\",\"website\",\"latitude\",\"longitude\",\"type_facility\"\n";
    let rows = [
        r#""1","Good Place","","1 Main Street","","Hartford","CT",6103,NA,"Hartford","860-555-0100","","860-555-0101 x12","","http://good.example",41.76,-72.67,"MH""#,
        r#""2","No Coordinates","","2 Main Street","","Hartford","CT",6103,NA,"Hartford","860-555-0102","","","","",NA,NA,"MH""#,
        r#""3","Wrong State","","3 Main Street","","Hartford","XX",6103,NA,"Hartford","860-555-0103","","","","",41.76,-72.67,"MH""#,
        r#""4","","","4 Main Street","","Hartford","CT",6103,NA,"Hartford","","","","","",41.76,-72.67,"MH""#,
        r#""5","Null Island","","5 Main Street","","Hartford","CT",6103,NA,"Hartford","","","","","",0,0,"MH""#,
        r#""6","Bad Phone","","6 Main Street","","Hartford","CT",6103,NA,"Hartford","call us","","","","",41.77,-72.68,"MH""#,
        r#""7","Good Place","","1 Main St.","Suite 2","Hartford","CT",6103,NA,"Hartford","860-555-0100","","","","",41.76,-72.67,"MH""#,
    ];
    let file = write(tmp.path(), "mental_health_facilities.csv", &format!("{header}{}\n", rows.join("\n")));
    let mut dir = Directory::open_in_memory().unwrap();
    let report = dir.import_samhsa(std::slice::from_ref(&file)).unwrap();
    eprintln!("{}", report.summary());
    assert_eq!(report.rows_read, 7);
    assert_eq!(report.created, 2, "Good Place and Bad Phone");
    assert_eq!(report.merged, 1, "the second Good Place row (1 Main St.)");
    let reasons: Vec<(u64, &str)> = report.rejected.iter().map(|r| (r.row, r.reason.as_str())).collect();
    assert_eq!(
        reasons,
        vec![
            (2, "`No Coordinates`: missing or invalid coordinates"),
            (3, "`Wrong State`: state `XX` is not a US state or territory"),
            (4, "no facility name"),
            (5, "`Null Island`: missing or invalid coordinates"),
        ]
    );
    assert!(report.rejected.iter().all(|r| r.source == "mental_health_facilities.csv"));
    assert!(report.warnings.iter().any(|w| w.row == 6 && w.reason.contains("phone `call us` not understood")));
    let phones: Vec<(String, Option<String>)> = dir
        .connection()
        .prepare("SELECT number, extension FROM phone ORDER BY number, extension")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(phones, vec![("860-555-0100".into(), None), ("860-555-0101".into(), Some("12".into()))]);

    // The listing changes a phone number: the row updates, the old number goes.
    let changed = std::fs::read_to_string(&file).unwrap().replace("860-555-0101 x12", "860-555-0199");
    std::fs::write(&file, changed).unwrap();
    let report = dir.import_samhsa(&[file]).unwrap();
    assert_eq!((report.created, report.updated, report.unchanged), (0, 1, 1));
    let n: i64 = dir
        .connection()
        .query_row("SELECT COUNT(*) FROM phone WHERE number = '860-555-0101'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn normalizers() {
    assert_eq!(normalize_zip("6708", Some("2460")), Some(("06708".into(), Some("2460".into()))));
    assert_eq!(normalize_zip("953", None), Some(("00953".into(), None)));
    assert_eq!(normalize_zip("99654-8525", None), Some(("99654".into(), Some("8525".into()))));
    assert_eq!(normalize_zip("43215", Some("NA")), Some(("43215".into(), None)));
    assert_eq!(normalize_zip("ABC", None), None);
    assert_eq!(normalize_street("2521 E. Mountain Village Drive, Suites E and F"), "2521 e mountain village dr");
    assert_eq!(normalize_street("60 Westwood Avenue Suite 220"), "60 westwood ave");
    assert_eq!(parse_phone("860-276-3000 x301"), Some(("860-276-3000".into(), Some("301".into()))));
    assert_eq!(parse_phone("(860) 276 3000"), Some(("860-276-3000".into(), None)));
    assert_eq!(parse_phone("1-800-662-4357"), Some(("800-662-4357".into(), None)));
    assert_eq!(parse_phone("911"), None);
}
