//! HL7 v2.5.1 composite data types used by the immunization segments
//! (HL7 v2.5.1 Chapter 2A; CDC IG R1.5 Chapter 5 "Data types").
//!
//! Each type reads from a borrowed [`Repetition`] (lenient: absent
//! components are empty strings) and writes to an owned [`FieldBuf`].

use chrono::{FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};
use thiserror::Error;

use crate::er7::{Field, FieldBuf, Repetition};

fn s(r: &Repetition<'_>, n: usize) -> String {
    r.text_at(n).into_owned()
}

/// CE / CWE: coded element (with alternate code).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cwe {
    pub code: String,
    pub text: String,
    pub system: String,
    pub alt_code: String,
    pub alt_text: String,
    pub alt_system: String,
}

impl Cwe {
    pub fn new(code: &str, text: &str, system: &str) -> Self {
        Cwe {
            code: code.into(),
            text: text.into(),
            system: system.into(),
            ..Cwe::default()
        }
    }

    pub fn from_rep(r: Repetition<'_>) -> Self {
        if r.is_empty() {
            return Self::default();
        }
        Cwe {
            code: s(&r, 1),
            text: s(&r, 2),
            system: s(&r, 3),
            alt_code: s(&r, 4),
            alt_text: s(&r, 5),
            alt_system: s(&r, 6),
        }
    }

    pub fn from_field(f: Field<'_>) -> Self {
        Self::from_rep(f.repetition(1))
    }

    pub fn is_empty(&self) -> bool {
        self.code.is_empty() && self.text.is_empty() && self.alt_code.is_empty()
    }

    /// The code given in coding system `system` (primary or alternate),
    /// compared case-insensitively. CDC IG R1.5 §5.2.3: senders may put the
    /// standard code in either triplet (e.g. NDC first and CVX second).
    pub fn code_in(&self, system: &str) -> Option<&str> {
        if self.system.eq_ignore_ascii_case(system) && !self.code.is_empty() {
            Some(&self.code)
        } else if self.alt_system.eq_ignore_ascii_case(system) && !self.alt_code.is_empty() {
            Some(&self.alt_code)
        } else {
            None
        }
    }

    pub fn to_field(&self) -> FieldBuf {
        FieldBuf::components(&[
            &self.code,
            &self.text,
            &self.system,
            &self.alt_code,
            &self.alt_text,
            &self.alt_system,
        ])
    }
}

/// HD: hierarchic designator (application, facility, assigning authority).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hd {
    pub namespace: String,
    pub universal_id: String,
    pub universal_id_type: String,
}

impl Hd {
    pub fn new(namespace: &str) -> Self {
        Hd {
            namespace: namespace.into(),
            ..Hd::default()
        }
    }

    pub fn from_rep(r: Repetition<'_>) -> Self {
        if r.is_empty() {
            return Self::default();
        }
        Hd {
            namespace: s(&r, 1),
            universal_id: s(&r, 2),
            universal_id_type: s(&r, 3),
        }
    }

    pub fn to_field(&self) -> FieldBuf {
        FieldBuf::components(&[&self.namespace, &self.universal_id, &self.universal_id_type])
    }
}

/// EI: entity identifier (placer/filler order numbers, message profile).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ei {
    pub id: String,
    pub namespace: String,
    pub universal_id: String,
    pub universal_id_type: String,
}

impl Ei {
    pub fn new(id: &str, namespace: &str) -> Self {
        Ei {
            id: id.into(),
            namespace: namespace.into(),
            ..Ei::default()
        }
    }

    pub fn from_rep(r: Repetition<'_>) -> Self {
        if r.is_empty() {
            return Self::default();
        }
        Ei {
            id: s(&r, 1),
            namespace: s(&r, 2),
            universal_id: s(&r, 3),
            universal_id_type: s(&r, 4),
        }
    }

    pub fn to_field(&self) -> FieldBuf {
        FieldBuf::components(&[
            &self.id,
            &self.namespace,
            &self.universal_id,
            &self.universal_id_type,
        ])
    }
}

/// CX: an identifier with its assigning authority (CX-4, namespace only)
/// and identifier type (CX-5, HL7 table 0203: MR, SR, PI, MA, SS, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cx {
    pub id: String,
    pub authority: String,
    pub id_type: String,
}

impl Cx {
    pub fn new(id: &str, authority: &str, id_type: &str) -> Self {
        Cx {
            id: id.into(),
            authority: authority.into(),
            id_type: id_type.into(),
        }
    }

