#!/usr/bin/env bash
# Microsoft Graph, end to end (issue 13): the release binary against the built-in Graph emulator
# (examples/graph_server.rs), run as a separate process on a loopback port.
#
# EVENTS events in the default window of one calendar (default 10,000, 200 of them weekly series
# of 10 occurrences with one moved each):
#   first    a first sync into a fresh --data-dir, next to `curl` fetching the same URLs (the ones
#            the emulator logged for almanac's first sync: calendar list, delta pages, masters)
#            with the same bearer token and the same Prefer header, one after the other over one
#            connection; alternating runs (almanac, curl, almanac, curl ...), the ratio per pair,
#            its median. Goal: ceil(N/100) delta pages + 1 master per series (+ the calendar
#            list), wall <= 1.5x curl.
#   nochange a sync with no change. Goal: 1 delta request per calendar + 1 calendar list.
#   k        a sync after k changes by another client (k in K_LIST; 8 in 10 a single's subject,
#            1 in 10 a new single, 1 in 10 a series master's subject). Goal: 2 + ceil(k/100) - 1
#            + the masters of the changed series.
# Every round is the whole `almanac --config CFG --data-dir DIR sync --json` process: its wall
# clock (bash $EPOCHREALTIME around it), and from its JSON the requests, bytes, duration_ms and
# added/changed/removed; requests are checked against the server's own count. Each figure is the
# median of RUNS runs (default 7).
#
# usage: benches/graph_sync.sh [BIN]      BIN defaults to a fresh `cargo build --release`
# Env: RUNS (7), EVENTS (10000), K_LIST ("1 10 100 1000"), KEEP (1: keep the work dir),
#      GRAPH_SERVER (a built example: no build), CARGO_TARGET_DIR.
#      Needs curl, python3 and GNU time (/usr/bin/time, for the client's CPU).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-7}
EVENTS=${EVENTS:-10000}
K_LIST=${K_LIST:-"1 10 100 1000"}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
log() { echo "== $*" >&2; }

