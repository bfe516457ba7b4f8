//! Read-only subscriptions: an iCalendar feed (`https://`, `webcal://`, or a file) mirrored into
//! one calendar. A refresh is one conditional GET (`If-None-Match` on the ETag, `If-Modified-Since`
//! on Last-Modified, RFC 9110 §13.1): a 304 costs that request and changes nothing. A feed that
//! changed is split into items by UID (each with all its RECURRENCE-ID overrides), and only the items
//! whose content moved count as added, changed or removed, so only they reach the screen.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;
use tokio::sync::mpsc::UnboundedSender;

use super::http::{Http, Request};
use super::plan;
use super::round::{AccountReport, CalendarReport, Stopwatch, SyncOptions, apply_page, now};
use super::{SyncError, SyncEvent};
use crate::config::AccountConfig;
use crate::domain::ical_stream;
use crate::store::{ChangeSet, FetchedItem, RemoteCalendar, StateUpdate, Store};

/// The strategy's name in the sync pane and `status`.
pub const CONDITIONAL_GET: &str = "conditional GET";
/// Longest a feed's download may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// A feed is read in runs of about this many bytes (memory follows the run, not the feed).
const RUN_BYTES: u64 = 4 * 1024 * 1024;
/// Bad items listed by name in one run's report; the rest are counted.
const LISTED_PROBLEMS: usize = 20;

/// Where a subscription's feed lives.
#[derive(Debug, Clone)]
pub enum Feed {
    Web { url: Url, http: Box<Http> },
    File(PathBuf),
}

/// A subscription: its feed, and the id its calendar is known by.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub feed: Feed,
    /// The feed's address as configured (`webcal://` written as `https://`): the calendar's
    /// remote id.
    pub source: String,
}

/// The subscription an `ics` account names. `webcal://` and `webcals://` are fetched over https
/// (the scheme only asks a browser to hand the link to a calendar program); `file://` URLs and
/// plain paths are read from disk.
pub fn subscription_for(acc: &AccountConfig) -> Result<Subscription, SyncError> {
    let raw = acc.url.as_deref().map(str::trim).ok_or_else(|| {
        SyncError::Config(format!(
            "account '{}' has no url: write the feed's address, e.g. url = \"webcal://example.org/holidays.ics\"",
            acc.name
        ))
    })?;
    let web = ["webcal://", "webcals://", "https://", "http://"]
        .iter()
        .find_map(|scheme| raw.strip_prefix(scheme).map(|rest| (*scheme, rest)));
    if let Some((scheme, rest)) = web {
        let scheme = if scheme == "http://" {
            "http://"
        } else {
            "https://"
        };
        let url = Url::parse(&format!("{scheme}{rest}")).map_err(|e| {
            SyncError::Config(format!(
                "account '{}': the feed address {raw} is not a URL ({e})",
                acc.name
            ))
        })?;
        let credentials = match (&acc.username, &acc.password) {
            (None, None) => None,
            (user, password) => Some((
                user.clone().unwrap_or_default(),
                match password {
                    Some(secret) => secret
                        .resolve()
                        .map_err(|e| SyncError::Config(format!("account '{}': {e}", acc.name)))?,
                    None => String::new(),
                },
            )),
        };
        let http = Http::new(&url, credentials, None, REQUEST_TIMEOUT)?;
        return Ok(Subscription {
            source: url.to_string(),
            feed: Feed::Web {
                url,
                http: Box::new(http),
            },
        });
    }
    let path = PathBuf::from(raw.strip_prefix("file://").unwrap_or(raw));
    let path = match path.strip_prefix("~") {
        Ok(rest) => directories::BaseDirs::new()
            .map(|d| d.home_dir().join(rest))
            .unwrap_or(path),
        Err(_) => path,
    };
    Ok(Subscription {
        source: path.display().to_string(),
        feed: Feed::File(path),
    })
}

/// What a conditional fetch of the feed found.
enum Fetch {
    Unchanged,
    Body {
        text: String,
        etag: Option<String>,
        modified: Option<String>,
    },
}

impl Subscription {
    /// The requests and bytes of this subscription's client so far.
    fn counters(&self) -> (u64, u64) {
        match &self.feed {
            Feed::Web { http, .. } => http.counters.snapshot(),
            Feed::File(_) => (0, 0),
        }
    }

