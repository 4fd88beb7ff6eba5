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
];
