//! IAP outreach referrals and the attempts to reach each family.

pub const MIGRATIONS: &[&str] = &[
    // 1: at most one open referral per child (the partial unique index).
    r#"
    CREATE TABLE referrals (
        id INTEGER PRIMARY KEY,
        patient_id INTEGER NOT NULL REFERENCES patients(id),
        clinic_pin TEXT NOT NULL,
        iap_area TEXT NOT NULL,
        reason TEXT NOT NULL,
        referred_by TEXT NOT NULL,
        referred_at TEXT NOT NULL,
        outcome TEXT,
        outcome_at TEXT,
        outcome_by TEXT,
        outcome_note TEXT NOT NULL DEFAULT ''
    );
    CREATE UNIQUE INDEX referrals_one_open ON referrals(patient_id) WHERE outcome IS NULL;
    CREATE INDEX referrals_by_area ON referrals(iap_area, referred_at);
    CREATE INDEX referrals_by_clinic ON referrals(clinic_pin, referred_at);
    CREATE TABLE referral_attempts (
        referral_id INTEGER NOT NULL REFERENCES referrals(id),
        at TEXT NOT NULL,
        by_actor TEXT NOT NULL,
        method TEXT NOT NULL,
        note TEXT NOT NULL
    );
    CREATE INDEX referral_attempts_of ON referral_attempts(referral_id);
    "#,
];