    /// The feed, unless it is still the version `etag` / `modified` describe.
    async fn fetch(&self, etag: Option<&str>, modified: Option<&str>) -> Result<Fetch, SyncError> {
        match &self.feed {
            Feed::Web { url, http } => {
                let mut req =
                    Request::new("GET", url.clone()).header("accept", "text/calendar, */*;q=0.5");
                if let Some(etag) = etag.filter(|e| sendable(e)) {
                    req = req.header("if-none-match", etag);
                }
                if let Some(modified) = modified.filter(|m| sendable(m)) {
                    req = req.header("if-modified-since", modified);
                }
                let resp = http.send(req).await?;
                match resp.status.as_u16() {
                    304 => Ok(Fetch::Unchanged),
                    200..=299 => Ok(Fetch::Body {
                        etag: resp.header("etag").map(str::to_string),
                        modified: resp.header("last-modified").map(str::to_string),
                        text: String::from_utf8_lossy(&resp.body).into_owned(),
                    }),
                    status => Err(SyncError::Protocol(format!(
                        "the feed answered {status}{}",
                        match status {
                            404 | 410 => ": it is gone from that address",
                            403 => ": access is refused",
                            _ => "",
                        }
                    ))),
                }
            }
            Feed::File(path) => {
                let cannot = |e: std::io::Error| {
                    SyncError::Protocol(format!("cannot read {}: {e}", path.display()))
                };
                let meta = std::fs::metadata(path).map_err(cannot)?;
                // A file's own validator: its size and modification time.
                let stamp = format!(
                    "{}-{}",
                    meta.len(),
                    meta.modified()
                        .ok()
                        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                        .map_or(0, |d| d.as_nanos())
                );
                if etag == Some(stamp.as_str()) {
                    return Ok(Fetch::Unchanged);
                }
                let bytes = std::fs::read(path).map_err(cannot)?;
                Ok(Fetch::Body {
                    text: String::from_utf8_lossy(&bytes).into_owned(),
                    etag: Some(stamp),
                    modified: None,
                })
            }
        }
    }
}

/// Whether a validator can go back in a header.
fn sendable(v: &str) -> bool {
    reqwest::header::HeaderValue::from_str(v).is_ok()
}

/// The feed split into items (one per UID, overrides included), each with an etag of its own
/// content, and the feed's bad parts in plain words.
#[derive(Debug, Default)]
pub struct FeedItems {
    pub items: Vec<FetchedItem>,
    pub problems: Vec<String>,
    /// Components were found but none could be read: the feed is not iCalendar at all.
    pub unreadable: bool,
}

/// Splits a feed into items, a run at a time. Two items with one UID (a broken feed) are kept
/// as the first one.
pub fn split_feed(text: &str) -> FeedItems {
    let mut out = FeedItems::default();
    let runs = match ical_stream::split_runs(std::io::Cursor::new(text.as_bytes()), RUN_BYTES) {
        Ok(runs) => runs,
        Err(e) => {
            out.problems.push(format!("the feed cannot be read: {e}"));
            out.unreadable = true;
            return out;
        }
    };
    let mut seen = std::collections::HashSet::new();
    let mut errors = 0;
    for run in &runs {
        let body = text
            .get(run.start as usize..run.end as usize)
            .unwrap_or_default();
        let parsed = ical_stream::read_run(run, body);
        for e in parsed.errors {
            errors += 1;
            if out.problems.len() < LISTED_PROBLEMS {
                out.problems.push(e.to_string());
            }
        }
        for item in parsed.items {
            if !seen.insert(item.uid.clone()) {
                continue;
            }
            out.items.push(FetchedItem {
                etag: Some(content_tag(&item.raw)),
                href: item.uid,
                raw: item.raw,
                problem: None,
                read: None,
            });
        }
    }
    if errors > out.problems.len() {
        out.problems
            .push(format!("and {} more", errors - out.problems.len()));
    }
    out.unreadable = out.items.is_empty() && (errors > 0 || !text.contains("BEGIN:VCALENDAR"));
    out
}

/// Every UID a feed's text names, readable or not.
fn uids_in(text: &str) -> std::collections::HashSet<&str> {
    text.lines()
        .filter_map(|l| l.strip_prefix("UID:"))
        .map(str::trim)
        .collect()
}

