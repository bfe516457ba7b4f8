//! Graph behind the engine's [`Remote`] seam (PROTOCOLS.md §3 "Ids, etags, writes"). A create
//! is a `POST` carrying our UID as `transactionId` (a retry after a lost reply makes no second
//! event); a change is a `PATCH` of only the changed properties with `If-Match` (the
//! `@odata.etag` verbatim); a delete is a `DELETE` with `If-Match`. An edit of one occurrence
//! `PATCH`es that occurrence (Graph makes the exception), a deleted occurrence is a `DELETE` of
//! it; its id comes from `/instances`, never from parsing ids.

use chrono::Utc;
use serde_json::Value;

use super::api::{ApiError, Graph, PAGE_SIZE};
use super::rounds::{Window, instances};
use super::series::{self, original_start};
use crate::domain::graph::{create_body, group_parts, group_text, patch_body};
use crate::sync::SyncError;
use crate::sync::http::{Request, Response};
use crate::sync::remote::{Format, Got, Remote, Write, WriteOutcome};

fn id_of(v: &Value) -> Option<&str> {
    v.get("id").and_then(Value::as_str)
}

fn etag_of(v: &Value) -> Option<&str> {
    v.get("@odata.etag").and_then(Value::as_str)
}

/// What one request of a write did.
enum Step {
    /// Done: the object as the server now holds it (`None` after a delete).
    Stored(Option<Value>),
    /// Stop: the write's outcome.
    Stop(WriteOutcome),
}

fn step(verb: &str, resp: &Response) -> Step {
    if resp.status.is_success() {
        return Step::Stored(serde_json::from_slice(&resp.body).ok());
    }
    let error = ApiError::of(resp);
    let outcome = match resp.status.as_u16() {
        // PROTOCOLS.md §3: 412 ErrorIrresolvableConflict: the change key moved.
        412 | 409 => WriteOutcome::Changed,
        404 | 410 => WriteOutcome::Gone,
        400 | 403 | 405 | 413 | 422 => WriteOutcome::Refused {
            for_good: true,
            reason: format!("Microsoft Graph refused the {verb}: {}", error.words()),
        },
        _ => WriteOutcome::Refused {
            for_good: false,
            reason: format!("Microsoft Graph refused the {verb}: {}", error.words()),
        },
    };
    Step::Stop(outcome)
}

impl Graph {
    async fn patch(&self, id: &str, body: Value, etag: Option<&str>) -> Result<Step, SyncError> {
        let mut req =
            Request::new("PATCH", self.url(&["me", "events", id], &[])).json(body.to_string());
        if let Some(etag) = etag {
            req = req.header("if-match", etag);
        }
        Ok(step("update", &self.send(req, PAGE_SIZE).await?))
    }

    async fn delete(&self, id: &str, etag: Option<&str>) -> Result<Step, SyncError> {
        let mut req = Request::new("DELETE", self.url(&["me", "events", id], &[]));
        if let Some(etag) = etag {
            req = req.header("if-match", etag);
        }
        Ok(step("delete", &self.send(req, PAGE_SIZE).await?))
    }

    async fn post(&self, cal: &str, body: Value) -> Result<Step, SyncError> {
        let req = Request::new("POST", self.url(&["me", "calendars", cal, "events"], &[]))
            .json(body.to_string());
        Ok(step("create", &self.send(req, PAGE_SIZE).await?))
    }

    /// The window used for series this client reads and writes now.
    fn window_now(&self) -> Window {
        Window::around(Utc::now().date_naive(), self.window)
    }

