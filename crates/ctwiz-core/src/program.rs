//! The state's public vaccine programs and a clinic's enrollment in them. Connecticut
//! supplies vaccine through two programs: the Connecticut Vaccine Program (CVP, the
//! state's Vaccines for Children program, for children under 19) and Connecticut Vaccine
//! For Adults (CVFA, for adults 19 and over). A clinic enrolls in either, both, or none
//! (private stock only); enrollment decides which program's vaccine it may hold and order
//! and which agreement its physician signs. Pure: the store keeps the enrollment with
//! the clinic.

use crate::dose::FundingSource;
use crate::error::{CoreError, Result};
use serde::{Deserialize, Serialize};

/// A public vaccine program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Program {
    /// Connecticut Vaccine Program: state-supplied vaccine for children.
    Cvp,
    /// Connecticut Vaccine For Adults.
    Cvfa,
}

/// The age (in whole years, on the day of the dose) at which a person leaves CVP for
/// CVFA: VFC covers children through 18.
pub const ADULT_AGE: u32 = 19;

impl Program {
    pub const ALL: [Program; 2] = [Program::Cvp, Program::Cvfa];

    pub fn key(self) -> &'static str {
        match self {
            Program::Cvp => "cvp",
            Program::Cvfa => "cvfa",
        }
    }

    /// The short name users know the program by.
    pub fn short(self) -> &'static str {
        match self {
            Program::Cvp => "CVP",
            Program::Cvfa => "CVFA",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Program::Cvp => "Connecticut Vaccine Program (CVP, childhood)",
            Program::Cvfa => "Connecticut Vaccine For Adults (CVFA)",
        }
    }

    pub fn parse(s: &str) -> Result<Program> {
        let t = s.trim().to_ascii_lowercase();
        Program::ALL
            .into_iter()
            .find(|p| p.key() == t)
            .ok_or_else(|| CoreError::Unknown {
                field: "program",
                value: s.into(),
                valid: "cvp, cvfa".into(),
            })
    }

    /// Whether a person aged `age_years` on the day of the dose may receive this
    /// program's vaccine.
    pub fn serves(self, age_years: u32) -> bool {
        match self {
            Program::Cvp => age_years < ADULT_AGE,
            Program::Cvfa => age_years >= ADULT_AGE,
        }
    }

    /// The program whose vaccine serves a person of `age_years`.
    pub fn for_age(age_years: u32) -> Program {
        if Program::Cvp.serves(age_years) {
            Program::Cvp
        } else {
            Program::Cvfa
        }
    }

    /// The funding source a dose of this program's vaccine carries (CDC funding-source
    /// codes, OBX 30963-3): CVP stock is public (VXC50: Connecticut buys childhood vaccine
    /// for every child, VFC-eligible or not, so the generic code), CVFA stock is public
    /// outside VFC (VXC52).
    pub fn funding(self) -> FundingSource {
        match self {
            Program::Cvp => FundingSource::Public,
            Program::Cvfa => FundingSource::PublicNonVfc,
        }
    }

    /// Refuses drawing this program's vaccine for a person of `age_years`: CVP vaccine
    /// is for children, CVFA vaccine for adults.
    pub fn check_serves(self, age_years: u32) -> Result<()> {
        if self.serves(age_years) {
            return Ok(());
        }
        Err(CoreError::Rule(match self {
            Program::Cvp => format!(
                "CVP vaccine is for children under {ADULT_AGE}; this patient was {age_years} on the day of the dose: choose a CVFA or private lot"
            ),
            Program::Cvfa => format!(
                "CVFA vaccine is for adults {ADULT_AGE} and over; this patient was {age_years} on the day of the dose: choose a CVP or private lot"
            ),
        }))
    }
}

impl std::fmt::Display for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.short())
    }
}

