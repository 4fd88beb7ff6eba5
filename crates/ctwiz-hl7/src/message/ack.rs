//! ACK^V04 (CDC IG R1.5 §8.5, profile Z23), following the AIRA/CDC
//! "Guidance for HL7 Acknowledgement Messages": MSA-1 AA when nothing is in
//! error (warnings and information still go in ERR), AE when some content
//! was in error, AR when the message could not be processed at all.

use super::{Issue, Responder, Severity};
use crate::datatype::Ei;
use crate::er7::MessageBuf;
use crate::error::ParseError;
use crate::escape::Delimiters;
use crate::segment::err::ErrorLocation;
use crate::segment::msh::MessageType;
use crate::segment::{Msa, Msh};

/// MSA-1, HL7 table 0008.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckCode {
    Accept,
    Error,
    Reject,
}

impl AckCode {
    pub fn code(self) -> &'static str {
        match self {
            AckCode::Accept => "AA",
            AckCode::Error => "AE",
            AckCode::Reject => "AR",
        }
    }

    /// AR if an issue means the message was not processed, AE if any issue
    /// is an error, else AA.
    pub fn for_issues(issues: &[Issue]) -> AckCode {
        if issues.iter().any(|i| i.code.rejects_message()) {
            AckCode::Reject
        } else if issues.iter().any(|i| i.severity == Severity::Error) {
            AckCode::Error
        } else {
            AckCode::Accept
        }
    }
}

/// The MSH of a response to `original`: addressed back to its sender,
/// echoing its processing id (IG R1.5 §6.1).
pub(crate) fn response_header(
    original: &Msh,
    responder: &Responder,
    message_type: MessageType,
    profile: &str,
) -> Msh {
    Msh {
        sending_application: responder.application.clone(),
        sending_facility: responder.facility.clone(),
        receiving_application: original.sending_application.clone(),
        receiving_facility: original.sending_facility.clone(),
        timestamp: responder.timestamp.to_hl7(),
        message_type,
        control_id: responder.control_id.clone(),
        processing_id: if original.processing_id.is_empty() {
            "P".into()
        } else {
            original.processing_id.clone()
        },
        version: "2.5.1".into(),
        accept_ack_type: "NE".into(),
        application_ack_type: "NE".into(),
        profiles: if profile.is_empty() {
            Vec::new()
        } else {
            vec![Ei {
                id: profile.into(),
                namespace: "CDCPHINVS".into(),
                ..Ei::default()
            }]
        },
        sending_organization: responder.organization.clone(),
        receiving_organization: receiving_organization(original),
    }
}

/// MSH-23 of a response: the sender's own MSH-22 when it named its organization,
/// else the facility of its MSH-4 (the clinic the message came from).
fn receiving_organization(original: &Msh) -> (String, String) {
    let (name, id) = &original.sending_organization;
    if !name.is_empty() || !id.is_empty() {
        return original.sending_organization.clone();
    }
    let facility = original.sending_facility.namespace.trim();
    (facility.to_string(), facility.to_string())
}

/// Builds the ACK^V04 for a VXU whose header is `original`, with one ERR per
/// issue. MSA-1 follows [`AckCode::for_issues`] unless `code` overrides it
/// (e.g. AE when storing failed after validation passed).
pub fn build_ack(
    original: &Msh,
    responder: &Responder,
    issues: &[Issue],
    code: Option<AckCode>,
) -> MessageBuf {
    let trigger = if original.message_type.code.eq_ignore_ascii_case("QBP") {
        "Q11"
    } else {
        "V04"
    };
    ack_of(original, responder, issues, code, trigger)
}

/// ACK^`trigger`^ACK. IG R1.5 §8.5 defines the ACK^V04 profile (Z23); a QBP that
/// cannot be read as a query (no QPD, unsupported version or processing id) is
/// answered ACK^Q11^ACK (IG R1.5 §7.3), which has no CDC profile of its own.
fn ack_of(
    original: &Msh,
    responder: &Responder,
    issues: &[Issue],
    code: Option<AckCode>,
    trigger: &str,
) -> MessageBuf {
    let d = Delimiters::default();
    let mut m = MessageBuf::from_segments(d, Vec::new());
    let profile = if trigger == "V04" { "Z23" } else { "" };
    let header = response_header(
        original,
        responder,
        MessageType::new("ACK", trigger, "ACK"),
        profile,
    );
    m.push(header.to_segment(d));
    let code = code.unwrap_or_else(|| AckCode::for_issues(issues));
    m.push(
        Msa {
            code: code.code().into(),
            control_id: original.control_id.clone(),
        }
        .to_segment(),
    );
    for i in issues {
        m.push(i.to_err().to_segment());
    }
    m
}

/// The ERR for input that is not an HL7 message (or whose segments cannot all be read).
/// Table 0357 has no "not HL7" code: segment problems are 100, the rest 102.
pub fn parse_error_issue(error: &ParseError) -> Issue {
    let code = match error {
        ParseError::BadSegmentId { .. }
        | ParseError::MultipleMessages { .. }
        | ParseError::EnvelopeInMessage { .. } => super::Hl7Error::SegmentSequence,
        _ => super::Hl7Error::DataType,
    };
    Issue::error(ErrorLocation::new("MSH", 1, 0), code, error.to_string())
}

/// The AR for input that is not an HL7 message: `original` is its MSH as far as it could
/// be read (empty for bytes with no MSH at all). MSA-2 is required (IG R1.5 §6.2): the
/// sender's MSH-10 when it could be read, else this answer's own control id (MSH-10),
/// under which the message log keeps the input's record.
pub fn build_parse_error_ack(
    error: &ParseError,
    original: &Msh,
    responder: &Responder,
) -> MessageBuf {
    let mut original = original.clone();
    if original.control_id.trim().is_empty() {
        original.control_id = responder.control_id.clone();
    }
    build_ack(
        &original,
        responder,
        &[parse_error_issue(error)],
        Some(AckCode::Reject),
    )
}
