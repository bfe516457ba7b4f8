#!/usr/bin/env bash
# Google Calendar and subscriptions, end to end (issue 12): the release binary against the built-in
# Google emulator (examples/google_server.rs) and the built-in feed server (examples/feed_server.rs),
# each run as a separate process on a loopback port.
#
# Google, EVENTS listed items in one calendar (default 10,000):
#   first    a first sync into a fresh --data-dir, next to `curl` fetching the same URLs (the ones
#            the emulator logged for almanac's first sync) with the same bearer token, one after
#            the other over one connection; alternating runs (almanac, curl, almanac, curl ...),
#            the ratio per pair, its median. Goal: requests = ceil(N/1000) + 2, wall <= 1.5x curl.
#   nochange a sync with no change. Goal: 1 events request per calendar + 1 calendarList request.
#   first-stale-token  one first sync whose saved access token has expired (a POST /token first).
#   k        a sync after k changes by another client (k in K_LIST): goal 2 + ceil(k/1000) - 1.
# Subscription (kind = "ics"), FEED_EVENTS UIDs (default 5,000):
#   304      a round against an unchanged feed. Goal: one request.
#   changed  a round after a new version of the feed: FEED_CHANGE ("50 10 10": 50 events with a new
#            summary, 10 added, 10 removed) and every DTSTAMP rewritten. Goal: under 1 s (median).
#   restamp  a round after a version in which only the DTSTAMPs differ (nothing to apply).
# Every round is the whole `almanac --config CFG --data-dir DIR sync --json` process: its wall
# clock (bash $EPOCHREALTIME around it), and from its JSON the per-calendar requests, bytes,
# duration_ms and added/changed/removed; requests are checked against the server's own count.
# Each figure is the median of RUNS runs (default 7).
#
# usage: benches/google_sync.sh [BIN]      BIN defaults to a fresh `cargo build --release`
# Env: RUNS (7), EVENTS (10000), K_LIST ("1 10 1000 2500"), FEED_EVENTS (5000),
#      FEED_CHANGE ("50 10 10"), PARTS ("google feed"), KEEP (1: keep the work dir),
#      GOOGLE_SERVER, FEED_SERVER (built examples: no build), CARGO_TARGET_DIR.
#      Needs curl, python3 and GNU time (/usr/bin/time, for the client's CPU).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-7}
EVENTS=${EVENTS:-10000}
K_LIST=${K_LIST:-"1 10 1000 2500"}
FEED_EVENTS=${FEED_EVENTS:-5000}
FEED_CHANGE=${FEED_CHANGE:-"50 10 10"}
PARTS=${PARTS:-"google feed"}
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
if [ -z "${GOOGLE_SERVER:-}" ] || [ -z "${FEED_SERVER:-}" ]; then
  log "building the servers (cargo build --release --example google_server --example feed_server)"
  CARGO_TARGET_DIR=$TARGET cargo build --release --quiet --example google_server --example feed_server
fi
GOOGLE_SERVER=${GOOGLE_SERVER:-$TARGET/release/examples/google_server}
FEED_SERVER=${FEED_SERVER:-$TARGET/release/examples/feed_server}

WORK=$(mktemp -d /tmp/almanac-google-bench.XXXXXX)
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

# server_delta: the feed server counts all requests; turns the running total into this round's.
LAST_FEED_COUNT=0

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

if [[ " $PARTS " == *" google "* ]]; then
  log "google: seeding $EVENTS items (examples/google_server.rs)"
  start_server google "$GOOGLE_SERVER" "$EVENTS" "$WORK/google"
  CFG=$WORK/google/config.toml

  # --- first sync, next to curl ------------------------------------------------------------
  TOKEN=
  CURL_ARGS=()
  for run in $(seq 0 "$RUNS"); do # run 0: a warm-up of each, not counted
    data=$WORK/google/first-$run
    TOKEN=$(ask "login $data" | awk '/^token/ {print $2}')
    ask reset
    sync_round first "$run" "$CFG" "$data"
    ask log | awk '$1 == "req" {print $4}' >"$WORK/urls-$run"
    if [ "$run" = 0 ]; then
      ORIGIN=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(f"{p.scheme}://{p.netloc}")' "$SERVER_URL")
      CURL_ARGS=(-s --fail -H "Authorization: Bearer $TOKEN" -w '%{http_code} %{size_download}\n')
      while IFS= read -r path; do CURL_ARGS+=(-o /dev/null "$ORIGIN$path"); done <"$WORK/urls-0"
      log "first sync: $(wc -l <"$WORK/urls-0") requests; curl replays them"
    elif ! cmp -s "$WORK/urls-0" "$WORK/urls-$run"; then
      echo "first sync $run asked for other URLs than the first run" >&2
      exit 1
    fi
    # curl, the same URLs and token (the token of run 0 stays valid for an hour).
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

  # --- a first sync whose saved access token has expired: a token refresh comes first -------
  data=$WORK/google/first-stale
  ask "login $data" >/dev/null
  python3 - "$data/tokens" <<'EOF'
import glob, json, sys
for p in glob.glob(sys.argv[1] + "/*.json"):
    t = json.load(open(p)); t["expires_at"] = 0; json.dump(t, open(p, "w"))
