//! Is the server's copy our own write? After a refused write (a 412, or a create meeting an
//! existing resource) the server's copy may be a write of ours whose reply was lost to a crash or a
//! cut. It must never be taken for ours because another client wrote stamps we also wrote: two
//! clients editing one event in the same second send the same UID, RECURRENCE-ID, SEQUENCE and
//! DTSTAMP.
//!
//! So the test is on content: the server's copy holds our change when every property line we sent
//! is in it, and every line our change removed from the version it was based on is gone from it.
//! Lines are compared after the rewriting servers are known to do (folding, line endings, case of
//! names, parameter order and quoting, TEXT escaping), and the stamps servers rewrite on store
//! (DTSTAMP, LAST-MODIFIED, SEQUENCE) are left out. Adopting such a copy loses nothing of ours;
//! anything else is a conflict that keeps both sides.

use std::collections::HashMap;

use crate::domain::ical::{self, Component, Property};
use crate::sync::remote::Format;

/// Whether `theirs` holds the change `sent` made to `base`, for items written in `format`.
pub fn holds(format: Format, sent: &str, base: Option<&str>, theirs: &str) -> bool {
    match format {
        Format::ICalendar => holds_our_change(sent, base, theirs),
        Format::GoogleJson => json_holds_our_change(sent, base, theirs),
        Format::GraphJson => graph_holds_our_change(sent, base, theirs),
    }
}

/// The UID of the first event of an item written in `format`.
pub fn uid_of(format: Format, raw: &str) -> Option<String> {
    match format {
        Format::ICalendar => {
            let doc = ical::parse(raw);
            doc.components
                .iter()
                .filter(|c| c.name == "VCALENDAR")
                .flat_map(|c| c.children.iter().filter(|e| e.name == "VEVENT"))
                .find_map(|ev| ev.property("UID").map(|p| p.value.trim().to_string()))
        }
        Format::GoogleJson => {
            let v: serde_json::Value = serde_json::from_str(raw).ok()?;
            let first = v.as_array()?.first()?;
            first
                .get("iCalUID")
                .or_else(|| first.get("id"))
                .and_then(|u| u.as_str())
                .map(str::to_string)
        }
        Format::GraphJson => crate::domain::graph::group_uid(raw),
    }
}

/// Whether two copies differ in nothing the person sees (for Google's etag churn: an attendee's
/// reply moves the etag). iCalendar copies are never judged so: a CalDAV etag moves with the data.
pub fn same_for_the_person(format: Format, a: &str, b: &str) -> bool {
    match format {
        Format::ICalendar => false,
        Format::GoogleJson => {
            let view = |raw: &str| -> Option<Vec<serde_json::Value>> {
                let list: Vec<serde_json::Value> = match serde_json::from_str(raw).ok()? {
                    serde_json::Value::Array(a) => a,
                    one => vec![one],
                };
                Some(
                    list.iter()
                        .map(|e| {
                            let mut seen = serde_json::Map::new();
                            for key in VISIBLE_FIELDS {
                                if let Some(v) = e.get(*key) {
                                    seen.insert((*key).to_string(), v.clone());
                                }
                            }
                            let emails: Vec<&serde_json::Value> = e
                                .get("attendees")
                                .and_then(|a| a.as_array())
                                .map(|a| a.iter().filter_map(|p| p.get("email")).collect())
                                .unwrap_or_default();
                            seen.insert("attendees".into(), serde_json::json!(emails));
                            serde_json::Value::Object(seen)
                        })
                        .collect(),
                )
            };
            matches!((view(a), view(b)), (Some(x), Some(y)) if x == y)
        }
        Format::GraphJson => matches!((graph_view(a), graph_view(b)), (Some(x), Some(y)) if x == y),
    }
}

