//! Immunization messages of the CDC IG R1.5: reading VXU^V04 and QBP^Q11
//! into typed structures (and ctwiz-core values), building ACK^V04 and
//! RSP^K11 responses.
//!
//! Problems found while reading are [`Issue`]s: each knows its ERR-2
//! location, HL7 table 0357 code, severity and CDC application error code
//! (table 0533), so that [`ack::build_ack`] can report them as ERR segments.

pub mod ack;
pub mod qbp;
pub mod rsp;
pub mod vxu;

use crate::datatype::{parse_timestamp, Cwe, Hd, Timestamp};
use crate::segment::err::ErrorLocation;
use crate::segment::{Err, Msh};

/// HL7 table 0357, message error condition codes (ERR-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hl7Error {
    Accepted,
    SegmentSequence,
    RequiredFieldMissing,
    DataType,
    TableValueNotFound,
    UnsupportedMessageType,
    UnsupportedEventCode,
    UnsupportedProcessingId,
    UnsupportedVersionId,
    UnknownKeyIdentifier,
    DuplicateKeyIdentifier,
    ApplicationRecordLocked,
    ApplicationInternalError,
}

impl Hl7Error {
    pub fn code(self) -> &'static str {
        use Hl7Error::*;
        match self {
            Accepted => "0",
            SegmentSequence => "100",
            RequiredFieldMissing => "101",
            DataType => "102",
            TableValueNotFound => "103",
            UnsupportedMessageType => "200",
            UnsupportedEventCode => "201",
            UnsupportedProcessingId => "202",
            UnsupportedVersionId => "203",
            UnknownKeyIdentifier => "204",
            DuplicateKeyIdentifier => "205",
            ApplicationRecordLocked => "206",
            ApplicationInternalError => "207",
        }
    }

    pub fn label(self) -> &'static str {
        use Hl7Error::*;
        match self {
            Accepted => "Message accepted",
            SegmentSequence => "Segment sequence error",
            RequiredFieldMissing => "Required field missing",
            DataType => "Data type error",
            TableValueNotFound => "Table value not found",
            UnsupportedMessageType => "Unsupported message type",
            UnsupportedEventCode => "Unsupported event code",
            UnsupportedProcessingId => "Unsupported processing id",
            UnsupportedVersionId => "Unsupported version id",
            UnknownKeyIdentifier => "Unknown key identifier",
            DuplicateKeyIdentifier => "Duplicate key identifier",
            ApplicationRecordLocked => "Application record locked",
            ApplicationInternalError => "Application internal error",
        }
    }

    /// Codes that mean the message as a whole could not be processed (MSA AR).
    pub fn rejects_message(self) -> bool {
        use Hl7Error::*;
        matches!(
            self,
            UnsupportedMessageType
                | UnsupportedEventCode
                | UnsupportedProcessingId
                | UnsupportedVersionId
                | ApplicationInternalError
        )
    }
}

/// ERR-4, HL7 table 0516.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    Error,
    Warning,
    Information,
}

impl Severity {
    pub fn code(self) -> &'static str {
        match self {
            Severity::Error => "E",
            Severity::Warning => "W",
            Severity::Information => "I",
        }
    }
}

/// ERR-5, CDC user-defined table 0533 (application error codes, IG R1.5 Appendix A).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppError {
    IllogicalDate,
    InvalidDate,
    IllogicalValue,
    InvalidValue,
    TableValueNotFound,
    RequiredObservationMissing,
}

impl AppError {
    pub fn code(self) -> &'static str {
        match self {
            AppError::IllogicalDate => "1",
            AppError::InvalidDate => "2",
            AppError::IllogicalValue => "3",
            AppError::InvalidValue => "4",
            AppError::TableValueNotFound => "5",
            AppError::RequiredObservationMissing => "6",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AppError::IllogicalDate => "Illogical Date error",
            AppError::InvalidDate => "Invalid Date",
            AppError::IllogicalValue => "Illogical Value error",
            AppError::InvalidValue => "Invalid value",
            AppError::TableValueNotFound => "Table value not found",
            AppError::RequiredObservationMissing => "Required observation missing",
        }
    }
}