EOF
  ask reset
  sync_round first-stale-token 1 "$CFG" "$data"
  rm -rf "$data"

  # --- no change, then k changes, on the warm-up's cache --------------------------------------
  data=$WORK/google/first-0
  for run in $(seq 1 "$RUNS"); do
    ask reset
    sync_round nochange "$run" "$CFG" "$data"
  done
  for k in $K_LIST; do
    for run in $(seq 1 "$RUNS"); do
      ask "change $k"
      ask reset
      sync_round "k=$k" "$run" "$CFG" "$data"
    done
  done
  ask violations | sed 's/^/google emulator: /' >&2
  stop_server
fi

if [[ " $PARTS " == *" feed "* ]]; then
  log "feed: $FEED_EVENTS events (examples/feed_server.rs)"
  start_server feed "$FEED_SERVER" "$FEED_EVENTS" "$WORK/feed"
  CFG=$WORK/feed/config.toml
  FEED_BYTES=$(ask bytes | awk '{print $2}')
  data=$WORK/feed/data
  # feed_count: this round's requests (the server counts since its start).
  feed_round() {
    sync_round "$1" "$2" "$CFG" "$data"
    local total
    total=$(ask count | awk '/^requests/ {print $2}')
    # The row's server column holds the running total: make it this round's.
    python3 - "$ROWS" "$LAST_FEED_COUNT" <<'EOF'
import sys
path, before = sys.argv[1], int(sys.argv[2])
lines = open(path).read().splitlines()
f = lines[-1].split("\t")
f[4] = str(int(f[4]) - before)
lines[-1] = "\t".join(f)
open(path, "w").write("\n".join(lines) + "\n")
EOF
    LAST_FEED_COUNT=$total
  }
  feed_round feed-first 0
  for run in $(seq 1 "$RUNS"); do
    feed_round feed-304 "$run"
  done
  for run in $(seq 1 "$RUNS"); do
    ask "change $FEED_CHANGE"
    feed_round feed-changed "$run"
  done
  for run in $(seq 1 "$RUNS"); do
    ask restamp
    feed_round feed-restamp "$run"
  done
  log "feed: $FEED_BYTES bytes"
  stop_server
fi

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "load average (1, 5, 15 min): before $LOAD_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg)"
if [ $# -ge 1 ]; then
  echo "binary: $BIN (given), runs: $RUNS"
else
  echo "rev: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src modified)'), runs: $RUNS"
fi
python3 - "$ROWS" "$EVENTS" "$FEED_EVENTS" "${FEED_BYTES:-0}" <<'EOF'
import math, statistics as st, sys
path, events, feed_events, feed_bytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows = {}
for line in open(path):
    f = line.rstrip("\n").split("\t")
    rows.setdefault(f[0], []).append(f)
counted = lambda part: [r for r in rows.get(part, []) if r[1] != "0"]
med = lambda xs: st.median(xs) if xs else float("nan")
num = lambda r, i: float(r[i]) if r[i] != "" else float("nan")

def distinct(rs, i):
    vals = sorted({r[i] for r in rs})
    return "/".join(vals)

print()
print("| round | requests (client / server) | goal | bytes | in-process ms (median) | wall s (median, min-max) | client CPU s (median) | added / changed / removed |")
print("|---|---|---|---:|---:|---:|---:|---|")
goals = {
    "first": math.ceil(events / 1000) + 2,
    "first-stale-token": math.ceil(events / 1000) + 2,
    "nochange": 2,
    "feed-304": 1, "feed-changed": 1, "feed-restamp": 1, "feed-first": 1,
}
for part in rows:
    if part == "curl":
        continue
    rs = counted(part) or rows[part]
    goal = goals.get(part)
    if part.startswith("k="):
        k = int(part[2:])
        goal = 2 + math.ceil(k / 1000) - 1
    walls = [num(r, 2) for r in rs]
    req = f"{distinct(rs, 3)} / {distinct(rs, 4)}"
    verdict = ""
    if goal is not None:
        if all(int(r[3]) == goal for r in rs):
            verdict = f"{goal} (PASS)"
        elif all(int(r[3]) < goal for r in rs):
            verdict = f"{goal} (fewer)"
        else:
            verdict = f"{goal} (MISS)"
    acr = distinct(rs, 7) + " / " + distinct(rs, 8) + " / " + distinct(rs, 9)
    print(f"| {part} ({len(rs)} runs) | {req} | {verdict} | {int(med([num(r, 5) for r in rs]))} "
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
    inproc = [float(x[6]) / 1000 / y for x, y in zip([r for r in a], [p[1] for p in pairs])]
    print(f"  the round alone (duration_ms) / curl: median {med(inproc):.2f}")
fc = counted("feed-changed")
if fc:
    m = med([float(r[6]) for r in fc])
    print(f"changed feed ({feed_events} UIDs, {feed_bytes} bytes): round median {m:.0f} ms, whole process "
          f"{med([float(r[2]) for r in fc]):.3f} s; goal < 1 s: {'PASS' if m < 1000 else 'MISS'}")
EOF
