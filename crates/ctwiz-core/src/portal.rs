//! The public portal's rules: who a searcher may reach without an account, and the
//! two-factor verification that opens a record to them (a one-time code sent only to a
//! contact already on the record). Pure: the store keeps the challenges, the web door
//! renders the pages, the clock and the random code come from the caller.
//!
//! The portal must not tell a searcher whether a record exists: every search gets the
//! same answer, in content and (the door pads it to [`ANSWER_FLOOR`]) in time, and a
//! search that matches nothing still gets a challenge that no code will ever open.

use crate::error::{CoreError, Result};
use crate::ids::{Email, Phone};
use crate::matching::normalize_name;
use crate::patient::{Patient, PatientStatus, Sex};
use chrono::{Duration, NaiveDate, NaiveDateTime};

/// How long a code may be used after it is sent.
pub const CODE_TTL: Duration = Duration::minutes(10);
/// Wrong codes before the challenge locks (the searcher must start again).
pub const MAX_TRIES: u32 = 5;
/// How long the record stays open after a successful verification.
pub const VIEW_TTL: Duration = Duration::minutes(15);
/// Codes sent for one record within [`RECORD_WINDOW`]; more searches for that record
/// are answered the same way but send nothing (a record's contact is not spammed).
pub const CODES_PER_RECORD: u32 = 3;
pub const RECORD_WINDOW: Duration = Duration::hours(1);
/// Contacts of one kind a code goes to (the patient's own and the guardians').
pub const MAX_CONTACTS: usize = 3;
/// The least time the search answer takes, match or not (milliseconds). Longer than the
/// search and the sending ever take, so the two cannot be told apart by time.
pub const ANSWER_FLOOR_MS: u64 = 800;

/// How the searcher wants the code: to a phone on file by text, or to an e-mail on file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContactKind {
    Text,
    Email,
}

impl ContactKind {
    pub fn key(self) -> &'static str {
        match self {
            ContactKind::Text => "text",
            ContactKind::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Result<ContactKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" | "sms" => Ok(ContactKind::Text),
            "email" | "e-mail" => Ok(ContactKind::Email),
            _ => Err(CoreError::invalid(
                "contact method",
                s,
                "choose Text or Email",
            )),
        }
    }
}

/// What the searcher typed: the patient's names and birth date (and sex, optional).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSearch {
    pub given: String,
    pub family: String,
    pub dob: NaiveDate,
    pub sex: Option<Sex>,
    pub via: ContactKind,
}

impl PortalSearch {
    /// Checks the form: both names with letters (any script), a birth date not in the
    /// future and not before 1900.
    pub fn new(
        given: &str,
        family: &str,
        dob: NaiveDate,
        sex: Option<Sex>,
        via: ContactKind,
        today: NaiveDate,
    ) -> Result<PortalSearch> {
        for (field, v) in [("first name", given), ("last name", family)] {
            if normalize_name(v).is_empty() {
                return Err(CoreError::invalid(
                    field,
                    v,
                    "enter the name as on the record",
                ));
            }
        }
        if dob > today {
            return Err(CoreError::invalid(
                "date of birth",
                dob.to_string(),
                "is in the future",
            ));
        }
        if dob < crate::patient::EARLIEST_DOB {
            return Err(CoreError::invalid(
                "date of birth",
                dob.to_string(),
                "before 1900-01-01",
            ));
        }
        Ok(PortalSearch {
            given: given.trim().to_string(),
            family: family.trim().to_string(),
            dob,
            sex,
            via,
        })
    }

    /// Whether record `p` is the one searched for: the same names (compared as search
    /// keys: case, accents and punctuation aside, letters of every script kept), the
    /// same birth date, and the same sex when one was given.
    pub fn matches(&self, p: &Patient) -> bool {
        p.is_exactly(&self.given, &self.family, self.dob)
            && self.sex.is_none_or(|s| s == p.sex || p.sex == Sex::Unknown)
    }
}

