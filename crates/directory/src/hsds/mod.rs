//! Open Referral HSDS 3.0: import of a tabular data package (CSV + datapackage.json) and of
//! API-shaped JSON documents (service, organization, location, service_at_location, lists),
//! and export of the directory as HSDS 3.0 service documents.
//!
//! HSDS ids are UUIDs already and are kept, so re-importing finds the same rows; a non-UUID id
//! is replaced by one derived from the source and that id.
//!
//! - `row`: one HSDS row (a CSV record or a flattened JSON object) checked and written; shared
//!   by both importers.
//! - `package`: the tabular data package (datapackage.json + CSVs).
//! - `document`: API-shaped JSON documents, nested objects walked parents first.
//! - `export`: the directory out as HSDS 3.0 service documents.

mod document;
mod export;
mod package;
mod row;

pub(crate) use document::write_hsds_document;

pub const SOURCE: &str = "hsds";

/// The taxonomy-term code that carries `law_enforcement_dropoff` as an attribute ("yes"/"no").
pub const DROPOFF_CODE: &str = "law_enforcement_dropoff";
