//! PD1, patient additional demographics (CDC IG R1.5 §6.23): publicity
//! (reminder/recall), protection (confidentiality) and registry status.

use crate::datatype::Cwe;
use crate::er7::{Segment, SegmentBuf};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pd1 {
    /// PD1-11, table 0215 (01 no reminder/recall, 02 reminder/recall any method, ...).
    pub publicity_code: Cwe,
    /// PD1-12, Y = protect (share only per confidentiality rules), N = no.
    pub protection_indicator: String,
    pub protection_date: String,
    /// PD1-16, table 0441 (A active, I inactive, L lost, M moved, P permanently inactive).
    pub registry_status: String,
    pub registry_status_date: String,
    pub publicity_date: String,
}

impl Pd1 {
    pub fn from_segment(s: &Segment<'_>) -> Self {
        Pd1 {
            publicity_code: Cwe::from_field(s.field(11)),
            protection_indicator: s.text(12).into_owned(),
            protection_date: s.text(13).into_owned(),
            registry_status: s.text(16).into_owned(),
            registry_status_date: s.text(17).into_owned(),
            publicity_date: s.text(18).into_owned(),
        }
    }

    pub fn to_segment(&self) -> SegmentBuf {
        let mut s = SegmentBuf::new("PD1");
        if !self.publicity_code.is_empty() {
            s.set_field(11, self.publicity_code.to_field());
        }
        s.set(12, &self.protection_indicator)
            .set(13, &self.protection_date)
            .set(16, &self.registry_status)
            .set(17, &self.registry_status_date)
            .set(18, &self.publicity_date);
        s
    }
}