    pub fn from_rep(r: Repetition<'_>) -> Self {
        if r.is_empty() {
            return Self::default();
        }
        Cx {
            id: s(&r, 1),
            authority: s(&r, 4),
            id_type: s(&r, 5),
        }
    }

    pub fn to_field(&self) -> FieldBuf {
        FieldBuf::components(&[self.id.as_str(), "", "", &self.authority, &self.id_type])
    }
}

/// XPN: person name. XPN-7 name type (table 0200): L legal, M maiden, A alias.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Xpn {
    pub family: String,
    pub given: String,
    pub middle: String,
    pub suffix: String,
    pub name_type: String,
}

impl Xpn {
    pub fn from_rep(r: Repetition<'_>) -> Self {
        if r.is_empty() {
            return Self::default();
        }
        Xpn {
            family: r.component(1).text().into_owned(),
            given: s(&r, 2),
            middle: s(&r, 3),
            suffix: s(&r, 4),
            name_type: s(&r, 7),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.family.is_empty() && self.given.is_empty()
    }

    pub fn to_field(&self) -> FieldBuf {
        FieldBuf::components(&[
            self.family.as_str(),
            &self.given,
            &self.middle,
            &self.suffix,
            "",
            "",
            &self.name_type,
        ])
    }
}

/// XAD: address. XAD-7 address type (table 0190), XAD-9 county (FIPS).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Xad {
    pub street: String,
    pub other: String,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub country: String,
    pub address_type: String,
    pub county: String,
}

impl Xad {
    pub fn from_rep(r: Repetition<'_>) -> Self {
        if r.is_empty() {
            return Self::default();
        }
        Xad {
            street: r.component(1).text().into_owned(),
            other: s(&r, 2),
            city: s(&r, 3),
            state: s(&r, 4),
            zip: s(&r, 5),
            country: s(&r, 6),
            address_type: s(&r, 7),
            county: s(&r, 9),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.street.is_empty() && self.city.is_empty() && self.zip.is_empty()
    }

    pub fn to_field(&self) -> FieldBuf {
        FieldBuf::components(&[
            self.street.as_str(),
            &self.other,
            &self.city,
            &self.state,
            &self.zip,
            &self.country,
            &self.address_type,
            "",
            &self.county,
        ])
    }
}

/// XTN: telecom. CDC IG R1.5 §5.2.21: XTN-2 use (PRN, NET, ...), XTN-3
/// equipment (PH, CP, Internet), XTN-4 e-mail, XTN-6 area code, XTN-7 number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Xtn {
    pub use_code: String,
    pub equipment: String,
    pub email: String,
    pub area_code: String,
    pub local_number: String,
}

impl Xtn {
    pub fn from_rep(r: Repetition<'_>) -> Self {
        if r.is_empty() {
            return Self::default();
        }
        Xtn {
            use_code: s(&r, 2),
            equipment: s(&r, 3),
            email: s(&r, 4),
            area_code: s(&r, 6),
            local_number: s(&r, 7),
        }
    }

    pub fn phone(area: &str, local: &str) -> Self {
        Xtn {
            use_code: "PRN".into(),
            equipment: "PH".into(),
            area_code: area.into(),
            local_number: local.into(),
            ..Xtn::default()
        }
    }

    pub fn to_field(&self) -> FieldBuf {
        FieldBuf::components(&[
            "",
            self.use_code.as_str(),
            &self.equipment,
            &self.email,
            "",
            &self.area_code,
            &self.local_number,
        ])
    }
}

/// XCN: a person with an identifier (ordering, entering, administering provider).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Xcn {
    pub id: String,
    pub family: String,
    pub given: String,
    pub middle: String,
    pub suffix: String,
    pub prefix: String,
    pub degree: String,
    /// XCN-9, an HD (sub-components).
    pub authority: Hd,
    pub name_type: String,
    pub id_type: String,
}

