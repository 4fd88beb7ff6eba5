//! ER7, the pipe-and-hat encoding of HL7 v2 (HL7 v2.5.1 Chapter 2, §2.6–2.8).
//!
//! [`parse`] reads one message into a [`Message`] that borrows from the
//! input: segments, fields, repetitions, components and sub-components are
//! slices of it, and [`Field::text`]-style accessors unescape only when the
//! value contains an escape sequence. [`Message::to_er7`] writes the message
//! back byte for byte (segments terminated by CR). For building messages,
//! see [`MessageBuf`] in [`write`](self::MessageBuf).

mod write;

pub use write::{FieldBuf, MessageBuf, SegmentBuf};

use std::borrow::Cow;

use crate::error::ParseError;
use crate::escape::{unescape, Delimiters};

/// Segments whose first field is the field separator itself and whose second
/// field holds the encoding characters (HL7 v2.5.1 §2.14.9, §2.15).
pub(crate) const HEADER_SEGMENTS: [&str; 3] = ["MSH", "FHS", "BHS"];

/// One parsed HL7 v2 message, borrowing from its input.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    delimiters: Delimiters,
    segments: Vec<Segment<'a>>,
}

/// Parses one message. Segments may be terminated by CR, LF or CRLF (even
/// mixed); blank lines are ignored.
pub fn parse(input: &str) -> Result<Message<'_>, ParseError> {
    parse_at(input, 0)
}

/// Like [`parse`], for bytes that must be UTF-8 (the CDC IG's default
/// character set, MSH-18 empty or `UNICODE UTF-8`, is ASCII-compatible).
pub fn parse_bytes(input: &[u8]) -> Result<Message<'_>, ParseError> {
    let text = std::str::from_utf8(input).map_err(|e| ParseError::InvalidUtf8 {
        offset: e.valid_up_to(),
    })?;
    parse(text)
}

/// A line of the input, with its byte offset.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    pub text: &'a str,
    pub offset: usize,
}

/// Splits on CR, LF and CRLF; empty lines are dropped.
pub(crate) fn lines(input: &str, base: usize) -> impl Iterator<Item = Line<'_>> {
    let mut pos = 0;
    std::iter::from_fn(move || loop {
        if pos >= input.len() {
            return None;
        }
        let rest = &input[pos..];
        let len = rest.find(['\r', '\n']).unwrap_or(rest.len());
        let line = Line {
            text: &rest[..len],
            offset: base + pos,
        };
        pos += len + 1;
        if !line.text.is_empty() {
            return Some(line);
        }
    })
}

/// Reads the delimiters from an MSH, FHS or BHS line.
pub(crate) fn delimiters_of(
    line: Line<'_>,
    segment: &'static str,
) -> Result<Delimiters, ParseError> {
    let bad = |reason: String| ParseError::BadDelimiters {
        segment,
        offset: line.offset,
        reason,
    };
    let mut chars = line.text.get(3..).unwrap_or("").chars();
    let field = chars
        .next()
        .ok_or_else(|| bad("no field separator after the segment ID".into()))?;
    let enc: Vec<char> = chars.take_while(|&c| c != field).collect();
    if enc.len() < 4 {
        return Err(bad(format!(
            "encoding characters {:?} must be 4 characters (component, repetition, escape, sub-component)",
            enc.iter().collect::<String>()
        )));
    }
    let all = [field, enc[0], enc[1], enc[2], enc[3]];
    for (i, c) in all.iter().enumerate() {
        if c.is_alphanumeric() || c.is_whitespace() || c.is_control() {
            return Err(bad(format!(
                "delimiter {c:?} must be a printable non-alphanumeric character"
            )));
        }
        if all[..i].contains(c) {
            return Err(bad(format!("delimiter {c:?} is used twice")));
        }
    }
    Ok(Delimiters {
        field,
        component: enc[0],
        repetition: enc[1],
        escape: enc[2],
        subcomponent: enc[3],
    })
}

fn check_segment_id(id: &str, segment: usize, offset: usize) -> Result<(), ParseError> {
    let ok = id.len() == 3
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(ParseError::BadSegmentId {
            segment,
            offset,
            found: id.chars().take(20).collect(),
        })
    }
}

