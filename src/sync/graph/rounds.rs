//! A Graph account's round: its calendars listed whole, then per calendar (one after another:
//! PROTOCOLS.md §3 "sync an account's calendars one at a time") its pending edits, then a delta
//! round over the calendar's window. Pages are fetched a few ahead on a task of its own (which
//! reads only each page's link and ids before asking for the next), built and their single
//! events read on blocking threads; single events are applied in page order, page by page in an
//! incremental round and [`HELD_MIN`] to [`HELD_MAX`] to a transaction in a new one; a series'
//! master is fetched beside the pages once the series appears ([`masters`]), and series are
//! rebuilt at the end of the round from their masters (and instances when a master changed);
//! the deltaLink is stored with the last page. PROTOCOLS.md §3 "Rounds", "Items, removals,
//! series".

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;

use super::api::{ApiError, Graph, PAGE_SIZE};
use super::masters::{self, Masters};
use super::series::{self, kind, original_start};
use crate::domain::ParsedCalendar;
use crate::domain::graph::{group_parts, group_text, read_objects, read_single};
use crate::store::{ChangeSet, FetchedItem, Member, RemoteCalendar, StateUpdate, Store};
use crate::sync::round::{
    AccountReport, CalendarReport, Stopwatch, SyncOptions, apply_page, emit, now, push_then_pull,
    watched,
};
use crate::sync::{SyncError, SyncEvent};

/// The strategy's name in the sync pane and `status`.
pub const DELTA: &str = "delta";
/// Pages followed in one round before it ends with a message (PROTOCOLS.md §3 "Endless rounds …
/// at a page cap").
const MAX_PAGES: usize = 2_000;
/// Single events of a new round held back for one larger transaction: each commit rewrites the
/// index pages it touched, so a page (100 events) a transaction costs a first sync a third more.
const HELD_MAX: usize = 2_000;
/// Held single events are written early, while the next page is still on its way, once this
/// many wait: the waiting is then used, and the last page finds little left to write.
const HELD_MIN: usize = 300;
/// The smallest page asked for after `504`s on links (PROTOCOLS.md §3 "retry, then shrink").
const MIN_PAGE_SIZE: usize = 10;
/// A window is re-based (a new full round) once "now" has moved this far from where it was
/// made (PROTOCOLS.md §3 "before 'now' nears an edge, start a new full round").
const REBASE_AFTER_DAYS: i64 = 30;
/// A window narrowed after `504`s still reaches this many days past today, so it serves until
/// the next re-base, which tries the whole width again.
const MIN_FUTURE_DAYS: i64 = REBASE_AFTER_DAYS + 2;
/// Properties asked of `/instances` (PROTOCOLS.md §3: `$select` `originalStart` there [obs]).
const INSTANCE_FIELDS: &str = "id,type,seriesMasterId,originalStart,originalStartTimeZone,\
originalEndTimeZone,start,end,isAllDay,subject,body,location,attendees,organizer,isCancelled,\
iCalUId,showAs,sensitivity,isReminderOn,reminderMinutesBeforeStart,categories,importance,\
changeKey,lastModifiedDateTime";

/// One round for a Graph account.
pub async fn sync_graph(
    store: &mut Store,
    account: &str,
    graph: &Graph,
    opts: &SyncOptions,
    events: Option<&UnboundedSender<SyncEvent>>,
) -> AccountReport {
    let clock = Stopwatch::start(graph.http.counters.snapshot());
    let mut report = AccountReport {
        account: account.to_string(),
        ..AccountReport::default()
    };
    let outcome = {
        let run = run_account(store, account, graph, opts, events, &mut report);
        watched(run, &graph.http, account, events).await
    };
    clock.end_account(&mut report, outcome, graph.http.counters.snapshot(), events);
    report
}

/// A calendar as `/me/calendars` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listed {
    id: String,
    name: String,
    color: Option<String>,
    can_edit: bool,
}

fn listed(v: &Value) -> Option<Listed> {
    let id = v.get("id")?.as_str()?.to_string();
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or("Calendar")
        .to_string();
    let color = v
        .get("hexColor")
        .and_then(Value::as_str)
        .filter(|c| {
            c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|d| d.is_ascii_hexdigit())
        })
        .map(str::to_string);
    Some(Listed {
        id,
        name,
        color,
        can_edit: v.get("canEdit").and_then(Value::as_bool) != Some(false),
    })
}

