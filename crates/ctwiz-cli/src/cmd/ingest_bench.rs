//! `ctwiz bench ingest`: VXU batch-import throughput on two feeds, each into a scratch
//! database through the real import path (`ctwiz hl7 import`): a realistic feed of
//! distinct children (synthetic histories, their usual duplicates included), and a
//! look-alike feed (children sharing birth date, given name, address and phone, family
//! names differing only in digits: the worst case for matching).

use super::{db, CliResult, Who};
use chrono::NaiveDate;
use ctwiz_core::patient::Mrn;
use ctwiz_core::synth::{self, SynthConfig};
use ctwiz_hl7::interface::synth::vxu_for;
use ctwiz_store::{OrgStore, PatientStore};
use std::io::{BufWriter, Write};
use std::path::Path;

#[derive(clap::Args)]
pub struct BenchIngestArgs {
    /// Children in the realistic feed.
    #[arg(long, default_value_t = 20_000)]
    pub children: u64,
    /// Children in the look-alike feed.
    #[arg(long, default_value_t = 1_000)]
    pub look_alikes: u64,
    /// Messages per committed batch.
    #[arg(long, default_value_t = 500)]
    pub batch_size: usize,
}

pub fn run(a: BenchIngestArgs) -> CliResult {
    let dir = std::env::temp_dir().join(format!("ctwiz-bench-ingest-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = measure(&a, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn measure(a: &BenchIngestArgs, dir: &Path) -> CliResult {
    let cfg = SynthConfig {
        children: a.children,
        clinics: 20,
        seed: 11,
        as_of: NaiveDate::from_ymd_opt(2026, 11, 1).ok_or("date")?,
    };
    let realistic = feed(dir, "realistic", &cfg, |out, sent, fallback| {
        for i in 0..cfg.children {
            let c = synth::child(&cfg, i);
            writeln!(
                out,
                "{}",
                vxu_for(&c.patient, &c.doses, fallback, &format!("R{i}"), sent).to_er7()
            )?;
            if let Some((p, d)) = &c.duplicate {
                writeln!(
                    out,
                    "{}",
                    vxu_for(p, d, fallback, &format!("R{i}D"), sent).to_er7()
                )?;
            }
        }
        Ok(())
    })?;
    let look = SynthConfig { children: 1, ..cfg };
    let look_alike = feed(dir, "look-alike", &look, |out, sent, fallback| {
        let template = synth::child(&look, 0);
        for k in 0..a.look_alikes {
            let mut p = template.patient.clone();
            p.name.family = format!("{}{k}", template.patient.name.family);
            p.mrns = vec![Mrn::new(
                template.patient.mrns[0].clinic.clone(),
                &format!("LA{k}"),
            )?];
            writeln!(
                out,
                "{}",
                vxu_for(&p, &template.doses, fallback, &format!("L{k}"), sent).to_er7()
            )?;
        }
        Ok(())
    })?;
    println!("feed          messages  seconds  messages/s  records  open reviews");
    for (name, (db_path, file)) in [("realistic", realistic), ("look-alike", look_alike)] {
        let s = super::hl7::import(
            &db_path,
            &[file],
            None,
            a.batch_size,
            &Who::default(),
            false,
        )?;
        let store = db::open(&db_path)?;
        let reviews = ctwiz_store::dedup::DedupStore::dedup_queue(&store, 1, 0)?.total;
        println!(
            "{name:<12} {:>9} {:>8.2} {:>11.0} {:>8} {:>13}",
            s.tally.messages,
            s.seconds,
            s.tally.messages as f64 / s.seconds.max(1e-9),
            store.patient_count()?,
            reviews
        );
    }
    Ok(())
}

type Writer = BufWriter<std::fs::File>;

/// A scratch database with the feed's clinics, and the feed written by `write`.
fn feed(
    dir: &Path,
    name: &str,
    cfg: &SynthConfig,
    write: impl FnOnce(&mut Writer, chrono::NaiveDateTime, &ctwiz_core::ids::ClinicPin) -> CliResult,
) -> CliResult<(std::path::PathBuf, std::path::PathBuf)> {
    let db_path = dir.join(format!("{name}.db"));
    let store = db::open(&db_path)?;
    let clinics = synth::clinics(cfg);
    for c in &clinics {
        store.add_clinic(c)?;
    }
    let file = dir.join(format!("{name}.hl7"));
    let mut out = BufWriter::new(std::fs::File::create(&file)?);
    let sent = cfg.as_of.and_hms_opt(12, 0, 0).ok_or("time")?;
    write(&mut out, sent, &clinics[0].pin)?;
    out.flush()?;
    Ok((db_path, file))
}
