//! The batch door: a file of HL7 messages imported through the interface.
//!
//! [`import_file`] streams the file, frames it on bytes
//! ([`RawMessageReader`]) and answers every message, in order, exactly once:
//! * **One message, one answer.** Each message is decoded and read on its own
//!   ([`interface::prepare_raw`]); a byte that is not UTF-8, a message that
//!   is not HL7 or one larger than [`crate::batch::MAX_MESSAGE_BYTES`] is
//!   answered AR with an ERR and logged (DQA – Interface Activity), and the
//!   import goes on. A leading UTF-8 BOM is accepted.
//! * **Authorized like every door.** The import acts for an [`Actor`]
//!   (channel Batch); a message whose MSH-4 clinic the actor may not submit
//!   for ([`interface::authorize_facility`]) is answered AR, nothing stored.
//! * **Committed in batches, resumable, idempotent.** Messages are applied
//!   `batch_size` to a transaction, which also records how many messages of
//!   the file are done (the file is known by a hash of its content, see
//!   [`identify`]); a killed import resumes after the last committed message,
//!   and a finished file is skipped.
//! * **Commit, then acknowledge.** ACKs go to the [`AckSink`] only after their
//!   transaction committed. Each transaction also keeps its ACKs in the store
//!   until the sink has them, so a run killed between commit and writing
//!   writes them when resumed: the sender gets exactly one ACK per message.
//!
//! While the store applies one batch, a worker thread reads and validates the
//! next one in parallel ([`interface::prepare_raw`] needs no store).

use std::cell::Cell;
use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use chrono::NaiveDateTime;
use ctwiz_core::actor::Actor;
use ctwiz_core::codes::CodeSets;
use ctwiz_store::interface::{AckResult, ImportProgress};
use ctwiz_store::StoreError;
use rayon::prelude::*;

use crate::batch::{AckEnvelope, RawMessage, RawMessageReader};
use crate::interface::{self, Context, IisStore, Outcome, Prepared};

/// A file's identity for resuming, independent of its name: a stable content
/// hash (FNV-1a, 64 bits) and the length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileIdentity {
    /// `fnv1a64:<hash>:<length>`, the key of the import's progress.
    pub key: String,
    pub len: u64,
}

/// Reads `input` to the end and returns its [`FileIdentity`].
pub fn identify(input: impl Read) -> std::io::Result<FileIdentity> {
    let mut r = BufReader::with_capacity(1 << 20, input);
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
    Ok(FileIdentity {
        key: format!("fnv1a64:{h:016x}:{len}"),
        len,
    })
}

/// How to import.
pub struct Options<'a> {
    pub codes: &'a CodeSets,
    /// Who the import acts for: each message's facility is authorized for it.
    pub actor: &'a Actor,
    /// Messages per transaction (at least 1).
    pub batch_size: usize,
}

/// One file to import: its identity (see [`identify`]), a name for the
/// progress record, and its content.
pub struct Input<R> {
    pub identity: FileIdentity,
    pub name: String,
    pub reader: R,
}

/// Where the ACKs of an import go, in message order.
pub trait AckSink {
    /// Appends ACKs (ER7) and makes them durable before returning: the store
    /// forgets them afterwards.
    fn append(&mut self, acks: &[&str]) -> std::io::Result<()>;
    /// The MSH-10 of each complete ACK already written (after an interrupted
    /// run); a partly written one is dropped, it is written again whole.
    fn written(&mut self) -> std::io::Result<HashSet<String>>;
    /// The input is a batch file (FHS/BHS): its ACKs go inside `envelope`'s header,
    /// written before them unless a resumed run finds it written already. Called
    /// before the file's first ACK. A sink without envelopes ignores it.
    fn open_envelope(&mut self, _envelope: &AckEnvelope) -> std::io::Result<()> {
        Ok(())
    }
    /// The file's last ACK was written: `trailer` (BTS/FTS) closes the envelope
    /// opened by [`open_envelope`](Self::open_envelope), once.
    fn close_envelope(&mut self, _trailer: &[String]) -> std::io::Result<()> {
        Ok(())
    }
}

