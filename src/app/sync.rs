//! The sync side of `update`: engine events, the sync pane's keys, and the keys that ask for a run.

use crossterm::event::{KeyCode, KeyEvent};

use super::model::{Mode, Model, Status};
use super::update::Command;
use crate::domain::text::sanitize;
use crate::store::{AccountStatus, CalendarStatus};
use crate::sync::SyncEvent;
use crate::sync::runner::SyncCommand;

const NO_ACCOUNTS: &str = "no accounts to sync: add an [[account]] to your config.toml (`almanac --help` shows one), or try `almanac demo`";

/// An event from the engine: live changes reload the window on screen.
pub fn on_event(model: &mut Model, event: SyncEvent) -> Vec<Command> {
    let mut out = Vec::new();
    match event {
        SyncEvent::Started { calendar, .. } => set_running(model, calendar, None),
        SyncEvent::Progress {
            calendar,
            done,
            total,
        } => set_running(model, calendar, Some((done, total))),
        SyncEvent::Waiting { account, secs } => {
            let account = sanitize(&account);
            model.sync.waiting.retain(|(a, _)| *a != account);
            if secs > 0 {
                model.sync.waiting.push((account, secs));
            }
            // The pane's rows did not change: no reload.
            return out;
        }
        SyncEvent::Applied { .. } | SyncEvent::CalendarsChanged => {
            out.extend(reload_window(model));
        }
        SyncEvent::Pushed {
            pushed, conflicts, ..
        } => {
            out.extend(reload_window(model));
            if model.mode == Mode::Conflicts {
                out.push(Command::LoadConflicts);
            }
            if conflicts > 0 {
                model.status = Some(Status {
                    text: format!(
                        "{conflicts} edit(s) changed on the server meanwhile: press c to resolve"
                    ),
                    error: true,
                });
            } else if pushed > 0 {
                // "saved; pushing…" becomes what happened.
                model.status = Some(Status {
                    text: match pushed {
                        1 => "pushed to the server".to_string(),
                        n => format!("{n} changes pushed to the server"),
                    },
                    error: false,
                });
            }
        }
        SyncEvent::Finished { calendar, report } => {
            model.sync.running.retain(|(c, _)| *c != calendar);
            if let Some(e) = &report.error {
                model.status = Some(Status {
                    text: format!("sync of {}: {}", sanitize(&report.calendar), sanitize(e)),
                    error: true,
                });
            }
        }
        SyncEvent::Failed {
            account,
            calendar,
            message,
        } => {
            if let Some(c) = calendar {
                model.sync.running.retain(|(r, _)| *r != c);
            }
            let whose = if account.is_empty() {
                String::new()
            } else {
                format!(" of {}", sanitize(&account))
            };
            model.status = Some(Status {
                text: format!("sync{whose}: {}", sanitize(&message)),
                error: true,
            });
        }
    }
    // The pane's rows are read only while it is open (opening it reads them); the status line
    // needs only `running`.
    if model.mode == Mode::Sync {
        out.push(Command::LoadStatus);
    }
    out
}

fn set_running(model: &mut Model, calendar: i64, progress: Option<(usize, usize)>) {
    match model.sync.running.iter_mut().find(|(c, _)| *c == calendar) {
        Some(entry) => entry.1 = progress.or(entry.1),
        None => model.sync.running.push((calendar, progress)),
    }
}

/// Reads the window on screen again (the cache changed under it). The old occurrences stay until
/// the new ones arrive, so nothing flashes empty.
fn reload_window(model: &mut Model) -> Vec<Command> {
    match model.requested {
        Some((from, to)) => vec![Command::Load { from, to }],
        None => Vec::new(),
    }
}

/// Every account's own state was read from the cache.
pub fn on_accounts(model: &mut Model, mut rows: Vec<AccountStatus>) {
    for r in &mut rows {
        r.account = sanitize(&r.account);
        r.last_error = r.last_error.as_deref().map(sanitize);
    }
    model.sync.account_rows = rows;
}

/// The per-calendar state was read from the cache.
pub fn on_status(model: &mut Model, mut rows: Vec<CalendarStatus>) {
    for r in &mut rows {
        r.calendar = sanitize(&r.calendar);
        r.account = r.account.as_deref().map(sanitize);
        r.sync_token = r.sync_token.as_deref().map(sanitize);
        r.ctag = r.ctag.as_deref().map(sanitize);
        r.last_error = r.last_error.as_deref().map(sanitize);
        for (href, reason) in &mut r.unreadable {
            *href = sanitize(href);
            *reason = sanitize(reason);
        }
        for uid in &mut r.duplicate_uids {
            *uid = sanitize(uid);
        }
    }
    model.sync.rows = rows;
    model.sync.cursor = model
        .sync
        .cursor
        .min(model.sync.rows.len().saturating_sub(1));
}

/// Asks the engine for a run, or says why there is nothing to run.
pub fn request(model: &mut Model, command: SyncCommand) -> Vec<Command> {
    if !model.sync.accounts {
        model.status = Some(Status {
            text: NO_ACCOUNTS.into(),
            error: false,
        });
        return Vec::new();
    }
    let what = match &command {
        SyncCommand::All => "syncing every account".to_string(),
        SyncCommand::Calendar(id) => format!("syncing {}", calendar_name(model, *id)),
        SyncCommand::Full(id) => format!("full refetch of {}", calendar_name(model, *id)),
    };
    model.status = Some(Status {
        text: what,
        error: false,
    });
    vec![Command::Sync(command)]
}

fn calendar_name(model: &Model, id: i64) -> String {
    model
        .calendars
        .iter()
        .find(|c| c.id == id)
        .map_or_else(|| "the calendar".into(), |c| c.name.clone())
}

/// The calendar `r` and `F` act on in the month view: the selected event's.
pub fn selected_calendar(model: &mut Model) -> Option<i64> {
    let id = model.selected_occurrence().map(|o| o.calendar_id);
    if id.is_none() {
        model.status = Some(Status {
            text: "select an event of the calendar first, or press R for every account, or s for the sync pane".into(),
            error: false,
        });
    }
    id
}

/// Keys while the sync pane is open.
pub fn on_pane_key(model: &mut Model, key: KeyEvent) -> Vec<Command> {
    let row = model.sync.rows.get(model.sync.cursor).map(|r| r.id);
    match key.code {
        KeyCode::Esc | KeyCode::Char('s') | KeyCode::Char('q') => {
            model.mode = Mode::Month;
            Vec::new()
        }
        KeyCode::Down | KeyCode::Char('j') => {
            let last = model.sync.rows.len().saturating_sub(1);
            model.sync.cursor = (model.sync.cursor + 1).min(last);
            Vec::new()
        }
        KeyCode::Up | KeyCode::Char('k') => {
            model.sync.cursor = model.sync.cursor.saturating_sub(1);
            Vec::new()
        }
        KeyCode::Char('R') => request(model, SyncCommand::All),
        KeyCode::Char('r') => match row {
            Some(id) => request(model, SyncCommand::Calendar(id)),
            None => Vec::new(),
        },
        KeyCode::Char('F') => match row {
            Some(id) => request(model, SyncCommand::Full(id)),
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}
