//! What every kind of remote's round shares: what a run is asked and what it reports, the page
//! applier (one transaction with the cursor that covers it), the end of a calendar's run (its
//! record and the event that tells the view) and the watchdog on a silent server.

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::mpsc::UnboundedSender;

use super::{SyncError, SyncEvent};
use crate::store::{ChangeSet, RunRecord, Store};

/// Silence from the server longer than this is shown as "waiting for the server".
const WAITING_SHOWN_AFTER: Duration = Duration::from_secs(2);

/// What one run asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncOptions {
    /// Only the calendar with this name (any account).
    pub calendar: Option<String>,
    /// Ignore tokens and ctags: a full listing, reconciled by href.
    pub full: bool,
}

/// One calendar's run, as `almanac sync` prints it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CalendarReport {
    pub calendar: String,
    #[serde(skip)]
    pub calendar_id: i64,
    pub strategy: String,
    /// True when the home listing showed no change, so no request went to this calendar.
    pub unchanged: bool,
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub requests: u64,
    pub bytes: u64,
    pub duration_ms: u64,
    pub unreadable: Vec<String>,
    /// Local changes the server took this run.
    pub pushed: usize,
    /// Local changes the server refused because its copy changed: now conflicts.
    pub conflicts: usize,
    /// Local changes the server refused for another reason (they stay queued), in plain words.
    pub push_refused: Vec<String>,
    pub error: Option<String>,
    /// The server asked to be left alone until then (unix seconds): the next run waits.
    pub retry_at: Option<i64>,
}

/// One account's run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccountReport {
    pub account: String,
    /// Every request of the run, discovery and the home listing included.
    pub requests: u64,
    pub bytes: u64,
    pub duration_ms: u64,
    pub calendars: Vec<CalendarReport>,
    pub error: Option<String>,
    /// The server asked to be left alone until then (unix seconds): the next run waits.
    pub retry_at: Option<i64>,
    /// The server refused the credentials: a client built anew asks for the password again.
    #[serde(skip)]
    pub unauthorized: bool,
    /// The account must sign in (again) before any run can succeed: no automatic retries.
    #[serde(skip)]
    pub needs_sign_in: bool,
}

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub(crate) fn emit(events: Option<&UnboundedSender<SyncEvent>>, e: SyncEvent) {
    if let Some(tx) = events {
        let _ = tx.send(e);
    }
}

/// Ends a calendar's run: its record for the sync pane (strategy, requests, bytes, counts,
/// error), then the event that tells the view.
pub(crate) fn finish_calendar(
    store: &mut Store,
    calendar: i64,
    started_at: i64,
    report: CalendarReport,
    events: Option<&UnboundedSender<SyncEvent>>,
) -> CalendarReport {
    let record = RunRecord {
        started_at,
        finished_at: now(),
        duration_ms: report.duration_ms,
        strategy: report.strategy.clone(),
        requests: report.requests,
        bytes: report.bytes,
        added: report.added,
        changed: report.changed,
        removed: report.removed,
        error: report.error.clone(),
    };
    if let Err(e) = store.record_run(calendar, &record) {
        tracing::warn!(error = %e, "cannot record the sync run");
    }
    emit(
        events,
        SyncEvent::Finished {
            calendar,
            report: Box::new(report.clone()),
        },
    );
    report
}

/// Applies one page of changes with the state that covers it (one transaction), adds its
/// counts to `report` and tells the view.
pub(crate) fn apply_page(
    store: &mut Store,
    calendar: i64,
    page: &ChangeSet,
    report: &mut CalendarReport,
    events: Option<&UnboundedSender<SyncEvent>>,
) -> Result<(), SyncError> {
    let applied = store.apply(calendar, page, now())?;
    report.added += applied.added;
    report.changed += applied.changed;
    report.removed += applied.removed;
    for (id, reason) in &applied.unreadable {
        tracing::warn!(id, reason, "item kept raw: cannot be read");
        report.unreadable.push(format!("{id}: {reason}"));
    }
    if applied.added + applied.changed + applied.removed > 0 {
        emit(
            events,
            SyncEvent::Applied {
                calendar,
                added: applied.added,
                changed: applied.changed,
                removed: applied.removed,
            },
        );
    }
    Ok(())
}

