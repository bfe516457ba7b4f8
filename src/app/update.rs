//! `update`: the only place the model changes. No I/O: effects are returned as [`Command`]s.

use chrono::{Datelike, Duration, Months, NaiveDate};
use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::Rect;

use super::editing::{self, Intent};
use super::keymap::{Action, Context};
use super::layout;
use super::model::{LocalSpan, Mode, Model, Status};
use super::views::{self, View};
use super::{calendars, conflicts, reminders, search, sync};
use crate::domain::text::{sanitize, sanitize_in_place};
use crate::domain::typed_date::parse_day;
use crate::domain::{Calendar, EventDetail, Occurrence};
use crate::edit::EditRequest;
use crate::store::{AccountStatus, CalendarEntry, CalendarStatus, Conflict, Keep, SearchQuery};
use crate::sync::SyncEvent;
use crate::sync::runner::SyncCommand;

/// Something that happened: input, or a result of a command.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    /// A range of the cache was read.
    Loaded {
        from: NaiveDate,
        to: NaiveDate,
        calendars: Vec<Calendar>,
        occurrences: Vec<Occurrence>,
    },
    LoadFailed(String),
    /// The detail of one event was read (`None`: it is gone).
    DetailLoaded {
        event_id: i64,
        detail: Option<EventDetail>,
    },
    /// The date changed (the clock passed midnight).
    Today(NaiveDate),
    /// Terminal input failed; the run loop ends.
    TerminalError(String),
    /// The sync engine reports.
    Sync(SyncEvent),
    /// Every calendar's sync state was read.
    StatusLoaded(Vec<CalendarStatus>),
    /// Every account's own state was read (before the calendars').
    AccountsLoaded(Vec<AccountStatus>),
    /// An edit was staged in the cache (what to tell the person), or why it was not.
    Staged(Result<String, String>),
    /// The open conflicts were read.
    ConflictsLoaded(Vec<Conflict>),
    /// A conflict was resolved (what to tell the person), or why it was not.
    Resolved(Result<String, String>),
    /// The current instant, for "3 min ago" and for messages to fade.
    Now(chrono::DateTime<chrono::Utc>),
    /// Something (another process, or the engine) wrote the cache: what is on screen is read again.
    CacheChanged,
    /// Something the person should know about what is on screen (a series shown in part).
    Notice(String),
    /// What a search for `query` (as typed) found, nearest first.
    Found {
        query: String,
        hits: Vec<Occurrence>,
    },
    /// Every calendar was read for the calendar list.
    CalendarListLoaded(Vec<CalendarEntry>),
    /// A calendar was shown or hidden (what to tell the person), or why not.
    HiddenSet(Result<String, String>),
    /// Reminders came due (claimed by this process).
    Reminders(Vec<crate::store::Reminder>),
}

/// An effect for the run loop to perform.
// A few per key, consumed at once: the size of an edit request costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Read the occurrences of these days (inclusive) and answer with `Msg::Loaded`.
    Load {
        from: NaiveDate,
        to: NaiveDate,
    },
    /// Read the detail of one event and answer with `Msg::DetailLoaded`.
    LoadDetail {
        event_id: i64,
    },
    /// Later loads are for this display zone.
    SetZone {
        zone: chrono_tz::Tz,
    },
    /// Read every calendar's sync state and answer with `Msg::StatusLoaded`.
    LoadStatus,
    /// Ask the sync engine for a run.
    Sync(SyncCommand),
    /// Stage a local edit in the cache and answer with `Msg::Staged`.
    Stage(EditRequest),
    /// Open an item's text in `$EDITOR`; stage it when it changed.
    ExternalEdit {
        item: i64,
        calendar: i64,
        raw: String,
        /// The server etag of the version opened (see `EditRequest::Change`).
        seen_etag: Option<String>,
    },
    /// Read the open conflicts and answer with `Msg::ConflictsLoaded`.
    LoadConflicts,
    /// Settle a conflict and answer with `Msg::Resolved`.
    Resolve {
        conflict: i64,
        keep: Keep,
    },
    /// Search the cache and answer with `Msg::Found`.
    Search(SearchQuery),
    /// Read every calendar and answer with `Msg::CalendarListLoaded`.
    LoadCalendarList,
    /// Show or hide a calendar everywhere (stored) and answer with `Msg::HiddenSet`.
    SetHidden {
        calendar: i64,
        hidden: bool,
        name: String,
    },
    /// The reminder will not show again.
    DismissReminder(crate::store::ReminderKey),
    /// The reminder shows again at `until`.
    SnoozeReminder {
        key: crate::store::ReminderKey,
        until: chrono::DateTime<chrono::Utc>,
    },
    /// Ring the terminal bell.
    Bell,
    Quit,
}

