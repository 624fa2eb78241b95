#!/usr/bin/env bash
# Loopback load test: the same handler on a bare route and behind AuthRocketLayer, driven by
# wrk; prints requests/s for each and their ratio, per scenario.
#
#   scripts/loadtest.sh                              # every scenario below, HS256
#   SCENARIOS="warm" ALG=rs256 scripts/loadtest.sh  # one scenario, RS256
#   ROUNDS=9 DURATION=5s scripts/loadtest.sh
#
# Scenarios (every request of both routes carries the same kind of token; the bare route
# ignores it):
#   warm      one token, repeated (a signed-in user; the token is cached)
#   revoked   the same, with 100 000 other sessions in the revocation set
#   pool      100 000 distinct tokens cycled, all cached (many users)
#   thrash    100 000 distinct tokens cycled through a 10 000-session cache (more active
#             tokens than the cache holds: every request verifies)
#   nocache   the same 100 000 tokens with the cache off (what thrash is compared with)
#
# The routes are measured alternately, round after round, and the medians compared: this
# machine's throughput drifts by ±10 % over a minute, and interleaving puts both routes under
# the same drift. The server (examples/bench_server.rs) runs on one tokio worker so it and
# wrk do not fight over the same core. Traffic goes to 127.0.0.1 only; each server is stopped
# by its PID.
set -euo pipefail
cd "$(dirname "$0")/.."

ALG=${ALG:-hs256}
DURATION=${DURATION:-4s}
ROUNDS=${ROUNDS:-5}
CONNECTIONS=${CONNECTIONS:-32}
WORKERS=${WORKERS:-1}
SCENARIOS=${SCENARIOS:-warm revoked pool thrash nocache}

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk (Debian package)…" >&2
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
  else
    sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null
  fi
fi

cargo build -q --release --example bench_server
export TOKENS
TOKENS=$(mktemp)
out=$(mktemp)
pid=
trap 'kill "$pid" 2>/dev/null || true; rm -f "$out" "$TOKENS"' EXIT

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

rps() { # base path: one token in a plain header, or the pool through the Lua script
  if [ "$scenario" = warm ] || [ "$scenario" = revoked ]; then
    set -- -H "Authorization: Bearer $token" "$1$2"
  else
    set -- -s scripts/loadtest.lua "$1$2"
  fi
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" "$@" | awk '/^Requests\/sec:/ {print $2}'
}

summary=()
for scenario in $SCENARIOS; do
  case $scenario in
    warm) settings=(POOL=1 WARM=1) ;;
    revoked) settings=(POOL=1 WARM=1 REVOKED=100000) ;;
    pool) settings=(POOL=100000 CAPACITY=120000 WARM=1) ;;
    thrash) settings=(POOL=100000 CAPACITY=10000) ;;
    nocache) settings=(POOL=100000 CACHE=off) ;;
    *) echo "unknown scenario $scenario" >&2; exit 1 ;;
  esac
  env "${settings[@]}" ALG="$ALG" PORT=0 TOKENS="$TOKENS" TOKIO_WORKER_THREADS="$WORKERS" \
    ./target/release/examples/bench_server >"$out" 2>/dev/null &
  pid=$!
  for _ in $(seq 1 600); do
    grep -q '^tokens: ' "$out" && break
    sleep 0.1
  done
  base=$(sed -n 's/^listening on //p' "$out")
  [ -n "$base" ] && grep -q '^tokens: ' "$out" || { echo "bench_server did not start" >&2; exit 1; }
  token=$(head -n 1 "$TOKENS")
  for path in /bare /protected; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$base$path")
    [ "$code" = 200 ] || { echo "$path answered $code" >&2; exit 1; }
  done
  rps "$base" /bare >/dev/null # warm-up
  bare_all=() protected_all=()
  for round in $(seq 1 "$ROUNDS"); do
    b=$(rps "$base" /bare)
    p=$(rps "$base" /protected)
    bare_all+=("$b") protected_all+=("$p")
    awk -v s="$scenario" -v r="$round" -v b="$b" -v p="$p" \
      'BEGIN { printf "%s round %d: bare %.0f/s, protected %.0f/s, ratio %.3f\n", s, r, b, p, p / b }'
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  bare=$(printf '%s\n' "${bare_all[@]}" | median)
  protected=$(printf '%s\n' "${protected_all[@]}" | median)
  summary+=("$(awk -v s="$scenario" -v b="$bare" -v p="$protected" \
    'BEGIN { printf "%-8s bare %7.0f/s  protected %7.0f/s  ratio %.3f", s, b, p, p / b }')")
done
echo "alg=$ALG rounds=$ROUNDS duration=$DURATION connections=$CONNECTIONS server_workers=$WORKERS (medians)"
printf '%s\n' "${summary[@]}"
