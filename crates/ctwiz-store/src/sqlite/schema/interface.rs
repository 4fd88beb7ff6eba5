//! HL7 interface: message log for DQA, interface status per clinic (ctwiz-hl7).

pub const MIGRATIONS: &[&str] = &[];
