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
    // 2: the patient look-up screen filters on both names at once (prefix or Soundex). With
    // both name keys in one index the filter runs on the index alone instead of reading every
    // row with a matching family name (1M patients, "SMI" + "Emma": ~75 ms -> ~2 ms).
    r#"
    CREATE INDEX web_patients_name_lookup ON patients (family_norm, given_norm, given_sx, dob);
    CREATE INDEX web_patients_sound_lookup ON patients (family_sx, given_sx, given_norm, dob);
    "#,
    // 3: a failed-sign-in lock ends by itself (`users.locked_until`) instead of setting the
    // account's status; accounts locked under the old rule get a 15-minute lock from now.
    // Temporary passwords are no longer stored: outbox messages that held one lose it.
    r#"
    ALTER TABLE users ADD COLUMN locked_until TEXT;
    UPDATE users SET status = 'active',
        locked_until = strftime('%Y-%m-%d %H:%M:%S', 'now', '+15 minutes')
        WHERE status = 'locked';
    UPDATE outbox SET body = 'This message held a temporary password, removed when ctwiz stopped storing them. Use "Forgot your password?" or ask the DPH help desk for a new one.'
        WHERE body LIKE '%Temporary password:%';
    "#,
    // 4: clinic change requests (name, address, staff: the state decides) and per-user
    // notifications (kept 90 days; `read_at` set when opened).
    r#"
    CREATE TABLE clinic_change_requests (
        id INTEGER PRIMARY KEY,
        clinic_pin TEXT NOT NULL REFERENCES clinics (pin),
        change TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        requester_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
        requested_at TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
        reviewer TEXT,
        reviewed_at TEXT,
        reason TEXT
    );
    CREATE INDEX clinic_change_requests_clinic ON clinic_change_requests (clinic_pin, id);
    CREATE INDEX clinic_change_requests_status ON clinic_change_requests (status, id);

    CREATE TABLE notifications (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        kind TEXT NOT NULL,
        message TEXT NOT NULL,
        link TEXT NOT NULL,
        read_at TEXT
    );
    CREATE INDEX notifications_user ON notifications (user_id, created_at);
    CREATE INDEX notifications_created ON notifications (created_at);
    "#,
    // 5: secrets the server keeps across restarts (e.g. the key that picks the
    // forgot-password page's stand-in questions, which must not change on a restart); a
    // record's rosters are read on every school nurse's look at it.
    r#"
    CREATE INDEX roster_students_patient ON roster_students (patient_id, clinic_pin);
    CREATE TABLE server_secrets (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 6: account requests for a health department or DPH access, and the school nurse's
    // attestation.
    r#"
    ALTER TABLE account_requests ADD COLUMN other_access TEXT;
    ALTER TABLE account_requests ADD COLUMN nurse_attested INTEGER NOT NULL DEFAULT 0;
    "#,
    // 7: patient search (issue 18, 1M patients): a name search's sound-alike tier reads
    // this in result order (the prefix tiers read `web_patients_name_lookup`), counting
    // its matches on the index alone.
    r#"
    CREATE INDEX patients_search_sound ON patients (family_sx, family_norm, given_norm, given_sx, dob);
    "#,
];
