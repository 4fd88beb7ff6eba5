//! Patient matching: the one engine that decides whether two records are the same
//! person, used by HL7 ingest, batch import, the add-patient duplicate warning, the
//! duplicate scan and `ctwiz match pairs`.
//!
//! - [`record`]: a person's fields normalized once ([`MatchRecord`]).
//! - [`compare`]: each field's agreement level (Jaro-Winkler, Double Metaphone,
//!   nicknames, birth dates forgiving transposed day/month and one-digit slips).
//! - [`model`]: Fellegi–Sunter weights, m/u learned by EM from the registry's own
//!   records, term-frequency adjusted names, two thresholds, the twins rule.
//! - [`blocking`]: multi-pass blocking with a hard cap on candidates per record.
//!
//! ```
//! use ctwiz_core::matching::{MatchModel, MatchRecord, Decision};
//! let rec = |given: &str, dob: &str| {
//!     let mut r = MatchRecord::default();
//!     r.set_names(given, "", "Tymczak");
//!     r.dob = dob.into();
//!     r.set_street_line("12 Main St");
//!     r
//! };
//! let model = MatchModel::default();
//! assert_eq!(model.score(&rec("Olivia", "20200304"), &rec("Olivia", "20200403")).decision, Decision::Link);
//! assert_eq!(model.score(&rec("Olivia", "20200304"), &rec("Sophia", "20200304")).decision, Decision::Distinct);
//! ```

pub mod batch;
pub mod blocking;
pub mod cluster;
pub mod compare;
pub mod model;
pub mod record;

pub use blocking::{candidate_pairs, dob_variants, Blocking, MAX_DOB_VARIANTS};
pub use cluster::clusters;
pub use compare::{compare, Comparison, Field};
pub use model::{
    Decision, Evidence, GivenNameCounts, MatchModel, NotCounted, Override, Score, Thresholds,
};
pub use record::MatchRecord;

use crate::patient::Patient;

/// Upper-case letters of any script, Latin diacritics folded to their base letter and
/// everything else dropped ("O'Brien-Müller" → "OBRIENMULLER", "Иванова" → "ИВАНОВА",
/// "李 小龍" → "李小龍"), for search keys and comparisons: a name in any script is found
/// by itself, and never by an empty key.
pub fn normalize_name(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphabetic())
        .flat_map(char::to_uppercase)
        .map(|c| record::fold(c).unwrap_or(c))
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
    // Soundex codes English letters: other scripts have no code (an empty key).
    let n: String = normalize_name(s)
        .chars()
        .filter(char::is_ascii_uppercase)
        .collect();
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

/// The verdict of the default model on two patient records (see [`MatchModel::score`]).
pub fn match_patients(a: &Patient, b: &Patient) -> Decision {
    default_model()
        .score(&MatchRecord::from_patient(a), &MatchRecord::from_patient(b))
        .decision
}

