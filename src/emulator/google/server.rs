//! The hyper server: one task per connection, the fault pipeline every request passes (counting,
//! parallelism and `Retry-After` checks, delays, injected statuses, authentication, the request
//! bucket), routing to the handlers, and the body faults on the way out.

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
use super::errors::{self, Reply};
use super::paging::Query;
use super::state::{State, lock};
use super::{LoggedRequest, calendar_list, events, oauth};

/// Binds 127.0.0.1 on a free port and serves `state` until the returned task is aborted.
pub(crate) async fn spawn(state: Arc<Mutex<State>>) -> std::io::Result<(SocketAddr, AbortHandle)> {
    super::super::serve::spawn(move |req| serve(state.clone(), req)).await
}

/// Counts a request in flight for as long as it lives (also when its connection is dropped).
struct InFlight(Arc<Mutex<State>>);

impl InFlight {
    /// PROTOCOLS.md §4 "All three": "too many parallel requests fails the test".
    fn enter(state: &Arc<Mutex<State>>) -> InFlight {
        let mut st = lock(state);
        st.in_flight += 1;
        if let Some(max) = st.switches.max_in_flight
            && st.in_flight > max
        {
            let n = st.in_flight;
            st.violation(format!("{n} requests in flight at once (at most {max})"));
        }
        InFlight(state.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut st = lock(&self.0);
        st.in_flight = st.in_flight.saturating_sub(1);
    }
}

/// A request as the handlers see it.
pub(crate) struct ApiRequest<'a> {
    pub method: &'a str,
    pub query: Query,
    pub parts: &'a Parts,
    pub body: &'a Bytes,
}

impl ApiRequest<'_> {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.parts.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn serve(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Response<ReplyBody>, Infallible> {
    let (parts, body) = req.into_parts();
    let _flight = InFlight::enter(&state);
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
            st.violation(format!(
                "{} {} sent {early} ms before Retry-After ended",
                parts.method,
                parts.uri.path()
            ));
        }
        st.switches.delay_ms
    };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let mut st = lock(&state);
    let mut reply = handle(&mut st, &parts, &body);
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    st.log.push(LoggedRequest {
        method: parts.method.to_string(),
        path_and_query: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_string(), ToString::to_string),
        if_match: header("if-match"),
        if_none_match: header("if-none-match"),
        authorization: parts.headers.contains_key("authorization"),
        status: reply.status,
    });
    let write = matches!(parts.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE")
        && parts.uri.path().contains("/events");
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

/// Injected statuses first, then routing.
fn handle(st: &mut State, parts: &Parts, body: &Bytes) -> Reply {
    if !st.switches.next_status.is_empty() {
        let (status, retry_after) = st.switches.next_status.remove(0);
        if let Some(seconds) = retry_after {
            st.retry_after_until = Some(Instant::now() + Duration::from_secs(seconds));
        }
        return errors::injected(status, retry_after);
    }
    let req = ApiRequest {
        method: parts.method.as_str(),
        query: Query::parse(parts.uri.query().unwrap_or_default()),
        parts,
        body,
    };
    let path = parts.uri.path();
    match path {
        "/o/oauth2/v2/auth" if req.method == "GET" => oauth::authorize(st, &req),
        "/token" if req.method == "POST" => oauth::token(st, &req),
        _ => match path.strip_prefix("/calendar/v3/") {
            Some(rest) => api(st, &req, rest),
            None => errors::not_found(),
        },
    }
}

/// PROTOCOLS.md §4 Google: authentication, then the account-level faults, then the resource.
fn api(st: &mut State, req: &ApiRequest<'_>, rest: &str) -> Reply {
    if st.switches.unauthorized_next > 0 {
        st.switches.unauthorized_next -= 1;
        return errors::auth_error();
    }
    if !authorized(st, req) {
        return errors::auth_error();
    }
    if st.switches.quota_exceeded {
        return errors::quota_exceeded();
    }
    if let Some(status) = over_rate_limit(st) {
        return errors::rate_limited(status);
    }
    if st.switches.backend_error_next > 0 {
        st.switches.backend_error_next -= 1;
        return errors::backend_error();
    }
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
    match (req.method, segs.as_slice()) {
        ("GET", ["users", "me", "calendarList"]) => calendar_list::list(st, req),
        ("GET", ["users", "me", "calendarList", id]) => calendar_list::get(st, id),
        ("GET", ["colors"]) => calendar_list::colors(),
        (_, ["calendars", cal, "events", rest @ ..]) => {
            let cal = st.calendar_id(cal);
            events::route(st, req, &cal, rest)
        }
        _ => errors::not_found(),
    }
}

/// PROTOCOLS.md §2 "OAuth": "Access tokens last ~3600 s".
fn authorized(st: &State, req: &ApiRequest<'_>) -> bool {
    let Some(value) = req.header("authorization") else {
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
            .is_some_and(|g| now - g.issued < 3600)
}

/// PROTOCOLS.md §2 "Quotas: … per user, sliding window"; §4 Google "per-user request bucket
/// (403/429, no `Retry-After`)". The status to answer, if the bucket is full.
fn over_rate_limit(st: &mut State) -> Option<u16> {
    let (limit, per_secs, status) = st.switches.rate_limit?;
    let now = st.now();
    let window = i64::try_from(per_secs).unwrap_or(i64::MAX);
    while st.bucket.front().is_some_and(|t| now - *t >= window) {
        st.bucket.pop_front();
    }
    if st.bucket.len() >= limit as usize {
        return Some(status);
    }
    st.bucket.push_back(now);
    None
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
        b"\"items\": [{,]]",
        &mut sw.malformed_next,
        &mut sw.cut_next,
    )
}
