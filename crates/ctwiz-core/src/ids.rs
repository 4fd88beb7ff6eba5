//! Identifiers and codes as newtypes that can only hold valid values.

use crate::error::{CoreError, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Database identity of a patient in ctwiz (the IIS's own id, not a clinic MRN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PatientId(pub i64);

impl fmt::Display for PatientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::str::FromStr for PatientId {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self> {
        let n: i64 = s
            .trim()
            .parse()
            .map_err(|_| CoreError::invalid("patient id", s, "expected a positive whole number"))?;
        if n <= 0 {
            return Err(CoreError::invalid(
                "patient id",
                s,
                "expected a positive whole number",
            ));
        }
        Ok(PatientId(n))
    }
}

/// Database identity of one immunization event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DoseId(pub i64);

impl fmt::Display for DoseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Database identity of a user account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Defines a string newtype whose constructor validates and normalizes its text.
macro_rules! code_newtype {
    ($(#[$m:meta])* $name:ident, $field:literal, $check:expr) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates and normalizes `s`.
            pub fn new(s: &str) -> Result<Self> {
                let check: fn(&str) -> Result<String> = $check;
                check(s).map($name)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = CoreError;
            fn from_str(s: &str) -> Result<Self> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = CoreError;
            fn try_from(s: String) -> Result<Self> {
                Self::new(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

fn bounded(field: &'static str, s: &str, max: usize) -> Result<String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(CoreError::Empty { field });
    }
    let len = t.chars().count();
    if len > max {
        return Err(CoreError::TooLong { field, len, max });
    }
    if t.chars().any(|c| c.is_control()) {
        return Err(CoreError::invalid(field, s, "contains control characters"));
    }
    Ok(t.to_string())
}

code_newtype!(
    /// CDC CVX vaccine code (HL7 table 0292): one to three digits, stored without
    /// leading zeros beyond two digits ("8" and "08" are the same code, stored "08").
    Cvx,
    "CVX",
    |s| {
        let t = s.trim();
        if t.is_empty() || t.len() > 3 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CoreError::invalid("CVX", s, "expected 1 to 3 digits"));
        }
        let n: u16 = t.parse().map_err(|_| CoreError::invalid("CVX", s, "expected 1 to 3 digits"))?;
        Ok(format!("{n:02}"))
    }
);

impl Cvx {
    /// CVX 998: "no vaccine administered", used in refusals and forecast-only messages.
    pub fn no_vaccine() -> Cvx {
        Cvx("998".into())
    }
}

code_newtype!(
    /// CDC MVX manufacturer code (HL7 table 0227): 2–3 upper-case letters.
    Mvx,
    "MVX",
    |s| {
        let t = s.trim().to_ascii_uppercase();
        if !(2..=3).contains(&t.len()) || !t.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(CoreError::invalid("MVX", s, "expected 2 or 3 letters"));
        }
        Ok(t)
    }
);

code_newtype!(
    /// National Drug Code, 10 or 11 digits with optional hyphens (stored as given, trimmed).
    Ndc,
    "NDC",
    |s| {
        let t = s.trim();
        let digits = t.bytes().filter(|b| b.is_ascii_digit()).count();
        if !t.bytes().all(|b| b.is_ascii_digit() || b == b'-') || !(10..=11).contains(&digits) {
            return Err(CoreError::invalid("NDC", s, "expected 10 or 11 digits, hyphens allowed"));
        }
        Ok(t.to_string())
    }
);

code_newtype!(
    /// A clinic's provider identification number (PIN) in the IIS: 2–20 letters,
    /// digits or hyphens, upper-cased.
    ClinicPin,
    "clinic PIN",
    |s| {
        let t = s.trim().to_ascii_uppercase();
        if !(2..=20).contains(&t.len())
            || !t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(CoreError::invalid(
                "clinic PIN",
                s,
                "expected 2 to 20 letters, digits or hyphens",
            ));
        }
        Ok(t)
    }
);

code_newtype!(
    /// A vaccine lot number as printed on the vial: 1–30 visible characters.
    LotNumber,
    "lot number",
    |s| {
        let t = bounded("lot number", s, 30)?;
        if t.chars().any(char::is_whitespace) {
            return Err(CoreError::invalid("lot number", s, "must not contain spaces"));
        }
        Ok(t.to_ascii_uppercase())
    }
);

code_newtype!(
    /// Sign-in name: 3–64 characters of letters, digits and `._-@`, lower-cased.
    Username,
    "username",
    |s| {
        let t = s.trim().to_lowercase();
        if !(3..=64).contains(&t.chars().count())
            || !t
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
        {
            return Err(CoreError::invalid(
                "username",
                s,
                "expected 3 to 64 letters, digits or . _ - @",
            ));
        }
        Ok(t)
    }
);

code_newtype!(
    /// An e-mail address: one `@`, a non-empty local part and a dotted domain.
    Email,
    "e-mail",
    |s| {
        let t = bounded("e-mail", s, 254)?;
        let (local, domain) = t
            .split_once('@')
            .ok_or_else(|| CoreError::invalid("e-mail", s, "missing @"))?;
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || t.chars().any(char::is_whitespace)
        {
            return Err(CoreError::invalid("e-mail", s, "not an address like name@example.org"));
        }
        Ok(format!("{local}@{}", domain.to_ascii_lowercase()))
    }
);

code_newtype!(
    /// A US phone number, stored as its 10 digits (a leading country code 1 is dropped).
    Phone,
    "phone",
    |s| {
        let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
        let ok_chars = s
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.' | '+'));
        let d = match digits.len() {
            10 => digits,
            11 if digits.starts_with('1') => digits[1..].to_string(),
            _ => String::new(),
        };
        if !ok_chars || d.is_empty() || d.starts_with('0') || d.starts_with('1') {
            return Err(CoreError::invalid("phone", s, "expected a 10-digit US number"));
        }
        Ok(d)
    }
);

impl Phone {
    /// `(860) 555-0123` style for display.
    pub fn formatted(&self) -> String {
        let d = &self.0;
        format!("({}) {}-{}", &d[0..3], &d[3..6], &d[6..10])
    }
}

code_newtype!(
    /// A US ZIP code: 5 digits or ZIP+4.
    Zip,
    "ZIP code",
    |s| {
        let t = s.trim();
        let ok = match t.len() {
            5 => t.bytes().all(|b| b.is_ascii_digit()),
            9 => t.bytes().all(|b| b.is_ascii_digit()),
            10 => t.as_bytes()[5] == b'-' && t.bytes().enumerate().all(|(i, b)| i == 5 || b.is_ascii_digit()),
            _ => false,
        };
        if !ok {
            return Err(CoreError::invalid("ZIP code", s, "expected 12345 or 12345-6789"));
        }
        Ok(if t.len() == 9 { format!("{}-{}", &t[..5], &t[5..]) } else { t.to_string() })
    }
);

/// Validates a free-text name part (person name, clinic name): not empty, at most `max`.
pub fn name_text(field: &'static str, s: &str, max: usize) -> Result<String> {
    bounded(field, s, max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cvx_normalizes_leading_zeros() {
        assert_eq!(Cvx::new("8").unwrap().as_str(), "08");
        assert_eq!(Cvx::new("08").unwrap().as_str(), "08");
        assert_eq!(Cvx::new("110").unwrap().as_str(), "110");
        assert!(Cvx::new("ABC").is_err());
        assert!(Cvx::new("1234").is_err());
        assert!(Cvx::new("").is_err());
    }

    #[test]
    fn phone_and_zip_and_email() {
        assert_eq!(
            Phone::new("+1 (860) 555-0123").unwrap().as_str(),
            "8605550123"
        );
        assert_eq!(
            Phone::new("860.555.0123").unwrap().formatted(),
            "(860) 555-0123"
        );
        assert!(Phone::new("555-0123").is_err());
        assert_eq!(Zip::new("061060000").unwrap().as_str(), "06106-0000");
        assert!(Zip::new("6106").is_err());
        assert_eq!(
            Email::new("Ann@Example.ORG").unwrap().as_str(),
            "Ann@example.org"
        );
        assert!(Email::new("ann@localhost").is_err());
        assert!(Email::new("a b@x.org").is_err());
    }

    #[test]
    fn errors_name_the_value() {
        let e = ClinicPin::new("a b").unwrap_err().to_string();
        assert!(e.contains("\"a b\""), "{e}");
    }

    proptest! {
        #[test]
        fn newtypes_never_panic(s in ".{0,40}") {
            let _ = Cvx::new(&s);
            let _ = Mvx::new(&s);
            let _ = Ndc::new(&s);
            let _ = ClinicPin::new(&s);
            let _ = LotNumber::new(&s);
            let _ = Username::new(&s);
            let _ = Email::new(&s);
            let _ = Phone::new(&s);
            let _ = Zip::new(&s);
        }

        #[test]
        fn valid_codes_round_trip(n in 0u16..1000) {
            let c = Cvx::new(&n.to_string()).unwrap();
            prop_assert_eq!(Cvx::new(c.as_str()).unwrap(), c);
        }
    }
}