/// Applies one message to the model and says what to do next.
pub fn update(model: &mut Model, msg: Msg) -> Vec<Command> {
    let out = dispatch(model, msg);
    fade_status(model);
    out
}

/// How long a message stays after it last changed: the news that something worked, and a
/// problem (which the sync pane, the conflict pane or the detail keeps saying for good).
const FADE_INFO_SECS: i64 = 8;
const FADE_ERROR_SECS: i64 = 15;

/// A message shows the latest state and fades a few seconds after it last changed.
fn fade_status(model: &mut Model) {
    match (&model.status, &model.status_since) {
        (None, _) => model.status_since = None,
        (Some(status), Some((seen, since))) if status == seen => {
            let limit = if status.error {
                FADE_ERROR_SECS
            } else {
                FADE_INFO_SECS
            };
            if (model.now - *since).num_seconds() >= limit {
                model.status = None;
                model.status_since = None;
            }
        }
        (Some(status), _) => model.status_since = Some((status.clone(), model.now)),
    }
}

fn dispatch(model: &mut Model, msg: Msg) -> Vec<Command> {
    match msg {
        Msg::Key(key) if key.kind != KeyEventKind::Release => on_key(model, key),
        Msg::Key(_) => Vec::new(),
        Msg::Sync(event) => sync::on_event(model, event),
        Msg::AccountsLoaded(rows) => {
            sync::on_accounts(model, rows);
            Vec::new()
        }
        Msg::StatusLoaded(rows) => {
            sync::on_status(model, rows);
            Vec::new()
        }
        Msg::Mouse(mouse) => on_mouse(model, mouse),
        Msg::Resize(w, h) => {
            model.size = (w, h);
            Vec::new()
        }
        Msg::Loaded {
            from,
            to,
            calendars,
            mut occurrences,
        } => {
            if model.requested != Some((from, to)) {
                return Vec::new(); // a stale answer; a newer one is on its way
            }
            for o in &mut occurrences {
                sanitize_in_place(&mut o.summary);
                sanitize_in_place(&mut o.location);
                if let Some(t) = o.tzid.as_mut() {
                    sanitize_in_place(t);
                }
            }
            // Local spans once per load; the sort, the layout and every frame reuse them.
            let mut shown: Vec<(LocalSpan, Occurrence)> = occurrences
                .into_iter()
                .map(|o| (LocalSpan::of(&o, &model.zone), o))
                .collect();
            shown.sort_by(|(sa, a), (sb, b)| {
                sa.start.cmp(&sb.start).then_with(|| a.uid.cmp(&b.uid))
            });
            let (spans, occurrences): (Vec<LocalSpan>, Vec<Occurrence>) = shown.into_iter().unzip();
            model.calendars = calendars
                .into_iter()
                .map(|c| Calendar {
                    name: sanitize(&c.name),
                    ..c
                })
                .collect();
            model.occurrences = occurrences;
            model.spans = spans;
            model.loaded = Some((from, to));
            model.relayout();
            clamp_cursor(model);
            search::settle_focus(model);
            views::on_loaded(model)
        }
        Msg::Found { query, hits } => {
            search::on_found(model, query, hits);
            Vec::new()
        }
        Msg::CalendarListLoaded(rows) => {
            calendars::on_loaded(model, rows);
            Vec::new()
        }
        Msg::HiddenSet(result) => calendars::on_changed(model, result),
        Msg::DetailLoaded { event_id, detail } => {
            model.detail = detail.map(|d| (event_id, d));
            editing::on_detail(model, event_id)
        }
        Msg::Staged(result) => {
            let error = result.is_err();
            model.status = Some(Status {
                text: result.unwrap_or_else(|e| format!("not saved: {}", sanitize(&e))),
                error,
            });
            match (error, model.requested) {
                (false, Some((from, to))) => vec![Command::Load { from, to }],
                _ => Vec::new(),
            }
        }
        Msg::ConflictsLoaded(rows) => {
            conflicts::on_loaded(model, rows);
            Vec::new()
        }
        Msg::Resolved(result) => conflicts::on_resolved(model, result),
        Msg::Now(now) => {
            model.now = now;
            Vec::new()
        }
        Msg::Notice(text) => {
            model.status = Some(Status {
                text: sanitize(&text),
                error: false,
            });
            Vec::new()
        }
        Msg::CacheChanged => {
            let mut out: Vec<Command> = model
                .requested
                .map(|(from, to)| Command::Load { from, to })
                .into_iter()
                .collect();
            match model.mode {
                Mode::Sync => out.push(Command::LoadStatus),
                Mode::Conflicts => out.push(Command::LoadConflicts),
                Mode::Calendars => out.push(Command::LoadCalendarList),
                _ => {}
            }
            out
        }
        Msg::LoadFailed(err) => {
            model.status = Some(Status {
                text: format!("cannot read the cache: {err}"),
                error: true,
            });
            Vec::new()
        }
        Msg::TerminalError(_) => Vec::new(),
        Msg::Reminders(due) => reminders::on_due(model, due),
        Msg::Today(day) => {
            let follow = model.selected == model.today;
            model.today = day;
            if follow {
                select(model, day)
            } else {
                Vec::new()
            }
        }
    }
}

