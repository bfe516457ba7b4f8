#!/usr/bin/env python3
"""Writes N realistic events straight into Radicale's filesystem storage, as one calendar.

usage: gen_events.py N FILESYSTEM_FOLDER [--user alice] [--calendar bench]

Layout (Radicale 3, storage type multifilesystem):
  FOLDER/collection-root/USER/CALENDAR/.Radicale.props  {"tag": "VCALENDAR", "D:displayname": "Bench"}
  FOLDER/collection-root/USER/CALENDAR/ev-00000.ics ... one VCALENDAR per item (the file name is
  the href's last segment)

The mix (deterministic seed): ~75% timed events in Europe/Berlin, America/New_York or UTC (each
zoned one carries its VTIMEZONE, as real clients send them), ~10% all-day, ~10% recurring (weekly
with BYDAY and sometimes an EXDATE or UNTIL, monthly, yearly; the rest COUNT-bounded), ~5%
multi-day; 70% have a multi-line DESCRIPTION, 50% a LOCATION, 30% attendees, 15% a VALARM. Items
are about 0.5-2.5 KB (the size distribution is printed). Prints one line: the count, total bytes,
mean/min/max bytes per item.
"""

import argparse
import datetime as dt
import json
import os
import random

VTZ = {
    "Europe/Berlin": """BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE""",
    "America/New_York": """BEGIN:VTIMEZONE
TZID:America/New_York
BEGIN:DAYLIGHT
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
TZNAME:EDT
DTSTART:19700308T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
TZNAME:EST
DTSTART:19701101T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
END:STANDARD
END:VTIMEZONE""",
}
ZONES = [("Europe/Berlin", 0.65), ("America/New_York", 0.20), (None, 0.15)]
TITLES = ["Standup", "Design review", "Sprint planning", "Lunch with Sam", "Dentist", "Team sync",
          "Retrospective", "Call with supplier", "Workshop: onboarding", "Interview (backend)", "Gym",
          "Dinner at Oma's", "1:1 with Priya", "Product demo", "Budget review Q3", "Offsite prep"]
PLACES = ["Room 4.12", "Café Einstein\\, Kurfürstenstraße 58\\, 10785 Berlin",
          "https://meet.example.com/abc-defg-hij", "Home", "Hauptbahnhof Gleis 7",
          "Building B\\, 2nd floor\\, Meeting room \"Fjord\""]
PEOPLE = ["alice@example.com", "bob@example.org", "priya@example.net", "sam@example.com",
          "jürgen@example.de", "li.wei@example.cn"]
LOREM = ("Please read the attached notes before the meeting. We will go through the open items, "
         "agree on owners and dates, and leave ten minutes for questions. Dial-in details are in "
         "the location field; the slides are on the shared drive under /projects/2026/. "
         "If you cannot attend, send your update in writing by the day before and name someone who "
         "can speak for your team. Minutes go out within a day; action items are tracked on the board.")
TODAY = dt.date(2026, 11, 23)
SPAN = 4 * 365


def pick(rng, table):
    x = rng.random()
    for v, w in table:
        if x < w:
            return v
        x -= w
    return table[-1][0]


def fold(line):
    """RFC 5545 folding at 75 octets."""
    raw = line.encode()
    if len(raw) <= 75:
        return line
    out, cur = [], b""
    for ch in line:
        b = ch.encode()
        if len(cur) + len(b) > (75 if not out else 74):
            out.append(cur.decode())
            cur = b""
        cur += b
    out.append(cur.decode())
    return "\r\n ".join(out)


