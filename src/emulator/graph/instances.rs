//! Series on the server side: a master's occurrences in a window, expanded by the crate's own
//! engine (`domain::recur::Series`) from the RRULE `domain::graph::recurrence::to_rrule` maps
//! the `patternedRecurrence` to (PROTOCOLS.md §3 "patternedRecurrence ↔ RRULE"), in the series'
//! wall-clock frame (`recurrenceTimeZone`, else the start's zone); and occurrence ids, which name
//! master and original start.

use chrono::{Duration, NaiveDateTime};
use chrono_tz::Tz;
use serde_json::{Map, Value};

use super::super::google::sha256::{base64url, base64url_decode};
use crate::domain::graph::recurrence::to_rrule;
use crate::domain::graph::time::parse_date_time;
use crate::domain::recur::Series;
use crate::domain::tz;

/// A zone name as Graph writes it (Windows, IANA or `UTC`); `None` for a custom or empty one
/// (PROTOCOLS.md §3 Times "`tzone://Microsoft/Custom` or empty").
pub(crate) fn zone(name: &str) -> Option<Tz> {
    let name = name.trim();
    if name.is_empty() || name.eq_ignore_ascii_case("tzone://Microsoft/Custom") {
        return None;
    }
    if name.eq_ignore_ascii_case("UTC") {
        return Some(chrono_tz::UTC);
    }
    tz::resolve(name)
}

pub(crate) fn is_all_day(json: &Map<String, Value>) -> bool {
    json.get("isAllDay").and_then(Value::as_bool) == Some(true)
}

/// The zone an item's times are read in: `timeZone`, then `originalStartTimeZone`, else UTC.
fn time_zone(json: &Map<String, Value>, time: &Value) -> Tz {
    let named = time.get("timeZone").and_then(Value::as_str).unwrap_or("");
    let fallback = json
        .get("originalStartTimeZone")
        .and_then(Value::as_str)
        .unwrap_or("");
    zone(named)
        .or_else(|| zone(fallback))
        .unwrap_or(chrono_tz::UTC)
}

/// The instant of `start` or `end` (Unix seconds); all-day: the date at UTC midnight
/// (PROTOCOLS.md §3 [obs] "All-day events … take their dates, never convert").
pub(crate) fn instant(json: &Map<String, Value>, key: &str) -> Option<i64> {
    let time = json.get(key)?;
    let local = parse_date_time(time.get("dateTime")?.as_str()?)?;
    if is_all_day(json) {
        return Some(local.date().and_hms_opt(0, 0, 0)?.and_utc().timestamp());
    }
    Some(tz::local_to_utc(&time_zone(json, time), local).timestamp())
}

/// `[start, end)` of a single event or exception.
pub(crate) fn bounds(json: &Map<String, Value>) -> Option<(i64, i64)> {
    let start = instant(json, "start")?;
    let end = instant(json, "end").unwrap_or(start).max(start);
    Some((start, end))
}

/// Whether `[start, end)` overlaps the window `[from, to)` (an instant event: starts in it).
pub(crate) fn overlaps(start: i64, end: i64, from: i64, to: i64) -> bool {
    if end == start {
        return start >= from && start < to;
    }
    start < to && end > from
}

/// The wall-clock frame of a series: its zone (UTC for all-day) and whether it is all-day.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame {
    pub zone: Tz,
    pub all_day: bool,
}

impl Frame {
    pub(crate) fn of(master: &Map<String, Value>) -> Frame {
        let all_day = is_all_day(master);
        let recurrence_zone = master
            .get("recurrence")
            .and_then(|r| r.get("range"))
            .and_then(|r| r.get("recurrenceTimeZone"))
            .and_then(Value::as_str)
            .and_then(zone);
        let start_zone = master.get("start").map(|t| time_zone(master, t));
        let zone = match (all_day, recurrence_zone, start_zone) {
            (true, _, _) => chrono_tz::UTC,
            (false, Some(z), _) | (false, None, Some(z)) => z,
            (false, None, None) => chrono_tz::UTC,
        };
        Frame { zone, all_day }
    }

