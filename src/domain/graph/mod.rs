//! Microsoft Graph calendar events in the cache (issue 13): reading an item into events, editing
//! its objects, and writing it as iCalendar.
//!
//! A Graph item is one JSON object, `{"graph":[<event>, …], "cancelled":["…Z", …]}` (see
//! [`group_text`]): one `singleInstance` event, or a series, its `seriesMaster` first (when known)
//! and then its `exception`s, each object as received from Graph; `cancelled` holds the UTC
//! original starts of the master's cancelled occurrences (they become EXDATEs). The item's id,
//! etag and UID are its master's (or single's) `id`, `@odata.etag` and `iCalUId`; an event not
//! created on the server yet has no `id` and carries our UID as `transactionId`.
//!
//! Reading goes through iCalendar, as for Google: the item is written as the equivalent VCALENDAR
//! and read by [`read_calendar`](super::event::read_calendar). Edits change only what the person changed; [`patch_body`] then
//! names exactly those properties for a PATCH.
//!
//! Also here: `patternedRecurrence` ↔ RRULE ([`recurrence`]) and `dateTimeTimeZone` ([`time`]).

use serde_json::Value;

use super::event::ParsedCalendar;

mod body;
mod item;
mod read;
pub mod recurrence;
mod single;
pub mod time;
mod write;

pub use body::{create_body, is_read_only, patch_body};
pub use item::{PREFIX, group_etag, group_id, group_parts, group_text, group_uid};
pub use single::read_single;
pub use write::{
    as_new_event, as_new_event_with_uid, delete_occurrence, edit_group, graph_zone_name, new_event,
};

/// Bounds on what one item may make us do (its objects come from the network).
const MAX_GROUP_BYTES: usize = 32 * 1024 * 1024;
/// Events read from one item; a series with more exceptions is cut there.
const MAX_EVENTS: usize = 5_000;
/// Bytes of one subject, location or body that are shown.
const MAX_TEXT: usize = 256 * 1024;

/// Reads one item (its raw JSON text) into at most one item of events, like [`read_calendar`](super::event::read_calendar)
/// reads the equivalent iCalendar. The item's `raw` is the JSON as given; each event's `line`
/// and each error's `line` is the 1-based position of its object in the `graph` array. Notes on
/// guesses (a time read as UTC for want of a zone, a repetition shown once) come as errors beside
/// the events they concern.
pub fn read_group(raw: &str) -> ParsedCalendar {
    let group = match item::parse(raw) {
        Ok(g) => g,
        Err(e) => {
            return ParsedCalendar {
                errors: vec![e],
                ..ParsedCalendar::default()
            };
        }
    };
    read::group_text(&group.events, &group.cancelled, false).read(raw)
}

/// Reads an item from its objects, already parsed, as [`read_group`] reads its text `raw`
/// (which must be `group_text(events, cancelled)`): a sync reads what it has just parsed
/// without parsing it again.
pub fn read_objects(events: &[Value], cancelled: &[String], raw: &str) -> ParsedCalendar {
    read::group_text(events, cancelled, false).read(raw)
}

/// The item as a complete VCALENDAR (CRLF, folded, with a VTIMEZONE for each zone it uses): for
/// `almanac export` and for comparing two versions field by field. An item that cannot be read
/// gives a VCALENDAR without events.
pub fn to_ical(raw: &str) -> String {
    let text = item::parse(raw)
        .map(|g| read::group_text(&g.events, &g.cancelled, true).text)
        .unwrap_or_default();
    if text.is_empty() {
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//almanac//Microsoft Graph//EN\r\nEND:VCALENDAR\r\n"
            .to_string()
    } else {
        text
    }
}

/// The server's copy as fetched, made whole with what the cache holds: objects are replaced by
/// `id`, cached ones the fetch did not bring stay (a fetch of the master alone keeps its
/// exceptions), and the cached `cancelled` stays when the fetched copy has none. Cached objects
/// without an `id` are edits of ours, not the server's: they go. A fetched copy that cannot be
/// read is taken as it is.
pub fn merge_copy(fetched: &str, cached: Option<&str>) -> String {
    let Ok(fresh) = item::parse(fetched) else {
        return fetched.to_string();
    };
    let Some(old) = cached.and_then(|c| item::parse(c).ok()) else {
        return fetched.to_string();
    };
    let id = |v: &Value| v.get("id").and_then(Value::as_str).map(str::to_string);
    let mut list: Vec<Value> = old.events.into_iter().filter(|e| id(e).is_some()).collect();
    for event in fresh.events {
        match list
            .iter_mut()
            .find(|e| id(e).is_some() && id(e) == id(&event))
        {
            Some(slot) => *slot = event,
            None => list.push(event),
        }
    }
    // The master first, as the format wants.
    let r = item::roles(&list);
    if let Some(m) = r.master.filter(|m| *m > 0) {
        let master = list.remove(m);
        list.insert(0, master);
    }
    let cancelled = if fresh.cancelled.is_empty() {
        old.cancelled
    } else {
        fresh.cancelled
    };
    group_text(&list, &cancelled)
}

#[cfg(test)]
mod tests;
