//! Edits of Graph items. Each changes only what the person changed; every other property, known
//! or not, keeps its value as received, so [`super::patch_body`] sends exactly the change.

use chrono::{DateTime, NaiveTime, Utc};
use serde_json::{Map, Value, json};

use super::item::{self, Group, read_instant, roles, str_of, write_instant};
use super::read::{event_time, in_master_form, real_zone, series_zone, zones_of};
use super::read_group;
use super::recurrence::from_rrule;
use super::time::write_date_time;
use crate::domain::edit::lines::one_line;
use crate::domain::edit::{
    Changes, EditError, NewEvent, check_order, check_rule, describe, end_keeping_length,
    in_form_of, new_uid, wall_clock,
};
use crate::domain::event::Event;
use crate::domain::recur::until_to_local;
use crate::domain::time::{EventTime, When};
use crate::domain::windows_zones::to_windows;

/// The name Graph is given for an IANA zone: its Windows name, else the IANA name itself.
pub fn graph_zone_name(tzid: &str) -> String {
    to_windows(tzid).map_or_else(|| tzid.to_string(), str::to_string)
}

/// A `dateTimeTimeZone` for `t`. A zoned time keeps its zone (by its Windows name); a UTC or
/// floating time is written in `keep` (a zone name the slot had) when that names a real zone,
/// else in `UTC`. An all-day time is its midnight in `UTC`.
fn time_slot(t: &EventTime, keep: Option<&str>) -> Value {
    let kept = keep.filter(|k| real_zone(k).is_some());
    let (local, zone) = match t {
        EventTime::Date(d) => (d.and_time(NaiveTime::MIN), "UTC".to_string()),
        EventTime::Zoned { local, tzid, .. } => (*local, graph_zone_name(tzid)),
        EventTime::Utc(u) => match kept.and_then(|k| real_zone(k).map(|tz| (k, tz))) {
            Some((name, tz)) => (crate::domain::tz::utc_to_local(&tz, *u), name.to_string()),
            None => (u.naive_utc(), "UTC".to_string()),
        },
        EventTime::Floating(local) => (*local, kept.unwrap_or("UTC").to_string()),
    };
    json!({"dateTime": write_date_time(local), "timeZone": zone})
}

/// A rule without a leading `RRULE:`, on one line.
fn bare_rule(rule: &str) -> String {
    let rule = one_line(rule.trim());
    match rule.get(..6) {
        Some(p) if p.eq_ignore_ascii_case("RRULE:") => rule[6..].to_string(),
        _ => rule,
    }
}

/// The `patternedRecurrence` for `rule` repeating from `start`, kept in zone `zone_name` (a Graph
/// zone name). A UTC UNTIL is first read as the series' wall clock, the frame `from_rrule` wants.
fn recurrence_for(rule: &str, start: &EventTime, zone_name: &str) -> Result<Value, EditError> {
    let rule = bare_rule(rule);
    let local_rule = match real_zone(zone_name) {
        Some(tz) if !matches!(start, EventTime::Date(_)) => {
            until_to_local(&rule, |u| crate::domain::tz::utc_to_local(&tz, u))
        }
        _ => until_to_local(&rule, |u| u.naive_utc()),
    };
    from_rrule(&local_rule, wall_clock(start), zone_name).map_err(EditError::Invalid)
}

/// The zone name a time is written with in Graph (what [`time_slot`] writes).
fn zone_name_of(slot: &Value) -> String {
    str_of(slot, "timeZone").unwrap_or("UTC").to_string()
}

/// A new event for a Graph calendar: one object with `transactionId` = `uid` and no `id` (the
/// server names it), as an item's text. A repetition Graph cannot hold is refused.
pub fn new_event(ev: &NewEvent, uid: &str) -> Result<String, EditError> {
    let mut obj = Map::new();
    obj.insert("subject".into(), Value::String(ev.summary.clone()));
    if let Some(v) = ev.description.as_deref().filter(|v| !v.is_empty()) {
        obj.insert("body".into(), json!({"contentType": "text", "content": v}));
    }
    if let Some(v) = ev.location.as_deref().filter(|v| !v.is_empty()) {
        obj.insert("location".into(), json!({"displayName": v}));
    }
    let start = time_slot(&ev.start, None);
    obj.insert(
        "isAllDay".into(),
        Value::Bool(matches!(ev.start, EventTime::Date(_))),
    );
    obj.insert("end".into(), time_slot(&ev.end, None));
    if let Some(rule) = ev.rrule.as_deref().filter(|r| !r.trim().is_empty()) {
        check_rule(&bare_rule(rule), &ev.start)?;
        let zone = zone_name_of(&start);
        obj.insert("recurrence".into(), recurrence_for(rule, &ev.start, &zone)?);
    }
    obj.insert("start".into(), start);
    obj.insert("transactionId".into(), Value::String(uid.to_string()));
    Ok(item::group_text(&[Value::Object(obj)], &[]))
}

