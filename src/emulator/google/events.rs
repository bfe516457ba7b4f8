//! `calendars/{calendarId}/events`: list (full and incremental rounds), get, insert, update,
//! patch, delete and instances. PROTOCOLS.md §2 "Requests", "Sync rounds", "Cancelled items,
//! recurrence", "Etags, ids, writes".

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

use super::errors::{self, Reply};
use super::instances;
use super::paging::{self, Collection};
use super::server::ApiRequest;
use super::state::{State, tombstone_of_instance};

/// PROTOCOLS.md §2 "Forbidden with a token [doc]: `iCalUID orderBy privateExtendedProperty q
/// sharedExtendedProperty timeMin timeMax updatedMin`, `showDeleted=false`".
const FORBIDDEN_WITH_SYNC: &[&str] = &[
    "iCalUID",
    "orderBy",
    "privateExtendedProperty",
    "q",
    "sharedExtendedProperty",
    "timeMin",
    "timeMax",
    "updatedMin",
];

/// Routes `rest` (what follows `events`) for one calendar.
pub(crate) fn route(st: &mut State, req: &ApiRequest<'_>, cal: &str, rest: &[&str]) -> Reply {
    if st.calendar(cal).is_none() {
        return errors::not_found();
    }
    st.purge(cal);
    match (req.method, rest) {
        ("GET", []) => list(st, req, cal),
        ("POST", []) => insert(st, req, cal),
        ("GET", [id]) => get(st, req, cal, id),
        ("PUT", [id]) => write(st, req, cal, id, false),
        ("PATCH", [id]) => write(st, req, cal, id, true),
        ("DELETE", [id]) => delete(st, req, cal, id),
        ("GET", [id, "instances"]) => list_instances(st, req, cal, id),
        _ => errors::not_found(),
    }
}

/// What an event id names.
enum Found {
    /// A stored item (live or cancelled).
    Stored(Map<String, Value>),
    /// An instance of a live stored master that has no exception of its own: Google answers for
    /// it as for any event (PROTOCOLS.md §2 "ids look like `<masterId>_20260105T090000Z`").
    Virtual(Map<String, Value>),
    Missing,
}

fn lookup(st: &State, cal: &str, id: &str) -> Found {
    let Some(calendar) = st.calendar(cal) else {
        return Found::Missing;
    };
    if let Some(e) = calendar.events.get(id) {
        return Found::Stored(e.json.clone());
    }
    let Some((master_id, key)) = id.rsplit_once('_') else {
        return Found::Missing;
    };
    let Some(master) = calendar.events.get(master_id).filter(|m| !m.is_cancelled()) else {
        return Found::Missing;
    };
    match instances::instance_by_suffix(&master.json, key) {
        Some(instance) => Found::Virtual(instance),
        None => Found::Missing,
    }
}

fn etag_of(json: &Map<String, Value>) -> &str {
    json.get("etag").and_then(Value::as_str).unwrap_or_default()
}

fn has_recurrence(json: &Map<String, Value>) -> bool {
    json.get("recurrence")
        .and_then(Value::as_array)
        .is_some_and(|r| !r.is_empty())
}

fn parse_time_param(req: &ApiRequest<'_>, name: &str) -> Result<Option<DateTime<Utc>>, Reply> {
    match req.query.get(name) {
        None => Ok(None),
        // Google requires an RFC 3339 timestamp with offset here.
        Some(v) => DateTime::parse_from_rfc3339(v)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| errors::invalid(&format!("Invalid value for {name}."), Some(name))),
    }
}

