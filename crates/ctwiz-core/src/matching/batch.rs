//! Matching a whole set of person records at once (an analyst's CSV extract, the
//! registry's duplicate scan): read the records, block, fit the model to the set itself,
//! score the candidates, keep the pairs judged the same person.

use super::blocking::{candidate_pairs, Blocking};
use super::model::{Decision, MatchModel, Score};
use super::record::MatchRecord;
use crate::patient::Sex;
use crate::{CoreError, Result};
use chrono::NaiveDate;

/// A field of [`MatchRecord`] that a CSV column can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputField {
    Given,
    Middle,
    Family,
    Dob,
    Sex,
    Street,
    Street2,
    Number,
    City,
    Zip,
    Phone,
    Ssn,
    MotherMaiden,
}

impl InputField {
    pub const ALL: [(&'static str, InputField); 13] = [
        ("given", InputField::Given),
        ("middle", InputField::Middle),
        ("family", InputField::Family),
        ("dob", InputField::Dob),
        ("sex", InputField::Sex),
        ("street", InputField::Street),
        ("street2", InputField::Street2),
        ("number", InputField::Number),
        ("city", InputField::City),
        ("zip", InputField::Zip),
        ("phone", InputField::Phone),
        ("ssn", InputField::Ssn),
        ("mother_maiden", InputField::MotherMaiden),
    ];

    pub fn parse(name: &str) -> Result<InputField> {
        Self::ALL
            .iter()
            .find(|(n, _)| *n == name.trim())
            .map(|&(_, f)| f)
            .ok_or_else(|| CoreError::Unknown {
                field: "match field",
                value: name.to_string(),
                valid: Self::ALL.map(|(n, _)| n).join(", "),
            })
    }
}

/// How a CSV file maps to person records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvLayout {
    /// The column that names each record in the output (never used for matching).
    pub id_column: String,
    /// (field, column) pairs; a field absent here is read from a column of its own name,
    /// when there is one.
    pub map: Vec<(InputField, String)>,
    /// strftime format of the birth-date column.
    pub dob_format: String,
}

impl CsvLayout {
    /// Parses `--map given=first_name,family=surname,...`.
    pub fn parse_map(spec: &str) -> Result<Vec<(InputField, String)>> {
        spec.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|pair| {
                let (field, column) = pair.split_once('=').ok_or_else(|| {
                    CoreError::invalid("--map entry", pair, "expected field=column")
                })?;
                Ok((InputField::parse(field)?, column.trim().to_string()))
            })
            .collect()
    }
}

/// The records of a CSV file and their ids, in file order.
#[derive(Debug, Clone, Default)]
pub struct RecordSet {
    pub ids: Vec<String>,
    pub records: Vec<MatchRecord>,
}

/// Reads person records from CSV text with a header line.
pub fn read_csv(input: impl std::io::Read, layout: &CsvLayout) -> Result<RecordSet> {
    let mut rd = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(input);
    let bad = |e: csv::Error| CoreError::Rule(format!("CSV: {e}"));
    let header: Vec<String> = rd
        .headers()
        .map_err(bad)?
        .iter()
        .map(str::to_string)
        .collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    let id = column(&layout.id_column).ok_or_else(|| {
        CoreError::Rule(format!(
            "the id column {:?} is not in the header ({})",
            layout.id_column,
            header.join(", ")
        ))
    })?;
    let mut fields: Vec<(InputField, usize)> = Vec::new();
    for (name, f) in InputField::ALL {
        let mapped = layout.map.iter().find(|(g, _)| *g == f);
        let col = match mapped {
            Some((_, c)) => Some(column(c).ok_or_else(|| {
                CoreError::Rule(format!(
                    "column {c:?} (mapped to {name}) is not in the header ({})",
                    header.join(", ")
                ))
            })?),
            None => column(name).filter(|&c| c != id),
        };
        if let Some(c) = col {
            if c == id {
                return Err(CoreError::Rule(format!(
                    "{name} is mapped to the id column {:?}; the id is never used for matching",
                    layout.id_column
                )));
            }
            fields.push((f, c));
        }
    }
    if fields.is_empty() {
        return Err(CoreError::Rule(
            "no column maps to a match field; use --map field=column".into(),
        ));
    }
    let mut set = RecordSet::default();
    for row in rd.records() {
        let row = row.map_err(bad)?;
        let cell = |c: usize| row.get(c).unwrap_or("");
        let mut r = MatchRecord::default();
        let (mut given, mut middle, mut family) = ("", "", "");
        for &(f, c) in &fields {
            let v = cell(c);
            match f {
                InputField::Given => given = v,
                InputField::Middle => middle = v,
                InputField::Family => family = v,
                InputField::Dob => r.dob = dob_digits(v, &layout.dob_format),
                InputField::Sex => r.sex = parse_sex(v),
                InputField::Street => r.set_street(v),
                InputField::Street2 => r.set_street2(v),
                InputField::Number => r.set_number(v),
                InputField::City => r.set_city(v),
                InputField::Zip => r.set_zip(v),
                InputField::Phone => r.set_phone(v),
                InputField::Ssn => r.set_ssn(v),
                InputField::MotherMaiden => r.set_mother_maiden(v),
            }
        }
        r.set_names(given, middle, family);
        set.ids.push(cell(id).to_string());
        set.records.push(r);
    }
    Ok(set)
}

fn parse_sex(v: &str) -> Option<Sex> {
    match v.trim().to_ascii_uppercase().as_str() {
        "F" | "FEMALE" => Some(Sex::Female),
        "M" | "MALE" => Some(Sex::Male),
        _ => None,
    }
}