/// `event` (one Graph event object; `master` its series' master, if it is an exception) with the
/// person's `changes`. A changed start without an end keeps the event's length; a UTC time keeps
/// the zone the event is written in.
fn apply_edit(
    event: &Value,
    master: Option<&Value>,
    changes: &Changes,
) -> Result<Value, EditError> {
    let mut out = event.clone();
    let Some(obj) = out.as_object_mut() else {
        return Err(EditError::Invalid("a Graph event is a JSON object".into()));
    };
    let is_instance = master.is_some() || str_of(event, "seriesMasterId").is_some();
    if let Some(summary) = &changes.summary {
        obj.insert("subject".into(), Value::String(summary.clone()));
    }
    match changes.location.as_deref() {
        Some("") if obj.contains_key("location") => {
            obj.insert("location".into(), json!({"displayName": ""}));
        }
        Some("") | None => {}
        Some(v) => {
            obj.insert("location".into(), json!({"displayName": v}));
        }
    }
    match changes.description.as_deref() {
        Some("") if obj.contains_key("body") => {
            obj.insert("body".into(), json!({"contentType": "text", "content": ""}));
        }
        Some("") | None => {}
        Some(v) => {
            obj.insert("body".into(), json!({"contentType": "text", "content": v}));
        }
    }
    let all_day = super::read::is_all_day(event);
    let zones = zones_of(event, master);
    let time = |key: &str| {
        event
            .get(key)
            .and_then(|s| event_time(s, all_day, &zones).ok())
            .map(|(t, _)| t)
    };
    let (before_start, before_end) = (time("start"), time("end"));
    let no_start = || EditError::Invalid("the event has no readable start".into());
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
    // The zone the event is kept in: its own real zone, else the one it was made in.
    let keep = |key: &str| {
        let own = event.get(key).and_then(|s| str_of(s, "timeZone"));
        own.into_iter()
            .chain(zones.iter().copied())
            .find(|z| real_zone(z).is_some())
            .map(str::to_string)
    };
    if let Some((start, end)) = &times {
        check_order(start, end)?;
        if changes.start.is_some() {
            obj.insert("start".into(), time_slot(start, keep("start").as_deref()));
            obj.insert(
                "isAllDay".into(),
                Value::Bool(matches!(start, EventTime::Date(_))),
            );
        }
        obj.insert("end".into(), time_slot(end, keep("end").as_deref()));
    }
    let start = times.as_ref().map(|(s, _)| s).or(before_start.as_ref());
    match &changes.rrule {
        Some(_) if is_instance => {
            return Err(EditError::Invalid(
                "a single occurrence cannot repeat: change the repetition of the whole series"
                    .into(),
            ));
        }
        Some(None) if obj.contains_key("recurrence") => {
            obj.insert("recurrence".into(), Value::Null);
        }
        Some(None) => {}
        Some(Some(rule)) => {
            let start = start.ok_or_else(no_start)?;
            check_rule(&bare_rule(rule), start)?;
            let zone = match start {
                EventTime::Zoned { tzid, .. } => graph_zone_name(tzid),
                _ => keep("start").unwrap_or_else(|| "UTC".into()),
            };
            obj.insert("recurrence".into(), recurrence_for(rule, start, &zone)?);
        }
        None => {}
    }
    // Graph wants a series' range to begin on its first day.
    if changes.start.is_some()
        && changes.rrule.is_none()
        && let (Some(start), Some(range)) = (
            start,
            obj.get_mut("recurrence")
                .and_then(|r| r.get_mut("range"))
                .and_then(Value::as_object_mut),
        )
    {
        let day = wall_clock(start).date().format("%Y-%m-%d").to_string();
        range.insert("startDate".into(), Value::String(day));
    }
    Ok(out)
}

