//! Pushing local edits: each pending change goes to the server with the etag it was based on, in the
//! order it was made. A refused condition (or a vanished item) becomes a conflict that keeps both
//! versions; a network failure stops the round and leaves the rest queued, in order, for the next
//! one. This module only does the I/O: what each answer means is decided in [`super::plan`].

use serde::Serialize;

use tokio::sync::mpsc::UnboundedSender;

use super::caldav::DavError;
use super::http::HttpError;
use super::plan::{self, AfterRefusal, AfterWrite, ServerCopy};
use super::remote::{Format, Got, Remote, Write, WriteOutcome};
use super::round::{CalendarReport, emit, now};
use super::{SyncError, SyncEvent};
use crate::store::{PendingChange, PendingOp, Store};

/// What one push round did for a calendar.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PushReport {
    pub pushed: usize,
    pub conflicts: usize,
    /// Changes the server refused for a reason other than a conflict, in plain words.
    pub refused: Vec<String>,
}

impl PushReport {
    pub fn is_empty(&self) -> bool {
        self.pushed == 0 && self.conflicts == 0 && self.refused.is_empty()
    }
}

/// Pushes a calendar's pending changes, oldest first, to `cal` (the calendar's remote id).
/// Returns at the first transport failure (the server is unreachable: later changes must not
/// overtake earlier ones).
pub async fn push_calendar<R: Remote + Sync>(
    store: &mut Store,
    remote: &R,
    calendar: i64,
    cal: &str,
) -> Result<PushReport, SyncError> {
    let mut push = Push {
        store,
        remote,
        cal,
        report: PushReport::default(),
    };
    for change in push.store.pending_changes(calendar)? {
        match push.one(&change).await {
            Ok(()) => {}
            // This change cannot be sent as it stands (the server gave an etag no header can
            // hold): it is held back as a conflict, and the rest of the queue goes on.
            Err(SyncError::Dav(DavError::Http(HttpError::BadHeader(header)))) => {
                let reason = format!(
                    "the server gave this event an etag that cannot be sent back in {header} \
                     (it holds control characters), so it cannot be changed safely"
                );
                let id = push.hold_as_conflict(&change, &reason).await?;
                tracing::warn!(conflict = id, href = change.href, "unsendable etag");
                push.report.conflicts += 1;
            }
            Err(SyncError::Dav(DavError::Http(e))) => {
                push.store.push_failed(change.id, &e.to_string())?;
                return Err(SyncError::Dav(DavError::Http(e)));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(push.report)
}

/// Pushes a calendar's pending changes and writes what happened into its `report` (telling the
/// view when something went). Returns the error that stopped the push, if one did: the caller
/// decides whether the pull still runs.
pub async fn push_into<R: Remote + Sync>(
    store: &mut Store,
    remote: &R,
    calendar: i64,
    cal: &str,
    report: &mut CalendarReport,
    events: Option<&UnboundedSender<SyncEvent>>,
) -> Option<SyncError> {
    match push_calendar(store, remote, calendar, cal).await {
        Ok(pushed) => {
            report.pushed = pushed.pushed;
            report.conflicts = pushed.conflicts;
            if !pushed.is_empty() {
                emit(
                    events,
                    SyncEvent::Pushed {
                        calendar,
                        pushed: pushed.pushed,
                        conflicts: pushed.conflicts,
                    },
                );
            }
            report.push_refused = pushed.refused;
            None
        }
        Err(e) => {
            report.retry_at = e.retry_at();
            report.error = Some(format!("pushing local changes: {e}"));
            Some(e)
        }
    }
}

/// One calendar's push in progress.
struct Push<'a, R> {
    store: &'a mut Store,
    remote: &'a R,
    cal: &'a str,
    report: PushReport,
}

impl<R: Remote + Sync> Push<'_, R> {
    async fn one(&mut self, change: &PendingChange) -> Result<(), SyncError> {
        let write = match (change.op, change.raw.as_deref()) {
            (PendingOp::Delete, _) => Write::Delete {
                etag: change.base_etag.as_deref(),
            },
            (PendingOp::Create, Some(raw)) => Write::Create { raw },
            (PendingOp::Update, Some(raw)) => Write::Update {
                raw,
                etag: change.base_etag.as_deref(),
                base: change.base_raw.as_deref(),
            },
            (PendingOp::Create | PendingOp::Update, None) => {
                self.store
                    .push_failed(change.id, "the local version is missing")?;
                return Ok(());
            }
        };
        if let Write::Create { raw } | Write::Update { raw, .. } = write {
            self.store.note_sent(change.id, raw)?;
        }
        let outcome = self.remote.write(self.cal, &change.href, write).await?;
        self.after_write(change, outcome, true).await
    }

    /// Carries out what `outcome` means; `conditioned` is false for the unconditioned retry
    /// after a refusal on the very version the change is based on.
    async fn after_write(
        &mut self,
        change: &PendingChange,
        outcome: WriteOutcome,
        conditioned: bool,
    ) -> Result<(), SyncError> {
        let next = plan::after_write(change.op, outcome.clone());
        if !conditioned && !matches!(next, AfterWrite::Settle { .. } | AfterWrite::Done) {
            let message = format!(
                "the server refuses this {} even on the version it holds ({outcome:?})",
                change.op.as_str()
            );
            self.store.push_failed(change.id, &message)?;
            self.report
                .refused
                .push(format!("{}: {message}", change.href));
            return Ok(());
        }
        match next {
            AfterWrite::Settle { id, etag, stored } => {
                self.settle(change, id, etag, stored).await?
            }
            AfterWrite::Done => self.store.pushed(change, None, None, now())?,
            AfterWrite::FetchCopy => {
                let copy = self.server_copy(change).await?;
                return self.after_refusal(change, copy).await;
            }
            AfterWrite::Retry { reason } => {
                tracing::warn!(href = change.href, reason, "push refused");
                self.store.push_failed(change.id, &reason)?;
                self.report
                    .refused
                    .push(format!("{}: {reason}", change.href));
                return Ok(());
            }
            AfterWrite::Hold { reason } => {
                // Trying again will not help: the person decides, with both versions in front
                // of them (keep theirs drops the change; keep both may get a new event accepted).
                let id = self.hold_as_conflict(change, &reason).await?;
                tracing::info!(
                    conflict = id,
                    href = change.href,
                    "refused for good: held as a conflict"
                );
                self.report.conflicts += 1;
                return Ok(());
            }
        }
        self.report.pushed += 1;
        Ok(())
    }

    /// Carries out the decision on a refused write once the server's copy is known.
    async fn after_refusal(
        &mut self,
        change: &PendingChange,
        copy: ServerCopy,
    ) -> Result<(), SyncError> {
        let format = self.remote.format();
        match plan::after_refusal(change, copy, format) {
            AfterRefusal::WriteUnconditioned => {
                tracing::warn!(
                    href = change.href,
                    "refused on an unchanged copy; writing without a condition"
                );
                let write = match change.raw.as_deref() {
                    Some(raw) if change.op != PendingOp::Delete => Write::Update {
                        raw,
                        etag: None,
                        base: change.base_raw.as_deref(),
                    },
                    _ => Write::Delete { etag: None },
                };
                let outcome = self.remote.write(self.cal, &change.href, write).await?;
                Box::pin(self.after_write(change, outcome, false)).await?;
            }
            AfterRefusal::AlreadyGone => self.store.pushed(change, None, None, now())?,
            AfterRefusal::Adopt { etag, raw } => {
                self.store
                    .pushed(change, etag.as_deref(), Some(&raw), now())?;
                self.report.pushed += 1;
            }
            AfterRefusal::Rebase { etag, raw } => {
                self.store.rebase(change, etag.as_deref(), &raw, now())?;
            }
            AfterRefusal::Conflict { etag, raw } => {
                let id = self.store.record_conflict(
                    change.id,
                    etag.as_deref(),
                    raw.as_deref(),
                    None,
                    now(),
                )?;
                tracing::info!(conflict = id, href = change.href, "conflict recorded");
                self.report.conflicts += 1;
            }
            AfterRefusal::MoveToFreshId => match self.remote.format() {
                Format::ICalendar => {
                    let name = format!("{}.ics", crate::domain::edit::new_uid());
                    self.store.move_pending(change.id, &name)?;
                    self.store
                        .push_failed(change.id, "the href was taken by another event; moved")?;
                }
                // Google ids are ours and random: another event at ours is not ours to move
                // around (its id is inside the text), so the person decides.
                // Graph names events itself: another event there is not ours either.
                Format::GoogleJson | Format::GraphJson => {
                    let (etag, raw) = (change.cached_etag.as_deref(), change.cached_raw.as_deref());
                    let id = self.store.record_conflict(
                        change.id,
                        etag,
                        raw,
                        Some("another event holds this event's id on the server"),
                        now(),
                    )?;
                    tracing::info!(conflict = id, href = change.href, "id taken");
                    self.report.conflicts += 1;
                }
            },
            AfterRefusal::Retry { reason } => self.store.push_failed(change.id, &reason)?,
        }
        Ok(())
    }

    /// A write went through: the cache takes the server's new state. Without an etag in the
    /// reply the server may have changed the data on store, so its copy is fetched.
    async fn settle(
        &mut self,
        change: &PendingChange,
        id: Option<String>,
        etag: Option<String>,
        stored: Option<String>,
    ) -> Result<(), SyncError> {
        if let Some(id) = id.filter(|id| *id != change.href) {
            self.store.move_pending(change.id, &id)?;
        }
        if let Some(stored) = stored.filter(|_| change.op != PendingOp::Delete) {
            self.store
                .pushed(change, etag.as_deref(), Some(&stored), now())?;
            return Ok(());
        }
        if change.op == PendingOp::Delete || etag.is_some() {
            self.store.pushed(change, etag.as_deref(), None, now())?;
            return Ok(());
        }
        match self.remote.fetch(self.cal, &change.href, None).await? {
            Got::Item { etag, raw } => {
                self.store
                    .pushed(change, etag.as_deref(), Some(&raw), now())?
            }
            // Stored but not readable now: the next sync brings the etag.
            _ => self.store.pushed(change, None, None, now())?,
        }
        Ok(())
    }

    /// Holds a change the server will not take as it stands as a conflict with `reason`, beside
    /// the server's copy. Returns the conflict's id.
    async fn hold_as_conflict(
        &mut self,
        change: &PendingChange,
        reason: &str,
    ) -> Result<i64, SyncError> {
        let (etag, raw) = match self.server_copy(change).await? {
            ServerCopy::Item { etag, raw } => (etag, Some(raw)),
            ServerCopy::Gone => (None, None),
        };
        Ok(self.store.record_conflict(
            change.id,
            etag.as_deref(),
            raw.as_deref(),
            Some(reason),
            now(),
        )?)
    }

    /// Fetches what the server holds after a refused write: conditionally, so a copy the cache
    /// already holds costs a 304.
    async fn server_copy(&mut self, change: &PendingChange) -> Result<ServerCopy, SyncError> {
        let known = change
            .cached_etag
            .as_deref()
            .filter(|e| change.op != PendingOp::Create && sendable(e));
        Ok(
            match self.remote.fetch(self.cal, &change.href, known).await? {
                Got::Item { etag, raw } => ServerCopy::Item {
                    etag,
                    raw: plan::server_copy(self.remote.format(), raw, change.cached_raw.as_deref()),
                },
                Got::NotModified => ServerCopy::Item {
                    etag: change.cached_etag.clone(),
                    raw: change.cached_raw.clone().unwrap_or_default(),
                },
                Got::Gone => ServerCopy::Gone,
                Got::Refused(status) => {
                    return Err(SyncError::Protocol(format!(
                        "the server refused to show its copy of {} ({status})",
                        change.href
                    )));
                }
            },
        )
    }
}

/// Whether an etag can go back in a header (no CR, LF, NUL or other controls).
fn sendable(etag: &str) -> bool {
    reqwest::header::HeaderValue::from_str(etag).is_ok()
}
