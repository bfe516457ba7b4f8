//! A Graph item written as the equivalent iCalendar text, which the iCalendar reader then reads:
//! one reader, so a Graph event and the same event from CalDAV become the same rows, series and
//! occurrences.

use chrono::{DateTime, NaiveTime, Utc};
use serde_json::Value;

use super::item::{read_instant, roles, str_of, uid_of};
use super::recurrence::to_rrule;
use super::time::read_time;
use super::{MAX_EVENTS, MAX_TEXT};
use crate::domain::edit::lines::{one_line, time_line};
use crate::domain::ical::escape_text;
use crate::domain::json_group::{GroupText, at, people_lines, person_line};
use crate::domain::time::EventTime;
use crate::domain::tz::{Zone, resolve};

/// A zone name that names a zone: not custom, not empty, not UTC, and known.
pub(super) fn real_zone(name: &str) -> Option<chrono_tz::Tz> {
    let name = name.trim();
    if name.is_empty()
        || name.eq_ignore_ascii_case("tzone://Microsoft/Custom")
        || name.eq_ignore_ascii_case("UTC")
    {
        return None;
    }
    resolve(name)
}

/// The master's `recurrence.range.recurrenceTimeZone`, if named.
pub(super) fn recurrence_zone(master: &Value) -> Option<&str> {
    master
        .get("recurrence")
        .and_then(|r| r.get("range"))
        .and_then(|r| str_of(r, "recurrenceTimeZone"))
}

/// The zones an event's times fall back to, and are shown in, best first: the series'
/// `recurrenceTimeZone`, then the event's original start and end zones.
pub(super) fn zones_of<'a>(v: &'a Value, series: Option<&'a Value>) -> Vec<&'a str> {
    let mut out: Vec<&str> = series.and_then(recurrence_zone).into_iter().collect();
    out.extend(recurrence_zone(v));
    for key in ["originalStartTimeZone", "originalEndTimeZone"] {
        out.extend(str_of(v, key));
    }
    out
}

/// One time of an event: read by [`read_time`], then (a UTC time, as `outlook.timezone="UTC"`
/// returns them) shown as wall clock in the first real zone of `zones`, so a series expands in its
/// own zone across DST. Returns the time and whether it was read as UTC for want of a zone.
pub(super) fn event_time(
    slot: &Value,
    all_day: bool,
    zones: &[&str],
) -> Result<(EventTime, bool), String> {
    let (t, warn) = read_time(slot, all_day, zones)?;
    Ok(match t {
        EventTime::Utc(u) => match zones.iter().find_map(|z| real_zone(z)) {
            Some(tz) => (
                EventTime::Zoned {
                    local: crate::domain::tz::utc_to_local(&tz, u),
                    tzid: tz.name().to_string(),
                    zone: Some(Zone::Iana(tz)),
                },
                warn,
            ),
            None => (EventTime::Utc(u), warn),
        },
        t => (t, warn),
    })
}

pub(super) fn is_all_day(v: &Value) -> bool {
    v.get("isAllDay").and_then(Value::as_bool).unwrap_or(false)
}

