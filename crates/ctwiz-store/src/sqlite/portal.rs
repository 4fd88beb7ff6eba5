//! SQLite implementation of the portal's store (see `crate::portal`).

use super::codec;
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::portal::{NewRelease, PortalStore, PortalVisit, Release, StoredChallenge, TextMessage};
use crate::sql::{params, OptionalExtension};
use chrono::NaiveDateTime;
use ctwiz_core::ids::{PatientId, Phone};
use ctwiz_core::portal::{ChallengeState, ContactKind};

fn ts(t: NaiveDateTime) -> String {
    t.format(codec::DATETIME).to_string()
}

fn via(s: &str) -> Result<ContactKind> {
    ContactKind::parse(s).map_err(|e| StoreError::Corrupt(format!("portal_challenges.via: {e}")))
}

fn text_row(
    r: &crate::sql::Row,
) -> crate::sql::Result<(i64, String, String, String, Option<String>)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

impl SqliteStore {
    fn texts_where(&self, where_order: &str, limit: u32) -> Result<Vec<TextMessage>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT id, created_at, to_phone, body, sent_at FROM text_outbox {where_order} LIMIT ?1"
        ))?;
        let rows = st.query_map([limit], text_row)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, created, to, body, sent) = row?;
            out.push(TextMessage {
                id,
                created_at: codec::datetime(&created)?,
                to,
                body,
                sent_at: sent.as_deref().map(codec::datetime).transpose()?,
            });
        }
        Ok(out)
    }
}

