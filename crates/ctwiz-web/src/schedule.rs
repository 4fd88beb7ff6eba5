//! The server's schedule: this month's compliancy list from the first of the month, and
//! the year's two-year-old clean-up from its configured day, each sent once
//! (`usecase::distributions::run_if_due`; a restart or a second server process sending at
//! the same moment sends nothing twice).

use crate::state::AppState;
use chrono::{Datelike, NaiveDate};
use ctwiz_core::actor::Channel;
use ctwiz_core::assessment::coverage::Context;
use ctwiz_core::assessment::distribution::DistributionKind;
use ctwiz_store::usecase::distributions;
use std::time::Duration;

/// When the scheduled distributions run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Month and day of the yearly clean-up.
    pub cleanup_day: (u32, u32),
    /// How often the schedule is checked.
    pub every: Duration,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            cleanup_day: (10, 1),
            every: Duration::from_secs(3600),
        }
    }
}

impl Schedule {
    /// Parses the clean-up day as `MM-DD`.
    pub fn with_cleanup_day(mut self, mm_dd: &str) -> Result<Self, String> {
        let d = NaiveDate::parse_from_str(&format!("2000-{mm_dd}"), "%Y-%m-%d")
            .map_err(|_| format!("{mm_dd:?} is not a day of the year (use MM-DD, e.g. 10-01)"))?;
        self.cleanup_day = (d.month(), d.day());
        Ok(self)
    }

    /// What is due on `today` (this month's compliancy always; the clean-up from its day).
    pub fn due(&self, today: NaiveDate) -> Vec<DistributionKind> {
        let mut out = vec![DistributionKind::Compliancy];
        if (today.month(), today.day()) >= self.cleanup_day {
            out.push(DistributionKind::Cleanup);
        }
        out
    }
}

/// Runs the schedule until the process ends.
pub async fn run(state: AppState, schedule: Schedule) {
    let actor = ctwiz_store::usecase::actors::local_operator("scheduler", Channel::Web);
    loop {
        let now = state.now();
        for kind in schedule.due(now.date()) {
            let (st, actor) = (state.clone(), actor.clone());
            let r = state
                .db(move |s| {
                    let ctx = Context {
                        engine: st.engine(),
                        codes: st.codes(),
                    };
                    Ok(distributions::run_if_due(s, &actor, &ctx, kind, now)?)
                })
                .await;
            match r {
                Ok(Some(sum)) => tracing::info!(
                    "distributed {} {} to {} of {} practice(s)",
                    kind.key(),
                    sum.period,
                    sum.sent,
                    sum.practices
                ),
                Ok(None) => {}
                Err(e) => tracing::error!("scheduled {} distribution: {e}", kind.key()),
            }
        }
        tokio::time::sleep(schedule.every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cleanup_waits_for_its_day() {
        let s = Schedule::default().with_cleanup_day("10-01").unwrap();
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(s.due(d("2026-09-30")), vec![DistributionKind::Compliancy]);
        assert_eq!(
            s.due(d("2026-10-01")),
            vec![DistributionKind::Compliancy, DistributionKind::Cleanup]
        );
        assert!(Schedule::default().with_cleanup_day("13-01").is_err());
    }
}
