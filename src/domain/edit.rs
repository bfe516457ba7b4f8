//! Local edits written as iCalendar: a new event, a changed event or instance, a removed instance.
//!
//! An edit changes only the properties the person changed. It works on the source text through the
//! parser's byte spans and replaces, inserts or removes whole content lines, so everything else
//! (alarms, attendees, X- properties and parameters, folding, property order, other components,
//! line endings) survives byte for byte.

use std::ops::Range;

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Utc};

use super::event::{Event, read_calendar};
use super::ical::{self, Component, escape_text};
use super::recur::{Series, midnight, until_to_local};
use super::series::SeriesSpec;
use super::time::{EventTime, When};
use super::tz::{self, Zone};
use super::vtimezone_out::vtimezone_named;

pub use super::vtimezone_out::vtimezone_for;

use lines::{
    Lines, content_line, content_span, fold, line_ending, one_line, split_line, time_line,
    time_value,
};

pub(super) mod lines;

/// The fields of a new event.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub summary: String,
    pub start: EventTime,
    pub end: EventTime,
    pub location: Option<String>,
    pub description: Option<String>,
    pub rrule: Option<String>,
}

/// What an edit sets. `None` leaves a field as it is; `Some("")` for location/description removes it;
/// `rrule: Some(None)` stops the repetition.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    pub summary: Option<String>,
    pub start: Option<EventTime>,
    pub end: Option<EventTime>,
    pub location: Option<String>,
    pub description: Option<String>,
    pub rrule: Option<Option<String>>,
}

/// Why an edit cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The resource has no event (or instance) by that name.
    #[error("there is no event {0}")]
    NoSuchEvent(String),
    /// The edit or the text cannot make a valid event; the message says why.
    #[error("{0}")]
    Invalid(String),
}

/// Properties that make a VEVENT repeat; an override of one instance carries none of them.
const REPETITION: [&str; 4] = ["RRULE", "RDATE", "EXDATE", "EXRULE"];

/// A random UUID (version 4) in lowercase text, for the UID of a new event.
///
/// The randomness is std's: each `RandomState` is keyed from the operating system's generator, and
/// SipHash under such a key is unpredictable; a process-wide counter keeps two calls apart.
pub fn new_uid() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let half = |part: u64| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(call);
        h.write_u64(part);
        h.finish().to_be_bytes()
    };
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&half(0));
    b[8..].copy_from_slice(&half(1));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A complete VCALENDAR (CRLF line endings) holding one new event, with a VTIMEZONE for each IANA
