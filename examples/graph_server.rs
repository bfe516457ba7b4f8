//! A Microsoft Graph server for the end-to-end benchmarks (`benches/graph_sync.sh`): the built-in
//! emulator with one calendar holding N events in the client's default window, on a loopback
//! port, run as a separate process so that the client's figures are its own. Commands on stdin
//! let the script sign a fresh data dir in, apply k changes between rounds and read what the
//! server saw.
//!
//! usage: cargo run --release --example graph_server -- N DIR
//!
//! On start it seeds calendar "Bench" so that N events lie in the window almanac asks for by
//! default (90 days back, 400 ahead of today): 200 weekly series (`numbered`, 10 occurrences each,
//! the second moved an hour later: an exception) and N - 2,000 single events (1 in 50 all-day),
//! in three zones named as Outlook names them. It registers a public client, writes
//! `DIR/config.toml` (account `bench`, `kind = "graph"`, the emulator's API and sign-in URLs)
//! and prints `ready API_URL` on stdout.
//!
//! Commands (one a line on stdin; each answer ends with a line `ok` or `error ...`):
//!   login DATA_DIR   issues tokens and saves them as account `bench`'s tokens under DATA_DIR;
//!                    prints `token ACCESS_TOKEN` (the bearer token, for replaying requests).
//!   change K         K changes by another client, each on a different event than the changes
//!                    before: 8 in 10 a single's new subject, 1 in 10 a new single event, 1 in 10
//!                    a series' new subject (the master: every occurrence changes).
//!   reset            zeroes the request counter and clears the request log and violations.
//!   count            prints `requests N`.
//!   log              prints `req STATUS METHOD PATH_AND_QUERY` for each request since the reset.
//!   prefer           prints `prefer VALUE` for each distinct Prefer header since the reset.
//!   violations       prints `violation ...` for each protocol violation seen.

use std::io::{BufRead, Write};

use almanac::domain::tz;
use almanac::emulator::graph::GraphEmulator;
use almanac::sync::google::auth;
use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use serde_json::{Value, json};

const CLIENT: &str = "bench-0000-4000-8000-graphgraph";
const ACCOUNT: &str = "bench";
const SERIES: usize = 200;
const OCCURRENCES: usize = 10;

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

/// Windows zone names as Outlook writes them.
const ZONES: [&str; 3] = ["W. Europe Standard Time", "Eastern Standard Time", "UTC"];
const WORDS: [&str; 10] = [
    "Review", "Standup", "Lunch", "Planning", "Dentist", "Call", "Retro", "Gym", "Workshop", "Sync",
];
const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

fn time(t: NaiveDateTime, zone: &str) -> Value {
    json!({"dateTime": t.format("%Y-%m-%dT%H:%M:%S.0000000").to_string(), "timeZone": zone})
}

/// Unix seconds of a wall-clock time in a zone named as Graph names it.
fn unix(t: NaiveDateTime, zone: &str) -> i64 {
    let tz = tz::resolve(zone).unwrap_or(chrono_tz::UTC);
    tz::local_to_utc(&tz, t).timestamp()
}

fn at(date: NaiveDate, hour: u32, minute: u32) -> NaiveDateTime {
    date.and_hms_opt(hour, minute, 0).unwrap_or_default()
}

/// A day from 85 days back to 395 ahead of `today`: inside the default window, clear of its
/// edges whatever the zone.
fn day(rng: &mut Rng, today: NaiveDate) -> NaiveDate {
    today + TimeDelta::days(rng.below(481) as i64 - 85)
}

fn single(rng: &mut Rng, today: NaiveDate, n: usize) -> Value {
    let zone = ZONES[rng.below(ZONES.len() as u64) as usize];
    let date = day(rng, today);
    if n % 50 == 49 {
        return json!({
            "subject": format!("Holiday {n}"),
            "isAllDay": true,
            "start": time(at(date, 0, 0), zone),
            "end": time(at(date + TimeDelta::days(1), 0, 0), zone),
        });
    }
    let start = at(date, 7 + rng.below(12) as u32, 15 * rng.below(4) as u32);
    let mut ev = json!({
        "subject": format!("{} {n}", WORDS[n % WORDS.len()]),
        "start": time(start, zone),
        "end": time(start + TimeDelta::hours(1), zone),
    });
    if rng.below(10) < 4 {
        ev["location"] = json!({"displayName": format!("Room {}", rng.below(40))});
    }
    if rng.below(10) < 3 {
        ev["body"] = json!({"contentType": "text", "content":
            "Agenda:\n- what happened since last time\n- what comes next\n- anything blocking"});
    }
    ev
}

