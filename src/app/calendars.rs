//! The calendar list (`C`): every account and calendar, and Space to show or hide one.

use crossterm::event::{KeyCode, KeyEvent};

use super::keymap::{Action, Context};
use super::model::{Mode, Model, Status};
use super::update::Command;
use crate::domain::text::sanitize;
use crate::store::CalendarEntry;

/// What the list shows, read when it opens and after each change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalendarsView {
    /// Text already made safe to draw.
    pub rows: Vec<CalendarEntry>,
    pub cursor: usize,
    /// False until the first answer, so the list can say "reading" rather than "none".
    pub loaded: bool,
}

/// `C`: opens the list and reads it.
pub fn open(model: &mut Model) -> Vec<Command> {
    model.mode = Mode::Calendars;
    vec![Command::LoadCalendarList]
}

/// The list was read.
pub fn on_loaded(model: &mut Model, rows: Vec<CalendarEntry>) {
    let view = &mut model.calendar_list;
    view.rows = rows
        .into_iter()
        .map(|c| CalendarEntry {
            name: sanitize(&c.name),
            account: c.account.as_deref().map(sanitize),
            kind: sanitize(&c.kind),
            ..c
        })
        .collect();
    view.cursor = view.cursor.min(view.rows.len().saturating_sub(1));
    view.loaded = true;
}

/// A calendar was shown or hidden (what to say), or why not: the list and the view are read again.
pub fn on_changed(model: &mut Model, result: Result<String, String>) -> Vec<Command> {
    let error = result.is_err();
    model.status = Some(Status {
        text: result.unwrap_or_else(|e| format!("not changed: {}", sanitize(&e))),
        error,
    });
    let mut out = vec![Command::LoadCalendarList];
    out.extend(model.requested.map(|(from, to)| Command::Load { from, to }));
    out
}

/// A key while the list is open.
pub fn on_key(model: &mut Model, key: KeyEvent) -> Vec<Command> {
    let n = model.calendar_list.rows.len();
    match key.code {
        KeyCode::Esc | KeyCode::Char('q') => model.mode = Mode::Month,
        KeyCode::Down | KeyCode::Char('j') if n > 0 => {
            model.calendar_list.cursor = (model.calendar_list.cursor + 1) % n;
        }
        KeyCode::Up | KeyCode::Char('k') if n > 0 => {
            model.calendar_list.cursor = (model.calendar_list.cursor + n - 1) % n;
        }
        _ => match model.keymap.action_for(&key, Context::Calendars) {
            Some(Action::ToggleCalendar) => return toggle(model),
            Some(Action::CalendarList) => model.mode = Mode::Month,
            _ => {}
        },
    }
    Vec::new()
}

fn toggle(model: &mut Model) -> Vec<Command> {
    let Some(row) = model.calendar_list.rows.get(model.calendar_list.cursor) else {
        return Vec::new();
    };
    vec![Command::SetHidden {
        calendar: row.id,
        hidden: !row.hidden,
        name: row.name.clone(),
    }]
}
