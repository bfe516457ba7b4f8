//! Events, the calendar object resources ("items") that carry them, and occurrences on a calendar.

use std::sync::Arc;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use chrono_tz::Tz;

use super::ical::{self, Component, Document, ItemError, Property};
use super::time::{EventTime, Nominal, When, ZoneMap, parse_duration, parse_nominal, zone_for};
use super::tz::Zone;
use super::vtimezone::CustomZone;

/// One VEVENT, normalised for queries. The raw text stays with its [`Item`].
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub uid: String,
    /// Set on an override of one instance of a series.
    pub recurrence_id: Option<EventTime>,
    pub summary: String,
    pub location: Option<String>,
    pub description: Option<String>,
    /// `STATUS` as written (`CONFIRMED`, `TENTATIVE`, `CANCELLED`), if any.
    pub status: Option<String>,
    pub start: EventTime,
    /// From DTEND, else DTSTART + DURATION, else RFC 5545's default (one day for a date, zero otherwise).
    pub end: EventTime,
    /// DURATION as written, when the end came from it: a series applies its days as wall-clock days
    /// to every instance (RFC 5545 3.8.5.3), not the length of the first one.
    pub duration: Option<Nominal>,
    /// The RRULE value, kept as written; expansion lives in `recur`.
    pub rrule: Option<String>,
    /// RDATE values: extra instances, each with its own duration when given as a PERIOD.
    pub rdates: Vec<(EventTime, Option<Duration>)>,
    /// EXDATE values: instances removed from the series.
    pub exdates: Vec<EventTime>,
    /// `RECURRENCE-ID;RANGE=THISANDFUTURE`: this override also changes every later instance.
    pub this_and_future: bool,
    /// 1-based line of `BEGIN:VEVENT` in the source it was read from.
    pub line: usize,
    /// Who is invited: each ATTENDEE's name (`CN`) and address, for search.
    pub attendees: Vec<String>,
    /// The VALARMs, in source order (their index keys a reminder).
    pub alarms: Vec<super::alarm::Alarm>,
}

/// A calendar object resource: every component that shares one UID, as CalDAV stores them.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub uid: String,
    /// A complete VCALENDAR holding this item's components (and the time zones they use), as text.
    pub raw: String,
    pub events: Vec<Event>,
}

/// What reading an iCalendar file yields: every good item, and each bad one with its line.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ParsedCalendar {
    pub items: Vec<Item>,
    pub errors: Vec<ItemError>,
    /// `X-WR-CALNAME`, if given.
    pub name: Option<String>,
    /// `X-APPLE-CALENDAR-COLOR` or `COLOR`, if given.
    pub color: Option<String>,
}

/// One appearance of an event on the calendar: what the views and `agenda` show.
#[derive(Debug, Clone, PartialEq)]
pub struct Occurrence {
    /// The cache row of the event.
    pub event_id: i64,
    pub calendar_id: i64,
    pub uid: Arc<str>,
    /// The original start of this instance, for instances of a series.
    pub recurrence_id: Option<When>,
    pub summary: Arc<str>,
    pub location: Arc<str>,
    pub status: Option<Arc<str>>,
    pub start: When,
    pub end: When,
    /// The zone the event was written in, if any.
    pub tzid: Option<Arc<str>>,
    /// A local change to this event waits to be pushed (or is held by a conflict).
    pub pending: bool,
    /// Why this occurrence stands for more than itself: a series that cannot be expanded in the
    /// window (too many instances, a rule counted from too far back) is shown by its first
    /// instance, with the reason ("series truncated: …").
    pub note: Option<Arc<str>>,
}

/// What the detail pane shows beyond an occurrence: read on demand, one event at a time, so the month
/// load stays small.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventDetail {
    pub description: String,
    /// The server's etag for the item, if it came from a server.
    pub etag: Option<String>,
    /// The RRULE of the series, if the event repeats.
    pub rrule: Option<String>,
    /// Where the item lives (a server href, or the local file name).
    pub href: String,
    /// The cache row of the resource the event belongs to.
    pub item_id: i64,
    /// When the server last confirmed the cached etag (Unix seconds).
    pub confirmed_at: Option<i64>,
    /// The local change waiting to be pushed: `create`, `update` or `delete`.
    pub pending_op: Option<String>,
    /// The etag that local change is based on.
    pub pending_base: Option<String>,
    /// Why the last push of that change failed, if it did.
    pub pending_error: Option<String>,
    /// The open conflict that holds the change back.
    pub conflict: Option<i64>,
    /// The resource's text as the view shows it (the local version while one waits).
    pub raw: String,
}

