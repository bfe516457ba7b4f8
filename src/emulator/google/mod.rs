//! A Google Calendar API v3 server with its OAuth endpoints on a loopback port, stateful, with
//! switches that inject the faults the real service produces. The wire behaviour follows
//! `PROTOCOLS.md` §2, the emulator checklist §4 ("All three" and "Google").
//!
//! Files: `server` (the hyper loop, the fault pipeline, routing), `state` (calendars, events,
//! change counters, tombstones, OAuth grants), `paging` (sync and page tokens, query binding),
//! `events` (the events collection), `instances` (recurrence expansion), `calendar_list`
//! (calendarList and colors), `oauth` (auth and token endpoints), `errors` (reply shapes),
//! `sha256` (PKCE S256).

mod calendar_list;
mod errors;
mod events;
mod instances;
mod oauth;
mod paging;
mod server;
pub(super) mod sha256;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use super::serve::ServerGuard;
use serde_json::Value;

use state::State;

/// Fault switches. `Default` is the documented behaviour; counters (`*_next`) and `next_status`
/// are consumed as they fire.
#[derive(Debug, Clone, PartialEq)]
pub struct Switches {
    /// PROTOCOLS.md §4 Google "token expiry horizon → 410": sync tokens older than this many
    /// seconds of the emulator clock answer 410 `fullSyncRequired`. `None`: only tombstone purges
    /// (and calendar re-creation) expire tokens.
    pub token_expiry_secs: Option<u64>,
    /// PROTOCOLS.md §4 Google "forced 410": the next N list requests carrying a `syncToken` (and no
    /// `pageToken`) answer 410 `fullSyncRequired`.
    pub force_410_next: usize,
    /// Pages hold at most this many items whatever `maxResults` asks.
    pub page_size_cap: Option<usize>,
    /// PROTOCOLS.md §2 "Any page may be short or empty while `nextPageToken` is present": every
    /// listing round starts with this many empty pages that carry a `nextPageToken`.
    pub empty_pages: usize,
    /// Pages hold 1, 2, 3, 1, 2, 3 … items (each with a `nextPageToken` while more remain).
    pub short_pages: bool,
    /// PROTOCOLS.md §4 Google "per-user request bucket (403/429, no `Retry-After`)": at most
    /// `.0` API requests per `.1` seconds of the emulator clock (sliding window); past it the
    /// status `.2` (403 `userRateLimitExceeded`, 429 `rateLimitExceeded`).
    pub rate_limit: Option<(u32, u64, u16)>,
    /// PROTOCOLS.md §4 Google "`403 quotaExceeded`": every API request answers it.
    pub quota_exceeded: bool,
    /// PROTOCOLS.md §4 Google "`500 backendError`": the next N API requests answer it.
    pub backend_error_next: usize,
    /// PROTOCOLS.md §4 "All three" "`429`/`503` + `Retry-After`": the next requests each get this
    /// status (popped front), with `Retry-After` seconds if `Some`.
    pub next_status: Vec<(u16, Option<u64>)>,
    /// PROTOCOLS.md §4 "All three" "a cut mid-body": the next N replies with a body send the full
    /// Content-Length and half the body, then close.
    pub cut_next: usize,
    /// PROTOCOLS.md §4 "All three" "malformed JSON": the next N successful JSON replies have a
    /// broken body.
    pub malformed_next: usize,
    /// PROTOCOLS.md §4 "All three" "slow replies": every reply waits this long.
    pub delay_ms: u64,
    /// PROTOCOLS.md §4 "All three" "`401` on the next request": the next N API requests answer
    /// 401 `authError` whatever their token.
    pub unauthorized_next: usize,
    /// PROTOCOLS.md §4 "All three" "`412` on the next write": the next N event writes answer 412
    /// `conditionNotMet` and change nothing.
    pub precondition_failed_next: usize,
    /// PROTOCOLS.md §2 [obs] "Etags change without visible edits (attendee replies)": every read
    /// of an event with attendees (GET, or a listing) first gives it a new etag, as an attendee's
    /// reply would.
    pub etag_churn: bool,
    /// PROTOCOLS.md §4 "All three" "too many parallel requests fails the test": more requests in
    /// flight at once than this are recorded in `violations()`.
    pub max_in_flight: Option<usize>,
    /// PROTOCOLS.md §2 "Cancelled items … vanish after a while": tombstones older than this many
    /// seconds of the emulator clock are purged; sync tokens from before a purge answer 410.
    pub tombstone_horizon_secs: u64,
    /// PROTOCOLS.md §4 Google OAuth "`error=access_denied` by switch".
    pub deny_consent: bool,
    /// PROTOCOLS.md §4 Google OAuth "Switches: `invalid_grant`": every refresh fails.
    pub invalid_grant: bool,
    /// PROTOCOLS.md §2 OAuth "Refresh tokens die after 7 days while the consent screen is External
    /// + Testing": refresh tokens older than 7 days of the emulator clock fail.
    pub testing_expiry: bool,
    /// The next N successful event writes are carried out, but their reply is cut off.
    pub lose_write_reply: usize,
    /// PROTOCOLS.md §2 "`403 forbiddenForNonOrganizer`: conflict": updates of events whose
    /// `organizer.self` is not true answer 403 `forbiddenForNonOrganizer`.
    pub forbidden_for_non_organizer: bool,
}