    pub(crate) fn local(&self, unix: i64) -> NaiveDateTime {
        let t = chrono::DateTime::from_timestamp(unix, 0).unwrap_or_default();
        tz::utc_to_local(&self.zone, t)
    }

    fn utc(&self, local: NaiveDateTime) -> i64 {
        tz::local_to_utc(&self.zone, local).timestamp()
    }
}

/// The occurrences of `master` overlapping `[from, to)`: (original start, end), in order.
/// Cancelled occurrences and exceptions are the caller's business.
pub(crate) fn occurrences(master: &Map<String, Value>, from: i64, to: i64) -> Vec<(i64, i64)> {
    let (Some(start), Some(recurrence)) = (instant(master, "start"), master.get("recurrence"))
    else {
        return Vec::new();
    };
    let Ok(rule) = to_rrule(recurrence) else {
        return Vec::new();
    };
    let duration = instant(master, "end").map_or(0, |e| (e - start).max(0));
    let frame = Frame::of(master);
    let series = Series {
        start: frame.local(start),
        all_day: frame.all_day,
        rrule: Some(rule),
        rdates: Vec::new(),
        exdates: Vec::new(),
    };
    let day = Duration::days(1);
    let Ok(starts) =
        series.starts_between(frame.local(from - duration) - day, frame.local(to) + day)
    else {
        return Vec::new();
    };
    starts
        .into_iter()
        .map(|local| frame.utc(local))
        .map(|s| (s, s + duration))
        .filter(|(s, e)| overlaps(*s, *e, from, to))
        .collect()
}

/// The occurrence of `master` originally starting at `original_start`, if there is one.
pub(crate) fn occurrence_at(
    master: &Map<String, Value>,
    original_start: i64,
) -> Option<(i64, i64)> {
    occurrences(master, original_start, original_start + 1)
        .into_iter()
        .find(|(s, _)| *s == original_start)
}

const OCCURRENCE_PREFIX: &str = "AAMkOcc";

/// An occurrence's id (also its exception's): opaque, but it names master and original start.
pub(crate) fn occurrence_id(master_id: &str, original_start: i64) -> String {
    format!(
        "{OCCURRENCE_PREFIX}{}",
        base64url(format!("{master_id}\u{1f}{original_start}").as_bytes())
    )
}

/// The master id and original start an occurrence id names.
pub(crate) fn parse_occurrence_id(id: &str) -> Option<(String, i64)> {
    let raw = base64url_decode(id.strip_prefix(OCCURRENCE_PREFIX)?)?;
    let text = String::from_utf8(raw).ok()?;
    let (master, start) = text.split_once('\u{1f}')?;
    Some((master.to_string(), start.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn weekly_series_in_windows_zone_keeps_wall_clock_across_dst() {
        let master = json!({
            "start": {"dateTime": "2026-03-23T09:00:00.0000000", "timeZone": "W. Europe Standard Time"},
            "end": {"dateTime": "2026-03-23T10:00:00.0000000", "timeZone": "W. Europe Standard Time"},
            "recurrence": {
                "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"], "firstDayOfWeek": "sunday"},
                "range": {"type": "numbered", "startDate": "2026-03-23", "numberOfOccurrences": 3,
                          "recurrenceTimeZone": "W. Europe Standard Time"}
            }
        });
        let master = master.as_object().cloned().unwrap_or_default();
        let got = occurrences(&master, 1_772_323_200, 1_777_593_600);
        // 23 March 08:00Z (CET), 30 March and 6 April 07:00Z (CEST).
        assert_eq!(
            got,
            vec![
                (1_774_252_800, 1_774_256_400),
                (1_774_854_000, 1_774_857_600),
                (1_775_458_800, 1_775_462_400)
            ]
        );
        assert!(occurrence_at(&master, 1_774_854_000).is_some());
        assert!(occurrence_at(&master, 1_774_857_600).is_none());
        let id = occurrence_id("AAMkx-_Y", 1_774_854_000);
        assert_eq!(
            parse_occurrence_id(&id),
            Some(("AAMkx-_Y".into(), 1_774_854_000))
        );
    }
}