impl Occurrence {
    /// True for all-day occurrences.
    pub fn all_day(&self) -> bool {
        self.start.is_date()
    }

    /// Start and end as wall-clock times in `display`.
    pub fn local_span(&self, display: &Tz) -> (NaiveDateTime, NaiveDateTime) {
        (self.start.local(display), self.end.local(display))
    }

    /// First and last day (inclusive) this occurrence covers in `display`.
    pub fn days(&self, display: &Tz) -> (NaiveDate, NaiveDate) {
        let (start, end) = self.local_span(display);
        days_of(start, end)
    }

    /// True when the occurrence overlaps the local days `[from, to]` in `display`.
    pub fn overlaps_days(&self, from: NaiveDate, to: NaiveDate, display: &Tz) -> bool {
        let (first, last) = self.days(display);
        first <= to && last >= from
    }

    /// True when `STATUS:CANCELLED`.
    pub fn cancelled(&self) -> bool {
        self.status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("CANCELLED"))
    }
}

/// First and last day (inclusive) of a local span. The end is exclusive: an event ending at midnight
/// does not touch the next day.
pub fn days_of(start: NaiveDateTime, end: NaiveDateTime) -> (NaiveDate, NaiveDate) {
    let first = start.date();
    let last = if end > start {
        (end - Duration::seconds(1)).date()
    } else {
        first
    };
    (first, last.max(first))
}

/// Reads an iCalendar stream into items grouped by UID, keeping every good event and reporting the rest.
pub fn read_calendar(src: &str) -> ParsedCalendar {
    // The parser reads past a byte-order mark and counts its spans from after it: so must the
    // slices below, or every item's text is three bytes off.
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let Document { components, errors } = ical::parse(src);
    let mut out = ParsedCalendar {
        errors,
        ..ParsedCalendar::default()
    };
    for cal in components {
        if cal.name != "VCALENDAR" {
            out.errors.push(ItemError {
                line: cal.line,
                message: format!("{} outside of VCALENDAR", cal.name),
            });
            continue;
        }
        read_vcalendar(src, &cal, &mut out);
    }
    out.errors.sort_by_key(|e| e.line);
    if out.items.is_empty()
        && out.errors.is_empty()
        && !src.trim().is_empty()
        && !has_vcalendar(src)
    {
        out.errors.push(ItemError {
            line: 1,
            message: "no BEGIN:VCALENDAR found: this is not an iCalendar file".into(),
        });
    }
    out
}

fn has_vcalendar(src: &str) -> bool {
    src.lines()
        .any(|l| l.trim().eq_ignore_ascii_case("BEGIN:VCALENDAR"))
}

