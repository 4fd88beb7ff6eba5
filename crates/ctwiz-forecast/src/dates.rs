//! CDSi date arithmetic: ages and intervals such as `"6 months - 4 days"`.
//!
//! The Logic Specification's date-calculation business rules (CALCDT-1..5):
//! adding years changes only the year, adding months changes only the month
//! (and year), weeks are converted to 7 days and added as days, and a
//! resulting date that does not exist (e.g. 31 September) moves to the first
//! day of the following month. Durations are parsed once, when the supporting
//! data is loaded, so the hot path only adds integers to dates.

use chrono::{Datelike, NaiveDate};
use std::cell::Cell;
use std::fmt;

/// A parsed CDSi duration: a number of months (years are 12 months) followed
/// by a number of days (weeks are 7 days), either of which may be negative.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CdsiDuration {
    /// Total months (years × 12 + months).
    pub months: i32,
    /// Total days (weeks × 7 + days).
    pub days: i32,
}

/// Error for a duration text that is not of the form `N unit [(+|-) N unit]...`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a CDSi duration: {0:?}")]
pub struct DurationParseError(pub String);

impl CdsiDuration {
    /// The zero duration.
    pub const ZERO: CdsiDuration = CdsiDuration { months: 0, days: 0 };

    /// A duration of whole days.
    pub const fn days(days: i32) -> Self {
        CdsiDuration { months: 0, days }
    }

    /// Parses texts like `"6 weeks - 4 days"`, `"18 years"`, `"1 year - 4 days"`,
    /// `"16 years - 4 months"` or `"7 months + 1 day"`.
    pub fn parse(text: &str) -> Result<Self, DurationParseError> {
        let err = || DurationParseError(text.to_string());
        let mut out = CdsiDuration::ZERO;
        let mut sign = 1i32;
        let mut tokens = text.split_whitespace().peekable();
        let mut saw_term = false;
        while let Some(tok) = tokens.next() {
            match tok {
                "+" => {
                    sign = 1;
                    continue;
                }
                "-" => {
                    sign = -1;
                    continue;
                }
                _ => {}
            }
            let n: i32 = tok.parse().map_err(|_| err())?;
            let unit = tokens.next().unwrap_or("days");
            let unit = unit.trim_end_matches(',').to_ascii_lowercase();
            let n = n.checked_mul(sign).ok_or_else(err)?;
            match unit.trim_end_matches('s') {
                "year" => out.months = out.months.saturating_add(n.saturating_mul(12)),
                "month" => out.months = out.months.saturating_add(n),
                "week" => out.days = out.days.saturating_add(n.saturating_mul(7)),
                "day" => out.days = out.days.saturating_add(n),
                _ => return Err(err()),
            }
            saw_term = true;
            sign = 1;
        }
        if saw_term {
            Ok(out)
        } else {
            Err(err())
        }
    }

    /// Adds this duration to `date` per CALCDT-1..5. Saturates at the calendar
    /// limits rather than failing, so that absurd inputs cannot panic.
    pub fn add_to(self, date: NaiveDate) -> NaiveDate {
        let date = if self.months != 0 {
            add_months(date, self.months)
        } else {
            date
        };
        if self.days != 0 {
            add_days(date, self.days)
        } else {
            date
        }
    }
}

impl fmt::Display for CdsiDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} months {:+} days", self.months, self.days)
    }
}

/// Date sums, `base + duration`, remembered (one table per thread, shared
/// by its forecasts: a sum depends only on its base and duration): one forecast asks
/// for the same few hundred sums over and over (every series of an antigen
/// asks for the same ages from the date of birth, every interval check for the
/// same dose date plus the same interval), about a thousand times for a
/// child with a full history. A direct-mapped table: a sum whose slot holds
/// another is computed again and takes the slot.
pub(crate) struct DateSums {
    slots: [Cell<DateSum>; 1 << DateSums::BITS],
    /// The patient's ages as dates (`dob + age`), for the forecast under
    /// way only: a slot counts when it carries the forecast's generation.
    /// Every rule of every series asks for ages (about 700 a forecast for a
    /// child), all from the one date of birth, so they are keyed by the age
    /// alone.
    ages: [Cell<AgeSum>; 1 << DateSums::AGE_BITS],
    dob: Cell<NaiveDate>,
    generation: Cell<u32>,
}

#[derive(Clone, Copy)]
struct AgeSum {
    generation: u32,
    age: CdsiDuration,
    sum: NaiveDate,
}

