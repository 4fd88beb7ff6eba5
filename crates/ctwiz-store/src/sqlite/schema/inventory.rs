//! Vaccine orders and shipments (inventory module).

pub const MIGRATIONS: &[&str] = &[];
