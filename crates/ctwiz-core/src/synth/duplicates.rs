//! A synthetic population with injected duplicates and twins, and its ground truth, for
//! measuring record linkage (`ctwiz seed --duplicates RATE`, the matching benchmark).
//!
//! Every generated record carries the number of the person it describes ([`SynthRecord::person`]):
//! two records are the same person exactly when those numbers agree. Duplicates are the same
//! child reported again by another clinic with the slips registries see: a typo in a name, a
//! nickname, day and month swapped, a hyphenated family name, a moved address, a dropped middle
//! name. Twins are two *different* children who share birth date, family name, address, phone
//! and mother — the records a matcher must keep apart.

use super::{child, child_rng, clinic_pin, pick, synth_phone, SynthConfig};
use super::{GIVEN_F, GIVEN_M, TOWNS};
use crate::dose::{Dose, InformationSource};
use crate::ids::Zip;
use crate::patient::{Address, Mrn, Patient, Sex};
use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// How many duplicates and twins to inject.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DuplicateConfig {
    /// Chance that a person (child or twin) is reported a second time, 0–1.
    pub rate: f64,
    /// Chance that a generated child has a twin, 0–1.
    pub twin_rate: f64,
}

impl DuplicateConfig {
    /// Checks both rates are probabilities.
    pub fn new(rate: f64, twin_rate: f64) -> crate::Result<Self> {
        for (what, v) in [("duplicate rate", rate), ("twin rate", twin_rate)] {
            if !(0.0..=1.0).contains(&v) {
                return Err(crate::CoreError::invalid(
                    what,
                    v.to_string(),
                    "not between 0 and 1",
                ));
            }
        }
        Ok(DuplicateConfig { rate, twin_rate })
    }
}

/// One slip that makes a duplicate differ from the record it duplicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    /// One letter of the given or family name substituted, dropped, doubled or swapped
    /// with its neighbour.
    Typo,
    /// The given name as a common short form (William → Will).
    Nickname,
    /// Birth date with day and month swapped (only possible when the day is 12 or less).
    SwappedDayMonth,
    /// The mother's maiden name joined to the family name with a hyphen.
    Hyphenated,
    /// Another street, town and ZIP, and often another phone.
    MovedAddress,
    /// The middle name left out.
    DroppedMiddle,
}

impl Change {
    pub const ALL: [Change; 6] = [
        Change::Typo,
        Change::Nickname,
        Change::SwappedDayMonth,
        Change::Hyphenated,
        Change::MovedAddress,
        Change::DroppedMiddle,
    ];

    /// Snake-case name, as written in the ground-truth file.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Typo => "typo",
            Change::Nickname => "nickname",
            Change::SwappedDayMonth => "swapped_day_month",
            Change::Hyphenated => "hyphenated",
            Change::MovedAddress => "moved_address",
            Change::DroppedMiddle => "dropped_middle",
        }
    }
}

/// What a generated record is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordKind {
    /// The first record of a child, as its home clinic reported it.
    Original,
    /// The first record of a child's twin (a different person); `look_alike` when the
    /// twins' given names look alike (Olivia and Oliver).
    Twin { look_alike: bool },
    /// A second record of the same person, with the slips that were made.
    Duplicate(Vec<Change>),
}

impl RecordKind {
    /// `original`, `twin` (`twin:look_alike`) or `duplicate:` and the changes joined by `+`.
    pub fn label(&self) -> String {
        match self {
            RecordKind::Original => "original".into(),
            RecordKind::Twin { look_alike: false } => "twin".into(),
            RecordKind::Twin { look_alike: true } => "twin:look_alike".into(),
            RecordKind::Duplicate(cs) => format!(
                "duplicate:{}",
                cs.iter().map(|c| c.as_str()).collect::<Vec<_>>().join("+")
            ),
        }
    }
}

/// One record of the population and the person it truly describes.
#[derive(Debug, Clone)]
pub struct SynthRecord {
    /// Ground truth: records with the same number are the same person. Child `i` is
    /// person `2i`, its twin `2i + 1`.
    pub person: u64,
    pub kind: RecordKind,
    pub patient: Patient,
    pub doses: Vec<Dose>,
}