#[derive(Clone, Copy)]
struct DateSum {
    base: NaiveDate,
    duration: CdsiDuration,
    sum: NaiveDate,
}

impl DateSums {
    /// log2 of the number of slots (512 × 16 bytes).
    const BITS: u32 = 9;

    /// log2 of the number of age slots (256 × 16 bytes).
    const AGE_BITS: u32 = 8;

    pub(crate) const fn new() -> Self {
        // `MIN + 0 = MIN`: a true sum, so an unused slot needs no marker.
        const EMPTY: DateSum = DateSum {
            base: NaiveDate::MIN,
            duration: CdsiDuration::ZERO,
            sum: NaiveDate::MIN,
        };
        // Generation 0 is never a forecast's.
        const NO_AGE: AgeSum = AgeSum {
            generation: 0,
            age: CdsiDuration::ZERO,
            sum: NaiveDate::MIN,
        };
        DateSums {
            slots: [const { Cell::new(EMPTY) }; 1 << Self::BITS],
            ages: [const { Cell::new(NO_AGE) }; 1 << Self::AGE_BITS],
            dob: Cell::new(NaiveDate::MIN),
            generation: Cell::new(0),
        }
    }

    /// Starts a forecast for a patient born on `dob`: the ages remembered
    /// for the last one no longer count.
    pub(crate) fn begin(&self, dob: NaiveDate) {
        let generation = self.generation.get().wrapping_add(1);
        if generation == 0 {
            // After 2^32 forecasts: forget every age, then start again at 1.
            for slot in &self.ages {
                slot.set(AgeSum {
                    generation: 0,
                    ..slot.get()
                });
            }
            self.generation.set(1);
        } else {
            self.generation.set(generation);
        }
        self.dob.set(dob);
    }

    /// The date the patient of the forecast under way ([`DateSums::begin`])
    /// reaches `age`: `age.add_to(dob)`.
    #[inline]
    pub(crate) fn age(&self, age: CdsiDuration) -> NaiveDate {
        let key = (age.months as u32).wrapping_mul(0x9E37_79B1)
            ^ (age.days as u32).wrapping_mul(0x85EB_CA77);
        let slot = &self.ages[(key >> (32 - Self::AGE_BITS)) as usize];
        let s = slot.get();
        let generation = self.generation.get();
        if s.generation == generation && s.age == age {
            return s.sum;
        }
        let sum = age.add_to(self.dob.get());
        slot.set(AgeSum {
            generation,
            age,
            sum,
        });
        sum
    }

    /// `duration.add_to(base)`.
    #[inline]
    pub(crate) fn add(&self, duration: CdsiDuration, base: NaiveDate) -> NaiveDate {
        let key = ((base.year() as u32) << 9 | base.ordinal()).wrapping_mul(0x9E37_79B1)
            ^ (duration.months as u32).wrapping_mul(0x85EB_CA77)
            ^ (duration.days as u32).wrapping_mul(0xC2B2_AE3D);
        let slot = &self.slots[(key >> (32 - Self::BITS)) as usize];
        let s = slot.get();
        if s.base == base && s.duration == duration {
            return s.sum;
        }
        let sum = duration.add_to(base);
        slot.set(DateSum {
            base,
            duration,
            sum,
        });
        sum
    }
}

/// Adds whole days, saturating at chrono's range.
pub fn add_days(date: NaiveDate, days: i32) -> NaiveDate {
    // The usual case: a date of the same year, its day of the year moved.
    let ordinal = i64::from(date.ordinal()) + i64::from(days);
    if (1..=365).contains(&ordinal) {
        if let Some(moved) = date.with_ordinal(ordinal as u32) {
            return moved;
        }
    }
    let moved = if days >= 0 {
        date.checked_add_days(chrono::Days::new(u64::from(days.unsigned_abs())))
    } else {
        date.checked_sub_days(chrono::Days::new(u64::from(days.unsigned_abs())))
    };
    moved.unwrap_or(if days < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    })
}

/// The day before `date` (`add_days(date, -1)`, saturating at the calendar's
/// start), the cheap way: past-due and latest dates are a day before a limit.
#[inline]
pub(crate) fn day_before(date: NaiveDate) -> NaiveDate {
    date.pred_opt().unwrap_or(NaiveDate::MIN)
}

/// Days before each month (0-based) in a common year.
const DAYS_BEFORE_MONTH: [u16; 13] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

