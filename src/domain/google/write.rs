//! Edits of Google event objects. Each changes only what the person changed; every other field,
//! known or not, keeps its value as received. `sequence` is never touched.

use serde_json::{Map, Value};

use super::read::{in_master_form, is_cancelled, roles, str_of};
use super::time::{read_time, set_time, time_object};
use super::{objects, read_group};
use crate::domain::edit::lines::one_line;
use crate::domain::edit::{
    Changes, EditError, NewEvent, check_order, check_rule, describe, end_keeping_length,
    in_form_of, new_uid, wall_clock,
};
use crate::domain::event::Event;
use crate::domain::time::{EventTime, When};

/// A new event id: 32 characters of `[0-9a-f]`, within Google's base32hex alphabet (`[a-v0-9]`),
/// from the same random source as [`new_uid`].
pub fn new_id() -> String {
    new_uid().replace('-', "")
}

/// A new event with a client-chosen [`new_id`], so a retried insert is recognisable (`409
/// duplicate`). Only the `id` is set, not `iCalUID`: Google's reference says to supply one of the
/// two at creation, and derives the other.
pub fn new_event(ev: &NewEvent) -> Value {
    let mut obj = Map::new();
    obj.insert("id".into(), Value::String(new_id()));
    obj.insert("summary".into(), Value::String(ev.summary.clone()));
    for (key, value) in [("location", &ev.location), ("description", &ev.description)] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            obj.insert(key.into(), Value::String(v.to_string()));
        }
    }
    obj.insert("start".into(), Value::Object(time_object(&ev.start, None)));
    obj.insert("end".into(), Value::Object(time_object(&ev.end, None)));
    if let Some(rule) = ev.rrule.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        let rule = bare_rule(rule);
        obj.insert(
            "recurrence".into(),
            Value::Array(vec![Value::String(format!("RRULE:{rule}"))]),
        );
        zone_for_repetition(&mut obj);
    }
    Value::Object(obj)
}

/// `event` (one Google event object) with the person's `changes`. A changed start without an end
/// keeps the event's length; a time without a zone of its own keeps the event's `timeZone`.
pub fn apply_edit(event: &Value, changes: &Changes) -> Result<Value, EditError> {
    let mut out = event.clone();
    let Some(obj) = out.as_object_mut() else {
        return Err(EditError::Invalid("a Google event is a JSON object".into()));
    };
    let is_instance = str_of(event, "recurringEventId").is_some();
    if let Some(summary) = &changes.summary {
        obj.insert("summary".into(), Value::String(summary.clone()));
    }
    for (key, value) in [
        ("location", &changes.location),
        ("description", &changes.description),
    ] {
        match value.as_deref() {
            Some("") => {
                obj.remove(key);
            }
            Some(v) => {
                obj.insert(key.into(), Value::String(v.to_string()));
            }
            None => {}
        }
    }
    let before_start = event.get("start").and_then(read_time);
    let before_end = event.get("end").and_then(read_time);
    let no_start = || EditError::Invalid("the event has no readable start".into());
    match &changes.rrule {
        Some(_) if is_instance => {
            return Err(EditError::Invalid(
                "an override of one instance cannot repeat".into(),
            ));
        }
        Some(None) => {
            obj.remove("recurrence");
        }
        Some(Some(rule)) => {
            let rule = bare_rule(&one_line(rule.trim())).to_string();
            let start = changes
                .start
                .as_ref()
                .or(before_start.as_ref())
                .ok_or_else(no_start)?;
            check_rule(&rule, start)?;
            set_rule(obj, &rule);
        }
        None => {}
    }
    let times = match (&changes.start, &changes.end) {
        (None, None) => None,
        (Some(s), Some(e)) => Some((s.clone(), e.clone())),
        (Some(s), None) => {
            let old = before_start.as_ref().unwrap_or(s);
            let end = end_keeping_length(old, before_end.as_ref().unwrap_or(old), s);
            Some((s.clone(), end))
        }
        (None, Some(e)) => Some((before_start.clone().ok_or_else(no_start)?, e.clone())),
    };
    if let Some((start, end)) = &times {
        check_order(start, end)?;
        if changes.start.is_some() {
            set_time(obj.entry("start").or_insert(Value::Null), start);
        }
        set_time(obj.entry("end").or_insert(Value::Null), end);
    }
    if (times.is_some() || matches!(changes.rrule, Some(Some(_)))) && obj.contains_key("recurrence")
    {
        zone_for_repetition(obj);
    }
    Ok(out)
}

