//! Web sessions, account requests, e-mail outbox, tasks and notifications (ctwiz-web).

pub const MIGRATIONS: &[&str] = &[];
