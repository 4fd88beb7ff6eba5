//! WebAssembly entry points (`wasm` feature), for a page that forecasts in
//! the browser with no server (`docs/forecast-demo/`). A plain C ABI over
//! linear memory, so the page needs no generated glue and the build needs no
//! extra tool: `cargo rustc -p ctwiz-forecast --lib --release --target
//! wasm32-unknown-unknown --features wasm --crate-type cdylib`.
//!
//! The page (1) asks for an input buffer with `ctwiz_input(len)` and writes
//! the request's UTF-8 JSON there — `{"dob": "2025-01-15", "sex": "F",
//! "doses": [{"date": "2025-03-15", "cvx": "20"}], "observations": [],
//! "as_of": "2025-06-01"}` (the [`Patient`] JSON plus `as_of`) —, (2) calls
//! `ctwiz_forecast()`, which returns the length of the answer, and (3) reads
//! that many bytes at `ctwiz_output()`: `{"ok": <ForecastResult JSON>}` or
//! `{"error": "<message>"}`. No `unsafe` block: the exports only hand out
//! pointers to buffers the module owns.

use crate::{Engine, Patient};
use chrono::NaiveDate;
use std::cell::RefCell;

/// A forecast request: the patient and the assessment date.
#[derive(serde::Deserialize)]
struct Request {
    #[serde(flatten)]
    patient: Patient,
    as_of: NaiveDate,
}

thread_local! {
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Makes the input buffer `len` bytes long and returns where it starts (the
/// caller writes the request JSON there before calling `ctwiz_forecast`).
#[no_mangle]
pub extern "C" fn ctwiz_input(len: usize) -> *mut u8 {
    INPUT.with(|b| {
        let mut b = b.borrow_mut();
        b.clear();
        b.resize(len, 0);
        b.as_mut_ptr()
    })
}

/// Where the last answer starts.
#[no_mangle]
pub extern "C" fn ctwiz_output() -> *const u8 {
    OUTPUT.with(|b| b.borrow().as_ptr())
}

/// Forecasts the request in the input buffer; returns the answer's length.
#[no_mangle]
pub extern "C" fn ctwiz_forecast() -> usize {
    let answer = INPUT.with(|input| answer(&input.borrow()));
    OUTPUT.with(|out| {
        let mut out = out.borrow_mut();
        *out = answer.into_bytes();
        out.len()
    })
}

/// The JSON answer to one request.
fn answer(input: &[u8]) -> String {
    let error = |message: String| serde_json::json!({ "error": message }).to_string();
    let request: Request = match serde_json::from_slice(input) {
        Ok(r) => r,
        Err(e) => return error(format!("bad request: {e}")),
    };
    let result = ENGINE.with(|engine| {
        let mut engine = engine.borrow_mut();
        if engine.is_none() {
            *engine = Some(Engine::bundled().map_err(|e| e.to_string())?);
        }
        let engine = engine.as_ref().ok_or("no engine")?;
        Ok::<_, String>(engine.forecast(&request.patient, request.as_of))
    });
    match result {
        Ok(r) => serde_json::json!({ "ok": r }).to_string(),
        Err(e) => error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_gets_a_forecast_and_bad_input_an_error() {
        let ok = answer(
            br#"{"dob":"2025-01-15","sex":"Female","doses":[{"date":"2025-03-15","cvx":"20"}],"as_of":"2025-06-01"}"#,
        );
        let v: serde_json::Value = serde_json::from_str(&ok).expect("JSON");
        let groups = v["ok"]["vaccine_groups"].as_array().expect("groups");
        assert!(groups
            .iter()
            .any(|g| g["vaccine_group"] == "DTaP/Tdap/Td" && g["forecast"]["dose_number"] == 2));
        let bad = answer(br#"{"dob":"15/01/2025"}"#);
        assert!(bad.contains("\"error\":\"bad request"), "{bad}");
    }

    #[test]
    fn the_exports_pass_bytes_through_the_buffers() {
        let request = br#"{"dob":"2025-01-15","sex":"Male","as_of":"2025-06-01"}"#;
        let at = ctwiz_input(request.len());
        INPUT.with(|b| {
            assert_eq!(b.borrow().as_ptr(), at as *const u8);
            b.borrow_mut().copy_from_slice(request);
        });
        let len = ctwiz_forecast();
        let text = OUTPUT.with(|b| String::from_utf8(b.borrow().clone()).expect("UTF-8"));
        assert_eq!(text.len(), len);
        assert_eq!(ctwiz_output(), OUTPUT.with(|b| b.borrow().as_ptr()));
        assert!(text.starts_with("{\"ok\":"), "{text}");
    }
}