/// The master's start and end as the reader sees them, and the zone the series is kept in.
fn master_times(
    master: &Value,
) -> Result<(EventTime, Option<EventTime>, Option<chrono_tz::Tz>), EditError> {
    let all_day = super::read::is_all_day(master);
    let zones = zones_of(master, None);
    let read = |key: &str| {
        master
            .get(key)
            .and_then(|s| event_time(s, all_day, &zones).ok())
            .map(|(t, _)| t)
    };
    let start = read("start")
        .ok_or_else(|| EditError::Invalid("the series has no readable start".into()))?;
    Ok((start, read("end"), series_zone(master)))
}

/// The UTC instant Graph keys an occurrence by (`originalStart`): an all-day occurrence is its
/// midnight in the series' zone.
fn original_instant(when: When, zone: Option<chrono_tz::Tz>) -> DateTime<Utc> {
    match when {
        When::Instant(t) => t,
        When::Floating(t) => t.and_utc(),
        When::Date(d) => {
            let midnight = d.and_time(NaiveTime::MIN);
            match zone {
                Some(tz) => crate::domain::tz::Zone::Iana(tz).local_to_utc(midnight),
                None => midnight.and_utc(),
            }
        }
    }
}

/// An exception's original start as the reader sees it.
fn original_when(v: &Value, master: Option<(&EventTime, Option<chrono_tz::Tz>)>) -> Option<When> {
    let t = str_of(v, "originalStart").and_then(read_instant)?;
    Some(match master {
        Some((ms, zone)) => in_master_form(t, ms, zone).normalise(),
        None if super::read::is_all_day(v) => When::Date(t.date_naive()),
        None => When::Instant(t),
    })
}

/// The exception of the occurrence originally at `when`.
fn exception_at(g: &Group, r: &item::Roles, when: When) -> Option<usize> {
    let ms = r.master.and_then(|m| master_times(&g.events[m]).ok());
    let form = ms.as_ref().map(|(s, _, z)| (s, *z));
    r.exceptions
        .iter()
        .copied()
        .find(|&x| original_when(&g.events[x], form) == Some(when))
}

/// A new exception for the occurrence of `master` originally at `when`, with `changes`: a copy of
/// the master without its repetition and what the server keeps, moved to the occurrence, with
/// `type: exception`, `seriesMasterId` and `originalStart`. It has no `id`: the sync side finds
/// the occurrence's on the server (and PATCHes what differs from it).
fn occurrence_exception(master: &Value, when: When, changes: &Changes) -> Result<Value, EditError> {
    let (ms, me, zone) = master_times(master)?;
    let rid = in_form_of(when, &ms);
    let shift = wall_clock(&rid) - wall_clock(&ms);
    let mut ex = master.clone();
    let Some(obj) = ex.as_object_mut() else {
        return Err(EditError::Invalid("a Graph event is a JSON object".into()));
    };
    obj.retain(|k, _| {
        !super::body::is_read_only(k)
            || matches!(k.as_str(), "originalStartTimeZone" | "originalEndTimeZone")
    });
    for key in ["recurrence", "transactionId"] {
        obj.remove(key);
    }
    obj.insert("type".into(), Value::String("exception".into()));
    if let Some(id) = str_of(master, "id") {
        obj.insert("seriesMasterId".into(), Value::String(id.to_string()));
    }
    obj.insert(
        "originalStart".into(),
        Value::String(write_instant(original_instant(when, zone))),
    );
    let keep = |key: &str| master.get(key).and_then(|s| str_of(s, "timeZone"));
    obj.insert("start".into(), time_slot(&rid, keep("start")));
    let end = me.unwrap_or_else(|| ms.clone()).shifted(shift);
    obj.insert("end".into(), time_slot(&end, keep("end")));
    apply_edit(&ex, Some(master), changes)
}

