//! `ctwiz bench ...`: throughput figures printed by the product itself (not unit tests).

use super::CliResult;

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Patient forecasts per second over a synthetic population (full histories, ages 0–18).
    Forecast(super::forecast::BenchForecastArgs),
}

pub fn run(c: BenchCommand) -> CliResult {
    match c {
        BenchCommand::Forecast(a) => super::forecast::run_bench_forecast(a),
    }
}
