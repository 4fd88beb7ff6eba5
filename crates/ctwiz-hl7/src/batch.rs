//! Batch files (HL7 v2.5.1 §2.10.3): `FHS` file header, `BHS` batch header,
//! messages, `BTS` batch trailer (BTS-1 = message count), `FTS` file trailer.
//!
//! [`parse`] reads a whole file into borrowed [`Message`]s; the envelope is
//! optional, so a file of plain concatenated messages parses too.
//! [`RawMessageReader`] splits a `BufRead` stream into messages one at a
//! time, in constant memory, on bytes (a bad byte spoils one message, not the
//! stream); [`MessageReader`] decodes each to text.

use std::io::BufRead;

use crate::er7::{self, delimiters_of, lines, segment_of, Message, Segment};
use crate::error::ParseError;

/// One batch (BHS … BTS) of a file.
#[derive(Debug, Clone, Default)]
pub struct Batch<'a> {
    pub header: Option<Segment<'a>>,
    pub messages: Vec<Message<'a>>,
    pub trailer: Option<Segment<'a>>,
}

impl Batch<'_> {
    /// BTS-1, the message count the sender declared.
    pub fn declared_count(&self) -> Option<usize> {
        self.trailer
            .as_ref()
            .and_then(|t| t.text(1).trim().parse().ok())
    }

    /// Whether BTS-1 (when present) matches the messages read. A robust
    /// reader keeps the messages either way and reports the mismatch.
    pub fn count_matches(&self) -> bool {
        self.declared_count()
            .is_none_or(|n| n == self.messages.len())
    }
}

/// A parsed batch file: optional FHS/FTS around one or more batches.
#[derive(Debug, Clone, Default)]
pub struct BatchFile<'a> {
    pub header: Option<Segment<'a>>,
    pub batches: Vec<Batch<'a>>,
    pub trailer: Option<Segment<'a>>,
}

impl<'a> BatchFile<'a> {
    /// Every message of every batch, in order.
    pub fn messages(&self) -> impl Iterator<Item = &Message<'a>> {
        self.batches.iter().flat_map(|b| b.messages.iter())
    }
}

/// Parses a batch file, or a file of concatenated messages without envelope.
pub fn parse(input: &str) -> Result<BatchFile<'_>, ParseError> {
    let mut file = BatchFile::default();
    let mut current: Option<Batch<'_>> = None;
    // Byte range of the message being collected.
    let mut msg_start: Option<usize> = None;
    let mut msg_end = 0;
    let mut envelope_delims = None;
    let mut any = false;

    for (i, line) in lines(input, 0).enumerate() {
        any = true;
        let number = i + 1;
        let id = line.text.get(..3).unwrap_or(line.text);
        let out_of_place = |reason| ParseError::BatchStructure {
            segment: number,
            offset: line.offset,
            id: id.to_string(),
            reason,
        };
        if file.trailer.is_some() && id != "FTS" {
            return Err(out_of_place("segment after FTS"));
        }
        match id {
            "MSH" => {
                flush(input, &mut msg_start, msg_end, &mut current)?;
                msg_start = Some(line.offset);
            }
            "FHS" | "BHS" | "BTS" | "FTS" => {
                flush(input, &mut msg_start, msg_end, &mut current)?;
                let d = match envelope_delims {
                    Some(d) => d,
                    None if id == "FHS" || id == "BHS" => {
                        let d = delimiters_of(line, if id == "FHS" { "FHS" } else { "BHS" })?;
                        envelope_delims = Some(d);
                        d
                    }
                    None => return Err(out_of_place("a trailer without a header")),
                };
                let seg = segment_of(line, d, number)?;
                match id {
                    "FHS" => {
                        if file.header.is_some() || !file.batches.is_empty() || current.is_some() {
                            return Err(out_of_place("FHS must be the first segment of the file"));
                        }
                        file.header = Some(seg);
                    }
                    "BHS" => {
                        if let Some(b) = current.take() {
                            file.batches.push(b);
                        }
                        current = Some(Batch {
                            header: Some(seg),
                            ..Batch::default()
                        });
                    }
                    "BTS" => {
                        let mut b = current.take().unwrap_or_default();
                        b.trailer = Some(seg);
                        file.batches.push(b);
                    }
                    _ => {
                        if let Some(b) = current.take() {
                            file.batches.push(b);
                        }
                        file.trailer = Some(seg);
                    }
                }
            }
            _ if msg_start.is_none() => {
                return Err(ParseError::MissingMsh {
                    offset: line.offset,
                    found: line.text.chars().take(20).collect(),
                })
            }
            _ => {}
        }
        msg_end = line.offset + line.text.len();
    }
    if !any {
        return Err(ParseError::Empty);
    }
    flush(input, &mut msg_start, msg_end, &mut current)?;
    if let Some(b) = current.take() {
        file.batches.push(b);
    }
    Ok(file)
}