/// PROTOCOLS.md §2 "Cancelled items … vanish after a while": Google does not say how long; 30 days.
pub const DEFAULT_TOMBSTONE_HORIZON_SECS: u64 = 30 * 86_400;

impl Default for Switches {
    fn default() -> Switches {
        Switches {
            token_expiry_secs: None,
            force_410_next: 0,
            page_size_cap: None,
            empty_pages: 0,
            short_pages: false,
            rate_limit: None,
            quota_exceeded: false,
            backend_error_next: 0,
            next_status: Vec::new(),
            cut_next: 0,
            malformed_next: 0,
            delay_ms: 0,
            unauthorized_next: 0,
            precondition_failed_next: 0,
            etag_churn: false,
            max_in_flight: Some(4),
            tombstone_horizon_secs: DEFAULT_TOMBSTONE_HORIZON_SECS,
            deny_consent: false,
            invalid_grant: false,
            testing_expiry: false,
            lose_write_reply: 0,
            forbidden_for_non_organizer: false,
        }
    }
}

/// One request as the emulator saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    /// Path and query, as sent (still percent-encoded).
    pub path_and_query: String,
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    /// Whether an `Authorization` header came (whatever its value).
    pub authorization: bool,
    pub status: u16,
}

/// A running Google Calendar emulator. Clones share the server and its state; the server stops
/// when the last clone is dropped or on [`GoogleEmulator::shutdown`].
#[derive(Debug, Clone)]
pub struct GoogleEmulator {
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
    guard: Arc<ServerGuard>,
}

