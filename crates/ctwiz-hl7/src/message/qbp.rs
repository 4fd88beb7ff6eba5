//! QBP^Q11, query by parameter (CDC IG R1.5 Chapter 7): Z34 "request
//! immunization history" and Z44 "request evaluated history and forecast".

use chrono::NaiveDate;
use ctwiz_core::patient::Sex;

use super::{check_header, AppError, Hl7Error, Issue, Rejection};
use crate::datatype::{parse_date, yes_no};
use crate::er7::Message;
use crate::segment::err::ErrorLocation;
use crate::segment::{Msh, Qpd, Rcp};

/// The query profile in QPD-1 (and MSH-21).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryProfile {
    /// Z34: answered with Z32 (history), Z31 (list) or Z33 (none / error).
    History,
    /// Z44: answered with Z42 (evaluated history and forecast), Z31 or Z33.
    EvaluatedHistoryAndForecast,
}

impl QueryProfile {
    pub fn code(self) -> &'static str {
        match self {
            QueryProfile::History => "Z34",
            QueryProfile::EvaluatedHistoryAndForecast => "Z44",
        }
    }
}

/// The demographic search criteria of QPD-3..11, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatientCriteria {
    /// (id, assigning authority, id type) from QPD-3.
    pub identifiers: Vec<(String, String, String)>,
    pub family: String,
    pub given: String,
    pub middle: String,
    pub mothers_maiden_name: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub sex: Option<Sex>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
    /// Area code and number, as sent.
    pub phone: Option<String>,
    pub multiple_birth: Option<bool>,
    pub birth_order: Option<u8>,
}

/// A QBP^Q11 query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qbp {
    pub msh: Msh,
    pub qpd: Qpd,
    pub rcp: Option<Rcp>,
    pub profile: QueryProfile,
    pub criteria: PatientCriteria,
    /// Problems that do not stop the query (warnings) — or errors, in which
    /// case the answer is a Z33 with QAK AE.
    pub issues: Vec<Issue>,
}

impl Qbp {
    /// The most patients the sender accepts in a Z31 list (RCP-2); when
    /// absent the IIS applies its own limit.
    pub fn quantity_limit(&self) -> Option<u32> {
        self.rcp.as_ref().and_then(|r| r.quantity_limit)
    }

    pub fn has_errors(&self) -> bool {
        self.issues.iter().any(Issue::is_error)
    }

    /// Reads a parsed message as QBP^Q11. A message without QPD (or with an
    /// unknown query name) is rejected; missing search fields are errors
    /// in [`Qbp::issues`].
    pub fn from_message(msg: &Message<'_>) -> Result<Qbp, Rejection> {
        let msh = Msh::from_segment(msg.msh());
        let mut issues = check_header(&msh, "QBP", "Q11");
        let Some(qpd_seg) = msg.segment("QPD") else {
            issues.push(Issue::error(
                ErrorLocation::new("QPD", 0, 0),
                Hl7Error::SegmentSequence,
                "QPD segment is missing",
            ));
            return Err(Rejection {
                msh: Box::new(msh),
                issues,
            });
        };
        let qpd = Qpd::from_segment(qpd_seg);
        let loc = |f| ErrorLocation::new("QPD", 1, f);
        let profile = match qpd.query_name.code.to_ascii_uppercase().as_str() {
            "Z34" => Some(QueryProfile::History),
            "Z44" => Some(QueryProfile::EvaluatedHistoryAndForecast),
            "" => {
                issues.push(Issue::error(
                    loc(1),
                    Hl7Error::RequiredFieldMissing,
                    "QPD-1 query name is missing",
                ));
                None
            }
            other => {
                issues.push(
                    Issue::error(
                        loc(1),
                        Hl7Error::TableValueNotFound,
                        format!("query {other:?} is not supported; use Z34 or Z44"),
                    )
                    .with_app(AppError::TableValueNotFound),
                );
                None
            }
        };
        let (Some(profile), false) = (profile, issues.iter().any(|i| i.code.rejects_message()))
        else {
            return Err(Rejection {
                msh: Box::new(msh),
                issues,
            });
        };
        // IG R1.5 §7.2 (Z34/Z44 QPD): name and birth date are required for
        // matching; sex is RE.
        if qpd.query_tag.is_empty() {
            issues.push(Issue::error(
                loc(2),
                Hl7Error::RequiredFieldMissing,
                "QPD-2 query tag is missing",
            ));
        }
        // With an identifier to match on, a missing name or birth date is
        // only a warning (a robust IIS still answers a query by MRN).
        let has_id = qpd.patient_ids.iter().any(|c| !c.id.is_empty());
        let required = |l, m: &str| {
            if has_id {
                Issue::warning(l, Hl7Error::RequiredFieldMissing, m)
            } else {
                Issue::error(l, Hl7Error::RequiredFieldMissing, m)
            }
        };
        if qpd.name.family.is_empty() || qpd.name.given.is_empty() {
            issues.push(required(
                loc(4),
                "QPD-4 patient family and given name are required",
            ));
        }
        let birth_date = if qpd.birth_date.is_empty() {
            issues.push(required(loc(6), "QPD-6 birth date is missing"));
            None
        } else {
            parse_date(&qpd.birth_date)
                .map_err(|e| {
                    issues.push(
                        Issue::error(loc(6), Hl7Error::DataType, e.to_string())
                            .with_app(AppError::InvalidDate),
                    )
                })
                .ok()
        };
        let sex = if qpd.sex.is_empty() {
            issues.push(Issue::warning(
                loc(7),
                Hl7Error::RequiredFieldMissing,
                "QPD-7 sex is missing",
            ));
            None
        } else {
            Sex::from_code(&qpd.sex)
                .map_err(|e| {
                    issues.push(
                        Issue::warning(loc(7), Hl7Error::TableValueNotFound, e.to_string())
                            .with_app(AppError::TableValueNotFound),
                    )
                })
                .ok()
        };
        let some = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
        let criteria = PatientCriteria {
            identifiers: qpd
                .patient_ids
                .iter()
                .filter(|c| !c.id.is_empty())
                .map(|c| (c.id.clone(), c.authority.clone(), c.id_type.clone()))
                .collect(),
            family: qpd.name.family.clone(),
            given: qpd.name.given.clone(),
            middle: qpd.name.middle.clone(),
            mothers_maiden_name: some(&qpd.mothers_maiden_name.family),
            birth_date,
            sex,
            street: some(&qpd.address.street),
            city: some(&qpd.address.city),
            state: some(&qpd.address.state),
            zip: some(&qpd.address.zip),
            phone: some(&format!(
                "{}{}",
                qpd.phone.area_code, qpd.phone.local_number
            )),
            multiple_birth: yes_no(&qpd.multiple_birth),
            birth_order: qpd.birth_order.trim().parse().ok(),
        };
        Ok(Qbp {
            msh,
            rcp: msg.segment("RCP").map(Rcp::from_segment),
            qpd,
            profile,
            criteria,
            issues,
        })
    }
}