/// An item's own validator: a hash of its text without the stamps feeds rewrite on every
/// download (DTSTAMP), so only a real change counts as one. FNV-1a, stable across builds.
pub fn content_tag(raw: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for line in raw.lines() {
        if line.starts_with("DTSTAMP") {
            continue;
        }
        for b in line.bytes().chain(std::iter::once(b'\n')) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("fnv-{hash:016x}")
}

fn emit(events: Option<&UnboundedSender<SyncEvent>>, e: SyncEvent) {
    if let Some(tx) = events {
        let _ = tx.send(e);
    }
}

/// One round for a subscription: its calendar (named after the account), one conditional fetch,
/// and the items that changed.
pub async fn sync_subscription(
    store: &mut Store,
    account: &str,
    sub: &Subscription,
    opts: &SyncOptions,
    events: Option<&UnboundedSender<SyncEvent>>,
) -> AccountReport {
    let clock = Stopwatch::start(sub.counters());
    let mut report = AccountReport {
        account: account.to_string(),
        ..AccountReport::default()
    };
    let outcome = run(store, account, sub, opts, events, &mut report).await;
    clock.end_account(&mut report, outcome, sub.counters(), events);
    report
}

async fn run(
    store: &mut Store,
    account: &str,
    sub: &Subscription,
    opts: &SyncOptions,
    events: Option<&UnboundedSender<SyncEvent>>,
    report: &mut AccountReport,
) -> Result<(), SyncError> {
    let row = store.account(account, "ics", &sub.source, now())?;
    let listed = RemoteCalendar {
        remote_id: sub.source.clone(),
        name: account.to_string(),
        color: None,
        components: vec!["VEVENT".into()],
    };
    let change = store.reconcile_calendars(row.id, std::slice::from_ref(&listed))?;
    if !change.added.is_empty() {
        store.drop_sample()?;
    }
    if change != Default::default() {
        emit(events, SyncEvent::CalendarsChanged);
    }
    let Some(state) = store
        .calendar_syncs(row.id)?
        .into_iter()
        .find(|c| c.remote_id == sub.source)
    else {
        return Ok(());
    };
    if opts.calendar.as_ref().is_some_and(|c| *c != state.name) {
        return Ok(());
    }
    store.set_read_only(state.id, true)?;
    let r = refresh(store, sub, &state, opts.full, events).await;
    report.retry_at = r.retry_at;
    report.calendars.push(r);
    Ok(())
}

/// Fetches the feed (conditionally) and applies what changed, as one transaction with the
/// validators that describe it.
async fn refresh(
    store: &mut Store,
    sub: &Subscription,
    state: &crate::store::CalendarSync,
    full: bool,
    events: Option<&UnboundedSender<SyncEvent>>,
) -> CalendarReport {
    let clock = Stopwatch::start(sub.counters());
    let mut report = CalendarReport {
        calendar: state.name.clone(),
        calendar_id: state.id,
        strategy: CONDITIONAL_GET.to_string(),
        ..CalendarReport::default()
    };
    // The stored validators: the ETag in the token column, Last-Modified in the ctag column.
    let known = state.strategy.as_deref() == Some(CONDITIONAL_GET) && !full;
    let (etag, modified) = if known {
        (state.sync_token.as_deref(), state.ctag.as_deref())
    } else {
        (None, None)
    };
    let outcome = match sub.fetch(etag, modified).await {
        Ok(Fetch::Unchanged) => {
            report.unchanged = true;
            // Still a run: the pane shows when the feed was last confirmed.
            store
                .apply(
                    state.id,
                    &ChangeSet {
                        upserts: Vec::new(),
                        removals: Vec::new(),
                        state: Some(StateUpdate {
                            strategy: CONDITIONAL_GET.into(),
                            sync_token: state.sync_token.clone(),
                            ctag: state.ctag.clone(),
                            seen_token: None,
                            full: false,
                        }),
                    },
                    now(),
                )
                .map(|_| ())
                .map_err(SyncError::from)
        }
        Ok(Fetch::Body {
            text,
            etag,
            modified,
        }) => apply_feed(store, state, &text, etag, modified, events, &mut report),
        Err(e) => Err(e),
    };
    clock.end_calendar(store, report, outcome, sub.counters(), events)
}

/// Diffs the feed's items against the cache and applies the difference with the validators.
fn apply_feed(
    store: &mut Store,
    state: &crate::store::CalendarSync,
    text: &str,
    etag: Option<String>,
    modified: Option<String>,
    events: Option<&UnboundedSender<SyncEvent>>,
    report: &mut CalendarReport,
) -> Result<(), SyncError> {
    let feed = split_feed(text);
    report.unreadable.extend(feed.problems.iter().cloned());
    if feed.unreadable {
        // A login page, an error page, a truncated file: the calendar keeps what it had.
        let head: String = crate::domain::text::sanitize(text.trim())
            .chars()
            .take(60)
            .collect();
        return Err(SyncError::Protocol(format!(
            "the feed is not iCalendar (it begins {head:?}); the calendar keeps its last good copy"
        )));
    }
    let cache: HashMap<String, Option<String>> = store.item_etags(state.id)?;
    let listed: Vec<(String, Option<String>)> = feed
        .items
        .iter()
        .map(|i| (i.href.clone(), i.etag.clone()))
        .collect();
    let mut diff = plan::reconcile(&listed, &cache);
    if !feed.problems.is_empty() {
        // An item the feed still names but that cannot be read now keeps its last good copy.
        let named = uids_in(text);
        diff.remove.retain(|id| !named.contains(id.as_str()));
    }
    let wanted: std::collections::HashSet<&String> = diff.fetch.iter().collect();
    let upserts: Vec<FetchedItem> = feed
        .items
        .into_iter()
        .filter(|i| wanted.contains(&i.href))
        .collect();
    if !upserts.is_empty() || !diff.remove.is_empty() {
        emit(
            events,
            SyncEvent::Started {
                calendar: state.id,
                name: state.name.clone(),
            },
        );
    }
    apply_page(
        store,
        state.id,
        &ChangeSet {
            upserts,
            removals: diff.remove,
            state: Some(StateUpdate {
                strategy: CONDITIONAL_GET.into(),
                // Without validators the next round downloads again and diffs: still only what
                // changed reaches the cache and the screen.
                sync_token: etag.clone(),
                ctag: modified,
                seen_token: None,
                full: true,
            }),
        },
        report,
        events,
    )?;
    if etag.is_none() {
        store.forget_token(state.id)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FEED: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nX-WR-CALNAME:Holidays\r\n\
        BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:20261225\r\nSUMMARY:Christmas\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nUID:b\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260105T090000Z\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\nSUMMARY:Weekly\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nUID:b\r\nRECURRENCE-ID:20260112T090000Z\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260112T100000Z\r\nSUMMARY:Moved\r\nEND:VEVENT\r\n\
        END:VCALENDAR\r\n";

    #[test]
    fn a_feed_splits_into_one_item_per_uid_with_its_overrides() {
        let feed = split_feed(FEED);
        assert!(!feed.unreadable);
        let ids: Vec<&str> = feed.items.iter().map(|i| i.href.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert!(feed.items[1].raw.contains("RECURRENCE-ID"));
    }

    #[test]
    fn a_new_dtstamp_is_not_a_change_but_a_new_summary_is() {
        let before = split_feed(FEED);
        let restamped = split_feed(&FEED.replace("DTSTAMP:20260101", "DTSTAMP:20270101"));
        assert_eq!(before.items[1].etag, restamped.items[1].etag);
        let edited = split_feed(&FEED.replace("SUMMARY:Moved", "SUMMARY:Moved again"));
        assert_eq!(before.items[0].etag, edited.items[0].etag);
        assert_ne!(before.items[1].etag, edited.items[1].etag);
    }

    #[test]
    fn a_page_that_is_not_icalendar_is_unreadable_and_bad_items_are_listed() {
        assert!(split_feed("<html><body>Sign in</body></html>").unreadable);
        assert!(split_feed("").unreadable);
        let broken = FEED.replace(
            "DTSTART;VALUE=DATE:20261225",
            "DTSTART;VALUE=DATE:2026-12-xx",
        );
        let feed = split_feed(&broken);
        assert!(!feed.unreadable);
        assert_eq!(feed.items.len(), 1, "{:?}", feed.problems);
        assert!(!feed.problems.is_empty());
        assert!(uids_in(&broken).contains("a"));
    }

    #[test]
    fn webcal_is_fetched_over_https_and_paths_are_files() {
        let acc = |url: &str| AccountConfig {
            name: "h".into(),
            kind: crate::config::AccountKind::Ics,
            url: Some(url.into()),
            ..AccountConfig::default()
        };
        let sub = subscription_for(&acc("webcal://example.org/h.ics")).unwrap();
        assert_eq!(sub.source, "https://example.org/h.ics");
        assert!(matches!(sub.feed, Feed::Web { .. }));
        let sub = subscription_for(&acc("/tmp/h.ics")).unwrap();
        assert!(matches!(sub.feed, Feed::File(ref p) if p == std::path::Path::new("/tmp/h.ics")));
        let sub = subscription_for(&acc("file:///tmp/h.ics")).unwrap();
        assert_eq!(sub.source, "/tmp/h.ics");
    }
}