/// A rule without a leading `RRULE:`.
fn bare_rule(rule: &str) -> &str {
    match rule.get(..6) {
        Some(p) if p.eq_ignore_ascii_case("RRULE:") => &rule[6..],
        _ => rule,
    }
}

/// The `recurrence` list with its RRULE replaced by `rule` (in its place, else first); its other
/// lines (EXDATE, RDATE, EXRULE) stay.
fn set_rule(obj: &mut Map<String, Value>, rule: &str) {
    let line = Value::String(format!("RRULE:{rule}"));
    let is_rrule = |v: &Value| {
        v.as_str().is_some_and(|s| {
            let name = s.trim_start().split([':', ';']).next().unwrap_or_default();
            name.trim().eq_ignore_ascii_case("RRULE")
        })
    };
    let mut list = match obj.remove("recurrence") {
        Some(Value::Array(list)) => list,
        _ => Vec::new(),
    };
    match list.iter().position(is_rrule) {
        Some(at) => {
            list[at] = line;
            let mut i = 0;
            list.retain(|v| {
                i += 1;
                i - 1 == at || !is_rrule(v)
            });
        }
        None => list.insert(0, line),
    }
    obj.insert("recurrence".into(), Value::Array(list));
}

/// Google expands a series in its start's `timeZone` and requires one: a timed start or end
/// without it gets `UTC` (the instant is unchanged).
fn zone_for_repetition(obj: &mut Map<String, Value>) {
    for key in ["start", "end"] {
        if let Some(slot) = obj.get_mut(key).and_then(Value::as_object_mut)
            && slot.contains_key("dateTime")
            && !slot.contains_key("timeZone")
        {
            slot.insert("timeZone".into(), Value::String("UTC".into()));
        }
    }
}

/// A new exception for the instance of `master` originally at `original_start`, with `changes`:
/// a copy of the master without its repetition and server-kept fields (`id`, `etag`, `htmlLink`,
/// `created`, `updated`), moved to the instance, with `recurringEventId` and `originalStartTime`.
/// It has no `id`: Google names instances itself (find it with `instances`). Whether the series
/// has such an instance is [`edit_group`]'s check.
pub fn occurrence_exception(
    master: &Value,
    original_start: When,
    changes: &Changes,
) -> Result<Value, EditError> {
    if changes.rrule.is_some() {
        return Err(EditError::Invalid(
            "a single instance cannot repeat: change the repetition of the whole series".into(),
        ));
    }
    let (ms, zone) = master_start(master)?;
    let me = master.get("end").and_then(read_time).unwrap_or(ms.clone());
    let rid = in_form_of(original_start, &ms);
    let shift = wall_clock(&rid) - wall_clock(&ms);
    let mut ex = master.clone();
    let Some(obj) = ex.as_object_mut() else {
        return Err(EditError::Invalid("a Google event is a JSON object".into()));
    };
    for key in ["id", "etag", "recurrence", "htmlLink", "created", "updated"] {
        obj.remove(key);
    }
    if let Some(id) = str_of(master, "id") {
        obj.insert("recurringEventId".into(), Value::String(id.to_string()));
    }
    obj.insert(
        "originalStartTime".into(),
        Value::Object(time_object(&rid, zone.as_deref())),
    );
    set_time(obj.entry("start").or_insert(Value::Null), &rid);
    set_time(obj.entry("end").or_insert(Value::Null), &me.shifted(shift));
    apply_edit(&ex, changes)
}

/// A cancelled instance of `master` originally at `original_start`: what Google lists for an
/// instance deleted from a series (it reads as an EXDATE).
pub fn cancel_occurrence(master: &Value, original_start: When) -> Result<Value, EditError> {
    let (ms, zone) = master_start(master)?;
    let rid = in_form_of(original_start, &ms);
    let mut obj = Map::new();
    for key in ["kind", "iCalUID"] {
        if let Some(v) = master.get(key) {
            obj.insert(key.into(), v.clone());
        }
    }
    if let Some(id) = str_of(master, "id") {
        obj.insert("recurringEventId".into(), Value::String(id.to_string()));
    }
    obj.insert(
        "originalStartTime".into(),
        Value::Object(time_object(&rid, zone.as_deref())),
    );
    obj.insert("status".into(), Value::String("cancelled".into()));
    Ok(Value::Object(obj))
}

