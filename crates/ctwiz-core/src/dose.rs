//! Immunization events: doses given here, historical doses, refusals, and the
//! patient observations (immunity, contraindications) that change what is due.

use crate::error::{CoreError, Result};
use crate::ids::{name_text, ClinicPin, Cvx, DoseId, LotNumber, Mvx, Ndc, PatientId};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Declares a code-table enum with its HL7 codes, labels and a parser that lists valid codes.
macro_rules! code_table {
    ($(#[$m:meta])* $name:ident, $field:literal, { $($variant:ident => $code:literal, $label:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The code as exchanged in HL7.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
            /// Human-readable label from the code table.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
            pub fn from_code(s: &str) -> Result<Self> {
                let t = s.trim();
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.code().eq_ignore_ascii_case(t))
                    .ok_or_else(|| CoreError::Unknown {
                        field: $field,
                        value: s.into(),
                        valid: Self::ALL.iter().map(|v| v.code()).collect::<Vec<_>>().join(", "),
                    })
            }
        }
    };
}

code_table!(
    /// Where the record of a dose comes from (CDC table NIP001, HL7 RXA-9).
    InformationSource, "information source (NIP001)", {
        NewRecord => "00", "New immunization record";
        HistoricalUnspecified => "01", "Historical information - source unspecified";
        HistoricalOtherProvider => "02", "Historical information - from other provider";
        HistoricalParentWritten => "03", "Historical information - from parent's written record";
        HistoricalParentRecall => "04", "Historical information - from parent's recall";
        HistoricalOtherRegistry => "05", "Historical information - from other registry";
        HistoricalBirthCertificate => "06", "Historical information - from birth certificate";
        HistoricalSchool => "07", "Historical information - from school record";
        HistoricalPublicAgency => "08", "Historical information - from public agency";
    }
);

impl InformationSource {
    /// Administered by the reporting provider (as opposed to transcribed history).
    pub fn is_administered(self) -> bool {
        self == InformationSource::NewRecord
    }
}

code_table!(
    /// Completion status of an immunization (HL7 table 0322, RXA-20).
    CompletionStatus, "completion status (0322)", {
        Complete => "CP", "Complete";
        Refused => "RE", "Refused";
        NotAdministered => "NA", "Not Administered";
        PartiallyAdministered => "PA", "Partially Administered";
    }
);

code_table!(
    /// Reason a vaccine was refused (CDC table NIP002, RXA-18).
    RefusalReason, "refusal reason (NIP002)", {
        ParentalDecision => "00", "Parental decision";
        ReligiousExemption => "01", "Religious exemption";
        Other => "02", "Other";
        PatientDecision => "03", "Patient decision";
    }
);

code_table!(
    /// Patient eligibility for publicly funded vaccine at the dose (HL7 table 0064, OBX 64994-7).
    VfcEligibility, "VFC eligibility (0064)", {
        NotEligible => "V01", "Not VFC eligible";
        Medicaid => "V02", "VFC eligible - Medicaid/Medicaid managed care";
        Uninsured => "V03", "VFC eligible - Uninsured";
        AmericanIndianAlaskaNative => "V04", "VFC eligible - American Indian/Alaskan Native";
        FqhcUnderinsured => "V05", "VFC eligible - FQHC patient (under-insured)";
        StateSpecific => "V06", "VFC eligible - State specific eligibility";
        LocalSpecific => "V07", "Local-specific eligibility";
        NotEligibleUnderinsured => "V08", "Not VFC eligible - Under-insured";
        Chip => "V22", "CHIP";
        Section317 => "V23", "317";
        Medicare => "V24", "Medicare";
        StateProgram => "V25", "State program eligibility";
    }
);

impl VfcEligibility {
    /// Whether the patient may receive state-supplied (CVP) vaccine.
    pub fn is_public(self) -> bool {
        !matches!(
            self,
            VfcEligibility::NotEligible
                | VfcEligibility::Medicare
                | VfcEligibility::NotEligibleUnderinsured
        )
    }
}

code_table!(
    /// Who paid for the dose (CDC PHIN VADS funding source, OBX 30963-3).
    FundingSource, "funding source", {
        Public => "VXC50", "Public";
        PublicVfc => "VXC51", "Public VFC";
        PublicNonVfc => "VXC52", "Public non-VFC";
        Federal => "VXC1", "Federal funds";
        State => "VXC2", "State funds";
        Tribal => "VXC3", "Tribal funds";
        Military => "PHC68", "Military funds";
        Private => "PHC70", "Private funds";
        Other => "OTH", "Other";
        Unspecified => "UNK", "Unspecified";
    }
);

