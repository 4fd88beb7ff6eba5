//! Online backup and restore of the SQLite database file (SQLite's backup API: the copy
//! is consistent as of one moment while other connections keep reading and writing).

use super::SqliteStore;
use crate::error::{Result, StoreError};
use rusqlite::backup::Backup;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Pages copied per step; between steps other connections may write.
const PAGES_PER_STEP: std::os::raw::c_int = 1024;

fn copy(from: &Connection, to: &Path) -> Result<()> {
    let mut out = Connection::open(to)?;
    Backup::new(from, &mut out)?.run_to_completion(
        PAGES_PER_STEP,
        Duration::from_millis(2),
        None,
    )?;
    // A self-contained file: no -wal beside it.
    out.query_row("PRAGMA journal_mode=DELETE", [], |_| Ok(()))?;
    Ok(())
}

fn integrity(conn: &Connection) -> Result<()> {
    let verdict: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if verdict != "ok" {
        return Err(StoreError::Corrupt(format!("integrity check: {verdict}")));
    }
    Ok(())
}

fn moved(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(|e| {
        StoreError::Conflict(format!(
            "cannot move {} to {}: {e}",
            from.display(),
            to.display()
        ))
    })
}

/// `path` with `suffix` appended to its file name.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

impl SqliteStore {
    /// Writes a consistent copy of the whole database to the new file `dest` and checks
    /// it. Refuses to overwrite an existing file.
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        if dest.exists() {
            return Err(StoreError::Conflict(format!(
                "{} already exists; give a new file name",
                dest.display()
            )));
        }
        let partial = beside(dest, ".partial");
        let _ = std::fs::remove_file(&partial);
        copy(self.sqlite_conn()?, &partial)?;
        integrity(&Connection::open_with_flags(
            &partial,
            OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?)?;
        moved(&partial, dest)?;
        Ok(())
    }

    /// Replaces the database at `db` with the backup `from`: the backup is checked
    /// (integrity, a ctwiz schema this build can open, migrated to it) in a file beside
    /// `db` before anything is replaced. An existing `db` (with its -wal and -shm) is kept
    /// as `db.before-restore-STAMP`, never deleted; returns that name. Run it with the
    /// server stopped.
    pub fn restore(from: &Path, db: &Path, stamp: &str) -> Result<Option<PathBuf>> {
        let source = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| StoreError::Conflict(format!("{}: {e}", from.display())))?;
        integrity(&source).map_err(|e| {
            StoreError::Conflict(format!("{} is not a sound database: {e}", from.display()))
        })?;
        let has_schema: bool = source
            .query_row(
                "SELECT COUNT(*) > 0 FROM sqlite_master WHERE name = 'schema_versions'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| StoreError::Conflict(format!("{}: {e}", from.display())))?;
        if !has_schema {
            return Err(StoreError::Conflict(format!(
                "{} is not a ctwiz database (no schema_versions table)",
                from.display()
            )));
        }
        let staged = beside(db, ".restoring");
        let _ = std::fs::remove_file(&staged);
        copy(&source, &staged)?;
        drop(source);
        // Opening migrates it to this build's schema (a newer one is refused here).
        if let Err(e) = SqliteStore::open(&staged) {
            let _ = std::fs::remove_file(&staged);
            return Err(e);
        }
        let kept = if db.exists() {
            let kept = beside(db, &format!(".before-restore-{stamp}"));
            moved(db, &kept)?;
            for side in ["-wal", "-shm"] {
                let f = beside(db, side);
                if f.exists() {
                    moved(&f, &beside(&kept, side))?;
                }
            }
            Some(kept)
        } else {
            None
        };
        for side in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(beside(&staged, side));
        }
        moved(&staged, db)?;
        Ok(kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PatientStore;
    use chrono::NaiveDate;
    use ctwiz_core::patient::{Patient, PersonName, Sex};

    #[test]
    fn a_backup_restores_what_was_stored_and_keeps_the_replaced_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("live.db");
        let s = SqliteStore::open(&db).unwrap();
        let p = Patient::new(
            PersonName::new("Backup", "Bea").unwrap(),
            NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
            Sex::Female,
        )
        .unwrap();
        let id = s.create_patient(&p).unwrap();
        let copy = dir.path().join("copy.db");
        s.backup_to(&copy).unwrap();
        assert!(s.backup_to(&copy).is_err(), "never overwrites");
        // A change after the backup is undone by the restore; the old file is kept.
        let later = s.create_patient(&p).unwrap();
        drop(s);
        let kept = SqliteStore::restore(&copy, &db, "T1").unwrap().unwrap();
        let s = SqliteStore::open(&db).unwrap();
        assert!(s.patient(id).unwrap().is_some());
        assert!(s.patient(later).unwrap().is_none());
        let old = SqliteStore::open(&kept).unwrap();
        assert!(old.patient(later).unwrap().is_some(), "nothing lost");
        // Not a database, or not ctwiz's: refused, nothing replaced.
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, b"not sqlite at all, just text").unwrap();
        assert!(SqliteStore::restore(&junk, &db, "T2").is_err());
        let empty = dir.path().join("empty.db");
        Connection::open(&empty)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let e = SqliteStore::restore(&empty, &db, "T3").unwrap_err();
        assert!(e.to_string().contains("not a ctwiz database"), "{e}");
        assert!(SqliteStore::open(&db)
            .unwrap()
            .patient(id)
            .unwrap()
            .is_some());
    }
}