/// Parses the collected message `input[start..end]` into the current batch.
fn flush<'a>(
    input: &'a str,
    start: &mut Option<usize>,
    end: usize,
    batch: &mut Option<Batch<'a>>,
) -> Result<(), ParseError> {
    if let Some(s) = start.take() {
        let text = input.get(s..end).unwrap_or("");
        let msg = er7::parse_at(text, s)?;
        batch.get_or_insert_with(Batch::default).messages.push(msg);
    }
    Ok(())
}

/// Why [`MessageReader`] could not produce the next message.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("reading input: {0}")]
    Io(#[from] std::io::Error),
    #[error("line {line} is not valid UTF-8")]
    InvalidUtf8 { line: usize },
    #[error("the message at line {line} is {len} bytes, more than the {limit} accepted")]
    TooLarge {
        line: usize,
        len: usize,
        limit: usize,
    },
}

/// The UTF-8 byte order mark some Windows tools put at the start of a file.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The largest message [`RawMessageReader`] keeps whole by default (4 MiB; a
/// child's complete history is a few kilobytes).
pub const MAX_MESSAGE_BYTES: usize = 4 << 20;

/// One message as framed from a stream, not yet decoded: its segments, each
/// followed by CR. Framing works on bytes, so a byte that is not UTF-8 spoils
/// only the message it is in ([`decode`](Self::decode) tells which).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// The message; only its first bytes (up to the reader's limit) when it is
    /// longer than that (see [`is_whole`](Self::is_whole)).
    pub bytes: Vec<u8>,
    /// Its length in the input, CR after each segment counted.
    pub len: usize,
    /// Line of the input where the message starts (1-based, empty lines not counted).
    pub first_line: usize,
}

/// Why a [`RawMessage`] cannot be read as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreadable {
    /// The byte at `offset` of the message (on `line` of the input) is not UTF-8.
    NotUtf8 { offset: usize, line: usize },
    /// The message is longer than the reader keeps; `bytes` is only its start.
    TooLarge { len: usize },
}

impl RawMessage {
    /// Whether `bytes` is the whole message.
    pub fn is_whole(&self) -> bool {
        self.bytes.len() == self.len
    }

    /// The message as text, or why it cannot be.
    pub fn decode(&self) -> Result<&str, Unreadable> {
        if !self.is_whole() {
            return Err(Unreadable::TooLarge { len: self.len });
        }
        std::str::from_utf8(&self.bytes).map_err(|e| {
            let offset = e.valid_up_to();
            let breaks = self.bytes[..offset].iter().filter(|&&b| b == b'\r').count();
            Unreadable::NotUtf8 {
                offset,
                line: self.first_line + breaks,
            }
        })
    }
}