impl Xcn {
    pub fn from_rep(r: Repetition<'_>) -> Self {
        if r.is_empty() {
            return Self::default();
        }
        let authority = r.component(9);
        Xcn {
            id: s(&r, 1),
            family: r.component(2).text().into_owned(),
            given: s(&r, 3),
            middle: s(&r, 4),
            suffix: s(&r, 5),
            prefix: s(&r, 6),
            degree: s(&r, 7),
            authority: Hd {
                namespace: authority.subcomponent(1).into_owned(),
                universal_id: authority.subcomponent(2).into_owned(),
                universal_id_type: authority.subcomponent(3).into_owned(),
            },
            name_type: s(&r, 10),
            id_type: s(&r, 13),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.id.is_empty() && self.family.is_empty()
    }

    /// "Given Family", or the identifier when there is no name.
    pub fn display(&self) -> String {
        self.to_provider().display()
    }

    /// The provider as the domain keeps it (RXA-10 of a stored dose), every part kept.
    pub fn to_provider(&self) -> ctwiz_core::dose::Provider {
        ctwiz_core::dose::Provider {
            id: self.id.clone(),
            family: self.family.clone(),
            given: self.given.clone(),
            middle: self.middle.clone(),
            suffix: self.suffix.clone(),
            prefix: self.prefix.clone(),
            degree: self.degree.clone(),
            authority: self.authority.namespace.clone(),
            authority_universal_id: self.authority.universal_id.clone(),
            authority_universal_id_type: self.authority.universal_id_type.clone(),
            name_type: self.name_type.clone(),
            id_type: self.id_type.clone(),
        }
    }

    /// The XCN of a stored provider, as the sender sent it.
    pub fn from_provider(p: &ctwiz_core::dose::Provider) -> Self {
        Xcn {
            id: p.id.clone(),
            family: p.family.clone(),
            given: p.given.clone(),
            middle: p.middle.clone(),
            suffix: p.suffix.clone(),
            prefix: p.prefix.clone(),
            degree: p.degree.clone(),
            authority: Hd {
                namespace: p.authority.clone(),
                universal_id: p.authority_universal_id.clone(),
                universal_id_type: p.authority_universal_id_type.clone(),
            },
            name_type: p.name_type.clone(),
            id_type: p.id_type.clone(),
        }
    }

    pub fn to_field(&self) -> FieldBuf {
        let one = |v: &str| vec![v.to_string()];
        let a = &self.authority;
        let mut authority = vec![
            a.namespace.clone(),
            a.universal_id.clone(),
            a.universal_id_type.clone(),
        ];
        while authority.len() > 1 && authority.last().is_some_and(String::is_empty) {
            authority.pop();
        }
        let mut components = vec![
            one(&self.id),
            one(&self.family),
            one(&self.given),
            one(&self.middle),
            one(&self.suffix),
            one(&self.prefix),
            one(&self.degree),
            one(""),
            authority,
            one(&self.name_type),
            one(""),
            one(""),
            one(&self.id_type),
        ];
        while components.len() > 1 && components.last().is_some_and(|c| c == &[""]) {
            components.pop();
        }
        FieldBuf::from_tree(vec![components])
    }
}

/// A DT/DTM value that is not a valid date.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid HL7 date/time {value:?}: {why}")]
pub struct DateError {
    pub value: String,
    pub why: &'static str,
}

/// A DTM value: local date-time and the UTC offset when one was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    pub local: NaiveDateTime,
    pub offset: Option<FixedOffset>,
}

impl Timestamp {
    pub fn date(&self) -> NaiveDate {
        self.local.date()
    }

    /// `YYYYMMDDHHMMSS[+/-ZZZZ]`, the precision the CDC IG asks for in MSH-7.
    pub fn to_hl7(&self) -> String {
        let mut out = self.local.format("%Y%m%d%H%M%S").to_string();
        if let Some(o) = self.offset {
            let secs = o.local_minus_utc();
            let sign = if secs < 0 { '-' } else { '+' };
            let m = secs.abs() / 60;
            out.push_str(&format!("{sign}{:02}{:02}", m / 60, m % 60));
        }
        out
    }
}

/// Parses an HL7 DTM: `YYYYMMDD[HH[MM[SS[.S+]]]][+/-ZZZZ]`. The CDC IG
/// requires at least the day for dates of birth and administration
/// (IG R1.5 §5.2.5); month-only precision is rejected here.
pub fn parse_timestamp(value: &str) -> Result<Timestamp, DateError> {
    let err = |why| DateError {
        value: value.to_string(),
        why,
    };
    let v = value.trim();
    let (main, offset) = match v.find(['+', '-']) {
        Some(i) => (&v[..i], Some(&v[i..])),
        None => (v, None),
    };
    let (digits, fraction) = match main.split_once('.') {
        Some((d, f)) => (d, Some(f)),
        None => (main, None),
    };
    if !digits.bytes().all(|b| b.is_ascii_digit())
        || fraction.is_some_and(|f| !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(err("expected digits (YYYYMMDD[HHMM[SS]])"));
    }
    if digits.len() < 8 {
        return Err(err("needs at least year, month and day (YYYYMMDD)"));
    }
    if !matches!(digits.len(), 8 | 10 | 12 | 14) || (fraction.is_some() && digits.len() != 14) {
        return Err(err(
            "expected YYYYMMDD, YYYYMMDDHH, YYYYMMDDHHMM or YYYYMMDDHHMMSS",
        ));
    }
    let num = |r: std::ops::Range<usize>| {
        digits
            .get(r)
            .and_then(|d| d.parse::<u32>().ok())
            .unwrap_or(0)
    };
    let year = num(0..4) as i32;
    let date = NaiveDate::from_ymd_opt(year, num(4..6), num(6..8))
        .ok_or_else(|| err("no such calendar date"))?;
    let time = NaiveTime::from_hms_opt(num(8..10), num(10..12), num(12..14))
        .ok_or_else(|| err("no such time of day"))?;
    let offset = match offset {
        None => None,
        Some(o) => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let z = &o[1..];
            if z.len() != 4 || !z.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err("time zone must be +ZZZZ or -ZZZZ"));
            }
            let h: i32 = z[..2].parse().unwrap_or(0);
            let m: i32 = z[2..].parse().unwrap_or(0);
            Some(
                FixedOffset::east_opt(sign * (h * 3600 + m * 60))
                    .ok_or_else(|| err("time zone out of range"))?,
            )
        }
    };
    Ok(Timestamp {
        local: date.and_time(time),
        offset,
    })
}

