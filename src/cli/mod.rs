//! The command-line contract (DESIGN.md) and the headless commands.

pub mod calendars;
pub mod edit;
pub mod remind;
pub mod search;

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate, SecondsFormat};
use chrono_tz::Tz;
use clap::{Parser, Subcommand};
use serde::Serialize;

use crate::domain::event::days_of;
use crate::domain::ical_stream;
use crate::domain::text::sanitize;
use crate::domain::{Occurrence, When, read_calendar, tz};
use crate::store::{Store, StoreReader};
use crate::ui::text::{human_bytes, short_token};

/// A terminal calendar browser.
#[derive(Debug, Parser)]
#[command(
    name = "almanac",
    version,
    about = "A terminal calendar browser: a month view over a local SQLite cache, kept in step with CalDAV servers, Google Calendar and iCalendar subscriptions",
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// The config file (default: $XDG_CONFIG_HOME/almanac/config.toml).
    #[arg(long, env = "ALMANAC_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where the cache lives (default: the platform's data directory).
    #[arg(long, env = "ALMANAC_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<CommandLine>,
}

/// What `--help` ends with: what syncs today, and an account to copy into the config file.
const AFTER_HELP: &str = "\
Sync works with CalDAV servers (Nextcloud, Radicale, Xandikos, Fastmail, iCloud with an app
password …), Google Calendar (your own Desktop OAuth client), Microsoft 365 and Outlook through
Microsoft Graph (an app registered as a public client; sign-in by a code on any device) and
read-only iCalendar subscriptions (webcal://, https:// or a file). `almanac login NAME` signs a
Google or Microsoft account in. Accounts, in the config file:

  [[account]]
  name = \"home\"
  kind = \"caldav\"
  url = \"https://dav.example.org/\"
  username = \"alice\"
  password = { command = [\"pass\", \"show\", \"dav/alice\"] }   # or { env = \"VAR\" } or { value = \"…\" }

  [[account]]
  name = \"personal\"
  kind = \"google\"
  client_id = \"1234-abc.apps.googleusercontent.com\"
  client_secret = { value = \"…\" }

  [[account]]
  name = \"work\"
  kind = \"graph\"
  client_id = \"00000000-0000-0000-0000-000000000000\"
  tenant = \"common\"                               # or organizations, consumers, a tenant id

  [[account]]
  name = \"holidays\"
  kind = \"ics\"
  url = \"webcal://example.org/holidays.ics\"

No account yet? `almanac demo` shows sync against a built-in server.";

/// The subcommands. With none, the TUI starts.
#[derive(Debug, Subcommand)]
pub enum CommandLine {
    /// Import an .ics file into a local calendar (created on demand).
    Import {
        file: PathBuf,
        #[arg(long, value_name = "NAME")]
        calendar: String,
    },
    /// List occurrences of a range of days.
    Agenda(AgendaArgs),
    /// Find events by summary, location, description or attendees: their occurrences, nearest first.
    Search(search::SearchArgs),
    /// Every calendar (account, kind, name, events); rename or delete a local one.
    Calendars(calendars::CalendarsArgs),
    /// Print a calendar as one iCalendar file, every item as stored, lines ending in CRLF.
    Export {
        #[arg(long, value_name = "C")]
        calendar: String,
    },
    /// The TUI on a built-in CalDAV server whose calendar changes while you watch.
    Demo,
    /// Run one sync round now, without the TUI, and report per calendar.
    Sync {
        /// Only this calendar (by name).
        #[arg(long, value_name = "C")]
        calendar: Option<String>,
        /// Ignore tokens and ctags: a full listing, reconciled by href (local edits are kept).
        #[arg(long)]
        full: bool,
        /// One JSON array of accounts, each with its calendars.
        #[arg(long)]
        json: bool,
    },
    /// Sign a Google account in: prints the consent page's address, waits for the browser to
    /// come back to a loopback port, and stores the tokens (mode 0600) in the data directory.
    Login {
        /// The account's name in the config.
        account: String,
        /// Only print the address (over SSH: forward the port it names).
        #[arg(long)]
        no_browser: bool,
    },
    /// Print each reminder (an event's alarm) when it is due, until stopped; missed ones of the
    /// last 24 h first. Each fires once, also with the TUI running.
    Remind {
        /// One JSON object per line: calendar, uid, recurrence_id, summary, start, alarm_at, kind.
        #[arg(long)]
        json: bool,
        /// Look once, print what is due, and exit.
        #[arg(long)]
        once: bool,
        /// Zone for times (and for all-day and floating events' alarms).
        #[arg(long, value_name = "ZONE")]
        tz: Option<String>,
    },
    /// Per calendar: account, kind, strategy, token, ctag, last run, counts, pending, conflicts.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Add an event: saved in the cache at once, then pushed to its server.
    Add(edit::AddArgs),
    /// Change fields of an event (only those given), then push.
    Edit(edit::EditArgs),
    /// Delete an event (or one instance of a series), then push.
    Delete(edit::DeleteArgs),
    /// Edits the server refused because its copy changed meanwhile, with both versions.
    Conflicts {
        #[arg(long)]
        json: bool,
    },
    /// Settle a conflict: keep mine (push it over the server's), theirs, or both (mine as a new event).
    Resolve {
        id: i64,
        #[arg(long, value_enum)]
        keep: KeepSide,
    },
}

/// `almanac resolve --keep`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeepSide {
    Local,
    Remote,
    Both,
}

impl From<KeepSide> for crate::store::Keep {
    fn from(k: KeepSide) -> Self {
        match k {
            KeepSide::Local => crate::store::Keep::Local,
            KeepSide::Remote => crate::store::Keep::Remote,
            KeepSide::Both => crate::store::Keep::Both,
        }
    }
}

/// `almanac agenda` options.
#[derive(Debug, clap::Args)]
pub struct AgendaArgs {
    /// First day, in the display zone (default: today): 2026-12-24, or as you would say it:
    /// 24/12, 24.12., dec 24, tomorrow, mon, +3d, next week.
    #[arg(long, value_name = "D")]
    pub from: Option<String>,
    /// Last day, inclusive (default: six days after --from), in the same forms.
    #[arg(long, value_name = "D")]
    pub to: Option<String>,
    /// Display zone (IANA name; default: the configured or system zone).
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Only these calendars (by name; repeatable).
    #[arg(long, value_name = "C")]
    pub calendar: Vec<String>,
    /// One JSON array of occurrences.
    #[arg(long)]
    pub json: bool,
    /// End each line of the text agenda with the event's UID (for `almanac edit` and `delete`).
    #[arg(long)]
    pub uids: bool,
    /// Expand these files instead of the cache (no config, no cache).
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub ics: Vec<PathBuf>,
}

/// How a headless command failed: usage/config (exit 2) or at run time (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Runtime(String),
    /// A runtime failure the command's output already reports (exit 1): a `--json` command prints
    /// no second document for it.
    #[error("{0}")]
    Reported(String),
}

impl CliError {
    /// The process exit code.
    pub fn code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Runtime(_) | CliError::Reported(_) => 1,
        }
    }
}

