//! Onboarding: each clinic's Application for Electronic Reporting, its stage, and every
//! move between stages (`ctwiz_core::onboarding`).

pub const MIGRATIONS: &[&str] = &[
    // 1: one onboarding per clinic; its history is append-only.
    r#"
    CREATE TABLE onboarding (
        clinic_pin TEXT PRIMARY KEY,
        application TEXT NOT NULL,
        stage TEXT NOT NULL,
        applied_at TEXT NOT NULL,
        applied_by TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE onboarding_events (
        clinic_pin TEXT NOT NULL REFERENCES onboarding(clinic_pin),
        at TEXT NOT NULL,
        by_actor TEXT NOT NULL,
        from_stage TEXT,
        to_stage TEXT NOT NULL,
        notes TEXT NOT NULL
    );
    CREATE INDEX onboarding_events_of ON onboarding_events(clinic_pin);
    "#,
];
