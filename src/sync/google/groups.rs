//! Google lists each event on its own (a series' master, its exceptions and cancelled instances
//! apart); the cache keeps a series as one item, a JSON array of its events, so our recurrence
//! engine expands it whole. These pure functions fold a page of listed events into the groups
//! the cache holds.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::store::FetchedItem;

/// The group an event belongs to: its master's id (`recurringEventId`), else its own id.
pub fn group_id(event: &Value) -> Option<&str> {
    event
        .get("recurringEventId")
        .and_then(Value::as_str)
        .or_else(|| event.get("id").and_then(Value::as_str))
}

fn is_cancelled(event: &Value) -> bool {
    event.get("status").and_then(Value::as_str) == Some("cancelled")
}

fn is_instance(event: &Value) -> bool {
    event.get("recurringEventId").is_some()
}

/// The events of a group's raw JSON (an array, or one event alone).
pub fn objects(raw: &str) -> Vec<Value> {
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Array(list)) => list,
        Ok(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}

/// A group's etag for the cache: its master's (or its only event's), as Google sent it.
pub fn group_etag(group_id: &str, list: &[Value]) -> Option<String> {
    list.iter()
        .find(|e| e.get("id").and_then(Value::as_str) == Some(group_id))
        .or_else(|| list.first())
        .and_then(|e| e.get("etag"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// What a page does to the cache: groups to store and groups gone.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Folded {
    pub upserts: Vec<FetchedItem>,
    pub removals: Vec<String>,
    /// Groups holding nothing but cancelled instances (their master not met yet, or gone): no
    /// item of their own, but their events join the master if a later page brings it.
    pub orphans: Vec<(String, Vec<Value>)>,
    /// The event ids each upserted group now holds.
    pub members: Vec<(String, Vec<String>)>,
    /// Listed events without an id, in plain words.
    pub skipped: Vec<String>,
}

/// Folds a page of listed events into their groups. `cached` holds the raw JSON of the groups
/// the cache has (at least those the page touches). A cancelled master or single event removes
/// its group; a cancelled instance stays in its group (it hides that occurrence); a group left
/// with nothing but cancelled instances is dropped. Within a page the later copy of an event
/// wins.
pub fn fold_page(items: &[Value], cached: &HashMap<String, String>) -> Folded {
    let mut groups: BTreeMap<String, Option<Vec<Value>>> = BTreeMap::new();
    let mut out = Folded::default();
    for event in items {
        let (Some(id), Some(gid)) = (event.get("id").and_then(Value::as_str), group_id(event))
        else {
            out.skipped
                .push("an event without an id was skipped".to_string());
            continue;
        };
        let slot = groups
            .entry(gid.to_string())
            .or_insert_with(|| Some(cached.get(gid).map(|raw| objects(raw)).unwrap_or_default()));
        if is_cancelled(event) && !is_instance(event) {
            *slot = None;
            continue;
        }
        let list = slot.get_or_insert_with(Vec::new);
        match list
            .iter_mut()
            .find(|e| e.get("id").and_then(Value::as_str) == Some(id))
        {
            Some(old) => *old = event.clone(),
            None => list.push(event.clone()),
        }
    }
    for (gid, list) in groups {
        match list {
            Some(list) if list.iter().any(|e| !is_cancelled(e)) => {
                let ids = list
                    .iter()
                    .filter_map(|e| e.get("id").and_then(Value::as_str).map(str::to_string))
                    .collect();
                out.members.push((gid.clone(), ids));
                out.upserts.push(FetchedItem {
                    etag: group_etag(&gid, &list),
                    raw: serde_json::to_string(&list).unwrap_or_default(),
                    href: gid,
                    problem: None,
                    read: None,
                });
            }
            Some(list) => {
                out.removals.push(gid.clone());
                out.orphans.push((gid, list));
            }
            None => out.removals.push(gid),
        }
    }
    out
}

/// The server's copy of a group after a refused write: the freshly fetched events replace
/// their namesakes in the group the cache holds, whose other events (exceptions Google lists
/// apart) are kept.
pub fn merge_copy(fetched: &str, cached: Option<&str>) -> String {
    let fresh = objects(fetched);
    let mut list = cached.map(objects).unwrap_or_default();
    for event in fresh {
        let id = event.get("id").cloned();
        match list.iter_mut().find(|e| e.get("id") == id.as_ref()) {
            Some(old) => *old = event,
            None => list.push(event),
        }
    }
    serde_json::to_string(&list).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cache(pairs: &[(&str, Value)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn exceptions_join_their_master_and_cancelled_instances_stay_as_exdates() {
        let master = json!({"id":"m1","etag":"\"1\"","status":"confirmed","recurrence":["RRULE:FREQ=DAILY"]});
        let moved = json!({"id":"m1_20260105T090000Z","etag":"\"2\"","recurringEventId":"m1","status":"confirmed"});
        let gone = json!({"id":"m1_20260106T090000Z","etag":"\"3\"","recurringEventId":"m1","status":"cancelled"});
        let single = json!({"id":"s1","etag":"\"4\"","status":"confirmed"});
        let f = fold_page(
            &[moved.clone(), master.clone(), gone.clone(), single],
            &HashMap::new(),
        );
        assert_eq!(f.removals, Vec::<String>::new());
        let ids: Vec<&str> = f.upserts.iter().map(|i| i.href.as_str()).collect();
        assert_eq!(ids, ["m1", "s1"]);
        assert_eq!(f.upserts[0].etag.as_deref(), Some("\"1\""));
        assert_eq!(objects(&f.upserts[0].raw).len(), 3);
        // A later page changes one exception: the cached group keeps the rest.
        let cached = cache(&[("m1", json!([master, moved, gone]))]);
        let moved_again = json!({"id":"m1_20260105T090000Z","etag":"\"5\"","recurringEventId":"m1","summary":"later"});
        let f = fold_page(&[moved_again], &cached);
        let list = objects(&f.upserts[0].raw);
        assert_eq!(list.len(), 3);
        assert_eq!(list[1]["summary"], "later");
    }

    #[test]
    fn a_cancelled_master_or_single_event_removes_its_group() {
        let cached = cache(&[
            ("m1", json!([{"id":"m1","etag":"\"1\""}])),
            ("s1", json!([{"id":"s1"}])),
        ]);
        let f = fold_page(
            &[
                json!({"id":"m1","status":"cancelled"}),
                json!({"id":"s1","status":"cancelled"}),
            ],
            &cached,
        );
        assert_eq!(f.removals, ["m1", "s1"]);
        assert!(f.upserts.is_empty());
        // A cancelled instance whose master is not met yet: no item, but kept for the master.
        let f = fold_page(
            &[json!({"id":"x_1","recurringEventId":"x","status":"cancelled"})],
            &HashMap::new(),
        );
        assert_eq!(f.removals, ["x"]);
        assert_eq!(f.orphans.len(), 1);
        let waiting: HashMap<String, String> = [(
            "x".to_string(),
            Value::Array(f.orphans[0].1.clone()).to_string(),
        )]
        .into();
        let f = fold_page(&[json!({"id":"x","etag":"\"7\""})], &waiting);
        assert_eq!(objects(&f.upserts[0].raw).len(), 2);
        let f = fold_page(&[json!({"summary":"no id"})], &HashMap::new());
        assert_eq!(f.skipped.len(), 1);
    }

    #[test]
    fn a_fetched_master_replaces_its_namesake_and_keeps_the_exceptions() {
        let cached =
            json!([{"id":"m1","etag":"\"1\""},{"id":"m1_x","recurringEventId":"m1"}]).to_string();
        let merged = merge_copy(
            &json!([{"id":"m1","etag":"\"9\""}]).to_string(),
            Some(&cached),
        );
        let list = objects(&merged);
        assert_eq!(list.len(), 2);
        assert_eq!(list[0]["etag"], "\"9\"");
    }
}
