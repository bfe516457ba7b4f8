//! Google behind the engine's [`Remote`] seam. Every change is guarded by the etag it was made
//! on (`If-Match`, verbatim); a read of one event is conditional (`If-None-Match` → 304).
//! PROTOCOLS.md §2 "Etags, ids, writes".
//!
//! A cached item is a series group; a write sends only the events of the group that changed:
//! `PUT` for a changed event, `POST` with our own id for a new one (a retry after a lost reply
//! meets `409 duplicate` and is recognised as ours), `DELETE` for one that went. An edit of one
//! occurrence that has no exception yet finds the instance's id with `instances` and
//! `originalStart` (ids are never parsed).

use serde_json::Value;

use super::api::{ApiError, Google};
use super::groups::{group_etag, objects};
use crate::sync::SyncError;
use crate::sync::http::Request;
use crate::sync::remote::{Format, Got, Remote, Write, WriteOutcome};

/// What one request of a write did.
enum Step {
    /// Stored: the event as the server now holds it (`None` after a delete).
    Stored(Option<Value>),
    /// Stop: the write's outcome.
    Stop(WriteOutcome),
}

/// Whether a time object names the same start as `a` (the same instant, or the same date).
fn same_start(a: &Value) -> impl Fn(&Value) -> bool + '_ {
    let instant = |v: &Value| {
        v.get("dateTime")
            .and_then(Value::as_str)
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
    };
    move |b: &Value| match (instant(a), instant(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a.get("date").is_some() && a.get("date") == b.get("date"),
    }
}

fn id_of(v: &Value) -> Option<&str> {
    v.get("id").and_then(Value::as_str)
}

fn etag_of(v: &Value) -> Option<&str> {
    v.get("etag").and_then(Value::as_str)
}

fn cancelled(v: &Value) -> bool {
    v.get("status").and_then(Value::as_str) == Some("cancelled")
}

impl Google {
    /// The events resource of `cal`, or one event in it.
    fn event_url(&self, cal: &str, id: Option<&str>) -> reqwest::Url {
        match id {
            Some(id) => self.url(&["calendars", cal, "events", id], &[]),
            None => self.url(&["calendars", cal, "events"], &[]),
        }
    }

    /// What a write's reply means.
    fn step(&self, verb: &str, resp: &crate::sync::http::Response) -> Step {
        let status = resp.status.as_u16();
        if resp.status.is_success() {
            return Step::Stored(serde_json::from_slice(&resp.body).ok());
        }
        let error = ApiError::of(resp);
        let outcome = match (status, error.reason.as_str()) {
            (412, _) => WriteOutcome::Changed,
            // [obs] A stale sequence is Google's other way of saying the event changed.
            (400, _) if error.message.to_ascii_lowercase().contains("sequence") => {
                WriteOutcome::Changed
            }
            // Our id exists: our own insert whose reply was lost, or not; the copy decides.
            (409, _) => WriteOutcome::Changed,
            (404 | 410, _) => WriteOutcome::Gone,
            (403, "forbiddenForNonOrganizer") => WriteOutcome::Refused {
                for_good: true,
                reason: format!(
                    "only the organizer can {verb} this event (forbiddenForNonOrganizer)"
                ),
            },
            (400 | 403 | 405 | 413 | 422, _) => WriteOutcome::Refused {
                for_good: true,
                reason: format!("Google refused the {verb}: {}", error.words()),
            },
            _ => WriteOutcome::Refused {
                for_good: false,
                reason: format!("Google refused the {verb}: {}", error.words()),
            },
        };
        Step::Stop(outcome)
    }

    async fn put(
        &self,
        cal: &str,
        id: &str,
        event: &Value,
        etag: Option<&str>,
    ) -> Result<Step, SyncError> {
        let mut req = Request::new("PUT", self.event_url(cal, Some(id))).json(event.to_string());
        if let Some(etag) = etag {
            req = req.header("if-match", etag);
        }
        let resp = self.send(req).await?;
        Ok(self.step("update", &resp))
    }

    async fn delete(&self, cal: &str, id: &str, etag: Option<&str>) -> Result<Step, SyncError> {
        let mut req = Request::new("DELETE", self.event_url(cal, Some(id)));
        if let Some(etag) = etag {
            req = req.header("if-match", etag);
        }
        let resp = self.send(req).await?;
        Ok(self.step("delete", &resp))
    }

