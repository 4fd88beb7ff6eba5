//! Who gave a dose, in the parts the sender named them (HL7 RXA-10, an XCN), so answers
//! return the identifier, its authority and the name exactly as sent.

pub const MIGRATIONS: &[&str] = &[
    // 1: doses.administering_provider holds `ctwiz_core::dose::Provider` as JSON. Before,
    // only the text "Given Family (id)" was kept (`administered_by`, which stays, now the
    // display text); each stored text is converted by the same Rust reading the web uses
    // for a typed name (`Provider::from_text`, registered as ctwiz_provider_from_text), so
    // its display is the text that was stored.
    r#"
    ALTER TABLE doses ADD COLUMN administering_provider TEXT;
    UPDATE doses SET administering_provider = ctwiz_provider_from_text(administered_by)
        WHERE administered_by IS NOT NULL AND trim(administered_by) <> '';
    "#,
];