/// Splits one line into a [`Segment`]; `segment` is its 1-based number.
pub(crate) fn segment_of<'a>(
    line: Line<'a>,
    d: Delimiters,
    segment: usize,
) -> Result<Segment<'a>, ParseError> {
    let id = line.text.split(d.field).next().unwrap_or("");
    check_segment_id(id, segment, line.offset)?;
    let mut fields = Vec::with_capacity(24);
    fields.push(id);
    let rest = &line.text[id.len()..];
    if HEADER_SEGMENTS.contains(&id) {
        // MSH-1 is the field separator itself, so the split starts after it.
        let sep_len = d.field.len_utf8();
        if let Some(sep) = rest.get(..sep_len) {
            fields.push(sep);
            fields.extend(rest[sep_len..].split(d.field));
        }
    } else if let Some(after) = rest.strip_prefix(d.field) {
        fields.extend(after.split(d.field));
    }
    Ok(Segment {
        fields,
        offset: line.offset,
        delimiters: d,
    })
}

pub(crate) fn parse_at(input: &str, base: usize) -> Result<Message<'_>, ParseError> {
    let mut lines = lines(input, base);
    let first = lines.next().ok_or(ParseError::Empty)?;
    if !first.text.starts_with("MSH") {
        return Err(ParseError::MissingMsh {
            offset: first.offset,
            found: first.text.chars().take(20).collect(),
        });
    }
    let d = delimiters_of(first, "MSH")?;
    let mut segments = vec![segment_of(first, d, 1)?];
    for (i, line) in lines.enumerate() {
        let number = i + 2;
        let seg = segment_of(line, d, number)?;
        match seg.id() {
            "MSH" => {
                return Err(ParseError::MultipleMessages {
                    segment: number,
                    offset: line.offset,
                })
            }
            id @ ("FHS" | "BHS" | "BTS" | "FTS") => {
                return Err(ParseError::EnvelopeInMessage {
                    segment: number,
                    offset: line.offset,
                    id: id.to_string(),
                })
            }
            _ => segments.push(seg),
        }
    }
    Ok(Message {
        delimiters: d,
        segments,
    })
}

impl<'a> Message<'a> {
    pub fn delimiters(&self) -> Delimiters {
        self.delimiters
    }

    /// All segments in order, MSH first.
    pub fn segments(&self) -> &[Segment<'a>] {
        &self.segments
    }

    /// The MSH segment (always present in a parsed message).
    pub fn msh(&self) -> &Segment<'a> {
        &self.segments[0]
    }

    /// The first segment with this ID.
    pub fn segment(&self, id: &str) -> Option<&Segment<'a>> {
        self.segments.iter().find(|s| s.id() == id)
    }

    /// Every segment with this ID, in order.
    pub fn segments_named<'s>(&'s self, id: &'s str) -> impl Iterator<Item = &'s Segment<'a>> + 's {
        self.segments.iter().filter(move |s| s.id() == id)
    }

    /// Writes the message back as it was read, each segment terminated by CR.
    pub fn to_er7(&self) -> String {
        let mut out = String::new();
        for s in &self.segments {
            s.write_raw(&mut out);
            out.push('\r');
        }
        out
    }

    /// An owned copy with every value unescaped, for editing or re-encoding.
    pub fn to_buf(&self) -> MessageBuf {
        MessageBuf::from_segments(
            self.delimiters,
            self.segments.iter().map(Segment::to_buf).collect(),
        )
    }
}

/// One segment: its ID and fields, borrowing from the input.
#[derive(Debug, Clone)]
pub struct Segment<'a> {
    /// `fields[0]` is the segment ID; `fields[n]` is field n.
    fields: Vec<&'a str>,
    offset: usize,
    delimiters: Delimiters,
}

impl<'a> Segment<'a> {
    pub fn id(&self) -> &'a str {
        self.fields[0]
    }

    /// Byte offset of the segment in the parsed input.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The number of the last field present (trailing empty fields count).
    pub fn field_count(&self) -> usize {
        self.fields.len() - 1
    }

    /// Field `n` (1-based, as in "PID-5"); an empty field when absent.
    pub fn field(&self, n: usize) -> Field<'a> {
        let raw = if n == 0 {
            ""
        } else {
            self.fields.get(n).copied().unwrap_or("")
        };
        Field {
            raw,
            d: self.delimiters,
        }
    }

    /// Shorthand for the unescaped first component of field `n`.
    pub fn text(&self, n: usize) -> Cow<'a, str> {
        self.field(n).text()
    }

    fn is_header(&self) -> bool {
        HEADER_SEGMENTS.contains(&self.id())
    }

    fn write_raw(&self, out: &mut String) {
        out.push_str(self.id());
        let d = self.delimiters;
        let skip = if self.is_header() {
            // MSH-1 is the separator that follows the ID.
            out.push(d.field);
            2
        } else {
            1
        };
        for (i, f) in self.fields.iter().enumerate().skip(skip) {
            if i > skip || !self.is_header() {
                out.push(d.field);
            }
            out.push_str(f);
        }
    }

    /// The segment as read, without terminator.
    pub fn to_er7(&self) -> String {
        let mut out = String::new();
        self.write_raw(&mut out);
        out
    }

    /// An owned, unescaped copy.
    pub fn to_buf(&self) -> SegmentBuf {
        let mut buf = SegmentBuf::new(self.id());
        for n in 1..=self.field_count() {
            let f = self.field(n);
            let value = if self.is_header() && n <= 2 {
                FieldBuf::text(f.raw())
            } else {
                f.to_buf()
            };
            buf.set_field(n, value);
        }
        buf
    }
}

