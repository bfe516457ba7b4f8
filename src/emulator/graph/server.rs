//! The hyper server: the fault pipeline every request passes (counting, in-flight and
//! `Retry-After` checks, delays, injected statuses, the `Prefer` check, authentication), routing
//! to the handlers, and the body faults on the way out. PROTOCOLS.md §3 "Requests", "Errors,
//! throttling"; §4 "All three".

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::http::request::Parts;
use hyper::{Request, Response};
use tokio::task::AbortHandle;

use super::super::caldav::ReplyBody;
use super::delta::{self, DeltaRequest};
use super::errors::{self, Context, Reply};
use super::events::{self, EventRequest};
use super::render::{Prefs, Style};
use super::state::{State, lock};
use super::{LoggedRequest, oauth};

/// PROTOCOLS.md §3 "Access tokens" last an hour (`expires_in` 3600).
pub(crate) const ACCESS_LIFETIME_SECS: i64 = 3600;

/// What a 429 for too many parallel requests asks the client to wait.
const THROTTLE_RETRY_AFTER_SECS: u64 = 1;

/// Binds 127.0.0.1 on a free port and serves `state` until the returned task is aborted.
pub(crate) async fn spawn(state: Arc<Mutex<State>>) -> std::io::Result<(SocketAddr, AbortHandle)> {
    super::super::serve::spawn(move |req| serve(state.clone(), req)).await
}

/// Counts an API request in flight for as long as it lives (also when its connection drops).
struct InFlight(Arc<Mutex<State>>);

impl InFlight {
    /// PROTOCOLS.md §3 "Per app id + mailbox: 4 concurrent requests"; §4 "too many parallel
    /// requests fails the test". `true` when over the limit.
    fn enter(state: &Arc<Mutex<State>>, what: &str) -> (InFlight, bool) {
        let mut st = lock(state);
        st.in_flight += 1;
        let mut over = false;
        if let Some(max) = st.switches.max_in_flight
            && st.in_flight > max
        {
            let n = st.in_flight;
            st.violation(format!(
                "{what}: {n} requests in flight at once (at most {max})"
            ));
            over = true;
        }
        (InFlight(state.clone()), over)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut st = lock(&self.0);
        st.in_flight = st.in_flight.saturating_sub(1);
    }
}

fn header_values(parts: &Parts, name: &str) -> Vec<String> {
    parts
        .headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect()
}

/// PROTOCOLS.md §3 "`Prefer: odata.maxpagesize=100, outlook.timezone="UTC",
/// outlook.body-content-type="text", IdType="ImmutableId"` (one header or several)".
pub(crate) fn read_prefs(values: &[String]) -> Prefs {
    let mut prefs = Prefs::default();
    for pref in values.iter().flat_map(|v| v.split(',')) {
        let Some((key, value)) = pref.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"');
        match key.trim().to_ascii_lowercase().as_str() {
            "odata.maxpagesize" => prefs.page_size = value.parse().ok(),
            "outlook.timezone" => prefs.utc = value.eq_ignore_ascii_case("UTC"),
            "idtype" => prefs.immutable_ids = value.eq_ignore_ascii_case("ImmutableId"),
            _ => {}
        }
    }
    prefs
}

async fn serve(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Response<ReplyBody>, Infallible> {
    let (parts, body) = req.into_parts();
    let api = parts.uri.path().starts_with("/v1.0/");
    let what = format!("{} {}", parts.method, parts.uri.path());
    let (_flight, over) = if api {
        let (guard, over) = InFlight::enter(&state, &what);
        (Some(guard), over)
    } else {
        (None, false)
    };
    // A body that fails to arrive reads as empty; the handlers then answer 400 where it matters.
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let delay = {
        let mut st = lock(&state);
        st.requests += 1;
        // PROTOCOLS.md §4 "All three": "A request before `Retry-After` ends … fails the test".
        if let Some(until) = st.retry_after_until
            && Instant::now() < until
        {
            let early = until.duration_since(Instant::now()).as_millis();
            st.violation(format!("{what} sent {early} ms before Retry-After ended"));
        }
        st.switches.delay_ms
    };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let mut st = lock(&state);
    let ctx = context(&mut st, &parts);
    let mut reply = if over {
        st.retry_after_until =
            Some(Instant::now() + Duration::from_secs(THROTTLE_RETRY_AFTER_SECS));
        errors::throttled(&ctx, THROTTLE_RETRY_AFTER_SECS)
    } else {
        handle(&mut st, &ctx, &parts, &body)
    };
    let header = |name: &str| {
        let values = header_values(&parts, name);
        (!values.is_empty()).then(|| values.join(", "))
    };
    st.log.push(LoggedRequest {
        method: parts.method.to_string(),
        path_and_query: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_string(), ToString::to_string),
        prefer: header("prefer"),
        if_match: header("if-match"),
        if_none_match: header("if-none-match"),
        authorization: parts.headers.contains_key("authorization"),
        status: reply.status,
    });
    let write = matches!(parts.method.as_str(), "POST" | "PATCH" | "DELETE") && api;
    if write && (200..300).contains(&reply.status) && st.switches.lose_write_reply > 0 {
        st.switches.lose_write_reply -= 1;
        st.switches.cut_next += 1;
        if reply.body.is_empty() {
            // A 204 cannot carry the half body that gets cut.
            reply.status = 200;
            reply.body = Bytes::from_static(b"{\"done\":\"but this reply is lost\"}");
        }
    }
    Ok(finish(&mut st, reply))
}

