#!/usr/bin/env bash
# Installs the CalDAV servers the interop tests run against (Radicale, Xandikos) and vdirsyncer
# (for the sync benchmark) into a Python venv, at pinned versions. Idempotent, and a fast no-op
# when the venv already holds all three at those versions: run it before every test run.
#   venv: ${ALMANAC_INTEROP_VENV:-<repo>/target/interop-venv}   python: ${PYTHON:-python3}
set -euo pipefail
cd "$(dirname "$0")/../.."

RADICALE=3.9.0
XANDIKOS=0.4.10
VDIRSYNCER=0.21.0
VENV="${ALMANAC_INTEROP_VENV:-$PWD/target/interop-venv}"
PYTHON="${PYTHON:-python3}"

# True when the venv's site-packages holds NAME at VERSION (pip's dist-info directory).
has() {
  compgen -G "$VENV/lib/python3*/site-packages/$1-$2.dist-info" >/dev/null
}

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c '' 2>/dev/null \
  && [ -x "$VENV/bin/radicale" ] && [ -x "$VENV/bin/xandikos" ] && [ -x "$VENV/bin/vdirsyncer" ] \
  && has radicale "$RADICALE" && has xandikos "$XANDIKOS" && has vdirsyncer "$VDIRSYNCER"; then
  echo "interop venv: up to date at $VENV (radicale $RADICALE, xandikos $XANDIKOS, vdirsyncer $VDIRSYNCER)"
  exit 0
fi

if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "interop venv: installing python3-venv (the venv module is missing)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  else
    echo "interop venv: $PYTHON has no venv module; install python3-venv (apt-get install python3-venv)" >&2
    exit 1
  fi
fi

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c '' 2>/dev/null; then
  echo "interop venv: reusing $VENV"
else
  echo "interop venv: creating $VENV with $("$PYTHON" --version 2>&1)"
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  "$PYTHON" -m venv "$VENV"
fi

echo "interop venv: pip install radicale==$RADICALE xandikos==$XANDIKOS vdirsyncer==$VDIRSYNCER"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  "radicale==$RADICALE" "xandikos==$XANDIKOS" "vdirsyncer==$VDIRSYNCER"

for pkg in "radicale $RADICALE" "xandikos $XANDIKOS" "vdirsyncer $VDIRSYNCER"; do
  set -- $pkg
  if ! has "$1" "$2"; then
    echo "interop venv: $1 $2 is not in $VENV after pip install" >&2
    exit 1
  fi
done
echo "interop venv: ready at $VENV"