command -v curl >/dev/null || { echo "curl is required" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is required" >&2; exit 1; }

if [ $# -ge 1 ]; then
  BIN=$(realpath "$1")
else
  log "building (cargo build --release)"
  CARGO_TARGET_DIR=$TARGET cargo build --release --quiet
  BIN=$(realpath "$TARGET/release/almanac")
fi
if [ -z "${GRAPH_SERVER:-}" ]; then
  log "building the server (cargo build --release --example graph_server)"
  CARGO_TARGET_DIR=$TARGET cargo build --release --quiet --example graph_server
fi
GRAPH_SERVER=${GRAPH_SERVER:-$TARGET/release/examples/graph_server}

WORK=$(mktemp -d /tmp/almanac-graph-bench.XXXXXX)
ROWS=$WORK/rows.tsv # part, run, wall_s, requests (client), requests (server), bytes, duration_ms, added, changed, removed, client cpu s
: >"$ROWS"
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "${KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=benches/coproc.sh
source "$ROOT/benches/coproc.sh"
log "graph: seeding $EVENTS events (examples/graph_server.rs)"
start_server graph "$GRAPH_SERVER" "$EVENTS" "$WORK/graph"
CFG=$WORK/graph/config.toml

# The URLs of a round, links' tokens masked (they name the round and the time they were made)
# and sorted (masters are fetched four at a time, in any order).
masked() { sed -E 's/((skiptoken|deltatoken)=)[^&]*/\1…/' "$1" | sort; }

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# --- first sync, next to curl ----------------------------------------------------------------
CURL_ARGS=()
for run in $(seq 0 "$RUNS"); do # run 0: a warm-up of each, not counted
  data=$WORK/graph/first-$run
  token=$(ask "login $data" | awk '/^token/ {print $2}')
  ask reset
  sync_round first "$run" "$CFG" "$data"
  ask log | awk '$1 == "req" {print $4}' >"$WORK/urls-$run"
  if [ "$run" = 0 ]; then
    prefer=$(ask prefer | sed -n 's/^prefer //p')
    [ "$(printf '%s\n' "$prefer" | wc -l)" = 1 ] || { echo "more than one Prefer header: $prefer" >&2; exit 1; }
    ORIGIN=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(f"{p.scheme}://{p.netloc}")' "$SERVER_URL")
    CURL_ARGS=(-s -g --fail -H "Authorization: Bearer $token" -H "Prefer: $prefer"
      -w '%{http_code} %{size_download}\n')
    while IFS= read -r path; do CURL_ARGS+=(-o /dev/null "$ORIGIN$path"); done <"$WORK/urls-0"
    log "first sync: $(wc -l <"$WORK/urls-0") requests; curl replays them (Prefer: $prefer)"
  elif ! cmp -s <(masked "$WORK/urls-0") <(masked "$WORK/urls-$run"); then
    echo "first sync $run asked for other URLs than the first run" >&2
    exit 1
  fi
  # curl, the same URLs (run 0's links: the calendar does not change meanwhile) and token.
  ask reset
  t0=$EPOCHREALTIME
  curl "${CURL_ARGS[@]}" >"$WORK/curl.out"
  t1=$EPOCHREALTIME
  n=$(ask count | awk '/^requests/ {print $2}')
  bytes=$(awk '{s += $2} END {print s}' "$WORK/curl.out")
  printf 'curl\t%s\t%s\t%s\t%s\t%s\t\t\t\t\t\n' "$run" "$(python3 -c "print(f'{$t1 - $t0:.4f}')")" \
    "$(wc -l <"$WORK/curl.out")" "$n" "$bytes" >>"$ROWS"
  [ "$run" = 0 ] || rm -rf "$data"
done
awk '{print $1}' "$WORK/urls-0" | sed -E 's/\?.*//; s#/v1.0/me/events/[^/]+#/v1.0/me/events/{id}#; s#/calendars/[^/]+/#/calendars/{id}/#' \
  | sort | uniq -c | sed 's/^/  first sync: /' >&2

# --- no change, then k changes, on the warm-up's cache ---------------------------------------
data=$WORK/graph/first-0
for run in $(seq 1 "$RUNS"); do
  ask reset
  sync_round nochange "$run" "$CFG" "$data"
done
for k in $K_LIST; do
  for run in $(seq 1 "$RUNS"); do
    ask "change $k"
    ask reset
    sync_round "k=$k" "$run" "$CFG" "$data"
    if [ "$run" = 1 ]; then
      ask log | awk '$1 == "req" {print $4}' | sed -E 's/\?.*//; s#/v1.0/me/events/[^/]+#/v1.0/me/events/{id}#; s#/calendars/[^/]+/#/calendars/{id}/#' \
        | sort | uniq -c | sed "s/^/  k=$k: /" >&2
    fi
  done
done
ask violations | sed 's/^/graph emulator: /' >&2

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "load average (1, 5, 15 min): before $LOAD_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg)"
if [ $# -ge 1 ]; then
  echo "binary: $BIN (given), runs: $RUNS"
else
  echo "rev: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src modified)'), runs: $RUNS"
fi
python3 - "$ROWS" "$EVENTS" <<'EOF'
import math, statistics as st, sys
path, events = sys.argv[1], int(sys.argv[2])
PAGE, SERIES, OCC = 100, min(200, events // 50), 10
rows = {}
for line in open(path):
    f = line.rstrip("\n").split("\t")
    rows.setdefault(f[0], []).append(f)
counted = lambda part: [r for r in rows.get(part, []) if r[1] != "0"]
med = lambda xs: st.median(xs) if xs else float("nan")
num = lambda r, i: float(r[i]) if r[i] != "" else float("nan")

def distinct(rs, i):
    return "/".join(sorted({r[i] for r in rs}))

def kinds(k):
    """Of k changes by graph_server: (subject edits, new singles, series edits)."""
    s = sum(1 for c in range(k) if c % 10 == 9)
    a = sum(1 for c in range(k) if c % 10 == 4)
    return k - s - a, a, s

# The issue's formula, and what the protocol makes of it (delta pages of the changed items, a
# changed master's occurrences all sent again, a changed series' /instances fetched).
goals, model = {}, {}
goals["first"] = math.ceil(events / PAGE) + SERIES
model["first"] = 1 + goals["first"]
goals["nochange"] = model["nochange"] = 2
for part in rows:
    if part.startswith("k="):
        k = int(part[2:])
        e, a, s = kinds(k)
        goals[part] = 2 + math.ceil(k / PAGE) - 1 + s
        # The moved occurrence is an exception of its own: a master edit leaves it as it was.
        items = e + a + s * (OCC - 1)
        model[part] = 2 + math.ceil(items / PAGE) - 1 + 2 * s * math.ceil(OCC / PAGE)

print()
print("| round | requests (client / server) | issue's formula | expected (calendar list, delta pages, masters, instances) | bytes | in-process ms (median) | wall s (median, min-max) | client CPU s (median) | added / changed / removed |")
print("|---|---|---|---|---:|---:|---:|---:|---|")
for part in rows:
    if part == "curl":
        continue
    rs = counted(part) or rows[part]
    walls = [num(r, 2) for r in rs]
    req = f"{distinct(rs, 3)} / {distinct(rs, 4)}"
    exp = model.get(part)
    verdict = "" if exp is None else (f"{exp} (as expected)" if all(int(r[3]) == exp for r in rs) else f"{exp} (DIFFERS)")
    acr = distinct(rs, 7) + " / " + distinct(rs, 8) + " / " + distinct(rs, 9)
    print(f"| {part} ({len(rs)} runs) | {req} | {goals.get(part, '')} | {verdict} | {int(med([num(r, 5) for r in rs]))} "
          f"| {med([num(r, 6) for r in rs]):.0f} | {med(walls):.3f} ({min(walls):.3f}-{max(walls):.3f}) "
          f"| {med([num(r, 10) for r in rs]):.2f} | {acr} |")

a, b = counted("first"), counted("curl")
if a and b:
    pairs = [(float(x[2]), float(y[2])) for x, y in zip(a, b)]
    ratios = [x / y for x, y in pairs]
    print()
    print(f"first sync vs curl ({len(pairs)} pairs, alternating): almanac {med([p[0] for p in pairs]):.3f} s, "
          f"curl {med([p[1] for p in pairs]):.3f} s ({distinct(b, 3)} requests, {int(med([num(r, 5) for r in b]))} bytes); "
          f"ratio per pair: median {med(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f}); "
          f"goal <= 1.5: {'PASS' if med(ratios) <= 1.5 else 'MISS'}")
    inproc = [float(x[6]) / 1000 / y for x, y in zip(a, [p[1] for p in pairs])]
    print(f"  the round alone (duration_ms) / curl: median {med(inproc):.2f}")
EOF
