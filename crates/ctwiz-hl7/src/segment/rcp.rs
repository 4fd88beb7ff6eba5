//! RCP, response control parameter (CDC IG R1.5 §6.28).

use crate::er7::{Segment, SegmentBuf};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rcp {
    /// RCP-1: I immediate.
    pub priority: String,
    /// RCP-2: quantity limit, the most patients a Z31 list may return
    /// (`5^RD&records&HL70126`).
    pub quantity_limit: Option<u32>,
}

impl Rcp {
    pub fn from_segment(s: &Segment<'_>) -> Self {
        Rcp {
            priority: s.text(1).into_owned(),
            quantity_limit: s.text(2).trim().parse().ok(),
        }
    }

    pub fn to_segment(&self) -> SegmentBuf {
        let mut s = SegmentBuf::new("RCP");
        s.set(1, &self.priority);
        if let Some(n) = self.quantity_limit {
            s.set_components(2, &[n.to_string().as_str(), "RD&records&HL70126"]);
        }
        s
    }
}
