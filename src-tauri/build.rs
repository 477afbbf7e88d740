fn main() {
    // With embedded assets, Tauri's codegen needs the built UI; say how to get it.
    if std::env::var_os("CARGO_FEATURE_EMBED_UI").is_some() && !std::path::Path::new("../ui/dist/index.html").exists() {
        println!(
            "cargo:warning=ui/dist/index.html is missing: build the UI first (cd ui && npm ci && npm run build), \
             or use scripts/run.sh which does it"
        );
    }
    println!("cargo:rerun-if-changed=bare");
    println!("cargo:rerun-if-changed=../ui/dist/index.html");
    tauri_build::build()
}