/// What a person sees of a Graph item: per event its visible properties (times as instants,
/// attendees by address), and the cancelled occurrences.
fn graph_view(raw: &str) -> Option<(Vec<serde_json::Value>, Vec<String>)> {
    use serde_json::{Value, json};
    let (events, mut cancelled) = crate::domain::graph::group_parts(raw)?;
    let seen = events
        .iter()
        .map(|e| {
            let text = |path: &[&str]| {
                path.iter()
                    .try_fold(e, |v, k| v.get(*k))
                    .cloned()
                    .unwrap_or(Value::Null)
            };
            let emails: Vec<Value> = e
                .get("attendees")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|p| p.get("emailAddress")?.get("address").cloned())
                        .collect()
                })
                .unwrap_or_default();
            json!({
                "id": text(&["id"]),
                "subject": text(&["subject"]),
                "body": text(&["body", "content"]),
                "location": text(&["location", "displayName"]),
                "start": graph_instant(e.get("start"), e),
                "end": graph_instant(e.get("end"), e),
                "isAllDay": text(&["isAllDay"]),
                "isCancelled": text(&["isCancelled"]),
                "recurrence": text(&["recurrence"]),
                "originalStart": text(&["originalStart"]),
                "showAs": text(&["showAs"]),
                "sensitivity": text(&["sensitivity"]),
                "attendees": emails,
            })
        })
        .collect();
    cancelled.sort();
    cancelled.dedup();
    Some((seen, cancelled))
}

/// A Graph `dateTimeTimeZone` as the instant (or day) it means, whatever zone it is written in.
fn graph_instant(slot: Option<&serde_json::Value>, event: &serde_json::Value) -> serde_json::Value {
    let all_day = event
        .get("isAllDay")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    slot.and_then(|s| crate::domain::graph::time::read_time(s, all_day, &[]).ok())
        .map(|(t, _)| serde_json::Value::String(format!("{:?}", t.normalise())))
        .unwrap_or(serde_json::Value::Null)
}

/// The Graph form of [`holds_our_change`]: every event we sent is in theirs (by `id`; one not yet
/// created by `transactionId`, a new exception by `originalStart`) with every writable property we
/// sent equal (times compared as instants), no property our change removed came back, and every
/// occurrence we cancelled is cancelled there.
fn graph_holds_our_change(sent: &str, base: Option<&str>, theirs: &str) -> bool {
    use crate::domain::graph::{group_parts, is_read_only};
    use serde_json::Value;
    if sent == theirs {
        return true;
    }
    let (Some((sent, cancelled)), Some((theirs, their_cancelled))) =
        (group_parts(sent), group_parts(theirs))
    else {
        return false;
    };
    let base = base
        .and_then(group_parts)
        .map(|(b, _)| b)
        .unwrap_or_default();
    let key = |e: &Value| -> Option<(&'static str, Value)> {
        ["id", "transactionId", "originalStart"]
            .into_iter()
            .find_map(|k| e.get(k).filter(|v| v.is_string()).map(|v| (k, v.clone())))
    };
    let find = |list: &[Value], (k, v): &(&str, Value)| {
        list.iter().find(|e| e.get(*k) == Some(v)).cloned()
    };
    let same = |k: &str, a: &Value, b: Option<&Value>, event: &Value| match k {
        "start" | "end" => graph_instant(Some(a), event) == graph_instant(b, event),
        _ => b == Some(a),
    };
    let events_hold = sent.iter().all(|mine| {
        let Some(k) = key(mine) else {
            return false;
        };
        let (Some(Value::Object(copy)), Value::Object(fields)) = (find(&theirs, &k), mine) else {
            return false;
        };
        let copy_value = Value::Object(copy.clone());
        let kept = fields
            .iter()
            .filter(|(name, _)| !is_read_only(name) && *name != "transactionId")
            .all(|(name, v)| same(name, v, copy.get(name), &copy_value));
        let removed_stay_removed = match find(&base, &k) {
            Some(Value::Object(was)) => was
                .keys()
                .filter(|name| !is_read_only(name) && !fields.contains_key(*name))
                .all(|name| copy.get(name).is_none_or(Value::is_null)),
            _ => true,
        };
        kept && removed_stay_removed
    });
    events_hold && cancelled.iter().all(|c| their_cancelled.contains(c))
}

/// What a person sees of a Google event (an attendee list is compared by who, not by replies).
const VISIBLE_FIELDS: &[&str] = &[
    "id",
    "status",
    "summary",
    "description",
    "location",
    "start",
    "end",
    "recurrence",
    "recurringEventId",
    "originalStartTime",
    "transparency",
    "visibility",
];

