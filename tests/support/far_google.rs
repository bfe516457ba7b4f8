//! The far side of a Google calendar, for tests that need "another client": its own OAuth client
//! and access token, plain HTTP to the emulator's API (no almanac code), writes guarded by
//! `If-Match` like a careful client's. Include with `#[path = "support/far_google.rs"] mod …;`.

use almanac::emulator::google::{GoogleEmulator, LoggedRequest};
use serde_json::{Value, json};

/// The far side's own OAuth client, registered next to the one under test.
pub const FAR_CLIENT: &str = "far-side.apps.googleusercontent.com";
const FAR_SECRET: &str = "far-side-secret";

/// The Google event id the far side gives the scenario's event `key` (ids are base32hex,
/// `[a-v0-9]`, at least 5 characters): `e1` → `e10000`.
pub fn id_of(key: &str) -> String {
    let id = format!("{key}0000");
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'v').contains(&b)),
        "{key} cannot name a Google event"
    );
    id
}

/// The Google counterpart of the iCalendar `rich` event: fields a careful client must not lose
/// (attendees, reminder overrides, extended properties, a colour, a field no client knows),
/// iCalUID = `key` so the cache finds it by the same UID as on CalDAV.
pub fn rich(key: &str, summary: &str) -> Value {
    json!({
        "id": id_of(key),
        "iCalUID": key,
        "summary": summary,
        "description": "A long description that goes on and on so that it has to be folded over two lines.",
        "start": {"dateTime": "2026-11-24T10:00:00Z", "timeZone": "UTC"},
        "end": {"dateTime": "2026-11-24T11:00:00Z", "timeZone": "UTC"},
        "attendees": [
            {"email": "bob@example.org", "displayName": "Bob Example", "responseStatus": "accepted"}
        ],
        "reminders": {"useDefault": false, "overrides": [{"method": "popup", "minutes": 15}]},
        "extendedProperties": {"private": {"almanacTest": "kept"}, "shared": {"x-param": "kept"}},
        "colorId": "7",
        "transparency": "transparent",
        "xAlmanacTest": {"param": "kept", "value": "value with spaces", "list": [1, "two", null]},
    })
}

/// The fields the server owns (it changes them on every write): left out when a test compares
/// an event before and after an edit.
pub const SERVER_FIELDS: &[&str] = &["etag", "updated", "sequence"];

pub struct GoogleFar {
    pub emu: GoogleEmulator,
    http: reqwest::Client,
    token: String,
    /// `…/calendars/{id}/events`, no trailing slash.
    events: String,
}

impl GoogleFar {
    /// A second client of calendar `calendar` (which must exist on `emu`).
    pub fn new(emu: &GoogleEmulator, calendar: &str) -> GoogleFar {
        emu.add_client(FAR_CLIENT, FAR_SECRET);
        let (token, _) = emu.issue_tokens(FAR_CLIENT);
        GoogleFar {
            emu: emu.clone(),
            http: reqwest::Client::new(),
            token,
            events: format!("{}calendars/{calendar}/events", emu.api_url()),
        }
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
            .bearer_auth(&self.token);
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

    /// The stored event `id` (cancelled ones too, while their tombstone lasts).
    pub async fn get(&self, id: &str) -> Option<Value> {
        let (status, body) = self
            .send("GET", &format!("{}/{id}", self.events), None, None)
            .await;
        match status {
            200 => Some(body),
            404 | 410 => None,
            _ => panic!("GET {id}: {status} {body}"),
        }
    }

    /// Creates `event` (with the id it carries) by `POST`, as a client that chose it.
    pub async fn insert(&self, event: &Value) -> Value {
        let (status, body) = self.send("POST", &self.events, None, Some(event)).await;
        assert_eq!(status, 200, "POST {event}: {body}");
        body
    }

    /// Creates or replaces `event` (by its id): a get, then `PUT` with `If-Match` on the etag it
    /// gave, or an insert. The server's sequence stays the server's.
    pub async fn upsert(&self, mut event: Value) -> Value {
        let id = event["id"]
            .as_str()
            .expect("the event has an id")
            .to_string();
        let Some(current) = self.get(&id).await else {
            return self.insert(&event).await;
        };
        if let Some(obj) = event.as_object_mut() {
            obj.remove("sequence");
        }
        let etag = current["etag"].as_str().unwrap_or_default().to_string();
        let url = format!("{}/{id}", self.events);
        let (status, body) = self.send("PUT", &url, Some(&etag), Some(&event)).await;
        assert_eq!(status, 200, "PUT {id}: {body}");
        body
    }

    /// Deletes event `id`, guarded by the etag a get gave.
    pub async fn delete(&self, id: &str) {
        let current = self.get(id).await.expect("the event to delete exists");
        let etag = current["etag"].as_str().unwrap_or_default().to_string();
        let url = format!("{}/{id}", self.events);
        let (status, body) = self.send("DELETE", &url, Some(&etag), None).await;
        assert_eq!(status, 204, "DELETE {id}: {body}");
    }

    /// The requests the emulator answered for this calendar's events (by anyone), in order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        let path = reqwest::Url::parse(&self.events)
            .unwrap()
            .path()
            .to_string();
        self.emu
            .request_log()
            .into_iter()
            .filter(|l| l.path_and_query.starts_with(&path))
            .collect()
    }

    /// Every live event of the calendar (a full listing, every page).
    pub async fn live(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let mut page: Option<String> = None;
        loop {
            let mut url = reqwest::Url::parse(&self.events).unwrap();
            url.query_pairs_mut().append_pair("maxResults", "2500");
            if let Some(p) = &page {
                url.query_pairs_mut().append_pair("pageToken", p);
            }
            let (status, body) = self.send("GET", url.as_str(), None, None).await;
            assert_eq!(status, 200, "listing: {body}");
            out.extend(body["items"].as_array().cloned().unwrap_or_default());
            match body["nextPageToken"].as_str() {
                Some(p) => page = Some(p.to_string()),
                None => break,
            }
        }
        out.retain(|e| e["status"] != "cancelled");
        out
    }

    /// Each live event named `uid` (by its id or its iCalUID), as a one-event group (what the
    /// cache holds, readable by `read_any`).
    pub async fn with_uid(&self, uid: &str) -> Vec<String> {
        self.live()
            .await
            .into_iter()
            .filter(|e| e["id"] == uid || e["iCalUID"] == uid)
            .map(|e| Value::Array(vec![e]).to_string())
            .collect()
    }

    /// (group id, group etag) of every live group, sorted: what an in-step cache holds. Only
    /// single events and masters head a group (the tests make no series).
    pub async fn groups(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .live()
            .await
            .into_iter()
            .filter(|e| e.get("recurringEventId").is_none())
            .map(|e| {
                (
                    e["id"].as_str().unwrap_or_default().to_string(),
                    e["etag"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        v.sort();
        v
    }
}