/// Splits a byte stream into [`RawMessage`]s: a line (CR, LF or CRLF ended;
/// empty lines skipped) starting with `MSH` begins a message, and
/// FHS/BHS/BTS/FTS envelope lines end one and are kept aside
/// ([`envelope`](Self::envelope)). Lines before the first MSH (or after a
/// trailer) form a message of their own, so that the parser answers them
/// with a clear error. A leading UTF-8 byte order mark is dropped. Holds at
/// most one message of [`MAX_MESSAGE_BYTES`] (or the limit given) in memory:
/// of a longer one only the start is kept. Never fails on content, only on I/O.
pub struct RawMessageReader<R> {
    input: R,
    limit: usize,
    /// The current line, its first `limit` bytes at most, and its length.
    line: Vec<u8>,
    line_len: usize,
    pending: Option<RawMessage>,
    line_number: usize,
    envelope: Vec<String>,
    done: bool,
}

impl<R: BufRead> RawMessageReader<R> {
    pub fn new(input: R) -> Self {
        RawMessageReader {
            input,
            limit: MAX_MESSAGE_BYTES,
            line: Vec::new(),
            line_len: 0,
            pending: None,
            line_number: 0,
            envelope: Vec::new(),
            done: false,
        }
    }

    /// Keeps messages whole up to `limit` bytes (at least 16) instead of
    /// [`MAX_MESSAGE_BYTES`].
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.limit = limit.max(16);
        self
    }

    /// The largest message kept whole.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The envelope segments seen so far (lossily decoded).
    pub fn envelope(&self) -> &[String] {
        &self.envelope
    }

    /// Reads the next non-empty line into `self.line`; `false` at the end.
    fn next_line(&mut self) -> std::io::Result<bool> {
        // Room for a leading BOM on the first line, which is dropped below: it must not
        // cost the line its last bytes (a line that fits would be kept cut short).
        let limit = self.limit + if self.line_number == 0 { BOM.len() } else { 0 };
        let keep = |line: &mut Vec<u8>, part: &[u8]| {
            let room = limit.saturating_sub(line.len());
            line.extend_from_slice(&part[..part.len().min(room)]);
        };
        loop {
            self.line.clear();
            self.line_len = 0;
            loop {
                let buf = self.input.fill_buf()?;
                if buf.is_empty() {
                    break;
                }
                match buf.iter().position(|&b| b == b'\r' || b == b'\n') {
                    Some(p) => {
                        keep(&mut self.line, &buf[..p]);
                        self.line_len += p;
                        self.input.consume(p + 1);
                        break;
                    }
                    None => {
                        let n = buf.len();
                        keep(&mut self.line, buf);
                        self.line_len += n;
                        self.input.consume(n);
                    }
                }
            }
            if self.line_number == 0 && self.line.starts_with(BOM) {
                self.line.drain(..BOM.len());
                self.line_len -= BOM.len();
            }
            if self.line_len == 0 {
                if self.input.fill_buf()?.is_empty() {
                    return Ok(false);
                }
                continue;
            }
            self.line_number += 1;
            return Ok(true);
        }
    }

    /// Adds the current line (and its CR) to the pending message, starting one
    /// if there is none. Returns the message it ends, when it starts a new one.
    fn add_line(&mut self, starts_message: bool) -> Option<RawMessage> {
        let previous = if starts_message {
            self.pending.take()
        } else {
            None
        };
        let m = self.pending.get_or_insert_with(|| RawMessage {
            bytes: Vec::new(),
            len: 0,
            first_line: self.line_number,
        });
        let whole = m.is_whole();
        m.len += self.line_len + 1;
        if whole {
            if m.len <= self.limit {
                m.bytes.extend_from_slice(&self.line);
                m.bytes.push(b'\r');
            } else {
                // Only the start is kept: enough for the MSH of the answer.
                let room = self.limit.saturating_sub(m.bytes.len());
                m.bytes
                    .extend_from_slice(&self.line[..self.line.len().min(room)]);
            }
        }
        previous
    }
}

impl<R: BufRead> Iterator for RawMessageReader<R> {
    type Item = std::io::Result<RawMessage>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            match self.next_line() {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    return self.pending.take().map(Ok);
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
            match self.line.get(..3).unwrap_or(b"") {
                b"FHS" | b"BHS" | b"BTS" | b"FTS" => {
                    self.envelope
                        .push(String::from_utf8_lossy(&self.line).into_owned());
                    if let Some(m) = self.pending.take() {
                        return Some(Ok(m));
                    }
                }
                id => {
                    let starts = id == b"MSH";
                    if let Some(m) = self.add_line(starts) {
                        return Some(Ok(m));
                    }
                }
            }
        }
    }
}

