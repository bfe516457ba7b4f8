//! The far side of a Microsoft Graph calendar, for tests that need "another client": its own
//! public client and access token, plain HTTP to the emulator's API (no almanac code), writes
//! guarded by `If-Match` like a careful client's (PROTOCOLS.md §3 "Ids, etags, writes").
//! Include with `#[path = "support/far_graph.rs"] mod …;`.
//!
//! Graph chooses ids and `iCalUId`s, so the far side remembers which event it made for each of
//! the scenario's keys (`e1`), for every far side of the same calendar; the cache knows the event
//! by that `iCalUId` (see [`GraphFar::uid`]). Graph lists a calendar only over a window
//! (`calendarView`), so listings come from the emulator's store (`GraphEmulator::events`).

use std::collections::BTreeMap;
use std::sync::Mutex;

use almanac::emulator::graph::{GraphEmulator, LoggedRequest};
use serde_json::{Value, json};

/// The far side's own public client, registered next to the one under test.
pub const FAR_CLIENT: &str = "99999999-8888-7777-6666-555555555555";

/// What every request carries (PROTOCOLS.md §3 "Every request … `Prefer`").
const PREFER: &str = "odata.maxpagesize=100, outlook.timezone=\"UTC\", outlook.body-content-type=\"text\", IdType=\"ImmutableId\"";

/// The fields the server owns (it changes them on every write): left out when a test compares an
/// event before and after an edit.
pub const SERVER_FIELDS: &[&str] = &["@odata.etag", "changeKey", "lastModifiedDateTime"];

/// (calendar id, key) → (event id, iCalUId), for every far side in the process.
static MADE: Mutex<BTreeMap<(String, String), (String, String)>> = Mutex::new(BTreeMap::new());

/// The Graph counterpart of the iCalendar `rich` event: fields a careful client must not lose
/// (attendees, a reminder, categories, free/busy, a body, a field no client knows).
pub fn rich(summary: &str) -> Value {
    json!({
        "subject": summary,
        "body": {"contentType": "text", "content": "A long description that goes on and on so that it has to be folded over two lines."},
        "start": {"dateTime": "2026-11-24T10:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-11-24T11:00:00.0000000", "timeZone": "UTC"},
        "attendees": [{"type": "required", "status": {"response": "accepted", "time": "2026-01-01T00:00:00Z"},
                       "emailAddress": {"name": "Bob Example", "address": "bob@example.org"}}],
        "isReminderOn": true,
        "reminderMinutesBeforeStart": 15,
        "categories": ["Blue category"],
        "showAs": "free",
        "xAlmanacTest": {"param": "kept", "value": "value with spaces", "list": [1, "two", null]},
    })
}

/// One event as a one-event item (`{"graph":[…]}`), readable by `read_any`.
pub fn as_item(event: &Value) -> String {
    json!({ "graph": [event] }).to_string()
}

pub struct GraphFar {
    pub emu: GraphEmulator,
    http: reqwest::Client,
    token: String,
    /// The calendar's id (Graph's, not its name).
    pub calendar: String,
}

impl GraphFar {
    /// A second client of the calendar named `name` (which must exist on `emu`).
    pub async fn new(emu: &GraphEmulator, name: &str) -> GraphFar {
        emu.add_client(FAR_CLIENT);
        let (token, _) = emu.issue_tokens(FAR_CLIENT);
        let mut far = GraphFar {
            emu: emu.clone(),
            http: reqwest::Client::new(),
            token,
            calendar: String::new(),
        };
        let (status, list) = far
            .send(
                "GET",
                &format!("{}/me/calendars", emu.api_url()),
                None,
                None,
            )
            .await;
        assert_eq!(status, 200, "GET /me/calendars: {list}");
        far.calendar = list["value"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["name"] == name)
            .and_then(|c| c["id"].as_str())
            .unwrap_or_else(|| panic!("no calendar named {name}: {list}"))
            .to_string();
        far
    }

    async fn send(
        &self,
        method: &str,
        url: &str,
        if_match: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url)
            .bearer_auth(&self.token)
            .header("Prefer", PREFER);
        if let Some(etag) = if_match {
            req = req.header("If-Match", etag);
        }
        if let Some(body) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let resp = req.send().await.expect("the far side answers");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    fn event_url(&self, id: &str) -> String {
        format!("{}/me/events/{id}", self.emu.api_url())
    }

