//! The person as the matcher sees it: every field normalized once (upper-case letters
//! and digits, phonetic codes, the birth date as eight digits), whatever the source — a
//! stored or submitted [`Patient`], or a row of an analyst's CSV extract.

use crate::patient::{Patient, Sex};
use rphonetic::DoubleMetaphone;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// One person's matching fields. An empty string means "not known"; an unknown field
/// gives no evidence either way.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchRecord {
    pub given: String,
    pub middle: String,
    pub family: String,
    /// `family` with its parts joined ("GARCIALOPEZ"), as exact agreement compares it.
    pub family_joined: String,
    /// Double Metaphone codes (primary, alternate) of `given` and `family`.
    pub given_sound: (String, String),
    pub family_sound: (String, String),
    /// Birth date as `YYYYMMDD`. Kept as digits so a typo that makes an impossible date
    /// (Feb 31) still counts as "one digit off" instead of being lost.
    pub dob: String,
    pub sex: Option<Sex>,
    /// Street name without the house number, e.g. "MAIN ST".
    pub street: String,
    pub street2: String,
    /// House number, e.g. "12".
    pub number: String,
    pub city: String,
    /// First five digits.
    pub zip: String,
    /// Last ten digits.
    pub phone: String,
    pub ssn: String,
    pub mother_maiden: String,
    /// (assigning clinic, MRN) pairs.
    pub mrns: Vec<(String, String)>,
    /// Multiple-birth order (1 for the first twin), when reported.
    pub birth_order: Option<u8>,
    /// Reported as one of a multiple birth (PID-24 Y, or a birth order): `Some(true)`;
    /// an explicit N: `Some(false)`.
    #[serde(default)]
    pub multiple_birth: Option<bool>,
}

/// The base letter of a Latin letter with a diacritic ("í" → 'I'), upper-cased.
pub(crate) fn fold(c: char) -> Option<char> {
    let u = c.to_uppercase().next()?;
    if u.is_ascii_alphanumeric() {
        return Some(u);
    }
    Some(match u {
        'À'..='Å' => 'A',
        'Ç' => 'C',
        'È'..='Ë' => 'E',
        'Ì'..='Ï' => 'I',
        'Ñ' => 'N',
        'Ò'..='Ö' | 'Ø' => 'O',
        'Ù'..='Ü' => 'U',
        'Ý' | 'Ÿ' => 'Y',
        _ => return None,
    })
}

/// Upper-case letters and digits only, diacritics folded, for names: digits are kept so
/// "Test1" and "Test2" (synthetic and test records) stay different names.
pub fn normalize_token(s: &str) -> String {
    s.chars().filter_map(fold_any_script).collect()
}

/// [`fold`] for Latin letters and digits; a letter of another script upper-cased as it
/// is ("и" → 'И'), so names in Cyrillic, Greek, Arabic or Han compare by their letters.
fn fold_any_script(c: char) -> Option<char> {
    fold(c).or_else(|| {
        c.is_alphabetic()
            .then(|| c.to_uppercase().next().unwrap_or(c))
    })
}

/// Upper-case words separated by single spaces ("12  Main St." → "12 MAIN ST").
fn normalize_words(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(w.chars().filter_map(fold_any_script));
    }
    out
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn double_metaphone() -> &'static DoubleMetaphone {
    static DM: OnceLock<DoubleMetaphone> = OnceLock::new();
    DM.get_or_init(DoubleMetaphone::default)
}

/// Double Metaphone (primary, alternate) of a normalized name; empty for no letters.
pub fn phonetic(name: &str) -> (String, String) {
    let letters: String = name.chars().filter(char::is_ascii_alphabetic).collect();
    if letters.is_empty() {
        return (String::new(), String::new());
    }
    let r = double_metaphone().double_metaphone(&letters);
    (r.primary().to_string(), r.alternate().to_string())
}

impl MatchRecord {
    /// Sets the name fields (normalizing and encoding them).
    pub fn set_names(&mut self, given: &str, middle: &str, family: &str) {
        self.given = normalize_token(given);
        self.middle = normalize_token(middle);
        self.family = normalize_name_keep_parts(family);
        self.family_joined = self.family.replace(' ', "");
        self.given_sound = phonetic(&self.given);
        self.family_sound = phonetic(&self.family);
    }

