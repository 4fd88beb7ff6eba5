//! Field comparisons: each field of two records falls into one agreement level (0 is the
//! strongest agreement, the last level is disagreement), or gives no evidence when either
//! side does not know it. Every comparison is symmetric: `compare(a, b) == compare(b, a)`.

use super::record::MatchRecord;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Jaro-Winkler similarity. Matching compares normalized ASCII strings millions of
/// times (u estimation samples random pairs), so short ASCII strings take a byte path
/// with a bitmask of matched positions; anything else goes to `strsim`. The two agree
/// exactly (tested).
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if !a.is_ascii() || !b.is_ascii() || x.len() > 64 || y.len() > 64 {
        return strsim::jaro_winkler(a, b);
    }
    if x.is_empty() && y.is_empty() {
        return 1.0;
    }
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    let window = (x.len().max(y.len()) / 2).saturating_sub(1);
    let (mut used_y, mut matched_x) = (0u64, 0u64);
    let mut matches = 0usize;
    for (i, &c) in x.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(y.len());
        if let Some(j) = (lo..hi).find(|&j| used_y & (1 << j) == 0 && y[j] == c) {
            used_y |= 1 << j;
            matched_x |= 1 << i;
            matches += 1;
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut j = 0usize;
    for (i, &c) in x.iter().enumerate() {
        if matched_x & (1 << i) == 0 {
            continue;
        }
        while used_y & (1 << j) == 0 {
            j += 1;
        }
        if y[j] != c {
            transpositions += 1;
        }
        j += 1;
    }
    let m = matches as f64;
    let jaro =
        (m / x.len() as f64 + m / y.len() as f64 + (m - (transpositions / 2) as f64) / m) / 3.0;
    if jaro <= 0.7 {
        return jaro;
    }
    let prefix = x.iter().zip(y).take(4).take_while(|(p, q)| p == q).count() as f64;
    jaro + 0.1 * prefix * (1.0 - jaro)
}

/// The fields the matcher weighs, in the order of [`Comparison::levels`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Field {
    Given,
    Middle,
    Family,
    Dob,
    Sex,
    Number,
    Street,
    City,
    Zip,
    Phone,
    Ssn,
    MotherMaiden,
    /// Medical record number at the same clinic: not learned from data (see
    /// [`super::model`]), the clinic's own statement of who the child is.
    Mrn,
}

impl Field {
    pub const ALL: [Field; 13] = [
        Field::Given,
        Field::Middle,
        Field::Family,
        Field::Dob,
        Field::Sex,
        Field::Number,
        Field::Street,
        Field::City,
        Field::Zip,
        Field::Phone,
        Field::Ssn,
        Field::MotherMaiden,
        Field::Mrn,
    ];
    pub const COUNT: usize = Self::ALL.len();

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Field::Given => "given name",
            Field::Middle => "middle name",
            Field::Family => "family name",
            Field::Dob => "birth date",
            Field::Sex => "sex",
            Field::Number => "house number",
            Field::Street => "street",
            Field::City => "city",
            Field::Zip => "ZIP",
            Field::Phone => "phone",
            Field::Ssn => "SSN",
            Field::MotherMaiden => "mother's maiden name",
            Field::Mrn => "MRN at the same clinic",
        }
    }

    /// The agreement levels, strongest first; the last one is disagreement.
    pub fn levels(self) -> &'static [&'static str] {
        match self {
            Field::Given | Field::Family => &[
                "exact",
                "Jaro-Winkler ≥ 0.92",
                "sounds alike, nickname, initial part or one part of a double name",
                "Jaro-Winkler ≥ 0.80",
                "different",
            ],
            Field::Middle => &["exact", "same initial", "different"],
            Field::Dob => &[
                "exact",
                "day and month transposed",
                "one digit off or two digits swapped",
                "different",
            ],
            Field::Sex | Field::Number | Field::Mrn => &["same", "different"],
            Field::Street | Field::City | Field::MotherMaiden => {
                &["exact", "Jaro-Winkler ≥ 0.88", "different"]
            }
            Field::Zip | Field::Phone | Field::Ssn => {
                &["exact", "one digit off or two digits swapped", "different"]
            }
        }
    }
}

/// Agreement level of each field (`None`: not known on one side).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Comparison {
    pub levels: [Option<u8>; Field::COUNT],
}

