//! Startup-benchmark baseline: a bare Tauri window whose inline page reports its first painted
//! frame exactly as the Waypoint UI does, with no core, no store and no UI bundle.

fn main() {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![report_first_paint])
        .run(tauri::generate_context!("bare/tauri.conf.json"))
        .expect("the bare window could not start");
}

#[tauri::command]
fn report_first_paint(app: tauri::AppHandle) {
    waypoint_shell::first_paint::report(&app);
}
