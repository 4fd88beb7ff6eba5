//! Stored program-agreement signatures (rules in `ctwiz_core::agreement`, use cases in
//! `usecase::agreements`).

use crate::error::Result;
use ctwiz_core::agreement::Signature;
use ctwiz_core::ids::ClinicPin;

pub trait AgreementStore {
    fn add_signature(&self, s: &Signature) -> Result<i64>;
    /// Signatures of one clinic (or every clinic), newest first.
    fn signatures(&self, clinic: Option<&ClinicPin>) -> Result<Vec<Signature>>;
}