impl Comparison {
    pub fn level(&self, f: Field) -> Option<u8> {
        self.levels[f.index()]
    }
}

/// Common English given-name short forms (diminutives and pet forms), each pair
/// normalized as `(full name, short form)` and used both ways.
///
/// Provenance: written for ctwiz from general knowledge of English naming usage (the
/// diminutives any baby-name reference lists), not copied from another project's list and
/// not drawn from the synthetic generator's table (`synth::duplicates`), which the
/// benchmark uses to make its slips. Left out on purpose, because a short form links two
/// records as one name and so keeps the co-twin question from being asked: short forms
/// shared by a boy's and a girl's name (Sammy, Frankie, Charlie for Charlotte, Stevie),
/// and short forms given as names of their own that parents pick beside the long form
/// (Nora beside Eleanor, Molly beside Mary, Sadie beside Sarah). Short
/// forms that are the opening letters of the name (Sam, Alex, Liz) need no entry: the
/// comparison takes an initial part as a short form.
const NICKNAMES: &[(&str, &str)] = &[
    ("ROBERT", "BOB"),
    ("ROBERT", "ROB"),
    ("ROBERT", "BOBBY"),
    ("ROBERT", "ROBBIE"),
    ("WILLIAM", "BILL"),
    ("WILLIAM", "WILL"),
    ("WILLIAM", "BILLY"),
    ("WILLIAM", "LIAM"),
    ("WILLIAM", "WILLIE"),
    ("WILLIAM", "WILLY"),
    ("RICHARD", "DICK"),
    ("RICHARD", "RICK"),
    ("RICHARD", "RICKY"),
    ("RICHARD", "RICHIE"),
    ("JAMES", "JIM"),
    ("JAMES", "JIMMY"),
    ("JAMES", "JAMIE"),
    ("JOHN", "JACK"),
    ("JOHN", "JOHNNY"),
    ("JONATHAN", "JON"),
    ("JONATHAN", "JONNY"),
    ("JONATHAN", "JOHNNY"),
    ("JOSEPH", "JOE"),
    ("JOSEPH", "JOEY"),
    ("MICHAEL", "MIKE"),
    ("MICHAEL", "MICKEY"),
    ("MICHAEL", "MIKEY"),
    ("MICHAEL", "MICK"),
    ("MICHAEL", "MICKY"),
    ("THOMAS", "TOM"),
    ("THOMAS", "TOMMY"),
    ("CHARLES", "CHARLIE"),
    ("CHARLES", "CHUCK"),
    ("EDWARD", "ED"),
    ("EDWARD", "EDDIE"),
    ("EDWARD", "TED"),
    ("EDWARD", "NED"),
    ("ANTHONY", "TONY"),
    ("DANIEL", "DANNY"),
    ("DANIEL", "DAN"),
    ("MATTHEW", "MATT"),
    ("MATTHEW", "MATTY"),
    ("CHRISTOPHER", "CHRIS"),
    ("CHRISTOPHER", "KIT"),
    ("CHRISTOPHER", "TOPHER"),
    ("NICHOLAS", "NICK"),
    ("NICHOLAS", "NICKY"),
    ("ALEXANDER", "ALEX"),
    ("ALEXANDER", "SASHA"),
    ("ALEXANDER", "XANDER"),
    ("ALEXANDER", "ZANDER"),
    ("BENJAMIN", "BEN"),
    ("BENJAMIN", "BENNY"),
    ("BENJAMIN", "BENJI"),
    ("SAMUEL", "SAM"),
    ("HENRY", "HANK"),
    ("HENRY", "HARRY"),
    ("HENRY", "HAL"),
    ("ELIZABETH", "LIZ"),
    ("ELIZABETH", "BETH"),
    ("ELIZABETH", "BETSY"),
    ("ELIZABETH", "ELIZA"),
    ("ELIZABETH", "LIZZIE"),
    ("ELIZABETH", "ELLIE"),
    ("ELIZABETH", "LIBBY"),
    ("ELIZABETH", "BETTY"),
    ("ELIZABETH", "BESS"),
    ("ELIZABETH", "BESSIE"),
    ("ELIZABETH", "LIZZY"),
    ("KATHERINE", "KATE"),
    ("KATHERINE", "KATIE"),
    ("KATHERINE", "KATHY"),
    ("KATHERINE", "KITTY"),
    ("KATHERINE", "KAT"),
    ("CATHERINE", "CATHY"),
    ("CATHERINE", "KATE"),
    ("CATHERINE", "KATIE"),
    ("CATHERINE", "CATE"),
    ("MARGARET", "MAGGIE"),
    ("MARGARET", "PEGGY"),
    ("MARGARET", "MEG"),
    ("MARGARET", "MARGIE"),
    ("JENNIFER", "JENNY"),
    ("JENNIFER", "JEN"),
    ("JENNIFER", "JENNIE"),
    ("PATRICIA", "PATTY"),
    ("PATRICIA", "TRISH"),
    ("PATRICIA", "PATSY"),
    ("PATRICIA", "TRICIA"),
    ("REBECCA", "BECKY"),
    ("REBECCA", "BECCA"),
    ("SUSAN", "SUE"),
    ("SUSAN", "SUSIE"),
    ("SUSAN", "SUZY"),
    ("DEBORAH", "DEBBIE"),
    ("DEBORAH", "DEB"),
    ("ABIGAIL", "ABBY"),
    ("ABIGAIL", "ABBIE"),
    ("VICTORIA", "VICKY"),
    ("VICTORIA", "VICKI"),
    ("VICTORIA", "TORI"),
    ("ISABELLA", "BELLA"),
    ("ISABELLA", "IZZY"),
    ("ISABELLA", "ISSY"),
    ("ISABELLA", "BELLE"),
    ("OLIVIA", "LIV"),
    ("OLIVIA", "LIVVY"),
    ("OLIVIA", "LIVIE"),
    ("SOPHIA", "SOPHIE"),
    ("MADISON", "MADDIE"),
    ("MADISON", "MADDY"),
    ("GABRIEL", "GABE"),
    ("NATHANIEL", "NATE"),
    ("NATHAN", "NATE"),
    ("ZACHARY", "ZACH"),
    ("ZACHARY", "ZACK"),
    ("ZACHARY", "ZAC"),
    ("JACOB", "JAKE"),
    ("ANDREW", "ANDY"),
    ("ANDREW", "DREW"),
    ("STEVEN", "STEVE"),
    ("STEPHEN", "STEVE"),
    ("EDMUND", "NED"),
    ("EDMUND", "ED"),
    ("ANTONIO", "TONY"),
    ("HAROLD", "HARRY"),
    ("HAROLD", "HAL"),
    ("LAWRENCE", "LARRY"),
    ("LAURENCE", "LARRY"),
    ("GERALD", "GERRY"),
    ("GERALD", "JERRY"),
    ("PATRICK", "PADDY"),
    ("TIMOTHY", "TIMMY"),
    ("DAVID", "DAVE"),
    ("DAVID", "DAVEY"),
    ("DAVID", "DAVY"),
    ("DONALD", "DONNIE"),
    ("RONALD", "RON"),
    ("RONALD", "RONNIE"),
    ("KENNETH", "KEN"),
    ("KENNETH", "KENNY"),
    ("FRANCIS", "FRANK"),
    ("FREDERICK", "FRED"),
    ("FREDERICK", "FREDDIE"),
    ("FREDERICK", "FREDDY"),
    ("ALFRED", "ALFIE"),
    ("ALFRED", "FRED"),
    ("ARCHIBALD", "ARCHIE"),
    ("THEODORE", "TEDDY"),
    ("THEODORE", "TED"),
    ("LEONARD", "LEN"),
    ("LEONARD", "LENNY"),
    ("OLIVER", "OLLIE"),
    ("ISAAC", "IKE"),
    ("EZEKIEL", "ZEKE"),
    ("AUGUSTUS", "GUS"),
    ("AUGUST", "GUS"),
    ("WALTER", "WALLY"),
    ("ALBERT", "BERT"),
    ("ALBERT", "BERTIE"),
    ("TOBIAS", "TOBY"),
    ("BARTHOLOMEW", "BART"),
    ("PENELOPE", "PENNY"),
    ("ELEANOR", "ELLIE"),
    ("ELEANOR", "NELL"),
    ("ELEANOR", "NELLIE"),
    ("ELLEN", "ELLIE"),
    ("AMELIA", "MILLIE"),
    ("AMELIA", "MILLY"),
    ("MILLICENT", "MILLIE"),
    ("MILLICENT", "MILLY"),
    ("MILDRED", "MILLIE"),
    ("CAMILLA", "MILLIE"),
    ("ISABEL", "IZZY"),
    ("ISABEL", "ISSY"),
    ("ISABEL", "BELLA"),
    ("ISABELLE", "IZZY"),
    ("ISABELLE", "BELLE"),
    ("ALEXANDRA", "LEXI"),
    ("ALEXANDRA", "LEXIE"),
    ("ALEXANDRA", "ALLIE"),
    ("ALEXIS", "LEXI"),
    ("GABRIELLA", "GABBY"),
    ("GABRIELLA", "GABBIE"),
    ("GABRIELLE", "GABBY"),
    ("KATHRYN", "KATE"),
    ("KATHRYN", "KATIE"),
    ("KATHRYN", "KATHY"),
    ("KATHLEEN", "KATHY"),
    ("KATHLEEN", "KATIE"),
    ("CHARLOTTE", "LOTTIE"),
    ("CHARLOTTE", "LOTTY"),
    ("JESSICA", "JESS"),
    ("JESSICA", "JESSIE"),
    ("ANNA", "ANNIE"),
    ("ANNE", "ANNIE"),
    ("SUSANNAH", "SUSIE"),
    ("MARY", "POLLY"),
    ("DOROTHY", "DOT"),
    ("DOROTHY", "DOTTIE"),
    ("DOROTHY", "DOLLY"),
    ("FLORENCE", "FLO"),
    ("FLORENCE", "FLOSSIE"),
    ("EVELYN", "EVIE"),
    ("EVANGELINE", "EVIE"),
    ("MADELINE", "MADDIE"),
    ("MADELINE", "MADDY"),
    ("MADELYN", "MADDIE"),
    ("HARRIET", "HATTIE"),
    ("HENRIETTA", "HETTY"),
    ("JOSEPHINE", "JOSIE"),
    ("JACQUELINE", "JACKIE"),
    ("CHRISTINA", "TINA"),
    ("CHRISTINA", "CHRISSY"),
    ("CHRISTINE", "CHRISSY"),
    ("DEBRA", "DEBBIE"),
    ("WINIFRED", "WINNIE"),
    ("THERESA", "TESS"),
    ("TERESA", "TESS"),
    ("ROSE", "ROSIE"),
    ("ROSEMARY", "ROSIE"),
    ("FRANCES", "FRANNIE"),
    ("BEATRICE", "TRIXIE"),
    ("CAROLINE", "CARRIE"),
    ("CAROLYN", "CARRIE"),
    ("CYNTHIA", "CINDY"),
    ("LUCINDA", "CINDY"),
    ("AMANDA", "MANDY"),
    ("ALISON", "ALLIE"),
    ("ALLISON", "ALLIE"),
    ("SARAH", "SALLY"),
    ("VIRGINIA", "GINNY"),
];

