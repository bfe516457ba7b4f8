#!/usr/bin/env bash
# Regenerates the PNG screenshots in screenshots/ from a real terminal.
#
# Runs the release build of almanac inside a private, detached tmux server
# with a fixed size, a fixed "today" and an empty data directory, drives it
# with send-keys, captures each view with `tmux capture-pane -e` and renders
# the capture to PNG with screenshots/render.py (Pillow, in ./.venv).
#
#   screenshots/make.sh            # build, then shoot every view
#   ALMANAC_BIN=path screenshots/make.sh   # use that binary, skip the build
#
# Needs: tmux, python3 (with venv), cargo, curl. To add a view, add one `shot` line
# at the bottom: shot NAME KEYS... WAIT_TEXT
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
OUT=screenshots
COLS=120
ROWS=36
TODAY=2026-11-23
ZONE=Europe/Berlin
SOCK=almanac-shots # private tmux socket: never touches the user's tmux
SESSION=shots
TIMEOUT=10 # seconds to wait for a view

die() {
	echo "make.sh: $*" >&2
	exit 1
}

command -v tmux >/dev/null || die "tmux is required (apt-get install tmux)"

# --- Python + Pillow for the renderer ---------------------------------------
VENV=$ROOT/.venv
PY=$VENV/bin/python
if [[ ! -x $PY ]]; then
	python3 -m venv "$VENV"
fi
if ! "$PY" -c 'import PIL' 2>/dev/null; then
	"$PY" -m pip install --quiet --disable-pip-version-check pillow
fi

# --- a CJK font, so wide characters in the sample render as glyphs, not boxes ---
if command -v fc-list >/dev/null && [[ -z $(fc-list :lang=zh 2>/dev/null) ]]; then
	if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null 2>&1 ||
			echo "note: could not install fonts-wqy-microhei; CJK will show as boxes" >&2
	fi
fi

# --- the binary ------------------------------------------------------------
if [[ -n ${ALMANAC_BIN:-} ]]; then
	BIN=$(realpath "$ALMANAC_BIN")
else
	cargo build --release --bin almanac
	BIN=$ROOT/target/release/almanac
fi
[[ -x $BIN ]] || die "no binary at $BIN"

# --- private tmux server -----------------------------------------------------
work=$(mktemp -d)
data=$work/data
mkdir -p "$data"

t() { tmux -u -L "$SOCK" -f "$work/tmux.conf" "$@"; }

