#!/usr/bin/env python3
"""The measurements of benches/sync_e2e.sh, against a Radicale it already started.

usage: measure.py warm --url URL --events N
       measure.py run --url URL --almanac BIN --venv VENV --work DIR --events N --runs R
                      [--k-list "1 10 100 1000"] [--k-runs 3] [--sizes TEXT] [--template DIR]

`warm` lists the seeded calendar once (Radicale parses and caches every item), checks it holds N
items, and asks once for the home's sync-token and for an initial sync-collection (Radicale then
keeps its sync history), so that every later run starts from the same warm storage.

`run` prints markdown to stdout (progress goes to stderr) and exits 1 when a measurement could not
be taken; a missed goal is reported as MISS and is not a failure. Python stdlib only.
"""

import argparse
import base64
import http.client
import json
import math
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

USER, PASSWORD = "alice", "secret-pw"
CAL = "bench"  # the collection's id: /alice/bench/
AUTH = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
TRACE = os.environ.get("SYNC_BENCH_TRACE") == "1"  # print every proxied request to stderr
BATCH = 200  # almanac's calendar-multiget batch (src/sync/engine.rs)

DECL = '<?xml version="1.0" encoding="utf-8"?>\n'
NS = ('xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" '
      'xmlns:cs="http://calendarserver.org/ns/" xmlns:ic="http://apple.com/ns/ical/"')
# The bodies almanac sends (src/sync/caldav/xml.rs), for the per-request costs.
HOME_PROPFIND = (DECL + f"<d:propfind {NS}><d:prop><d:resourcetype/><d:displayname/><ic:calendar-color/>"
                 "<cs:getctag/><d:sync-token/><d:supported-report-set/>"
                 "<c:supported-calendar-component-set/></d:prop></d:propfind>")
ETAG_PROPFIND = DECL + f"<d:propfind {NS}><d:prop><d:getetag/></d:prop></d:propfind>"
CAL_PROPFIND = (DECL + f"<d:propfind {NS}><d:prop><d:getetag/><d:resourcetype/><cs:getctag/>"
                "<d:sync-token/></d:prop></d:propfind>")
# The floor: everything in one request.
QUERY_ALL = (DECL + f"<c:calendar-query {NS}><d:prop><d:getetag/><c:calendar-data/></d:prop>"
             '<c:filter><c:comp-filter name="VCALENDAR"/></c:filter></c:calendar-query>')


def sync_collection(token):
    t = "<d:sync-token/>" if token is None else f"<d:sync-token>{token}</d:sync-token>"
    return (DECL + f"<d:sync-collection {NS}>{t}<d:sync-level>1</d:sync-level>"
            "<d:prop><d:getetag/></d:prop></d:sync-collection>")


def multiget(hrefs):
    return (DECL + f"<c:calendar-multiget {NS}><d:prop><d:getetag/><c:calendar-data/></d:prop>"
            + "".join(f"<d:href>{h}</d:href>" for h in hrefs) + "</c:calendar-multiget>")


def href(i):
    return f"/{USER}/{CAL}/ev-{i:05d}.ics"


def say(*a):
    print(*a, file=sys.stderr, flush=True)


class Failed(Exception):
    pass


# --- plain HTTP -------------------------------------------------------------------------------

def dav(url, method, path, body=None, depth=None, ctype="application/xml; charset=utf-8", timeout=600):
    u = urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    headers = {"Authorization": AUTH}
    if body is not None:
        headers["Content-Type"] = ctype
    if depth is not None:
        headers["Depth"] = depth
    t0 = time.perf_counter()
    c.request(method, path, body=body.encode() if isinstance(body, str) else body, headers=headers)
    r = c.getresponse()
    data = r.read()
    dt = time.perf_counter() - t0
    c.close()
    return r.status, data, dt


def curl(url, method, path, body, depth="1", extra=()):
    """(seconds, bytes) as curl measures them (%{time_total}, %{size_download}), body thrown away."""
    out = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-X", method, "-u", f"{USER}:{PASSWORD}", *extra,
         "-H", f"Depth: {depth}", "-H", "Content-Type: application/xml; charset=utf-8",
         "--data-binary", "@-", "-w", "%{http_code} %{size_download} %{time_total}",
         url.rstrip("/") + path],
        input=body.encode(), capture_output=True, check=False)
    parts = out.stdout.decode().split()
    if out.returncode != 0 or len(parts) != 3 or parts[0] != "207":
        raise Failed(f"curl {method} {path}: rc {out.returncode}, {out.stdout.decode()!r} "
                     f"{out.stderr.decode().strip()}")
    return float(parts[2]), int(parts[1])


