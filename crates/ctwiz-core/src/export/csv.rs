//! The one CSV writer. Every CSV that ctwiz hands to a person (web downloads, `ctwiz
//! report --format csv`, call lists) is written by [`to_csv`], which neutralises cells a
//! spreadsheet would run as a formula ("CSV injection").
//!
//! The rule follows the OWASP *CSV Injection* guidance: a cell that begins with `=`, `+`,
//! `-`, `@`, a tab or a carriage return gets a leading single quote, which spreadsheets
//! show as text; fields are quoted by the `csv` crate, so commas, quotes and line breaks
//! inside a cell cannot start a new cell. One deliberate exception: a cell that is a
//! plain decimal number (`-3`, `+4.5`) is left as it is, because a number cannot run
//! anything and reports must stay summable; anything more (`-2+3`, `-1e3`, `-3 `) is
//! quoted.
//!
//! ```
//! use ctwiz_core::export::csv::to_csv;
//! let text = to_csv(&["name", "delta"], [["=cmd|' /C calc'!A0", "-3"], ["-2+3", "4"]]);
//! assert_eq!(text, "name,delta\n'=cmd|' /C calc'!A0,-3\n'-2+3,4\n");
//! ```

use std::borrow::Cow;

/// The characters that make a spreadsheet read a cell as a formula (OWASP).
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether the cell is an optionally signed decimal number (`-3`, `+4.50`, `.5`).
fn is_plain_number(cell: &str) -> bool {
    let digits = cell.strip_prefix(['+', '-']).unwrap_or(cell);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next().unwrap_or("");
    (!whole.is_empty() || !fraction.is_empty())
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// The cell as it is safe to write: with a leading `'` when a spreadsheet would read it
/// as a formula.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_START) && !is_plain_number(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A CSV document (header row, then `rows`), every cell neutralised.
pub fn to_csv<R, C>(header: &[&str], rows: R) -> String
where
    R: IntoIterator,
    R::Item: IntoIterator<Item = C>,
    C: AsRef<str>,
{
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let mut write = |cells: &mut dyn Iterator<Item = Cow<'_, str>>| {
        let record: Vec<Cow<'_, str>> = cells.collect();
        w.write_record(record.iter().map(|c| c.as_bytes()))
            .expect("writing CSV to memory cannot fail");
    };
    write(&mut header.iter().map(|h| neutralise(h)));
    for row in rows {
        let cells: Vec<C> = row.into_iter().collect();
        write(&mut cells.iter().map(|c| neutralise(c.as_ref())));
    }
    let bytes = w.into_inner().expect("flushing CSV to memory cannot fail");
    String::from_utf8(bytes).expect("CSV of UTF-8 cells is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formulas_are_quoted_numbers_are_not() {
        for cell in [
            "=1+1",
            "+1+1",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "-",
            "-1e3",
            "=cmd|' /C calc'!A0",
        ] {
            assert_eq!(neutralise(cell), format!("'{cell}"), "{cell:?}");
        }
        for cell in ["-3", "+4.5", "-.5", "12", "Rivera", "", "'=already", " =1"] {
            assert_eq!(neutralise(cell), cell, "{cell:?}");
        }
    }

    fn read_back(text: &str) -> Vec<Vec<String>> {
        ::csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect()
    }

    proptest! {
        /// A neutralised cell is the cell itself or the cell behind one quote, and only a
        /// plain number may still begin like a formula.
        #[test]
        fn neutralised_cells_never_start_a_formula(cell in "\\PC*|[=+@\t\r-][\\PC\t\r]*|[+-]?[0-9]{0,4}\\.?[0-9]{0,4}") {
            let out = neutralise(&cell);
            let quoted = format!("'{cell}");
            prop_assert!(out == cell || *out == quoted);
            if out.starts_with(FORMULA_START) {
                prop_assert!(is_plain_number(&out));
                prop_assert!(out.parse::<f64>().is_ok(), "{out:?} is a number");
            }
        }

        /// Whatever the cells hold (commas, quotes, line breaks), reading the CSV back gives
        /// the same rows of neutralised cells.
        #[test]
        fn cells_survive_the_round_trip(rows in prop::collection::vec(prop::collection::vec(".*|[=+@\t\r,\"\n-].*", 2), 0..5)) {
            let text = to_csv(&["a", "b"], &rows);
            let mut expected = vec![vec!["a".to_string(), "b".to_string()]];
            expected.extend(rows.iter().map(|r| r.iter().map(|c| neutralise(c).into_owned()).collect()));
            prop_assert_eq!(read_back(&text), expected);
        }
    }
}
