//! Local edits, from what a person asked (in the TUI's form, in `$EDITOR`, or on the command line)
//! to a change staged in the cache. Both front ends go through [`stage`], so an edit means the
//! same thing wherever it was made.

use chrono::{DateTime, Utc};

use crate::domain::edit::{
    Changes, EditError, NewEvent, delete_occurrence, edit_event, new_event, new_uid, validate,
};
use crate::domain::format::Format;
use crate::domain::{When, google, graph};
use crate::store::{LocalEdit, Staged, Store, StoreError};

/// What a person asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum EditRequest {
    /// A new event in a calendar.
    Create { calendar: i64, event: NewEvent },
    /// Changed fields of an event: the whole series (`occurrence: None`) or one instance.
    Change {
        item: i64,
        uid: String,
        occurrence: Option<When>,
        changes: Changes,
        /// The server etag of the version the person saw when they began the edit (the TUI's
        /// form); `None` when the edit reads the cache at once (the command line).
        seen_etag: Option<String>,
    },
    /// The event goes: the whole resource (`occurrence: None`) or one instance of a series.
    Delete {
        item: i64,
        uid: String,
        occurrence: Option<When>,
        /// As for `Change`: the server version the person saw when they chose to delete.
        seen_etag: Option<String>,
    },
    /// The event moves to another calendar (the whole resource, with `changes`): a create there
    /// and a delete here, staged together. Each has its own conflict cases: the delete meets a
    /// 412 if the server's copy changed meanwhile, and the person settles it in the pane.
    Move {
        item: i64,
        uid: String,
        to: i64,
        changes: Changes,
        seen_etag: Option<String>,
    },
    /// The whole text, as typed in `$EDITOR`: replaces the item's (or creates one).
    Replace {
        item: Option<i64>,
        calendar: i64,
        raw: String,
        seen_etag: Option<String>,
    },
}

/// Checks text typed in `$EDITOR`, in the item's own format; returns its UID.
fn validate_any(raw: &str) -> Result<String, EditError> {
    let format = Format::of_text(raw);
    match format {
        Format::ICalendar => validate(raw),
        Format::GoogleJson | Format::GraphJson => {
            let parsed = crate::domain::format::read_item(format, raw);
            if let Some(first) = parsed.errors.first() {
                return Err(EditError::Invalid(first.to_string()));
            }
            parsed
                .items
                .into_iter()
                .next()
                .map(|i| i.uid)
                .ok_or_else(|| EditError::Invalid("there is no event".into()))
        }
    }
}

/// A Google event for another Google calendar: the same fields under a new id of ours (ids and
/// etags belong to the calendar they were made in). Only single events move: a series'
/// exceptions are tied to their master's id.
fn google_copy(raw: &str) -> Result<String, EditFailure> {
    let refused = || {
        EditFailure::Edit(EditError::Invalid(
            "a repeating Google event cannot move to another calendar here yet".into(),
        ))
    };
    let list: Vec<serde_json::Value> = serde_json::from_str(raw)
        .map_err(|e| EditFailure::Edit(EditError::Invalid(e.to_string())))?;
    if list.len() != 1 || list[0].get("recurrence").is_some() {
        return Err(refused());
    }
    google::as_new_event(raw)
        .map(|(_, raw)| raw)
        .ok_or_else(refused)
}

/// A Graph event for another Graph calendar: the same fields under a new UID of ours (ids and
/// etags belong to the calendar they were made in). Only single events move, as for Google.
/// Returns the new UID and text.
fn graph_copy(raw: &str) -> Result<(String, String), EditFailure> {
    let refused = || {
        EditFailure::Edit(EditError::Invalid(
            "a repeating Outlook event cannot move to another calendar here yet".into(),
        ))
    };
    let (events, _) = graph::group_parts(raw).ok_or_else(refused)?;
    if events.len() != 1 || events[0].get("recurrence").is_some_and(|r| !r.is_null()) {
        return Err(refused());
    }
    graph::as_new_event(raw).ok_or_else(refused)
}