def count_hrefs(url):
    status, data, dt = dav(url, "PROPFIND", f"/{USER}/{CAL}/", ETAG_PROPFIND, depth="1")
    if status != 207:
        raise Failed(f"PROPFIND /{USER}/{CAL}/ answered {status}")
    hrefs = re.findall(rb"<(?:\w+:)?href>([^<]*)</(?:\w+:)?href>", data)
    return sum(1 for h in hrefs if h.endswith(b".ics")), dt


def sync_token(data):
    m = re.search(rb"<(?:\w+:)?sync-token>([^<]*)</(?:\w+:)?sync-token>", data)
    return m.group(1).decode() if m else None


# --- a counting proxy (for vdirsyncer's requests and bytes, and to check almanac's) -------------

HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
       "upgrade", "content-length", "server", "date"}


class Counter:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with getattr(self, "lock", threading.Lock()):
            self.requests = 0
            self.bytes = 0
            self.by_method = {}
            self.gzip = 0
            self.redirect_bytes = 0

    def add(self, method, n, gzip=False, redirect=False):
        with self.lock:
            self.redirect_bytes += n if redirect else 0
            self.requests += 1
            self.gzip += gzip
            self.bytes += n
            k = self.by_method.setdefault(method, [0, 0])
            k[0] += 1
            k[1] += n

    def snapshot(self):
        with self.lock:
            return {"requests": self.requests, "bytes": self.bytes, "gzip": self.gzip, "redirect_bytes": self.redirect_bytes,
                    "by_method": {m: tuple(v) for m, v in sorted(self.by_method.items())}}


