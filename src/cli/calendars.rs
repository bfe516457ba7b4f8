//! `almanac calendars`: every calendar in the cache; local ones can be renamed and deleted.
//! A server's calendar is named and removed on its server, and follows it at the next sync.

use clap::Subcommand;
use serde::Serialize;

use super::CliError;
use crate::domain::text::sanitize;
use crate::store::{CalendarStatus, Store};

/// `almanac calendars` options.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CalendarsArgs {
    /// One JSON array of calendars.
    #[arg(long)]
    pub json: bool,
    #[command(subcommand)]
    pub action: Option<CalendarAction>,
}

/// What can be done to a local calendar.
#[derive(Debug, Subcommand)]
pub enum CalendarAction {
    /// Rename a local calendar.
    Rename { old: String, new: String },
    /// Delete a local calendar and its events (one that holds events needs --yes).
    Delete {
        name: String,
        /// Delete the events it holds too.
        #[arg(long)]
        yes: bool,
    },
}

/// One calendar as `almanac calendars --json` prints it.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct CalendarEntry {
    /// `null` for a local calendar.
    pub account: Option<String>,
    /// `local`, or the account's kind (`caldav` …).
    pub kind: String,
    pub name: String,
    /// Events held (a series counts once).
    pub events: i64,
    /// Kept in this cache only: it can be renamed and deleted here.
    pub local: bool,
    /// Nothing can be added or changed in it (the bundled sample).
    pub read_only: bool,
}

/// Every calendar, servers' first (by account), then local ones.
pub fn list(store: &Store) -> Result<Vec<CalendarEntry>, CliError> {
    let reader = store.reader()?;
    let samples: Vec<i64> = reader
        .calendars()?
        .into_iter()
        .filter(|c| c.is_sample)
        .map(|c| c.id)
        .collect();
    Ok(reader
        .sync_status()?
        .into_iter()
        .map(|c| CalendarEntry {
            local: c.account.is_none(),
            read_only: samples.contains(&c.id),
            account: c.account,
            kind: c.kind,
            name: c.calendar,
            events: c.items,
        })
        .collect())
}

/// `almanac calendars` as text: one line per calendar.
pub fn list_text(list: &[CalendarEntry]) -> String {
    if list.is_empty() {
        return "no calendars: `almanac import FILE.ics --calendar NAME` makes a local one\n"
            .into();
    }
    let label = |c: &CalendarEntry| {
        let owner = c.account.as_deref().map_or("local".to_string(), sanitize);
        format!("{owner} / {}", sanitize(&c.name))
    };
    let width = list
        .iter()
        .map(|c| label(c).chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for c in list {
        let note = match (c.local, c.read_only) {
            (_, true) => "  read-only sample",
            (true, false) => "",
            (false, false) => "  managed by its server",
        };
        out.push_str(&format!(
            "{:<width$}  {:<7} {:>6} event{}{note}\n",
            label(c),
            sanitize(&c.kind),
            c.events,
            if c.events == 1 { "" } else { "s" },
        ));
    }
    out
}

/// `almanac calendars rename|delete`: changes a local calendar, refuses a server's. Returns what
/// was done, for stdout.
pub fn act(store: &mut Store, action: &CalendarAction) -> Result<String, CliError> {
    match action {
        CalendarAction::Rename { old, new } => {
            let calendar = local(store, old)?;
            if new.trim().is_empty() {
                return Err(CliError::Usage("the new name is empty".into()));
            }
            if store.find_local_calendar(new)?.is_some() {
                return Err(CliError::Usage(format!(
                    "there is already a local calendar named '{}'",
                    sanitize(new)
                )));
            }
            store.rename_local_calendar(calendar.id, new)?;
            Ok(format!(
                "renamed '{}' to '{}'",
                sanitize(old),
                sanitize(new)
            ))
        }
        CalendarAction::Delete { name, yes } => {
            let calendar = local(store, name)?;
            let events = calendar.items;
            if events > 0 && !yes {
                return Err(CliError::Usage(format!(
                    "'{}' holds {events} event{}, which would be deleted with it: add --yes to delete them",
                    sanitize(name),
                    if events == 1 { "" } else { "s" }
                )));
            }
            store.delete_calendar(calendar.id)?;
            Ok(format!(
                "deleted '{}' and its {events} event{}",
                sanitize(name),
                if events == 1 { "" } else { "s" }
            ))
        }
    }
}

/// The local calendar called `name`; a server's calendar of that name is refused with the reason.
fn local(store: &Store, name: &str) -> Result<CalendarStatus, CliError> {
    let all = store.reader()?.sync_status()?;
    if let Some(c) = all
        .iter()
        .find(|c| c.account.is_none() && c.calendar == name)
    {
        let sample = store.sample_calendar()?.is_some_and(|(id, _)| id == c.id);
        if sample {
            return Err(CliError::Usage(format!(
                "'{}' is the bundled sample: it is read-only and goes by itself once you have calendars of your own",
                sanitize(name)
            )));
        }
        return Ok(c.clone());
    }
    let server = all.iter().find(|c| {
        c.account
            .as_ref()
            .is_some_and(|a| c.calendar == name || format!("{a}/{}", c.calendar) == name)
    });
    match server {
        Some(c) => Err(CliError::Usage(format!(
            "'{}' belongs to the account '{}' and is managed by its server: rename or delete it there, and the next sync follows",
            sanitize(name),
            sanitize(c.account.as_deref().unwrap_or_default())
        ))),
        None => Err(CliError::Usage(format!(
            "no calendar named '{}' (`almanac calendars` lists them)",
            sanitize(name)
        ))),
    }
}
