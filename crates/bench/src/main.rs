//! Waypoint benchmarks. Each prints progress on stderr and, as the last line on stdout, one JSON
//! object with its figures: `{"bench":"NAME", ...}`.

use clap::{Parser, Subcommand};

mod save;
mod startup;
mod stats;

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
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.bench {
        Bench::Save(args) => save::run(args),
        Bench::Startup(args) => startup::run(args),
    };
    match result {
        Ok(figures) => println!("{figures}"),
        Err(error) => {
            eprintln!("benchmark failed: {error}");
            std::process::exit(1);
        }
    }
}
