//! A series group of Google events written as the equivalent iCalendar text, which the iCalendar
//! reader then reads: one reader, so a Google event and the same event from CalDAV become the same
//! rows, series and occurrences.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::time::read_time;
use super::{MAX_EVENTS, MAX_GROUP_BYTES, MAX_RECURRENCE_LINES, MAX_RECURRENCE_VALUES, MAX_TEXT};
use crate::domain::edit::lines::{one_line, time_line};
use crate::domain::edit::wall_clock;
use crate::domain::event::dates_of;
use crate::domain::ical::{self, ItemError, Property, escape_text};
use crate::domain::json_group::{GroupText, at, people_lines, person_line};
use crate::domain::time::{EventTime, When, ZoneMap};

/// The group's JSON objects: an array of events, or (leniently) one event alone.
pub(super) fn group_objects(raw: &str) -> Result<Vec<Value>, ItemError> {
    if raw.len() > MAX_GROUP_BYTES {
        return Err(ItemError {
            line: 1,
            message: format!(
                "the event group is {} bytes, more than the {MAX_GROUP_BYTES} read",
                raw.len()
            ),
        });
    }
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Array(list)) => Ok(list),
        Ok(one @ Value::Object(_)) => Ok(vec![one]),
        Ok(_) => Err(ItemError {
            line: 1,
            message: "a Google event group is a JSON array of events".into(),
        }),
        Err(e) => Err(ItemError {
            line: e.line().max(1),
            message: format!("not JSON: {e}"),
        }),
    }
}

/// What each object of a group is.
pub(super) struct Roles {
    /// The event without `recurringEventId`: the series' master, or a single event.
    pub master: Option<usize>,
    /// Exceptions of single instances (with `recurringEventId`), live or cancelled.
    pub exceptions: Vec<usize>,
    /// Objects that are not events of this group, with why.
    pub rejected: Vec<(usize, String)>,
}

