//! `ctwiz hl7 ...`: the HL7 interface from the command line (process a message as if it
//! had arrived from its facility, batch import, SOAP client, synthetic VXUs, interface
//! status and activity), and `ctwiz bench hl7` (parse throughput).

use super::{db, CliResult};
use crate::output;
use chrono::{Local, NaiveDate, NaiveDateTime};
use ctwiz_core::access::{Grant, Role, Scope, User};
use ctwiz_core::actor::Channel;
use ctwiz_core::codes::CodeSets;
use ctwiz_core::ids::{ClinicPin, Email, Username};
use ctwiz_core::synth::{self, SynthConfig};
use ctwiz_hl7::batch::MessageReader;
use ctwiz_hl7::import::{self, AckFile, AckSink, Tally};
use ctwiz_hl7::interface::{self, soap, CdsiForecaster, Context};
use ctwiz_store::interface::{InterfaceStatus, InterfaceStore};
use ctwiz_store::{OrgStore, UserStore};
use rayon::prelude::*;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Subcommand)]
pub enum Hl7Command {
    /// Process a message (or a batch file) as if it arrived from the facility in MSH-4,
    /// and print each ACK/RSP, one segment per line.
    Process { file: PathBuf },
    /// Import batch files: streamed, committed in batches, resumable and idempotent
    /// (re-importing a file adds nothing).
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Append the ACKs (one message per line group) to this file.
        #[arg(long)]
        acks: Option<PathBuf>,
        /// Messages per transaction.
        #[arg(long, default_value_t = 2000)]
        batch_size: usize,
    },
    /// Send a message to an IIS over SOAP (CDC WSDL) and print the response.
    Send {
        #[arg(long)]
        url: String,
        #[arg(long, default_value = "")]
        username: String,
        #[arg(
            long,
            env = "CTWIZ_SOAP_PASSWORD",
            default_value = "",
            hide_env_values = true
        )]
        password: String,
        /// facilityID; defaults to the message's MSH-4.
        #[arg(long)]
        facility: Option<String>,
        file: PathBuf,
    },
    /// Write VXU^V04 messages for synthetic children to stdout (load tests).
    Synth {
        #[arg(long)]
        children: u64,
        #[arg(long, default_value_t = 20)]
        clinics: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Histories stop at this date (default: today).
        #[arg(long)]
        as_of: Option<NaiveDate>,
        /// Also register the synthetic clinics in the database, so the messages are accepted.
        #[arg(long)]
        register_clinics: bool,
        /// One VXU per visit (the doses of one day), as EHRs report in real time,
        /// instead of one VXU with the whole history per child.
        #[arg(long)]
        per_visit: bool,
    },
    /// Set a clinic's interface status: qa (onboarding: validated, not stored) or production.
    Status {
        #[arg(long)]
        clinic: String,
        status: String,
    },
    /// DQA – Interface Activity: messages per facility and day, and error codes.
    Activity {
        #[arg(long)]
        from: NaiveDate,
        #[arg(long)]
        to: NaiveDate,
    },
}

/// `ctwiz bench hl7`: parse throughput over the messages in FILEs.
#[derive(clap::Args)]
pub struct BenchHl7Args {
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
}

/// `who` (the global `--as`) decides for whom an import submits: messages for a
/// facility where that user may not submit are answered AR; without it the operator
/// acts with state authority.
pub fn run(db: &Path, who: &super::Who, cmd: Hl7Command) -> CliResult {
    match cmd {
        Hl7Command::Process { file } => process(db, who, &file),
        Hl7Command::Import {
            files,
            acks,
            batch_size,
        } => {
            let s = import(db, &files, acks.as_deref(), batch_size, who, true)?;
            s.print();
            Ok(())
        }
        Hl7Command::Send {
            url,
            username,
            password,
            facility,
            file,
        } => send(&url, &username, &password, facility, &file),
        Hl7Command::Synth {
            children,
            clinics,
            seed,
            as_of,
            register_clinics,
            per_visit,
        } => synth_vxus(
            db,
            children,
            clinics,
            seed,
            as_of,
            register_clinics,
            per_visit,
        ),
        Hl7Command::Status { clinic, status } => {
            let store = db::open(db)?;
            let pin = ClinicPin::new(&clinic)?;
            if store.clinic(&pin)?.is_none() {
                return Err(format!("no clinic {pin}; register it with `ctwiz clinic add`").into());
            }
            let st = InterfaceStatus::parse(&status)?;
            store.set_interface_status(&pin, st, Local::now().naive_local())?;
            println!("interface of {pin} is now {}", st.key());
            Ok(())
        }
        Hl7Command::Activity { from, to } => activity(db, from, to),
    }
}

