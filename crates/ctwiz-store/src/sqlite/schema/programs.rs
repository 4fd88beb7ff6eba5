//! Public programs beside CVP (issue 16): which program a public lot's stock and an order
//! belong to. A clinic's enrollment is kept in its detail (`Clinic::program`).

pub const MIGRATIONS: &[&str] = &[
    // 1: public lots and orders name their program (CVP or CVFA); rows from before CVFA
    // existed were CVP's. Private lots name none.
    r#"
    ALTER TABLE lots ADD COLUMN program TEXT CHECK (program IN ('cvp', 'cvfa'));
    UPDATE lots SET program = 'cvp' WHERE funding = 'public';
    ALTER TABLE vaccine_orders ADD COLUMN program TEXT NOT NULL DEFAULT 'cvp'
        CHECK (program IN ('cvp', 'cvfa'));
    "#,
];