def event(rng, i, summary_suffix=""):
    day = TODAY - dt.timedelta(days=SPAN // 2) + dt.timedelta(days=rng.randrange(SPAN))
    uid = f"{i:05d}-{rng.getrandbits(48):012x}@bench.almanac.example"
    lines = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20261101T090000Z",
             "CREATED:20260115T101500Z", "LAST-MODIFIED:20261101T090000Z", "SEQUENCE:0"]
    zones = []
    kind = rng.random()
    fmt = "%Y%m%dT%H%M%S"
    if kind < 0.10:  # all-day
        lines += [f"DTSTART;VALUE=DATE:{day:%Y%m%d}", f"DTEND;VALUE=DATE:{day + dt.timedelta(days=1):%Y%m%d}",
                  "TRANSP:TRANSPARENT"]
    elif kind < 0.15:  # multi-day
        n = 2 + rng.randrange(6)
        lines += [f"DTSTART;VALUE=DATE:{day:%Y%m%d}", f"DTEND;VALUE=DATE:{day + dt.timedelta(days=n):%Y%m%d}"]
    else:
        start = dt.datetime.combine(day, dt.time(7)) + dt.timedelta(minutes=15 * rng.randrange(48))
        end = start + dt.timedelta(minutes=30 + 15 * rng.randrange(7))
        zone = pick(rng, ZONES)
        if zone:
            zones.append(zone)
            lines += [f"DTSTART;TZID={zone}:{start:{fmt}}", f"DTEND;TZID={zone}:{end:{fmt}}"]
        else:
            lines += [f"DTSTART:{start:{fmt}}Z", f"DTEND:{end:{fmt}}Z"]
        if kind < 0.25:  # recurring
            r = rng.random()
            if r < 0.5:
                days = ",".join(sorted(rng.sample(["MO", "TU", "WE", "TH", "FR"], 1 + rng.randrange(3))))
                rule = f"RRULE:FREQ=WEEKLY;BYDAY={days}"
                rule += f";COUNT={10 + rng.randrange(40)}" if rng.random() < 0.5 else \
                    f";UNTIL={start + dt.timedelta(days=90 + rng.randrange(300)):%Y%m%dT%H%M%S}Z"
                lines.append(rule)
                if rng.random() < 0.4:
                    ex = start + dt.timedelta(days=7 * (1 + rng.randrange(5)))
                    lines.append(f"EXDATE;TZID={zone}:{ex:{fmt}}" if zone else f"EXDATE:{ex:{fmt}}Z")
            elif r < 0.8:
                lines.append(f"RRULE:FREQ=MONTHLY;BYMONTHDAY={start.day};COUNT={6 + rng.randrange(18)}")
            else:
                lines.append("RRULE:FREQ=YEARLY")
    title = rng.choice(TITLES)
    lines.append(fold(f"SUMMARY:{title} #{i}{summary_suffix}"))
    if rng.random() < 0.5:
        lines.append(fold(f"LOCATION:{rng.choice(PLACES)}"))
    if rng.random() < 0.7:
        n = 120 + rng.randrange(len(LOREM) - 80)
        desc = f"Agenda for {title}:\\n- status\\n- risks\\n- next steps\\n\\n" + LOREM[:n].replace(",", "\\,")
        lines.append(fold(f"DESCRIPTION:{desc}"))
    lines.append(f"STATUS:{pick(rng, [('CONFIRMED', 0.9), ('TENTATIVE', 0.08), ('CANCELLED', 0.02)])}")
    if rng.random() < 0.3:
        lines.append(fold(f"ORGANIZER;CN=Alice Example:mailto:{PEOPLE[0]}"))
        for p in rng.sample(PEOPLE[1:], 1 + rng.randrange(4)):
            lines.append(fold(f"ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;"
                              f"RSVP=TRUE:mailto:{p}"))
    if rng.random() < 0.3:
        lines.append(fold(f"CATEGORIES:{rng.choice(['Work', 'Personal', 'Family', 'Travel'])}"))
    if rng.random() < 0.15:
        lines += ["BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:Reminder", "TRIGGER:-PT15M", "END:VALARM"]
    lines.append("END:VEVENT")
    return uid, zones, lines


def item_text(zones, vevent):
    parts = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//almanac//sync bench//EN", "CALSCALE:GREGORIAN"]
    for z in zones:
        parts.append(VTZ[z].replace("\n", "\r\n"))
    parts += vevent
    parts.append("END:VCALENDAR")
    return "\r\n".join(parts) + "\r\n"


def href_name(i):
    return f"ev-{i:05d}.ics"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("folder")
    ap.add_argument("--user", default="alice")
    ap.add_argument("--calendar", default="bench")
    a = ap.parse_args()
    coll = os.path.join(a.folder, "collection-root", a.user, a.calendar)
    os.makedirs(coll, exist_ok=True)
    with open(os.path.join(coll, ".Radicale.props"), "w") as f:
        json.dump({"tag": "VCALENDAR", "D:displayname": "Bench"}, f)
    rng = random.Random(20261123)
    sizes = []
    for i in range(a.n):
        _, zones, lines = event(rng, i)
        data = item_text(zones, lines).encode()
        sizes.append(len(data))
        with open(os.path.join(coll, href_name(i)), "wb") as f:
            f.write(data)
    sizes.sort()
    print(f"{a.n} items, {sum(sizes)} bytes, mean {sum(sizes) // max(1, a.n)} B, "
          f"min {sizes[0] if sizes else 0} B, median {sizes[len(sizes) // 2] if sizes else 0} B, "
          f"max {sizes[-1] if sizes else 0} B")


if __name__ == "__main__":
    main()
