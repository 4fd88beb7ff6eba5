//! The schema, one append-only migration list per component, so parts of ctwiz can grow
//! their tables independently. Never edit or reorder a released migration: append.

pub mod agreements;
pub mod allocations;
pub mod certificates;
pub mod dedup;
pub mod distributions;
pub mod foundation;
pub mod interface;
pub mod inventory;
pub mod onboarding;
pub mod outreach;
pub mod places;
pub mod portal;
pub mod programs;
pub mod providers;
pub mod web;

/// (component, migrations) in the order components are migrated.
pub const COMPONENTS: &[(&str, &[&str])] = &[
    ("foundation", foundation::MIGRATIONS),
    ("web", web::MIGRATIONS),
    ("interface", interface::MIGRATIONS),
    ("inventory", inventory::MIGRATIONS),
    ("dedup", dedup::MIGRATIONS),
    ("certificates", certificates::MIGRATIONS),
    ("portal", portal::MIGRATIONS),
    ("providers", providers::MIGRATIONS),
    ("agreements", agreements::MIGRATIONS),
    ("distributions", distributions::MIGRATIONS),
    ("allocations", allocations::MIGRATIONS),
    ("places", places::MIGRATIONS),
    ("outreach", outreach::MIGRATIONS),
    ("onboarding", onboarding::MIGRATIONS),
    ("programs", programs::MIGRATIONS),
];