fn read_vcalendar(src: &str, cal: &Component, out: &mut ParsedCalendar) {
    out.name = out
        .name
        .take()
        .or_else(|| cal.property("X-WR-CALNAME").map(|p| p.text()));
    out.color = out.color.take().or_else(|| {
        cal.property("X-APPLE-CALENDAR-COLOR")
            .or_else(|| cal.property("COLOR"))
            .map(|p| p.value.trim().to_string())
    });
    let header: String = cal
        .properties
        .iter()
        .map(|p| &src[p.span.clone()])
        .collect();
    let timezones: Vec<&Component> = cal
        .children
        .iter()
        .filter(|c| c.name == "VTIMEZONE")
        .collect();
    // Custom definitions for TZIDs no database knows by name; a broken one is reported and its
    // events fall back to floating time.
    let mut zones = ZoneMap::new();
    let known_by_name = |c: &Component| {
        c.property("TZID")
            .is_some_and(|p| super::tz::resolve(&p.value).is_some())
    };
    for vtz in timezones.iter().filter(|c| !known_by_name(c)) {
        match CustomZone::from_component(vtz) {
            Ok(z) => {
                zones.insert(z.tzid.clone(), Zone::Custom(std::sync::Arc::new(z)));
            }
            Err(message) => out.errors.push(ItemError {
                line: vtz.line,
                message,
            }),
        }
    }
    let default_zone = cal
        .property("X-WR-TIMEZONE")
        .and_then(|p| zone_for(&p.value, &zones).map(|z| (p.value.trim().to_string(), z)));

    // Group the components by UID, in order of first appearance.
    let mut groups: Vec<(String, Vec<&Component>)> = Vec::new();
    let mut group_of: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for comp in cal.children.iter().filter(|c| c.name != "VTIMEZONE") {
        let uid = match comp.property("UID") {
            Some(p) if !p.value.trim().is_empty() => p.value.trim().to_string(),
            _ if comp.name == "VEVENT" => {
                out.errors.push(ItemError {
                    line: comp.line,
                    message: "VEVENT without UID".into(),
                });
                continue;
            }
            // Components we do not show (VTODO, VJOURNAL, …) still travel with their UID if any.
            _ => continue,
        };
        match group_of.get(&uid) {
            Some(&i) => groups[i].1.push(comp),
            None => {
                group_of.insert(uid.clone(), groups.len());
                groups.push((uid, vec![comp]));
            }
        }
    }

    for (uid, comps) in groups {
        let mut events = Vec::new();
        let mut failed = false;
        for comp in comps.iter().filter(|c| c.name == "VEVENT") {
            match read_event(comp, default_zone.as_ref(), &zones) {
                Ok(ev) => events.push(ev),
                Err((line, message)) => {
                    out.errors.push(ItemError {
                        line,
                        message: format!("VEVENT {uid}: {message}"),
                    });
                    failed = true;
                }
            }
        }
        if failed {
            continue;
        }
        let raw = item_source(src, &header, &timezones, &comps);
        out.items.push(Item { uid, raw, events });
    }
}

/// A self-contained VCALENDAR for one item: the calendar's properties, the zones it uses, its components.
fn item_source(src: &str, header: &str, timezones: &[&Component], comps: &[&Component]) -> String {
    let body: String = comps.iter().map(|c| &src[c.span.clone()]).collect();
    let mut raw = String::with_capacity(body.len() + header.len() + 64);
    raw.push_str("BEGIN:VCALENDAR\r\n");
    raw.push_str(header);
    for zone in timezones {
        let used = zone.property("TZID").is_some_and(|id| {
            body.contains(&format!("TZID={}", id.value))
                || body.contains(&format!("TZID=\"{}\"", id.value))
        });
        if used {
            raw.push_str(&src[zone.span.clone()]);
        }
    }
    raw.push_str(&body);
    if !raw.ends_with('\n') {
        raw.push_str("\r\n");
    }
    raw.push_str("END:VCALENDAR\r\n");
    raw
}

/// Why a VEVENT cannot be read, at the line of the property that says so (the component's own
/// line when a property is missing).
type Unreadable = (usize, String);

/// Turns a property's reading error into one that names its line.
fn at(p: &Property) -> impl Fn(String) -> Unreadable + '_ {
    move |message| (p.line, message)
}

