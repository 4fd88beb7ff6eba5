//! Deterministic synthetic population: clinics and children with realistic dose
//! histories (on time, late, missing, refused, and some invalid doses), for demos,
//! benchmarks and tests. Same seed and index → same child, so generation streams and
//! parallelizes without holding the population in memory.

use crate::dose::{
    CompletionStatus, Dose, FundingSource, InformationSource, Provider, RefusalReason, Route,
    VfcEligibility,
};
use crate::ids::{ClinicPin, Cvx, LotNumber, Mvx, Phone, Zip};
use crate::org::{Clinic, County, ProgramType};
use crate::patient::{
    Address, Ethnicity, Guardian, Mrn, Patient, PersonName, Race, Relationship, Sex,
};
use chrono::{Datelike, Days, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub mod duplicates;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct SynthConfig {
    pub children: u64,
    pub clinics: u32,
    pub seed: u64,
    /// Histories stop at this date; ages run 0–18 years before it.
    pub as_of: NaiveDate,
}

/// One generated child: the record as the first clinic reported it, and sometimes a
/// second record of the same person reported by another clinic (for deduplication).
#[derive(Debug, Clone)]
pub struct SynthChild {
    pub patient: Patient,
    pub doses: Vec<Dose>,
    pub duplicate: Option<(Patient, Vec<Dose>)>,
}

const GIVEN_F: &[&str] = &[
    "Olivia",
    "Emma",
    "Charlotte",
    "Amelia",
    "Sophia",
    "Mia",
    "Isabella",
    "Ava",
    "Evelyn",
    "Luna",
    "Harper",
    "Sofia",
    "Camila",
    "Eleanor",
    "Elizabeth",
    "Violet",
    "Scarlett",
    "Emily",
    "Hazel",
    "Lily",
    "Gianna",
    "Aurora",
    "Penelope",
    "Aria",
    "Nora",
    "Chloe",
    "Ellie",
    "Mila",
    "Avery",
    "Layla",
    "Abigail",
    "Ella",
    "Isla",
    "Eliana",
    "Nova",
    "Madison",
    "Zoe",
    "Ivy",
    "Grace",
    "Lucy",
    "Valentina",
    "Maya",
    "Naomi",
    "Aaliyah",
    "Keisha",
    "Priya",
    "Mei",
    "Fatima",
    "Ximena",
    "Anaya",
];
const GIVEN_M: &[&str] = &[
    "Liam",
    "Noah",
    "Oliver",
    "James",
    "Elijah",
    "Mateo",
    "Theodore",
    "Henry",
    "Lucas",
    "William",
    "Benjamin",
    "Levi",
    "Sebastian",
    "Jack",
    "Ezra",
    "Michael",
    "Daniel",
    "Leo",
    "Owen",
    "Samuel",
    "Hudson",
    "Alexander",
    "Asher",
    "Luca",
    "Ethan",
    "John",
    "David",
    "Jackson",
    "Joseph",
    "Mason",
    "Luke",
    "Matthew",
    "Julian",
    "Dylan",
    "Elias",
    "Jacob",
    "Maverick",
    "Gabriel",
    "Logan",
    "Aiden",
    "Santiago",
    "Jayden",
    "Malik",
    "Arjun",
    "Wei",
    "Omar",
    "Diego",
    "Kwame",
    "Rohan",
    "Andre",
];
const FAMILY: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Kowalski",
    "Rossi",
    "Murphy",
    "O'Brien",
    "Sullivan",
    "Patel",
    "Shah",
    "Chen",
    "Wang",
    "Kim",
    "Santos",
    "Pereira",
    "Cohen",
    "Levy",
    "Nowak",
    "Dubois",
    "Fitzgerald",
    "Mancini",
    "Esposito",
    "Sousa",
];

