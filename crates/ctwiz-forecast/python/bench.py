"""Forecasts per second from Python (one core), on the CDC healthy test cases'
patients: `python crates/ctwiz-forecast/python/bench.py [SHARED_DIR]`.
Prints the figure next to what the Rust bench prints (`cargo bench -p
ctwiz-forecast --bench forecast`); the difference is the cost of building
Python dicts and lists for every result.
"""

import json
import pathlib
import sys
import time

import ctwiz_forecast

here = pathlib.Path(__file__).resolve()
shared = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else here.parents[3].parent / "shared"
cases = json.loads((shared / "cdsi" / "testcases" / "healthy-v4.45.json").read_text())["cases"]
inputs = [
    dict(dob=c["dob"], sex=c["sex"], as_of=c["assessment_date"],
         doses=[(d["date_administered"], d["cvx"], d.get("mvx")) for d in c["doses"]])
    for c in cases
]
for kw in inputs[:50]:  # warm up
    ctwiz_forecast.forecast(**kw)
for as_json, returned in [(False, "dicts and lists"), (True, "JSON text")]:
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < 2.0:
        for kw in inputs:
            ctwiz_forecast.forecast(**kw, as_json=as_json)
        n += len(inputs)
    secs = time.perf_counter() - start
    print(f"python: CDC healthy cases ({len(inputs)} patients): {n / secs:.0f} forecasts/s on one core "
          f"({returned} returned)")