/// Adds months keeping the day of month; a day that does not exist in the
/// target month rolls to the first of the next month (CDSi CALCDT-5).
/// Worked out as the day of the target year (no month and day validation
/// round trip through chrono): December has 31 days, so the roll never
/// leaves the year.
pub fn add_months(date: NaiveDate, months: i32) -> NaiveDate {
    let saturated = if months < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    };
    // Months from January of the date's year (chrono's years fit an i32
    // twelve times over).
    let Some(total) = (date.month0() as i32).checked_add(months) else {
        return saturated;
    };
    let (years, month0) = (total.div_euclid(12), total.rem_euclid(12) as usize);
    let year = date.year() + years;
    let leap = if years == 0 {
        date.leap_year()
    } else {
        year & 3 == 0 && (year % 100 != 0 || year % 400 == 0)
    };
    // Days before `m` (0-based) in `year`.
    let before = |m: usize| u32::from(DAYS_BEFORE_MONTH[m]) + u32::from(leap && m >= 2);
    let start = before(month0);
    let day = date.day();
    let ordinal = if start + day <= before(month0 + 1) {
        start + day
    } else {
        // CALCDT-5: the day does not exist in that month → 1st of next month.
        before(month0 + 1) + 1
    };
    if years == 0 {
        date.with_ordinal(ordinal)
    } else {
        NaiveDate::from_yo_opt(year, ordinal)
    }
    .unwrap_or(saturated)
}

#[cfg(test)]
/// `add_months` as chrono's month and day validation works it out (the
/// reference the day-of-year version is checked against).
fn add_months_by_ymd(date: NaiveDate, months: i32) -> NaiveDate {
    let total = i64::from(date.year()) * 12 + i64::from(date.month0()) + i64::from(months);
    let year = total.div_euclid(12);
    let month0 = total.rem_euclid(12) as u32;
    let Ok(year) = i32::try_from(year) else {
        return if months < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        };
    };
    match NaiveDate::from_ymd_opt(year, month0 + 1, date.day()) {
        Some(d) => d,
        None => {
            let (ny, nm) = if month0 == 11 {
                (year.saturating_add(1), 1)
            } else {
                (year, month0 + 2)
            };
            NaiveDate::from_ymd_opt(ny, nm, 1).unwrap_or(if months < 0 {
                NaiveDate::MIN
            } else {
                NaiveDate::MAX
            })
        }
    }
}

