//! The conflict side of `update`: open conflicts as the pane shows them, and its keys.

use crossterm::event::{KeyCode, KeyEvent};

use super::keymap::{Action, Context};
use super::model::{Mode, Model, Status};
use super::update::Command;
use crate::domain::diff::{FieldDiff, diff};
use crate::domain::format::read_any as read_calendar;
use crate::domain::text::sanitize;
use crate::store::{Conflict, Keep, PendingOp};

/// What the pane knows, read when it opens and again when a push or a resolution changes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConflictsView {
    pub rows: Vec<ConflictRow>,
    pub cursor: usize,
    /// False until the first answer, so the pane can say "reading" rather than "none".
    pub loaded: bool,
}

/// One open conflict, its text made safe to draw and its versions compared field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictRow {
    pub id: i64,
    pub calendar_id: i64,
    pub calendar: String,
    pub summary: String,
    pub href: String,
    /// What the local change did.
    pub op: PendingOp,
    pub found_at: i64,
    pub base_etag: Option<String>,
    pub remote_etag: Option<String>,
    /// The local change deletes the event.
    pub local_deleted: bool,
    /// The server deleted the event.
    pub remote_deleted: bool,
    /// Fields that differ, mine against theirs.
    pub diff: Vec<FieldDiff>,
    /// Why the server refused the change for good, when that is what this conflict is.
    pub reason: Option<String>,
}

impl ConflictRow {
    /// The pane's row for `c`: the diff is computed on the raw text, then everything is sanitized.
    pub fn from_conflict(c: &Conflict) -> ConflictRow {
        let clean = |s: &Option<String>| s.as_deref().map(sanitize);
        let summary = [&c.local_raw, &c.remote_raw, &c.base_raw]
            .into_iter()
            .flatten()
            .find_map(|raw| {
                read_calendar(raw)
                    .items
                    .into_iter()
                    .flat_map(|i| i.events)
                    .map(|e| e.summary)
                    .find(|s| !s.is_empty())
            })
            .unwrap_or_else(|| c.uid.clone().unwrap_or_else(|| c.href.clone()));
        let diff = diff(c.local_raw.as_deref(), c.remote_raw.as_deref())
            .into_iter()
            .map(|d| FieldDiff {
                field: sanitize(&d.field),
                local: clean(&d.local),
                remote: clean(&d.remote),
            })
            .collect();
        ConflictRow {
            id: c.id,
            calendar_id: c.calendar_id,
            calendar: sanitize(&c.calendar),
            summary: sanitize(&summary),
            href: sanitize(&c.href),
            op: c.op,
            found_at: c.found_at,
            base_etag: clean(&c.base_etag),
            remote_etag: clean(&c.remote_etag),
            local_deleted: c.local_raw.is_none(),
            remote_deleted: c.remote_raw.is_none(),
            diff,
            reason: clean(&c.reason),
        }
    }
}

/// The open conflicts were read.
pub fn on_loaded(model: &mut Model, conflicts: Vec<Conflict>) {
    let view = &mut model.conflicts;
    view.rows = conflicts.iter().map(ConflictRow::from_conflict).collect();
    view.cursor = view.cursor.min(view.rows.len().saturating_sub(1));
    view.loaded = true;
}

/// `c` in the month view.
pub fn open(model: &mut Model) -> Vec<Command> {
    model.mode = Mode::Conflicts;
    model.scroll = 0;
    model.conflicts.loaded = false;
    vec![Command::LoadConflicts]
}

/// A resolution was written (or refused): the pane and the window are read again.
pub fn on_resolved(model: &mut Model, result: Result<String, String>) -> Vec<Command> {
    let error = result.is_err();
    model.status = Some(Status {
        text: result.unwrap_or_else(|e| sanitize(&e)),
        error,
    });
    let mut out = vec![Command::LoadConflicts];
    if let Some((from, to)) = model.requested {
        out.push(Command::Load { from, to });
    }
    out
}

/// Keys while the conflict pane is open.
pub fn on_pane_key(model: &mut Model, key: KeyEvent) -> Vec<Command> {
    let keep = match model.keymap.action_in(&key, Context::Conflicts) {
        Some(Action::KeepMine) => Keep::Local,
        Some(Action::KeepTheirs) => Keep::Remote,
        Some(Action::KeepBoth) => Keep::Both,
        _ => match key.code {
            KeyCode::Esc | KeyCode::Char('c') | KeyCode::Char('q') => {
                model.mode = Mode::Month;
                return Vec::new();
            }
            KeyCode::Down | KeyCode::Char('j') => {
                let last = model.conflicts.rows.len().saturating_sub(1);
                model.conflicts.cursor = (model.conflicts.cursor + 1).min(last);
                model.scroll = 0;
                return Vec::new();
            }
            KeyCode::Up | KeyCode::Char('k') => {
                model.conflicts.cursor = model.conflicts.cursor.saturating_sub(1);
                model.scroll = 0;
                return Vec::new();
            }
            // A detail taller than the terminal scrolls.
            code @ (KeyCode::PageDown | KeyCode::PageUp | KeyCode::Char(' ')) => {
                super::update::scroll(model, code);
                return Vec::new();
            }
            _ => return Vec::new(),
        },
    };
    match model.conflicts.rows.get(model.conflicts.cursor) {
        Some(row) => {
            model.status = Some(Status {
                text: "resolving…".into(),
                error: false,
            });
            vec![Command::Resolve {
                conflict: row.id,
                keep,
            }]
        }
        None => Vec::new(),
    }
}
