//! Typed views of the segments the CDC IG R1.5 uses, one module per
//! segment. Each type is read leniently from a parsed [`Segment`]
//! (`from_segment`: absent fields are empty, nothing fails) and written to an
//! owned [`SegmentBuf`] (`to_segment`). Whether required fields are present
//! and values valid is decided one level up, in [`crate::message`], where
//! problems become ACK ERR segments.
//!
//! [`Segment`]: crate::er7::Segment
//! [`SegmentBuf`]: crate::er7::SegmentBuf

pub mod err;
pub mod msa;
pub mod msh;
pub mod nk1;
pub mod obx;
pub mod orc;
pub mod pd1;
pub mod pid;
pub mod pv1;
pub mod qak;
pub mod qpd;
pub mod rcp;
pub mod rxa;
pub mod rxr;

pub use err::Err;
pub use msa::Msa;
pub use msh::Msh;
pub use nk1::Nk1;
pub use obx::Obx;
pub use orc::Orc;
pub use pd1::Pd1;
pub use pid::Pid;
pub use pv1::Pv1;
pub use qak::Qak;
pub use qpd::Qpd;
pub use rcp::Rcp;
pub use rxa::Rxa;
pub use rxr::Rxr;

use crate::er7::{Field, FieldBuf, Repetition};

/// Every repetition of a field mapped through `f`.
pub(crate) fn reps<T>(field: Field<'_>, f: impl Fn(Repetition<'_>) -> T) -> Vec<T> {
    field.repetitions().map(f).collect()
}

/// A repeating field from typed values; empty when there are none.
pub(crate) fn rep_field<T>(items: &[T], f: impl Fn(&T) -> FieldBuf) -> FieldBuf {
    FieldBuf::repetitions(items.iter().map(f))
}