async fn run_account(
    store: &mut Store,
    account: &str,
    graph: &Graph,
    opts: &SyncOptions,
    events: Option<&UnboundedSender<SyncEvent>>,
    report: &mut AccountReport,
) -> Result<(), SyncError> {
    let row = store.account(account, "graph", graph.api_base(), now())?;
    let calendars = list_calendars(graph).await?;
    let remote: Vec<RemoteCalendar> = calendars
        .iter()
        .map(|c| RemoteCalendar {
            remote_id: c.id.clone(),
            name: c.name.clone(),
            color: c.color.clone(),
            components: vec!["VEVENT".into()],
        })
        .collect();
    let change = store.reconcile_calendars(row.id, &remote)?;
    if !change.added.is_empty() {
        store.drop_sample()?;
    }
    if change != Default::default() {
        tracing::info!(account, ?change, "calendars changed");
        emit(events, SyncEvent::CalendarsChanged);
    }
    for state in store.calendar_syncs(row.id)? {
        let here = calendars.iter().find(|c| c.id == state.remote_id);
        if let Some(c) = here {
            store.set_read_only(state.id, !c.can_edit)?;
        }
        if opts.calendar.as_ref().is_some_and(|c| *c != state.name) {
            continue;
        }
        if here.is_none() {
            for change in store.pending_changes(state.id)? {
                store.record_conflict(
                    change.id,
                    None,
                    None,
                    Some("the calendar no longer exists on the server"),
                    now(),
                )?;
            }
            continue;
        }
        let r = sync_calendar(store, graph, &state, opts.full, events).await;
        let retry_at = r.retry_at;
        let signed_out = r
            .error
            .as_deref()
            .is_some_and(|e| e.contains("almanac login"));
        report.calendars.push(r);
        if retry_at.is_some() {
            report.retry_at = retry_at;
            break;
        }
        if signed_out {
            return Err(SyncError::SignIn(
                report
                    .calendars
                    .last()
                    .and_then(|r| r.error.clone())
                    .unwrap_or_default(),
            ));
        }
    }
    Ok(())
}

/// `GET /me/calendars`, whole (PROTOCOLS.md §3 "no delta: list it whole"), links followed.
async fn list_calendars(graph: &Graph) -> Result<Vec<Listed>, SyncError> {
    let mut url = graph.url(&["me", "calendars"], &[]);
    let mut out = Vec::new();
    for _ in 0..100 {
        let (status, body, resp) = graph.get_json(url, PAGE_SIZE).await?;
        if status != 200 {
            return Err(SyncError::Protocol(format!(
                "listing calendars: {}",
                ApiError::of(&resp).words()
            )));
        }
        out.extend(
            body["value"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(listed),
        );
        match body["@odata.nextLink"].as_str() {
            Some(next) => url = graph.link(next)?,
            None => return Ok(out),
        }
    }
    Err(SyncError::Protocol(
        "the calendar list went on past 100 pages".into(),
    ))
}

/// One calendar: pending edits first, then the delta round.
async fn sync_calendar(
    store: &mut Store,
    graph: &Graph,
    state: &crate::store::CalendarSync,
    full: bool,
    events: Option<&UnboundedSender<SyncEvent>>,
) -> CalendarReport {
    push_then_pull(
        store,
        graph,
        &graph.http,
        state,
        DELTA,
        events,
        async |store, report| pull(store, graph, state, full, events, report).await,
    )
    .await
}

/// A window of the calendar: Unix seconds, `[start, end)`, at UTC midnights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: i64,
    pub end: i64,
}

impl Window {
    /// The window around `today` that the config asks for.
    pub fn around(today: NaiveDate, config: crate::config::Window) -> Window {
        let midnight = |d: NaiveDate| {
            d.and_hms_opt(0, 0, 0)
                .unwrap_or_default()
                .and_utc()
                .timestamp()
        };
        Window {
            start: midnight(today - chrono::Duration::days(i64::from(config.past))),
            end: midnight(today + chrono::Duration::days(i64::from(config.future))),
        }
    }

    /// As stored (in the calendar's `ctag`) and shown in the sync pane: `2026-09-01..2028-01-04`.
    pub fn text(&self) -> String {
        let day = |t: i64| {
            DateTime::<Utc>::from_timestamp(t, 0)
                .unwrap_or_default()
                .format("%Y-%m-%d")
                .to_string()
        };
        format!("{}..{}", day(self.start), day(self.end))
    }

    pub fn parse(s: &str) -> Option<Window> {
        let (a, b) = s.split_once("..")?;
        let day = |t: &str| {
            NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc().timestamp())
        };
        Some(Window {
            start: day(a)?,
            end: day(b)?,
        })
    }

    /// Whether the stored window still serves at `today` with `config`: made with the same
    /// widths (or narrowed from them by [`Window::narrower`]), and "now" not yet moved
    /// [`REBASE_AFTER_DAYS`] from where it was.
    pub fn serves(&self, today: NaiveDate, config: crate::config::Window) -> bool {
        let mut width = i64::from(config.past + config.future) * 86_400;
        let made_at = self.start + i64::from(config.past) * 86_400;
        let now = Window::around(today, config).start + i64::from(config.past) * 86_400;
        let mut made_so = false;
        while width >= 86_400 && !made_so {
            made_so = self.end - self.start == width;
            width = halved(width);
        }
        made_so && (now - made_at).abs() < REBASE_AFTER_DAYS * 86_400
    }

    /// Half as wide, from the same start (PROTOCOLS.md §3 "`504` … on nextLinks with endless
    /// series in the window: retry, then shrink the window"); `None` once it would end within
    /// [`MIN_FUTURE_DAYS`] of `today`.
    pub fn narrower(&self, today: NaiveDate) -> Option<Window> {
        let end = self.start + halved(self.end - self.start);
        let today = Window::around(today, crate::config::Window { past: 0, future: 0 }).start;
        (end >= today + MIN_FUTURE_DAYS * 86_400).then_some(Window {
            start: self.start,
            end,
        })
    }
}

/// Half of a width in whole days.
fn halved(width: i64) -> i64 {
    width / 86_400 / 2 * 86_400
}

