//! IAP outreach: a practice refers a child who is behind (from its clean-up or recall
//! list) to the Immunization Action Plan (IAP) area of the child's town; the area's
//! coordinator records each attempt to reach the family (phone, postcard, home visit…)
//! and closes the referral with what came of it.
//!
//! The rules here are the referral's life: where it goes, one open referral per child,
//! attempts only while open, an outcome closes it for good.

use crate::error::{CoreError, Result};
use crate::ids::{ClinicPin, PatientId};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

/// How the coordinator tried to reach the family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AttemptMethod {
    Phone,
    Postcard,
    Letter,
    TextMessage,
    HomeVisit,
}

impl AttemptMethod {
    pub const ALL: [AttemptMethod; 5] = [
        AttemptMethod::Phone,
        AttemptMethod::Postcard,
        AttemptMethod::Letter,
        AttemptMethod::TextMessage,
        AttemptMethod::HomeVisit,
    ];

    pub fn key(self) -> &'static str {
        match self {
            AttemptMethod::Phone => "phone",
            AttemptMethod::Postcard => "postcard",
            AttemptMethod::Letter => "letter",
            AttemptMethod::TextMessage => "text",
            AttemptMethod::HomeVisit => "home-visit",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AttemptMethod::Phone => "Phone call",
            AttemptMethod::Postcard => "Postcard",
            AttemptMethod::Letter => "Letter",
            AttemptMethod::TextMessage => "Text message",
            AttemptMethod::HomeVisit => "Home visit",
        }
    }

    pub fn parse(s: &str) -> Result<AttemptMethod> {
        parse_key(s, "attempt method", &AttemptMethod::ALL, |m| {
            (m.key(), m.label())
        })
    }
}

/// What came of the outreach; recording one closes the referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Outcome {
    /// The child received the missing doses (or they were found and recorded).
    BroughtUpToDate,
    /// The family was reached and named a new primary care provider.
    NewPrimaryCareProvider,
    /// The family has left Connecticut: the record is marked moved or gone elsewhere.
    MovedOutOfState,
    /// Every attempt failed.
    Unreachable,
    /// The parent or guardian declined the vaccines.
    Declined,
}

impl Outcome {
    pub const ALL: [Outcome; 5] = [
        Outcome::BroughtUpToDate,
        Outcome::NewPrimaryCareProvider,
        Outcome::MovedOutOfState,
        Outcome::Unreachable,
        Outcome::Declined,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Outcome::BroughtUpToDate => "up-to-date",
            Outcome::NewPrimaryCareProvider => "new-provider",
            Outcome::MovedOutOfState => "moved-out-of-state",
            Outcome::Unreachable => "unreachable",
            Outcome::Declined => "declined",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Outcome::BroughtUpToDate => "Brought up to date",
            Outcome::NewPrimaryCareProvider => "New primary care provider identified",
            Outcome::MovedOutOfState => "Moved out of state",
            Outcome::Unreachable => "Unreachable",
            Outcome::Declined => "Declined by parent or guardian",
        }
    }

    pub fn parse(s: &str) -> Result<Outcome> {
        parse_key(s, "outcome", &Outcome::ALL, |o| (o.key(), o.label()))
    }
}