/// Towns per county with a representative ZIP: (county, town, zip).
const TOWNS: &[(County, &str, &str)] = &[
    (County::Fairfield, "Bridgeport", "06604"),
    (County::Fairfield, "Stamford", "06901"),
    (County::Fairfield, "Norwalk", "06851"),
    (County::Fairfield, "Danbury", "06810"),
    (County::Hartford, "Hartford", "06106"),
    (County::Hartford, "New Britain", "06051"),
    (County::Hartford, "West Hartford", "06107"),
    (County::Hartford, "Bristol", "06010"),
    (County::Litchfield, "Torrington", "06790"),
    (County::Litchfield, "New Milford", "06776"),
    (County::Middlesex, "Middletown", "06457"),
    (County::Middlesex, "Old Saybrook", "06475"),
    (County::NewHaven, "New Haven", "06511"),
    (County::NewHaven, "Waterbury", "06702"),
    (County::NewHaven, "Meriden", "06450"),
    (County::NewHaven, "Milford", "06460"),
    (County::NewLondon, "New London", "06320"),
    (County::NewLondon, "Norwich", "06360"),
    (County::Tolland, "Vernon", "06066"),
    (County::Tolland, "Mansfield", "06268"),
    (County::Windham, "Windham", "06280"),
    (County::Windham, "Killingly", "06239"),
];
const STREETS: &[&str] = &[
    "Main St",
    "Elm St",
    "Maple Ave",
    "Oak St",
    "Park Ave",
    "Washington St",
    "Church St",
    "High St",
    "Prospect St",
    "Farmington Ave",
    "Whitney Ave",
    "Chapel St",
    "Broad St",
    "Center St",
    "Pine St",
];
const CLINIC_KINDS: &[&str] = &[
    "Pediatrics",
    "Family Medicine",
    "Community Health Center",
    "Children's Clinic",
    "Pediatric Associates",
    "Health District Clinic",
    "Primary Care",
];

