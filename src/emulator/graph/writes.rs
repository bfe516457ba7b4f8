//! Changes to the mailbox, from the wire or from the test's handle: create, PATCH, DELETE.
//! PROTOCOLS.md §3 "Ids, etags, writes".

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::instances::{self, occurrence_at, parse_occurrence_id};
use super::render::{self, Prefs, Style};
use super::state::{Body, Item, Kind, State, text};
use crate::domain::graph::recurrence::to_rrule;
use crate::domain::graph::time::{parse_date_time, read_date, write_date_time};

/// Why a write was refused.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum WriteError {
    NotFound,
    Invalid(String),
}

/// Properties the server owns: a PATCH cannot set them.
const READ_ONLY: &[&str] = &[
    "id",
    "changeKey",
    "createdDateTime",
    "lastModifiedDateTime",
    "iCalUId",
    "type",
    "seriesMasterId",
    "originalStart",
    "transactionId",
];

/// A `dateTimeTimeZone` as Graph stores it: seven fractional digits (PROTOCOLS.md §3 "Read
/// 0–7 digits, write 7"); a missing zone is UTC.
fn normalise_time(v: &Value) -> Result<Value, String> {
    let raw = v
        .get("dateTime")
        .and_then(Value::as_str)
        .ok_or("a time has no dateTime")?;
    let t = parse_date_time(raw).ok_or_else(|| format!("unreadable dateTime '{raw}'"))?;
    let zone = v.get("timeZone").and_then(Value::as_str).unwrap_or("UTC");
    Ok(json!({"dateTime": write_date_time(t), "timeZone": zone}))
}

/// Checks times and recurrence of an event about to be stored.
fn validate(json: &mut Map<String, Value>, strict_range_start: bool) -> Result<(), String> {
    for key in ["start", "end"] {
        let v = json
            .get(key)
            .ok_or_else(|| format!("the event has no {key}"))?;
        let normal = normalise_time(v)?;
        json.insert(key.into(), normal);
    }
    let (start, end) = instances::bounds(json).ok_or("unreadable start or end")?;
    if instances::instant(json, "end").is_some_and(|e| e < start) || end < start {
        return Err("The event's end precedes its start.".into());
    }
    if let Some(recurrence) = json.get("recurrence").filter(|r| !r.is_null()) {
        to_rrule(recurrence)?;
        // PROTOCOLS.md §4 Graph "`400` if `range.startDate` ≠ series start".
        let range_start = recurrence
            .get("range")
            .and_then(|r| r.get("startDate"))
            .and_then(Value::as_str)
            .and_then(read_date);
        let series_start = json
            .get("start")
            .and_then(|t| t.get("dateTime"))
            .and_then(Value::as_str)
            .and_then(parse_date_time)
            .map(|t| t.date());
        if strict_range_start && range_start != series_start {
            return Err(
                "The recurrence range's start date must equal the event's start date.".into(),
            );
        }
    }
    Ok(())
}

