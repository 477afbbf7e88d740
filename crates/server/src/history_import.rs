//! `waypoint-server import encounters`: the agency's older reports, read from a CSV extract
//! through a mapping ([`crate::history_mapping`]), stored as imported history (not device-made,
//! not reviewable, never in the sync or records feeds) that the outcome figures count. Rows are
//! stored in batches; a re-import of the same file finds every row unchanged.

use std::io::Read;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use waypoint_core::AgencyConfig;

use crate::history_mapping::{Mapping, MappingFile, SeenKeys};
use crate::store::imported::{ImportCounts, ImportedEncounter};
use crate::store::SharedStore;

/// Rows stored per transaction.
pub const BATCH_ROWS: usize = 2_000;
/// Rejections listed in full; past this many, only counted.
pub const LISTED_REJECTIONS: usize = 1_000;

#[derive(Debug, Clone, Serialize)]
pub struct Rejection {
    /// The row's line in the file (the header is line 1).
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub source: String,
    pub rows_read: u64,
    pub imported: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    /// The first [`LISTED_REJECTIONS`] rejected rows with their reasons.
    pub rejections: Vec<Rejection>,
}

impl ImportReport {
    pub fn summary(&self) -> String {
        format!(
            "{}: {} rows read, {} imported, {} updated, {} unchanged, {} rejected",
            self.source, self.rows_read, self.imported, self.updated, self.unchanged, self.rejected
        )
    }

    fn reject(&mut self, line: u64, reason: String) {
        self.rejected += 1;
        if self.rejections.len() < LISTED_REJECTIONS {
            self.rejections.push(Rejection { line, reason });
        }
    }

    fn add(&mut self, counts: ImportCounts) {
        self.imported += counts.imported;
        self.updated += counts.updated;
        self.unchanged += counts.unchanged;
    }
}

/// Imports `csv` through `mapping` into `store`. `progress` is called after each stored batch
/// with the rows read so far. Fails (storing nothing) when the mapping does not fit the file or
/// the agency configuration; a bad row is only rejected, with its line and reason.
pub async fn import(
    store: &SharedStore,
    csv: impl Read,
    mapping: MappingFile,
    config: &AgencyConfig,
    now: DateTime<Utc>,
    mut progress: impl FnMut(u64),
) -> anyhow::Result<ImportReport> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::None).from_reader(csv);
    let header: Vec<String> = reader.headers()?.iter().map(|h| h.trim_start_matches('\u{feff}').to_string()).collect();
    let mapping = Mapping::new(mapping, &header, config).map_err(|problems| anyhow::anyhow!("{problems}"))?;
    let mut report = ImportReport { source: mapping.source.clone(), ..ImportReport::default() };
    let mut seen = SeenKeys::default();
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let mut record = csv::StringRecord::new();
    let mut writing: Option<tokio::task::JoinHandle<crate::store::StoreResult<ImportCounts>>> = None;
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => {
                report.rows_read += 1;
                report.reject(line, format!("not readable as CSV: {error}"));
                continue;
            }
        }
        report.rows_read += 1;
        let line = record.position().map_or(line, |p| p.line());
        match mapping.row(&record, now) {
            Err(reason) => report.reject(line, reason),
            Ok(row) => {
                if let Some(first) = seen.first_line(&row.row_key, line) {
                    report.reject(line, format!("row key `{}` is already on line {first}", row.row_key));
                    continue;
                }
                let body = serde_json::to_string(&row.encounter)?;
                batch.push(ImportedEncounter {
                    id: row.encounter.id,
                    source: mapping.source.clone(),
                    row_key: row.row_key,
                    occurred_at: row.encounter.occurred_at,
                    officer_id: row.encounter.officer_id.clone(),
                    content_hash: hex::encode(Sha256::digest(body.as_bytes())),
                    body,
                });
                if batch.len() == BATCH_ROWS {
                    // The store writes this batch while the next one is read and mapped.
                    if let Some(writing) = writing.take() {
                        report.add(finished(writing).await?);
                    }
                    let (store, rows) = (store.clone(), std::mem::take(&mut batch));
                    writing = Some(tokio::spawn(async move { store.store_imported(rows, now).await }));
                    progress(report.rows_read);
                }
            }
        }
    }
    if let Some(writing) = writing.take() {
        report.add(finished(writing).await?);
    }
    if !batch.is_empty() {
        report.add(store.store_imported(batch, now).await?);
    }
    progress(report.rows_read);
    Ok(report)
}

async fn finished(
    writing: tokio::task::JoinHandle<crate::store::StoreResult<ImportCounts>>,
) -> anyhow::Result<ImportCounts> {
    Ok(writing.await.map_err(|e| anyhow::anyhow!("the batch writer stopped: {e}"))??)
}
