"""The Python module against the Rust engine and the CDC test cases.

Run from a virtualenv where the wheel is installed (see .ci/run):
    pytest crates/ctwiz-forecast/python/tests
Environment:
    CTWIZ_BIN      the `ctwiz` binary (its `forecast --json` is the Rust result
                   compared with); default target/debug/ctwiz of the workspace.
    CTWIZ_SHARED   the shared reference data; default ../shared of the workspace.
Under CI (CI set), a missing binary or test-case file is a failure, not a skip.
"""

import datetime
import json
import os
import pathlib
import subprocess

import pytest

import ctwiz_forecast

WORKSPACE = pathlib.Path(__file__).resolve().parents[4]
CTWIZ_BIN = pathlib.Path(os.environ.get("CTWIZ_BIN", WORKSPACE / "target" / "debug" / "ctwiz"))
SHARED = pathlib.Path(os.environ.get("CTWIZ_SHARED", WORKSPACE.parent / "shared"))
HEALTHY = SHARED / "cdsi" / "testcases" / "healthy-v4.45.json"

# The CDC test sets' vaccine-group spellings that differ from the CDSi names.
GROUPS = {
    "DTAP": "DTaP/Tdap/Td", "TDAP": "DTaP/Tdap/Td", "TD": "DTaP/Tdap/Td",
    "POL": "Polio", "IPV": "Polio", "HIB": "Hib", "PCV": "Pneumococcal",
    "HEPB": "HepB", "HEPA": "HepA", "VAR": "Varicella", "ROTA": "Rotavirus",
    "MCV": "Meningococcal", "MENACWY": "Meningococcal", "MENB": "Meningococcal B",
    "ZOSTER": "Zoster", "FLU": "Influenza", "INFLUENZA": "Influenza", "MMR": "MMR",
    "HPV": "HPV",
}


def need(path: pathlib.Path, what: str) -> None:
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{what} missing under CI: {path}")
        pytest.skip(f"{what} not found: {path}")


def sample_cases(step: int = 20):
    need(HEALTHY, "CDC healthy test cases")
    cases = json.loads(HEALTHY.read_text())["cases"]
    return cases[::step]


def py_forecast(case):
    return ctwiz_forecast.forecast(
        dob=case["dob"],
        doses=[(d["date_administered"], d["cvx"], d.get("mvx")) for d in case["doses"]],
        as_of=case["assessment_date"],
        sex=case["sex"],
    )


def group(result, name):
    return next(g for g in result["vaccine_groups"] if g["vaccine_group"].lower() == name.lower())


def test_the_issue_example_returns_plain_dicts_and_lists():
    r = ctwiz_forecast.forecast(dob="2025-01-15", doses=[("2025-03-15", "20")], as_of="2025-06-01")
    assert isinstance(r, dict) and isinstance(r["vaccine_groups"], list)
    assert r["assessment_date"] == "2025-06-01"
    dtap = group(r, "DTaP/Tdap/Td")
    assert dtap["status"] == "NotComplete"
    assert dtap["forecast"]["dose_number"] == 2
    assert dtap["forecast"]["earliest"] == "2025-04-12"  # 4 weeks after dose 1
    diphtheria = next(a for a in r["antigens"] if a["antigen"] == "Diphtheria")
    best = diphtheria["series"][diphtheria["best_series"]]
    assert best["doses"][0]["status"] == "Valid"


def test_dates_may_be_date_objects_and_bad_input_is_a_clear_error():
    r = ctwiz_forecast.forecast(dob=datetime.date(2025, 1, 15), doses=[(datetime.date(2025, 3, 15), 20)],
                                as_of=datetime.date(2025, 6, 1))
    assert group(r, "DTaP/Tdap/Td")["forecast"]["dose_number"] == 2
    with pytest.raises(ValueError, match="dob"):
        ctwiz_forecast.forecast(dob="15/01/2025", as_of="2025-06-01")
    with pytest.raises(ValueError, match=r"doses\[0\]"):
        ctwiz_forecast.forecast(dob="2025-01-15", doses=["2025-03-15"], as_of="2025-06-01")
    with pytest.raises(ValueError, match="sex"):
        ctwiz_forecast.forecast(dob="2025-01-15", sex="X", as_of="2025-06-01")
    unknown = ctwiz_forecast.forecast(dob="2025-01-15", doses=[("2025-03-15", "999")], as_of="2025-06-01")
    assert unknown["unknown_vaccines"] == [0]


def test_as_json_is_the_same_result_as_text():
    kw = dict(dob="2025-01-15", doses=[("2025-03-15", "20")], as_of="2025-06-01")
    assert json.loads(ctwiz_forecast.forecast(**kw, as_json=True)) == ctwiz_forecast.forecast(**kw)


def test_as_of_defaults_to_today():
    r = ctwiz_forecast.forecast(dob="2020-01-01")
    assert r["assessment_date"] == datetime.date.today().isoformat()


def test_a_sample_of_cdc_cases_matches_the_rust_engine_exactly():
    need(CTWIZ_BIN, "the ctwiz binary (cargo build -p ctwiz-cli)")
    cases = sample_cases()
    assert len(cases) >= 40
    for case in cases:
        args = [str(CTWIZ_BIN), "forecast", "--json", "--dob", case["dob"], "--sex", case["sex"],
                "--as-of", case["assessment_date"]]
        for d in case["doses"]:
            mvx = d.get("mvx")
            args += ["--dose", f'{d["date_administered"]}:{d["cvx"]}' + (f":{mvx}" if mvx else "")]
        rust = json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)
        assert py_forecast(case) == rust, case["id"]


def test_a_sample_of_cdc_cases_gets_the_expected_forecast():
    for case in sample_cases():
        expected = (case.get("expected_forecasts") or [None])[0]
        if expected is None:
            continue
        g = group(py_forecast(case), GROUPS.get(case["vaccine_group"].upper(), case["vaccine_group"]))
        f = g["forecast"] if g["status"] == "NotComplete" else None
        assert (f and f["earliest"]) == expected["earliest_date"], case["id"]
        assert (f and f["recommended"]) == expected["recommended_date"], case["id"]
        assert (f and f["past_due"]) == expected["past_due_date"], case["id"]