/// Why an import stopped. Message content never stops it; only the input,
/// the store or the ACK sink failing do.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("reading {name}: {source}")]
    Read {
        name: String,
        source: std::io::Error,
    },
    #[error("writing the ACKs: {0}")]
    Acks(std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a message-reading thread panicked")]
    Worker,
}

/// Messages answered, by result, and error reasons.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub messages: u64,
    pub accepted: u64,
    pub errors: u64,
    pub rejected: u64,
    /// Error-severity ERR codes (HL7 table 0357) → messages with that code.
    pub reasons: BTreeMap<String, u64>,
}

impl Tally {
    pub fn add(&mut self, o: &Outcome) {
        self.messages += 1;
        match o.result {
            AckResult::Accepted => self.accepted += 1,
            AckResult::Error => self.errors += 1,
            AckResult::Rejected => self.rejected += 1,
        }
        let mut seen = Vec::new();
        for e in o.log.errors.iter().filter(|e| e.severity == "E") {
            if !seen.contains(&&e.hl7_code) {
                *self.reasons.entry(e.hl7_code.clone()).or_default() += 1;
                seen.push(&e.hl7_code);
            }
        }
    }

    pub fn merge(&mut self, other: &Tally) {
        self.messages += other.messages;
        self.accepted += other.accepted;
        self.errors += other.errors;
        self.rejected += other.rejected;
        for (k, n) in &other.reasons {
            *self.reasons.entry(k.clone()).or_default() += n;
        }
    }
}

/// What importing one file did.
#[derive(Debug, Clone, Default)]
pub struct FileReport {
    /// The file was imported before: nothing was read.
    pub already_imported: bool,
    /// ACKs of messages committed before an interruption, written now.
    pub resent_acks: usize,
    pub tally: Tally,
    /// Clinics whose onboarding this import finished (their legacy data is in).
    pub onboarded: Vec<ctwiz_core::ids::ClinicPin>,
}

