//! The Tauri shell of Waypoint. It opens the core on the app data folder and forwards commands;
//! all domain rules live in waypoint-core.

use std::path::{Path, PathBuf};

use tauri::Manager;
use waypoint_core::{AgencyConfig, BootSnapshot, Waypoint};

mod commands;
pub mod first_paint;

/// Overrides the data folder (tests and benchmarks use a temporary one).
pub const DATA_DIR_ENV: &str = "WAYPOINT_DATA_DIR";
/// Path of an agency configuration file to use instead of the data folder's `agency.json`.
pub const AGENCY_CONFIG_ENV: &str = "WAYPOINT_AGENCY_CONFIG";
/// gpsd's address ("host:port"); gpsd's own default otherwise.
pub const GPSD_ENV: &str = "WAYPOINT_GPSD";
/// The agency configuration file looked for in the data folder.
pub const AGENCY_FILE: &str = "agency.json";

/// The label of the app's window in tauri.conf.json.
const MAIN_WINDOW: &str = "main";

/// The page's boot snapshot, set before any of its scripts run (the UI reads
/// `window.__WAYPOINT_BOOT__` once, then checks it against `app_status`).
pub fn boot_script(snapshot: &BootSnapshot) -> String {
    // JSON is valid JavaScript (ES2019 allows U+2028/U+2029 in strings).
    let json = serde_json::to_string(snapshot).expect("the boot snapshot serializes");
    format!("window.__WAYPOINT_BOOT__ = {json};")
}

/// Every IPC command, named once: the handler below and the UI's generated list
/// (`ui/src/lib/backend/commands.ts`, see `commands_ts`) both come from it.
macro_rules! ipc_commands {
    ($($name:ident),* $(,)?) => {
        /// The commands' names as the UI invokes them.
        pub const COMMAND_NAMES: &[&str] = &[$(stringify!($name)),*];

        fn invoke_handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$(commands::$name),*]
        }
    };
}

ipc_commands![
    app_status,
    setup,
    unlock,
    lock,
    change_passphrase,
    agency_config,
    new_encounter,
    save_draft,
    check_encounter,
    submit_encounter,
    amend_encounter,
    list_encounters,
    get_encounter,
    get_encounter_version,
    verify_audit,
    directory_status,
    service_needs,
    suggest_services,
    suggest_for_encounter,
    search_services,
    find_places,
    service_detail,
    resource_card,
    gps_reading,
    report_first_paint,
    sync_status,
    sync_now,
    enroll_device,
    officer_login,
];

/// The UI's copy of the command names: a list its tests check the backend against, and the type
/// its backend must call with.
pub fn commands_ts() -> String {
    let names: Vec<String> = COMMAND_NAMES.iter().map(|name| format!("  \"{name}\",\n")).collect();
    format!(
        "// Generated from src-tauri/src/lib.rs (`ipc_commands!`) by its tests: do not edit.\n\
         /** Every IPC command of the Tauri shell. */\n\
         export const COMMANDS = [\n{}] as const;\n\n\
         export type Command = (typeof COMMANDS)[number];\n",
        names.concat()
    )
}

/// Builds and runs the Waypoint window until it is closed.
pub fn run() -> Result<(), tauri::Error> {
    tauri::Builder::default()
        .setup(|app| {
            let data_dir = match std::env::var_os(DATA_DIR_ENV) {
                Some(dir) if !dir.is_empty() => PathBuf::from(dir),
                _ => app.path().app_data_dir()?,
            };
            let explicit = std::env::var_os(AGENCY_CONFIG_ENV).filter(|p| !p.is_empty()).map(PathBuf::from);
            let config = agency_config(explicit.as_deref(), &data_dir)?;
            let waypoint = match open_data_folder(data_dir, config) {
                Ok(waypoint) => waypoint,
                // Said plainly and ended cleanly (an error from here would make Tauri panic).
                Err(error) if error.kind() == waypoint_core::ErrorKind::AlreadyRunning => {
                    eprintln!("waypoint: {error}");
                    std::process::exit(1);
                }
                Err(error) => return Err(error.into()),
            };
            app.manage(waypoint);
            // The window is made here rather than from tauri.conf.json ("create": false) so that
            // its page starts with the boot snapshot and draws the unlock screen in its first frame.
            let boot = boot_script(&app.state::<Waypoint>().boot_snapshot()?);
            let main_window = app.config().app.windows.iter().find(|w| w.label == MAIN_WINDOW).cloned();
            let main_window = main_window.ok_or("tauri.conf.json has no \"main\" window")?;
            tauri::WebviewWindowBuilder::from_config(app.handle(), &main_window)?
                .initialization_script(boot)
                .build()?;
            let gpsd = std::env::var(GPSD_ENV).ok().filter(|a| !a.is_empty());
            app.state::<Waypoint>().start_gps(gpsd.as_deref().unwrap_or(waypoint_core::gps::DEFAULT_GPSD_ADDR));
            // Sync with the agency server in the background (idle until unlocked and enrolled).
            let handle = app.handle().clone();
            std::thread::Builder::new()
                .name("waypoint-sync".into())
                .spawn(move || handle.state::<Waypoint>().run_background_sync())?;
            Ok(())
        })
        .invoke_handler(invoke_handler())
        .build(tauri::generate_context!())?
        .run(|app, event| {
            // Closing: no new sync round (one under way finishes or is cut with the process).
            if let tauri::RunEvent::Exit = event {
                if let Some(waypoint) = app.try_state::<Waypoint>() {
                    waypoint.stop_background_sync();
                }
            }
        });
    Ok(())
}

