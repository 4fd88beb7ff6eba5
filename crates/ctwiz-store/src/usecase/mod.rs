//! Use cases below the doors. Each takes an authenticated [`Actor`], asks the permission
//! matrix (`ctwiz_core::actor::authorize*`), applies the core rules, writes in one store
//! transaction and writes the audit row, in that order, so web, SOAP, MLLP, CLI and batch
//! import get the same answer and leave the same trail. Written against the store traits:
//! no SQL here.
//!
//! [`Actor`]: ctwiz_core::actor::Actor

pub mod actors;
pub mod patients;
pub mod reports;

use ctwiz_core::actor::Denied;
use ctwiz_core::ids::PatientId;

/// Why a use case refused or failed. Doors map each variant to their own answer (HTTP
/// status, HL7 ERR, exit code) without reading the text.
#[derive(Debug, thiserror::Error)]
pub enum UseCaseError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("no {what} with id {id}")]
    NotFound { what: &'static str, id: String },
    #[error("no user named {0:?}")]
    UnknownUser(String),
    #[error("patient {id} was merged into patient {into}; open that record")]
    Merged { id: PatientId, into: PatientId },
    #[error(transparent)]
    Store(#[from] crate::StoreError),
}