def start_proxy(upstream):
    u = urlsplit(upstream)
    counter = Counter()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def forward(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
            if body is not None:
                headers["Content-Length"] = str(len(body))
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
            c.request(self.command, self.path, body=body, headers=headers)
            r = c.getresponse()
            data = r.read()
            c.close()
            counter.add(self.command, len(data), "gzip" in (r.getheader("Content-Encoding") or ""),
                        300 <= r.status < 400)
            if TRACE:
                say(f"proxy: {self.command} {self.path} -> {r.status} {len(data)} B "
                    f"{r.getheader('Content-Encoding') or ''} {r.getheader('Location') or ''}")
            self.send_response(r.status, r.reason)
            for k, v in r.getheaders():
                if k.lower() not in HOP:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_OPTIONS = forward
        do_PROPFIND = do_REPORT = do_MKCALENDAR = do_MKCOL = do_PROPPATCH = forward

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/", counter, server


# --- almanac ----------------------------------------------------------------------------------

def almanac_config(path, url):
    with open(path, "w") as f:
        f.write(f'[[account]]\nname = "bench"\nkind = "caldav"\nurl = "{url}"\n'
                f'username = "{USER}"\npassword = {{ value = "{PASSWORD}" }}\n')


def almanac_sync(bin_, config, data_dir):
    """(wall seconds, the one account's report)."""
    t0 = time.perf_counter()
    out = subprocess.run([bin_, "--config", config, "--data-dir", data_dir, "sync", "--json"],
                         capture_output=True, check=False)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise Failed(f"almanac sync exited {out.returncode}: {out.stderr.decode().strip()[-500:]}")
    try:
        accounts = json.loads(out.stdout)
    except ValueError as e:
        raise Failed(f"almanac sync --json printed no JSON ({e}): {out.stdout[:300]!r}")
    if len(accounts) != 1:
        raise Failed(f"almanac sync --json: {len(accounts)} accounts, expected 1")
    a = accounts[0]
    errors = [a.get("error")] + [c.get("error") for c in a.get("calendars", [])]
    errors = [e for e in errors if e]
    if errors:
        raise Failed(f"almanac sync reported errors: {errors}")
    if len(a.get("calendars", [])) != 1:
        raise Failed(f"almanac sync: {len(a.get('calendars', []))} calendars, expected 1: {a}")
    if a["calendars"][0].get("unreadable"):
        raise Failed(f"almanac sync: unreadable items: {a['calendars'][0]['unreadable'][:5]}")
    return wall, a


def almanac_cli(bin_, config, data_dir, args):
    """(wall seconds, stdout) of an `almanac` command that must succeed and push."""
    t0 = time.perf_counter()
    out = subprocess.run([bin_, "--config", config, "--data-dir", data_dir, *args],
                         capture_output=True, check=False)
    wall = time.perf_counter() - t0
    text = out.stdout.decode()
    if out.returncode != 0 or "pushed" not in text:
        raise Failed(f"almanac {args[0]} exited {out.returncode}, not pushed: {text} "
                     f"{out.stderr.decode().strip()[-300:]}")
    return wall, text


def almanac_items(bin_, config, data_dir):
    out = subprocess.run([bin_, "--config", config, "--data-dir", data_dir, "status", "--json"],
                         capture_output=True, check=False)
    if out.returncode != 0:
        raise Failed(f"almanac status exited {out.returncode}: {out.stderr.decode().strip()[-300:]}")
    cals = json.loads(out.stdout)
    return sum(c.get("items", 0) for c in cals), cals


# --- vdirsyncer -------------------------------------------------------------------------------

def vdir_setup(dir_, url):
    shutil.rmtree(dir_, ignore_errors=True)
    os.makedirs(dir_)
    cfg = os.path.join(dir_, "config")
    with open(cfg, "w") as f:
        f.write(f'[general]\nstatus_path = "{dir_}/status/"\n\n'
                '[pair bench]\na = "bench_local"\nb = "bench_remote"\ncollections = ["from b"]\n\n'
                f'[storage bench_local]\ntype = "filesystem"\npath = "{dir_}/cal/"\nfileext = ".ics"\n\n'
                f'[storage bench_remote]\ntype = "caldav"\nurl = "{url}"\n'
                f'username = "{USER}"\npassword = "{PASSWORD}"\n')
    return cfg


def vdir(venv, dir_, cfg, *args, stdin=None):
    env = dict(os.environ, VDIRSYNCER_CONFIG=cfg, HOME=dir_, XDG_CONFIG_HOME=os.path.join(dir_, "xdg"))
    t0 = time.perf_counter()
    out = subprocess.run([os.path.join(venv, "bin", "vdirsyncer"), *args], input=stdin,
                         capture_output=True, env=env, cwd=dir_, check=False)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise Failed(f"vdirsyncer {' '.join(args)} exited {out.returncode}: "
                     f"{out.stderr.decode().strip()[-800:]}")
    return wall


def vdir_first_sync(venv, dir_, url):
    cfg = vdir_setup(dir_, url)
    discover = vdir(venv, dir_, cfg, "discover", stdin=b"y\n" * 20)
    sync = vdir(venv, dir_, cfg, "sync")
    return cfg, discover, sync


def vdir_count(dir_):
    root = os.path.join(dir_, "cal")
    return sum(1 for d in os.listdir(root) for f in os.listdir(os.path.join(root, d))
               if f.endswith(".ics")) if os.path.isdir(root) else 0


# --- editing k events on the server -------------------------------------------------------------

def put_edits(url, template, indices, tag):
    coll = os.path.join(template, "collection-root", USER, CAL)

    def one(i):
        with open(os.path.join(coll, f"ev-{i:05d}.ics"), encoding="utf-8", newline="") as f:
            text = f.read()
        text = text.replace("\r\nSUMMARY:", f"\r\nSUMMARY:{tag} ", 1)
        status, _, _ = dav(url, "PUT", href(i), text.encode(), ctype="text/calendar; charset=utf-8")
        if status not in (201, 204):
            raise Failed(f"PUT {href(i)} answered {status}")

    t0 = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, indices))
    return time.perf_counter() - t0


# --- reporting --------------------------------------------------------------------------------

