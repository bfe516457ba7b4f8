//! The edit keys of the month view (add, edit, delete, `$EDITOR`) and the prompts they ask through.
//! Edits of an existing event need its detail (the cache item and its text): when it is not read
//! yet, the key asks for it and the edit goes on when it arrives.

use chrono::{Duration, NaiveDateTime};
use crossterm::event::{KeyCode, KeyEvent};

use super::form::{Form, Outcome, Repeat, Target, Values, repeat_fields};
use super::model::{Mode, Model, Status};
use super::update::Command;
use crate::domain::format::read_any as read_calendar;
use crate::domain::{EventDetail, Occurrence, When};
use crate::edit::{EditFailure, EditRequest, PERSONAL};

/// What a key asked to do with the selected event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Edit,
    Delete,
    External,
}

/// An edit or delete of a recurring event, waiting for "this occurrence or the whole series".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pick {
    pub intent: Intent,
    pub event_id: i64,
    pub item: i64,
    pub uid: String,
    /// The instance chosen: its RECURRENCE-ID, or its start for the first one.
    pub instance: When,
    pub summary: String,
}

/// A delete waiting for `y`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub item: i64,
    pub uid: String,
    pub occurrence: Option<When>,
    pub summary: String,
    /// The server version shown when the person chose to delete (see `seen_etag`).
    pub seen_etag: Option<String>,
}

fn say(model: &mut Model, text: &str, error: bool) {
    model.status = Some(Status {
        text: text.into(),
        error,
    });
}

/// `a`: the form for a new event on the selected day, in the selected event's calendar if it has one.
pub fn add(model: &mut Model) -> Vec<Command> {
    // The read-only sample is never saved into: a new event aimed at it goes to a local
    // calendar made on demand, and the form says so by its name.
    let personal_exists = model
        .calendars
        .iter()
        .any(|c| !c.is_sample && c.name == PERSONAL);
    let calendars: Vec<(i64, String)> = model
        .calendars
        .iter()
        .filter(|c| !(c.hidden || c.read_only || c.is_sample && personal_exists))
        .map(|c| {
            if c.is_sample {
                (c.id, format!("{PERSONAL} (new, on this computer)"))
            } else {
                (c.id, c.name.clone())
            }
        })
        .collect();
    let Some(&(first, _)) = calendars.first() else {
        say(model, "no calendar to add to", true);
        return Vec::new();
    };
    let calendar = model
        .selected_occurrence()
        .map(|o| o.calendar_id)
        .filter(|id| calendars.iter().any(|(c, _)| c == id))
        .unwrap_or(first);
    // The week and day views have a selected hour: the new event starts there.
    let hour = match model.views.view {
        super::views::View::Week | super::views::View::Day => model.views.hour.min(23),
        _ => 9,
    };
    let values = Values {
        summary: String::new(),
        date: model.selected.format("%Y-%m-%d").to_string(),
        start: format!("{hour:02}:00"),
        end: if hour == 23 {
            "23:59".into()
        } else {
            format!("{:02}:00", hour + 1)
        },
        all_day: false,
        location: String::new(),
        description: String::new(),
        calendar,
        repeat: Repeat::Never,
        ends: String::new(),
        days: String::new(),
    };
    model.mode = Mode::Form(Box::new(
        Form::new(Target::New, values, 0, model.zone, calendars).counting_from(model.today),
    ));
    Vec::new()
}

/// `e`, `d`, `E`: acts on the selected event once its detail is read.
pub fn begin(model: &mut Model, intent: Intent) -> Vec<Command> {
    let Some((event_id, calendar)) = model
        .selected_occurrence()
        .map(|o| (o.event_id, o.calendar_id))
    else {
        say(model, "no event selected", false);
        return Vec::new();
    };
    // Said at once, not after a form was filled in for nothing.
    if model.calendar(calendar).is_some_and(|c| c.is_sample) {
        say(model, &EditFailure::Sample.to_string(), true);
        return Vec::new();
    }
    if let Some(c) = model.calendar(calendar).filter(|c| c.read_only) {
        say(
            model,
            &EditFailure::ReadOnly(c.name.clone()).to_string(),
            true,
        );
        return Vec::new();
    }
    // Always read afresh: the etag the edit is based on must be the one the form shows.
    model.awaiting = Some((event_id, intent));
    model.detail = None;
    vec![Command::LoadDetail { event_id }]
}

