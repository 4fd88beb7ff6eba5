use super::{db, CliResult};
use crate::output;
use ctwiz_core::ids::{ClinicPin, Phone};
use ctwiz_core::org::{Clinic, County, ProgramType};
use ctwiz_store::OrgStore;
use std::path::Path;

#[derive(clap::Subcommand)]
pub enum ClinicCommand {
    /// Register a clinic.
    Add {
        #[arg(long)]
        pin: String,
        #[arg(long)]
        name: String,
        /// Connecticut county (decides the health-department jurisdiction).
        #[arg(long, default_value = "Hartford")]
        county: String,
        /// Enrolled in the state's public vaccine program (default).
        #[arg(long, conflicts_with = "private")]
        cvp: bool,
        /// Private stock only; does not order public vaccine.
        #[arg(long)]
        private: bool,
        #[arg(long)]
        phone: Option<String>,
    },
    /// List clinics.
    List,
}

pub fn run(path: &Path, c: ClinicCommand) -> CliResult {
    let store = db::open(path)?;
    match c {
        ClinicCommand::Add {
            pin,
            name,
            county,
            cvp: _,
            private,
            phone,
        } => {
            let program = if private {
                ProgramType::PrivateOnly
            } else {
                ProgramType::Cvp
            };
            let mut clinic = Clinic::new(
                ClinicPin::new(&pin)?,
                &name,
                County::parse(&county)?,
                program,
            )?;
            clinic.phone = phone.as_deref().map(Phone::new).transpose()?;
            store.add_clinic(&clinic)?;
            println!(
                "added clinic {} {} ({}, {})",
                clinic.pin,
                clinic.name,
                clinic.county,
                program_label(program)
            );
        }
        ClinicCommand::List => {
            let mut t = output::table(&["PIN", "Name", "County", "Program", "Phone"]);
            for c in store.clinics()? {
                t.add_row(vec![
                    c.pin.to_string(),
                    c.name.clone(),
                    c.county.to_string(),
                    program_label(c.program).to_string(),
                    c.phone.map(|p| p.formatted()).unwrap_or_default(),
                ]);
            }
            println!("{t}");
        }
    }
    Ok(())
}

fn program_label(p: ProgramType) -> &'static str {
    match p {
        ProgramType::Cvp => "CVP",
        ProgramType::PrivateOnly => "private only",
    }
}