/// Street name stems and kinds: a town of this population has hundreds of streets, as real
/// towns do, so sharing a street is weak evidence (the base generator's short list of
/// streets would make every neighbourhood look like one household).
const STREET_STEMS: &[&str] = &[
    "Main",
    "Elm",
    "Maple",
    "Oak",
    "Park",
    "Washington",
    "Church",
    "High",
    "Prospect",
    "Farmington",
    "Whitney",
    "Chapel",
    "Broad",
    "Center",
    "Pine",
    "Cedar",
    "Spring",
    "Hill",
    "Lake",
    "River",
    "Forest",
    "Walnut",
    "Chestnut",
    "Birch",
    "Willow",
    "Highland",
    "Summit",
    "Orchard",
    "Meadow",
    "Brook",
    "Mill",
    "School",
    "North",
    "South",
    "West",
    "East",
    "Franklin",
    "Jefferson",
    "Lincoln",
    "Madison",
    "Monroe",
    "Adams",
    "Jackson",
    "Grove",
    "Pleasant",
    "Union",
    "Liberty",
    "Bridge",
    "Water",
    "Academy",
    "Garden",
    "Sunset",
    "Ridge",
    "Valley",
    "Cherry",
    "Laurel",
    "Holly",
    "Beacon",
    "Harbor",
    "Colony",
    "Deer",
    "Fox",
    "Hawthorne",
    "Juniper",
    "Kings",
    "Mountain",
    "Quarry",
    "Rose",
    "Shore",
    "Stone",
];
const STREET_KINDS: &[&str] = &[
    "St", "Ave", "Rd", "Ln", "Dr", "Ct", "Pl", "Way", "Ter", "Blvd",
];

/// A home address somewhere in the state, with a phone-book-like spread of streets.
fn home_address(rng: &mut ChaCha8Rng) -> Address {
    let (county, town, zip) = *pick(rng, TOWNS);
    let mut a = Address::new(
        &format!(
            "{} {} {}",
            rng.random_range(1..2000),
            pick(rng, STREET_STEMS),
            pick(rng, STREET_KINDS)
        ),
        town,
        "CT",
        Zip::new(zip).expect("table ZIPs are valid"),
    )
    .expect("generated addresses are valid");
    a.county = Some(county);
    a
}

/// Common short forms of the generator's given names (public naming conventions).
const SHORT_FORMS: &[(&str, &[&str])] = &[
    ("William", &["Will", "Bill", "Billy"]),
    ("James", &["Jim", "Jimmy", "Jamie"]),
    ("John", &["Johnny", "Jack"]),
    ("Michael", &["Mike", "Mikey"]),
    ("Daniel", &["Dan", "Danny"]),
    ("Joseph", &["Joe", "Joey"]),
    ("Matthew", &["Matt"]),
    ("Samuel", &["Sam", "Sammy"]),
    ("Benjamin", &["Ben", "Benny"]),
    ("Alexander", &["Alex", "Xander"]),
    ("Theodore", &["Theo", "Teddy"]),
    ("Henry", &["Hank", "Harry"]),
    ("Jacob", &["Jake"]),
    ("Gabriel", &["Gabe"]),
    ("Oliver", &["Ollie"]),
    ("Elijah", &["Eli"]),
    ("Sebastian", &["Seb"]),
    ("Nicholas", &["Nick"]),
    ("Elizabeth", &["Liz", "Beth", "Eliza"]),
    ("Isabella", &["Bella", "Izzy"]),
    ("Abigail", &["Abby"]),
    ("Sophia", &["Sophie"]),
    ("Olivia", &["Liv", "Livvy"]),
    ("Madison", &["Maddie"]),
    ("Penelope", &["Penny"]),
    ("Eleanor", &["Ellie", "Nell"]),
    ("Charlotte", &["Lottie", "Charlie"]),
    ("Amelia", &["Millie"]),
    ("Evelyn", &["Evie"]),
    ("Valentina", &["Vale"]),
    ("Gianna", &["Gia"]),
];

fn short_forms(given: &str) -> Option<&'static [&'static str]> {
    SHORT_FORMS
        .iter()
        .find(|(full, _)| full.eq_ignore_ascii_case(given))
        .map(|(_, s)| *s)
}

