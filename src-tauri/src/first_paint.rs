//! Startup benchmark hook shared by the app and the bare-window baseline.

use std::io::Write;

use tauri::{AppHandle, Runtime};

/// When set to `1`, the first painted frame prints `first-paint` and ends the process.
pub const EXIT_AFTER_FIRST_PAINT_ENV: &str = "WAYPOINT_EXIT_AFTER_FIRST_PAINT";

pub fn report<R: Runtime>(app: &AppHandle<R>) {
    if std::env::var(EXIT_AFTER_FIRST_PAINT_ENV).as_deref() == Ok("1") {
        let mut stdout = std::io::stdout().lock();
        // The benchmark waits for this line; a failed write only means nobody is listening.
        let _ = writeln!(stdout, "first-paint");
        let _ = stdout.flush();
        app.exit(0);
    }
}
