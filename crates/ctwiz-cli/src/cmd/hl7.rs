//! `ctwiz hl7 ...`: the HL7 interface from the command line (process a message as if it
//! had arrived from its facility, batch import, SOAP client, synthetic VXUs, interface
//! status and activity), and `ctwiz bench hl7` (parse throughput).

use super::{db, CliResult};
use crate::output;
use chrono::{Local, NaiveDate, NaiveDateTime};
use ctwiz_core::actor::Channel;
use ctwiz_core::codes::CodeSets;
use ctwiz_core::ids::ClinicPin;
use ctwiz_core::synth::{self, SynthConfig};
use ctwiz_hl7::batch::MessageReader;
use ctwiz_hl7::interface::{self, soap, CdsiForecaster, Context, Outcome};
use ctwiz_store::interface::{AckResult, ImportProgress, InterfaceStatus, InterfaceStore};
use ctwiz_store::OrgStore;
use rayon::prelude::*;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
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

pub fn run(db: &Path, cmd: Hl7Command) -> CliResult {
    match cmd {
        Hl7Command::Process { file } => process(db, &file),
        Hl7Command::Import {
            files,
            acks,
            batch_size,
        } => {
            let s = import(db, &files, acks.as_deref(), batch_size.max(1), true)?;
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
    use ctwiz_core::access::{Grant, Role, Scope, User};
    use ctwiz_core::ids::{Email, Username};
    use ctwiz_store::UserStore;
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

fn process(db: &Path, file: &Path) -> CliResult {
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
    let operator = super::operator(Channel::Cli);
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

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportSummary {
    pub files: u64,
    pub skipped_files: u64,
    pub messages: u64,
    pub accepted: u64,
    pub errors: u64,
    pub rejected: u64,
    /// Error-severity ERR codes (HL7 table 0357) → messages.
    pub reasons: BTreeMap<String, u64>,
    pub seconds: f64,
}

impl ImportSummary {
    fn add(&mut self, o: &Outcome) {
        self.messages += 1;
        match o.result {
            AckResult::Accepted => self.accepted += 1,
            AckResult::Error => self.errors += 1,
            AckResult::Rejected => self.rejected += 1,
        }
        let mut seen = Vec::new();
        for e in o.log.errors.iter().filter(|e| e.severity == "E") {
            let label = format!("{} {}", e.hl7_code, hl7_label(&e.hl7_code));
            if !seen.contains(&label) {
                *self.reasons.entry(label.clone()).or_default() += 1;
                seen.push(label);
            }
        }
    }

    fn print(&self) {
        let rate = self.messages as f64 / self.seconds.max(1e-9);
        println!(
            "{} file(s) ({} already imported): {} messages in {:.1}s ({rate:.0} messages/s)",
            self.files, self.skipped_files, self.messages, self.seconds
        );
        println!(
            "accepted {} (AA), accepted with errors {} (AE), rejected {} (AR)",
            self.accepted, self.errors, self.rejected
        );
        if !self.reasons.is_empty() {
            let mut t = output::table(&["error (HL7 0357)", "messages"]);
            for (k, n) in &self.reasons {
                t.add_row(vec![k.clone(), n.to_string()]);
            }
            println!("{t}");
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

/// A stable content hash (FNV-1a, 64 bits) and the length: the file's identity for
/// resuming, independent of its name.
fn file_identity(path: &Path) -> CliResult<(String, u64)> {
    let mut r = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut len = 0u64;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        for &b in buf {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        let n = buf.len();
        len += n as u64;
        r.consume(n);
    }
    Ok((format!("fnv1a64:{h:016x}:{len}"), len))
}

/// Counts the bytes read, for the progress bar.
struct Counting<R> {
    inner: R,
    read: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

/// Imports files message by message in transactions of `batch_size` messages. Each
/// transaction also records how many messages of the file are done, so a killed
/// import resumes after the last committed message and a finished file is skipped.
/// ACKs are written only after their transaction committed. With an ACK file, each
/// transaction also keeps its ACKs in the store until they are written, so a run
/// killed between commit and writing re-emits them when it is resumed: the sender gets
/// exactly one ACK per message.
pub fn import(
    db: &Path,
    files: &[PathBuf],
    acks: Option<&Path>,
    batch_size: usize,
    show_progress: bool,
) -> CliResult<ImportSummary> {
    let store = db::open(db)?;
    let codes = CodeSets::embedded();
    let mut acks_out = match acks {
        Some(p) => Some(AckFile::open(p)?),
        None => None,
    };
    let mut summary = ImportSummary::default();
    let start = Instant::now();
    for path in files {
        summary.files += 1;
        let (hash, size) = file_identity(path)?;
        if let Some(w) = acks_out.as_mut() {
            let resent = w.resend_pending(&store, &hash)?;
            if resent > 0 {
                eprintln!(
                    "{}: wrote {resent} ACK(s) of messages committed before an interruption",
                    path.display()
                );
            }
        }
        let done = store.import_progress(&hash)?;
        if done.as_ref().is_some_and(|p| p.complete) {
            summary.skipped_files += 1;
            eprintln!("{}: already imported; nothing to do", path.display());
            continue;
        }
        let skip = done.map_or(0, |p| p.messages_done);
        let read = Rc::new(Cell::new(0));
        let input = Counting {
            inner: File::open(path)?,
            read: read.clone(),
        };
        let mut reader = MessageReader::new(BufReader::with_capacity(1 << 20, input));
        let pb = output::progress(size, "bytes");
        if !show_progress {
            pb.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        let mut index = 0u64;
        let id_prefix = hash[8..20].to_string();
        // Two stages: while the store applies batch k (one transaction), a worker
        // thread reads and validates batch k+1 in parallel (interface::prepare).
        let mut current: Option<PreparedBatch> = None;
        let mut eof = false;
        loop {
            if eof && current.is_none() {
                break;
            }
            let (texts, next_eof) = if eof {
                (Vec::new(), true)
            } else {
                read_batch(&mut reader, &mut index, skip, batch_size)
                    .map_err(|e| format!("{}: {e}", path.display()))?
            };
            let next = PreparedBatch {
                received: now(),
                items: Vec::new(),
                progress: ImportProgress {
                    file_hash: hash.clone(),
                    path: path.display().to_string(),
                    messages_done: index,
                    complete: next_eof,
                },
            };
            let codes = &codes;
            let (prepared, applied) = std::thread::scope(|sc| {
                let worker = sc.spawn(move || {
                    texts
                        .par_iter()
                        .map(|(i, t)| (*i, interface::prepare(codes, next.received, t)))
                        .collect::<Vec<_>>()
                });
                let keep_acks = acks_out.is_some();
                let applied = current
                    .take()
                    .map(|b| apply_batch(&store, codes, b, &id_prefix, keep_acks));
                (worker.join(), applied)
            });
            let prepared = prepared.map_err(|_| "a message-reading thread panicked")?;
            if let Some(outcomes) = applied {
                // Committed: only now may the acknowledgements go out.
                let (outcomes, acks) = outcomes?;
                if let Some(w) = acks_out.as_mut() {
                    w.append(acks.iter().map(|(_, a)| a.as_str()))?;
                    if let Some((last, _)) = acks.last() {
                        store.clear_pending_acks(&hash, *last)?;
                    }
                }
                for o in &outcomes {
                    summary.add(o);
                }
                pb.set_position(read.get());
            }
            if !eof {
                current = Some(PreparedBatch {
                    items: prepared,
                    ..next
                });
            }
            eof = next_eof;
        }
        pb.finish_and_clear();
    }
    summary.seconds = start.elapsed().as_secs_f64();
    Ok(summary)
}

/// Messages of a batch, read and validated, waiting for the store.
struct PreparedBatch {
    received: NaiveDateTime,
    items: Vec<(u64, interface::Prepared)>,
    /// Recorded in the batch's transaction.
    progress: ImportProgress,
}

/// The next `batch_size` messages after the first `skip` of the file; `true` at the end.
fn read_batch<R: BufRead>(
    reader: &mut MessageReader<R>,
    index: &mut u64,
    skip: u64,
    batch_size: usize,
) -> CliResult<(Vec<(u64, String)>, bool)> {
    let mut out = Vec::with_capacity(batch_size);
    while out.len() < batch_size {
        match reader.next() {
            None => return Ok((out, true)),
            Some(Ok(text)) => {
                *index += 1;
                if *index > skip {
                    out.push((*index, text));
                }
            }
            Some(Err(e)) => return Err(e.to_string().into()),
        }
    }
    Ok((out, false))
}

/// Messages' indexes in their file, each with its serialized ACK.
type IndexedAcks = Vec<(u64, String)>;

/// Stores one batch in one transaction, with the file's progress and (`keep_acks`) its
/// ACKs until they are written. Returns the outcomes and (`keep_acks`) each message's
/// index in the file with its ACK, serialized once for the store and the ACK file.
fn apply_batch(
    store: &ctwiz_store::SqliteStore,
    codes: &CodeSets,
    batch: PreparedBatch,
    id_prefix: &str,
    keep_acks: bool,
) -> CliResult<(Vec<Outcome>, IndexedAcks)> {
    let PreparedBatch {
        received,
        items,
        progress,
    } = batch;
    let operator = super::operator(Channel::Batch);
    Ok(store.atomically(|s| {
        let mut out = Vec::with_capacity(items.len());
        let mut acks = Vec::with_capacity(if keep_acks { items.len() } else { 0 });
        for (i, p) in items {
            let ctx = Context::new(codes, &operator, received, format!("{id_prefix}-{i}"));
            let outcome = interface::process_prepared(s, &ctx, p);
            if keep_acks {
                acks.push((i, outcome.response.to_er7()));
            }
            out.push(outcome);
        }
        if keep_acks {
            s.record_pending_acks(&progress.file_hash, &acks)?;
        }
        s.record_import_progress(&progress)?;
        Ok((out, acks))
    })?)
}

/// The ACK file of an import: one ACK per line (segments separated by CR), appended a
/// batch at a time with one write and synced before the store forgets those ACKs.
struct AckFile {
    path: PathBuf,
    file: File,
}

impl AckFile {
    fn open(path: &Path) -> CliResult<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(AckFile {
            path: path.to_path_buf(),
            file,
        })
    }

    fn append<'a>(&mut self, acks: impl IntoIterator<Item = &'a str>) -> CliResult {
        let mut buf = String::new();
        for a in acks {
            buf.push_str(a);
            buf.push('\n');
        }
        self.file.write_all(buf.as_bytes())?;
        self.file.sync_data()?;
        Ok(())
    }

    /// Writes the ACKs a killed run committed but may not have written, skipping any
    /// already in the file (the run may have died after writing, before the store
    /// forgot them), and forgets them. Returns how many were written.
    fn resend_pending(
        &mut self,
        store: &ctwiz_store::SqliteStore,
        file_hash: &str,
    ) -> CliResult<usize> {
        let pending = store.pending_acks(file_hash)?;
        let Some(&(last, _)) = pending.last() else {
            return Ok(0);
        };
        let bytes = std::fs::read(&self.path)?;
        // Only complete lines count; an ACK cut off by the kill is removed (it is
        // written again whole below).
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        if complete < bytes.len() {
            self.file.set_len(complete as u64)?;
        }
        let text = String::from_utf8_lossy(&bytes[..complete]);
        let written: std::collections::HashSet<&str> = text.lines().filter_map(ack_id).collect();
        let missing: Vec<String> = pending
            .into_iter()
            .map(|(_, ack)| ack)
            .filter(|ack| ack_id(ack).is_none_or(|id| !written.contains(id)))
            .collect();
        self.append(missing.iter().map(String::as_str))?;
        store.clear_pending_acks(file_hash, last)?;
        Ok(missing.len())
    }
}

/// MSH-10 of an ER7 ACK: unique per response (`<file>-<message index>` in imports).
fn ack_id(er7: &str) -> Option<&str> {
    er7.split('\r')
        .next()
        .filter(|msh| msh.starts_with("MSH|"))
        .and_then(|msh| msh.split('|').nth(9))
        .filter(|id| !id.is_empty())
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
