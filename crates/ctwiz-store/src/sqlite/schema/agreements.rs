//! Program agreements signed by clinics' physicians (`ctwiz_core::agreement`).

pub const MIGRATIONS: &[&str] = &[
    // 1: every signature is kept (the history the state reviews); the newest per program
    // is the clinic's agreement.
    r#"
    CREATE TABLE agreement_signatures (
        id INTEGER PRIMARY KEY,
        clinic_pin TEXT NOT NULL REFERENCES clinics (pin),
        program TEXT NOT NULL CHECK (program IN ('cvp', 'cvfa')),
        version TEXT NOT NULL,
        typed_name TEXT NOT NULL,
        signed_by TEXT NOT NULL,
        signed_at TEXT NOT NULL
    );
    CREATE INDEX agreement_signatures_clinic ON agreement_signatures (clinic_pin, signed_at);
    "#,
];
