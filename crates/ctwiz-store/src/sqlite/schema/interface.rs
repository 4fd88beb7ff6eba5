//! HL7 interface: sender ids on doses, message log for DQA, interface status per clinic (ctwiz-hl7).

pub const MIGRATIONS: &[&str] = &[
    // 1: the sending system's id for a dose (ORC-3), unique per reporting clinic.
    r#"
    ALTER TABLE doses ADD COLUMN sender_id TEXT;
    CREATE INDEX doses_sender ON doses (clinic_pin, sender_id) WHERE sender_id IS NOT NULL;
    "#,
];
