//! A Graph series as the cache holds it: the master, its exceptions and the original starts of
//! its cancelled occurrences. Graph lists occurrences, not series, and a deleted occurrence may
//! come with no `@removed` (PROTOCOLS.md §3 "Items, removals, series"), so a series is rebuilt
//! from its master and the instances the server still has in the window: cancelled = the
//! master's expansion − those instances.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::domain::graph::time::{parse_date_time, read_time};
use crate::domain::series::SeriesSpec;

/// All-day instants are dates; Graph may give their original start at the zone's midnight in
/// UTC: anything within this of the date's UTC midnight is the same occurrence.
const ALL_DAY_SLACK: i64 = 14 * 3600;

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// An instant Graph writes with an offset or `Z` (`originalStart`), or a bare dateTime read as
/// UTC.
fn instant(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.timestamp())
        .ok()
        .or_else(|| parse_date_time(s).map(|t| t.and_utc().timestamp()))
}

/// The zones a `tzone://Microsoft/Custom` time of `v` falls back to (PROTOCOLS.md §3 Times:
/// `recurrenceTimeZone`, then `originalStartTimeZone`, `originalEndTimeZone`).
fn fallback_zones(v: &Value) -> Vec<&str> {
    let range = v.get("recurrence").and_then(|r| r.get("range"));
    range
        .and_then(|r| text(r, "recurrenceTimeZone"))
        .into_iter()
        .chain(text(v, "originalStartTimeZone"))
        .chain(text(v, "originalEndTimeZone"))
        .collect()
}

/// When an event object starts (Unix seconds): all-day starts are their date's UTC midnight.
pub fn start_of(v: &Value) -> Option<i64> {
    let all_day = v.get("isAllDay").and_then(Value::as_bool) == Some(true);
    let (t, _) = read_time(v.get("start")?, all_day, &fallback_zones(v)).ok()?;
    Some(t.normalise().key())
}

/// The original start of an occurrence or exception: its `originalStart`, else (a plain
/// occurrence, which is where the series put it) its start.
pub fn original_start(v: &Value) -> Option<i64> {
    text(v, "originalStart")
        .and_then(instant)
        .or_else(|| start_of(v))
}

/// Whether the original start of `v` had to be read as UTC for want of a zone (a skeletal
/// occurrence written in `tzone://Microsoft/Custom` names none): only its series' `/instances`
/// (with `originalStart`) say when it is.
pub fn start_guessed(v: &Value) -> bool {
    if text(v, "originalStart").and_then(instant).is_some() {
        return false;
    }
    let all_day = v.get("isAllDay").and_then(Value::as_bool) == Some(true);
    v.get("start")
        .and_then(|s| read_time(s, all_day, &fallback_zones(v)).ok())
        .is_some_and(|(_, guessed)| guessed)
}

/// The `type` of an event object, lower-case (PROTOCOLS.md §3: compare enum values
/// case-insensitively).
pub fn kind(v: &Value) -> String {
    text(v, "type")
        .unwrap_or("singleInstance")
        .to_ascii_lowercase()
}

/// `YYYY-MM-DDTHH:MM:SSZ`, the form of the item's `cancelled` list.
pub fn utc_text(t: i64) -> String {
    DateTime::<Utc>::from_timestamp(t, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The master's occurrences whose whole span lies in `[from, to)`: their original starts, and
/// whether the series is all-day. Occurrences across an edge are left out: the server's listing
/// of the window may or may not name them, so they are never taken for cancelled.
pub fn expansion(master: &Value, from: i64, to: i64) -> Result<(Vec<i64>, bool), String> {
    let raw = crate::domain::graph::group_text(std::slice::from_ref(master), &[]);
    let parsed = crate::domain::graph::read_group(&raw);
    let event = parsed
        .items
        .first()
        .and_then(|i| i.events.iter().find(|e| e.recurrence_id.is_none()))
        .ok_or_else(|| {
            parsed
                .errors
                .first()
                .map_or("the series master cannot be read".into(), |e| e.to_string())
        })?;
    let all_day = matches!(event.start, crate::domain::time::EventTime::Date(_));
    let Some(spec) = SeriesSpec::from_events(event, &[]) else {
        return Ok((Vec::new(), all_day));
    };
    let day = |t: i64| {
        DateTime::<Utc>::from_timestamp(t, 0)
            .unwrap_or_default()
            .date_naive()
    };
    let instances = spec
        .instances(day(from), day(to))
        .map_err(|e| e.to_string())?;
    Ok((
        instances
            .into_iter()
            .filter(|i| i.start.key() >= from && i.end.key() <= to)
            .map(|i| i.recurrence_id.key())
            .collect(),
        all_day,
    ))
}

/// The original starts in `expected` that no member in `listed` stands for.
pub fn missing(expected: &[i64], all_day: bool, listed: &[i64]) -> Vec<String> {
    let slack = if all_day { ALL_DAY_SLACK } else { 60 };
    let mut listed = listed.to_vec();
    listed.sort_unstable();
    expected
        .iter()
        .filter(|t| {
            let i = listed.partition_point(|l| *l < **t - slack);
            listed.get(i).is_none_or(|l| *l > **t + slack)
        })
        .map(|t| utc_text(*t))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn originals_come_from_original_start_else_start() {
        let exception = json!({"type":"exception","originalStart":"2026-11-23T17:00:00Z",
            "start":{"dateTime":"2026-11-23T19:00:00.0000000","timeZone":"UTC"}});
        let occurrence = json!({"type":"occurrence",
            "start":{"dateTime":"2026-11-30T17:00:00.0000000","timeZone":"UTC"}});
        assert_eq!(original_start(&exception), instant("2026-11-23T17:00:00Z"));
        assert_eq!(original_start(&occurrence), instant("2026-11-30T17:00:00Z"));
        assert_eq!(kind(&json!({"type":"SeriesMaster"})), "seriesmaster");
    }

    #[test]
    fn a_custom_zone_start_is_read_in_the_original_start_zone() {
        let occurrence = json!({"type":"occurrence",
            "start":{"dateTime":"2026-12-07T10:00:00.0000000","timeZone":"tzone://Microsoft/Custom"},
            "originalStartTimeZone":"W. Europe Standard Time"});
        assert_eq!(original_start(&occurrence), instant("2026-12-07T09:00:00Z"));
        assert!(!start_guessed(&occurrence));
        let skeletal = json!({"type":"occurrence",
            "start":{"dateTime":"2026-12-07T10:00:00.0000000","timeZone":"tzone://Microsoft/Custom"}});
        assert!(start_guessed(&skeletal));
    }

    #[test]
    fn missing_occurrences_are_those_no_listed_member_stands_for() {
        let day = 86_400;
        let expected = [10 * day, 11 * day, 12 * day];
        assert_eq!(
            missing(&expected, false, &[10 * day, 12 * day]),
            vec![utc_text(11 * day)]
        );
        // An all-day original start given at the zone's midnight still stands for its date.
        assert!(
            missing(
                &expected,
                true,
                &[10 * day + 8 * 3600, 11 * day - 3600, 12 * day]
            )
            .is_empty()
        );
        assert_eq!(
            missing(&expected, false, &[10 * day + 8 * 3600, 11 * day, 12 * day]).len(),
            1
        );
    }
}