impl GoogleEmulator {
    /// Binds 127.0.0.1 on a free port and serves on the current Tokio runtime.
    pub async fn start() -> std::io::Result<GoogleEmulator> {
        let state = Arc::new(Mutex::new(State::new()));
        let (addr, task) = server::spawn(state.clone()).await?;
        Ok(GoogleEmulator {
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
        state::lock(&self.state)
    }

    /// The API base, `http://127.0.0.1:PORT/calendar/v3/` (trailing slash).
    pub fn api_url(&self) -> String {
        format!("http://{}/calendar/v3/", self.addr)
    }

    /// The authorization endpoint, `http://127.0.0.1:PORT/o/oauth2/v2/auth`.
    pub fn auth_url(&self) -> String {
        format!("http://{}/o/oauth2/v2/auth", self.addr)
    }

    /// The token endpoint, `http://127.0.0.1:PORT/token`.
    pub fn token_url(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    /// Registers a "Desktop app" OAuth client (PROTOCOLS.md §2 "OAuth").
    pub fn add_client(&self, client_id: &str, client_secret: &str) {
        self.lock()
            .clients
            .insert(client_id.to_string(), client_secret.to_string());
    }

    /// A signed-in user without the browser dance: (access token, refresh token) for the client.
    pub fn issue_tokens(&self, client_id: &str) -> (String, String) {
        self.lock()
            .issue_tokens(client_id, state::CALENDAR_SCOPE, true)
    }

    /// Adds a calendar to the user's calendarList (`owner`, `writer`, `reader` or
    /// `freeBusyReader`); on an existing id it changes summary and role. The first calendar added
    /// is the primary one.
    pub fn add_calendar(&self, id: &str, summary: &str, access_role: &str) {
        self.lock().add_calendar(id, summary, access_role);
    }

    /// Removes a calendar: it shows as `deleted: true` in incremental calendarList results, its
    /// events are gone and its sync tokens die.
    pub fn remove_calendar(&self, id: &str) {
        self.lock().remove_calendar(id);
    }

    /// Changes a calendar's summary (a calendarList change).
    /// Hides (or shows) a calendar in the list, as the person can in Google's own views.
    pub fn hide_calendar(&self, id: &str, hidden: bool) {
        self.lock().hide_calendar(id, hidden);
    }

    pub fn rename_calendar(&self, id: &str, summary: &str) {
        self.lock().rename_calendar(id, summary);
    }

    /// A change by another client: stores the event (creating or replacing by `id`, generating an
    /// id if it has none), assigns etag, updated and sequence, bumps the change counter. Returns
    /// the stored event. A missing calendar is created (`owner`).
    pub fn put_event(&self, calendar: &str, event: Value) -> Value {
        self.lock().put_event(calendar, event)
    }

    /// A delete by another client: leaves a cancelled tombstone. False if there was no live event.
    pub fn delete_event(&self, calendar: &str, id: &str) -> bool {
        self.lock().cancel_event(calendar, id)
    }

    /// Live (non-cancelled) events as stored, by id.
    pub fn events(&self, calendar: &str) -> Vec<Value> {
        self.lock().live_events(calendar)
    }

    /// Stores three events carrying the data real calendars break RFC 5545 with (PROTOCOLS.md §4
    /// Google "bad data (mixed DATE/DATE-TIME EXDATE, unknown zone, all-day `end <= start`)");
    /// returns their ids: mixed EXDATEs, unknown zone, all-day end before start.
    pub fn seed_bad_data(&self, calendar: &str) -> Vec<String> {
        let mut state = self.lock();
        state::bad_data_events()
            .into_iter()
            .map(|event| {
                let stored = state.put_event(calendar, event);
                stored["id"].as_str().unwrap_or_default().to_string()
            })
            .collect()
    }

    /// Replaces the fault switches.
    pub fn set_switches(&self, switches: Switches) {
        self.lock().switches = switches;
    }

    /// The switches as they are now (consumed counters show as consumed).
    pub fn switches(&self) -> Switches {
        self.lock().switches.clone()
    }

    /// Sets the emulator clock (Unix seconds) used for token lifetimes, tombstone purges, the
    /// request bucket and `updated` stamps. Until called, the clock is real time.
    pub fn set_now(&self, unix_secs: i64) {
        self.lock().now_override = Some(unix_secs);
    }

    /// Requests served since start or the last reset.
    pub fn requests(&self) -> u64 {
        self.lock().requests
    }

    /// Zeroes the request counter and clears the request log and the violations.
    pub fn reset_counts(&self) {
        let mut state = self.lock();
        state.requests = 0;
        state.log.clear();
        state.violations.clear();
    }

    /// Every answered request since start or the last reset, in order.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.lock().log.clone()
    }

    /// Protocol violations by the client, each a sentence; a test asserts this is empty.
    pub fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }
}
