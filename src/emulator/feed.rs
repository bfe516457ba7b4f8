//! An iCalendar feed on a loopback port: what a subscription (`webcal://`, a published calendar)
//! is served by. It answers conditional GETs as RFC 9110 §13 says (and, by switch, as the many
//! feeds that ignore them do), counts requests and logs the validators each one carried.

use super::serve::ServerGuard;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};

/// How the feed misbehaves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedSwitches {
    /// Send neither ETag nor Last-Modified (many generated feeds do).
    pub no_validators: bool,
    /// Answer every GET with the whole feed, whatever the request's conditions say.
    pub ignore_conditions: bool,
    /// Answer every GET with this status and a short HTML body.
    pub status: Option<u16>,
    /// Serve this instead of the feed, with status 200 (a login page, a broken upload).
    pub body_override: Option<String>,
}

/// One request as the feed saw it: the conditions it carried and the status it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedRequest {
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
    pub status: u16,
}

#[derive(Debug, Default)]
struct State {
    body: String,
    /// Bumped by each change of the body; the ETag and Last-Modified follow it.
    version: u64,
    switches: FeedSwitches,
    log: Vec<FeedRequest>,
}

impl State {
    fn etag(&self) -> String {
        format!("\"v{}\"", self.version)
    }

    /// RFC 9110 §5.6.7 IMF-fixdate: a second per version, so each change is a later date.
    fn last_modified(&self) -> String {
        let at = chrono::DateTime::from_timestamp(1_767_225_600 + self.version as i64, 0)
            .unwrap_or_default();
        at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
    }
}

/// A running feed. Clones share it; it stops when the last clone goes or on `shutdown`.
#[derive(Clone)]
pub struct FeedServer {
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
    guard: Arc<ServerGuard>,
}

impl FeedServer {
    /// Serves `body` at `/feed.ics` on 127.0.0.1, on a free port. Must run inside Tokio.
    pub async fn start(body: &str) -> std::io::Result<FeedServer> {
        let state = Arc::new(Mutex::new(State {
            body: body.to_string(),
            version: 1,
            ..State::default()
        }));
        let served = state.clone();
        let (addr, task) = super::serve::spawn(move |req| serve(served.clone(), req)).await?;
        Ok(FeedServer {
            state,
            addr,
            guard: Arc::new(ServerGuard(task)),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The feed's address, `http://127.0.0.1:PORT/feed.ics`.
    pub fn url(&self) -> String {
        format!("http://{}/feed.ics", self.addr)
    }

    /// Replaces the feed; a new body gets new validators.
    pub fn set_body(&self, body: &str) {
        let mut s = self.lock();
        if s.body != body {
            s.body = body.to_string();
            s.version += 1;
        }
    }

    pub fn body(&self) -> String {
        self.lock().body.clone()
    }

    pub fn set_switches(&self, switches: FeedSwitches) {
        self.lock().switches = switches;
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<FeedRequest> {
        self.lock().log.clone()
    }

    pub fn shutdown(&self) {
        self.guard.0.abort();
    }
}

async fn serve(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let if_none_match = header("if-none-match");
    let if_modified_since = header("if-modified-since");
    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
    let (status, body) = if req.uri().path() != "/feed.ics" {
        (404, "not here".to_string())
    } else if let Some(status) = s.switches.status {
        (status, "<html><body>Unavailable</body></html>".to_string())
    } else if let Some(body) = s.switches.body_override.clone() {
        (200, body)
    } else {
        let validators = !s.switches.no_validators && !s.switches.ignore_conditions;
        // RFC 9110 §13.1.2: If-None-Match matches on any listed etag (weak comparison for
        // GET); §13.1.3: If-Modified-Since counts only without If-None-Match.
        let unchanged = validators
            && match (&if_none_match, &if_modified_since) {
                (Some(tags), _) => tags
                    .split(',')
                    .map(|t| t.trim().trim_start_matches("W/"))
                    .any(|t| t == s.etag() || t == "*"),
                (None, Some(since)) => *since == s.last_modified(),
                (None, None) => false,
            };
        if unchanged {
            (304, String::new())
        } else {
            (200, s.body.clone())
        }
    };
    s.log.push(FeedRequest {
        if_none_match,
        if_modified_since,
        status,
    });
    let mut resp = Response::builder().status(status);
    if (status == 200 || status == 304) && !s.switches.no_validators {
        resp = resp
            .header("etag", s.etag())
            .header("last-modified", s.last_modified());
    }
    if status == 200 {
        resp = resp.header("content-type", "text/calendar; charset=utf-8");
    }
    Ok(resp
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
}
