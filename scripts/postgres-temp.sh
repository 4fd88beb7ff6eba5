#!/usr/bin/env bash
# Starts a throw-away PostgreSQL server for the tests (and for trying ctwiz on
# PostgreSQL): a new cluster in a temporary directory, owned by the `postgres` user when
# run as root (initdb refuses root), listening on 127.0.0.1 only, with the C collation
# ctwiz needs. Prints the server URL for CTWIZ_TEST_POSTGRES on stdout; the tests create
# one database per test on it.
#
#   export CTWIZ_TEST_POSTGRES=$(scripts/postgres-temp.sh)      # start
#   scripts/postgres-temp.sh stop                               # stop and remove
#
# Uses the Debian packages' binaries (/usr/lib/postgresql/*/bin) or any on PATH.
set -euo pipefail

dir="${CTWIZ_PG_DIR:-${TMPDIR:-/tmp}/ctwiz-pg}"
port="${CTWIZ_PG_PORT:-55432}"

bin=""
for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/pg_ctl" ] && bin="$d"
done
pg_ctl="${bin:+$bin/}pg_ctl"
initdb="${bin:+$bin/}initdb"
command -v "$pg_ctl" >/dev/null || { echo "pg_ctl not found: install postgresql" >&2; exit 1; }

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "${1:-start}" = stop ]; then
    [ -d "$dir/data" ] && as_owner "$pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    exit 0
fi

if [ ! -f "$dir/data/PG_VERSION" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_owner "$initdb" -D "$dir/data" -U postgres --auth=trust --locale=C --encoding=UTF8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
fi
if ! as_owner "$pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    as_owner "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
fi
echo "postgres://postgres@127.0.0.1:$port/postgres"
