//! Cross-crate tests for ctwiz; see the files in this directory.
