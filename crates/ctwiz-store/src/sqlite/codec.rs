//! Conversions between domain values and column text.

use crate::error::{Result, StoreError};
use chrono::{NaiveDate, NaiveDateTime};
use ctwiz_core::org::County;

pub(super) const DATE: &str = "%Y-%m-%d";
pub(super) const DATETIME: &str = "%Y-%m-%d %H:%M:%S";

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
