//! Backups and restores of the whole registry: a backup is a disclosure of every record,
//! so it takes registry security administration (`UserManage`, the state) and is audited;
//! a restore is audited in the restored database.

use super::{actors, audit_entry, UseCaseError};
use crate::traits::{AuditAction, AuditStore};
use crate::SqliteStore;
use chrono::NaiveDateTime;
use ctwiz_core::access::Action;
use ctwiz_core::actor::Actor;
use std::path::{Path, PathBuf};

/// Writes a consistent copy of the registry to the new file `dest` for `actor`; the
/// backup and its audit row (in the live database, before the copy, so the copy holds it
/// too) name the file.
pub fn backup(
    store: &SqliteStore,
    actor: &Actor,
    dest: &Path,
    now: NaiveDateTime,
) -> Result<(), UseCaseError> {
    actors::permit(
        store,
        actor,
        Action::UserManage,
        now,
        "back up the registry",
    )?;
    store.audit(&audit_entry(
        actor,
        None,
        AuditAction::Read,
        now,
        format!("registry backed up to {}", dest.display()),
    ))?;
    Ok(store.backup_to(dest)?)
}

/// Replaces the database at `db` with backup `from` (checked first; the replaced file is
/// kept, never deleted) and records the restore in the restored database's audit log.
/// Returns the kept file, if there was one. Run with the server stopped.
pub fn restore(
    actor: &Actor,
    from: &Path,
    db: &Path,
    now: NaiveDateTime,
) -> Result<Option<PathBuf>, UseCaseError> {
    ctwiz_core::actor::authorize(actor, Action::UserManage)?;
    let stamp = now.format("%Y%m%dT%H%M%S").to_string();
    let kept = SqliteStore::restore(from, db, &stamp)?;
    let restored = SqliteStore::open(db)?;
    restored.audit(&audit_entry(
        actor,
        None,
        AuditAction::Update,
        now,
        format!(
            "registry restored from {}{}",
            from.display(),
            kept.as_ref()
                .map(|k| format!("; the replaced database is kept as {}", k.display()))
                .unwrap_or_default()
        ),
    ))?;
    Ok(kept)
}
