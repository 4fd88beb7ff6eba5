//! ORC, common order (CDC IG R1.5 §6.20). Every RXA has an ORC before it.

use crate::datatype::{Ei, Xcn};
use crate::er7::{Segment, SegmentBuf};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Orc {
    /// ORC-1, always RE in immunization messages.
    pub order_control: String,
    pub placer_order: Ei,
    /// ORC-3: the sender's unique id for the immunization event; the IG
    /// uses it to recognize updates and deletes of the same dose.
    pub filler_order: Ei,
    pub entered_by: Xcn,
    pub ordering_provider: Xcn,
}

impl Orc {
    pub fn from_segment(s: &Segment<'_>) -> Self {
        Orc {
            order_control: s.text(1).into_owned(),
            placer_order: Ei::from_rep(s.field(2).repetition(1)),
            filler_order: Ei::from_rep(s.field(3).repetition(1)),
            entered_by: Xcn::from_rep(s.field(10).repetition(1)),
            ordering_provider: Xcn::from_rep(s.field(12).repetition(1)),
        }
    }

    pub fn to_segment(&self) -> SegmentBuf {
        let mut s = SegmentBuf::new("ORC");
        s.set(1, &self.order_control);
        s.set_field(2, self.placer_order.to_field());
        s.set_field(3, self.filler_order.to_field());
        if !self.entered_by.is_empty() {
            s.set_field(10, self.entered_by.to_field());
        }
        if !self.ordering_provider.is_empty() {
            s.set_field(12, self.ordering_provider.to_field());
        }
        s
    }
}