impl CommandLine {
    /// The command was asked for JSON: it prints JSON even when it fails.
    pub fn json(&self) -> bool {
        match self {
            CommandLine::Agenda(args) => args.json,
            CommandLine::Search(args) => args.json,
            CommandLine::Calendars(args) => args.json,
            CommandLine::Sync { json, .. }
            | CommandLine::Status { json }
            | CommandLine::Conflicts { json }
            | CommandLine::Remind { json, .. } => *json,
            _ => false,
        }
    }
}

/// A failure as a `--json` command prints it: `{"error": "…"}`.
pub fn json_error(message: &str) -> String {
    json_text(&serde_json::json!({ "error": message }))
        .unwrap_or_else(|_| r#"{"error": "unknown"}"#.into())
}

impl From<crate::store::StoreError> for CliError {
    fn from(e: crate::store::StoreError) -> Self {
        CliError::Runtime(e.to_string())
    }
}

fn read_file(path: &Path) -> Result<String, CliError> {
    let bytes = std::fs::read(path).map_err(|e| {
        CliError::Usage(format!("cannot read {}: {}", path.display(), io_reason(&e)))
    })?;
    Ok(String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// How much of a file `import` reads at a time. The reader's tree takes about 15 times the text, so a
/// run stays far below the memory a whole large file would take.
const IMPORT_RUN_BYTES: u64 = 2 << 20;

/// `almanac import FILE --calendar NAME`. Reads the file a run at a time (memory follows the run, not
/// the file) into one transaction. Reports each bad item on stderr; fails only when nothing could be
/// read.
pub fn import(
    store: &mut Store,
    file: &Path,
    calendar: &str,
    now: i64,
) -> Result<String, CliError> {
    let open = || {
        std::fs::File::open(file).map_err(|e| {
            CliError::Usage(format!("cannot read {}: {}", file.display(), io_reason(&e)))
        })
    };
    let broken = |e: std::io::Error| {
        CliError::Runtime(format!("cannot read {}: {}", file.display(), io_reason(&e)))
    };
    let runs = ical_stream::split_runs(std::io::BufReader::new(open()?), IMPORT_RUN_BYTES)
        .map_err(broken)?;
    let mut file_runs = FileRuns {
        file,
        source: open()?,
        items: 0,
        events: 0,
        skipped: 0,
        color: None,
    };
    let mut runs = runs.iter();
    // Until something can be read, there is nothing to make a calendar for.
    let mut first = Vec::new();
    for run in runs.by_ref() {
        first = file_runs.read(run)?;
        if !first.is_empty() {
            break;
        }
    }
    if first.is_empty() {
        let why = if file_runs.skipped > 0 {
            ""
        } else {
            ": it holds no events"
        };
        return Err(CliError::Runtime(format!(
            "nothing could be read from {}{why}; no calendar was made",
            file.display()
        )));
    }
    let existed = store.find_local_calendar(calendar)?.is_some();
    let id = store.local_calendar(calendar)?;
    if let (false, Some(color)) = (existed, file_runs.color.as_deref()) {
        if crate::ui::theme::parse_hex(color).is_some() {
            store.set_calendar_color(id, color)?;
        }
    }
    let mut import = store.begin_import(id, now)?;
    import.add(&first)?;
    drop(first);
    for run in runs {
        import.add(&file_runs.read(run)?)?;
    }
    let report = import.commit()?;
    let FileRuns {
        items,
        events,
        skipped,
        ..
    } = file_runs;
    let mut msg = format!(
        "imported {items} item{} ({events} event{}) into '{calendar}': {} new, {} updated, {} unchanged",
        plural(items),
        plural(events),
        report.added,
        report.updated,
        report.unchanged
    );
    if skipped > 0 {
        msg.push_str(&format!("; {skipped} skipped (listed above)"));
    }
    Ok(msg)
}

/// The runs of a file being imported, read one at a time, with what they held so far.
struct FileRuns<'a> {
    file: &'a Path,
    source: std::fs::File,
    items: usize,
    events: usize,
    skipped: usize,
    color: Option<String>,
}

impl FileRuns<'_> {
    /// Reads a run, reports its bad items on stderr, and returns the good ones.
    fn read(&mut self, run: &ical_stream::Run) -> Result<Vec<crate::domain::Item>, CliError> {
        let mut bytes = vec![0; (run.end - run.start) as usize];
        self.source
            .seek(std::io::SeekFrom::Start(run.start))
            .and_then(|_| self.source.read_exact(&mut bytes))
            .map_err(|e| {
                CliError::Runtime(format!(
                    "cannot read {}: {}",
                    self.file.display(),
                    io_reason(&e)
                ))
            })?;
        let parsed = ical_stream::read_run(run, &String::from_utf8_lossy(&bytes));
        let mut err = std::io::stderr().lock();
        for e in &parsed.errors {
            let _ = writeln!(
                err,
                "{}:{}: skipped: {}",
                self.file.display(),
                e.line,
                sanitize(&e.message)
            );
        }
        self.skipped += parsed.errors.len();
        self.items += parsed.items.len();
        self.events += parsed.items.iter().map(|i| i.events.len()).sum::<usize>();
        self.color = self.color.take().or(parsed.color);
        Ok(parsed.items)
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// One line of `agenda --json`.
#[derive(Debug, Serialize, PartialEq)]
pub struct AgendaEntry {
    pub calendar: String,
    pub uid: String,
    pub recurrence_id: Option<String>,
    pub summary: String,
    pub location: Option<String>,
    pub start: String,
    pub end: String,
    pub all_day: bool,
    pub status: Option<String>,
}

/// A value as every `--json` command prints it: pretty JSON in which each character that could drive
/// a terminal (DEL, C1 controls, bidirectional overrides and isolates; serde already escapes C0) is a
/// `\uXXXX` escape, so a script may pipe the output to a terminal. Read back, the value is unchanged.
pub fn json_text<T: Serialize>(value: &T) -> Result<String, CliError> {
    let json = serde_json::to_string_pretty(value).map_err(|e| CliError::Runtime(e.to_string()))?;
    // Outside strings JSON is ASCII, so every such character is inside a string, where its escape
    // means the same character.
    if !json.chars().any(drives_terminal) {
        return Ok(json);
    }
    let mut out = String::with_capacity(json.len() + 64);
    for c in json.chars() {
        if drives_terminal(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// True for a character serde_json leaves raw that `sanitize` (the one definition of what a terminal
/// must not see) would remove.
fn drives_terminal(c: char) -> bool {
    c == '\u{7f}' || (!c.is_ascii() && sanitize(c.encode_utf8(&mut [0; 4])).is_empty())
}

/// The zone `agenda` shows times in.
pub fn display_zone(arg: Option<&str>, configured: Option<Tz>) -> Result<Tz, CliError> {
    match arg {
        Some(name) => tz::resolve(name).ok_or_else(|| {
            CliError::Usage(format!(
                "unknown time zone '{name}': use an IANA name such as Europe/Berlin"
            ))
        }),
        None => Ok(configured.unwrap_or_else(tz::system_zone)),
    }
}

/// The inclusive day range `agenda` covers.
pub fn agenda_range(
    args: &AgendaArgs,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), CliError> {
    let day = |flag: &str, text: &str| {
        crate::domain::typed_date::parse_day(text, today)
            .map_err(|e| CliError::Usage(format!("--{flag}: {e}")))
    };
    let from = match &args.from {
        Some(t) => day("from", t)?,
        None => today,
    };
    let to = match &args.to {
        Some(t) => day("to", t)?,
        None => from + Duration::days(6),
    };
    if to < from {
        return Err(CliError::Usage(format!(
            "--to {to} is before --from {from}"
        )));
    }
    Ok((from, to))
}

/// Occurrences from `.ics` files, with no cache: each file is its own calendar, named after the file.
pub fn occurrences_from_files(
    files: &[PathBuf],
    from: NaiveDate,
    to: NaiveDate,
    zone: &Tz,
) -> Result<(Vec<Occurrence>, HashMap<i64, String>), CliError> {
    let mut out = Vec::new();
    let mut names = HashMap::new();
    for (n, file) in files.iter().enumerate() {
        let text = read_file(file)?;
        let parsed = read_calendar(&text);
        for e in &parsed.errors {
            eprintln!(
                "{}:{}: skipped: {}",
                file.display(),
                e.line,
                sanitize(&e.message)
            );
        }
        let cal_id = n as i64;
        let name = parsed.name.clone().unwrap_or_else(|| {
            file.file_stem().map_or_else(
                || file.display().to_string(),
                |s| s.to_string_lossy().into_owned(),
            )
        });
        names.insert(cal_id, name);
        for item in &parsed.items {
            let (list, errors) =
                crate::domain::series::item_occurrences(&item.events, cal_id, from, to);
            for e in errors {
                eprintln!(
                    "{}: {}: showing the first instance only: {}",
                    file.display(),
                    item.uid,
                    sanitize(&e.to_string())
                );
            }
            out.extend(list.into_iter().filter(|o| o.overlaps_days(from, to, zone)));
        }
    }
    crate::store::sort_occurrences(&mut out, zone);
    Ok((out, names))
}

/// Occurrences from the cache, with calendar names.
pub fn occurrences_from_cache(
    reader: &StoreReader,
    from: NaiveDate,
    to: NaiveDate,
    zone: &Tz,
) -> Result<(Vec<Occurrence>, HashMap<i64, String>), CliError> {
    let names = reader
        .calendars()?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let mut list = reader.occurrences(from, to, zone)?;
    // Said on stderr, so `--json` stays exactly the contract's array.
    for (summary, reason) in reader.truncated_series() {
        eprintln!(
            "note: '{}' cannot be listed in full for these days: {}",
            sanitize(&summary),
            sanitize(&reason)
        );
    }
    crate::store::sort_occurrences(&mut list, zone);
    Ok((list, names))
}

/// Formats a boundary as the contract says: `YYYY-MM-DD` for all-day, RFC 3339 with the display zone's
/// offset for instants, no offset for floating times.
pub fn contract_time(w: &When, zone: &Tz) -> String {
    match w {
        When::Date(d) => d.format("%Y-%m-%d").to_string(),
        When::Instant(t) => {
            crate::domain::tz::in_zone(zone, *t).to_rfc3339_opts(SecondsFormat::Secs, false)
        }
        When::Floating(t) => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
    }
}

/// `agenda --calendar C`: every C names a calendar, or the command says which do not and which exist.
pub fn known_calendars(names: &HashMap<i64, String>, only: &[String]) -> Result<(), CliError> {
    let Some(unknown) = only.iter().find(|c| !names.values().any(|n| n == *c)) else {
        return Ok(());
    };
    let mut there: Vec<String> = names.values().map(|n| sanitize(n)).collect();
    there.sort();
    there.dedup();
    let there = if there.is_empty() {
        "there are none".to_string()
    } else {
        format!("there are: {}", there.join(", "))
    };
    Err(CliError::Usage(format!(
        "no calendar named '{}' ({there})",
        sanitize(unknown)
    )))
}

/// The occurrences `agenda` lists: cancelled ones dropped, calendars filtered.
pub fn agenda_selection<'a>(
    occurrences: &'a [Occurrence],
    names: &HashMap<i64, String>,
    only: &[String],
) -> Vec<&'a Occurrence> {
    occurrences
        .iter()
        .filter(|o| !o.cancelled())
        .filter(|o| only.is_empty() || names.get(&o.calendar_id).is_some_and(|n| only.contains(n)))
        .collect()
}

/// One occurrence as the JSON contract writes it.
pub fn agenda_entry(o: &Occurrence, names: &HashMap<i64, String>, zone: &Tz) -> AgendaEntry {
    AgendaEntry {
        calendar: names.get(&o.calendar_id).cloned().unwrap_or_default(),
        uid: o.uid.to_string(),
        recurrence_id: o.recurrence_id.as_ref().map(|r| contract_time(r, zone)),
        summary: o.summary.to_string(),
        location: (!o.location.is_empty()).then(|| o.location.to_string()),
        start: contract_time(&o.start, zone),
        end: contract_time(&o.end, zone),
        all_day: o.all_day(),
        status: o.status.as_deref().map(str::to_string),
    }
}

/// The human-readable agenda: a heading per day, one line per occurrence on each day it touches,
/// ending with the event's UID when `uids`.
/// One pass over the occurrences (each converted to the display zone once), grouped by day: the cost
/// follows the occurrences, not the length of the window.
pub fn agenda_text(
    list: &[&Occurrence],
    names: &HashMap<i64, String>,
    from: NaiveDate,
    to: NaiveDate,
    zone: &Tz,
    uids: bool,
) -> String {
    let mut days: BTreeMap<NaiveDate, String> = BTreeMap::new();
    for o in list {
        let (s, e) = o.local_span(zone);
        let (first, last) = days_of(s, e);
        let cal = names
            .get(&o.calendar_id)
            .map_or(String::new(), |n| sanitize(n));
        let uid = if uids {
            format!("  {}", sanitize(&o.uid))
        } else {
            String::new()
        };
        let mut what = sanitize(&o.summary);
        if !o.location.is_empty() {
            what.push_str(" @ ");
            what.push_str(&sanitize(&o.location));
        }
        if let Some(note) = &o.note {
            what.push_str(&format!(" [{}; first instance only]", sanitize(note)));
        }
        let mut day = first.max(from);
        while day <= last.min(to) {
            let time = if o.all_day() {
                "all day".to_string()
            } else {
                let a = if s.date() == day {
                    s.format("%H:%M").to_string()
                } else {
                    "…".into()
                };
                let b = if e.date() == day {
                    e.format("%H:%M").to_string()
                } else {
                    "…".into()
                };
                format!("{a}–{b}")
            };
            let lines = days.entry(day).or_default();
            lines.push_str(&format!("  {time:<11}  {what}  [{cal}]{uid}\n"));
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
    }
    let mut out = String::new();
    for (day, lines) in &days {
        out.push_str(&day.format("%a %Y-%m-%d\n").to_string());
        out.push_str(lines);
    }
    if out.is_empty() {
        out.push_str(&format!("no events from {from} to {to}\n"));
    }
    out
}

/// iCalendar text with every line ending in CRLF (RFC 5545 3.1), whatever each stored item used.
pub fn crlf_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 32);
    for line in text.split_inclusive('\n') {
        out.push_str(line.trim_end_matches(['\r', '\n']));
        out.push_str("\r\n");
    }
    out
}

/// `almanac sync` as text: a line per account, then one per calendar.
pub fn sync_text(reports: &[crate::sync::AccountReport]) -> String {
    let mut out = String::new();
    for a in reports {
        out.push_str(&format!(
            "{}: {} requests, {}, {} ms{}\n",
            sanitize(&a.account),
            a.requests,
            human_bytes(a.bytes),
            a.duration_ms,
            a.error
                .as_ref()
                .map_or(String::new(), |e| format!(" - error: {}", sanitize(e)))
        ));
        for c in &a.calendars {
            let name = sanitize(&c.calendar);
            if c.unchanged {
                let error = c
                    .error
                    .as_ref()
                    .map_or(String::new(), |e| format!(" - error: {}", sanitize(e)));
                out.push_str(&format!(
                    "  {name:<24} {:<16} unchanged{error}\n",
                    c.strategy
                ));
                out.push_str(&push_lines(c));
                continue;
            }
            out.push_str(&format!(
                "  {name:<24} {:<16} +{} ~{} -{}  {} requests, {}, {} ms{}\n",
                c.strategy,
                c.added,
                c.changed,
                c.removed,
                c.requests,
                human_bytes(c.bytes),
                c.duration_ms,
                c.error
                    .as_ref()
                    .map_or(String::new(), |e| format!(" - error: {}", sanitize(e)))
            ));
            for u in &c.unreadable {
                out.push_str(&format!("    kept raw, cannot be read: {}\n", sanitize(u)));
            }
            out.push_str(&push_lines(c));
        }
    }
    out
}

/// What a run pushed, and what it could not.
fn push_lines(c: &crate::sync::CalendarReport) -> String {
    let mut out = String::new();
    if c.pushed + c.conflicts > 0 {
        let see = if c.conflicts > 0 {
            ": see `almanac conflicts`"
        } else {
            ""
        };
        out += &format!(
            "    pushed {} local change(s); {} conflict(s){see}\n",
            c.pushed, c.conflicts
        );
    }
    for r in &c.push_refused {
        out += &format!("    not pushed: {}\n", sanitize(r));
    }
    out
}

/// Every configured account with what the cache knows of it (a configured account that never ran
/// is listed too), in the config's order; then accounts the cache still holds.
pub fn configured_accounts(
    configured: &[crate::config::AccountConfig],
    known: Vec<crate::store::AccountStatus>,
) -> Vec<crate::store::AccountStatus> {
    let mut out: Vec<crate::store::AccountStatus> = configured
        .iter()
        .map(|a| {
            known
                .iter()
                .find(|k| k.account == a.name)
                .cloned()
                .unwrap_or_else(|| crate::store::AccountStatus {
                    account: a.name.clone(),
                    kind: format!("{:?}", a.kind).to_lowercase(),
                    ..Default::default()
                })
        })
        .collect();
    for k in known {
        if !out.iter().any(|o| o.account == k.account) {
            out.push(k);
        }
    }
    out
}

/// `almanac status --json`: one object per calendar (as ever), then one per account that has no
/// calendar to carry its state (`"calendar": null`), such as one that cannot be reached.
pub fn status_json(
    list: &[crate::store::CalendarStatus],
    accounts: &[crate::store::AccountStatus],
) -> Vec<serde_json::Value> {
    let mut out: Vec<serde_json::Value> = list
        .iter()
        .map(|c| {
            let mut v = serde_json::to_value(c).unwrap_or_default();
            if let (Some(obj), Some(acc)) = (
                v.as_object_mut(),
                accounts
                    .iter()
                    .find(|a| Some(&a.account) == c.account.as_ref()),
            ) {
                obj.insert("account_error".into(), acc.last_error.clone().into());
                obj.insert("next_try".into(), acc.next_run.into());
            }
            v
        })
        .collect();
    for a in accounts {
        if !list.iter().any(|c| c.account.as_ref() == Some(&a.account)) {
            out.push(serde_json::json!({
                "account": a.account,
                "kind": a.kind,
                "calendar": null,
                "last_run": a.last_run,
                "account_error": a.last_error,
                "next_try": a.next_run,
            }));
        }
    }
    out
}

/// `almanac status` as text.
pub fn status_text(
    list: &[crate::store::CalendarStatus],
    accounts: &[crate::store::AccountStatus],
    now: i64,
) -> String {
    let mut out = String::new();
    for a in accounts {
        let has_calendars = list.iter().any(|c| c.account.as_ref() == Some(&a.account));
        if a.last_error.is_none() && has_calendars {
            continue;
        }
        out.push_str(&format!("{} ({})\n", sanitize(&a.account), a.kind));
        match (&a.last_error, a.last_run) {
            (Some(e), Some(t)) => out.push_str(&format!(
                "  last run failed {} ago: {}\n",
                ago(now - t),
                sanitize(e)
            )),
            (Some(e), None) => out.push_str(&format!("  last run failed: {}\n", sanitize(e))),
            (None, Some(_)) => out.push_str("  no calendars listed yet\n"),
            (None, None) => out.push_str("  never synced\n"),
        }
        if let Some(t) = a.next_run.filter(|_| a.last_error.is_some()) {
            let next = if t > now {
                format!("in {}", ago(t - now))
            } else {
                "now".into()
            };
            out.push_str(&format!("  next try {next}\n"));
        }
    }
    for c in list {
        let owner = c.account.as_deref().map_or("local".to_string(), sanitize);
        out.push_str(&format!(
            "{owner} / {} ({})\n",
            sanitize(&c.calendar),
            c.kind
        ));
        if c.account.is_none() {
            out.push_str(&format!("  {} items, {} events\n", c.items, c.events));
            continue;
        }
        let window = c.strategy.as_deref() == Some("delta");
        out.push_str(&format!(
            "  strategy {}  token {}  {} {}\n",
            c.strategy.as_deref().unwrap_or("-"),
            c.sync_token
                .as_deref()
                .map_or("-".into(), |t| sanitize(&short_token(t))),
            if window { "window" } else { "ctag" },
            c.ctag.as_deref().map_or("-".into(), |t| if window {
                sanitize(t)
            } else {
                sanitize(&short_token(t))
            }),
        ));
        let last = match (&c.last_run, c.last_sync) {
            (Some(r), _) => format!(
                "last run {} ago: {} requests, {}, +{} ~{} -{}",
                ago(now - r.started_at),
                r.requests,
                human_bytes(r.bytes.max(0) as u64),
                r.added,
                r.changed,
                r.removed
            ),
            (None, Some(t)) => format!("last sync {} ago", ago(now - t)),
            (None, None) => "never synced".into(),
        };
        out.push_str(&format!("  {last}\n"));
        out.push_str(&format!(
            "  {} items, {} events, {} pending, {} conflicts\n",
            c.items, c.events, c.pending, c.conflicts
        ));
        if let Some(e) = &c.last_error {
            out.push_str(&format!("  last error: {}\n", sanitize(e)));
        }
        for (href, reason) in &c.unreadable {
            out.push_str(&format!(
                "  kept raw, cannot be read: {} ({})\n",
                sanitize(href),
                sanitize(reason)
            ));
        }
        for uid in &c.duplicate_uids {
            out.push_str(&format!(
                "  UID held by more than one item (all kept): {}\n",
                sanitize(uid)
            ));
        }
    }
    out
}

/// A duration in seconds as "42 s", "5 min", "3 h", "2 d".
pub fn ago(secs: i64) -> String {
    match secs.max(0) {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h", s / 3600),
        s => format!("{} d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn occurrences(ics: &str, from: NaiveDate, to: NaiveDate) -> Vec<Occurrence> {
        let parsed = read_calendar(ics);
        parsed
            .items
            .iter()
            .flat_map(|i| crate::domain::series::item_occurrences(&i.events, 1, from, to).0)
            .collect()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("a test date")
    }

    const TWO_EVENTS: &str = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:late\r\n\
        DTSTART:20261123T220000Z\r\nDTEND:20261124T020000Z\r\nSUMMARY:Night shift\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nUID:off\r\nDTSTART;VALUE=DATE:20261124\r\nDTEND;VALUE=DATE:20261126\r\n\
        SUMMARY:Two days off\r\nLOCATION:Home\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    #[test]
    fn text_agenda_walks_the_occurrences_not_the_days_of_the_window() {
        let list = occurrences(TWO_EVENTS, day("2026-11-01"), day("2026-11-30"));
        let refs: Vec<&Occurrence> = list.iter().collect();
        let names = HashMap::from([(1, "Work".to_string())]);
        // Every representable day: walking them one by one would take minutes and overflow at the end.
        let text = agenda_text(
            &refs,
            &names,
            NaiveDate::MIN,
            NaiveDate::MAX,
            &Tz::UTC,
            false,
        );
        assert_eq!(
            text,
            "Mon 2026-11-23\n  22:00–…      Night shift  [Work]\n\
             Tue 2026-11-24\n  …–02:00      Night shift  [Work]\n  all day      Two days off @ Home  [Work]\n\
             Wed 2026-11-25\n  all day      Two days off @ Home  [Work]\n"
        );
    }

    #[test]
    fn text_agenda_lists_only_the_days_of_the_window() {
        let list = occurrences(TWO_EVENTS, day("2026-11-01"), day("2026-11-30"));
        let refs: Vec<&Occurrence> = list.iter().collect();
        let names = HashMap::new();
        let text = agenda_text(
            &refs,
            &names,
            day("2026-11-24"),
            day("2026-11-24"),
            &Tz::UTC,
            false,
        );
        assert_eq!(
            text,
            "Tue 2026-11-24\n  …–02:00      Night shift  []\n  all day      Two days off @ Home  []\n"
        );
        let none = agenda_text(
            &refs,
            &names,
            day("2026-11-27"),
            day("2026-11-28"),
            &Tz::UTC,
            false,
        );
        assert_eq!(none, "no events from 2026-11-27 to 2026-11-28\n");
    }

    #[test]
    fn json_escapes_what_could_drive_a_terminal_and_reads_back_unchanged() {
        let tricky = "pay\u{9b}31m\u{202e}gpj.exe\u{7f} 会議\u{2066}";
        let json = json_text(&serde_json::json!({ "summary": tricky })).expect("serialises");
        assert!(!json.chars().any(drives_terminal), "{json}");
        assert!(
            json.contains(r"pay\u009b31m\u202egpj.exe\u007f 会議\u2066"),
            "{json}"
        );
        let back: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(back["summary"], tricky);
    }
}