impl FundingSource {
    /// Public (CVP/VFC/317/state) money, drawn from public inventory.
    pub fn is_public(self) -> bool {
        matches!(
            self,
            FundingSource::Public
                | FundingSource::PublicVfc
                | FundingSource::PublicNonVfc
                | FundingSource::Federal
                | FundingSource::State
                | FundingSource::Tribal
        )
    }
}

code_table!(
    /// Route of administration (HL7 table 0162 / NCIT codes commonly used by the CDC IG).
    Route, "route", {
        Intramuscular => "C28161", "Intramuscular";
        Subcutaneous => "C38299", "Subcutaneous";
        Intradermal => "C38238", "Intradermal";
        Intranasal => "C38284", "Intranasal";
        Oral => "C38288", "Oral";
        Percutaneous => "C38676", "Percutaneous";
        Other => "OTH", "Other/Miscellaneous";
    }
);

impl Route {
    /// Accepts both NCIT codes and the older HL7 0162 ones (IM, SC, ID, NS, PO).
    pub fn parse(s: &str) -> Result<Route> {
        match s.trim().to_ascii_uppercase().as_str() {
            "IM" => Ok(Route::Intramuscular),
            "SC" => Ok(Route::Subcutaneous),
            "ID" => Ok(Route::Intradermal),
            "NS" | "IN" => Ok(Route::Intranasal),
            "PO" => Ok(Route::Oral),
            "TD" => Ok(Route::Percutaneous),
            _ => Route::from_code(s),
        }
    }
}

code_table!(
    /// Administration site (HL7 table 0163).
    Site, "site (0163)", {
        LeftThigh => "LT", "Left Thigh";
        RightThigh => "RT", "Right Thigh";
        LeftArm => "LA", "Left Arm";
        RightArm => "RA", "Right Arm";
        LeftDeltoid => "LD", "Left Deltoid";
        RightDeltoid => "RD", "Right Deltoid";
        LeftVastusLateralis => "LVL", "Left Vastus Lateralis";
        RightVastusLateralis => "RVL", "Right Vastus Lateralis";
        LeftGluteus => "LG", "Left Gluteous Medius";
        RightGluteus => "RG", "Right Gluteous Medius";
        LeftUpperArm => "LUA", "Left Upper Arm";
        RightUpperArm => "RUA", "Right Upper Arm";
        Nose => "NS", "Nasal";
        Mouth => "MO", "Mouth";
    }
);

/// A Vaccine Information Statement given to the patient or parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisGiven {
    /// The VIS document's bar-code string (OBX 69764-9, GDTI) or the vaccine it covers.
    pub document: String,
    /// Edition date of the VIS (OBX 29768-9).
    pub published: Option<NaiveDate>,
    /// When it was given (OBX 29769-7).
    pub presented: NaiveDate,
}

/// The amount given, e.g. 0.5 mL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoseAmount {
    pub value: f64,
    pub unit: String,
}

impl DoseAmount {
    pub fn new(value: f64, unit: &str) -> Result<Self> {
        if !value.is_finite() || value <= 0.0 || value > 100.0 {
            return Err(CoreError::invalid(
                "dose amount",
                value.to_string(),
                "expected a positive amount of at most 100",
            ));
        }
        Ok(DoseAmount {
            value,
            unit: name_text("dose unit", unit, 20)?,
        })
    }
}

/// One immunization event in a patient's consolidated record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dose {
    /// `None` until stored.
    pub id: Option<DoseId>,
    pub patient: Option<PatientId>,
    pub cvx: Cvx,
    pub mvx: Option<Mvx>,
    pub ndc: Option<Ndc>,
    pub lot: Option<LotNumber>,
    pub lot_expiration: Option<NaiveDate>,
    pub date: NaiveDate,
    pub source: InformationSource,
    pub amount: Option<DoseAmount>,
    pub route: Option<Route>,
    pub site: Option<Site>,
    /// Clinic that administered (or recorded the history of) the dose.
    pub clinic: Option<ClinicPin>,
    /// Person who administered the dose, as the sender named them (HL7 RXA-10).
    pub administered_by: Option<Provider>,
    pub funding: Option<FundingSource>,
    pub eligibility: Option<VfcEligibility>,
    pub completion: CompletionStatus,
    pub refusal: Option<RefusalReason>,
    pub vis: Vec<VisGiven>,
    /// The reporting system's own id for the dose (HL7 ORC-3), so later updates and
    /// deletes (RXA-21 U/D) from the same sender find it.
    #[serde(default)]
    pub sender_id: Option<String>,
}

