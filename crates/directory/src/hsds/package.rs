//! Import of an HSDS 3.0 tabular data package: a folder of CSVs, one a table, named by
//! datapackage.json (or by the standard file names when it lists none).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Instant;

use serde_json::Value;

use super::row::{import_row, record, Row};
use crate::error::{Error, Result};
use crate::model::*;
use crate::Directory;

/// The tables this importer reads, in the order their references need.
const TABLES: &[&str] = &[
    "organizations",
    "services",
    "locations",
    "addresses",
    "service_at_location",
    "phones",
    "schedules",
    "taxonomy_terms",
    "attributes",
];

/// The CSV file of each table, from datapackage.json when it lists resources.
fn package_paths(dir: &Path, report: &mut ImportReport) -> BTreeMap<String, std::path::PathBuf> {
    let mut paths = BTreeMap::new();
    let descriptor = std::fs::read_to_string(dir.join("datapackage.json")).ok();
    let parsed: Option<Value> = descriptor.as_deref().and_then(|t| serde_json::from_str(t).ok());
    match parsed.as_ref().and_then(|d| d.get("resources")).and_then(Value::as_array) {
        Some(resources) => {
            for r in resources {
                if let (Some(name), Some(path)) =
                    (r.get("name").and_then(Value::as_str), r.get("path").and_then(Value::as_str))
                {
                    paths.insert(name.to_owned(), dir.join(path));
                }
            }
        }
        None => {
            report.warn(
                "datapackage.json",
                0,
                "no readable resource list (missing, or a link to the spec's root package); using the standard HSDS file names",
            );
        }
    }
    for table in TABLES {
        paths.entry((*table).to_owned()).or_insert_with(|| dir.join(format!("{table}.csv")));
    }
    paths
}

impl Directory {
    /// Imports an HSDS 3.0 tabular data package (a folder of CSVs with datapackage.json).
    pub fn import_hsds_package(&mut self, dir: &Path) -> Result<ImportReport> {
        let started = Instant::now();
        let mut report = ImportReport::new(format!("HSDS package {}", dir.display()));
        let paths = package_paths(dir, &mut report);
        let tx = self.conn.transaction()?;
        for table in TABLES {
            let path = &paths[*table];
            if !path.exists() {
                continue;
            }
            let file = path.file_name().and_then(|n| n.to_str()).unwrap_or(table).to_owned();
            let mut reader = csv::Reader::from_path(path).map_err(|e| Error::Config(format!("{file}: {e}")))?;
            let headers = reader.headers().map_err(|e| Error::Config(format!("{file}: {e}")))?.clone();
            for (i, rec) in reader.records().enumerate() {
                let row_no = i as u64 + 1;
                let rec = match rec {
                    Ok(rec) => rec,
                    Err(e) => {
                        report.rows_read += 1;
                        report.reject(&file, row_no, format!("unreadable CSV row: {e}"));
                        continue;
                    }
                };
                let row: Row = headers.iter().zip(rec.iter()).map(|(h, v)| (h.to_owned(), v.to_owned())).collect();
                let mut warns = Vec::new();
                let result = import_row(&tx, table, &row, &mut warns)?;
                record(&mut report, &file, row_no, result, warns);
            }
        }
        let used: HashSet<std::path::PathBuf> = TABLES.iter().map(|t| paths[*t].clone()).collect();
        let mut others: Vec<String> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "csv") && !used.contains(p))
            .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_owned))
            .collect();
        others.sort();
        for name in others {
            report.warn(&name, 0, "table not used by Waypoint's directory; skipped");
        }
        tx.commit()?;
        self.rebuild_search_index()?;
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }
}