fn read_event(
    comp: &Component,
    default_zone: Option<&(String, Zone)>,
    zones: &ZoneMap,
) -> Result<Event, Unreadable> {
    let uid = comp
        .property("UID")
        .map(|p| p.value.trim().to_string())
        .unwrap_or_default();
    let in_default_zone = |t: EventTime| match (t, default_zone) {
        (EventTime::Floating(local), Some((tzid, zone))) => EventTime::Zoned {
            local,
            tzid: tzid.clone(),
            zone: Some(zone.clone()),
        },
        (t, _) => t,
    };
    let start = match comp.property("DTSTART") {
        Some(p) => EventTime::from_property_in(p, zones).map_err(at(p))?,
        None => return Err((comp.line, "no DTSTART".into())),
    };
    let start = in_default_zone(start);
    // Google exports a series with a UTC DTSTART and means it in the calendar's X-WR-TIMEZONE: its
    // instances keep their wall-clock time there across DST, as Google shows them.
    let repeats = comp.property("RRULE").is_some() || comp.property("RDATE").is_some();
    let start = match (start, default_zone) {
        (EventTime::Utc(utc), Some((tzid, zone)))
            if repeats && comp.property("RECURRENCE-ID").is_none() =>
        {
            EventTime::Zoned {
                local: zone.utc_to_local(utc),
                tzid: tzid.clone(),
                zone: Some(zone.clone()),
            }
        }
        (start, _) => start,
    };
    let duration = match (comp.property("DTEND"), comp.property("DURATION")) {
        (None, Some(p)) => Some(parse_nominal(&p.value).ok_or_else(|| {
            (
                p.line,
                format!("DURATION value '{}' is not a duration", p.value),
            )
        })?),
        _ => None,
    };
    let end = match (comp.property("DTEND"), duration) {
        (Some(p), _) => EventTime::from_property_in(p, zones)
            .map(in_default_zone)
            .map_err(at(p))?,
        (None, Some(d)) => start.after(d),
        (None, None) => default_end(&start),
    };
    let end = sane_end(&start, end);
    let recurrence_id = comp
        .property("RECURRENCE-ID")
        .map(|p| EventTime::from_property_in(p, zones).map_err(at(p)))
        .transpose()?
        .map(in_default_zone);
    let rrule = comp.property("RRULE").map(|p| p.value.trim().to_string());
    if let (Some(rule), Some(p)) = (&rrule, comp.property("RRULE")) {
        // A series that cannot be shown right is listed as unreadable, not shown in part.
        super::recur::check_rule(rule).map_err(|e| (p.line, e.to_string()))?;
    }
    let text = |name: &str| {
        comp.property(name)
            .map(|p| p.text())
            .filter(|s| !s.is_empty())
    };
    Ok(Event {
        uid,
        recurrence_id,
        summary: text("SUMMARY").unwrap_or_default(),
        location: text("LOCATION"),
        description: text("DESCRIPTION"),
        status: comp
            .property("STATUS")
            .map(|p| p.value.trim().to_ascii_uppercase()),
        start,
        end,
        duration,
        rrule,
        rdates: date_list(comp, "RDATE", zones)?,
        exdates: date_list(comp, "EXDATE", zones)?
            .into_iter()
            .map(|(t, _)| t)
            .collect(),
        this_and_future: comp
            .property("RECURRENCE-ID")
            .and_then(|p| p.param("RANGE"))
            .is_some_and(|r| r.eq_ignore_ascii_case("THISANDFUTURE")),
        line: comp.line,
        attendees: attendees(comp),
        alarms: super::alarm::read_alarms(comp),
    })
}

/// RFC 5545's end for an event with neither DTEND nor DURATION: a day after a date, else the
/// start.
pub(crate) fn default_end(start: &EventTime) -> EventTime {
    match start {
        EventTime::Date(_) => start.shifted(Duration::days(1)),
        other => other.clone(),
    }
}

/// The end as read: an end before the start is nonsense, read as an event of no length rather
/// than lost (a day, for an all-day event).
pub(crate) fn sane_end(start: &EventTime, end: EventTime) -> EventTime {
    match (start, end) {
        (s, e) if e.normalise() < s.normalise() && !matches!(s, EventTime::Date(_)) => s.clone(),
        (EventTime::Date(d), e) if e.normalise() <= When::Date(*d) => {
            EventTime::Date(*d + Duration::days(1))
        }
        (_, e) => e,
    }
}

/// Each ATTENDEE as "Name address" (either part may be missing).
fn attendees(comp: &Component) -> Vec<String> {
    comp.properties_named("ATTENDEE")
        .map(|p| attendee_text(&p.value, p.param("CN")))
        .collect()
}

/// An attendee for search, from an ATTENDEE value (`mailto:…`) and its CN.
pub(crate) fn attendee_text(value: &str, cn: Option<&str>) -> String {
    let value = value.trim();
    let address = value
        .get(..7)
        .filter(|s| s.eq_ignore_ascii_case("mailto:"))
        .map_or(value, |_| &value[7..]);
    match cn {
        Some(cn) if !cn.is_empty() => format!("{cn} {address}"),
        _ => address.to_string(),
    }
}

/// Every value of every `name` property (RDATE, EXDATE): comma lists of DATE, DATE-TIME or PERIOD
/// (`start/end` or `start/duration`), each in the property's own TZID.
fn date_list(
    comp: &Component,
    name: &str,
    zones: &ZoneMap,
) -> Result<Vec<(EventTime, Option<Duration>)>, Unreadable> {
    let mut out = Vec::new();
    for p in comp.properties_named(name) {
        out.extend(dates_of(p, name, zones).map_err(at(p))?);
    }
    Ok(out)
}

