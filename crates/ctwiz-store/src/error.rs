use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] crate::sql::Error),
    #[error(transparent)]
    Core(#[from] ctwiz_core::CoreError),
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    Conflict(String),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("database schema for {component} is at version {found}, newer than this ctwiz understands ({supported}); upgrade ctwiz")]
    TooNew {
        component: String,
        found: u32,
        supported: u32,
    },
    #[error("password hashing failed: {0}")]
    Password(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(e.into())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
