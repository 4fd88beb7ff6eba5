//! SQLite implementation of the web stores (see `crate::web`).
