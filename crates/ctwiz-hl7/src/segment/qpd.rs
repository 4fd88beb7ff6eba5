//! QPD, query parameter definition for the Z34/Z44 queries (CDC IG R1.5
//! §6.27 and Chapter 7 "Query/Response profiles").

use super::reps;
use crate::datatype::{Cwe, Cx, Xad, Xpn, Xtn};
use crate::er7::{FieldBuf, Segment, SegmentBuf};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Qpd {
    /// QPD-1: `Z34^Request Immunization History^CDCPHINVS` or `Z44^...`.
    pub query_name: Cwe,
    /// QPD-2: the query tag, echoed in QAK-1.
    pub query_tag: String,
    pub patient_ids: Vec<Cx>,
    pub name: Xpn,
    pub mothers_maiden_name: Xpn,
    pub birth_date: String,
    pub sex: String,
    pub address: Xad,
    pub phone: Xtn,
    pub multiple_birth: String,
    pub birth_order: String,
}

impl Qpd {
    pub fn from_segment(s: &Segment<'_>) -> Self {
        Qpd {
            query_name: Cwe::from_field(s.field(1)),
            query_tag: s.text(2).into_owned(),
            patient_ids: reps(s.field(3), Cx::from_rep),
            name: Xpn::from_rep(s.field(4).repetition(1)),
            mothers_maiden_name: Xpn::from_rep(s.field(5).repetition(1)),
            birth_date: s.text(6).into_owned(),
            sex: s.text(7).into_owned(),
            address: Xad::from_rep(s.field(8).repetition(1)),
            phone: Xtn::from_rep(s.field(9).repetition(1)),
            multiple_birth: s.text(10).into_owned(),
            birth_order: s.text(11).into_owned(),
        }
    }

    pub fn to_segment(&self) -> SegmentBuf {
        let mut s = SegmentBuf::new("QPD");
        s.set_field(1, self.query_name.to_field());
        s.set(2, &self.query_tag);
        s.set_field(
            3,
            FieldBuf::repetitions(self.patient_ids.iter().map(Cx::to_field)),
        );
        s.set_field(4, self.name.to_field());
        if !self.mothers_maiden_name.is_empty() {
            s.set_field(5, self.mothers_maiden_name.to_field());
        }
        s.set(6, &self.birth_date).set(7, &self.sex);
        if !self.address.is_empty() {
            s.set_field(8, self.address.to_field());
        }
        let phone = self.phone.to_field();
        if !phone.is_empty() {
            s.set_field(9, phone);
        }
        s.set(10, &self.multiple_birth).set(11, &self.birth_order);
        s
    }
}