    /// The occurrence of `master` that originally starts at `at` (Unix seconds), as the server
    /// lists it: its id and etag, from `/instances` of the day around it.
    async fn occurrence(&self, master: &str, at: i64) -> Result<Option<Value>, SyncError> {
        let window = Window {
            start: at - 2 * 86_400,
            end: at + 2 * 86_400,
        };
        let (from, to) = (series::utc_text(window.start), series::utc_text(window.end));
        let url = self.url(
            &["me", "events", master, "instances"],
            &[
                ("startDateTime", from.as_str()),
                ("endDateTime", to.as_str()),
            ],
        );
        let (status, body, _) = self.get_json(url, PAGE_SIZE).await?;
        if status != 200 {
            return Ok(None);
        }
        let slack = 14 * 3600;
        let mut found: Vec<&Value> = body["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| original_start(v).is_some_and(|t| (t - at).abs() <= slack))
            .collect();
        found.sort_by_key(|v| original_start(v).map(|t| (t - at).abs()));
        Ok(found.first().map(|v| (*v).clone()))
    }

    /// The server's whole copy of item `id`: the object, and for a series its exceptions and
    /// cancelled occurrences in the window.
    async fn group(&self, id: &str, if_none_match: Option<&str>) -> Result<Got, SyncError> {
        let mut req = Request::new("GET", self.url(&["me", "events", id], &[]));
        if let Some(etag) = if_none_match {
            req = req.header("if-none-match", etag);
        }
        let resp = self.send(req, PAGE_SIZE).await?;
        let master: Value = match resp.status.as_u16() {
            304 => return Ok(Got::NotModified),
            404 | 410 => return Ok(Got::Gone),
            200 => serde_json::from_slice(&resp.body).map_err(|e| {
                SyncError::Protocol(format!(
                    "Microsoft Graph sent an event that is not JSON: {e}"
                ))
            })?,
            status => return Ok(Got::Refused(status)),
        };
        let etag = etag_of(&master).map(str::to_string);
        if series::kind(&master) != "seriesmaster" {
            return Ok(Got::Item {
                etag,
                raw: group_text(std::slice::from_ref(&master), &[]),
            });
        }
        let window = self.window_now();
        let listed = instances(self, id, window).await?;
        // The etag moves on changes that show nowhere (attendee replies, PROTOCOLS.md §3), and
        // the listing took time: the master is asked again, so the etag given back is the
        // newest one a write can be guarded with (a 304 when it did not move).
        let mut master = master;
        let mut etag = etag;
        let mut req = Request::new("GET", self.url(&["me", "events", id], &[]));
        if let Some(e) = &etag {
            req = req.header("if-none-match", e.clone());
        }
        let again = self.send(req, PAGE_SIZE).await?;
        match again.status.as_u16() {
            200 => {
                if let Ok(fresh) = serde_json::from_slice::<Value>(&again.body) {
                    etag = etag_of(&fresh).map(str::to_string);
                    master = fresh;
                }
            }
            404 | 410 => return Ok(Got::Gone),
            _ => {}
        }
        let (expected, all_day) =
            series::expansion(&master, window.start, window.end).unwrap_or_default();
        let starts: Vec<i64> = listed.iter().map(|(_, t, _)| *t).collect();
        let cancelled = series::missing(&expected, all_day, &starts);
        let mut group = vec![master];
        group.extend(listed.into_iter().filter_map(|(_, _, ex)| ex));
        Ok(Got::Item {
            etag,
            raw: group_text(&group, &cancelled),
        })
    }

    /// Cancels the occurrence of `master` at `at` (an RFC 3339 instant).
    async fn cancel(
        &self,
        master: &str,
        at: &str,
        known: Option<&Value>,
    ) -> Result<Step, SyncError> {
        let target = match known {
            Some(ex) => Some(ex.clone()),
            None => match chrono::DateTime::parse_from_rfc3339(at) {
                Ok(t) => self.occurrence(master, t.timestamp()).await?,
                Err(_) => None,
            },
        };
        // Already gone: what was asked holds.
        let Some(target) = target else {
            return Ok(Step::Stored(None));
        };
        let Some(id) = id_of(&target) else {
            return Ok(Step::Stored(None));
        };
        match self.delete(id, etag_of(&target)).await? {
            Step::Stop(WriteOutcome::Gone) => Ok(Step::Stored(None)),
            other => Ok(other),
        }
    }

    /// One exception of a changed series: PATCH it (on its own etag), or PATCH the occurrence it
    /// replaces (Graph makes the exception).
    async fn write_exception(
        &self,
        master: &str,
        mine: &Value,
        before: Option<&Value>,
    ) -> Result<Step, SyncError> {
        let target = match (id_of(mine), before) {
            (Some(_), Some(b)) => Some(b.clone()),
            _ => match original_start(mine) {
                Some(at) => self.occurrence(master, at).await?,
                None => None,
            },
        };
        let Some(target) = target else {
            return Ok(Step::Stop(WriteOutcome::Gone));
        };
        let Some(id) = id_of(&target).map(str::to_string) else {
            return Ok(Step::Stop(WriteOutcome::Gone));
        };
        let body = patch_body(before.unwrap_or(&target), mine);
        if body.is_empty() {
            return Ok(Step::Stored(Some(target)));
        }
        self.patch(&id, Value::Object(body), etag_of(&target)).await
    }
}

impl Remote for Graph {
    fn format(&self) -> Format {
        Format::GraphJson
    }

    async fn fetch(
        &self,
        _cal: &str,
        id: &str,
        if_none_match: Option<&str>,
    ) -> Result<Got, SyncError> {
        self.group(id, if_none_match).await
    }