/// The detail arrived: an edit waiting for it goes on.
pub fn on_detail(model: &mut Model, event_id: i64) -> Vec<Command> {
    match model.awaiting {
        Some((id, intent)) if id == event_id => {
            model.awaiting = None;
            if model.detail.is_none() {
                say(model, "the event is gone (deleted meanwhile?)", true);
                return Vec::new();
            }
            proceed(model, intent)
        }
        _ => Vec::new(),
    }
}

/// The server version a person starts from, for an edit based on it. With a local change
/// already waiting, they start from their own version, whose base the pending change keeps (or,
/// once it is pushed, the server holds it): none.
fn seen_etag(detail: &EventDetail) -> Option<String> {
    match detail.pending_op {
        Some(_) => None,
        None => detail.etag.clone(),
    }
}

/// The selected occurrence and its detail, when both are there and belong together.
fn selected(model: &Model) -> Option<(Occurrence, EventDetail)> {
    let occ = model.selected_occurrence()?.clone();
    let detail = model
        .detail
        .as_ref()
        .filter(|(id, _)| *id == occ.event_id)?
        .1
        .clone();
    Some((occ, detail))
}

fn proceed(model: &mut Model, intent: Intent) -> Vec<Command> {
    let Some((occ, detail)) = selected(model) else {
        say(model, "the selection changed; press the key again", false);
        return Vec::new();
    };
    if intent == Intent::External {
        return vec![Command::ExternalEdit {
            item: detail.item_id,
            calendar: occ.calendar_id,
            seen_etag: seen_etag(&detail),
            raw: detail.raw,
        }];
    }
    if occ.recurrence_id.is_some() || detail.rrule.is_some() {
        model.mode = Mode::Scope(Box::new(Pick {
            intent,
            event_id: occ.event_id,
            item: detail.item_id,
            uid: occ.uid.to_string(),
            instance: occ.recurrence_id.unwrap_or(occ.start),
            summary: occ.summary.to_string(),
        }));
        return Vec::new();
    }
    match intent {
        Intent::Edit => open_edit_form(model, &occ, &detail, None),
        _ => confirm_delete(model, &detail, &occ, None),
    }
    Vec::new()
}

fn confirm_delete(
    model: &mut Model,
    detail: &EventDetail,
    occ: &Occurrence,
    occurrence: Option<When>,
) {
    model.mode = Mode::ConfirmDelete(Box::new(Removal {
        item: detail.item_id,
        uid: occ.uid.to_string(),
        occurrence,
        summary: occ.summary.to_string(),
        seen_etag: seen_etag(detail),
    }));
}

/// Keys of the "this occurrence or the whole series" prompt.
pub fn on_scope_key(model: &mut Model, pick: &Pick, key: KeyEvent) -> Vec<Command> {
    let occurrence = match key.code {
        KeyCode::Char('o') => Some(pick.instance),
        KeyCode::Char('s') => None,
        KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('n') => {
            model.mode = Mode::Month;
            return Vec::new();
        }
        _ => return Vec::new(),
    };
    model.mode = Mode::Month;
    let Some((occ, detail)) = selected(model).filter(|(o, _)| o.event_id == pick.event_id) else {
        say(model, "the event changed meanwhile; select it again", true);
        return Vec::new();
    };
    match pick.intent {
        Intent::Edit => open_edit_form(model, &occ, &detail, occurrence),
        _ => confirm_delete(model, &detail, &occ, occurrence),
    }
    Vec::new()
}