/// Why an edit could not be staged.
#[derive(Debug, thiserror::Error)]
pub enum EditFailure {
    #[error(transparent)]
    Edit(#[from] EditError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the event is gone from the cache (deleted meanwhile?)")]
    Gone,
    #[error(
        "the bundled sample is read-only (it is replaced every week): add events of your own with `a` or `almanac add`"
    )]
    Sample,
    #[error(
        "'{0}' is read-only (a subscription, or shared with you to read): its events cannot be changed here"
    )]
    ReadOnly(String),
}

/// New events never go into the bundled sample, which is rewritten every week and dropped once
/// there is data of one's own: they go to a local calendar, "Personal", made on demand.
pub const PERSONAL: &str = "Personal";

/// What staging did, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub staged: Staged,
    /// The UID of the event created or changed.
    pub uid: String,
    /// A second change the request made (a move's delete in the calendar it left).
    pub also: Option<Staged>,
}

/// Points a request for an existing event at the item that holds it now. A front end that showed
/// a version (`seen_etag`: the form, `$EDITOR`, a confirmed delete) may come back after a pull
/// removed it (deleted on the server meanwhile): the version it showed is put back, and the
/// change is staged on it, so its push meets the deletion as a conflict and nothing typed is lost.
/// An item id that now holds another event (ids are reused) is never edited in its place.
fn on_current_item(
    store: &mut Store,
    mut request: EditRequest,
    now: i64,
) -> Result<(EditRequest, Option<Restored>), EditFailure> {
    // `$EDITOR` text names its event by the UID it holds; the person may have changed that UID,
    // so the etag shown also tells the event apart from another one at a reused item id.
    let replaced_uid = match &request {
        EditRequest::Replace { raw, .. } => validate(raw).ok(),
        _ => None,
    };
    let (item, uid, seen) = match &mut request {
        EditRequest::Change {
            item,
            uid,
            seen_etag,
            ..
        }
        | EditRequest::Move {
            item,
            uid,
            seen_etag,
            ..
        }
        | EditRequest::Delete {
            item,
            uid,
            seen_etag,
            ..
        } => (item, Some(uid.clone()), seen_etag.is_some()),
        EditRequest::Replace {
            item: Some(item),
            seen_etag,
            ..
        } => {
            let same_version = seen_etag.is_some() && store.item_etag(*item)? == *seen_etag;
            let held = store.item_uid(*item)?;
            let here =
                held.is_some() && (same_version || seen_etag.is_none() || held == replaced_uid);
            if here && store.item_text(*item)?.is_some() {
                return Ok((request, None));
            }
            (item, replaced_uid.clone(), seen_etag.is_some())
        }
        _ => return Ok((request, None)),
    };
    let held = store.item_uid(*item)?;
    let here = matches!((&held, &uid), (Some(held), Some(uid)) if held == uid);
    if here && store.item_text(*item)?.is_some() {
        return Ok((request, None));
    }
    if !here
        && seen
        && let Some((restored, inserted)) = store.restore_removed(*item, uid.as_deref(), now)?
    {
        let undo = inserted.then_some(Restored {
            now: restored,
            was: *item,
        });
        *item = restored;
        return Ok((request, undo));
    }
    Err(EditFailure::Gone)
}

/// An item put back for an edit (see [`on_current_item`]): its id now and the id it had.
struct Restored {
    now: i64,
    was: i64,
}

/// Turns a request into a staged change (one transaction).
pub fn stage(
    store: &mut Store,
    request: EditRequest,
    now: DateTime<Utc>,
) -> Result<Outcome, EditFailure> {
    let ts = now.timestamp();
    let (request, restored) = on_current_item(store, request, ts)?;
    let staged = stage_on_current(store, request, now);
    // A save that fails (text that does not read …) leaves nothing behind: an event put back for
    // it goes again, as it was.
    if staged.is_err()
        && let Some(r) = restored
    {
        store.unrestore(r.now, r.was)?;
    }
    staged
}