impl State {
    /// Stores a new single event or series master in `cal`; returns it with `@odata.etag`.
    pub(crate) fn create(&mut self, cal: &str, event: Value) -> Result<Value, String> {
        if !self.calendars.contains_key(cal) {
            return Err("no such calendar".into());
        }
        let Value::Object(mut json) = event else {
            return Err("the event is not a JSON object".into());
        };
        json.retain(|k, v| !(k.starts_with('@') || k == "recurrence" && v.is_null()));
        validate(&mut json, self.switches.strict_range_start)?;
        let master = json.get("recurrence").is_some();
        let id = self.new_event_id();
        let serial = self.next_serial();
        let now = self.now_iso();
        let change_key = self.new_change_key();
        let subject = text(&json, "subject").to_string();
        let content = json
            .get("body")
            .and_then(|b| b.get("content"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let start_zone = json["start"]["timeZone"].clone();
        let end_zone = json["end"]["timeZone"].clone();
        let defaults = [
            ("subject", json!(subject)),
            ("body", json!({"contentType": "text", "content": content})),
            (
                "bodyPreview",
                json!(content.chars().take(255).collect::<String>()),
            ),
            ("location", json!({"displayName": ""})),
            ("isAllDay", json!(false)),
            ("isCancelled", json!(false)),
            ("isReminderOn", json!(true)),
            ("reminderMinutesBeforeStart", json!(15)),
            ("attendees", json!([])),
            (
                "organizer",
                json!({"emailAddress": {"name": "Me", "address": "me@example.onmicrosoft.com"}}),
            ),
            ("originalStartTimeZone", start_zone),
            ("originalEndTimeZone", end_zone),
            ("seriesMasterId", Value::Null),
        ];
        for (key, value) in defaults {
            json.entry(key).or_insert(value);
        }
        let assigned = [
            ("id", json!(id)),
            ("changeKey", json!(change_key)),
            ("createdDateTime", json!(now)),
            ("lastModifiedDateTime", json!(now)),
            (
                "iCalUId",
                json!(format!(
                    "040000008200E00074C5B7101A82E00800000000{serial:032X}"
                )),
            ),
            (
                "type",
                json!(if master {
                    "seriesMaster"
                } else {
                    "singleInstance"
                }),
            ),
        ];
        for (key, value) in assigned {
            json.insert(key.into(), value);
        }
        if let Some(tx) = json.get("transactionId").and_then(Value::as_str) {
            self.transactions.insert(tx.to_string(), id.clone());
        }
        self.items.insert(
            id.clone(),
            Item {
                calendar: cal.to_string(),
                kind: if master { Kind::Master } else { Kind::Single },
                master: None,
                original_start: None,
                history: Vec::new(),
            },
        );
        let stored = render::stored(&json);
        self.record(
            &id,
            Some(Body {
                json,
                cancelled: BTreeSet::new(),
            }),
        );
        Ok(stored)
    }

    /// The live item a transactionId created, if any.
    pub(crate) fn by_transaction(&self, tx: &str) -> Option<Value> {
        let id = self.transactions.get(tx)?;
        let (_, body) = self.live(id)?;
        Some(render::stored(&body.json))
    }

    /// PATCH semantics: only the given properties, arrays whole; on an occurrence id it makes an
    /// exception; a master whose start or recurrence changes drops the exceptions and
    /// cancellations that no longer match (as Outlook does). Returns the stored object.
    pub(crate) fn patch(&mut self, id: &str, patch: Value) -> Result<Value, WriteError> {
        let Value::Object(patch) = patch else {
            return Err(WriteError::Invalid("the patch is not a JSON object".into()));
        };
        let (item, body) = match self.live(id) {
            Some((item, body)) => (item.clone(), body.clone()),
            None => self.new_exception(id)?,
        };
        let mut json = body.json.clone();
        for (key, value) in patch {
            if READ_ONLY.contains(&key.as_str()) || key.starts_with('@') {
                continue;
            }
            json.insert(key, value);
        }
        validate(&mut json, self.switches.strict_range_start).map_err(WriteError::Invalid)?;
        json.insert("changeKey".into(), json!(self.new_change_key()));
        json.insert("lastModifiedDateTime".into(), json!(self.now_iso()));
        let mut cancelled = body.cancelled.clone();
        let series_moved = item.kind == Kind::Master
            && ["start", "end", "recurrence", "isAllDay"]
                .iter()
                .any(|k| json.get(*k) != body.json.get(*k));
        if series_moved {
            cancelled.retain(|s| occurrence_at(&json, *s).is_some());
            let stale: Vec<String> = self
                .items
                .iter()
                .filter(|(_, e)| e.master.as_deref() == Some(id) && e.current().is_some())
                .filter(|(_, e)| {
                    e.original_start
                        .is_none_or(|s| occurrence_at(&json, s).is_none())
                })
                .map(|(k, _)| k.clone())
                .collect();
            for exception in stale {
                self.record(&exception, None);
            }
        }
        let stored = render::stored(&json);
        self.items.entry(id.to_string()).or_insert(item);
        self.record(id, Some(Body { json, cancelled }));
        Ok(stored)
    }

    /// The exception an occurrence id would become: the occurrence in full, not yet stored.
    fn new_exception(&self, id: &str) -> Result<(Item, Body), WriteError> {
        let (master_id, original_start) = parse_occurrence_id(id).ok_or(WriteError::NotFound)?;
        let (master, body) = self.live(&master_id).ok_or(WriteError::NotFound)?;
        if master.kind != Kind::Master || body.cancelled.contains(&original_start) {
            return Err(WriteError::NotFound);
        }
        let (_, end) = occurrence_at(&body.json, original_start).ok_or(WriteError::NotFound)?;
        let switches = super::GraphSwitches {
            custom_time_zones: false,
            ..super::GraphSwitches::default()
        };
        let style = Style {
            prefs: Prefs::default(),
            switches: &switches,
        };
        let mut json = render::occurrence_full(&master_id, &body.json, original_start, end, &style);
        json.retain(|k, _| !k.starts_with('@'));
        json.insert("type".into(), json!("exception"));
        let item = Item {
            calendar: master.calendar.clone(),
            kind: Kind::Exception,
            master: Some(master_id),
            original_start: Some(original_start),
            history: Vec::new(),
        };
        Ok((
            item,
            Body {
                json,
                cancelled: BTreeSet::new(),
            },
        ))
    }

    /// DELETE: a single event goes, a master takes its series with it, an occurrence or exception
    /// is cancelled (PROTOCOLS.md §3 "DELETE cancels one occurrence").
    pub(crate) fn delete(&mut self, id: &str) -> bool {
        if let Some((item, _)) = self.live(id) {
            let (kind, master) = (item.kind, item.master.clone());
            let start = item.original_start;
            if kind == Kind::Master {
                let exceptions: Vec<String> = self
                    .items
                    .iter()
                    .filter(|(_, e)| e.master.as_deref() == Some(id) && e.current().is_some())
                    .map(|(k, _)| k.clone())
                    .collect();
                for exception in exceptions {
                    self.record(&exception, None);
                }
            }
            self.transactions.retain(|_, v| v != id);
            self.record(id, None);
            if let (Kind::Exception, Some(master), Some(start)) = (kind, master, start) {
                self.cancel_occurrence(&master, start);
            }
            return true;
        }
        let Some((master, start)) = parse_occurrence_id(id) else {
            return false;
        };
        let live = self.live(&master).is_some_and(|(m, b)| {
            m.kind == Kind::Master
                && !b.cancelled.contains(&start)
                && occurrence_at(&b.json, start).is_some()
        });
        live && self.cancel_occurrence(&master, start)
    }

    fn cancel_occurrence(&mut self, master: &str, start: i64) -> bool {
        let Some((_, body)) = self.live(master) else {
            return false;
        };
        let mut body = body.clone();
        body.cancelled.insert(start);
        body.json
            .insert("changeKey".into(), json!(self.new_change_key()));
        body.json
            .insert("lastModifiedDateTime".into(), json!(self.now_iso()));
        self.record(master, Some(body));
        true
    }

    /// PROTOCOLS.md §3 "It moves on server-side changes too"; §4 "etag churn": an event with
    /// attendees gets a new changeKey, as an attendee's reply would give it.
    pub(crate) fn churn(&mut self, id: &str) {
        let Some((_, body)) = self.live(id) else {
            return;
        };
        let has_attendees = body
            .json
            .get("attendees")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        if !has_attendees {
            return;
        }
        let mut body = body.clone();
        body.json
            .insert("changeKey".into(), json!(self.new_change_key()));
        self.record(id, Some(body));
    }
}