/// One field: zero or more repetitions separated by `~`.
#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    raw: &'a str,
    d: Delimiters,
}

/// The `n`th (1-based) part of `raw` split at `sep`, or "" if absent.
fn nth(raw: &str, sep: char, n: usize) -> &str {
    if n == 0 {
        return "";
    }
    if !sep.is_ascii() {
        return raw.split(sep).nth(n - 1).unwrap_or("");
    }
    // Every field access of every message comes here: a plain byte scan (an ASCII
    // separator never falls inside a multi-byte character, so the cuts are char
    // boundaries) instead of a `Split` iterator per call.
    let sep = sep as u8;
    let mut part = 1;
    let mut start = 0;
    for (i, &b) in raw.as_bytes().iter().enumerate() {
        if b == sep {
            if part == n {
                return &raw[start..i];
            }
            part += 1;
            start = i + 1;
        }
    }
    if part == n {
        &raw[start..]
    } else {
        ""
    }
}

impl<'a> Field<'a> {
    /// The field as written, escape sequences included.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// `""`: the sender says the value is null and should be deleted
    /// (HL7 v2.5.1 §2.5.3, "Delete indicator").
    pub fn is_null(&self) -> bool {
        self.raw == "\"\""
    }

    pub fn repetitions(&self) -> impl Iterator<Item = Repetition<'a>> + 'a {
        let d = self.d;
        let raw = self.raw;
        // An empty field has no repetitions.
        raw.split(d.repetition)
            .filter(move |_| !raw.is_empty())
            .map(move |r| Repetition { raw: r, d })
    }

    /// Repetition `n` (1-based).
    pub fn repetition(&self, n: usize) -> Repetition<'a> {
        Repetition {
            raw: nth(self.raw, self.d.repetition, n),
            d: self.d,
        }
    }

    /// Component `n` (1-based) of the first repetition.
    pub fn component(&self, n: usize) -> Component<'a> {
        self.repetition(1).component(n)
    }

    /// The unescaped first component of the first repetition: the value of a
    /// primitive field.
    pub fn text(&self) -> Cow<'a, str> {
        self.repetition(1).text()
    }

    fn to_buf(self) -> FieldBuf {
        let mut reps = Vec::new();
        for r in self.raw.split(self.d.repetition) {
            let comps = r
                .split(self.d.component)
                .map(|c| {
                    c.split(self.d.subcomponent)
                        .map(|s| unescape(s, &self.d).into_owned())
                        .collect()
                })
                .collect();
            reps.push(comps);
        }
        FieldBuf::from_tree(reps)
    }
}

/// One repetition of a field: components separated by `^`.
#[derive(Debug, Clone, Copy)]
pub struct Repetition<'a> {
    raw: &'a str,
    d: Delimiters,
}

impl<'a> Repetition<'a> {
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Component `n` (1-based).
    pub fn component(&self, n: usize) -> Component<'a> {
        Component {
            raw: nth(self.raw, self.d.component, n),
            d: self.d,
        }
    }

    pub fn components(&self) -> impl Iterator<Item = Component<'a>> + 'a {
        let d = self.d;
        self.raw
            .split(d.component)
            .map(move |c| Component { raw: c, d })
    }

    /// The unescaped first sub-component of component 1.
    pub fn text(&self) -> Cow<'a, str> {
        self.component(1).text()
    }

    /// The unescaped first sub-component of component `n` (1-based).
    pub fn text_at(&self, n: usize) -> Cow<'a, str> {
        self.component(n).text()
    }
}

/// One component: sub-components separated by `&`.
#[derive(Debug, Clone, Copy)]
pub struct Component<'a> {
    raw: &'a str,
    d: Delimiters,
}