/// Whether one name is a common short form of the other (the table above, both ways).
pub(crate) fn nicknames(a: &str, b: &str) -> bool {
    static BY_NAME: OnceLock<HashMap<&'static str, Vec<&'static str>>> = OnceLock::new();
    let by_name = BY_NAME.get_or_init(|| {
        let mut m: HashMap<&str, Vec<&str>> = HashMap::new();
        for &(x, y) in NICKNAMES {
            m.entry(x).or_default().push(y);
            m.entry(y).or_default().push(x);
        }
        m
    });
    by_name.get(a).is_some_and(|v| v.contains(&b))
}

/// One given name is a short form of the other: a common nickname or its opening letters
/// ("BOB" / "ROBERT", "SEB" / "SEBASTIAN"): the same name, not two.
pub(crate) fn short_form(a: &str, b: &str) -> bool {
    nicknames(a, b) || initial_part(a, b)
}

fn sounds_alike(a: &(String, String), b: &(String, String)) -> bool {
    let (ca, cb) = ([&a.0, &a.1], [&b.0, &b.1]);
    ca.iter()
        .any(|x| !x.is_empty() && cb.iter().any(|y| x == y))
}

/// One string starts with the other, the shorter having at least two letters
/// ("ALEX" / "ALEXANDRA"; a typist stopping early).
pub(crate) fn initial_part(a: &str, b: &str) -> bool {
    let (s, l) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    s.len() >= 2 && l.starts_with(s)
}