/// One problem with an incoming message, ready to become an ERR segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub location: ErrorLocation,
    pub code: Hl7Error,
    pub severity: Severity,
    pub application: Option<AppError>,
    /// For people: what was wrong, with the offending value (ERR-8).
    pub message: String,
}

impl Issue {
    pub fn error(location: ErrorLocation, code: Hl7Error, message: impl Into<String>) -> Self {
        Issue {
            location,
            code,
            severity: Severity::Error,
            application: None,
            message: message.into(),
        }
    }

    pub fn warning(location: ErrorLocation, code: Hl7Error, message: impl Into<String>) -> Self {
        Issue {
            severity: Severity::Warning,
            ..Issue::error(location, code, message)
        }
    }

    pub fn with_app(mut self, app: AppError) -> Self {
        self.application = Some(app);
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The ERR segment for this issue.
    pub fn to_err(&self) -> Err {
        Err {
            location: Some(self.location.clone()),
            hl7_error: Cwe::new(self.code.code(), self.code.label(), "HL70357"),
            severity: self.severity.code().into(),
            application_error: self
                .application
                .map(|a| Cwe::new(a.code(), a.label(), "HL70533"))
                .unwrap_or_default(),
            diagnostic: String::new(),
            user_message: self.message.clone(),
        }
    }
}

/// A message that cannot be processed at all (wrong type, version, or
/// missing a segment it cannot do without): answer with MSA AR / AE.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("message rejected: {}", .issues.iter().map(|i| i.message.as_str()).collect::<Vec<_>>().join("; "))]
pub struct Rejection {
    pub msh: Box<Msh>,
    pub issues: Vec<Issue>,
}

/// Who we are when we answer: the IIS's application and facility (the
/// response's MSH-3/4), the new message's control id and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Responder {
    pub application: Hd,
    pub facility: Hd,
    pub control_id: String,
    /// MSH-7; the CDC IG R1.5 asks for the time-zone offset.
    pub timestamp: Timestamp,
    /// MSH-22, the responsible sending organization: (XON-1 name, XON-10 identifier).
    pub organization: (String, String),
}

/// Checks MSH fields every incoming message needs (CDC IG R1.5 §6.1):
/// version 2.5.1, the expected message type/trigger, processing id,
/// control id and a valid MSH-7.
pub(crate) fn check_header(msh: &Msh, code: &str, trigger: &str) -> Vec<Issue> {
    let loc = |f| ErrorLocation::new("MSH", 1, f);
    let mut issues = Vec::new();
    let mt = &msh.message_type;
    if !mt.code.eq_ignore_ascii_case(code) {
        issues.push(Issue::error(
            loc(9).component(1),
            Hl7Error::UnsupportedMessageType,
            format!("message type {:?} is not {code}", mt.code),
        ));
    } else if !mt.trigger.eq_ignore_ascii_case(trigger) {
        issues.push(Issue::error(
            loc(9).component(2),
            Hl7Error::UnsupportedEventCode,
            format!("trigger event {:?} is not {trigger}", mt.trigger),
        ));
    }
    if !msh.version.starts_with("2.5") {
        issues.push(Issue::error(
            loc(12),
            Hl7Error::UnsupportedVersionId,
            format!("version {:?} is not supported; send 2.5.1", msh.version),
        ));
    }
    // MSH-11: the IG allows P (production), T (training), D (debugging).
    if !matches!(msh.processing_id.as_str(), "P" | "T" | "D") {
        issues.push(Issue::error(
            loc(11),
            Hl7Error::UnsupportedProcessingId,
            format!("processing id {:?} is not P, T or D", msh.processing_id),
        ));
    }
    if msh.control_id.is_empty() {
        issues.push(Issue::error(
            loc(10),
            Hl7Error::RequiredFieldMissing,
            "MSH-10 message control id is missing",
        ));
    }
    if let Err(e) = parse_timestamp(&msh.timestamp) {
        issues.push(
            Issue::error(loc(7), Hl7Error::DataType, e.to_string()).with_app(AppError::InvalidDate),
        );
    }
    issues
}
