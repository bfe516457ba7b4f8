#!/usr/bin/env bash
# End-to-end sync benchmark: almanac against a local Radicale holding EVENTS events in one
# calendar, next to the floor (one curl REPORT that downloads all calendar data) and vdirsyncer
# 0.21 on the same server in the same run.
#
# It measures (medians of RUNS, interleaved round by round: floor, almanac, vdirsyncer):
#   - first full sync: almanac with a fresh --data-dir, the whole process, wall clock;
#     the floor: `curl` REPORT calendar-query with calendar-data, %{time_total};
#     vdirsyncer: `vdirsyncer sync` into a fresh filesystem storage (`discover` timed apart);
#   - a sync with no changes (goal: 1 request per account);
#   - a sync after k changes in the calendar, k = 1, 10, 100, 1000 (goal: 2 + ceil(k/200));
#   - requests and response body bytes of each (vdirsyncer's through a counting proxy, in an
#     extra untimed run; almanac's from its --json, checked against the same proxy);
#   - what Radicale takes for each kind of request almanac sends (curl), to explain the totals.
# Goals are reported as PASS/MISS; the exit status is non-zero only when a measurement could not
# be taken (server would not start, a sync failed, wrong counts in the cache, ...).
#
# The events are written straight into Radicale's filesystem storage (benches/sync/gen_events.py).
# Radicale parses every item the first time it lists them (minutes at 10,000), so the seeded
# storage, warmed by one listing and one sync-collection, is kept as a template under
# $CARGO_TARGET_DIR/sync-bench/ and copied into a fresh data dir on every run.
#
# usage: benches/sync_e2e.sh                 (EVENTS=10000 RUNS=5 by default)
#        EVENTS=2000 RUNS=3 benches/sync_e2e.sh
# Env: EVENTS, RUNS, K_LIST ("1 10 100 1000"), K_RUNS (3: runs per k while k*K_RUNS <= 100,
# else 1), CARGO_TARGET_DIR, ALMANAC_INTEROP_VENV (the venv with radicale, vdirsyncer), PYTHON.
# Needs: cargo, curl, python3 (with venv).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
EVENTS=${EVENTS:-10000}
RUNS=${RUNS:-5}
K_LIST=${K_LIST:-"1 10 100 1000"}
K_RUNS=${K_RUNS:-3}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
VENV=${ALMANAC_INTEROP_VENV:-$ROOT/target/interop-venv}
PYTHON=${PYTHON:-python3}
RADICALE_VERSION=3.9.0
VDIRSYNCER_VERSION=0.21.0
XANDIKOS_VERSION=0.4.10

command -v curl >/dev/null || { echo "curl is required" >&2; exit 1; }
command -v "$PYTHON" >/dev/null || { echo "python3 is required" >&2; exit 1; }

log() { echo "== $*" >&2; }
BENCH_START=$SECONDS

# --- the venv (radicale, vdirsyncer) -------------------------------------------------------
if [ -f tests/interop/setup.sh ]; then
  log "setup: bash tests/interop/setup.sh"
  ALMANAC_INTEROP_VENV=$VENV bash tests/interop/setup.sh >&2
else
  # The same pins as tests/interop/setup.sh, for a tree that does not have it.
  has() { compgen -G "$VENV/lib/python3*/site-packages/$1-$2.dist-info" >/dev/null; }
  if ! { [ -x "$VENV/bin/radicale" ] && [ -x "$VENV/bin/vdirsyncer" ] \
    && has radicale "$RADICALE_VERSION" && has vdirsyncer "$VDIRSYNCER_VERSION"; }; then
    log "setup: creating $VENV (radicale $RADICALE_VERSION, vdirsyncer $VDIRSYNCER_VERSION)"
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
      "radicale==$RADICALE_VERSION" "xandikos==$XANDIKOS_VERSION" "vdirsyncer==$VDIRSYNCER_VERSION"
  fi
fi
for b in radicale vdirsyncer; do
  [ -x "$VENV/bin/$b" ] || { echo "$VENV/bin/$b is missing" >&2; exit 1; }
done

# --- the binary ------------------------------------------------------------------------------
log "building (cargo build --release)"
CARGO_TARGET_DIR=$TARGET cargo build --release --quiet
BIN=$(realpath "$TARGET/release/almanac")

