//! The sync engine: per account, one PROPFIND on the calendar home reads every calendar's token and
//! ctag; only calendars whose token or ctag moved get a REPORT. Each page of changes is applied with
//! the state that covers it in one transaction, then announced as a [`SyncEvent`].
//!
//! Tokens are an optimisation; the etag listing is the truth. An expired token means a full listing
//! reconciled by href (nothing is wiped first, pending edits stay), and a delta that cannot explain
//! the collection, or a day without a full listing, leads to one.

use std::collections::{HashMap, HashSet};

use reqwest::Url;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinSet;

use super::caldav::{CalDav, DavError, Got, ListedCalendar, SyncPage};
use super::http::HttpError;
use super::push::push_into;
pub use super::round::{AccountReport, CalendarReport, SyncOptions};
use super::round::{Stopwatch, emit, now, watched};
use super::{SyncError, SyncEvent};
use crate::store::{CalendarSync, ChangeSet, FetchedItem, RemoteCalendar, StateUpdate, Store};

/// Hrefs per calendar-multiget.
pub const BATCH: usize = 200;
/// The most fetched items applied in one transaction (see `Run::transaction_size`).
const MAX_TRANSACTION: usize = 20_000;
/// Multigets in flight at once.
const IN_FLIGHT: usize = 3;
/// Truncated (507) sync replies followed in one run before giving up.
const MAX_TRUNCATED_ROUNDS: usize = 1_000;
/// A full etag listing at least this often, whatever the tokens say.
const RECONCILE_EVERY_SECS: i64 = 24 * 3600;

pub const SYNC_COLLECTION: &str = "sync-collection";
pub const CTAG_ETAGS: &str = "ctag+etag";

/// Runs one round for a CalDAV account: discovery when the home is not known yet, the home listing,
/// then each calendar that changed.
pub async fn sync_caldav(
    store: &mut Store,
    account: &str,
    dav: &CalDav,
    opts: &SyncOptions,
    events: Option<&UnboundedSender<SyncEvent>>,
) -> AccountReport {
    let clock = Stopwatch::start(dav.http.counters.snapshot());
    let mut report = AccountReport {
        account: account.to_string(),
        ..AccountReport::default()
    };
    let outcome = {
        let run = run_account(store, account, dav, opts, events, &mut report);
        watched(run, &dav.http, account, events).await
    };
    clock.end_account(&mut report, outcome, dav.http.counters.snapshot(), events);
    report
}