fn is_cancelled(v: &Value) -> bool {
    v.get("isCancelled")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// An original start (a UTC instant) in the form of the master's start: wall clock in its zone,
/// or for an all-day series the day. A UTC midnight is that day; another instant is the day it
/// falls on in the series' `zone` (Graph may key all-day series either way).
pub(super) fn in_master_form(
    instant: DateTime<Utc>,
    master_start: &EventTime,
    zone: Option<chrono_tz::Tz>,
) -> EventTime {
    match master_start {
        EventTime::Date(_) => EventTime::Date(match zone {
            Some(tz) if instant.time() != NaiveTime::MIN => {
                crate::domain::tz::utc_to_local(&tz, instant).date()
            }
            _ => instant.date_naive(),
        }),
        EventTime::Zoned {
            tzid,
            zone: Some(zone),
            ..
        } => EventTime::Zoned {
            local: zone.utc_to_local(instant),
            tzid: tzid.clone(),
            zone: Some(zone.clone()),
        },
        EventTime::Floating(_) => EventTime::Floating(instant.naive_utc()),
        _ => EventTime::Utc(instant),
    }
}

/// The zone a series is kept in: its first real zone (see [`zones_of`]).
pub(super) fn series_zone(master: &Value) -> Option<chrono_tz::Tz> {
    zones_of(master, None).into_iter().find_map(real_zone)
}

/// The RRULE of `to_rrule` (its UNTIL is the last day's 23:59:59 in the series' wall clock) as
/// iCalendar wants it beside `start`: a date for an all-day series, else a UTC instant.
fn until_for(rule: &str, start: &EventTime) -> String {
    rule.split(';')
        .map(|part| match part.strip_prefix("UNTIL=") {
            Some(v) => {
                let day =
                    chrono::NaiveDate::parse_from_str(v.get(..8).unwrap_or_default(), "%Y%m%d");
                match (day, start) {
                    (Ok(d), EventTime::Date(_)) => format!("UNTIL={}", d.format("%Y%m%d")),
                    (
                        Ok(d),
                        EventTime::Zoned {
                            zone: Some(zone), ..
                        },
                    ) => {
                        let last = d.and_hms_opt(23, 59, 59).unwrap_or_default();
                        let utc = zone.local_to_utc(last);
                        format!("UNTIL={}", utc.format("%Y%m%dT%H%M%SZ"))
                    }
                    _ => part.to_string(),
                }
            }
            None => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// Writes the group as a VCALENDAR. `with_zones` adds a VTIMEZONE for each zone used (for export;
/// the reader knows IANA zones by name).
pub(super) fn group_text(list: &[Value], cancelled: &[String], with_zones: bool) -> GroupText {
    let r = roles(list);
    let mut out = GroupText::default();
    for (i, why) in &r.rejected {
        out.errors.push(at(*i, why.clone()));
    }
    let Some(uid) = uid_of(list, &r) else {
        out.errors.push(at(
            r.master.unwrap_or_default(),
            "no event of the group has an iCalUId, transactionId or id".into(),
        ));
        return out;
    };
    let master = r.master.map(|i| (i, &list[i]));
    let mut master_start = None;
    let zone = master.and_then(|(_, m)| series_zone(m));
    let mut blocks: Vec<(usize, Vec<String>)> = Vec::new();
    let mut times: Vec<EventTime> = Vec::new();
    if let Some((i, m)) = master {
        match event_lines(m, None, &uid, None) {
            Ok(mut ev) => {
                if let Some(rec) = m.get("recurrence").filter(|r| !r.is_null()) {
                    match to_rrule(rec) {
                        Ok(rule) => {
                            ev.lines
                                .push(format!("RRULE:{}", until_for(&one_line(&rule), &ev.start)));
                            let exdates = cancelled
                                .iter()
                                .filter_map(|c| read_instant(c))
                                .chain(r.exceptions.iter().filter_map(|&x| {
                                    let e = &list[x];
                                    is_cancelled(e)
                                        .then(|| str_of(e, "originalStart").and_then(read_instant))
                                        .flatten()
                                }))
                                .take(MAX_EVENTS);
                            for t in exdates {
                                ev.lines.push(time_line(
                                    "EXDATE",
                                    Vec::new(),
                                    &in_master_form(t, &ev.start, zone),
                                ));
                            }
                            master_start = Some(ev.start.clone());
                        }
                        Err(why) => out.errors.push(at(
                            i,
                            format!("the repetition cannot be read ({why}): shown once"),
                        )),
                    }
                }
                for note in ev.notes.drain(..) {
                    out.errors.push(at(i, note));
                }
                times.push(ev.start);
                times.extend(ev.end);
                blocks.push((i, ev.lines));
            }
            Err(why) => out.errors.push(at(i, why)),
        }
    }
    for &x in &r.exceptions {
        let e = &list[x];
        if is_cancelled(e) && master_start.is_some() {
            // An EXDATE of the master above.
            continue;
        }
        let Some(original) = str_of(e, "originalStart").and_then(read_instant) else {
            out.errors.push(at(
                x,
                "an exception without a readable originalStart".into(),
            ));
            continue;
        };
        let rid = match &master_start {
            Some(ms) => in_master_form(original, ms, zone),
            None if is_all_day(e) => in_master_form(
                original,
                &EventTime::Date(original.date_naive()),
                series_zone(e),
            ),
            None => EventTime::Utc(original),
        };
        match event_lines(e, master.map(|(_, m)| m), &uid, Some(&rid)) {
            Ok(mut ev) => {
                for note in ev.notes.drain(..) {
                    out.errors.push(at(x, note));
                }
                times.push(ev.start);
                times.extend(ev.end);
                blocks.push((x, ev.lines));
            }
            Err(why) => out.errors.push(at(x, why)),
        }
    }
    out.write(
        "-//almanac//Microsoft Graph//EN",
        blocks,
        &times,
        with_zones,
    );
    out
}

/// One event's content lines (without BEGIN/END), its start and end, and notes on guesses made.
struct EventLines {
    lines: Vec<String>,
    start: EventTime,
    end: Option<EventTime>,
    notes: Vec<String>,
}

/// What an event object says that the cache shows, read once: the iCalendar lines are written
/// from it, and a single event is read straight from it ([`super::single`]).
pub(super) struct EventFields {
    pub start: EventTime,
    /// The end, when it can be read and is of the start's kind (a date for a date).
    pub end: Option<EventTime>,
    /// Notes on guesses made (a time read as UTC for want of a zone).
    pub notes: Vec<String>,
    /// Subject, location and body: cut to [`MAX_TEXT`], control characters dropped, absent
    /// when blank.
    pub summary: Option<String>,
    pub location: Option<String>,
    pub description: Option<String>,
    pub cancelled: bool,
    /// Minutes before the start of its reminder, when it is on.
    pub reminder: Option<i64>,
}

pub(super) fn event_fields(v: &Value, series: Option<&Value>) -> Result<EventFields, String> {
    let all_day = is_all_day(v);
    let zones = zones_of(v, series);
    let mut notes = Vec::new();
    let (start, warn) = event_time(v.get("start").ok_or("no start")?, all_day, &zones)
        .map_err(|e| format!("the start is not readable: {e}"))?;
    if warn {
        notes.push("the start names no zone that is known: read as UTC".into());
    }
    // Start and end of different kinds mean nothing; the reader's default end applies instead.
    let end = v
        .get("end")
        .and_then(|e| event_time(e, all_day, &zones).ok())
        .map(|(e, _)| e)
        .filter(|e| matches!(e, EventTime::Date(_)) == matches!(start, EventTime::Date(_)));
    let text = |value: Option<&Value>| {
        value
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(clip)
            .filter(|s| !s.is_empty())
    };
    let reminder_on = v
        .get("isReminderOn")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    Ok(EventFields {
        start,
        end,
        notes,
        summary: text(v.get("subject")),
        location: text(v.get("location").and_then(|l| l.get("displayName"))),
        description: text(v.get("body").and_then(|b| b.get("content"))),
        cancelled: is_cancelled(v),
        reminder: v
            .get("reminderMinutesBeforeStart")
            .and_then(Value::as_i64)
            .filter(|m| reminder_on && (0..=60 * 24 * 366).contains(m)),
    })
}

fn event_lines(
    v: &Value,
    series: Option<&Value>,
    uid: &str,
    recurrence_id: Option<&EventTime>,
) -> Result<EventLines, String> {
    let f = event_fields(v, series)?;
    let mut lines = vec![format!("UID:{uid}")];
    if let Some(stamp) = str_of(v, "lastModifiedDateTime").and_then(stamp) {
        lines.push(format!("DTSTAMP:{stamp}"));
        lines.push(format!("LAST-MODIFIED:{stamp}"));
    }
    if let Some(stamp) = str_of(v, "createdDateTime").and_then(stamp) {
        lines.push(format!("CREATED:{stamp}"));
    }
    if let Some(rid) = recurrence_id {
        lines.push(time_line("RECURRENCE-ID", Vec::new(), rid));
    }
    lines.push(time_line("DTSTART", Vec::new(), &f.start));
    if let Some(end) = &f.end {
        lines.push(time_line("DTEND", Vec::new(), end));
    }
    let texts = [
        ("SUMMARY", &f.summary),
        ("LOCATION", &f.location),
        ("DESCRIPTION", &f.description),
    ];
    for (name, text) in texts {
        if let Some(text) = text {
            lines.push(format!("{name}:{}", escape_text(text)));
        }
    }
    if f.cancelled {
        lines.push("STATUS:CANCELLED".into());
    }
    match str_of(v, "showAs").map(str::to_ascii_lowercase).as_deref() {
        Some("free") => lines.push("TRANSP:TRANSPARENT".into()),
        Some("busy" | "oof" | "tentative" | "workingelsewhere") => {
            lines.push("TRANSP:OPAQUE".into())
        }
        _ => {}
    }
    match str_of(v, "sensitivity")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("normal") => lines.push("CLASS:PUBLIC".into()),
        Some("private" | "personal") => lines.push("CLASS:PRIVATE".into()),
        Some("confidential") => lines.push("CLASS:CONFIDENTIAL".into()),
        _ => {}
    }
    lines.extend(people_lines(v, person));
    if let Some(minutes) = f.reminder {
        lines.extend([
            "BEGIN:VALARM".to_string(),
            "ACTION:DISPLAY".into(),
            "DESCRIPTION:Reminder".into(),
            format!("TRIGGER:-PT{minutes}M"),
            "END:VALARM".into(),
        ]);
    }
    Ok(EventLines {
        lines,
        start: f.start,
        end: f.end,
        notes: f.notes,
    })
}

/// An ORGANIZER or ATTENDEE line from a Graph recipient (`{"emailAddress":{"name","address"}}`).
fn person(name: &str, v: &Value) -> Option<String> {
    let email = v.get("emailAddress")?;
    person_line(name, str_of(email, "address")?, str_of(email, "name"), &[])
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

/// A Graph timestamp (`2026-11-20T10:00:00.1234567Z`) as an iCalendar UTC stamp.
fn stamp(text: &str) -> Option<String> {
    read_instant(text).map(|t| t.format("%Y%m%dT%H%M%SZ").to_string())
}
