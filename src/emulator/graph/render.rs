//! Events as Graph writes them on the wire: full objects, skeletal occurrences and removals, with
//! times in the zone the client asked for. PROTOCOLS.md §3 "Items, removals, series", "Times".

use chrono::DateTime;
use serde_json::{Map, Value, json};

use super::GraphSwitches;
use super::instances::{self, Frame, is_all_day};
use crate::domain::graph::time::write_date_time;

/// What the request's `Prefer` headers asked for (PROTOCOLS.md §3 "Every request, links too").
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Prefs {
    /// `outlook.timezone="UTC"`.
    pub utc: bool,
    /// `odata.maxpagesize=N`.
    pub page_size: Option<usize>,
    pub immutable_ids: bool,
}

/// How items are written for one request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style<'a> {
    pub prefs: Prefs,
    pub switches: &'a GraphSwitches,
}

const EVENT_TYPE: &str = "#microsoft.graph.event";

fn etag(json: &Map<String, Value>) -> String {
    format!(
        "W/\"{}\"",
        json.get("changeKey")
            .and_then(Value::as_str)
            .unwrap_or_default()
    )
}

/// A stored object as the emulator's own API hands it out: with `@odata.etag`.
pub(crate) fn stored(json: &Map<String, Value>) -> Value {
    let mut out = json.clone();
    out.insert("@odata.etag".into(), json!(etag(json)));
    Value::Object(out)
}

/// A time at instant `unix` written in `zone` (`UTC` when converting); all-day: the date.
fn time_value(unix: i64, zone: &str, all_day: bool, utc: bool) -> Value {
    let t = DateTime::from_timestamp(unix, 0).unwrap_or_default();
    if all_day {
        // PROTOCOLS.md §3 [obs] "All-day events … ignore `outlook.timezone`".
        return json!({"dateTime": write_date_time(t.naive_utc()), "timeZone": zone});
    }
    if utc {
        return json!({"dateTime": write_date_time(t.naive_utc()), "timeZone": "UTC"});
    }
    let local = match instances::zone(zone) {
        Some(z) => crate::domain::tz::utc_to_local(&z, t),
        None => t.naive_utc(),
    };
    json!({"dateTime": write_date_time(local), "timeZone": zone})
}

fn zone_name(json: &Map<String, Value>, key: &str) -> String {
    json.get(key)
        .and_then(|t| t.get("timeZone"))
        .and_then(Value::as_str)
        .unwrap_or("UTC")
        .to_string()
}

/// Writes `start`/`end` of `out` for the instants given, by the style; series items get the
/// custom-zone marker under `custom_time_zones` (PROTOCOLS.md §3 Times).
fn set_times(
    out: &mut Map<String, Value>,
    series: Option<&Frame>,
    start: i64,
    end: i64,
    style: &Style<'_>,
) {
    let all_day = is_all_day(out);
    if let (Some(frame), true, false) = (series, style.switches.custom_time_zones, all_day) {
        let custom = |unix: i64| json!({"dateTime": write_date_time(frame.local(unix)), "timeZone": "tzone://Microsoft/Custom"});
        out.insert("start".into(), custom(start));
        out.insert("end".into(), custom(end));
        out.insert("originalStartTimeZone".into(), json!(frame.zone.name()));
        out.insert("originalEndTimeZone".into(), json!(frame.zone.name()));
        return;
    }
    let (start_zone, end_zone) = (zone_name(out, "start"), zone_name(out, "end"));
    out.insert(
        "start".into(),
        time_value(start, &start_zone, all_day, style.prefs.utc),
    );
    out.insert(
        "end".into(),
        time_value(end, &end_zone, all_day, style.prefs.utc),
    );
}

/// The recurrence of a master as written: `recurrenceTimeZone` named under
/// `custom_time_zones`, `noEnd` with the `0001-01-01` sentinel under `sentinel_dates`.
fn write_recurrence(out: &mut Map<String, Value>, frame: &Frame, style: &Style<'_>) {
    let Some(range) = out.get_mut("recurrence").and_then(|r| r.get_mut("range")) else {
        return;
    };
    if style.switches.custom_time_zones
        && range
            .get("recurrenceTimeZone")
            .and_then(Value::as_str)
            .and_then(instances::zone)
            .is_none()
    {
        range["recurrenceTimeZone"] = json!(frame.zone.name());
    }
    let no_end = range
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case("noEnd"));
    if style.switches.sentinel_dates && no_end {
        range["endDate"] = json!("0001-01-01");
    }
}