    async fn insert(&self, cal: &str, event: &Value) -> Result<Step, SyncError> {
        let req = Request::new("POST", self.event_url(cal, None)).json(event.to_string());
        let resp = self.send(req).await?;
        Ok(self.step("create", &resp))
    }

    /// The instance of series `master` that originally starts at `original` (an
    /// `originalStartTime` object), as Google lists it.
    async fn instance(
        &self,
        cal: &str,
        master: &str,
        original: &Value,
    ) -> Result<Option<Value>, SyncError> {
        let Some(start) = original
            .get("dateTime")
            .or_else(|| original.get("date"))
            .and_then(Value::as_str)
        else {
            return Ok(None);
        };
        let url = self.url(
            &["calendars", cal, "events", master, "instances"],
            &[("originalStart", start), ("showDeleted", "true")],
        );
        let (status, body, _) = self.get_json(url).await?;
        if status != 200 {
            return Ok(None);
        }
        // Only the instance asked for: a server that ignores `originalStart` lists others.
        let wanted = same_start(original);
        Ok(body["items"]
            .as_array()
            .and_then(|a| {
                a.iter()
                    .find(|i| i.get("originalStartTime").is_some_and(&wanted))
            })
            .cloned())
    }

    /// An insert met our id already taken. A deleted event still holds its id; Google brings it
    /// back when it is updated as `confirmed` on its tombstone's etag. Anything else there is
    /// the copy the engine compares (our own lost insert, or another event).
    async fn revive(&self, cal: &str, event: &Value) -> Result<Step, SyncError> {
        let Some(id) = id_of(event) else {
            return Ok(Step::Stop(WriteOutcome::Changed));
        };
        let req = Request::new("GET", self.event_url(cal, Some(id)));
        let resp = self.send(req).await?;
        let held: Option<Value> = serde_json::from_slice(&resp.body).ok();
        match held {
            Some(tombstone) if resp.status.is_success() && cancelled(&tombstone) => {
                let mut back = event.clone();
                if let Some(obj) = back.as_object_mut() {
                    obj.insert("status".into(), Value::String("confirmed".into()));
                    obj.remove("etag");
                }
                self.put(cal, id, &back, etag_of(&tombstone)).await
            }
            _ => Ok(Step::Stop(WriteOutcome::Changed)),
        }
    }

    /// One event of a changed group: the request it needs, if any.
    async fn write_event(
        &self,
        cal: &str,
        mine: &Value,
        base: Option<&Value>,
        etag: Option<&str>,
    ) -> Result<Step, SyncError> {
        match (id_of(mine), base) {
            (Some(id), Some(_)) if cancelled(mine) => self.delete(cal, id, etag).await,
            (Some(id), Some(before)) => {
                // Google refuses a sequence lower than its own ("Invalid sequence value"): a
                // change made on an older copy (a conflict resolved as "keep mine") goes with
                // the server's.
                let mut event = mine.clone();
                let theirs = before.get("sequence").and_then(Value::as_i64);
                let ours = mine.get("sequence").and_then(Value::as_i64);
                if let (Some(theirs), Some(obj)) = (theirs, event.as_object_mut())
                    && ours.is_none_or(|o| o < theirs)
                {
                    obj.insert("sequence".into(), Value::from(theirs));
                }
                self.put(cal, id, &event, etag).await
            }
            // A new event with our own id.
            (Some(_), None) => self.insert(cal, mine).await,
            // A new exception of an occurrence: Google names the instance; find it.
            (None, _) => {
                let (Some(master), Some(original)) = (
                    mine.get("recurringEventId").and_then(Value::as_str),
                    mine.get("originalStartTime"),
                ) else {
                    return Ok(Step::Stop(WriteOutcome::Refused {
                        for_good: true,
                        reason: "an event without an id is not part of a series".into(),
                    }));
                };
                let Some(instance) = self.instance(cal, master, original).await? else {
                    return Ok(Step::Stop(WriteOutcome::Gone));
                };
                let (Some(id), instance_etag) = (id_of(&instance), etag_of(&instance)) else {
                    return Ok(Step::Stop(WriteOutcome::Gone));
                };
                let id = id.to_string();
                if cancelled(mine) {
                    if cancelled(&instance) {
                        return Ok(Step::Stored(Some(instance)));
                    }
                    return self.delete(cal, &id, instance_etag).await;
                }
                let mut event = mine.clone();
                if let Some(obj) = event.as_object_mut() {
                    obj.insert("id".into(), Value::String(id.clone()));
                }
                self.put(cal, &id, &event, instance_etag).await
            }
        }
    }
}