def med(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt_s(x):
    return "-" if x is None or x != x else f"{x:.2f} s"


def fmt_b(n):
    if n is None:
        return "-"
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB" if n >= 1e3 else f"{n} B"


def spread(xs):
    return f"{min(xs):.2f}–{max(xs):.2f}" if xs else "-"


def goal(ok):
    return "PASS" if ok else "MISS"


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return model


def version_of(venv, pkg):
    import glob
    hits = glob.glob(os.path.join(venv, "lib", "python3*", "site-packages", f"{pkg}-*.dist-info"))
    return os.path.basename(hits[0])[len(pkg) + 1:-len(".dist-info")] if hits else "?"


# --- the two commands -----------------------------------------------------------------------

def cmd_warm(a):
    url = a.url
    t0 = time.perf_counter()
    n, dt = count_hrefs(url)
    say(f"warm: PROPFIND lists {n} items ({dt:.1f} s, the first listing parses them all)")
    if n != a.events:
        raise Failed(f"the server lists {n} items, expected {a.events}")
    status, data, dt = dav(url, "PROPFIND", f"/{USER}/", HOME_PROPFIND, depth="1")
    say(f"warm: home PROPFIND {status} ({dt:.1f} s)")
    status, data, dt = dav(url, "REPORT", f"/{USER}/{CAL}/", sync_collection(None), depth="1")
    say(f"warm: initial sync-collection {status} ({dt:.1f} s)")
    status, data, dt = dav(url, "REPORT", f"/{USER}/{CAL}/", QUERY_ALL, depth="1")
    say(f"warm: calendar-query {status} ({dt:.1f} s); warm-up took {time.perf_counter() - t0:.0f} s")


def cmd_run(a):
    url, N, R = a.url, a.events, a.runs
    work, bin_, venv = a.work, a.almanac, a.venv
    problems = []
    cal_path = f"/{USER}/{CAL}/"
    out = []  # markdown lines

    def emit(line=""):
        out.append(line)
        print(line, flush=True)

    # 0. the server holds N items; one full download to warm caches and check the floor's reply
    n, dt = count_hrefs(url)
    say(f"check: PROPFIND lists {n} items ({dt:.2f} s)")
    if n != N:
        raise Failed(f"the server lists {n} items, expected {N}")
    status, data, dt = dav(url, "REPORT", cal_path, QUERY_ALL, depth="1")
    got = data.count(b"BEGIN:VEVENT")
    say(f"check: calendar-query {status}, {len(data)} bytes, {got} VEVENTs ({dt:.2f} s)")
    if status != 207 or got != N:
        raise Failed(f"calendar-query: status {status}, {got} events, expected {N}")

    cfg = os.path.join(work, "almanac.toml")
    almanac_config(cfg, url)

    # 1. first full sync, round by round: floor, almanac, vdirsyncer
    floor_t, floor_b = [], []
    alm_wall, alm_inner, alm_req, alm_bytes = [], [], [], []
    vd_sync, vd_disc = [], []
    last_alm_dir = None
    for r in range(1, R + 1):
        t, b = curl(url, "REPORT", cal_path, QUERY_ALL)
        floor_t.append(t)
        floor_b.append(b)

        d = os.path.join(work, f"almanac-{r}")
        shutil.rmtree(d, ignore_errors=True)
        try:
            wall, rep = almanac_sync(bin_, cfg, d)
            c = rep["calendars"][0]
            items, _ = almanac_items(bin_, cfg, d)
            if c["added"] != N or items != N:
                raise Failed(f"almanac first sync: added {c['added']}, cache holds {items}, expected {N}")
            alm_wall.append(wall)
            alm_inner.append(rep["duration_ms"] / 1000)
            alm_req.append(rep["requests"])
            alm_bytes.append(rep["bytes"])
            if last_alm_dir:
                shutil.rmtree(last_alm_dir, ignore_errors=True)
            last_alm_dir = d
        except Failed as e:
            problems.append(f"almanac first sync, run {r}: {e}")
            say(f"FAILED: {e}")
        alm_s = f"{alm_wall[-1]:.2f} s" if len(alm_wall) == r else "failed"

        vd = os.path.join(work, f"vdirsyncer-{r}")
        try:
            _, disc, sync = vdir_first_sync(venv, vd, url)
            got = vdir_count(vd)
            if got != N:
                raise Failed(f"vdirsyncer wrote {got} items, expected {N}")
            vd_disc.append(disc)
            vd_sync.append(sync)
        except Failed as e:
            problems.append(f"vdirsyncer first sync, run {r}: {e}")
            say(f"FAILED: {e}")
        shutil.rmtree(vd, ignore_errors=True)
        vd_s = f"{vd_sync[-1]:.2f} s" if len(vd_sync) == r else "failed"
        say(f"round {r}/{R}: floor {t:.2f} s, almanac {alm_s}, vdirsyncer sync {vd_s}")

    # 2. no changes
    nc = []
    if last_alm_dir:
        for r in range(R):
            try:
                wall, rep = almanac_sync(bin_, cfg, last_alm_dir)
                c = rep["calendars"][0]
                if not c["unchanged"] or c["added"] or c["changed"] or c["removed"]:
                    raise Failed(f"a sync with no changes reported changes: {c}")
                nc.append((wall, rep["duration_ms"] / 1000, rep["requests"], rep["bytes"]))
            except Failed as e:
                problems.append(f"almanac no-change sync: {e}")
                say(f"FAILED: {e}")
        if nc:
            say(f"no changes: {nc[-1][2]} request(s), {nc[-1][3]} bytes, {med([x[0] for x in nc]):.2f} s")
    else:
        problems.append("no-change sync: no almanac cache to start from")

    # 3. k changes
    krows = []
    rng = random.Random(7)
    if last_alm_dir:
        for k in [int(x) for x in a.k_list.split()]:
            if k > N:
                continue
            reps = a.k_runs if k * a.k_runs <= 100 else 1
            rows = []
            for rep_i in range(reps):
                tag = f"[edit k{k} r{rep_i}]"
                indices = rng.sample(range(N), k)
                try:
                    put_s = put_edits(url, a.template, indices, tag)
                    wall, rep = almanac_sync(bin_, cfg, last_alm_dir)
                    c = rep["calendars"][0]
                    if (c["changed"], c["added"], c["removed"]) != (k, 0, 0):
                        raise Failed(f"after {k} edits: changed {c['changed']}, added {c['added']}, "
                                     f"removed {c['removed']} (expected {k}, 0, 0)")
                    exp = subprocess.run([bin_, "--config", cfg, "--data-dir", last_alm_dir, "export",
                                          "--calendar", "Bench"], capture_output=True, check=False)
                    seen = exp.stdout.count(tag.encode())
                    if exp.returncode != 0 or seen != k:
                        raise Failed(f"after {k} edits the cache has {seen} edited items "
                                     f"(export rc {exp.returncode})")
                    rows.append((wall, rep["duration_ms"] / 1000, rep["requests"], rep["bytes"], put_s,
                                 c["requests"]))
                except Failed as e:
                    problems.append(f"k={k}: {e}")
                    say(f"FAILED: {e}")
            if rows:
                krows.append((k, reps, rows))
                say(f"k={k}: {rows[-1][2]} requests, {rows[-1][3]} bytes, sync {med([x[0] for x in rows]):.2f} s "
                    f"(PUT of {k} took {rows[-1][4]:.1f} s)")
        items, _ = almanac_items(bin_, cfg, last_alm_dir)
        if items != N:
            problems.append(f"after the edits the cache holds {items} items, expected {N}")

    # 3b. local edits pushed (issue 5): `almanac add`, `edit`, `delete`, each of which stages the
    # change and pushes it at once (home listing, the write, the calendar's sync REPORT). The
    # server ends with exactly the N items it had, so the later sections still hold.
    pushes = {"add": [], "edit": [], "delete": []}
    if last_alm_dir:
        for r in range(R):
            try:
                idx = rng.randrange(N)
                status, body, _ = dav(url, "GET", href(idx))
                m = re.search(rb"^UID:(.+?)\r?$", body, re.M)
                if status != 200 or not m:
                    raise Failed(f"GET {href(idx)}: {status}")
                uid = m.group(1).decode()
                title = f"[push r{r}]"
                for verb, args in [
                    ("edit", ["edit", uid, "--summary", title]),
                    ("add", ["add", "--calendar", "Bench", "--summary", f"[added r{r}]",
                             "--start", "2026-11-24 10:00", "--tz", "UTC"]),
                ]:
                    wall, printed = almanac_cli(bin_, cfg, last_alm_dir, args)
                    pushes[verb].append(wall)
                    if verb == "add":
                        new_uid = printed.split()[1]
                status, body, _ = dav(url, "GET", href(idx))
                if title.encode() not in body:
                    raise Failed(f"the edit of {href(idx)} did not reach the server")
                wall, _ = almanac_cli(bin_, cfg, last_alm_dir, ["delete", new_uid])
                pushes["delete"].append(wall)
                n, _ = count_hrefs(url)
                if n != N:
                    raise Failed(f"after add and delete the server lists {n} items, expected {N}")
                st = almanac_items(bin_, cfg, last_alm_dir)[1]
                if any(c.get("pending") for c in st):
                    raise Failed("a change is still pending after its push")
            except Failed as e:
                problems.append(f"push round {r}: {e}")
                say(f"FAILED: {e}")
        say("pushes: " + ", ".join(f"{k} {med(v):.2f} s" for k, v in pushes.items() if v))

    # 4. requests and bytes through a counting proxy (untimed): vdirsyncer, and almanac as a check
    proxy_url, counter, proxy = start_proxy(url)
    pv = {}
    try:
        vd = os.path.join(work, "vdirsyncer-counted")
        cfgv = vdir_setup(vd, proxy_url)
        counter.reset()
        vdir(venv, vd, cfgv, "discover", stdin=b"y\n" * 20)
        pv["discover"] = counter.snapshot()
        counter.reset()
        vdir(venv, vd, cfgv, "sync")
        pv["sync"] = counter.snapshot()
        if vdir_count(vd) != N:
            raise Failed(f"vdirsyncer (counted) wrote {vdir_count(vd)} items, expected {N}")
        counter.reset()
        pv["nochange_s"] = vdir(venv, vd, cfgv, "sync")
        pv["nochange"] = counter.snapshot()
        shutil.rmtree(vd, ignore_errors=True)
    except Failed as e:
        problems.append(f"vdirsyncer through the counting proxy: {e}")
    pa = {}
    try:
        cfgp = os.path.join(work, "almanac-proxy.toml")
        almanac_config(cfgp, proxy_url)
        d = os.path.join(work, "almanac-counted")
        counter.reset()
        _, rep = almanac_sync(bin_, cfgp, d)
        pa["first"] = (counter.snapshot(), rep)
        counter.reset()
        _, rep = almanac_sync(bin_, cfgp, d)
        pa["nochange"] = (counter.snapshot(), rep)
        status, body, _ = dav(url, "GET", href(0))
        uid = re.search(rb"^UID:(.+?)\r?$", body, re.M).group(1).decode()
        counter.reset()
        almanac_cli(bin_, cfgp, d, ["edit", uid, "--summary", "[counted push]"])
        pa["edit"] = counter.snapshot()
        counter.reset()
        _, printed = almanac_cli(bin_, cfgp, d, ["add", "--calendar", "Bench", "--summary",
                                                  "[counted add]", "--start", "2026-11-24 10:00", "--tz", "UTC"])
        pa["add"] = counter.snapshot()
        counter.reset()
        almanac_cli(bin_, cfgp, d, ["delete", printed.split()[1]])
        pa["delete"] = counter.snapshot()
        shutil.rmtree(d, ignore_errors=True)
    except Failed as e:
        problems.append(f"almanac through the counting proxy: {e}")
    proxy.shutdown()

    # 5. what Radicale takes per kind of request (curl, 3 each, median)
    status, data, _ = dav(url, "PROPFIND", f"/{USER}/", HOME_PROPFIND, depth="1")
    token = sync_token(data)
    kinds = [
        ("home PROPFIND Depth 1 (almanac's body)", "PROPFIND", f"/{USER}/", HOME_PROPFIND),
        ("calendar PROPFIND Depth 1, getetag only", "PROPFIND", cal_path, ETAG_PROPFIND),
        ("sync-collection REPORT, empty token", "REPORT", cal_path, sync_collection(None)),
        ("sync-collection REPORT, current token", "REPORT", cal_path, sync_collection(token)),
        (f"calendar-multiget REPORT of {min(BATCH, N)} hrefs", "REPORT", cal_path,
         multiget([href(i) for i in range(0, N, max(1, N // BATCH))][:BATCH])),
        ("calendar-query REPORT, all data (the floor)", "REPORT", cal_path, QUERY_ALL),
    ]
    kinds.append(("calendar-query REPORT, all data, gzip (as vdirsyncer gets it)", "REPORT", cal_path,
                  QUERY_ALL, ("-H", "Accept-Encoding: gzip")))
    costs = []
    for name, method, path, body, *extra in kinds:
        try:
            xs = [curl(url, method, path, body, extra=extra[0] if extra else ()) for _ in range(3)]
            costs.append((name, f"{med([x[0] for x in xs]):.3f} s", xs[0][1]))
        except Failed as e:
            problems.append(f"cost of {name}: {e}")
    # almanac's fetch on its own: every href in multigets of BATCH, 1 and 3 in flight (one run each)
    batches = [[href(i) for i in range(j, min(j + BATCH, N))] for j in range(0, N, BATCH)]
    for inflight in (1, 3):
        def one(b):
            status, data, _ = dav(url, "REPORT", cal_path, multiget(b), depth="1")
            if status != 207:
                raise Failed(f"multiget answered {status}")
            return len(data)
        t0 = time.perf_counter()
        try:
            with ThreadPoolExecutor(inflight) as pool:
                total = sum(pool.map(one, batches))
            costs.append((f"all {N} hrefs in {len(batches)} multigets of {BATCH}, {inflight} in flight "
                          "(one run)", f"{time.perf_counter() - t0:.3f} s", total))
        except Failed as e:
            problems.append(f"multiget all, {inflight} in flight: {e}")

    # --- the report ---
    fl, am, vm = med(floor_t), med(alm_wall), med(vd_sync)
    vdm = med([x + y for x, y in zip(vd_disc, vd_sync)])
    emit(f"## Sync benchmark: {N} events in one calendar on Radicale {version_of(venv, 'radicale')}")
    emit()
    emit(f"Machine: {os.cpu_count()} cores, {machine()}, {platform.system()} {platform.release()}, "
         f"Python {platform.python_version()}; vdirsyncer {version_of(venv, 'vdirsyncer')}; "
         f"almanac {a.rev}.")
    if a.sizes:
        emit(f"Data: {a.sizes.strip()} (on the server's disk).")
    emit(f"First syncs: median of {R} runs (min–max in seconds), interleaved round by round, one "
         f"Radicale, warm storage. Wall clock of the whole process; almanac with a fresh --data-dir; "
         f"vdirsyncer into a fresh filesystem storage.")
    emit()
    emit("| first full sync | median | min–max | requests | bytes | vs floor | goal |")
    emit("|---|---|---|---|---|---|---|")
    emit(f"| floor: one `curl` REPORT calendar-query | {fmt_s(fl)} | {spread(floor_t)} | 1 | "
         f"{fmt_b(floor_b[0] if floor_b else None)} | 1.00x | |")
    ok_floor = am <= 1.5 * fl if alm_wall and floor_t else False
    emit(f"| almanac sync (process wall) | {fmt_s(am)} | {spread(alm_wall)} | "
         f"{alm_req[0] if alm_req else '-'} | {fmt_b(alm_bytes[0] if alm_bytes else None)} | "
         f"{am / fl:.2f}x | ≤ 1.5x floor: **{goal(ok_floor)}** |")
    emit(f"| almanac's own duration_ms | {fmt_s(med(alm_inner))} | {spread(alm_inner)} | | | "
         f"{med(alm_inner) / fl:.2f}x | |")
    pvs = pv.get("sync")
    ok_vd = vm >= 3 * am if alm_wall and vd_sync else False
    emit(f"| vdirsyncer sync (discover not included) | {fmt_s(vm)} | {spread(vd_sync)} | "
         f"{pvs['requests'] if pvs else '-'} | {fmt_b(pvs['bytes'] if pvs else None)} | {vm / fl:.2f}x | "
         f"vdirsyncer / almanac = {vm / am:.2f}x, ≥ 3x: **{goal(ok_vd)}** |")
    pvd = pv.get("discover")
    emit(f"| vdirsyncer discover + sync | {fmt_s(vdm)} | "
         f"{spread([x + y for x, y in zip(vd_disc, vd_sync)])} | "
         f"{pvs['requests'] + pvd['requests'] if pvs and pvd else '-'} | "
         f"{fmt_b(pvs['bytes'] + pvd['bytes'] if pvs and pvd else None)} | {vdm / fl:.2f}x | "
         f"vdirsyncer / almanac = {vdm / am:.2f}x |")
    emit()
    emit("| sync with no changes | median | requests | bytes | goal |")
    emit("|---|---|---|---|---|")
    if nc:
        ok = all(x[2] == 1 for x in nc)
        emit(f"| almanac (process wall; own duration_ms {fmt_s(med([x[1] for x in nc]))}) | "
             f"{fmt_s(med([x[0] for x in nc]))} | {nc[0][2]} | {fmt_b(nc[0][3])} | "
             f"1 request per account: **{goal(ok)}** |")
    if "nochange" in pv:
        emit(f"| vdirsyncer sync (one run) | {fmt_s(pv['nochange_s'])} | {pv['nochange']['requests']} | "
             f"{fmt_b(pv['nochange']['bytes'])} | |")
    emit()
    emit(f"| k events changed (PUT), then almanac sync | runs | median | requests | of them the calendar's "
         f"| bytes | goal 2 + ceil(k/{BATCH}) | PUTs took |")
    emit("|---|---|---|---|---|---|---|---|")
    for k, reps, rows in krows:
        want = 2 + math.ceil(k / BATCH)
        reqs = sorted({x[2] for x in rows})
        ok = all(x[2] == want for x in rows)
        emit(f"| k = {k} | {reps} | {fmt_s(med([x[0] for x in rows]))} | {'/'.join(map(str, reqs))} | "
             f"{rows[0][5]} | {fmt_b(rows[0][3])} | {want}: **{goal(ok)}** | {fmt_s(med([x[4] for x in rows]))} |")
    if any(2 * k >= N and k >= 20 for k, _, _ in krows):
        emit()
        emit("k ≥ N/2: by design almanac checks a sync-collection delta without removals that covers "
             "half the calendar or more against a full etag listing (src/sync/engine.rs, `suspicious`): "
             "one more request, the size of the calendar.")
    emit()
    if any(pushes.values()):
        emit(f"| a local edit, pushed at once (`almanac …` process wall) | runs | median | min–max |")
        emit("|---|---|---|---|")
        for verb, xs in pushes.items():
            if xs:
                emit(f"| `{verb}` | {len(xs)} | {fmt_s(med(xs))} | {spread(xs)} |")
        emit()
    if pa or pv:
        emit("Counted by a proxy in front of Radicale (response body bytes; untimed runs):")
        emit()
        emit("| run | requests | bytes | by method (requests/bytes) | gzip replies | almanac's --json |")
        emit("|---|---|---|---|---|---|")
        for name, key in [("almanac first sync", "first"), ("almanac no-change sync", "nochange")]:
            if key in pa:
                snap, rep = pa[key]
                same = snap["requests"] == rep["requests"] and snap["bytes"] == rep["bytes"]
                diff = snap["bytes"] - rep["bytes"]
                verdict = ("same" if same else
                           f"requests same, bytes {diff} fewer: the body of the /.well-known redirect"
                           if snap["requests"] == rep["requests"] and diff == snap["redirect_bytes"] > 0
                           else "**differs**")
                emit(f"| {name} | {snap['requests']} | {fmt_b(snap['bytes'])} ({snap['bytes']}) | "
                     f"{', '.join(f'{m} {n}/{fmt_b(b)}' for m, (n, b) in snap['by_method'].items())} | "
                     f"{snap['gzip']} | {rep['requests']} requests, {rep['bytes']} bytes: "
                     f"{verdict} |")
        counted = [(pa, "almanac edit (push)", "edit"), (pa, "almanac add (push)", "add"),
                   (pa, "almanac delete (push)", "delete"), (pv, "vdirsyncer discover", "discover"),
                   (pv, "vdirsyncer first sync", "sync"), (pv, "vdirsyncer no-change sync", "nochange")]
        for runs, name, key in counted:
            if key in runs:
                snap = runs[key]
                emit(f"| {name} | {snap['requests']} | {fmt_b(snap['bytes'])} | "
                     f"{', '.join(f'{m} {n}/{fmt_b(b)}' for m, (n, b) in snap['by_method'].items())} | "
                     f"{snap['gzip']} | |")
        emit()
    if costs:
        emit("What Radicale takes per request (curl, median of 3; the last two rows: Python http.client, one run):")
        emit()
        emit("| request | time | bytes |")
        emit("|---|---|---|")
        for name, t, b in costs:
            emit(f"| {name} | {t} | {fmt_b(b)} |")
        emit()
    if problems:
        emit("Measurements that could not be taken:")
        for p in problems:
            emit(f"- {p}")
        return 1
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["warm", "run"])
    ap.add_argument("--url", required=True)
    ap.add_argument("--events", type=int, required=True)
    ap.add_argument("--almanac")
    ap.add_argument("--venv")
    ap.add_argument("--work")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--k-list", default="1 10 100 1000")
    ap.add_argument("--k-runs", type=int, default=3)
    ap.add_argument("--sizes", default="")
    ap.add_argument("--template")
    ap.add_argument("--rev", default="?")
    a = ap.parse_args()
    try:
        if a.cmd == "warm":
            cmd_warm(a)
            return 0
        return cmd_run(a)
    except Failed as e:
        say(f"FAILED: {e}")
        print(f"\nMeasurement failed: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
