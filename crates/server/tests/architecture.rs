//! The layering of ARCHITECTURE.md, checked: which workspace crate may depend on which, and what
//! the server may take from the core. A new dependency or import that breaks a rule fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Each workspace package's normal (non-dev) dependencies, by package name.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|package| {
            let deps = package["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null() || d["kind"] == "build")
                .map(|d| d["name"].as_str().unwrap().to_string())
                .collect();
            (package["name"].as_str().unwrap().to_string(), deps)
        })
        .collect()
}

#[test]
fn each_crate_depends_only_on_the_layers_below_it() {
    let deps = dependencies();
    let ours = |name: &str| -> BTreeSet<String> {
        deps[name].iter().filter(|d| d.starts_with("waypoint-")).cloned().collect()
    };
    let set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(ours("waypoint-protocol"), set(&[]), "the wire depends on no Waypoint crate");
    assert_eq!(ours("waypoint-directory"), set(&["waypoint-protocol"]));
    assert_eq!(ours("waypoint-core"), set(&["waypoint-directory", "waypoint-protocol"]));
    assert_eq!(ours("waypoint-server"), set(&["waypoint-core", "waypoint-directory", "waypoint-protocol"]));
    assert_eq!(ours("waypoint-app"), set(&["waypoint-core"]), "the shell reaches everything through the core");
    // The core knows no window and no web server; the server knows no window.
    for (crate_name, banned) in [
        ("waypoint-protocol", &["tauri", "axum", "rusqlite", "reqwest"][..]),
        ("waypoint-directory", &["tauri", "axum", "reqwest"][..]),
        ("waypoint-core", &["tauri", "axum", "axum-server", "tower-http", "tokio-postgres"][..]),
        ("waypoint-server", &["tauri", "tauri-build", "waypoint-app"][..]),
    ] {
        for dependency in banned {
            assert!(!deps[crate_name].contains(*dependency), "{crate_name} must not depend on {dependency}");
        }
    }
}

/// The server takes the encounter model and its validation from the core, nothing of the
/// device's store, sync client or keys (wire types come from waypoint-protocol, the directory
/// from waypoint-directory).
#[test]
fn the_server_uses_the_core_for_the_encounter_model_only() {
    // `Error`: what `validate::check` returns (the history import names each bad field with it).
    const ALLOWED: &[&str] = &["Encounter", "EncounterStatus", "validate", "model", "vocab", "AgencyConfig", "Error"];
    let src = workspace_root().join("crates/server/src");
    let mut offences = Vec::new();
    let mut files = vec![src];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (number, line) in text.lines().enumerate() {
            for (at, _) in line.match_indices("waypoint_core::") {
                let rest = &line[at + "waypoint_core::".len()..];
                let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
                    group.split('}').next().unwrap_or("").split(',').map(str::trim).collect()
                } else {
                    vec![rest.split(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap_or("")]
                };
                for name in names.into_iter().filter(|n| !n.is_empty()) {
                    let head = name.split("::").next().unwrap();
                    if !ALLOWED.contains(&head) {
                        offences.push(format!("{}:{}: waypoint_core::{name}", path.display(), number + 1));
                    }
                }
            }
        }
    }
    assert!(offences.is_empty(), "the server imports device internals from the core:\n{}", offences.join("\n"));
}
