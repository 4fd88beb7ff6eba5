//! Patient matching: name normalization, phonetic keys, and the scoring that decides
//! whether two records are the same person (used by search, HL7 matching and dedup).

use crate::patient::Patient;

/// Upper-case ASCII letters only ("O'Brien-Smith" → "OBRIENSMITH"), for comparisons.
pub fn normalize_name(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphabetic())
        .flat_map(char::to_uppercase)
        .filter(char::is_ascii_uppercase)
        .collect()
}

/// American Soundex code (letter + 3 digits), "" for a name without letters.
pub fn soundex(s: &str) -> String {
    fn code(c: char) -> u8 {
        match c {
            'B' | 'F' | 'P' | 'V' => b'1',
            'C' | 'G' | 'J' | 'K' | 'Q' | 'S' | 'X' | 'Z' => b'2',
            'D' | 'T' => b'3',
            'L' => b'4',
            'M' | 'N' => b'5',
            'R' => b'6',
            'H' | 'W' => b'h',
            _ => b'0', // vowels and Y separate equal codes
        }
    }
    let n = normalize_name(s);
    let mut chars = n.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut out = String::with_capacity(4);
    out.push(first);
    let mut last = code(first);
    for c in chars {
        let k = code(c);
        if k == b'h' {
            continue; // H and W do not separate letters with the same code
        }
        if k != b'0' && k != last {
            out.push(k as char);
            if out.len() == 4 {
                break;
            }
        }
        last = k;
    }
    while out.len() < 4 {
        out.push('0');
    }
    out
}

/// How sure we are that two records describe the same person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MatchLevel {
    NoMatch,
    /// Worth a human look (clean-up / deduplication queue).
    Possible,
    /// Safe to merge automatically.
    Certain,
}

/// Compares demographics: birth date and sex must agree; names must agree exactly or
/// phonetically; a multiple-birth order that differs means twins, not duplicates.
pub fn match_patients(a: &Patient, b: &Patient) -> MatchLevel {
    if a.dob != b.dob {
        return MatchLevel::NoMatch;
    }
    if let (Some(x), Some(y)) = (a.birth_order, b.birth_order) {
        if x != y {
            return MatchLevel::NoMatch;
        }
    }
    let sex_ok = a.sex == b.sex
        || a.sex == crate::patient::Sex::Unknown
        || b.sex == crate::patient::Sex::Unknown;
    let fam_a = normalize_name(&a.name.family);
    let fam_b = normalize_name(&b.name.family);
    let giv_a = normalize_name(&a.name.given);
    let giv_b = normalize_name(&b.name.given);
    let family_exact = fam_a == fam_b;
    let family_sound = soundex(&fam_a) == soundex(&fam_b);
    let given_exact = giv_a == giv_b;
    // Nicknames and truncations: "Alex" for "Alexander".
    let given_prefix = !giv_a.is_empty()
        && !giv_b.is_empty()
        && (giv_a.starts_with(&giv_b) || giv_b.starts_with(&giv_a));
    let given_sound = soundex(&giv_a) == soundex(&giv_b);
    match (family_exact, given_exact, sex_ok) {
        (true, true, true) => MatchLevel::Certain,
        _ if sex_ok
            && (family_exact || family_sound)
            && (given_exact || given_prefix || given_sound) =>
        {
            MatchLevel::Possible
        }
        _ => MatchLevel::NoMatch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patient::{PersonName, Sex};
    use chrono::NaiveDate;

    #[test]
    fn soundex_classics() {
        assert_eq!(soundex("Robert"), "R163");
        assert_eq!(soundex("Rupert"), "R163");
        assert_eq!(soundex("Ashcraft"), "A261");
        assert_eq!(soundex("Tymczak"), "T522");
        assert_eq!(soundex("Pfister"), "P236");
        assert_eq!(soundex("O'Brien"), soundex("OBrien"));
        assert_eq!(soundex(""), "");
    }

    fn p(family: &str, given: &str, y: i32) -> Patient {
        Patient::new(
            PersonName::new(family, given).unwrap(),
            NaiveDate::from_ymd_opt(y, 3, 4).unwrap(),
            Sex::Female,
        )
        .unwrap()
    }

    #[test]
    fn match_levels() {
        assert_eq!(
            match_patients(&p("Smith", "Ann", 2020), &p("SMITH", "ann", 2020)),
            MatchLevel::Certain
        );
        assert_eq!(
            match_patients(&p("Smith", "Annabel", 2020), &p("Smyth", "Ann", 2020)),
            MatchLevel::Possible
        );
        assert_eq!(
            match_patients(&p("Smith", "Ann", 2020), &p("Smith", "Ann", 2021)),
            MatchLevel::NoMatch
        );
        let mut twin = p("Smith", "Ann", 2020);
        twin.birth_order = Some(2);
        let mut other = p("Smith", "Ann", 2020);
        other.birth_order = Some(1);
        assert_eq!(match_patients(&twin, &other), MatchLevel::NoMatch);
    }
}
