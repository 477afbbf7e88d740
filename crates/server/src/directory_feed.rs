//! `waypoint-server directory import` and `import services`: runs the directory crate's SAMHSA,
//! HSDS or service-list importer into the
//! server's directory file, then publishes what changed to every device's pull feed (an upsert
//! per new or changed service, a delete per service gone), comparing content hashes with what
//! was published before so a re-import of the same data publishes nothing.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::Value;
use waypoint_directory::{samhsa, Directory, ImportReport};

use crate::snapshot::{self, Manifest};
use crate::store::SharedStore;

pub enum DirectorySource {
    /// A folder of SAMHSA listing files.
    Samhsa(PathBuf),
    /// An HSDS 3.0 tabular data package (folder of CSVs with datapackage.json).
    Hsds(PathBuf),
    /// Any service list as CSV, read through a mapping (`import services`).
    ServiceList { csv: PathBuf, mapping: Box<waypoint_directory::service_list::ListMapping> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    pub upserts: usize,
    pub deletes: usize,
    /// The feed position of the last change published (none when nothing changed).
    pub last_seq: Option<u64>,
}

pub fn directory_path(data_dir: &Path) -> PathBuf {
    data_dir.join("directory.sqlite")
}

/// Imports into the server's directory, publishes the difference and writes the snapshot a fresh
/// device downloads (in `data_dir`).
pub async fn import(
    store: &SharedStore,
    data_dir: &Path,
    source: DirectorySource,
) -> anyhow::Result<(ImportReport, Publication, Manifest)> {
    let path = directory_path(data_dir);
    let (report, services) = tokio::task::spawn_blocking(move || -> anyhow::Result<(ImportReport, Vec<Value>)> {
        // Public listings, so not encrypted; still the data folder's 0600 (its -wal/-shm follow).
        crate::private_files::open_private(&path, false).with_context(|| format!("creating {}", path.display()))?;
        let mut directory = Directory::open(&path).with_context(|| format!("opening {}", path.display()))?;
        let report = match source {
            DirectorySource::Samhsa(dir) => {
                let files = samhsa::files_in(&dir, &samhsa::Mapping::shipped());
                anyhow::ensure!(!files.is_empty(), "no SAMHSA listing files in {}", dir.display());
                directory.import_samhsa(&files)?
            }
            DirectorySource::Hsds(dir) => directory.import_hsds_package(&dir)?,
            DirectorySource::ServiceList { csv, mapping } => directory.import_service_list(&csv, &mapping)?,
        };
        Ok((report, directory.export_hsds(None)?))
    })
    .await??;
    let mut services = services;
    // The agency's local facts go over the fresh listing: a re-import never loses them.
    crate::directory_local::overlay_all(store, &mut services).await?;
    let (publication, manifest) = publish_with_snapshot(store, data_dir, services).await?;
    Ok((report, publication, manifest))
}

/// Records an import for the admin's directory page: what, when, by whom, what it published, and
/// the importer's report (its rejected and repaired rows capped at [`REPORT_ROWS_KEPT`] each).
pub async fn record_import(
    store: &SharedStore,
    source: String,
    by: &str,
    report: &ImportReport,
    publication: &Publication,
) -> anyhow::Result<u64> {
    let mut kept = report.clone();
    kept.rejected.truncate(REPORT_ROWS_KEPT);
    kept.warnings.truncate(REPORT_ROWS_KEPT);
    let mut report_json = serde_json::to_value(&kept)?;
    report_json["rejected_total"] = report.rejected.len().into();
    report_json["warnings_total"] = report.warnings.len().into();
    let info = waypoint_protocol::DirectoryImportInfo {
        id: 0,
        finished_at: chrono::Utc::now(),
        source,
        by: by.to_string(),
        upserts: publication.upserts as u64,
        deletes: publication.deletes as u64,
        report: report_json,
    };
    Ok(store.record_directory_import(info).await?)
}

/// Rejected (and, apart, repaired) rows an import's record keeps.
pub const REPORT_ROWS_KEPT: usize = 200;

/// Publishes the documents among `services` that differ from their last publication, and
/// nothing else (no service is withdrawn): one service changed by an admin's local facts.
pub async fn publish_upserts(store: &SharedStore, services: Vec<Value>) -> anyhow::Result<Option<u64>> {
    let published = store.published_directory().await?;
    let mut upserts = Vec::new();
    for service in services {
        let key = service["id"].as_str().context("a service document has no id")?.to_string();
        let hash = waypoint_protocol::content_hash(&service);
        if published.get(&key) != Some(&hash) {
            upserts.push((key, hash, service));
        }
    }
    if upserts.is_empty() {
        return Ok(None);
    }
    Ok(Some(store.publish_directory(upserts, Vec::new()).await?))
}

/// [`publish`], then writes `services` and the capacities in effect as the directory snapshot in
/// `snapshot_dir`, at the feed position of the last change published: a device that applies the
/// snapshot pulls from there. When nothing changed, the previous snapshot's position is kept
/// (same content, same ETag); with no previous snapshot it is 0, so a device pulls the whole feed
/// again (redundant, never wrong).
pub async fn publish_with_snapshot(
    store: &SharedStore,
    snapshot_dir: &Path,
    services: Vec<Value>,
) -> anyhow::Result<(Publication, Manifest)> {
    let previous = snapshot::read_manifest(snapshot_dir)?;
    let publication = publish(store, services.clone()).await?;
    let cursor = match publication.last_seq {
        Some(seq) => seq,
        None => previous.map_or(0, |m| m.cursor),
    };
    // Read after the publication committed: every update numbered up to `cursor` is in.
    let capacities = store.capacities_at(cursor).await?;
    let dir = snapshot_dir.to_path_buf();
    let manifest = tokio::task::spawn_blocking(move || {
        let bytes = snapshot::encode(&services, &capacities)?;
        snapshot::write(&dir, &bytes, services.len(), capacities.len(), cursor)
    })
    .await??;
    Ok((publication, manifest))
}

/// Publishes HSDS service documents (keyed by their `id`) that differ from the last publication.
pub async fn publish(store: &SharedStore, services: Vec<Value>) -> anyhow::Result<Publication> {
    let published = store.published_directory().await?;
    let mut seen = HashSet::new();
    let mut upserts = Vec::new();
    for service in services {
        let key = service["id"].as_str().context("an exported service has no id")?.to_string();
        let hash = waypoint_protocol::content_hash(&service);
        if published.get(&key) != Some(&hash) {
            upserts.push((key.clone(), hash, service));
        }
        seen.insert(key);
    }
    let mut deletes: Vec<String> = published.into_keys().filter(|key| !seen.contains(key)).collect();
    deletes.sort();
    let mut publication = Publication { upserts: upserts.len(), deletes: deletes.len(), last_seq: None };
    if publication.upserts + publication.deletes > 0 {
        publication.last_seq = Some(store.publish_directory(upserts, deletes).await?);
    }
    Ok(publication)
}