/// Child number `index` and, by the rates in `dups`, its twin and a second record of each.
/// Deterministic: the same configuration and index always give the same records, so the
/// population can be generated in parallel.
pub fn records(cfg: &SynthConfig, dups: &DuplicateConfig, index: u64) -> Vec<SynthRecord> {
    let mut c = child(cfg, index);
    let mut rng = child_rng(cfg.seed ^ 0x00D0_B1E5, index);
    c.patient.addresses = vec![home_address(&mut rng)];
    let mut people = vec![SynthRecord {
        person: 2 * index,
        kind: RecordKind::Original,
        patient: c.patient,
        doses: c.doses,
    }];
    if rng.random_bool(dups.twin_rate) {
        let twin = twin_of(&mut rng, &mut people[0], index);
        people.push(twin);
    }
    let mut out = Vec::with_capacity(people.len() * 2);
    for p in people {
        let dup = rng
            .random_bool(dups.rate)
            .then(|| duplicate_of(&mut rng, cfg, &p));
        out.push(p);
        out.extend(dup);
    }
    out
}

/// Look-alike names parents give twins (a shared opening, a rhyme, a letter apart),
/// read both ways. Only names of the generator's lists, so each is a name in use in the
/// population, as real twins' names are; the sibling's sex is its name's.
const LOOK_ALIKE_TWIN_NAMES: &[(&str, &str)] = &[
    ("Olivia", "Oliver"),
    ("Mia", "Mila"),
    ("Isla", "Mila"),
    ("Nora", "Nova"),
    ("Nora", "Noah"),
    ("Nova", "Noah"),
    ("Eliana", "Elias"),
    ("Eliana", "Elijah"),
    ("Elijah", "Elias"),
    ("Madison", "Mason"),
    ("Lucy", "Luca"),
    ("Luna", "Luca"),
    ("Jackson", "Jacob"),
    ("Aiden", "Jayden"),
    ("Charlotte", "Scarlett"),
    ("Amelia", "Camila"),
];

/// Share of twin pairs whose names look alike, where the first child's name has a
/// look-alike in [`LOOK_ALIKE_TWIN_NAMES`] (about a quarter of the names do, so about one
/// twin pair in five of the population: matching names, shared openings and rhymes are a
/// common choice for twins).
const LOOK_ALIKE_TWINS: f64 = 0.8;

fn look_alikes(given: &str) -> Vec<&'static str> {
    LOOK_ALIKE_TWIN_NAMES
        .iter()
        .filter_map(|&(a, b)| {
            if a.eq_ignore_ascii_case(given) {
                Some(b)
            } else if b.eq_ignore_ascii_case(given) {
                Some(a)
            } else {
                None
            }
        })
        .collect()
}

/// The twin of `first`: same birth date, family, address, phone, mother and clinic, the
/// same visits; another given name, often another sex, sometimes a name that looks like
/// the first child's ([`LOOK_ALIKE_TWINS`]). Half the pairs carry their birth order (1 and
/// 2), as some birth-record feeds do; the rest do not.
fn twin_of(rng: &mut ChaCha8Rng, first: &mut SynthRecord, index: u64) -> SynthRecord {
    let mut p = first.patient.clone();
    let first_given = first.patient.name.given.clone();
    let alike = look_alikes(&first_given);
    let look_alike = !alike.is_empty() && rng.random_bool(LOOK_ALIKE_TWINS);
    if look_alike {
        let given = *pick(rng, &alike);
        p.sex = if GIVEN_F.contains(&given) {
            Sex::Female
        } else {
            Sex::Male
        };
        p.name.given = given.to_string();
    } else {
        p.sex = if rng.random_bool(0.5) {
            first.patient.sex
        } else if first.patient.sex == Sex::Female {
            Sex::Male
        } else {
            Sex::Female
        };
        let names = if p.sex == Sex::Female {
            GIVEN_F
        } else {
            GIVEN_M
        };
        let related = |g: &str| {
            g.eq_ignore_ascii_case(&first_given)
                || short_forms(g)
                    .is_some_and(|s| s.iter().any(|n| n.eq_ignore_ascii_case(&first_given)))
                || short_forms(&first_given)
                    .is_some_and(|s| s.iter().any(|n| n.eq_ignore_ascii_case(g)))
        };
        let mut given = *pick(rng, names);
        while related(given) {
            given = *pick(rng, names);
        }
        p.name.given = given.to_string();
    }
    let names = if p.sex == Sex::Female {
        GIVEN_F
    } else {
        GIVEN_M
    };
    p.name.middle = rng
        .random_bool(0.6)
        .then(|| pick(rng, names).to_string())
        .filter(|m| *m != p.name.given);
    let home = first.patient.mrns[0].clinic.clone();
    p.mrns =
        vec![Mrn::new(home, &format!("MR{:08}T", index + 1)).expect("generated MRNs are valid")];
    if rng.random_bool(0.5) {
        first.patient.birth_order = Some(1);
        p.birth_order = Some(2);
    }
    SynthRecord {
        person: first.person + 1,
        kind: RecordKind::Twin { look_alike },
        patient: p,
        doses: first.doses.clone(),
    }
}

