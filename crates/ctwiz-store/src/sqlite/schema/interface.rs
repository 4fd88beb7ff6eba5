//! HL7 interface: sender ids on doses, message log for DQA, interface status per clinic (ctwiz-hl7).

pub const MIGRATIONS: &[&str] = &[
    // 1: the sending system's id for a dose (ORC-3), unique per reporting clinic.
    // (Its index is dropped by 5.)
    r#"
    ALTER TABLE doses ADD COLUMN sender_id TEXT;
    CREATE INDEX doses_sender ON doses (clinic_pin, sender_id) WHERE sender_id IS NOT NULL;
    "#,
    // 2: interface status per clinic, the message log (DQA – Interface Activity report),
    // batch-import progress and the deduplication review queue.
    r#"
    CREATE TABLE interface_status (
        clinic_pin TEXT PRIMARY KEY,
        status TEXT NOT NULL CHECK (status IN ('qa', 'production')),
        updated_at TEXT NOT NULL
    );

    CREATE TABLE message_log (
        id INTEGER PRIMARY KEY,
        facility TEXT NOT NULL,
        clinic_pin TEXT,
        message_type TEXT NOT NULL,
        control_id TEXT NOT NULL,
        result TEXT NOT NULL CHECK (result IN ('AA', 'AE', 'AR')),
        mode TEXT NOT NULL CHECK (mode IN ('qa', 'production')),
        interface TEXT NOT NULL,
        received_at TEXT NOT NULL,
        processed_at TEXT NOT NULL,
        patient_id INTEGER,
        doses INTEGER NOT NULL DEFAULT 0,
        late_doses INTEGER NOT NULL DEFAULT 0,
        warnings INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX message_log_received ON message_log (received_at);
    CREATE INDEX message_log_facility ON message_log (facility, id);

    CREATE TABLE message_errors (
        message_id INTEGER NOT NULL REFERENCES message_log (id) ON DELETE CASCADE,
        severity TEXT NOT NULL,
        hl7_code TEXT NOT NULL,
        app_code TEXT,
        location TEXT NOT NULL,
        text TEXT NOT NULL
    );
    CREATE INDEX message_errors_message ON message_errors (message_id);

    CREATE TABLE import_progress (
        file_hash TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        messages_done INTEGER NOT NULL,
        complete INTEGER NOT NULL DEFAULT 0
    );

    CREATE TABLE dedup_review (
        id INTEGER PRIMARY KEY,
        patient_id INTEGER NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
        candidate_id INTEGER NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    "#,
    // 3: ACKs of a batch import committed with their messages and kept until the ACK
    // file has them, so an import killed between commit and writing its ACKs re-emits
    // them on resume (one ACK per message).
    r#"
    CREATE TABLE import_pending_acks (
        file_hash TEXT NOT NULL,
        message_index INTEGER NOT NULL,
        ack TEXT NOT NULL,
        PRIMARY KEY (file_hash, message_index)
    ) WITHOUT ROWID;
    "#,
    // 4: the review queue gets decisions: a pair is open until a person merges the records
    // or marks them as different people (dismissed pairs are never queued again).
    r#"
    ALTER TABLE dedup_review ADD COLUMN status TEXT NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'merged', 'dismissed'));
    ALTER TABLE dedup_review ADD COLUMN decided_by TEXT;
    ALTER TABLE dedup_review ADD COLUMN decided_at TEXT;
    CREATE INDEX dedup_review_status ON dedup_review (status, id);
    CREATE INDEX dedup_review_patient ON dedup_review (patient_id);
    CREATE INDEX dedup_review_candidate ON dedup_review (candidate_id);
    "#,
    // 5: a reported dose is found by its sender id among its patient's own doses (the
    // VXU has them loaded), never across the registry: the index on (clinic, sender id)
    // only cost every dose insert a random-order index write (a third of its time).
    r#"
    DROP INDEX IF EXISTS doses_sender;
    "#,
];