/// A single event, master or exception in full. `master`: an exception's master (its frame).
pub(crate) fn whole(
    json: &Map<String, Value>,
    master: Option<&Map<String, Value>>,
    style: &Style<'_>,
) -> Value {
    let mut out = json.clone();
    out.insert("@odata.type".into(), json!(EVENT_TYPE));
    out.insert("@odata.etag".into(), json!(etag(json)));
    let frame = match (master, json.get("recurrence").is_some_and(Value::is_object)) {
        (Some(m), _) => Some(Frame::of(m)),
        (None, true) => Some(Frame::of(json)),
        (None, false) => None,
    };
    if let Some((start, end)) = instances::bounds(json) {
        set_times(&mut out, frame.as_ref(), start, end, style);
    }
    if let (Some(frame), None) = (&frame, master) {
        write_recurrence(&mut out, frame, style);
    }
    Value::Object(out)
}

/// The derived `iCalUId` of an occurrence (PROTOCOLS.md §3 "`iCalUId` differs per occurrence").
fn occurrence_uid(master: &Map<String, Value>, original_start: i64) -> String {
    let uid = master
        .get("iCalUId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    format!("{uid}{original_start:016X}")
}

/// An occurrence of `master` (id `master_id`) at `original_start`, in full: the master's
/// properties, shifted times, `originalStart` in UTC, no recurrence.
pub(crate) fn occurrence_full(
    master_id: &str,
    master: &Map<String, Value>,
    original_start: i64,
    end: i64,
    style: &Style<'_>,
) -> Map<String, Value> {
    let mut out = master.clone();
    out.remove("recurrence");
    out.remove("transactionId");
    out.insert("@odata.type".into(), json!(EVENT_TYPE));
    out.insert("@odata.etag".into(), json!(etag(master)));
    out.insert(
        "id".into(),
        json!(instances::occurrence_id(master_id, original_start)),
    );
    out.insert("type".into(), json!("occurrence"));
    out.insert("seriesMasterId".into(), json!(master_id));
    out.insert(
        "iCalUId".into(),
        json!(occurrence_uid(master, original_start)),
    );
    out.insert(
        "originalStart".into(),
        json!(original_start_text(original_start)),
    );
    set_times(
        &mut out,
        Some(&Frame::of(master)),
        original_start,
        end,
        style,
    );
    out
}

/// PROTOCOLS.md §3 "`originalStart` is UTC".
pub(crate) fn original_start_text(unix: i64) -> String {
    DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// PROTOCOLS.md §3 [obs] "Plain occurrences carry only `@odata.type @odata.etag id
/// seriesMasterId type start end`" (full objects with `skeletal_occurrences` off).
pub(crate) fn occurrence(
    master_id: &str,
    master: &Map<String, Value>,
    original_start: i64,
    end: i64,
    style: &Style<'_>,
) -> Value {
    let full = occurrence_full(master_id, master, original_start, end, style);
    if !style.switches.skeletal_occurrences {
        return Value::Object(full);
    }
    let keep = [
        "@odata.type",
        "@odata.etag",
        "id",
        "seriesMasterId",
        "type",
        "start",
        "end",
    ];
    Value::Object(
        full.into_iter()
            .filter(|(k, _)| keep.contains(&k.as_str()))
            .collect(),
    )
}

/// PROTOCOLS.md §3 "Removed: `{"@odata.type":"#microsoft.graph.event","id":"AAMk…",
/// "@removed":{"reason":"deleted"}}`".
pub(crate) fn removed(id: &str) -> Value {
    json!({"@odata.type": EVENT_TYPE, "id": id, "@removed": {"reason": "deleted"}})
}

/// Keeps only the `$select`ed properties (and what identifies the item).
pub(crate) fn select(item: Value, select: Option<&str>) -> Value {
    let (Some(list), Value::Object(map)) = (select, &item) else {
        return item;
    };
    let wanted: Vec<&str> = list.split(',').map(str::trim).collect();
    Value::Object(
        map.iter()
            .filter(|(k, _)| {
                k.starts_with('@') || *k == "id" || wanted.iter().any(|w| w.eq_ignore_ascii_case(k))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}
