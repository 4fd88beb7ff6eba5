//! SQLite implementation of the interface stores (see `crate::interface`).