/// Opens the data folder. Another Waypoint holding it is usually one that was just closed and is
/// still finishing its exit: wait a few seconds for it, then refuse with the core's sentence.
fn open_data_folder(data_dir: PathBuf, config: AgencyConfig) -> waypoint_core::Result<Waypoint> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match Waypoint::open(&data_dir, config.clone()) {
            Err(error)
                if error.kind() == waypoint_core::ErrorKind::AlreadyRunning && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            other => return other,
        }
    }
}

/// After the first painted frame: report it (startup benchmark), then open the service directory
/// in the background. A fresh install loads the bundled national directory then (a few seconds of
/// CPU), which must not compete with drawing the first frame. Directory calls made before it is
/// ready simply wait for it.
pub fn on_first_paint<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    first_paint::report(app);
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        let handle = app.clone();
        std::thread::spawn(move || {
            if let Err(error) = handle.state::<Waypoint>().prepare_directory() {
                tracing::error!(%error, "the service directory did not open");
            }
        });
    });
}

/// Which agency configuration to use: the file named by `WAYPOINT_AGENCY_CONFIG`, else the data
/// folder's `agency.json`, else the built-in demo agency. A file that is named but broken is an
/// error rather than a silent fallback: officers must not record against the wrong vocabulary.
pub fn agency_config(explicit: Option<&Path>, data_dir: &Path) -> waypoint_core::Result<AgencyConfig> {
    if let Some(path) = explicit {
        return AgencyConfig::load(path);
    }
    let in_data_dir = data_dir.join(AGENCY_FILE);
    if in_data_dir.exists() {
        return AgencyConfig::load(&in_data_dir);
    }
    Ok(AgencyConfig::demo())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_boot_script_hands_the_page_the_status_and_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let waypoint = Waypoint::open(dir.path(), AgencyConfig::demo()).unwrap();
        let snapshot = waypoint.boot_snapshot().unwrap();
        assert!(!snapshot.status.initialized && !snapshot.status.unlocked);
        let script = boot_script(&snapshot);
        let json = script.strip_prefix("window.__WAYPOINT_BOOT__ = ").and_then(|s| s.strip_suffix(';')).unwrap();
        let handed: BootSnapshot = serde_json::from_str(json).unwrap();
        assert_eq!(handed, snapshot);
    }

    /// Renaming or adding a command changes the UI's list; the UI's backend is typed by it.
    #[test]
    fn the_ui_s_command_list_is_fresh() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/backend/commands.ts");
        let generated = commands_ts();
        assert!(
            generated.contains("  \"app_status\",\n") && generated.contains("  \"officer_login\",\n"),
            "{generated}"
        );
        if std::env::var_os("WAYPOINT_UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &generated).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is stale; run: WAYPOINT_UPDATE_BINDINGS=1 cargo test -p waypoint-app --lib",
            path.display()
        );
    }

    #[test]
    fn the_configured_main_window_is_left_to_setup_to_create() {
        let config: serde_json::Value = serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
        let windows = config["app"]["windows"].as_array().unwrap();
        let main = windows.iter().find(|w| w["label"] == MAIN_WINDOW).expect("a main window");
        // Created by Tauri before setup it would start without the boot snapshot (and twice).
        assert_eq!(main["create"], false);
    }

    fn config_named(name: &str) -> String {
        let mut value: serde_json::Value = serde_json::to_value(AgencyConfig::demo()).unwrap();
        value["agency_name"] = serde_json::Value::String(name.into());
        value.to_string()
    }

    #[test]
    fn without_any_file_the_demo_agency_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let config = agency_config(None, dir.path()).unwrap();
        assert_eq!(config.agency_name, AgencyConfig::demo().agency_name);
    }

    #[test]
    fn the_data_folder_file_wins_over_the_demo() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(AGENCY_FILE), config_named("Data Folder PD")).unwrap();
        assert_eq!(agency_config(None, dir.path()).unwrap().agency_name, "Data Folder PD");
    }

    #[test]
    fn the_explicit_file_wins_over_the_data_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(AGENCY_FILE), config_named("Data Folder PD")).unwrap();
        let explicit = dir.path().join("other.json");
        std::fs::write(&explicit, config_named("Explicit PD")).unwrap();
        assert_eq!(agency_config(Some(&explicit), dir.path()).unwrap().agency_name, "Explicit PD");
    }

    #[test]
    fn a_broken_explicit_file_is_an_error_not_a_fallback() {
        let dir = tempfile::tempdir().unwrap();
        let explicit = dir.path().join("broken.json");
        std::fs::write(&explicit, "{ not json").unwrap();
        assert!(agency_config(Some(&explicit), dir.path()).is_err());
        assert!(agency_config(Some(&dir.path().join("missing.json")), dir.path()).is_err());
    }
}
