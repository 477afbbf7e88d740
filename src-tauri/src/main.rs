// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    if let Err(error) = waypoint_shell::run() {
        eprintln!("waypoint: {error}");
        std::process::exit(1);
    }
}
