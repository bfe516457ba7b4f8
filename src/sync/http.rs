//! The one HTTP client: Basic auth only to the account's own origin, bounded bodies, one retry
//! policy (Retry-After, else bounded exponential backoff with jitter), and request and byte counts.
//! Nothing here logs a header or a body, so secrets never reach the log.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};

/// The largest response body read (a whole-calendar listing of ~100k items fits).
pub const MAX_BODY: usize = 256 * 1024 * 1024;

/// Why a request failed, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("the server refused the user name or password (401): check the password in the config")]
    Unauthorized,
    #[error("refused to follow {0}: it is on another server than the account's")]
    ForeignOrigin(String),
    #[error("{0} is not a usable URL")]
    BadUrl(String),
    #[error("cannot reach the server: {0}")]
    Network(String),
    #[error("the server answered {status} {reason}")]
    Status { status: u16, reason: String },
    #[error("the server's reply is larger than {0} bytes")]
    TooLarge(usize),
    #[error("TLS: {0}")]
    Tls(String),
    /// A value (an etag the server sent) that cannot be a header: the request is not sent
    /// without it, since a write without its precondition could overwrite a change.
    #[error("cannot send the {0} header: the server's value has characters a header cannot hold")]
    BadHeader(&'static str),
    /// The server asked to be left alone for longer than a run waits (`Retry-After`, or 429s that
    /// outlast the retries): the next try is scheduled then, and nothing is asked meanwhile.
    #[error("{}", rate_limited_message(*status, *until))]
    RateLimited {
        status: u16,
        /// Unix seconds.
        until: i64,
    },
}

fn rate_limited_message(status: u16, until: i64) -> String {
    let at = chrono::DateTime::from_timestamp(until, 0)
        .map(|t| t.with_timezone(&chrono::Local).format("%H:%M").to_string())
        .unwrap_or_else(|| "later".into());
    if status == 429 {
        format!("rate-limited by the server until {at}")
    } else {
        format!("the server is unavailable ({status}) until {at}; it asked to wait")
    }
}

impl HttpError {
    /// Whether trying again later could help.
    pub fn is_transient(&self) -> bool {
        match self {
            HttpError::Network(_) => true,
            HttpError::Status { status, .. } => *status == 429 || *status >= 500,
            // Not now: the run ends and the next one waits as the server asked.
            HttpError::RateLimited { .. } => false,
            _ => false,
        }
    }
}

/// A request as data.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub url: Url,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<String>,
}

impl Request {
    pub fn new(method: &str, url: Url) -> Request {
        Request {
            method: Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET),
            url,
            headers: Vec::new(),
            body: None,
        }
    }
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Request {
        self.headers.push((name, value.into()));
        self
    }
    /// An iCalendar body (PUT).
    pub fn calendar(mut self, body: String) -> Request {
        self.headers
            .push(("content-type", "text/calendar; charset=utf-8".into()));
        self.body = Some(body);
        self
    }
    /// A JSON body (Google).
    pub fn json(mut self, body: String) -> Request {
        self.headers
            .push(("content-type", "application/json; charset=utf-8".into()));
        self.body = Some(body);
        self
    }
    /// An XML body (PROPFIND, REPORT).
    pub fn xml(mut self, body: String) -> Request {
        self.headers
            .push(("content-type", "application/xml; charset=utf-8".into()));
        self.body = Some(body);
        self
    }
}

/// A response as data.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The URL that answered (after same-origin redirects).
    pub url: Url,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Requests and response bytes, shared by every clone of a client, and how long the client has
/// been waiting for the server.
#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub bytes: AtomicU64,
    /// Requests under way now.
    in_flight: AtomicU64,
    /// When the client last started waiting with nothing to wait for before (ms since the epoch).
    busy_since: AtomicI64,
    /// When the last reply (any status) was read to its end (ms since the epoch).
    last_reply: AtomicI64,
}

