//! `ctwiz jurisdictions`: the towns table (town → county, health department or district,
//! IAP area, ZIP codes) the registry places patients and clinics with.

use super::{db, operator, CliResult};
use crate::output;
use clap::Subcommand;
use ctwiz_core::actor::Channel;
use ctwiz_store::usecase::places;
use ctwiz_store::PlaceStore;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum JurisdictionsCommand {
    /// Where the table came from, its size, and the jurisdictions it defines.
    List,
    /// Replace the table with a CSV (town,county,health_department,iap_area,zip_codes,
    /// other_names) and place every patient again; a bad file changes nothing.
    Import { file: PathBuf },
    /// Write the table in use as CSV (the form `import` reads).
    Export {
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

pub fn run(path: &Path, c: JurisdictionsCommand) -> CliResult {
    let store = db::open(path)?;
    match c {
        JurisdictionsCommand::List => {
            let s = places::summary(&store)?;
            println!("source: {} (loaded {})", s.source, s.loaded_at);
            println!(
                "{} towns, {} health departments and districts, {} IAP areas; {} patients placed in a town, {} not (address outside Connecticut or not resolved)",
                s.towns, s.health_departments, s.iap_areas, s.patients_placed, s.patients_unplaced
            );
            let table = store.places()?;
            let mut t = output::table(&["Jurisdiction", "Towns"]);
            for j in places::jurisdictions(&store)? {
                let towns = table.towns_of(&j);
                t.add_row(vec![j.label(), towns.len().to_string()]);
            }
            println!("{t}");
        }
        JurisdictionsCommand::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let now = chrono::Local::now().naive_local();
            let (s, moved) = places::import(
                &store,
                &operator(Channel::Cli),
                &text,
                &file.display().to_string(),
                now,
            )?;
            println!(
                "imported {} towns ({} health departments and districts, {} IAP areas); {} patients changed town",
                s.towns, s.health_departments, s.iap_areas, moved
            );
        }
        JurisdictionsCommand::Export { out } => {
            let csv = store.places()?.to_csv();
            match out {
                Some(p) => std::fs::write(&p, csv)
                    .map_err(|e| format!("cannot write {}: {e}", p.display()))?,
                None => print!("{csv}"),
            }
        }
    }
    Ok(())
}