/// Runs `run` while watching the server's silence: after a few seconds without a reply the UI
/// hears "waiting" (every tick, with the seconds), and past the client's stall bound the run ends.
/// Ending it at any await point is safe: every store write is one transaction with the state
/// that covers it.
pub(crate) async fn watched(
    run: impl std::future::Future<Output = Result<(), SyncError>>,
    http: &super::http::Http,
    account: &str,
    events: Option<&UnboundedSender<SyncEvent>>,
) -> Result<(), SyncError> {
    tokio::pin!(run);
    let tick = (http.stall / 8).clamp(Duration::from_millis(20), Duration::from_secs(1));
    let mut ticks = tokio::time::interval(tick);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut announced = false;
    let started = Instant::now();
    let waiting = |secs: u64| SyncEvent::Waiting {
        account: account.to_string(),
        secs,
    };
    let result = loop {
        tokio::select! {
            r = &mut run => break r,
            _ = ticks.tick() => {
                // Never more than this run's own age (a wait left over from an earlier run).
                let waited = http.counters.waited().min(started.elapsed());
                if waited >= http.stall {
                    tracing::warn!(account, secs = waited.as_secs(), "the server stopped answering");
                    break Err(SyncError::Stalled(waited.as_secs()));
                }
                if waited >= WAITING_SHOWN_AFTER.min(http.stall / 2) {
                    emit(events, waiting(waited.as_secs().max(1)));
                    announced = true;
                } else if announced {
                    emit(events, waiting(0));
                    announced = false;
                }
            }
        }
    };
    if announced {
        emit(events, waiting(0));
    }
    result
}

/// One calendar of a JSON remote (Google, Graph): its pending edits pushed first, then `pull`,
/// timed and recorded. A write that fails for now stays queued and does not stop the pull (the
/// person keeps seeing others' changes while their own edit waits); a server asking to wait, or
/// a sign-in that is gone, ends the calendar's run there.
pub(crate) async fn push_then_pull<R: super::remote::Remote + Sync>(
    store: &mut Store,
    remote: &R,
    http: &super::http::Http,
    state: &crate::store::CalendarSync,
    strategy: &str,
    events: Option<&UnboundedSender<SyncEvent>>,
    pull: impl AsyncFnOnce(&mut Store, &mut CalendarReport) -> Result<(), SyncError>,
) -> CalendarReport {
    let clock = Stopwatch::start(http.counters.snapshot());
    let mut report = CalendarReport {
        calendar: state.name.clone(),
        calendar_id: state.id,
        strategy: strategy.to_string(),
        ..CalendarReport::default()
    };
    if let Some(e) = super::push::push_into(
        store,
        remote,
        state.id,
        &state.remote_id,
        &mut report,
        events,
    )
    .await
        && (e.retry_at().is_some() || matches!(e, SyncError::SignIn(_)))
    {
        return report;
    }
    let outcome = pull(store, &mut report).await;
    clock.end_calendar(store, report, outcome, http.counters.snapshot(), events)
}

/// A run's clock and request counters, read when it starts and again when it ends.
pub(crate) struct Stopwatch {
    started: Instant,
    started_at: i64,
    before: (u64, u64),
}

impl Stopwatch {
    /// Starts timing, with the client's (requests, bytes) counters now.
    pub(crate) fn start(counters: (u64, u64)) -> Stopwatch {
        Stopwatch {
            started: Instant::now(),
            started_at: now(),
            before: counters,
        }
    }

    /// When the run started (unix seconds).
    pub(crate) fn started_at(&self) -> i64 {
        self.started_at
    }

    fn measure(&self, counters: (u64, u64)) -> (u64, u64, u64) {
        (
            counters.0 - self.before.0,
            counters.1 - self.before.1,
            self.started.elapsed().as_millis() as u64,
        )
    }

    /// Ends an account's run: its requests, bytes and time, and the error that ended it (said
    /// to the view), with what it means for the next run (a rest, new credentials, a sign-in).
    pub(crate) fn end_account(
        self,
        report: &mut AccountReport,
        outcome: Result<(), SyncError>,
        counters: (u64, u64),
        events: Option<&UnboundedSender<SyncEvent>>,
    ) {
        if let Err(e) = outcome {
            report.retry_at = report.retry_at.or(e.retry_at());
            report.unauthorized = matches!(
                e,
                SyncError::Dav(super::caldav::DavError::Http(
                    super::http::HttpError::Unauthorized
                ))
            );
            report.needs_sign_in = matches!(e, SyncError::SignIn(_));
            let message = e.to_string();
            emit(
                events,
                SyncEvent::Failed {
                    account: report.account.clone(),
                    calendar: None,
                    message: message.clone(),
                },
            );
            report.error = Some(message);
        }
        (report.requests, report.bytes, report.duration_ms) = self.measure(counters);
    }

    /// Ends a calendar's run: its requests, bytes and time, the error that ended the pull (after
    /// any error of its push), then its record and the event that tells the view.
    pub(crate) fn end_calendar(
        self,
        store: &mut Store,
        mut report: CalendarReport,
        outcome: Result<(), SyncError>,
        counters: (u64, u64),
        events: Option<&UnboundedSender<SyncEvent>>,
    ) -> CalendarReport {
        (report.requests, report.bytes, report.duration_ms) = self.measure(counters);
        if let Err(e) = outcome {
            report.retry_at = report.retry_at.or(e.retry_at());
            let message = e.to_string();
            report.error = Some(match report.error.take() {
                Some(push) => format!("{push}; {message}"),
                None => message.clone(),
            });
            emit(
                events,
                SyncEvent::Failed {
                    account: String::new(),
                    calendar: Some(report.calendar_id),
                    message,
                },
            );
        }
        let calendar = report.calendar_id;
        finish_calendar(store, calendar, self.started_at, report, events)
    }
}