/// The master's start and the `timeZone` it names.
fn master_start(master: &Value) -> Result<(EventTime, Option<String>), EditError> {
    let start = master.get("start");
    let ms = start
        .and_then(read_time)
        .ok_or_else(|| EditError::Invalid("the series has no readable start".into()))?;
    let zone = start
        .and_then(|s| str_of(s, "timeZone"))
        .map(str::to_string);
    Ok((ms, zone))
}

/// Edits a group (its raw JSON): `occurrence: None` edits the master (or the group's only event);
/// `Some(original start)` edits that instance, through its exception if it has one, else a new
/// exception ([`occurrence_exception`]) appended to the group. Stopping the repetition drops the
/// exceptions of every instance but the first, as Google does. Returns the group's new JSON.
pub fn edit_group(
    raw: &str,
    occurrence: Option<When>,
    changes: &Changes,
) -> Result<String, EditError> {
    let mut list = objects(raw)?;
    let r = roles(&list);
    match occurrence {
        None => {
            let target = match (r.master, r.exceptions.as_slice()) {
                (Some(m), _) => m,
                (None, [only]) => *only,
                (None, _) => {
                    return Err(EditError::Invalid(
                        "the group has only exceptions of single instances: pick one of them"
                            .into(),
                    ));
                }
            };
            let first = list[target]
                .get("start")
                .and_then(read_time)
                .map(|s| s.normalise());
            list[target] = apply_edit(&list[target], changes)?;
            if matches!(changes.rrule, Some(None)) && Some(target) == r.master {
                let ms = list[target].get("start").and_then(read_time);
                let mut i = 0;
                list.retain(|v| {
                    i += 1;
                    !r.exceptions.contains(&(i - 1))
                        || (!is_cancelled(v) && original_when(v, ms.as_ref()) == first)
                });
            }
        }
        Some(_) if changes.rrule.is_some() => {
            return Err(EditError::Invalid(
                "a single instance cannot repeat: change the repetition of the whole series".into(),
            ));
        }
        Some(when) => match exception_at(&list, &r.exceptions, r.master, when) {
            Some(x) => list[x] = apply_edit(&list[x], changes)?,
            None => {
                let master = r
                    .master
                    .ok_or_else(|| EditError::NoSuchEvent(describe(when)))?;
                check_instance(raw, when)?;
                let ex = occurrence_exception(&list[master], when, changes)?;
                list.push(ex);
            }
        },
    }
    serde_json::to_string(&list).map_err(|e| EditError::Invalid(e.to_string()))
}

/// Removes one instance of a series: its exception is marked `cancelled` (its other fields kept),
/// or a cancelled instance ([`cancel_occurrence`]) is appended. Returns the group's new JSON.
pub fn delete_occurrence(raw: &str, occurrence: When) -> Result<String, EditError> {
    let mut list = objects(raw)?;
    let r = roles(&list);
    match exception_at(&list, &r.exceptions, r.master, occurrence) {
        Some(x) => {
            if let Some(obj) = list[x].as_object_mut() {
                obj.insert("status".into(), Value::String("cancelled".into()));
            }
        }
        None => {
            let master = r
                .master
                .ok_or_else(|| EditError::NoSuchEvent(describe(occurrence)))?;
            check_instance(raw, occurrence)?;
            let cancelled = cancel_occurrence(&list[master], occurrence)?;
            list.push(cancelled);
        }
    }
    serde_json::to_string(&list).map_err(|e| EditError::Invalid(e.to_string()))
}

/// An exception's original start as the reader sees it (in the master's form when there is one).
fn original_when(v: &Value, master_start: Option<&EventTime>) -> Option<When> {
    let t = v.get("originalStartTime").and_then(read_time)?;
    Some(match master_start {
        Some(ms) => in_master_form(t, ms).normalise(),
        None => t.normalise(),
    })
}

/// The live exception of the instance originally at `when`.
fn exception_at(
    list: &[Value],
    exceptions: &[usize],
    master: Option<usize>,
    when: When,
) -> Option<usize> {
    let ms = master.and_then(|m| list[m].get("start").and_then(read_time));
    exceptions
        .iter()
        .copied()
        .find(|&x| !is_cancelled(&list[x]) && original_when(&list[x], ms.as_ref()) == Some(when))
}

/// Fails unless `when` is the original start of an instance of the group's series that is still
/// there (not cancelled).
fn check_instance(raw: &str, when: When) -> Result<(), EditError> {
    let events: Vec<Event> = read_group(raw)
        .items
        .into_iter()
        .flat_map(|i| i.events)
        .collect();
    crate::domain::edit::check_instance_of(&events, when)
}