impl Counters {
    pub fn snapshot(&self) -> (u64, u64) {
        (
            self.requests.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }

    /// How long requests have been under way without a reply coming back to its end: zero when
    /// nothing is under way. Failed attempts and their retries do not reset it; a reply does.
    pub fn waited(&self) -> Duration {
        if self.in_flight.load(Ordering::Relaxed) == 0 {
            return Duration::ZERO;
        }
        let since = self
            .busy_since
            .load(Ordering::Relaxed)
            .max(self.last_reply.load(Ordering::Relaxed));
        Duration::from_millis((now_ms() - since).max(0) as u64)
    }

    fn begin(&self) {
        // A new wait starts only after a reply: a retry of an attempt that got none goes on
        // counting from the first (a run's watchdog bounds this by the run's own age).
        if self.in_flight.fetch_add(1, Ordering::Relaxed) == 0
            && self.last_reply.load(Ordering::Relaxed) >= self.busy_since.load(Ordering::Relaxed)
        {
            self.busy_since.store(now_ms(), Ordering::Relaxed);
        }
    }

    fn end(&self, replied: bool) {
        if replied {
            self.last_reply.store(now_ms(), Ordering::Relaxed);
        }
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Ends a request's count however its future ends (a reply, an error, or a run cancelled).
struct InFlight<'a> {
    counters: &'a Counters,
    replied: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.counters.end(self.replied);
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// How often and how long to retry.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base: Duration,
    pub cap: Duration,
    /// The longest Retry-After waited out within a run; a longer one ends the run with
    /// [`HttpError::RateLimited`], and the next run is scheduled for when it ends.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            attempts: 4,
            base: Duration::from_millis(400),
            cap: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// No byte from the server for this long fails the attempt (a server that accepted the
/// connection and went silent).
pub const IDLE_READ: Duration = Duration::from_secs(20);
/// A run ends when requests have been under way this long without one reply coming back
/// (silent servers, servers that trickle a byte a second, and every retry of those).
pub const STALL: Duration = Duration::from_secs(60);

/// An HTTP client bound to one account's origin.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    origin: Url,
    credentials: Option<(String, String)>,
    pub counters: Arc<Counters>,
    pub retry: RetryPolicy,
    /// How long a run may wait on this server with no reply before it ends (see [`STALL`]).
    pub stall: Duration,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("origin", &self.origin.origin().ascii_serialization())
            .finish_non_exhaustive()
    }
}

/// Whether two URLs share scheme, host and port.
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.origin() == b.origin()
}

impl Http {
    /// A client for the server at `base`, with Basic credentials if given and an extra trusted CA
    /// (PEM) for self-hosted servers.
    pub fn new(
        base: &Url,
        credentials: Option<(String, String)>,
        ca_pem: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Http, HttpError> {
        // reqwest is built without a default crypto provider; ring is ours. A second install is a no-op.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(IDLE_READ)
            .timeout(timeout)
            .user_agent(concat!("almanac/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = ca_pem {
            let cert =
                reqwest::Certificate::from_pem(pem).map_err(|e| HttpError::Tls(e.to_string()))?;
            builder = builder.add_root_certificate(cert);
        }
        let client = builder.build().map_err(|e| HttpError::Tls(e.to_string()))?;
        Ok(Http {
            client,
            origin: base.clone(),
            credentials,
            counters: Arc::new(Counters::default()),
            retry: RetryPolicy::default(),
            stall: STALL,
        })
    }

    /// The account's base URL.
    pub fn origin(&self) -> &Url {
        &self.origin
    }

    /// The Basic credentials this client sends (to compare clients; never to log).
    pub fn credentials(&self) -> Option<&(String, String)> {
        self.credentials.as_ref()
    }

    /// Sends `req`, retrying transient failures per the policy and following same-origin
    /// redirects. Any status is returned as a response, except 401 (an error that is never retried)
    /// and transient ones that outlast the retries.
    pub async fn send(&self, req: Request) -> Result<Response, HttpError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = self.send_once(req.clone()).await;
            let asked = match &outcome {
                Ok(r)
                    if r.status == StatusCode::TOO_MANY_REQUESTS || r.status.is_server_error() =>
                {
                    retry_after(r)
                }
                _ => None,
            };
            let wait = match &outcome {
                Ok(r)
                    if r.status == StatusCode::TOO_MANY_REQUESTS || r.status.is_server_error() =>
                {
                    Some(asked.unwrap_or_else(|| self.backoff(attempt)))
                }
                Err(e) if e.is_transient() => Some(self.backoff(attempt)),
                _ => None,
            };
            match (wait, &outcome) {
                (Some(wait), _)
                    if attempt < self.retry.attempts && wait <= self.retry.max_retry_after =>
                {
                    tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, "retrying");
                    tokio::time::sleep(wait).await;
                }
                // The server said how long to leave it alone, longer than a run waits; or it
                // kept answering 429: the run ends and the next one is due when the wait is over.
                (Some(wait), Ok(r))
                    if asked.is_some() || r.status == StatusCode::TOO_MANY_REQUESTS =>
                {
                    let wait = asked.unwrap_or(wait).max(self.retry.cap);
                    let until = chrono::Utc::now().timestamp() + wait.as_secs().max(1) as i64;
                    return Err(HttpError::RateLimited {
                        status: r.status.as_u16(),
                        until,
                    });
                }
                _ => {
                    return match outcome {
                        Ok(r) if r.status == StatusCode::UNAUTHORIZED => {
                            Err(HttpError::Unauthorized)
                        }
                        other => other,
                    };
                }
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.retry.base.saturating_mul(1 << attempt.min(16));
        let capped = exp.min(self.retry.cap);
        // Full jitter: anywhere in [capped/2, capped], so clients do not retry in step.
        let half = capped / 2;
        half + half.mul_f64(jitter())
    }

    async fn send_once(&self, req: Request) -> Result<Response, HttpError> {
        let mut url = req.url.clone();
        for _ in 0..5 {
            if !same_origin(&url, &self.origin) {
                return Err(HttpError::ForeignOrigin(url.to_string()));
            }
            let mut builder = self.client.request(req.method.clone(), url.clone());
            let mut headers = HeaderMap::new();
            for (name, value) in &req.headers {
                let v = HeaderValue::from_str(value).map_err(|_| HttpError::BadHeader(name))?;
                headers.insert(HeaderName::from_static(name), v);
            }
            // Calendar data compresses about tenfold; bodies are counted as they come over the wire.
            headers.insert("accept-encoding", HeaderValue::from_static("gzip"));
            builder = builder.headers(headers);
            if let Some((user, password)) = &self.credentials {
                builder = builder.basic_auth(user, Some(password));
            }
            if let Some(body) = &req.body {
                builder = builder.body(body.clone());
            }
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
            self.counters.begin();
            let mut flight = InFlight {
                counters: &self.counters,
                replied: false,
            };
            let mut resp = builder.send().await.map_err(network)?;
            let status = resp.status();
            if status.is_redirection()
                && let Some(next) = resp
                    .headers()
                    .get("location")
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l).ok())
            {
                flight.replied = true;
                url = next;
                continue;
            }
            let headers = resp.headers().clone();
            if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
                return Err(HttpError::TooLarge(MAX_BODY));
            }
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(network)? {
                self.counters
                    .bytes
                    .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                if body.len() + chunk.len() > MAX_BODY {
                    return Err(HttpError::TooLarge(MAX_BODY));
                }
                body.extend_from_slice(&chunk);
            }
            flight.replied = true;
            drop(flight);
            if headers
                .get("content-encoding")
                .is_some_and(|e| e.as_bytes().eq_ignore_ascii_case(b"gzip"))
            {
                body = gunzip(&body)?;
            }
            return Ok(Response {
                status,
                headers,
                body,
                url,
            });
        }
        Err(HttpError::Network("too many redirects".into()))
    }
}

