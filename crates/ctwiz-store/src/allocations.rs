//! Stored vaccine allocations (rules in `ctwiz_core::allocation`, use cases in
//! `usecase::allocations`).

use crate::error::Result;
use chrono::NaiveDateTime;
use ctwiz_core::allocation::Allocation;
use ctwiz_core::ids::ClinicPin;

pub trait AllocationStore {
    /// Sets (or replaces) the allocation of its clinic, vaccine and first day.
    fn set_allocation(&self, a: &Allocation, by: &str, now: NaiveDateTime) -> Result<()>;
    /// Allocations of one clinic (or all), newest period first.
    fn allocations(&self, clinic: Option<&ClinicPin>) -> Result<Vec<Allocation>>;
}
