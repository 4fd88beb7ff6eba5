//! Errors of the ER7 codec. Every variant carries the byte offset into the
//! input (and the 1-based segment number where one applies) so that a
//! rejected message can be reported with its position.

use thiserror::Error;

/// Why an input is not an HL7 v2 ER7 message (or batch).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    #[error("empty input: no segments")]
    Empty,
    #[error("input is not valid UTF-8 at byte {offset}")]
    InvalidUtf8 { offset: usize },
    #[error("message must start with an MSH segment, found {found:?} at byte {offset}")]
    MissingMsh { offset: usize, found: String },
    #[error("bad delimiters in {segment} at byte {offset}: {reason}")]
    BadDelimiters {
        segment: &'static str,
        offset: usize,
        reason: String,
    },
    #[error("segment {segment} at byte {offset}: invalid segment ID {found:?} (expected 3 upper-case letters or digits)")]
    BadSegmentId {
        segment: usize,
        offset: usize,
        found: String,
    },
    #[error("segment {segment} at byte {offset}: a second MSH starts another message; parse the input as a batch")]
    MultipleMessages { segment: usize, offset: usize },
    #[error("segment {segment} at byte {offset}: batch envelope segment {id} inside a message; parse the input as a batch")]
    EnvelopeInMessage {
        segment: usize,
        offset: usize,
        id: String,
    },
    #[error("segment {segment} at byte {offset}: {id} is out of place in a batch ({reason})")]
    BatchStructure {
        segment: usize,
        offset: usize,
        id: String,
        reason: &'static str,
    },
}
