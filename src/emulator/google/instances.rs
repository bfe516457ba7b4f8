//! Recurrence on the server side: a master's instances in a window, instance ids
//! (`<masterId>_20260105T090000Z`, `_20260105` for all-day), and the virtual instance an instance
//! id names. Expansion is the crate's own (`domain::recur`), in the master's wall-clock frame.
//!
//! Limits: `RRULE`, `RDATE` and `EXDATE` lines are honoured, `EXRULE` is ignored; an unknown
//! `timeZone` makes the series floating at the offset its `start.dateTime` carries (UTC without).

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use crate::domain::recur::{Series, until_to_local};
use crate::domain::time::{parse_date, parse_datetime};
use crate::domain::tz;

/// The wall-clock frame of a series: a named zone, a fixed offset (unknown or missing zone), or
/// all-day dates.
#[derive(Debug, Clone)]
enum Frame {
    Zone(String),
    Fixed(FixedOffset),
    AllDay,
}

impl Frame {
    fn to_local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        match self {
            Frame::Zone(name) => match tz::resolve(name) {
                Some(zone) => tz::utc_to_local(&zone, t),
                None => t.naive_utc(),
            },
            Frame::Fixed(offset) => t.with_timezone(offset).naive_local(),
            Frame::AllDay => t.naive_utc(),
        }
    }

    fn to_utc(&self, local: NaiveDateTime) -> DateTime<Utc> {
        match self {
            Frame::Zone(name) => match tz::resolve(name) {
                Some(zone) => tz::local_to_utc(&zone, local),
                None => local.and_utc(),
            },
            Frame::Fixed(offset) => (local - *offset).and_utc(),
            Frame::AllDay => local.and_utc(),
        }
    }

    /// RFC 3339 with the offset the frame has at `t`.
    fn rfc3339(&self, t: DateTime<Utc>) -> String {
        let shown: DateTime<FixedOffset> = match self {
            Frame::Zone(name) => match tz::resolve(name) {
                Some(zone) => tz::in_zone(&zone, t),
                None => t.fixed_offset(),
            },
            Frame::Fixed(offset) => t.with_timezone(offset),
            Frame::AllDay => t.fixed_offset(),
        };
        shown.to_rfc3339_opts(SecondsFormat::Secs, true)
    }
}

/// A `start`/`end` object read: its instant (all-day: UTC midnight) and its frame.
fn read_time(time: &Value) -> Option<(DateTime<Utc>, Frame)> {
    if let Some(date) = time.get("date").and_then(Value::as_str) {
        let day = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
        return Some((day.and_hms_opt(0, 0, 0)?.and_utc(), Frame::AllDay));
    }
    let text = time.get("dateTime").and_then(Value::as_str)?;
    let zone = time
        .get("timeZone")
        .and_then(Value::as_str)
        .filter(|z| tz::resolve(z).is_some());
    let (utc, offset) = match DateTime::parse_from_rfc3339(text) {
        Ok(t) => (t.with_timezone(&Utc), *t.offset()),
        // [obs] a dateTime without offset: floating; read at UTC.
        Err(_) => {
            let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").ok()?;
            (naive.and_utc(), FixedOffset::east_opt(0)?)
        }
    };
    let frame = match zone {
        Some(z) => Frame::Zone(z.to_string()),
        None => Frame::Fixed(offset),
    };
    Some((utc, frame))
}

/// The instants an event covers, `[start, end)`; all-day in UTC. [obs] all-day `end <= start`
/// reads as one day (PROTOCOLS.md §2 "Times").
pub(crate) fn bounds(event: &Map<String, Value>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let (start, frame) = read_time(event.get("start")?)?;
    let end = event
        .get("end")
        .and_then(read_time)
        .map_or(start, |(e, _)| e);
    let end = match frame {
        Frame::AllDay if end <= start => start + Duration::days(1),
        _ => end.max(start),
    };
    Some((start, end))
}

/// The instance id suffix of an instance starting at `utc` (PROTOCOLS.md §2 "ids look like
/// `<masterId>_20260105T090000Z`"); all-day `20260105`.
fn suffix(utc: DateTime<Utc>, all_day: bool) -> String {
    if all_day {
        utc.format("%Y%m%d").to_string()
    } else {
        utc.format("%Y%m%dT%H%M%SZ").to_string()
    }
}

/// The instant a time object (`{"dateTime"}` or `{"date"}`) names.
pub(crate) fn bounds_of_time(time: &Value) -> Option<(DateTime<Utc>, bool)> {
    let (utc, frame) = read_time(time)?;
    Some((utc, matches!(frame, Frame::AllDay)))
}

/// The suffix an `originalStartTime` names.
pub(crate) fn suffix_of(original_start: &Value) -> Option<String> {
    let (utc, frame) = read_time(original_start)?;
    Some(suffix(utc, matches!(frame, Frame::AllDay)))
}

/// One `EXDATE`/`RDATE` line's values in the series' wall-clock frame. [obs] DATE and DATE-TIME
/// values may be mixed (a DATE in a timed series names that day's instance), zones may be
/// unknown (read floating): parse leniently.
fn date_list(line: &str, frame: &Frame, start: NaiveDateTime) -> Vec<NaiveDateTime> {
    let Some((head, values)) = line.split_once(':') else {
        return Vec::new();
    };
    let tzid = head
        .split(';')
        .find_map(|p| p.strip_prefix("TZID="))
        .map(|z| z.trim_matches('"').to_string());
    values
        .split(',')
        .filter_map(|v| {
            let v = v.trim();
            if let Some(utc) = v.strip_suffix(['Z', 'z']) {
                return parse_datetime(utc).map(|t| frame.to_local(t.and_utc()));
            }
            if let Some(day) = parse_date(v) {
                return Some(day.and_time(start.time()));
            }
            let local = parse_datetime(v)?;
            match tzid.as_deref().and_then(tz::resolve) {
                Some(zone) => Some(frame.to_local(tz::local_to_utc(&zone, local))),
                None => Some(local),
            }
        })
        .collect()
}