/// Which public programs a clinic is enrolled in. The state sets it; a clinic in no
/// program reports doses but holds and orders only private stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProgramType {
    /// Enrolled in CVP only (a pediatric practice).
    Cvp,
    /// Enrolled in CVFA only (an adult practice).
    Cvfa,
    /// Enrolled in both (a family practice).
    CvpAndCvfa,
    /// Private stock only; reports doses but orders no public vaccine.
    PrivateOnly,
}

impl ProgramType {
    pub const ALL: [ProgramType; 4] = [
        ProgramType::Cvp,
        ProgramType::Cvfa,
        ProgramType::CvpAndCvfa,
        ProgramType::PrivateOnly,
    ];

    /// The enrollment in exactly `programs`.
    pub fn of(programs: &[Program]) -> ProgramType {
        match (
            programs.contains(&Program::Cvp),
            programs.contains(&Program::Cvfa),
        ) {
            (true, true) => ProgramType::CvpAndCvfa,
            (true, false) => ProgramType::Cvp,
            (false, true) => ProgramType::Cvfa,
            (false, false) => ProgramType::PrivateOnly,
        }
    }

    /// The programs enrolled in, CVP first.
    pub fn programs(self) -> Vec<Program> {
        Program::ALL
            .into_iter()
            .filter(|p| self.enrolled(*p))
            .collect()
    }

    pub fn enrolled(self, p: Program) -> bool {
        matches!(
            (self, p),
            (ProgramType::Cvp | ProgramType::CvpAndCvfa, Program::Cvp)
                | (ProgramType::Cvfa | ProgramType::CvpAndCvfa, Program::Cvfa)
        )
    }

    /// Whether the clinic takes part in any public program.
    pub fn is_public(self) -> bool {
        self != ProgramType::PrivateOnly
    }

    /// How the enrollment is written in commands and files: `cvp`, `cvfa`, `cvp,cvfa`
    /// or `private`.
    pub fn key(self) -> String {
        match self {
            ProgramType::PrivateOnly => "private".into(),
            p => p
                .programs()
                .iter()
                .map(|p| p.key())
                .collect::<Vec<_>>()
                .join(","),
        }
    }

    /// `CVP`, `CVFA`, `CVP and CVFA` or `private only`.
    pub fn short(self) -> &'static str {
        match self {
            ProgramType::Cvp => "CVP",
            ProgramType::Cvfa => "CVFA",
            ProgramType::CvpAndCvfa => "CVP and CVFA",
            ProgramType::PrivateOnly => "private only",
        }
    }

    pub fn label(self) -> String {
        match self {
            ProgramType::PrivateOnly => "Private stock only".into(),
            p => p
                .programs()
                .iter()
                .map(|p| p.label())
                .collect::<Vec<_>>()
                .join("; "),
        }
    }

    /// Reads `cvp`, `cvfa`, `cvp,cvfa` (either order, `+` or `,`) or `private`.
    pub fn parse(s: &str) -> Result<ProgramType> {
        let t = s.trim().to_ascii_lowercase();
        if matches!(t.as_str(), "private" | "private-only" | "none") {
            return Ok(ProgramType::PrivateOnly);
        }
        let mut programs = Vec::new();
        for part in t.split([',', '+']).map(str::trim) {
            let p = Program::parse(part).map_err(|_| CoreError::Unknown {
                field: "program enrollment",
                value: s.into(),
                valid: "cvp, cvfa, cvp,cvfa, private".into(),
            })?;
            programs.push(p);
        }
        Ok(ProgramType::of(&programs))
    }

    /// Refuses `p` for a clinic not enrolled in it, naming what the clinic is.
    pub fn check_enrolled(self, clinic: &str, p: Program) -> Result<()> {
        if self.enrolled(p) {
            return Ok(());
        }
        Err(CoreError::Rule(match self {
            ProgramType::PrivateOnly => format!(
                "{clinic} is a private-only clinic: it is enrolled in no public program ({} needs enrollment by the state)",
                p.short()
            ),
            other => format!(
                "{clinic} is not enrolled in {} (it is enrolled in {}); the state enrolls clinics in a program",
                p.short(),
                other.programs().iter().map(|p| p.short()).collect::<Vec<_>>().join(" and ")
            ),
        }))
    }
}