/// A second record of `of` from another clinic: one slip (sometimes two) from
/// [`Change`], and the middle name dropped in about a third of them; some of the doses,
/// recorded there as history.
fn duplicate_of(rng: &mut ChaCha8Rng, cfg: &SynthConfig, of: &SynthRecord) -> SynthRecord {
    let mut p = of.patient.clone();
    let home = &of.patient.mrns[0].clinic;
    let n_clinics = cfg.clinics.max(1);
    let other = (1..=n_clinics)
        .map(|_| clinic_pin(rng.random_range(0..n_clinics)))
        .find(|c| c != home);
    // With a single clinic the second report carries no MRN: two MRNs of one clinic are
    // two records on purpose.
    p.mrns = other
        .iter()
        .map(|c| {
            Mrn::new(c.clone(), &format!("X{:09}", of.person)).expect("generated MRNs are valid")
        })
        .collect();
    p.birth_order = None;
    let mut possible: Vec<Change> = Change::ALL
        .into_iter()
        .filter(|c| *c != Change::DroppedMiddle && applies(*c, &p, cfg.as_of))
        .collect();
    let mut changes = Vec::new();
    let wanted = if rng.random_bool(0.3) { 2 } else { 1 };
    while changes.len() < wanted && !possible.is_empty() {
        let c = possible.remove(rng.random_range(0..possible.len()));
        // An earlier slip may rule this one out (no short form of a mistyped name).
        if !applies(c, &p, cfg.as_of) {
            continue;
        }
        apply(rng, c, &mut p);
        changes.push(c);
    }
    if p.name.middle.is_some() && rng.random_bool(0.35) {
        p.name.middle = None;
        changes.push(Change::DroppedMiddle);
    }
    let doses = of
        .doses
        .iter()
        .filter(|d| d.date >= p.dob && rng.random_bool(0.4))
        .map(|d| {
            let mut h = d.clone();
            h.source = InformationSource::HistoricalOtherProvider;
            h.clinic = other.clone();
            h
        })
        .collect();
    SynthRecord {
        person: of.person,
        kind: RecordKind::Duplicate(changes),
        patient: p,
        doses,
    }
}

fn swapped_day_month(dob: NaiveDate) -> Option<NaiveDate> {
    (dob.day() != dob.month())
        .then(|| NaiveDate::from_ymd_opt(dob.year(), dob.day(), dob.month()))
        .flatten()
}

fn applies(c: Change, p: &Patient, as_of: NaiveDate) -> bool {
    match c {
        Change::Typo | Change::MovedAddress => true,
        Change::Nickname => short_forms(&p.name.given).is_some(),
        Change::SwappedDayMonth => swapped_day_month(p.dob).is_some_and(|d| d <= as_of),
        Change::Hyphenated => p
            .mothers_maiden_name
            .as_ref()
            .is_some_and(|m| *m != p.name.family && !p.name.family.contains('-')),
        Change::DroppedMiddle => p.name.middle.is_some(),
    }
}