    /// Sets the street from one line that may start with the house number.
    pub fn set_street_line(&mut self, line: &str) {
        let words = normalize_words(line);
        match words.split_once(' ') {
            Some((n, rest)) if n.chars().all(|c| c.is_ascii_digit()) => {
                self.number = n.to_string();
                self.street = rest.to_string();
            }
            _ => self.street = words,
        }
    }

    pub fn set_street(&mut self, street: &str) {
        self.street = normalize_words(street);
    }
    pub fn set_street2(&mut self, s: &str) {
        self.street2 = normalize_words(s);
    }
    pub fn set_number(&mut self, s: &str) {
        self.number = normalize_token(s);
    }
    pub fn set_city(&mut self, s: &str) {
        self.city = normalize_words(s);
    }
    pub fn set_zip(&mut self, s: &str) {
        self.zip = digits(s).chars().take(5).collect();
    }
    pub fn set_phone(&mut self, s: &str) {
        let d = digits(s);
        self.phone = d[d.len().saturating_sub(10)..].to_string();
    }
    pub fn set_ssn(&mut self, s: &str) {
        self.ssn = digits(s);
    }
    pub fn set_mother_maiden(&mut self, s: &str) {
        self.mother_maiden = normalize_name_keep_parts(s);
    }

    /// The matching view of a patient record: first address and phone, every MRN.
    pub fn from_patient(p: &Patient) -> MatchRecord {
        let mut r = MatchRecord::default();
        r.set_names(
            &p.name.given,
            p.name.middle.as_deref().unwrap_or(""),
            &p.name.family,
        );
        r.dob = p.dob.format("%Y%m%d").to_string();
        r.sex = (p.sex != Sex::Unknown).then_some(p.sex);
        if let Some(a) = p.addresses.first() {
            r.set_street_line(&a.street);
            r.set_city(&a.city);
            r.set_zip(a.zip.as_str());
        }
        if let Some(ph) = p.phones.first() {
            r.set_phone(ph.as_str());
        }
        if let Some(ssn) = p.identifiers.iter().find(|i| i.kind == "SS") {
            r.set_ssn(&ssn.value);
        }
        if let Some(m) = &p.mothers_maiden_name {
            r.set_mother_maiden(m);
        }
        r.mrns = p
            .mrns
            .iter()
            .map(|m| (m.clinic.as_str().to_string(), m.value.clone()))
            .collect();
        r.birth_order = p.birth_order;
        r.multiple_birth = p.reported_multiple_birth();
        r
    }

    /// The parts of a hyphenated or double family name ("GARCIA LOPEZ" → both).
    pub fn family_parts(&self) -> impl Iterator<Item = &str> {
        self.family.split(' ').filter(|s| !s.is_empty())
    }
}

/// A family name normalized with its parts kept apart by one space
/// ("García-López" → "GARCIA LOPEZ"), so a hyphenated name can match either part.
fn normalize_name_keep_parts(s: &str) -> String {
    let mut out = String::new();
    for part in s
        .split(|c: char| c == '-' || c.is_whitespace())
        .map(normalize_token)
        .filter(|p| !p.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_normalized_once() {
        let mut r = MatchRecord::default();
        r.set_names("Mary-Ann", "", "García-López");
        assert_eq!(r.given, "MARYANN");
        assert_eq!(r.family, "GARCIA LOPEZ");
        assert_eq!(r.family_parts().collect::<Vec<_>>(), ["GARCIA", "LOPEZ"]);
        r.set_street_line("12  Main St.");
        assert_eq!((r.number.as_str(), r.street.as_str()), ("12", "MAIN ST"));
        r.set_phone("+1 (860) 555-0123");
        assert_eq!(r.phone, "8605550123");
        r.set_zip("06106-1234");
        assert_eq!(r.zip, "06106");
        assert_eq!(phonetic("SMITH").0, phonetic("SMYTHE").0);
        assert_eq!(phonetic("1234"), (String::new(), String::new()));
    }
}
