//! The engine's decisions as pure functions: what a write's outcome, and the server's copy met
//! after a refusal, mean for a pending change; and how a full listing reconciles with the cache.
//! Every match is exhaustive, so a new outcome or operation is named by the compiler. The
//! executors (`push.rs`, the pulls) only do the I/O these decisions ask for.

pub mod own_write;

use std::collections::{HashMap, HashSet};

use super::remote::{Format, ItemId, WriteOutcome};
use crate::store::{PendingChange, PendingOp};

/// The server's copy of an item after a refused write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerCopy {
    Item { etag: Option<String>, raw: String },
    Gone,
}

/// What to do after a write's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterWrite {
    /// The server took it: the cache takes its state (fetching the copy first when the reply
    /// carried no etag: the server may have changed the data on store).
    Settle {
        id: Option<ItemId>,
        etag: Option<String>,
        stored: Option<String>,
    },
    /// Deleting what is already gone is done.
    Done,
    /// The server's copy decides: fetch it, then [`after_refusal`].
    FetchCopy,
    /// Refused for now: the change stays queued with the reason.
    Retry { reason: String },
    /// Refused for good: held as a conflict beside the server's copy, so the person decides
    /// (keep theirs drops it; keep both may get it accepted as a new event).
    Hold { reason: String },
}

/// What a write's outcome means for the change that was sent.
pub fn after_write(op: PendingOp, outcome: WriteOutcome) -> AfterWrite {
    match (outcome, op) {
        (WriteOutcome::Done { id, etag, stored }, _) => AfterWrite::Settle { id, etag, stored },
        (WriteOutcome::Gone, PendingOp::Delete) => AfterWrite::Done,
        (WriteOutcome::Gone, PendingOp::Create | PendingOp::Update) => AfterWrite::FetchCopy,
        (WriteOutcome::Changed, _) => AfterWrite::FetchCopy,
        (
            WriteOutcome::Refused {
                for_good: false,
                reason,
            },
            _,
        ) => AfterWrite::Retry { reason },
        (
            WriteOutcome::Refused {
                for_good: true,
                reason,
            },
            _,
        ) => AfterWrite::Hold { reason },
    }
}

/// What to do once the server's copy is known after a refused write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterRefusal {
    /// The server holds the very version the change is based on, yet refused the condition (a
    /// weak etag under strong comparison, a server that answers 412 for other reasons): checked
    /// just now, so the write goes again without a condition.
    WriteUnconditioned,
    /// The copy is this change (our own write whose reply was lost): the cache takes it.
    Adopt { etag: Option<String>, raw: String },
    /// A delete met nothing: done.
    AlreadyGone,
    /// The copy is an earlier write of ours, with an edit folded in since: the change stays,
    /// based on that copy, and goes next round as an update of it.
    Rebase { etag: Option<String>, raw: String },
    /// Both versions go to the conflict pane.
    Conflict {
        etag: Option<String>,
        raw: Option<String>,
    },
    /// A create whose id another item took: it moves to a fresh id and goes next round.
    MoveToFreshId,
    /// Try again next round, with this note.
    Retry { reason: String },
}