/// Whether the portal may ever show record `p`: never an opted-out or confidential
/// record (their holders asked that the registry not disclose them), nor a record
/// without a living person's data (deceased records are released by the state program).
pub fn reachable(p: &Patient) -> bool {
    p.opt_out.is_none() && !p.confidential && p.status != PatientStatus::Deceased
}

/// Where a code for `p` may go: the contacts of that kind already on the record, the
/// patient's own first, then the guardians' (a parent gets a minor child's code), each
/// once, at most [`MAX_CONTACTS`]. Never an address typed by the searcher.
pub fn contacts(p: &Patient, via: ContactKind) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !out.contains(&s) && out.len() < MAX_CONTACTS {
            out.push(s);
        }
    };
    match via {
        ContactKind::Text => {
            let guardians = p.guardians.iter().filter_map(|g| g.phone.as_ref());
            for ph in p.phones.iter().chain(guardians) {
                push(Phone::as_str(ph).to_string());
            }
        }
        ContactKind::Email => {
            let guardians = p.guardians.iter().filter_map(|g| g.email.as_ref());
            for e in p.emails.iter().chain(guardians) {
                push(Email::as_str(e).to_string());
            }
        }
    }
    out
}

/// A contact as the searcher may see it (to recognise which phone or address got the
/// code on the help page of a real send): `(•••) •••-0123`, `j•••@example.org`.
pub fn masked(contact: &str, via: ContactKind) -> String {
    match via {
        ContactKind::Text => {
            let tail: String = contact
                .chars()
                .rev()
                .take(4)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("(•••) •••-{tail}")
        }
        ContactKind::Email => match contact.split_once('@') {
            Some((local, domain)) => {
                let first: String = local.chars().take(1).collect();
                format!("{first}•••@{domain}")
            }
            None => "•••".to_string(),
        },
    }
}

/// The message carrying the code. It names no patient: a text or e-mail may be read
/// by someone else holding the phone.
pub fn code_message(code: &str) -> (String, String) {
    (
        "Your CT WiZ verification code".to_string(),
        format!(
            "Your CT WiZ immunization record verification code is {code}. It expires in {} minutes. If you did not ask for it, ignore this message; nobody can use it without the browser that asked.",
            CODE_TTL.num_minutes()
        ),
    )
}

/// A challenge as the store keeps it: who it opens (if anyone), when it was sent, its
/// wrong tries so far and whether it was used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeState {
    pub created_at: NaiveDateTime,
    pub tries: u32,
    pub verified_at: Option<NaiveDateTime>,
}

/// What a code entry comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The code is right: open the record.
    Open,
    /// Wrong code; this many tries left.
    Wrong { left: u32 },
    /// Too many wrong codes: this challenge will never open.
    Locked,
    /// Older than [`CODE_TTL`], or already used.
    Expired,
}

