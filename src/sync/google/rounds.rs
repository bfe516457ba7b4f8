//! A Google account's round: the calendar list by its own sync token, then per calendar its
//! pending edits, then its events by sync token, page by page, each page applied with the cursor
//! that covers it. PROTOCOLS.md §2 "Sync rounds".

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;

use super::api::{ApiError, Google};
use super::groups::{fold_page, group_etag, objects};
use crate::store::{ChangeSet, FetchedItem, RemoteCalendar, StateUpdate, Store};
use crate::sync::round::{
    AccountReport, CalendarReport, Stopwatch, SyncOptions, apply_page, emit, now, push_then_pull,
    watched,
};
use crate::sync::{SyncError, SyncEvent};

/// The strategy's name in the sync pane and `status`.
pub const SYNC_TOKEN: &str = "syncToken";
/// Events per page: PROTOCOLS.md §2 "Sync rounds" (`maxResults=1000`; the API allows 2500).
pub const PAGE_SIZE: usize = 1000;
/// Calendar list entries per page (the API's most, 250).
const LIST_PAGE_SIZE: &str = "250";
/// Pages followed in one round before it ends with a message (PROTOCOLS.md §2 "cap pages per
/// round"; gdata-provider#464): a server that keeps paging must not hold the engine for ever.
const MAX_PAGES: usize = 2_000;

/// One round for a Google account.
pub async fn sync_google(
    store: &mut Store,
    account: &str,
    google: &Google,
    opts: &SyncOptions,
    events: Option<&UnboundedSender<SyncEvent>>,
) -> AccountReport {
    let clock = Stopwatch::start(google.http.counters.snapshot());
    let mut report = AccountReport {
        account: account.to_string(),
        ..AccountReport::default()
    };
    let outcome = {
        let run = run_account(store, account, google, opts, events, &mut report);
        watched(run, &google.http, account, events).await
    };
    clock.end_account(
        &mut report,
        outcome,
        google.http.counters.snapshot(),
        events,
    );
    report
}

/// A calendar list entry, as far as the cache needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    id: String,
    name: String,
    color: Option<String>,
    /// `None` for a calendar a delta did not mention (its mark stays).
    read_only: Option<bool>,
    /// Hidden from the list in Google's own views: it starts hidden here too.
    hidden: bool,
}

/// `#RRGGBB` (Google's colours are always written so).
fn is_hex_color(c: &str) -> bool {
    c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|d| d.is_ascii_hexdigit())
}

fn entry(v: &Value) -> Option<Entry> {
    let id = v.get("id")?.as_str()?.to_string();
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let name = text("summaryOverride")
        .or_else(|| text("summary"))
        .unwrap_or_else(|| id.clone());
    let role = text("accessRole").unwrap_or_default();
    Some(Entry {
        name,
        color: text("backgroundColor").filter(|c| is_hex_color(c)),
        read_only: Some(matches!(role.as_str(), "reader" | "freeBusyReader")),
        hidden: v.get("hidden").and_then(Value::as_bool) == Some(true),
        id,
    })
}