/// A birth date as `YYYYMMDD` digits. A value the format cannot read as a real date (a
/// typo such as Feb 31) keeps its digits, reordered as the format orders year, month
/// and day, so it can still match "one digit off"; anything else is unknown.
pub fn dob_digits(v: &str, format: &str) -> String {
    let v = v.trim();
    if v.is_empty() {
        return String::new();
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, format) {
        return d.format("%Y%m%d").to_string();
    }
    // Order and width of %Y, %m, %d in the format.
    let mut order: Vec<(usize, char)> = ["%Y", "%m", "%d"]
        .iter()
        .filter_map(|s| format.find(s).map(|p| (p, s.as_bytes()[1] as char)))
        .collect();
    if order.len() != 3 {
        return String::new();
    }
    order.sort();
    let width = |c: char| if c == 'Y' { 4 } else { 2 };
    let groups: Vec<&str> = v
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .collect();
    let parts: Vec<String> = if groups.len() == 3 {
        groups.iter().map(|s| s.to_string()).collect()
    } else if groups.len() == 1 && groups[0].len() == 8 {
        let mut at = 0;
        order
            .iter()
            .map(|&(_, c)| {
                let s = groups[0][at..at + width(c)].to_string();
                at += width(c);
                s
            })
            .collect()
    } else {
        return String::new();
    };
    let get = |c: char| {
        let i = order
            .iter()
            .position(|&(_, x)| x == c)
            .expect("three specifiers");
        format!("{:0>w$}", parts[i], w = width(c))
    };
    let out = format!("{}{}{}", get('Y'), get('m'), get('d'));
    if out.len() == 8 {
        out
    } else {
        String::new()
    }
}

/// Random pairs sampled to learn `u`: enough for levels as rare as one pair in a
/// thousand to be counted some hundred times.
pub const RANDOM_PAIRS: usize = 100_000;

/// Below this many records EM has too few pairs to learn from (a handful of records would
/// teach it, say, that co-twins are as common as slips): the default model scores them,
/// with the given names counted in the records themselves (counting needs no EM, and
/// tells two look-alike names in use, such as twins', from a slip).
pub const MIN_RECORDS_TO_FIT: usize = 1_000;

/// A scored pair of records (indexes into the set, `a < b`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredPair {
    pub a: u32,
    pub b: u32,
    pub score: Score,
}

/// Finds the pairs of `records` that are (or may be) the same person: blocks, fits the
/// model to these records (EM; `seed` fixes the random pairs) when there are at least
/// [`MIN_RECORDS_TO_FIT`] of them (the default model with the given names counted
/// otherwise), scores every candidate
/// and keeps those judged (`Score::judged`) at `at_least` or above. Sorted by `(a, b)`.
pub fn find_pairs(
    records: &[MatchRecord],
    blocking: Blocking,
    at_least: Decision,
    seed: u64,
) -> (MatchModel, Vec<ScoredPair>) {
    let pairs = candidate_pairs(records, blocking);
    let model = if records.len() >= MIN_RECORDS_TO_FIT {
        MatchModel::fit(records, &pairs, RANDOM_PAIRS, seed)
    } else {
        MatchModel::default().with_given_names_counted(records)
    };
    let mut out = score_pairs(&model, records, &pairs, at_least);
    out.sort_by_key(|p| (p.a, p.b));
    (model, out)
}

/// Scores candidate `pairs` of `records` (indexes) in parallel and keeps those judged
/// (`Score::judged`) at `at_least` or above, in the order of `pairs`.
pub fn score_pairs(
    model: &MatchModel,
    records: &[MatchRecord],
    pairs: &[(u32, u32)],
    at_least: Decision,
) -> Vec<ScoredPair> {
    use rayon::prelude::*;
    pairs
        .par_iter()
        .filter_map(|&(a, b)| {
            let score = model.score(&records[a as usize], &records[b as usize]);
            (score.judged >= at_least).then_some(ScoredPair { a, b, score })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birth_dates_in_any_format_and_impossible_ones() {
        assert_eq!(dob_digits("1989-02-14", "%Y-%m-%d"), "19890214");
        assert_eq!(dob_digits("02/14/1989", "%m/%d/%Y"), "19890214");
        assert_eq!(dob_digits("19890231", "%Y%m%d"), "19890231");
        assert_eq!(dob_digits("02/31/1989", "%m/%d/%Y"), "19890231");
        assert_eq!(dob_digits("unknown", "%Y%m%d"), "");
    }

    #[test]
    fn csv_layout_errors_name_the_problem() {
        let layout = |map: &str| CsvLayout {
            id_column: "rec_id".into(),
            map: CsvLayout::parse_map(map).unwrap(),
            dob_format: "%Y%m%d".into(),
        };
        let csv = "rec_id,first,last\n1,Ann,Lee\n";
        let err = read_csv(csv.as_bytes(), &layout("given=name")).unwrap_err();
        assert!(err.to_string().contains("\"name\""), "{err}");
        let err = read_csv(csv.as_bytes(), &layout("given=rec_id")).unwrap_err();
        assert!(err.to_string().contains("never used for matching"), "{err}");
        assert!(CsvLayout::parse_map("nickname=x").is_err());
        let set = read_csv(csv.as_bytes(), &layout("given=first,family=last")).unwrap();
        assert_eq!(set.ids, ["1"]);
        assert_eq!(set.records[0].family, "LEE");
    }
}