pub(super) fn roles(list: &[Value]) -> Roles {
    let mut roles = Roles {
        master: None,
        exceptions: Vec::new(),
        rejected: Vec::new(),
    };
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
        } else if str_of(v, "recurringEventId").is_some() {
            roles.exceptions.push(i);
        } else if roles.master.is_none() {
            roles.master = Some(i);
        } else {
            roles.rejected.push((
                i,
                "a second event without recurringEventId in one group".into(),
            ));
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

pub(super) fn is_cancelled(v: &Value) -> bool {
    str_of(v, "status").is_some_and(|s| s.eq_ignore_ascii_case("cancelled"))
}

/// The UID every event of the group is written with: the master's `iCalUID` (else its `id`), else
/// an exception's `iCalUID` (else the master id it names).
pub(super) fn group_uid(list: &[Value], roles: &Roles) -> Option<String> {
    let master = roles.master.map(|i| &list[i]);
    master
        .and_then(|m| str_of(m, "iCalUID").or_else(|| str_of(m, "id")))
        .or_else(|| {
            roles.exceptions.iter().find_map(|&i| {
                str_of(&list[i], "iCalUID").or_else(|| str_of(&list[i], "recurringEventId"))
            })
        })
        .map(one_line)
        .filter(|u| !u.is_empty())
}

/// Writes the group as a VCALENDAR. `with_zones` adds a VTIMEZONE for each zone used (for export;
/// the reader knows IANA zones by name).
pub(super) fn group_text(list: &[Value], with_zones: bool) -> GroupText {
    let roles = roles(list);
    let mut out = GroupText::default();
    for (i, why) in &roles.rejected {
        out.errors.push(at(*i, why.clone()));
    }
    if roles.master.is_some_and(|m| is_cancelled(&list[m])) {
        out.errors.push(at(
            roles.master.unwrap_or_default(),
            "the event is cancelled (deleted on the server)".into(),
        ));
        return out;
    }
    let Some(uid) = group_uid(list, &roles) else {
        out.errors
            .push(at(0, "no event of the group has an id".into()));
        return out;
    };
    let master = roles.master.map(|i| (i, &list[i]));
    let master_start = master.and_then(|(_, m)| m.get("start").and_then(read_time));

    let mut blocks: Vec<(usize, Vec<String>)> = Vec::new();
    let mut times: Vec<EventTime> = Vec::new();
    if let Some((i, m)) = master {
        match event_lines(m, &uid, None) {
            Ok((mut lines, start, end)) => {
                if let Some(ms) = &master_start {
                    lines.extend(recurrence_lines(m, ms));
                    for &x in &roles.exceptions {
                        let e = &list[x];
                        if is_cancelled(e)
                            && let Some(t) = e.get("originalStartTime").and_then(read_time)
                        {
                            lines.push(time_line("EXDATE", Vec::new(), &in_master_form(t, ms)));
                        }
                    }
                }
                lines.extend(super::reminders::valarm_lines(m));
                times.push(start);
                times.extend(end);
                blocks.push((i, lines));
            }
            Err(why) => out.errors.push(at(i, why)),
        }
    }
    for &x in &roles.exceptions {
        let e = &list[x];
        if is_cancelled(e) {
            // An EXDATE of the master above; without a master there is nothing to hide.
            continue;
        }
        let Some(original) = e.get("originalStartTime").and_then(read_time) else {
            out.errors.push(at(
                x,
                "an exception without a readable originalStartTime".into(),
            ));
            continue;
        };
        let rid = match &master_start {
            Some(ms) => in_master_form(original, ms),
            None => original,
        };
        match event_lines(e, &uid, Some(&rid)) {
            Ok((mut lines, start, end)) => {
                lines.extend(super::reminders::valarm_lines(e));
                times.push(start);
                times.extend(end);
                blocks.push((x, lines));
            }
            Err(why) => out.errors.push(at(x, why)),
        }
    }
    out.write(
        "-//almanac//Google Calendar//EN",
        blocks,
        &times,
        with_zones,
    );
    out
}

/// The content lines of one event (without BEGIN/END), its start and its end.
fn event_lines(
    v: &Value,
    uid: &str,
    recurrence_id: Option<&EventTime>,
) -> Result<(Vec<String>, EventTime, Option<EventTime>), String> {
    let start = v
        .get("start")
        .and_then(read_time)
        .ok_or("no readable start")?;
    // Start and end of different kinds mean nothing; the reader's default end applies instead.
    let end = v
        .get("end")
        .and_then(read_time)
        .filter(|e| matches!(e, EventTime::Date(_)) == matches!(start, EventTime::Date(_)));
    let mut lines = vec![format!("UID:{uid}")];
    if let Some(stamp) = str_of(v, "updated").and_then(stamp) {
        lines.push(format!("DTSTAMP:{stamp}"));
        lines.push(format!("LAST-MODIFIED:{stamp}"));
    }
    if let Some(stamp) = str_of(v, "created").and_then(stamp) {
        lines.push(format!("CREATED:{stamp}"));
    }
    if let Some(rid) = recurrence_id {
        lines.push(time_line("RECURRENCE-ID", Vec::new(), rid));
    }
    lines.push(time_line("DTSTART", Vec::new(), &start));
    if let Some(end) = &end {
        lines.push(time_line("DTEND", Vec::new(), end));
    }
    for (key, name) in [
        ("summary", "SUMMARY"),
        ("location", "LOCATION"),
        ("description", "DESCRIPTION"),
    ] {
        if let Some(text) = v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()) {
            lines.push(format!("{name}:{}", escape_text(&clip(text))));
        }
    }
    if let Some(status) = str_of(v, "status").map(str::to_ascii_uppercase)
        && ["CONFIRMED", "TENTATIVE", "CANCELLED"].contains(&status.as_str())
    {
        lines.push(format!("STATUS:{status}"));
    }
    if let Some(seq) = v.get("sequence").and_then(Value::as_u64) {
        lines.push(format!("SEQUENCE:{seq}"));
    }
    match str_of(v, "transparency") {
        Some("transparent") => lines.push("TRANSP:TRANSPARENT".into()),
        Some("opaque") => lines.push("TRANSP:OPAQUE".into()),
        _ => {}
    }
    if let Some(class) = str_of(v, "visibility")
        .filter(|c| ["public", "private", "confidential"].contains(c))
        .map(str::to_ascii_uppercase)
    {
        lines.push(format!("CLASS:{class}"));
    }
    lines.extend(people_lines(v, person));
    Ok((lines, start, end))
}

/// An ORGANIZER or ATTENDEE line from a Google person (`{"email", "displayName",
/// "responseStatus", "optional"}`: the Events resource's `attendees[]` and `organizer`).
fn person(name: &str, v: &Value) -> Option<String> {
    let partstat = match str_of(v, "responseStatus") {
        Some("accepted") => Some("PARTSTAT=ACCEPTED"),
        Some("declined") => Some("PARTSTAT=DECLINED"),
        Some("tentative") => Some("PARTSTAT=TENTATIVE"),
        Some("needsAction") => Some("PARTSTAT=NEEDS-ACTION"),
        _ => None,
    };
    let role = (v.get("optional").and_then(Value::as_bool) == Some(true))
        .then_some("ROLE=OPT-PARTICIPANT");
    let params: Vec<&str> = partstat.into_iter().chain(role).collect();
    person_line(name, str_of(v, "email")?, str_of(v, "displayName"), &params)
}

/// Text cut to [`MAX_TEXT`] bytes on a character boundary, control characters other than line
/// breaks and tabs dropped (they would break the iCalendar lines).
fn clip(text: &str) -> String {
    let mut end = text.len().min(MAX_TEXT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end]
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect()
}

