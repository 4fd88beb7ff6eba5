//! Reading the audit log (HIPAA accounting of disclosures): who saw or changed which
//! record, when, through which door, acting for which clinic.
//!
//! Only actors the matrix allows [`Action::AuditView`] statewide (DPH state users) read
//! it, and reading it is itself audited; a refusal is audited too, as
//! [`AuditAction::Denied`].

use crate::{AuditAction, AuditEntry, AuditFilter, AuditStore, StoreError};
use chrono::NaiveDateTime;
use ctwiz_core::access::{Action, Target};
use ctwiz_core::actor::{authorize_at, Actor, Denied};

/// Why the log was not read.
#[derive(Debug, thiserror::Error)]
pub enum AuditReadError {
    #[error(transparent)]
    Denied(#[from] Denied),
    /// `until` is exclusive, so a period must start before it ends.
    #[error("the period from {since} to {until} is empty: it must start before it ends")]
    EmptyPeriod {
        since: NaiveDateTime,
        until: NaiveDateTime,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What was asked, for the audit row of the read (`patient 12, user jdoe, since …`).
fn describe(f: &AuditFilter) -> String {
    let mut parts = Vec::new();
    if let Some(p) = f.patient {
        parts.push(format!("patient {p}"));
    }
    if let Some(u) = &f.user {
        parts.push(format!("user {u}"));
    }
    if let Some(t) = f.since {
        parts.push(format!("since {t}"));
    }
    if let Some(t) = f.until {
        parts.push(format!("until {t}"));
    }
    if parts.is_empty() {
        parts.push("all records".into());
    }
    parts.join(", ")
}

/// The audit rows matching `filter`, newest first, read by `actor` at `at`; the read is
/// recorded in the log (after the rows are taken, so it is not among them).
pub fn read<S: AuditStore + ?Sized>(
    store: &S,
    actor: &Actor,
    filter: &AuditFilter,
    at: NaiveDateTime,
) -> Result<Vec<AuditEntry>, AuditReadError> {
    super::audit_refusal::<_, AuditReadError, _>(
        store,
        actor,
        filter.patient,
        at,
        |_| format!("audit log read refused ({})", describe(filter)),
        authorize_at(actor, Target::State, Action::AuditView),
    )?;
    if let (Some(since), Some(until)) = (filter.since, filter.until) {
        if since >= until {
            return Err(AuditReadError::EmptyPeriod { since, until });
        }
    }
    let rows = store.audit_query(filter)?;
    let detail = format!("audit log read: {} ({} rows)", describe(filter), rows.len());
    store.audit(&super::audit_entry(
        actor,
        filter.patient,
        AuditAction::Read,
        at,
        detail,
    ))?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Interface, SqliteStore};
    use ctwiz_core::access::{Grant, Role, Scope, User};
    use ctwiz_core::actor::{Acting, Channel};
    use ctwiz_core::ids::{ClinicPin, Email, PatientId, Username};
    use ctwiz_core::org::County;

    fn actor(role: Role, scope: Scope, acting: Acting) -> Actor {
        let mut u = User::new(
            Username::new("reader").unwrap(),
            "Reader",
            Email::new("r@example.org").unwrap(),
        )
        .unwrap();
        u.grant(Grant::new(role, scope).unwrap());
        Actor::new(u, acting, Channel::Cli)
    }

    fn at(h: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 3, 1)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    }

    #[test]
    fn state_reads_and_the_read_is_logged_others_are_refused_and_logged() {
        let s = SqliteStore::open_in_memory().unwrap();
        let p = PatientId(7);
        let seen = AuditEntry {
            at: at(9),
            actor: "web:nurse@C1".into(),
            patient: Some(p),
            action: AuditAction::Read,
            interface: Interface::Web,
            clinic: Some(ClinicPin::new("C1").unwrap()),
            detail: "immunization home viewed".into(),
        };
        s.audit(&seen).unwrap();
        let only_p = AuditFilter {
            patient: Some(p),
            ..AuditFilter::default()
        };

        let state = actor(Role::StateAdmin, Scope::State, Acting::State);
        assert_eq!(
            read(&s, &state, &only_p, at(10)).unwrap(),
            vec![seen.clone()]
        );
        let again = read(&s, &state, &only_p, at(11)).unwrap();
        assert_eq!(again.len(), 2);
        assert_eq!(again[0].actor, "cli:reader");
        assert!(
            again[0].detail.starts_with("audit log read: patient 7"),
            "{}",
            again[0].detail
        );

        let pin = ClinicPin::new("C1").unwrap();
        let coordinator = actor(
            Role::PrimaryVaccineCoordinator,
            Scope::Clinic(pin.clone()),
            Acting::Clinic {
                pin,
                at: ctwiz_core::place::Locality::county(County::Hartford),
            },
        );
        assert!(matches!(
            read(&s, &coordinator, &only_p, at(12)),
            Err(AuditReadError::Denied(Denied::NotAllowed(
                Action::AuditView
            )))
        ));
        let last = &read(&s, &state, &only_p, at(13)).unwrap()[0];
        assert_eq!(
            (last.action, last.actor.as_str()),
            (AuditAction::Denied, "cli:reader@C1")
        );

        let backwards = AuditFilter {
            since: Some(at(12)),
            until: Some(at(10)),
            ..AuditFilter::default()
        };
        assert!(matches!(
            read(&s, &state, &backwards, at(14)),
            Err(AuditReadError::EmptyPeriod { .. })
        ));
    }
}
