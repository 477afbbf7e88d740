//! `waypoint-server export encounters`: every stored version received since a date, as JSON
//! (one array of whole records) or CSV (one row per version with the fields reports use most,
//! and the full encounter as JSON in the last column).

use std::io::Write;

use crate::store::StoredVersion;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

pub fn write(versions: &[StoredVersion], format: Format, out: impl Write) -> anyhow::Result<()> {
    match format {
        Format::Json => serde_json::to_writer_pretty(out, versions)?,
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
            ])?;
            for v in versions {
                let field = |name: &str| v.body[name].as_str().unwrap_or_default().to_string();
                let row = [
                    v.encounter_id.to_string(),
                    v.version.to_string(),
                    field("officer_id"),
                    v.device_id.clone(),
                    field("occurred_at"),
                    field("submitted_at"),
                    v.received_at.to_rfc3339(),
                    field("incident_number"),
                    v.content_hash.clone(),
                    v.body.to_string(),
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