/// `GET events`: `singleEvents=false` listing of masters and exceptions, cancelled items only
/// with `syncToken` or `showDeleted=true` (PROTOCOLS.md §2 "Cancelled items"); `maxResults`
/// default 250, max 2500 (§2 "Requests"); `nextSyncToken` on the last page only, none when
/// `orderBy` is given (§2 "Sync rounds" [obs]).
fn list(st: &mut State, req: &ApiRequest<'_>, cal: &str) -> Reply {
    let max = match paging::max_results(&req.query, 250, 2500) {
        Ok(n) => n,
        Err(reply) => return reply,
    };
    if req.query.flag("singleEvents") == Some(true) {
        // PROTOCOLS.md §2 "`true` never ends for endless series": not emulated.
        st.violation(format!("events {cal}: singleEvents=true in a sync listing"));
        return errors::invalid(
            "singleEvents=true is not emulated (PROTOCOLS.md §2: expand locally).",
            Some("singleEvents"),
        );
    }
    let order_by = req.query.has("orderBy");
    if order_by && !req.query.has("syncToken") {
        st.violation(format!(
            "events {cal}: orderBy in a sync listing (then no nextSyncToken)"
        ));
    }
    let (time_min, time_max) = match (
        parse_time_param(req, "timeMin"),
        parse_time_param(req, "timeMax"),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(reply), _) | (_, Err(reply)) => return reply,
    };
    let Some(calendar) = st.calendar(cal) else {
        return errors::not_found();
    };
    let coll = Collection {
        scope: format!("events:{cal}"),
        generation: calendar.generation,
        counter: calendar.counter,
        purged_through: calendar.purged_through,
        forbidden_with_sync: FORBIDDEN_WITH_SYNC,
        forced_on_with_sync: &["showDeleted"],
    };
    let cursor = match paging::open_round(st, &coll, &req.query) {
        Ok(c) => c,
        Err(reply) => return reply,
    };
    let show_deleted = req.query.flag("showDeleted") == Some(true);
    let Some(calendar) = st.calendar(cal) else {
        return errors::not_found();
    };
    // [doc events.list `showDeleted`] "Cancelled instances of recurring events (but not the
    // underlying recurring event) will still be included if showDeleted and singleEvents are
    // both False" (singleEvents=true is refused above). PROTOCOLS.md §2 says cancelled items come
    // only with syncToken, updatedMin or showDeleted; the documentation wins.
    let live_master = |e: &super::state::StoredEvent| {
        e.master_id()
            .and_then(|m| calendar.events.get(m))
            .is_some_and(|m| !m.is_cancelled())
    };
    let items: Vec<(String, Value)> = calendar
        .events
        .iter()
        .filter(|(_, e)| match cursor.since {
            // PROTOCOLS.md §2 "Changes outside the full round's `timeMin` come too".
            Some(n) => e.changed > n,
            None => {
                (show_deleted || !e.is_cancelled() || live_master(e))
                    && in_window(&e.json, time_min, time_max)
            }
        })
        .map(|(id, e)| (id.clone(), Value::Object(e.json.clone())))
        .collect();
    let full = cursor.since.is_none();
    let (items, token) = paging::page(st, cursor, items, max);
    if full && st.switches.etag_churn {
        churn(st, cal, &items);
    }
    let Some(calendar) = st.calendar(cal) else {
        return errors::not_found();
    };
    let mut body = Map::new();
    body.insert("kind".into(), json!("calendar#events"));
    body.insert("etag".into(), json!(format!("\"e{}\"", calendar.counter)));
    body.insert("summary".into(), json!(calendar.summary));
    body.insert("description".into(), json!(""));
    body.insert("updated".into(), json!(st.now_rfc3339()));
    body.insert("timeZone".into(), json!(calendar.time_zone));
    body.insert("accessRole".into(), json!(calendar.access_role));
    body.insert("defaultReminders".into(), json!([]));
    token.insert_into(&mut body, !order_by);
    body.insert("items".into(), Value::Array(items));
    Reply::json(200, &Value::Object(body))
}

/// `timeMin` (exclusive bound on the end) and `timeMax` (exclusive bound on the start) on a full
/// listing. Recurring masters always pass (their instances are not expanded here).
fn in_window(
    json: &Map<String, Value>,
    time_min: Option<DateTime<Utc>>,
    time_max: Option<DateTime<Utc>>,
) -> bool {
    if has_recurrence(json) {
        return true;
    }
    let Some((start, end)) = instances::bounds(json) else {
        return true;
    };
    time_min.is_none_or(|t| end > t) && time_max.is_none_or(|t| start < t)
}

/// PROTOCOLS.md §2 [obs] "Etags change without visible edits (attendee replies)": after a full
/// listing served them, events with attendees get a new etag, as if an attendee just replied.
fn churn(st: &mut State, cal: &str, served: &[Value]) {
    for item in served {
        let attendees = item
            .get("attendees")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        let id = item.get("id").and_then(Value::as_str).unwrap_or_default();
        if attendees && let Some(json) = item.as_object() {
            st.store_event(cal, id, json.clone());
        }
    }
}

/// `GET events/{id}`: cancelled items too while they exist (404 after the purge);
/// `If-None-Match` matching the etag → 304 with an empty body (PROTOCOLS.md §2 "Etags").
fn get(st: &mut State, req: &ApiRequest<'_>, cal: &str, id: &str) -> Reply {
    let json = match lookup(st, cal, id) {
        Found::Stored(json) | Found::Virtual(json) => json,
        Found::Missing => return errors::not_found(),
    };
    let etag = etag_of(&json).to_string();
    if req
        .header("if-none-match")
        .is_some_and(|v| v.split(',').any(|e| e.trim() == etag || e.trim() == "*"))
    {
        return Reply::empty(304).with("etag", etag);
    }
    Reply::json(200, &Value::Object(json)).with("etag", etag)
}