fn apply(rng: &mut ChaCha8Rng, c: Change, p: &mut Patient) {
    match c {
        Change::Typo => {
            if rng.random_bool(0.5) {
                p.name.given = typo(rng, &p.name.given);
            } else {
                p.name.family = typo(rng, &p.name.family);
            }
        }
        Change::Nickname => {
            let forms = short_forms(&p.name.given).expect("checked by applies");
            p.name.given = pick(rng, forms).to_string();
        }
        Change::SwappedDayMonth => {
            p.dob = swapped_day_month(p.dob).expect("checked by applies");
        }
        Change::Hyphenated => {
            let maiden = p.mothers_maiden_name.clone().expect("checked by applies");
            p.name.family = if rng.random_bool(0.7) {
                format!("{}-{}", p.name.family, maiden)
            } else {
                format!("{}-{}", maiden, p.name.family)
            };
        }
        Change::MovedAddress => {
            let old = p.addresses.first().cloned();
            let addr = loop {
                let a = home_address(rng);
                if old
                    .as_ref()
                    .is_none_or(|o| o.street != a.street || o.city != a.city)
                {
                    break a;
                }
            };
            p.addresses = vec![addr];
            if rng.random_bool(0.6) {
                p.phones = vec![synth_phone(rng)];
            }
        }
        Change::DroppedMiddle => p.name.middle = None,
    }
}