/// Splits a stream into the ER7 text of each message (segments joined by
/// CR), as [`RawMessageReader`] frames them. Holds one message in memory at a
/// time. A message that is not UTF-8 is an error item; reading goes on with
/// the next message.
pub struct MessageReader<R>(RawMessageReader<R>);

impl<R: BufRead> MessageReader<R> {
    pub fn new(input: R) -> Self {
        MessageReader(RawMessageReader::new(input))
    }

    /// The envelope segments seen so far.
    pub fn envelope(&self) -> &[String] {
        self.0.envelope()
    }
}

impl<R: BufRead> Iterator for MessageReader<R> {
    type Item = Result<String, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(match self.0.next()? {
            Err(e) => Err(e.into()),
            Ok(m) => match m.decode().err() {
                Some(Unreadable::NotUtf8 { line, .. }) => Err(ReadError::InvalidUtf8 { line }),
                Some(Unreadable::TooLarge { len }) => Err(ReadError::TooLarge {
                    line: m.first_line,
                    len,
                    limit: self.0.limit(),
                }),
                None => Ok(String::from_utf8(m.bytes).expect("decode found it valid")),
            },
        })
    }
}

/// The envelope of an acknowledgement file answering a batch file (HL7 v2.5.1
/// §2.10.3): our FHS and BHS for the sender's, each naming the sender as receiver and
/// its control id as the reference (FHS-12 / BHS-12); BTS-1 counts the ACKs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckEnvelope {
    /// FHS and/or BHS lines, as the input had them.
    pub header: Vec<String>,
    has_file: bool,
    has_batch: bool,
}

impl AckEnvelope {
    /// The answer to the envelope lines `input` (as [`RawMessageReader::envelope`]
    /// keeps them), from `application`/`facility` at `timestamp` (HL7 DTM), with our
    /// `control_id` in FHS-11/BHS-11. `None` when the input had neither FHS nor BHS.
    pub fn answering(
        input: &[String],
        application: &str,
        facility: &str,
        timestamp: &str,
        control_id: &str,
    ) -> Option<AckEnvelope> {
        let find = |id: &str| input.iter().find(|l| l.starts_with(id));
        let answer = |line: &String, id: &str| {
            let sep = line.chars().nth(3).unwrap_or('|');
            let fields: Vec<&str> = line.split(sep).collect();
            let f = |n: usize| fields.get(n - 1).copied().unwrap_or("");
            let encoding = if f(2).is_empty() { "^~\\&" } else { f(2) };
            [
                id,
                encoding,
                application,
                facility,
                f(3),
                f(4),
                timestamp,
                "",
                "",
                &format!("ACK of {}", if f(9).is_empty() { "the file" } else { f(9) }),
                control_id,
                f(11),
            ]
            .join(&sep.to_string())
        };
        let fhs = find("FHS").map(|l| answer(l, "FHS"));
        let bhs = find("BHS").map(|l| answer(l, "BHS"));
        if fhs.is_none() && bhs.is_none() {
            return None;
        }
        Some(AckEnvelope {
            has_file: fhs.is_some(),
            has_batch: bhs.is_some(),
            header: fhs.into_iter().chain(bhs).collect(),
        })
    }

