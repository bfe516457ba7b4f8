//! An iCalendar feed for the end-to-end benchmarks (`benches/google_sync.sh`): the built-in feed
//! server (conditional GETs, ETag and Last-Modified) serving N events, on a loopback port, run as
//! a separate process. Commands on stdin change the feed between rounds.
//!
//! usage: cargo run --release --example feed_server -- N DIR
//!
//! The feed holds N UIDs: weekly series (1 in 50, each with one moved occurrence as a
//! RECURRENCE-ID override), a few all-day events, and timed single events in Europe/Berlin
//! (VTIMEZONE included). It writes `DIR/config.toml` (account `feed`, `kind = "ics"`) and prints
//! `ready URL` on stdout.
//!
//! Commands (one a line on stdin; each answer ends with a line `ok` or `error ...`):
//!   change C A R   a new version of the feed: C events get a new summary, A new events are added,
//!                  R events are removed (a different set each time), and every DTSTAMP is
//!                  rewritten, as feed generators do on each download.
//!   restamp        a new version in which only the DTSTAMPs differ (a new ETag, no real change).
//!   count          prints `requests N 200:N 304:N` (all requests so far, by status).
//!   bytes          prints `bytes N`: the size of the feed as served now.

use std::io::{BufRead, Write};

use almanac::emulator::FeedServer;

const TZ: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\n\
TZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n\
END:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\n\
DTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";

/// One UID of the feed.
struct Event {
    n: usize,
    summary: String,
}

/// The VEVENT text of event `e` (with its override, for a series) under DTSTAMP `stamp`.
fn write_event(out: &mut String, e: &Event, stamp: &str) {
    let n = e.n;
    let uid = format!("feed-{n:06}@bench.almanac");
    // Spread over 2025..2028, deterministically.
    let year = 2025 + (n * 7919 % 4);
    let month = 1 + n * 31 % 12;
    let day = 1 + n * 17 % 28;
    let hour = 7 + n * 13 % 12;
    let date = format!("{year:04}{month:02}{day:02}");
    if n % 50 == 0 {
        out.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:{stamp}\r\nDTSTART:{date}T{hour:02}0000Z\r\n\
             DTEND:{date}T{:02}0000Z\r\nRRULE:FREQ=WEEKLY;COUNT=20\r\nSUMMARY:{}\r\nEND:VEVENT\r\n",
            hour + 1,
            e.summary
        ));
        let moved = chrono::NaiveDate::parse_from_str(&date, "%Y%m%d")
            .ok()
            .and_then(|d| d.checked_add_days(chrono::Days::new(7)))
            .map(|d| d.format("%Y%m%d").to_string())
            .unwrap_or_default();
        out.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:{uid}\r\nRECURRENCE-ID:{moved}T{hour:02}0000Z\r\nDTSTAMP:{stamp}\r\n\
             DTSTART:{moved}T{:02}0000Z\r\nDTEND:{moved}T{:02}0000Z\r\nSUMMARY:{} (moved)\r\nEND:VEVENT\r\n",
            hour + 1,
            hour + 2,
            e.summary
        ));
    } else if n % 50 == 1 {
        out.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:{stamp}\r\nDTSTART;VALUE=DATE:{date}\r\n\
             SUMMARY:{}\r\nTRANSP:TRANSPARENT\r\nEND:VEVENT\r\n",
            e.summary
        ));
    } else {
        out.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:{stamp}\r\nDTSTART;TZID=Europe/Berlin:{date}T{hour:02}{:02}00\r\n\
             DTEND;TZID=Europe/Berlin:{date}T{:02}{:02}00\r\nSUMMARY:{}\r\n",
            n % 4 * 15,
            hour + 1,
            n % 4 * 15,
            e.summary
        ));
        if n % 3 == 0 {
            out.push_str(&format!("LOCATION:Room {}\r\n", n % 40));
        }
        if n % 4 == 0 {
            out.push_str(
                "DESCRIPTION:Agenda:\\n- what happened since last time\\n- what comes next\r\n",
            );
        }
        out.push_str("END:VEVENT\r\n");
    }
}

fn feed(events: &[Event], version: u64) -> String {
    // Each version has its own DTSTAMP, as a generator that stamps every download.
    let stamp = format!(
        "20260101T{:02}{:02}{:02}Z",
        version / 3600 % 24,
        version / 60 % 60,
        version % 60
    );
    let mut out = String::with_capacity(events.len() * 260);
    out.push_str("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//almanac//bench feed//EN\r\nX-WR-CALNAME:Feed\r\n");
    out.push_str(TZ);
    for e in events {
        write_event(&mut out, e, &stamp);
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [n, dir] = args.as_slice() else {
        return Err("usage: feed_server N DIR".into());
    };
    let n: usize = n.parse()?;
    let dir = std::path::PathBuf::from(dir);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let mut events: Vec<Event> = (0..n)
        .map(|n| Event {
            n,
            summary: format!("Event {n}"),
        })
        .collect();
    let mut version = 1u64;
    let server = runtime.block_on(FeedServer::start(&feed(&events, version)))?;
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "[[account]]\nname = \"feed\"\nkind = \"ics\"\nurl = \"{}\"\n",
            server.url()
        ),
    )?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "ready {}", server.url())?;
    out.flush()?;

    let mut next_n = n; // numbers of added events
    let mut cursor = 0usize; // where the next edits start
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let words: Vec<&str> = line.split_whitespace().collect();
        let reply: Result<(), String> = match words.as_slice() {
            ["change", c, a, r] => {
                match (c.parse::<usize>(), a.parse::<usize>(), r.parse::<usize>()) {
                    (Ok(c), Ok(a), Ok(r)) => {
                        version += 1;
                        // Removals first, from the middle of the list; edits after them.
                        for _ in 0..r.min(events.len()) {
                            let at = (cursor + events.len() / 2) % events.len();
                            events.remove(at);
                        }
                        for i in 0..c.min(events.len()) {
                            let at = (cursor + i) % events.len();
                            events[at].summary = format!("Event {} v{version}", events[at].n);
                        }
                        cursor = (cursor + c) % events.len().max(1);
                        for _ in 0..a {
                            events.push(Event {
                                n: next_n,
                                summary: format!("Event {next_n}"),
                            });
                            next_n += 1;
                        }
                        server.set_body(&feed(&events, version));
                        Ok(())
                    }
                    _ => Err(format!("bad numbers: {line}")),
                }
            }
            ["restamp"] => {
                version += 1;
                server.set_body(&feed(&events, version));
                Ok(())
            }
            ["count"] => {
                let log = server.requests();
                let by = |s: u16| log.iter().filter(|r| r.status == s).count();
                writeln!(
                    out,
                    "requests {} 200:{} 304:{}",
                    log.len(),
                    by(200),
                    by(304)
                )
                .map_err(|e| e.to_string())
            }
            ["bytes"] => writeln!(out, "bytes {}", server.body().len()).map_err(|e| e.to_string()),
            _ => Err(format!("unknown command: {line}")),
        };
        match reply {
            Ok(()) => writeln!(out, "ok")?,
            Err(e) => writeln!(out, "error {e}")?,
        }
        out.flush()?;
    }
    Ok(())
}
