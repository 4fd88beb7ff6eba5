//! Vaccine orders and shipments (inventory module).

pub const MIGRATIONS: &[&str] = &[
    // 1: public vaccine orders and their lines.
    r#"
    CREATE TABLE vaccine_orders (
        id INTEGER PRIMARY KEY,
        clinic_pin TEXT NOT NULL REFERENCES clinics (pin),
        created_by TEXT NOT NULL,
        created_on TEXT NOT NULL,
        status TEXT NOT NULL,
        decided_by TEXT,
        decision_note TEXT
    );
    CREATE INDEX vaccine_orders_clinic ON vaccine_orders (clinic_pin, status);
    CREATE TABLE vaccine_order_lines (
        order_id INTEGER NOT NULL REFERENCES vaccine_orders (id) ON DELETE CASCADE,
        cvx TEXT NOT NULL,
        requested INTEGER NOT NULL CHECK (requested > 0),
        approved INTEGER CHECK (approved >= 0),
        PRIMARY KEY (order_id, cvx)
    );
    CREATE INDEX inventory_transactions_at ON inventory_transactions (at);
    "#,
    // 2: a dose's effect on stock (issue 22). Each draw for a dose record and each dose
    // given back names the record; doses the clinic gave from a lot it does not hold
    // are inventory exceptions until a coordinator links them to a lot or records why
    // they were not from stock.
    r#"
    ALTER TABLE inventory_transactions ADD COLUMN dose_id INTEGER REFERENCES doses (id);
    CREATE INDEX inventory_transactions_dose ON inventory_transactions (dose_id)
        WHERE dose_id IS NOT NULL;
    CREATE TABLE inventory_exceptions (
        id INTEGER PRIMARY KEY,
        dose_id INTEGER NOT NULL REFERENCES doses (id),
        clinic_pin TEXT NOT NULL REFERENCES clinics (pin),
        kind TEXT NOT NULL CHECK (kind IN ('unknown-lot', 'other-clinic-lot', 'no-stock', 'expired-lot')),
        cvx TEXT NOT NULL,
        lot_number TEXT NOT NULL,
        raised_at TEXT NOT NULL,
        raised_by TEXT NOT NULL,
        interface TEXT NOT NULL,
        resolution TEXT CHECK (resolution IN ('linked', 'not-from-stock', 'dose-changed')),
        resolved_lot_id INTEGER REFERENCES lots (id),
        resolution_note TEXT,
        resolved_by TEXT,
        resolved_at TEXT
    );
    CREATE INDEX inventory_exceptions_open ON inventory_exceptions (clinic_pin, resolution);
    CREATE INDEX inventory_exceptions_dose ON inventory_exceptions (dose_id);
    "#,
    // 3: the import looks up every dose's lot by its number (issue 18).
    "CREATE INDEX lots_number ON lots (lot_number);",
];