/// One keying slip in `name`: a letter replaced, dropped, doubled, or swapped with the next.
/// Always differs from `name` and keeps at least two letters.
fn typo(rng: &mut ChaCha8Rng, name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    loop {
        let mut c = chars.clone();
        // Not the first letter: registries see far fewer slips there.
        let i = rng.random_range(1..c.len().max(2)).min(c.len() - 1);
        match rng.random_range(0..4) {
            0 => c[i] = (b'a' + rng.random_range(0..26u8)) as char,
            1 if c.len() > 3 => {
                c.remove(i);
            }
            2 => c.insert(i, c[i].to_ascii_lowercase()),
            _ if i + 1 < c.len() => c.swap(i, i + 1),
            _ => c[i] = (b'a' + rng.random_range(0..26u8)) as char,
        }
        let s: String = c.into_iter().collect();
        if !s.eq_ignore_ascii_case(name) && s.chars().filter(|c| c.is_alphabetic()).count() >= 2 {
            return s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg() -> SynthConfig {
        SynthConfig {
            children: 2000,
            clinics: 10,
            seed: 3,
            as_of: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
        }
    }

    fn population(dups: DuplicateConfig) -> Vec<SynthRecord> {
        let c = cfg();
        (0..c.children)
            .flat_map(|i| records(&c, &dups, i))
            .collect()
    }

    #[test]
    fn rates_outside_zero_to_one_are_refused() {
        assert!(DuplicateConfig::new(1.5, 0.0).is_err());
        assert!(DuplicateConfig::new(0.1, -0.1).is_err());
        assert!(DuplicateConfig::new(f64::NAN, 0.0).is_err());
        assert!(DuplicateConfig::new(0.1, 0.02).is_ok());
    }

    #[test]
    fn ground_truth_is_consistent() {
        let all = population(DuplicateConfig::new(0.2, 0.05).unwrap());
        let mut by_person: HashMap<u64, Vec<&SynthRecord>> = HashMap::new();
        for r in &all {
            r.patient.validate(cfg().as_of).unwrap();
            for d in &r.doses {
                d.validate(r.patient.dob, cfg().as_of).unwrap();
            }
            by_person.entry(r.person).or_default().push(r);
        }
        for (person, rs) in &by_person {
            // One first record per person (original for even numbers, twin for odd),
            // at most one duplicate.
            let first = rs
                .iter()
                .filter(|r| !matches!(r.kind, RecordKind::Duplicate(_)))
                .count();
            assert_eq!(first, 1, "person {person}");
            assert!(rs.len() <= 2, "person {person}");
            if person % 2 == 0 {
                assert_eq!(rs[0].kind, RecordKind::Original);
            } else {
                assert!(matches!(rs[0].kind, RecordKind::Twin { .. }));
            }
            if let Some(dup) = rs.get(1) {
                let RecordKind::Duplicate(changes) = &dup.kind else {
                    panic!("second record of {person} is not a duplicate")
                };
                assert!(!changes.is_empty());
                let (a, b) = (&rs[0].patient, &dup.patient);
                // Each recorded change is visible, and nothing else about the person moved.
                if !changes.contains(&Change::SwappedDayMonth) {
                    assert_eq!(a.dob, b.dob);
                } else {
                    assert_eq!((a.dob.day(), a.dob.month()), (b.dob.month(), b.dob.day()));
                }
                if !changes
                    .iter()
                    .any(|c| matches!(c, Change::Typo | Change::Hyphenated))
                {
                    assert_eq!(a.name.family, b.name.family);
                }
                if !changes
                    .iter()
                    .any(|c| matches!(c, Change::Typo | Change::Nickname))
                {
                    assert_eq!(a.name.given, b.name.given);
                }
                if changes.contains(&Change::MovedAddress) {
                    assert_ne!(a.addresses, b.addresses);
                } else {
                    assert_eq!(a.addresses, b.addresses);
                }
                assert_eq!(a.mothers_maiden_name, b.mothers_maiden_name);
                assert_ne!(a.mrns, b.mrns, "a duplicate comes from another clinic");
            }
        }
        // Every kind of slip occurs in a population of this size.
        for c in Change::ALL {
            assert!(
                all.iter()
                    .any(|r| matches!(&r.kind, RecordKind::Duplicate(cs) if cs.contains(&c))),
                "no duplicate with {c:?}"
            );
        }
        let dups = all
            .iter()
            .filter(|r| matches!(r.kind, RecordKind::Duplicate(_)))
            .count();
        let people = by_person.len();
        assert!(
            (0.15..0.25).contains(&(dups as f64 / people as f64)),
            "{dups} of {people}"
        );
    }

    #[test]
    fn twins_are_present_and_distinct_people() {
        let all = population(DuplicateConfig::new(0.0, 0.05).unwrap());
        let twins: Vec<_> = all
            .iter()
            .filter(|r| matches!(r.kind, RecordKind::Twin { .. }))
            .collect();
        assert!((50..150).contains(&twins.len()), "{} twins", twins.len());
        let look_alike = twins
            .iter()
            .filter(|r| r.kind == RecordKind::Twin { look_alike: true })
            .count();
        // About one pair in five (a quarter of the names have a look-alike, 0.8 of those).
        assert!(
            (0.08..0.35).contains(&(look_alike as f64 / twins.len() as f64)),
            "{look_alike} of {} twins look alike",
            twins.len()
        );
        for t in twins {
            let first = all.iter().find(|r| r.person == t.person - 1).unwrap();
            assert_ne!(t.person, first.person);
            let (a, b) = (&first.patient, &t.patient);
            assert_eq!(
                (a.dob, &a.name.family, &a.addresses, &a.phones),
                (b.dob, &b.name.family, &b.addresses, &b.phones)
            );
            assert_eq!(a.mothers_maiden_name, b.mothers_maiden_name);
            assert!(!a.name.given.eq_ignore_ascii_case(&b.name.given));
            if t.kind == (RecordKind::Twin { look_alike: true }) {
                assert!(look_alikes(&a.name.given).contains(&b.name.given.as_str()));
                let list = if b.sex == Sex::Female {
                    GIVEN_F
                } else {
                    GIVEN_M
                };
                assert!(
                    list.contains(&b.name.given.as_str()),
                    "the name matches the sex"
                );
            }
            assert_ne!(a.mrns, b.mrns);
            match (a.birth_order, b.birth_order) {
                (Some(1), Some(2)) | (None, None) => {}
                other => panic!("birth orders {other:?}"),
            }
        }
    }

    #[test]
    fn no_rates_give_just_the_children() {
        let all = population(DuplicateConfig::new(0.0, 0.0).unwrap());
        assert_eq!(all.len() as u64, cfg().children);
        assert!(all
            .iter()
            .all(|r| r.kind == RecordKind::Original && r.person % 2 == 0));
    }

    #[test]
    fn same_index_same_records() {
        let d = DuplicateConfig::new(0.5, 0.5).unwrap();
        let a = records(&cfg(), &d, 17);
        let b = records(&cfg(), &d, 17);
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(
                (x.person, &x.kind, &x.patient),
                (y.person, &y.kind, &y.patient)
            );
        }
    }
}
