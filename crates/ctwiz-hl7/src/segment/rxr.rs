//! RXR, pharmacy/treatment route (CDC IG R1.5 §6.30): route and site.

use crate::datatype::Cwe;
use crate::er7::{Segment, SegmentBuf};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rxr {
    /// RXR-1: NCIT route code (or HL7 0162).
    pub route: Cwe,
    /// RXR-2: HL7 table 0163 site.
    pub site: Cwe,
}

impl Rxr {
    pub fn from_segment(s: &Segment<'_>) -> Self {
        Rxr {
            route: Cwe::from_field(s.field(1)),
            site: Cwe::from_field(s.field(2)),
        }
    }

    pub fn to_segment(&self) -> SegmentBuf {
        let mut s = SegmentBuf::new("RXR");
        s.set_field(1, self.route.to_field());
        if !self.site.is_empty() {
            s.set_field(2, self.site.to_field());
        }
        s
    }
}
