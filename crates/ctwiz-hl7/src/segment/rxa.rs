//! RXA, pharmacy/treatment administration (CDC IG R1.5 §6.29): one
//! immunization event — given, historical, refused or not administered.

use super::reps;
use crate::datatype::{Cwe, Xcn};
use crate::er7::{FieldBuf, Segment, SegmentBuf};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rxa {
    pub start: String,
    pub end: String,
    /// RXA-5: CVX (required) and/or NDC/CPT in the alternate triplet.
    pub vaccine: Cwe,
    /// RXA-6: amount; 999 means unknown (IG R1.5 §6.29, RXA-6 note).
    pub amount: String,
    pub units: Cwe,
    /// RXA-9: NIP001 information source (00 new record = administered,
    /// 01–08 historical).
    pub information_source: Cwe,
    pub administering_provider: Xcn,
    /// RXA-11.4: the facility where it was administered.
    pub location_facility: String,
    pub lot_numbers: Vec<String>,
    pub expiration: String,
    /// RXA-17: MVX manufacturer.
    pub manufacturer: Cwe,
    /// RXA-18: NIP002 refusal reason (with RXA-20 = RE).
    pub refusal_reason: Cwe,
    /// RXA-20: table 0322 CP, RE, NA, PA.
    pub completion_status: String,
    /// RXA-21: table 0323 A add, U update, D delete.
    pub action_code: String,
}

impl Rxa {
    pub fn from_segment(s: &Segment<'_>) -> Self {
        Rxa {
            start: s.text(3).into_owned(),
            end: s.text(4).into_owned(),
            vaccine: Cwe::from_field(s.field(5)),
            amount: s.text(6).into_owned(),
            units: Cwe::from_field(s.field(7)),
            information_source: Cwe::from_field(s.field(9)),
            administering_provider: Xcn::from_rep(s.field(10).repetition(1)),
            location_facility: s.field(11).component(4).text().into_owned(),
            lot_numbers: reps(s.field(15), |r| r.text().into_owned()),
            expiration: s.text(16).into_owned(),
            manufacturer: Cwe::from_field(s.field(17)),
            refusal_reason: Cwe::from_field(s.field(18)),
            completion_status: s.text(20).into_owned(),
            action_code: s.text(21).into_owned(),
        }
    }

    pub fn to_segment(&self) -> SegmentBuf {
        let mut s = SegmentBuf::new("RXA");
        // RXA-1 and RXA-2 are fixed at 0 and 1 (IG R1.5 §6.29).
        s.set(1, "0")
            .set(2, "1")
            .set(3, &self.start)
            .set(4, &self.end);
        s.set_field(5, self.vaccine.to_field());
        s.set(
            6,
            if self.amount.is_empty() {
                "999"
            } else {
                &self.amount
            },
        );
        if !self.units.is_empty() {
            s.set_field(7, self.units.to_field());
        }
        if !self.information_source.is_empty() {
            s.set_field(9, self.information_source.to_field());
        }
        if !self.administering_provider.is_empty() {
            s.set_field(10, self.administering_provider.to_field());
        }
        s.set_components(11, &["", "", "", &self.location_facility]);
        if !self.lot_numbers.is_empty() {
            s.set_field(
                15,
                FieldBuf::repetitions(self.lot_numbers.iter().map(FieldBuf::text)),
            );
        }
        s.set(16, &self.expiration);
        for (n, c) in [(17, &self.manufacturer), (18, &self.refusal_reason)] {
            if !c.is_empty() {
                s.set_field(n, c.to_field());
            }
        }
        s.set(20, &self.completion_status)
            .set(21, &self.action_code);
        s
    }
}