impl Remote for Google {
    fn format(&self) -> Format {
        Format::GoogleJson
    }

    async fn fetch(
        &self,
        cal: &str,
        id: &str,
        if_none_match: Option<&str>,
    ) -> Result<Got, SyncError> {
        let mut req = Request::new("GET", self.event_url(cal, Some(id)));
        if let Some(etag) = if_none_match {
            req = req.header("if-none-match", etag);
        }
        let resp = self.send(req).await?;
        Ok(match resp.status.as_u16() {
            304 => Got::NotModified,
            404 | 410 => Got::Gone,
            200 => {
                let event: Value = serde_json::from_slice(&resp.body).map_err(|e| {
                    SyncError::Protocol(format!("Google sent an event that is not JSON: {e}"))
                })?;
                if cancelled(&event) && event.get("recurringEventId").is_none() {
                    Got::Gone
                } else {
                    Got::Item {
                        etag: etag_of(&event).map(str::to_string),
                        raw: Value::Array(vec![event]).to_string(),
                    }
                }
            }
            status => Got::Refused(status),
        })
    }

    async fn write(
        &self,
        cal: &str,
        id: &str,
        write: Write<'_>,
    ) -> Result<WriteOutcome, SyncError> {
        match write {
            Write::Delete { etag } => Ok(match self.delete(cal, id, etag).await? {
                Step::Stored(_) => WriteOutcome::Done {
                    id: None,
                    etag: None,
                    stored: None,
                },
                Step::Stop(outcome) => outcome,
            }),
            Write::Create { raw } => {
                let mut stored = Vec::new();
                for event in objects(raw) {
                    let step = match self.insert(cal, &event).await? {
                        // Our id is held: by our own insert whose reply was lost, or by the
                        // deleted event a "keep mine" brings back (its tombstone keeps the id).
                        Step::Stop(WriteOutcome::Changed) => self.revive(cal, &event).await?,
                        step => step,
                    };
                    match step {
                        Step::Stored(Some(v)) => stored.push(v),
                        Step::Stored(None) => stored.push(event),
                        Step::Stop(outcome) => return Ok(outcome),
                    }
                }
                Ok(WriteOutcome::Done {
                    id: None,
                    etag: group_etag(id, &stored),
                    stored: Some(Value::Array(stored).to_string()),
                })
            }
            Write::Update { raw, etag, base } => {
                let mine = objects(raw);
                let base = base.map(objects).unwrap_or_default();
                let mut stored = Vec::new();
                for event in &mine {
                    let before =
                        id_of(event).and_then(|i| base.iter().find(|b| id_of(b) == Some(i)));
                    if before == Some(event) {
                        stored.push(event.clone());
                        continue;
                    }
                    // The etag the change was made on: the group's for its master (a resolved
                    // conflict moves it), else the base copy's own.
                    let guard = if id_of(event) == Some(id) {
                        etag.or_else(|| before.and_then(etag_of))
                    } else {
                        before.and_then(etag_of).or_else(|| etag_of(event))
                    };
                    match self.write_event(cal, event, before, guard).await? {
                        Step::Stored(Some(v)) if !cancelled(event) => stored.push(v),
                        Step::Stored(_) => stored.push(event.clone()),
                        Step::Stop(outcome) => return Ok(outcome),
                    }
                }
                // Events the change removed from the group.
                for gone in base
                    .iter()
                    .filter(|b| !mine.iter().any(|m| id_of(m) == id_of(b)))
                {
                    let Some(gid) = id_of(gone) else { continue };
                    match self.delete(cal, gid, etag_of(gone)).await? {
                        Step::Stored(_) | Step::Stop(WriteOutcome::Gone) => {}
                        Step::Stop(outcome) => return Ok(outcome),
                    }
                }
                Ok(WriteOutcome::Done {
                    id: None,
                    etag: group_etag(id, &stored),
                    stored: Some(Value::Array(stored).to_string()),
                })
            }
        }
    }
}
