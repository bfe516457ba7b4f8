//! A randomised convergence test for a Graph account against the Graph emulator (PROTOCOLS.md §3,
//! §4 "Graph"): another client changes the calendar at random (single events added, changed,
//! deleted or moved out of the window; daily and weekly series created, retitled, moved; their
//! occurrences moved, sometimes out of the window, or deleted; the calendar renamed) while the
//! client syncs at random: to the end, cut short (the sync future dropped), or `almanac sync`
//! killed with SIGKILL, under random fault switches (skeletal occurrences on or off, deleted
//! occurrences without `@removed`, replayed items, empty and overfull pages, `InvalidDeltaToken`,
//! expired delta state). After every complete sync, and after a clean one at the end, the cache
//! must equal the server's view of the window occurrence for occurrence: `agenda --json` over a
//! range inside the client's window, as a multiset of (subject, start), against
//! `GraphEmulator::window_view` for the same range.
//!
//! Events are made relative to today, since the client's window is today −90 d … +400 d
//! (`Window::DEFAULT`): inside it from today −30 d to today +180 d, and "out of the window" at
//! today +450 d or later, or today −120 d or earlier. The compared range is today −60 d …
//! today +250 d, so nothing sits across its edges.
//!
//! Replay a failure with `ALMANAC_SEED=<seed> cargo test --test graph_convergence`.