fn name_level(a: &str, b: &str, sa: &(String, String), sb: &(String, String)) -> u8 {
    if a == b {
        return 0;
    }
    let jw = jaro_winkler(a, b);
    if jw >= 0.92 {
        1
    } else if sounds_alike(sa, sb) || nicknames(a, b) || initial_part(a, b) {
        2
    } else if jw >= 0.80 {
        3
    } else {
        4
    }
}

fn family_level(a: &MatchRecord, b: &MatchRecord) -> u8 {
    let level = name_level(
        &a.family_joined,
        &b.family_joined,
        &a.family_sound,
        &b.family_sound,
    );
    // A hyphenated or double name recorded with one of its parts.
    if level > 2
        && (a.family.contains(' ') || b.family.contains(' '))
        && a.family_parts().any(|x| b.family_parts().any(|y| x == y))
    {
        2
    } else {
        level
    }
}

/// Strings of equal length differing in one position, or in two adjacent positions
/// swapped (the two commonest keying slips).
pub(crate) fn one_slip(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut diff = (0..a.len()).filter(|&i| a[i] != b[i]);
    match (diff.next(), diff.next(), diff.next()) {
        (Some(_), None, _) => true,
        (Some(i), Some(j), None) => j == i + 1 && a[i] == b[j] && a[j] == b[i],
        _ => false,
    }
}

