//! MSA, message acknowledgment (CDC IG R1.5 §6.16).

use crate::er7::{Segment, SegmentBuf};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Msa {
    /// MSA-1, table 0008: AA accepted, AE error, AR rejected.
    pub code: String,
    /// MSA-2: MSH-10 of the message being acknowledged.
    pub control_id: String,
}

impl Msa {
    pub fn from_segment(s: &Segment<'_>) -> Self {
        Msa {
            code: s.text(1).into_owned(),
            control_id: s.text(2).into_owned(),
        }
    }

    pub fn to_segment(&self) -> SegmentBuf {
        SegmentBuf::new("MSA")
            .with(1, &self.code)
            .with(2, &self.control_id)
    }
}