/// Fields Google sets on store, never ours to compare.
const SERVER_FIELDS: &[&str] = &[
    "etag",
    "updated",
    "created",
    "sequence",
    "htmlLink",
    "kind",
    "creator",
    "organizer",
    "iCalUID",
    "hangoutLink",
    "conferenceData",
];

/// The JSON form of [`holds_our_change`]: every event of the group we sent is in theirs (by id)
/// with every field we sent equal, and no field our change removed from its base came back.
fn json_holds_our_change(sent: &str, base: Option<&str>, theirs: &str) -> bool {
    use serde_json::Value;
    if sent == theirs {
        return true;
    }
    let events = |raw: &str| -> Option<Vec<Value>> {
        match serde_json::from_str::<Value>(raw).ok()? {
            Value::Array(a) => Some(a),
            one @ Value::Object(_) => Some(vec![one]),
            _ => None,
        }
    };
    let (Some(sent), Some(theirs)) = (events(sent), events(theirs)) else {
        return false;
    };
    let base = base.and_then(events).unwrap_or_default();
    let by_id = |list: &[Value], id: &Value| list.iter().find(|e| e.get("id") == Some(id)).cloned();
    sent.iter().all(|mine| {
        let Some(id) = mine.get("id") else {
            return false;
        };
        let Some(Value::Object(copy)) = by_id(&theirs, id) else {
            return false;
        };
        let Value::Object(mine) = mine else {
            return false;
        };
        let kept = mine
            .iter()
            .filter(|(k, _)| !SERVER_FIELDS.contains(&k.as_str()))
            .all(|(k, v)| copy.get(k) == Some(v));
        let removed_stay_removed = match by_id(&base, id) {
            Some(Value::Object(was)) => was
                .keys()
                .filter(|k| !SERVER_FIELDS.contains(&k.as_str()) && !mine.contains_key(*k))
                .all(|k| !copy.contains_key(k)),
            _ => true,
        };
        kept && removed_stay_removed
    })
}

/// Properties servers set or bump on store: they tell nothing about whose write a copy is.
const STAMPS: &[&str] = &["DTSTAMP", "LAST-MODIFIED", "SEQUENCE"];

/// A property line in a form that survives the rewriting servers do.
type Line = String;

/// Whether `theirs` (the server's copy) already holds the change `sent`, made on `base` (the copy
/// the change started from; `None` for a create).
pub fn holds_our_change(sent: &str, base: Option<&str>, theirs: &str) -> bool {
    if sent == theirs {
        return true;
    }
    let ours = lines(sent);
    if ours.is_empty() {
        // Nothing we can read: only the exact text would do, and it did not match.
        return false;
    }
    let theirs = lines(theirs);
    let removed = match base {
        Some(base) => difference(&lines(base), &ours),
        None => HashMap::new(),
    };
    ours.iter()
        .all(|(line, n)| theirs.get(line).is_some_and(|m| m >= n))
        && removed.keys().all(|line| !theirs.contains_key(line))
}

/// Every event component's property lines, as a multiset. Each line is prefixed with the event it
/// belongs to (UID and RECURRENCE-ID) and the path of nested components (the first VALARM's lines,
/// the second's …).
fn lines(raw: &str) -> HashMap<Line, usize> {
    let doc = ical::parse(raw);
    let mut out = HashMap::new();
    for cal in doc.components.iter().filter(|c| c.name == "VCALENDAR") {
        for event in cal.children.iter().filter(|c| c.name == "VEVENT") {
            let key = format!(
                "{}|{}",
                event.property("UID").map(value).unwrap_or_default(),
                event
                    .property("RECURRENCE-ID")
                    .map(value)
                    .unwrap_or_default()
            );
            add_component(&mut out, &key, event);
        }
    }
    out
}

/// Adds a component's lines and its children's, walking with an explicit stack (the depth of the
/// data must not decide the depth of our recursion).
fn add_component(out: &mut HashMap<Line, usize>, key: &str, top: &Component) {
    let mut stack: Vec<(String, &Component)> = vec![(key.to_string(), top)];
    while let Some((path, c)) = stack.pop() {
        for p in c.properties.iter().filter(|p| !STAMPS.contains(&&*p.name)) {
            *out.entry(format!("{path}|{}", normal(p))).or_insert(0) += 1;
        }
        // Each child by its place: two alarms that swapped a trigger are a change.
        for (i, child) in c.children.iter().enumerate() {
            stack.push((format!("{path}/{}#{i}", child.name), child));
        }
    }
}

