//! Use cases below the doors: each takes an [`ctwiz_core::actor::Actor`], asks the
//! permission matrix first, then reads or writes through the store traits and writes the
//! audit row, the same for the web, the CLI and the interfaces.

pub mod audit;