# --- Radicale ----------------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/almanac-sync-bench.XXXXXX)
RAD_PID=
stop_radicale() {
  if [ -n "$RAD_PID" ]; then
    kill "$RAD_PID" 2>/dev/null || true
    wait "$RAD_PID" 2>/dev/null || true
    RAD_PID=
  fi
}
cleanup() { stop_radicale; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_radicale DATA_DIR: a fresh Radicale on a free loopback port over DATA_DIR (storage
# folder), as tests/support/servers.rs starts it; sets RAD_PID and PORT.
start_radicale() {
  local data=$1 dir tries
  dir=$(mktemp -d "$WORK/radicale.XXXXXX")
  printf 'alice:secret-pw\n' >"$dir/users"
  for tries in 1 2 3; do
    PORT=$(free_port)
    cat >"$dir/config" <<EOF
[server]
hosts = 127.0.0.1:$PORT

[auth]
type = htpasswd
htpasswd_filename = $dir/users
htpasswd_encryption = plain
delay = 0

[rights]
type = owner_only

[storage]
filesystem_folder = $data

[logging]
level = warning
EOF
    (cd "$dir" && HOME=$dir XDG_DATA_HOME=$dir/xdg PYTHONDONTWRITEBYTECODE=1 \
      exec env -u RADICALE_CONFIG "$VENV/bin/radicale" --config "$dir/config" </dev/null >"$dir/log" 2>&1) &
    RAD_PID=$!
    local deadline=$((SECONDS + 20))
    while ((SECONDS < deadline)); do
      if curl -s -o /dev/null -X OPTIONS "http://127.0.0.1:$PORT/" 2>/dev/null; then
        return 0
      fi
      kill -0 "$RAD_PID" 2>/dev/null || break
      sleep 0.1
    done
    stop_radicale
    if ! grep -qi 'address already in use' "$dir/log"; then
      echo "radicale did not start; its log:" >&2
      tail -20 "$dir/log" >&2
      return 1
    fi
  done
  echo "radicale: no free port after 3 tries" >&2
  return 1
}

# --- the seeded storage (cached template) -----------------------------------------------------
GEN=benches/sync/gen_events.py
KEY=$( (cat "$GEN"; echo "radicale $RADICALE_VERSION") | sha256sum | cut -c1-12)
TEMPLATE=$TARGET/sync-bench/radicale-$EVENTS-$KEY
if [ ! -f "$TEMPLATE/.complete" ]; then
  log "seeding $EVENTS events into a Radicale storage template (once; Radicale parses every item on the first listing)"
  seed_start=$SECONDS
  rm -rf "$TEMPLATE.tmp"
  mkdir -p "$TEMPLATE.tmp"
  "$PYTHON" "$GEN" "$EVENTS" "$TEMPLATE.tmp" | tee "$TEMPLATE.tmp.sizes" >&2
  mv "$TEMPLATE.tmp.sizes" "$TEMPLATE.tmp/.sizes"
  start_radicale "$TEMPLATE.tmp"
  "$PYTHON" benches/sync/measure.py warm --url "http://127.0.0.1:$PORT/" --events "$EVENTS" >&2
  stop_radicale
  touch "$TEMPLATE.tmp/.complete"
  rm -rf "$TEMPLATE"
  mv "$TEMPLATE.tmp" "$TEMPLATE"
  log "seeded in $((SECONDS - seed_start)) s: $TEMPLATE"
fi

log "fresh Radicale data dir (a copy of $TEMPLATE)"
cp -a "$TEMPLATE" "$WORK/data"
start_radicale "$WORK/data"
log "radicale $RADICALE_VERSION on 127.0.0.1:$PORT (pid $RAD_PID)"

# --- the measurements ----------------------------------------------------------------------
set +e
"$PYTHON" benches/sync/measure.py run \
  --url "http://127.0.0.1:$PORT/" --almanac "$BIN" --venv "$VENV" --work "$WORK" \
  --events "$EVENTS" --runs "$RUNS" --k-list "$K_LIST" --k-runs "$K_RUNS" \
  --sizes "$(cat "$TEMPLATE/.sizes" 2>/dev/null)" --template "$TEMPLATE" \
  --rev "$(git rev-parse --short HEAD 2>/dev/null || echo '?')"
status=$?
set -e
log "done in $((SECONDS - BENCH_START)) s (exit $status)"
exit "$status"