fn body_object(req: &ApiRequest<'_>) -> Result<Map<String, Value>, Reply> {
    match serde_json::from_slice::<Value>(req.body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(errors::api_error(
            400,
            "global",
            "parseError",
            "Parse Error",
            None,
        )),
    }
}

/// PROTOCOLS.md §2 "choose the id locally (base32hex `[a-v0-9]`, 5–1024 chars)".
fn valid_id(id: &str) -> bool {
    (5..=1024).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'v').contains(&b))
}

/// Start and end present; a recurring event's with `timeZone` (PROTOCOLS.md §2 "Master: …
/// `start.timeZone`, `end.timeZone` required").
fn check_times(json: &Map<String, Value>) -> Result<(), Reply> {
    for (field, what) in [("start", "start"), ("end", "end")] {
        let Some(time) = json.get(field).filter(|t| t.is_object()) else {
            return Err(errors::required(&format!("Missing {what} time.")));
        };
        if has_recurrence(json) && time.get("dateTime").is_some() && time.get("timeZone").is_none()
        {
            return Err(errors::required(&format!(
                "Missing time zone definition for {what} time."
            )));
        }
    }
    Ok(())
}

/// `POST events`: the client may choose the id; an id in use (even by a cancelled item) → 409
/// `duplicate` (PROTOCOLS.md §2 "No conditional insert … a retry answered `409 duplicate`").
fn insert(st: &mut State, req: &ApiRequest<'_>, cal: &str) -> Reply {
    if st.calendar(cal).is_some_and(|c| !c.writable()) {
        return errors::required_access_level();
    }
    let mut json = match body_object(req) {
        Ok(j) => j,
        Err(reply) => return reply,
    };
    let id = match json.get("id").and_then(Value::as_str) {
        Some(id) if !valid_id(id) => {
            return errors::invalid("Invalid resource id value.", Some("id"));
        }
        Some(id) => id.to_string(),
        None => st.new_event_id(),
    };
    if st.calendar(cal).is_some_and(|c| c.events.contains_key(&id)) {
        return errors::duplicate();
    }
    if let Err(reply) = check_times(&json) {
        return reply;
    }
    // An exception carries its master's iCalUID (PROTOCOLS.md §2 "Exceptions … the master's
    // `iCalUID`").
    let master_uid = json
        .get("recurringEventId")
        .and_then(Value::as_str)
        .and_then(|m| st.calendar(cal)?.events.get(m))
        .and_then(|m| m.json.get("iCalUID").cloned());
    if let Some(uid) = master_uid {
        json.insert("iCalUID".into(), uid);
    }
    json.remove("etag");
    st.complete_new_event(cal, &id, &mut json);
    let stored = st.store_event(cal, &id, json);
    let etag = etag_of(&stored).to_string();
    Reply::json(200, &Value::Object(stored)).with("etag", etag)
}

/// The `If-Match` check shared by writes: absent is accepted (Google does) but recorded as a
/// violation (PROTOCOLS.md §4 "a write without `If-Match` … fails the test"); a mismatch or the
/// `precondition_failed_next` switch → 412 `conditionNotMet`.
fn check_if_match(st: &mut State, req: &ApiRequest<'_>, cal: &str, id: &str, etag: &str) -> bool {
    match req.header("if-match") {
        None => st.violation(format!("{} events {cal}/{id} without If-Match", req.method)),
        Some(v) if v.trim() != "*" && v.trim() != etag => return false,
        Some(_) => {}
    }
    if st.switches.precondition_failed_next > 0 {
        st.switches.precondition_failed_next -= 1;
        return false;
    }
    true
}

/// Top-level and nested objects merge, arrays and scalars replace, `null` clears (PROTOCOLS.md §2
/// "`patch` … replaces arrays whole").
fn merge(target: &mut Map<String, Value>, patch: Map<String, Value>) {
    for (key, value) in patch {
        match (target.get_mut(&key), value) {
            (_, Value::Null) => {
                target.remove(&key);
            }
            (Some(Value::Object(old)), Value::Object(new)) => merge(old, new),
            (_, value) => {
                target.insert(key, value);
            }
        }
    }
}