/// Parses the supporting data's `YYYYMMDD` dates and the `MM/DD/YYYY` immunity
/// birth dates.
pub fn parse_compact_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        NaiveDate::parse_from_str(t, "%Y%m%d").ok()
    } else {
        NaiveDate::parse_from_str(t, "%m/%d/%Y")
            .ok()
            .or_else(|| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    #[test]
    fn parses_cdsi_texts() {
        assert_eq!(
            CdsiDuration::parse("6 weeks - 4 days").unwrap(),
            CdsiDuration {
                months: 0,
                days: 38
            }
        );
        assert_eq!(
            CdsiDuration::parse("16 years - 4 months").unwrap(),
            CdsiDuration {
                months: 188,
                days: 0
            }
        );
        assert_eq!(
            CdsiDuration::parse("1 year - 4 days").unwrap(),
            CdsiDuration {
                months: 12,
                days: -4
            }
        );
        assert!(CdsiDuration::parse("soon").is_err());
        assert!(CdsiDuration::parse("").is_err());
    }

    #[test]
    fn calcdt_rules() {
        // CALCDT-1, -2, -3 examples from the spec's quick guide.
        assert_eq!(
            CdsiDuration::parse("3 years")
                .unwrap()
                .add_to(d(2000, 1, 1)),
            d(2003, 1, 1)
        );
        assert_eq!(
            CdsiDuration::parse("3 months")
                .unwrap()
                .add_to(d(2000, 1, 1)),
            d(2000, 4, 1)
        );
        assert_eq!(
            CdsiDuration::parse("5 weeks")
                .unwrap()
                .add_to(d(2000, 2, 1)),
            d(2000, 3, 7)
        );
        // CALCDT-5: 31 July + 2 months = "31 September" → 1 October.
        assert_eq!(
            CdsiDuration::parse("2 months")
                .unwrap()
                .add_to(d(2000, 7, 31)),
            d(2000, 10, 1)
        );
        // Minimum age "12 months - 4 days" from 8/6/2008 is 8/2/2009.
        assert_eq!(
            CdsiDuration::parse("12 months - 4 days")
                .unwrap()
                .add_to(d(2008, 8, 6)),
            d(2009, 8, 2)
        );
    }

    #[test]
    fn remembered_sums_are_the_sums() {
        let sums = DateSums::new();
        let durations = [
            "4 weeks",
            "6 months - 4 days",
            "1 year",
            "0 days",
            "18 years",
        ]
        .map(|t| CdsiDuration::parse(t).unwrap());
        for round in 0..3 {
            for day in 0..800 {
                let base = add_days(d(2019, 1, 1), day * 7 + round);
                for dur in durations {
                    assert_eq!(sums.add(dur, base), dur.add_to(base), "{base} + {dur}");
                }
            }
        }
        assert_eq!(sums.add(CdsiDuration::ZERO, NaiveDate::MIN), NaiveDate::MIN);
    }

    #[test]
    fn remembered_ages_are_the_ages_of_the_patient_under_way() {
        let sums = DateSums::new();
        let ages = [
            "6 weeks - 4 days",
            "2 months",
            "12 months - 4 days",
            "18 years",
            "0 days",
        ]
        .map(|t| CdsiDuration::parse(t).unwrap());
        // Patients one day apart: each forecast sees its own patient's ages,
        // never the last one's.
        for patient in 0..600 {
            let dob = add_days(d(2010, 1, 31), patient);
            sums.begin(dob);
            for _ in 0..2 {
                for age in ages {
                    assert_eq!(sums.age(age), age.add_to(dob), "{dob} + {age}");
                }
            }
        }
        // A generation that wraps round forgets every remembered age.
        sums.generation.set(u32::MAX);
        sums.begin(d(2020, 2, 29));
        assert_eq!(sums.generation.get(), 1);
        assert_eq!(sums.age(ages[3]), d(2038, 3, 1));
    }

    #[test]
    fn the_day_before_is_one_day_back() {
        for day in 0..1500 {
            let date = add_days(d(2019, 1, 1), day);
            assert_eq!(day_before(date), add_days(date, -1), "{date}");
        }
        assert_eq!(day_before(NaiveDate::MIN), add_days(NaiveDate::MIN, -1));
    }

    #[test]
    fn months_by_day_of_year_are_months_by_month_and_day() {
        // Every day of 1896-1904, 1996-2004 and 2096-2104 (leap and common
        // years, centuries with and without a 29 February) plus up to 40
        // years of months either way.
        for start in [d(1896, 1, 1), d(1996, 1, 1), d(2096, 1, 1)] {
            for k in 0..9 * 366 {
                let date = add_days(start, k);
                for months in -480..=480 {
                    assert_eq!(
                        add_months(date, months),
                        add_months_by_ymd(date, months),
                        "{date} + {months} months"
                    );
                }
            }
        }
        for date in [NaiveDate::MIN, NaiveDate::MAX, d(2000, 1, 31)] {
            for months in [i32::MIN, -1_000_000_000, -1, 0, 1, 1_000_000_000, i32::MAX] {
                assert_eq!(add_months(date, months), add_months_by_ymd(date, months));
            }
        }
    }

    #[test]
    fn days_by_day_of_year_are_chronos_days() {
        let chrono_days = |date: NaiveDate, days: i32| {
            let moved = if days >= 0 {
                date.checked_add_days(chrono::Days::new(u64::from(days.unsigned_abs())))
            } else {
                date.checked_sub_days(chrono::Days::new(u64::from(days.unsigned_abs())))
            };
            moved.unwrap_or(if days < 0 {
                NaiveDate::MIN
            } else {
                NaiveDate::MAX
            })
        };
        for k in 0..3000 {
            let date = chrono_days(d(1999, 1, 1), k);
            for days in -800..=800 {
                assert_eq!(
                    add_days(date, days),
                    chrono_days(date, days),
                    "{date} + {days}"
                );
            }
        }
        for date in [NaiveDate::MIN, NaiveDate::MAX, d(2000, 12, 31)] {
            for days in [i32::MIN, -1, 0, 1, 366, i32::MAX] {
                assert_eq!(add_days(date, days), chrono_days(date, days));
            }
        }
    }

    #[test]
    fn saturates_instead_of_panicking() {
        let far = CdsiDuration {
            months: i32::MAX,
            days: i32::MAX,
        };
        let _ = far.add_to(d(2000, 1, 1));
        let _ = CdsiDuration {
            months: i32::MIN,
            days: i32::MIN,
        }
        .add_to(d(2000, 1, 1));
    }
}
