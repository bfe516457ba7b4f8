//! A Google Calendar server for the end-to-end benchmarks (`benches/google_sync.sh`): the built-in
//! emulator with one calendar holding N events, on a loopback port, run as a separate process so
//! that the client's figures are its own. Commands on stdin let the script sign a fresh data dir
//! in, apply k changes between rounds and read what the server saw.
//!
//! usage: cargo run --release --example google_server -- N DIR
//!
//! On start it seeds N listed items into calendar `bench` ("Bench"): weekly series (a master with
//! one moved instance each, 2% of N), a few all-day events, and timed single events (the rest),
//! registers a Desktop OAuth client, writes `DIR/config.toml` (account `bench`, `kind = "google"`,
//! the emulator's api/auth/token URLs), and prints `ready API_URL` on stdout.
//!
//! Commands (one a line on stdin; each answer ends with a line `ok` or `error ...`):
//!   login DATA_DIR   issues tokens and saves them as account `bench`'s tokens under DATA_DIR;
//!                    prints `token ACCESS_TOKEN` (the bearer token, for replaying requests).
//!   change K         K changes by another client: edits of existing single events (a new summary),
//!                    a different K events each time; every 10th change is a new event instead.
//!   reset            zeroes the request counter and clears the request log.
//!   count            prints `requests N`.
//!   log              prints `req STATUS METHOD PATH_AND_QUERY` for each request since the reset.
//!   violations       prints `violation ...` for each protocol violation seen.

use std::io::{BufRead, Write};

use almanac::emulator::google::GoogleEmulator;
use almanac::sync::google::auth;
use chrono::Datelike;
use serde_json::{Value, json};

const CLIENT: &str = "1234-bench.apps.googleusercontent.com";
const SECRET: &str = "bench-secret";
const CALENDAR: &str = "bench";
const ACCOUNT: &str = "bench";

/// A deterministic generator (xorshift64*), so every run seeds the same calendar.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const ZONES: [(&str, &str); 3] = [
    ("Europe/Berlin", "+01:00"),
    ("America/New_York", "-05:00"),
    ("UTC", "Z"),
];
const WORDS: [&str; 10] = [
    "Review", "Standup", "Lunch", "Planning", "Dentist", "Call", "Retro", "Gym", "Workshop", "Sync",
];

/// A day in 2025-01-01 .. 2028-12-31 as `YYYY-MM-DD` (days of month capped at 28).
fn day(rng: &mut Rng) -> (i32, u32, u32) {
    (
        2025 + rng.below(4) as i32,
        1 + rng.below(12) as u32,
        1 + rng.below(28) as u32,
    )
}

fn stamp((y, m, d): (i32, u32, u32), hour: u32, minute: u32, offset: &str) -> String {
    format!("{y:04}-{m:02}-{d:02}T{hour:02}:{minute:02}:00{offset}")
}

fn timed(rng: &mut Rng, id: &str, n: usize) -> Value {
    let (zone, offset) = ZONES[rng.below(ZONES.len() as u64) as usize];
    let date = day(rng);
    let hour = 7 + rng.below(12) as u32;
    let minute = 15 * rng.below(4) as u32;
    let mut ev = json!({
        "id": id,
        "summary": format!("{} {n}", WORDS[n % WORDS.len()]),
        "start": {"dateTime": stamp(date, hour, minute, offset), "timeZone": zone},
        "end": {"dateTime": stamp(date, hour + 1, minute, offset), "timeZone": zone},
    });
    if rng.below(10) < 4 {
        ev["location"] = json!(format!("Room {}", rng.below(40)));
    }
    if rng.below(10) < 3 {
        ev["description"] = json!(
            "Agenda:\n- what happened since last time\n- what comes next\n- anything blocking"
        );
    }
    ev
}

