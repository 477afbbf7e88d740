//! The directory's local facts on the server: laid over each service's HSDS document whenever the
//! directory is published (an import, or an admin's edit), so they survive every re-import of the
//! national data and reach devices as ordinary directory changes. The overlay itself is the
//! directory crate's ([`waypoint_directory::local_facts`]).

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Context;
use rusqlite::OptionalExtension;
use serde_json::Value;
use waypoint_directory::{local_facts, Directory};
use waypoint_protocol::{DirectoryConflict, LocalFacts};

use crate::directory_feed::directory_path;
use crate::store::{SharedStore, StoreResult};

/// Lays every stored local fact over the service documents it names.
pub async fn overlay_all(store: &SharedStore, services: &mut [Value]) -> StoreResult<()> {
    let facts: HashMap<String, LocalFacts> =
        store.all_local_facts().await?.into_iter().map(|r| (r.service_id, r.facts)).collect();
    if facts.is_empty() {
        return Ok(());
    }
    for service in services.iter_mut() {
        if let Some(facts) = service.get("id").and_then(Value::as_str).and_then(|id| facts.get(id)) {
            local_facts::overlay(service, facts);
        }
    }
    Ok(())
}

/// The server's directory file, read on a blocking thread; `None` when no import made one yet.
pub async fn with_directory<T: Send + 'static>(
    data_dir: Option<PathBuf>,
    work: impl FnOnce(&Directory) -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<Option<T>> {
    let Some(dir) = data_dir else { return Ok(None) };
    tokio::task::spawn_blocking(move || {
        let path = directory_path(&dir);
        if !path.exists() {
            return Ok(None);
        }
        let directory = Directory::open(&path).with_context(|| format!("opening {}", path.display()))?;
        work(&directory).map(Some)
    })
    .await?
}

/// The listing's own document for one service (before local facts), if the directory has it.
pub fn listed_document(directory: &Directory, service_id: &str) -> anyhow::Result<Option<Value>> {
    match directory.export_service(service_id) {
        Ok(doc) => Ok(Some(doc)),
        Err(waypoint_directory::Error::NotFound(_)) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// Where the local facts and the listing disagree (see [`DirectoryConflict`]).
pub fn conflicts(
    directory: &Directory,
    facts: &[waypoint_protocol::LocalFactsRecord],
) -> anyhow::Result<Vec<DirectoryConflict>> {
    let mut out = Vec::new();
    for record in facts {
        let listed: Option<(String, Option<bool>)> = directory
            .connection()
            .query_row("SELECT name, law_enforcement_dropoff FROM service WHERE id = ?1", [&record.service_id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        match listed {
            None => out.push(DirectoryConflict {
                service_id: record.service_id.clone(),
                name: None,
                kind: "withdrawn".into(),
                message: "the last import no longer lists this service: its local facts are kept but not published"
                    .into(),
            }),
            Some((name, Some(listed))) if record.facts.accepts_dropoffs.is_some_and(|local| local != listed) => {
                let words = |yes: bool| if yes { "takes" } else { "does not take" };
                out.push(DirectoryConflict {
                    service_id: record.service_id.clone(),
                    name: Some(name),
                    kind: "dropoffs_differ".into(),
                    message: format!(
                        "the listing says it {} police drop-offs; the local fact (published) says it {}",
                        words(listed),
                        words(!listed)
                    ),
                });
            }
            Some(_) => {}
        }
    }
    Ok(out)
}

/// The folder holding the server's directory (`directory import` writes it there, beside the snapshot).
pub fn data_dir(settings: &crate::Settings) -> Option<PathBuf> {
    settings.directory_snapshot_dir.clone()
}
