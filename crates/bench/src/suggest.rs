//! `suggest`: "top 10 within 25 miles matching this crisis", through the index (an in-memory
//! grid over the R*Tree's rows; the R*Tree queried directly is timed too), beside a full
//! scan of the same rows in the same run; on the real national directory (27k, loaded from the
//! bundle, which also times first start) and on a synthetic one (300k by default) scattered
//! around the real facilities, so density follows where services really are.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use waypoint_directory::bundle::{self, NATIONAL_BUNDLE};
use waypoint_directory::store::LISTED;
use waypoint_directory::*;

#[derive(clap::Args)]
pub struct Args {
    /// Synthetic services to generate.
    #[arg(long, default_value_t = 300_000)]
    services: usize,
    /// Indexed queries per directory.
    #[arg(long, default_value_t = 2000)]
    queries: usize,
    /// Full-scan queries per directory (each also checks the indexed answer is the same).
    #[arg(long, default_value_t = 60)]
    scan_queries: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

struct Figures {
    p50_ms: f64,
    p99_ms: f64,
    rtree_p50_ms: f64,
    rtree_p99_ms: f64,
    scan_p50_ms: f64,
    scan_p99_ms: f64,
    disagreements: usize,
    mean_results: f64,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Crisis profiles the queries rotate through.
fn profiles() -> Vec<SuggestionRequest> {
    let req = |behaviours: &[&str], substances: &[&str], needs: &[&str], age: &str, housing: Option<&str>| {
        SuggestionRequest {
            behaviours: behaviours.iter().map(|s| s.to_string()).collect(),
            substances: substances.iter().map(|s| s.to_string()).collect(),
            needs: needs.iter().map(|s| s.to_string()).collect(),
            age_band: Some(age.to_string()),
            housing_status: housing.map(str::to_string),
            ..Default::default()
        }
    };
    vec![
        req(&["suicide_threat"], &["alcohol"], &[], "25_44", None),
        req(&[], &["opioids"], &["moud", "detox"], "45_64", None),
        req(&["hallucinations"], &[], &[], "18_24", Some("unsheltered")),
        req(&[], &[], &["shelter"], "45_64", Some("unsheltered")),
        req(&["hopeless_depressed"], &[], &[], "13_17", None),
        req(&[], &[], &["crisis_stabilization"], "unknown", None),
        req(&[], &[], &["outpatient"], "25_44", None),
    ]
}

fn measure(
    dir: &Directory,
    points: &[(f64, f64)],
    args: &Args,
    now: DateTime<Utc>,
    label: &str,
) -> anyhow_free::Result<Figures> {
    let profiles = profiles();
    let mut times = Vec::with_capacity(points.len());
    let mut results = 0usize;
    eprintln!("[{label}] {} indexed queries...", points.len());
    for (i, &(lat, lon)) in points.iter().enumerate() {
        let mut req = profiles[i % profiles.len()].clone();
        (req.lat, req.lon) = (lat, lon);
        let t = Instant::now();
        let out = dir.suggest_with(dir.rules(), &req, now, Strategy::Indexed)?;
        times.push(t.elapsed());
        results += out.len();
    }
    times.sort();
    eprintln!("[{label}] the same queries straight on the SQLite R*Tree...");
    let mut rtree_times = Vec::with_capacity(points.len());
    let mut disagreements = 0;
    for (i, &(lat, lon)) in points.iter().enumerate() {
        let mut req = profiles[i % profiles.len()].clone();
        (req.lat, req.lon) = (lat, lon);
        let t = Instant::now();
        let via_rtree = dir.suggest_with(dir.rules(), &req, now, Strategy::RTree)?;
        rtree_times.push(t.elapsed());
        if i % 50 == 0 && via_rtree != dir.suggest_with(dir.rules(), &req, now, Strategy::Indexed)? {
            disagreements += 1;
        }
    }
    rtree_times.sort();
    let scan_n = args.scan_queries.min(points.len()).max(1);
    let step = (points.len() / scan_n).max(1);
    eprintln!("[{label}] {scan_n} full-scan queries (and comparing answers)...");
    let mut scan_times = Vec::with_capacity(scan_n);
    for i in (0..points.len()).step_by(step).take(scan_n) {
        let mut req = profiles[i % profiles.len()].clone();
        (req.lat, req.lon) = points[i];
        let t = Instant::now();
        let scanned = dir.suggest_with(dir.rules(), &req, now, Strategy::FullScan)?;
        scan_times.push(t.elapsed());
        let indexed = dir.suggest_with(dir.rules(), &req, now, Strategy::Indexed)?;
        let ids = |v: &[Suggestion]| v.iter().map(|s| s.service_at_location_id.clone()).collect::<Vec<_>>();
        if ids(&scanned) != ids(&indexed) {
            disagreements += 1;
        }
    }
    scan_times.sort();
    let f = Figures {
        p50_ms: percentile(&times, 0.50),
        p99_ms: percentile(&times, 0.99),
        rtree_p50_ms: percentile(&rtree_times, 0.50),
        rtree_p99_ms: percentile(&rtree_times, 0.99),
        scan_p50_ms: percentile(&scan_times, 0.50),
        scan_p99_ms: percentile(&scan_times, 0.99),
        disagreements,
        mean_results: results as f64 / points.len() as f64,
    };
    eprintln!(
        "[{label}] p50 {:.3} ms, p99 {:.3} ms; R*Tree p50 {:.3} ms, p99 {:.3} ms; scan p50 {:.1} ms, p99 {:.1} ms; {:.1} results/query; {} disagreements",
        f.p50_ms, f.p99_ms, f.rtree_p50_ms, f.rtree_p99_ms, f.scan_p50_ms, f.scan_p99_ms, f.mean_results, f.disagreements
    );
    Ok(f)
}

/// Query points: real facility locations moved up to ~5 miles (where officers are).
fn query_points(rng: &mut StdRng, anchors: &[(f64, f64)], n: usize) -> Vec<(f64, f64)> {
    (0..n)
        .map(|_| {
            let (lat, lon) = anchors[rng.gen_range(0..anchors.len())];
            jitter(rng, lat, lon, 5.0)
        })
        .collect()
}

fn jitter(rng: &mut StdRng, lat: f64, lon: f64, miles: f64) -> (f64, f64) {
    let r = miles * rng.gen::<f64>().sqrt();
    let theta = rng.gen::<f64>() * std::f64::consts::TAU;
    let lat2 = (lat + r * theta.cos() / 69.0).clamp(-89.0, 89.0);
    let lon2 = lon + r * theta.sin() / (69.172 * lat.to_radians().cos().max(0.05));
    (lat2, lon2)
}

fn zone_for(lat: f64, lon: f64) -> &'static str {
    if lat > 51.0 {
        "America/Anchorage"
    } else if lon < -140.0 {
        "Pacific/Honolulu"
    } else if lon > -87.0 {
        "America/New_York"
    } else if lon > -101.0 {
        "America/Chicago"
    } else if lon > -114.5 {
        "America/Denver"
    } else {
        "America/Los_Angeles"
    }
}

/// A synthetic service near a real facility, with types, hours, drop-off and capacity
/// drawn at rates that make crisis services rare and outpatient offices common.
fn synthetic(rng: &mut StdRng, i: usize, anchor: (f64, f64)) -> ServiceRecord {
    const TYPES: &[(&str, f64)] = &[
        ("outpatient", 0.40),
        ("mental_health", 0.35),
        ("substance_use", 0.30),
        ("moud", 0.08),
        ("detox", 0.07),
        ("crisis_stabilization", 0.04),
        ("psychiatric_emergency", 0.02),
        ("hospital", 0.06),
        ("mobile_crisis", 0.02),
        ("crisis_line", 0.02),
        ("shelter", 0.05),
        ("residential", 0.06),
        ("veteran", 0.02),
        ("youth", 0.08),
        ("walk_in", 0.05),
    ];
    let key = i.to_string();
    let id = |kind: &str| stable_id(&["synthetic", kind, &key]);
    let (lat, lon) = jitter(rng, anchor.0, anchor.1, 15.0);
    let mut types: Vec<(String, String)> =
        TYPES.iter().filter(|(_, p)| rng.gen::<f64>() < *p).map(|(t, _)| (t.to_string(), LISTED.to_string())).collect();
    if types.is_empty() {
        types.push(("outpatient".into(), LISTED.into()));
    }
    let crisis = types.iter().any(|(t, _)| {
        matches!(t.as_str(), "crisis_stabilization" | "psychiatric_emergency" | "detox" | "hospital" | "mobile_crisis")
    });
    let service_id = id("service");
    let location_id = id("location");
    let zone = zone_for(lat, lon);
    let schedule = |days: &str, opens: &str, closes: &str, n: usize| Schedule {
        id: stable_id(&["synthetic", "schedule", &key, &n.to_string()]),
        service_id: Some(service_id.clone()),
        timezone: Some(zone.into()),
        freq: Some("WEEKLY".into()),
        byday: Some(days.into()),
        opens_at: Some(opens.into()),
        closes_at: Some(closes.into()),
        ..Default::default()
    };
    let roll = rng.gen::<f64>();
    let schedules = if roll < 0.4 {
        Vec::new() // hours unknown
    } else if crisis && roll < 0.75 {
        vec![schedule("MO,TU,WE,TH,FR,SA,SU", "00:00", "00:00", 0)]
    } else if roll < 0.85 {
        vec![schedule("MO,TU,WE,TH,FR", "08:00", "17:00", 0)]
    } else if roll < 0.93 {
        vec![schedule("MO,TU,WE,TH,FR", "09:00", "19:00", 0), schedule("SA", "10:00", "14:00", 1)]
    } else {
        vec![schedule("MO,TU,WE,TH,FR,SA,SU", "22:00", "06:00", 0)]
    };
    let dropoff = if crisis {
        match rng.gen::<f64>() {
            x if x < 0.6 => Some(true),
            x if x < 0.7 => Some(false),
            _ => None,
        }
    } else {
        (rng.gen::<f64>() < 0.05).then_some(false)
    };
    let capacity =
        (types.iter().any(|(t, _)| matches!(t.as_str(), "detox" | "crisis_stabilization" | "shelter" | "residential"))
            && rng.gen::<f64>() < 0.3)
            .then(|| ServiceCapacity {
                id: id("capacity"),
                service_id: service_id.clone(),
                unit: "beds".into(),
                available: rng.gen_range(0..12),
                maximum: Some(12),
                updated_at: Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap()
                    + chrono::Duration::minutes(rng.gen_range(0..2880)),
            });
    ServiceRecord {
        organization: Organization {
            id: id("organization"),
            name: format!("Synthetic Provider {i}"),
            ..Default::default()
        },
        service: Service {
            id: service_id.clone(),
            organization_id: id("organization"),
            name: format!("Synthetic Service {i}"),
            status: "active".into(),
            law_enforcement_dropoff: dropoff,
            ..Default::default()
        },
        location: Location {
            id: location_id.clone(),
            location_type: "physical".into(),
            latitude: Some(lat),
            longitude: Some(lon),
            timezone: Some(zone.into()),
            ..Default::default()
        },
        address: Some(Address {
            id: id("address"),
            location_id,
            address_1: format!("{} Main Street", i % 9000 + 1),
            city: "Synthville".into(),
            state_province: "ZZ".into(),
            postal_code: "00000".into(),
            country: "US".into(),
            address_type: "physical".into(),
            ..Default::default()
        }),
        phones: vec![Phone {
            id: id("phone"),
            service_id: Some(service_id),
            number: format!("555-{:03}-{:04}", i % 1000, i % 10000),
            kind: Some("voice".into()),
            ..Default::default()
        }],
        schedules,
        types,
        capacity,
    }
}

/// Minimal error plumbing without another dependency.
mod anyhow_free {
    pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;
}

pub fn run(args: Args) -> anyhow_free::Result<Value> {
    let now = Utc.with_ymd_and_hms(2026, 11, 28, 7, 0, 0).unwrap(); // 02:00 in New York
    let mut rng = StdRng::seed_from_u64(args.seed);
    let tmp = tempfile::tempdir()?;

    // First start: open an empty directory file and load the bundled national directory.
    eprintln!("loading the bundled national directory into a fresh file...");
    let started = Instant::now();
    let mut national = Directory::open(&tmp.path().join("national.sqlite"))?;
    let report = national.ensure_national_directory()?.ok_or("bundle was already loaded")?;
    let load_s = started.elapsed().as_secs_f64();
    eprintln!("{} -> load {:.2} s", report.summary().lines().next().unwrap_or(""), load_s);
    let national_services = national.stats()?.services as usize;

    let anchors: Vec<(f64, f64)> = bundle::read(NATIONAL_BUNDLE)?.iter().map(|f| (f.lat, f.lon)).collect();
    let points = query_points(&mut rng, &anchors, args.queries);
    let real = measure(&national, &points, &args, now, "national")?;
    drop(national);

    eprintln!("generating {} synthetic services...", args.services);
    let started = Instant::now();
    let mut synth = Directory::open(&tmp.path().join("synthetic.sqlite"))?;
    let mut batch = Vec::with_capacity(20_000);
    for i in 0..args.services {
        let anchor = anchors[rng.gen_range(0..anchors.len())];
        batch.push(synthetic(&mut rng, i, anchor));
        if batch.len() == 20_000 || i + 1 == args.services {
            synth.put_new_records_unindexed(&batch, "synthetic")?;
            batch.clear();
            eprintln!("  {} / {}", i + 1, args.services);
        }
    }
    synth.rebuild_search_index()?;
    let build_s = started.elapsed().as_secs_f64();
    eprintln!("synthetic directory built in {build_s:.1} s");
    let points = query_points(&mut rng, &anchors, args.queries);
    let big = measure(&synth, &points, &args, now, "synthetic")?;

    Ok(json!({
        "bench": "suggest",
        "services": args.services,
        "p50_ms": round(big.p50_ms),
        "p99_ms": round(big.p99_ms),
        "rtree_p50_ms": round(big.rtree_p50_ms),
        "rtree_p99_ms": round(big.rtree_p99_ms),
        "scan_p50_ms": round(big.scan_p50_ms),
        "scan_p99_ms": round(big.scan_p99_ms),
        "speedup": round(big.scan_p50_ms / big.p50_ms),
        "speedup_p99": round(big.scan_p99_ms / big.p99_ms),
        "load_s": round(load_s),
        "queries": args.queries,
        "scan_queries": args.scan_queries,
        "disagreements": big.disagreements + real.disagreements,
        "mean_results": round(big.mean_results),
        "synthetic_build_s": round(build_s),
        "national": {
            "services": national_services,
            "p50_ms": round(real.p50_ms),
            "p99_ms": round(real.p99_ms),
            "rtree_p50_ms": round(real.rtree_p50_ms),
            "rtree_p99_ms": round(real.rtree_p99_ms),
            "scan_p50_ms": round(real.scan_p50_ms),
            "scan_p99_ms": round(real.scan_p99_ms),
            "speedup": round(real.scan_p50_ms / real.p50_ms),
            "mean_results": round(real.mean_results),
        },
    }))
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
