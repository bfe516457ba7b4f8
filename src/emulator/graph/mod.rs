//! A Microsoft Graph calendar server (v1.0) with its Entra device-code sign-in on a loopback port,
//! stateful for one mailbox ("me"), with switches that inject the faults the real service
//! produces. The wire behaviour follows `PROTOCOLS.md` §3, the emulator checklist §4 ("All three"
//! and "Graph").
//!
//! Files: `server` (the hyper loop, the fault pipeline, authentication, routing), `state`
//! (calendars, events with their version history, the change sequence, OAuth grants), `delta`
//! (calendarView/delta rounds: tokens, snapshots, paging), `instances` (series expansion with the
//! crate's own recurrence engine, occurrence ids), `render` (events as Graph writes them),
//! `writes` (create, PATCH, DELETE), `events` (the calendar list, one event, instances and the
//! writes on the wire), `oauth` (device code and token endpoints), `errors` (reply
//! shapes).

mod delta;
mod errors;
mod events;
mod instances;
mod oauth;
mod render;
mod server;
mod state;
#[cfg(test)]
mod tests;
mod writes;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

use super::serve::ServerGuard;
use state::State;

/// Fault switches. `Default` is the documented (and [obs]) behaviour; counters (`*_next`) and
/// `next_status` are consumed as they fire.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphSwitches {
    /// PROTOCOLS.md §4 "All three" "`429`/`503` + `Retry-After`": the next API requests each get
    /// this status (popped front), with `Retry-After` seconds if `Some`.
    pub next_status: Vec<(u16, Option<u64>)>,
    /// PROTOCOLS.md §4 "All three" "slow replies": every reply waits this long.
    pub delay_ms: u64,
    /// PROTOCOLS.md §4 "All three" "a cut mid-body": the next N replies with a body send the full
    /// Content-Length and half the body, then close.
    pub cut_next: usize,
    /// PROTOCOLS.md §4 "All three" "malformed JSON": the next N successful JSON replies have a
    /// broken body.
    pub malformed_next: usize,
    /// PROTOCOLS.md §4 "All three" "`401` on the next request": the next N API requests answer
    /// 401 `InvalidAuthenticationToken` whatever their token.
    pub unauthorized_next: usize,
    /// PROTOCOLS.md §4 "All three" "`412` on the next write": the next N PATCH/DELETE requests
    /// answer 412 `ErrorIrresolvableConflict` and change nothing.
    pub precondition_failed_next: usize,
    /// PROTOCOLS.md §3 "It moves on server-side changes too … spurious 412s occur [obs]"; §4 "etag
    /// churn": every `GET /me/events/{id}` and `/instances` of an event with attendees first
    /// gives it a new changeKey (delta rounds then carry the change).
    pub etag_churn: bool,
    /// PROTOCOLS.md §3 "Per app id + mailbox: 4 concurrent requests": more API requests in flight
    /// than this answer 429 `ApplicationThrottled` + `Retry-After` and are recorded in
    /// `violations()` (§4 "too many parallel requests fails the test").
    pub max_in_flight: Option<usize>,
    /// PROTOCOLS.md §4 Graph "state expiry horizon → 410 + `Location`": deltaLinks older than
    /// this many seconds of the emulator clock answer 410 `SyncStateNotFound`.
    pub state_expiry_secs: Option<u64>,
    /// PROTOCOLS.md §4 Graph "`400 InvalidDeltaToken`": the next N requests carrying a
    /// `$deltatoken` answer it.
    pub invalid_delta_token_next: usize,
    /// PROTOCOLS.md §3 "An older nextLink may expire once a later page was read [obs
    /// microsoft-graph-docs#7975]": a nextLink older than the newest one served for its round
    /// answers 410 `SyncStateNotFound`.
    pub older_next_links_die: bool,
    /// PROTOCOLS.md §3 "Follow nextLinks even when `value` is empty"; §4 "empty pages with a
    /// nextLink": every round starts with this many empty pages.
    pub empty_pages: usize,
    /// PROTOCOLS.md §3 "An item may come several times in a round, late: the last copy wins"; §4
    /// "replayed items": pages after the first repeat the previous page's last items, and an
    /// incremental round sends the older content of changed items first.
    pub replay_items: bool,
    /// PROTOCOLS.md §3 "Endless rounds [obs msgraph-sdk-dotnet#3082]: identical pages, fresh
    /// nextLinks, no deltaLink": after the first page every page repeats it, for ever.
    pub endless_loop: bool,
    /// PROTOCOLS.md §3 "Pages overfill on series expansion [obs msgraph-sdk-dotnet#3070]": a page
    /// that reaches a series' occurrences takes the rest of that series too.
    pub overfull_pages: bool,
    /// PROTOCOLS.md §3 [obs] "Plain occurrences carry only `@odata.type @odata.etag id
    /// seriesMasterId type start end`" (default on); off: occurrences come as full objects.
    pub skeletal_occurrences: bool,
    /// PROTOCOLS.md §3 [obs] "A deleted occurrence may yield no `@removed`".
    pub no_removed_for_cancelled_occurrences: bool,
    /// PROTOCOLS.md §3 "Items that left the window, or changed outside it, also come as removed
    /// [doc; obs microsoft-graph-docs-contrib#6599]": changed items never in the window come as
    /// `@removed` too.
    pub out_of_window_removals: bool,
    /// PROTOCOLS.md §3 "`504 UnknownError` on nextLinks with endless series in the window [obs
    /// microsoft-graph-docs#3657]": the next N nextLink requests answer 504.
    pub gateway_timeout_next_link: usize,
    /// Same line, "retry, then shrink the window": while set, nextLinks of rounds whose window is
    /// wider than this many days answer 504 (whatever `gateway_timeout_next_link` says).
    pub gateway_timeout_until_window_days: Option<i64>,
    /// PROTOCOLS.md §3 Times "`tzone://Microsoft/Custom` … `recurrenceTimeZone`, then
    /// `originalStartTimeZone`"; §4 Graph: timed series items are written in the series' zone
    /// marked `tzone://Microsoft/Custom`, the zone named in `recurrenceTimeZone` and
    /// `originalStartTimeZone` (whatever `outlook.timezone` asks).
    pub custom_time_zones: bool,
    /// PROTOCOLS.md §3 Times "[obs] Years `0001`/`9999` = none"; §4 Graph "sentinel dates":
    /// `noEnd` ranges are written with `endDate` `0001-01-01`.
    pub sentinel_dates: bool,
    /// PROTOCOLS.md §3 "Ids are case-sensitive: binary collation"; §4 Graph "ids differing only in
    /// case": a new event's id differs from an existing one only in the case of one letter.
    pub case_twin_ids: bool,
    /// PROTOCOLS.md §4 Graph "`400` if `range.startDate` ≠ series start (unverified on the real
    /// service)".
    pub strict_range_start: bool,
    /// PROTOCOLS.md §4 Graph OAuth "`authorization_pending` for N polls, then tokens": a device
    /// code answers `authorization_pending` at least this many times, even once approved.
    pub pending_polls: usize,
    /// PROTOCOLS.md §3 OAuth "`slow_down` (RFC 8628) = +5 s": the next N device-code polls answer
    /// `slow_down`; a poll sooner than the raised interval is recorded as a violation.
    pub slow_down_next: usize,
    /// The increment `slow_down` adds to the interval: RFC 8628 §3.5 says 5 seconds; tests may
    /// lower it to stay fast.
    pub slow_down_increment_secs: u64,
    /// PROTOCOLS.md §3 OAuth "Poll … every `interval` s": the `interval` the devicecode endpoint
    /// gives (5 by default, as Entra does; tests use 0 or 1).
    pub device_interval_secs: u64,
    /// PROTOCOLS.md §3 OAuth "`expired_token` = stop": every device-code poll answers it.
    pub expire_device_code: bool,
    /// PROTOCOLS.md §3 OAuth "`invalid_grant` → one re-authorise prompt": every refresh fails.
    pub invalid_grant: bool,
    /// The next N successful event writes are carried out, but their reply is cut off (for
    /// PROTOCOLS.md §3 "a retried create with it [`transactionId`] makes no second event").
    pub lose_write_reply: usize,
}

