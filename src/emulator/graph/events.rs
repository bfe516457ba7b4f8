//! The API's resources other than delta: the calendar list, one event, a series' instances, and
//! the writes with their `If-Match` and `transactionId` rules. PROTOCOLS.md §3 "Requests", "Ids,
//! etags, writes".

use serde_json::{Value, json};

use super::delta::Source;
use super::errors::{self, Context, Reply};
use super::instances::{self, parse_occurrence_id};
use super::render::{self, Style};
use super::state::{Kind, State};
use super::writes::WriteError;

/// A request to an event resource, after authentication.
pub(crate) struct EventRequest<'a> {
    pub ctx: &'a Context,
    pub path: &'a str,
    pub query: &'a [(String, String)],
    pub if_match: Option<&'a str>,
    pub if_none_match: Option<&'a str>,
    pub body: &'a [u8],
    pub style: Style<'a>,
}

impl EventRequest<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `GET /me/calendars`: the whole list (PROTOCOLS.md §3 "no delta: list it whole").
pub(crate) fn calendars(st: &State) -> Reply {
    let value: Vec<Value> = st
        .calendars
        .iter()
        .map(|(id, c)| {
            json!({
                "id": id,
                "name": c.name,
                "color": "auto",
                "hexColor": c.hex_color,
                "isDefaultCalendar": c.is_default,
                "changeKey": format!("cal{}", id.len()),
                "canShare": c.can_edit,
                "canViewPrivateItems": true,
                "canEdit": c.can_edit,
                "allowedOnlineMeetingProviders": ["teamsForBusiness"],
                "defaultOnlineMeetingProvider": "teamsForBusiness",
                "isTallyingResponses": true,
                "isRemovable": !c.is_default,
                "owner": {"name": "Me", "address": "me@example.onmicrosoft.com"},
            })
        })
        .collect();
    Reply::json(
        200,
        &json!({"@odata.context": format!("{}/v1.0/$metadata#me/calendars", st.origin), "value": value}),
    )
}

/// The event `id` names, rendered: a stored item, or an occurrence of a live master.
fn find(st: &State, id: &str, style: &Style<'_>) -> Option<Value> {
    if let Some((item, body)) = st.live(id) {
        let master = item
            .master
            .as_ref()
            .and_then(|m| st.live(m))
            .map(|(_, b)| b.json.clone());
        return Some(render::whole(&body.json, master.as_ref(), style));
    }
    // A deleted exception is a cancelled occurrence (its start is in the master's cancelled
    // set); one dropped by a new rule is a plain occurrence again if the rule has it.
    let (master_id, start) = parse_occurrence_id(id)?;
    let (master, body) = st.live(&master_id)?;
    if master.kind != Kind::Master || body.cancelled.contains(&start) {
        return None;
    }
    let (_, end) = instances::occurrence_at(&body.json, start)?;
    Some(Value::Object(render::occurrence_full(
        &master_id, &body.json, start, end, style,
    )))
}

/// `GET /me/events/{id}`, with `If-None-Match` → 304.
pub(crate) fn get(st: &mut State, req: &EventRequest<'_>, id: &str) -> Reply {
    if st.switches.etag_churn {
        st.churn(id);
    }
    let Some(event) = find(st, id, &req.style) else {
        return errors::not_found(req.ctx);
    };
    let etag = event["@odata.etag"].as_str().unwrap_or_default();
    if req.if_none_match == Some(etag) {
        return Reply::empty(304).with("etag", etag);
    }
    let etag = etag.to_string();
    Reply::json(200, &render::select(event, req.get("$select"))).with("etag", etag)
}

/// `GET /me/events/{id}/instances?startDateTime&endDateTime`: occurrences and exceptions in full,
/// cancelled ones left out (PROTOCOLS.md §3 [obs] "`/instances` omits cancelled ones"), paged by
/// `odata.maxpagesize` with `$skip` in the nextLink.
pub(crate) fn instances(st: &mut State, req: &EventRequest<'_>, id: &str) -> Reply {
    let ctx = req.ctx;
    if st.switches.etag_churn {
        st.churn(id);
    }
    let Some((item, _)) = st.live(id) else {
        return errors::not_found(ctx);
    };
    if item.kind != Kind::Master {
        return errors::bad_request(
            ctx,
            "ErrorInvalidRequest",
            "The event is not a series master.",
        );
    }
    let cal = item.calendar.clone();
    let bound = |name: &str| req.get(name).and_then(super::delta::read_bound);
    let (Some(from), Some(to)) = (bound("startDateTime"), bound("endDateTime")) else {
        return errors::bad_request(
            ctx,
            "ErrorInvalidParameter",
            "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.",
        );
    };
    let all: Vec<Value> = super::delta::members(st, &cal, st.seq, from, to)
        .into_iter()
        .filter(|m| match &m.source {
            Source::Occurrence { master_id, .. } => master_id == id,
            Source::Whole(json, _) => {
                json.get("seriesMasterId").and_then(Value::as_str) == Some(id)
            }
        })
        .filter_map(|m| find(st, &m.id, &req.style))
        .map(|v| render::select(v, req.get("$select")))
        .collect();
    let skip: usize = req.get("$skip").and_then(|s| s.parse().ok()).unwrap_or(0);
    let size = req.style.prefs.page_size.unwrap_or(10).max(1);
    let end = (skip + size).min(all.len());
    let mut out = json!({
        "@odata.context": format!("{}/v1.0/$metadata#Collection(event)", st.origin),
        "value": all[skip.min(end)..end].to_vec(),
    });
    if end < all.len() {
        let mut query: Vec<String> = req
            .query
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("$skip"))
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
                )
            })
            .collect();
        query.push(format!("$skip={end}"));
        out["@odata.nextLink"] = json!(format!("{}{}?{}", st.origin, req.path, query.join("&")));
    }
    Reply::json(200, &out)
}

