//! Program agreements: the enrollment agreement a clinic's signing physician signs in the
//! app for the Connecticut Vaccine Program (CVP, childhood vaccine) or the adult program
//! (CVFA), and signs again every year. The text is versioned; a signature names the
//! version, the typed name and the date. A clinic without a current agreement is flagged
//! to the state and may not order public vaccine. Pure: the store keeps signatures, the
//! use case authorizes and audits.

use crate::error::{CoreError, Result};
use crate::ids::ClinicPin;
use crate::org::Clinic;
use chrono::{Months, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

pub use crate::program::Program;

impl Program {
    /// The agreement text users sign now.
    pub fn current(self) -> &'static AgreementText {
        match self {
            Program::Cvp => &CVP_2026,
            Program::Cvfa => &CVFA_2026,
        }
    }
}

/// One version of an agreement's text.
#[derive(Debug)]
pub struct AgreementText {
    pub program: Program,
    /// Changes whenever the text changes; a signature of an older version is not current.
    pub version: &'static str,
    pub title: &'static str,
    /// The provider's commitments, one per paragraph.
    pub terms: &'static [&'static str],
}

/// Commitments common to both programs (from the federal Vaccines for Children provider
/// agreement's obligations, which state programs adopt), worded for ctwiz.
const CVP_2026: AgreementText = AgreementText {
    program: Program::Cvp,
    version: "CVP-2026.1",
    title: "Connecticut Vaccine Program provider agreement, 2026–2027",
    terms: &[
        "I will screen every child at each immunization visit for program eligibility and record it with each dose, and give state-supplied vaccine only to eligible children.",
        "I will follow the immunization schedules, doses and contraindications recommended by the Advisory Committee on Immunization Practices, unless a child's health or a parent's request under state law makes an exception.",
        "I will give the current Vaccine Information Statement before each dose and keep the records the National Childhood Vaccine Injury Act requires for at least three years.",
        "I will not charge for state-supplied vaccine, and will not deny a dose to an eligible child whose family cannot pay the administration fee.",
        "I will store and handle vaccine as the program requires, report temperature excursions, wastage and returns, and reconcile inventory every month before ordering.",
        "I will report every dose given to the Connecticut immunization registry within the time state law sets, and keep the clinic's staff list and contact information current.",
        "I will take part in program compliance visits and operate within fraud and abuse rules; I understand that the program may suspend the clinic for not meeting these terms.",
    ],
};

const CVFA_2026: AgreementText = AgreementText {
    program: Program::Cvfa,
    version: "CVFA-2026.1",
    title: "Connecticut Vaccine For Adults provider agreement, 2026–2027",
    terms: &[
        "I will screen adults for eligibility under the program's criteria and record it with each dose, and give program vaccine only to eligible adults.",
        "I will follow the adult immunization schedule recommended by the Advisory Committee on Immunization Practices.",
        "I will give the current Vaccine Information Statement before each dose and keep the records required by law.",
        "I will not charge for program vaccine.",
        "I will store and handle vaccine as the program requires, report temperature excursions, wastage and returns, and reconcile inventory every month before ordering.",
        "I will report every dose given to the Connecticut immunization registry within the time state law sets.",
        "I will take part in program compliance visits; I understand that the program may suspend the clinic for not meeting these terms.",
    ],
};

/// A signature of an agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    pub clinic: ClinicPin,
    pub program: Program,
    pub version: String,
    /// The name the physician typed as their signature.
    pub typed_name: String,
    /// Who was signed in (the account label).
    pub signed_by: String,
    pub signed_at: NaiveDateTime,
}

/// How long a signature lasts: enrollment is renewed every year.
pub const TERM: Months = Months::new(12);

impl Signature {
    /// A signature of `program`'s current text by `signed_by`, who typed `typed_name`
    /// and ticked that they agree. Private-only clinics order no public vaccine and sign
    /// nothing.
    pub fn new(
        clinic: &Clinic,
        program: Program,
        typed_name: &str,
        agreed: bool,
        signed_by: &str,
        at: NaiveDateTime,
    ) -> Result<Signature> {
        clinic
            .program
            .check_enrolled(clinic.pin.as_str(), program)
            .map_err(|e| {
                CoreError::Rule(format!("{e}; it signs no {} agreement", program.short()))
            })?;
        if !agreed {
            return Err(CoreError::Rule(
                "tick \"I agree\" to sign: the agreement is signed only by agreeing to every term"
                    .into(),
            ));
        }
        let name = typed_name.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.chars().filter(|c| c.is_alphabetic()).count() < 2 || !name.contains(' ') {
            return Err(CoreError::invalid(
                "typed name",
                typed_name,
                "type your first and last name as your signature",
            ));
        }
        Ok(Signature {
            clinic: clinic.pin.clone(),
            program,
            version: program.current().version.to_string(),
            typed_name: name,
            signed_by: signed_by.to_string(),
            signed_at: at,
        })
    }

