//! One Waypoint per data folder: an operating-system lock on a file in the folder, taken when
//! the folder is opened and released when the process ends (also when it crashes). A second
//! app on the same folder could otherwise race the first through first-run setup or write the
//! store from two processes.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use crate::error::{Error, Result};

pub const LOCK_FILE_NAME: &str = "waypoint.lock";

/// Held for as long as the folder is open.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
}

impl InstanceLock {
    pub fn take(dir: &Path) -> Result<InstanceLock> {
        let file = OpenOptions::new().create(true).truncate(false).write(true).open(dir.join(LOCK_FILE_NAME))?;
        match file.try_lock() {
            Ok(()) => Ok(InstanceLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(Error::AlreadyRunning(
                "Waypoint is already running on this device (another window has its data open): use that window."
                    .into(),
            )),
            Err(TryLockError::Error(e)) => Err(e.into()),
        }
    }
}
