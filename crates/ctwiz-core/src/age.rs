//! Calendar age arithmetic shared by rules and reports.

use chrono::{Datelike, Months, NaiveDate};

/// Whole years from `dob` to `on` (0 if `on` is before `dob`).
pub fn whole_years(dob: NaiveDate, on: NaiveDate) -> u32 {
    whole_months(dob, on) / 12
}

/// Whole calendar months from `dob` to `on` (0 if `on` is before `dob`).
pub fn whole_months(dob: NaiveDate, on: NaiveDate) -> u32 {
    if on < dob {
        return 0;
    }
    let mut m = (on.year() - dob.year()) * 12 + on.month() as i32 - dob.month() as i32;
    if on.day() < dob.day() && add_months(dob, m as u32) > on {
        m -= 1;
    }
    m.max(0) as u32
}

/// `date` plus `months` calendar months; a day past the new month's end becomes its last day
/// (chrono's rule; CDSi instead rolls to the 1st of the next month, which the forecaster handles).
pub fn add_months(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    #[test]
    fn months_and_years() {
        // A month from Jan 31 ends on the last day of February.
        assert_eq!(whole_months(d(2020, 1, 31), d(2020, 2, 29)), 1);
        assert_eq!(whole_months(d(2020, 1, 31), d(2020, 2, 28)), 0);
        assert_eq!(whole_months(d(2020, 1, 31), d(2020, 3, 31)), 2);
        assert_eq!(whole_months(d(2020, 1, 15), d(2022, 1, 15)), 24);
        assert_eq!(whole_months(d(2020, 1, 15), d(2022, 1, 14)), 23);
        // A leap-day birthday is reached on Feb 28 in common years.
        assert_eq!(whole_years(d(2020, 2, 29), d(2021, 2, 28)), 1);
        assert_eq!(whole_years(d(2020, 2, 29), d(2021, 2, 27)), 0);
        assert_eq!(whole_years(d(2020, 2, 29), d(2021, 3, 1)), 1);
        assert_eq!(whole_years(d(2020, 1, 1), d(2019, 1, 1)), 0);
    }
}
