#!/usr/bin/env bash
# Generates an archive of postmortems (default 100,000 × 50 events) in a fresh SQLite file and a
# fresh PostgreSQL database, and prints bulk insert rate, `get` latency of a 500-event postmortem
# and search latency p50/p95 for 20 realistic queries. Results go into docs/PERFORMANCE.md.
#
#   bench/archive.sh [POSTMORTEMS] [EVENTS]
#   DEBRIEF_BENCH_POSTGRES=postgres://postgres@127.0.0.1:5432 (server URL without database)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
events=${2:-50}
pg=${DEBRIEF_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
out=bench/out
mkdir -p "$out"
cargo build --release -p debrief-bench
bin=${CARGO_TARGET_DIR:-target}/release/debrief-bench

echo "== SQLite"
rm -f "$out/archive.db" "$out/archive.db-wal" "$out/archive.db-shm"
/usr/bin/time -v -o "$out/time-sqlite.txt" "$bin" --database "sqlite://$out/archive.db" --postmortems "$n" --events "$events"
grep -E 'Maximum resident|Elapsed' "$out/time-sqlite.txt"
du -h "$out/archive.db"

echo "== PostgreSQL"
db=debrief_bench
psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
/usr/bin/time -v -o "$out/time-postgres.txt" "$bin" --database "$pg/$db" --postmortems "$n" --events "$events"
grep -E 'Maximum resident|Elapsed' "$out/time-postgres.txt"
psql "$pg/$db" -Atc "SELECT pg_size_pretty(pg_database_size('$db'))"
