//! The Python binding (`python` feature; built into a wheel with maturin,
//! see `pyproject.toml`): `ctwiz_forecast.forecast(dob=..., doses=[(date,
//! cvx)], as_of=...)` returns the result as plain dicts and lists (the same
//! shape as the JSON of [`ForecastResult`]).
//!
//! ```python
//! import ctwiz_forecast
//! r = ctwiz_forecast.forecast(dob="2025-01-15", doses=[("2025-03-15", "20")], as_of="2025-06-01")
//! next(g for g in r["vaccine_groups"] if g["vaccine_group"] == "DTaP/Tdap/Td")["forecast"]
//! ```

use crate::{AdministeredDose, Engine, ForecastResult, Observation, Patient, Sex};
use chrono::NaiveDate;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use std::sync::OnceLock;

/// The engine over the bundled supporting data, built on first use.
fn engine() -> PyResult<&'static Engine> {
    static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| Engine::bundled().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| PyRuntimeError::new_err(e.clone()))
}

/// A date argument: a `"YYYY-MM-DD"` string or anything with `isoformat()`
/// (a `datetime.date`).
fn date_arg(what: &str, value: &Bound<'_, PyAny>) -> PyResult<NaiveDate> {
    let text: String = match value.extract::<String>() {
        Ok(s) => s,
        Err(_) => value
            .call_method0("isoformat")
            .and_then(|v| v.extract::<String>())
            .map_err(|_| {
                PyValueError::new_err(format!("{what}: expected a YYYY-MM-DD string or a date"))
            })?,
    };
    let day = text.get(..10).unwrap_or(&text);
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map_err(|_| PyValueError::new_err(format!("{what}: {text:?} is not a YYYY-MM-DD date")))
}

fn sex_arg(text: &str) -> PyResult<Sex> {
    match text.trim().to_ascii_uppercase().as_str() {
        "F" | "FEMALE" => Ok(Sex::Female),
        "M" | "MALE" => Ok(Sex::Male),
        "U" | "UNKNOWN" | "" => Ok(Sex::Unknown),
        other => Err(PyValueError::new_err(format!(
            "sex must be \"F\", \"M\" or \"U\", not {other:?}"
        ))),
    }
}

/// The result as Python dicts and lists: serialized to JSON text here and
/// read by Python's own (C) `json.loads`, which builds the objects much
/// faster than one call per value through the binding would.
fn result_to_py(py: Python<'_>, result: &ForecastResult) -> PyResult<Py<PyAny>> {
    static LOADS: OnceLock<Py<PyAny>> = OnceLock::new();
    let json = serde_json::to_string(result)
        .map_err(|e| PyRuntimeError::new_err(format!("result to JSON: {e}")))?;
    let loads = match LOADS.get() {
        Some(f) => f,
        None => {
            let f = py.import("json")?.getattr("loads")?.unbind();
            LOADS.get_or_init(|| f)
        }
    };
    loads.call1(py, (json,))
}

/// Builds the engine input from the Python arguments and forecasts.
fn run(
    py: Python<'_>,
    dob: &Bound<'_, PyAny>,
    doses: Vec<Bound<'_, PyAny>>,
    as_of: Option<&Bound<'_, PyAny>>,
    sex: &str,
    observations: Vec<String>,
) -> PyResult<ForecastResult> {
    let mut patient = Patient::new(date_arg("dob", dob)?, sex_arg(sex)?);
    for (i, dose) in doses.iter().enumerate() {
        let what = format!("doses[{i}]");
        let parts: Vec<Bound<'_, PyAny>> = dose.extract().map_err(|_| {
            PyValueError::new_err(format!("{what}: expected a (date, cvx[, mvx]) tuple"))
        })?;
        let (date, cvx) = match parts.as_slice() {
            [d, c] | [d, c, _] => (date_arg(&what, d)?, c.str()?.to_string()),
            _ => {
                return Err(PyValueError::new_err(format!(
                    "{what}: expected a (date, cvx[, mvx]) tuple"
                )))
            }
        };
        let mut dose = AdministeredDose::new(date, cvx);
        if let Some(mvx) = parts.get(2).filter(|m| !m.is_none()) {
            dose = dose.with_mvx(mvx.str()?.to_string());
        }
        patient.doses.push(dose);
    }
    patient.observations = observations.into_iter().map(Observation::new).collect();
    let as_of = match as_of {
        Some(d) => date_arg("as_of", d)?,
        None => {
            let today = py
                .import("datetime")?
                .getattr("date")?
                .call_method0("today")?;
            date_arg("as_of", &today)?
        }
    };
    let engine = engine()?;
    Ok(py.allow_threads(|| engine.forecast(&patient, as_of)))
}

/// Evaluates a history and forecasts every antigen and vaccine group.
///
/// `dob` and `as_of` are `"YYYY-MM-DD"` strings or dates (`as_of` defaults
/// to today); `doses` is a list of `(date, cvx)` or `(date, cvx, mvx)`
/// tuples; `sex` is `"F"`, `"M"` or `"U"`; `observations` are CDSi
/// observation codes (e.g. `"160"`). Returns a dict with `assessment_date`,
/// `antigens`, `vaccine_groups` and `unknown_vaccines` (indices of doses
/// whose CVX the supporting data does not know) — or, with `as_json=True`,
/// that result as JSON text (to pass on without building Python objects).
#[pyfunction]
#[pyo3(signature = (dob, doses = Vec::new(), as_of = None, sex = "U", observations = Vec::new(), as_json = false))]
fn forecast(
    py: Python<'_>,
    dob: &Bound<'_, PyAny>,
    doses: Vec<Bound<'_, PyAny>>,
    as_of: Option<&Bound<'_, PyAny>>,
    sex: &str,
    observations: Vec<String>,
    as_json: bool,
) -> PyResult<Py<PyAny>> {
    let result = run(py, dob, doses, as_of, sex, observations)?;
    if as_json {
        let json = serde_json::to_string(&result)
            .map_err(|e| PyRuntimeError::new_err(format!("result to JSON: {e}")))?;
        return Ok(json.into_pyobject(py)?.into_any().unbind());
    }
    result_to_py(py, &result)
}

/// The CDC supporting-data release bundled with the engine (e.g. `"4.64"`).
#[pyfunction]
fn supporting_data_release() -> &'static str {
    crate::bundled::BUNDLED_RELEASE
}

/// The `ctwiz_forecast` Python module.
#[pymodule]
fn ctwiz_forecast(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(forecast, m)?)?;
    m.add_function(wrap_pyfunction!(supporting_data_release, m)?)?;
    Ok(())
}