fn dob_level(a: &str, b: &str) -> u8 {
    if a == b {
        return 0;
    }
    if a.len() == 8 && b.len() == 8 && a[..4] == b[..4] && a[4..6] == b[6..8] && a[6..8] == b[4..6]
    {
        return 1;
    }
    if one_slip(a, b) {
        2
    } else {
        3
    }
}

fn text_level(a: &str, b: &str) -> u8 {
    if a == b {
        0
    } else if jaro_winkler(a, b) >= 0.88 {
        1
    } else {
        2
    }
}

fn digits_level(a: &str, b: &str) -> u8 {
    if a == b {
        0
    } else if one_slip(a, b) {
        1
    } else {
        2
    }
}

fn known<T>(a: &str, b: &str, f: impl FnOnce(&str, &str) -> T) -> Option<T> {
    (!a.is_empty() && !b.is_empty()).then(|| f(a, b))
}

/// Same clinic, same MRN (0) or same clinic, different MRN (1); `None` when the two
/// records share no clinic.
fn mrn_level(a: &MatchRecord, b: &MatchRecord) -> Option<u8> {
    let mut shared = false;
    for (ca, va) in &a.mrns {
        for (cb, vb) in &b.mrns {
            if ca == cb {
                if va == vb {
                    return Some(0);
                }
                shared = true;
            }
        }
    }
    shared.then_some(1)
}