/// The person who gave a dose (HL7 RXA-10, an XCN), in the parts the sender gave, so
/// an answer names them exactly as they were sent: an identifier with the authority
/// that assigned it and its type, and the name in parts. Empty text is an absent part.
/// A name typed into the web is read by [`Provider::from_text`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct Provider {
    /// XCN-1: the provider's identifier (e.g. an NPI or the EHR's staff id).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// XCN-2: family name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub family: String,
    /// XCN-3: given name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub given: String,
    /// XCN-4: further given names or initials.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub middle: String,
    /// XCN-5: suffix (e.g. `JR`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub suffix: String,
    /// XCN-6: prefix (e.g. `DR`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub prefix: String,
    /// XCN-7: degree (e.g. `RN`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub degree: String,
    /// XCN-9: the authority that assigned the identifier (HD namespace id, and its
    /// universal id and universal id type when sent).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub authority: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub authority_universal_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub authority_universal_id_type: String,
    /// XCN-10: name type (HL7 table 0200, e.g. `L`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name_type: String,
    /// XCN-13: identifier type (HL7 table 0203, e.g. `NPI`, `PRN`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id_type: String,
}

impl Provider {
    /// A provider from text as a person types it (or as ctwiz kept RXA-10 before it
    /// kept the parts): `"Given Family"`, with an identifier in parentheses when there
    /// is one (`"Nancy Nurse (4567)"`). The last word is the family name; a single word
    /// is a family name. [`Provider::display`] gives the same text back.
    pub fn from_text(text: &str) -> Provider {
        let text = text.trim();
        let (name, id) = match text.strip_suffix(')').and_then(|t| t.rsplit_once(" (")) {
            Some((name, id)) if !id.is_empty() && !id.contains(' ') => (name.trim(), id),
            _ => (text, ""),
        };
        let (given, family) = match name.rsplit_once(' ') {
            Some((given, family)) => (given.trim(), family),
            None => ("", name),
        };
        Provider {
            id: id.to_string(),
            family: family.to_string(),
            given: given.to_string(),
            ..Provider::default()
        }
    }

    /// Neither an identifier nor a family name: nothing that names a person.
    pub fn is_empty(&self) -> bool {
        self.id.trim().is_empty() && self.family.trim().is_empty()
    }

    /// The name as people read it (`"DR Nancy J Nurse RN"`), then the identifier in
    /// parentheses (`"Nancy Nurse (4567)"`); the identifier alone when there is no name.
    pub fn display(&self) -> String {
        let name = [
            &self.prefix,
            &self.given,
            &self.middle,
            &self.family,
            &self.suffix,
            &self.degree,
        ]
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
        match (name.is_empty(), self.id.trim()) {
            (true, id) => id.to_string(),
            (false, "") => name,
            (false, id) if id == name => name,
            (false, id) => format!("{name} ({id})"),
        }
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display())
    }
}

impl Dose {
    /// An administered (or historical, by `source`) dose, complete.
    pub fn new(cvx: Cvx, date: NaiveDate, source: InformationSource) -> Self {
        Dose {
            id: None,
            patient: None,
            cvx,
            mvx: None,
            ndc: None,
            lot: None,
            lot_expiration: None,
            date,
            source,
            amount: None,
            route: None,
            site: None,
            clinic: None,
            administered_by: None,
            funding: None,
            eligibility: None,
            completion: CompletionStatus::Complete,
            refusal: None,
            vis: Vec::new(),
            sender_id: None,
        }
    }

    /// A refusal of `cvx` (RXA-20 = RE) with its reason.
    pub fn refusal(cvx: Cvx, date: NaiveDate, reason: RefusalReason) -> Self {
        let mut d = Dose::new(cvx, date, InformationSource::NewRecord);
        d.completion = CompletionStatus::Refused;
        d.refusal = Some(reason);
        d
    }

    /// Whether vaccine actually entered the patient (counts for evaluation).
    pub fn was_given(&self) -> bool {
        matches!(
            self.completion,
            CompletionStatus::Complete | CompletionStatus::PartiallyAdministered
        )
    }

