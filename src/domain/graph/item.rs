//! The Graph item format in the cache: `{"graph":[<event>, …], "cancelled":["…Z", …]}`. The
//! events are Graph's objects as received (a single event, or a series master first and then its
//! exceptions); `cancelled` lists the UTC original starts of the master's cancelled occurrences.

use chrono::{DateTime, NaiveDateTime, Timelike, Utc};
use serde_json::Value;

use super::{MAX_EVENTS, MAX_GROUP_BYTES};
use crate::domain::ical::ItemError;

/// What the text of a Graph item begins with (after whitespace).
pub const PREFIX: &str = "{\"graph\"";

/// The item's events and cancelled original starts, as stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Group {
    pub events: Vec<Value>,
    pub cancelled: Vec<String>,
}

/// Reads an item's text, bounded: too long, not JSON, or not of the item format is an error.
pub(super) fn parse(raw: &str) -> Result<Group, ItemError> {
    let fail = |message: String| ItemError { line: 1, message };
    if raw.len() > MAX_GROUP_BYTES {
        return Err(fail(format!(
            "the event group is {} bytes, more than the {MAX_GROUP_BYTES} read",
            raw.len()
        )));
    }
    let mut v: Value = serde_json::from_str(raw).map_err(|e| ItemError {
        line: e.line().max(1),
        message: format!("not JSON: {e}"),
    })?;
    let Some(Value::Array(events)) = v.get_mut("graph").map(Value::take) else {
        return Err(fail(
            "a Graph item is a JSON object with a \"graph\" array of events".into(),
        ));
    };
    let cancelled = match v.get("cancelled") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .take(MAX_EVENTS)
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(_) => return Err(fail("\"cancelled\" is not a list of times".into())),
    };
    Ok(Group { events, cancelled })
}

/// The item's text for `events` and `cancelled`: the one writer of the format. Keys come in a
/// fixed order and `cancelled` is sorted, without repeats (absent when empty), so equal content
/// gives equal text.
pub fn group_text(events: &[Value], cancelled: &[String]) -> String {
    let mut out = String::from(PREFIX);
    out.push(':');
    out.push_str(&serde_json::to_string(events).unwrap_or_else(|_| "[]".into()));
    let mut list: Vec<&str> = cancelled.iter().map(String::as_str).collect();
    list.sort_unstable();
    list.dedup();
    if !list.is_empty() {
        out.push_str(",\"cancelled\":");
        out.push_str(&serde_json::to_string(&list).unwrap_or_else(|_| "[]".into()));
    }
    out.push('}');
    out
}

/// The item's events and cancelled original starts, or `None` when it is not a readable item.
pub fn group_parts(raw: &str) -> Option<(Vec<Value>, Vec<String>)> {
    parse(raw).ok().map(|g| (g.events, g.cancelled))
}

/// What each object of a group is.
#[derive(Debug, Default)]
pub(super) struct Roles {
    /// The series master, or the single event.
    pub master: Option<usize>,
    /// Exceptions (`type: exception`, or any object naming a `seriesMasterId`).
    pub exceptions: Vec<usize>,
    /// Objects that are not events of this group, with why.
    pub rejected: Vec<(usize, String)>,
}

pub(super) fn roles(list: &[Value]) -> Roles {
    let mut roles = Roles::default();
    for (i, v) in list.iter().enumerate() {
        if i >= MAX_EVENTS {
            roles.rejected.push((
                i,
                format!("more than {MAX_EVENTS} events in one group; the rest are not read"),
            ));
            break;
        }
        if !v.is_object() {
            roles.rejected.push((i, "not a JSON object".into()));
            continue;
        }
        let kind = str_of(v, "type").map(str::to_ascii_lowercase);
        match kind.as_deref() {
            // A plain occurrence says nothing the master's expansion does not.
            Some("occurrence") => {}
            Some("exception") => roles.exceptions.push(i),
            _ if str_of(v, "seriesMasterId").is_some()
                && kind.as_deref() != Some("seriesmaster") =>
            {
                roles.exceptions.push(i)
            }
            _ if roles.master.is_none() => roles.master = Some(i),
            _ => roles.rejected.push((
                i,
                "a second series master or single event in one group".into(),
            )),
        }
    }
    roles
}

/// A string field, trimmed, if present and not empty.
pub(super) fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The object the item is named by: the master (or single), else the first exception.
pub(super) fn head(raw: &str) -> Option<Value> {
    let g = parse(raw).ok()?;
    let r = roles(&g.events);
    let i = r.master.or_else(|| r.exceptions.first().copied())?;
    g.events.into_iter().nth(i)
}

/// The item's id on the server: its master's (or single's) `id`; for a group of exceptions alone,
/// the `seriesMasterId` they name. `None` for an event not created on the server yet.
pub fn group_id(raw: &str) -> Option<String> {
    let g = parse(raw).ok()?;
    let r = roles(&g.events);
    match r.master {
        Some(m) => str_of(&g.events[m], "id").map(str::to_string),
        None => r
            .exceptions
            .iter()
            .find_map(|&x| str_of(&g.events[x], "seriesMasterId"))
            .map(str::to_string),
    }
}

/// The item's etag: its master's (or single's) `@odata.etag`, verbatim.
pub fn group_etag(raw: &str) -> Option<String> {
    let g = parse(raw).ok()?;
    let m = roles(&g.events).master?;
    g.events[m]
        .get("@odata.etag")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The item's UID: its master's (or single's) `iCalUId`, else its `transactionId` (an event not
/// on the server yet), else (a group of exceptions alone) the `seriesMasterId` they name.
pub fn group_uid(raw: &str) -> Option<String> {
    let g = parse(raw).ok()?;
    uid_of(&g.events, &roles(&g.events))
}

pub(super) fn uid_of(list: &[Value], r: &Roles) -> Option<String> {
    let one_line = crate::domain::edit::lines::one_line;
    match r.master {
        Some(m) => str_of(&list[m], "iCalUId")
            .or_else(|| str_of(&list[m], "transactionId"))
            .or_else(|| str_of(&list[m], "id")),
        None => r
            .exceptions
            .iter()
            .find_map(|&x| str_of(&list[x], "seriesMasterId")),
    }
    .map(one_line)
    .filter(|u| !u.is_empty())
}

/// A Graph `originalStart` (or a `cancelled` entry): a UTC instant, `Z` or an offset, 0–7
/// fractional digits; read to whole seconds.
pub(super) fn read_instant(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.len() > 64 {
        return None;
    }
    let t = DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| super::time::parse_date_time(s).map(|t: NaiveDateTime| t.and_utc()))?;
    t.with_nanosecond(0)
}

/// An instant as Graph's `originalStart` and the item's `cancelled` write it.
pub(super) fn write_instant(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