fn stage_on_current(
    store: &mut Store,
    request: EditRequest,
    now: DateTime<Utc>,
) -> Result<Outcome, EditFailure> {
    let ts = now.timestamp();
    let sample = store.sample_calendar()?.map(|(id, _)| id);
    let item = match &request {
        EditRequest::Change { item, .. }
        | EditRequest::Move { item, .. }
        | EditRequest::Delete { item, .. }
        | EditRequest::Replace {
            item: Some(item), ..
        } => Some(*item),
        _ => None,
    };
    if let (Some(item), Some(sample)) = (item, sample)
        && store.item_text(item)?.is_some_and(|(c, _)| c == sample)
    {
        return Err(EditFailure::Sample);
    }
    let target = match &request {
        EditRequest::Create { calendar, .. } => Some(*calendar),
        EditRequest::Move { to, .. } => Some(*to),
        EditRequest::Replace { calendar, .. } => Some(*calendar),
        _ => None,
    };
    let source = match item {
        Some(item) => store.item_text(item)?.map(|(c, _)| c),
        None => None,
    };
    for calendar in source.into_iter().chain(target) {
        if let Some(name) = store.read_only_calendar(calendar)? {
            return Err(EditFailure::ReadOnly(name));
        }
    }
    let (edit, uid) = match request {
        EditRequest::Create { calendar, event } => {
            let calendar = if Some(calendar) == sample {
                store.local_calendar(PERSONAL)?
            } else {
                calendar
            };
            let (uid, raw) = match store.calendar_format(calendar)? {
                Format::ICalendar => {
                    let uid = new_uid();
                    let raw = new_event(&uid, &event, now);
                    (uid, raw)
                }
                // Google's id is ours to choose (so a retried insert is recognised): it names
                // the item until Google gives the event its iCalendar UID.
                Format::GoogleJson => {
                    let ev = google::new_event(&event);
                    let id = ev["id"].as_str().unwrap_or_default().to_string();
                    (id, serde_json::Value::Array(vec![ev]).to_string())
                }
                // Graph names the event itself; our UID goes in `transactionId`.
                Format::GraphJson => {
                    let uid = new_uid();
                    let raw = graph::new_event(&event, &uid)?;
                    (uid, raw)
                }
            };
            (
                LocalEdit::Create {
                    calendar,
                    uid: uid.clone(),
                    raw,
                },
                uid,
            )
        }
        EditRequest::Change {
            item,
            uid,
            occurrence,
            changes,
            seen_etag,
        } => {
            let (_, raw) = store.item_text(item)?.ok_or(EditFailure::Gone)?;
            let raw = match Format::of_text(&raw) {
                Format::ICalendar => edit_event(&raw, &uid, occurrence, &changes, now)?,
                Format::GoogleJson => google::edit_group(&raw, occurrence, &changes)?,
                Format::GraphJson => graph::edit_group(&raw, occurrence, &changes)?,
            };
            (LocalEdit::update(item, raw, seen_etag), uid)
        }
        EditRequest::Delete {
            item,
            uid,
            occurrence: None,
            seen_etag,
        } => (LocalEdit::Delete { item, seen_etag }, uid),
        EditRequest::Delete {
            item,
            uid,
            occurrence: Some(when),
            seen_etag,
        } => {
            let (_, raw) = store.item_text(item)?.ok_or(EditFailure::Gone)?;
            let raw = match Format::of_text(&raw) {
                Format::ICalendar => delete_occurrence(&raw, &uid, when, now)?,
                Format::GoogleJson => google::delete_occurrence(&raw, when)?,
                Format::GraphJson => graph::delete_occurrence(&raw, when)?,
            };
            (LocalEdit::update(item, raw, seen_etag), uid)
        }
        EditRequest::Move {
            item,
            uid,
            to,
            changes,
            seen_etag,
        } => return move_event(store, item, uid, to, &changes, seen_etag, sample, now),
        EditRequest::Replace {
            item: Some(item),
            raw,
            seen_etag,
            ..
        } => {
            let uid = validate_any(&raw)?;
            (LocalEdit::update(item, raw, seen_etag), uid)
        }
        EditRequest::Replace {
            item: None,
            calendar,
            raw,
            ..
        } => {
            let uid = validate(&raw)?;
            let calendar = if Some(calendar) == sample {
                store.local_calendar(PERSONAL)?
            } else {
                calendar
            };
            (
                LocalEdit::Create {
                    calendar,
                    uid: uid.clone(),
                    raw,
                },
                uid,
            )
        }
    };
    let staged = store.stage(edit, ts)?;
    Ok(Outcome {
        staged,
        uid,
        also: None,
    })
}