/// What a round learnt of one series: its members as listed, and those removed.
#[derive(Debug, Default)]
struct Touched {
    /// Member id → (original start, the full object when it is an exception).
    members: HashMap<String, (i64, Option<Value>)>,
    /// Plain occurrences listed (skeletal): the cached series may not explain them.
    occurrences: HashSet<String>,
    removed: HashSet<String>,
    /// A member's start named no zone we can read (`tzone://Microsoft/Custom` on a skeletal
    /// occurrence): the round's listing cannot say which occurrences are cancelled.
    guessed: bool,
}

/// The round in progress.
#[derive(Debug, Default)]
struct Round {
    /// Items the round named (a full round drops the others at its end).
    seen: HashSet<String>,
    series: HashMap<String, Touched>,
    /// Series in the order first met.
    order: Vec<String>,
    /// Their masters as fetched (see [`Masters`]), once the pages are done.
    masters: masters::Fetched,
}

impl Round {
    fn touch(&mut self, id: &str) -> &mut Touched {
        if !self.series.contains_key(id) {
            self.order.push(id.to_string());
        }
        self.series.entry(id.to_string()).or_default()
    }
}

/// A page as fetched: status, JSON body, the reply, its single events read.
type Fetched = (u16, Value, crate::sync::http::Response, ReadAhead);

/// A page's single events, each in the item format and read, by id (the last copy of each, with
/// its position in the page).
type ReadAhead = HashMap<String, (usize, String, ParsedCalendar)>;

/// Writes and reads a page's single events: the CPU work of a page, done by the task that fetched
/// it, while the page before is written to the cache.
fn read_singles(status: u16, page: &Value) -> ReadAhead {
    let mut out = HashMap::new();
    if status != 200 {
        return out;
    }
    for (i, v) in page["value"].as_array().into_iter().flatten().enumerate() {
        let Some(id) = v.get("id").and_then(Value::as_str) else {
            continue;
        };
        if v.get("@removed").is_some()
            || matches!(
                kind(v).as_str(),
                "occurrence" | "exception" | "seriesmaster"
            )
        {
            continue;
        }
        let one = std::slice::from_ref(v);
        let raw = group_text(one, &[]);
        let read = read_single(v, &raw).unwrap_or_else(|| read_objects(one, &[], &raw));
        out.insert(id.to_string(), (i, raw, read));
    }
    out
}

/// Pages fetched ahead of the one being applied.
const PAGES_AHEAD: usize = 4;

/// A page on its way to the round: fetched, being parsed and its single events read on a
/// blocking thread.
type Reading = Result<tokio::task::JoinHandle<Result<Fetched, SyncError>>, SyncError>;

/// What the pager needs of a page before it asks for the next one, read without building the
/// page (a page is 1 MB of events; building it is left to a blocking thread).
#[derive(serde::Deserialize)]
struct Skim {
    #[serde(rename = "@odata.nextLink")]
    next: Option<String>,
    #[serde(default)]
    value: Vec<SkimItem>,
}

#[derive(serde::Deserialize)]
struct SkimItem {
    id: Option<String>,
}

/// A page's JSON, as [`Graph::get_json`] reads it (`Null` for anything but a 200).
fn page_json(status: u16, resp: &crate::sync::http::Response) -> Result<Value, SyncError> {
    if status != 200 {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&resp.body).map_err(|e| {
        SyncError::Protocol(format!(
            "Microsoft Graph sent a reply that is not JSON: {e}"
        ))
    })
}

/// Fetches the round's pages from `url` on, following each nextLink, and hands each to the round
/// in order while its single events are read on a thread of their own (so the next download, the
/// reading and the round's writing all overlap); stops after an error, a page that is not a
/// 200, the last page, or [`MAX_PAGES`], or when the round stops listening. A page that repeats
/// the one before is not handed on: the round gets an error saying so (PROTOCOLS.md §3 "Endless
/// rounds … stop when a page repeats the previous one's ids").
async fn follow(
    graph: Graph,
    mut url: reqwest::Url,
    page_size: usize,
    round: tokio::sync::mpsc::Sender<Reading>,
) {
    let mut previous: Option<Vec<String>> = None;
    for pages in 1..=MAX_PAGES {
        let req = crate::sync::http::Request::new("GET", url.clone());
        let resp = match graph.send(req, page_size).await {
            Ok(resp) => resp,
            Err(e) => {
                let _ = round.send(Err(e)).await;
                return;
            }
        };
        let status = resp.status.as_u16();
        // The link and the ids from a skim; a page the skim cannot read (odd items) is built
        // here instead, and its error, if any, goes to the round.
        let skim = match status {
            200 => serde_json::from_slice::<Skim>(&resp.body).ok(),
            _ => Some(Skim {
                next: None,
                value: Vec::new(),
            }),
        };
        let (next, ids, built) = match skim {
            Some(skim) => (
                skim.next,
                skim.value.into_iter().filter_map(|i| i.id).collect(),
                None,
            ),
            None => match page_json(status, &resp) {
                Ok(body) => (
                    body["@odata.nextLink"].as_str().map(str::to_string),
                    page_ids(&body),
                    Some(body),
                ),
                Err(e) => {
                    let _ = round.send(Err(e)).await;
                    return;
                }
            },
        };
        if !ids.is_empty() && previous.as_ref() == Some(&ids) {
            let _ = round
                .send(Err(SyncError::Protocol(format!(
                    "Microsoft Graph sent the same page twice (after {pages} pages): the round stopped, and the next run starts again from the last stored point"
                ))))
                .await;
            return;
        }
        previous = Some(ids);
        let next = next.map(|l| graph.link(&l));
        let reading = tokio::task::spawn_blocking(move || {
            let body = match built {
                Some(body) => body,
                None => page_json(status, &resp)?,
            };
            let singles = read_singles(status, &body);
            Ok((status, body, resp, singles))
        });
        if round.send(Ok(reading)).await.is_err() {
            return;
        }
        match next {
            Some(Ok(link)) => url = link,
            Some(Err(e)) => {
                let _ = round.send(Err(e)).await;
                return;
            }
            None => return,
        }
    }
}

