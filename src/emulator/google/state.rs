//! Everything behind the emulator's lock: calendars with their change counters, events with their
//! tombstones, the OAuth clients and grants, the clock, the logs. PROTOCOLS.md §4 Google "State".

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::{LoggedRequest, Switches};

/// PROTOCOLS.md §2 "OAuth": the one scope the client asks for.
pub(crate) const CALENDAR_SCOPE: &str = "https://www.googleapis.com/auth/calendar";

/// One stored event, master, exception or cancelled item, as JSON plus what the server keeps.
#[derive(Debug, Clone)]
pub(crate) struct StoredEvent {
    pub json: Map<String, Value>,
    /// The calendar's change counter at this item's latest change.
    pub changed: u64,
    /// When it was cancelled (emulator clock, seconds), for the tombstone purge.
    pub cancelled_at: Option<i64>,
}

impl StoredEvent {
    pub(crate) fn is_cancelled(&self) -> bool {
        self.json.get("status").and_then(Value::as_str) == Some("cancelled")
    }

    pub(crate) fn master_id(&self) -> Option<&str> {
        self.json.get("recurringEventId").and_then(Value::as_str)
    }
}

/// One calendar and its calendarList entry.
#[derive(Debug)]
pub(crate) struct Calendar {
    pub summary: String,
    pub time_zone: String,
    pub access_role: String,
    /// Index into the calendar colour table (1-based, as `colorId`).
    pub color_id: usize,
    pub primary: bool,
    /// [doc calendarList] `hidden`: the person hid it from the list in Google's views.
    pub hidden: bool,
    /// Removed from the list: served as `deleted: true` to incremental calendarList requests.
    pub deleted: bool,
    /// The calendarList change counter at this entry's latest change.
    pub list_changed: u64,
    pub list_etag: String,
    /// Part of every sync token; a re-created calendar starts a new one (its old tokens get 410).
    pub generation: u64,
    /// Bumped by every change of an event.
    pub counter: u64,
    /// The highest change counter of a purged tombstone: older tokens would miss it (410).
    pub purged_through: u64,
    pub events: BTreeMap<String, StoredEvent>,
}

impl Calendar {
    pub(crate) fn writable(&self) -> bool {
        matches!(self.access_role.as_str(), "owner" | "writer")
    }
}

#[derive(Debug, Clone)]
pub(crate) struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub challenge: String,
    pub scope: String,
    /// Whether the exchange gives a refresh token (offline, and first consent or prompt=consent).
    pub refresh: bool,
    pub issued: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub client_id: String,
    pub scope: String,
    pub issued: i64,
    pub last_used: i64,
}

/// Everything behind the lock.
#[derive(Debug)]
pub(crate) struct State {
    pub calendars: BTreeMap<String, Calendar>,
    /// Bumped by every calendarList change.
    pub list_counter: u64,
    serial: u64,
    last_etag: i64,
    pub clients: BTreeMap<String, String>,
    pub codes: BTreeMap<String, AuthCode>,
    pub access_tokens: BTreeMap<String, Grant>,
    pub refresh_tokens: BTreeMap<String, Grant>,
    /// Clients the user has consented to (a later consent without `prompt=consent` gives no
    /// refresh token, PROTOCOLS.md §2 "OAuth").
    pub consented: BTreeSet<String>,
    pub switches: Switches,
    pub now_override: Option<i64>,
    pub requests: u64,
    pub log: Vec<LoggedRequest>,
    pub violations: Vec<String>,
    pub in_flight: usize,
    /// Until when the last `Retry-After` asked the client to wait.
    pub retry_after_until: Option<Instant>,
    /// Emulator-clock seconds of the API requests admitted by the rate-limit bucket.
    pub bucket: VecDeque<i64>,
}

