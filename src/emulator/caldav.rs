//! A CalDAV server on a loopback port (RFC 4791 with RFC 6578 collection sync, over RFC 4918
//! WebDAV), stateful, with switches that inject the faults real servers produce. The wire
//! behaviour follows `PROTOCOLS.md` section 1; the request handling lives in `caldav_handlers`.

use super::serve::ServerGuard;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::{Request, Response};

use super::caldav_handlers::{self, Reply};

/// Faults to inject. Each switch describes what the next requests see; counters (`cut_next`,
/// `malformed_next`) and `next_status` are consumed as they fire.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Do not advertise or serve `DAV:sync-collection`: the REPORT answers 403 with
    /// `DAV:supported-report`, and `DAV:sync-token` is not a property of calendars.
    pub no_sync_collection: bool,
    /// sync-collection returns at most N changes, then a 507 response for the request-URI
    /// (RFC 6578 3.6) and a token that covers only what was sent.
    pub truncate_after: Option<usize>,
    /// [obs] An expired or unknown token answers 207 listing every live item (no removals) with a
    /// fresh token, instead of 403 `valid-sync-token`.
    pub stale_token_full_listing: bool,
    /// The next requests each get this status (popped front, before authentication), with a
    /// `Retry-After` of that many seconds if `Some`.
    pub next_status: Vec<(u16, Option<u64>)>,
    /// The next N responses that have a body send their headers (with the full Content-Length)
    /// and half the body, then close the connection.
    pub cut_next: usize,
    /// Every reply waits this long (a long one: a server that accepts and never answers).
    pub delay_ms: u64,
    /// Every reply body comes one byte per this many milliseconds (a server that trickles).
    /// PROTOCOLS.md §4 "slow replies" (issue 10, item 9).
    pub trickle_ms: u64,
    /// The next N 207 replies have a broken XML body.
    pub malformed_next: usize,
    /// Href name (e.g. `e1.ics`) whose calendar-data (REPORT and GET) is served as broken
    /// iCalendar; the stored body and its etag are unchanged.
    pub corrupt_item: Option<String>,
    /// Href name whose calendar-data in REPORT replies carries a byte that is not UTF-8 (inside
    /// its SUMMARY), in an otherwise well-formed reply. PROTOCOLS.md §4 "malformed JSON/XML", per
    /// item (issue 10, item 6).
    pub non_utf8_item: Option<String>,
    /// Href name whose etag in listings ends in CR LF (XML character references): a value the
    /// client cannot send back in `If-Match`. PROTOCOLS.md §1 [obs] "etags may arrive with `&quot;`
    /// escapes … compare etags after XML unescaping" taken to control characters (issue 10, item 3).
    pub unsendable_etag: Option<String>,
    /// Listings (PROPFIND Depth 1, every REPORT) carry one extra response whose href is on
    /// another origin (`http://evil.example/...`).
    pub foreign_href: bool,
    /// Listings (calendar PROPFIND Depth 1, every REPORT) carry responses on this origin but
    /// outside the calendar (`../other/outside.ics`, `/elsewhere/outside.ics`). PROTOCOLS.md §1
    /// "Hrefs … resolve against the request URL"; a hostile server's listing (issue 10, item 4).
    pub outside_href: bool,
    /// [obs] calendar-multiget silently omits this href name.
    pub drop_from_multiget: Option<String>,
    /// [obs] A calendar-multiget naming more than this many hrefs answers 400.
    pub max_multiget: Option<usize>,
    /// Etags are weak (`W/"…"`); `If-Match` still compares them as exact strings.
    pub weak_etags: bool,
    /// [doc] `If-Match` uses RFC 9110's strong comparison: a weak etag never matches.
    pub strong_if_match: bool,
    /// Every PUT and DELETE is answered with this status (403 for a read-only share, 415 for
    /// data the server will not take …) and changes nothing.
    pub refuse_writes: Option<u16>,
    /// [doc] A PUT is answered without an ETag, and the server changes the data on store (it adds
    /// an `X-EMULATOR-STORED` property), so the client must fetch what was stored.
    pub put_without_etag: bool,
    /// The next N successful PUTs or DELETEs are carried out, but their reply is cut off: the
    /// client cannot know whether the write happened.
    pub lose_write_reply: usize,
}