/// An RFC 3339 timestamp as an iCalendar UTC stamp.
fn stamp(text: &str) -> Option<String> {
    (text.len() <= 64)
        .then(|| DateTime::parse_from_rfc3339(text).ok())
        .flatten()
        .map(|t| t.with_timezone(&Utc).format("%Y%m%dT%H%M%SZ").to_string())
}

/// `t` (an EXDATE, RDATE or original start) in the form of the master's start, as Google means
/// a mixed list: a date on a timed series is the instance on that day, a date-time on an all-day
/// series is its day.
pub(super) fn in_master_form(t: EventTime, master_start: &EventTime) -> EventTime {
    match (master_start, t) {
        (EventTime::Date(_), EventTime::Date(d)) => EventTime::Date(d),
        (EventTime::Date(_), EventTime::Utc(u)) => EventTime::Date(u.date_naive()),
        (EventTime::Date(_), EventTime::Zoned { local, .. } | EventTime::Floating(local)) => {
            EventTime::Date(local.date())
        }
        (form, EventTime::Date(d)) => {
            let local = d.and_time(wall_clock(form).time());
            match form {
                EventTime::Zoned { tzid, zone, .. } => EventTime::Zoned {
                    local,
                    tzid: tzid.clone(),
                    zone: zone.clone(),
                },
                EventTime::Utc(_) => EventTime::Utc(local.and_utc()),
                _ => EventTime::Floating(local),
            }
        }
        // An instant is written as wall-clock time in the master's zone, as the master writes it.
        (
            EventTime::Zoned {
                tzid,
                zone: Some(zone),
                ..
            },
            t,
        ) => match t.normalise() {
            When::Instant(u) => EventTime::Zoned {
                local: zone.utc_to_local(u),
                tzid: tzid.clone(),
                zone: Some(zone.clone()),
            },
            _ => t,
        },
        (_, t) => t,
    }
}

/// The master's `recurrence` lines as iCalendar lines, each RDATE and EXDATE value checked and
/// written in the master's form (see [`in_master_form`]); an unknown TZID is read as the master's
/// zone. Values that cannot be read are left out: a series is better shown with one exclusion
/// missing than not at all.
fn recurrence_lines(master: &Value, start: &EventTime) -> Vec<String> {
    let Some(list) = master.get("recurrence").and_then(Value::as_array) else {
        return Vec::new();
    };
    let master_tzid = start.tzid().map(str::to_string);
    let mut out = Vec::new();
    let mut values = 0;
    for text in list
        .iter()
        .take(MAX_RECURRENCE_LINES)
        .filter_map(Value::as_str)
    {
        let text = one_line(text);
        let doc = ical::parse(&format!("BEGIN:X\n{}\nEND:X\n", text.trim()));
        let Some(p) = doc.components.first().and_then(|c| c.properties.first()) else {
            continue;
        };
        match p.name.as_str() {
            "RRULE" | "EXRULE" => out.push(format!("{}:{}", p.name, p.value.trim())),
            "RDATE" | "EXDATE" => {
                let tzid = p
                    .param("TZID")
                    .map(|z| match crate::domain::tz::resolve(z) {
                        Some(tz) => Some(tz.name().to_string()),
                        None => master_tzid.clone(),
                    })
                    .unwrap_or(None);
                let period = p
                    .param("VALUE")
                    .is_some_and(|v| v.eq_ignore_ascii_case("PERIOD"));
                for value in p.value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
                    values += 1;
                    if values > MAX_RECURRENCE_VALUES {
                        return out;
                    }
                    if let Some(line) = date_line(&p.name, value, tzid.as_deref(), period, start) {
                        out.push(line);
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// One RDATE or EXDATE value as its own line, or `None` when it cannot be read.
fn date_line(
    name: &str,
    value: &str,
    tzid: Option<&str>,
    period: bool,
    start: &EventTime,
) -> Option<String> {
    let mut params = Vec::new();
    if let Some(z) = tzid {
        params.push(("TZID".to_string(), z.to_string()));
    }
    let is_period = value.contains('/') || period;
    if is_period && name == "RDATE" {
        params.push(("VALUE".to_string(), "PERIOD".to_string()));
        let p = property(name, params.clone(), value);
        dates_of(&p, name, &ZoneMap::new()).ok()?;
        let mut line = name.to_string();
        for (k, v) in &params {
            line.push_str(&format!(";{k}={v}"));
        }
        return Some(format!("{line}:{value}"));
    }
    // An EXDATE period means its start; any VALUE= is ignored, the value's own shape decides.
    let single = value.split('/').next().unwrap_or(value);
    let t = EventTime::from_property(&property(name, params, single)).ok()?;
    Some(time_line(name, Vec::new(), &in_master_form(t, start)))
}

fn property(name: &str, params: Vec<(String, String)>, value: &str) -> Property {
    Property {
        name: name.to_string(),
        params,
        value: value.to_string(),
        line: 0,
        span: 0..0,
    }
}