/// The values of one RDATE or EXDATE property.
pub(super) fn dates_of(
    p: &Property,
    name: &str,
    zones: &ZoneMap,
) -> Result<Vec<(EventTime, Option<Duration>)>, String> {
    let mut out = Vec::new();
    {
        let is_period = p
            .param("VALUE")
            .is_some_and(|v| v.eq_ignore_ascii_case("PERIOD"));
        for value in p.value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
            let (start_text, rest) = match value.split_once('/') {
                Some((s, r)) => (s, Some(r)),
                None => (value, None),
            };
            let mut single = p.clone();
            single.value = start_text.to_string();
            if is_period {
                single.params.retain(|(k, _)| k != "VALUE");
            }
            let start = EventTime::from_property_in(&single, zones)?;
            let duration = match rest {
                None => None,
                Some(r) if r.starts_with(['P', 'p', '+', '-']) => Some(
                    parse_duration(r)
                        .ok_or_else(|| format!("{name} period '{value}' has a bad duration"))?,
                ),
                Some(r) => {
                    let mut end = p.clone();
                    end.value = r.to_string();
                    end.params.retain(|(k, _)| k != "VALUE");
                    let end = EventTime::from_property_in(&end, zones)?;
                    match (end.normalise(), start.normalise()) {
                        (When::Instant(e), When::Instant(s)) => Some(e - s),
                        (When::Floating(e), When::Floating(s)) => Some(e - s),
                        _ => return Err(format!("{name} period '{value}' mixes kinds of time")),
                    }
                }
            };
            out.push((start, duration));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_byte_order_mark_does_not_shift_the_items_text() {
        let body = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261123T090000Z\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let plain = read_calendar(body);
        let marked = read_calendar(&format!("\u{feff}{body}"));
        assert_eq!(marked.items.len(), 1);
        assert_eq!(marked.items[0].raw, plain.items[0].raw);
        assert!(
            marked.items[0].raw.starts_with("BEGIN:VCALENDAR\r\n"),
            "{}",
            marked.items[0].raw
        );
    }

    use super::*;

    const TWO: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nX-WR-CALNAME:Work\r\n\
BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nEND:VTIMEZONE\r\n\
BEGIN:VEVENT\r\nUID:a\r\nDTSTART;TZID=Europe/Berlin:20261123T090000\r\nDURATION:PT30M\r\nSUMMARY:Standup\\, daily\r\nX-CUSTOM;P=1:kept\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:b\r\nDTSTART;VALUE=DATE:20261124\r\nSUMMARY:Holiday\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

    #[test]
    fn items_carry_their_own_raw_vcalendar_with_the_zones_they_use() {
        let cal = read_calendar(TWO);
        assert!(cal.errors.is_empty(), "{:?}", cal.errors);
        assert_eq!(cal.name.as_deref(), Some("Work"));
        let a = &cal.items[0];
        assert!(a.raw.contains("BEGIN:VTIMEZONE"));
        assert!(a.raw.contains("X-CUSTOM;P=1:kept\r\n"));
        assert!(!a.raw.contains("UID:b"));
        assert!(!cal.items[1].raw.contains("VTIMEZONE"), "b uses no zone");
        // The item's raw text reads back to the same event.
        let again = read_calendar(&a.raw);
        assert_eq!(again.items[0].events, a.events);
    }

    #[test]
    fn duration_and_missing_dtend_give_the_rfc_ends() {
        let cal = read_calendar(TWO);
        let a = &cal.items[0].events[0];
        assert_eq!(a.summary, "Standup, daily");
        assert_eq!(
            a.end.normalise(),
            a.start.normalise().shifted(Duration::minutes(30))
        );
        let b = &cal.items[1].events[0];
        assert_eq!(
            b.end,
            EventTime::Date(NaiveDate::from_ymd_opt(2026, 11, 25).unwrap())
        );
    }

    #[test]
    fn a_bad_event_is_reported_with_its_line_and_the_rest_is_kept() {
        let src = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:ok\nDTSTART:20261123T090000Z\nEND:VEVENT\n\
BEGIN:VEVENT\nUID:bad\nDTSTART:2026-13-45\nEND:VEVENT\nBEGIN:VEVENT\nSUMMARY:no uid\nDTSTART:20261123\nEND:VEVENT\nEND:VCALENDAR\n";
        let cal = read_calendar(src);
        assert_eq!(cal.items.len(), 1);
        assert_eq!(cal.items[0].uid, "ok");
        let lines: Vec<usize> = cal.errors.iter().map(|e| e.line).collect();
        // The bad DTSTART's own line; a missing UID is the component's.
        assert_eq!(lines, vec![8, 10]);
        assert!(
            cal.errors[0].message.contains("DTSTART"),
            "{}",
            cal.errors[0]
        );
    }

    #[test]
    fn floating_times_take_x_wr_timezone() {
        let src = "BEGIN:VCALENDAR\nX-WR-TIMEZONE:America/New_York\nBEGIN:VEVENT\nUID:x\nDTSTART:20261123T090000\nEND:VEVENT\nEND:VCALENDAR\n";
        let ev = &read_calendar(src).items[0].events[0];
        assert_eq!(ev.start.tzid(), Some("America/New_York"));
        assert_eq!(
            ev.start.normalise(),
            When::Instant(
                NaiveDate::from_ymd_opt(2026, 11, 23)
                    .unwrap()
                    .and_hms_opt(14, 0, 0)
                    .unwrap()
                    .and_utc()
            )
        );
    }

    #[test]
    fn overrides_share_the_item_of_their_series() {
        let src = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:s\nDTSTART:20261123T090000Z\nRRULE:FREQ=DAILY\nEND:VEVENT\n\
BEGIN:VEVENT\nUID:s\nRECURRENCE-ID:20261124T090000Z\nDTSTART:20261124T100000Z\nEND:VEVENT\nEND:VCALENDAR\n";
        let cal = read_calendar(src);
        assert_eq!(cal.items.len(), 1);
        assert_eq!(cal.items[0].events.len(), 2);
        assert_eq!(cal.items[0].events[0].rrule.as_deref(), Some("FREQ=DAILY"));
        assert!(cal.items[0].events[1].recurrence_id.is_some());
    }

    #[test]
    fn rdate_exdate_and_this_and_future_are_read_in_every_form() {
        let src = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:s\nDTSTART;TZID=Europe/Berlin:20261123T090000\n\
RRULE:FREQ=WEEKLY\nRDATE;TZID=Europe/Berlin:20261125T100000,20261126T100000\n\
RDATE;VALUE=PERIOD:20261201T080000Z/PT2H,20261202T080000Z/20261202T083000Z\nRDATE;VALUE=DATE:20261224\n\
EXDATE:20261130T080000Z\nEXDATE;TZID=Europe/Berlin:20261207T090000\nEND:VEVENT\n\
BEGIN:VEVENT\nUID:s\nRECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Berlin:20261214T090000\n\
DTSTART;TZID=Europe/Berlin:20261214T100000\nEND:VEVENT\nEND:VCALENDAR\n";
        let cal = read_calendar(src);
        assert!(cal.errors.is_empty(), "{:?}", cal.errors);
        let master = &cal.items[0].events[0];
        assert_eq!(master.rdates.len(), 5);
        assert_eq!(master.rdates[2].1, Some(Duration::hours(2)));
        assert_eq!(master.rdates[3].1, Some(Duration::minutes(30)));
        assert_eq!(
            master.rdates[4].0,
            EventTime::Date(NaiveDate::from_ymd_opt(2026, 12, 24).unwrap())
        );
        assert_eq!(master.exdates.len(), 2);
        assert!(!master.this_and_future);
        assert!(cal.items[0].events[1].this_and_future);
    }

    #[test]
    fn a_secondly_series_is_listed_as_unreadable_with_the_reason() {
        let src = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:s\nDTSTART:20261123T090000Z\nRRULE:FREQ=SECONDLY;COUNT=200000\nEND:VEVENT\n\
BEGIN:VEVENT\nUID:h\nDTSTART:20261123T090000Z\nRRULE:FREQ=SECONDLY;INTERVAL=3600;COUNT=5\nEND:VEVENT\nEND:VCALENDAR\n";
        let cal = read_calendar(src);
        assert_eq!(
            cal.items.len(),
            1,
            "an hourly rule written as SECONDLY is fine"
        );
        assert_eq!(cal.items[0].uid, "h");
        assert_eq!(cal.errors.len(), 1);
        assert_eq!(cal.errors[0].line, 5, "the RRULE's line");
        assert!(
            cal.errors[0].message.contains("repeats every 1 s"),
            "{}",
            cal.errors[0]
        );
    }

    #[test]
    fn text_that_is_not_icalendar_is_an_error_not_an_empty_success() {
        let cal = read_calendar("hello world\n");
        assert!(cal.items.is_empty());
        assert!(!cal.errors.is_empty());
    }
}
