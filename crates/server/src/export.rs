//! `waypoint-server export encounters`: every stored version received since a date, as JSON
//! (one array of whole records) or CSV (one row per version with the fields reports use most,
//! and the full encounter as JSON), with conflicting copies marked rather than hidden: each record
//! says in `copy` whether it is the `sole` copy of its version, the `held` one (the first
//! received, which reviews use) of a version that has conflicting copies, or a `conflict` copy
//! (same id and version, other content), listed right after the copy held.

use std::collections::HashMap;
use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::store::{ConflictRecord, StoredVersion};

/// One exported copy of a version.
#[derive(Debug, Serialize)]
struct ExportRecord<'a> {
    encounter_id: Uuid,
    version: u32,
    content_hash: &'a str,
    device_id: &'a str,
    received_at: DateTime<Utc>,
    body: &'a Value,
    /// `sole`, `held` or `conflict`.
    copy: &'static str,
}

/// The versions in order, each followed by its conflicting copies (those of other versions are
/// left out: they belong to versions not exported).
fn records<'a>(versions: &'a [StoredVersion], conflicts: &'a [ConflictRecord]) -> Vec<ExportRecord<'a>> {
    let mut rivals: HashMap<(Uuid, u32), Vec<&ConflictRecord>> = HashMap::new();
    for c in conflicts {
        rivals.entry((c.encounter_id, c.version)).or_default().push(c);
    }
    let mut out = Vec::with_capacity(versions.len());
    for v in versions {
        let others = rivals.get(&(v.encounter_id, v.version));
        out.push(ExportRecord {
            encounter_id: v.encounter_id,
            version: v.version,
            content_hash: &v.content_hash,
            device_id: &v.device_id,
            received_at: v.received_at,
            body: &v.body,
            copy: if others.is_some() { "held" } else { "sole" },
        });
        for c in others.into_iter().flatten() {
            out.push(ExportRecord {
                encounter_id: c.encounter_id,
                version: c.version,
                content_hash: &c.content_hash,
                device_id: &c.device_id,
                received_at: c.received_at,
                body: &c.body,
                copy: "conflict",
            });
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

pub fn write(
    versions: &[StoredVersion],
    conflicts: &[ConflictRecord],
    format: Format,
    out: impl Write,
) -> anyhow::Result<()> {
    let records = records(versions, conflicts);
    match format {
        Format::Json => serde_json::to_writer_pretty(out, &records)?,
        Format::Csv => {
            let mut csv = csv::Writer::from_writer(out);
            csv.write_record([
                "encounter_id",
                "version",
                "officer_id",
                "device_id",
                "occurred_at",
                "submitted_at",
                "received_at",
                "incident_number",
                "content_hash",
                "encounter_json",
                "copy",
            ])?;
            for v in &records {
                let field = |name: &str| v.body[name].as_str().unwrap_or_default().to_string();
                let row = [
                    v.encounter_id.to_string(),
                    v.version.to_string(),
                    field("officer_id"),
                    v.device_id.to_string(),
                    field("occurred_at"),
                    field("submitted_at"),
                    v.received_at.to_rfc3339(),
                    field("incident_number"),
                    v.content_hash.to_string(),
                    v.body.to_string(),
                    v.copy.to_string(),
                ];
                csv.write_record(row.map(spreadsheet_safe))?;
            }
            csv.flush()?;
        }
    }
    Ok(())
}

/// A cell a spreadsheet would run as a formula (`= + - @`, or a tab or carriage return before
/// one) gets a leading apostrophe, so it opens as text (OWASP's advice on CSV injection). Every
/// cell is treated alike: device-made text reaches the officer_id and incident_number columns.
pub fn spreadsheet_safe(cell: String) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_safe;

    #[test]
    fn formula_cells_open_as_text() {
        for hostile in ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"] {
            assert_eq!(spreadsheet_safe(hostile.to_string()), format!("'{hostile}"), "{hostile:?}");
        }
        for plain in ["badge-1207", "2026-12-01T02:00:00Z", "{\"a\":1}", "", "a=b"] {
            assert_eq!(spreadsheet_safe(plain.to_string()), plain);
        }
    }
}