/// What a clinic still has in a program it would leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holding {
    pub program: Program,
    /// Doses on hand in the program's lots.
    pub doses: i64,
    /// Orders of the program not yet received or rejected.
    pub open_orders: usize,
}

/// Refuses changing a clinic's enrollment from `from` to `to` while it holds doses or
/// open orders of a program it would leave: the stock must be transferred or returned
/// and the orders settled first, so no public vaccine is left outside its program.
pub fn check_enrollment_change(
    from: ProgramType,
    to: ProgramType,
    holding: &[Holding],
) -> Result<()> {
    if from == to {
        return Err(CoreError::Rule(format!(
            "the clinic is already enrolled as: {}",
            to.label()
        )));
    }
    for h in holding {
        if from.enrolled(h.program) && !to.enrolled(h.program) && (h.doses > 0 || h.open_orders > 0)
        {
            return Err(CoreError::Rule(format!(
                "the clinic still holds {} dose(s) of {} stock and {} open {} order(s): transfer or return the stock and settle the orders before leaving {}",
                h.doses,
                h.program.short(),
                h.open_orders,
                h.program.short(),
                h.program.short()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaving_a_program_needs_its_stock_and_orders_settled() {
        let held = |doses, open_orders| Holding {
            program: Program::Cvfa,
            doses,
            open_orders,
        };
        let (both, cvp) = (ProgramType::CvpAndCvfa, ProgramType::Cvp);
        assert!(check_enrollment_change(both, cvp, &[held(0, 0)]).is_ok());
        let e = check_enrollment_change(both, cvp, &[held(30, 0)]).unwrap_err();
        assert!(e.to_string().contains("30 dose(s) of CVFA"), "{e}");
        assert!(check_enrollment_change(both, cvp, &[held(0, 1)]).is_err());
        // Joining a program, or keeping the one with stock, is always allowed.
        assert!(check_enrollment_change(cvp, both, &[held(30, 2)]).is_ok());
        assert!(check_enrollment_change(cvp, cvp, &[]).is_err());
    }

    #[test]
    fn enrollment_reads_back_and_names_its_programs() {
        for t in ProgramType::ALL {
            assert_eq!(ProgramType::parse(&t.key()).unwrap(), t, "{t:?}");
            assert_eq!(ProgramType::of(&t.programs()), t);
        }
        assert_eq!(
            ProgramType::parse(" CVFA + cvp ").unwrap(),
            ProgramType::CvpAndCvfa
        );
        assert!(ProgramType::parse("vfc").is_err());
        assert!(ProgramType::parse("").is_err());
        assert!(ProgramType::CvpAndCvfa.enrolled(Program::Cvfa));
        assert!(!ProgramType::Cvp.enrolled(Program::Cvfa));
        assert!(!ProgramType::PrivateOnly.is_public());
        let e = ProgramType::Cvp
            .check_enrolled("Clinic A", Program::Cvfa)
            .unwrap_err();
        assert!(e.to_string().contains("not enrolled in CVFA"), "{e}");
        let e = ProgramType::PrivateOnly
            .check_enrolled("Clinic A", Program::Cvp)
            .unwrap_err();
        assert!(e.to_string().contains("private-only"), "{e}");
    }

    #[test]
    fn cvp_is_for_children_and_cvfa_for_adults() {
        assert!(Program::Cvp.serves(18));
        assert!(!Program::Cvp.serves(19));
        assert!(Program::Cvfa.serves(19));
        assert!(!Program::Cvfa.serves(0));
        assert_eq!(Program::for_age(2), Program::Cvp);
        assert_eq!(Program::for_age(65), Program::Cvfa);
        let e = Program::Cvp.check_serves(40).unwrap_err();
        assert!(e.to_string().contains("CVFA or private lot"), "{e}");
        assert_eq!(Program::Cvfa.funding().code(), "VXC52");
        assert_eq!(Program::Cvp.funding().code(), "VXC50");
    }
}