fn on_key(model: &mut Model, key: KeyEvent) -> Vec<Command> {
    if key.modifiers.contains(KeyModifiers::CONTROL) && matches!(key.code, KeyCode::Char('c')) {
        return quit(model);
    }
    match model.mode.clone() {
        Mode::Help => {
            match key.code {
                KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter => {
                    model.mode = Mode::Month;
                }
                code => scroll(model, code),
            }
            Vec::new()
        }
        Mode::GoTo(mut text) => {
            match key.code {
                KeyCode::Esc => model.mode = Mode::Month,
                KeyCode::Enter => {
                    model.mode = Mode::Month;
                    return match parse_day(&text, model.today) {
                        Ok(day) => select(model, day),
                        Err(e) => {
                            model.status = Some(Status {
                                text: sanitize(&e),
                                error: true,
                            });
                            Vec::new()
                        }
                    };
                }
                KeyCode::Backspace => {
                    text.pop();
                    model.mode = Mode::GoTo(text);
                }
                KeyCode::Char(c) if !c.is_control() && text.chars().count() < 30 => {
                    text.push(c);
                    model.mode = Mode::GoTo(text);
                }
                _ => {}
            }
            Vec::new()
        }
        Mode::Zone(mut text) => {
            match key.code {
                KeyCode::Esc => model.mode = Mode::Month,
                KeyCode::Tab => model.mode = Mode::Zone(complete_zone(&text).unwrap_or(text)),
                KeyCode::Backspace => {
                    text.pop();
                    model.mode = Mode::Zone(text);
                }
                KeyCode::Enter => {
                    model.mode = Mode::Month;
                    return match crate::domain::tz::resolve(&text) {
                        Some(zone) => set_zone(model, zone),
                        None => {
                            model.status = Some(Status {
                                text: format!(
                                    "'{}' is not a time zone; try Europe/Berlin (Tab completes)",
                                    sanitize(&text)
                                ),
                                error: true,
                            });
                            Vec::new()
                        }
                    };
                }
                KeyCode::Char(c) if !c.is_control() && text.len() < 40 => {
                    text.push(c);
                    model.mode = Mode::Zone(text);
                }
                _ => {}
            }
            Vec::new()
        }
        Mode::Detail => {
            // The event's actions on the keys the month view gives them.
            match model.keymap.action_in(&key, Context::Month) {
                Some(Action::EditEvent) => return editing::begin(model, Intent::Edit),
                Some(Action::DeleteEvent) => return editing::begin(model, Intent::Delete),
                Some(Action::ExternalEdit) => return editing::begin(model, Intent::External),
                Some(Action::Conflicts) => return conflicts::open(model),
                _ => {}
            }
            match key.code {
                KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => model.mode = Mode::Month,
                KeyCode::Down | KeyCode::Char('j') | KeyCode::Tab => {
                    move_cursor(model, 1);
                    return load_detail(model);
                }
                KeyCode::Up | KeyCode::Char('k') | KeyCode::BackTab => {
                    move_cursor(model, -1);
                    return load_detail(model);
                }
                _ => {}
            }
            Vec::new()
        }
        Mode::Sync => sync::on_pane_key(model, key),
        Mode::Conflicts => conflicts::on_pane_key(model, key),
        Mode::Form(form) => editing::on_form_key(model, form, key),
        Mode::Scope(pick) => editing::on_scope_key(model, &pick, key),
        Mode::ConfirmDelete(removal) => editing::on_confirm_key(model, &removal, key),
        Mode::Search => search::on_prompt_key(model, key),
        Mode::Calendars => calendars::on_key(model, key),
        Mode::Snooze(typed) => reminders::on_prompt_key(model, typed, &key),
        Mode::Month => {
            model.status = None;
            if let Some(out) = reminders::on_banner_key(model, &key) {
                return out;
            }
            let context = if model.search.active {
                Context::Matches
            } else {
                Context::Month
            };
            if model.search.active && key.code == KeyCode::Esc {
                search::close(model);
                return Vec::new();
            }
            match model.keymap.action_for(&key, context) {
                Some(action) => on_action(model, action),
                None => Vec::new(),
            }
        }
    }
}