    /// The last day the signature counts.
    pub fn valid_through(&self) -> NaiveDate {
        self.signed_at.date() + TERM
    }

    /// Whether the signature is of the current text and within its year on `today`.
    pub fn is_current(&self, today: NaiveDate) -> bool {
        self.version == self.program.current().version && today <= self.valid_through()
    }
}

/// Whether a clinic may order `program`'s vaccine on `today`: a current signature of
/// that program's agreement. `signatures` are the clinic's, any order.
pub fn may_order(signatures: &[Signature], program: Program, today: NaiveDate) -> bool {
    signatures
        .iter()
        .any(|s| s.program == program && s.is_current(today))
}

/// The newest signature per program, for the clinic's page and the state's list.
pub fn latest(signatures: &[Signature], program: Program) -> Option<&Signature> {
    signatures
        .iter()
        .filter(|s| s.program == program)
        .max_by_key(|s| s.signed_at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::{County, ProgramType};

    fn at(s: &str) -> NaiveDateTime {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap()
    }

    fn cvp() -> Clinic {
        Clinic::new(
            ClinicPin::new("CT1").unwrap(),
            "Clinic",
            County::Hartford,
            ProgramType::Cvp,
        )
        .unwrap()
    }

    #[test]
    fn a_signature_lasts_a_year_and_only_for_the_current_text() {
        let s = Signature::new(
            &cvp(),
            Program::Cvp,
            " Maria   Lopez ",
            true,
            "web:doc",
            at("2026-03-01"),
        )
        .unwrap();
        assert_eq!(s.typed_name, "Maria Lopez");
        assert_eq!(s.version, "CVP-2026.1");
        assert!(s.is_current(at("2027-03-01").date()));
        assert!(!s.is_current(at("2027-03-02").date()));
        assert!(may_order(
            std::slice::from_ref(&s),
            Program::Cvp,
            at("2026-12-01").date()
        ));
        assert!(
            !may_order(
                std::slice::from_ref(&s),
                Program::Cvfa,
                at("2026-12-01").date()
            ),
            "a CVP signature does not let the clinic order CVFA vaccine"
        );
        assert!(!may_order(&[], Program::Cvp, at("2026-12-01").date()));
        let old = Signature {
            version: "CVP-2025.1".into(),
            ..s.clone()
        };
        assert!(
            !old.is_current(at("2026-03-02").date()),
            "an older text must be signed again"
        );
        assert_eq!(latest(&[old.clone(), s.clone()], Program::Cvp), Some(&s));
        assert_eq!(latest(&[old, s], Program::Cvfa), None);
    }

    #[test]
    fn signing_needs_agreement_a_full_name_and_a_public_clinic() {
        let now = at("2026-03-01");
        let e = Signature::new(&cvp(), Program::Cvp, "Maria Lopez", false, "u", now).unwrap_err();
        assert!(e.to_string().contains("I agree"), "{e}");
        for bad in ["", "  ", "M", "Maria"] {
            let e = Signature::new(&cvp(), Program::Cvp, bad, true, "u", now).unwrap_err();
            assert!(
                e.to_string().contains("first and last name"),
                "{bad:?}: {e}"
            );
        }
        let mut private = cvp();
        private.program = ProgramType::PrivateOnly;
        let e = Signature::new(&private, Program::Cvfa, "Maria Lopez", true, "u", now).unwrap_err();
        assert!(e.to_string().contains("private-only"), "{e}");
        let e = Signature::new(&cvp(), Program::Cvfa, "Maria Lopez", true, "u", now).unwrap_err();
        assert!(
            e.to_string().contains("not enrolled in CVFA"),
            "a CVP clinic signs no CVFA agreement: {e}"
        );
        assert_eq!(Program::parse(" CVFA ").unwrap(), Program::Cvfa);
        assert!(Program::parse("vfc").is_err());
    }
}
