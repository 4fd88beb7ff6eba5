#!/usr/bin/env bash
# Ingest throughput against a baseline build, in one run, runs alternated: this
# machine's speed varies from hour to hour, so a messages/s figure only means something
# next to the baseline's in the same minutes. The default baseline is the commit issue 18
# measured ("a realistic feed of 20,000 distinct children imports at about 3,500
# messages/s"); the ratio of the medians, times 3,500, says what ctwiz would import on that
# machine.
#
#   scripts/bench-ingest-vs-baseline.sh [RUNS]         (default 5 pairs)
#
# Environment: BASELINE (commit, default 94a3542), BASELINE_BIN / CURRENT_BIN (prebuilt
# binaries instead of building), WORK (scratch directory, default a new temp dir).
set -euo pipefail

runs="${1:-5}"
baseline="${BASELINE:-94a3542}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${WORK:-$(mktemp -d -t ctwiz-ingest-XXXXXX)}"
mkdir -p "$work"

if [ -z "${CURRENT_BIN:-}" ]; then
    (cd "$root" && cargo build --release -q -p ctwiz-cli)
    CURRENT_BIN="$root/target/release/ctwiz"
fi
if [ -z "${BASELINE_BIN:-}" ]; then
    tree="$work/baseline"
    [ -d "$tree" ] || git -C "$root" worktree add -q --detach "$tree" "$baseline"
    (cd "$tree" && CARGO_TARGET_DIR="$tree/target" cargo build --release -q -p ctwiz-cli)
    BASELINE_BIN="$tree/target/release/ctwiz"
fi

# The feed: 20,000 synthetic children, one VXU with the whole history each (and the
# duplicates the generator injects); each binary seeds its own small registry with the
# feed's clinics (its own schema).
feed="$work/feed.hl7"
[ -s "$feed" ] || "$CURRENT_BIN" --db "$work/synth.db" hl7 synth --children 20000 --seed 7 \
    --as-of 2026-12-03 >"$feed"
for who in baseline current; do
    bin=BASELINE_BIN; [ "$who" = current ] && bin=CURRENT_BIN
    rm -f "$work/$who-base.db"*
    "${!bin}" --db "$work/$who-base.db" seed --children 10 --clinics 20 --seed 1 >/dev/null
done

rate() { # binary who -> messages/s of one import into a fresh copy of its registry
    rm -f "$work/run.db"*
    cp "$work/$2-base.db" "$work/run.db"
    "$1" --db "$work/run.db" hl7 import "$feed" 2>&1 | grep -o '[0-9]* messages/s' | cut -d' ' -f1
}

echo "feed: $(grep -c '^MSH' "$feed") messages; baseline $baseline; $(nproc) cores"
echo "run  baseline  current  ratio  load"
b_all=(); c_all=(); r_all=()
for i in $(seq 1 "$runs"); do
    b=$(rate "$BASELINE_BIN" baseline)
    c=$(rate "$CURRENT_BIN" current)
    r=$(awk -v b="$b" -v c="$c" 'BEGIN { printf "%.2f", c / b }')
    b_all+=("$b"); c_all+=("$c"); r_all+=("$r")
    printf '%3d  %8s  %7s  %5s  %s\n' "$i" "$b" "$c" "$r" "$(cut -d' ' -f1 /proc/loadavg)"
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mb=$(median "${b_all[@]}"); mc=$(median "${c_all[@]}")
echo "median  $mb  $mc  ratio of medians $(awk -v b="$mb" -v c="$mc" 'BEGIN { printf "%.2f", c / b }')" \
    "(pairs: $(median "${r_all[@]}") median)"
echo "at the issue's 3,500 messages/s for the baseline: $(awk -v b="$mb" -v c="$mc" 'BEGIN { printf "%.0f", 3500 * c / b }') messages/s"
if [ -z "${WORK:-}" ]; then
    [ -d "$work/baseline" ] && git -C "$root" worktree remove --force "$work/baseline"
    rm -rf "$work"
fi