/// `NAME;A=x;B=y:value` with parameters sorted, their values unquoted, `VALUE=DATE-TIME` (the
/// default) dropped, and the value's TEXT escapes resolved.
fn normal(p: &Property) -> String {
    let mut params: Vec<(String, String)> = p
        .params
        .iter()
        .filter(|(n, v)| !(n == "VALUE" && v.eq_ignore_ascii_case("DATE-TIME")))
        .map(|(n, v)| (n.to_ascii_uppercase(), v.trim_matches('"').to_string()))
        .collect();
    params.sort();
    let mut s = p.name.to_ascii_uppercase();
    for (n, v) in params {
        s.push(';');
        s.push_str(&n);
        s.push('=');
        s.push_str(&v);
    }
    s.push(':');
    s.push_str(&value(p));
    s
}

fn value(p: &Property) -> String {
    ical::unescape_text(p.value.trim())
}

/// What `a` has more of than `b`.
fn difference(a: &HashMap<Line, usize>, b: &HashMap<Line, usize>) -> HashMap<Line, usize> {
    a.iter()
        .filter_map(|(line, n)| {
            let m = b.get(line).copied().unwrap_or(0);
            (*n > m).then(|| (line.clone(), n - m))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nSEQUENCE:2\r\nDTSTAMP:20261123T090000Z\r\nSUMMARY:Base\r\nLOCATION:Room 1\r\nDTSTART:20261124T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    fn edit(from: &str, to: &str) -> String {
        BASE.replace("SEQUENCE:2", "SEQUENCE:3")
            .replace("DTSTAMP:20261123T090000Z", "DTSTAMP:20261123T100000Z")
            .replace(from, to)
    }

    #[test]
    fn another_clients_edit_in_the_same_second_is_not_ours() {
        // Same UID, SEQUENCE and DTSTAMP: only the content tells them apart.
        let mine = edit("SUMMARY:Base", "SUMMARY:Base\r\nDESCRIPTION:A");
        let theirs = edit("SUMMARY:Base", "SUMMARY:Base\r\nDESCRIPTION:B");
        assert!(!holds_our_change(&mine, Some(BASE), &theirs));
        // Theirs changed another field: our description is missing from it.
        let theirs = edit("LOCATION:Room 1", "LOCATION:Room 2");
        assert!(!holds_our_change(&mine, Some(BASE), &theirs));
    }

    #[test]
    fn a_removal_of_ours_missing_from_their_copy_is_not_ours() {
        let mine = edit("LOCATION:Room 1\r\n", "");
        // They only added a line: every line of ours is there, but our removal is not.
        let theirs = edit("SUMMARY:Base", "SUMMARY:Base\r\nCATEGORIES:x");
        assert!(!holds_our_change(&mine, Some(BASE), &theirs));
    }

    #[test]
    fn our_write_is_recognised_despite_what_servers_do_on_store() {
        let mine = edit("SUMMARY:Base", "SUMMARY:Base\\, again;x");
        let stored = mine
            .replace("\r\n", "\n")
            .replace(
                "SUMMARY:Base\\, again;x",
                "summary:Base\\, again\\;x\nX-SERVER:added",
            )
            .replace("DTSTAMP:20261123T100000Z", "DTSTAMP:20261123T100001Z")
            .replace("SEQUENCE:3", "SEQUENCE:4");
        assert!(holds_our_change(&mine, Some(BASE), &stored));
        assert!(holds_our_change(&mine, None, &mine));
        assert!(!holds_our_change(&mine, Some(BASE), "garbage"));
        assert!(!holds_our_change("garbage", None, BASE));
    }

    #[test]
    fn alarms_that_swapped_their_triggers_are_not_ours() {
        let alarms = |a: &str, b: &str| {
            BASE.replace(
                "END:VEVENT",
                &format!(
                    "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:{a}\r\nEND:VALARM\r\n\
                     BEGIN:VALARM\r\nACTION:AUDIO\r\nTRIGGER:{b}\r\nEND:VALARM\r\nEND:VEVENT"
                ),
            )
        };
        let mine = alarms("-PT15M", "-PT5M");
        let theirs = alarms("-PT5M", "-PT15M");
        assert!(!holds_our_change(&mine, Some(BASE), &theirs));
        assert!(holds_our_change(&mine, Some(BASE), &mine));
    }

    #[test]
    fn another_clients_edit_of_one_instance_is_not_ours() {
        let over = |rid: &str, summary: &str| {
            format!(
                "BEGIN:VEVENT\r\nUID:a\r\nRECURRENCE-ID:{rid}\r\nSEQUENCE:1\r\nDTSTAMP:20261123T120000Z\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\n"
            )
        };
        let cal = |body: &str| BASE.replace("END:VCALENDAR", &format!("{body}END:VCALENDAR"));
        let mine = cal(&over("20261124T100000Z", "x"));
        let theirs = cal(&over("20261126T100000Z", "x"));
        assert!(!holds_our_change(&mine, Some(BASE), &theirs));
    }
}

#[cfg(test)]
mod json_tests {
    use super::*;

    #[test]
    fn a_google_copy_holds_our_change_when_every_field_we_sent_is_there() {
        let base = r#"[{"id":"abc12","etag":"\"1\"","summary":"Lunch","location":"Cafe"}]"#;
        let sent = r#"[{"id":"abc12","etag":"\"1\"","summary":"Dinner"}]"#;
        let stored = r#"[{"id":"abc12","etag":"\"2\"","summary":"Dinner","sequence":1}]"#;
        assert!(holds(Format::GoogleJson, sent, Some(base), stored));
        // Another client's summary: not ours.
        let other = r#"[{"id":"abc12","etag":"\"2\"","summary":"Brunch"}]"#;
        assert!(!holds(Format::GoogleJson, sent, Some(base), other));
        // Our change removed the location; a copy that still has it is not ours.
        let kept = r#"[{"id":"abc12","etag":"\"2\"","summary":"Dinner","location":"Cafe"}]"#;
        assert!(!holds(Format::GoogleJson, sent, Some(base), kept));
        assert!(!holds(Format::GoogleJson, sent, Some(base), "not json"));
        assert_eq!(uid_of(Format::GoogleJson, stored).as_deref(), Some("abc12"));
    }

    #[test]
    fn a_graph_copy_holds_our_change_when_every_property_we_sent_is_there_in_any_zone() {
        let base = r#"{"graph":[{"id":"E1","@odata.etag":"W/\"1\"","iCalUId":"u1","subject":"Lunch",
"start":{"dateTime":"2026-11-23T12:00:00.0000000","timeZone":"W. Europe Standard Time"}}]}"#;
        let sent = r#"{"graph":[{"id":"E1","@odata.etag":"W/\"1\"","iCalUId":"u1","subject":"Dinner",
"start":{"dateTime":"2026-11-23T19:00:00.0000000","timeZone":"W. Europe Standard Time"}}],
"cancelled":["2026-11-30T18:00:00Z"]}"#;
        // The server answers in UTC, with a new etag and changeKey.
        let stored = r#"{"graph":[{"id":"E1","@odata.etag":"W/\"2\"","changeKey":"2","iCalUId":"u1",
"subject":"Dinner","start":{"dateTime":"2026-11-23T18:00:00.0000000","timeZone":"UTC"}}],
"cancelled":["2026-11-30T18:00:00Z"]}"#;
        assert!(holds(Format::GraphJson, sent, Some(base), stored));
        let other = stored.replace("Dinner", "Brunch");
        assert!(!holds(Format::GraphJson, sent, Some(base), &other));
        let not_cancelled = stored.replace(
            r#""cancelled":["2026-11-30T18:00:00Z"]"#,
            r#""cancelled":[]"#,
        );
        assert!(!holds(Format::GraphJson, sent, Some(base), &not_cancelled));
        assert_eq!(uid_of(Format::GraphJson, stored).as_deref(), Some("u1"));
        // Only the etag and changeKey moved: nothing the person sees.
        assert!(same_for_the_person(Format::GraphJson, sent, stored));
        assert!(!same_for_the_person(Format::GraphJson, sent, &other));
    }
}
