#!/usr/bin/env bash
# The whole test suite, on a clean machine too: installs what the tests need, then runs them.
# Under CI=true a test whose tool or server is missing fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v tmux >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing tmux (the end-to-end test runs the TUI in it)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null
  else
    echo "note: tmux is missing; install it (apt-get install tmux) for the end-to-end test" >&2
  fi
fi

# Radicale and Xandikos (and vdirsyncer, for the sync benchmark) in a venv under target/.
bash tests/interop/setup.sh

started=$(date +%s)
# A clean clone gains nothing from incremental state; it only costs disk.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# The benchmarks are measured by hand (benches/README.md); here they only have to build.
cargo bench --locked --no-run

# Every test binary, then one line over all of them: what passed and failed, and how long it took.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --locked --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
read -r passed failed ignored < <(
  grep -E '^test result:' "$log" | awk '
    { for (i = 1; i < NF; i++) {
        if ($(i + 1) ~ /^passed;?$/) p += $i
        if ($(i + 1) ~ /^failed;?$/) f += $i
        if ($(i + 1) ~ /^ignored;?$/) g += $i } }
    END { print p + 0, f + 0, g + 0 }')
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # No test failed, yet cargo did: a test binary did not build or crashed. Count it as a failure.
  echo "cargo test exited with $status without a failed test: see the output above" >&2
  failed=1
fi
elapsed=$(( $(date +%s) - started ))
echo "wall time: $((elapsed / 60)) min $((elapsed % 60)) s"
echo "total: $passed passed, $failed failed, $ignored skipped"
exit "$status"