async fn run_account(
    store: &mut Store,
    account: &str,
    dav: &CalDav,
    opts: &SyncOptions,
    events: Option<&UnboundedSender<SyncEvent>>,
    report: &mut AccountReport,
) -> Result<(), SyncError> {
    let base = dav.http.origin().to_string();
    let row = store.account(account, "caldav", &base, now())?;
    // A first sync has no ctag or token to compare, and some servers read every item to answer
    // them: it lists the calendars without, and remembers the token its REPORT returns.
    let brief = store.calendar_syncs(row.id)?.is_empty();
    let (home, listed) = match row.home_url.as_deref().and_then(|h| Url::parse(h).ok()) {
        Some(home) => match dav.calendars(&home, brief).await {
            Ok(list) => (home, list),
            // The home moved or vanished: discover again (not for a server error: discovery
            // would meet the same one).
            Err(DavError::Unexpected { status, .. }) if status < 500 => {
                let home = dav.discover().await?;
                let list = dav.calendars(&home, brief).await?;
                (home, list)
            }
            Err(e) => return Err(e.into()),
        },
        None => {
            let home = dav.discover().await?;
            let list = dav.calendars(&home, brief).await?;
            (home, list)
        }
    };
    store.set_home_url(row.id, home.as_str())?;
    let remote: Vec<RemoteCalendar> = listed
        .iter()
        .map(|c| RemoteCalendar {
            remote_id: c.url.to_string(),
            name: c.name.clone(),
            color: c.color.clone(),
            components: c.components.clone(),
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
        if opts.calendar.as_ref().is_some_and(|c| *c != state.name) {
            continue;
        }
        let Some(cal) = listed.iter().find(|c| c.url.as_str() == state.remote_id) else {
            // Kept only because local edits wait in it: they can never be pushed, so each
            // becomes a conflict the person settles (keep theirs drops it, and the calendar
            // goes with the last one).
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
        };
        let state = forget_if_recreated(store, state, cal)?;
        let r = sync_calendar(store, dav, &state, cal, opts.full, events).await;
        let retry_at = r.retry_at;
        report.calendars.push(r);
        if retry_at.is_some() {
            // The server asked to be left alone: the other calendars wait too.
            report.retry_at = retry_at;
            break;
        }
    }
    Ok(())
}

/// A calendar deleted and recreated at the same URL is another collection: its old token may be
/// answered with a listing that names no removals [obs], so what the cache knew of it is dropped
/// (token, ctag, the last full listing) and the run reconciles the full etag listing. The items
/// stay until that listing removes them, so nothing flashes empty.
fn forget_if_recreated(
    store: &mut Store,
    state: CalendarSync,
    cal: &ListedCalendar,
) -> Result<CalendarSync, crate::store::StoreError> {
    let Some(identity) = cal.identity.as_deref() else {
        return Ok(state);
    };
    if !store.note_identity(state.id, identity)? {
        return Ok(state);
    }
    tracing::info!(
        calendar = state.id,
        "the collection was recreated: full listing"
    );
    Ok(CalendarSync {
        sync_token: None,
        ctag: None,
        seen_token: None,
        full_sync_at: None,
        ..state
    })
}

/// Whether the home listing shows the calendar exactly as the last completed run left it. Only
/// values known on both sides are compared, and at least one must be.
fn unchanged(state: &CalendarSync, cal: &ListedCalendar, strategy: &str) -> bool {
    if state.strategy.as_deref() != Some(strategy) {
        return false;
    }
    if strategy == SYNC_COLLECTION && state.sync_token.is_none() {
        return false;
    }
    let same = |listed: &Option<String>, stored: &Option<String>| match (listed, stored) {
        (Some(a), Some(b)) => Some(a == b),
        _ => None,
    };
    match (
        same(&cal.sync_token, &state.seen_token),
        same(&cal.ctag, &state.ctag),
    ) {
        (None, None) => false,
        (a, b) => a.unwrap_or(true) && b.unwrap_or(true),
    }
}

async fn sync_calendar(
    store: &mut Store,
    dav: &CalDav,
    state: &CalendarSync,
    cal: &ListedCalendar,
    full: bool,
    events: Option<&UnboundedSender<SyncEvent>>,
) -> CalendarReport {
    let clock = Stopwatch::start(dav.http.counters.snapshot());
    let started_at = clock.started_at();
    let strategy = if cal.supports_sync {
        SYNC_COLLECTION
    } else {
        CTAG_ETAGS
    };
    let mut report = CalendarReport {
        calendar: state.name.clone(),
        calendar_id: state.id,
        strategy: strategy.to_string(),
        ..CalendarReport::default()
    };
    let stale = state
        .full_sync_at
        .is_none_or(|t| started_at - t > RECONCILE_EVERY_SECS);
    // Local edits go first: a changed server copy then shows as a 412 on the push, not as a
    // silent overwrite by the pull.
    if let Some(e) = push_into(store, dav, state.id, cal.url.as_str(), &mut report, events).await
        && e.retry_at().is_some()
    {
        return report;
    }
    if !full && !stale && report.pushed == 0 && unchanged(state, cal, strategy) {
        report.unchanged = true;
        // After a first sync that listed no ctag, the first unchanged listing supplies it (the
        // token just matched, so it describes the same state).
        if state.ctag.is_none()
            && let Some(ctag) = &cal.ctag
            && let Err(e) = store.remember_ctag(state.id, ctag)
        {
            tracing::warn!(error = %e, "cannot store the ctag");
        }
        return report;
    }
    emit(
        events,
        SyncEvent::Started {
            calendar: state.id,
            name: state.name.clone(),
        },
    );
    let held = store
        .item_etags(state.id)
        .map(|cache| cache.len())
        .unwrap_or(0);
    let mut run = Run {
        store,
        dav,
        calendar: state.id,
        url: cal.url.clone(),
        events,
        report: &mut report,
        held,
    };
    let outcome = if strategy == SYNC_COLLECTION {
        let token = if full { None } else { state.sync_token.clone() };
        run.by_sync_collection(token, state, cal, stale).await
    } else {
        run.by_etag_listing(cal, CTAG_ETAGS, None).await
    };
    clock.end_calendar(store, report, outcome, dav.http.counters.snapshot(), events)
}

/// One calendar's run in progress.
struct Run<'a> {
    store: &'a mut Store,
    dav: &'a CalDav,
    calendar: i64,
    url: Url,
    events: Option<&'a UnboundedSender<SyncEvent>>,
    report: &'a mut CalendarReport,
    /// Items the cache holds for the calendar (at the start, plus those added since).
    held: usize,
}