/// The ids a page lists, in order (PROTOCOLS.md §3 "Endless rounds": a page that repeats the one
/// before ends the round).
fn page_ids(page: &Value) -> Vec<String> {
    page["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.get("id").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// What a reply to a delta request means for the round.
enum Reply {
    Page(Value),
    /// The state behind the link is gone (410, `InvalidDeltaToken`, a malformed id): a new
    /// round from scratch.
    Expired(String),
    /// `504` on a link, after the client's retries: again with smaller pages.
    TimedOut,
}

fn read_reply(
    status: u16,
    body: Value,
    resp: &crate::sync::http::Response,
) -> Result<Reply, SyncError> {
    if status == 200 {
        return Ok(Reply::Page(body));
    }
    // Only an error's body is read again for its code (a page is 1 MB of events).
    let error = ApiError::of(resp);
    match status {
        410 => Ok(Reply::Expired(error.words())),
        400 if error.is("InvalidDeltaToken")
            || error.is("ErrorInvalidIdMalformed")
            || error.is("SyncStateNotFound")
            || error.is("resyncRequired") =>
        {
            Ok(Reply::Expired(error.words()))
        }
        504 => Ok(Reply::TimedOut),
        _ => Err(SyncError::Protocol(format!(
            "listing changes: {}",
            error.words()
        ))),
    }
}

/// The delta round: from the stored deltaLink, or (none, expired, a window to re-base, `--full`)
/// a new round over a new window, reconciled by id at its end.
async fn pull(
    store: &mut Store,
    graph: &Graph,
    state: &crate::store::CalendarSync,
    full: bool,
    events: Option<&UnboundedSender<SyncEvent>>,
    report: &mut CalendarReport,
) -> Result<(), SyncError> {
    let today = Utc::now().date_naive();
    let stored_window = state.ctag.as_deref().and_then(Window::parse);
    let mut resume = match (&state.strategy, &state.sync_token, stored_window) {
        (Some(s), Some(link), Some(w)) if s == DELTA && !full && w.serves(today, graph.window) => {
            Some((link.clone(), w))
        }
        _ => None,
    };
    let mut restarted = false;
    let mut page_size = PAGE_SIZE;
    let mut narrowed: Option<Window> = None;
    'round: loop {
        let (first, window) = match &resume {
            Some((link, w)) => (graph.link(link)?, *w),
            None => {
                let w = narrowed.unwrap_or_else(|| Window::around(today, graph.window));
                let (from, to) = (series::utc_text(w.start), series::utc_text(w.end));
                let query = [
                    ("startDateTime", from.as_str()),
                    ("endDateTime", to.as_str()),
                ];
                (
                    graph.url(
                        &["me", "calendars", &state.remote_id, "calendarView", "delta"],
                        &query,
                    ),
                    w,
                )
            }
        };
        let whole = resume.is_none();
        let mut round = Round::default();
        let url = first;
        let mut pages = 0;
        let mut announced = false;
        // Pages download (and their events are read) on a task of their own, a few ahead of
        // the one applied here: the server's time and ours overlap instead of taking turns.
        // Dropping the set (a new round, an error) cancels it.
        let (to_round, mut fetched) = tokio::sync::mpsc::channel(PAGES_AHEAD);
        let mut pager = tokio::task::JoinSet::new();
        pager.spawn(follow(graph.clone(), url.clone(), page_size, to_round));
        // Masters are fetched as their series appear, beside the pages.
        let masters = Masters::start(graph);
        let mut asked = 0;
        // A new round's single events waiting for their transaction (see [`HELD_MAX`]).
        let mut held = ChangeSet::default();
        // The next page, when taken from the channel early to see whether it is ready.
        let mut peeked: Option<Reading> = None;
        loop {
            let page = match peeked.take() {
                Some(page) => page,
                None => fetched
                    .recv()
                    .await
                    .ok_or_else(|| SyncError::Protocol("a page fetch was lost".into()))?,
            };
            let (status, body, resp, mut singles) = page?
                .await
                .map_err(|e| SyncError::Protocol(format!("reading a page failed: {e}")))??;
            let page = match read_reply(status, body, &resp)? {
                Reply::Page(page) => page,
                Reply::Expired(words) if !restarted => {
                    tracing::info!(calendar = state.id, words, "delta state gone: a new round");
                    restarted = true;
                    resume = None;
                    continue 'round;
                }
                Reply::Expired(words) => {
                    return Err(SyncError::Protocol(format!(
                        "the new round's state was refused too ({words}); the next run starts over"
                    )));
                }
                Reply::TimedOut
                    if page_size > MIN_PAGE_SIZE || window.narrower(today).is_some() =>
                {
                    page_size = (page_size / 2).max(MIN_PAGE_SIZE);
                    // A narrower window is a new round over it, from scratch.
                    if let Some(w) = window.narrower(today) {
                        narrowed = Some(w);
                        resume = None;
                    }
                    tracing::info!(
                        calendar = state.id,
                        page_size,
                        window = window.text(),
                        "504 on a link: smaller pages, a narrower window"
                    );
                    continue 'round;
                }
                Reply::TimedOut => {
                    return Err(SyncError::Protocol(
                        "Microsoft Graph keeps timing out (504) on this calendar's pages; the next run tries again".into(),
                    ));
                }
            };
            let Some(items) = page["value"].as_array() else {
                return Err(SyncError::Protocol(
                    "Microsoft Graph sent a page without a value list".into(),
                ));
            };
            pages += 1;
            if !announced && !items.is_empty() {
                announced = true;
                emit(
                    events,
                    SyncEvent::Started {
                        calendar: state.id,
                        name: state.name.clone(),
                    },
                );
            }
            let next = page["@odata.nextLink"].as_str();
            // Removals are read against the cache, so what is held goes in before them.
            if !held.upserts.is_empty() && items.iter().any(|v| v.get("@removed").is_some()) {
                apply_then_let_go(store, state.id, std::mem::take(&mut held), report, events)?;
            }
            let changes = fold(store, state.id, items, &mut singles, &mut round, report)?;
            for id in &round.order[asked..] {
                masters.ask(id, cached_etag(store, state.id, id)?);
            }
            asked = round.order.len();
            if whole && changes.removals.is_empty() {
                held.upserts.extend(changes.upserts);
                // Written when enough is held, or while the next page is not here yet (so
                // the last page does not find a backlog), and at the last page.
                if held.upserts.len() >= HELD_MAX
                    || (held.upserts.len() >= HELD_MIN && !next_is_ready(&mut fetched, &mut peeked))
                    || next.is_none()
                {
                    apply_then_let_go(store, state.id, std::mem::take(&mut held), report, events)?;
                }
            } else {
                if !held.upserts.is_empty() {
                    apply_then_let_go(store, state.id, std::mem::take(&mut held), report, events)?;
                }
                apply_then_let_go(store, state.id, changes, report, events)?;
            }
            if next.is_some() {
                if pages >= MAX_PAGES {
                    return Err(SyncError::Protocol(format!(
                        "Microsoft Graph kept paging past {MAX_PAGES} pages: the round stopped, and the next run starts again from the last stored point"
                    )));
                }
                let_go((page, resp, singles));
                continue;
            }
            let Some(delta) = page["@odata.deltaLink"].as_str() else {
                return Err(SyncError::Protocol(
                    "Microsoft Graph ended a round with neither a nextLink nor a deltaLink".into(),
                ));
            };
            graph.link(delta)?;
            round.masters = masters.finish().await?;
            let mut last =
                rebuild_series(store, graph, state.id, window, whole, &mut round, report).await?;
            if whole {
                let mut gone: Vec<String> = store
                    .item_hrefs(state.id)?
                    .into_iter()
                    .filter(|id| !round.seen.contains(id))
                    .collect();
                gone.sort();
                last.removals.extend(gone);
            }
            last.state = Some(StateUpdate {
                strategy: DELTA.into(),
                sync_token: Some(delta.to_string()),
                ctag: Some(window.text()),
                seen_token: None,
                full: whole,
            });
            apply_page(store, state.id, &last, report, events)?;
            store.prune_graph_members(state.id)?;
            return Ok(());
        }
    }
}

/// Whether the page after this one has been fetched and read, so the round would not wait for
/// it; a page taken from `fetched` to see is kept in `peeked`.
fn next_is_ready(
    fetched: &mut tokio::sync::mpsc::Receiver<Reading>,
    peeked: &mut Option<Reading>,
) -> bool {
    if peeked.is_none() {
        *peeked = fetched.try_recv().ok();
    }
    match peeked {
        Some(Ok(reading)) => reading.is_finished(),
        Some(Err(_)) => true,
        None => false,
    }
}

/// Applies `changes`, then frees them on another thread: a page's events and texts are many
/// small allocations, and freeing them is time the applying thread need not spend.
fn apply_then_let_go(
    store: &mut Store,
    calendar: i64,
    changes: ChangeSet,
    report: &mut CalendarReport,
    events: Option<&UnboundedSender<SyncEvent>>,
) -> Result<(), SyncError> {
    apply_page(store, calendar, &changes, report, events)?;
    let_go(changes);
    Ok(())
}

/// Drops `value` on a blocking thread (see [`apply_then_let_go`]).
fn let_go<T: Send + 'static>(value: T) {
    drop(tokio::task::spawn_blocking(move || drop(value)));
}

