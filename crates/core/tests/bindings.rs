//! Fails when the committed TypeScript bindings no longer match the Rust types.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn committed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/bindings")
}

fn read_ts_files(dir: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".ts") {
                files.insert(name, std::fs::read_to_string(entry.path()).unwrap());
            }
        }
    }
    files
}

#[test]
fn typescript_bindings_are_fresh() {
    let generated_dir = tempfile::tempdir().unwrap();
    waypoint_core::bindings::export_all(generated_dir.path()).unwrap();
    let generated = read_ts_files(generated_dir.path());
    assert!(generated.contains_key("Encounter.ts"), "ts-rs generated no Encounter.ts");

    let committed_dir = committed_dir();
    if std::env::var_os("WAYPOINT_UPDATE_BINDINGS").is_some() {
        std::fs::create_dir_all(&committed_dir).unwrap();
        for name in read_ts_files(&committed_dir).keys() {
            if !generated.contains_key(name) {
                std::fs::remove_file(committed_dir.join(name)).unwrap();
            }
        }
        for (name, text) in &generated {
            std::fs::write(committed_dir.join(name), text).unwrap();
        }
        return;
    }
    let committed = read_ts_files(&committed_dir);
    let stale: Vec<&String> = generated
        .iter()
        .filter(|(name, text)| committed.get(*name) != Some(text))
        .map(|(name, _)| name)
        .chain(committed.keys().filter(|name| !generated.contains_key(*name)))
        .collect();
    assert!(
        stale.is_empty(),
        "ui/src/lib/bindings is stale ({stale:?}); run: WAYPOINT_UPDATE_BINDINGS=1 cargo test -p waypoint-core --test bindings"
    );
}
