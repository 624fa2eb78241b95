#!/usr/bin/env bash
# A fleet on one machine: a local Redis, the embedded realm (`cargo run --example realm`)
# and three reference servers sharing the Redis. Shows a token accepted by all three, then a
# logout whose webhook goes to the first server only, refused by all three.
#
#   scripts/fleet.sh           # the demonstration, then everything stops
#   scripts/fleet.sh --keep    # and keep the fleet running until Ctrl-C
#   MODE=hybrid scripts/fleet.sh
#
# Needs Debian's redis-server (installed when missing, as scripts/test does) and python3
# (to find free ports).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${MODE:-online}"

if ! command -v redis-server >/dev/null; then
  echo "fleet.sh: installing redis-server (Debian package)" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
fi
cargo build --quiet --example server --example realm

tmp="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Wait until FILE has a line starting with PREFIX; print the rest of that line.
wait_for() {
  local file="$1" prefix="$2"
  for _ in $(seq 1 300); do
    local line
    line="$(grep -m1 "^$prefix" "$file" 2>/dev/null || true)"
    if [ -n "$line" ]; then
      echo "${line#"$prefix"}"
      return 0
    fi
    sleep 0.1
  done
  echo "fleet.sh: no '$prefix' in $file:" >&2
  cat "$file" >&2
  exit 1
}

redis_port="$(free_port)"
redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
  --daemonize no --loglevel warning >"$tmp/redis.log" 2>&1 &
pids+=($!)
redis_url="redis://127.0.0.1:$redis_port/0"

ports=("$(free_port)" "$(free_port)" "$(free_port)")
DELIVER_EVENTS_TO="http://127.0.0.1:${ports[0]}/authrocket/events" \
  target/debug/examples/realm >"$tmp/realm.out" &
pids+=($!)
token="$(wait_for "$tmp/realm.out" "demo token: ")"
logout="$(wait_for "$tmp/realm.out" "demo logout: ")"
mapfile -t settings < <(grep -E '^[A-Z_]+=' "$tmp/realm.out")

for i in 0 1 2; do
  env "${settings[@]}" AUTHROCKET_REDIS_URL="$redis_url" AUTHROCKET_VERIFY_MODE="$mode" \
    PORT="${ports[$i]}" target/debug/examples/server >"$tmp/server$i.out" 2>"$tmp/server$i.err" &
  pids+=($!)
done
for i in 0 1 2; do
  wait_for "$tmp/server$i.out" "listening on " >/dev/null
done

me() {
  curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
    "http://127.0.0.1:${ports[$1]}/me"
}
statuses() {
  echo "GET /me on instance 1, 2, 3: $(me 0) $(me 1) $(me 2)"
}

echo "Redis at $redis_url; realm and three reference servers ($mode mode) on ports ${ports[*]}"
echo "the realm's webhooks go to instance 1 only: http://127.0.0.1:${ports[0]}/authrocket/events"
statuses
echo "logging out at the realm: $logout"
curl -s -o /dev/null "$logout"
for _ in $(seq 1 100); do
  if [ "$(me 0)$(me 1)$(me 2)" = "401401401" ]; then break; fi
  sleep 0.05
done
statuses
if [ "$(me 0)$(me 1)$(me 2)" != "401401401" ]; then
  echo "fleet.sh: the logout did not reach every instance" >&2
  exit 1
fi
echo "one logout delivered to instance 1, refused by all three"

if [ "${1:-}" = "--keep" ]; then
  echo "running until Ctrl-C (token: $token)"
  wait
fi