/// `PUT` (replace) or `PATCH` (merge) `events/{id}` with `If-Match` (PROTOCOLS.md §2 "Update by
/// get + `PUT` + `If-Match`"). A lower `sequence` than stored → 400 `Invalid sequence value.`
/// [obs]; with `forbidden_for_non_organizer`, an event organized by someone else → 403
/// `forbiddenForNonOrganizer`. Writing an instance id stores an exception.
fn write(st: &mut State, req: &ApiRequest<'_>, cal: &str, id: &str, patch: bool) -> Reply {
    if st.calendar(cal).is_some_and(|c| !c.writable()) {
        return errors::required_access_level();
    }
    let current = match lookup(st, cal, id) {
        Found::Stored(json) | Found::Virtual(json) => json,
        Found::Missing => return errors::not_found(),
    };
    if !check_if_match(st, req, cal, id, etag_of(&current)) {
        return errors::condition_not_met();
    }
    // Google leaves `self` out unless it is true; no organizer at all means the user's own event.
    let organizer_self = current
        .get("organizer")
        .is_none_or(|o| o.get("self").and_then(Value::as_bool).unwrap_or(false));
    if st.switches.forbidden_for_non_organizer && !organizer_self {
        return errors::forbidden_for_non_organizer();
    }
    let body = match body_object(req) {
        Ok(b) => b,
        Err(reply) => return reply,
    };
    let stored_seq = current.get("sequence").and_then(Value::as_i64).unwrap_or(0);
    let sent_seq = body.get("sequence").and_then(Value::as_i64);
    if sent_seq.is_some_and(|s| s < stored_seq) {
        return errors::invalid("Invalid sequence value.", None);
    }
    let mut json = if patch {
        let mut merged = current.clone();
        merge(&mut merged, body);
        merged
    } else {
        let mut replaced = body;
        replaced.entry("status").or_insert(json!("confirmed"));
        replaced
    };
    if let Err(reply) = check_times(&json) {
        return reply;
    }
    // Immutable and server-owned fields stay as stored.
    for key in [
        "kind",
        "id",
        "created",
        "iCalUID",
        "htmlLink",
        "creator",
        "recurringEventId",
        "originalStartTime",
    ] {
        match current.get(key) {
            Some(v) => json.insert(key.into(), v.clone()),
            // A tombstone lists only its id (PROTOCOLS.md §2 "a deleted event guarantees only
            // `id`"), yet the event keeps its identity: brought back, it is the same UID.
            None if key == "iCalUID" && is_tombstone(&current) => None,
            None => json.remove(key),
        };
    }
    if let Some(organizer) = current.get("organizer") {
        json.entry("organizer").or_insert(organizer.clone());
    }
    // Google raises the sequence when the time of the event moves.
    let moved = ["start", "end", "recurrence"]
        .iter()
        .any(|k| json.get(*k) != current.get(*k));
    let sequence = match sent_seq {
        Some(s) if s > stored_seq => s,
        _ if moved => stored_seq + 1,
        _ => stored_seq,
    };
    json.insert("sequence".into(), json!(sequence));
    let stored = st.store_event(cal, id, json);
    let etag = etag_of(&stored).to_string();
    Reply::json(200, &Value::Object(stored)).with("etag", etag)
}

/// `DELETE events/{id}` with `If-Match`: 204; already cancelled → 410 `deleted`, unknown → 404
/// (PROTOCOLS.md §2 "DELETE answered 404 or `410 deleted` = done"). A master cancels its series,
/// an exception or instance leaves a cancelled instance.
fn delete(st: &mut State, req: &ApiRequest<'_>, cal: &str, id: &str) -> Reply {
    if st.calendar(cal).is_some_and(|c| !c.writable()) {
        return errors::required_access_level();
    }
    let (current, stored) = match lookup(st, cal, id) {
        Found::Stored(json) => (json, true),
        Found::Virtual(json) => (json, false),
        Found::Missing => return errors::not_found(),
    };
    if current.get("status").and_then(Value::as_str) == Some("cancelled") {
        return errors::deleted();
    }
    if !check_if_match(st, req, cal, id, etag_of(&current)) {
        return errors::condition_not_met();
    }
    if stored && !current.contains_key("recurringEventId") {
        st.cancel_event(cal, id);
    } else {
        st.store_event(cal, id, tombstone_of_instance(&current));
    }
    Reply::empty(204)
}

