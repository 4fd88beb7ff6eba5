//! Messages that arrive as bytes (batch files, MLLP frames). Each message is
//! decoded on its own; one that is not UTF-8 (or too large to read) is
//! answered AR with an ERR that says where the bad byte is (or how large it
//! is), and logged like any rejected message, so a bad byte costs that message
//! only.

use chrono::NaiveDateTime;
use ctwiz_core::codes::CodeSets;

use super::{prepare, Kind, Prepared};
use crate::batch::RawMessage;
use crate::message::{Hl7Error, Issue};
use crate::segment::err::ErrorLocation;
use crate::segment::Msh;

/// [`prepare`] for a message as bytes: decoded as UTF-8 (HL7 MSH-18 aside,
/// the registry accepts UTF-8 only, of which ASCII is a part).
pub fn prepare_bytes(codes: &CodeSets, received_at: NaiveDateTime, bytes: &[u8]) -> Prepared {
    match std::str::from_utf8(bytes) {
        Ok(text) => prepare(codes, received_at, text),
        Err(e) => not_utf8(bytes, e.valid_up_to()),
    }
}

/// [`prepare_bytes`] for a message framed by a
/// [`RawMessageReader`](crate::batch::RawMessageReader); one longer than the
/// reader keeps is answered AR.
pub fn prepare_raw(codes: &CodeSets, received_at: NaiveDateTime, m: &RawMessage) -> Prepared {
    if m.is_whole() {
        return prepare_bytes(codes, received_at, &m.bytes);
    }
    let issue = Issue::error(
        ErrorLocation::new("MSH", 1, 0),
        Hl7Error::DataType,
        format!(
            "the message is {} bytes, more than the {} this registry reads; it was not read",
            m.len,
            m.bytes.len()
        ),
    );
    refused(&m.bytes, issue)
}

fn not_utf8(bytes: &[u8], offset: usize) -> Prepared {
    let bad = bytes.get(offset).copied().unwrap_or_default();
    let issue = Issue::error(
        location_of(bytes, offset),
        Hl7Error::DataType,
        format!(
            "byte {} of the message (0x{bad:02X}) is not UTF-8, so the message was not read; \
             send it again encoded in UTF-8",
            offset + 1
        ),
    );
    refused(bytes, issue)
}

/// `bytes` answered AR with `issue`, with the MSH as far as it can be read, so
/// that the ACK names the message (MSA-2) and the log row its facility (DQA –
/// Interface Activity).
fn refused(bytes: &[u8], issue: Issue) -> Prepared {
    Prepared(Kind::Refused(Box::new(readable_header(bytes)), issue))
}

/// The MSH of input that cannot be read whole, as far as its first segment reads
/// (empty when there is none), so the answer can name the message (MSA-2) and its
/// sender (MSH-5/6), and the log row its facility.
pub(super) fn readable_header(bytes: &[u8]) -> Msh {
    let head = bytes
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .map_or(bytes, |end| &bytes[..end]);
    let lossy = String::from_utf8_lossy(head);
    crate::er7::parse(&lossy)
        .map(|m| Msh::from_segment(m.msh()))
        .unwrap_or_default()
}

/// The segment and field that the byte at `offset` is in (ERR-2). Segments
/// end at CR or LF; fields are counted with the field separator of MSH-1.
fn location_of(bytes: &[u8], offset: usize) -> ErrorLocation {
    let offset = offset.min(bytes.len());
    let is_break = |b: &u8| *b == b'\r' || *b == b'\n';
    let start = bytes[..offset]
        .iter()
        .rposition(is_break)
        .map_or(0, |p| p + 1);
    let id_of = |seg: &[u8]| {
        seg.get(..3)
            .filter(|id| id.iter().all(u8::is_ascii_alphanumeric))
            .map(|id| String::from_utf8_lossy(id).into_owned())
    };
    let Some(id) = id_of(&bytes[start..]) else {
        return ErrorLocation::new("MSH", 1, 0);
    };
    let sequence = 1 + bytes[..start]
        .split(is_break)
        .filter(|seg| id_of(seg).as_deref() == Some(id.as_str()))
        .count();
    let separator = match bytes {
        [b'M', b'S', b'H', sep, ..] => *sep,
        _ => b'|',
    };
    let separators = bytes[start..offset]
        .iter()
        .filter(|&&b| b == separator)
        .count();
    // MSH-1 is the separator itself, so MSH fields are one ahead.
    let field = if id == "MSH" {
        separators + 1
    } else {
        separators
    };
    ErrorLocation::new(&id, sequence, field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_location_names_segment_occurrence_and_field() {
        let m = b"MSH|^~\\&|EHR|C1\rPID|1\rRXA|0|1\rRXA|0|1|2026\xFF\r";
        let at = m.iter().position(|&b| b == 0xFF).expect("bad byte");
        let l = location_of(m, at);
        assert_eq!((l.segment.as_str(), l.sequence, l.field), ("RXA", 2, 3));
        let l = location_of(b"MSH|^~\\&|E\xC3", 10);
        assert_eq!((l.segment.as_str(), l.sequence, l.field), ("MSH", 1, 3));
        let l = location_of(b"\xFFSH|", 0);
        assert_eq!((l.segment.as_str(), l.field), ("MSH", 0));
    }
}