impl Default for GraphSwitches {
    fn default() -> GraphSwitches {
        GraphSwitches {
            next_status: Vec::new(),
            delay_ms: 0,
            cut_next: 0,
            malformed_next: 0,
            unauthorized_next: 0,
            precondition_failed_next: 0,
            etag_churn: false,
            max_in_flight: Some(4),
            state_expiry_secs: None,
            invalid_delta_token_next: 0,
            older_next_links_die: false,
            empty_pages: 0,
            replay_items: false,
            endless_loop: false,
            overfull_pages: false,
            skeletal_occurrences: true,
            no_removed_for_cancelled_occurrences: false,
            out_of_window_removals: false,
            gateway_timeout_next_link: 0,
            gateway_timeout_until_window_days: None,
            custom_time_zones: false,
            sentinel_dates: false,
            case_twin_ids: false,
            strict_range_start: false,
            pending_polls: 0,
            slow_down_next: 0,
            slow_down_increment_secs: 5,
            device_interval_secs: 5,
            expire_device_code: false,
            invalid_grant: false,
            lose_write_reply: 0,
        }
    }
}

/// One request as the emulator saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    /// Path and query, as sent (still percent-encoded).
    pub path_and_query: String,
    /// Every `Prefer` header, joined with `, `.
    pub prefer: Option<String>,
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    /// Whether an `Authorization` header came (whatever its value).
    pub authorization: bool,
    pub status: u16,
}

/// A running Graph emulator. Clones share the server and its state; the server stops when the
/// last clone is dropped or on [`GraphEmulator::shutdown`].
#[derive(Debug, Clone)]
pub struct GraphEmulator {
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
    guard: Arc<ServerGuard>,
}

