//! The bodies of Graph writes: a PATCH names only the properties that changed (arrays and complex
//! values whole, as Graph wants them); a POST carries every writable property. Properties the
//! server keeps (ids, stamps, the series' structure) are never sent.

use serde_json::{Map, Value};

/// Properties of an event the server sets or that describe where it sits in a series: never sent.
const READ_ONLY: &[&str] = &[
    "id",
    "changeKey",
    "createdDateTime",
    "lastModifiedDateTime",
    "type",
    "seriesMasterId",
    "iCalUId",
    "uid",
    "originalStart",
    "originalStartTimeZone",
    "originalEndTimeZone",
    "webLink",
    "onlineMeeting",
    "onlineMeetingUrl",
    "isOrganizer",
    "isCancelled",
    "isDraft",
    "hasAttachments",
    "responseStatus",
    "occurrenceId",
    "cancelledOccurrences",
    "exceptionOccurrences",
    // Navigation properties: written through their own requests.
    "attachments",
    "calendar",
    "extensions",
    "instances",
    "multiValueExtendedProperties",
    "singleValueExtendedProperties",
];

/// Whether an event property is never ours to send: the server's (`@odata.*` annotations, ids,
/// stamps, `type`, `seriesMasterId`, `originalStart`, `iCalUId`, `webLink`, `onlineMeeting`, …).
/// `transactionId` is sent once, on create.
pub fn is_read_only(key: &str) -> bool {
    key.starts_with('@') || key.contains("@odata.") || READ_ONLY.contains(&key)
}

/// The PATCH body turning `before` into `after` (two versions of one event object): the writable
/// properties whose values differ, whole; a property `after` dropped is sent as `null`.
pub fn patch_body(before: &Value, after: &Value) -> Map<String, Value> {
    let empty = Map::new();
    let was = before.as_object().unwrap_or(&empty);
    let now = after.as_object().unwrap_or(&empty);
    let mut out = Map::new();
    for (key, value) in now {
        if !is_read_only(key) && key != "transactionId" && was.get(key) != Some(value) {
            out.insert(key.clone(), value.clone());
        }
    }
    for key in was.keys() {
        if !is_read_only(key) && key != "transactionId" && !now.contains_key(key) {
            out.insert(key.clone(), Value::Null);
        }
    }
    out
}

/// The POST body creating `event`: its writable properties, `transactionId` included (so a retried
/// create makes no second event).
pub fn create_body(event: &Value) -> Value {
    let mut out = Map::new();
    if let Some(obj) = event.as_object() {
        for (key, value) in obj {
            if !is_read_only(key) && !value.is_null() {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(out)
}