/// Imports one file (see the module documentation). `progress` is called
/// after each committed batch with the bytes read so far.
pub fn import_file<S: IisStore, R: Read>(
    store: &S,
    opts: &Options<'_>,
    input: Input<R>,
    mut acks: Option<&mut dyn AckSink>,
    progress: &mut dyn FnMut(u64),
) -> Result<FileReport, ImportError> {
    let Input {
        identity,
        name,
        reader,
    } = input;
    let hash = identity.key;
    let mut report = FileReport::default();
    let done = store.import_progress(&hash)?;
    let complete = done.as_ref().is_some_and(|p| p.complete);
    let skip = done.map_or(0, |p| p.messages_done);
    let read = Rc::new(Cell::new(0));
    let counting = Counting {
        inner: reader,
        read: read.clone(),
    };
    let mut messages = RawMessageReader::new(BufReader::with_capacity(1 << 20, counting));
    let mut index = 0u64;
    let id_prefix = hash.get(8..20).unwrap_or(&hash).to_string();
    let batch_size = opts.batch_size.max(1);
    let codes = opts.codes;
    let read_error = |source| ImportError::Read {
        name: name.clone(),
        source,
    };
    // The first batch is read before any ACK is written: a batch file's FHS/BHS
    // come first, and the ACKs (also those a killed run left) go inside our answer
    // to them.
    let mut first = None;
    if complete {
        // Imported already: the first message is read only for the envelope before it.
        if let Some(Err(e)) = messages.next() {
            return Err(read_error(e));
        }
    } else {
        first = Some(read_batch(&mut messages, &mut index, skip, batch_size).map_err(read_error)?);
    }
    let now = chrono::Local::now();
    let us = Context::new(codes, opts.actor, now.naive_local(), "");
    let envelope = AckEnvelope::answering(
        messages.envelope(),
        &us.application.namespace,
        &us.facility.namespace,
        &now.format("%Y%m%d%H%M%S%z").to_string(),
        &format!("ACK-{id_prefix}"),
    );
    if let Some(sink) = acks.as_deref_mut() {
        if let Some(e) = &envelope {
            sink.open_envelope(e).map_err(ImportError::Acks)?;
        }
        report.resent_acks = resend_pending(store, sink, &hash)?;
        if let (true, Some(e)) = (complete, &envelope) {
            // A run killed after its last commit may not have closed the envelope.
            sink.close_envelope(&e.trailer(skip))
                .map_err(ImportError::Acks)?;
        }
    }
    if complete {
        report.already_imported = true;
        return Ok(report);
    }
    // Two stages: while the store applies batch k (one transaction), a worker
    // thread reads and validates batch k+1.
    let mut current: Option<PreparedBatch> = None;
    let mut eof = false;
    // The clinics this file stored records for: a finished import is their legacy data.
    let mut stored_for: HashSet<ctwiz_core::ids::ClinicPin> = HashSet::new();
    let (mut spent, mut answered) = (Vec::new(), Vec::new());
    loop {
        if eof && current.is_none() {
            break;
        }
        let (raws, next_eof) = if eof {
            (Vec::new(), true)
        } else if let Some(batch) = first.take() {
            batch
        } else {
            read_batch(&mut messages, &mut index, skip, batch_size).map_err(read_error)?
        };
        let next = PreparedBatch {
            // Each batch is received when it is read (the ACKs' MSH-7, the log's day).
            received: chrono::Local::now().naive_local(),
            items: Vec::new(),
            raws: Vec::new(),
            progress: ImportProgress {
                file_hash: hash.clone(),
                path: name.clone(),
                messages_done: index,
                complete: next_eof,
            },
        };
        let received = next.received;
        let keep_acks = acks.is_some();
        // The previous batch's parsed messages and answers are freed beside this batch's
        // decoding, not on the store thread (the import's bottleneck).
        let freed = (std::mem::take(&mut spent), std::mem::take(&mut answered));
        let (prepared, applied) = std::thread::scope(|sc| {
            let worker = sc.spawn(move || {
                drop(freed);
                let prepared = decode(&raws, codes, received);
                (raws, prepared)
            });
            let applied = current
                .take()
                .map(|b| apply_batch(store, opts, b, &id_prefix, keep_acks, &mut spent));
            (worker.join(), applied)
        });
        let (raws, prepared) = prepared.map_err(|_| ImportError::Worker)?;
        if let Some(applied) = applied {
            // Committed: only now may the acknowledgements go out.
            let (outcomes, written) = applied?;
            if let Some(sink) = acks.as_deref_mut() {
                let texts: Vec<&str> = written.iter().map(|(_, a)| a.as_str()).collect();
                sink.append(&texts).map_err(ImportError::Acks)?;
                if let Some((last, _)) = written.last() {
                    store.clear_pending_acks(&hash, *last)?;
                }
            }
            for o in &outcomes {
                report.tally.add(o);
                if o.stored {
                    if let Some(pin) = &o.log.clinic {
                        if !stored_for.contains(pin) {
                            stored_for.insert(pin.clone());
                        }
                    }
                }
            }
            progress(read.get());
            answered = outcomes;
        }
        if !eof {
            current = Some(PreparedBatch {
                items: prepared,
                raws,
                ..next
            });
        }
        eof = next_eof;
    }
    if let (Some(sink), Some(e)) = (acks, &envelope) {
        sink.close_envelope(&e.trailer(index))
            .map_err(ImportError::Acks)?;
    }
    report.onboarded = interface::legacy_imported(
        store,
        opts.actor,
        &stored_for,
        chrono::Local::now().naive_local(),
    );
    Ok(report)
}

