//! Stores used by the web application: sessions, account requests, outbox, tasks, notifications.
