//! The public portal (verification challenges, visits, the text-message outbox) and the
//! releases of information recorded on a record.

pub const MIGRATIONS: &[&str] = &[
    // 1: bearer tokens are stored only as hashes; a challenge without a patient is the
    // decoy a non-matching search gets. Releases keep who signed, to whom, what and when.
    r#"
    CREATE TABLE portal_challenges (
        id INTEGER PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        patient_id INTEGER REFERENCES patients(id),
        via TEXT NOT NULL CHECK (via IN ('text', 'email')),
        code_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        tries INTEGER NOT NULL DEFAULT 0,
        verified_at TEXT
    );
    CREATE INDEX portal_challenges_patient ON portal_challenges (patient_id, created_at);
    CREATE TABLE portal_visits (
        token_hash TEXT PRIMARY KEY,
        challenge_id INTEGER NOT NULL REFERENCES portal_challenges(id),
        patient_id INTEGER NOT NULL REFERENCES patients(id),
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE TABLE text_outbox (
        id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        to_phone TEXT NOT NULL,
        body TEXT NOT NULL,
        sent_at TEXT
    );
    CREATE TABLE releases (
        id INTEGER PRIMARY KEY,
        patient_id INTEGER NOT NULL REFERENCES patients(id),
        signed_by TEXT NOT NULL,
        relationship TEXT NOT NULL,
        released_to TEXT NOT NULL,
        information TEXT NOT NULL,
        signed_on TEXT NOT NULL,
        recorded_by TEXT NOT NULL,
        recorded_at TEXT NOT NULL
    );
    CREATE INDEX releases_patient ON releases (patient_id, signed_on);
    "#,
];
