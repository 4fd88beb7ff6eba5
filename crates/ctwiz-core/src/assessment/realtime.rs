//! Real-time reporting: how quickly each practice's administered doses reach the
//! registry. A dose counts as reported in real time when it is recorded within 48 hours
//! of administration; a practice reports in real time when at least 90% of its doses
//! do. Doses carry their administration day only, so administration is taken at noon of
//! that day (an error of at most 12 hours either way).

use crate::ids::ClinicPin;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde::Serialize;
use std::collections::BTreeMap;

/// Hours within which a dose is reported in real time.
pub const REAL_TIME_HOURS: f64 = 48.0;
/// Share of a practice's doses (percent) that must be reported in real time.
pub const REAL_TIME_SHARE: f64 = 90.0;

/// One administered dose as reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoseReport {
    pub clinic: ClinicPin,
    pub given: NaiveDate,
    pub recorded_at: NaiveDateTime,
    /// Reported by the practice's EHR over HL7 (else entered in the web application).
    pub via_hl7: bool,
}

impl DoseReport {
    /// Hours from administration (noon of its day) to recording, never negative.
    pub fn lag_hours(&self) -> f64 {
        let given = self
            .given
            .and_time(NaiveTime::from_hms_opt(12, 0, 0).expect("noon"));
        ((self.recorded_at - given).num_minutes() as f64 / 60.0).max(0.0)
    }
}

/// One practice's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PracticeRow {
    pub clinic: ClinicPin,
    pub doses: u64,
    pub within_48h: u64,
    /// Percent of doses reported within 48 hours.
    pub share: f64,
    pub median_lag_hours: f64,
    /// "HL7", "UI" or "HL7 + UI".
    pub method: &'static str,
    pub real_time: bool,
}

/// The report over a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RealtimeReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub rows: Vec<PracticeRow>,
    pub doses: u64,
    pub within_48h: u64,
    pub practices: usize,
    pub real_time_practices: usize,
}

impl RealtimeReport {
    /// Percent of practices reporting in real time.
    pub fn share_of_practices(&self) -> f64 {
        super::percent(self.real_time_practices as u64, self.practices as u64)
    }

    /// Percent of all doses reported within 48 hours.
    pub fn share_of_doses(&self) -> f64 {
        super::percent(self.within_48h, self.doses)
    }
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Builds the report from the doses given `from`..=`to`.
pub fn report(
    from: NaiveDate,
    to: NaiveDate,
    doses: impl IntoIterator<Item = DoseReport>,
) -> RealtimeReport {
    // clinic → (lags, hl7 count)
    let mut by: BTreeMap<ClinicPin, (Vec<f64>, u64)> = BTreeMap::new();
    for d in doses
        .into_iter()
        .filter(|d| d.given >= from && d.given <= to)
    {
        let e = by.entry(d.clinic.clone()).or_default();
        e.0.push(d.lag_hours());
        e.1 += u64::from(d.via_hl7);
    }
    let rows: Vec<PracticeRow> = by
        .into_iter()
        .map(|(clinic, (mut lags, hl7))| {
            let n = lags.len() as u64;
            let within = lags.iter().filter(|l| **l <= REAL_TIME_HOURS).count() as u64;
            let share = super::percent(within, n);
            PracticeRow {
                clinic,
                doses: n,
                within_48h: within,
                share,
                median_lag_hours: median(&mut lags),
                method: match (hl7, n - hl7) {
                    (_, 0) => "HL7",
                    (0, _) => "UI",
                    _ => "HL7 + UI",
                },
                real_time: share >= REAL_TIME_SHARE,
            }
        })
        .collect();
    RealtimeReport {
        from,
        to,
        doses: rows.iter().map(|r| r.doses).sum(),
        within_48h: rows.iter().map(|r| r.within_48h).sum(),
        practices: rows.len(),
        real_time_practices: rows.iter().filter(|r| r.real_time).count(),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dose(pin: &str, given: &str, recorded: &str, hl7: bool) -> DoseReport {
        DoseReport {
            clinic: ClinicPin::new(pin).unwrap(),
            given: given.parse().unwrap(),
            recorded_at: NaiveDateTime::parse_from_str(recorded, "%Y-%m-%d %H:%M").unwrap(),
            via_hl7: hl7,
        }
    }

    #[test]
    fn practices_report_in_real_time_when_nine_in_ten_doses_arrive_within_48_hours() {
        let mut doses = Vec::new();
        // A: 10 doses over HL7, nine the same evening, one five days late.
        for _ in 0..9 {
            doses.push(dose("CTA", "2026-11-02", "2026-11-02 18:00", true));
        }
        doses.push(dose("CTA", "2026-11-02", "2026-11-07 12:00", true));
        // B: entered by hand three days later.
        doses.push(dose("CTB", "2026-11-03", "2026-11-06 12:00", false));
        doses.push(dose("CTB", "2026-11-03", "2026-11-04 11:00", false));
        // Outside the period: not counted.
        doses.push(dose("CTB", "2026-10-01", "2026-10-01 13:00", true));
        let r = report(
            "2026-11-01".parse().unwrap(),
            "2026-11-30".parse().unwrap(),
            doses,
        );
        assert_eq!(
            (r.practices, r.real_time_practices, r.doses, r.within_48h),
            (2, 1, 12, 10)
        );
        let a = &r.rows[0];
        assert_eq!(
            (a.doses, a.within_48h, a.method, a.real_time),
            (10, 9, "HL7", true)
        );
        assert_eq!(a.median_lag_hours, 6.0);
        let b = &r.rows[1];
        assert_eq!((b.share, b.method, b.real_time), (50.0, "UI", false));
        assert_eq!(b.median_lag_hours, (72.0 + 23.0) / 2.0);
        assert_eq!(r.share_of_practices(), 50.0);
    }
}