fn id_of(stored: &Value) -> Result<String, String> {
    stored["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("the emulator refused an event: {stored}"))
}

/// Seeds the calendar; returns (single ids, series master ids).
fn seed(
    emu: &GraphEmulator,
    cal: &str,
    n: usize,
    today: NaiveDate,
) -> Result<(Vec<String>, Vec<String>), String> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let series = SERIES.min(n / (OCCURRENCES * 5));
    let mut masters = Vec::new();
    for s in 0..series {
        let zone = ZONES[s % ZONES.len()];
        // Weekly series end within 63 days of their start: all of it in the window.
        let date = today + TimeDelta::days(rng.below(370) as i64 - 80);
        let start = at(date, 8 + rng.below(9) as u32, 0);
        let weekday = WEEKDAYS[date.weekday().num_days_from_monday() as usize];
        let stored = emu.insert_event(
            cal,
            json!({
                "subject": format!("Weekly {s}"),
                "start": time(start, zone),
                "end": time(start + TimeDelta::hours(1), zone),
                "recurrence": {
                    "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": [weekday],
                                "firstDayOfWeek": "monday"},
                    "range": {"type": "numbered", "startDate": date.format("%Y-%m-%d").to_string(),
                              "numberOfOccurrences": OCCURRENCES, "recurrenceTimeZone": zone},
                },
            }),
        );
        let master = id_of(&stored)?;
        // The second occurrence, moved an hour later: an exception.
        let second = start + TimeDelta::days(7);
        let occurrence = emu
            .occurrence_id(&master, unix(second, zone))
            .ok_or_else(|| format!("series {s} has no second occurrence"))?;
        let moved = second + TimeDelta::hours(1);
        emu.update_event(
            &occurrence,
            json!({
                "subject": format!("Weekly {s} (moved)"),
                "start": time(moved, zone),
                "end": time(moved + TimeDelta::hours(1), zone),
            }),
        );
        masters.push(master);
    }
    let mut singles = Vec::new();
    for i in 0..n.saturating_sub(series * OCCURRENCES) {
        singles.push(id_of(&emu.insert_event(cal, single(&mut rng, today, i)))?);
    }
    Ok((singles, masters))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [n, dir] = args.as_slice() else {
        return Err("usage: graph_server N DIR".into());
    };
    let n: usize = n.parse()?;
    let dir = std::path::PathBuf::from(dir);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let emu = runtime.block_on(GraphEmulator::start())?;
    emu.add_client(CLIENT);
    let cal = emu.add_calendar("Bench", true);
    let today = Utc::now().date_naive();
    let (singles, masters) = seed(&emu, &cal, n, today)?;
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "[[account]]\nname = \"{ACCOUNT}\"\nkind = \"graph\"\nclient_id = \"{CLIENT}\"\n\
             api_url = \"{}\"\nlogin_url = \"{}\"\n",
            emu.api_url(),
            emu.login_url()
        ),
    )?;
    emu.reset_counts();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "ready {}", emu.api_url())?;
    out.flush()?;

    // Changes so far of each sort: the next change of a sort takes the next event.
    let (mut edits, mut added, mut series_edits) = (0usize, 0usize, 0usize);
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let mut words = line.split_whitespace();
        let reply: Result<(), String> = match (words.next(), words.next()) {
            (Some("login"), Some(data)) => {
                let (access, refresh) = emu.issue_tokens(CLIENT);
                let tokens = auth::Tokens {
                    access_token: access.clone(),
                    expires_at: Utc::now().timestamp() + 3000,
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
                        match c % 10 {
                            9 if !masters.is_empty() => {
                                let id = &masters[series_edits % masters.len()];
                                emu.update_event(
                                    id,
                                    json!({"subject": format!("Weekly edited {series_edits}")}),
                                );
                                series_edits += 1;
                            }
                            4 => {
                                let mut rng = Rng(0x1234_5678 + added as u64);
                                emu.insert_event(&cal, single(&mut rng, today, n + added));
                                added += 1;
                            }
                            _ if !singles.is_empty() => {
                                let id = &singles[edits % singles.len()];
                                emu.update_event(id, json!({"subject": format!("Edited {edits}")}));
                                edits += 1;
                            }
                            _ => {}
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
            (Some("prefer"), None) => {
                let mut seen: Vec<String> = emu
                    .request_log()
                    .into_iter()
                    .filter_map(|r| r.prefer)
                    .collect();
                seen.sort();
                seen.dedup();
                seen.iter()
                    .try_for_each(|p| writeln!(out, "prefer {p}").map_err(|e| e.to_string()))
            }
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
