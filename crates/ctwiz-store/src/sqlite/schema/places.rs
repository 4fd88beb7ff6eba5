//! The towns table (`ctwiz_core::place`): which health department and IAP area serve each
//! town, and the town each patient lives in.

pub const MIGRATIONS: &[&str] = &[
    // 1: the table as loaded (embedded at first open, replaced by `jurisdictions import`);
    // `version` counts loads, `settled` is the load the patients' towns were placed with.
    r#"
    CREATE TABLE towns (
        name TEXT PRIMARY KEY,
        county TEXT NOT NULL,
        health_department TEXT NOT NULL,
        iap_area TEXT,
        zip_codes TEXT NOT NULL,
        other_names TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE places_meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL,
        settled INTEGER NOT NULL,
        source TEXT NOT NULL,
        loaded_at TEXT NOT NULL
    );
    ALTER TABLE patients ADD COLUMN town TEXT;
    CREATE INDEX patients_town ON patients(town);
    "#,
];
