//! PV1, patient visit (CDC IG R1.5 §6.26). Only PV1-2 patient class and
//! PV1-20 financial class matter: before R1.5, VFC eligibility was sent in
//! PV1-20 (code ^ effective date); R1.5 moved it to OBX 64994-7.

use crate::datatype::Cwe;
use crate::er7::{Segment, SegmentBuf};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pv1 {
    pub patient_class: String,
    /// PV1-20.1 financial class (HL7 table 0064) and PV1-20.2 its date.
    pub financial_class: Cwe,
    pub financial_class_date: String,
}

impl Pv1 {
    pub fn from_segment(s: &Segment<'_>) -> Self {
        let fc = s.field(20).repetition(1);
        Pv1 {
            patient_class: s.text(2).into_owned(),
            financial_class: Cwe::new(&fc.text_at(1), "", "HL70064"),
            financial_class_date: fc.text_at(2).into_owned(),
        }
    }

    pub fn to_segment(&self) -> SegmentBuf {
        let mut s = SegmentBuf::new("PV1");
        s.set(2, &self.patient_class);
        s.set_components(
            20,
            &[&self.financial_class.code, &self.financial_class_date],
        );
        s
    }
}