async fn run_account(
    store: &mut Store,
    account: &str,
    google: &Google,
    opts: &SyncOptions,
    events: Option<&UnboundedSender<SyncEvent>>,
    report: &mut AccountReport,
) -> Result<(), SyncError> {
    let row = store.account(account, "google", google.api_base(), now())?;
    let listed = calendar_list(store, row.id, google).await?;
    let remote: Vec<RemoteCalendar> = listed
        .iter()
        .map(|e| RemoteCalendar {
            remote_id: e.id.clone(),
            name: e.name.clone(),
            color: e.color.clone(),
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
        let hidden_there = listed.iter().any(|e| e.id == state.remote_id && e.hidden);
        if hidden_there && change.added.contains(&state.name) {
            store.set_hidden(state.id, true)?;
        }
        if let Some(read_only) = listed
            .iter()
            .find(|e| e.id == state.remote_id)
            .and_then(|e| e.read_only)
        {
            store.set_read_only(state.id, read_only)?;
        }
        if opts.calendar.as_ref().is_some_and(|c| *c != state.name) {
            continue;
        }
        if !listed.iter().any(|e| e.id == state.remote_id) {
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
        let r = sync_calendar(store, google, &state, opts.full, events).await;
        let retry_at = r.retry_at;
        report.calendars.push(r);
        if retry_at.is_some() {
            report.retry_at = retry_at;
            break;
        }
    }
    Ok(())
}

/// The calendar list, by its own sync token: a round with no change costs one request. A
/// delta is merged into the calendars the cache knows; an expired token lists them all.
async fn calendar_list(
    store: &mut Store,
    account: i64,
    google: &Google,
) -> Result<Vec<Entry>, SyncError> {
    let mut token = store.account_cursor(account)?;
    let mut restarted = false;
    'round: loop {
        let mut entries: Vec<Value> = Vec::new();
        let mut page: Option<String> = None;
        let mut pages = 0;
        let next_token = loop {
            let mut query = vec![("maxResults", LIST_PAGE_SIZE.to_string())];
            if let Some(t) = &token {
                query.push(("syncToken", t.clone()));
            } else {
                query.push(("showHidden", "true".into()));
            }
            if let Some(p) = &page {
                query.push(("pageToken", p.clone()));
            }
            let q: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (status, body, resp) = google
                .get_json(google.url(&["users", "me", "calendarList"], &q))
                .await?;
            if expired(status, &resp) && token.is_some() && !restarted {
                restarted = true;
                token = None;
                continue 'round;
            }
            if status != 200 {
                return Err(SyncError::Protocol(format!(
                    "listing calendars: {}",
                    ApiError::of(&resp).words()
                )));
            }
            entries.extend(body["items"].as_array().cloned().unwrap_or_default());
            pages += 1;
            match body["nextPageToken"].as_str() {
                Some(p) if pages < MAX_PAGES => page = Some(p.to_string()),
                Some(_) => {
                    return Err(SyncError::Protocol(format!(
                        "the calendar list went on past {MAX_PAGES} pages"
                    )));
                }
                None => break body["nextSyncToken"].as_str().map(str::to_string),
            }
        };
        let mut list: Vec<Entry> = if token.is_some() {
            // A delta: the calendars known, changed by what it lists.
            store
                .calendar_syncs(account)?
                .into_iter()
                .map(|c| Entry {
                    id: c.remote_id,
                    name: c.name,
                    color: None,
                    read_only: None,
                    hidden: false,
                })
                .collect()
        } else {
            Vec::new()
        };
        for v in &entries {
            let Some(e) = entry(v) else { continue };
            list.retain(|k| k.id != e.id);
            if v.get("deleted").and_then(Value::as_bool) != Some(true) {
                list.push(e);
            }
        }
        store.set_account_cursor(account, next_token.as_deref())?;
        return Ok(list);
    }
}

/// The groups of a completed full listing with only the members it listed. `upserts` are the
/// last page's groups (not in the store yet); the others are read from the store. Returns the
/// upserts to apply and the groups left with nothing live.
fn drop_unlisted(
    store: &Store,
    calendar: i64,
    listed: &HashMap<String, HashSet<String>>,
    holds: &HashMap<String, Vec<String>>,
    mut upserts: Vec<FetchedItem>,
) -> Result<(Vec<FetchedItem>, Vec<String>), SyncError> {
    // Only groups holding a member the listing did not name need a look.
    let stale: HashSet<&String> = holds
        .iter()
        .filter(|(gid, ids)| {
            listed
                .get(*gid)
                .is_some_and(|names| ids.iter().any(|id| !names.contains(id)))
        })
        .map(|(gid, _)| gid)
        .collect();
    let stored: Vec<String> = stale
        .iter()
        .filter(|gid| !upserts.iter().any(|u| u.href == ***gid))
        .map(|gid| (*gid).clone())
        .collect();
    let raws = store.item_raws(calendar, &stored)?;
    let keep = |gid: &str, raw: &str| -> Option<Vec<Value>> {
        let names = listed.get(gid)?;
        let list = objects(raw);
        let kept: Vec<Value> = list
            .iter()
            .filter(|e| {
                e.get("id")
                    .and_then(Value::as_str)
                    .is_some_and(|id| names.contains(id))
            })
            .cloned()
            .collect();
        (kept.len() < list.len()).then_some(kept)
    };
    let live = |list: &[Value]| {
        list.iter()
            .any(|e| e.get("status").and_then(Value::as_str) != Some("cancelled"))
    };
    let mut gone = Vec::new();
    for u in upserts.iter_mut().filter(|u| stale.contains(&u.href)) {
        if let Some(kept) = keep(&u.href, &u.raw) {
            u.etag = group_etag(&u.href, &kept);
            u.raw = Value::Array(kept).to_string();
        }
    }
    for (gid, raw) in raws {
        if let Some(kept) = keep(&gid, &raw) {
            upserts.push(FetchedItem {
                etag: group_etag(&gid, &kept),
                raw: Value::Array(kept).to_string(),
                href: gid,
                problem: None,
                read: None,
            });
        }
    }
    upserts.retain(|u| {
        let keep = live(&objects(&u.raw));
        if !keep {
            gone.push(u.href.clone());
        }
        keep
    });
    Ok((upserts, gone))
}

/// A page as fetched: status, JSON body, the reply.
type Fetched = (u16, Value, crate::sync::http::Response);

/// Whether a reply says the sync token is no longer good: `410` (`fullSyncRequired`), or `400`
/// "Invalid sync token value." [obs], to be treated as a 410 (PROTOCOLS.md §2 "Sync rounds").
fn expired(status: u16, resp: &crate::sync::http::Response) -> bool {
    status == 410
        || (status == 400
            && ApiError::of(resp)
                .message
                .to_ascii_lowercase()
                .contains("sync token"))
}

/// One calendar: pending edits first, then its events from the stored token (or all of them).
async fn sync_calendar(
    store: &mut Store,
    google: &Google,
    state: &crate::store::CalendarSync,
    full: bool,
    events: Option<&UnboundedSender<SyncEvent>>,
) -> CalendarReport {
    let token = (!full && state.strategy.as_deref() == Some(SYNC_TOKEN))
        .then(|| state.sync_token.clone())
        .flatten();
    push_then_pull(
        store,
        google,
        &google.http,
        state,
        SYNC_TOKEN,
        events,
        async |store, report| pull(store, google, state, token, events, report).await,
    )
    .await
}

/// The events round: every page applied as it comes, the next sync token stored with the last
/// one. Without a token (first run, expiry) it is a full listing reconciled by id: what it does
/// not name goes, except items with pending edits or conflicts.
async fn pull(
    store: &mut Store,
    google: &Google,
    state: &crate::store::CalendarSync,
    mut token: Option<String>,
    events: Option<&UnboundedSender<SyncEvent>>,
    report: &mut CalendarReport,
) -> Result<(), SyncError> {
    let mut restarted = false;
    let page_size = PAGE_SIZE.to_string();
    'round: loop {
        // In a full listing, every group the pages name.
        let mut seen: Option<HashSet<String>> = token.is_none().then(HashSet::new);
        let mut pages = 0;
        let mut announced = false;
        // Every page asks with the same parameters (PROTOCOLS.md §2: others give undefined
        // results), plus its pageToken.
        let page_url = |page: Option<&str>| {
            let mut query = vec![("singleEvents", "false"), ("maxResults", &page_size)];
            if let Some(t) = &token {
                query.push(("syncToken", t));
            }
            if let Some(p) = page {
                query.push(("pageToken", p));
            }
            google.url(&["calendars", &state.remote_id, "events"], &query)
        };
        // The next page downloads while this one is applied (one request ahead: the server's
        // time and ours overlap instead of taking turns). Dropping the set cancels it.
        let mut ahead: tokio::task::JoinSet<Result<Fetched, SyncError>> =
            tokio::task::JoinSet::new();
        let mut first = Some(page_url(None));
        let mut orphans: HashMap<String, Vec<Value>> = HashMap::new();
        // In a full listing, the event ids listed per group.
        let mut listed: Option<HashMap<String, HashSet<String>>> =
            seen.as_ref().map(|_| HashMap::new());
        // In a full listing, the event ids each group held after its latest page.
        let mut holds: Option<HashMap<String, Vec<String>>> = seen.as_ref().map(|_| HashMap::new());
        loop {
            let (status, body, resp) = match first.take() {
                Some(url) => google.get_json(url).await?,
                None => match ahead.join_next().await {
                    Some(Ok(fetched)) => fetched?,
                    Some(Err(e)) => {
                        return Err(SyncError::Protocol(format!("a page fetch failed: {e}")));
                    }
                    None => return Ok(()),
                },
            };
            if expired(status, &resp) && token.is_some() && !restarted {
                tracing::info!(calendar = state.id, "sync token expired: full listing");
                restarted = true;
                token = None;
                continue 'round;
            }
            if status != 200 {
                return Err(SyncError::Protocol(format!(
                    "listing events: {}",
                    ApiError::of(&resp).words()
                )));
            }
            let items = body["items"].as_array().cloned().unwrap_or_default();
            pages += 1;
            let next_page = body["nextPageToken"].as_str().map(str::to_string);
            let last = next_page.is_none();
            if let Some(p) = next_page.as_deref().filter(|_| pages < MAX_PAGES) {
                let (google, url) = (google.clone(), page_url(Some(p)));
                ahead.spawn(async move { google.get_json(url).await });
            }
            if !announced && (!items.is_empty() || last && seen.is_some()) {
                announced = true;
                emit(
                    events,
                    SyncEvent::Started {
                        calendar: state.id,
                        name: state.name.clone(),
                    },
                );
            }
            let touched: Vec<String> = items
                .iter()
                .filter_map(|e| super::groups::group_id(e).map(str::to_string))
                .collect();
            let mut cached = store.item_raws(state.id, &touched)?;
            // Cancelled instances met before their master, on an earlier page.
            for id in &touched {
                if let Some(list) = orphans.remove(id) {
                    cached
                        .entry(id.clone())
                        .or_insert_with(|| Value::Array(list).to_string());
                }
            }
            if let Some(listed) = &mut listed {
                for e in &items {
                    if let (Some(gid), Some(id)) = (
                        super::groups::group_id(e),
                        e.get("id").and_then(Value::as_str),
                    ) {
                        listed
                            .entry(gid.to_string())
                            .or_default()
                            .insert(id.to_string());
                    }
                }
            }
            let mut folded = fold_page(&items, &cached);
            if let Some(holds) = &mut holds {
                holds.extend(folded.members.drain(..));
            }
            orphans.extend(folded.orphans.drain(..));
            report.unreadable.append(&mut folded.skipped);
            if let Some(seen) = &mut seen {
                seen.extend(folded.upserts.iter().map(|i| i.href.clone()));
            }
            let mut removals = folded.removals;
            // The end of a full listing: members of a group it did not name (an exception
            // cancelled and purged meanwhile) go now. Pages before only added and replaced, so a
            // round cut short never loses what a later page would have brought.
            if let (true, Some(listed), Some(holds)) = (last, &listed, &holds) {
                let (upserts, gone) = drop_unlisted(
                    store,
                    state.id,
                    listed,
                    holds,
                    std::mem::take(&mut folded.upserts),
                )?;
                folded.upserts = upserts;
                removals.extend(gone);
            }
            if let (true, Some(seen)) = (last, &seen) {
                removals.extend(
                    store
                        .item_etags(state.id)?
                        .into_keys()
                        .filter(|id| !seen.contains(id)),
                );
                removals.sort();
                removals.dedup();
            }
            let update = last.then(|| StateUpdate {
                strategy: SYNC_TOKEN.into(),
                sync_token: body["nextSyncToken"].as_str().map(str::to_string),
                ctag: None,
                seen_token: None,
                full: seen.is_some(),
            });
            if last && update.as_ref().is_some_and(|u| u.sync_token.is_none()) {
                tracing::warn!(
                    calendar = state.id,
                    "the last page carried no nextSyncToken"
                );
            }
            apply_page(
                store,
                state.id,
                &ChangeSet {
                    upserts: folded.upserts,
                    removals,
                    state: update,
                },
                report,
                events,
            )?;
            match next_page {
                None => return Ok(()),
                Some(_) if pages >= MAX_PAGES => {
                    return Err(SyncError::Protocol(format!(
                        "Google kept paging past {MAX_PAGES} pages; the round ended and the next one starts over"
                    )));
                }
                Some(_) => {}
            }
        }
    }
}