fn parse_key<T: Copy>(
    s: &str,
    field: &'static str,
    all: &[T],
    names: impl Fn(T) -> (&'static str, &'static str),
) -> Result<T> {
    let t = s.trim().to_lowercase();
    all.iter()
        .copied()
        .find(|x| {
            let (k, l) = names(*x);
            k == t || l.to_lowercase() == t
        })
        .ok_or_else(|| CoreError::Unknown {
            field,
            value: s.trim().to_string(),
            valid: all
                .iter()
                .map(|x| names(*x).0)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// One attempt to reach the family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub at: NaiveDateTime,
    pub by: String,
    pub method: AttemptMethod,
    pub note: String,
}

/// A referral as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    pub id: i64,
    pub patient: PatientId,
    /// The practice that referred the child.
    pub clinic: ClinicPin,
    pub iap_area: String,
    /// Why: what the referring list said was missing.
    pub reason: String,
    pub referred_by: String,
    pub referred_at: NaiveDateTime,
    pub attempts: Vec<Attempt>,
    pub outcome: Option<(Outcome, NaiveDateTime, String)>,
    /// A note with the outcome (e.g. the new provider's name).
    pub outcome_note: String,
}

impl Referral {
    pub fn is_open(&self) -> bool {
        self.outcome.is_none()
    }
}

/// Longest free text kept with a referral, an attempt or an outcome.
pub const NOTE_MAX: usize = 500;

/// A note as kept: trimmed, at most [`NOTE_MAX`] characters.
pub fn note(field: &'static str, s: &str) -> Result<String> {
    let s = s.trim();
    let len = s.chars().count();
    if len > NOTE_MAX {
        return Err(CoreError::TooLong {
            field,
            len,
            max: NOTE_MAX,
        });
    }
    Ok(s.to_string())
}

/// The IAP area a child is referred to: the area of the town they live in. A child whose
/// address places them in no area cannot be referred (the practice must correct it).
pub fn area_for(iap_area: Option<&str>, patient: PatientId) -> Result<String> {
    iap_area.map(str::to_string).ok_or_else(|| {
        CoreError::Rule(format!(
            "patient {patient} lives in no IAP area: check the address (a Connecticut town or ZIP) before referring"
        ))
    })
}

/// A child has at most one open referral: another practice's (or a second) referral
/// while one is open is refused, naming it.
pub fn check_no_open(open: Option<&Referral>) -> Result<()> {
    match open {
        Some(r) => Err(CoreError::Rule(format!(
            "patient {} already has open referral {} to {} (from {} on {})",
            r.patient,
            r.id,
            r.iap_area,
            r.clinic,
            r.referred_at.date()
        ))),
        None => Ok(()),
    }
}

/// Attempts and outcomes only on an open referral.
pub fn check_open(r: &Referral) -> Result<()> {
    match &r.outcome {
        Some((o, at, _)) => Err(CoreError::Rule(format!(
            "referral {} was closed on {} ({}); open a new referral if the child is behind again",
            r.id,
            at.date(),
            o.label()
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn referral(outcome: Option<Outcome>) -> Referral {
        let at = NaiveDate::from_ymd_opt(2026, 3, 1)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        Referral {
            id: 7,
            patient: PatientId(42),
            clinic: ClinicPin::new("CT1").unwrap(),
            iap_area: "Hartford IAP".into(),
            reason: "4+ DTaP".into(),
            referred_by: "web:nurse@CT1".into(),
            referred_at: at,
            attempts: Vec::new(),
            outcome: outcome.map(|o| (o, at, "web:iap".to_string())),
            outcome_note: String::new(),
        }
    }

    #[test]
    fn one_open_referral_per_child_and_no_work_on_a_closed_one() {
        assert!(check_no_open(None).is_ok());
        let e = check_no_open(Some(&referral(None)))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("open referral 7") && e.contains("Hartford IAP"),
            "{e}"
        );
        assert!(check_open(&referral(None)).is_ok());
        let e = check_open(&referral(Some(Outcome::Unreachable)))
            .unwrap_err()
            .to_string();
        assert!(e.contains("closed") && e.contains("Unreachable"), "{e}");
    }

    #[test]
    fn methods_and_outcomes_parse_by_key_or_label() {
        for m in AttemptMethod::ALL {
            assert_eq!(AttemptMethod::parse(m.key()).unwrap(), m);
            assert_eq!(AttemptMethod::parse(&m.label().to_uppercase()).unwrap(), m);
        }
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.key()).unwrap(), o);
        }
        let e = Outcome::parse("lost").unwrap_err().to_string();
        assert!(e.contains("moved-out-of-state"), "{e}");
        assert!(area_for(None, PatientId(1))
            .unwrap_err()
            .to_string()
            .contains("no IAP area"));
        assert!(note("note", &"x".repeat(NOTE_MAX + 1)).is_err());
    }
}