fn on_action(model: &mut Model, action: Action) -> Vec<Command> {
    if let Some(commands) = views::on_action(model, action) {
        return commands;
    }
    let day = model.selected;
    match action {
        Action::PrevDay => select(model, day - Duration::days(1)),
        Action::NextDay => select(model, day + Duration::days(1)),
        Action::PrevWeek => select(model, day - Duration::days(7)),
        Action::NextWeek => select(model, day + Duration::days(7)),
        Action::PrevMonth => select(model, day.checked_sub_months(Months::new(1)).unwrap_or(day)),
        Action::NextMonth => select(model, day.checked_add_months(Months::new(1)).unwrap_or(day)),
        Action::Today => select(model, model.today),
        Action::GoTo => {
            model.mode = Mode::GoTo(String::new());
            Vec::new()
        }
        Action::Zone => {
            model.mode = Mode::Zone(String::new());
            Vec::new()
        }
        Action::NextEvent => {
            move_cursor(model, 1);
            Vec::new()
        }
        Action::PrevEvent => {
            move_cursor(model, -1);
            Vec::new()
        }
        Action::Open => {
            if model.selected_occurrence().is_some() {
                model.mode = Mode::Detail;
                return load_detail(model);
            } else {
                model.status = Some(Status {
                    text: "no event on this day".into(),
                    error: false,
                });
            }
            Vec::new()
        }
        Action::SyncPane => {
            model.mode = Mode::Sync;
            vec![Command::LoadStatus]
        }
        Action::SyncAll => sync::request(model, SyncCommand::All),
        Action::SyncCalendar => match sync::selected_calendar(model) {
            Some(id) => sync::request(model, SyncCommand::Calendar(id)),
            None => Vec::new(),
        },
        Action::FullResync => match sync::selected_calendar(model) {
            Some(id) => sync::request(model, SyncCommand::Full(id)),
            None => Vec::new(),
        },
        Action::AddEvent => editing::add(model),
        Action::EditEvent => editing::begin(model, Intent::Edit),
        Action::DeleteEvent => editing::begin(model, Intent::Delete),
        Action::ExternalEdit => editing::begin(model, Intent::External),
        Action::Conflicts => conflicts::open(model),
        Action::Help => {
            model.mode = Mode::Help;
            model.scroll = 0;
            Vec::new()
        }
        Action::Quit => quit(model),
        Action::MonthView
        | Action::WeekView
        | Action::DayView
        | Action::AgendaView
        | Action::NextAcross
        | Action::PrevAcross
        | Action::Now => Vec::new(), // `views::on_action` answers these
        Action::Search => search::open(model),
        Action::NextMatch | Action::PrevMatch => search::on_match_action(model, action),
        Action::CalendarList => calendars::open(model),
        // Only in the calendar list.
        Action::ToggleCalendar
        | Action::Dismiss
        | Action::Snooze
        | Action::SnoozeFor
        | Action::KeepMine
        | Action::KeepTheirs
        | Action::KeepBoth => Vec::new(),
    }
}

/// Scrolls the overlay on screen by a line (↑↓ jk) or a page (PgUp PgDn); the drawing clamps it.
pub fn scroll(model: &mut Model, code: KeyCode) {
    let page = model.size.1.saturating_sub(6).max(1);
    model.scroll = match code {
        KeyCode::Down | KeyCode::Char('j') => model.scroll.saturating_add(1),
        KeyCode::Up | KeyCode::Char('k') => model.scroll.saturating_sub(1),
        KeyCode::PageDown | KeyCode::Char(' ') => model.scroll.saturating_add(page),
        KeyCode::PageUp => model.scroll.saturating_sub(page),
        KeyCode::Home => 0,
        _ => model.scroll,
    };
}

