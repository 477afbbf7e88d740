//! Erasing a device's reports: after too many wrong PIN or passphrase tries, or when the agency
//! server answers that this device is revoked. The data key goes first (without it the encrypted
//! database is unreadable), then the database and its log files. The public service directory
//! stays (it holds nothing about anyone). A short note says when and why, for the first-run
//! screen; it names no person and no report.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::Result;
use crate::keys::{write_private_atomically, KEY_FILE_NAME};
use crate::store::DB_FILE_NAME;

pub const WIPE_NOTE_FILE_NAME: &str = "wiped.json";

/// Why and when this device erased its reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct WipeNote {
    /// RFC 3339, UTC.
    pub at: String,
    pub reason: String,
}

/// The files a wipe removes, the key file first.
fn erased_files() -> Vec<String> {
    let mut files = vec![KEY_FILE_NAME.to_string(), "failed-unlocks.json".to_string()];
    for suffix in ["", "-wal", "-shm", "-journal"] {
        files.push(format!("{DB_FILE_NAME}{suffix}"));
    }
    files
}

/// Erases the key and the encrypted store in `dir` (the caller has closed the store) and leaves
/// the note. Missing files are fine: a wipe interrupted half-way is finished by the next one.
pub fn wipe(dir: &Path, reason: &str, at: DateTime<Utc>) -> Result<WipeNote> {
    for name in erased_files() {
        match std::fs::remove_file(dir.join(&name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    // Half-written key files of an interrupted setup or change.
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(KEY_FILE_NAME) && name.ends_with(".tmp") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    let note = WipeNote { at: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), reason: reason.to_string() };
    write_private_atomically(&dir.join(WIPE_NOTE_FILE_NAME), serde_json::to_string(&note)?.as_bytes())?;
    Ok(note)
}

/// The note of the last wipe, until the device is set up again.
pub fn last_wipe(dir: &Path) -> Option<WipeNote> {
    serde_json::from_str(&std::fs::read_to_string(dir.join(WIPE_NOTE_FILE_NAME)).ok()?).ok()
}

/// Called once the device is set up again.
pub fn forget_wipe(dir: &Path) -> Result<()> {
    match std::fs::remove_file(dir.join(WIPE_NOTE_FILE_NAME)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}
