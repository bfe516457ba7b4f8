#!/usr/bin/env python3
"""Writes synthetic .ics files for the benchmarks: N events over four years centred on 2026-11-23.

Same mix as benches/month.rs: ~93% timed events of 30-120 min (Europe/Berlin 60%, America/New_York
20%, Asia/Tokyo 10%, UTC 10%), ~5% all-day, ~1% multi-day (2-10 days), 0.05% long (3-8 weeks), 1%
cancelled, weekdays 2.5x as busy as weekend days, spread over five calendars.

usage: gen_ics.py N OUTDIR [--chunk K]

Writes OUTDIR/<Calendar>-<i>.ics, at most K events per file (default: one file per calendar), and
prints one "<Calendar> <file>" line per file, for `almanac import FILE --calendar NAME`.
"""

import argparse
import datetime as dt
import os
import random

CALENDARS = [("Work", 0.45), ("Personal", 0.25), ("Family", 0.15), ("Team", 0.10), ("Holidays", 0.05)]
ZONES = [("Europe/Berlin", 0.60), ("America/New_York", 0.20), ("Asia/Tokyo", 0.10), (None, 0.10)]
WORDS = ["Standup", "Review", "Planning", "Lunch", "Dentist", "Sync", "Retro", "Call", "Workshop",
         "Interview", "Gym", "Dinner", "1:1", "Demo", "Budget", "Offsite"]
PLACES = ["Room 4.12", "Café Einstein\\, Kurfürstenstraße 58", "https://meet.example.com/abc-defg-hij",
          "Home", "Hauptbahnhof", "Building B\\, 2nd floor"]
TODAY = dt.date(2026, 11, 23)
SPAN_DAYS = 4 * 365


def weighted(rng, table):
    x = rng.random()
    for v, w in table:
        if x < w:
            return v
        x -= w
    return table[-1][0]


def ymd(d):
    return d.strftime("%Y%m%d")


def event(rng, cal, n):
    first = TODAY - dt.timedelta(days=SPAN_DAYS // 2)
    while True:
        day = first + dt.timedelta(days=rng.randrange(SPAN_DAYS))
        if day.weekday() < 5 or rng.random() < 0.4:
            break
    out = [
        "BEGIN:VEVENT",
        f"UID:{n:06d}-{cal}@bench.almanac",
        "DTSTAMP:20260101T000000Z",
    ]
    kind = rng.random()
    if kind < 0.0005:
        days = 7 * (3 + rng.randrange(6))
        out += [f"DTSTART;VALUE=DATE:{ymd(day)}", f"DTEND;VALUE=DATE:{ymd(day + dt.timedelta(days=days))}"]
    elif kind < 0.0105:
        days = 2 + rng.randrange(9)
        if rng.random() < 0.5:
            out += [f"DTSTART;VALUE=DATE:{ymd(day)}",
                    f"DTEND;VALUE=DATE:{ymd(day + dt.timedelta(days=days))}"]
        else:
            out += [f"DTSTART;TZID=Europe/Berlin:{ymd(day)}T090000",
                    f"DTEND;TZID=Europe/Berlin:{ymd(day + dt.timedelta(days=days - 1))}T170000"]
    elif kind < 0.0605:
        out += [f"DTSTART;VALUE=DATE:{ymd(day)}", f"DTEND;VALUE=DATE:{ymd(day + dt.timedelta(days=1))}"]
    else:
        start = dt.datetime.combine(day, dt.time(7)) + dt.timedelta(minutes=15 * rng.randrange(52))
        end = start + dt.timedelta(minutes=30 + 15 * rng.randrange(7))
        fmt = "%Y%m%dT%H%M%S"
        zone = weighted(rng, ZONES)
        if zone:
            out += [f"DTSTART;TZID={zone}:{start.strftime(fmt)}", f"DTEND;TZID={zone}:{end.strftime(fmt)}"]
        else:
            out += [f"DTSTART:{start.strftime(fmt)}Z", f"DTEND:{end.strftime(fmt)}Z"]
    out.append(f"SUMMARY:{rng.choice(WORDS)} {rng.choice(WORDS).lower()} #{n}")
    if rng.random() < 0.4:
        out.append(f"LOCATION:{rng.choice(PLACES)}")
    if rng.random() < 0.3:
        out.append(f"DESCRIPTION:Agenda:\\n- status of {rng.choice(WORDS)}\\n- next steps\\nNotes from last "
                   "time are in the \r\n shared folder.")
    r = rng.randrange(100)
    if r == 0:
        out.append("STATUS:CANCELLED")
    elif r <= 3:
        out.append("STATUS:TENTATIVE")
    out.append("END:VEVENT")
    return "\r\n".join(out) + "\r\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("outdir")
    ap.add_argument("--chunk", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(0xA1A)
    os.makedirs(args.outdir, exist_ok=True)
    per_cal = {name: [] for name, _ in CALENDARS}
    for n in range(args.n):
        cal = weighted(rng, CALENDARS)
        per_cal[cal].append(event(rng, cal, n))
    for cal, events in per_cal.items():
        chunk = args.chunk or max(len(events), 1)
        for i in range(0, len(events), chunk):
            path = os.path.join(args.outdir, f"{cal}-{i // chunk:03d}.ics")
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//almanac//bench//EN\r\n")
                f.write(f"X-WR-CALNAME:{cal}\r\n")
                f.writelines(events[i:i + chunk])
                f.write("END:VCALENDAR\r\n")
            print(cal, path)


if __name__ == "__main__":
    main()