cleanup() {
	tmux -L "$SOCK" kill-server 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/tmux.conf" <<'EOF'
set -g status off
set -g default-terminal xterm-256color
set -g remain-on-exit on
set -g history-limit 5000
EOF

# A stale server from an interrupted run would keep the old session.
tmux -L "$SOCK" kill-server 2>/dev/null || true

# The exit status goes to a file: tmux does not report it for every command.
t new-session -d -s "$SESSION" -x "$COLS" -y "$ROWS" -c "$ROOT" \
	"env ALMANAC_TODAY=$TODAY TZ=$ZONE ALMANAC_DATA_DIR=$(printf %q "$data") TERM=xterm-256color $(printf %q "$BIN"); echo \$? >$(printf %q "$work/status")"
exit_status() { cat "$work/status" 2>/dev/null || echo unknown; }
size=$(t display-message -p -t "$SESSION" '#{pane_width}x#{pane_height}')
if [[ $size != "${COLS}x${ROWS}" ]]; then
	t resize-window -t "$SESSION" -x "$COLS" -y "$ROWS"
fi

screen_ansi() { t capture-pane -p -e -N -t "$SESSION"; }
screen_text() { t capture-pane -p -N -t "$SESSION"; }
# For error messages: the whole pane including history (a dead pane's last
# output is scrolled into history by tmux's "Pane is dead" line).
dump() { t capture-pane -p -S - -t "$SESSION" | sed '/^[[:space:]]*$/d' >&2 || true; }
pane_dead() { [[ $(t display-message -p -t "$SESSION" '#{pane_dead}') == 1 ]]; }

# wait_view TEXT BEFORE: wait until the screen shows TEXT, differs from BEFORE
# (unless BEFORE is empty) and is the same on two polls in a row (the frame is
# complete). Leaves the screen in $view.
wait_view() {
	local text=$1 before=$2 deadline=$((SECONDS + TIMEOUT)) prev="" cur plain
	while ((SECONDS < deadline)); do
		if pane_dead; then
			dump
			die "almanac exited (status $(exit_status)) while waiting for '$text'"
		fi
		cur=$(screen_ansi)
		plain=$(screen_text)
		if [[ $plain == *"$text"* && $cur != "$before" && $cur == "$prev" ]]; then
			view=$cur
			return 0
		fi
		prev=$cur
		sleep 0.2
	done
	dump
	die "timed out after ${TIMEOUT}s waiting for '$text' (pane contents above)"
}

written=()

# shot NAME [KEYS...] WAIT_TEXT: send KEYS (tmux send-keys names: Enter,
# Escape, Tab, Up, C-s, or literal characters), wait for WAIT_TEXT to appear,
# and write $OUT/NAME.png.
shot() {
	local name=$1
	shift
	(($# >= 1)) || die "shot $name: missing WAIT_TEXT"
	local text=${!#}
	local keys=("${@:1:$#-1}")
	local before=""
	if ((${#keys[@]})); then
		before=$(screen_ansi)
		t send-keys -t "$SESSION" "${keys[@]}"
	fi
	wait_view "$text" "$before"
	printf '%s\n' "$view" >"$work/$name.ansi"
	"$PY" "$OUT/render.py" "$work/$name.ansi" "$OUT/$name.png" --cols "$COLS" --rows "$ROWS"
	written+=("$OUT/$name.png")
}

# keys KEYS...: send keys that are not themselves a shot (e.g. closing an
# overlay) and let the screen settle before the next step.
keys() {
	local before prev="" cur deadline=$((SECONDS + TIMEOUT))
	before=$(screen_ansi)
	t send-keys -t "$SESSION" "$@"
	while ((SECONDS < deadline)); do
		pane_dead && return 0
		cur=$(screen_ansi)
		if [[ $cur != "$before" && $cur == "$prev" ]]; then
			return 0
		fi
		prev=$cur
		sleep 0.2
	done
	echo "make.sh: warning: screen did not change after keys: $*" >&2
}

# quit_cleanly WHAT: press q and wait for the program to exit with status 0.
quit_cleanly() {
	t send-keys -t "$SESSION" q
	local deadline=$((SECONDS + TIMEOUT)) status
	until pane_dead; do
		((SECONDS < deadline)) || die "$1 did not quit on 'q'"
		sleep 0.2
	done
	status=$(exit_status)
	[[ $status == 0 ]] || die "$1 exited with status $status"
}

# --- the views -----------------------------------------------------------------
shot month "November 2026"
shot help '?' "Keys"
keys Escape
shot detail Enter "Calendar"
keys Escape

# --- quit ----------------------------------------------------------------------
quit_cleanly almanac

# --- the demo: live sync from the built-in CalDAV, Google and feed servers, and the sync pane ---
t kill-session -t "$SESSION"
rm -f "$work/status"
t new-session -d -s "$SESSION" -x "$COLS" -y "$ROWS" -c "$ROOT" \
	"env ALMANAC_TODAY=$TODAY TZ=$ZONE ALMANAC_DATA_DIR=$(printf %q "$data") ALMANAC_DEMO_EVERY=3 TERM=xterm-256color $(printf %q "$BIN") demo; echo \$? >$(printf %q "$work/status")"
shot demo "Team sync"
sleep 4 # a few live changes and syncs
shot sync s "Holidays (ics)"
keys Escape
# Editing: the form, then a conflict (someone else renames the event while the form is open).
keys t
shot form a "New event"
keys Dentist Enter
sleep 2 # pushed
read -r url href < <("$PY" - "$data/demo/almanac.sqlite3" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
url = db.execute("SELECT url FROM accounts WHERE kind = 'caldav'").fetchone()[0].rstrip("/")
href = db.execute("SELECT href FROM items WHERE raw LIKE '%SUMMARY:Dentist%'").fetchone()[0]
print(url, href)
PY
)
keys t
keys e
curl -fsS -u demo:demo "$url$href" | sed 's/^SUMMARY:.*/SUMMARY:Dentist (moved by the practice)/' >"$work/theirs.ics"
curl -fsS -u demo:demo -X PUT -H 'Content-Type: text/calendar' --data-binary @"$work/theirs.ics" "$url$href"
t send-keys -t "$SESSION" ' at 10' Enter
wait_view "press c to resolve" ""
shot conflicts c "Conflicts (1)"
keys Escape
quit_cleanly "almanac demo"

printf '%s\n' "${written[@]}"