/// Counts the bytes read, for the progress callback.
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

/// Messages of a batch, read and validated, waiting for the store.
struct PreparedBatch {
    received: NaiveDateTime,
    items: Vec<(u64, Prepared)>,
    /// The messages as read, to decode again if the batch must run a second time.
    raws: Vec<(u64, RawMessage)>,
    /// Recorded in the batch's transaction.
    progress: ImportProgress,
}

/// The next `batch_size` messages after the first `skip` of the file, each
/// with its 1-based index in the file; `true` at the end.
fn read_batch<R: BufRead>(
    reader: &mut RawMessageReader<R>,
    index: &mut u64,
    skip: u64,
    batch_size: usize,
) -> std::io::Result<(Vec<(u64, RawMessage)>, bool)> {
    let mut out = Vec::with_capacity(batch_size);
    while out.len() < batch_size {
        match reader.next() {
            None => return Ok((out, true)),
            Some(m) => {
                let m = m?;
                *index += 1;
                if *index > skip {
                    out.push((*index, m));
                }
            }
        }
    }
    Ok((out, false))
}

/// Messages' indexes in their file, each with its serialized ACK.
type IndexedAcks = Vec<(u64, String)>;

/// Stores one batch in one transaction, with the file's progress and
/// (`keep_acks`) its ACKs until they are written. Each message is first
/// authorized for the import's actor. Returns the outcomes and (`keep_acks`)
/// each message's index with its ACK, serialized once for store and sink.
fn apply_batch<S: IisStore>(
    store: &S,
    opts: &Options<'_>,
    batch: PreparedBatch,
    id_prefix: &str,
    keep_acks: bool,
    spent: &mut Vec<interface::Spent>,
) -> Result<(Vec<Outcome>, IndexedAcks), StoreError> {
    let PreparedBatch {
        received,
        items,
        raws,
        progress,
    } = batch;
    spent.reserve(items.len());
    let apply = |s: &S, items: Vec<(u64, Prepared)>, spent: &mut Vec<interface::Spent>| {
        let mut out = Vec::with_capacity(items.len());
        let mut acks = Vec::with_capacity(if keep_acks { items.len() } else { 0 });
        for (i, p) in items {
            // The interface authorizes each message for the clinic it names, as for
            // every door; a user acting nowhere yet acts for that clinic.
            let actor = match p.facility() {
                Some(pin) => interface::acting_for_message(opts.actor, s, &pin),
                None => opts.actor.clone(),
            };
            let ctx = Context::new(opts.codes, &actor, received, format!("{id_prefix}-{i}"));
            let (outcome, message) = interface::process_prepared_keeping(s, &ctx, p);
            spent.push(message);
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
    };
    // Messages almost never fail in the store, so the batch first runs without a
    // savepoint per message. If one did fail, nothing of the batch was kept: it runs
    // again, decoded afresh, with each message able to fail alone.
    if let Some(done) = store.atomically_unguarded(|s| apply(s, items, spent))? {
        return Ok(done);
    }
    spent.clear();
    store.atomically(|s| apply(s, decode(&raws, opts.codes, received), spent))
}

/// A batch's messages read and validated, in parallel, each with its index in the file.
fn decode(
    raws: &[(u64, RawMessage)],
    codes: &CodeSets,
    received: NaiveDateTime,
) -> Vec<(u64, Prepared)> {
    raws.par_iter()
        .map(|(i, m)| (*i, interface::prepare_raw(codes, received, m)))
        .collect()
}

/// Writes the ACKs a killed run committed but may not have written, skipping
/// any the sink already has (the run may have died after writing, before the
/// store forgot them), and forgets them. Returns how many were written.
fn resend_pending<S: IisStore>(
    store: &S,
    sink: &mut dyn AckSink,
    file_hash: &str,
) -> Result<usize, ImportError> {
    let pending = store.pending_acks(file_hash)?;
    let Some(&(last, _)) = pending.last() else {
        return Ok(0);
    };
    let written = sink.written().map_err(ImportError::Acks)?;
    let missing: Vec<&str> = pending
        .iter()
        .map(|(_, ack)| ack.as_str())
        .filter(|ack| ack_id(ack).is_none_or(|id| !written.contains(id)))
        .collect();
    sink.append(&missing).map_err(ImportError::Acks)?;
    store.clear_pending_acks(file_hash, last)?;
    Ok(missing.len())
}

/// MSH-10 of an ER7 ACK: unique per response (`<file>-<message index>` in
/// imports).
fn ack_id(er7: &str) -> Option<&str> {
    er7.split('\r')
        .next()
        .filter(|msh| msh.starts_with("MSH|"))
        .and_then(|msh| msh.split('|').nth(9))
        .filter(|id| !id.is_empty())
}

/// An ACK file: one ACK per line (segments separated by CR), appended a batch
/// at a time with one write and synced before the store forgets those ACKs. The
/// ACKs of a batch file (FHS/BHS) are enclosed in the answering envelope, one
/// segment per line (HL7 v2.5.1 §2.10.3); several imported files make several
/// envelopes one after the other.
pub struct AckFile {
    path: PathBuf,
    file: File,
    /// An envelope is open: its trailer is still to be written.
    open: bool,
}

impl AckFile {
    /// Opens (creates) `path` for appending.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(AckFile {
            path: path.to_path_buf(),
            file,
            open: false,
        })
    }

    fn write_lines<S: AsRef<str>>(&mut self, lines: &[S]) -> std::io::Result<()> {
        let mut buf = String::new();
        for l in lines {
            buf.push_str(l.as_ref());
            buf.push('\n');
        }
        self.file.write_all(buf.as_bytes())?;
        self.file.sync_data()
    }
}