    fn made(&self, key: &str) -> Option<(String, String)> {
        MADE.lock()
            .unwrap()
            .get(&(self.calendar.clone(), key.to_string()))
            .cloned()
    }

    /// The `iCalUId` of the event made for `key` (the UID the cache knows it by); anything else
    /// (a UID already) as it is.
    pub fn uid(&self, key: &str) -> String {
        self.made(key)
            .map_or_else(|| key.to_string(), |(_, uid)| uid)
    }

    /// The event `id` as the server gives it, if it lives.
    pub async fn get(&self, id: &str) -> Option<Value> {
        let (status, body) = self.send("GET", &self.event_url(id), None, None).await;
        match status {
            200 => Some(body),
            404 => None,
            _ => panic!("GET {id}: {status} {body}"),
        }
    }

    /// Creates `event` by `POST` (Graph chooses its id and iCalUId).
    pub async fn insert(&self, event: &Value) -> Value {
        let url = format!(
            "{}/me/calendars/{}/events",
            self.emu.api_url(),
            self.calendar
        );
        let (status, body) = self.send("POST", &url, None, Some(event)).await;
        assert_eq!(status, 201, "POST {event}: {body}");
        body
    }

    /// Creates the rich event for `key` titled `summary`, or retitles the one made before: a get,
    /// then `PATCH` of the subject with `If-Match` on the etag it gave.
    pub async fn put(&self, key: &str, summary: &str) {
        if let Some((id, _)) = self.made(key)
            && let Some(current) = self.get(&id).await
        {
            let etag = current["@odata.etag"].as_str().unwrap_or_default();
            let patch = json!({ "subject": summary });
            let (status, body) = self
                .send("PATCH", &self.event_url(&id), Some(etag), Some(&patch))
                .await;
            assert_eq!(status, 200, "PATCH {id}: {body}");
            return;
        }
        let stored = self.insert(&rich(summary)).await;
        let text = |k: &str| stored[k].as_str().unwrap_or_default().to_string();
        MADE.lock().unwrap().insert(
            (self.calendar.clone(), key.to_string()),
            (text("id"), text("iCalUId")),
        );
    }

    /// Deletes the event made for `key`, guarded by the etag a get gave.
    pub async fn delete(&self, key: &str) {
        let (id, _) = self.made(key).expect("the event to delete was made");
        let current = self.get(&id).await.expect("the event to delete exists");
        let etag = current["@odata.etag"].as_str().unwrap_or_default();
        let (status, body) = self
            .send("DELETE", &self.event_url(&id), Some(etag), None)
            .await;
        assert_eq!(status, 204, "DELETE {id}: {body}");
    }

    /// The requests the emulator answered to create events in this calendar (by anyone).
    pub fn creates(&self) -> Vec<LoggedRequest> {
        let path = format!("/v1.0/me/calendars/{}/events", self.calendar);
        self.emu
            .request_log()
            .into_iter()
            .filter(|l| l.method == "POST" && l.path_and_query.starts_with(&path))
            .collect()
    }

    /// Every stored event of the calendar, as the server holds it.
    pub fn live(&self) -> Vec<Value> {
        self.emu.events(&self.calendar)
    }

    /// Each live event named `uid` (a key's, its `iCalUId`, or the `transactionId` a create of
    /// ours carried: our local UID), as a one-event item.
    pub fn with_uid(&self, uid: &str) -> Vec<String> {
        let uid = self.uid(uid);
        self.live()
            .into_iter()
            .filter(|e| e["iCalUId"] == uid.as_str() || e["transactionId"] == uid.as_str())
            .map(|e| as_item(&e))
            .collect()
    }

    /// (id, etag) of every single event and series master, sorted: what an in-step cache holds.
    pub fn groups(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .live()
            .into_iter()
            .filter(|e| e["type"] != "exception")
            .map(|e| {
                (
                    e["id"].as_str().unwrap_or_default().to_string(),
                    e["@odata.etag"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        v.sort();
        v
    }
}