/// zone its times are written in.
pub fn new_event(uid: &str, ev: &NewEvent, now: DateTime<Utc>) -> String {
    const EOL: &str = "\r\n";
    let mut out = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//almanac//EN\r\n");
    for zone in zone_definitions(&[&ev.start, &ev.end], &[], EOL) {
        out.push_str(&zone);
    }
    let stamp = stamp(now);
    let mut lines = vec![
        "BEGIN:VEVENT".to_string(),
        format!("UID:{}", one_line(uid)),
        format!("DTSTAMP:{stamp}"),
        format!("CREATED:{stamp}"),
        "SEQUENCE:0".to_string(),
        format!("SUMMARY:{}", escape_text(&ev.summary)),
        time_line("DTSTART", Vec::new(), &ev.start),
        time_line("DTEND", Vec::new(), &ev.end),
    ];
    let text = [("LOCATION", &ev.location), ("DESCRIPTION", &ev.description)];
    for (name, value) in text {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            lines.push(format!("{name}:{}", escape_text(v)));
        }
    }
    if let Some(rule) = ev.rrule.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        lines.push(format!("RRULE:{}", one_line(rule)));
    }
    lines.push("END:VEVENT".to_string());
    for line in lines {
        out.push_str(&fold(&line, EOL));
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

/// Edits the event `uid`. `occurrence: None` edits the master (or the only VEVENT); `Some(original
/// start)` edits just that instance of a recurring event: its override if it has one, else a new
/// override appended after the master (a copy of the master without its repetition, moved to the
/// instance). Bumps SEQUENCE and sets DTSTAMP (and LAST-MODIFIED when present) in the edited VEVENT.
/// Stopping the repetition also removes the overrides of every instance but the first; a zone the
/// new times use and the calendar does not define gets a VTIMEZONE.
pub fn edit_event(
    raw: &str,
    uid: &str,
    occurrence: Option<When>,
    changes: &Changes,
    now: DateTime<Utc>,
) -> Result<String, EditError> {
    let res = Resource::read(raw, uid)?;
    let mut splices = Vec::new();
    match occurrence {
        None => {
            let (comp, ev) = res.whole(uid)?;
            let mut lines = Lines::of(res.src, comp, res.eol);
            apply(
                &mut lines,
                &Times::of(comp, ev),
                changes,
                ev.recurrence_id.is_none(),
            )?;
            touch(&mut lines, now);
            splices.push((comp.span.clone(), lines.text()));
            if matches!(changes.rrule, Some(None)) {
                // Without repetition, overrides of later instances describe instances that no
                // longer exist.
                let first = Some(ev.start.normalise());
                splices.extend(
                    res.overrides()
                        .filter(|(_, o)| {
                            o.recurrence_id.as_ref().map(EventTime::normalise) != first
                        })
                        .map(|(o, _)| (o.span.clone(), String::new())),
                );
            }
        }
        Some(_) if changes.rrule.is_some() => {
            return Err(EditError::Invalid(
                "a single instance cannot repeat: change the repetition of the whole series".into(),
            ));
        }
        Some(instance) => match res.override_for(instance) {
            Some((comp, ev)) => {
                let mut lines = Lines::of(res.src, comp, res.eol);
                apply(&mut lines, &Times::of(comp, ev), changes, false)?;
                touch(&mut lines, now);
                splices.push((comp.span.clone(), lines.text()));
            }
            None => {
                let (master, mev) = res.repeating_master(uid)?;
                res.check_instance(uid, mev, instance)?;
                let (mut lines, times) = new_override(res.src, master, mev, instance, res.eol);
                apply(&mut lines, &times, changes, false)?;
                touch(&mut lines, now);
                splices.push(res.append_after(master, lines.text()));
            }
        },
    }
    splices.extend(res.zone_splices(changes));
    Ok(res.write(splices))
}

/// An override of one instance, before the person's changes: a copy of the master without its
/// repetition, with RECURRENCE-ID in the form of the master's DTSTART and its times moved to the
/// instance. Returns its lines and its times.
fn new_override(
    src: &str,
    master: &Component,
    mev: &Event,
    instance: When,
    eol: &'static str,
) -> (Lines, Times) {
    let rid = in_form_of(instance, &mev.start);
    let shift = wall_clock(&rid) - wall_clock(&mev.start);
    let mut lines = Lines::of(src, master, eol);
    for name in REPETITION {
        lines.remove(name);
    }
    let start_params = lines.params("DTSTART");
    let value = time_value(&rid);
    lines.insert_after(
        &["UID"],
        &content_line("RECURRENCE-ID", &start_params, &value),
    );
    lines.set("DTSTART", &content_line("DTSTART", &start_params, &value));
    let mut times = Times::of(master, mev);
    times.start = rid;
    times.end = mev.end.shifted(shift);
    if times.has_dtend {
        let end_params = lines.params("DTEND");
        let end_line = content_line("DTEND", &end_params, &time_value(&times.end));
        lines.set("DTEND", &end_line);
    }
    (lines, times)
}

/// Removes one instance of a recurring event: an EXDATE on the master in DTSTART's form, and the
/// instance's override if it has one. Bumps SEQUENCE and DTSTAMP of the master.
pub fn delete_occurrence(
    raw: &str,
    uid: &str,
    occurrence: When,
    now: DateTime<Utc>,
) -> Result<String, EditError> {
    let res = Resource::read(raw, uid)?;
    let (master, mev) = res.repeating_master(uid)?;
    let mut splices: Vec<(Range<usize>, String)> = res
        .overrides()
        .filter(|(_, e)| e.recurrence_id.as_ref().map(EventTime::normalise) == Some(occurrence))
        .map(|(c, _)| (c.span.clone(), String::new()))
        .collect();
    if splices.is_empty() {
        res.check_instance(uid, mev, occurrence)?;
    }
    let mut lines = Lines::of(res.src, master, res.eol);
    let exdate = content_line(
        "EXDATE",
        &lines.params("DTSTART"),
        &time_value(&in_form_of(occurrence, &mev.start)),
    );
    lines.insert_after(&REPETITION, &exdate);
    touch(&mut lines, now);
    splices.push((master.span.clone(), lines.text()));
    Ok(res.write(splices))
}

/// The same resource with the UID of each of its components replaced (for "keep both" of a
/// conflict: the local copy becomes a new event). Sub-components such as alarms keep their own UIDs.
pub fn with_uid(raw: &str, new_uid: &str) -> String {
    let src = raw.strip_prefix('\u{feff}').unwrap_or(raw);
    let eol = line_ending(src);
    let doc = ical::parse(src);
    let mut splices = Vec::new();
    for cal in doc.components.iter().filter(|c| c.name == "VCALENDAR") {
        for p in cal.children.iter().flat_map(|c| c.properties_named("UID")) {
            let line = &src[content_span(src, &p.span)];
            let params = split_line(line).0;
            let text = content_line("UID", &params, &one_line(new_uid));
            splices.push((content_span(src, &p.span), fold(&text, eol)));
        }
    }
    splice(&raw[..raw.len() - src.len()], src, splices)
}

/// Checks a whole resource typed by a person: it reads without errors, holds at least one VEVENT,
/// all its VEVENTs share one UID, and their times and repetition rules are readable. Returns the UID.
pub fn validate(raw: &str) -> Result<String, EditError> {
    let cal = read_calendar(raw);
    if let Some(first) = cal.errors.first() {
        let more = match cal.errors.len() {
            1 => String::new(),
            n => format!(" (and {} more problems)", n - 1),
        };
        return Err(EditError::Invalid(format!("{first}{more}")));
    }
    let with_events: Vec<_> = cal.items.iter().filter(|i| !i.events.is_empty()).collect();
    let uid = match with_events.as_slice() {
        [] => return Err(EditError::Invalid("there is no VEVENT".into())),
        [one] => one.uid.clone(),
        more => {
            let uids: Vec<&str> = more.iter().map(|i| i.uid.as_str()).collect();
            return Err(EditError::Invalid(format!(
                "one event at a time: these VEVENTs have different UIDs: {}",
                uids.join(", ")
            )));
        }
    };
    let events = &with_events[0].events;
    let overrides: Vec<&Event> = events
        .iter()
        .filter(|e| e.recurrence_id.is_some())
        .collect();
    for ev in events {
        if let Some(spec) = SeriesSpec::from_events(ev, &overrides) {
            let day = wall_clock(&ev.start).date();
            spec.instances(day, day)
                .map_err(|e| EditError::Invalid(format!("line {}: {e}", ev.line)))?;
        }
    }
    Ok(uid)
}

/// A resource read for editing: its text (without a byte-order mark) and the VEVENTs of one UID,
/// each with its reading.
struct Resource<'a> {
    bom: &'a str,
    src: &'a str,
    eol: &'static str,
    calendar: Component,
    events: Vec<(Component, Event)>,
}