/// Field `n` of an envelope line (`FHS|^~\&|...`): FHS-11 is the control id.
fn envelope_field(line: &str, n: usize) -> &str {
    line.split('|').nth(n - 1).unwrap_or("")
}

impl AckSink for AckFile {
    fn append(&mut self, acks: &[&str]) -> std::io::Result<()> {
        self.write_lines(acks)
    }

    fn open_envelope(&mut self, envelope: &AckEnvelope) -> std::io::Result<()> {
        let Some(first) = envelope.header.first() else {
            return Ok(());
        };
        let control_id = envelope_field(first, 11);
        // A resumed run: the header is there; the envelope is open unless a trailer
        // follows it.
        let text = String::from_utf8_lossy(&std::fs::read(&self.path)?).into_owned();
        let mut found = None;
        for (i, line) in text.lines().enumerate() {
            if line.get(..4) == first.get(..4) && envelope_field(line, 11) == control_id {
                found = Some(i);
            }
        }
        match found {
            Some(i) => {
                self.open = !text
                    .lines()
                    .skip(i + 1)
                    .any(|l| l.starts_with("BTS|") || l.starts_with("FTS|"));
                Ok(())
            }
            None => {
                self.write_lines(&envelope.header)?;
                self.open = true;
                Ok(())
            }
        }
    }

    fn close_envelope(&mut self, trailer: &[String]) -> std::io::Result<()> {
        if std::mem::take(&mut self.open) {
            self.write_lines(trailer)?;
        }
        Ok(())
    }

    fn written(&mut self) -> std::io::Result<HashSet<String>> {
        let bytes = std::fs::read(&self.path)?;
        // Only complete lines count; an ACK cut off by a kill is removed.
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        if complete < bytes.len() {
            self.file.set_len(complete as u64)?;
        }
        let text = String::from_utf8_lossy(&bytes[..complete]);
        Ok(text
            .lines()
            .filter_map(ack_id)
            .map(str::to_string)
            .collect())
    }
}