/// A childhood schedule entry: which product family, at what age (days), how many doses.
struct Visit {
    age_days: u32,
    /// Minimum gap after the previous dose of the same series, to generate invalid doses.
    min_gap_days: u32,
    series: Series,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Series {
    HepB,
    DTaP,
    Hib,
    Pcv,
    Ipv,
    Rota,
    Mmr,
    Var,
    HepA,
    Flu,
    Tdap,
    MenAcwy,
    Hpv,
}

/// The routine ACIP childhood and adolescent schedule (recommended ages), as generation targets.
const SCHEDULE: &[Visit] = &[
    Visit {
        age_days: 0,
        min_gap_days: 0,
        series: Series::HepB,
    },
    Visit {
        age_days: 61,
        min_gap_days: 28,
        series: Series::HepB,
    },
    Visit {
        age_days: 61,
        min_gap_days: 0,
        series: Series::DTaP,
    },
    Visit {
        age_days: 61,
        min_gap_days: 0,
        series: Series::Hib,
    },
    Visit {
        age_days: 61,
        min_gap_days: 0,
        series: Series::Pcv,
    },
    Visit {
        age_days: 61,
        min_gap_days: 0,
        series: Series::Ipv,
    },
    Visit {
        age_days: 61,
        min_gap_days: 0,
        series: Series::Rota,
    },
    Visit {
        age_days: 122,
        min_gap_days: 28,
        series: Series::DTaP,
    },
    Visit {
        age_days: 122,
        min_gap_days: 28,
        series: Series::Hib,
    },
    Visit {
        age_days: 122,
        min_gap_days: 28,
        series: Series::Pcv,
    },
    Visit {
        age_days: 122,
        min_gap_days: 28,
        series: Series::Ipv,
    },
    Visit {
        age_days: 122,
        min_gap_days: 28,
        series: Series::Rota,
    },
    Visit {
        age_days: 183,
        min_gap_days: 28,
        series: Series::DTaP,
    },
    Visit {
        age_days: 183,
        min_gap_days: 28,
        series: Series::Pcv,
    },
    Visit {
        age_days: 183,
        min_gap_days: 56,
        series: Series::HepB,
    },
    Visit {
        age_days: 183,
        min_gap_days: 28,
        series: Series::Ipv,
    },
    // A third primary Hib dose; skipped for PRP-OMP (PedvaxHIB), whose primary series is two.
    Visit {
        age_days: 183,
        min_gap_days: 28,
        series: Series::Hib,
    },
    // A third rotavirus dose; skipped for Rotarix, a two-dose series.
    Visit {
        age_days: 183,
        min_gap_days: 28,
        series: Series::Rota,
    },
    Visit {
        age_days: 365,
        min_gap_days: 56,
        series: Series::Hib,
    },
    Visit {
        age_days: 365,
        min_gap_days: 56,
        series: Series::Pcv,
    },
    Visit {
        age_days: 365,
        min_gap_days: 0,
        series: Series::Mmr,
    },
    Visit {
        age_days: 365,
        min_gap_days: 0,
        series: Series::Var,
    },
    Visit {
        age_days: 365,
        min_gap_days: 0,
        series: Series::HepA,
    },
    Visit {
        age_days: 456,
        min_gap_days: 183,
        series: Series::DTaP,
    },
    Visit {
        age_days: 548,
        min_gap_days: 183,
        series: Series::HepA,
    },
    Visit {
        age_days: 1461,
        min_gap_days: 183,
        series: Series::DTaP,
    },
    Visit {
        age_days: 1461,
        min_gap_days: 183,
        series: Series::Ipv,
    },
    Visit {
        age_days: 1461,
        min_gap_days: 28,
        series: Series::Mmr,
    },
    Visit {
        age_days: 1461,
        min_gap_days: 84,
        series: Series::Var,
    },
    Visit {
        age_days: 4018,
        min_gap_days: 0,
        series: Series::Tdap,
    },
    Visit {
        age_days: 4018,
        min_gap_days: 0,
        series: Series::MenAcwy,
    },
    Visit {
        age_days: 4018,
        min_gap_days: 0,
        series: Series::Hpv,
    },
    Visit {
        age_days: 4200,
        min_gap_days: 150,
        series: Series::Hpv,
    },
    Visit {
        age_days: 5844,
        min_gap_days: 56,
        series: Series::MenAcwy,
    },
];

/// (CVX, MVX) products a clinic might use for each series.
fn products(s: Series) -> &'static [(&'static str, &'static str)] {
    match s {
        Series::HepB => &[("08", "MSD"), ("08", "SKB")],
        Series::DTaP => &[("20", "SKB"), ("20", "PMC"), ("110", "SKB"), ("120", "PMC")],
        Series::Hib => &[("48", "PMC"), ("49", "MSD")],
        Series::Pcv => &[("215", "MSD"), ("216", "PFR"), ("133", "PFR")],
        Series::Ipv => &[("10", "PMC")],
        Series::Rota => &[("116", "MSD"), ("119", "SKB")],
        Series::Mmr => &[("03", "MSD"), ("94", "MSD")],
        Series::Var => &[("21", "MSD")],
        Series::HepA => &[("83", "MSD"), ("83", "SKB")],
        Series::Flu => &[("150", "SKB"), ("150", "SEQ"), ("171", "SEQ")],
        Series::Tdap => &[("115", "SKB"), ("115", "PMC")],
        Series::MenAcwy => &[("114", "PMC"), ("136", "NOV"), ("203", "PMC")],
        Series::Hpv => &[("165", "MSD")],
    }
}

/// Other series that a combination product given for `cvx` also covers at that visit.
fn also_covers(cvx: &str) -> &'static [Series] {
    match cvx {
        "110" => &[Series::HepB, Series::Ipv],
        "120" => &[Series::Hib, Series::Ipv],
        "94" => &[Series::Var],
        _ => &[],
    }
}

