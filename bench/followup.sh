#!/usr/bin/env bash
# The follow-through benchmark: one reminder scan over 100,000 open action items (check-in dates
# spread over a year), and two instances draining 10,000 reminder jobs with no duplicates, on a
# fresh SQLite file and a fresh PostgreSQL database each. Results go into docs/PERFORMANCE.md.
#
#   bench/followup.sh [ACTIONS] [DRAIN]
#   DEBRIEF_BENCH_POSTGRES=postgres://postgres@127.0.0.1:5432 (server URL without database)
set -euo pipefail
cd "$(dirname "$0")/.."
actions=${1:-100000}
drain=${2:-10000}
pg=${DEBRIEF_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
out=bench/out
mkdir -p "$out"
cargo build --release -p debrief-server --example followup_bench
bin=${CARGO_TARGET_DIR:-target}/release/examples/followup_bench

echo "== SQLite"
rm -f "$out"/followup.db* "$out"/drain.db*
"$bin" --actions "$actions" --drain "$drain" \
    --database "sqlite://$out/followup.db" --drain-database "sqlite://$out/drain.db"

echo "== PostgreSQL"
for db in debrief_followup debrief_drain; do
    psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
done
"$bin" --actions "$actions" --drain "$drain" \
    --database "$pg/debrief_followup" --drain-database "$pg/debrief_drain"
