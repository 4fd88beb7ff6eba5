use super::{db, CliResult};
use crate::output;
use ctwiz_core::agreement::Program;
use ctwiz_core::ids::{ClinicPin, Phone};
use ctwiz_core::org::{Clinic, County, ProgramType};
use ctwiz_store::usecase::agreements;
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
        /// Enrolled in CVP, the state's childhood vaccine program (the default).
        #[arg(long, conflicts_with_all = ["private", "program"])]
        cvp: bool,
        /// Private stock only; does not order public vaccine.
        #[arg(long, conflicts_with = "program")]
        private: bool,
        /// The public programs the clinic is enrolled in: cvp, cvfa, cvp,cvfa or private.
        #[arg(long)]
        program: Option<String>,
        #[arg(long)]
        phone: Option<String>,
    },
    /// List clinics.
    List,
    /// Sign the clinic's CVP or CVFA program agreement (the signing physician, with --as;
    /// the current text is printed first). Public orders need a current agreement.
    SignAgreement {
        #[arg(long)]
        clinic: String,
        /// cvp (childhood) or cvfa (adults).
        #[arg(long)]
        program: String,
        /// The signer's first and last name, typed as the signature.
        #[arg(long)]
        typed_name: String,
        /// Agree to every term of the agreement.
        #[arg(long)]
        agree: bool,
    },
    /// Clinics of the public program without a current agreement (they may not order).
    Agreements,
    /// Set a clinic's enrollment in the public programs (state, with --as): cvp, cvfa,
    /// cvp,cvfa or private. Leaving a program needs its stock and open orders settled.
    Enroll {
        #[arg(long)]
        clinic: String,
        #[arg(long)]
        program: String,
    },
}

pub fn run(path: &Path, who: &super::Who, c: ClinicCommand) -> CliResult {
    let store = db::open(path)?;
    let now = chrono::Local::now().naive_local();
    match c {
        ClinicCommand::SignAgreement {
            clinic,
            program,
            typed_name,
            agree,
        } => {
            let actor = who.actor(&store, ctwiz_core::actor::Channel::Cli)?;
            let text = Program::parse(&program)?.current();
            println!("{} ({})", text.title, text.version);
            for t in text.terms {
                println!("- {t}");
            }
            let s = agreements::sign(
                &store,
                &actor,
                &ClinicPin::new(&clinic)?,
                &program,
                &typed_name,
                agree,
                now,
            )?;
            println!(
                "signed {} for clinic {} by {} on {}; current through {}",
                s.version,
                s.clinic,
                s.typed_name,
                s.signed_at.date(),
                s.valid_through()
            );
        }
        ClinicCommand::Agreements => {
            let actor = who.actor(&store, ctwiz_core::actor::Channel::Cli)?;
            let mut t = output::table(&["PIN", "Name", "CVP", "CVFA"]);
            for st in agreements::flagged(&store, &actor, now)? {
                let cell = |p: Program| {
                    if !st.clinic.program.enrolled(p) {
                        return "not enrolled".into();
                    }
                    if st
                        .programs
                        .iter()
                        .any(|(q, _, current)| *q == p && *current)
                    {
                        return "current".into();
                    }
                    st.programs
                        .iter()
                        .find(|(q, ..)| *q == p)
                        .and_then(|(_, s, _)| s.as_ref())
                        .map(|s| {
                            format!("{} signed {}, not current", s.version, s.signed_at.date())
                        })
                        .unwrap_or_else(|| "never signed".into())
                };
                t.add_row(vec![
                    st.clinic.pin.to_string(),
                    st.clinic.name.clone(),
                    cell(Program::Cvp),
                    cell(Program::Cvfa),
                ]);
            }
            println!("{t}");
        }
        ClinicCommand::Add {
            pin,
            name,
            county,
            cvp: _,
            private,
            program,
            phone,
        } => {
            let program = match (private, program) {
                (true, _) => ProgramType::PrivateOnly,
                (false, Some(p)) => ProgramType::parse(&p)?,
                (false, None) => ProgramType::Cvp,
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
                program.short()
            );
        }
        ClinicCommand::Enroll { clinic, program } => {
            let actor = who.actor(&store, ctwiz_core::actor::Channel::Cli)?;
            let c = ctwiz_store::usecase::clinic_info::enroll(
                &store,
                &actor,
                &ClinicPin::new(&clinic)?,
                ProgramType::parse(&program)?,
                now,
            )?;
            println!("clinic {} is enrolled in: {}", c.pin, c.program.short());
        }
        ClinicCommand::List => {
            let mut t = output::table(&["PIN", "Name", "County", "Program", "Phone"]);
            for c in store.clinics()? {
                t.add_row(vec![
                    c.pin.to_string(),
                    c.name.clone(),
                    c.county.to_string(),
                    c.program.short().to_string(),
                    c.phone.map(|p| p.formatted()).unwrap_or_default(),
                ]);
            }
            println!("{t}");
        }
    }
    Ok(())
}
