//! Shared by the store's test files: which backend a test's store runs on
//! (`ctwiz_store::test_support`).
//!
//! `CTWIZ_TEST_BACKEND=postgres` runs the suite on PostgreSQL (a fresh database per
//! store, on the server `CTWIZ_TEST_POSTGRES` names); otherwise on in-memory SQLite.
#![allow(unused_imports)] // each test file uses part of it

pub use ctwiz_store::test_support::{on_postgres, store};

/// The PostgreSQL side of the suite, for the tests of PostgreSQL itself.
pub mod postgres {
    pub use ctwiz_store::test_support::{
        empty_database, fresh_database, postgres_store as store, server,
    };
}
