//! A real device core on the command line, for tests that need a device beside a browser (the
//! console's review loop): every command opens the data folder, drives the `Waypoint` facade as
//! the field app does, prints one JSON object on stdout and exits (non-zero with
//! `{"error": kind, "message", "field"}` on failure).
//!
//! ```sh
//! D="cargo run -q -p waypoint-core --example device -- --data /tmp/dev1"
//! $D init --officer-id badge-1207 --pin 482913
//! $D enrol --server https://localhost:8443 --code 7KQM-R2XH-P9TB --fingerprint AB:CD:...
//! $D sign-in --username ofc.diaz --password 'a long passphrase'
//! $D file --narrative "talked down from the railing" --force --arrest   # or --json encounter.json
//! $D sync
//! $D show ENCOUNTER_ID                # status, version, the review comment
//! $D amend ENCOUNTER_ID --narrative "taken to St. Mary's"
//! $D policy                          # the device policy of the configuration in use
//! ```
//!
//! The PIN (`--pin`, default 482913) unlocks the store on every command. The store is made with a
//! cheap key derivation (`KdfParams::insecure_fast`): this is a test tool, not the app.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::{json, Value};
use uuid::Uuid;
use waypoint_core::keys::KdfParams;
use waypoint_core::sync::{EnrollDevice, OfficerLogin, RoundOutcome};
use waypoint_core::{AgencyConfig, AppError, Encounter, Error, LocationSource, Referral, ReferralOutcome, Waypoint};

const DEFAULT_PIN: &str = "482913";

/// `--name value` pairs, bare `--flag`s, and the positional words, in order.
struct Args {
    options: HashMap<String, String>,
    flags: Vec<String>,
    words: Vec<String>,
}

impl Args {
    /// Options that take a value; every other `--x` is a flag.
    const VALUED: &'static [&'static str] = &[
        "data",
        "pin",
        "officer-id",
        "config",
        "server",
        "code",
        "fingerprint",
        "username",
        "password",
        "totp",
        "narrative",
        "json",
        "call-type",
        "disposition",
        "lat",
        "lon",
        "address",
        "weapon",
        "referral",
    ];

    fn parse(raw: impl Iterator<Item = String>) -> Result<Args, String> {
        let mut args = Args { options: HashMap::new(), flags: Vec::new(), words: Vec::new() };
        let mut raw = raw.peekable();
        while let Some(word) = raw.next() {
            match word.strip_prefix("--") {
                Some(name) if Self::VALUED.contains(&name) => {
                    let value = raw.next().ok_or_else(|| format!("--{name} needs a value"))?;
                    // Repeatable (dispositions, referrals): joined with a newline.
                    args.options
                        .entry(name.to_string())
                        .and_modify(|v| {
                            v.push('\n');
                            v.push_str(&value)
                        })
                        .or_insert(value);
                }
                Some(name) => args.flags.push(name.to_string()),
                None => args.words.push(word),
            }
        }
        Ok(args)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.options.get(name).map(String::as_str)
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.get(name).map(|v| v.lines().map(str::to_string).collect()).unwrap_or_default()
    }

    fn need(&self, name: &str) -> Result<&str, Error> {
        self.get(name).ok_or_else(|| usage(&format!("--{name} is required")))
    }

    fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }
}

fn usage(message: &str) -> Error {
    Error::validation("arguments", message)
}

fn open(args: &Args) -> Result<Waypoint, Error> {
    let data = PathBuf::from(args.need("data")?);
    let config = match args.get("config") {
        Some(path) => AgencyConfig::load(std::path::Path::new(path))?,
        None => AgencyConfig::demo(),
    };
    Waypoint::open_with_kdf(data, config, KdfParams::insecure_fast())
}

fn unlocked(args: &Args) -> Result<Waypoint, Error> {
    let device = open(args)?;
    device.unlock(args.get("pin").unwrap_or(DEFAULT_PIN))?;
    Ok(device)
}

fn encounter_id(args: &Args) -> Result<Uuid, Error> {
    let text = args.words.get(1).ok_or_else(|| usage("name the encounter id"))?;
    text.parse().map_err(|_| usage(&format!("{text} is not an encounter id")))
}

/// Every field the demo agency requires, then what the command line says.
fn fill(mut e: Encounter, args: &Args) -> Encounter {
    e.call.call_type = Some(args.get("call-type").unwrap_or("911").to_string());
    e.call.nature_of_call.get_or_insert_with(|| "welfare check".into());
    if e.crisis_natures.is_empty() {
        e.crisis_natures = vec!["unknown".into()];
    }
    if e.behaviours.is_empty() {
        e.behaviours = vec!["suicide_threat".into()];
    }
    let mut dispositions = args.all("disposition");
    if args.flag("arrest") {
        dispositions.push("arrested".into());
    }
    if args.flag("emergency-detention") {
        dispositions.push("emergency_detention".into());
    }
    if !dispositions.is_empty() {
        e.dispositions = dispositions;
    } else if e.dispositions.is_empty() {
        e.dispositions = vec!["transport_crisis_centre".into()];
    }
    e.diversion.custody_diverted.get_or_insert(!args.flag("arrest"));
    e.response.reportable_force |= args.flag("force");
    e.response.subject_injured |= args.flag("injury");
    if let Some(weapon) = args.get("weapon") {
        e.risk.weapon = Some(weapon.to_string());
    }
    if let (Some(lat), Some(lon)) = (args.get("lat"), args.get("lon")) {
        e.location.lat = lat.parse().ok();
        e.location.lon = lon.parse().ok();
        e.location.source = LocationSource::Manual;
    }
    if let Some(address) = args.get("address") {
        e.location.address = Some(address.to_string());
    }
    for referral in args.all("referral") {
        // `service_id=Service name`
        let (id, name) = referral.split_once('=').unwrap_or((referral.as_str(), ""));
        e.referrals.push(Referral {
            service_id: id.to_string(),
            service_name: (!name.is_empty()).then(|| name.to_string()),
            outcome: ReferralOutcome::Accepted,
        });
    }
    if let Some(narrative) = args.get("narrative") {
        e.narrative = narrative.to_string();
    }
    e
}