/// One stored calendar object resource.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub etag: String,
    pub body: String,
}

/// One calendar collection with its RFC 6578 change log.
#[derive(Debug)]
pub(crate) struct Calendar {
    pub name: String,
    pub color: Option<String>,
    /// Part of every token and ctag; a new value invalidates every token issued before.
    pub generation: u64,
    /// Bumped by every change; the `n` of the sync token.
    pub counter: u64,
    /// Serial of this collection's creation: its `DAV:resource-id` and `DAV:creationdate` (RFC
    /// 5842, RFC 4918 15.1), new when a calendar is removed and added again at the same URL
    /// (PROTOCOLS.md §1 [obs] "Notice the collection's identity changing").
    pub created: u64,
    pub items: BTreeMap<String, Item>,
    /// Href name -> counter value of its latest change (put or delete). Deleted names stay as
    /// tombstones so a token from before the delete learns about it.
    pub changes: BTreeMap<String, u64>,
}

impl Calendar {
    /// The CalendarServer ctag: changes whenever anything in the calendar changes.
    pub(crate) fn ctag(&self) -> String {
        format!("\"{}-{}\"", self.generation, self.counter)
    }

    /// The sync token for change counter `n`.
    pub(crate) fn token(&self, n: u64) -> String {
        format!("{TOKEN_PREFIX}{}-{n}", self.generation)
    }

    /// The counter a token stands for, if it is one of this calendar's live tokens.
    pub(crate) fn parse_token(&self, token: &str) -> Option<u64> {
        let (generation, n) = token.strip_prefix(TOKEN_PREFIX)?.split_once('-')?;
        let n: u64 = n.parse().ok()?;
        (generation.parse::<u64>().ok()? == self.generation && n <= self.counter).then_some(n)
    }

    fn write(&mut self, name: &str, body: &str) -> (String, bool) {
        self.counter += 1;
        // The counter makes every write a new etag, the hash ties it to the content.
        let etag = format!("\"{}-{}-{:08x}\"", self.generation, self.counter, fnv(body));
        let created = self
            .items
            .insert(
                name.to_string(),
                Item {
                    etag: etag.clone(),
                    body: body.to_string(),
                },
            )
            .is_none();
        self.changes.insert(name.to_string(), self.counter);
        (etag, created)
    }

    fn remove(&mut self, name: &str) -> bool {
        if self.items.remove(name).is_none() {
            return false;
        }
        self.counter += 1;
        self.changes.insert(name.to_string(), self.counter);
        true
    }
}

const TOKEN_PREFIX: &str = "http://almanac.test/sync/";

