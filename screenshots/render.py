#!/usr/bin/env python3
"""Render a terminal capture (text with ANSI SGR escapes) to a PNG.

Input is what `tmux capture-pane -p -e [-N]` prints: one line per screen row,
SGR state carried across lines exactly as a terminal would carry it.

    python3 render.py INPUT.ansi OUTPUT.png [--cols N --rows N]

Cells are laid out on a fixed grid taken from the monospace font; East Asian
wide characters (W/F) and emoji take two cells. Box-drawing characters, block
elements and braille are drawn as geometry rather than from the font, the way
modern terminals do it, so borders join without gaps at any font size.
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import unicodedata

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu"
FONT_FILES = {
    # (bold, italic) -> file name inside FONT_DIR
    (False, False): "DejaVuSansMono.ttf",
    (True, False): "DejaVuSansMono-Bold.ttf",
    (False, True): "DejaVuSansMono-Oblique.ttf",
    (True, True): "DejaVuSansMono-BoldOblique.ttf",
}

DEFAULT_FG = (0xCD, 0xD6, 0xF4)
DEFAULT_BG = (0x1E, 0x1E, 0x2E)

# xterm's default 16 colours.
PALETTE16 = [
    (0x00, 0x00, 0x00), (0xCD, 0x00, 0x00), (0x00, 0xCD, 0x00), (0xCD, 0xCD, 0x00),
    (0x00, 0x00, 0xEE), (0xCD, 0x00, 0xCD), (0x00, 0xCD, 0xCD), (0xE5, 0xE5, 0xE5),
    (0x7F, 0x7F, 0x7F), (0xFF, 0x00, 0x00), (0x00, 0xFF, 0x00), (0xFF, 0xFF, 0x00),
    (0x5C, 0x5C, 0xFF), (0xFF, 0x00, 0xFF), (0x00, 0xFF, 0xFF), (0xFF, 0xFF, 0xFF),
]


def xterm256(n):
    n = max(0, min(255, n))
    if n < 16:
        return PALETTE16[n]
    if n < 232:
        n -= 16
        levels = (0, 95, 135, 175, 215, 255)
        return (levels[n // 36], levels[(n // 6) % 6], levels[n % 6])
    v = 8 + 10 * (n - 232)
    return (v, v, v)


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------

class Style:
    __slots__ = ("fg", "bg", "bold", "dim", "italic", "underline", "reverse",
                 "hidden", "strike")

    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None  # None = default, else (r, g, b)
        self.bg = None
        self.bold = self.dim = self.italic = self.underline = False
        self.reverse = self.hidden = self.strike = False

    def snapshot(self):
        return (self.fg, self.bg, self.bold, self.dim, self.italic,
                self.underline, self.reverse, self.hidden, self.strike)


def _ext_colour(params, i):
    """Parse an extended colour starting at params[i] (the 38/48/58 entry).

    Returns (colour or None, index of the next unconsumed param).
    Handles both `38;5;n` / `38;2;r;g;b` and the colon forms
    `38:5:n`, `38:2:r:g:b`, `38:2:cs:r:g:b`.
    """
    head = params[i]
    if len(head) > 1:  # colon form, everything is in this one param
        sub = head[1:]
        try:
            if sub[0] == 5 and len(sub) >= 2:
                return xterm256(sub[1]), i + 1
            if sub[0] == 2:
                rgb = sub[1:]
                if len(rgb) >= 4:  # colour-space id present
                    rgb = rgb[1:]
                if len(rgb) >= 3:
                    return tuple(max(0, min(255, v)) for v in rgb[:3]), i + 1
        except IndexError:
            pass
        return None, i + 1
    nxt = params[i + 1][0] if i + 1 < len(params) else None
    if nxt == 5 and i + 2 < len(params):
        return xterm256(params[i + 2][0]), i + 3
    if nxt == 2 and i + 4 < len(params):
        return tuple(max(0, min(255, params[i + k][0])) for k in (2, 3, 4)), i + 5
    return None, len(params)  # malformed: drop the rest of the sequence


def apply_sgr(style, raw):
    params = []
    for p in raw.split(";") if raw else [""]:
        sub = []
        for s in p.split(":"):
            try:
                sub.append(int(s) if s else 0)
            except ValueError:
                sub.append(0)
        params.append(sub)
    i = 0
    while i < len(params):
        code = params[i][0]
        if code == 0:
            style.reset()
        elif code == 1:
            style.bold = True
        elif code == 2:
            style.dim = True
        elif code == 3:
            style.italic = True
        elif code == 4:
            # 4:0 means "no underline"; 4:1..4:5 are underline styles
            style.underline = not (len(params[i]) > 1 and params[i][1] == 0)
        elif code == 7:
            style.reverse = True
        elif code == 8:
            style.hidden = True
        elif code == 9:
            style.strike = True
        elif code == 21:
            style.underline = True  # double underline
        elif code == 22:
            style.bold = style.dim = False
        elif code == 23:
            style.italic = False
        elif code == 24:
            style.underline = False
        elif code == 27:
            style.reverse = False
        elif code == 28:
            style.hidden = False
        elif code == 29:
            style.strike = False
        elif 30 <= code <= 37:
            style.fg = PALETTE16[code - 30]
        elif code == 39:
            style.fg = None
        elif 40 <= code <= 47:
            style.bg = PALETTE16[code - 40]
        elif code == 49:
            style.bg = None
        elif 90 <= code <= 97:
            style.fg = PALETTE16[code - 90 + 8]
        elif 100 <= code <= 107:
            style.bg = PALETTE16[code - 100 + 8]
        elif code in (38, 48, 58):
            colour, i = _ext_colour(params, i)
            if code == 38 and colour is not None:
                style.fg = colour
            elif code == 48 and colour is not None:
                style.bg = colour
            continue
        # anything else (blink, overline, fonts, ...) is ignored
        i += 1


# CSI: ESC [ params intermediates final
CSI_RE = re.compile(r"\x1b\[([0-?]*)([ -/]*)([@-~])")

# One token of input: a CSI sequence; an OSC/DCS/SOS/PM/APC string ended by
# BEL or ST; any other escape (charset designation, keypad mode, ...); or text.
TOKEN_RE = re.compile(
    r"(?P<csi>\x1b\[[0-?]*[ -/]*[@-~])"
    r"|(?P<str>\x1b[\]P_^X].*?(?:\x07|\x1b\\))"
    r"|(?P<esc>\x1b(?:[()*+\-./][ -~]|[ -/]*[0-~])?)"
    r"|(?P<text>[^\x1b]+)",
    re.S,
)


def char_width(ch):
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    if 0xFE00 <= ord(ch) <= 0xFE0F:  # variation selectors
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def parse(text, cols=None, rows=None):
    """Return (grid, cols, rows); grid[r][c] is (text, width, style) or None
    for the right half of a wide character; missing cells are blanks."""
    style = Style()
    lines = [[]]  # each line: list of [text, width, style_snapshot]

    def put(ch):
        w = char_width(ch)
        line = lines[-1]
        if w == 0:
            if line:
                line[-1][0] += ch
            return
        line.append([ch, w, style.snapshot()])

    for m in TOKEN_RE.finditer(text):
        if m.group("csi") is not None:
            cm = CSI_RE.match(m.group("csi"))
            params, inter, final = cm.groups()
            private = params[:1] in ("<", "=", ">", "?")
            if final == "m" and not inter and not private:
                apply_sgr(style, params)
            continue
        if m.group("str") is not None or m.group("esc") is not None:
            continue
        for ch in m.group("text"):
            if ch == "\n":
                lines.append([])
            elif ch == "\r":
                pass  # capture output has no overstrikes; treat CRLF as LF
            elif ch == "\t":
                used = sum(c[1] for c in lines[-1])
                for _ in range(8 - used % 8):
                    put(" ")
            elif ord(ch) < 0x20 or ord(ch) == 0x7F:
                continue
            else:
                put(ch)

    if lines and not lines[-1]:
        lines.pop()  # final newline
    if cols is None:
        cols = max([sum(c[1] for c in ln) for ln in lines] + [1])
    if rows is None:
        rows = max(len(lines), 1)

    grid = []
    for r in range(rows):
        row = [(" ", 1, None)] * cols
        if r < len(lines):
            c = 0
            for txt, w, st in lines[r]:
                if c >= cols:
                    break
                row[c] = (txt, w, st)
                if w == 2 and c + 1 < cols:
                    row[c + 1] = None
                c += w
        grid.append(row)
    return grid, cols, rows


# --------------------------------------------------------------------------
# Fonts
# --------------------------------------------------------------------------

_MISSING_PROBE = "\U0010FFFD"  # a private-use code point no font maps


class Fonts:
    def __init__(self, size):
        self.size = size
        self.styled = {}
        for key, name in FONT_FILES.items():
            path = os.path.join(FONT_DIR, name)
            if not os.path.exists(path):
                path = os.path.join(FONT_DIR, FONT_FILES[(key[0], False)])
            if not os.path.exists(path):
                path = os.path.join(FONT_DIR, FONT_FILES[(False, False)])
            self.styled[key] = ImageFont.truetype(path, size)
        base = self.styled[(False, False)]
        ascent, descent = base.getmetrics()
        self.ascent = ascent
        self.descent = descent
        self.cell_w = int(round(base.getlength("M")))
        self.cell_h = ascent + descent
        self._notdef = {}
        self._fallback_paths = None
        self._fallback_fonts = {}
        self._choice = {}

    def _notdef_sig(self, font):
        key = id(font)
        if key not in self._notdef:
            m = font.getmask(_MISSING_PROBE)
            self._notdef[key] = (m.size, bytes(m))
        return self._notdef[key]

    def has_glyph(self, font, ch):
        m = font.getmask(ch)
        return (m.size, bytes(m)) != self._notdef_sig(font)

    def _candidate_paths(self):
        if self._fallback_paths is None:
            paths = []
            if shutil.which("fc-list"):
                try:
                    out = subprocess.run(["fc-list", "--format", "%{file}\n"],
                                         capture_output=True, text=True,
                                         timeout=20).stdout
                    paths = [p for p in out.splitlines() if p]
                except (OSError, subprocess.SubprocessError):
                    paths = []
            if not paths:
                for pat in ("/usr/share/fonts/**/*.tt[fc]", "/usr/share/fonts/**/*.otf",
                            "/usr/local/share/fonts/**/*.tt[fc]",
                            "/usr/local/share/fonts/**/*.otf"):
                    paths += glob.glob(pat, recursive=True)

            def rank(p):
                n = os.path.basename(p).lower()
                if "dejavusans.ttf" == n or "dejavusans-bold.ttf" == n:
                    return 0  # wide symbol coverage: braille, emoticons, ...
                if "mono" in n and ("cjk" in n or "sarasa" in n):
                    return 1
                if "cjk" in n or "wqy" in n or "droid" in n or "unifont" in n:
                    return 2
                if "emoji" in n:
                    return 4  # colour bitmap fonts only load at fixed sizes
                return 3
            self._fallback_paths = sorted(dict.fromkeys(paths), key=rank)
        return self._fallback_paths

    def _load(self, path, size):
        key = (path, size)
        if key not in self._fallback_fonts:
            try:
                self._fallback_fonts[key] = ImageFont.truetype(path, size)
            except OSError:
                self._fallback_fonts[key] = None
        return self._fallback_fonts[key]

    def font_for(self, ch, bold, italic):
        """The font to draw `ch` with: the styled mono font if it has the glyph,
        else the first installed font that has it, else the mono font (which
        then draws its missing-glyph box)."""
        key = (ch, bold, italic)
        if key in self._choice:
            return self._choice[key]
        first = ch[0]
        chosen = None
        for f in (self.styled[(bold, italic)], self.styled[(bold, False)],
                  self.styled[(False, False)]):
            if self.has_glyph(f, first):
                chosen = f
                break
        if chosen is None:
            for path in self._candidate_paths():
                f = self._load(path, self.size)
                if f is not None and self.has_glyph(f, first):
                    chosen = f
                    break
        if chosen is None:
            chosen = self.styled[(bold, italic)]
        self._choice[key] = chosen
        return chosen

    def fitted(self, font, text, span):
        """Shrink a fallback font if its glyph is wider than the cell span."""
        try:
            adv = font.getlength(text)
        except Exception:
            return font
        if adv <= span * 1.05 or adv == 0:
            return font
        size = max(6, int(self.size * span / adv))
        path = getattr(font, "path", None)
        if not path:
            return font
        return self._load(path, size) or font


# --------------------------------------------------------------------------
# Box drawing, block elements, braille: drawn as geometry
# --------------------------------------------------------------------------

_WEIGHTS = {"LIGHT": "L", "SINGLE": "L", "HEAVY": "H", "DOUBLE": "2"}
_DIRS = {"UP": "u", "DOWN": "d", "LEFT": "l", "RIGHT": "r",
         "VERTICAL": "ud", "HORIZONTAL": "lr"}
_OPP = {"u": "d", "d": "u", "l": "r", "r": "l"}


def box_spec(ch):
    """Describe a U+2500..U+257F character, derived from its Unicode name."""
    name = unicodedata.name(ch, "")[len("BOX DRAWINGS "):]
    weight = "H" if name.startswith("HEAVY") else "L"
    if "DASH" in name:
        n = {"DOUBLE": 2, "TRIPLE": 3, "QUADRUPLE": 4}[name.split()[1]]
        return ("dash", weight, n, "VERTICAL" in name)
    if "ARC" in name:
        return ("arc", "".join(_DIRS[t] for t in name.split()[2:] if t in _DIRS))
    if "DIAGONAL" in name:
        if "CROSS" in name:
            return ("diag", "/\\")
        return ("diag", "/" if "UPPER RIGHT" in name else "\\")
    toks = [t for t in name.split() if t != "AND"]
    arms = {}
    if toks[0] in _WEIGHTS:  # weight precedes its directions
        cur = None
        for t in toks:
            if t in _WEIGHTS:
                cur = _WEIGHTS[t]
            else:
                for d in _DIRS[t]:
                    arms[d] = cur
    else:  # weight follows its directions
        pending = []
        for t in toks:
            if t in _WEIGHTS:
                for d in pending:
                    arms[d] = _WEIGHTS[t]
                pending = []
            else:
                pending += list(_DIRS[t])
    return ("lines", arms)


class Geometry:
    SS = 4  # supersampling for curves, diagonals and dots

    def __init__(self, cell_w, cell_h):
        self.w = cell_w
        self.h = cell_h
        self.t1 = max(1, int(cell_w / 10 + 0.5))          # light
        self.t2 = max(self.t1 + 2, int(cell_w / 4 + 0.5))  # heavy
        self.g = max(self.t1 + 1, int(cell_w * 0.2 + 0.5))  # double offset
        self.cx = cell_w // 2
        self.cy = cell_h // 2
        self.cache = {}

    @staticmethod
    def handles(ch):
        o = ord(ch)
        return 0x2500 <= o <= 0x259F or 0x2800 <= o <= 0x28FF

    def mask(self, ch):
        """An 'L' image of one cell: coverage 0..255."""
        if ch not in self.cache:
            o = ord(ch)
            if o <= 0x257F:
                m = self._box(ch)
            elif o <= 0x259F:
                m = self._block(o)
            else:
                m = self._braille(o - 0x2800)
            self.cache[ch] = m
        return self.cache[ch]

    # -- straight box lines -------------------------------------------------
    def _thick(self, w):
        return {"L": self.t1, "H": self.t2, "2": self.t1}[w]

    def _box(self, ch):
        spec = box_spec(ch)
        if spec[0] == "lines":
            img = Image.new("L", (self.w, self.h), 0)
            self._lines(ImageDraw.Draw(img), spec[1])
            return img
        if spec[0] == "dash":
            img = Image.new("L", (self.w, self.h), 0)
            d = ImageDraw.Draw(img)
            _, weight, n, vertical = spec
            t = self._thick(weight)
            length = self.h if vertical else self.w
            for i in range(n):
                a = i * length / n
                b = (i + 1) * length / n
                gap = max(1.0, (b - a) * 0.35)
                s, e = int(round(a + gap / 2)), int(round(b - gap / 2))
                if e <= s:
                    e = s + 1
                if vertical:
                    x = self.cx - t // 2
                    d.rectangle([x, s, x + t - 1, e - 1], fill=255)
                else:
                    y = self.cy - t // 2
                    d.rectangle([s, y, e - 1, y + t - 1], fill=255)
            return img
        # arcs and diagonals: supersample
        S = self.SS
        big = Image.new("L", (self.w * S, self.h * S), 0)
        d = ImageDraw.Draw(big)
        t = self.t1
        # centre line of a light line, in supersampled units
        lx = (self.cx - t // 2) * S + t * S / 2
        ly = (self.cy - t // 2) * S + t * S / 2
        if spec[0] == "arc":
            dirs = spec[1]
            sx = 1 if "r" in dirs else -1
            sy = 1 if "d" in dirs else -1
            # largest radius that still ends inside the cell on both axes
            r = min(self.w * S - lx if sx > 0 else lx,
                    self.h * S - ly if sy > 0 else ly)
            ocx, ocy = lx + sx * r, ly + sy * r  # circle centre
            half = t * S / 2
            start = {(1, 1): 180, (-1, 1): 270, (-1, -1): 0, (1, -1): 90}[(sx, sy)]
            d.arc([ocx - r - half, ocy - r - half, ocx + r + half - 1, ocy + r + half - 1],
                  start, start + 90, fill=255, width=int(t * S))
            # straight continuations to the cell edges, pixel aligned
            x0 = (self.cx - t // 2) * S
            y0 = (self.cy - t // 2) * S
            if sx > 0 and ocx <= self.w * S - 1:
                d.rectangle([ocx, y0, self.w * S - 1, y0 + t * S - 1], fill=255)
            elif sx < 0 and ocx >= 0:
                d.rectangle([0, y0, ocx, y0 + t * S - 1], fill=255)
            if sy > 0 and ocy <= self.h * S - 1:
                d.rectangle([x0, ocy, x0 + t * S - 1, self.h * S - 1], fill=255)
            elif sy < 0 and ocy >= 0:
                d.rectangle([x0, 0, x0 + t * S - 1, ocy], fill=255)
        else:
            W, H = self.w * S, self.h * S
            for kind in spec[1]:
                if kind == "/":
                    d.line([(W, 0), (0, H)], fill=255, width=int(t * S * 1.2))
                else:
                    d.line([(0, 0), (W, H)], fill=255, width=int(t * S * 1.2))
        return big.resize((self.w, self.h), Image.BOX)

    def _lines(self, d, arms):
        W, H, t1, g = self.w, self.h, self.t1, self.g

        def pos(c, t):
            return c - t // 2

        def seg(direction, across, thick, stop, stop_th):
            """Fill the arm `direction` from the cell edge to line `stop`."""
            horizontal = direction in "lr"
            a0 = pos(across, thick)
            a1 = a0 + thick - 1
            if direction in "rd":
                s = pos(stop, stop_th)
                e = (W if horizontal else H) - 1
            else:
                s = 0
                e = pos(stop, stop_th) + stop_th - 1
            if e < s:
                return
            if horizontal:
                d.rectangle([s, a0, e, a1], fill=255)
            else:
                d.rectangle([a0, s, a1, e], fill=255)

        for direction, weight in arms.items():
            horizontal = direction in "lr"
            c_par = self.cx if horizontal else self.cy
            c_perp = self.cy if horizontal else self.cx
            perp = "ud" if horizontal else "lr"
            sign = 1 if direction in "rd" else -1
            opposite = arms.get(_OPP[direction])
            if weight != "2":
                th = self._thick(weight)
                doubles = [p for p in perp if arms.get(p) == "2"]
                if len(doubles) == 2 and not opposite:
                    stop, stop_th = c_par + sign * g, t1
                elif len(doubles) == 1 and not opposite:
                    stop, stop_th = c_par - sign * g, t1
                elif doubles:
                    stop, stop_th = c_par, 0
                else:
                    ths = [self._thick(arms[p]) for p in perp if p in arms]
                    stop, stop_th = c_par, max(ths) if ths else 0
                seg(direction, c_perp, th, stop, stop_th)
            else:
                for side in perp:
                    side_sign = 1 if side in "rd" else -1
                    other = perp.replace(side, "")
                    ws, wo = arms.get(side), arms.get(other)
                    if ws == "2":
                        stop, stop_th = c_par + sign * g, t1
                    elif wo == "2":
                        stop, stop_th = c_par - sign * g, t1
                    else:
                        ths = [self._thick(x) for x in (ws, wo) if x]
                        stop, stop_th = c_par, max(ths) if ths else 0
                    seg(direction, c_perp + side_sign * g, t1, stop, stop_th)

    # -- block elements -------------------------------------------------------
    def _block(self, o):
        W, H = self.w, self.h
        img = Image.new("L", (W, H), 0)
        d = ImageDraw.Draw(img)

        def rect(x0, y0, x1, y1, v=255):  # fractional cell coordinates
            X0, X1 = int(round(x0 * W)), int(round(x1 * W))
            Y0, Y1 = int(round(y0 * H)), int(round(y1 * H))
            if X1 > X0 and Y1 > Y0:
                d.rectangle([X0, Y0, X1 - 1, Y1 - 1], fill=v)

        if o == 0x2580:
            rect(0, 0, 1, 0.5)
        elif 0x2581 <= o <= 0x2588:
            rect(0, 1 - (o - 0x2580) / 8, 1, 1)
        elif 0x2589 <= o <= 0x258F:
            rect(0, 0, (8 - (o - 0x2588)) / 8, 1)
        elif o == 0x2590:
            rect(0.5, 0, 1, 1)
        elif o in (0x2591, 0x2592, 0x2593):
            rect(0, 0, 1, 1, {0x2591: 64, 0x2592: 128, 0x2593: 192}[o])
        elif o == 0x2594:
            rect(0, 0, 1, 1 / 8)
        elif o == 0x2595:
            rect(7 / 8, 0, 1, 1)
        else:
            quads = {  # upper-left, upper-right, lower-left, lower-right
                0x2596: "..x.", 0x2597: "...x", 0x2598: "x...", 0x2599: "x.xx",
                0x259A: "x..x", 0x259B: "xxx.", 0x259C: "xx.x", 0x259D: ".x..",
                0x259E: ".xx.", 0x259F: ".xxx",
            }[o]
            for i, q in enumerate(quads):
                if q == "x":
                    x, y = (i % 2) * 0.5, (i // 2) * 0.5
                    rect(x, y, x + 0.5, y + 0.5)
        return img

    # -- braille ----------------------------------------------------------------
    def _braille(self, bits):
        S = self.SS
        W, H = self.w * S, self.h * S
        big = Image.new("L", (W, H), 0)
        d = ImageDraw.Draw(big)
        # dot n -> (column, row)
        layout = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (0, 3), (1, 3)]
        r = min(W / 4, H / 8) * 0.6
        for i, (c, rw) in enumerate(layout):
            if bits & (1 << i):
                x = W * (c * 2 + 1) / 4
                y = H * (rw * 2 + 1) / 8
                d.ellipse([x - r, y - r, x + r, y + r], fill=255)
        return big.resize((self.w, self.h), Image.BOX)


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------

def blend(a, b, t):
    return tuple(int(round(x * (1 - t) + y * t)) for x, y in zip(a, b))


def render(grid, cols, rows, font_size=16, padding=8):
    fonts = Fonts(font_size)
    cw, chh = fonts.cell_w, fonts.cell_h
    geo = Geometry(cw, chh)
    img = Image.new("RGB", (cols * cw + 2 * padding, rows * chh + 2 * padding), DEFAULT_BG)
    draw = ImageDraw.Draw(img)

    def colours(st):
        if st is None:
            return DEFAULT_FG, DEFAULT_BG
        fg, bg, bold, dim, italic, underline, reverse, hidden, strike = st
        fg = fg if fg is not None else DEFAULT_FG
        bg = bg if bg is not None else DEFAULT_BG
        if reverse:
            fg, bg = bg, fg
        if dim:
            fg = blend(fg, bg, 0.45)
        if hidden:
            fg = bg
        return fg, bg

    # pass 1: backgrounds
    for r, row in enumerate(grid):
        y = padding + r * chh
        for c, cell in enumerate(row):
            if cell is None:
                continue
            txt, w, st = cell
            _, bg = colours(st)
            if bg != DEFAULT_BG:
                x = padding + c * cw
                draw.rectangle([x, y, x + w * cw - 1, y + chh - 1], fill=bg)

    # pass 2: glyphs and decorations
    for r, row in enumerate(grid):
        y = padding + r * chh
        baseline = y + fonts.ascent
        for c, cell in enumerate(row):
            if cell is None:
                continue
            txt, w, st = cell
            fg, bg = colours(st)
            x = padding + c * cw
            span = w * cw
            bold = bool(st and st[2])
            italic = bool(st and st[4])
            if txt.strip() and fg != bg:
                if len(txt) == 1 and Geometry.handles(txt):
                    img.paste(Image.new("RGB", (cw, chh), fg), (x, y), geo.mask(txt))
                else:
                    font = fonts.font_for(txt, bold, italic)
                    if font not in fonts.styled.values():
                        font = fonts.fitted(font, txt, span)
                        adv = font.getlength(txt)
                        gx = x + (span - adv) / 2
                    else:
                        gx = x
                        if w == 2:
                            gx = x + (span - font.getlength(txt)) / 2
                    draw.text((gx, baseline), txt, font=font, fill=fg, anchor="ls")
            if st and st[5]:  # underline
                th = max(1, font_size // 14)
                uy = baseline + max(1, fonts.descent // 2)
                draw.rectangle([x, uy, x + span - 1, uy + th - 1], fill=fg)
            if st and st[8]:  # strikethrough
                th = max(1, font_size // 14)
                sy = baseline - int(fonts.ascent * 0.33)
                draw.rectangle([x, sy, x + span - 1, sy + th - 1], fill=fg)
    return img


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", help="capture file (tmux capture-pane -p -e), '-' for stdin")
    ap.add_argument("output", help="PNG file to write")
    ap.add_argument("--cols", type=int, help="grid width in cells (default: widest line)")
    ap.add_argument("--rows", type=int, help="grid height in cells (default: line count)")
    ap.add_argument("--font-size", type=int, default=16, help="pixel size (default 16)")
    ap.add_argument("--padding", type=int, default=8, help="border in pixels (default 8)")
    args = ap.parse_args(argv)

    if args.input == "-":
        data = sys.stdin.buffer.read()
    else:
        with open(args.input, "rb") as f:
            data = f.read()
    text = data.decode("utf-8", errors="replace")
    grid, cols, rows = parse(text, args.cols, args.rows)
    img = render(grid, cols, rows, args.font_size, args.padding)
    img.save(args.output, optimize=True)


if __name__ == "__main__":
    main()
