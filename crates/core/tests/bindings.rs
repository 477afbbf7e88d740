//! Fails when what the UI is generated from Rust no longer matches it: the TypeScript bindings,
//! and the canned answers of the UI's test fake (`ui/src/lib/backend/core-fixtures.json`).
//! Regenerate both with `WAYPOINT_UPDATE_BINDINGS=1 cargo test -p waypoint-core --test bindings`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::Utc;
use serde::Serialize;
use waypoint_core::{validate, AgencyConfig, AppError, Encounter, ErrorKind, Waypoint};

const UPDATE_ENV: &str = "WAYPOINT_UPDATE_BINDINGS";
const REGENERATE: &str = "run: WAYPOINT_UPDATE_BINDINGS=1 cargo test -p waypoint-core --test bindings";

fn ui_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib")
}

fn updating() -> bool {
    std::env::var_os(UPDATE_ENV).is_some()
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

fn generated_bindings() -> BTreeMap<String, String> {
    let generated_dir = tempfile::tempdir().unwrap();
    waypoint_core::bindings::export_all(generated_dir.path()).unwrap();
    read_ts_files(generated_dir.path())
}

#[test]
fn typescript_bindings_are_fresh() {
    let generated = generated_bindings();
    assert!(generated.contains_key("Encounter.ts"), "ts-rs generated no Encounter.ts");

    let committed_dir = ui_dir().join("bindings");
    if updating() {
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
    assert!(stale.is_empty(), "ui/src/lib/bindings is stale ({stale:?}); {REGENERATE}");
}

/// Counts travel as JSON numbers: typed `bigint`, the UI would need a cast at every use.
#[test]
fn no_binding_is_a_bigint() {
    let bigints: Vec<String> =
        generated_bindings().into_iter().filter(|(_, text)| text.contains("bigint")).map(|(name, _)| name).collect();
    assert!(bigints.is_empty(), "give these u64/i64 fields #[ts(type = \"number\")]: {bigints:?}");
}

#[test]
fn the_generated_error_kinds_are_every_kind_as_it_travels() {
    let kinds = waypoint_core::bindings::error_kinds();
    let parsed: Vec<ErrorKind> = kinds.iter().map(|k| serde_json::from_value(k.as_str().into()).unwrap()).collect();
    assert!(parsed.contains(&ErrorKind::Validation) && parsed.contains(&ErrorKind::Internal), "{kinds:?}");
    let mut unique = kinds.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), kinds.len());
}

/// What the UI's test fake answers where the core's answer matters to a screen.
#[derive(Serialize)]
struct CoreFixtures {
    /// `check_encounter` of a new draft under the demo agency: its required fields are blank.
    blank_draft_issues: Vec<AppError>,
    /// `setup` or `change_passphrase` with a passphrase one character too short.
    short_passphrase: AppError,
    wrong_passphrase: AppError,
    locked: AppError,
    /// `suggest_for_encounter` of a draft without a location.
    no_location: AppError,
}

fn core_fixtures() -> CoreFixtures {
    let config = AgencyConfig::demo();
    let draft = Encounter::new_draft("demo-device", "B-1", config.config_version, Utc::now());
    let dir = tempfile::tempdir().unwrap();
    let waypoint = Waypoint::open(dir.path(), config.clone()).unwrap();
    let too_short = "1".repeat(waypoint_core::api::MIN_PASSPHRASE_CHARS - 1);
    // A device that is set up, for the answer to a wrong PIN (it says how many tries are left).
    let set_up_dir = tempfile::tempdir().unwrap();
    let set_up =
        Waypoint::open_with_kdf(set_up_dir.path(), config.clone(), waypoint_core::keys::KdfParams::insecure_fast())
            .unwrap();
    set_up.setup("B-1", "482913").unwrap();
    set_up.lock().unwrap();
    CoreFixtures {
        blank_draft_issues: validate::check(&draft, &config, Utc::now()).iter().map(AppError::from).collect(),
        short_passphrase: AppError::from(waypoint.setup("B-1", &too_short).unwrap_err()),
        wrong_passphrase: AppError::from(set_up.unlock("000000").unwrap_err()),
        locked: AppError::from(waypoint.new_encounter().unwrap_err()),
        no_location: AppError::from(waypoint.suggest_for_encounter(draft, vec![]).unwrap_err()),
    }
}

#[test]
fn the_ui_fake_s_canned_core_answers_are_fresh() {
    let fixtures = core_fixtures();
    assert!(!fixtures.blank_draft_issues.is_empty(), "the demo agency requires nothing");
    assert_eq!(fixtures.locked.kind, ErrorKind::Locked);
    assert_eq!(fixtures.short_passphrase.field.as_deref(), Some("passphrase"));
    assert_eq!(fixtures.no_location.field.as_deref(), Some("location"));
    let generated = serde_json::to_string_pretty(&fixtures).unwrap() + "\n";
    let path = ui_dir().join("backend/core-fixtures.json");
    if updating() {
        std::fs::write(&path, generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(committed == generated, "{} is stale; {REGENERATE}", path.display());
}
