//! The agency configuration on the server: versioned documents in the store
//! ([`crate::store::AgencyConfigStore`]), the newest delivered to every device through the pull
//! feed. `init` stores the bundled `assets/agency.json` as version 1; a database without any
//! version (made before this, or by a test that skips `init`) gets it on first read.
//!
//! A change is checked by the core's rules ([`AgencyConfig::check`]) and refused while stored
//! reports use a code it takes away ([`codes_in_use`]), unless it maps each such code to a current
//! one. The mapping is kept in the configuration (`renamed_codes`): stored reports are never
//! rewritten, the old code reads with the new code's label.

use std::collections::BTreeMap;

use chrono::Utc;
use waypoint_core::vocab::{self, AgencyConfig};
use waypoint_core::Encounter;
use waypoint_protocol::{AgencyConfigRecord, CodeInUse, CodeMapping, VocabularyCode, MAX_CODE_USES_LISTED};

use crate::store::{SharedStore, StoreError, StoreResult};

/// Who stored the bundled version 1.
pub const INIT_ACTOR: &str = "init";

/// The bundled configuration as version 1.
pub fn bundled_record() -> AgencyConfigRecord {
    let mut config = AgencyConfig::demo();
    config.config_version = 1;
    AgencyConfigRecord {
        version: 1,
        saved_at: Utc::now(),
        saved_by: INIT_ACTOR.into(),
        mapping: BTreeMap::new(),
        note: Some("bundled assets/agency.json".into()),
        config: serde_json::to_value(config).expect("a configuration serializes"),
    }
}

/// Stores the bundled configuration as version 1 when the store has none; `true` when it did.
pub async fn seed(store: &SharedStore) -> StoreResult<bool> {
    store.seed_agency_config(bundled_record()).await
}

/// The newest version and its configuration (seeding version 1 first when there is none).
pub async fn newest(store: &SharedStore) -> StoreResult<(AgencyConfigRecord, AgencyConfig)> {
    let record = match store.newest_agency_config().await? {
        Some(record) => record,
        None => {
            seed(store).await?;
            store
                .newest_agency_config()
                .await?
                .ok_or_else(|| StoreError::Database("the bundled configuration was not stored".into()))?
        }
    };
    let config = AgencyConfig::from_value(record.config.clone())
        .map_err(|e| StoreError::Database(format!("stored configuration version {}: {e}", record.version)))?;
    Ok((record, config))
}

/// Every use, by a stored report version, of one of `codes`: at most [`MAX_CODE_USES_LISTED`]
/// listed, all counted. Reads the reports a page at a time (a text match in the store first,
/// then each candidate's codes exactly, field by field).
pub async fn codes_in_use(store: &SharedStore, codes: &[(String, String)]) -> StoreResult<(Vec<CodeInUse>, u64)> {
    const PAGE: usize = 500;
    let mut needles: Vec<String> = codes.iter().map(|(_, code)| format!("\"{code}\"")).collect();
    needles.sort();
    needles.dedup();
    let mut listed = Vec::new();
    let mut total = 0u64;
    let mut after = None;
    loop {
        let page = store.versions_mentioning(needles.clone(), after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some((last.encounter_id, last.version));
        let full = page.len() == PAGE;
        for candidate in page {
            // A body that is not an encounter was refused at push: none is stored.
            let Ok(encounter) = serde_json::from_str::<Encounter>(&candidate.body) else { continue };
            for used in vocab::uses_of(&encounter, codes) {
                total += 1;
                if listed.len() < MAX_CODE_USES_LISTED {
                    listed.push(CodeInUse {
                        encounter_id: candidate.encounter_id,
                        version: candidate.version,
                        field: used.field,
                        vocabulary: used.vocabulary,
                        code: used.code,
                    });
                }
            }
        }
        if !full {
            break;
        }
    }
    Ok((listed, total))
}

/// The distinct codes of `uses`, sorted.
pub fn distinct_codes(uses: &[CodeInUse]) -> Vec<VocabularyCode> {
    let mut codes: Vec<VocabularyCode> =
        uses.iter().map(|u| VocabularyCode { vocabulary: u.vocabulary.clone(), code: u.code.clone() }).collect();
    codes.sort();
    codes.dedup();
    codes
}

/// The codes a mapping names that the change does not take away (a mapping for a code still
/// offered is refused by the core's check; one for a code never offered is only noise).
pub fn unused_mapping(previous: &AgencyConfig, mapping: &CodeMapping) -> Vec<String> {
    mapping
        .iter()
        .flat_map(|(name, map)| map.keys().map(move |old| (name, old)))
        .filter(|(name, old)| {
            !previous.has_code(name, old)
                && !previous.renamed_codes.get(name.as_str()).is_some_and(|m| m.contains_key(old.as_str()))
        })
        .map(|(name, old)| format!("{name}.{old}"))
        .collect()
}
