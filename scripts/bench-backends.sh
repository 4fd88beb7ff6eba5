#!/usr/bin/env bash
# Side-by-side scale figures of the two storage backends, through the CLI as operators run it:
# seed a registry of N children, import a VXU feed of M further children (the batch import
# path, matching and stock rules included), then run the coverage report (4:3:1:3:3:1:4 at
# the second birthday), on a new SQLite file and on a new PostgreSQL database.
#
#   scripts/bench-backends.sh [CHILDREN] [FEED_CHILDREN]        (defaults 100000 and 20000)
#
# PostgreSQL: CTWIZ_BENCH_POSTGRES=postgres://user@host:port/postgres names a server where
# a database may be created (scripts/postgres-temp.sh starts one); without it only SQLite
# runs. CTWIZ_BIN names the ctwiz binary (default: the release build, built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
children="${1:-100000}"
feed_children="${2:-20000}"
bin="${CTWIZ_BIN:-target/release/ctwiz}"
[ -x "$bin" ] || cargo build -q --release -p ctwiz-cli
work="$(mktemp -d /tmp/ctwiz-bench-backends.XXXXXX)"
trap 'rm -rf "$work"' EXIT
as_of=2026-11-01

# One feed for both backends: other children (another seed) at the same 20 clinics.
"$bin" --db "$work/feed-clinics.db" hl7 synth --children "$feed_children" --seed 99 \
    --as-of "$as_of" > "$work/feed.hl7"
feed_messages=$(grep -c '^MSH' "$work/feed.hl7")

# Prints "seconds" of the command it runs, its output kept in $work/last.log.
timed() {
    local start end
    start=$(date +%s.%N)
    "$@" > "$work/last.log" 2>&1 || { cat "$work/last.log" >&2; return 1; }
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

run() {
    local name="$1" db="$2"
    local seed_s feed_s report_s records
    seed_s=$(timed "$bin" --db "$db" seed --children "$children" --clinics 20 --seed 1 \
        --as-of "$as_of")
    records=$(grep -o 'seeded [0-9]* patient records' "$work/last.log" | grep -o '[0-9]*')
    # The feed's clinics are the seeded ones (the same synthetic clinic list).
    feed_s=$(timed "$bin" --db "$db" hl7 import "$work/feed.hl7")
    grep -q "rejected 0 (AR)" "$work/last.log" || { cat "$work/last.log" >&2; return 1; }
    report_s=$(timed "$bin" --db "$db" report coverage --as-of "$as_of")
    printf '%-10s %9s %10.1f %10.0f %9s %9.1f %9.0f %10.1f\n' "$name" "$records" "$seed_s" \
        "$(echo "$records / $seed_s" | bc -l)" "$feed_messages" "$feed_s" \
        "$(echo "$feed_messages / $feed_s" | bc -l)" "$report_s"
}

echo "machine: $(nproc) cores, $(uptime | sed 's/.*load average/load average/')"
printf '%-10s %9s %10s %10s %9s %9s %9s %10s\n' backend records seed_s records/s \
    messages import_s msg/s coverage_s
run sqlite "$work/bench.db"
if [ -n "${CTWIZ_BENCH_POSTGRES:-}" ]; then
    name="ctwiz_bench_$$"
    psql -q "$CTWIZ_BENCH_POSTGRES" -c "CREATE DATABASE $name TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
    trap 'rm -rf "$work"; psql -q "$CTWIZ_BENCH_POSTGRES" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)"' EXIT
    run postgres "${CTWIZ_BENCH_POSTGRES%/*}/$name"
fi
echo "after: $(uptime | sed 's/.*load average/load average/')"