/// Keys of the delete confirmation.
pub fn on_confirm_key(model: &mut Model, removal: &Removal, key: KeyEvent) -> Vec<Command> {
    match key.code {
        KeyCode::Char('y') => {
            model.mode = Mode::Month;
            vec![Command::Stage(EditRequest::Delete {
                item: removal.item,
                uid: removal.uid.clone(),
                occurrence: removal.occurrence,
                seen_etag: removal.seen_etag.clone(),
            })]
        }
        KeyCode::Char('n') | KeyCode::Esc | KeyCode::Char('q') => {
            model.mode = Mode::Month;
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// Keys while the form is open.
pub fn on_form_key(model: &mut Model, mut form: Box<Form>, key: KeyEvent) -> Vec<Command> {
    match form.on_key(key) {
        Outcome::Stay => {
            model.mode = Mode::Form(form);
            Vec::new()
        }
        Outcome::Cancel => {
            model.mode = Mode::Month;
            Vec::new()
        }
        Outcome::Save(request) => {
            model.mode = Mode::Month;
            say(model, "saving…", false);
            vec![Command::Stage(request)]
        }
    }
}

/// The form filled from an event. For the whole series of a recurring event the times are the
/// series' own (its first instance), not the selected instance's.
fn open_edit_form(
    model: &mut Model,
    occ: &Occurrence,
    detail: &EventDetail,
    occurrence: Option<When>,
) {
    let series = occurrence.is_none() && (occ.recurrence_id.is_some() || detail.rrule.is_some());
    let (start, end) = series
        .then(|| master_times(&detail.raw, &occ.uid))
        .flatten()
        .unwrap_or((occ.start, occ.end));
    let (s, e) = (start.local(&model.zone), end.local(&model.zone));
    let all_day = start.is_date();
    let days = (e.date() - s.date()).num_days();
    let span_days = if all_day { (days - 1).max(0) } else { days };
    let clock = |t: NaiveDateTime, fallback: &str| {
        if all_day {
            fallback.to_string()
        } else {
            t.format("%H:%M").to_string()
        }
    };
    let last_day = (s.date() + Duration::days(span_days)).format("%Y-%m-%d");
    let (repeat, ends, days) = repeat_fields(detail.rrule.as_deref());
    let values = Values {
        summary: occ.summary.to_string(),
        date: s.format("%Y-%m-%d").to_string(),
        start: clock(s, "09:00"),
        end: if all_day {
            last_day.to_string()
        } else {
            clock(e, "10:00")
        },
        all_day,
        location: occ.location.to_string(),
        description: detail.description.clone(),
        calendar: occ.calendar_id,
        repeat,
        ends,
        days,
    };
    let name = model
        .calendar(occ.calendar_id)
        .map_or_else(|| "?".to_string(), |c| c.name.clone());
    let target = Target::Edit {
        item: detail.item_id,
        uid: occ.uid.to_string(),
        occurrence,
        seen_etag: seen_etag(detail),
    };
    // The whole event may move to another calendar it could be added to; one occurrence stays.
    let mut calendars = vec![(occ.calendar_id, name)];
    if occurrence.is_none() {
        calendars.extend(
            model
                .calendars
                .iter()
                .filter(|c| c.id != occ.calendar_id && !c.hidden && !c.is_sample && !c.read_only)
                .map(|c| (c.id, c.name.clone())),
        );
    }
    let form =
        Form::new(target, values, span_days, model.zone, calendars).counting_from(model.today);
    model.mode = Mode::Form(Box::new(form));
}

/// The start and end of the series master with `uid` in `raw`.
fn master_times(raw: &str, uid: &str) -> Option<(When, When)> {
    let parsed = read_calendar(raw);
    let ev = parsed
        .items
        .iter()
        .flat_map(|i| &i.events)
        .find(|e| e.uid == uid && e.recurrence_id.is_none())?;
    let (start, end) = (ev.start.normalise(), ev.end.normalise());
    // A zero-length all-day event still covers its day.
    let end = match (start, end) {
        (When::Date(s), When::Date(e)) if e <= s => When::Date(s + Duration::days(1)),
        _ => end,
    };
    Some((start, end))
}
