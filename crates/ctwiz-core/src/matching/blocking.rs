//! Blocking: which pairs are worth scoring at all. Several passes, each grouping records
//! that share one key (birth date; both names' sounds, in either order; SSN digits, in
//! any order; phone; house and street; family sound and birth year; given sound and
//! birth month; ZIP and the street's first letters), so a typo in any one field still
//! leaves a pass that brings the pair together.
//!
//! Cost is bounded whatever the data: a block larger than [`Blocking::max_block`] is
//! not paired all-to-all but sorted by name and paired within a sliding window, and no
//! record takes part in more than [`Blocking::max_candidates`] pairs.

use super::compare::one_slip;
use super::record::MatchRecord;
use chrono::NaiveDate;
use std::collections::{HashMap, HashSet};

/// The most dates [`dob_variants`] returns: one transposition, nine other digits in each
/// of eight places, seven adjacent swaps.
pub const MAX_DOB_VARIANTS: usize = 1 + 8 * 9 + 7;

/// Real dates one keying slip away from `dob`: day and month transposed, one digit
/// changed, or two adjacent digits swapped (the birth-date agreements the matcher
/// forgives), for looking up a record whose birth date was mistyped.
pub fn dob_variants(dob: NaiveDate) -> Vec<NaiveDate> {
    use chrono::Datelike;
    // Every HL7 import looks a new patient up under these dates: digits and arithmetic,
    // not a formatted string parsed back some eighty times. (A year outside 0–9999 is no
    // birth date a record can hold: no variants.)
    let Ok(year @ 0..=9999) = u32::try_from(dob.year()) else {
        return Vec::new();
    };
    let mut s = [0u8; 8];
    let text = format!("{year:04}{:02}{:02}", dob.month(), dob.day());
    for (digit, b) in s.iter_mut().zip(text.bytes()) {
        *digit = b - b'0';
    }
    let mut out: Vec<NaiveDate> = Vec::new();
    let mut push = |t: [u8; 8]| {
        let num = |r: std::ops::Range<usize>| t[r].iter().fold(0u32, |a, &d| a * 10 + u32::from(d));
        let date = i32::try_from(num(0..4))
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, num(4..6), num(6..8)));
        if let Some(d) = date {
            if d != dob && !out.contains(&d) {
                out.push(d);
            }
        }
    };
    let mut swapped = s;
    swapped[4..6].copy_from_slice(&s[6..8]);
    swapped[6..8].copy_from_slice(&s[4..6]);
    push(swapped);
    for i in 0..s.len() {
        for digit in 0..=9 {
            let mut t = s;
            t[i] = digit;
            push(t);
        }
        if i + 1 < s.len() {
            let mut t = s;
            t.swap(i, i + 1);
            push(t);
        }
    }
    debug_assert!(out.iter().all(|d| {
        let (a, b) = (
            dob.format("%Y%m%d").to_string(),
            d.format("%Y%m%d").to_string(),
        );
        one_slip(&a, &b) || b[4..6] == a[6..8]
    }));
    out
}

/// Blocking limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocking {
    /// Blocks up to this size are paired all-to-all.
    pub max_block: usize,
    /// In larger blocks, each record is paired with this many neighbours in name order.
    pub window: usize,
    /// Hard cap on the pairs one record takes part in (over all passes).
    pub max_candidates: usize,
}

impl Default for Blocking {
    fn default() -> Self {
        Blocking {
            max_block: 64,
            window: 8,
            max_candidates: 48,
        }
    }
}

/// The blocking keys of one record, one per pass (`None`: the pass does not apply).
pub fn blocking_keys(r: &MatchRecord) -> [Option<String>; 8] {
    let year = r.dob.get(..4);
    let month = r.dob.get(..6);
    let both = |a: &str, b: &str| (!a.is_empty() && !b.is_empty()).then(|| format!("{a}|{b}"));
    // The two name sounds in sorted order: names entered the wrong way round still meet.
    let (g, f) = (&r.given_sound.0, &r.family_sound.0);
    let names = if g <= f { both(g, f) } else { both(f, g) };
    // SSN digits sorted: a transposition still meets.
    let ssn = (r.ssn.len() >= 4).then(|| {
        let mut d = r.ssn.clone().into_bytes();
        d.sort_unstable();
        String::from_utf8(d).expect("ASCII digits")
    });
    let street: String = r.street.chars().take(3).collect();
    [
        (r.dob.len() == 8).then(|| r.dob.clone()),
        names,
        ssn,
        (r.phone.len() >= 7).then(|| r.phone.clone()),
        both(&r.number, &r.street),
        year.and_then(|y| both(f, y)),
        month.and_then(|m| both(g, m)),
        both(&r.zip, &street),
    ]
}

