//! Pushing local edits: each pending change goes to the server with the etag it was based on, in the
//! order it was made. A 412 (or a vanished resource) becomes a conflict that keeps both versions; a
//! network failure stops the round and leaves the rest queued, in order, for the next one.

use reqwest::Url;
use serde::Serialize;

use super::SyncError;
use super::caldav::{CalDav, DavError, Got, Precondition, Written};
use super::http::HttpError;
use super::own_write::holds_our_change;
use crate::domain::ical;
use crate::store::{PendingChange, PendingOp, Store};

/// Refusals that no retry can change (the request itself is unacceptable to this server).
const REFUSED_FOR_GOOD: &[u16] = &[400, 403, 405, 409, 413, 415, 422];

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

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The server copy a refused write found.
enum ServerCopy {
    Item { etag: Option<String>, raw: String },
    Gone,
}

/// Pushes a calendar's pending changes, oldest first. Returns at the first transport failure (the
/// server is unreachable: later changes must not overtake earlier ones).
pub async fn push_calendar(
    store: &mut Store,
    dav: &CalDav,
    calendar: i64,
    collection: &Url,
) -> Result<PushReport, SyncError> {
    let mut report = PushReport::default();
    for change in store.pending_changes(calendar)? {
        // The href is a path on the calendar's origin (never `join`: `//host/…` would leave it).
        let mut url = collection.clone();
        url.set_path(&change.href);
        match push_one(store, dav, &change, &url, &mut report).await {
            Ok(()) => {}
            // This change cannot be sent as it stands (the server gave an etag no header can
            // hold): it is held back as a conflict, and the rest of the queue goes on.
            Err(SyncError::Dav(DavError::Http(HttpError::BadHeader(header)))) => {
                let reason = format!(
                    "the server gave this event an etag that cannot be sent back in {header} \
                     (it holds control characters), so it cannot be changed safely"
                );
                let id = hold_as_conflict(store, dav, &change, &url, &reason).await?;
                tracing::warn!(conflict = id, href = change.href, "unsendable etag");
                report.conflicts += 1;
            }
            Err(SyncError::Dav(DavError::Http(e))) => {
                store.push_failed(change.id, &e.to_string())?;
                return Err(SyncError::Dav(DavError::Http(e)));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}

async fn push_one(
    store: &mut Store,
    dav: &CalDav,
    change: &PendingChange,
    url: &Url,
    report: &mut PushReport,
) -> Result<(), SyncError> {
    let written = match (change.op, change.raw.as_deref()) {
        (PendingOp::Delete, _) => dav.delete(url, change.base_etag.as_deref()).await?,
        (op, Some(raw)) => {
            let pre = match (op, change.base_etag.as_deref()) {
                (PendingOp::Create, _) => Precondition::Create,
                (_, Some(etag)) => Precondition::Match(etag),
                (_, None) => Precondition::None,
            };
            store.note_sent(change.id, raw)?;
            dav.put(url, raw, pre).await?
        }
        (_, None) => {
            store.push_failed(change.id, "the local version is missing")?;
            return Ok(());
        }
    };
    match written {
        Written::Done { etag } => settle(store, dav, change, url, etag).await?,
        // Deleting what is already gone is done.
        Written::Gone if change.op == PendingOp::Delete => {
            store.pushed(change, None, None, now())?;
        }
        Written::Gone => {
            let copy = server_copy(dav, change, url).await?;
            refused(store, change, copy, report)?;
            return Ok(());
        }
        Written::PreconditionFailed => {
            let copy = server_copy(dav, change, url).await?;
            if holds_base(change, &copy) {
                // The server holds the very version this change is based on, yet refused the
                // condition: a weak etag under RFC 9110's strong comparison, or a server that
                // answers 412 for other reasons. Checked just now, so the write goes unconditioned.
                tracing::warn!(
                    href = change.href,
                    "412 on an unchanged copy; writing without If-Match"
                );
                let again = match change.raw.as_deref() {
                    Some(raw) if change.op != PendingOp::Delete => {
                        dav.put(url, raw, Precondition::None).await?
                    }
                    _ => dav.delete(url, None).await?,
                };
                match again {
                    Written::Done { etag } => settle(store, dav, change, url, etag).await?,
                    Written::Gone if change.op == PendingOp::Delete => {
                        store.pushed(change, None, None, now())?;
                    }
                    other => {
                        let message = format!(
                            "the server refuses this {} even on the version it holds ({other:?})",
                            change.op.as_str()
                        );
                        store.push_failed(change.id, &message)?;
                        report.refused.push(format!("{}: {message}", change.href));
                        return Ok(());
                    }
                }
                report.pushed += 1;
                return Ok(());
            }
            refused(store, change, copy, report)?;
            return Ok(());
        }
        Written::Refused { status, reason } => {
            let message = if reason.is_empty() {
                format!("the server refused the {} ({status})", change.op.as_str())
            } else {
                format!(
                    "the server refused the {} ({status}): {reason}",
                    change.op.as_str()
                )
            };
            tracing::warn!(href = change.href, status, "push refused");
            if !REFUSED_FOR_GOOD.contains(&status) {
                store.push_failed(change.id, &message)?;
                report.refused.push(format!("{}: {message}", change.href));
                return Ok(());
            }
            // Trying again will not help: the person decides, with both versions in front of
            // them (keep theirs drops the change; keep both may get a new event accepted).
            let id = hold_as_conflict(store, dav, change, url, &message).await?;
            tracing::info!(
                conflict = id,
                href = change.href,
                "refused for good: held as a conflict"
            );
            report.conflicts += 1;
            return Ok(());
        }
    }
    report.pushed += 1;
    Ok(())
}

/// A write went through: the cache takes the server's new state. Without an ETag in the reply the
/// server may have changed the data on store, so its copy is fetched.
async fn settle(
    store: &mut Store,
    dav: &CalDav,
    change: &PendingChange,
    url: &Url,
    etag: Option<String>,
) -> Result<(), SyncError> {
    if change.op == PendingOp::Delete || etag.is_some() {
        store.pushed(change, etag.as_deref(), None, now())?;
        return Ok(());
    }
    match dav.get(url).await? {
        Got::Item { etag, raw } => store.pushed(change, etag.as_deref(), Some(&raw), now())?,
        // Stored but not readable now: the next sync brings the etag.
        _ => store.pushed(change, None, None, now())?,
    }
    Ok(())
}

/// Holds a change the server will not take as it stands as a conflict with `reason`, beside the
/// server's copy, so the person decides (keep theirs drops it; keep both may get it accepted as a
/// new event). Returns the conflict's id.
async fn hold_as_conflict(
    store: &mut Store,
    dav: &CalDav,
    change: &PendingChange,
    url: &Url,
    reason: &str,
) -> Result<i64, SyncError> {
    let (etag, raw) = match server_copy(dav, change, url).await? {
        ServerCopy::Item { etag, raw } => (etag, Some(raw)),
        ServerCopy::Gone => (None, None),
    };
    Ok(store.record_conflict(
        change.id,
        etag.as_deref(),
        raw.as_deref(),
        Some(reason),
        now(),
    )?)
}

/// Fetches what the server holds after a refused write: conditionally, so a copy the cache already
/// holds costs a 304.
async fn server_copy(
    dav: &CalDav,
    change: &PendingChange,
    url: &Url,
) -> Result<ServerCopy, SyncError> {
    let known = change
        .cached_etag
        .as_deref()
        .filter(|e| change.op != PendingOp::Create && sendable(e));
    Ok(match dav.get_unless(url, known).await? {
        Got::Item { etag, raw } => ServerCopy::Item { etag, raw },
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
    })
}

/// A write was refused because the server's copy is not the base. If that copy is our own earlier
/// write (a reply lost to a crash or a cut), it is adopted; a create whose href another resource
/// took moves to a fresh href; anything else is a conflict that keeps both versions.
fn refused(
    store: &mut Store,
    change: &PendingChange,
    copy: ServerCopy,
    report: &mut PushReport,
) -> Result<(), SyncError> {
    // An earlier write of ours whose answer never came, with an edit folded in since: the server
    // holds that write, so the edit goes next round as an update of it. (Judged against the text
    // sent, never the current one: an edit that only removed something would look held.)
    if let (ServerCopy::Item { etag, raw }, Some(sent), Some(mine)) =
        (&copy, change.sent_raw.as_deref(), change.raw.as_deref())
        && sent != mine
        && change.op != PendingOp::Delete
        && holds_our_change(sent, change.base_raw.as_deref(), raw)
    {
        store.rebase(change, etag.as_deref(), raw, now())?;
        return Ok(());
    }
    match (change.op, copy) {
        (PendingOp::Delete, ServerCopy::Gone) => store.pushed(change, None, None, now())?,
        (PendingOp::Create, ServerCopy::Gone) => {
            // Taken and freed again meanwhile: try once more next round.
            store.push_failed(change.id, "the href was busy; retrying")?;
        }
        (PendingOp::Create, ServerCopy::Item { etag, raw }) => {
            let mine = change.raw.as_deref().unwrap_or_default();
            if same_write(change, mine, &raw) {
                store.pushed(change, etag.as_deref(), Some(&raw), now())?;
                report.pushed += 1;
            } else if uid_of(&raw).as_deref() == Some(change.uid.as_str()) {
                // The same event, but not a write of ours (that was judged above): another
                // client's copy (a move, an import elsewhere). Both versions go to the pane.
                let id =
                    store.record_conflict(change.id, etag.as_deref(), Some(&raw), None, now())?;
                tracing::info!(conflict = id, href = change.href, "same UID at our href");
                report.conflicts += 1;
            } else {
                let name = format!("{}.ics", crate::domain::edit::new_uid());
                store.move_pending(change.id, &name)?;
                store.push_failed(change.id, "the href was taken by another event; moved")?;
            }
        }
        (PendingOp::Update, ServerCopy::Item { etag, raw })
            if change
                .raw
                .as_deref()
                .is_some_and(|mine| same_write(change, mine, &raw)) =>
        {
            store.pushed(change, etag.as_deref(), Some(&raw), now())?;
            report.pushed += 1;
        }
        (_, ServerCopy::Item { etag, raw }) => {
            let id = store.record_conflict(change.id, etag.as_deref(), Some(&raw), None, now())?;
            tracing::info!(conflict = id, href = change.href, "conflict recorded");
            report.conflicts += 1;
        }
        (_, ServerCopy::Gone) => {
            let id = store.record_conflict(change.id, None, None, None, now())?;
            tracing::info!(
                conflict = id,
                href = change.href,
                "conflict: deleted on the server"
            );
            report.conflicts += 1;
        }
    }
    Ok(())
}

fn uid_of(raw: &str) -> Option<String> {
    let doc = ical::parse(raw);
    doc.components
        .iter()
        .filter(|c| c.name == "VCALENDAR")
        .flat_map(|c| c.children.iter().filter(|e| e.name == "VEVENT"))
        .find_map(|ev| ev.property("UID").map(|p| p.value.trim().to_string()))
}

/// Whether the server's copy already holds this change (our own write whose reply was lost):
/// judged by content, never by stamps another client repeats in the same second.
fn same_write(change: &PendingChange, mine: &str, theirs: &str) -> bool {
    holds_our_change(mine, change.base_raw.as_deref(), theirs)
}

/// Whether an etag can go back in a header (no CR, LF, NUL or other controls).
fn sendable(etag: &str) -> bool {
    reqwest::header::HeaderValue::from_str(etag).is_ok()
}

/// Whether the server's copy is the version the change is based on.
fn holds_base(change: &PendingChange, copy: &ServerCopy) -> bool {
    match (copy, &change.base_etag) {
        (
            ServerCopy::Item {
                etag: Some(etag), ..
            },
            Some(base),
        ) => etag == base,
        _ => false,
    }
}