/// One page into the round: single events as upserts and removals to apply now (in page
/// order, the last copy of an id winning), series members into the round.
fn fold(
    store: &mut Store,
    calendar: i64,
    items: &[Value],
    singles: &mut ReadAhead,
    round: &mut Round,
    report: &mut CalendarReport,
) -> Result<ChangeSet, SyncError> {
    let mut order: Vec<String> = Vec::new();
    let mut last: HashMap<String, Option<&Value>> = HashMap::new();
    let mut members = Vec::new();
    for v in items {
        let Some(id) = v.get("id").and_then(Value::as_str) else {
            report
                .unreadable
                .push("an item without an id was skipped".into());
            continue;
        };
        if v.get("@removed").is_some() {
            if let Some(member) = store.graph_member(calendar, id)? {
                round.touch(&member.series).removed.insert(id.to_string());
                continue;
            }
            if let Some((series, _)) = round
                .series
                .iter()
                .find(|(_, t)| t.members.contains_key(id))
            {
                let series = series.clone();
                round.touch(&series).removed.insert(id.to_string());
                continue;
            }
            // A series' master (masters are never members): it changed outside the window
            // (PROTOCOLS.md §3 "keep a master with members still in the window"); its fetch at
            // the round's end says whether it is gone (404).
            if round.series.contains_key(id)
                || !store.graph_members_of(calendar, id)?.is_empty()
                || is_cached_master(store, calendar, id)?
            {
                round.touch(id);
                round.seen.insert(id.to_string());
                continue;
            }
            // A single event, or an id never seen (outside the window): a removal of an
            // unknown id changes nothing (PROTOCOLS.md §3).
            round.seen.remove(id);
            if !last.contains_key(id) {
                order.push(id.to_string());
            }
            last.insert(id.to_string(), None);
            continue;
        }
        match kind(v).as_str() {
            "occurrence" | "exception" => {
                let Some(series) = v.get("seriesMasterId").and_then(Value::as_str) else {
                    report
                        .unreadable
                        .push(format!("{id}: an occurrence without its series"));
                    continue;
                };
                let Some(original) = original_start(v) else {
                    report
                        .unreadable
                        .push(format!("{id}: an occurrence without a readable start"));
                    continue;
                };
                let exception = (kind(v) == "exception").then(|| v.clone());
                let t = round.touch(series);
                t.removed.remove(id);
                if exception.is_none() {
                    t.occurrences.insert(id.to_string());
                }
                t.guessed |= series::start_guessed(v);
                t.members.insert(id.to_string(), (original, exception));
                round.seen.insert(series.to_string());
                members.push(Member {
                    id: id.to_string(),
                    series: series.to_string(),
                    original_start: original,
                });
            }
            "seriesmaster" => {
                round.touch(id);
                round.seen.insert(id.to_string());
            }
            _ => {
                round.seen.insert(id.to_string());
                if !last.contains_key(id) {
                    order.push(id.to_string());
                }
                last.insert(id.to_string(), Some(v));
            }
        }
    }
    // Members go in as their pages come (while the next page downloads); a new round's end
    // takes out those it no longer lists (`rebuild_series`).
    store.put_graph_members(calendar, &members)?;
    let mut changes = ChangeSet::default();
    for id in order {
        match last.get(&id).copied().flatten() {
            Some(v) => {
                // Read ahead when it is this very copy; written and read by the store otherwise.
                let (raw, read) = match singles.remove(&id) {
                    Some((i, raw, read)) if items.get(i).is_some_and(|w| std::ptr::eq(w, v)) => {
                        (raw, Some(read))
                    }
                    _ => (group_text(std::slice::from_ref(v), &[]), None),
                };
                changes.upserts.push(FetchedItem {
                    href: id,
                    etag: v
                        .get("@odata.etag")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    raw,
                    problem: None,
                    read,
                })
            }
            None => changes.removals.push(id),
        }
    }
    // Only ids the cache holds are removed; others were outside the window all along.
    let held = store.item_raws(calendar, &changes.removals)?;
    changes.removals.retain(|id| held.contains_key(id));
    Ok(changes)
}

