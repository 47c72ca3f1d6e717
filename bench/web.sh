#!/usr/bin/env bash
# The web benchmark (issue: web app): a postmortem with 200 events read as JSON and as HTML by
# wrk at 64 connections, against `debrief serve` on a SQLite archive of 100,000 postmortems; the
# idle resident memory; and the cold start to the first answer.
#
#   bench/web.sh [DATABASE_FILE]     (default bench/out/archive.db, made by bench/archive.sh)
#   DEBRIEF_BIN=path/to/debrief bench/web.sh   (measure that binary instead of building one,
#                                                e.g. a copy of an earlier build, for before/after)
#
# Needs wrk (apt-get install wrk), curl and python3. Prints the figures for docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
db=${1:-bench/out/archive.db}
[ -f "$db" ] || { echo "no archive at $db: run bench/archive.sh first" >&2; exit 1; }
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
if [ -n "${DEBRIEF_BIN:-}" ]; then
  bin=$DEBRIEF_BIN
else
  cargo build --release -q -p debrief
  bin=$CARGO_TARGET_DIR/release/debrief
fi
echo "binary: $bin"; echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
url="sqlite://$(realpath "$db")"
port=${PORT:-7890}
base="http://127.0.0.1:$port"
export DEBRIEF_DATABASE_URL=$url DEBRIEF_ZONE=UTC

# An editor and a token (idempotent across runs).
DEBRIEF_PASSWORD="bench password 123" "$bin" user add "Bench" --email bench@example.com --role admin >/dev/null 2>&1 || true
token=$("$bin" token create --user bench@example.com --name "bench-$(date +%s)" --scope write --json \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

start_server() {
  local t0 t1
  t0=$(date +%s%N)
  "$bin" serve --addr "127.0.0.1:$port" >/dev/null 2>&1 &
  pid=$!
  until curl -sf "$base/healthz" >/dev/null 2>&1; do sleep 0.005; done
  t1=$(date +%s%N)
  echo "cold start to first answer: $(( (t1 - t0) / 1000000 )) ms"
}
stop_server() { kill "$pid"; wait "$pid" 2>/dev/null || true; }

start_server
# The postmortem under test: 200 events (made once; found by its title afterwards).
key=$(curl -sf -H "Authorization: Bearer $token" "$base/api/v1/search?q=%22web+benchmark+postmortem%22" \
  | python3 -c 'import json,sys; h=json.load(sys.stdin); print(h[0]["key"] if h else "")')
if [ -z "$key" ]; then
  key=$(curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"title":"Web benchmark postmortem","severity":"SEV2","summary":"Two hundred events."}' \
    "$base/api/v1/postmortems" | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
  python3 - "$base" "$token" "$key" <<'PY'
import json, sys, urllib.request
base, token, key = sys.argv[1:]
kinds = ["alert", "action", "observation", "communication_out", "decision"]
events = [{
    "happened_at": {"at": f"2026-11-20T{10 + i // 60:02d}:{i % 60:02d}:00Z", "zone": "UTC", "precision": "minute"},
    "kind": kinds[i % 5], "description": f"Event {i}: checked the pool, the queue and dashboard {i}",
    "actor": {"kind": "person", "name": f"Responder {i % 7}"}, "source": "manual",
    "account_of": f"Responder {i % 7}" if i % 10 == 0 else None,
    "account": {"knew": "Only one region was red", "expected": "A blip", "assumed": "Config goes region by region"} if i % 10 == 0 else {},
} for i in range(200)]
for e in events:
    if e["account_of"] is None:
        del e["account_of"]
req = urllib.request.Request(f"{base}/api/v1/postmortems/{key}/events/bulk", data=json.dumps(events).encode(),
    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}, method="POST")
print(json.load(urllib.request.urlopen(req)))
PY
fi
echo "postmortem under test: $key"

# A browser session for the HTML page.
jar=$(mktemp)
html=$(curl -s -c "$jar" "$base/login")
csrf=$(printf '%s' "$html" | python3 -c 'import re,sys; print(re.search(r"name=\"csrf\" value=\"([0-9a-f]+)\"", sys.stdin.read()).group(1))')
curl -s -b "$jar" -c "$jar" -o /dev/null -d "csrf=$csrf&next=/&email=bench@example.com&password=bench+password+123" "$base/login"
session=$(awk '$6 == "debrief_session" {print $7}' "$jar")
rm -f "$jar"

sleep 1
echo "idle resident memory: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"

# wrk, then the server's own CPU time per request (user + system, from /proc): steadier than
# requests/s on a shared machine.
load() {
  local ticks0 ticks1 out n
  ticks0=$(awk '{print $14 + $15}' /proc/$pid/stat)
  out=$(wrk -t2 -c64 -d20s --latency "$@")
  ticks1=$(awk '{print $14 + $15}' /proc/$pid/stat)
  printf '%s\n' "$out" | grep -E 'Requests/sec|Latency|50%|90%|99%|requests in|Non-2xx'
  n=$(printf '%s\n' "$out" | awk '/requests in/ {print $1}')
  echo "server CPU per request: $(( (ticks1 - ticks0) * 1000000 / $(getconf CLK_TCK) / n )) µs;" \
    "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
}
echo "== JSON: GET /api/v1/postmortems/$key/document"
load -H "Authorization: Bearer $token" "$base/api/v1/postmortems/$key/document"
echo "== HTML: GET /pm/$key"
load -H "Cookie: debrief_session=$session" "$base/pm/$key"
echo "resident memory after the load: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
stop_server
# Cold start again, now that the file is in the page cache.
start_server
stop_server
