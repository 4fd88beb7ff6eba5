//! The towns table in SQLite, with the patients' town column kept in step with it.

use super::SqliteStore;
use crate::error::Result;
use crate::sql::{params, OptionalExtension};
use crate::traits::PlaceStore;
use chrono::NaiveDateTime;
use ctwiz_core::org::County;
use ctwiz_core::patient::Patient;
use ctwiz_core::place::{Places, Town};
use std::sync::Arc;

/// How the embedded table is named as a source.
const BUNDLED_SOURCE: &str = "embedded table (ctwiz-core data/ct-towns.csv)";

impl SqliteStore {
    /// At open: loads the embedded table into an empty database, and places every patient
    /// in a town when the table changed since they were last placed (a table imported by
    /// another process, or a database from before towns).
    pub(super) fn settle_places(&self) -> Result<()> {
        let meta: Option<(i64, i64)> = self
            .conn
            .query_row("SELECT version, settled FROM places_meta", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        match meta {
            None => self.in_transaction(|s| {
                s.write_towns(&Places::bundled(), BUNDLED_SOURCE, None)?;
                s.place_patients()?;
                Ok(())
            }),
            Some((v, settled)) if v != settled => self.in_transaction(|s| {
                s.place_patients()?;
                Ok(())
            }),
            Some(_) => Ok(()),
        }
    }

    fn write_towns(&self, p: &Places, source: &str, at: Option<NaiveDateTime>) -> Result<()> {
        self.conn.execute("DELETE FROM towns", [])?;
        let mut ins = self.conn.prepare_cached(
            "INSERT INTO towns (name, county, health_department, iap_area, zip_codes, other_names)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for t in p.towns() {
            ins.execute(params![
                t.name,
                t.county.name(),
                t.health_department,
                t.iap_area,
                t.zip_codes.join(" "),
                t.other_names.join(";"),
            ])?;
        }
        let at = at
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|| "at first open".into());
        self.conn.execute(
            "INSERT INTO places_meta (id, version, settled, source, loaded_at) VALUES (1, 1, 0, ?1, ?2)
             ON CONFLICT(id) DO UPDATE SET version = places_meta.version + 1, source = ?1, loaded_at = ?2",
            params![source, at],
        )?;
        *self.places.borrow_mut() = None;
        let mut held = self.held.borrow_mut();
        held.places_version = None;
        held.clinics.clear();
        Ok(())
    }

    /// Writes every patient's town under the current table; returns how many records
    /// changed town.
    fn place_patients(&self) -> Result<u64> {
        /// Records read at a time, so a registry of any size is placed in bounded memory.
        const PAGE: i64 = 5000;
        let places = self.places()?;
        let mut changed = 0u64;
        let mut after = i64::MIN;
        loop {
            let rows: Vec<(i64, Option<String>, String)> = self
                .conn
                .prepare_cached(
                    "SELECT id, town, detail FROM patients WHERE id > ?1 ORDER BY id LIMIT ?2",
                )?
                .query_map(params![after, PAGE], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?
                .collect::<crate::sql::Result<_>>()?;
            let Some(last) = rows.last().map(|r| r.0) else {
                break;
            };
            let mut upd = self
                .conn
                .prepare_cached("UPDATE patients SET town = ?1 WHERE id = ?2")?;
            for (id, old, detail) in rows {
                let p: Patient = serde_json::from_str(&detail)?;
                let town = places.locate(&p).town;
                if town != old.as_deref() {
                    upd.execute(params![town, id])?;
                    changed += 1;
                }
            }
            after = last;
        }
        self.conn
            .execute("UPDATE places_meta SET settled = version", [])?;
        Ok(changed)
    }
}

impl PlaceStore for SqliteStore {
    fn places(&self) -> Result<Arc<Places>> {
        let version: i64 = self.while_locked_value(
            |h| h.places_version,
            |h, v| h.places_version = Some(v),
            "SELECT version FROM places_meta",
        )?;
        if let Some((v, p)) = &*self.places.borrow() {
            if *v == version {
                return Ok(p.clone());
            }
        }
        let mut q = self.conn.prepare_cached(
            "SELECT name, county, health_department, iap_area, zip_codes, other_names
             FROM towns ORDER BY name",
        )?;
        let towns = q
            .query_map([], |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<String>(1)?,
                    r.get::<String>(2)?,
                    r.get::<Option<String>>(3)?,
                    r.get::<String>(4)?,
                    r.get::<String>(5)?,
                ))
            })?
            .map(|row| {
                let (name, county, health_department, iap_area, zips, others) = row?;
                let split = |s: &str, sep: char| -> Vec<String> {
                    s.split(sep)
                        .filter(|x| !x.is_empty())
                        .map(str::to_string)
                        .collect()
                };
                Ok(Town {
                    county: super::codec::stored("county", County::parse(&county))?,
                    name,
                    health_department,
                    iap_area,
                    zip_codes: split(&zips, ' '),
                    other_names: split(&others, ';'),
                })
            })
            .collect::<Result<Vec<Town>>>()?;
        let places = Arc::new(super::codec::stored("towns table", Places::new(towns))?);
        *self.places.borrow_mut() = Some((version, places.clone()));
        Ok(places)
    }

    fn replace_places(&self, p: &Places, source: &str, at: NaiveDateTime) -> Result<u64> {
        self.in_transaction(|s| {
            s.write_towns(p, source, Some(at))?;
            s.place_patients()
        })
    }

    fn places_source(&self) -> Result<(String, String)> {
        Ok(self
            .conn
            .query_row("SELECT source, loaded_at FROM places_meta", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?)
    }

    fn patients_by_town(&self) -> Result<Vec<(Option<String>, u64)>> {
        let mut q = self.conn.prepare(
            "SELECT town, COUNT(*) FROM patients WHERE merged_into IS NULL GROUP BY town ORDER BY town",
        )?;
        let rows = q
            .query_map([], |r| Ok((r.get(0)?, r.get::<i64>(1)? as u64)))?
            .collect::<crate::sql::Result<Vec<_>>>()?;
        Ok(rows)
    }
}
