//! Official certificates and SMART Health Cards: the issuer's signing keys, and search keys
//! for names in any script.

pub const MIGRATIONS: &[&str] = &[
    // 1: SMART Health Card issuer keys (P-256). One key signs (retired_at IS NULL); retired
    // keys stay published in /.well-known/jwks.json so cards they signed still verify.
    // The name search keys are recomputed by the Rust normaliser (registered on the
    // connection as ctwiz_normalize_name / ctwiz_soundex): before, letters outside ASCII
    // were dropped, so "Müller" was keyed MLLER and a Cyrillic name had no key at all.
    r#"
    CREATE TABLE shc_keys (
        kid TEXT PRIMARY KEY,
        private_key BLOB NOT NULL,
        public_jwk TEXT NOT NULL,
        created_at TEXT NOT NULL,
        retired_at TEXT
    );
    CREATE UNIQUE INDEX shc_keys_one_signing ON shc_keys ((retired_at IS NULL))
        WHERE retired_at IS NULL;
    UPDATE patients SET
        family_norm = ctwiz_normalize_name(family),
        given_norm = ctwiz_normalize_name(given),
        family_sx = ctwiz_soundex(family),
        given_sx = ctwiz_soundex(given);
    "#,
];
