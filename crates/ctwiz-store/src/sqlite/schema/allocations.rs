//! Allocations of scarce public vaccine per clinic and period (`ctwiz_core::allocation`).

pub const MIGRATIONS: &[&str] = &[
    // 1: one allocation per clinic, vaccine and period start; setting it again replaces
    // the doses (who and when are kept).
    r#"
    CREATE TABLE allocations (
        clinic_pin TEXT NOT NULL,
        cvx TEXT NOT NULL,
        first_day TEXT NOT NULL,
        last_day TEXT NOT NULL,
        doses INTEGER NOT NULL CHECK (doses >= 0),
        set_by TEXT NOT NULL,
        set_at TEXT NOT NULL,
        PRIMARY KEY (clinic_pin, cvx, first_day)
    ) WITHOUT ROWID;
    "#,
];
