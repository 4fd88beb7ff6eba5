//! The engine: runs gather → evaluate → select series → forecast → vaccine
//! group forecast for one patient.

use crate::evaluate::{evaluate_series, SeriesState, TargetStatus};
use crate::forecast::forecast_series;
use crate::gather::{organize, AntigenDose, Organized};
use crate::patient::Patient;
use crate::result::{
    AntigenResult, DoseEvaluation, EvaluationStatus, ForecastResult, PatientSeries, SeriesStatus,
};
use crate::select_series::{is_relevant, select_best, Candidate};
use crate::supporting_data::{AntigenId, SupportingData, SupportingDataError};
use crate::vaccine_group_forecast::vaccine_group_forecast;
use chrono::NaiveDate;
use std::sync::Arc;

/// A CDSi engine over one supporting-data release. Cheap to clone, `Send +
/// Sync`: share one across threads.
#[derive(Clone, Debug)]
pub struct Engine {
    data: Arc<SupportingData>,
}

impl Engine {
    /// An engine over the supporting data bundled with this crate (CDSi 4.64).
    /// This parses the XML (tens of milliseconds): build one engine and clone
    /// it (clones share the parsed data).
    pub fn bundled() -> Result<Engine, SupportingDataError> {
        Ok(Engine {
            data: Arc::new(SupportingData::bundled()?),
        })
    }

    /// An engine over supporting data you parsed yourself (e.g. a newer
    /// release read with [`SupportingData::from_xml_texts`]).
    pub fn new(data: Arc<SupportingData>) -> Engine {
        Engine { data }
    }

    /// The supporting data in use.
    pub fn supporting_data(&self) -> &Arc<SupportingData> {
        &self.data
    }

    /// Evaluates the patient's history and forecasts every antigen and vaccine
    /// group as of `assessment_date`. Never panics on odd input: unknown CVX
    /// codes are listed in [`ForecastResult::unknown_vaccines`].
    pub fn forecast(&self, patient: &Patient, assessment_date: NaiveDate) -> ForecastResult {
        let data = &*self.data;
        let org = organize(data, patient, assessment_date);
        let antigens: Vec<AntigenResult> = (0..data.antigens.len())
            .map(|i| evaluate_antigen(data, &org, AntigenId(i as u16)))
            .collect();
        let vaccine_groups = data
            .vaccine_groups
            .iter()
            .map(|g| vaccine_group_forecast(g, &antigens))
            .collect();
        ForecastResult {
            assessment_date,
            antigens,
            vaccine_groups,
            unknown_vaccines: org.unknown_vaccines,
        }
    }
}

fn evaluate_antigen(data: &SupportingData, org: &Organized<'_>, id: AntigenId) -> AntigenResult {
    let antigen = data.antigen(id);
    let doses: &[AntigenDose<'_>] = &org.per_antigen[usize::from(id.0)];
    let relevant: Vec<usize> = antigen
        .series
        .iter()
        .enumerate()
        .filter(|(_, s)| is_relevant(s, org))
        .map(|(i, _)| i)
        .collect();
    if relevant.is_empty() {
        return AntigenResult {
            antigen: antigen.name.clone(),
            series: Vec::new(),
            best_series: None,
            status: SeriesStatus::NotRecommended,
            forecast: None,
        };
    }
    let mut states: Vec<(usize, SeriesState)> = Vec::with_capacity(relevant.len());
    let mut completed_groups: Vec<&str> = Vec::new();
    for &si in &relevant {
        let series = &antigen.series[si];
        let state = {
            let completed = |g: &str| completed_groups.contains(&g);
            evaluate_series(data, org, series, doses, &completed)
        };
        if crate::evaluate::target_definition(series, state.pos).is_none() {
            completed_groups.push(series.series_group.as_str());
        }
        states.push((si, state));
    }
    let mut out_series = Vec::with_capacity(states.len());
    let mut cands = Vec::with_capacity(states.len());
    for (si, state) in &states {
        let series = &antigen.series[*si];
        let completed = |g: &str| completed_groups.contains(&g);
        let (status, forecast) =
            forecast_series(data, org, antigen, series, doses, state, &completed);
        let valid: Vec<usize> = state
            .targets
            .iter()
            .filter_map(|t| match t {
                TargetStatus::Satisfied(j) => Some(*j),
                TargetStatus::Skipped => None,
            })
            .collect();
        // CDSi 8.4: a product series scores only if every dose given is one of
        // its products.
        let all_product = series.product_path
            && doses.iter().zip(&state.evals).all(|(d, e)| {
                e.status == EvaluationStatus::SubStandard
                    || series
                        .doses
                        .iter()
                        .any(|td| td.preferable_vaccines.iter().any(|v| v.cvx == d.cvx))
            });
        cands.push(Candidate {
            series,
            status,
            valid_doses: valid.len(),
            first_valid: valid.first().map(|&j| doses[j].date),
            remaining: series.doses.len().saturating_sub(state.pos),
            forecast_earliest: forecast.as_ref().map(|f| f.earliest),
            all_product,
        });
        out_series.push(PatientSeries {
            name: series.name.clone(),
            series_type: series.series_type,
            series_group: series.series_group.clone(),
            status,
            doses: doses
                .iter()
                .zip(&state.evals)
                .map(|(d, e)| DoseEvaluation {
                    dose_index: d.index,
                    date: d.date,
                    cvx: d.cvx,
                    status: e.status,
                    reasons: e.reasons.clone(),
                    target_dose: e.target_dose,
                })
                .collect(),
            valid_doses: valid.len(),
            forecast,
            score: 0,
        });
    }
    let mut scores = vec![0i32; cands.len()];
    let best = select_best(&cands, org, &mut scores);
    for (s, score) in out_series.iter_mut().zip(scores) {
        s.score = score;
    }
    let (status, forecast) = match best {
        Some(b) => (out_series[b].status, out_series[b].forecast.clone()),
        None => (SeriesStatus::NotRecommended, None),
    };
    AntigenResult {
        antigen: antigen.name.clone(),
        series: out_series,
        best_series: best,
        status,
        forecast,
    }
}
