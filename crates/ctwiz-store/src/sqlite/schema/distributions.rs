//! Reports the state distributes to practices on a schedule
//! (`ctwiz_core::assessment::distribution`).

pub const MIGRATIONS: &[&str] = &[
    // 1: one row per practice and period: the unique key is what makes a second run (or a
    // second server process running at the same moment) send nothing. A finished run is
    // recorded so the scheduler does not recompute it.
    r#"
    CREATE TABLE distributions (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('compliancy', 'cleanup')),
        period TEXT NOT NULL,
        clinic_pin TEXT NOT NULL,
        created_at TEXT NOT NULL,
        children INTEGER NOT NULL,
        content TEXT NOT NULL,
        opened_at TEXT,
        UNIQUE (kind, period, clinic_pin)
    );
    CREATE INDEX distributions_clinic ON distributions (clinic_pin, created_at);
    CREATE TABLE distribution_runs (
        kind TEXT NOT NULL,
        period TEXT NOT NULL,
        finished_at TEXT NOT NULL,
        PRIMARY KEY (kind, period)
    ) WITHOUT ROWID;
    "#,
];