/// A master read for expansion.
struct Master {
    series: Series,
    frame: Frame,
    duration: Duration,
}

fn read_master(master: &Map<String, Value>) -> Option<Master> {
    let (start, frame) = read_time(master.get("start")?)?;
    let (_, end) = bounds(master)?;
    let lines: Vec<&str> = master
        .get("recurrence")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let all_day = matches!(frame, Frame::AllDay);
    let rrule = lines
        .iter()
        .find_map(|l| l.strip_prefix("RRULE:"))
        .map(|rule| until_to_local(rule, |t| frame.to_local(t)));
    let local_start = frame.to_local(start);
    let pick = |name: &str| -> Vec<NaiveDateTime> {
        lines
            .iter()
            .filter(|l| l.starts_with(name))
            .flat_map(|l| date_list(l, &frame, local_start))
            .collect()
    };
    Some(Master {
        series: Series {
            start: local_start,
            all_day,
            rrule,
            rdates: pick("RDATE"),
            exdates: pick("EXDATE"),
        },
        duration: end - start,
        frame,
    })
}

/// Instances keyed by their id suffix, in start order.
pub(crate) type Instances = Vec<(String, Map<String, Value>)>;

/// The instances of `master` starting in `[from, to)`, as Google serves them (`id`,
/// `recurringEventId`, `originalStartTime`, shifted `start`/`end`, no `recurrence`), keyed by
/// their id suffix. `Err` if the rule cannot be expanded.
pub(crate) fn expand(
    master: &Map<String, Value>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Instances, String> {
    let Some(m) = read_master(master) else {
        return Err("not a recurring event with a readable start".into());
    };
    let day = Duration::days(1);
    let starts = m
        .series
        .starts_between(m.frame.to_local(from) - day, m.frame.to_local(to) + day)
        .map_err(|e| e.to_string())?;
    let master_id = master.get("id").and_then(Value::as_str).unwrap_or_default();
    Ok(starts
        .into_iter()
        .map(|local| m.frame.to_utc(local))
        .filter(|utc| *utc >= from && *utc < to)
        .map(|utc| {
            let key = suffix(utc, m.series.all_day);
            let instance = instance_json(master, master_id, &key, utc, &m);
            (key, instance)
        })
        .collect())
}

fn instance_json(
    master: &Map<String, Value>,
    master_id: &str,
    key: &str,
    utc: DateTime<Utc>,
    m: &Master,
) -> Map<String, Value> {
    let time = |t: DateTime<Utc>| -> Value {
        match &m.frame {
            Frame::AllDay => json!({"date": t.format("%Y-%m-%d").to_string()}),
            frame => {
                let mut v = json!({"dateTime": frame.rfc3339(t)});
                if let Some(zone) = master.get("start").and_then(|s| s.get("timeZone")).cloned() {
                    v["timeZone"] = zone;
                }
                v
            }
        }
    };
    let mut out = master.clone();
    out.remove("recurrence");
    out.insert("id".into(), json!(format!("{master_id}_{key}")));
    out.insert("recurringEventId".into(), json!(master_id));
    out.insert("originalStartTime".into(), time(utc));
    out.insert("start".into(), time(utc));
    out.insert("end".into(), time(utc + m.duration));
    out
}

/// The instance an id of the form `<masterId>_<suffix>` names, if `master` has one starting
/// there.
pub(crate) fn instance_by_suffix(
    master: &Map<String, Value>,
    key: &str,
) -> Option<Map<String, Value>> {
    let utc = match parse_datetime(key.strip_suffix('Z')?.trim_end()) {
        Some(t) => t.and_utc(),
        None => parse_date(key)?.and_hms_opt(0, 0, 0)?.and_utc(),
    };
    expand(master, utc - Duration::days(1), utc + Duration::days(1))
        .ok()?
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weekly() -> Map<String, Value> {
        json!({
            "id": "abcde",
            "start": {"dateTime": "2026-03-23T09:00:00+01:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2026-03-23T10:00:00+01:00", "timeZone": "Europe/Berlin"},
            "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3", "EXDATE;TZID=Europe/Berlin:20260330T090000"]
        })
        .as_object()
        .cloned()
        .unwrap_or_default()
    }

    #[test]
    fn weekly_series_keeps_wall_clock_across_dst_and_drops_exdates() {
        let from = "2026-03-01T00:00:00Z".parse().unwrap_or_default();
        let to = "2026-05-01T00:00:00Z".parse().unwrap_or_default();
        let got = expand(&weekly(), from, to).unwrap_or_default();
        let ids: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        // 23 March is CET (08:00Z); 30 March is excluded; 6 April is CEST (07:00Z).
        assert_eq!(ids, ["20260323T080000Z", "20260406T070000Z"]);
        assert_eq!(got[1].1["start"]["dateTime"], "2026-04-06T09:00:00+02:00");
        assert_eq!(got[1].1["id"], "abcde_20260406T070000Z");
        assert!(got[1].1.get("recurrence").is_none());
        assert!(instance_by_suffix(&weekly(), "20260406T070000Z").is_some());
        assert!(instance_by_suffix(&weekly(), "20260330T070000Z").is_none());
    }

    #[test]
    fn all_day_end_before_start_reads_as_one_day() {
        let event = json!({"start": {"date": "2026-01-10"}, "end": {"date": "2026-01-09"}});
        let (start, end) = bounds(event.as_object().unwrap_or(&Map::new())).unwrap_or_default();
        assert_eq!(end - start, Duration::days(1));
    }
}