/// Judges one code entry on a challenge in state `c` at `now`; `right` is whether the
/// code matched (the caller compares it in constant time, and only for a challenge that
/// opens a record: one from a search that matched nothing is never right). The caller
/// stores the new try count when the verdict is `Wrong` or `Locked`.
pub fn judge(c: &ChallengeState, right: bool, now: NaiveDateTime) -> Verdict {
    if c.verified_at.is_some() || now - c.created_at > CODE_TTL || now < c.created_at {
        return Verdict::Expired;
    }
    if c.tries >= MAX_TRIES {
        return Verdict::Locked;
    }
    if right {
        return Verdict::Open;
    }
    let tries = c.tries + 1;
    if tries >= MAX_TRIES {
        Verdict::Locked
    } else {
        Verdict::Wrong {
            left: MAX_TRIES - tries,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patient::{Guardian, OptOut, PersonName, Relationship};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    fn child() -> Patient {
        let mut p = Patient::new(
            PersonName::new("Zhang", "Wěi").unwrap(),
            d("2024-03-01"),
            Sex::Male,
        )
        .unwrap();
        p.phones.push(Phone::new("860-555-0100").unwrap());
        p.guardians.push(Guardian {
            name: PersonName::new("Zhang", "Li").unwrap(),
            relationship: Relationship::Mother,
            phone: Some(Phone::new("(203) 555-0199").unwrap()),
            email: Some(Email::new("li.zhang@example.org").unwrap()),
            address: None,
        });
        p
    }

    fn search(given: &str, family: &str, sex: Option<Sex>) -> PortalSearch {
        PortalSearch::new(
            given,
            family,
            d("2024-03-01"),
            sex,
            ContactKind::Text,
            d("2026-12-01"),
        )
        .unwrap()
    }

    #[test]
    fn names_match_as_search_keys_in_any_script() {
        let p = child();
        assert!(search("wěi", "ZHANG", None).matches(&p));
        assert!(search("Wěi", "Zhang", Some(Sex::Male)).matches(&p));
        assert!(!search("Wěi", "Zhang", Some(Sex::Female)).matches(&p));
        assert!(!search("Weil", "Zhang", None).matches(&p));
        let mut q = p.clone();
        q.name = PersonName::new("张", "伟").unwrap();
        assert!(search("伟", "张", None).matches(&q));
        assert!(!search("伟", "张", None).matches(&p));
    }

    #[test]
    fn bad_forms_are_refused_with_the_field_named() {
        let today = d("2026-12-01");
        let e = PortalSearch::new("", "Zhang", d("2024-03-01"), None, ContactKind::Text, today)
            .unwrap_err();
        assert!(e.to_string().contains("first name"), "{e}");
        let e = PortalSearch::new(
            "Wei",
            "Zhang",
            d("2027-01-01"),
            None,
            ContactKind::Text,
            today,
        )
        .unwrap_err();
        assert!(e.to_string().contains("future"), "{e}");
        assert!(ContactKind::parse("pigeon").is_err());
        assert_eq!(ContactKind::parse("Email").unwrap(), ContactKind::Email);
    }

    #[test]
    fn codes_go_only_to_contacts_on_file_of_the_kind_asked() {
        let p = child();
        assert_eq!(
            contacts(&p, ContactKind::Text),
            ["8605550100", "2035550199"]
        );
        assert_eq!(contacts(&p, ContactKind::Email), ["li.zhang@example.org"]);
        let mut q = p.clone();
        q.guardians.clear();
        assert!(contacts(&q, ContactKind::Email).is_empty());
        assert_eq!(masked("8605550100", ContactKind::Text), "(•••) •••-0100");
        assert_eq!(
            masked("li.zhang@example.org", ContactKind::Email),
            "l•••@example.org"
        );
    }

    #[test]
    fn opted_out_confidential_and_deceased_records_are_unreachable() {
        let p = child();
        assert!(reachable(&p));
        let mut q = p.clone();
        q.confidential = true;
        assert!(!reachable(&q));
        let mut q = p.clone();
        q.opt_out = Some(OptOut {
            date: d("2025-01-01"),
            reason: "parent's request".into(),
        });
        assert!(!reachable(&q));
    }

    #[test]
    fn five_wrong_codes_lock_and_ten_minutes_expire() {
        let sent = t("2026-12-01 10:00:00");
        let mut c = ChallengeState {
            created_at: sent,
            tries: 0,
            verified_at: None,
        };
        let now = t("2026-12-01 10:05:00");
        for left in (1..MAX_TRIES).rev() {
            assert_eq!(judge(&c, false, now), Verdict::Wrong { left });
            c.tries += 1;
        }
        assert_eq!(judge(&c, false, now), Verdict::Locked);
        c.tries += 1;
        // Locked stays locked, even for the right code.
        assert_eq!(judge(&c, true, now), Verdict::Locked);
        let fresh = ChallengeState {
            created_at: sent,
            tries: 0,
            verified_at: None,
        };
        assert_eq!(judge(&fresh, true, now), Verdict::Open);
        assert_eq!(
            judge(&fresh, true, sent + CODE_TTL + Duration::seconds(1)),
            Verdict::Expired
        );
        let used = ChallengeState {
            verified_at: Some(now),
            ..fresh
        };
        assert_eq!(judge(&used, true, now), Verdict::Expired);
    }
}
