//! Google's time objects (`start`, `end`, `originalStartTime`) read as event times, and written back.
//!
//! `{"dateTime": RFC 3339, "timeZone": IANA}` or `{"date": "YYYY-MM-DD"}`. The offset in `dateTime` fixes
//! the instant; `timeZone` names the zone whose wall clock the event keeps (a recurring event expands
//! in it). `dateTime` may lack the offset when `timeZone` is given.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Timelike, Utc};
use serde_json::{Map, Value};

use crate::domain::time::EventTime;
use crate::domain::tz::{self, Zone};

/// Longer date strings than this are not dates; they are refused before any parsing.
const MAX_TIME_TEXT: usize = 64;

/// A time object as an event time, or `None` when it holds neither a readable `date` nor `dateTime`.
///
/// An unknown `timeZone` is read leniently: the instant from the offset (UTC), or, without an offset,
/// floating wall-clock time.
pub(super) fn read_time(v: &Value) -> Option<EventTime> {
    let text = |key: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= MAX_TIME_TEXT)
    };
    if let Some(dt) = text("dateTime") {
        let zone = text("timeZone").and_then(tz::resolve);
        if let Ok(t) = DateTime::parse_from_rfc3339(dt) {
            let instant = whole_seconds(t.with_timezone(&Utc).naive_utc()).and_utc();
            return Some(match zone {
                Some(z) => EventTime::Zoned {
                    local: tz::utc_to_local(&z, instant),
                    tzid: z.name().to_string(),
                    zone: Some(Zone::Iana(z)),
                },
                None => EventTime::Utc(instant),
            });
        }
        let local = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(dt, f).ok())
            .map(whole_seconds)?;
        return Some(match zone {
            Some(z) => EventTime::Zoned {
                local,
                tzid: z.name().to_string(),
                zone: Some(Zone::Iana(z)),
            },
            None => EventTime::Floating(local),
        });
    }
    text("date")
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .map(EventTime::Date)
}

/// iCalendar has no fractions of a second.
fn whole_seconds(t: NaiveDateTime) -> NaiveDateTime {
    t.with_nanosecond(0).unwrap_or(t)
}

/// `slot` (a time object) set to `t`, keeping the zone it names when `t` has none of its own: a
/// move keeps the event's `timeZone`, and a time given in another zone changes it. Other keys of
/// the object stay.
pub(super) fn set_time(slot: &mut Value, t: &EventTime) {
    let keep = slot
        .get("timeZone")
        .and_then(Value::as_str)
        .map(str::to_string);
    let fresh = time_object(t, keep.as_deref());
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    let Some(obj) = slot.as_object_mut() else {
        return;
    };
    obj.remove("date");
    obj.remove("dateTime");
    if !matches!(t, EventTime::Date(_)) && !fresh.contains_key("timeZone") {
        obj.remove("timeZone");
    }
    obj.extend(fresh);
}

/// A time object for `t`. A UTC or floating time is written in `keep` when that zone is known (a
/// floating time as wall clock there); otherwise a floating time is read as UTC, since Google has no
/// floating times. An all-day time carries no zone.
pub(super) fn time_object(t: &EventTime, keep: Option<&str>) -> Map<String, Value> {
    let mut out = Map::new();
    let kept = keep.and_then(tz::resolve);
    let zoned = |instant: DateTime<Utc>, zone: &Zone, name: &str, out: &mut Map<String, Value>| {
        let local = zone.utc_to_local(instant);
        let offset = (local - instant.naive_utc()).num_seconds();
        let text = chrono::FixedOffset::east_opt(offset as i32)
            .map(|o| {
                instant
                    .with_timezone(&o)
                    .to_rfc3339_opts(SecondsFormat::Secs, true)
            })
            .unwrap_or_else(|| instant.to_rfc3339_opts(SecondsFormat::Secs, true));
        out.insert("dateTime".into(), Value::String(text));
        out.insert("timeZone".into(), Value::String(name.to_string()));
    };
    match t {
        EventTime::Date(d) => {
            out.insert(
                "date".into(),
                Value::String(d.format("%Y-%m-%d").to_string()),
            );
        }
        EventTime::Zoned {
            local,
            tzid,
            zone: Some(zone),
        } => zoned(zone.local_to_utc(*local), zone, tzid, &mut out),
        EventTime::Zoned {
            local,
            tzid,
            zone: None,
        } => {
            out.insert("dateTime".into(), Value::String(wall_text(*local)));
            out.insert("timeZone".into(), Value::String(tzid.clone()));
        }
        EventTime::Utc(u) => match kept {
            Some(z) => zoned(*u, &Zone::Iana(z), z.name(), &mut out),
            None => {
                let text = u.to_rfc3339_opts(SecondsFormat::Secs, true);
                out.insert("dateTime".into(), Value::String(text));
            }
        },
        EventTime::Floating(local) => match kept {
            Some(z) => {
                let zone = Zone::Iana(z);
                zoned(zone.local_to_utc(*local), &zone, z.name(), &mut out);
            }
            None => {
                let text = local.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true);
                out.insert("dateTime".into(), Value::String(text));
            }
        },
    }
    out
}

fn wall_text(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}