fn summary(e: &Encounter) -> Value {
    json!({"id": e.id, "version": e.version, "status": e.status, "officer_id": e.officer_id})
}

fn run(args: &Args) -> Result<Value, Error> {
    let command = args.words.first().map(String::as_str).unwrap_or("help");
    match command {
        "init" => {
            let device = open(args)?;
            let status = device.setup(args.need("officer-id")?, args.get("pin").unwrap_or(DEFAULT_PIN))?;
            Ok(serde_json::to_value(status)?)
        }
        "enrol" | "enroll" => {
            let device = unlocked(args)?;
            let status = device.enroll_device(EnrollDevice {
                server_url: args.need("server")?.to_string(),
                code: args.need("code")?.to_string(),
                certificate_fingerprint: args.get("fingerprint").map(str::to_string),
            })?;
            Ok(serde_json::to_value(status)?)
        }
        "sign-in" => {
            let device = unlocked(args)?;
            let status = device.officer_login(OfficerLogin {
                username: args.need("username")?.to_string(),
                password: args.need("password")?.to_string(),
                totp: args.get("totp").map(str::to_string),
            })?;
            Ok(serde_json::to_value(status)?)
        }
        "file" => {
            let device = unlocked(args)?;
            let draft = device.new_encounter()?;
            let draft = match args.get("json") {
                // The draft's identity (id, version, device, officer) stays the device's own.
                Some(path) => {
                    let mut fields: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
                    let mut base = serde_json::to_value(&draft)?;
                    if let (Some(base), Some(fields)) = (base.as_object_mut(), fields.as_object_mut()) {
                        for key in ["id", "version", "supersedes", "status", "device_id", "officer_id", "review"] {
                            fields.remove(key);
                        }
                        // One level deep: `{"response": {"reportable_force": true}}` sets that field only.
                        for (key, value) in std::mem::take(fields) {
                            match (base.get_mut(&key), value) {
                                (Some(Value::Object(inner)), Value::Object(set)) => inner.extend(set),
                                (_, value) => {
                                    base.insert(key, value);
                                }
                            }
                        }
                    }
                    serde_json::from_value(base)?
                }
                None => fill(draft, args),
            };
            Ok(summary(&device.submit(draft)?))
        }
        "sync" => {
            let device = unlocked(args)?;
            let outcome = device.sync_round();
            let status = device.sync_status()?;
            match outcome {
                RoundOutcome::Failed(error) => Err(Error::InvalidState(format!("sync failed: {error}"))),
                RoundOutcome::Idle => Err(usage("not enrolled: nothing to sync")),
                RoundOutcome::Synced(report) => Ok(json!({"report": report, "status": status})),
            }
        }
        "show" => {
            let device = unlocked(args)?;
            let detail = device.get(encounter_id(args)?)?;
            let current = &detail.current;
            // The decision on the newest version that has one (an amendment in draft has none).
            let reviewed = detail.versions.iter().rev().find_map(|v| v.review.as_ref());
            Ok(json!({
                "id": current.id,
                "version": current.version,
                "status": current.status,
                "review_comment": reviewed.and_then(|r| r.comment.clone()),
                "reviewer": reviewed.and_then(|r| r.reviewer.clone()),
                "versions": detail.versions,
            }))
        }
        "amend" => {
            let device = unlocked(args)?;
            let draft = device.amend(encounter_id(args)?)?;
            let mut draft = draft;
            if let Some(narrative) = args.get("narrative") {
                draft.narrative = narrative.to_string();
            }
            if args.flag("arrest") && !draft.dispositions.iter().any(|d| d == "arrested") {
                draft.dispositions.push("arrested".into());
            }
            Ok(summary(&device.submit(draft)?))
        }
        "status" => {
            let device = unlocked(args)?;
            Ok(serde_json::to_value(device.sync_status()?)?)
        }
        "policy" => {
            let device = unlocked(args)?;
            Ok(serde_json::to_value(device.config().device_policy)?)
        }
        _ => Err(usage(
            "commands: init, enrol, sign-in, file, sync, show ID, amend ID, status, policy (see the file's header)",
        )),
    }
}

fn main() {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            println!("{}", json!({"error": "validation", "message": message}));
            std::process::exit(2);
        }
    };
    match run(&args) {
        Ok(value) => println!("{value}"),
        Err(error) => {
            let error = AppError::from(error);
            println!("{}", json!({"error": error.kind, "message": error.message, "field": error.field}));
            std::process::exit(1);
        }
    }
}
