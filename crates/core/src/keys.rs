//! Key handling. The database is encrypted with a random 256-bit data key; that key is stored only
//! wrapped (XChaCha20-Poly1305) under a key derived from the officer's passphrase with Argon2id,
//! so changing the passphrase re-wraps 32 bytes instead of re-encrypting the database.

use std::io::Write;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Result};

pub const KEY_FILE_NAME: &str = "waypoint.key";
const LEGACY_FAILED_UNLOCKS_FILE_NAME: &str = "failed-unlocks.json";

/// Argon2id cost. The default takes a few hundred milliseconds on a patrol-car laptop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for KdfParams {
    fn default() -> Self {
        KdfParams { memory_kib: 64 * 1024, iterations: 3, parallelism: 1 }
    }
}

impl KdfParams {
    /// Cheap parameters for tests and benchmarks only.
    pub fn insecure_fast() -> Self {
        KdfParams { memory_kib: 64, iterations: 1, parallelism: 1 }
    }
}

/// The 32-byte data key, wiped from memory when dropped.
pub type DataKey = Zeroizing<[u8; 32]>;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyFile {
    pub format: u32,
    pub officer_id: String,
    pub device_id: String,
    pub kdf: KdfParams,
    pub salt: String,
    pub nonce: String,
    pub wrapped_key: String,
    /// Wrong unlock tries since the last good one (their times, for the audit log at the next
    /// unlock). Kept in the key file itself: deleting a side file cannot reset the count, and
    /// deleting the key file loses the data key with it.
    #[serde(default)]
    pub failed_unlocks: Vec<FailedTry>,
    /// The agency's limit on wrong tries, as the device last read it while unlocked (the
    /// configuration the server sent is inside the encrypted store, closed while locked).
    #[serde(default = "default_max_failed_unlocks")]
    pub max_failed_unlocks: u32,
}

/// One wrong PIN or passphrase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedTry {
    pub at: DateTime<Utc>,
    /// `unlock` or `change_passphrase`.
    pub action: String,
    /// Already written to the audit log (a wrong current PIN at a change, with the store open).
    #[serde(default)]
    pub audited: bool,
}

fn default_max_failed_unlocks() -> u32 {
    crate::device_policy::DEFAULT_MAX_FAILED_UNLOCKS
}

/// Wrong tries that are free: a fumbled PIN or two costs no wait.
pub const FREE_TRIES: u32 = 3;
/// The longest wait between tries.
pub const MAX_UNLOCK_DELAY_SECONDS: i64 = 15 * 60;

/// How long after the last wrong try the next one is accepted: nothing for the first
/// [`FREE_TRIES`], then 30 s, doubling each time, at most 15 minutes.
pub fn unlock_delay_seconds(failures: u32) -> i64 {
    if failures < FREE_TRIES {
        return 0;
    }
    let doublings = (failures - FREE_TRIES).min(16);
    (30_i64 << doublings).min(MAX_UNLOCK_DELAY_SECONDS)
}