/// A network error in plain words, without the URL's credentials (reqwest never puts them there,
/// but the query could hold a token).
fn network(e: reqwest::Error) -> HttpError {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "the connection broke during the reply"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(&e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.contains("certificate") {
        // Not transient: retrying cannot make a certificate trusted.
        return HttpError::Tls(format!(
            "{detail}: the server's certificate is not trusted; if it is self-hosted, name its CA in the account's ca_file"
        ));
    }
    if detail.is_empty() {
        HttpError::Network(kind.to_string())
    } else {
        HttpError::Network(format!("{kind} ({detail})"))
    }
}

/// A gzip body, decompressed up to [`MAX_BODY`] bytes.
fn gunzip(body: &[u8]) -> Result<Vec<u8>, HttpError> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(body)
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| HttpError::Network(format!("the reply's gzip data is broken ({e})")))?;
    if out.len() > MAX_BODY {
        return Err(HttpError::TooLarge(MAX_BODY));
    }
    Ok(out)
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(r: &Response) -> Option<Duration> {
    let v = r.header("retry-after")?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = (when.timestamp() - chrono::Utc::now().timestamp()).max(0);
    Some(Duration::from_secs(secs as u64))
}

/// A number in [0, 1) that differs between calls and processes; jitter needs no better.
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_under_the_cap() {
        let http = Http::new(
            &Url::parse("http://127.0.0.1:1/").unwrap(),
            None,
            None,
            Duration::from_secs(1),
        )
        .unwrap();
        for attempt in 1..10 {
            let d = http.backoff(attempt);
            assert!(d <= http.retry.cap, "{d:?}");
        }
        assert!(http.backoff(1) <= Duration::from_millis(800));
        assert!(http.backoff(8) >= http.retry.cap / 2);
    }

    #[test]
    fn retries_without_a_reply_keep_counting_the_wait_and_a_reply_resets_it() {
        let c = Counters::default();
        // A reply 40 s ago; a request began 30 s ago and got none.
        c.last_reply.store(now_ms() - 40_000, Ordering::Relaxed);
        c.begin();
        c.busy_since.store(now_ms() - 30_000, Ordering::Relaxed);
        c.end(false);
        // The retry of an attempt that got no reply: still waiting since the first one.
        c.begin();
        assert!(c.waited() >= Duration::from_secs(29), "{:?}", c.waited());
        c.end(true);
        c.begin();
        assert!(c.waited() < Duration::from_secs(5), "{:?}", c.waited());
        c.end(true);
        assert_eq!(c.waited(), Duration::ZERO);
    }

    #[test]
    fn gzip_bodies_are_unpacked_and_broken_ones_are_an_error() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"BEGIN:VCALENDAR").unwrap();
        let packed = enc.finish().unwrap();
        assert_eq!(gunzip(&packed).unwrap(), b"BEGIN:VCALENDAR");
        assert!(gunzip(&packed[..packed.len() / 2]).is_err());
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let a = Url::parse("https://dav.example.org/cal/").unwrap();
        assert!(same_origin(
            &a,
            &Url::parse("https://dav.example.org/other").unwrap()
        ));
        assert!(!same_origin(
            &a,
            &Url::parse("http://dav.example.org/cal/").unwrap()
        ));
        assert!(!same_origin(
            &a,
            &Url::parse("https://evil.example/cal/").unwrap()
        ));
        assert!(!same_origin(
            &a,
            &Url::parse("https://dav.example.org:8443/cal/").unwrap()
        ));
    }
}
