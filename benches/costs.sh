#!/usr/bin/env bash
# Costs that grow with the data (issue 10), end to end with a release binary; whole-process figures,
# medians of RUNS runs, from GNU time (elapsed, user, system, peak RSS, file-system writes):
#   agenda   text and --json over 1 week, 1 year and 4 years at 10,000 events in the cache;
#   import   one file of 100,000 events into a fresh cache: peak RSS and time;
#   sync     a first sync of 1k, 10k, 50k, 100k events (one calendar) from the built-in CalDAV
#            emulator (examples/caldav_server.rs): the client's own CPU (user+sys, the server runs
#            in another process) per event, and the bytes it wrote.
#
# usage: benches/costs.sh [BIN [BIN_B]]   BIN defaults to a fresh `cargo build --release`; with BIN_B
#        the two run in turn (A B A B ...) and each row shows both.
# Env: RUNS (5), SIZES ("1000 10000 50000 100000"), PARTS ("agenda import sync"), BENCH_DIR (data,
#      kept between runs), SERVER (a built caldav_server example), CARGO_TARGET_DIR.
#      Needs python3 and GNU time (/usr/bin/time).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-5}
SIZES=${SIZES:-"1000 10000 50000 100000"}
PARTS=${PARTS:-"agenda import sync"}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BENCH_DIR=${BENCH_DIR:-$(mktemp -d /tmp/almanac-costs.XXXXXX)}
mkdir -p "$BENCH_DIR"
log() { echo "== $*" >&2; }

[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is required" >&2; exit 1; }
if [ $# -ge 1 ]; then
  A=$(realpath "$1")
else
  log "building (cargo build --release)"
  CARGO_TARGET_DIR=$TARGET cargo build --release --quiet
  A=$(realpath "$TARGET/release/almanac")
fi
BINS=("$A")
[ $# -ge 2 ] && BINS+=("$(realpath "$2")")

# one_file N: $BENCH_DIR/one-N.ics, N events of gen_ics.py's mix in one VCALENDAR.
one_file() {
  local n=$1 out=$BENCH_DIR/one-$1.ics
  if [ ! -f "$out" ]; then
    python3 benches/gen_ics.py "$n" "$BENCH_DIR/gen-$n" >/dev/null
    { printf 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//almanac//bench//EN\r\nX-WR-CALNAME:Bench\r\n'
      cat "$BENCH_DIR/gen-$n"/*.ics \
        | sed '/^BEGIN:VCALENDAR/d; /^VERSION:/d; /^PRODID:/d; /^X-WR-CALNAME/d; /^END:VCALENDAR/d'
      printf 'END:VCALENDAR\r\n'; } >"$out"
  fi
  echo "$out"
}

# measure LABEL CMD...: runs CMD RUNS times per binary ({BIN} in CMD is the binary, {I} its index),
# alternating binaries, and
# prints one row per binary: median elapsed s, user+sys s, peak RSS MB, MB written.
measure() {
  local label=$1; shift
  local out=$BENCH_DIR/times
  : >"$out"
  for _ in $(seq "$RUNS"); do
    for i in "${!BINS[@]}"; do
      local cmd=("${@//\{BIN\}/${BINS[$i]}}")
      cmd=("${cmd[@]//\{I\}/$i}")
      [ -n "${PREPARE:-}" ] && eval "$PREPARE"
      /usr/bin/time -f "$i %e %U %S %M %O" -a -o "$out" "${cmd[@]}" >/dev/null 2>"$BENCH_DIR/stderr" \
        || { cat "$BENCH_DIR/stderr" >&2; echo "failed: ${cmd[*]}" >&2; exit 1; }
    done
  done
  python3 - "$label" "$out" "${BINS[@]}" <<'EOF'
import statistics, sys
label, path, bins = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = {}
for line in open(path):
    f = line.split()
    if len(f) == 6 and f[0].isdigit():
        rows.setdefault(int(f[0]), []).append([float(x) for x in f[1:]])
for i, b in enumerate(bins):
    r = rows.get(i, [])
    med = lambda k: statistics.median(x[k] for x in r)
    print(f"| {label} | {b} | {med(0):.3f} | {statistics.median(x[1] + x[2] for x in r):.3f} "
          f"| {med(3) / 1024:.1f} | {med(4) * 512 / 1e6:.1f} |")
EOF
}

echo "| what | binary | elapsed s | user+sys s | peak RSS MB | MB written |"
echo "|---|---|---:|---:|---:|---:|"

if [[ " $PARTS " == *" agenda "* ]]; then
  # One cache per binary: each reads a cache of its own schema.
  for i in "${!BINS[@]}"; do
    cache=$BENCH_DIR/agenda-10000-$i
    if [ ! -f "$cache/almanac.sqlite3" ]; then
      log "agenda: a cache of 10,000 events for ${BINS[$i]}"
      ALMANAC_DATA_DIR=$cache "${BINS[$i]}" import "$(one_file 10000)" --calendar Bench >/dev/null
    fi
  done
  export XDG_CONFIG_HOME=$BENCH_DIR/no-config TZ=UTC
  for window in "2026-11-23 2026-11-29 1 week" "2026-05-23 2027-05-22 1 year" "2024-11-23 2028-11-22 4 years"; do
    set -- $window
    for form in text json; do
      flag=(); [ "$form" = json ] && flag=(--json)
      measure "agenda $form, $3 $4" env ALMANAC_DATA_DIR="$BENCH_DIR/agenda-10000-{I}" {BIN} agenda "${flag[@]}" \
        --from "$1" --to "$2" --tz Europe/Berlin
    done
  done
fi

if [[ " $PARTS " == *" import "* ]]; then
  file=$(one_file 100000)
  PREPARE="rm -rf '$BENCH_DIR/import'" measure "import 100,000 events (one file)" \
    env ALMANAC_DATA_DIR="$BENCH_DIR/import" {BIN} import "$file" --calendar Bench
fi

if [[ " $PARTS " == *" sync "* ]]; then
  SERVER=${SERVER:-}
  if [ -z "$SERVER" ]; then
    log "building the emulator (cargo build --release --example caldav_server)"
    CARGO_TARGET_DIR=$TARGET cargo build --release --quiet --example caldav_server
    SERVER=$TARGET/release/examples/caldav_server
  fi
  for n in $SIZES; do
    file=$(one_file "$n")
    rm -f "$BENCH_DIR/url"
    "$SERVER" "$file" "$BENCH_DIR/url" &
    server=$!
    trap 'kill $server 2>/dev/null || true' EXIT
    while [ ! -s "$BENCH_DIR/url" ]; do sleep 0.2; done
    printf '[[account]]\nname = "bench"\nkind = "caldav"\nurl = "%s"\nusername = "bench"\npassword = { value = "bench" }\n' \
      "$(cat "$BENCH_DIR/url")" >"$BENCH_DIR/sync.toml"
    PREPARE="rm -rf '$BENCH_DIR/sync'" measure "first sync, $n events" \
      env ALMANAC_CONFIG="$BENCH_DIR/sync.toml" ALMANAC_DATA_DIR="$BENCH_DIR/sync" {BIN} sync
    kill "$server"; wait "$server" 2>/dev/null || true
  done
fi
