//! `ctwiz certificate` and `ctwiz keys`: official immunization certificates (PDF with a
//! SMART Health Card QR code) and the card issuer's keys, through
//! `ctwiz_store::usecase::certificates` (the same generator the web app and portal use).

use super::{db, CliResult, Who};
use chrono::Local;
use ctwiz_core::actor::Channel;
use ctwiz_core::certificate::CertificateKind;
use ctwiz_core::codes::CodeSets;
use ctwiz_core::ids::PatientId;
use ctwiz_store::certificate::shc::IssuerUrl;
use ctwiz_store::usecase::certificates;
use std::path::{Path, PathBuf};

/// The issuer URL when none is configured: the address `ctwiz serve` listens on by default.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

#[derive(clap::Args)]
pub struct CertificateArgs {
    /// The patient's ctwiz id.
    pub patient: i64,
    /// school, childcare, camp, college or travel.
    #[arg(long, value_parser = parse_kind)]
    pub kind: CertificateKind,
    /// Where to write the PDF.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the SMART Health Card file (`.smart-health-card`) here.
    #[arg(long)]
    pub card: Option<PathBuf>,
    /// The registry's public address: the card issuer (`iss`), whose keys verifiers fetch
    /// from URL/.well-known/jwks.json.
    #[arg(long, env = "CTWIZ_PUBLIC_URL", default_value = DEFAULT_PUBLIC_URL)]
    pub public_url: String,
}

fn parse_kind(s: &str) -> Result<CertificateKind, String> {
    CertificateKind::parse(s).map_err(|e| e.to_string())
}

#[derive(clap::Subcommand)]
pub enum KeysCommand {
    /// Make a new SMART Health Card signing key; the old one stays published so the
    /// cards it signed still verify.
    Rotate,
    /// Print the published JWK Set (what /.well-known/jwks.json serves).
    Show,
}

/// Issues the certificate as `who`, writes the PDF (and card) and says what it wrote.
pub fn run(path: &Path, who: &Who, a: CertificateArgs) -> CliResult {
    let store = db::open(path)?;
    let actor = who.actor(&store, Channel::Cli)?;
    let iss = IssuerUrl::new(&a.public_url)?;
    let codes = CodeSets::embedded();
    let issuer = match &who.clinic {
        Some(pin) => format!("clinic {pin}"),
        None => actor.label(),
    };
    let req = certificates::IssueRequest {
        patient: PatientId(a.patient),
        kind: a.kind,
        issuer,
        iss: &iss,
        codes: &codes,
    };
    let issued = certificates::issue(&store, &actor, &req, Local::now().naive_local())?;
    std::fs::write(&a.out, &issued.pdf)
        .map_err(|e| format!("cannot write {}: {e}", a.out.display()))?;
    println!(
        "wrote {} ({}, {} bytes)",
        a.out.display(),
        a.kind.title(),
        issued.pdf.len()
    );
    if let Some(card) = &a.card {
        std::fs::write(card, issued.card_file())
            .map_err(|e| format!("cannot write {}: {e}", card.display()))?;
        println!("wrote {}", card.display());
    }
    Ok(())
}

pub fn keys(path: &Path, who: &Who, c: KeysCommand) -> CliResult {
    let store = db::open(path)?;
    match c {
        KeysCommand::Rotate => {
            let actor = who.actor(&store, Channel::Cli)?;
            let (new, old) = certificates::rotate_keys(&store, &actor, Local::now().naive_local())?;
            println!("signing key: {new}");
            if let Some(old) = old {
                println!("retired (still published): {old}");
            }
        }
        KeysCommand::Show => {
            let jwks = certificates::published_keys(&store)?;
            println!("{}", serde_json::to_string_pretty(&jwks)?);
        }
    }
    Ok(())
}