/// `POST /me/calendars/{id}/events`: 201 with the event; a `transactionId` seen before gives the
/// event it made (PROTOCOLS.md §3 "a retried create with it makes no second event").
pub(crate) fn create(st: &mut State, req: &EventRequest<'_>, cal: &str) -> Reply {
    let ctx = req.ctx;
    let Some(calendar) = st.calendars.get(cal) else {
        return errors::not_found(ctx);
    };
    if !calendar.can_edit {
        return errors::access_denied(ctx);
    }
    let Ok(event) = serde_json::from_slice::<Value>(req.body) else {
        return errors::bad_request(ctx, "BadRequest", "Unable to read JSON request payload.");
    };
    if let Some(existing) = event
        .get("transactionId")
        .and_then(Value::as_str)
        .and_then(|tx| st.by_transaction(tx))
    {
        return created(st, req, &existing);
    }
    match st.create(cal, event) {
        Ok(stored) => created(st, req, &stored),
        Err(why) => errors::bad_request(ctx, "ErrorInvalidRequest", &why),
    }
}

fn created(st: &State, req: &EventRequest<'_>, stored: &Value) -> Reply {
    let id = stored["id"].as_str().unwrap_or_default();
    let event = find(st, id, &req.style).unwrap_or_else(|| stored.clone());
    Reply::json(201, &event).with("location", format!("{}/v1.0/me/events('{id}')", st.origin))
}

/// PROTOCOLS.md §3 "`@odata.etag` … verbatim in `If-Match` on PATCH/DELETE"; §4 "a write without
/// `If-Match` … fails the test". `Err` is the reply that stops the write.
fn precondition(
    st: &mut State,
    req: &EventRequest<'_>,
    method: &str,
    id: &str,
) -> Result<(), Reply> {
    let ctx = req.ctx;
    let Some(current) = find(st, id, &req.style) else {
        return Err(errors::not_found(ctx));
    };
    let calendar = st.live(id).map(|(i, _)| i.calendar.clone()).or_else(|| {
        let (master, _) = parse_occurrence_id(id)?;
        st.live(&master).map(|(i, _)| i.calendar.clone())
    });
    if calendar
        .and_then(|c| st.calendars.get(&c))
        .is_some_and(|c| !c.can_edit)
    {
        return Err(errors::access_denied(ctx));
    }
    if st.switches.precondition_failed_next > 0 {
        st.switches.precondition_failed_next -= 1;
        return Err(errors::conflict(ctx));
    }
    let etag = current["@odata.etag"].as_str().unwrap_or_default();
    match req.if_match {
        None => {
            st.violation(format!("{method} /me/events/{id} without If-Match"));
            Ok(())
        }
        Some("*") => Ok(()),
        Some(given) if given == etag => Ok(()),
        Some(_) => Err(errors::conflict(ctx)),
    }
}

/// `PATCH /me/events/{id}`: 200 with the full object.
pub(crate) fn patch(st: &mut State, req: &EventRequest<'_>, id: &str) -> Reply {
    if let Err(reply) = precondition(st, req, "PATCH", id) {
        return reply;
    }
    let Ok(patch) = serde_json::from_slice::<Value>(req.body) else {
        return errors::bad_request(
            req.ctx,
            "BadRequest",
            "Unable to read JSON request payload.",
        );
    };
    match st.patch(id, patch) {
        Ok(_) => match find(st, id, &req.style) {
            Some(event) => Reply::json(200, &event),
            None => errors::not_found(req.ctx),
        },
        Err(WriteError::NotFound) => errors::not_found(req.ctx),
        Err(WriteError::Invalid(why)) => errors::bad_request(req.ctx, "ErrorInvalidRequest", &why),
    }
}

/// `DELETE /me/events/{id}`: 204.
pub(crate) fn delete(st: &mut State, req: &EventRequest<'_>, id: &str) -> Reply {
    if let Err(reply) = precondition(st, req, "DELETE", id) {
        return reply;
    }
    if st.delete(id) {
        Reply::empty(204)
    } else {
        errors::not_found(req.ctx)
    }
}