impl GraphEmulator {
    /// Binds 127.0.0.1 on a free port and serves on the current Tokio runtime.
    pub async fn start() -> std::io::Result<GraphEmulator> {
        let state = Arc::new(Mutex::new(State::new()));
        let (addr, task) = server::spawn(state.clone()).await?;
        state::lock(&state).origin = format!("http://{addr}");
        Ok(GraphEmulator {
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

    /// The API base, `http://127.0.0.1:PORT/v1.0` (no trailing slash).
    pub fn api_url(&self) -> String {
        format!("http://{}/v1.0", self.addr)
    }

    /// The sign-in base, `http://127.0.0.1:PORT`: `{login_url}/{tenant}/oauth2/v2.0/devicecode`
    /// and `…/token`.
    pub fn login_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Registers a public client (no secret) allowed to sign in (PROTOCOLS.md §3 "OAuth").
    pub fn add_client(&self, client_id: &str) {
        self.lock().clients.insert(client_id.to_string());
    }

    /// A signed-in user without the device-code dance: (access token, refresh token), as if the
    /// scope had `offline_access`.
    pub fn issue_tokens(&self, client_id: &str) -> (String, String) {
        let (access, refresh) = self
            .lock()
            .issue_tokens(client_id, oauth::DEFAULT_SCOPE, true);
        (access, refresh.unwrap_or_default())
    }

    /// The person approves the device code with this `user_code`; false if there is none.
    pub fn approve(&self, user_code: &str) -> bool {
        self.lock().decide(user_code, true)
    }

    /// The person declines it (polls then answer `authorization_declined`).
    pub fn decline(&self, user_code: &str) -> bool {
        self.lock().decide(user_code, false)
    }

    /// Replaces the fault switches.
    pub fn set_switches(&self, switches: GraphSwitches) {
        self.lock().switches = switches;
    }

    /// The switches as they are now (consumed counters show as consumed).
    pub fn switches(&self) -> GraphSwitches {
        self.lock().switches.clone()
    }

    /// Sets the emulator clock (Unix seconds): token lifetimes, state expiry, device codes,
    /// `lastModifiedDateTime`. Until called, the clock is real time.
    pub fn set_now(&self, unix_secs: i64) {
        self.lock().now_override = Some(unix_secs);
    }

    /// The emulator clock (Unix seconds).
    pub fn now(&self) -> i64 {
        self.lock().now()
    }

    /// Adds a calendar and returns its id; the first one added is the default calendar.
    pub fn add_calendar(&self, name: &str, can_edit: bool) -> String {
        self.lock().add_calendar(name, can_edit)
    }

    /// Renames a calendar.
    pub fn rename_calendar(&self, id: &str, name: &str) {
        if let Some(cal) = self.lock().calendars.get_mut(id) {
            cal.name = name.to_string();
        }
    }

    /// Removes a calendar with its events; its delta links then answer 404.
    pub fn remove_calendar(&self, id: &str) {
        self.lock().remove_calendar(id);
    }

    /// A create by another client: a `singleInstance`, or a `seriesMaster` when `event` has a
    /// `recurrence`. Returns the stored object (with `@odata.etag`), or `{"error": …}` when the
    /// event cannot be stored.
    pub fn insert_event(&self, calendar: &str, event: Value) -> Value {
        match self.lock().create(calendar, event) {
            Ok(stored) => stored,
            Err(why) => serde_json::json!({ "error": why }),
        }
    }

    /// A PATCH by another client (on an occurrence id it makes an exception). False if `id`
    /// names nothing or the patch is refused.
    pub fn update_event(&self, id: &str, patch: Value) -> bool {
        self.lock().patch(id, patch).is_ok()
    }

    /// A DELETE by another client: a single event, a whole series (master id) or one occurrence
    /// (occurrence or exception id: cancelled). False if `id` names nothing.
    pub fn delete_event(&self, id: &str) -> bool {
        self.lock().delete(id)
    }

    /// The id of the occurrence of `master_id` originally starting at `original_start_unix`, if
    /// the series has one there (cancelled ones included).
    pub fn occurrence_id(&self, master_id: &str, original_start_unix: i64) -> Option<String> {
        self.lock().occurrence_id(master_id, original_start_unix)
    }

    /// Stored singles, masters and exceptions of a calendar, as full objects.
    pub fn events(&self, calendar: &str) -> Vec<Value> {
        self.lock().stored_events(calendar)
    }

    /// The server's view of a window, what a correct client must hold: every single event and
    /// every non-cancelled occurrence or exception overlapping `[start, end)`, as (series key =
    /// the master's `iCalUId` or the event's own, start, end, subject), sorted.
    pub fn window_view(
        &self,
        calendar: &str,
        start: i64,
        end: i64,
    ) -> Vec<(String, i64, i64, String)> {
        self.lock().window_view(calendar, start, end)
    }

    /// Every answered request since start or the last reset, in order.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.lock().log.clone()
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

    /// Protocol violations by the client (PROTOCOLS.md §4 "All three" and §3 "Every request,
    /// links too"), each a sentence; a test asserts this is empty.
    pub fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }
}
