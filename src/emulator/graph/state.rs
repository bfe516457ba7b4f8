//! Everything behind the emulator's lock: one mailbox's calendars and events, the change sequence
//! every write bumps, the OAuth clients, device codes and grants, the clock and the logs.
//! PROTOCOLS.md §4 Graph "State: per mailbox, calendars and events (…, `changeKey`, masters,
//! exceptions, cancelled occurrences, `transactionId` index); per-calendar change log with
//! generations".
//!
//! Each event keeps its whole version history (one entry per change, `None` once deleted), so a
//! delta round can be served from the snapshot it began at and diffed against the one its token
//! names: the change log is the history, filtered by calendar.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::super::google::sha256::{base64url, sha256};
use super::{GraphSwitches, LoggedRequest, delta, instances};

/// What a stored item is (PROTOCOLS.md §3 "Types"); occurrences are never stored, only derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Single,
    Master,
    Exception,
}

/// One version of a stored item.
#[derive(Debug, Clone)]
pub(crate) struct Body {
    /// The full object as stored (no `@odata.etag`: it is derived from `changeKey`).
    pub json: Map<String, Value>,
    /// Masters: original starts (Unix seconds) of cancelled occurrences.
    pub cancelled: BTreeSet<i64>,
}

#[derive(Debug, Clone)]
pub(crate) struct Version {
    pub seq: u64,
    /// `None`: deleted at `seq`.
    pub body: Option<Body>,
}

/// A single event, a series master or an exception, with its history.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub calendar: String,
    pub kind: Kind,
    /// Exceptions: the master's id and the occurrence's original start.
    pub master: Option<String>,
    pub original_start: Option<i64>,
    pub history: Vec<Version>,
}

impl Item {
    /// The version in effect at change `seq`, with the seq it was written at.
    pub(crate) fn at(&self, seq: u64) -> Option<(&Body, u64)> {
        let v = self.history.iter().rev().find(|v| v.seq <= seq)?;
        v.body.as_ref().map(|b| (b, v.seq))
    }

    pub(crate) fn current(&self) -> Option<&Body> {
        self.history.last().and_then(|v| v.body.as_ref())
    }
}

/// One calendar of the mailbox.
#[derive(Debug, Clone)]
pub(crate) struct Calendar {
    pub name: String,
    pub can_edit: bool,
    pub is_default: bool,
    pub hex_color: String,
}

/// A device code (PROTOCOLS.md §3 "OAuth") and what became of it.
#[derive(Debug, Clone)]
pub(crate) struct DeviceCode {
    pub client_id: String,
    pub user_code: String,
    pub scope: String,
    pub issued: i64,
    /// `Some(true)` approved, `Some(false)` declined.
    pub decision: Option<bool>,
    pub polls: usize,
    pub interval_secs: u64,
    pub last_poll: Option<Instant>,
    pub redeemed: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub client_id: String,
    pub scope: String,
    pub issued: i64,
}

/// Everything behind the lock.
#[derive(Debug)]
pub(crate) struct State {
    /// `http://127.0.0.1:PORT`, for the absolute links of delta rounds.
    pub origin: String,
    pub calendars: BTreeMap<String, Calendar>,
    pub items: BTreeMap<String, Item>,
    /// PROTOCOLS.md §3 "a retried create with it makes no second event": transactionId → id.
    pub transactions: BTreeMap<String, String>,
    /// The change sequence: every write takes the next number (the delta generation).
    pub seq: u64,
    serial: u64,
    pub clients: BTreeSet<String>,
    pub device_codes: BTreeMap<String, DeviceCode>,
    pub access_tokens: BTreeMap<String, Grant>,
    pub refresh_tokens: BTreeMap<String, Grant>,
    pub switches: GraphSwitches,
    pub now_override: Option<i64>,
    pub requests: u64,
    pub log: Vec<LoggedRequest>,
    pub violations: Vec<String>,
    pub in_flight: usize,
    /// Until when the last `Retry-After` asked the client to wait.
    pub retry_after_until: Option<Instant>,
    /// Per delta round: the newest page number served (`older_next_links_die`).
    pub rounds: BTreeMap<u64, u64>,
    /// The entries of recent rounds, by what they are a function of (history only grows): a
    /// round's pages are slices of one list, not each a new computation of the window.
    pub round_cache:
        std::collections::HashMap<super::delta::RoundKey, std::sync::Arc<Vec<super::delta::Entry>>>,
}