/// Candidate pairs `(i, j)`, `i < j`, among `records`, each once, in a deterministic
/// order (passes in order, blocks by key).
pub fn candidate_pairs(records: &[MatchRecord], limits: Blocking) -> Vec<(u32, u32)> {
    let keys: Vec<_> = records.iter().map(blocking_keys).collect();
    let mut taken = vec![0usize; records.len()];
    let mut seen: HashSet<(u32, u32)> = HashSet::new();
    let mut out = Vec::new();
    let passes = keys.first().map_or(0, |k| k.len());
    for pass in 0..passes {
        let mut blocks: HashMap<&str, Vec<u32>> = HashMap::new();
        for (i, k) in keys.iter().enumerate() {
            if let Some(k) = &k[pass] {
                blocks.entry(k.as_str()).or_default().push(i as u32);
            }
        }
        let mut blocks: Vec<(&str, Vec<u32>)> = blocks.into_iter().collect();
        blocks.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (_, mut members) in blocks {
            if members.len() < 2 {
                continue;
            }
            let window = if members.len() <= limits.max_block {
                members.len()
            } else {
                members.sort_by(|&a, &b| {
                    let (ra, rb) = (&records[a as usize], &records[b as usize]);
                    (&ra.family, &ra.given, &ra.dob, a).cmp(&(&rb.family, &rb.given, &rb.dob, b))
                });
                limits.window + 1
            };
            for (x, &a) in members.iter().enumerate() {
                for &b in members.iter().skip(x + 1).take(window - 1) {
                    let pair = (a.min(b), a.max(b));
                    if taken[a as usize] >= limits.max_candidates
                        || taken[b as usize] >= limits.max_candidates
                        || !seen.insert(pair)
                    {
                        continue;
                    }
                    taken[a as usize] += 1;
                    taken[b as usize] += 1;
                    out.push(pair);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birth_date_variants_are_real_dates_one_slip_away() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        let v = dob_variants(d(2020, 3, 4));
        assert!(v.contains(&d(2020, 4, 3)));
        assert!(v.contains(&d(2020, 3, 5)));
        assert!(v.contains(&d(2021, 3, 4)));
        assert!(!v.contains(&d(2020, 3, 4)));
        assert!(v.len() < 80);
    }

    /// The first version, from formatted text: the digit arithmetic must give the same
    /// dates in the same order.
    fn variants_from_text(dob: NaiveDate) -> Vec<NaiveDate> {
        let s = dob.format("%Y%m%d").to_string();
        let mut out: Vec<NaiveDate> = Vec::new();
        let mut push = |t: &str| {
            if let Ok(d) = NaiveDate::parse_from_str(t, "%Y%m%d") {
                if d != dob && !out.contains(&d) {
                    out.push(d);
                }
            }
        };
        push(&format!("{}{}{}", &s[..4], &s[6..8], &s[4..6]));
        let b = s.as_bytes();
        for i in 0..b.len() {
            for digit in b'0'..=b'9' {
                let mut t = b.to_vec();
                t[i] = digit;
                push(std::str::from_utf8(&t).unwrap());
            }
            if i + 1 < b.len() {
                let mut t = b.to_vec();
                t.swap(i, i + 1);
                push(std::str::from_utf8(&t).unwrap());
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn variants_match_the_text_version(days in 0i64..60_000) {
            let dob = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Days::new(days as u64);
            proptest::prop_assert_eq!(dob_variants(dob), variants_from_text(dob));
        }

        /// The store binds a fixed number of variant slots.
        #[test]
        fn variants_never_exceed_their_bound(days in 0i64..3_650_000) {
            let dob = NaiveDate::from_ymd_opt(1, 1, 1).unwrap() + chrono::Days::new(days as u64);
            proptest::prop_assert!(dob_variants(dob).len() <= MAX_DOB_VARIANTS);
        }
    }

    fn rec(given: &str, family: &str, dob: &str) -> MatchRecord {
        let mut r = MatchRecord::default();
        r.set_names(given, "", family);
        r.dob = dob.into();
        r
    }

    #[test]
    fn a_typo_in_one_field_still_meets_in_another_pass() {
        let rs = [
            rec("Ann", "Lee", "20200304"),
            rec("Ann", "Lee", "20200403"),
            rec("Anne", "Leigh", "20200304"),
            rec("Bob", "Stone", "20190101"),
        ];
        let pairs = candidate_pairs(&rs, Blocking::default());
        assert!(pairs.contains(&(0, 1)) && pairs.contains(&(0, 2)));
        assert!(!pairs.iter().any(|&(a, b)| a == 3 || b == 3));
    }

    #[test]
    fn candidates_per_record_are_capped_on_a_look_alike_feed() {
        let rs: Vec<_> = (0..2000)
            .map(|i| rec("Ann", &format!("Lee{i}"), "20200304"))
            .collect();
        let limits = Blocking::default();
        let pairs = candidate_pairs(&rs, limits);
        let mut per = vec![0; rs.len()];
        for (a, b) in &pairs {
            per[*a as usize] += 1;
            per[*b as usize] += 1;
        }
        assert!(per.iter().all(|&n| n <= limits.max_candidates));
        assert!(pairs.len() <= rs.len() * limits.max_candidates / 2);
    }
}
