//! Web sessions, account requests, e-mail outbox, tasks and notifications (ctwiz-web).

pub const MIGRATIONS: &[&str] = &[
    // 1: sessions, security questions, account requests, the e-mail outbox, school rosters.
    r#"
    CREATE TABLE web_sessions (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        csrf TEXT NOT NULL,
        clinic_pin TEXT,
        created_at TEXT NOT NULL,
        last_seen TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX web_sessions_user ON web_sessions (user_id);

    CREATE TABLE security_answers (
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        question TEXT NOT NULL,
        answer_hash TEXT NOT NULL,
        PRIMARY KEY (user_id, position)
    ) WITHOUT ROWID;

    CREATE TABLE account_requests (
        id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        full_name TEXT NOT NULL,
        email TEXT NOT NULL,
        phone TEXT,
        clinics TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
        decided_by TEXT,
        decided_at TEXT,
        note TEXT,
        username TEXT
    );
    CREATE INDEX account_requests_status ON account_requests (status, id);

    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        to_addr TEXT NOT NULL,
        subject TEXT NOT NULL,
        body TEXT NOT NULL,
        sent_at TEXT
    );

    CREATE TABLE roster_students (
        clinic_pin TEXT NOT NULL,
        patient_id INTEGER NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
        added_by TEXT NOT NULL,
        added_at TEXT NOT NULL,
        PRIMARY KEY (clinic_pin, patient_id)
    ) WITHOUT ROWID;
    "#,
];