impl KeyFile {
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(KEY_FILE_NAME)
    }

    /// Makes a fresh random data key and wraps it under the passphrase.
    pub fn create(officer_id: &str, device_id: &str, passphrase: &str, kdf: &KdfParams) -> Result<(KeyFile, DataKey)> {
        let mut data_key = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(data_key.as_mut());
        let template = KeyFile {
            format: 1,
            officer_id: officer_id.to_owned(),
            device_id: device_id.to_owned(),
            kdf: *kdf,
            salt: String::new(),
            nonce: String::new(),
            wrapped_key: String::new(),
            failed_unlocks: Vec::new(),
            max_failed_unlocks: default_max_failed_unlocks(),
        };
        let key_file = template.rewrap(&data_key, passphrase, kdf)?;
        Ok((key_file, data_key))
    }

    /// The same data key, wrapped under a new passphrase with a new salt and nonce.
    pub fn rewrap(&self, data_key: &DataKey, passphrase: &str, kdf: &KdfParams) -> Result<KeyFile> {
        let mut salt = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let wrapping_key = derive_key(passphrase, &salt, kdf)?;
        let cipher = XChaCha20Poly1305::new(wrapping_key.as_ref().into());
        let wrapped = cipher
            .encrypt(XNonce::from_slice(&nonce), &data_key[..])
            .map_err(|_| Error::Crypto("cannot wrap the data key".into()))?;
        Ok(KeyFile {
            kdf: *kdf,
            salt: hex::encode(salt),
            nonce: hex::encode(nonce),
            wrapped_key: hex::encode(wrapped),
            ..self.clone()
        })
    }

    /// The data key, or `WrongPassphrase` when the passphrase does not open it.
    pub fn unwrap_data_key(&self, passphrase: &str) -> Result<DataKey> {
        let salt = decode_hex(&self.salt, "salt")?;
        let nonce = decode_hex(&self.nonce, "nonce")?;
        let wrapped = decode_hex(&self.wrapped_key, "wrapped key")?;
        if nonce.len() != 24 {
            return Err(Error::Crypto("the key file's nonce has the wrong length".into()));
        }
        let wrapping_key = derive_key(passphrase, &salt, &self.kdf)?;
        let cipher = XChaCha20Poly1305::new(wrapping_key.as_ref().into());
        let mut plain =
            cipher.decrypt(XNonce::from_slice(&nonce), wrapped.as_slice()).map_err(|_| Error::WrongPassphrase)?;
        if plain.len() != 32 {
            plain.zeroize();
            return Err(Error::Crypto("the wrapped data key has the wrong length".into()));
        }
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&plain);
        plain.zeroize();
        Ok(key)
    }

    /// `None` when the device has not been set up yet.
    pub fn read(dir: &Path) -> Result<Option<KeyFile>> {
        match std::fs::read_to_string(Self::path(dir)) {
            Ok(text) => Ok(Some(
                serde_json::from_str(&text).map_err(|e| Error::Crypto(format!("the key file is damaged: {e}")))?,
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Written to a temporary file, synced, then renamed: a crash leaves the old or the new key, never half.
    pub fn write(&self, dir: &Path) -> Result<()> {
        write_private_atomically(&Self::path(dir), serde_json::to_string_pretty(self)?.as_bytes())
    }

    /// The first key file of a device: written and synced under a name of its own, then linked
    /// to its place only if none is there. Of two setups racing on one folder exactly one wins;
    /// the other gets `AlreadyInitialized` and its key never replaces the winner's.
    pub fn write_new(&self, dir: &Path) -> Result<()> {
        let tmp = dir.join(format!("{KEY_FILE_NAME}.{}.tmp", uuid::Uuid::now_v7()));
        write_private(&tmp, serde_json::to_string_pretty(self)?.as_bytes())?;
        let linked = std::fs::hard_link(&tmp, Self::path(dir));
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                sync_dir(dir);
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Error::AlreadyInitialized(
                "Waypoint was set up on this device at the same moment by another window: unlock it instead.".into(),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// When the next try is accepted, if it must wait.
    pub fn next_try_at(&self) -> Option<DateTime<Utc>> {
        let last = self.failed_unlocks.last()?.at;
        let wait = unlock_delay_seconds(self.failed_unlocks.len() as u32);
        (wait > 0).then(|| last + chrono::Duration::seconds(wait))
    }

    /// Wrong tries left before the device wipes itself.
    pub fn tries_left(&self) -> u32 {
        self.max_failed_unlocks.saturating_sub(self.failed_unlocks.len() as u32)
    }
}

fn derive_key(passphrase: &str, salt: &[u8], kdf: &KdfParams) -> Result<Zeroizing<[u8; 32]>> {
    let params = argon2::Params::new(kdf.memory_kib, kdf.iterations, kdf.parallelism, Some(32))
        .map_err(|e| Error::Crypto(format!("bad key-derivation parameters: {e}")))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.as_bytes(), salt, out.as_mut())
        .map_err(|e| Error::Crypto(format!("key derivation failed: {e}")))?;
    Ok(out)
}

fn decode_hex(text: &str, what: &str) -> Result<Vec<u8>> {
    hex::decode(text).map_err(|_| Error::Crypto(format!("the key file's {what} is damaged")))
}

/// Writes a file readable by its owner only (0600) and syncs it.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// Makes a rename or link in `dir` durable.
fn sync_dir(dir: &Path) {
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
}

/// Writes a file readable by its owner only (0600), atomically: a temporary file of its own
/// (two writers never share one), synced, then renamed over the old.
pub fn write_private_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!("{}.tmp", uuid::Uuid::now_v7()));
    write_private(&tmp, bytes)?;
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.into());
    }
    if let Some(parent) = path.parent() {
        sync_dir(parent);
    }
    Ok(())
}

/// Failed unlocks that an earlier version kept in a side file: read once at the next unlock
/// (into the audit log), then the file is removed. New failures go into the key file.
pub fn take_legacy_failed_unlocks(dir: &Path) -> Result<Vec<DateTime<Utc>>> {
    let path = dir.join(LEGACY_FAILED_UNLOCKS_FILE_NAME);
    let pending = match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).unwrap_or_default(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    std::fs::remove_file(&path)?;
    Ok(pending)
}
