#!/usr/bin/env bash
# Loopback load test: the same handler on a bare route and behind AuthRocketLayer (warm
# token), driven by wrk; prints requests/s for each and their ratio.
#
#   scripts/loadtest.sh            # HS256: 5 rounds, each 4 s on /bare then 4 s on /protected
#   ALG=rs256 ROUNDS=9 DURATION=5s scripts/loadtest.sh
#
# The routes are measured alternately, round after round, and the medians compared: this
# machine's throughput drifts by ±10 % over a minute, and interleaving puts both routes
# under the same drift.
# The server (examples/bench_server.rs) runs on one tokio worker so it and wrk do not fight
# over the same core. Traffic goes to 127.0.0.1 only; the server is stopped by its PID.
set -euo pipefail
cd "$(dirname "$0")/.."

ALG=${ALG:-hs256}
DURATION=${DURATION:-4s}
ROUNDS=${ROUNDS:-5}
CONNECTIONS=${CONNECTIONS:-32}
WORKERS=${WORKERS:-1}

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk (Debian package)…" >&2
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
  else
    sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null
  fi
fi

cargo build -q --release --example bench_server
out=$(mktemp)
ALG=$ALG PORT=0 TOKIO_WORKER_THREADS=$WORKERS ./target/release/examples/bench_server >"$out" 2>/dev/null &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$out"' EXIT

for _ in $(seq 1 100); do
  grep -q '^token: ' "$out" && break
  sleep 0.1
done
base=$(sed -n 's/^listening on //p' "$out")
token=$(sed -n 's/^token: //p' "$out")
[ -n "$base" ] && [ -n "$token" ] || { echo "bench_server did not start" >&2; exit 1; }

# Both routes must answer 200 before they are measured (and the token gets cached).
for path in /bare /protected; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$base$path")
  [ "$code" = 200 ] || { echo "$path answered $code" >&2; exit 1; }
done

# Both routes get the identical request, token included: the bare route just ignores it.
rps() { # path
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -H "Authorization: Bearer $token" "$base$1" |
    awk '/^Requests\/sec:/ {print $2}'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

wrk -t1 -c"$CONNECTIONS" -d2s "$base/bare" >/dev/null # warm-up
bare_all=() protected_all=()
for round in $(seq 1 "$ROUNDS"); do
  b=$(rps /bare)
  p=$(rps /protected)
  bare_all+=("$b") protected_all+=("$p")
  awk -v r="$round" -v b="$b" -v p="$p" 'BEGIN { printf "round %d: bare %.0f/s, protected %.0f/s, ratio %.3f\n", r, b, p, p / b }'
done
bare=$(printf '%s\n' "${bare_all[@]}" | median)
protected=$(printf '%s\n' "${protected_all[@]}" | median)
echo "alg=$ALG rounds=$ROUNDS duration=$DURATION connections=$CONNECTIONS server_workers=$WORKERS"
printf 'bare route (median):             %.0f requests/s\n' "$bare"
printf 'behind AuthRocketLayer (median): %.0f requests/s\n' "$protected"
awk -v p="$protected" -v b="$bare" 'BEGIN { printf "ratio (layer / bare):            %.3f\n", p / b }'