/// A poisoned lock only means a test thread panicked elsewhere; the state is still usable.
pub(crate) fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Calendar colours as Outlook's palette gives them (`hexColor`).
const COLORS: [&str; 6] = [
    "#5A8BC7", "#3FA35A", "#C74D4D", "#D9A03F", "#8A5AC7", "#4DB3B3",
];

impl State {
    pub(crate) fn new() -> State {
        State {
            origin: String::new(),
            calendars: BTreeMap::new(),
            items: BTreeMap::new(),
            transactions: BTreeMap::new(),
            seq: 0,
            serial: 0,
            clients: BTreeSet::new(),
            device_codes: BTreeMap::new(),
            access_tokens: BTreeMap::new(),
            refresh_tokens: BTreeMap::new(),
            switches: GraphSwitches::default(),
            now_override: None,
            requests: 0,
            log: Vec::new(),
            violations: Vec::new(),
            in_flight: 0,
            retry_after_until: None,
            rounds: BTreeMap::new(),
            round_cache: std::collections::HashMap::new(),
        }
    }

    pub(crate) fn now(&self) -> i64 {
        self.now_override.unwrap_or_else(|| Utc::now().timestamp())
    }

    /// The clock as Graph writes `lastModifiedDateTime`: UTC, seven digits, `Z`.
    pub(crate) fn now_iso(&self) -> String {
        let t = DateTime::<Utc>::from_timestamp(self.now(), 0).unwrap_or_default();
        format!(
            "{}Z",
            crate::domain::graph::time::write_date_time(t.naive_utc())
        )
    }

    pub(crate) fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    /// An opaque secret or id: a prefix and base64url of a digest.
    pub(crate) fn new_secret(&mut self, prefix: &str, bytes: usize) -> String {
        let n = self.next_serial();
        let digest = sha256(format!("{prefix}{n}{}", self.now()).as_bytes());
        format!("{prefix}{}", base64url(&digest[..bytes.min(32)]))
    }

    /// PROTOCOLS.md §3 "Ids are case-sensitive": an immutable id, base64url-like (`AAMk…`); with
    /// `case_twin_ids` one differing from an existing id only in the case of one letter.
    pub(crate) fn new_event_id(&mut self) -> String {
        if self.switches.case_twin_ids {
            let twin = self.items.keys().rev().find_map(|existing| {
                (0..existing.len()).rev().find_map(|i| {
                    let c = existing[i..].chars().next()?;
                    if !c.is_ascii_alphabetic() {
                        return None;
                    }
                    let flipped = if c.is_ascii_lowercase() {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    };
                    let candidate = format!(
                        "{}{flipped}{}",
                        &existing[..i],
                        &existing[i + c.len_utf8()..]
                    );
                    (!self.items.contains_key(&candidate)).then_some(candidate)
                })
            });
            if let Some(id) = twin {
                return id;
            }
        }
        loop {
            let id = self.new_secret("AAMkAGI2", 24);
            if !self.items.contains_key(&id) {
                return id;
            }
        }
    }

    /// PROTOCOLS.md §3 "`@odata.etag` = `W/"<changeKey>"`": a new changeKey for every change.
    pub(crate) fn new_change_key(&mut self) -> String {
        self.new_secret("EZ9r", 16)
    }

    pub(crate) fn violation(&mut self, what: impl Into<String>) {
        self.violations.push(what.into());
    }

    pub(crate) fn add_calendar(&mut self, name: &str, can_edit: bool) -> String {
        let id = self.new_secret("AAMkAGCal", 18);
        let is_default = self.calendars.is_empty();
        let hex_color = COLORS[self.calendars.len() % COLORS.len()].to_string();
        self.calendars.insert(
            id.clone(),
            Calendar {
                name: name.to_string(),
                can_edit,
                is_default,
                hex_color,
            },
        );
        id
    }

