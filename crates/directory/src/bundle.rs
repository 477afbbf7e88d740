//! The national directory shipped with the app: SAMHSA facilities, merged and typed, as
//! zstd-compressed JSON lines (`assets/directory/national.jsonl.zst`, about 2 MB). A fresh
//! install loads it into its directory file on first start.
//!
//! Line 1 is a header; every other line is one [`Facility`]. Ids are derived again on load
//! (from the facility key), so the bundle holds no UUIDs and compresses well.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::model::ImportReport;
use super::samhsa::{self, Facility, Mapping};
use super::Directory;
use crate::error::{Error, Result};

/// The bundle compiled into the binary, so first start needs no file lookup.
pub const NATIONAL_BUNDLE: &[u8] = include_bytes!("../../../assets/directory/national.jsonl.zst");

pub const FORMAT: &str = "waypoint-directory-bundle";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    pub source: String,
    pub facilities: usize,
}

/// Builds the bundle bytes from SAMHSA files (what `assets/directory/` ships), with the report.
pub fn build(files: &[std::path::PathBuf]) -> Result<(Vec<u8>, ImportReport)> {
    let (facilities, report) = samhsa::read_facilities(files, &Mapping::shipped())?;
    let mut text = Vec::new();
    let header = Header {
        format: FORMAT.into(),
        version: 1,
        source: "SAMHSA treatment locator extracts (mental health, substance use, opioid treatment programs)".into(),
        facilities: facilities.len(),
    };
    serde_json::to_writer(&mut text, &header)?;
    text.push(b'\n');
    for f in &facilities {
        serde_json::to_writer(&mut text, f)?;
        text.push(b'\n');
    }
    let mut encoder = zstd::Encoder::new(Vec::new(), 19)?;
    encoder.write_all(&text)?;
    Ok((encoder.finish()?, report))
}

/// Reads a bundle's facilities.
pub fn read(bytes: &[u8]) -> Result<Vec<Facility>> {
    let mut lines = BufReader::new(zstd::Decoder::new(bytes)?).lines();
    let header: Header =
        serde_json::from_str(&lines.next().ok_or_else(|| Error::Config("empty directory bundle".into()))??)?;
    if header.format != FORMAT || header.version != 1 {
        return Err(Error::Config(format!("directory bundle {} v{} not supported", header.format, header.version)));
    }
    let mut facilities = Vec::with_capacity(header.facilities);
    for line in lines {
        facilities.push(serde_json::from_str(&line?)?);
    }
    if facilities.len() != header.facilities {
        return Err(Error::Config(format!(
            "directory bundle truncated: {} of {} facilities",
            facilities.len(),
            header.facilities
        )));
    }
    Ok(facilities)
}

impl Directory {
    /// Loads a bundle into the directory (idempotent: a second load changes nothing).
    pub fn load_bundle(&mut self, bytes: &[u8]) -> Result<ImportReport> {
        let started = Instant::now();
        let facilities = read(bytes)?;
        let mut report = ImportReport::new("bundled national directory");
        report.rows_read = facilities.len() as u64;
        self.write_facilities(&facilities, &mut report)?;
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }

    /// First start: loads the shipped national directory if this file has none yet.
    /// Returns the report when it loaded, None when it was already there.
    pub fn ensure_national_directory(&mut self) -> Result<Option<ImportReport>> {
        let have: i64 =
            self.conn.query_row("SELECT COUNT(*) FROM service WHERE source = ?1", [samhsa::SOURCE], |r| r.get(0))?;
        if have > 0 {
            return Ok(None);
        }
        self.load_bundle(NATIONAL_BUNDLE).map(Some)
    }
}

/// Writes a freshly built bundle to `path` (the maintainer's step when SAMHSA data changes).
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes)?;
    Ok(())
}
