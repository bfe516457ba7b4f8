# The benchmark scripts' emulator plumbing, sourced by google_sync.sh and graph_sync.sh: an
# emulator example run as a coprocess and driven by commands on its stdin, and one timed
# `almanac sync --json` round. Expects log(), BIN, WORK and ROWS to be set by the script.

# start_server NAME CMD...: runs CMD as a coprocess (commands on its stdin, answers on its
# stdout) and waits for its `ready URL` line; sets SERVER_URL.
start_server() {
  local name=$1 line
  shift
  coproc SRV { exec "$@" 2>"$WORK/$name.err"; }
  SERVER_PID=$SRV_PID
  # Copies of the coprocess's pipes: its own are not inherited by subshells ($(ask ...)).
  exec {TO_SERVER}>&"${SRV[1]}" {FROM_SERVER}<&"${SRV[0]}"
  IFS= read -r line <&"$FROM_SERVER" || { cat "$WORK/$name.err" >&2; exit 1; }
  [[ $line == "ready "* ]] || { echo "$name: $line" >&2; exit 1; }
  SERVER_URL=${line#ready }
  log "$name ready: $SERVER_URL"
}

stop_server() {
  [ -z "${SRV[1]:-}" ] || eval "exec ${SRV[1]}>&-"
  [ -z "${SRV[0]:-}" ] || eval "exec ${SRV[0]}<&-"
  exec {TO_SERVER}>&- {FROM_SERVER}<&-
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

# ask COMMAND: sends one command line, prints the answer lines before `ok`; fails on `error`.
ask() {
  local line
  printf '%s\n' "$1" >&"$TO_SERVER"
  while IFS= read -r line <&"$FROM_SERVER"; do
    case $line in
      ok) return 0 ;;
      error*) echo "server: $line (after: $1)" >&2; return 1 ;;
      *) printf '%s\n' "$line" ;;
    esac
  done
  echo "server: no answer to $1" >&2
  return 1
}

# sync_round PART RUN CFG DATA: one `sync --json`, timed; appends a row to $ROWS with the
# server's count of the round's requests (asked with `count`, after a `reset` by the caller).
sync_round() {
  local part=$1 run=$2 cfg=$3 data=$4 t0 t1 server_count
  t0=$EPOCHREALTIME
  /usr/bin/time -f '%U %S' -o "$WORK/cpu" \
    "$BIN" --config "$cfg" --data-dir "$data" sync --json >"$WORK/sync.json" 2>"$WORK/sync.err" \
    || { cat "$WORK/sync.err" >&2; echo "sync failed ($part)" >&2; exit 1; }
  t1=$EPOCHREALTIME
  server_count=$(ask count | awk '/^requests/ {print $2}')
  python3 - "$part" "$run" "$t0" "$t1" "$server_count" "$WORK/sync.json" "$WORK/cpu" >>"$ROWS" <<'EOF'
import json, sys
part, run, t0, t1, server, path, cpu = sys.argv[1:]
cpu = sum(float(x) for x in open(cpu).read().split()[-2:])
accounts = json.load(open(path))
a = accounts[0]
if a.get("error"):
    sys.exit(f"{part}: {a['error']}")
c = a["calendars"][0]
if c.get("error"):
    sys.exit(f"{part}: {c['error']}")
print("\t".join(str(x) for x in [part, run, f"{float(t1) - float(t0):.4f}", a["requests"], server,
      a["bytes"], c["duration_ms"], c["added"], c["changed"], c["removed"], f"{cpu:.2f}"]))
EOF
}
