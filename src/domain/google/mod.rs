//! Google Calendar events (API v3 JSON) in the cache: reading a series group into events, editing
//! one event object, and writing a group as iCalendar.
//!
//! A Google item is one series group, stored as received: a JSON array `[master?, exception, …]`
//! whose exceptions and cancelled instances carry `recurringEventId` (the master's `id`) and
//! `originalStartTime`; a single event is an array of one. A group may lack its master for a while:
//! its exceptions are then shown as events of their own.
//!
//! Reading goes through iCalendar: the group is written as the equivalent VCALENDAR and read by
//! [`read_calendar`](super::event::read_calendar), so a Google event yields exactly the events, series and occurrences the same
//! event from a CalDAV server would. Cancelled instances become EXDATEs of the master.
//!
//! Edits work on the JSON values and change only the fields the person changed: every other field,
//! known or not, stays as received. `sequence` is left as received (Google manages it; a lower one
//! is refused).

use serde_json::Value;

use super::event::ParsedCalendar;

mod read;
mod reminders;
mod time;
mod write;

pub use write::{
    apply_edit, cancel_occurrence, delete_occurrence, edit_group, new_event, new_id,
    occurrence_exception,
};

/// Bounds on what one group may make us do (its objects come from the network).
const MAX_GROUP_BYTES: usize = 32 * 1024 * 1024;
/// Events read from one group; a series with more exceptions is cut there.
const MAX_EVENTS: usize = 5_000;
/// Bytes of one summary, location or description that are shown.
const MAX_TEXT: usize = 256 * 1024;
/// `recurrence` lines read from one master.
const MAX_RECURRENCE_LINES: usize = 100;
/// RDATE and EXDATE values read from one master.
const MAX_RECURRENCE_VALUES: usize = 5_000;

/// Reads one group (its raw JSON text) into at most one item, like [`read_calendar`](super::event::read_calendar) reads the
/// equivalent iCalendar. The item's `raw` is the JSON as given; each event's `line` and each
/// error's `line` is the 1-based position of its object in the group's array.
pub fn read_group(raw: &str) -> ParsedCalendar {
    let list = match read::group_objects(raw) {
        Ok(list) => list,
        Err(e) => {
            return ParsedCalendar {
                errors: vec![e],
                ..ParsedCalendar::default()
            };
        }
    };
    read::group_text(&list, false).read(raw)
}

/// The group as a complete VCALENDAR (CRLF, folded, with a VTIMEZONE for each zone it uses): for
/// `almanac export` and for comparing two versions field by field ([`super::diff::diff`]). A group
/// that cannot be read gives a VCALENDAR without events.
pub fn to_ical(group_raw: &str) -> String {
    let text = read::group_objects(group_raw)
        .map(|list| read::group_text(&list, true).text)
        .unwrap_or_default();
    if text.is_empty() {
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//almanac//Google Calendar//EN\r\nEND:VCALENDAR\r\n"
            .to_string()
    } else {
        text
    }
}

/// The group's objects, for edits: an array of events (or one event alone).
fn objects(raw: &str) -> Result<Vec<Value>, super::edit::EditError> {
    read::group_objects(raw).map_err(|e| super::edit::EditError::Invalid(e.to_string()))
}

#[cfg(test)]
mod tests;

/// The group as a new event of ours: its master (or only event) with every field the person
/// sees, under a fresh id, without what belongs to the original (etag, UID, stamps). For "keep
/// both" of a conflict and a move between Google calendars; a series' exceptions stay with the
/// original. Returns the new id and the new group's JSON.
pub fn as_new_event(raw: &str) -> Option<(String, String)> {
    let list = objects(raw).ok()?;
    let r = read::roles(&list);
    let mut copy = list
        .get(r.master.or_else(|| r.exceptions.first().copied())?)?
        .clone();
    let obj = copy.as_object_mut()?;
    for key in [
        "etag",
        "iCalUID",
        "htmlLink",
        "created",
        "updated",
        "sequence",
        "recurringEventId",
        "originalStartTime",
    ] {
        obj.remove(key);
    }
    let id = new_id();
    obj.insert("id".into(), Value::String(id.clone()));
    Some((id, Value::Array(vec![copy]).to_string()))
}