/// Parses a DT (or the date part of a DTM).
pub fn parse_date(value: &str) -> Result<NaiveDate, DateError> {
    parse_timestamp(value).map(|t| t.date())
}

/// `YYYYMMDD`.
pub fn format_date(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// An ID value of HL7 table 0136 (Yes/no indicator: PID-24 multiple birth, QPD-10):
/// `Some(true)` for Y, `Some(false)` for N, `None` for anything else (empty, unknown).
pub fn yes_no(value: &str) -> Option<bool> {
    match value.trim() {
        "Y" | "y" => Some(true),
        "N" | "n" => Some(false),
        _ => None,
    }
}

/// The table 0136 code of a yes/no value; empty when not known.
pub fn yes_no_code(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "Y",
        Some(false) => "N",
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `from_rep` returns `Default` at once for an absent repetition (most optional
    /// fields: nothing to split or unescape); reading one made of separators only, the
    /// long way, must give the same value.
    #[test]
    fn an_absent_repetition_reads_as_default() {
        let msg = crate::er7::parse(
            "MSH|^~\\&|A|B|C|D|20200101||VXU^V04|1|P|2.5.1\rZZZ||^^^^^^^^^^^^^^&&&",
        )
        .expect("parses");
        let z = msg.segment("ZZZ").expect("ZZZ");
        for f in [1, 2] {
            let r = z.field(f).repetition(1);
            assert_eq!(Cwe::from_rep(r), Cwe::default());
            assert_eq!(Hd::from_rep(r), Hd::default());
            assert_eq!(Ei::from_rep(r), Ei::default());
            assert_eq!(Cx::from_rep(r), Cx::default());
            assert_eq!(Xpn::from_rep(r), Xpn::default());
            assert_eq!(Xad::from_rep(r), Xad::default());
            assert_eq!(Xtn::from_rep(r), Xtn::default());
            assert_eq!(Xcn::from_rep(r), Xcn::default());
        }
    }

    #[test]
    fn timestamps() {
        let t = parse_timestamp("20200524084727.655-0500").expect("valid");
        assert_eq!(t.to_hl7(), "20200524084727-0500");
        assert_eq!(
            parse_date("20140227").expect("valid"),
            NaiveDate::from_ymd_opt(2014, 2, 27).expect("date")
        );
        assert_eq!(
            parse_timestamp("202204261522-0400")
                .expect("valid")
                .to_hl7(),
            "20220426152200-0400"
        );
        assert!(parse_timestamp("20150924162038- 0500").is_err());
        assert!(parse_date("201402").is_err());
        assert!(parse_date("20140230").is_err());
        assert!(parse_date("2014-02-27").is_err());
        assert!(parse_date("").is_err());
    }

    #[test]
    fn cwe_finds_code_in_either_triplet() {
        let m =
            crate::er7::parse("MSH|^~\\&\rRXA|0|1|20200101||49281-0215-88^TENIVAC^NDC^113^Td^CVX")
                .expect("valid");
        let rxa = m.segment("RXA").expect("RXA");
        let c = Cwe::from_field(rxa.field(5));
        assert_eq!(c.code_in("CVX"), Some("113"));
        assert_eq!(c.code_in("NDC"), Some("49281-0215-88"));
        assert_eq!(
            c.to_field(),
            FieldBuf::components(&["49281-0215-88", "TENIVAC", "NDC", "113", "Td", "CVX"])
        );
    }
}
