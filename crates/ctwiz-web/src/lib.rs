//! placeholder

pub mod mllp;
pub mod soap;
