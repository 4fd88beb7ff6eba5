//! PID, patient identification (CDC IG R1.5 §6.25).

use super::{rep_field, reps};
use crate::datatype::{Cwe, Cx, Xad, Xpn, Xtn};
use crate::er7::{FieldBuf, Segment, SegmentBuf};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pid {
    pub set_id: String,
    /// PID-3: MRs, the registry id (SR), Medicaid number (MA), ...
    pub identifiers: Vec<Cx>,
    /// PID-5: the legal name (XPN-7 = L) comes first; aliases may follow.
    pub names: Vec<Xpn>,
    pub mothers_maiden_name: Xpn,
    pub birth_date: String,
    pub sex: String,
    pub races: Vec<Cwe>,
    pub addresses: Vec<Xad>,
    pub phones: Vec<Xtn>,
    pub ethnicity: Vec<Cwe>,
    /// PID-24 Y/N and PID-25 birth order.
    pub multiple_birth: String,
    pub birth_order: String,
    pub death_date: String,
    pub death_indicator: String,
}

impl Pid {
    pub fn from_segment(s: &Segment<'_>) -> Self {
        Pid {
            set_id: s.text(1).into_owned(),
            identifiers: reps(s.field(3), Cx::from_rep),
            names: reps(s.field(5), Xpn::from_rep),
            mothers_maiden_name: Xpn::from_rep(s.field(6).repetition(1)),
            birth_date: s.text(7).into_owned(),
            sex: s.text(8).into_owned(),
            races: reps(s.field(10), Cwe::from_rep),
            addresses: reps(s.field(11), Xad::from_rep),
            phones: reps(s.field(13), Xtn::from_rep),
            ethnicity: reps(s.field(22), Cwe::from_rep),
            multiple_birth: s.text(24).into_owned(),
            birth_order: s.text(25).into_owned(),
            death_date: s.text(29).into_owned(),
            death_indicator: s.text(30).into_owned(),
        }
    }

    /// The legal name (XPN-7 = L), else the first name sent.
    pub fn legal_name(&self) -> Option<&Xpn> {
        self.names
            .iter()
            .find(|n| n.name_type == "L")
            .or(self.names.first())
    }

    pub fn to_segment(&self) -> SegmentBuf {
        let mut s = SegmentBuf::new("PID");
        s.set(1, &self.set_id);
        s.set_field(3, rep_field(&self.identifiers, Cx::to_field));
        s.set_field(5, rep_field(&self.names, Xpn::to_field));
        if !self.mothers_maiden_name.is_empty() {
            s.set_field(6, self.mothers_maiden_name.to_field());
        }
        s.set(7, &self.birth_date).set(8, &self.sex);
        set_reps(&mut s, 10, &self.races, Cwe::to_field);
        set_reps(&mut s, 11, &self.addresses, Xad::to_field);
        set_reps(&mut s, 13, &self.phones, Xtn::to_field);
        set_reps(&mut s, 22, &self.ethnicity, Cwe::to_field);
        s.set(24, &self.multiple_birth)
            .set(25, &self.birth_order)
            .set(29, &self.death_date)
            .set(30, &self.death_indicator);
        s
    }
}

fn set_reps<T>(s: &mut SegmentBuf, n: usize, items: &[T], f: impl Fn(&T) -> FieldBuf) {
    if !items.is_empty() {
        s.set_field(n, rep_field(items, f));
    }
}
