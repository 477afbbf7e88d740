//! Inside the core, imports go one way: sync -> store -> model (ARCHITECTURE.md). The model
//! names neither the store nor sync, and the store does not name sync, so no cycle can form.

use std::path::Path;

fn source(file: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(file)).unwrap()
}

fn mentions(text: &str, module: &str) -> Vec<String> {
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .filter(|line| line.contains(&format!("crate::{module}")) || line.contains(&format!("super::{module}")))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_model_knows_neither_the_store_nor_sync() {
    let model = source("model.rs");
    for module in ["store", "sync", "api"] {
        assert!(mentions(&model, module).is_empty(), "model.rs uses {module}: {:?}", mentions(&model, module));
    }
}

#[test]
fn the_store_does_not_know_sync() {
    let store = source("store.rs");
    for module in ["sync", "api"] {
        assert!(mentions(&store, module).is_empty(), "store.rs uses {module}: {:?}", mentions(&store, module));
    }
}
