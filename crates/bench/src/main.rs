//! Waypoint benchmarks. Each prints progress on stderr and, as the last line on stdout, one JSON
//! object with its figures: `{"bench":"NAME", ...}`.

use clap::{Parser, Subcommand};

mod console;
mod load;
mod net;
mod outcomes;
mod review;
mod save;
mod startup;
mod stats;
mod suggest;
mod sync;

#[derive(Parser)]
#[command(about = "Waypoint benchmarks")]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// Encounter save latency through the encrypted core vs a plain SQLite insert.
    Save(save::Args),
    /// Cold start to first paint of the app vs a bare Tauri window (needs the built binaries and X/Xvfb).
    Startup(startup::Args),
    /// Service suggestions: top 10 within 25 miles matching a crisis, index vs full scan.
    Suggest(suggest::Args),
    /// Push 10,000 encounters and pull 30,000 directory records over loopback HTTP, each also cut and resumed.
    Sync(sync::Args),
    /// 1,000 devices pushing 10 encounters each at once, on SQLite and PostgreSQL.
    Load(load::Args),
    /// 1,000,000 encounters; 50 supervisors paging the review queue and opening reports, on SQLite and PostgreSQL.
    Review(review::Args),
    /// 1,000,000 reports through the history import; the dashboard's figures for a year and all time vs a full scan.
    Outcomes(outcomes::Args),
    /// The console in headless Chromium: time to an interactive review queue (first, warm) vs a blank page; JS+CSS gzip.
    Console(console::Args),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.bench {
        Bench::Save(args) => save::run(args),
        Bench::Startup(args) => startup::run(args),
        Bench::Suggest(args) => suggest::run(args).map_err(|e| e.to_string()),
        Bench::Sync(args) => sync::run(args),
        Bench::Load(args) => load::run(args),
        Bench::Review(args) => review::run(args),
        Bench::Console(args) => console::run(args),
        Bench::Outcomes(args) => outcomes::run(args),
    };
    match result {
        Ok(figures) => println!("{figures}"),
        Err(error) => {
            eprintln!("benchmark failed: {error}");
            std::process::exit(1);
        }
    }
}