/// `GET events/{id}/instances`: the master's instances over `[timeMin, timeMax)` (default: from
/// the master's start, one year), exceptions in place of the instances they replace, cancelled
/// ones only with `showDeleted=true`. Paged like a listing, never with a `nextSyncToken`.
fn list_instances(st: &mut State, req: &ApiRequest<'_>, cal: &str, id: &str) -> Reply {
    let max = match paging::max_results(&req.query, 250, 2500) {
        Ok(n) => n,
        Err(reply) => return reply,
    };
    let master = match lookup(st, cal, id) {
        Found::Stored(json) if json.get("status").and_then(Value::as_str) == Some("cancelled") => {
            return errors::deleted();
        }
        Found::Stored(json) => json,
        _ => return errors::not_found(),
    };
    let (time_min, time_max) = match (
        parse_time_param(req, "timeMin"),
        parse_time_param(req, "timeMax"),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(reply), _) | (_, Err(reply)) => return reply,
    };
    // [doc events.instances] `originalStart`: "The original start time of the instance in the
    // result": only that instance (an exception in its place) is listed.
    let original = req
        .query
        .get("originalStart")
        .map(|s| {
            let key = if s.len() == 10 { "date" } else { "dateTime" };
            json!({ key: s })
        })
        .and_then(|v| {
            let (utc, _) = instances::bounds_of_time(&v)?;
            Some((instances::suffix_of(&v)?, utc))
        });
    let from = original
        .as_ref()
        .map(|(_, utc)| *utc - Duration::days(1))
        .or(time_min)
        .or_else(|| instances::bounds(&master).map(|(s, _)| s))
        .unwrap_or_default();
    let to = match &original {
        Some((_, utc)) => *utc + Duration::days(1),
        None => time_max.unwrap_or(from + Duration::days(366)),
    };
    let mut expanded: Vec<(String, Value)> = if has_recurrence(&master) {
        match instances::expand(&master, from, to) {
            Ok(list) => list
                .into_iter()
                .map(|(k, v)| (k, Value::Object(v)))
                .collect(),
            Err(reason) => return errors::invalid(&reason, Some("recurrence")),
        }
    } else {
        Vec::new()
    };
    let show_deleted = req.query.flag("showDeleted") == Some(true);
    let Some(calendar) = st.calendar(cal) else {
        return errors::not_found();
    };
    for exception in calendar
        .events
        .values()
        .filter(|e| e.master_id() == Some(id))
    {
        let Some(key) = exception
            .json
            .get("originalStartTime")
            .and_then(instances::suffix_of)
        else {
            continue;
        };
        let slot = expanded.iter().position(|(k, _)| *k == key);
        if exception.is_cancelled() && !show_deleted {
            if let Some(i) = slot {
                expanded.remove(i);
            }
            continue;
        }
        let value = Value::Object(exception.json.clone());
        match slot {
            Some(i) => expanded[i].1 = value,
            None if instances::bounds(&exception.json).is_some_and(|(s, e)| e > from && s < to) => {
                expanded.push((key, value));
            }
            None => {}
        }
    }
    expanded.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some((key, _)) = &original {
        expanded.retain(|(k, _)| k == key);
    }
    let coll = Collection {
        scope: format!("instances:{cal}/{id}"),
        generation: calendar.generation,
        counter: calendar.counter,
        purged_through: 0,
        forbidden_with_sync: &[],
        forced_on_with_sync: &[],
    };
    let cursor = match paging::open_round(st, &coll, &req.query) {
        Ok(c) => c,
        Err(reply) => return reply,
    };
    let (items, token) = paging::page(st, cursor, expanded, max);
    let mut body = Map::new();
    body.insert("kind".into(), json!("calendar#events"));
    token.insert_into(&mut body, false);
    body.insert("items".into(), Value::Array(items));
    Reply::json(200, &Value::Object(body))
}

/// Whether `event` is a cancelled item as a deletion leaves it.
fn is_tombstone(event: &Map<String, Value>) -> bool {
    event.get("status").and_then(Value::as_str) == Some("cancelled")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_base32hex_of_5_to_1024_chars() {
        assert!(valid_id("abcde"));
        assert!(valid_id("0123456789abcdefghijklmnopqrstuv"));
        assert!(!valid_id("abcd"));
        assert!(!valid_id("abcdw"));
        assert!(!valid_id("ABCDE"));
        assert!(!valid_id(&"a".repeat(1025)));
    }

    #[test]
    fn patch_merges_objects_and_replaces_arrays() {
        let mut target =
            json!({"start": {"dateTime": "x", "timeZone": "Z"}, "attendees": [1, 2], "a": 1})
                .as_object()
                .cloned()
                .unwrap_or_default();
        let patch = json!({"start": {"dateTime": "y"}, "attendees": [3], "a": null})
            .as_object()
            .cloned()
            .unwrap_or_default();
        merge(&mut target, patch);
        assert_eq!(
            Value::Object(target),
            json!({"start": {"dateTime": "y", "timeZone": "Z"}, "attendees": [3]})
        );
    }
}
