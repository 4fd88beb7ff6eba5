//! NK1, next of kin / responsible party (CDC IG R1.5 §6.17).

use super::{rep_field, reps};
use crate::datatype::{Cwe, Xad, Xpn, Xtn};
use crate::er7::{Segment, SegmentBuf};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Nk1 {
    pub set_id: String,
    pub name: Xpn,
    /// NK1-3, HL7 table 0063 (MTH, FTH, GRD, ...).
    pub relationship: Cwe,
    pub address: Xad,
    pub phones: Vec<Xtn>,
}

impl Nk1 {
    pub fn from_segment(s: &Segment<'_>) -> Self {
        Nk1 {
            set_id: s.text(1).into_owned(),
            name: Xpn::from_rep(s.field(2).repetition(1)),
            relationship: Cwe::from_field(s.field(3)),
            address: Xad::from_rep(s.field(4).repetition(1)),
            phones: reps(s.field(5), Xtn::from_rep),
        }
    }

    pub fn to_segment(&self) -> SegmentBuf {
        let mut s = SegmentBuf::new("NK1");
        s.set(1, &self.set_id);
        s.set_field(2, self.name.to_field());
        s.set_field(3, self.relationship.to_field());
        if !self.address.is_empty() {
            s.set_field(4, self.address.to_field());
        }
        if !self.phones.is_empty() {
            s.set_field(5, rep_field(&self.phones, Xtn::to_field));
        }
        s
    }
}
