#![allow(dead_code)]

use waypoint_core::keys::KdfParams;
use waypoint_core::{AgencyConfig, Encounter, Waypoint};

pub const PIN: &str = "482913";

/// A set-up, unlocked Waypoint in a fresh folder (cheap key derivation: tests only).
pub fn unlocked(dir: &std::path::Path) -> Waypoint {
    let wp = Waypoint::open_with_kdf(dir, AgencyConfig::demo(), KdfParams::insecure_fast()).unwrap();
    wp.setup("badge-1207", PIN).unwrap();
    wp
}

pub fn reopen(dir: &std::path::Path) -> Waypoint {
    Waypoint::open_with_kdf(dir, AgencyConfig::demo(), KdfParams::insecure_fast()).unwrap()
}

/// Fills every field the demo agency requires.
pub fn complete(mut e: Encounter) -> Encounter {
    e.call.call_type = Some("911".into());
    e.call.nature_of_call = Some("man on bridge railing".into());
    e.crisis_natures = vec!["unknown".into()];
    e.behaviours = vec!["suicide_threat".into(), "hopeless_depressed".into()];
    e.dispositions = vec!["transport_crisis_centre".into()];
    e.diversion.custody_diverted = Some(true);
    e.narrative = "Subject talked down by CIT officer, transported voluntarily.".into();
    e
}