/// `ctwiz bench soap`: latency of single messages over the SOAP service under load.
#[derive(clap::Args)]
pub struct BenchSoapArgs {
    /// VXUs from `ctwiz hl7 synth` (their clinics are registered in a scratch database).
    file: PathBuf,
    /// Concurrent clients.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Send at most this many messages.
    #[arg(long, default_value_t = 5000)]
    limit: usize,
}

/// Starts the SOAP service on a scratch database and a local port, sends the file's
/// messages from concurrent clients (each message one `submitSingleMessage`), and prints
/// messages/s and the latency p50/p90/p99.
pub fn run_bench_soap(args: BenchSoapArgs) -> CliResult {
    let text = std::fs::read_to_string(&args.file)?;
    let mut messages = messages_in(&text)?;
    messages.truncate(args.limit);
    let dir = std::env::temp_dir().join(format!("ctwiz-bench-soap-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("bench.db");
    {
        let store = db::open(&db)?;
        let cfg = SynthConfig {
            children: 0,
            clinics: 50,
            seed: 1,
            as_of: Local::now().date_naive(),
        };
        for c in synth::clinics(&cfg) {
            store.add_clinic(&c)?;
        }
        let mut u = User::new(
            Username::new("bench-ehr")?,
            "Bench EHR",
            Email::new("bench@example.org")?,
        )?;
        u.grants.push(Grant::new(Role::StateAdmin, Scope::State)?);
        store.create_user(
            &u,
            &ctwiz_store::accounts::hash_password("Bench-Pass-1")?,
            false,
        )?;
    }
    let rt = tokio::runtime::Runtime::new()?;
    let service = ctwiz_web::soap::InterfaceService::new(db.clone())?;
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let url = format!("http://{}{}", listener.local_addr()?, ctwiz_web::soap::PATH);
    rt.spawn(ctwiz_web::soap::serve(listener, service));
    let chunk = messages.len().div_ceil(args.clients.max(1)).max(1);
    let start = Instant::now();
    let mut latencies: Vec<f64> = std::thread::scope(|sc| {
        let workers: Vec<_> = messages
            .chunks(chunk)
            .map(|part| {
                let url = url.clone();
                sc.spawn(move || {
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .build()
                        .into();
                    let mut out = Vec::with_capacity(part.len());
                    for m in part {
                        let body = soap::submit_request("bench-ehr", "Bench-Pass-1", "", m);
                        let t = Instant::now();
                        let ok = agent
                            .post(&url)
                            .header("Content-Type", soap::CONTENT_TYPE)
                            .send(body.as_str())
                            .ok()
                            .and_then(|mut r| r.body_mut().read_to_string().ok());
                        if ok.is_some() {
                            out.push(t.elapsed().as_secs_f64() * 1e3);
                        }
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    let secs = start.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    println!(
        "{} messages over SOAP with {} clients: {:.0} messages/s; latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms",
        latencies.len(),
        args.clients,
        latencies.len() as f64 / secs,
        pct(0.50),
        pct(0.90),
        pct(0.99)
    );
    drop(rt);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Prints messages/s and MB/s for ER7 parsing, and for parsing plus the typed
/// VXU/QBP reading and mapping the interface does.
pub fn run_bench_hl7(args: BenchHl7Args) -> CliResult {
    bench_hl7(&args.files, args.seconds)
}

/// The messages of a file (one message or a batch), in order.
fn messages_in(text: &str) -> CliResult<Vec<String>> {
    MessageReader::new(text.as_bytes())
        .map(|m| m.map_err(|e| e.to_string().into()))
        .collect()
}

fn now() -> NaiveDateTime {
    Local::now().naive_local()
}

fn process(db: &Path, who: &super::Who, file: &Path) -> CliResult {
    let store = db::open(db)?;
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let codes = CodeSets::embedded();
    // The CDSi engine is only needed for Z44 queries; loading it takes a moment.
    let forecaster = if text.contains("Z44") {
        Some(CdsiForecaster::bundled()?)
    } else {
        None
    };
    let stamp = now();
    let operator = who.actor(&store, Channel::Cli)?;
    for (i, msg) in messages_in(&text)?.iter().enumerate() {
        let mut ctx = Context::new(
            &codes,
            &operator,
            stamp,
            format!("CLI{}-{}", stamp.format("%Y%m%d%H%M%S"), i + 1),
        );
        ctx.forecaster = forecaster.as_ref().map(|f| f as _);
        let o = interface::process_message(&store, &ctx, msg);
        if i > 0 {
            println!();
        }
        print!("{}", o.response.to_lines());
    }
    Ok(())
}

/// What an import did, over all its files.
#[derive(Debug, Default)]
pub struct ImportSummary {
    pub files: u64,
    pub skipped_files: u64,
    pub tally: Tally,
    pub seconds: f64,
    /// Clinics whose onboarding the import finished (legacy data imported).
    pub onboarded: Vec<ctwiz_core::ids::ClinicPin>,
}

impl ImportSummary {
    fn print(&self) {
        let t = &self.tally;
        let rate = t.messages as f64 / self.seconds.max(1e-9);
        println!(
            "{} file(s) ({} already imported): {} messages in {:.1}s ({rate:.0} messages/s)",
            self.files, self.skipped_files, t.messages, self.seconds
        );
        println!(
            "accepted {} (AA), accepted with errors {} (AE), rejected {} (AR)",
            t.accepted, t.errors, t.rejected
        );
        if !t.reasons.is_empty() {
            let mut table = output::table(&["error (HL7 0357)", "messages"]);
            for (code, n) in &t.reasons {
                table.add_row(vec![format!("{code} {}", hl7_label(code)), n.to_string()]);
            }
            println!("{table}");
        }
        for pin in &self.onboarded {
            println!("clinic {pin}: legacy data imported; its onboarding is complete");
        }
    }
}

fn hl7_label(code: &str) -> &'static str {
    match code {
        "100" => "Segment sequence error",
        "101" => "Required field missing",
        "102" => "Data type error",
        "103" => "Table value not found",
        "200" => "Unsupported message type",
        "201" => "Unsupported event code",
        "202" => "Unsupported processing id",
        "203" => "Unsupported version id",
        "204" => "Unknown key identifier",
        "205" => "Duplicate key identifier",
        "206" => "Application record locked",
        "207" => "Application internal error",
        _ => "",
    }
}

/// Imports files through `ctwiz_hl7::import` (streamed, resumable, idempotent,
/// one ACK per message), with a progress bar per file.
pub fn import(
    db: &Path,
    files: &[PathBuf],
    acks: Option<&Path>,
    batch_size: usize,
    who: &super::Who,
    show_progress: bool,
) -> CliResult<ImportSummary> {
    let store = db::open(db)?;
    let codes = CodeSets::embedded();
    let actor = who.actor(&store, Channel::Batch)?;
    let opts = import::Options {
        codes: &codes,
        actor: &actor,
        batch_size,
    };
    let mut acks_out = match acks {
        Some(p) => Some(AckFile::open(p).map_err(|e| format!("cannot open {}: {e}", p.display()))?),
        None => None,
    };
    let mut summary = ImportSummary::default();
    let start = Instant::now();
    for path in files {
        summary.files += 1;
        let open = || File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()));
        let identity = import::identify(open()?)?;
        let pb = output::progress(identity.len, "bytes");
        if !show_progress {
            pb.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        let input = import::Input {
            identity,
            name: path.display().to_string(),
            reader: open()?,
        };
        let sink = acks_out.as_mut().map(|a| a as &mut dyn AckSink);
        let report = import::import_file(&store, &opts, input, sink, &mut |bytes| {
            pb.set_position(bytes)
        })
        .map_err(|e| format!("{}: {e}", path.display()))?;
        pb.finish_and_clear();
        if report.resent_acks > 0 {
            eprintln!(
                "{}: wrote {} ACK(s) of messages committed before an interruption",
                path.display(),
                report.resent_acks
            );
        }
        if report.already_imported {
            summary.skipped_files += 1;
            eprintln!("{}: already imported; nothing to do", path.display());
        }
        summary.tally.merge(&report.tally);
        summary.onboarded.extend(report.onboarded);
    }
    summary.seconds = start.elapsed().as_secs_f64();
    Ok(summary)
}

fn send(
    url: &str,
    username: &str,
    password: &str,
    facility: Option<String>,
    file: &Path,
) -> CliResult {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    for msg in messages_in(&text)? {
        let facility = match &facility {
            Some(f) => f.clone(),
            None => ctwiz_hl7::er7::parse(&msg)
                .map(|m| m.msh().field(4).component(1).text().into_owned())
                .unwrap_or_default(),
        };
        let body = soap::submit_request(username, password, &facility, &msg);
        let mut resp = agent
            .post(url)
            .header("Content-Type", soap::CONTENT_TYPE)
            .send(body.as_str())
            .map_err(|e| format!("cannot reach {url}: {e}"))?;
        let xml = resp.body_mut().read_to_string()?;
        match soap::parse_response(&xml) {
            Ok(answer) => println!(
                "{}",
                answer.replace("\r\n", "\n").replace('\r', "\n").trim_end()
            ),
            Err(f) => return Err(format!("SOAP fault from {url}: {f}").into()),
        }
    }
    Ok(())
}

fn synth_vxus(
    db: &Path,
    children: u64,
    clinics: u32,
    seed: u64,
    as_of: Option<NaiveDate>,
    register: bool,
    per_visit: bool,
) -> CliResult {
    let cfg = SynthConfig {
        children,
        clinics,
        seed,
        as_of: as_of.unwrap_or_else(|| Local::now().date_naive()),
    };
    let all = synth::clinics(&cfg);
    if register {
        let store = db::open(db)?;
        for c in &all {
            if store.clinic(&c.pin)?.is_none() {
                store.add_clinic(c)?;
            }
        }
    }
    let fallback = all
        .first()
        .map(|c| c.pin.clone())
        .ok_or("no synthetic clinics")?;
    let sent = cfg.as_of.and_hms_opt(12, 0, 0).unwrap_or_default();
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    const CHUNK: u64 = 10_000;
    let mut next = 0;
    while next < children {
        let end = (next + CHUNK).min(children);
        let texts: Vec<String> = (next..end)
            .into_par_iter()
            .map(|i| {
                let c = synth::child(&cfg, i);
                let mut t = String::new();
                let records = std::iter::once((&c.patient, &c.doses, String::new()))
                    .chain(c.duplicate.iter().map(|(p, d)| (p, d, "D".to_string())));
                for (p, doses, suffix) in records {
                    let groups: Vec<&[ctwiz_core::dose::Dose]> = if per_visit {
                        doses.chunk_by(|a, b| a.date == b.date).collect()
                    } else {
                        vec![doses.as_slice()]
                    };
                    for (v, group) in groups.into_iter().enumerate() {
                        let id = format!("SYN{i}{suffix}.{v}");
                        t.push_str(
                            &interface::synth::vxu_for(p, group, &fallback, &id, sent).to_er7(),
                        );
                        t.push('\n');
                    }
                }
                t
            })
            .collect();
        for t in texts {
            out.write_all(t.as_bytes())?;
        }
        next = end;
    }
    out.flush()?;
    Ok(())
}

fn activity(db: &Path, from: NaiveDate, to: NaiveDate) -> CliResult {
    let store = db::open(db)?;
    let mut t = output::table(&[
        "facility",
        "day",
        "received",
        "AA",
        "AE",
        "AR",
        "warnings",
        "late reports",
        "late doses",
        "QA",
    ]);
    for r in store.interface_activity(from, to)? {
        t.add_row(r.cells());
    }
    println!("{t}");
    let mut e = output::table(&[
        "facility", "day", "severity", "HL7 0357", "CDC 0533", "count",
    ]);
    for r in store.interface_error_counts(from, to)? {
        e.add_row(vec![
            r.facility,
            r.day.to_string(),
            r.severity,
            format!("{} {}", r.hl7_code, hl7_label(&r.hl7_code)),
            r.app_code.unwrap_or_default(),
            r.count.to_string(),
        ]);
    }
    println!("{e}");
    Ok(())
}

fn bench_hl7(files: &[PathBuf], seconds: f64) -> CliResult {
    let mut messages = Vec::new();
    for f in files {
        let text =
            std::fs::read_to_string(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        messages.extend(messages_in(&text)?);
    }
    if messages.is_empty() {
        return Err("no messages in the given files".into());
    }
    let bytes: usize = messages.iter().map(String::len).sum();
    println!(
        "{} messages, {:.2} MB per pass",
        messages.len(),
        bytes as f64 / 1e6
    );
    let measure = |label: &str, f: &dyn Fn(&str) -> usize| {
        let start = Instant::now();
        let (mut n, mut b, mut sink) = (0u64, 0u64, 0usize);
        while start.elapsed().as_secs_f64() < seconds {
            for m in &messages {
                sink = sink.wrapping_add(f(m));
                n += 1;
                b += m.len() as u64;
            }
        }
        std::hint::black_box(sink);
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{label}: {:.0} messages/s, {:.1} MB/s",
            n as f64 / secs,
            b as f64 / secs / 1e6
        );
    };
    // ER7 decoding: segments, fields, components, escapes resolved on access.
    measure("parse (er7)", &|m| {
        ctwiz_hl7::er7::parse(m).map_or(0, |msg| {
            msg.segments()
                .iter()
                .map(|s| s.field_count())
                .sum::<usize>()
        })
    });
    // Parse plus the typed reading and mapping to core values (what the interface does).
    let codes = CodeSets::embedded();
    let pin = ClinicPin::new("BENCH").map_err(|e| e.to_string())?;
    measure("parse + typed VXU/QBP", &|m| {
        let Ok(msg) = ctwiz_hl7::er7::parse(m) else {
            return 0;
        };
        if let Ok(v) = ctwiz_hl7::message::vxu::Vxu::from_message(&msg) {
            return v
                .to_core_with(&pin, |n| codes.ndc(n).map(|p| p.cvx.clone()))
                .doses
                .len();
        }
        ctwiz_hl7::message::qbp::Qbp::from_message(&msg).map_or(0, |q| q.issues.len())
    });
    Ok(())
}
