//! Shared by the store's test files: which backend a test's store runs on.
//!
//! `CTWIZ_TEST_BACKEND=postgres` runs the suite on PostgreSQL (a fresh database per
//! store, on the server `CTWIZ_TEST_POSTGRES` names); otherwise on in-memory SQLite.
#![allow(dead_code)] // each test file uses part of it

pub mod postgres;

use ctwiz_store::SqliteStore;

/// The backend the suite runs on is PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("CTWIZ_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// A new, empty, migrated store on the backend under test.
pub fn store() -> SqliteStore {
    if on_postgres() {
        postgres::store().expect("CTWIZ_TEST_BACKEND=postgres needs CTWIZ_TEST_POSTGRES")
    } else {
        SqliteStore::open_in_memory().expect("an in-memory database")
    }
}