    /// BTS (BTS-1 = `acks`) and FTS (FTS-1 = one batch), as the header opened them.
    pub fn trailer(&self, acks: u64) -> Vec<String> {
        let mut out = Vec::new();
        if self.has_batch {
            out.push(format!("BTS|{acks}"));
        }
        if self.has_file {
            out.push("FTS|1".to_string());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "FHS|^~\\&|APP|FAC\rBHS|^~\\&|APP|FAC\rMSH|^~\\&|A|B|||20200101||VXU^V04|1|P|2.5.1\rPID|1\n\
MSH|^~\\&|A|B|||20200101||VXU^V04|2|P|2.5.1\r\nPID|2\rBTS|2\rFTS|1\r";

    #[test]
    fn parses_envelope_and_messages() {
        let f = parse(FILE).expect("valid batch");
        assert_eq!(
            f.header.as_ref().map(|h| h.text(3).into_owned()),
            Some("APP".into())
        );
        assert_eq!(f.batches.len(), 1);
        assert_eq!(f.batches[0].messages.len(), 2);
        assert_eq!(f.batches[0].declared_count(), Some(2));
        assert!(f.batches[0].count_matches());
        let ids: Vec<_> = f
            .messages()
            .map(|m| m.msh().text(10).into_owned())
            .collect();
        assert_eq!(ids, ["1", "2"]);
        assert_eq!(
            f.trailer.as_ref().map(|t| t.text(1).into_owned()),
            Some("1".into())
        );
    }

    #[test]
    fn plain_concatenated_messages() {
        let f = parse("MSH|^~\\&|A\rPID|1\rMSH|^~\\&|B\rPID|2").expect("valid");
        assert_eq!(f.messages().count(), 2);
        assert!(f.header.is_none());
    }

    #[test]
    fn structure_errors() {
        assert!(matches!(
            parse("PID|1\rMSH|^~\\&|A").unwrap_err(),
            ParseError::MissingMsh { offset: 0, .. }
        ));
        assert!(matches!(
            parse("BTS|1").unwrap_err(),
            ParseError::BatchStructure { .. }
        ));
        assert!(matches!(
            parse("FHS|^~\\&\rMSH|^~\\&|A\rFTS|1\rPID|1").unwrap_err(),
            ParseError::BatchStructure { segment: 4, .. }
        ));
    }

    #[test]
    fn a_message_over_the_limit_keeps_its_start_and_the_next_is_whole() {
        let long = "X".repeat(100);
        let input =
            format!("\u{feff}MSH|^~\\&|A\rNTE|{long}\rNTE|1\nMSH|^~\\&|B\rPID|1\rBTS|2\rjunk\r");
        let raws: Vec<RawMessage> = RawMessageReader::new(input.as_bytes())
            .with_limit(40)
            .collect::<Result<_, _>>()
            .expect("readable");
        assert_eq!(raws.len(), 3);
        assert!(!raws[0].is_whole());
        assert_eq!(raws[0].bytes.len(), 40);
        assert!(raws[0].bytes.starts_with(b"MSH|^~\\&|A\rNTE|XX"));
        assert_eq!(raws[0].len, 11 + 105 + 6);
        assert_eq!(raws[0].decode(), Err(Unreadable::TooLarge { len: 122 }));
        assert_eq!(raws[1].decode(), Ok("MSH|^~\\&|B\rPID|1\r"));
        assert_eq!(raws[1].first_line, 4);
        assert_eq!(raws[2].bytes, b"junk\r");
    }

    #[test]
    fn a_bad_byte_is_located_in_its_message_only() {
        let input = b"MSH|^~\\&|A\rPID|1|\xFF\rMSH|^~\\&|B\r";
        let texts: Vec<_> = MessageReader::new(&input[..]).collect();
        assert!(matches!(texts[0], Err(ReadError::InvalidUtf8 { line: 2 })));
        assert_eq!(texts[1].as_deref().ok(), Some("MSH|^~\\&|B\r"));
    }

    #[test]
    fn reader_streams_messages() {
        let texts: Vec<String> = MessageReader::new(FILE.as_bytes())
            .collect::<Result<_, _>>()
            .expect("readable");
        assert_eq!(texts.len(), 2);
        assert_eq!(
            texts[1],
            "MSH|^~\\&|A|B|||20200101||VXU^V04|2|P|2.5.1\rPID|2\r"
        );
        for t in &texts {
            er7::parse(t).expect("each message parses");
        }
    }
}