fn fnv(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Everything behind the lock.
#[derive(Debug)]
pub(crate) struct State {
    pub user: String,
    /// The exact `Authorization` value accepted (the scheme name is matched case-insensitively).
    pub basic_credentials: String,
    pub calendars: BTreeMap<String, Calendar>,
    next_generation: u64,
    pub faults: Faults,
    requests: u64,
    bytes_sent: u64,
    log: Vec<(String, String, Option<String>)>,
    /// (method, path, status) of every reply, in order.
    answered: Vec<(String, String, u16)>,
}

impl State {
    fn new_generation(&mut self) -> u64 {
        self.next_generation += 1;
        self.next_generation
    }

    /// Stores an item (creating the calendar, named after its id, if it is missing).
    pub(crate) fn put(&mut self, id: &str, name: &str, body: &str) -> (String, bool) {
        if !self.calendars.contains_key(id) {
            self.add_calendar(id, id, None);
        }
        let stored;
        let body = if self.faults.put_without_etag {
            stored = body.replacen("END:VEVENT", "X-EMULATOR-STORED:1\r\nEND:VEVENT", 1);
            stored.as_str()
        } else {
            body
        };
        let weak = self.faults.weak_etags;
        match self.calendars.get_mut(id) {
            Some(cal) => {
                let (etag, created) = cal.write(name, body);
                if !weak {
                    return (etag, created);
                }
                let etag = format!("W/{etag}");
                if let Some(item) = cal.items.get_mut(name) {
                    item.etag = etag.clone();
                }
                (etag, created)
            }
            None => (String::new(), false),
        }
    }

    pub(crate) fn delete(&mut self, id: &str, name: &str) -> bool {
        self.calendars.get_mut(id).is_some_and(|c| c.remove(name))
    }

    fn add_calendar(&mut self, id: &str, name: &str, color: Option<&str>) {
        if let Some(cal) = self.calendars.get_mut(id) {
            cal.name = name.to_string();
            cal.color = color.map(str::to_string);
            cal.counter += 1;
            return;
        }
        let generation = self.new_generation();
        self.calendars.insert(
            id.to_string(),
            Calendar {
                name: name.to_string(),
                color: color.map(str::to_string),
                generation,
                created: generation,
                counter: 0,
                items: BTreeMap::new(),
                changes: BTreeMap::new(),
            },
        );
    }

    /// Path of a calendar collection as served (segments percent-encoded).
    pub(crate) fn calendar_href(&self, id: &str) -> String {
        format!("/dav/calendars/{}/{}/", encode(&self.user), encode(id))
    }

    /// Path of an item as served.
    pub(crate) fn item_href(&self, id: &str, name: &str) -> String {
        format!("{}{}", self.calendar_href(id), encode(name))
    }
}

/// Percent-encodes one path segment (everything but RFC 3986 unreserved characters).
pub(crate) fn encode(segment: &str) -> String {
    let mut out = String::new();
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes percent escapes; invalid escapes stay as they are.
pub(crate) fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> shift) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A running CalDAV emulator. Clones share the server and its state; the server stops when the
/// last clone is dropped or on [`CalDavEmulator::shutdown`].
#[derive(Debug, Clone)]
pub struct CalDavEmulator {
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
    guard: Arc<ServerGuard>,
}

impl CalDavEmulator {
    /// Binds 127.0.0.1 on a free port and serves until the returned value is dropped (or
    /// `shutdown`). Must be called inside a Tokio runtime.
    pub async fn start(user: &str, password: &str) -> std::io::Result<CalDavEmulator> {
        let state = Arc::new(Mutex::new(State {
            user: user.to_string(),
            basic_credentials: format!("Basic {}", base64(format!("{user}:{password}").as_bytes())),
            calendars: BTreeMap::new(),
            next_generation: 0,
            faults: Faults::default(),
            requests: 0,
            bytes_sent: 0,
            log: Vec::new(),
            answered: Vec::new(),
        }));
        let served = state.clone();
        let (addr, task) = super::serve::spawn(move |req| serve(served.clone(), req)).await?;
        Ok(CalDavEmulator {
            state,
            addr,
            guard: Arc::new(ServerGuard(task)),
        })
    }

    /// Stops serving now, for every clone; later requests fail to connect.
    pub fn shutdown(&self) {
        self.guard.0.abort();
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// `http://127.0.0.1:PORT/`
    pub fn base_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Full URL of a calendar collection, e.g. `http://127.0.0.1:PORT/dav/calendars/u/work/`.
    pub fn calendar_url(&self, id: &str) -> String {
        format!("http://{}{}", self.addr, self.lock().calendar_href(id))
    }

    /// Creates `/dav/calendars/{user}/{id}/`; on an existing id it changes name and color only.
    pub fn add_calendar(&self, id: &str, name: &str, color: Option<&str>) {
        self.lock().add_calendar(id, name, color);
    }

    /// Removes a calendar with its items; its tokens die with it (a later `add_calendar` with the
    /// same id starts a new generation).
    pub fn remove_calendar(&self, id: &str) {
        self.lock().calendars.remove(id);
    }

    /// Changes the display name (and the ctag).
    pub fn rename_calendar(&self, id: &str, name: &str) {
        if let Some(cal) = self.lock().calendars.get_mut(id) {
            cal.name = name.to_string();
            cal.counter += 1;
        }
    }

    /// Stores (creates or replaces) `{href_name}` (e.g. "e1.ics") in calendar `id`; returns the
    /// new etag (strong, quoted). A missing calendar is created, named after its id.
    pub fn put(&self, id: &str, href_name: &str, ics: &str) -> String {
        self.lock().put(id, href_name, ics).0
    }

    /// Removes an item; false if it was not there.
    pub fn delete(&self, id: &str, href_name: &str) -> bool {
        self.lock().delete(id, href_name)
    }

    /// Every item: (href path as served, etag, body), sorted by href.
    pub fn items(&self, id: &str) -> Vec<(String, String, String)> {
        let state = self.lock();
        let Some(cal) = state.calendars.get(id) else {
            return Vec::new();
        };
        let mut items: Vec<_> = cal
            .items
            .iter()
            .map(|(name, item)| {
                (
                    state.item_href(id, name),
                    item.etag.clone(),
                    item.body.clone(),
                )
            })
            .collect();
        items.sort();
        items
    }

    /// The calendar's current ctag (for tests comparing against what PROPFIND served).
    pub fn ctag(&self, id: &str) -> Option<String> {
        self.lock().calendars.get(id).map(Calendar::ctag)
    }

    /// Replaces the fault switches.
    pub fn set_faults(&self, faults: Faults) {
        self.lock().faults = faults;
    }

    /// The fault switches as they are now (consumed counters show as consumed).
    pub fn faults(&self) -> Faults {
        self.lock().faults.clone()
    }

    /// Requests served since start or the last reset.
    pub fn requests(&self) -> u64 {
        self.lock().requests
    }

    /// Response body bytes sent since start or the last reset.
    pub fn bytes_sent(&self) -> u64 {
        self.lock().bytes_sent
    }

    /// Zeroes the request and byte counters and clears the request and reply logs.
    pub fn reset_counts(&self) {
        let mut state = self.lock();
        state.requests = 0;
        state.bytes_sent = 0;
        state.log.clear();
        state.answered.clear();
    }

    /// Log of (method, path, depth header) of requests, for tests that assert on request counts
    /// per kind.
    pub fn request_log(&self) -> Vec<(String, String, Option<String>)> {
        self.lock().log.clone()
    }

    /// (method, path, status) of every reply since the start or the last reset, in order.
    pub fn replies(&self) -> Vec<(String, String, u16)> {
        self.lock().answered.clone()
    }

    /// Makes every sync token issued so far invalid (the next sync-collection with one gets 403
    /// valid-sync-token). Etags stay; ctags change.
    pub fn expire_tokens(&self) {
        let mut state = self.lock();
        let ids: Vec<String> = state.calendars.keys().cloned().collect();
        for id in ids {
            let generation = state.new_generation();
            if let Some(cal) = state.calendars.get_mut(&id) {
                cal.generation = generation;
            }
        }
    }
}

/// A poisoned lock only means a test thread panicked elsewhere; the state is still usable.
fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// One request: count and log it, apply the timing and status faults, answer it, then apply the
/// body faults to the answer.
async fn serve(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Response<ReplyBody>, Infallible> {
    let (parts, body) = req.into_parts();
    // A body that fails to arrive reads as empty; the handlers then answer 400 where it matters.
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let depth = parts
        .headers
        .get("depth")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (forced, delay) = {
        let mut st = lock(&state);
        st.requests += 1;
        st.log.push((
            parts.method.to_string(),
            parts.uri.path().to_string(),
            depth,
        ));
        let forced = (!st.faults.next_status.is_empty()).then(|| st.faults.next_status.remove(0));
        (forced, st.faults.delay_ms)
    };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let mut reply = match forced {
        Some((status, retry_after)) => {
            let mut reply = Reply::text(status, "injected fault\n");
            if let Some(seconds) = retry_after {
                reply.headers.push(("retry-after", seconds.to_string()));
            }
            reply
        }
        None => caldav_handlers::handle(&mut lock(&state), &parts, &body),
    };
    let mut st = lock(&state);
    st.answered.push((
        parts.method.to_string(),
        parts.uri.path().to_string(),
        reply.status,
    ));
    let write = parts.method == hyper::Method::PUT || parts.method == hyper::Method::DELETE;
    if write && (200..300).contains(&reply.status) && st.faults.lose_write_reply > 0 {
        st.faults.lose_write_reply -= 1;
        st.faults.cut_next += 1;
        if reply.body.is_empty() {
            reply.body = Bytes::from_static(b"done, but this reply is lost\n");
        }
    }
    Ok(finish(&mut st, reply, parts.method == hyper::Method::HEAD))
}

/// Applies `malformed_next` and `cut_next`, counts the bytes, and builds the hyper response.
fn finish(st: &mut State, reply: Reply, head: bool) -> Response<ReplyBody> {
    let Reply {
        status,
        headers,
        mut body,
    } = reply;
    if status == 207 && st.faults.malformed_next > 0 {
        st.faults.malformed_next -= 1;
        // Half a document and a stray `<`: no parser can take it as well-formed.
        let mut broken = body.slice(..body.len() / 2).to_vec();
        broken.extend_from_slice(b"<d:response><d:href>&broken;<<</d:multi");
        body = Bytes::from(broken);
    }
    let mut builder = Response::builder().status(status);
    for (name, value) in &headers {
        builder = builder.header(*name, value);
    }
    let reply_body = if head || body.is_empty() {
        ReplyBody::Full(None)
    } else if st.faults.trickle_ms > 0 {
        let every = Duration::from_millis(st.faults.trickle_ms);
        ReplyBody::Trickle(body, every, Box::pin(tokio::time::sleep(every)))
    } else if st.faults.cut_next > 0 {
        st.faults.cut_next -= 1;
        // The full length is promised, half is sent: the client sees a truncated body.
        builder = builder.header("content-length", body.len().to_string());
        let pause = Box::pin(tokio::time::sleep(Duration::from_millis(50)));
        ReplyBody::Cut(Some(body.slice(..body.len() / 2)), pause)
    } else {
        ReplyBody::Full(Some(body))
    };
    if !head {
        st.bytes_sent += match &reply_body {
            ReplyBody::Full(b) | ReplyBody::Cut(b, _) => b.as_ref().map_or(0, |b| b.len() as u64),
            ReplyBody::Trickle(b, ..) => b.len() as u64,
        };
    }
    builder.body(reply_body).unwrap_or_else(|_| {
        // Only a bad header value gets here; answer 500 rather than panic.
        let mut r = Response::new(ReplyBody::Full(None));
        *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

/// A response body: all at once, or half of it followed by an error that makes hyper drop the
/// connection (`cut_next`).
#[derive(Debug)]
pub(crate) enum ReplyBody {
    Full(Option<Bytes>),
    /// The half to send, then a pause before the error: without it hyper would drop its
    /// still-buffered headers and half body along with the connection.
    Cut(Option<Bytes>, Pin<Box<tokio::time::Sleep>>),
    /// What is left to send, one byte each time the pause ends (`trickle_ms`).
    Trickle(Bytes, Duration, Pin<Box<tokio::time::Sleep>>),
}

impl hyper::body::Body for ReplyBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(match self.get_mut() {
            ReplyBody::Full(b) => b.take().map(|b| Ok(Frame::data(b))),
            ReplyBody::Trickle(rest, every, pause) => {
                if rest.is_empty() {
                    None
                } else {
                    std::task::ready!(pause.as_mut().poll(cx));
                    pause.as_mut().reset(tokio::time::Instant::now() + *every);
                    Some(Ok(Frame::data(rest.split_to(1))))
                }
            }
            ReplyBody::Cut(b, pause) => match b.take() {
                Some(b) => Some(Ok(Frame::data(b))),
                None => {
                    std::task::ready!(pause.as_mut().poll(cx));
                    Some(Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionAborted,
                        "emulator fault: connection cut mid-body",
                    )))
                }
            },
        })
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, ReplyBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ReplyBody::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            ReplyBody::Cut(..) => SizeHint::default(),
            ReplyBody::Trickle(rest, ..) => SizeHint::with_exact(rest.len() as u64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn percent_encoding_round_trips() {
        let name = "a b/ü%.ics";
        assert_eq!(decode(&encode(name)), name);
        assert_eq!(decode("%zz%4"), "%zz%4");
    }
}