/// Compares two records field by field.
pub fn compare(a: &MatchRecord, b: &MatchRecord) -> Comparison {
    let mut levels = [None; Field::COUNT];
    let mut set = |f: Field, l: Option<u8>| levels[f.index()] = l;
    set(
        Field::Given,
        known(&a.given, &b.given, |x, y| {
            name_level(x, y, &a.given_sound, &b.given_sound)
        }),
    );
    set(
        Field::Family,
        known(&a.family, &b.family, |_, _| family_level(a, b)),
    );
    // Given and family names entered the wrong way round: both agree crosswise. Checked
    // only when both disagree and the first letters cross (cheap, and symmetric).
    if levels[Field::Given.index()] == Some(4)
        && levels[Field::Family.index()] == Some(4)
        && a.given.as_bytes().first() == b.family_joined.as_bytes().first()
        && a.family_joined.as_bytes().first() == b.given.as_bytes().first()
    {
        let g = name_level(&a.given, &b.family_joined, &a.given_sound, &b.family_sound);
        let f = name_level(&a.family_joined, &b.given, &a.family_sound, &b.given_sound);
        if g <= 1 && f <= 1 {
            // Agreement, but a swap is itself an error: one level down. Both fields take
            // the weaker of the two crosswise levels so that compare(a, b) == compare(b, a)
            // (swapping the records swaps which crosswise pair is "given").
            let level = Some(g.max(f) + 1);
            levels[Field::Given.index()] = level;
            levels[Field::Family.index()] = level;
        }
    }
    let mut set = |f: Field, l: Option<u8>| levels[f.index()] = l;
    set(
        Field::Middle,
        known(&a.middle, &b.middle, |x, y| {
            if x == y {
                0
            } else if x.as_bytes()[0] == y.as_bytes()[0] {
                1
            } else {
                2
            }
        }),
    );
    set(Field::Dob, known(&a.dob, &b.dob, dob_level));
    set(
        Field::Sex,
        match (a.sex, b.sex) {
            (Some(x), Some(y)) => Some(u8::from(x != y)),
            _ => None,
        },
    );
    set(
        Field::Number,
        known(&a.number, &b.number, |x, y| u8::from(x != y)),
    );
    set(Field::Street, known(&a.street, &b.street, text_level));
    set(Field::City, known(&a.city, &b.city, text_level));
    set(Field::Zip, known(&a.zip, &b.zip, digits_level));
    set(Field::Phone, known(&a.phone, &b.phone, digits_level));
    set(Field::Ssn, known(&a.ssn, &b.ssn, digits_level));
    set(
        Field::MotherMaiden,
        known(&a.mother_maiden, &b.mother_maiden, text_level),
    );
    set(Field::Mrn, mrn_level(a, b));
    Comparison { levels }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn jaro_winkler_agrees_with_strsim(a in "[A-E ]{0,12}", b in "[A-E ]{0,12}") {
            prop_assert!((jaro_winkler(&a, &b) - strsim::jaro_winkler(&a, &b)).abs() < 1e-12);
        }
    }

    fn rec(given: &str, family: &str, dob: &str) -> MatchRecord {
        let mut r = MatchRecord::default();
        r.set_names(given, "", family);
        r.dob = dob.into();
        r
    }

    #[test]
    fn birth_dates_forgive_transposition_and_one_digit() {
        assert_eq!(dob_level("20200304", "20200304"), 0);
        assert_eq!(dob_level("20200304", "20200403"), 1);
        assert_eq!(dob_level("20200304", "20200305"), 2);
        assert_eq!(dob_level("20200314", "20200341"), 2);
        assert_eq!(dob_level("20200304", "20211005"), 3);
    }

    #[test]
    fn names_levels() {
        let c = compare(&rec("Robert", "Smith", ""), &rec("Bob", "Smyth", ""));
        assert_eq!(c.level(Field::Given), Some(2));
        assert!(c.level(Field::Family).unwrap() <= 2);
        let c = compare(&rec("Ann", "Garcia-Lopez", ""), &rec("Ann", "Lopez", ""));
        assert_eq!(c.level(Field::Family), Some(2));
        let c = compare(&rec("Ann", "Smith", ""), &rec("Zoe", "Smith", ""));
        assert_eq!(c.level(Field::Given), Some(4));
        assert_eq!(c.level(Field::Dob), None);
    }

    #[test]
    fn common_short_forms_are_the_same_name() {
        for (full, short) in [
            ("PENELOPE", "PENNY"),
            ("ELEANOR", "ELLIE"),
            ("ELIZABETH", "ELLIE"),
            ("AMELIA", "MILLIE"),
            ("OLIVIA", "LIVVY"),
            ("ROBERT", "BOB"),
        ] {
            assert!(
                short_form(full, short) && short_form(short, full),
                "{full}/{short}"
            );
        }
        // A short form is one name's, never a link between two full names, nor between
        // names parents give side by side.
        for (a, b) in [
            ("ELEANOR", "ELIZABETH"),
            ("OLIVIA", "OLLIE"),
            ("ELLA", "ELLIE"),
        ] {
            assert!(!short_form(a, b), "{a}/{b}");
        }
        // Every entry is normalized, as the names it is compared with.
        for &(full, short) in NICKNAMES {
            assert_eq!(full, super::super::record::normalize_token(full));
            assert_eq!(short, super::super::record::normalize_token(short));
        }
    }

    #[test]
    fn swapped_names_agree_crosswise_the_same_both_ways() {
        // Found by the symmetry property test: one crosswise pair exact, the other close.
        let (a, b) = (rec("Sophia", "Ann", ""), rec("Anne", "Sophia", ""));
        let (ab, ba) = (compare(&a, &b), compare(&b, &a));
        assert_eq!(ab, ba);
        assert_eq!(ab.level(Field::Given), Some(2));
        assert_eq!(ab.level(Field::Family), Some(2));
    }
}