    async fn write(
        &self,
        cal: &str,
        id: &str,
        write: Write<'_>,
    ) -> Result<WriteOutcome, SyncError> {
        let done = |id: Option<String>, got: Got| match got {
            Got::Item { etag, raw } => WriteOutcome::Done {
                id,
                etag,
                stored: Some(raw),
            },
            _ => WriteOutcome::Done {
                id,
                etag: None,
                stored: None,
            },
        };
        match write {
            Write::Delete { etag } => Ok(match self.delete(id, etag).await? {
                Step::Stored(_) => WriteOutcome::Done {
                    id: None,
                    etag: None,
                    stored: None,
                },
                Step::Stop(outcome) => outcome,
            }),
            Write::Create { raw } => {
                let Some((events, cancelled)) = group_parts(raw) else {
                    return Ok(WriteOutcome::Refused {
                        for_good: true,
                        reason: "the event cannot be read to be sent".into(),
                    });
                };
                let Some(first) = events.first() else {
                    return Ok(WriteOutcome::Refused {
                        for_good: true,
                        reason: "there is no event to send".into(),
                    });
                };
                let mut body = create_body(first);
                // PROTOCOLS.md §3: a create carries our UID as `transactionId`, so a retry makes
                // no second event. A version put back after the server deleted it has none: it
                // goes with the item's UID (the deleted event's iCalUId), else its old id.
                if let Value::Object(map) = &mut body
                    && !map.contains_key("transactionId")
                {
                    let uid = first.get("iCalUId").and_then(Value::as_str).unwrap_or(id);
                    map.insert("transactionId".into(), Value::String(uid.to_string()));
                }
                let created = match self.post(cal, body).await? {
                    Step::Stored(Some(v)) => v,
                    Step::Stored(None) => {
                        return Ok(WriteOutcome::Refused {
                            for_good: false,
                            reason: "Microsoft Graph created the event but sent no copy".into(),
                        });
                    }
                    Step::Stop(outcome) => return Ok(outcome),
                };
                let Some(new_id) = id_of(&created).map(str::to_string) else {
                    return Ok(WriteOutcome::Refused {
                        for_good: false,
                        reason: "Microsoft Graph sent the new event without its id".into(),
                    });
                };
                // PROTOCOLS.md §3 "EXDATE: create, then DELETE those occurrences"; exceptions
                // are PATCHes of their occurrences.
                for ex in events.iter().skip(1) {
                    if let Step::Stop(outcome) = self.write_exception(&new_id, ex, None).await? {
                        tracing::warn!(?outcome, "an exception of a new series was not written");
                    }
                }
                for at in &cancelled {
                    if let Step::Stop(outcome) = self.cancel(&new_id, at, None).await? {
                        tracing::warn!(?outcome, "an occurrence of a new series was not cancelled");
                    }
                }
                if events.len() == 1 && cancelled.is_empty() {
                    let etag = etag_of(&created).map(str::to_string);
                    return Ok(WriteOutcome::Done {
                        id: Some(new_id),
                        etag,
                        stored: Some(group_text(&[created], &[])),
                    });
                }
                let got = self.group(&new_id, None).await?;
                Ok(done(Some(new_id), got))
            }
            Write::Update { raw, etag, base } => {
                let Some((mine, cancelled)) = group_parts(raw) else {
                    return Ok(WriteOutcome::Refused {
                        for_good: true,
                        reason: "the event cannot be read to be sent".into(),
                    });
                };
                let (theirs, their_cancelled) = match base.and_then(group_parts) {
                    Some(parts) => parts,
                    None => match self.group(id, None).await? {
                        Got::Item { raw, .. } => group_parts(&raw).unwrap_or_default(),
                        Got::Gone => return Ok(WriteOutcome::Gone),
                        _ => (Vec::new(), Vec::new()),
                    },
                };
                let (Some(master), Some(before)) = (mine.first(), theirs.first()) else {
                    return Ok(WriteOutcome::Refused {
                        for_good: true,
                        reason: "there is no event to send".into(),
                    });
                };
                let body = patch_body(before, master);
                let mut single = None;
                if !body.is_empty() {
                    let guard = etag.or_else(|| etag_of(before));
                    match self.patch(id, Value::Object(body), guard).await? {
                        Step::Stored(v) => single = v,
                        Step::Stop(outcome) => return Ok(outcome),
                    }
                }
                let mut touched_series = false;
                for ex in mine.iter().skip(1) {
                    let before = theirs.iter().skip(1).find(|b| match (id_of(b), id_of(ex)) {
                        (Some(x), Some(y)) => x == y,
                        _ => original_start(b) == original_start(ex),
                    });
                    if before == Some(ex) {
                        continue;
                    }
                    touched_series = true;
                    if let Step::Stop(outcome) = self.write_exception(id, ex, before).await? {
                        return Ok(outcome);
                    }
                }
                for at in cancelled.iter().filter(|c| !their_cancelled.contains(c)) {
                    touched_series = true;
                    // An exception the change dropped is cancelled by its own id.
                    let known = theirs.iter().skip(1).find(|b| {
                        original_start(b).map(series::utc_text).as_deref() == Some(at.as_str())
                    });
                    if let Step::Stop(outcome) = self.cancel(id, at, known).await? {
                        return Ok(outcome);
                    }
                }
                if !touched_series && mine.len() == 1 && cancelled.is_empty() {
                    let stored = single.unwrap_or_else(|| master.clone());
                    return Ok(WriteOutcome::Done {
                        id: None,
                        etag: etag_of(&stored).map(str::to_string),
                        stored: Some(group_text(&[stored], &[])),
                    });
                }
                let got = self.group(id, None).await?;
                Ok(done(None, got))
            }
        }
    }
}