/// A child's adherence pattern, which shapes the whole history.
#[derive(Clone, Copy)]
enum Adherence {
    OnTime,
    Late,
    Gappy,
    Refuser,
}

fn child_rng(seed: u64, index: u64) -> ChaCha8Rng {
    // SplitMix-style mixing so neighbouring indexes get unrelated streams.
    let mut z = seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ChaCha8Rng::seed_from_u64(z ^ (z >> 31))
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, xs: &'a [T]) -> &'a T {
    &xs[rng.random_range(0..xs.len())]
}

/// The clinic PIN for clinic number `i` (stable, so generation can refer to clinics by index).
pub fn clinic_pin(i: u32) -> ClinicPin {
    ClinicPin::new(&format!("CT{:05}", i + 1)).expect("generated PINs are valid")
}

/// The `n` clinics of a synthetic population: about three in four take part in CVP.
pub fn clinics(cfg: &SynthConfig) -> Vec<Clinic> {
    (0..cfg.clinics.max(1))
        .map(|i| {
            let mut rng = child_rng(cfg.seed ^ 0xC11C, i as u64);
            let (county, town, zip) = *pick(&mut rng, TOWNS);
            let program = if rng.random_bool(0.75) {
                ProgramType::Cvp
            } else {
                ProgramType::PrivateOnly
            };
            let kind = pick(&mut rng, CLINIC_KINDS);
            // Family practices and community health centers see adults too: those in
            // the state's programs are also enrolled in CVFA.
            let program = match (program, *kind) {
                (ProgramType::Cvp, "Family Medicine" | "Community Health Center") => {
                    ProgramType::CvpAndCvfa
                }
                (p, _) => p,
            };
            let name = format!("{} {}", town, kind);
            let mut c = Clinic::new(clinic_pin(i), &name, county, program)
                .expect("generated names are valid");
            let mut addr = Address::new(
                &format!("{} {}", rng.random_range(1..900), pick(&mut rng, STREETS)),
                town,
                "CT",
                Zip::new(zip).expect("table ZIPs are valid"),
            )
            .expect("generated addresses are valid");
            addr.county = Some(county);
            c.address = Some(addr);
            c.phone = Some(synth_phone(&mut rng));
            c.fax = Some(synth_phone(&mut rng));
            c.delivery_hours = Some("Mon–Fri 9:00–16:00".into());
            c
        })
        .collect()
}

fn synth_phone(rng: &mut ChaCha8Rng) -> Phone {
    let area = *pick(rng, &["203", "475", "860", "959"]);
    Phone::new(&format!("{area}555{:04}", rng.random_range(100..10000)))
        .expect("generated phones are valid")
}

/// Child number `index` (0-based) of the population.
pub fn child(cfg: &SynthConfig, index: u64) -> SynthChild {
    let mut rng = child_rng(cfg.seed, index);
    let n_clinics = cfg.clinics.max(1);
    let home = rng.random_range(0..n_clinics);
    let home_pin = clinic_pin(home);
    let sex = if rng.random_bool(0.5) {
        Sex::Female
    } else {
        Sex::Male
    };
    let given = if sex == Sex::Female {
        *pick(&mut rng, GIVEN_F)
    } else {
        *pick(&mut rng, GIVEN_M)
    };
    let family = *pick(&mut rng, FAMILY);
    let age_days = rng.random_range(0..(18 * 365 + 4)) as u64;
    let dob = cfg.as_of - Days::new(age_days);
    let mut name = PersonName::new(family, given).expect("generated names are valid");
    if rng.random_bool(0.6) {
        name.middle =
            Some(pick(&mut rng, if sex == Sex::Female { GIVEN_F } else { GIVEN_M }).to_string());
    }
    let mut patient = Patient::new(name, dob, sex).expect("generated birth dates are after 1900");
    let (county, town, zip) = *pick(&mut rng, TOWNS);
    let mut addr = Address::new(
        &format!("{} {}", rng.random_range(1..2000), pick(&mut rng, STREETS)),
        town,
        "CT",
        Zip::new(zip).expect("table ZIPs are valid"),
    )
    .expect("generated addresses are valid");
    addr.county = Some(county);
    patient.addresses.push(addr);
    patient.phones.push(synth_phone(&mut rng));
    patient.mothers_maiden_name = Some(pick(&mut rng, FAMILY).to_string());
    patient.races.push(*pick(&mut rng, &Race::ALL[..6]));
    patient.ethnicity = Some(if rng.random_bool(0.17) {
        Ethnicity::HispanicOrLatino
    } else {
        Ethnicity::NotHispanicOrLatino
    });
    let guardian_given = *pick(&mut rng, GIVEN_F);
    patient.guardians.push(Guardian {
        name: PersonName::new(family, guardian_given).expect("generated names are valid"),
        relationship: Relationship::Mother,
        phone: patient.phones.first().cloned(),
        email: None,
        address: None,
    });
    patient.mrns.push(
        Mrn::new(home_pin.clone(), &format!("MR{:08}", index + 1))
            .expect("generated MRNs are valid"),
    );
    if rng.random_bool(0.01) {
        patient.confidential = true;
    }
    if rng.random_bool(0.03) {
        patient.status = crate::patient::PatientStatus::MovedOrGoneElsewhere;
    }

    let adherence = match rng.random_range(0..100) {
        0..60 => Adherence::OnTime,
        60..85 => Adherence::Late,
        85..97 => Adherence::Gappy,
        _ => Adherence::Refuser,
    };
    let eligibility = *pick(
        &mut rng,
        &[
            VfcEligibility::NotEligible,
            VfcEligibility::Medicaid,
            VfcEligibility::Medicaid,
            VfcEligibility::Uninsured,
        ],
    );
    let doses = history(&mut rng, cfg, dob, &home_pin, adherence, eligibility);

    let duplicate = if rng.random_bool(0.02) && n_clinics > 1 {
        let other = (home + 1 + rng.random_range(0..n_clinics - 1)) % n_clinics;
        let other_pin = clinic_pin(other);
        let mut dup = patient.clone();
        dup.mrns = vec![Mrn::new(other_pin.clone(), &format!("X{:08}", index + 1))
            .expect("generated MRNs are valid")];
        // Typical duplicate: nickname or dropped middle name, same birth date.
        dup.name.middle = None;
        if rng.random_bool(0.3) {
            dup.name.given = dup.name.given.chars().take(3).collect();
        }
        let dup_doses = doses
            .iter()
            .filter(|_| rng.random_bool(0.4))
            .map(|d| {
                let mut h = d.clone();
                h.source = InformationSource::HistoricalOtherProvider;
                h.clinic = Some(other_pin.clone());
                h
            })
            .collect();
        Some((dup, dup_doses))
    } else {
        None
    };
    SynthChild {
        patient,
        doses,
        duplicate,
    }
}

fn history(
    rng: &mut ChaCha8Rng,
    cfg: &SynthConfig,
    dob: NaiveDate,
    clinic: &ClinicPin,
    adherence: Adherence,
    eligibility: VfcEligibility,
) -> Vec<Dose> {
    let mut doses = Vec::with_capacity(32);
    // Product chosen once per series (clinics stick to a brand), index into products().
    let mut last_by_series: [Option<NaiveDate>; 13] = [None; 13];
    let mut product_by_series: [usize; 13] = [usize::MAX; 13];
    // A child who joined the clinic late has earlier doses recorded as history.
    let joined_at_days: u32 = if rng.random_bool(0.2) {
        rng.random_range(0..3000)
    } else {
        0
    };
    let mut drift: u32 = 0;
    // Series already given at this visit age by a combination vaccine.
    let mut covered: (u32, Vec<Series>) = (u32::MAX, Vec::new());
    let mut visit: (u32, NaiveDate) = (u32::MAX, dob);
    for v in SCHEDULE {
        let idx = v.series as usize;
        if covered.0 == v.age_days && covered.1.contains(&v.series) {
            continue;
        }
        let skip_p = match adherence {
            Adherence::OnTime => 0.01,
            Adherence::Late => 0.05,
            Adherence::Gappy => 0.35,
            Adherence::Refuser => 0.85,
        };
        // Vaccines due at the same age are given at one visit; late families drift later
        // with every visit.
        if v.age_days != visit.0 {
            let delay = match adherence {
                Adherence::OnTime => rng.random_range(0..14),
                Adherence::Late | Adherence::Gappy => {
                    drift += rng.random_range(0..20);
                    drift + rng.random_range(0..10)
                }
                Adherence::Refuser => rng.random_range(0..60),
            };
            visit = (v.age_days, dob + Days::new((v.age_days + delay) as u64));
        }
        let mut date = visit.1;
        // About 1% of doses are given too early: before the minimum interval or age.
        if rng.random_bool(0.01) {
            let early = rng.random_range(5..25);
            date = if let Some(prev) = last_by_series[idx] {
                prev + Days::new(v.min_gap_days.saturating_sub(early) as u64)
            } else {
                date - Days::new(early.min(v.age_days) as u64)
            };
        } else if let Some(prev) = last_by_series[idx] {
            let min = prev + Days::new(v.min_gap_days as u64);
            if date < min {
                date = min;
            }
        }
        if date > cfg.as_of {
            continue;
        }
        if rng.random_bool(skip_p) {
            if matches!(adherence, Adherence::Refuser) && rng.random_bool(0.3) {
                let (cvx, _) = products(v.series)[0];
                doses.push(Dose::refusal(
                    Cvx::new(cvx).expect("table CVX"),
                    date,
                    RefusalReason::ParentalDecision,
                ));
            }
            continue;
        }
        if product_by_series[idx] == usize::MAX {
            product_by_series[idx] = rng.random_range(0..products(v.series).len());
        }
        let (cvx, mvx) = products(v.series)[product_by_series[idx]];
        // Two-dose products have no third primary dose.
        if v.age_days == 183
            && matches!((v.series, cvx), (Series::Hib, "49") | (Series::Rota, "119"))
        {
            continue;
        }
        doses.push(make_dose(
            rng,
            cvx,
            mvx,
            date,
            dob,
            clinic,
            joined_at_days,
            eligibility,
        ));
        last_by_series[idx] = Some(date);
        if covered.0 != v.age_days {
            covered = (v.age_days, Vec::new());
        }
        for &other in also_covers(cvx) {
            covered.1.push(other);
            last_by_series[other as usize] = Some(date);
        }
    }
    // Seasonal flu from 6 months: most children get some seasons.
    let flu_p = match adherence {
        Adherence::OnTime => 0.6,
        Adherence::Late => 0.4,
        Adherence::Gappy => 0.2,
        Adherence::Refuser => 0.02,
    };
    let mut season = dob + Days::new(183);
    while season <= cfg.as_of {
        if rng.random_bool(flu_p) {
            let date = season + Days::new(rng.random_range(0..60));
            if date <= cfg.as_of {
                let (cvx, mvx) = *pick(rng, products(Series::Flu));
                doses.push(make_dose(
                    rng,
                    cvx,
                    mvx,
                    date,
                    dob,
                    clinic,
                    joined_at_days,
                    eligibility,
                ));
            }
        }
        season = season + Days::new(365);
    }
    doses.sort_by_key(|d| d.date);
    doses
}

#[allow(clippy::too_many_arguments)]
fn make_dose(
    rng: &mut ChaCha8Rng,
    cvx: &str,
    mvx: &str,
    date: NaiveDate,
    dob: NaiveDate,
    clinic: &ClinicPin,
    joined_at_days: u32,
    eligibility: VfcEligibility,
) -> Dose {
    let historical = (date - dob).num_days() < joined_at_days as i64;
    let source = if historical {
        InformationSource::HistoricalOtherProvider
    } else {
        InformationSource::NewRecord
    };
    let mut d = Dose::new(Cvx::new(cvx).expect("table CVX"), date, source);
    d.mvx = Some(Mvx::new(mvx).expect("table MVX"));
    d.clinic = Some(clinic.clone());
    d.completion = CompletionStatus::Complete;
    if !historical {
        // Lots are named by manufacturer and half-year so clinics share plausible lots.
        let half = format!(
            "{}{}",
            date.format("%y"),
            if date.month() < 7 { "A" } else { "B" }
        );
        d.lot = Some(
            LotNumber::new(&format!("{mvx}{cvx}{half}{}", rng.random_range(1..4)))
                .expect("generated lots are valid"),
        );
        d.lot_expiration = Some(date + Days::new(rng.random_range(30..540)));
        d.route = Some(if cvx == "116" || cvx == "119" {
            Route::Oral
        } else {
            Route::Intramuscular
        });
        d.eligibility = Some(eligibility);
        d.funding = Some(if eligibility.is_public() {
            FundingSource::PublicVfc
        } else {
            FundingSource::Private
        });
        d.administered_by = Some(Provider::from_text("RN Synthetic"));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seeded addresses land in real towns: the towns table places each by name and by
    /// ZIP, in the county the generator gives.
    #[test]
    fn seeded_towns_resolve_by_name_and_zip() {
        let places = crate::place::Places::bundled();
        for (county, town, zip) in TOWNS {
            let by_name = places.town(town).unwrap_or_else(|| panic!("{town}"));
            assert_eq!((by_name.name.as_str(), by_name.county), (*town, *county));
            let a = Address::new("1 Main St", "Elsewhere", "CT", Zip::new(zip).unwrap()).unwrap();
            assert_eq!(
                places.resolve(&a).map(|t| t.name.as_str()),
                Some(*town),
                "{zip}"
            );
        }
    }

    fn cfg() -> SynthConfig {
        SynthConfig {
            children: 1000,
            clinics: 20,
            seed: 7,
            as_of: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        }
    }

    #[test]
    fn same_seed_same_child() {
        let a = child(&cfg(), 42);
        let b = child(&cfg(), 42);
        assert_eq!(a.patient, b.patient);
        assert_eq!(a.doses, b.doses);
        assert_ne!(child(&cfg(), 43).patient, a.patient);
    }

    #[test]
    fn generated_records_pass_domain_validation() {
        let c = cfg();
        let mut dups = 0;
        let mut historical = 0;
        let mut refused = 0;
        for i in 0..c.children {
            let ch = child(&c, i);
            ch.patient.validate(c.as_of).unwrap();
            let age = ch.patient.age_years(c.as_of);
            assert!(age <= 18, "age {age}");
            for d in &ch.doses {
                d.validate(ch.patient.dob, c.as_of)
                    .unwrap_or_else(|e| panic!("child {i}: {e}"));
                historical += d.is_historical() as u32;
                refused += (d.completion == CompletionStatus::Refused) as u32;
            }
            dups += ch.duplicate.is_some() as u32;
        }
        assert!((5..60).contains(&dups), "duplicates: {dups}");
        assert!(historical > 100, "historical: {historical}");
        assert!(refused > 0);
    }

    #[test]
    fn clinics_are_mixed_cvp_and_private() {
        let cs = clinics(&cfg());
        assert_eq!(cs.len(), 20);
        assert!(cs.iter().any(|c| c.program == ProgramType::Cvp));
        assert!(cs.iter().any(|c| c.program == ProgramType::CvpAndCvfa));
        assert!(cs.iter().any(|c| c.program == ProgramType::PrivateOnly));
    }
}
