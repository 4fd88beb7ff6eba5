//! Patients, doses, clinics, users, inventory lots and the audit log.

pub const MIGRATIONS: &[&str] = &[
    // 1: the foundation schema.
    r#"
    CREATE TABLE clinics (
        pin TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        county TEXT NOT NULL,
        program TEXT NOT NULL CHECK (program IN ('cvp', 'private')),
        active INTEGER NOT NULL DEFAULT 1,
        detail TEXT NOT NULL
    );

    CREATE TABLE patients (
        id INTEGER PRIMARY KEY,
        family TEXT NOT NULL,
        given TEXT NOT NULL,
        middle TEXT,
        family_norm TEXT NOT NULL,
        given_norm TEXT NOT NULL,
        family_sx TEXT NOT NULL,
        given_sx TEXT NOT NULL,
        dob TEXT NOT NULL,
        sex TEXT NOT NULL,
        county TEXT,
        status TEXT NOT NULL,
        confidential INTEGER NOT NULL DEFAULT 0,
        opted_out INTEGER NOT NULL DEFAULT 0,
        deceased_date TEXT,
        detail TEXT NOT NULL,
        created_at TEXT NOT NULL DEFAULT (datetime('now')),
        updated_at TEXT NOT NULL DEFAULT (datetime('now'))
    );
    CREATE INDEX patients_name ON patients (family_norm, given_norm, dob);
    CREATE INDEX patients_sound ON patients (family_sx, given_sx, dob);
    CREATE INDEX patients_dob ON patients (dob);

    CREATE TABLE mrns (
        clinic_pin TEXT NOT NULL,
        mrn TEXT NOT NULL,
        patient_id INTEGER NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
        PRIMARY KEY (clinic_pin, mrn)
    ) WITHOUT ROWID;
    CREATE INDEX mrns_patient ON mrns (patient_id);
    CREATE INDEX mrns_value ON mrns (mrn);

    CREATE TABLE doses (
        id INTEGER PRIMARY KEY,
        patient_id INTEGER NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
        cvx TEXT NOT NULL,
        mvx TEXT,
        ndc TEXT,
        lot TEXT,
        lot_expiration TEXT,
        date TEXT NOT NULL,
        source TEXT NOT NULL,
        amount REAL,
        amount_unit TEXT,
        route TEXT,
        site TEXT,
        clinic_pin TEXT,
        administered_by TEXT,
        funding TEXT,
        eligibility TEXT,
        completion TEXT NOT NULL,
        refusal TEXT,
        vis TEXT,
        deleted_reason TEXT,
        recorded_at TEXT NOT NULL DEFAULT (datetime('now'))
    );
    CREATE INDEX doses_patient ON doses (patient_id, date);

    CREATE TABLE observations (
        id INTEGER PRIMARY KEY,
        patient_id INTEGER NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        code TEXT NOT NULL,
        text TEXT NOT NULL,
        date TEXT NOT NULL
    );
    CREATE INDEX observations_patient ON observations (patient_id);

    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        full_name TEXT NOT NULL,
        email TEXT NOT NULL,
        status TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        must_change_password INTEGER NOT NULL,
        failed_sign_ins INTEGER NOT NULL DEFAULT 0,
        last_sign_in TEXT,
        created_at TEXT NOT NULL DEFAULT (datetime('now'))
    );
    CREATE TABLE user_grants (
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        scope_kind TEXT NOT NULL,
        scope_value TEXT NOT NULL,
        UNIQUE (user_id, scope_kind, scope_value)
    );

    CREATE TABLE lots (
        id INTEGER PRIMARY KEY,
        clinic_pin TEXT NOT NULL REFERENCES clinics (pin),
        cvx TEXT NOT NULL,
        ndc TEXT,
        mvx TEXT,
        lot_number TEXT NOT NULL,
        expiration TEXT NOT NULL,
        funding TEXT NOT NULL CHECK (funding IN ('public', 'private')),
        UNIQUE (clinic_pin, lot_number, funding)
    );
    CREATE TABLE inventory_transactions (
        id INTEGER PRIMARY KEY,
        lot_id INTEGER NOT NULL REFERENCES lots (id),
        kind TEXT NOT NULL,
        delta INTEGER NOT NULL,
        movement TEXT NOT NULL,
        at TEXT NOT NULL,
        by_user TEXT NOT NULL
    );
    CREATE INDEX inventory_transactions_lot ON inventory_transactions (lot_id);

    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        patient_id INTEGER,
        action TEXT NOT NULL,
        interface TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX audit_log_patient ON audit_log (patient_id, at);
    "#,
    // 2: reminder/recall notices sent, so runs can skip families reminded recently.
    r#"
    CREATE TABLE recall_notices (
        id INTEGER PRIMARY KEY,
        patient_id INTEGER NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
        sent_on TEXT NOT NULL,
        method TEXT NOT NULL,
        vaccine_groups TEXT NOT NULL,
        sent_by TEXT NOT NULL,
        scope TEXT NOT NULL
    );
    CREATE INDEX recall_notices_patient ON recall_notices (patient_id, sent_on);
    "#,
    // 3: patient merges (deduplication). A merged record stays as a tombstone pointing at
    // the record it was merged into, so its old id still leads somewhere and the audit
    // trail keeps its subject; searches, reports and matching skip it.
    r#"
    ALTER TABLE patients ADD COLUMN merged_into INTEGER REFERENCES patients (id);
    ALTER TABLE patients ADD COLUMN merged_at TEXT;
    CREATE INDEX patients_merged ON patients (merged_into) WHERE merged_into IS NOT NULL;
    "#,
    // 4: the audit log names the clinic acted for, and is read by user and by time
    // (accounting of disclosures, security review).
    r#"
    ALTER TABLE audit_log ADD COLUMN clinic TEXT;
    CREATE INDEX audit_log_at ON audit_log (at);
    CREATE INDEX audit_log_actor ON audit_log (actor, at);
    "#,
    // 5: when a clinic (or area) last sent reminder/recall notices (its Task Module item).
    r#"
    CREATE INDEX recall_notices_scope ON recall_notices (scope, sent_on);
    "#,
];