impl Run<'_> {
    /// How many fetched items go into one transaction: at least a batch, and half of what the
    /// calendar holds, up to a bound. Each item lands at a random place in the cache's indexes;
    /// once those outgrow what one commit touches, every small transaction rewrites pages of its
    /// own, and the bytes written per event grow with the calendar (2.5 KB at 1k events, 11.7 KB
    /// at 100k, in 200-item transactions). Transactions that grow with the calendar keep the
    /// work per event flat; the bound keeps memory small and the view updating.
    fn transaction_size(&self) -> usize {
        (self.held / 2).clamp(BATCH, MAX_TRANSACTION)
    }

    fn apply(&mut self, page: ChangeSet) -> Result<(), SyncError> {
        let applied = self.store.apply(self.calendar, &page, now())?;
        self.held += applied.added;
        self.report.added += applied.added;
        self.report.changed += applied.changed;
        self.report.removed += applied.removed;
        for (href, reason) in &applied.unreadable {
            tracing::warn!(href, reason, "item kept raw: cannot be read");
            self.report.unreadable.push(format!("{href}: {reason}"));
        }
        if applied.added + applied.changed + applied.removed > 0 {
            emit(
                self.events,
                SyncEvent::Applied {
                    calendar: self.calendar,
                    added: applied.added,
                    changed: applied.changed,
                    removed: applied.removed,
                },
            );
        }
        Ok(())
    }

    /// RFC 6578, following truncation to the end. An invalid token turns into a full listing.
    async fn by_sync_collection(
        &mut self,
        mut token: Option<String>,
        state: &CalendarSync,
        cal: &ListedCalendar,
        stale: bool,
    ) -> Result<(), SyncError> {
        let mut cache = self.store.item_etags(self.calendar)?;
        // In a full listing, every live href the server names; the rest of the cache is gone.
        let mut listing: Option<HashSet<String>> = token.is_none().then(HashSet::new);
        let mut retried = false;
        let mut delta_size = 0;
        // Hrefs a delta lists with the etag the cache already holds: many of them means the
        // server answered a stale token with a full listing.
        let mut echoed = 0;
        let mut rounds = 0;
        let mut data_refused = false;
        loop {
            // A full listing asks for the data too: one reply instead of one multiget per batch.
            let with_data = listing.is_some() && !data_refused;
            let mut page = match self
                .dav
                .sync_collection(&self.url, token.as_deref(), with_data)
                .await
            {
                Err(DavError::InvalidToken) if token.is_some() && !retried => {
                    tracing::info!(calendar = self.calendar, "sync token expired: full listing");
                    retried = true;
                    token = None;
                    listing = Some(HashSet::new());
                    continue;
                }
                // A server may refuse a listing with every item's data (too large, or capped):
                // the same listing with etags only, then multigets.
                Err(
                    DavError::Unexpected { .. }
                    | DavError::Xml { .. }
                    | DavError::Http(HttpError::TooLarge(_)),
                ) if with_data && !data_refused => {
                    tracing::info!(
                        calendar = self.calendar,
                        "listing with data refused: etags only"
                    );
                    data_refused = true;
                    continue;
                }
                other => other?,
            };
            for s in &page.skipped {
                tracing::warn!(calendar = self.calendar, skipped = %s, "response skipped");
                self.report.unreadable.push(s.clone());
            }
            if let Some(l) = listing.as_mut() {
                l.extend(page.changed.iter().map(|(h, _)| h.clone()));
            } else {
                delta_size += page.changed.len() + page.removed.len();
                echoed += page
                    .changed
                    .iter()
                    .filter(|(h, e)| e.is_some() && cache.get(h) == Some(e))
                    .count();
            }
            let wanted = changed_hrefs(&page.changed, &cache);
            let (arrived, wanted): (Vec<String>, Vec<String>) =
                wanted.into_iter().partition(|h| page.data.contains_key(h));
            self.apply_arrived(&page, arrived)?;
            page.data.clear();
            let missing = self.fetch_and_apply(&wanted).await?;
            for (href, etag) in &page.changed {
                cache.insert(href.clone(), etag.clone());
            }
            let mut removals: Vec<String> = page
                .removed
                .iter()
                .chain(&missing)
                .filter(|h| cache.contains_key(*h))
                .cloned()
                .collect();
            if page.truncated {
                if page.token.is_none() {
                    return Err(SyncError::Protocol(
                        "the server truncated a sync reply without a token to continue from".into(),
                    ));
                }
                // Mid-listing tokens are not stored: a restart must list again to find removals.
                let state_update = listing.is_none().then(|| StateUpdate {
                    strategy: SYNC_COLLECTION.into(),
                    sync_token: page.token.clone(),
                    ctag: state.ctag.clone(),
                    seen_token: state.seen_token.clone(),
                    full: false,
                });
                self.apply(ChangeSet {
                    upserts: Vec::new(),
                    removals,
                    state: state_update,
                })?;
                for h in page.removed.iter().chain(&missing) {
                    cache.remove(h);
                }
                // A server that keeps truncating without progress would loop for ever.
                rounds += 1;
                let stuck =
                    page.changed.is_empty() && page.removed.is_empty() && page.token == token;
                if stuck || rounds > MAX_TRUNCATED_ROUNDS {
                    return Err(SyncError::Protocol(format!(
                        "the server kept truncating its sync reply ({rounds} rounds) without finishing"
                    )));
                }
                token = page.token;
                continue;
            }
            if let Some(l) = &listing {
                removals.extend(cache.keys().filter(|h| !l.contains(*h)).cloned());
            }
            removals.sort();
            removals.dedup();
            for h in &removals {
                cache.remove(h);
            }
            // A delta that cannot explain the collection (nothing changed though the ctag moved,
            // or mostly items we already hold, as a full listing would) is checked against the
            // etag listing.
            let suspicious = listing.is_none()
                && ((delta_size == 0 && cal.ctag.is_some() && cal.ctag != state.ctag)
                    || (echoed >= 20 && echoed * 2 >= delta_size));
            let full = listing.is_some();
            let update = StateUpdate {
                strategy: SYNC_COLLECTION.into(),
                sync_token: page.token.clone(),
                ctag: cal.ctag.clone(),
                // After a brief listing, the REPORT's token stands in: where a server's PROPFIND
                // and REPORT tokens differ, the next run makes one more request and learns it.
                seen_token: cal.sync_token.clone().or_else(|| page.token.clone()),
                full,
            };
            if (suspicious || stale) && !full {
                self.apply(ChangeSet {
                    upserts: Vec::new(),
                    removals,
                    state: None,
                })?;
                return self
                    .by_etag_listing(cal, SYNC_COLLECTION, Some(update))
                    .await;
            }
            return self.apply(ChangeSet {
                upserts: Vec::new(),
                removals,
                state: Some(update),
            });
        }
    }

    /// The etag listing diffed against the cache; `update` carries a token learned just before.
    async fn by_etag_listing(
        &mut self,
        cal: &ListedCalendar,
        strategy: &str,
        update: Option<StateUpdate>,
    ) -> Result<(), SyncError> {
        let cache = self.store.item_etags(self.calendar)?;
        let listing = self.dav.etag_listing(&self.url).await?;
        self.report
            .unreadable
            .extend(listing.skipped.iter().cloned());
        let wanted = changed_hrefs(&listing.items, &cache);
        let missing = self.fetch_and_apply(&wanted).await?;
        let live: HashSet<&String> = listing.items.iter().map(|(h, _)| h).collect();
        let mut removals: Vec<String> = cache
            .keys()
            .filter(|h| !live.contains(h))
            .cloned()
            .chain(missing)
            .collect();
        removals.sort();
        removals.dedup();
        let update = update.unwrap_or(StateUpdate {
            strategy: strategy.to_string(),
            sync_token: None,
            // The home listing's ctag, else (after a brief one) the collection's in this reply.
            ctag: cal.ctag.clone().or(listing.ctag),
            seen_token: cal.sync_token.clone(),
            full: true,
        });
        self.apply(ChangeSet {
            upserts: Vec::new(),
            removals,
            state: Some(StateUpdate {
                full: true,
                ..update
            }),
        })
    }

    /// Applies items whose data came with the sync reply, a batch per transaction.
    fn apply_arrived(&mut self, page: &SyncPage, hrefs: Vec<String>) -> Result<(), SyncError> {
        let total = hrefs.len();
        let etags: HashMap<&String, &Option<String>> =
            page.changed.iter().map(|(h, e)| (h, e)).collect();
        let mut done = 0;
        while done < total {
            let batch = &hrefs[done..(done + self.transaction_size()).min(total)];
            done += batch.len();
            let upserts = batch
                .iter()
                .filter_map(|h| {
                    Some(FetchedItem {
                        href: h.clone(),
                        etag: etags.get(h).cloned().cloned().flatten(),
                        raw: page.data.get(h)?.clone(),
                        problem: page.problems.get(h).cloned(),
                        read: None,
                    })
                })
                .collect();
            self.apply(ChangeSet {
                upserts,
                removals: Vec::new(),
                state: None,
            })?;
            emit(
                self.events,
                SyncEvent::Progress {
                    calendar: self.calendar,
                    done,
                    total,
                },
            );
        }
        Ok(())
    }

    /// Fetches `hrefs` with multigets, a few in flight, applying each batch as it arrives. Returns
    /// the hrefs the server no longer has.
    async fn fetch_and_apply(&mut self, hrefs: &[String]) -> Result<Vec<String>, SyncError> {
        let total = hrefs.len();
        if total == 0 {
            return Ok(Vec::new());
        }
        let mut batches: std::collections::VecDeque<Vec<String>> =
            hrefs.chunks(BATCH).map(<[String]>::to_vec).collect();
        let mut inflight = JoinSet::new();
        let mut missing = Vec::new();
        let mut done = 0;
        let mut failure = None;
        // Fetched items wait here until a transaction's worth has arrived.
        let mut ready: Vec<FetchedItem> = Vec::new();
        loop {
            while failure.is_none() && inflight.len() < IN_FLIGHT {
                let Some(batch) = batches.pop_front() else {
                    break;
                };
                let dav = self.dav.clone();
                let url = self.url.clone();
                inflight.spawn(async move {
                    let result = dav.multiget(&url, &batch).await;
                    (batch, result)
                });
            }
            let Some(joined) = inflight.join_next().await else {
                break;
            };
            let fetched = match joined {
                Ok((_, Ok(f))) => f,
                // [obs] Some servers cap how many items one REPORT may return: smaller batches.
                Ok((
                    batch,
                    Err(DavError::Unexpected {
                        status: 400 | 413 | 507,
                        ..
                    }),
                )) if batch.len() > 1 => {
                    let (a, b) = batch.split_at(batch.len() / 2);
                    batches.push_front(b.to_vec());
                    batches.push_front(a.to_vec());
                    continue;
                }
                Ok((_, Err(e))) => {
                    failure.get_or_insert(SyncError::from(e));
                    continue;
                }
                Err(e) => {
                    failure.get_or_insert(SyncError::Protocol(format!("a fetch task failed: {e}")));
                    continue;
                }
            };
            self.report.unreadable.extend(fetched.skipped);
            done += fetched.items.len() + fetched.missing.len();
            missing.extend(fetched.missing);
            ready.extend(fetched.items);
            if ready.len() >= self.transaction_size() {
                self.apply(ChangeSet {
                    upserts: std::mem::take(&mut ready),
                    removals: Vec::new(),
                    state: None,
                })?;
            }
            emit(
                self.events,
                SyncEvent::Progress {
                    calendar: self.calendar,
                    done: done.min(total),
                    total,
                },
            );
        }
        // What arrived is kept, even when a later fetch failed.
        if !ready.is_empty() {
            self.apply(ChangeSet {
                upserts: ready,
                removals: Vec::new(),
                state: None,
            })?;
        }
        if let Some(e) = failure {
            return Err(e);
        }
        self.confirm_missing(missing).await
    }

    /// A multiget may leave out an href that still exists [obs]: each one is asked for alone, and
    /// only those the server says are gone come back as removals.
    async fn confirm_missing(&mut self, missing: Vec<String>) -> Result<Vec<String>, SyncError> {
        let mut gone = Vec::new();
        let mut found = Vec::new();
        for href in missing {
            // The href is a path on the calendar's origin (never `join`: `//host/…` would leave it).
            let mut url = self.url.clone();
            url.set_path(&href);
            match self.dav.get(&url).await {
                Ok(Got::Item { etag, raw }) => found.push(FetchedItem {
                    href,
                    etag,
                    raw,
                    problem: None,
                    read: None,
                }),
                Ok(Got::Gone) => gone.push(href),
                // One item the server will not give must not hold up the rest; the daily full
                // listing tries it again.
                Ok(Got::NotModified) => self
                    .report
                    .unreadable
                    .push(format!("{href}: an unasked 304 from the server")),
                Ok(Got::Refused(status)) => self
                    .report
                    .unreadable
                    .push(format!("{href}: the server refused it ({status})")),
                Err(e) => return Err(e.into()),
            }
        }
        if !found.is_empty() {
            self.apply(ChangeSet {
                upserts: found,
                removals: Vec::new(),
                state: None,
            })?;
        }
        Ok(gone)
    }
}

