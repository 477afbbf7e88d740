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
                csv.write_record([
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
                ])?;
            }
            csv.flush()?;
        }
    }
    Ok(())
}