/// The model used before the registry has one fitted to its own data.
pub fn default_model() -> &'static MatchModel {
    static MODEL: std::sync::OnceLock<MatchModel> = std::sync::OnceLock::new();
    MODEL.get_or_init(MatchModel::default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patient::{PersonName, Sex};
    use chrono::NaiveDate;
    use proptest::prelude::*;

    #[test]
    fn soundex_classics() {
        assert_eq!(soundex("Robert"), "R163");
        assert_eq!(soundex("Rupert"), "R163");
        assert_eq!(soundex("Ashcraft"), "A261");
        assert_eq!(soundex("Tymczak"), "T522");
        assert_eq!(soundex("Pfister"), "P236");
        assert_eq!(soundex("O'Brien"), soundex("OBrien"));
        assert_eq!(soundex(""), "");
        assert_eq!(soundex("Иванова"), "");
    }

    #[test]
    fn names_in_any_script_keep_their_letters() {
        assert_eq!(normalize_name("O'Brien-Smith"), "OBRIENSMITH");
        assert_eq!(normalize_name("Müller"), "MULLER");
        assert_eq!(normalize_name("Иванова"), "ИВАНОВА");
        assert_eq!(normalize_name("李 小龍"), "李小龍");
        assert_eq!(normalize_name("Ελένη"), "ΕΛΈΝΗ");
        assert_eq!(normalize_name("  -' "), "");
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
    fn patient_decisions() {
        assert_eq!(
            match_patients(&p("Smith", "Ann", 2020), &p("SMITH", "ann", 2020)),
            Decision::Link
        );
        assert_ne!(
            match_patients(&p("Smith", "Annabel", 2020), &p("Smyth", "Ann", 2020)),
            Decision::Distinct
        );
        assert_ne!(
            match_patients(&p("Smith", "Ann", 2020), &p("Smith", "Ann", 2011)),
            Decision::Link
        );
        let mut twin = p("Smith", "Ann", 2020);
        twin.birth_order = Some(2);
        let mut other = p("Smith", "Ann", 2020);
        other.birth_order = Some(1);
        assert_eq!(match_patients(&twin, &other), Decision::Distinct);
    }

    fn arb_record() -> impl Strategy<Value = MatchRecord> {
        let name = prop::sample::select(vec![
            "Ann",
            "Anne",
            "Annabel",
            "Bob",
            "Robert",
            "Smith",
            "Smyth",
            "Lee",
            "Garcia-Lopez",
            "Lopez",
            "Tymczak",
            "",
            "Olivia",
            "Oliver",
            "Olivai",
            "Jayden",
            "Jaden",
            "Sophia",
        ]);
        let dob = prop::sample::select(vec!["20200304", "20200403", "20200305", "20190101", ""]);
        let small = prop::sample::select(vec!["", "1", "2", "06106", "06107", "8605550123"]);
        let middle = prop::sample::select(vec!["", "Ann", "Lucas", "Owen"]);
        (
            name.clone(),
            middle,
            name,
            dob,
            small.clone(),
            small.clone(),
            small,
            any::<Option<bool>>(),
            (prop::option::of(1u8..3), any::<Option<bool>>()),
        )
            .prop_map(|(g, m, f, dob, zip, phone, mrn, sex, (order, multiple))| {
                let mut r = MatchRecord::default();
                r.set_names(g, m, f);
                r.dob = dob.into();
                r.set_zip(zip);
                r.set_phone(phone);
                r.sex = sex.map(|s| if s { Sex::Female } else { Sex::Male });
                if !mrn.is_empty() {
                    r.mrns = vec![("CT001".into(), mrn.into())];
                }
                r.birth_order = order;
                r.multiple_birth = if order.is_some() {
                    Some(true)
                } else {
                    multiple
                };
                r
            })
    }

    proptest! {
        #[test]
        fn matching_is_symmetric(a in arb_record(), b in arb_record()) {
            let m = MatchModel::default();
            prop_assert_eq!(compare(&a, &b), compare(&b, &a));
            let (ab, ba) = (m.score(&a, &b), m.score(&b, &a));
            prop_assert_eq!(ab.decision, ba.decision);
            prop_assert!((ab.weight - ba.weight).abs() < 1e-9);
            prop_assert!((ab.probability - ba.probability).abs() < 1e-9);
        }

        /// The co-twin odds, with names counted or not, do not depend on which record
        /// comes first, and twins are never linked.
        #[test]
        fn twin_odds_are_symmetric(a in arb_record(), b in arb_record()) {
            let mut counted = MatchModel::default();
            counted.given_tf.records = 1000;
            for (name, n) in [("OLIVIA", 40), ("OLIVER", 30), ("JAYDEN", 20), ("JADEN", 9)] {
                counted.given_tf.counts.insert(name.into(), n);
            }
            for m in [MatchModel::default(), counted] {
                let (ab, ba) = (compare(&a, &b), compare(&b, &a));
                // The names in question are the same pair either way round.
                let (qa, qb) = (m.given_names_in_question(&a, &b), m.given_names_in_question(&b, &a));
                prop_assert_eq!(qa.map(|[x, y]| [y, x]), qb);
                let (x, y) = (m.twin_odds(&a, &b, &ab), m.twin_odds(&b, &a, &ba));
                prop_assert_eq!(x.is_some(), y.is_some());
                if let (Some(x), Some(y)) = (x, y) {
                    prop_assert!((x - y).abs() < 1e-9);
                }
                let (s, t) = (m.score(&a, &b), m.score(&b, &a));
                prop_assert_eq!(s.judged, t.judged);
                prop_assert!((s.probability - t.probability).abs() < 1e-9);
                if s.overridden == Some(Override::Twins) {
                    prop_assert_eq!(s.decision, Decision::Distinct);
                }
            }
        }

        #[test]
        fn a_record_matches_itself(a in arb_record()) {
            let s = MatchModel::default().score(&a, &a);
            prop_assert!(s.overridden.is_none());
            prop_assert!(s.weight >= model_prior_weight());
        }
    }

    fn model_prior_weight() -> f64 {
        let p = MatchModel::default().prior;
        (p / (1.0 - p)).log2()
    }
}