/// Whether the cache holds `id` as a series (its master first).
fn is_cached_master(store: &Store, calendar: i64, id: &str) -> Result<bool, SyncError> {
    let raws = store.item_raws(calendar, &[id.to_string()])?;
    Ok(raws
        .get(id)
        .and_then(|raw| group_parts(raw))
        .and_then(|(events, _)| events.first().map(kind))
        .is_some_and(|k| k == "seriesmaster"))
}

/// The etag of the copy of `id` the cache holds, if any.
fn cached_etag(store: &Store, calendar: i64, id: &str) -> Result<Option<String>, SyncError> {
    Ok(store
        .item_raws(calendar, &[id.to_string()])?
        .get(id)
        .and_then(|raw| crate::domain::graph::group_etag(raw)))
}

/// Rebuilds every series the round touched: its master fetched once (404 = the series is
/// gone), its instances listed when the master is new or changed in an incremental round, or
/// when the cached series cannot explain what was listed. Returns the changes, to be applied
/// with the round's cursor.
async fn rebuild_series(
    store: &mut Store,
    graph: &Graph,
    calendar: i64,
    window: Window,
    whole: bool,
    round: &mut Round,
    report: &mut CalendarReport,
) -> Result<ChangeSet, SyncError> {
    let mut out = ChangeSet::default();
    if round.order.is_empty() {
        return Ok(out);
    }
    let cached = store.item_raws(calendar, &round.order)?;
    // What each series' members are now, written in one transaction at the end: the series
    // listed by /instances or gone; those the round listed itself went in page by page, and
    // only the members it no longer lists go.
    let mut listed_members: Vec<(String, Vec<Member>)> = Vec::new();
    let mut unlisted: Vec<String> = Vec::new();
    for id in &round.order {
        let touched = &round.series[id];
        let resp = round.masters.remove(id).unwrap_or_else(|| {
            Err(SyncError::Protocol(format!(
                "{id}: the series master was not fetched"
            )))
        })?;
        let held = cached.get(id).and_then(|raw| group_parts(raw));
        let (master, changed) = match resp.status.as_u16() {
            404 | 410 => {
                if cached.contains_key(id) {
                    out.removals.push(id.clone());
                }
                listed_members.push((id.clone(), Vec::new()));
                continue;
            }
            304 => match held.as_ref().and_then(|(events, _)| events.first()) {
                Some(m) => (m.clone(), false),
                None => {
                    report.unreadable.push(format!("{id}: the server said the cached series is current, but the cache holds none"));
                    continue;
                }
            },
            // A server that ignores If-None-Match answers 200 with the same copy: the etag
            // tells.
            200 => match serde_json::from_slice::<Value>(&resp.body) {
                Ok(m) => {
                    let same = held
                        .as_ref()
                        .and_then(|(events, _)| events.first())
                        .is_some_and(|c| {
                            c.get("@odata.etag").is_some()
                                && c.get("@odata.etag") == m.get("@odata.etag")
                        });
                    (m, !same)
                }
                Err(e) => {
                    report
                        .unreadable
                        .push(format!("{id}: the series master is not JSON: {e}"));
                    continue;
                }
            },
            _ => {
                report
                    .unreadable
                    .push(format!("{id}: {}", ApiError::of(&resp).words()));
                continue;
            }
        };
        if kind(&master) != "seriesmaster" {
            // No longer a series (or never was): the object itself.
            out.upserts.push(FetchedItem {
                href: id.clone(),
                etag: master
                    .get("@odata.etag")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                raw: group_text(std::slice::from_ref(&master), &[]),
                problem: None,
                read: None,
            });
            listed_members.push((id.clone(), Vec::new()));
            continue;
        }
        let etag = master
            .get("@odata.etag")
            .and_then(Value::as_str)
            .map(str::to_string);
        // The members that stand for the series in the window, from the round or from
        // /instances; else the cached series with the round's changes.
        // A whole round names every occurrence in the window; one that named none of this
        // series (a server listing masters instead), or only with guessed times, leaves it to
        // /instances.
        let from_round = whole && !touched.members.is_empty() && !touched.guessed;
        let listed: Option<Vec<(String, i64, Option<Value>)>> = if from_round {
            Some(
                touched
                    .members
                    .iter()
                    .map(|(mid, (t, ex))| (mid.clone(), *t, ex.clone()))
                    .collect(),
            )
        } else {
            let explained = held.as_ref().is_some_and(|(events, _)| {
                touched.occurrences.iter().all(|o| {
                    !events
                        .iter()
                        .any(|e| e.get("id").and_then(Value::as_str) == Some(o))
                })
            });
            if whole || changed || held.is_none() || !explained || touched.guessed {
                Some(instances(graph, id, window).await?)
            } else {
                None
            }
        };
        let (exceptions, cancelled, members) = match listed {
            Some(list) => {
                let (expected, all_day) = match series::expansion(&master, window.start, window.end)
                {
                    Ok(e) => e,
                    Err(e) => {
                        report.unreadable.push(format!("{id}: {e}"));
                        (Vec::new(), false)
                    }
                };
                let starts: Vec<i64> = list.iter().map(|(_, t, _)| *t).collect();
                let cancelled = series::missing(&expected, all_day, &starts);
                let mut exceptions: Vec<(i64, Value)> = list
                    .iter()
                    .filter_map(|(_, t, ex)| ex.clone().map(|e| (*t, e)))
                    .filter(|(_, e)| e.get("isCancelled").and_then(Value::as_bool) != Some(true))
                    .collect();
                exceptions.sort_by_key(|(t, _)| *t);
                let members: Vec<Member> = list
                    .iter()
                    .map(|(mid, t, _)| Member {
                        id: mid.clone(),
                        series: id.clone(),
                        original_start: *t,
                    })
                    .collect();
                (
                    exceptions.into_iter().map(|(_, e)| e).collect::<Vec<_>>(),
                    cancelled,
                    members,
                )
            }
            None => {
                // The master did not change: the cached series, with the exceptions the round
                // brought and the occurrences it removed.
                let (events, mut cancelled) = held.clone().unwrap_or_default();
                let mut exceptions: Vec<Value> = events.into_iter().skip(1).collect();
                let known = store.graph_members_of(calendar, id)?;
                for removed in &touched.removed {
                    let at = known
                        .iter()
                        .find(|m| m.id == *removed)
                        .map(|m| m.original_start)
                        .or_else(|| touched.members.get(removed).map(|(t, _)| *t));
                    exceptions.retain(|e| e.get("id").and_then(Value::as_str) != Some(removed));
                    if let Some(at) = at {
                        cancelled.push(series::utc_text(at));
                    }
                }
                for (mid, (_, ex)) in &touched.members {
                    if let Some(ex) = ex {
                        exceptions.retain(|e| e.get("id").and_then(Value::as_str) != Some(mid));
                        exceptions.push(ex.clone());
                    }
                }
                exceptions.sort_by_key(|e| original_start(e).unwrap_or_default());
                cancelled.sort();
                cancelled.dedup();
                let members = touched
                    .members
                    .iter()
                    .map(|(mid, (t, _))| Member {
                        id: mid.clone(),
                        series: id.clone(),
                        original_start: *t,
                    })
                    .collect::<Vec<_>>();
                store.put_graph_members(calendar, &members)?;
                let mut group = vec![master];
                group.extend(exceptions);
                out.upserts.push(FetchedItem {
                    href: id.clone(),
                    etag,
                    raw: group_text(&group, &cancelled),
                    problem: None,
                    read: None,
                });
                continue;
            }
        };
        if from_round {
            unlisted.extend(
                store
                    .graph_members_of(calendar, id)?
                    .into_iter()
                    .filter(|m| !touched.members.contains_key(&m.id))
                    .map(|m| m.id),
            );
        } else {
            listed_members.push((id.clone(), members));
        }
        let mut group = vec![master];
        group.extend(exceptions);
        out.upserts.push(FetchedItem {
            href: id.clone(),
            etag,
            raw: group_text(&group, &cancelled),
            problem: None,
            read: None,
        });
    }
    store.set_graph_series(calendar, &listed_members)?;
    store.forget_graph_members(calendar, &unlisted)?;
    out.upserts = read_on_two_threads(std::mem::take(&mut out.upserts)).await?;
    Ok(out)
}