/// Decides after a refused write, from the change and the server's copy. `format` says how the
/// copies are written, for recognising our own write by content.
pub fn after_refusal(change: &PendingChange, copy: ServerCopy, format: Format) -> AfterRefusal {
    if holds_base(change, &copy) {
        return AfterRefusal::WriteUnconditioned;
    }
    // [obs] Google moves an etag without a visible edit (an attendee's reply): nothing the
    // person sees changed, so the change goes again on the server's copy, silently.
    if let (ServerCopy::Item { etag, raw }, Some(base), PendingOp::Update | PendingOp::Delete) =
        (&copy, change.base_raw.as_deref(), change.op)
        && own_write::same_for_the_person(format, base, raw)
    {
        return AfterRefusal::Rebase {
            etag: etag.clone(),
            raw: raw.clone(),
        };
    }
    // An earlier write of ours whose answer never came, with an edit folded in since: the server
    // holds that write. (Judged against the text sent, never the current one: an edit that only
    // removed something would look held.)
    if let (ServerCopy::Item { etag, raw }, Some(sent), Some(mine)) =
        (&copy, change.sent_raw.as_deref(), change.raw.as_deref())
        && sent != mine
        && change.op != PendingOp::Delete
        && own_write::holds(format, sent, change.base_raw.as_deref(), raw)
    {
        return AfterRefusal::Rebase {
            etag: etag.clone(),
            raw: raw.clone(),
        };
    }
    let ours = |raw: &str| {
        change
            .raw
            .as_deref()
            .is_some_and(|mine| own_write::holds(format, mine, change.base_raw.as_deref(), raw))
    };
    match (change.op, copy) {
        (PendingOp::Delete, ServerCopy::Gone) => AfterRefusal::AlreadyGone,
        // Taken and freed again meanwhile: try once more next round.
        (PendingOp::Create, ServerCopy::Gone) => AfterRefusal::Retry {
            reason: "the href was busy; retrying".into(),
        },
        (PendingOp::Create, ServerCopy::Item { etag, raw }) => {
            if ours(&raw) {
                AfterRefusal::Adopt { etag, raw }
            } else if own_write::uid_of(format, &raw).as_deref() == Some(change.uid.as_str()) {
                // The same event, but not a write of ours (that was judged above): another
                // client's copy (a move, an import elsewhere). Both versions go to the pane.
                AfterRefusal::Conflict {
                    etag,
                    raw: Some(raw),
                }
            } else {
                AfterRefusal::MoveToFreshId
            }
        }
        (PendingOp::Update, ServerCopy::Item { etag, raw }) if ours(&raw) => {
            AfterRefusal::Adopt { etag, raw }
        }
        (PendingOp::Update | PendingOp::Delete, ServerCopy::Item { etag, raw }) => {
            AfterRefusal::Conflict {
                etag,
                raw: Some(raw),
            }
        }
        // Deleted on the server while edited here.
        (PendingOp::Update, ServerCopy::Gone) => AfterRefusal::Conflict {
            etag: None,
            raw: None,
        },
    }
}

/// The server's copy as fetched, made whole: a Google fetch brings one event, and a series'
/// other events (listed apart) come from the copy the cache holds; a Graph copy keeps the cached
/// exceptions and cancelled occurrences it did not bring.
pub fn server_copy(format: Format, fetched: String, cached: Option<&str>) -> String {
    match format {
        Format::ICalendar => fetched,
        Format::GoogleJson => super::google::groups::merge_copy(&fetched, cached),
        Format::GraphJson => crate::domain::graph::merge_copy(&fetched, cached),
    }
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

/// A full listing against the cache: the ids to fetch (new, or with another etag, or with no
/// etag to compare) and the ids the server no longer lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciled {
    pub fetch: Vec<ItemId>,
    pub remove: Vec<ItemId>,
}

/// Reconciles a full listing (id, etag) with the cache's (id → etag). Pending local changes are
/// not the listing's business: the store keeps them whatever the pull removes.
pub fn reconcile(
    listed: &[(ItemId, Option<String>)],
    cache: &HashMap<ItemId, Option<String>>,
) -> Reconciled {
    let fetch = listed
        .iter()
        .filter(|(id, etag)| etag.is_none() || cache.get(id) != Some(etag))
        .map(|(id, _)| id.clone())
        .collect();
    let live: HashSet<&ItemId> = listed.iter().map(|(id, _)| id).collect();
    let mut remove: Vec<ItemId> = cache
        .keys()
        .filter(|id| !live.contains(id))
        .cloned()
        .collect();
    remove.sort();
    Reconciled { fetch, remove }
}

#[cfg(test)]
mod tests;