    pub fn is_historical(&self) -> bool {
        !self.source.is_administered()
    }

    /// Checks the event against the patient's birth date and today.
    pub fn validate(&self, dob: NaiveDate, today: NaiveDate) -> Result<()> {
        if self.date > today {
            return Err(CoreError::invalid(
                "administration date",
                self.date.to_string(),
                "is in the future",
            ));
        }
        if self.date < dob {
            return Err(CoreError::invalid(
                "administration date",
                self.date.to_string(),
                "is before the patient's birth",
            ));
        }
        if self.refusal.is_some() && self.completion != CompletionStatus::Refused {
            return Err(CoreError::Rule(
                "a refusal reason needs completion status RE (refused)".into(),
            ));
        }
        if self.completion == CompletionStatus::Refused && self.refusal.is_none() {
            return Err(CoreError::Rule(
                "a refused dose needs a refusal reason".into(),
            ));
        }
        if self.source.is_administered() && self.was_given() {
            // CDC IG: administered doses must carry the lot and manufacturer; history may not.
            if self.lot.is_none() {
                return Err(CoreError::Rule(format!(
                    "administered dose of CVX {} on {} needs a lot number",
                    self.cvx, self.date
                )));
            }
            if let Some(exp) = self.lot_expiration {
                if exp < self.date {
                    return Err(CoreError::invalid(
                        "lot expiration",
                        exp.to_string(),
                        "the lot had expired when the dose was given",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Why a dose may not be recorded, changed or deleted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DoseError {
    #[error("this dose is already recorded: CVX {cvx} on {date}")]
    AlreadyRecorded { cvx: Cvx, date: NaiveDate },
    #[error("dose {dose} was reported by {}; only that clinic or the state may change or delete it", .reporter.as_ref().map_or("no clinic".to_string(), |c| format!("clinic {c}")))]
    NotReportingClinic {
        dose: DoseId,
        reporter: Option<ClinicPin>,
    },
}

/// The live dose `new` would repeat: the same vaccine (CVX) on the same date for the
/// same patient. Entering it twice is a data-entry error, not a second dose.
pub fn already_recorded<'a>(live: &'a [Dose], new: &Dose) -> Option<&'a Dose> {
    live.iter().find(|d| same_event(d, new))
}

/// Two entries record one vaccination event: the same vaccine on the same date (and they
/// are not the same stored row).
fn same_event(a: &Dose, b: &Dose) -> bool {
    (a.id.is_none() || a.id != b.id) && a.cvx == b.cvx && a.date == b.date
}

/// The live dose that `reporter` may change (see [`may_change`]) recording the same event
/// as `reported`: what an interface deletion or correction without the sender's own dose
/// id refers to. Another clinic's record of the event is never matched.
pub fn reported_by<'a>(
    live: &'a [Dose],
    reported: &Dose,
    reporter: &ClinicPin,
) -> Option<&'a Dose> {
    live.iter()
        .find(|d| same_event(d, reported) && may_change(Some(reporter), false, d))
}

/// Refuses `new` when [`already_recorded`] finds it among the patient's live doses.
pub fn check_not_recorded(live: &[Dose], new: &Dose) -> std::result::Result<(), DoseError> {
    match already_recorded(live, new) {
        Some(d) => Err(DoseError::AlreadyRecorded {
            cvx: d.cvx.clone(),
            date: d.date,
        }),
        None => Ok(()),
    }
}

/// Only the clinic that reported a dose, or someone acting for the state, may change or
/// delete it (`acting_clinic`: the clinic the actor acts for; `None` with `state` for
/// statewide actors). A dose without a reporting clinic is the state's to change.
pub fn may_change(acting_clinic: Option<&ClinicPin>, state: bool, dose: &Dose) -> bool {
    match acting_clinic {
        Some(pin) => dose.clinic.as_ref() == Some(pin),
        None => state,
    }
}

/// Evidence of immunity, contraindication or precaution recorded for a patient
/// (OBX 59784-9 disease history, 30945-0 contraindication).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    pub kind: ObservationKind,
    /// CDSi observation code (ScheduleSupportingData `observationCode`) where known,
    /// otherwise the SNOMED/table code as reported.
    pub code: String,
    pub text: String,
    pub date: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ObservationKind {
    /// History of disease / serologic evidence of immunity (e.g. varicella).
    Immunity,
    Contraindication,
    Precaution,
    /// A condition that changes the schedule (asplenia, pregnancy, HIV ...).
    Condition,
}

impl Observation {
    pub fn new(kind: ObservationKind, code: &str, text: &str, date: NaiveDate) -> Result<Self> {
        Ok(Observation {
            kind,
            code: name_text("observation code", code, 40)?,
            text: name_text("observation text", text, 200)?,
            date,
        })
    }

    /// An observation is dated between the patient's birth and `today`.
    pub fn validate(&self, dob: NaiveDate, today: NaiveDate) -> Result<()> {
        if self.date < dob || self.date > today {
            return Err(CoreError::invalid(
                "observation date",
                self.date.to_string(),
                "must fall between the birth date and today",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_dose_is_recorded_once_and_changed_by_its_reporter() {
        let c1 = ClinicPin::new("C1").unwrap();
        let mut live = Dose::new(
            Cvx::new("20").unwrap(),
            d(2025, 3, 15),
            InformationSource::NewRecord,
        );
        live.id = Some(DoseId(7));
        live.clinic = Some(c1.clone());
        let again = Dose::new(
            Cvx::new("20").unwrap(),
            d(2025, 3, 15),
            InformationSource::HistoricalUnspecified,
        );
        let e = check_not_recorded(std::slice::from_ref(&live), &again).unwrap_err();
        assert_eq!(
            e.to_string(),
            "this dose is already recorded: CVX 20 on 2025-03-15"
        );
        // Editing the dose itself is not a repeat of it.
        assert!(check_not_recorded(std::slice::from_ref(&live), &live).is_ok());
        let other = Dose::new(
            Cvx::new("20").unwrap(),
            d(2025, 3, 16),
            InformationSource::NewRecord,
        );
        assert!(check_not_recorded(&[live.clone()], &other).is_ok());
        assert!(may_change(Some(&c1), false, &live));
        assert!(!may_change(
            Some(&ClinicPin::new("C2").unwrap()),
            false,
            &live
        ));
        assert!(may_change(None, true, &live));
        assert!(!may_change(None, false, &live));
    }

    #[test]
    fn historical_dose_needs_no_lot_but_administered_does() {
        let dob = d(2024, 1, 1);
        let today = d(2025, 1, 1);
        let h = Dose::new(
            Cvx::new("20").unwrap(),
            d(2024, 3, 1),
            InformationSource::HistoricalUnspecified,
        );
        assert!(h.validate(dob, today).is_ok());
        let mut a = Dose::new(
            Cvx::new("20").unwrap(),
            d(2024, 3, 1),
            InformationSource::NewRecord,
        );
        assert!(a.validate(dob, today).is_err());
        a.lot = Some(LotNumber::new("AB12").unwrap());
        assert!(a.validate(dob, today).is_ok());
        a.lot_expiration = Some(d(2024, 2, 1));
        assert!(a
            .validate(dob, today)
            .unwrap_err()
            .to_string()
            .contains("expired"));
    }

    #[test]
    fn dates_must_fall_between_birth_and_today() {
        let h = Dose::new(
            Cvx::new("08").unwrap(),
            d(2023, 12, 31),
            InformationSource::HistoricalUnspecified,
        );
        assert!(h.validate(d(2024, 1, 1), d(2025, 1, 1)).is_err());
        let f = Dose::new(
            Cvx::new("08").unwrap(),
            d(2025, 2, 1),
            InformationSource::HistoricalUnspecified,
        );
        assert!(f.validate(d(2024, 1, 1), d(2025, 1, 1)).is_err());
    }

    #[test]
    fn refusals_are_not_given() {
        let r = Dose::refusal(
            Cvx::new("03").unwrap(),
            d(2024, 6, 1),
            RefusalReason::ParentalDecision,
        );
        assert!(!r.was_given());
        assert!(r.validate(d(2024, 1, 1), d(2025, 1, 1)).is_ok());
    }

    #[test]
    fn code_tables_parse_and_list_valid_values() {
        assert_eq!(
            InformationSource::from_code("00").unwrap(),
            InformationSource::NewRecord
        );
        assert_eq!(
            CompletionStatus::from_code("re").unwrap(),
            CompletionStatus::Refused
        );
        let e = VfcEligibility::from_code("V99").unwrap_err().to_string();
        assert!(e.contains("V01") && e.contains("V99"), "{e}");
        assert_eq!(Route::parse("IM").unwrap(), Route::Intramuscular);
        assert!(FundingSource::PublicVfc.is_public());
        assert!(!FundingSource::Private.is_public());
    }
}
