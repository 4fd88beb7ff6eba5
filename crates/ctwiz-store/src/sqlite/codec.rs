//! Conversions between domain values and column text.

use crate::error::{Result, StoreError};
use chrono::{NaiveDate, NaiveDateTime};
use ctwiz_core::org::County;

pub(super) const DATE: &str = "%Y-%m-%d";
pub(super) const DATETIME: &str = "%Y-%m-%d %H:%M:%S";

/// A date as column text (`DATE`): how the store writes every date. Written directly, as
/// imports write dozens per message and chrono re-reads its format string on every call.
pub(super) fn date_text(d: NaiveDate) -> String {
    use chrono::Datelike;
    match d.year() {
        y @ 0..=9999 => {
            // Digits by arithmetic: `format!` costs a hundred times more per date.
            let (y, m, day) = (y as u32, d.month(), d.day());
            let digit = |v: u32| char::from(b'0' + (v % 10) as u8);
            let mut s = String::with_capacity(10);
            for v in [y / 1000, y / 100, y / 10, y] {
                s.push(digit(v));
            }
            s.push('-');
            s.push(digit(m / 10));
            s.push(digit(m));
            s.push('-');
            s.push(digit(day / 10));
            s.push(digit(day));
            s
        }
        _ => d.format(DATE).to_string(),
    }
}

pub(super) fn date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, DATE).map_err(|e| StoreError::Corrupt(format!("date {s:?}: {e}")))
}

pub(super) fn opt_date(s: Option<String>) -> Result<Option<NaiveDate>> {
    s.as_deref().map(date).transpose()
}

pub(super) fn datetime(s: &str) -> Result<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, DATETIME)
        .map_err(|e| StoreError::Corrupt(format!("timestamp {s:?}: {e}")))
}

pub(super) fn county(s: Option<String>) -> Result<Option<County>> {
    s.map(|c| County::parse(&c).map_err(StoreError::from))
        .transpose()
}

/// Turns a parse error of stored text into a corruption error naming the column.
pub(super) fn stored<T>(column: &'static str, r: ctwiz_core::Result<T>) -> Result<T> {
    r.map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn date_text_is_chrono_format(days in -1_000_000i64..4_000_000) {
            let d = NaiveDate::from_ymd_opt(1, 1, 1).unwrap() + chrono::TimeDelta::days(days);
            proptest::prop_assert_eq!(date_text(d), d.format(DATE).to_string());
        }
    }
}