/// A poisoned lock only means a test thread panicked elsewhere; the state is still usable.
pub(crate) fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl State {
    pub(crate) fn new() -> State {
        State {
            calendars: BTreeMap::new(),
            list_counter: 0,
            serial: 0,
            last_etag: 0,
            clients: BTreeMap::new(),
            codes: BTreeMap::new(),
            access_tokens: BTreeMap::new(),
            refresh_tokens: BTreeMap::new(),
            consented: BTreeSet::new(),
            switches: Switches::default(),
            now_override: None,
            requests: 0,
            log: Vec::new(),
            violations: Vec::new(),
            in_flight: 0,
            retry_after_until: None,
            bucket: VecDeque::new(),
        }
    }

    /// The emulator clock in Unix milliseconds.
    pub(crate) fn now_ms(&self) -> i64 {
        match self.now_override {
            Some(secs) => secs * 1000,
            None => Utc::now().timestamp_millis(),
        }
    }

    pub(crate) fn now(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// The clock as Google writes `updated`: RFC 3339 UTC with milliseconds.
    pub(crate) fn now_rfc3339(&self) -> String {
        DateTime::<Utc>::from_timestamp_millis(self.now_ms())
            .unwrap_or_default()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
    }

    pub(crate) fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    /// PROTOCOLS.md §2 "Etags": a JSON string holding quotes, `"\"3412550318086000\""`; new and
    /// larger on every change.
    pub(crate) fn new_etag(&mut self) -> String {
        let etag = (self.now_ms() * 1000).max(self.last_etag + 1);
        self.last_etag = etag;
        format!("\"{etag}\"")
    }

    /// A fresh base32hex id (`[a-v0-9]`), as Google generates them.
    pub(crate) fn new_event_id(&mut self) -> String {
        let n = self.next_serial();
        let mut id = String::from("emu");
        let mut x = n.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ n;
        for _ in 0..16 {
            id.push(char::from(
                b"0123456789abcdefghijklmnopqrstuv"[(x & 31) as usize],
            ));
            x >>= 4;
        }
        id.push_str(&n.to_string());
        id
    }

    /// An opaque secret (codes, tokens).
    pub(crate) fn new_secret(&mut self, prefix: &str) -> String {
        let n = self.next_serial();
        let digest = super::sha256::sha256(format!("{prefix}{n}{}", self.now_ms()).as_bytes());
        format!("{prefix}{}", super::sha256::base64url(&digest[..18]))
    }

    pub(crate) fn violation(&mut self, what: impl Into<String>) {
        self.violations.push(what.into());
    }

    /// `primary` names the primary calendar (Google's alias).
    pub(crate) fn calendar_id(&self, id: &str) -> String {
        if id == "primary"
            && let Some((real, _)) = self.calendars.iter().find(|(_, c)| c.primary && !c.deleted)
        {
            return real.clone();
        }
        id.to_string()
    }

    /// A live calendar.
    pub(crate) fn calendar(&self, id: &str) -> Option<&Calendar> {
        self.calendars.get(id).filter(|c| !c.deleted)
    }

    pub(crate) fn calendar_mut(&mut self, id: &str) -> Option<&mut Calendar> {
        self.calendars.get_mut(id).filter(|c| !c.deleted)
    }

    fn bump_list(&mut self, id: &str) {
        self.list_counter += 1;
        let counter = self.list_counter;
        let etag = self.new_etag();
        if let Some(cal) = self.calendars.get_mut(id) {
            cal.list_changed = counter;
            cal.list_etag = etag;
        }
    }

    pub(crate) fn add_calendar(&mut self, id: &str, summary: &str, access_role: &str) {
        let colors = self.calendars.len() % 24 + 1;
        let primary = !self.calendars.values().any(|c| c.primary);
        let generation = self.next_serial();
        let cal = self
            .calendars
            .entry(id.to_string())
            .or_insert_with(|| Calendar {
                summary: String::new(),
                time_zone: "UTC".to_string(),
                access_role: String::new(),
                color_id: colors,
                primary,
                hidden: false,
                deleted: false,
                list_changed: 0,
                list_etag: String::new(),
                generation,
                counter: 0,
                purged_through: 0,
                events: BTreeMap::new(),
            });
        if cal.deleted {
            // A calendar shared again: its old sync tokens are dead (PROTOCOLS.md §2 "410
            // fullSyncRequired (expiry, ACL change)").
            cal.deleted = false;
            cal.generation = generation;
            cal.counter = 0;
            cal.purged_through = 0;
        }
        cal.summary = summary.to_string();
        cal.access_role = access_role.to_string();
        self.bump_list(id);
    }

    pub(crate) fn remove_calendar(&mut self, id: &str) {
        let Some(cal) = self.calendar_mut(id) else {
            return;
        };
        cal.deleted = true;
        cal.events.clear();
        self.bump_list(id);
    }

    pub(crate) fn hide_calendar(&mut self, id: &str, hidden: bool) {
        let Some(cal) = self.calendar_mut(id) else {
            return;
        };
        cal.hidden = hidden;
        self.bump_list(id);
    }

    pub(crate) fn rename_calendar(&mut self, id: &str, summary: &str) {
        let Some(cal) = self.calendar_mut(id) else {
            return;
        };
        cal.summary = summary.to_string();
        self.bump_list(id);
    }

    /// Stores `json` as event `id` of calendar `cal`: new etag and `updated`, the calendar's
    /// counter bumped. PROTOCOLS.md §2 "Etags, ids, writes"; §4 "per calendar a change counter".
    pub(crate) fn store_event(
        &mut self,
        cal: &str,
        id: &str,
        mut json: Map<String, Value>,
    ) -> Map<String, Value> {
        json.insert("etag".into(), Value::from(self.new_etag()));
        json.insert("updated".into(), Value::from(self.now_rfc3339()));
        let now = self.now();
        let Some(calendar) = self.calendar_mut(cal) else {
            return json;
        };
        calendar.counter += 1;
        let cancelled = json.get("status").and_then(Value::as_str) == Some("cancelled");
        calendar.events.insert(
            id.to_string(),
            StoredEvent {
                json: json.clone(),
                changed: calendar.counter,
                cancelled_at: cancelled.then_some(now),
            },
        );
        json
    }

    /// The fields Google fills in on insert, where the client left them out.
    pub(crate) fn complete_new_event(
        &mut self,
        cal: &str,
        id: &str,
        json: &mut Map<String, Value>,
    ) {
        let now = self.now_rfc3339();
        let defaults = [
            ("kind", json!("calendar#event")),
            ("id", json!(id)),
            ("status", json!("confirmed")),
            (
                "htmlLink",
                json!(format!(
                    "https://www.google.com/calendar/event?eid={}",
                    super::sha256::base64url(format!("{id} {cal}").as_bytes())
                )),
            ),
            ("created", json!(now)),
            ("iCalUID", json!(format!("{id}@google.com"))),
            ("sequence", json!(0)),
            ("creator", json!({"email": cal, "self": true})),
            ("organizer", json!({"email": cal, "self": true})),
            ("reminders", json!({"useDefault": true})),
            ("eventType", json!("default")),
        ];
        for (key, value) in defaults {
            json.entry(key).or_insert(value);
        }
        json.insert("id".into(), json!(id));
    }

    /// [`super::GoogleEmulator::put_event`].
    pub(crate) fn put_event(&mut self, cal: &str, event: Value) -> Value {
        if self.calendar(cal).is_none() {
            self.add_calendar(cal, cal, "owner");
        }
        let mut json = match event {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let id = match json.get("id").and_then(Value::as_str) {
            Some(id) => id.to_string(),
            None => self.new_event_id(),
        };
        let old = self
            .calendar(cal)
            .and_then(|c| c.events.get(&id))
            .map(|e| e.json.clone());
        if let Some(old) = &old {
            for key in ["created", "iCalUID", "htmlLink", "creator", "organizer"] {
                if let Some(v) = old.get(key) {
                    json.entry(key).or_insert_with(|| v.clone());
                }
            }
            let seq = old.get("sequence").and_then(Value::as_i64).unwrap_or(0);
            json.entry("sequence").or_insert(json!(seq + 1));
        }
        self.complete_new_event(cal, &id, &mut json);
        Value::Object(self.store_event(cal, &id, json))
    }

    /// A delete: a master cancels its series (with its exceptions), anything else leaves a
    /// cancelled item. PROTOCOLS.md §2 "Cancelled items, recurrence".
    pub(crate) fn cancel_event(&mut self, cal: &str, id: &str) -> bool {
        let Some(calendar) = self.calendar(cal) else {
            return false;
        };
        let Some(event) = calendar.events.get(id).filter(|e| !e.is_cancelled()) else {
            return false;
        };
        let tombstone = tombstone(&event.json);
        let exceptions: Vec<(String, Map<String, Value>)> = calendar
            .events
            .iter()
            .filter(|(_, e)| e.master_id() == Some(id) && !e.is_cancelled())
            .map(|(k, e)| (k.clone(), tombstone_of_instance(&e.json)))
            .collect();
        self.store_event(cal, id, tombstone);
        for (key, json) in exceptions {
            self.store_event(cal, &key, json);
        }
        true
    }

    pub(crate) fn live_events(&self, cal: &str) -> Vec<Value> {
        self.calendar(cal).map_or_else(Vec::new, |c| {
            c.events
                .values()
                .filter(|e| !e.is_cancelled())
                .map(|e| Value::Object(e.json.clone()))
                .collect()
        })
    }

    /// PROTOCOLS.md §2 "Cancelled items … vanish after a while": drops tombstones older than the
    /// horizon (cancelled instances only with their master), remembering the newest purged
    /// change so older tokens get 410.
    pub(crate) fn purge(&mut self, cal: &str) {
        let horizon = i64::try_from(self.switches.tombstone_horizon_secs).unwrap_or(i64::MAX);
        let cutoff = self.now().saturating_sub(horizon);
        let Some(calendar) = self.calendar_mut(cal) else {
            return;
        };
        let old = |e: &StoredEvent| e.cancelled_at.is_some_and(|t| t < cutoff);
        let gone: Vec<String> = calendar
            .events
            .iter()
            .filter(|(_, e)| {
                old(e)
                    && e.master_id()
                        .is_none_or(|m| calendar.events.get(m).is_none_or(old))
            })
            .map(|(k, _)| k.clone())
            .collect();
        for id in gone {
            if let Some(e) = calendar.events.remove(&id) {
                calendar.purged_through = calendar.purged_through.max(e.changed);
            }
        }
    }

    /// Tokens for a signed-in user; the refresh token only if `refresh`.
    pub(crate) fn issue_tokens(
        &mut self,
        client_id: &str,
        scope: &str,
        refresh: bool,
    ) -> (String, String) {
        let now = self.now();
        let grant = Grant {
            client_id: client_id.to_string(),
            scope: scope.to_string(),
            issued: now,
            last_used: now,
        };
        let access = self.new_secret("ya29.emu-");
        self.access_tokens.insert(access.clone(), grant.clone());
        let refresh_token = if refresh {
            let token = self.new_secret("1//emu-");
            self.refresh_tokens.insert(token.clone(), grant);
            token
        } else {
            String::new()
        };
        (access, refresh_token)
    }
}

/// PROTOCOLS.md §2 "a deleted event guarantees only `id`": what stays of a cancelled event.
fn tombstone(json: &Map<String, Value>) -> Map<String, Value> {
    if json.contains_key("recurringEventId") {
        return tombstone_of_instance(json);
    }
    let mut out = Map::new();
    for key in ["kind", "id"] {
        if let Some(v) = json.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    out.insert("status".into(), json!("cancelled"));
    out
}

/// PROTOCOLS.md §2 "A cancelled instance of a live series guarantees `id`, `recurringEventId`,
/// `originalStartTime`", in the shape of the example there.
pub(crate) fn tombstone_of_instance(json: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for key in ["kind", "id", "recurringEventId", "originalStartTime"] {
        if let Some(v) = json.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    out.insert("kind".into(), json!("calendar#event"));
    out.insert("status".into(), json!("cancelled"));
    out
}

/// PROTOCOLS.md §2 [obs] "`recurrence` may break RFC 5545 (DATE/DATE-TIME mixed, unknown zones →
/// floating)" and §2 Times [obs] "all-day `end <= start`".
pub(crate) fn bad_data_events() -> Vec<Value> {
    vec![
        json!({
            "id": "baddatamixedexdate",
            "summary": "Mixed EXDATE kinds",
            "start": {"dateTime": "2026-01-05T09:00:00+01:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2026-01-05T10:00:00+01:00", "timeZone": "Europe/Berlin"},
            "recurrence": [
                "RRULE:FREQ=DAILY;COUNT=10",
                "EXDATE;VALUE=DATE:20260107",
                "EXDATE;TZID=Europe/Berlin:20260108T090000",
                "EXDATE:20260109T080000Z"
            ]
        }),
        json!({
            "id": "baddataunknownzone",
            "summary": "Unknown zone",
            "start": {"dateTime": "2026-01-06T09:00:00", "timeZone": "Mars/Olympus_Mons"},
            "end": {"dateTime": "2026-01-06T10:00:00", "timeZone": "Mars/Olympus_Mons"},
            "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3"]
        }),
        json!({
            "id": "baddataalldayend",
            "summary": "All-day end before start",
            "start": {"date": "2026-01-10"},
            "end": {"date": "2026-01-09"}
        }),
    ]
}