/// The `innerError` ids of this request.
fn context(st: &mut State, parts: &Parts) -> Context {
    let n = st.next_serial();
    let request_id = format!("00000000-0000-4000-8000-{n:012x}");
    let client_request_id = header_values(parts, "client-request-id")
        .pop()
        .unwrap_or_else(|| request_id.clone());
    Context {
        date: st.now_iso().chars().take(19).collect(),
        request_id,
        client_request_id,
    }
}

/// Injected statuses first, then routing.
fn handle(st: &mut State, ctx: &Context, parts: &Parts, body: &Bytes) -> Reply {
    let path = parts.uri.path().to_string();
    let method = parts.method.as_str();
    if let Some(rest) = path.strip_prefix("/v1.0/") {
        return api(st, ctx, parts, body, rest);
    }
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match (method, segs.as_slice()) {
        ("POST", [_tenant, "oauth2", "v2.0", "devicecode"]) => oauth::device_code(st, body),
        ("POST", [_tenant, "oauth2", "v2.0", "token"]) => oauth::token(st, body),
        _ => errors::not_found(ctx),
    }
}

/// Authentication, the `Prefer` check, the account-level faults, then the resource.
fn api(st: &mut State, ctx: &Context, parts: &Parts, body: &Bytes, rest: &str) -> Reply {
    if !st.switches.next_status.is_empty() {
        let (status, retry_after) = st.switches.next_status.remove(0);
        if let Some(seconds) = retry_after {
            st.retry_after_until = Some(Instant::now() + Duration::from_secs(seconds));
        }
        return errors::injected(ctx, status, retry_after);
    }
    if st.switches.unauthorized_next > 0 {
        st.switches.unauthorized_next -= 1;
        return errors::unauthorized(ctx);
    }
    if !authorized(st, parts) {
        return errors::unauthorized(ctx);
    }
    let prefs = read_prefs(&header_values(parts, "prefer"));
    let what = format!("{} {}", parts.method, parts.uri.path());
    // PROTOCOLS.md §3 "Every request, links too: `Prefer: odata.maxpagesize=100,
    // outlook.timezone="UTC", …, IdType="ImmutableId"`".
    for (missing, name) in [
        (prefs.page_size.is_none(), "odata.maxpagesize"),
        (!prefs.utc, "outlook.timezone=\"UTC\""),
        (!prefs.immutable_ids, "IdType=\"ImmutableId\""),
    ] {
        if missing {
            st.violation(format!("{what} without Prefer {name}"));
        }
    }
    let switches = st.switches.clone();
    let style = Style {
        prefs,
        switches: &switches,
    };
    let query: Vec<(String, String)> =
        form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    let segments: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let path = parts.uri.path();
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let ev = EventRequest {
        ctx,
        path,
        query: &query,
        if_match: header("if-match"),
        if_none_match: header("if-none-match"),
        body,
        style,
    };
    let default = st.default_calendar().unwrap_or_default();
    let delta_of = |st: &mut State, cal: &str| {
        delta::delta(
            st,
            &DeltaRequest {
                ctx,
                cal,
                path,
                query: &query,
                style,
            },
        )
    };
    match (parts.method.as_str(), segs.as_slice()) {
        ("GET", ["me", "calendars"]) => events::calendars(st),
        ("GET", ["me", "calendars", cal, "calendarView", "delta"]) => delta_of(st, cal),
        ("GET", ["me", "calendarView", "delta"]) => delta_of(st, &default),
        ("POST", ["me", "calendars", cal, "events"]) => events::create(st, &ev, cal),
        ("POST", ["me", "events"]) => events::create(st, &ev, &default),
        ("GET", ["me", "events", id]) => events::get(st, &ev, id),
        ("GET", ["me", "events", id, "instances"]) => events::instances(st, &ev, id),
        ("PATCH", ["me", "events", id]) => events::patch(st, &ev, id),
        ("DELETE", ["me", "events", id]) => events::delete(st, &ev, id),
        _ => errors::graph_error(
            ctx,
            400,
            "BadRequest",
            &format!(
                "Resource not found for the segment '{}'.",
                segs.last().copied().unwrap_or_default()
            ),
        ),
    }
}

/// A bearer token we issued that the emulator clock has not yet expired.
fn authorized(st: &State, parts: &Parts) -> bool {
    let Some(value) = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, token)) = value.split_once(' ') else {
        return false;
    };
    let now = st.now();
    scheme.eq_ignore_ascii_case("bearer")
        && st
            .access_tokens
            .get(token.trim())
            .is_some_and(|g| now - g.issued < ACCESS_LIFETIME_SECS)
}

/// Applies `malformed_next` and `cut_next` and builds the hyper response.
fn finish(st: &mut State, reply: Reply) -> Response<ReplyBody> {
    let json = reply.is_json();
    let sw = &mut st.switches;
    super::super::serve::finish_json(
        reply.status,
        &reply.headers,
        reply.body,
        json,
        b"\"value\": [{,]]",
        &mut sw.malformed_next,
        &mut sw.cut_next,
    )
}
