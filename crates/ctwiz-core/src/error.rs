//! The one error type of the domain layer.

use thiserror::Error;

/// A value that the domain refuses, with what was wrong and the offending value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CoreError {
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} is too long ({len} characters, at most {max})")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("invalid {field} {value:?}: {why}")]
    Invalid {
        field: &'static str,
        value: String,
        why: &'static str,
    },
    #[error("unknown {field} {value:?}; valid values: {valid}")]
    Unknown {
        field: &'static str,
        value: String,
        valid: String,
    },
    #[error("{0}")]
    Rule(String),
    #[error("inventory: {0}")]
    Inventory(#[from] crate::inventory::InventoryError),
}

impl CoreError {
    pub(crate) fn invalid(
        field: &'static str,
        value: impl Into<String>,
        why: &'static str,
    ) -> Self {
        CoreError::Invalid {
            field,
            value: value.into(),
            why,
        }
    }
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;