/// Edits an item (its raw text): `occurrence: None` edits the master (or single, or a lone
/// exception); `Some(original start)` edits that occurrence, through its exception if it has one,
/// else a new exception appended. Stopping the repetition drops the exceptions and cancelled
/// occurrences. Returns the item's new text.
pub fn edit_group(
    raw: &str,
    occurrence: Option<When>,
    changes: &Changes,
) -> Result<String, EditError> {
    let mut g = item::parse(raw).map_err(|e| EditError::Invalid(e.to_string()))?;
    let r = roles(&g.events);
    match occurrence {
        None => {
            let target = match (r.master, r.exceptions.as_slice()) {
                (Some(m), _) => m,
                (None, [only]) => *only,
                (None, _) => {
                    return Err(EditError::Invalid(
                        "the series' master is not known: pick one of its occurrences".into(),
                    ));
                }
            };
            g.events[target] = apply_edit(&g.events[target], None, changes)?;
            if matches!(changes.rrule, Some(None)) && Some(target) == r.master {
                let mut i = 0;
                g.events.retain(|_| {
                    i += 1;
                    !r.exceptions.contains(&(i - 1))
                });
                g.cancelled.clear();
            }
        }
        Some(_) if changes.rrule.is_some() => {
            return Err(EditError::Invalid(
                "a single occurrence cannot repeat: change the repetition of the whole series"
                    .into(),
            ));
        }
        Some(when) => match exception_at(&g, &r, when) {
            Some(x) => {
                let master = r.master.map(|m| g.events[m].clone());
                g.events[x] = apply_edit(&g.events[x], master.as_ref(), changes)?;
            }
            None => {
                let m = r
                    .master
                    .ok_or_else(|| EditError::NoSuchEvent(describe(when)))?;
                check_instance(raw, when)?;
                let ex = occurrence_exception(&g.events[m], when, changes)?;
                g.events.push(ex);
            }
        },
    }
    Ok(item::group_text(&g.events, &g.cancelled))
}

/// Removes one occurrence of a series: its exception (if any) goes, and its original start joins
/// `cancelled`. Returns the item's new text.
pub fn delete_occurrence(raw: &str, occurrence: When) -> Result<String, EditError> {
    let mut g = item::parse(raw).map_err(|e| EditError::Invalid(e.to_string()))?;
    let r = roles(&g.events);
    let instant = match exception_at(&g, &r, occurrence) {
        Some(x) => {
            let ex = g.events.remove(x);
            str_of(&ex, "originalStart")
                .and_then(read_instant)
                .ok_or_else(|| EditError::NoSuchEvent(describe(occurrence)))?
        }
        None => {
            let m = r
                .master
                .ok_or_else(|| EditError::NoSuchEvent(describe(occurrence)))?;
            check_instance(raw, occurrence)?;
            let (_, _, zone) = master_times(&g.events[m])?;
            original_instant(occurrence, zone)
        }
    };
    g.cancelled.push(write_instant(instant));
    Ok(item::group_text(&g.events, &g.cancelled))
}

/// Fails unless `when` is the original start of an occurrence of the item's series that is still
/// there (not cancelled).
fn check_instance(raw: &str, when: When) -> Result<(), EditError> {
    let events: Vec<Event> = read_group(raw)
        .items
        .into_iter()
        .flat_map(|i| i.events)
        .collect();
    crate::domain::edit::check_instance_of(&events, when)
}

/// Properties of the original that a copy must not carry: they name the original on the server.
const OF_THE_ORIGINAL: &[&str] = &[
    "id",
    "changeKey",
    "iCalUId",
    "uid",
    "createdDateTime",
    "lastModifiedDateTime",
    "seriesMasterId",
    "originalStart",
    "type",
    "webLink",
    "onlineMeeting",
    "onlineMeetingUrl",
    "transactionId",
];

/// The item as a new event of ours with UID `uid`: its master (or single, else first exception)
/// with every property the person sees, without what names the original (id, etag, changeKey,
/// iCalUId, stamps, series links), with `transactionId` = `uid`. A master keeps its cancelled
/// occurrences; a series' exceptions stay with the original. For "keep both" of a conflict.
pub fn as_new_event_with_uid(raw: &str, uid: &str) -> Option<String> {
    let g = item::parse(raw).ok()?;
    let r = roles(&g.events);
    let from_master = r.master.is_some();
    let mut copy = item::head(raw)?;
    let obj = copy.as_object_mut()?;
    obj.retain(|k, _| {
        !k.starts_with('@') && !k.contains("@odata.") && !OF_THE_ORIGINAL.contains(&k.as_str())
    });
    if !from_master {
        obj.remove("recurrence");
    }
    obj.insert("transactionId".into(), Value::String(uid.to_string()));
    let repeats = obj.get("recurrence").is_some_and(|r| !r.is_null());
    let cancelled = if from_master && repeats {
        g.cancelled
    } else {
        Vec::new()
    };
    Some(item::group_text(&[copy], &cancelled))
}

/// [`as_new_event_with_uid`] under a fresh UID: returns the UID and the new item's text.
pub fn as_new_event(raw: &str) -> Option<(String, String)> {
    let uid = new_uid();
    let text = as_new_event_with_uid(raw, &uid)?;
    Some((uid, text))
}
