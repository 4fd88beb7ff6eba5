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
# TLS for the tests of `sslmode=require`: a throw-away CA ($dir/tls/ca.crt, which the tests
# trust through CTWIZ_TEST_POSTGRES_CA) signs the server's certificate (127.0.0.1 and
# localhost), and the database `ctwiz_tls` takes TLS connections only.
tls="$dir/tls"
ssl_opts=""
if command -v openssl >/dev/null; then
    if [ ! -f "$tls/server.crt" ]; then
        mkdir -p "$tls"
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=ctwiz test CA" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
            -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
            -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
            > "$tls/server.ext"
        openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" \
            -CAcreateserial -days 30 -extfile "$tls/server.ext" -out "$tls/server.crt" 2>/dev/null
        chmod 600 "$tls/server.key"
        [ "$(id -u)" = 0 ] && chown -R postgres "$tls"
    fi
    hba="$dir/data/pg_hba.conf"
    if ! grep -q ctwiz_tls "$hba"; then
        { printf 'hostssl ctwiz_tls all 127.0.0.1/32 trust\nhost ctwiz_tls all 127.0.0.1/32 reject\n'; cat "$hba"; } > "$hba.new"
        mv "$hba.new" "$hba"
        [ "$(id -u)" = 0 ] && chown postgres "$hba"
        # A running server reads the rules again.
        as_owner "$pg_ctl" -D "$dir/data" reload >/dev/null 2>&1 || true
    fi
    ssl_opts="-c ssl=on -c ssl_cert_file=$tls/server.crt -c ssl_key_file=$tls/server.key"
else
    echo "openssl not found: the server runs without TLS" >&2
fi
if ! as_owner "$pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    as_owner "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 $ssl_opts" \
        start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
fi
echo "postgres://postgres@127.0.0.1:$port/postgres"
