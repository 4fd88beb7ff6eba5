//! SQLite implementation of [`crate::onboarding::OnboardingStore`].

use super::codec;
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::onboarding::{Onboarding, OnboardingStore, StageEvent};
use crate::sql::params;
use chrono::NaiveDateTime;
use ctwiz_core::ids::ClinicPin;
use ctwiz_core::onboarding::{Application, Stage};

fn time(s: &str) -> Result<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, codec::DATETIME)
        .map_err(|e| StoreError::Corrupt(format!("onboarding time {s:?}: {e}")))
}

fn stage(s: &str) -> Result<Stage> {
    codec::stored("onboarding stage", Stage::parse(s))
}

impl SqliteStore {
    fn onboarding_where(&self, clinic: Option<&ClinicPin>) -> Result<Vec<Onboarding>> {
        let mut st = self.conn.prepare_cached(
            "SELECT clinic_pin, application, stage, applied_at FROM onboarding
              WHERE CAST(?1 AS TEXT) IS NULL OR clinic_pin = ?1 ORDER BY clinic_pin",
        )?;
        let mut rows = st.query([clinic.map(|c| c.as_str())])?;
        let mut out = Vec::new();
        while let Some(ref r) = rows.next()? {
            let pin: String = r.get(0)?;
            let app: Application = serde_json::from_str(&r.get::<String>(1)?)?;
            out.push(Onboarding {
                clinic: codec::stored("clinic PIN", ClinicPin::new(&pin))?,
                application: app,
                stage: stage(&r.get::<String>(2)?)?,
                applied_at: time(&r.get::<String>(3)?)?,
                history: Vec::new(),
            });
        }
        for o in &mut out {
            let mut st = self.conn.prepare_cached(
                "SELECT at, by_actor, from_stage, to_stage, notes FROM onboarding_events
                  WHERE clinic_pin = ?1 ORDER BY at, rowid",
            )?;
            let mut rows = st.query([o.clinic.as_str()])?;
            while let Some(ref r) = rows.next()? {
                o.history.push(StageEvent {
                    at: time(&r.get::<String>(0)?)?,
                    by: r.get(1)?,
                    from: r
                        .get::<Option<String>>(2)?
                        .as_deref()
                        .map(stage)
                        .transpose()?,
                    to: stage(&r.get::<String>(3)?)?,
                    notes: r.get(4)?,
                });
            }
        }
        Ok(out)
    }

    fn onboarding_event(&self, clinic: &ClinicPin, e: &StageEvent) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO onboarding_events (clinic_pin, at, by_actor, from_stage, to_stage, notes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                clinic.as_str(),
                e.at.format(codec::DATETIME).to_string(),
                e.by,
                e.from.map(|s| s.key()),
                e.to.key(),
                e.notes
            ])?;
        Ok(())
    }
}

impl OnboardingStore for SqliteStore {
    fn create_onboarding(
        &self,
        clinic: &ClinicPin,
        app: &Application,
        by: &str,
        at: NaiveDateTime,
    ) -> Result<()> {
        self.in_transaction(|s| {
            let done = s
                .conn
                .prepare_cached(
                    "INSERT INTO onboarding (clinic_pin, application, stage, applied_at, applied_by)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    clinic.as_str(),
                    serde_json::to_string(app)?,
                    Stage::Applied.key(),
                    at.format(codec::DATETIME).to_string(),
                    by
                ]);
            match done {
                Ok(_) => {}
                Err(e) if e.is_constraint_violation() => {
                    return Err(StoreError::Conflict(format!(
                        "clinic {clinic} has applied already; see its onboarding"
                    )))
                }
                Err(e) => return Err(e.into()),
            }
            s.onboarding_event(
                clinic,
                &StageEvent {
                    at,
                    by: by.to_string(),
                    from: None,
                    to: Stage::Applied,
                    notes: String::new(),
                },
            )
        })
    }

    fn onboarding(&self, clinic: &ClinicPin) -> Result<Option<Onboarding>> {
        Ok(self.onboarding_where(Some(clinic))?.pop())
    }

    fn onboardings(&self) -> Result<Vec<Onboarding>> {
        self.onboarding_where(None)
    }

    fn move_onboarding(&self, clinic: &ClinicPin, from: Stage, e: &StageEvent) -> Result<()> {
        self.in_transaction(|s| {
            let n = s
                .conn
                .prepare_cached(
                    "UPDATE onboarding SET stage = ?3 WHERE clinic_pin = ?1 AND stage = ?2",
                )?
                .execute(params![clinic.as_str(), from.key(), e.to.key()])?;
            if n == 0 {
                return Err(StoreError::Conflict(format!(
                    "clinic {clinic} is no longer at \"{}\"; reload its onboarding",
                    from.label()
                )));
            }
            s.onboarding_event(clinic, e)
        })
    }
}