#[path = "support/rng.rs"]
mod rng;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use almanac::config::{AccountConfig, AccountKind};
use almanac::emulator::graph::{GraphEmulator, GraphSwitches};
use almanac::store::Store;
use almanac::sync::SyncOptions;
use almanac::sync::accounts::sync_accounts;
use almanac::sync::google::auth;
use chrono::{Duration as Span, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde_json::{Value, json};

use rng::Rng;

const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const ACCOUNT: &str = "work";
const STEPS: usize = 150;
/// Single events made before the first sync, so that a full round spans several pages of 100.
const BACKGROUND: usize = 110;

// ---------------------------------------------------------------------------------------------
// What the test needs to know of the server calendar to change it: the ids it made, and for a
// series where its occurrences originally start. The oracle is the emulator's `window_view`.

/// The zones events are written in: Graph's Windows name and the IANA zone behind it.
const ZONES: [(&str, chrono_tz::Tz); 3] = [
    ("UTC", chrono_tz::UTC),
    ("W. Europe Standard Time", chrono_tz::Europe::Berlin),
    ("Pacific Standard Time", chrono_tz::America::Los_Angeles),
];

#[derive(Debug, Clone)]
struct Series {
    /// Wall time of the first occurrence in `ZONES[zone]`.
    start: NaiveDateTime,
    zone: usize,
    daily: bool,
    count: u32,
}

impl Series {
    fn step(&self) -> Span {
        if self.daily {
            Span::days(1)
        } else {
            Span::weeks(1)
        }
    }

    /// The original start of occurrence `k` (Unix seconds).
    fn original(&self, k: u32) -> i64 {
        unix(self.start + self.step() * k as i32, self.zone)
    }
}

#[derive(Debug, Default)]
struct Model {
    singles: Vec<String>,
    /// In the order made (not by id: ids differ from run to run, picks must not).
    series: Vec<(String, Series)>,
    serial: usize,
    calendar_name: String,
}

/// The instant of wall time `t` in `ZONES[zone]` (times are 07:00–19:00: never in a DST gap).
fn unix(t: NaiveDateTime, zone: usize) -> i64 {
    ZONES[zone]
        .1
        .from_local_datetime(&t)
        .earliest()
        .expect("a wall time outside any DST gap")
        .timestamp()
}

fn graph_time(t: NaiveDateTime, zone: usize) -> Value {
    json!({"dateTime": t.format("%Y-%m-%dT%H:%M:%S.0000000").to_string(), "timeZone": ZONES[zone].0})
}

fn timed(subject: &str, start: NaiveDateTime, zone: usize) -> Value {
    json!({
        "subject": subject,
        "start": graph_time(start, zone),
        "end": graph_time(start + Span::hours(1), zone),
    })
}

fn recurrence(s: &Series, by_end_date: bool) -> Value {
    let pattern = if s.daily {
        json!({"type": "daily", "interval": 1})
    } else {
        let day = s.start.format("%A").to_string().to_lowercase();
        json!({"type": "weekly", "interval": 1, "daysOfWeek": [day], "firstDayOfWeek": "sunday"})
    };
    let first = s.start.date();
    let range = if by_end_date {
        let last = first + s.step() * (s.count as i32 - 1);
        json!({"type": "endDate", "startDate": first.to_string(), "endDate": last.to_string(),
               "recurrenceTimeZone": ZONES[s.zone].0})
    } else {
        json!({"type": "numbered", "startDate": first.to_string(), "numberOfOccurrences": s.count,
               "recurrenceTimeZone": ZONES[s.zone].0})
    };
    json!({"pattern": pattern, "range": range})
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// A wall time from today + `from` days, within `days` days, 08:00 to 18:45 on the quarter hour.
fn random_start(rng: &mut Rng, from: i64, days: u64) -> NaiveDateTime {
    let day = today() + Span::days(from + rng.next(days) as i64);
    day.and_hms_opt(8 + rng.next(11) as u32, 15 * rng.next(4) as u32, 0)
        .unwrap()
}

/// A start in the window's part the test uses, or (`out`) far outside the window.
fn start_somewhere(rng: &mut Rng, out: bool) -> NaiveDateTime {
    match (out, rng.next(2)) {
        (false, _) => random_start(rng, -30, 210),
        (true, 0) => random_start(rng, 450, 150),
        (true, _) => random_start(rng, -300, 180),
    }
}

fn pick<T: Clone>(rng: &mut Rng, list: &[T]) -> Option<T> {
    (!list.is_empty()).then(|| list[rng.next(list.len() as u64) as usize].clone())
}

/// How many plain occurrences (neither moved nor cancelled) series `master` has in the client's
/// window.
fn plain_occurrences(emu: &GraphEmulator, cal: &str, master: &str) -> usize {
    let Some(m) = emu.events(cal).into_iter().find(|e| e["id"] == master) else {
        return 0;
    };
    let (from, to) = (today() - Span::days(90), today() + Span::days(400));
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp();
    emu.window_view(cal, midnight(from), midnight(to))
        .into_iter()
        .filter(|(key, _, _, subject)| m["iCalUId"] == *key && m["subject"] == *subject)
        .count()
}

fn id_of(stored: &Value) -> String {
    stored["id"]
        .as_str()
        .unwrap_or_else(|| panic!("the emulator refused an event: {stored}"))
        .to_string()
}

/// One random change by "another client"; returns its description for the failure report.
fn random_change(rng: &mut Rng, emu: &GraphEmulator, cal: &str, m: &mut Model) -> String {
    m.serial += 1;
    let n = m.serial;
    loop {
        match rng.next(100) {
            // Add a single event.
            0..=11 => {
                let (start, zone) = (start_somewhere(rng, false), rng.next(3) as usize);
                let id = id_of(&emu.insert_event(cal, timed(&format!("Single {n}"), start, zone)));
                m.singles.push(id.clone());
                return format!("add single {id} at {start} {}", ZONES[zone].0);
            }
            // Add a daily or weekly series, numbered or to an end date.
            12..=23 => {
                let daily = rng.next(2) == 0;
                let s = Series {
                    start: start_somewhere(rng, false),
                    zone: rng.next(3) as usize,
                    daily,
                    count: 2 + rng.next(if daily { 9 } else { 5 }) as u32,
                };
                let by_end_date = rng.next(3) == 0;
                let mut event = timed(&format!("Series {n}"), s.start, s.zone);
                event["recurrence"] = recurrence(&s, by_end_date);
                let id = id_of(&emu.insert_event(cal, event));
                let what = format!(
                    "add series {id}: {} × {} from {} {}",
                    if daily { "daily" } else { "weekly" },
                    s.count,
                    s.start,
                    ZONES[s.zone].0
                );
                m.series.push((id, s));
                return what;
            }
            // Change a single event: its subject, its time, or move it out of the window.
            24..=35 => {
                let Some(id) = pick(rng, &m.singles) else {
                    continue;
                };
                let subject = format!("Single {n} (changed)");
                let (patch, what) = match rng.next(3) {
                    0 => (json!({"subject": subject}), "retitle".to_string()),
                    way => {
                        let out = way == 2 && rng.next(2) == 0;
                        let (start, zone) = (start_somewhere(rng, out), rng.next(3) as usize);
                        let where_to = if out { " out of the window" } else { "" };
                        (
                            timed(&subject, start, zone),
                            format!("move{where_to} to {start} {}", ZONES[zone].0),
                        )
                    }
                };
                assert!(emu.update_event(&id, patch), "PATCH {id}");
                return format!("{what} single {id}");
            }
            // Delete a single event.
            36..=43 => {
                let Some(id) = pick(rng, &m.singles) else {
                    continue;
                };
                assert!(emu.delete_event(&id));
                m.singles.retain(|s| *s != id);
                return format!("delete single {id}");
            }
            // Retitle a series.
            44..=51 => {
                let Some((id, _)) = pick(rng, &m.series) else {
                    continue;
                };
                assert!(emu.update_event(&id, json!({"subject": format!("Series {n}")})));
                return format!("retitle series {id} to \"Series {n}\"");
            }
            // Move a series in time (Graph drops the exceptions and cancellations that no longer
            // fall on an occurrence).
            52..=58 => {
                let Some((id, _)) = pick(rng, &m.series) else {
                    continue;
                };
                let s = &mut m.series.iter_mut().find(|(i, _)| *i == id).unwrap().1;
                s.start += Span::hours(rng.next(5) as i64 - 2) + Span::days(rng.next(3) as i64);
                let mut patch = timed(&format!("Series {n}"), s.start, s.zone);
                patch["recurrence"] = recurrence(s, false);
                assert!(emu.update_event(&id, patch), "PATCH {id}");
                return format!("move series {id} to {} as \"Series {n}\"", s.start);
            }
            // Move one occurrence (a new exception, or an exception moved again), sometimes out
            // of the window.
            59..=74 => {
                let Some((id, _)) = pick(rng, &m.series) else {
                    continue;
                };
                let s = m.series.iter().find(|(i, _)| *i == id).unwrap().1.clone();
                let k = rng.next(s.count as u64) as u32;
                let Some(occurrence) = emu.occurrence_id(&id, s.original(k)) else {
                    continue;
                };
                let original = s.start + s.step() * k as i32;
                let out = rng.next(6) == 0;
                let start = if out {
                    start_somewhere(rng, true)
                } else {
                    original
                        + Span::hours(rng.next(7) as i64 - 3)
                        + Span::days(rng.next(5) as i64 - 2)
                };
                let subject = format!("Moved {n}");
                if !emu.update_event(&occurrence, timed(&subject, start, s.zone)) {
                    // A cancelled occurrence cannot be changed.
                    continue;
                }
                let where_to = if out { " out of the window" } else { "" };
                return format!("move occurrence {k} of {id}{where_to} to {start} as {subject:?}");
            }
            // Delete one occurrence (plain, or an exception).
            75..=86 => {
                let Some((id, _)) = pick(rng, &m.series) else {
                    continue;
                };
                let s = m.series.iter().find(|(i, _)| *i == id).unwrap().1.clone();
                let k = rng.next(s.count as u64) as u32;
                let Some(occurrence) = emu.occurrence_id(&id, s.original(k)) else {
                    continue;
                };
                // Without `@removed` (PROTOCOLS.md §3 [obs]) a deleted occurrence shows only as
                // the series' other plain occurrences sent again (its master changed); one that
                // leaves none in the window leaves no trace in the round, for any client.
                if plain_occurrences(emu, cal, &id) < 2 {
                    continue;
                }
                if !emu.delete_event(&occurrence) {
                    // Already cancelled.
                    continue;
                }
                return format!("delete occurrence {k} of {id}");
            }
            // Delete a series.
            87..=93 => {
                let Some((id, _)) = pick(rng, &m.series) else {
                    continue;
                };
                assert!(emu.delete_event(&id));
                m.series.retain(|(i, _)| *i != id);
                return format!("delete series {id}");
            }
            // Rename the calendar.
            _ => {
                m.calendar_name = format!("Calendar {n}");
                emu.rename_calendar(cal, &m.calendar_name);
                return format!("rename the calendar to {:?}", m.calendar_name);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The client, and what it shows.

fn account(emu: &GraphEmulator) -> AccountConfig {
    AccountConfig {
        name: ACCOUNT.into(),
        kind: AccountKind::Graph,
        client_id: Some(CLIENT.into()),
        tenant: Some("organizations".into()),
        api_url: Some(emu.api_url()),
        login_url: Some(emu.login_url()),
        ..AccountConfig::default()
    }
}

/// The same account for `almanac sync` as a subprocess.
fn write_config(emu: &GraphEmulator, path: &Path) {
    std::fs::write(
        path,
        format!(
            "[[account]]\nname = \"{ACCOUNT}\"\nkind = \"graph\"\nclient_id = \"{CLIENT}\"\n\
             tenant = \"organizations\"\napi_url = \"{}\"\nlogin_url = \"{}\"\n",
            emu.api_url(),
            emu.login_url()
        ),
    )
    .unwrap();
}

fn almanac(config: &Path, data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_almanac"));
    c.arg("--config").arg(config).arg("--data-dir").arg(data);
    c
}

/// The compared range: whole UTC days from today −60 d to today +250 d (inclusive).
fn range() -> (NaiveDate, NaiveDate) {
    (today() - Span::days(60), today() + Span::days(250))
}

/// (calendar, subject, start) of every occurrence `agenda --json` lists over `range()`, sorted.
fn agenda(config: &Path, data: &Path) -> Result<Vec<(String, String, i64)>, String> {
    let (from, to) = range();
    let out = almanac(config, data)
        .args([
            "agenda",
            "--from",
            &from.to_string(),
            "--to",
            &to.to_string(),
        ])
        .args(["--tz", "UTC", "--json"])
        .output()
        .unwrap();
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).map_err(|_| {
        format!(
            "agenda --json failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let mut got = Vec::new();
    for o in &list {
        let text = |k: &str| o[k].as_str().unwrap_or_default().to_string();
        let start = chrono::DateTime::parse_from_rfc3339(&text("start"))
            .map_err(|e| format!("agenda start {:?}: {e}", text("start")))?;
        got.push((text("calendar"), text("summary"), start.timestamp()));
    }
    got.sort();
    Ok(got)
}

/// What the server says the same range holds: (subject, start), sorted.
fn server_view(emu: &GraphEmulator, cal: &str) -> Vec<(String, i64)> {
    let (from, to) = range();
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp();
    let mut v: Vec<(String, i64)> = emu
        .window_view(cal, midnight(from), midnight(to + Span::days(1)))
        .into_iter()
        .map(|(_, start, _, subject)| (subject, start))
        .collect();
    v.sort();
    v
}

fn when(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap()
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// Syncs.

/// Random fault switches for one sync (the emulator clock moves on when the delta state is to
/// expire).
fn random_switches(rng: &mut Rng, emu: &GraphEmulator) -> GraphSwitches {
    let mut s = GraphSwitches {
        skeletal_occurrences: rng.next(4) != 0,
        no_removed_for_cancelled_occurrences: rng.next(3) == 0,
        replay_items: rng.next(4) == 0,
        overfull_pages: rng.next(4) == 0,
        out_of_window_removals: rng.next(5) == 0,
        ..GraphSwitches::default()
    };
    if rng.next(5) == 0 {
        s.empty_pages = 1 + rng.next(3) as usize;
    }
    if rng.next(6) == 0 {
        s.invalid_delta_token_next = 1;
    } else if rng.next(8) == 0 {
        // Two minutes on: access tokens (an hour) stay good, the delta state (a minute) expires.
        s.state_expiry_secs = Some(60);
        emu.set_now(emu.now() + 120);
    }
    s
}

/// The switches that differ from the default, for the step log.
fn describe(s: &GraphSwitches) -> String {
    let mut what = Vec::new();
    if !s.skeletal_occurrences {
        what.push("full occurrences".to_string());
    }
    if s.no_removed_for_cancelled_occurrences {
        what.push("no @removed for cancelled occurrences".into());
    }
    if s.replay_items {
        what.push("replayed items".into());
    }
    if s.overfull_pages {
        what.push("overfull pages".into());
    }
    if s.out_of_window_removals {
        what.push("out-of-window removals".into());
    }
    if s.empty_pages > 0 {
        what.push(format!("{} empty pages first", s.empty_pages));
    }
    if s.invalid_delta_token_next > 0 {
        what.push("InvalidDeltaToken".into());
    }
    if s.state_expiry_secs.is_some() {
        what.push("delta state expired".into());
    }
    if s.delay_ms > 0 {
        what.push(format!("replies after {} ms", s.delay_ms));
    }
    if what.is_empty() {
        String::new()
    } else {
        format!(" ({})", what.join(", "))
    }
}

enum SyncKind {
    /// In process, to the end.
    Complete,
    /// In process, the future dropped after this many milliseconds.
    Dropped(u64),
    /// `almanac sync` to the end.
    Process,
    /// `almanac sync` killed (SIGKILL) after this many milliseconds.
    Killed(u64),
}

struct Run {
    seed: u64,
    emu: GraphEmulator,
    cal: String,
    _dir: tempfile::TempDir,
    data: PathBuf,
    config: PathBuf,
    acc: AccountConfig,
    log: Vec<String>,
}

impl Run {
    /// An emulator with our client and one calendar, a data directory signed in to it (the
    /// device code dance is `graph_sync.rs`'s), and a config file for `almanac sync`.
    async fn start(seed: u64) -> Run {
        let emu = GraphEmulator::start().await.unwrap();
        emu.add_client(CLIENT);
        let cal = emu.add_calendar("Calendar", true);
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let (access, refresh) = emu.issue_tokens(CLIENT);
        auth::save(
            &auth::token_path(&data, ACCOUNT),
            &auth::Tokens {
                access_token: access,
                expires_at: Utc::now().timestamp() + 3000,
                refresh_token: refresh,
            },
        )
        .unwrap();
        let config = dir.path().join("config.toml");
        write_config(&emu, &config);
        Run {
            seed,
            acc: account(&emu),
            emu,
            cal,
            _dir: dir,
            data,
            config,
            log: Vec::new(),
        }
    }

    fn fail(&self, what: &str) -> ! {
        let tail = self.log.len().saturating_sub(60);
        panic!(
            "seed {seed} (replay: ALMANAC_SEED={seed} cargo test --test graph_convergence): {what}\n\
             steps (last {} of {}):\n  {}",
            self.log.len() - tail,
            self.log.len(),
            self.log[tail..].join("\n  "),
            seed = self.seed,
        );
    }

    async fn sync(&mut self, kind: SyncKind, switches: GraphSwitches) {
        self.emu.set_switches(switches);
        match kind {
            SyncKind::Complete => {
                let mut store = Store::open(&self.data).unwrap();
                let r = sync_accounts(
                    &mut store,
                    std::slice::from_ref(&self.acc),
                    &SyncOptions::default(),
                    None,
                )
                .await
                .remove(0);
                let errors: Vec<&String> = r
                    .error
                    .iter()
                    .chain(r.calendars.iter().filter_map(|c| c.error.as_ref()))
                    .collect();
                if !errors.is_empty() {
                    self.fail(&format!("a complete sync failed: {errors:?}"));
                }
            }
            SyncKind::Dropped(ms) => {
                let mut store = Store::open(&self.data).unwrap();
                let _ = tokio::time::timeout(
                    Duration::from_millis(ms),
                    sync_accounts(
                        &mut store,
                        std::slice::from_ref(&self.acc),
                        &SyncOptions::default(),
                        None,
                    ),
                )
                .await;
            }
            SyncKind::Process => {
                let out = almanac(&self.config, &self.data)
                    .arg("sync")
                    .output()
                    .unwrap();
                if !out.status.success() {
                    self.fail(&format!(
                        "almanac sync failed: {}{}",
                        String::from_utf8_lossy(&out.stdout),
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
            }
            SyncKind::Killed(ms) => {
                let mut child = almanac(&self.config, &self.data)
                    .arg("sync")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(ms)).await;
                let _ = child.kill(); // SIGKILL
                let _ = child.wait();
            }
        }
        if matches!(kind, SyncKind::Dropped(_) | SyncKind::Killed(_)) {
            // The requests the dead client left in flight are still being answered (slowly);
            // they must not count against the next client's four (PROTOCOLS.md §3).
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.emu.set_switches(GraphSwitches::default());
    }

    /// The cache, through `agenda --json`, against the server's view of the same range.
    fn check(&self, m: &Model, when_: &str) {
        let got = agenda(&self.config, &self.data).unwrap_or_else(|e| self.fail(&e));
        let others: std::collections::BTreeSet<&String> = got
            .iter()
            .map(|(c, _, _)| c)
            .filter(|c| **c != m.calendar_name)
            .collect();
        if !others.is_empty() {
            self.fail(&format!(
                "{when_}: agenda names calendars {others:?}, the server's is {:?}",
                m.calendar_name
            ));
        }
        let mut got: Vec<(String, i64)> = got.into_iter().map(|(_, s, t)| (s, t)).collect();
        got.sort();
        let want = server_view(&self.emu, &self.cal);
        if got != want {
            let missing = difference(&want, &got);
            let extra = difference(&got, &want);
            self.fail(&format!(
                "{when_}: the cache differs from the server's view of the window: \
                 missing {missing:?}, extra {extra:?} ({} listed, {} on the server)",
                got.len(),
                want.len()
            ));
        }
    }
}

/// What `a` holds more often than `b` (multisets, both sorted), readable.
fn difference(a: &[(String, i64)], b: &[(String, i64)]) -> Vec<String> {
    let mut left: BTreeMap<&(String, i64), i64> = BTreeMap::new();
    for x in a {
        *left.entry(x).or_default() += 1;
    }
    for x in b {
        *left.entry(x).or_default() -= 1;
    }
    left.into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|((s, t), n)| {
            format!(
                "{s} at {}{}",
                when(*t),
                if n > 1 {
                    format!(" ×{n}")
                } else {
                    String::new()
                }
            )
        })
        .collect()
}

fn seed() -> u64 {
    let seed = std::env::var("ALMANAC_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    seed.max(1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_server_changes_syncs_and_kills_converge_to_the_servers_window() {
    let seed = seed();
    eprintln!("graph_convergence seed: {seed} (replay with ALMANAC_SEED={seed})");
    let started = Instant::now();
    let mut rng = Rng(seed);
    let mut run = Run::start(seed).await;
    let (emu, cal) = (run.emu.clone(), run.cal.clone());
    let mut model = Model {
        calendar_name: "Calendar".into(),
        ..Model::default()
    };
    for i in 0..BACKGROUND {
        let (start, zone) = (start_somewhere(&mut rng, false), rng.next(3) as usize);
        let id = id_of(&emu.insert_event(&cal, timed(&format!("Background {i}"), start, zone)));
        model.singles.push(id);
    }
    run.log
        .push(format!("{BACKGROUND} single events in the window"));

    for step in 0..STEPS {
        let what = random_change(&mut rng, &emu, &cal, &mut model);
        run.log.push(format!("{step}: {what}"));
        let roll = rng.next(100);
        if roll < 35 {
            continue;
        }
        let switches = random_switches(&mut rng, &emu);
        let (kind, label) = match roll {
            35..=62 => (SyncKind::Complete, "sync".to_string()),
            63..=77 => {
                let ms = 5 + rng.next(150);
                (SyncKind::Dropped(ms), format!("sync dropped after {ms} ms"))
            }
            78..=89 => {
                let ms = 20 + rng.next(300);
                (
                    SyncKind::Killed(ms),
                    format!("almanac sync killed after {ms} ms"),
                )
            }
            _ => (SyncKind::Process, "almanac sync".to_string()),
        };
        let complete = matches!(kind, SyncKind::Complete | SyncKind::Process);
        let switches = if complete {
            switches
        } else {
            // Slow replies, so the interruption lands with requests in flight, between pages or
            // between the pages and the series' masters.
            GraphSwitches {
                delay_ms: 2 + rng.next(15),
                ..switches
            }
        };
        run.log
            .push(format!("{step}: {label}{}", describe(&switches)));
        run.sync(kind, switches).await;
        if complete {
            run.check(&model, &format!("after step {step}"));
        }
    }

    run.log.push("final: sync".into());
    run.sync(SyncKind::Complete, GraphSwitches::default()).await;
    run.check(&model, "at the end");
    let violations = emu.violations();
    if !violations.is_empty() {
        run.fail(&format!("emulator violations: {violations:?}"));
    }
    eprintln!(
        "graph_convergence: {STEPS} steps, {} singles, {} series, {} occurrences compared, {} requests, {:.1} s",
        model.singles.len(),
        model.series.len(),
        server_view(&emu, &cal).len(),
        emu.requests(),
        started.elapsed().as_secs_f64()
    );
}