impl<'a> Resource<'a> {
    fn read(raw: &'a str, uid: &str) -> Result<Resource<'a>, EditError> {
        // The parser reads past a byte-order mark, so its spans count from after it.
        let src = raw.strip_prefix('\u{feff}').unwrap_or(raw);
        let is_ours = |c: &Component| {
            c.name == "VEVENT" && c.property("UID").is_some_and(|p| p.value.trim() == uid)
        };
        let Some(calendar) = ical::parse(src)
            .components
            .into_iter()
            .find(|c| c.name == "VCALENDAR" && c.children.iter().any(is_ours))
        else {
            return Err(EditError::NoSuchEvent(uid.to_string()));
        };
        let parsed = read_calendar(src);
        let item = parsed.items.iter().find(|i| i.uid == uid);
        let mut events = Vec::new();
        for comp in calendar.children.iter().filter(|c| is_ours(c)) {
            match item.and_then(|i| i.events.iter().find(|e| e.line == comp.line)) {
                Some(ev) => events.push((comp.clone(), ev.clone())),
                None => {
                    let lines: Vec<usize> = calendar
                        .children
                        .iter()
                        .filter(|c| is_ours(c))
                        .map(|c| c.line)
                        .collect();
                    let why = parsed.errors.iter().find(|e| lines.contains(&e.line));
                    return Err(EditError::Invalid(why.map_or_else(
                        || format!("line {}: event {uid} cannot be read", comp.line),
                        ToString::to_string,
                    )));
                }
            }
        }
        Ok(Resource {
            bom: &raw[..raw.len() - src.len()],
            src,
            eol: line_ending(src),
            calendar,
            events,
        })
    }

    /// The event an edit of the whole series means: the master, or the only VEVENT.
    fn whole(&self, uid: &str) -> Result<&(Component, Event), EditError> {
        match (self.master(), self.events.as_slice()) {
            (Some(m), _) => Ok(m),
            (None, [only]) => Ok(only),
            (None, _) => Err(EditError::Invalid(format!(
                "event {uid} has only overrides of single instances: pick one of them"
            ))),
        }
    }

    fn master(&self) -> Option<&(Component, Event)> {
        self.events.iter().find(|(_, e)| e.recurrence_id.is_none())
    }

    fn overrides(&self) -> impl Iterator<Item = &(Component, Event)> {
        self.events
            .iter()
            .filter(|(_, e)| e.recurrence_id.is_some())
    }

    fn override_for(&self, instance: When) -> Option<&(Component, Event)> {
        self.overrides()
            .find(|(_, e)| e.recurrence_id.as_ref().map(EventTime::normalise) == Some(instance))
    }

    fn repeating_master(&self, uid: &str) -> Result<&(Component, Event), EditError> {
        self.master()
            .filter(|(_, e)| e.rrule.is_some() || !e.rdates.is_empty())
            .ok_or_else(|| EditError::Invalid(format!("event {uid} does not repeat")))
    }

    /// Fails unless `instance` is the original start of an instance of the series.
    fn check_instance(&self, uid: &str, master: &Event, instance: When) -> Result<(), EditError> {
        let overrides: Vec<&Event> = self.overrides().map(|(_, e)| e).collect();
        if is_instance(master, &overrides, instance)? {
            Ok(())
        } else {
            Err(EditError::NoSuchEvent(format!(
                "{uid} on {}",
                describe(instance)
            )))
        }
    }

    /// VTIMEZONE blocks for zones the changes write that the calendar does not define yet, placed
    /// before its first other component.
    fn zone_splices(&self, changes: &Changes) -> Vec<(Range<usize>, String)> {
        let defined: Vec<&str> = self
            .calendar
            .children
            .iter()
            .filter(|c| c.name == "VTIMEZONE")
            .filter_map(|c| c.property("TZID").map(|p| p.value.trim()))
            .collect();
        let times: Vec<&EventTime> = changes.start.iter().chain(&changes.end).collect();
        let at = self
            .calendar
            .children
            .iter()
            .find(|c| c.name != "VTIMEZONE")
            .map_or(self.calendar.span.start, |c| c.span.start);
        zone_definitions(&times, &defined, self.eol)
            .into_iter()
            .map(|text| (at..at, text))
            .collect()
    }

    /// An insertion of a new component's `text` right after `comp`.
    fn append_after(&self, comp: &Component, mut text: String) -> (Range<usize>, String) {
        if !text.ends_with('\n') {
            text.push_str(self.eol);
        }
        // A file that ends without a line ending after `comp` gets one before the new component.
        if !self.src[..comp.span.end].ends_with('\n') {
            text.insert_str(0, self.eol);
        }
        (comp.span.end..comp.span.end, text)
    }

    fn write(&self, splices: Vec<(Range<usize>, String)>) -> String {
        splice(self.bom, self.src, splices)
    }
}

/// `src` with each range replaced by its text (ranges do not overlap; an insertion at the start
/// of a replaced range goes before it), after `prefix`.
fn splice(prefix: &str, src: &str, mut splices: Vec<(Range<usize>, String)>) -> String {
    splices.sort_by_key(|(r, _)| (r.start, r.end));
    let mut out = String::with_capacity(prefix.len() + src.len() + 256);
    out.push_str(prefix);
    let mut at = 0;
    for (range, text) in splices {
        out.push_str(&src[at..range.start]);
        out.push_str(&text);
        at = range.end;
    }
    out.push_str(&src[at..]);
    out
}

/// An event's times as they stand before an edit.
struct Times {
    start: EventTime,
    end: EventTime,
    has_dtend: bool,
    has_duration: bool,
}

impl Times {
    fn of(comp: &Component, ev: &Event) -> Times {
        Times {
            start: ev.start.clone(),
            end: ev.end.clone(),
            has_dtend: comp.property("DTEND").is_some(),
            has_duration: comp.property("DURATION").is_some(),
        }
    }
}

/// Writes the person's changes into one VEVENT's lines.
fn apply(
    lines: &mut Lines,
    before: &Times,
    changes: &Changes,
    may_repeat: bool,
) -> Result<(), EditError> {
    if let Some(summary) = &changes.summary {
        lines.set_text("SUMMARY", summary);
    }
    for (name, value) in [
        ("LOCATION", &changes.location),
        ("DESCRIPTION", &changes.description),
    ] {
        match value.as_deref() {
            Some("") => lines.remove(name),
            Some(v) => lines.set_text(name, v),
            None => {}
        }
    }
    match &changes.rrule {
        Some(_) if !may_repeat => {
            return Err(EditError::Invalid(
                "an override of one instance cannot repeat".into(),
            ));
        }
        Some(None) => {
            for name in REPETITION {
                lines.remove(name);
            }
        }
        Some(Some(rule)) => {
            let rule = one_line(rule.trim());
            check_rule(&rule, changes.start.as_ref().unwrap_or(&before.start))?;
            let params = lines.params("RRULE");
            lines.set("RRULE", &content_line("RRULE", &params, &rule));
        }
        None => {}
    }
    let start = changes.start.as_ref().unwrap_or(&before.start);
    let end = match (&changes.start, &changes.end) {
        (_, Some(e)) => Some(e.clone()),
        (Some(s), None) => Some(keep_duration(before, s)),
        (None, None) => None,
    };
    if let Some(end) = &end {
        check_order(start, end)?;
    }
    if let Some(s) = &changes.start {
        lines.set_time("DTSTART", s);
    }
    let kind_changed = changes
        .start
        .as_ref()
        .is_some_and(|s| is_date(s) != is_date(&before.start));
    match end {
        Some(e) if before.has_dtend => lines.set_time("DTEND", &e),
        // A duration moves with the start; an end the person set replaces it.
        Some(e) if before.has_duration && changes.end.is_some() => {
            lines.replace_with_time("DURATION", "DTEND", &e);
        }
        Some(e) if !before.has_duration && (changes.end.is_some() || kind_changed) => {
            lines.insert_after(&["DTSTART"], &time_line("DTEND", Vec::new(), &e));
        }
        _ => {}
    }
    Ok(())
}

/// Bumps SEQUENCE (adding it when missing) and stamps DTSTAMP and any LAST-MODIFIED with `now`.
fn touch(lines: &mut Lines, now: DateTime<Utc>) {
    let sequence = lines
        .value("SEQUENCE")
        .and_then(|v| v.trim().parse::<u32>().ok())
        .map_or(1, |n| n.saturating_add(1));
    let params = lines.params("SEQUENCE");
    lines.set(
        "SEQUENCE",
        &content_line("SEQUENCE", &params, &sequence.to_string()),
    );
    let stamp = stamp(now);
    let params = lines.params("DTSTAMP");
    lines.set("DTSTAMP", &content_line("DTSTAMP", &params, &stamp));
    if lines.value("LAST-MODIFIED").is_some() {
        let params = lines.params("LAST-MODIFIED");
        lines.set(
            "LAST-MODIFIED",
            &content_line("LAST-MODIFIED", &params, &stamp),
        );
    }
}

/// The end that keeps the event's length when only its start moves. An all-day end is rounded up
/// to whole days (at least one).
fn keep_duration(before: &Times, new_start: &EventTime) -> EventTime {
    end_keeping_length(&before.start, &before.end, new_start)
}

/// The end of an event that ran from `start` to `end` once its start moves to `new_start`: the
/// same length, rounded up to whole days (at least one) for an all-day start.
pub(super) fn end_keeping_length(
    start: &EventTime,
    end: &EventTime,
    new_start: &EventTime,
) -> EventTime {
    let secs = match (start.normalise(), end.normalise()) {
        (When::Date(s), When::Date(e)) => (e - s).num_seconds(),
        (When::Instant(s), When::Instant(e)) => (e - s).num_seconds(),
        (When::Floating(s), When::Floating(e)) => (e - s).num_seconds(),
        _ => wall_clock(end)
            .signed_duration_since(wall_clock(start))
            .num_seconds(),
    }
    .max(0);
    match new_start {
        EventTime::Date(_) => new_start.shifted(Duration::days(((secs + 86_399) / 86_400).max(1))),
        _ => new_start.shifted(Duration::seconds(secs)),
    }
}

pub(super) fn check_order(start: &EventTime, end: &EventTime) -> Result<(), EditError> {
    if is_date(start) != is_date(end) {
        return Err(EditError::Invalid(
            "start and end must both be all-day or both have a time of day".into(),
        ));
    }
    let backwards = match (start.normalise(), end.normalise()) {
        (When::Date(s), When::Date(e)) => e <= s,
        (When::Instant(s), When::Instant(e)) => e < s,
        (When::Floating(s), When::Floating(e)) => e < s,
        _ => false,
    };
    if backwards {
        return Err(EditError::Invalid("the end is before the start".into()));
    }
    Ok(())
}

/// Fails when `rule` is not a repetition rule the reader can expand.
pub(super) fn check_rule(rule: &str, start: &EventTime) -> Result<(), EditError> {
    let from = wall_clock(start);
    let series = Series {
        start: from,
        all_day: is_date(start),
        // Expansion wants UNTIL in wall-clock time; which clock does not matter for checking.
        rrule: Some(until_to_local(rule, |u| u.naive_utc())),
        rdates: Vec::new(),
        exdates: Vec::new(),
    };
    series
        .starts_between(from, from + Duration::days(1))
        .map(|_| ())
        .map_err(|e| EditError::Invalid(e.to_string()))
}

fn is_date(t: &EventTime) -> bool {
    matches!(t, EventTime::Date(_))
}

/// The wall-clock time a time is written with (midnight for a date).
pub(super) fn wall_clock(t: &EventTime) -> NaiveDateTime {
    match t {
        EventTime::Date(d) => midnight(*d),
        EventTime::Utc(u) => u.naive_utc(),
        EventTime::Zoned { local, .. } | EventTime::Floating(local) => *local,
    }
}

/// An instance's original start written the way `form` (the master's DTSTART) writes times. Zones
/// that are not known are read as UTC-equivalent, as [`EventTime::normalise`] reads them.
pub(super) fn in_form_of(instance: When, form: &EventTime) -> EventTime {
    let naive = match instance {
        When::Date(d) => midnight(d),
        When::Instant(t) => t.naive_utc(),
        When::Floating(t) => t,
    };
    match form {
        EventTime::Date(_) => EventTime::Date(naive.date()),
        EventTime::Utc(_) => EventTime::Utc(naive.and_utc()),
        EventTime::Zoned { tzid, zone, .. } => EventTime::Zoned {
            local: match (instance, zone) {
                (When::Instant(t), Some(z)) => z.utc_to_local(t),
                _ => naive,
            },
            tzid: tzid.clone(),
            zone: zone.clone(),
        },
        EventTime::Floating(_) => EventTime::Floating(naive),
    }
}

/// Fails unless `when` is the original start of an instance of the series among `events` that is
/// still there (not cancelled): the check before a JSON remote's occurrence is edited or deleted.
pub(super) fn check_instance_of(events: &[Event], when: When) -> Result<(), EditError> {
    let master = events
        .iter()
        .find(|e| e.recurrence_id.is_none() && (e.rrule.is_some() || !e.rdates.is_empty()))
        .ok_or_else(|| EditError::Invalid("the event does not repeat".into()))?;
    let overrides: Vec<&Event> = events
        .iter()
        .filter(|e| e.recurrence_id.is_some())
        .collect();
    if is_instance(master, &overrides, when)? {
        Ok(())
    } else {
        Err(EditError::NoSuchEvent(describe(when)))
    }
}

/// Whether `when` is the original start of an instance of `master`'s series, with `overrides`,
/// that is still there (not cancelled).
fn is_instance(master: &Event, overrides: &[&Event], when: When) -> Result<bool, EditError> {
    let day = match when {
        When::Date(d) => d,
        When::Instant(t) => t.date_naive(),
        When::Floating(t) => t.date(),
    };
    Ok(SeriesSpec::from_events(master, overrides)
        .map(|spec| spec.instances(day, day))
        .transpose()
        .map_err(|e| EditError::Invalid(e.to_string()))?
        .is_some_and(|list| list.iter().any(|i| i.recurrence_id == when)))
}

pub(super) fn describe(w: When) -> String {
    match w {
        When::Date(d) => d.format("%Y-%m-%d").to_string(),
        When::Instant(t) => t.format("%Y-%m-%d %H:%M UTC").to_string(),
        When::Floating(t) => t.format("%Y-%m-%d %H:%M").to_string(),
    }
}

/// VTIMEZONE blocks (with line ending `eol`) for the IANA zones `times` are written in, each TZID
/// once, skipping those `defined` already.
pub(super) fn zone_definitions(times: &[&EventTime], defined: &[&str], eol: &str) -> Vec<String> {
    let mut done: Vec<&str> = defined.to_vec();
    let mut out = Vec::new();
    for t in times {
        let EventTime::Zoned { local, tzid, zone } = t else {
            continue;
        };
        let iana = match zone {
            Some(Zone::Iana(tz)) => Some(*tz),
            _ => tz::resolve(tzid),
        };
        if let Some(tz) = iana.filter(|_| !done.contains(&tzid.trim())) {
            done.push(tzid.trim());
            out.push(vtimezone_named(tz, tzid.trim(), local.year()).replace("\r\n", eol));
        }
    }
    out
}

/// `20261123T090000Z`.
fn stamp(now: DateTime<Utc>) -> String {
    now.format("%Y%m%dT%H%M%SZ").to_string()
}

#[cfg(test)]
mod tests;