/// Reads each item, half of them on each of two blocking threads, so the store does not read
/// them one after another on the round's thread.
async fn read_on_two_threads(mut items: Vec<FetchedItem>) -> Result<Vec<FetchedItem>, SyncError> {
    let read = |mut items: Vec<FetchedItem>| {
        for item in &mut items {
            item.read = Some(crate::domain::graph::read_group(&item.raw));
        }
        items
    };
    let second = items.split_off(items.len() / 2);
    let (first, second) = tokio::join!(
        tokio::task::spawn_blocking(move || read(items)),
        tokio::task::spawn_blocking(move || read(second)),
    );
    let fail =
        |e: tokio::task::JoinError| SyncError::Protocol(format!("reading series failed: {e}"));
    let mut items = first.map_err(fail)?;
    items.extend(second.map_err(fail)?);
    Ok(items)
}

/// The series' instances in the window (`/instances`: cancelled ones are not listed), as
/// (id, original start, the object when it is an exception).
pub async fn instances(
    graph: &Graph,
    master: &str,
    window: Window,
) -> Result<Vec<(String, i64, Option<Value>)>, SyncError> {
    let (from, to) = (series::utc_text(window.start), series::utc_text(window.end));
    let mut url = graph.url(
        &["me", "events", master, "instances"],
        &[
            ("startDateTime", from.as_str()),
            ("endDateTime", to.as_str()),
            ("$select", INSTANCE_FIELDS),
        ],
    );
    let mut out = Vec::new();
    for _ in 0..MAX_PAGES {
        let (status, body, resp) = graph.get_json(url, PAGE_SIZE).await?;
        if status != 200 {
            return Err(SyncError::Protocol(format!(
                "listing a series' instances: {}",
                ApiError::of(&resp).words()
            )));
        }
        for v in body["value"].as_array().into_iter().flatten() {
            let (Some(id), Some(t)) = (v.get("id").and_then(Value::as_str), original_start(v))
            else {
                continue;
            };
            let exception = (kind(v) == "exception").then(|| v.clone());
            out.push((id.to_string(), t, exception));
        }
        match body["@odata.nextLink"].as_str() {
            Some(next) => url = graph.link(next)?,
            None => return Ok(out),
        }
    }
    Err(SyncError::Protocol(format!(
        "a series' instances went on past {MAX_PAGES} pages"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_is_kept_until_now_moves_a_month_or_its_widths_change() {
        let config = crate::config::Window::DEFAULT;
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let w = Window::around(day("2026-11-30"), config);
        assert_eq!(w.text(), "2026-09-01..2028-01-04");
        assert_eq!(Window::parse(&w.text()), Some(w));
        assert!(w.serves(day("2026-12-20"), config));
        assert!(!w.serves(day("2027-01-05"), config));
        // Narrowed after 504s: half as wide from the same start, kept until the re-base.
        let narrow = w.narrower(day("2026-11-30")).unwrap();
        assert_eq!(narrow.text(), "2026-09-01..2027-05-04");
        assert!(narrow.serves(day("2026-12-20"), config));
        assert!(!narrow.serves(day("2027-01-05"), config));
        let narrowest = narrow.narrower(day("2026-11-30")).unwrap();
        assert!(narrowest.narrower(day("2026-11-30")).is_none());
        assert!(!w.serves(
            day("2026-11-30"),
            crate::config::Window {
                past: 30,
                future: 400
            }
        ));
    }
}
