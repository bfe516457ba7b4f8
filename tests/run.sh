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

cargo test --locked --no-fail-fast
# The benchmarks are measured by hand (benches/README.md); here they only have to build.
cargo bench --locked --no-run
