//! ERR, error (CDC IG R1.5 §6.10): where (ERR-2), what (ERR-3, HL7 table
//! 0357), how bad (ERR-4: E error, W warning, I information), the
//! application error (ERR-5, CDC table 0533) and a text for people (ERR-8).

use crate::datatype::Cwe;
use crate::er7::{FieldBuf, Segment, SegmentBuf};

/// ERR-2 (ERL): segment ID ^ sequence ^ field ^ field repetition ^ component.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorLocation {
    pub segment: String,
    /// 1-based occurrence of the segment in the message.
    pub sequence: usize,
    pub field: usize,
    pub repetition: usize,
    pub component: usize,
}

impl ErrorLocation {
    pub fn new(segment: &str, sequence: usize, field: usize) -> Self {
        ErrorLocation {
            segment: segment.into(),
            sequence,
            field,
            repetition: if field > 0 { 1 } else { 0 },
            component: 0,
        }
    }

    pub fn component(mut self, component: usize) -> Self {
        self.component = component;
        self
    }

    fn to_field(&self) -> FieldBuf {
        let n = |v: usize| if v == 0 { String::new() } else { v.to_string() };
        FieldBuf::components(&[
            self.segment.clone(),
            n(self.sequence),
            n(self.field),
            n(self.repetition),
            n(self.component),
        ])
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Err {
    pub location: Option<ErrorLocation>,
    pub hl7_error: Cwe,
    pub severity: String,
    pub application_error: Cwe,
    pub diagnostic: String,
    pub user_message: String,
}

impl Err {
    pub fn from_segment(s: &Segment<'_>) -> Self {
        let l = s.field(2).repetition(1);
        let num = |n| l.text_at(n).trim().parse().unwrap_or(0);
        let location = (!l.is_empty()).then(|| ErrorLocation {
            segment: l.text_at(1).into_owned(),
            sequence: num(2),
            field: num(3),
            repetition: num(4),
            component: num(5),
        });
        Err {
            location,
            hl7_error: Cwe::from_field(s.field(3)),
            severity: s.text(4).into_owned(),
            application_error: Cwe::from_field(s.field(5)),
            diagnostic: s.text(7).into_owned(),
            user_message: s.text(8).into_owned(),
        }
    }

    pub fn to_segment(&self) -> SegmentBuf {
        let mut s = SegmentBuf::new("ERR");
        if let Some(l) = &self.location {
            s.set_field(2, l.to_field());
        }
        s.set_field(3, self.hl7_error.to_field());
        s.set(4, &self.severity);
        if !self.application_error.is_empty() {
            s.set_field(5, self.application_error.to_field());
        }
        s.set(7, &self.diagnostic).set(8, &self.user_message);
        s
    }
}
