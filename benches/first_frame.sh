#!/usr/bin/env bash
# End-to-end start-up benchmark: the release binary in a real terminal (a private tmux server).
#
# For an empty cache (the sample is seeded on every run), 10,000 and 100,000 events, it starts
# `almanac` RUNS times at 160x48 on 2026-11-23 (Europe/Berlin) and reports
#   - first frame: the `first frame drawn ms=…` line the app logs (time since main() began),
#   - spawn→log: wall time from asking tmux for the pane to seeing that line (an upper bound that
#     includes tmux, exec and the log writer's thread; polled every 5 ms),
#   - VmRSS / VmHWM of the almanac process after the first frame, and again after paging
#     n n n p p p (each key waits for its month title to appear on the screen).
#
# Caches are built through the real CLI (`almanac import FILE --calendar NAME`) from files written by
# benches/gen_ics.py. The OS page cache is warm (the files were just written): this measures the
# program, not the disk.
#
# usage: benches/first_frame.sh            (RUNS=15 SIZES="0 10000 100000" by default)
#        RUNS=5 SIZES="100000" benches/first_frame.sh
# Respects CARGO_TARGET_DIR. Needs: cargo, tmux, python3.
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS=${RUNS:-15}
SIZES=${SIZES:-"0 10000 100000"}
CHUNK=${CHUNK:-5000} # events per imported file (see the README: import is quadratic in file size)
WORK=${BENCH_DIR:-$(mktemp -d /tmp/almanac-bench.XXXXXX)}
SOCK=almanac-bench
TARGET=${CARGO_TARGET_DIR:-target}
mkdir -p "$WORK"

command -v tmux >/dev/null || { echo "tmux is required" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 1; }

tm() { tmux -L "$SOCK" -f /dev/null "$@"; }
cleanup() { tm kill-server 2>/dev/null || true; }
trap cleanup EXIT

echo "== building (cargo build --release)" >&2
cargo build --release --quiet
BIN=$(realpath "$TARGET/release/almanac")

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# median min max of the numbers on stdin
stats() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "- - -"; exit} m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f %.1f %.1f\n", m, a[1], a[NR]}'; }

kb_of() { awk -v k="$1:" '$1==k {print $2}' "/proc/$2/status" 2>/dev/null || echo 0; }

# Waits (up to 10 s) until the pane shows $1.
wait_screen() {
  local want=$1 deadline=$(($(now_ms) + 10000))
  until tm capture-pane -p -t bench 2>/dev/null | grep -qF -- "$want"; do
    (($(now_ms) < deadline)) || { echo "timed out waiting for '$want'" >&2; return 1; }
    sleep 0.01
  done
}

prepare() { # size -> data dir (empty for 0)
  local n=$1 dir=$WORK/data-$1
  if ((n == 0)); then
    echo "$dir"
    return
  fi
  if [[ ! -f $dir/almanac.sqlite3 ]]; then
    echo "== generating and importing $n events" >&2
    rm -rf "$dir" "$WORK/ics-$n"
    python3 benches/gen_ics.py "$n" "$WORK/ics-$n" --chunk "$CHUNK" >"$WORK/ics-$n.list"
    local t0 t1
    t0=$(now_ms)
    while read -r cal file; do
      ALMANAC_DATA_DIR=$dir ALMANAC_TODAY=2026-11-23 "$BIN" import "$file" --calendar "$cal" >/dev/null
    done <"$WORK/ics-$n.list"
    t1=$(now_ms)
    echo "   import: $((t1 - t0)) ms for $n events in $(wc -l <"$WORK/ics-$n.list") files;" \
      "cache $(du -m "$dir/almanac.sqlite3" | cut -f1) MB" >&2
  fi
  echo "$dir"
}

run_once() { # data dir -> "first_frame_ms spawn_ms rss_kb hwm_kb rss_after_kb hwm_after_kb"
  local dir=$1 log=$1/log/almanac.log pid t0 line ms="" spawn
  mkdir -p "$dir/log" "$WORK/cfg"
  : >"$log"
  t0=$(date +%s%N)
  tm new-session -d -s bench -x 160 -y 48 \
    "exec env ALMANAC_DATA_DIR='$dir' XDG_CONFIG_HOME='$WORK/cfg' ALMANAC_TODAY=2026-11-23 TZ=Europe/Berlin TERM=xterm-256color '$BIN'"
  pid=$(tm display-message -p -t bench '#{pane_pid}')
  local deadline=$(($(now_ms) + 10000))
  while [[ -z $ms ]]; do
    while IFS= read -r line; do
      if [[ $line == *"first frame drawn"* && $line =~ ms=([0-9.]+) ]]; then
        ms=${BASH_REMATCH[1]}
      fi
    done <"$log"
    [[ -n $ms ]] && break
    (($(now_ms) < deadline)) || { echo "no 'first frame drawn' in $log" >&2; tm kill-session -t bench; return 1; }
    sleep 0.005
  done
  spawn=$((($(date +%s%N) - t0) / 1000000))
  local rss hwm
  rss=$(kb_of VmRSS "$pid")
  hwm=$(kb_of VmHWM "$pid")
  wait_screen "November 2026"
  local k want
  for step in "n December 2026" "n January 2027" "n February 2027" \
    "p January 2027" "p December 2026" "p November 2026"; do
    k=${step%% *} want=${step#* }
    tm send-keys -t bench "$k"
    wait_screen " $want"
  done
  sleep 0.3 # let a background load that paging asked for finish
  local rss2 hwm2
  rss2=$(kb_of VmRSS "$pid")
  hwm2=$(kb_of VmHWM "$pid")
  tm send-keys -t bench q
  for _ in $(seq 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
  done
  tm kill-session -t bench 2>/dev/null || true
  echo "$ms $spawn $rss $hwm $rss2 $hwm2"
}

# One idle session keeps the tmux server up between runs, so server start-up is not in spawn->log.
tm new-session -d -s keep -x 160 -y 48 "sleep 86400"
tm set-option -g escape-time 0 >/dev/null

printf '\n%-8s %-18s %-18s %-10s %-10s %-10s %-10s\n' events "first frame ms" "spawn->log ms" "VmRSS MB" "VmHWM MB" "RSS paged" "HWM paged"
printf '%-8s %-18s %-18s %-10s %-10s %-10s %-10s\n' "" "med (min-max)" "med (min-max)" median median median median
for n in $SIZES; do
  dir=$(prepare "$n")
  out=$WORK/runs-$n.txt
  : >"$out"
  for i in $(seq "$RUNS"); do
    if ((n == 0)); then rm -rf "$dir"; fi # every run seeds the sample afresh
    run_once "$dir" >>"$out"
  done
  read -r fm fmin fmax < <(cut -d' ' -f1 "$out" | stats)
  read -r sm smin smax < <(cut -d' ' -f2 "$out" | stats)
  mb() { cut -d' ' -f"$1" "$out" | awk '{print $1/1024}' | stats | cut -d' ' -f1; }
  printf '%-8s %-18s %-18s %-10s %-10s %-10s %-10s\n' "$n" "$fm ($fmin-$fmax)" "$sm ($smin-$smax)" \
    "$(mb 3)" "$(mb 4)" "$(mb 5)" "$(mb 6)"
done
echo
echo "raw runs (first_frame_ms spawn_ms VmRSS_kB VmHWM_kB VmRSS_paged_kB VmHWM_paged_kB): $WORK/runs-*.txt"
