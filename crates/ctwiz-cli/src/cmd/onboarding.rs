//! `ctwiz onboarding`: clinics' Applications for Electronic Reporting and their stages
//! (`usecase::onboarding`, the same rules as the web pages).

use super::{db, CliResult, Who};
use crate::output;
use clap::Subcommand;
use ctwiz_core::actor::Channel;
use ctwiz_core::ids::{ClinicPin, Email, Phone};
use ctwiz_core::onboarding::{Application, Method, Stage};
use ctwiz_store::usecase::onboarding;
use std::path::Path;

#[derive(Subcommand)]
pub enum OnboardingCommand {
    /// File a clinic's Application for Electronic Reporting.
    Apply {
        /// The clinic (DPH names it; a clinic user applies for the clinic they act for).
        #[arg(long)]
        clinic: Option<String>,
        /// ehr-hl7 or ui.
        #[arg(long)]
        method: String,
        #[arg(long, default_value = "")]
        vendor: String,
        #[arg(long, default_value = "")]
        product: String,
        /// The technical contact.
        #[arg(long)]
        contact_name: String,
        #[arg(long)]
        contact_email: String,
        #[arg(long)]
        contact_phone: Option<String>,
    },
    /// Every clinic's onboarding stage (DPH).
    List,
    /// One clinic's application, stage, history, next step and QA results.
    Show { clinic: String },
    /// Move a clinic to its next stage (or from the DQA review back to QA, with notes).
    Advance {
        clinic: String,
        /// The stage: connectivity, qa, dqa-review, production, legacy-imported,
        /// training, staff-added, live.
        #[arg(long)]
        to: String,
        #[arg(long, default_value = "")]
        notes: String,
    },
    /// Print the Notice to Patients about reporting (English and Spanish), once live.
    Notice { clinic: String },
}

pub fn run(path: &Path, who: &Who, c: OnboardingCommand) -> CliResult {
    let store = db::open(path)?;
    let actor = who.actor(&store, Channel::Cli)?;
    let now = chrono::Local::now().naive_local();
    match c {
        OnboardingCommand::Apply {
            clinic,
            method,
            vendor,
            product,
            contact_name,
            contact_email,
            contact_phone,
        } => {
            let clinic = clinic.as_deref().map(ClinicPin::new).transpose()?;
            let app = Application::new(
                Method::parse(&method)?,
                &vendor,
                &product,
                &contact_name,
                Email::new(&contact_email)?,
                contact_phone.as_deref().map(Phone::new).transpose()?,
            )?;
            onboarding::apply(&store, &actor, clinic.as_ref(), &app, now)?;
            println!("application filed ({})", app.method.label());
        }
        OnboardingCommand::List => {
            let mut t = output::table(&["Clinic", "Method", "Stage", "Applied", "Next step"]);
            for o in onboarding::list(&store, &actor, now)? {
                t.add_row(vec![
                    o.clinic.to_string(),
                    o.application.method.label().into(),
                    o.stage.label().into(),
                    o.applied_at.date().to_string(),
                    o.stage.next_step().into(),
                ]);
            }
            println!("{t}");
        }
        OnboardingCommand::Show { clinic } => {
            let (o, qa) = onboarding::show(&store, &actor, &ClinicPin::new(&clinic)?, now)?;
            let a = &o.application;
            println!(
                "clinic {} · {} · applied {}",
                o.clinic,
                a.method.label(),
                o.applied_at.date()
            );
            if a.method == Method::EhrHl7 {
                println!("EHR: {} {}", a.ehr_vendor, a.ehr_product);
            }
            println!(
                "technical contact: {} <{}>",
                a.contact_name, a.contact_email
            );
            println!("stage: {}", o.stage.label());
            println!("next step: {}", o.stage.next_step());
            println!(
                "QA messages: {} ({} accepted, {} with errors, {} rejected; error rate {:.1}%)",
                qa.messages,
                qa.accepted,
                qa.with_errors,
                qa.rejected,
                qa.error_rate()
            );
            for (code, n) in &qa.top_errors {
                println!("  error {code}: {n}");
            }
            let mut t = output::table(&["When", "By", "From", "To", "Notes"]);
            for e in &o.history {
                t.add_row(vec![
                    e.at.format("%Y-%m-%d %H:%M").to_string(),
                    e.by.clone(),
                    e.from.map(|s| s.label()).unwrap_or("").into(),
                    e.to.label().into(),
                    e.notes.clone(),
                ]);
            }
            println!("{t}");
        }
        OnboardingCommand::Advance { clinic, to, notes } => {
            let o = onboarding::advance(
                &store,
                &actor,
                &ClinicPin::new(&clinic)?,
                Stage::parse(&to)?,
                &notes,
                now,
            )?;
            println!(
                "{}: {}. Next: {}",
                o.clinic,
                o.stage.label(),
                o.stage.next_step()
            );
        }
        OnboardingCommand::Notice { clinic } => {
            print!(
                "{}",
                onboarding::patient_notice(&store, &actor, &ClinicPin::new(&clinic)?, now)?
            );
        }
    }
    Ok(())
}