/// A move: the resource's text (with `changes`) created in calendar `to`, and deleted where it was
/// (based on the version the person saw), in one transaction.
#[allow(clippy::too_many_arguments)]
fn move_event(
    store: &mut Store,
    item: i64,
    uid: String,
    to: i64,
    changes: &Changes,
    seen_etag: Option<String>,
    sample: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Outcome, EditFailure> {
    let (from, raw) = store.item_text(item)?.ok_or(EditFailure::Gone)?;
    if Some(to) == sample {
        return Err(EditFailure::Sample);
    }
    let raw = match (*changes == Changes::default(), Format::of_text(&raw)) {
        (true, _) => raw,
        (false, Format::ICalendar) => edit_event(&raw, &uid, None, changes, now)?,
        (false, Format::GoogleJson) => google::edit_group(&raw, None, changes)?,
        (false, Format::GraphJson) => graph::edit_group(&raw, None, changes)?,
    };
    // A copy for another Graph calendar is a new event under a new UID.
    let mut uid = uid;
    let raw = match (Format::of_text(&raw), store.calendar_format(to)?) {
        (Format::ICalendar, Format::ICalendar) => raw,
        _ if to == from => raw,
        (Format::GraphJson, Format::ICalendar) => graph::to_ical(&raw),
        (Format::GraphJson, Format::GraphJson) => {
            let (fresh, raw) = graph_copy(&raw)?;
            uid = fresh;
            raw
        }
        (Format::GraphJson, Format::GoogleJson)
        | (Format::ICalendar | Format::GoogleJson, Format::GraphJson) => {
            return Err(EditFailure::Edit(EditError::Invalid(
                "moving an event between Outlook and another kind of calendar is not supported \
                 yet: add it there anew (a)"
                    .into(),
            )));
        }
        // A Google event as an iCalendar resource: everything iCalendar can say.
        (Format::GoogleJson, Format::ICalendar) => google::to_ical(&raw),
        (Format::GoogleJson, Format::GoogleJson) => google_copy(&raw)?,
        (Format::ICalendar, Format::GoogleJson) => {
            return Err(EditFailure::Edit(EditError::Invalid(
                "moving an event into a Google calendar from another kind is not supported yet: \
                 add it there anew (a)"
                    .into(),
            )));
        }
    };
    if to == from {
        let staged = store.stage(LocalEdit::update(item, raw, seen_etag), now.timestamp())?;
        return Ok(Outcome {
            staged,
            uid,
            also: None,
        });
    }
    let mut staged = store.stage_all(
        vec![
            LocalEdit::Create {
                calendar: to,
                uid: uid.clone(),
                raw,
            },
            LocalEdit::Delete { item, seen_etag },
        ],
        now.timestamp(),
    )?;
    let also = staged.pop();
    let staged = staged.pop().ok_or(EditFailure::Gone)?;
    Ok(Outcome { staged, uid, also })
}