impl<'a> Component<'a> {
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The unescaped sub-component `n` (1-based).
    pub fn subcomponent(&self, n: usize) -> Cow<'a, str> {
        unescape(nth(self.raw, self.d.subcomponent, n), &self.d)
    }

    pub fn subcomponents(&self) -> impl Iterator<Item = Cow<'a, str>> + 'a {
        let d = self.d;
        self.raw.split(d.subcomponent).map(move |s| unescape(s, &d))
    }

    /// The unescaped first sub-component.
    pub fn text(&self) -> Cow<'a, str> {
        self.subcomponent(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The byte scan cuts exactly where `str::split` does, multi-byte text included.
        #[test]
        fn nth_is_split_nth(raw in "[a-z^&~|é€\\\\]{0,40}", sep in proptest::sample::select(vec!['^', '&', '~', '|', 'é']), n in 0usize..12) {
            let expected = if n == 0 { "" } else { raw.split(sep).nth(n - 1).unwrap_or("") };
            proptest::prop_assert_eq!(nth(&raw, sep, n), expected);
        }
    }

    const VXU: &str =
        "MSH|^~\\&|EHR|CLINIC|IIS|STATE|20200524084727-0500||VXU^V04^VXU_V04|MSG1|P|2.5.1\r\
PID|1||90012^^^NIST-MPI-1^MR~123^^^SSA^SS||Wong^Elise^^^^^L||19830615|F\n\
\r\n\
OBX|6|CE|TPG^Group^99TPG|4|PG01^Deployed \\T\\ mission^99TPG||||||F\r";

    #[test]
    fn splits_segments_fields_components() {
        let m = parse(VXU).expect("valid");
        assert_eq!(m.segments().len(), 3);
        let msh = m.msh();
        assert_eq!(msh.field(1).raw(), "|");
        assert_eq!(msh.field(2).raw(), "^~\\&");
        assert_eq!(msh.text(3), "EHR");
        assert_eq!(msh.field(9).component(2).text(), "V04");
        assert_eq!(msh.text(12), "2.5.1");
        let pid = m.segment("PID").expect("PID");
        let ids: Vec<_> = pid
            .field(3)
            .repetitions()
            .map(|r| r.text_at(4).into_owned())
            .collect();
        assert_eq!(ids, ["NIST-MPI-1", "SSA"]);
        assert_eq!(pid.field(5).component(2).text(), "Elise");
        assert_eq!(pid.field(99).raw(), "");
        let obx = m.segment("OBX").expect("OBX");
        assert_eq!(obx.field(5).component(2).text(), "Deployed & mission");
        assert!(matches!(obx.field(5).component(1).text(), Cow::Borrowed(_)));
    }

    #[test]
    fn writes_back_exactly_with_cr_terminators() {
        let m = parse(VXU).expect("valid");
        let expected: Vec<&str> = VXU.split(['\r', '\n']).filter(|l| !l.is_empty()).collect();
        assert_eq!(m.to_er7(), expected.join("\r") + "\r");
        assert_eq!(m.to_buf().to_er7(), m.to_er7());
    }

    #[test]
    fn errors_carry_positions() {
        assert_eq!(parse("\r\n").unwrap_err(), ParseError::Empty);
        assert!(matches!(
            parse("PID|1").unwrap_err(),
            ParseError::MissingMsh { offset: 0, .. }
        ));
        assert!(matches!(
            parse("MSH|^~").unwrap_err(),
            ParseError::BadDelimiters { .. }
        ));
        assert!(matches!(
            parse("MSH|^^\\&|").unwrap_err(),
            ParseError::BadDelimiters { .. }
        ));
        let err = parse("MSH|^~\\&|A\rPID|1\rpv1|x").unwrap_err();
        assert_eq!(
            err,
            ParseError::BadSegmentId {
                segment: 3,
                offset: 17,
                found: "pv1".into()
            }
        );
        assert!(matches!(
            parse("MSH|^~\\&|A\rMSH|^~\\&|B").unwrap_err(),
            ParseError::MultipleMessages {
                segment: 2,
                offset: 11
            }
        ));
        assert!(matches!(
            parse_bytes(b"MSH|^~\\&|\xff").unwrap_err(),
            ParseError::InvalidUtf8 { offset: 9 }
        ));
    }

    #[test]
    fn custom_delimiters_are_honoured() {
        let m = parse("MSH#!*$%#APP\rPID#1##ID!!!AUTH*X$F$Y").expect("valid");
        let pid = m.segment("PID").expect("PID");
        assert_eq!(pid.field(3).repetition(1).text_at(4), "AUTH");
        assert_eq!(pid.field(3).repetition(2).text(), "X#Y");
        assert_eq!(m.to_er7(), "MSH#!*$%#APP\rPID#1##ID!!!AUTH*X$F$Y\r");
    }
}
