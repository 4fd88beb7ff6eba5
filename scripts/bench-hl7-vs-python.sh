#!/bin/sh
# HL7 parse throughput, ctwiz (release) vs the Python `hl7` package, on the same corpus
# in one run. Usage: scripts/bench-hl7-vs-python.sh [CTWIZ_BINARY] [SAMPLES_DIR]
set -e
CTWIZ=${1:-target/release/ctwiz}
SAMPLES=${2:-../shared/hl7/samples}
FILES=$(find "$SAMPLES" -name '*.hl7' -not -path '*/malformed/*' | sort)
echo "== ctwiz bench hl7"
"$CTWIZ" bench hl7 --seconds 5 $FILES
echo "== python (pip install hl7)"
python3 "$(dirname "$0")/bench_hl7_python.py" --seconds 5 $FILES
