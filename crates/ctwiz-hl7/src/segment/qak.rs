//! QAK, query acknowledgment (CDC IG R1.5 §6.28).

use crate::datatype::Cwe;
use crate::er7::{Segment, SegmentBuf};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Qak {
    pub query_tag: String,
    /// QAK-2, table 0208: OK, NF no data found, AE, AR, TM too many, PD protected.
    pub status: String,
    pub query_name: Cwe,
}

impl Qak {
    pub fn from_segment(s: &Segment<'_>) -> Self {
        Qak {
            query_tag: s.text(1).into_owned(),
            status: s.text(2).into_owned(),
            query_name: Cwe::from_field(s.field(3)),
        }
    }

    pub fn to_segment(&self) -> SegmentBuf {
        SegmentBuf::new("QAK")
            .with(1, &self.query_tag)
            .with(2, &self.status)
            .with_field(3, self.query_name.to_field())
    }
}