fn seed(emu: &GoogleEmulator, n: usize) -> Vec<Value> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let series = n / 100; // each series is two listed items: the master and one moved instance
    let all_day = n / 50;
    let mut singles = Vec::new();
    let mut listed = 0;
    for s in 0..series {
        let id = format!("series{s:05}");
        let (y, m, d) = day(&mut rng);
        let hour = 8 + rng.below(9) as u32;
        emu.put_event(
            CALENDAR,
            json!({
                "id": id,
                "summary": format!("Weekly {s}"),
                "start": {"dateTime": stamp((y, m, d), hour, 0, "Z"), "timeZone": "UTC"},
                "end": {"dateTime": stamp((y, m, d), hour + 1, 0, "Z"), "timeZone": "UTC"},
                "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=20"],
            }),
        );
        // The second occurrence, moved an hour later. Instance ids carry the original UTC start.
        let second = chrono::NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|date| date.checked_add_days(chrono::Days::new(7)))
            .expect("a valid date");
        let ymd = (second.year(), second.month(), second.day());
        emu.put_event(
            CALENDAR,
            json!({
                "id": format!("{id}_{}T{hour:02}0000Z", second.format("%Y%m%d")),
                "recurringEventId": id,
                "summary": format!("Weekly {s} (moved)"),
                "originalStartTime": {"dateTime": stamp(ymd, hour, 0, "Z"), "timeZone": "UTC"},
                "start": {"dateTime": stamp(ymd, hour + 1, 0, "Z"), "timeZone": "UTC"},
                "end": {"dateTime": stamp(ymd, hour + 2, 0, "Z"), "timeZone": "UTC"},
            }),
        );
        listed += 2;
    }
    for a in 0..all_day {
        let (y, m, d) = day(&mut rng);
        emu.put_event(
            CALENDAR,
            json!({
                "id": format!("allday{a:05}"),
                "summary": format!("Holiday {a}"),
                "start": {"date": format!("{y:04}-{m:02}-{d:02}")},
                "end": {"date": format!("{y:04}-{m:02}-{:02}", d + 1)},
            }),
        );
        listed += 1;
    }
    let mut i = 0;
    while listed < n {
        let id = format!("single{i:06}");
        let ev = timed(&mut rng, &id, i);
        emu.put_event(CALENDAR, ev.clone());
        singles.push(ev);
        listed += 1;
        i += 1;
    }
    singles
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [n, dir] = args.as_slice() else {
        return Err("usage: google_server N DIR".into());
    };
    let n: usize = n.parse()?;
    let dir = std::path::PathBuf::from(dir);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let emu = runtime.block_on(GoogleEmulator::start())?;
    emu.add_client(CLIENT, SECRET);
    emu.add_calendar(CALENDAR, "Bench", "owner");
    let singles = seed(&emu, n);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "[[account]]\nname = \"{ACCOUNT}\"\nkind = \"google\"\nclient_id = \"{CLIENT}\"\n\
             client_secret = {{ value = \"{SECRET}\" }}\napi_url = \"{}\"\nauth_url = \"{}\"\n\
             token_url = \"{}\"\n",
            emu.api_url(),
            emu.auth_url(),
            emu.token_url()
        ),
    )?;
    emu.reset_counts();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "ready {}", emu.api_url())?;
    out.flush()?;

    let mut edits = 0usize; // edits so far: the next edit takes the next single
    let mut added = 0usize;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let mut words = line.split_whitespace();
        let reply: Result<(), String> = match (words.next(), words.next()) {
            (Some("login"), Some(data)) => {
                let (access, refresh) = emu.issue_tokens(CLIENT);
                let tokens = auth::Tokens {
                    access_token: access.clone(),
                    expires_at: chrono::Utc::now().timestamp() + 3000,
                    refresh_token: refresh,
                };
                auth::save(
                    &auth::token_path(std::path::Path::new(data), ACCOUNT),
                    &tokens,
                )
                .map(|_| writeln!(out, "token {access}").unwrap_or(()))
                .map_err(|e| e.to_string())
            }
            (Some("change"), Some(k)) => match k.parse::<usize>() {
                Ok(k) => {
                    for c in 0..k {
                        if c % 10 == 9 {
                            let id = format!("added{added:06}");
                            let mut rng = Rng(0x1234_5678 + added as u64);
                            emu.put_event(CALENDAR, timed(&mut rng, &id, added));
                            added += 1;
                        } else {
                            let mut ev = singles[edits % singles.len()].clone();
                            ev["summary"] = json!(format!("Edited {edits}"));
                            emu.put_event(CALENDAR, ev);
                            edits += 1;
                        }
                    }
                    Ok(())
                }
                Err(e) => Err(e.to_string()),
            },
            (Some("reset"), None) => {
                emu.reset_counts();
                Ok(())
            }
            (Some("count"), None) => {
                writeln!(out, "requests {}", emu.requests()).map_err(|e| e.to_string())
            }
            (Some("log"), None) => emu.request_log().iter().try_for_each(|r| {
                writeln!(out, "req {} {} {}", r.status, r.method, r.path_and_query)
                    .map_err(|e| e.to_string())
            }),
            (Some("violations"), None) => emu
                .violations()
                .iter()
                .try_for_each(|v| writeln!(out, "violation {v}").map_err(|e| e.to_string())),
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