    pub(crate) fn remove_calendar(&mut self, id: &str) {
        if self.calendars.remove(id).is_none() {
            return;
        }
        let ids: Vec<String> = self
            .items
            .iter()
            .filter(|(_, i)| i.calendar == id)
            .map(|(k, _)| k.clone())
            .collect();
        for item in ids {
            self.record(&item, None);
        }
    }

    /// The default calendar's id (PROTOCOLS.md §3 "`/me/calendarView/delta` is the default
    /// calendar only").
    pub(crate) fn default_calendar(&self) -> Option<String> {
        self.calendars
            .iter()
            .find(|(_, c)| c.is_default)
            .map(|(id, _)| id.clone())
    }

    /// Appends a version to an item's history at the next change number.
    pub(crate) fn record(&mut self, id: &str, body: Option<Body>) {
        self.seq += 1;
        let seq = self.seq;
        if let Some(item) = self.items.get_mut(id) {
            item.history.push(Version { seq, body });
        }
    }

    /// The live stored item `id`.
    pub(crate) fn live(&self, id: &str) -> Option<(&Item, &Body)> {
        let item = self.items.get(id)?;
        Some((item, item.current()?))
    }

    /// [`super::GraphEmulator::occurrence_id`].
    pub(crate) fn occurrence_id(&self, master_id: &str, original_start: i64) -> Option<String> {
        let (item, body) = self.live(master_id)?;
        if item.kind != Kind::Master {
            return None;
        }
        instances::occurrence_at(&body.json, original_start)?;
        Some(instances::occurrence_id(master_id, original_start))
    }

    /// [`super::GraphEmulator::events`].
    pub(crate) fn stored_events(&self, calendar: &str) -> Vec<Value> {
        self.items
            .values()
            .filter(|i| i.calendar == calendar)
            .filter_map(|i| i.current())
            .map(|b| super::render::stored(&b.json))
            .collect()
    }

    /// The series key of a stored item: its master's `iCalUId` for an exception, its own else.
    pub(crate) fn series_key(&self, json: &Map<String, Value>) -> String {
        let own = || text(json, "iCalUId").to_string();
        match json.get("seriesMasterId").and_then(Value::as_str) {
            Some(master) => self
                .items
                .get(master)
                .and_then(|m| m.history.iter().rev().find_map(|v| v.body.as_ref()))
                .map_or_else(own, |b| text(&b.json, "iCalUId").to_string()),
            None => own(),
        }
    }

    /// [`super::GraphEmulator::window_view`].
    pub(crate) fn window_view(
        &self,
        calendar: &str,
        start: i64,
        end: i64,
    ) -> Vec<(String, i64, i64, String)> {
        let mut out: Vec<(String, i64, i64, String)> =
            delta::members(self, calendar, self.seq, start, end)
                .into_iter()
                .map(|m| {
                    let json = m.source_json();
                    (
                        self.series_key(json),
                        m.start,
                        m.end,
                        text(json, "subject").to_string(),
                    )
                })
                .collect();
        out.sort();
        out
    }

    /// Tokens for a signed-in user; a refresh token only if `refresh`.
    pub(crate) fn issue_tokens(
        &mut self,
        client_id: &str,
        scope: &str,
        refresh: bool,
    ) -> (String, Option<String>) {
        let grant = Grant {
            client_id: client_id.to_string(),
            scope: scope.to_string(),
            issued: self.now(),
        };
        let access = self.new_secret("eyJ0eXAiOiJKV1Qi.emu-", 24);
        self.access_tokens.insert(access.clone(), grant.clone());
        let refresh_token = refresh.then(|| {
            let token = self.new_secret("M.C5-emu-", 24);
            self.refresh_tokens.insert(token.clone(), grant);
            token
        });
        (access, refresh_token)
    }

    /// The person's answer to a device code (test hook).
    pub(crate) fn decide(&mut self, user_code: &str, approve: bool) -> bool {
        match self
            .device_codes
            .values_mut()
            .find(|d| d.user_code.eq_ignore_ascii_case(user_code))
        {
            Some(code) => {
                code.decision = Some(approve);
                true
            }
            None => false,
        }
    }
}

/// A string field, empty when absent.
pub(crate) fn text<'a>(json: &'a Map<String, Value>, key: &str) -> &'a str {
    json.get(key).and_then(Value::as_str).unwrap_or_default()
}
