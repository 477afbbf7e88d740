//! The key of the server's SQLCipher database: 32 random bytes, kept as hex in a 0600 file
//! (`<data-dir>/database.key` unless the operator names another with `--database-key-file`).
//! It is used as a raw key (`x'..'`), so SQLCipher's passphrase derivation is skipped.

use std::path::Path;

use anyhow::Context;
use rand::RngCore;

/// The default file name in the data folder.
pub const KEY_FILE: &str = "database.key";

#[derive(Clone)]
pub struct DatabaseKey([u8; 32]);

impl std::fmt::Debug for DatabaseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DatabaseKey(..)")
    }
}

impl DatabaseKey {
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        DatabaseKey(key)
    }

    /// 64 hex digits (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> anyhow::Result<Self> {
        let bytes = hex::decode(text.trim()).context("the database key is not hex")?;
        let key: [u8; 32] =
            bytes.try_into().map_err(|_| anyhow::anyhow!("the database key must be 32 bytes (64 hex digits)"))?;
        Ok(DatabaseKey(key))
    }

    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading the database key {}", path.display()))?;
        Self::from_hex(&text).with_context(|| format!("in {}", path.display()))
    }

    /// Writes the key to a new 0600 file (refuses to replace one: that would orphan a database).
    pub fn write_new(&self, path: &Path) -> anyhow::Result<()> {
        anyhow::ensure!(!path.exists(), "{} exists already", path.display());
        crate::private_files::write_private(path, format!("{}\n", hex::encode(self.0)).as_bytes())
            .with_context(|| format!("writing the database key {}", path.display()))
    }

    /// The key for the database at `database`: read from `key_file`; made there when neither the
    /// key file nor an encrypted database exists yet (a new server, or a plaintext database from a
    /// version before encryption, which the store then encrypts in place). An encrypted database
    /// without its key is refused: a new key would not open it.
    pub fn for_database(key_file: &Path, database: &Path) -> anyhow::Result<Self> {
        if key_file.exists() {
            return Self::read(key_file);
        }
        if database.exists() && !crate::sqlite_store::is_plaintext(database)? {
            anyhow::bail!(
                "the database {} is encrypted but its key file {} is missing: restore the key file (from the \
                 backup made with the database), or name it with --database-key-file / WAYPOINT_DATABASE_KEY_FILE",
                database.display(),
                key_file.display()
            );
        }
        let key = Self::generate();
        key.write_new(key_file)?;
        tracing::info!("made the database key {}: back it up apart from the database", key_file.display());
        Ok(key)
    }

    /// The `PRAGMA key` statement.
    pub(crate) fn pragma(&self) -> String {
        format!("PRAGMA key = \"x'{}'\";", hex::encode(self.0))
    }

    /// The key clause of an `ATTACH ... KEY` statement.
    pub(crate) fn attach_clause(&self) -> String {
        format!("\"x'{}'\"", hex::encode(self.0))
    }
}
