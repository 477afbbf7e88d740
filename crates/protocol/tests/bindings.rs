//! Fails when the console's TypeScript types (`ui/src/console/bindings/`) no longer match the
//! Rust types they are generated from. Regenerate with
//! `WAYPOINT_UPDATE_BINDINGS=1 cargo test -p waypoint-protocol --test bindings`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const REGENERATE: &str = "run: WAYPOINT_UPDATE_BINDINGS=1 cargo test -p waypoint-protocol --test bindings";

fn committed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/console/bindings")
}

fn read_ts_files(dir: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".ts") {
            files.insert(name, std::fs::read_to_string(entry.path()).unwrap());
        }
    }
    files
}

#[test]
fn console_bindings_are_fresh() {
    let generated_dir = tempfile::tempdir().unwrap();
    waypoint_protocol::bindings::export_all(generated_dir.path()).unwrap();
    let generated = read_ts_files(generated_dir.path());
    let nested: Vec<_> = std::fs::read_dir(generated_dir.path())
        .unwrap()
        .flatten()
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name())
        .collect();
    assert!(nested.is_empty(), "ts-rs wrote folders {nested:?}: give serde_json::Value fields a #[ts(type = ...)]");
    assert!(generated.contains_key("ConsoleSession.ts"), "ts-rs generated no ConsoleSession.ts");
    assert!(generated.values().all(|text| !text.contains("bigint")), "a u64/i64 field needs #[ts(type = \"number\")]");

    let committed_dir = committed_dir();
    if std::env::var_os("WAYPOINT_UPDATE_BINDINGS").is_some() {
        std::fs::create_dir_all(&committed_dir).unwrap();
        for name in read_ts_files(&committed_dir).keys().filter(|name| !generated.contains_key(*name)) {
            std::fs::remove_file(committed_dir.join(name)).unwrap();
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
    assert!(stale.is_empty(), "ui/src/console/bindings is stale ({stale:?}); {REGENERATE}");
}