fn quit(model: &mut Model) -> Vec<Command> {
    model.quit = true;
    vec![Command::Quit]
}

fn on_mouse(model: &mut Model, mouse: MouseEvent) -> Vec<Command> {
    match mouse.kind {
        MouseEventKind::Down(MouseButton::Left)
            if model.mode == Mode::Month && model.views.view == View::Month =>
        {
            let (w, h) = model.size;
            if layout::too_small(w, h) {
                return Vec::new();
            }
            let geo = layout::month(Rect::new(0, 0, w, h), model.month.rows.len() as u16);
            match geo.cell_at(mouse.column, mouse.row) {
                Some((row, col)) => {
                    let day = model.month.first_day + Duration::days((row * 7 + col) as i64);
                    select(model, day)
                }
                None => Vec::new(),
            }
        }
        MouseEventKind::Down(MouseButton::Left)
            if model.mode == Mode::Month
                && matches!(model.views.view, View::Week | View::Day | View::Agenda) =>
        {
            views::click(model, mouse.column, mouse.row)
        }
        MouseEventKind::ScrollDown if model.mode == Mode::Month => {
            on_action(model, Action::NextWeek)
        }
        MouseEventKind::ScrollUp if model.mode == Mode::Month => on_action(model, Action::PrevWeek),
        _ => Vec::new(),
    }
}

/// Selects `day`; when that shows another month, lays it out and asks for its data if not loaded.
pub fn select(model: &mut Model, day: NaiveDate) -> Vec<Command> {
    let month_changed =
        (day.year(), day.month()) != (model.selected.year(), model.selected.month());
    model.selected = day;
    model.cursor = 0;
    if model.views.view != View::Month {
        if month_changed {
            model.relayout();
        }
        return views::ensure_window(model);
    }
    if !month_changed && model.requested.is_some() {
        return Vec::new();
    }
    model.relayout();
    let (from, to) = model.visible_days();
    let covered = model
        .requested
        .is_some_and(|(lo, hi)| lo <= from - Duration::days(7) && hi >= to + Duration::days(7));
    if covered {
        return Vec::new();
    }
    let (from, to) = model.wanted_window();
    model.requested = Some((from, to));
    vec![Command::Load { from, to }]
}

/// Shows times in `zone`: the loaded window is read again for it (day boundaries move).
pub fn set_zone(model: &mut Model, zone: chrono_tz::Tz) -> Vec<Command> {
    model.zone = zone;
    model.status = Some(Status {
        text: format!("times shown in {}", zone.name()),
        error: false,
    });
    let (from, to) = model.wanted_window();
    model.requested = Some((from, to));
    vec![Command::SetZone { zone }, Command::Load { from, to }]
}

/// The first IANA zone name that starts with `typed` (case-insensitive), for Tab completion.
pub fn complete_zone(typed: &str) -> Option<String> {
    let lower = typed.to_ascii_lowercase();
    chrono_tz::TZ_VARIANTS
        .iter()
        .map(|z| z.name())
        .filter(|n| n.to_ascii_lowercase().starts_with(&lower))
        .min_by_key(|n| n.len())
        .map(str::to_string)
}

/// Asks for the detail of the selected event unless it is already there.
fn load_detail(model: &mut Model) -> Vec<Command> {
    match model.selected_occurrence().map(|o| o.event_id) {
        Some(id) if model.detail.as_ref().is_none_or(|(d, _)| *d != id) => {
            model.detail = None;
            vec![Command::LoadDetail { event_id: id }]
        }
        _ => Vec::new(),
    }
}

/// Moves the cursor within the selected day's list, round.
pub(super) fn move_cursor(model: &mut Model, delta: isize) {
    let n = model.day_list(model.selected).len();
    if n == 0 {
        return;
    }
    model.cursor = (model.cursor as isize + delta).rem_euclid(n as isize) as usize;
}

fn clamp_cursor(model: &mut Model) {
    let n = model.day_list(model.selected).len();
    model.cursor = model.cursor.min(n.saturating_sub(1));
    if n == 0 && model.mode == Mode::Detail {
        model.mode = Mode::Month;
    }
}
