#!/usr/bin/env bash
# Load test of featgraph serve: starts the simulated cardauth services
# (featgraph demo --serve) and featgraph serve with the cardauth spec, then
# drives it with wrk (Debian package wrk) with more connections than it
# runs at once, and prints decisions/s, the share shed with 429, and the
# p50/p99 of the accepted runs beside the spec's 700 ms deadline.
#
#   bench/serve.sh                         # 30 s, 128 connections, 8 runs in flight
#   DURATION=10s CONNECTIONS=256 MAX_IN_FLIGHT=16 LATENCY=5ms BACKOFF_MS=50 bench/serve.sh
#
# A connection answered 429 waits BACKOFF_MS (100) before its next request.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-30s}
CONNECTIONS=${CONNECTIONS:-128}
THREADS=${THREADS:-2}
MAX_IN_FLIGHT=${MAX_IN_FLIGHT:-8}
LATENCY=${LATENCY:-2ms}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/featgraph" ./cmd/featgraph

# wait_for FILE PATTERN: the address a process printed on its first line.
wait_for() {
  for _ in $(seq 1 300); do
    if grep -q "$2" "$1" 2>/dev/null; then
      grep -o 'http://127\.0\.0\.1:[0-9]*' "$1" | head -1
      return
    fi
    sleep 0.1
  done
  echo "timed out waiting for $1:" >&2; cat "$1" >&2; exit 1
}

"$work/featgraph" demo --serve 127.0.0.1:0 --latency "$LATENCY" >"$work/services.log" 2>&1 &
pids+=($!)
services=$(wait_for "$work/services.log" "serving")

CARDAUTH_URL=$services "$work/featgraph" serve examples/specs/cardauth.yaml \
  --addr 127.0.0.1:0 --max-in-flight "$MAX_IN_FLIGHT" >"$work/serve.log" 2>&1 &
serve_pid=$!
pids=("$serve_pid" "${pids[@]}")
url=$(wait_for "$work/serve.log" "listening on")

echo "featgraph serve at $url: cardauth spec (deadline 700ms), services answering in $LATENCY,"
echo "at most $MAX_IN_FLIGHT runs in flight; wrk: $CONNECTIONS connections, $THREADS threads, $DURATION, ${BACKOFF_MS:-100} ms back-off after a 429"
curl -sf -o /dev/null -X POST "$url/v1/graphs/cardauth/decide" \
  -d '{"transaction_id":"t1","card_id":"c1","customer_id":"u1","merchant_id":"m1"}' || { cat "$work/serve.log" >&2; exit 1; }

# Warm up within the limit (connections to the services, pools), so that
# a cold burst does not trip the spec's circuit breakers.
wrk -t 1 -c "$((MAX_IN_FLIGHT / 2 + 1))" -d 5s -s bench/serve.lua "$url/v1/graphs/cardauth/decide" | grep -E '^(by status|decisions)' | sed 's/^/warm-up: /'

wrk -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" --latency -s bench/serve.lua "$url/v1/graphs/cardauth/decide"

echo "--- serve's own view (/metrics)"
curl -sf "$url/metrics" | grep -E '^(featgraph_serve_shed_total|http_server_request_duration_seconds_count)' | sed 's/^/  /'
kill -TERM "$serve_pid"
wait "$serve_pid" && echo "serve drained and exited 0 on SIGTERM"
pids=("${pids[@]:1}")
