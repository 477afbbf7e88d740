//! The data folder is the operator's alone: the folder 0700, every file in it 0600 (database,
//! -wal/-shm, database key, TLS key, directory snapshot). Files are created with that mode, not
//! narrowed afterwards, so no other account can open one in between.

use std::path::Path;

/// Creates `dir` (and its parents) if needed and makes it 0700.
pub fn ensure_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Opens `path` for writing (created 0600 if missing; truncated when `truncate`). An existing file
/// is narrowed to 0600 too (one made by an earlier version).
pub fn open_private(path: &Path, truncate: bool) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(truncate);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

/// Writes `bytes` to `path` as a 0600 file.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    open_private(path, true)?.write_all(bytes)
}
