#!/usr/bin/env python3
"""Parse throughput of the Python `hl7` package (PyPI) over the same messages that
`ctwiz bench hl7 FILE...` parses: files split into messages the same way (segments on
CR/LF/CRLF, batch envelope segments skipped, a new message at each MSH), then
`hl7.parse` repeatedly for SECONDS. Prints messages/s and MB/s.

Usage: bench_hl7_python.py [--seconds N] FILE...
Not needed at run time; see scripts/bench-hl7-vs-python.sh.
"""
import re
import sys
import time

import hl7


def messages(path):
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    out, cur = [], []
    for line in re.split(r"\r\n|\r|\n", text):
        if not line:
            continue
        if line[:3] in ("FHS", "BHS", "BTS", "FTS"):
            continue
        if line.startswith("MSH") and cur:
            out.append("\r".join(cur))
            cur = []
        cur.append(line)
    if cur:
        out.append("\r".join(cur))
    return out


def main(argv):
    seconds = 3.0
    if len(argv) > 1 and argv[0] == "--seconds":
        seconds, argv = float(argv[1]), argv[2:]
    msgs = [m for p in argv for m in messages(p)]
    total = sum(len(m.encode("utf-8")) for m in msgs)
    print(f"python hl7 {hl7.__version__}: {len(msgs)} messages, {total / 1e6:.2f} MB per pass")
    n = b = failed = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for m in msgs:
            try:
                hl7.parse(m)
            except Exception:
                failed += 1
            n += 1
            b += len(m)
    secs = time.perf_counter() - start
    print(f"python hl7.parse: {n / secs:.0f} messages/s, {b / secs / 1e6:.2f} MB/s ({failed} parse failures)")


if __name__ == "__main__":
    main(sys.argv[1:])
