//! The bundled national directory: it is what the SAMHSA data gives, and a fresh install has
//! it ready. Rebuild the shipped file after changing the data or the mapping with
//! `WAYPOINT_REBUILD_BUNDLE=1 cargo test -p waypoint-core --test directory_bundle`.

use std::path::PathBuf;
use std::time::Instant;

use waypoint_directory::bundle::{self, NATIONAL_BUNDLE};
use waypoint_directory::samhsa::{self, Mapping};
use waypoint_directory::Directory;

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/samhsa")
}

#[test]
fn shipped_bundle_is_what_the_samhsa_data_gives() {
    let files = samhsa::files_in(&shared(), &Mapping::shipped());
    assert_eq!(files.len(), 3, "the three SAMHSA files in {}", shared().display());
    if std::env::var_os("WAYPOINT_REBUILD_BUNDLE").is_some() {
        let (bytes, report) = bundle::build(&files).unwrap();
        let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets/directory/national.jsonl.zst");
        bundle::write(&out, &bytes).unwrap();
        eprintln!("wrote {} ({} bytes)\n{}", out.display(), bytes.len(), report.summary().lines().next().unwrap());
        return;
    }
    let (fresh, _) = samhsa::read_facilities(&files, &Mapping::shipped()).unwrap();
    let shipped = bundle::read(NATIONAL_BUNDLE).expect("assets/directory/national.jsonl.zst reads");
    assert_eq!(shipped.len(), fresh.len(), "bundle is stale: rebuild it (see the top of this file)");
    assert!(shipped == fresh, "bundle is stale: rebuild it (see the top of this file)");
    assert!(NATIONAL_BUNDLE.len() < 5 * 1024 * 1024, "bundle should stay a few MB, is {}", NATIONAL_BUNDLE.len());
}

#[test]
fn fresh_install_loads_the_national_directory_once() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("directory.sqlite");
    let started = Instant::now();
    let mut dir = Directory::open(&path).unwrap();
    let report = dir.ensure_national_directory().unwrap().expect("first start loads the bundle");
    let elapsed = started.elapsed();
    eprintln!("{} in {:?} (debug build)", report.summary().lines().next().unwrap(), elapsed);
    let facilities = bundle::read(NATIONAL_BUNDLE).unwrap().len() as u64;
    assert_eq!(report.created, facilities);
    assert_eq!(report.rows_read, facilities);
    let stats = dir.stats().unwrap();
    assert_eq!(stats.services, facilities);
    assert_eq!(stats.indexed, facilities, "every facility is in the R*Tree");
    drop(dir);
    // Second start: already there, nothing loaded again.
    let mut dir = Directory::open(&path).unwrap();
    assert!(dir.ensure_national_directory().unwrap().is_none());
    assert_eq!(dir.stats().unwrap().services, facilities);
    // Typed places resolve against the real addresses (SAMHSA ZIPs are often ZIP+4).
    let austin_zip = dir.find_places("78751", 5).unwrap();
    assert_eq!(austin_zip.len(), 1, "ZIP 78751 (Austin State Hospital) is in the national directory");
    assert!((austin_zip[0].latitude - 30.31).abs() < 0.1, "{:?}", austin_zip[0]);
    let austin = dir.find_places("Austin, TX", 5).unwrap();
    assert!(austin[0].locations > 10, "{:?}", austin[0]);
}

#[test]
fn sqlite_has_rtree_and_fts5_and_migrations_are_tracked() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("d.sqlite");
    let dir = Directory::open(&path).unwrap();
    dir.check_sqlite_features().unwrap();
    let versions: Vec<u32> = dir
        .connection()
        .prepare("SELECT version FROM schema_migrations ORDER BY version")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(versions, (1..=waypoint_directory::schema::MIGRATIONS.len() as u32).collect::<Vec<_>>());
    drop(dir);
    // Reopening runs nothing twice (a re-run CREATE TABLE would fail).
    let dir = Directory::open(&path).unwrap();
    let n: i64 = dir.connection().query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0)).unwrap();
    assert_eq!(n as usize, waypoint_directory::schema::MIGRATIONS.len());
    // The directory file is plain SQLite: readable without any key.
    let plain = rusqlite::Connection::open(&path).unwrap();
    let _: i64 = plain.query_row("SELECT COUNT(*) FROM service", [], |r| r.get(0)).unwrap();
}