impl PortalStore for SqliteStore {
    fn add_challenge(
        &self,
        token_hash: &str,
        patient: Option<PatientId>,
        via: ContactKind,
        code_hash: &str,
        now: NaiveDateTime,
    ) -> Result<i64> {
        self.conn
            .prepare_cached(
                "INSERT INTO portal_challenges (token_hash, patient_id, via, code_hash, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                token_hash,
                patient.map(|p| p.0),
                via.key(),
                code_hash,
                ts(now)
            ])?;
        Ok(self.conn.last_insert_rowid()?)
    }

    fn challenge(&self, token_hash: &str) -> Result<Option<StoredChallenge>> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT id, patient_id, via, code_hash, created_at, tries, verified_at
                 FROM portal_challenges WHERE token_hash = ?1",
            )?
            .query_row([token_hash], |r| {
                Ok((
                    r.get::<i64>(0)?,
                    r.get::<Option<i64>>(1)?,
                    r.get::<String>(2)?,
                    r.get::<String>(3)?,
                    r.get::<String>(4)?,
                    r.get::<u32>(5)?,
                    r.get::<Option<String>>(6)?,
                ))
            })
            .optional()?;
        let Some((id, patient, v, code_hash, created, tries, verified)) = row else {
            return Ok(None);
        };
        Ok(Some(StoredChallenge {
            id,
            patient: patient.map(PatientId),
            via: via(&v)?,
            code_hash,
            state: ChallengeState {
                created_at: codec::datetime(&created)?,
                tries,
                verified_at: verified.as_deref().map(codec::datetime).transpose()?,
            },
        }))
    }

    fn set_challenge_tries(&self, id: i64, tries: u32) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE portal_challenges SET tries = ?2 WHERE id = ?1")?
            .execute(params![id, tries])?;
        Ok(())
    }

    fn use_challenge(&self, id: i64, at: NaiveDateTime) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE portal_challenges SET verified_at = ?2 WHERE id = ?1")?
            .execute(params![id, ts(at)])?;
        Ok(())
    }

    fn codes_sent_since(&self, patient: PatientId, since: NaiveDateTime) -> Result<u32> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM portal_challenges
                 WHERE patient_id = ?1 AND created_at >= ?2 AND code_hash <> ''",
            )?
            .query_row(params![patient.0, ts(since)], |r| r.get(0))?)
    }

    fn add_visit(&self, token_hash: &str, visit: &PortalVisit, now: NaiveDateTime) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO portal_visits (token_hash, challenge_id, patient_id, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                token_hash,
                visit.challenge,
                visit.patient.0,
                ts(now),
                ts(visit.expires_at)
            ])?;
        Ok(())
    }

    fn visit(&self, token_hash: &str) -> Result<Option<PortalVisit>> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT patient_id, challenge_id, expires_at FROM portal_visits WHERE token_hash = ?1",
            )?
            .query_row([token_hash], |r| {
                Ok((r.get::<i64>(0)?, r.get::<i64>(1)?, r.get::<String>(2)?))
            })
            .optional()?;
        row.map(|(p, c, e)| {
            Ok(PortalVisit {
                patient: PatientId(p),
                challenge: c,
                expires_at: codec::datetime(&e)?,
            })
        })
        .transpose()
    }

    fn end_visit(&self, token_hash: &str) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM portal_visits WHERE token_hash = ?1")?
            .execute([token_hash])?;
        Ok(())
    }

    fn expire_portal(&self, before: NaiveDateTime) -> Result<u64> {
        self.in_transaction(|s| {
            let t = ts(before);
            let visits = s
                .conn
                .prepare_cached("DELETE FROM portal_visits WHERE expires_at < ?1")?
                .execute([&t])?;
            // A challenge is kept while a visit it opened lives, and for the per-record
            // limit's window (the caller passes a `before` older than that window).
            let challenges = s
                .conn
                .prepare_cached(
                    "DELETE FROM portal_challenges WHERE created_at < ?1
                     AND id NOT IN (SELECT challenge_id FROM portal_visits)",
                )?
                .execute([&t])?;
            Ok((visits + challenges) as u64)
        })
    }

    fn queue_text(&self, to: &Phone, body: &str, now: NaiveDateTime) -> Result<i64> {
        self.conn
            .prepare_cached(
                "INSERT INTO text_outbox (created_at, to_phone, body) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![ts(now), to.as_str(), body])?;
        Ok(self.conn.last_insert_rowid()?)
    }

    fn texts(&self, limit: u32) -> Result<Vec<TextMessage>> {
        self.texts_where("ORDER BY id DESC", limit)
    }

    fn unsent_texts(&self, limit: u32) -> Result<Vec<TextMessage>> {
        self.texts_where("WHERE sent_at IS NULL ORDER BY id", limit)
    }

    fn mark_text_sent(&self, id: i64, at: NaiveDateTime) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE text_outbox SET sent_at = ?2 WHERE id = ?1")?
            .execute(params![id, ts(at)])?;
        Ok(())
    }

    fn add_release(
        &self,
        patient: PatientId,
        r: &NewRelease,
        recorded_by: &str,
        now: NaiveDateTime,
    ) -> Result<i64> {
        self.conn
            .prepare_cached(
                "INSERT INTO releases (patient_id, signed_by, relationship, released_to, information,
                                       signed_on, recorded_by, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                patient.0,
                r.signed_by,
                r.relationship,
                r.released_to,
                r.information,
                codec::date_text(r.signed_on),
                recorded_by,
                ts(now)
            ])?;
        Ok(self.conn.last_insert_rowid()?)
    }

    fn releases(&self, patient: PatientId) -> Result<Vec<Release>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, signed_by, relationship, released_to, information, signed_on,
                    recorded_by, recorded_at
             FROM releases WHERE patient_id = ?1 ORDER BY signed_on DESC, id DESC",
        )?;
        let rows = st.query_map([patient.0], |r| {
            Ok((
                r.get::<i64>(0)?,
                r.get::<String>(1)?,
                r.get::<String>(2)?,
                r.get::<String>(3)?,
                r.get::<String>(4)?,
                r.get::<String>(5)?,
                r.get::<String>(6)?,
                r.get::<String>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, signed_by, relationship, released_to, information, on, by, at) = row?;
            out.push(Release {
                id,
                patient,
                signed_by,
                relationship,
                released_to,
                information,
                signed_on: codec::date(&on)?,
                recorded_by: by,
                recorded_at: codec::datetime(&at)?,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn challenges_visits_texts_and_releases_round_trip() {
        let s = SqliteStore::open_in_memory().unwrap();
        let now = t("2026-12-01 10:00:00");
        let decoy = s
            .add_challenge("h1", None, ContactKind::Email, "", now)
            .unwrap();
        let c = s.challenge("h1").unwrap().unwrap();
        assert_eq!((c.id, c.patient, c.via), (decoy, None, ContactKind::Email));
        s.set_challenge_tries(decoy, 3).unwrap();
        s.use_challenge(decoy, now).unwrap();
        let c = s.challenge("h1").unwrap().unwrap();
        assert_eq!((c.state.tries, c.state.verified_at), (3, Some(now)));
        assert!(s.challenge("h2").unwrap().is_none());

        let id = s
            .queue_text(&Phone::new("8605550100").unwrap(), "code 123456", now)
            .unwrap();
        assert_eq!(s.unsent_texts(10).unwrap().len(), 1);
        s.mark_text_sent(id, now).unwrap();
        assert!(s.unsent_texts(10).unwrap().is_empty());
        assert_eq!(s.texts(10).unwrap()[0].to, "8605550100");

        assert_eq!(s.expire_portal(t("2026-12-01 11:00:00")).unwrap(), 1);
        assert!(s.challenge("h1").unwrap().is_none());
    }
}