/// Hrefs whose etag differs from the cache's (or is unknown).
fn changed_hrefs(
    listed: &[(String, Option<String>)],
    cache: &HashMap<String, Option<String>>,
) -> Vec<String> {
    listed
        .iter()
        .filter(|(h, e)| e.is_none() || cache.get(h) != Some(e))
        .map(|(h, _)| h.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(
        strategy: Option<&str>,
        token: Option<&str>,
        seen: Option<&str>,
        ctag: Option<&str>,
    ) -> CalendarSync {
        CalendarSync {
            id: 1,
            remote_id: "http://h/c/".into(),
            name: "c".into(),
            strategy: strategy.map(Into::into),
            sync_token: token.map(Into::into),
            ctag: ctag.map(Into::into),
            seen_token: seen.map(Into::into),
            full_sync_at: Some(0),
            components: vec![],
        }
    }

    fn listed(token: Option<&str>, ctag: Option<&str>) -> ListedCalendar {
        ListedCalendar {
            url: Url::parse("http://h/c/").unwrap(),
            name: "c".into(),
            color: None,
            ctag: ctag.map(Into::into),
            sync_token: token.map(Into::into),
            supports_sync: true,
            components: vec![],
            identity: None,
        }
    }

    #[test]
    fn a_calendar_is_unchanged_only_when_token_and_ctag_both_match() {
        let s = state(Some(SYNC_COLLECTION), Some("r1"), Some("p1"), Some("c1"));
        assert!(unchanged(
            &s,
            &listed(Some("p1"), Some("c1")),
            SYNC_COLLECTION
        ));
        assert!(!unchanged(
            &s,
            &listed(Some("p2"), Some("c1")),
            SYNC_COLLECTION
        ));
        assert!(!unchanged(
            &s,
            &listed(Some("p1"), Some("c2")),
            SYNC_COLLECTION
        ));
        // A server that shows neither cannot be trusted to be unchanged.
        assert!(!unchanged(&s, &listed(None, None), SYNC_COLLECTION));
        // Only a ctag: it decides.
        assert!(unchanged(&s, &listed(None, Some("c1")), SYNC_COLLECTION));
        // After a first sync that listed no ctag: the token alone decides.
        let first = state(Some(SYNC_COLLECTION), Some("r1"), Some("r1"), None);
        assert!(unchanged(
            &first,
            &listed(Some("r1"), Some("c9")),
            SYNC_COLLECTION
        ));
        assert!(!unchanged(
            &first,
            &listed(Some("r2"), Some("c9")),
            SYNC_COLLECTION
        ));
        assert!(!unchanged(
            &first,
            &listed(None, Some("c9")),
            SYNC_COLLECTION
        ));
    }

    #[test]
    fn a_new_strategy_or_a_missing_report_token_means_a_run() {
        let never = state(None, None, None, None);
        assert!(!unchanged(
            &never,
            &listed(Some("p1"), Some("c1")),
            SYNC_COLLECTION
        ));
        let no_token = state(Some(SYNC_COLLECTION), None, Some("p1"), Some("c1"));
        assert!(!unchanged(
            &no_token,
            &listed(Some("p1"), Some("c1")),
            SYNC_COLLECTION
        ));
        let ctag_run = state(Some(CTAG_ETAGS), None, None, Some("c1"));
        assert!(unchanged(&ctag_run, &listed(None, Some("c1")), CTAG_ETAGS));
        assert!(!unchanged(
            &ctag_run,
            &listed(None, Some("c1")),
            SYNC_COLLECTION
        ));
    }

    #[test]
    fn only_hrefs_with_a_new_or_unknown_etag_are_fetched() {
        let cache: HashMap<String, Option<String>> = [
            ("/a".to_string(), Some("\"1\"".to_string())),
            ("/b".to_string(), Some("W/\"2\"".to_string())),
        ]
        .into();
        let listed = vec![
            ("/a".to_string(), Some("\"1\"".to_string())),
            ("/b".to_string(), Some("\"2\"".to_string())),
            ("/c".to_string(), Some("\"3\"".to_string())),
            ("/d".to_string(), None),
        ];
        assert_eq!(changed_hrefs(&listed, &cache), vec!["/b", "/c", "/d"]);
    }
}
