//! The seam between the engine and each kind of server. A [`Remote`] is built once per account
//! and engine lifetime (it holds credentials, tokens and the connection pool); the engine asks it
//! for an item's current copy and hands it writes, and the decisions about what the answers mean
//! live in [`super::plan`], the same for every kind.
//!
//! Pulls differ more than writes: CalDAV chooses between collection sync, ctag + etag listings
//! and multigets inside `caldav/`; subscriptions and Google fold what they list into pages of
//! changes (the store's `ChangeSet`: upserts, removals and the cursor that covers them), each
//! applied in one transaction by [`super::engine::apply_page`].

use std::future::Future;

use super::SyncError;

/// An item's id on its remote: a CalDAV href (a path on the server), a Google event id, a
/// subscription's UID. CalDAV hrefs are ours to choose; Google ids are chosen by the client too,
/// in the alphabet Google allows; either way the remote's rule decides, never the store.
pub type ItemId = String;

pub use crate::domain::format::Format;

/// What a GET of one item found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Got {
    Item {
        etag: Option<String>,
        raw: String,
    },
    /// 404 or 410: the server no longer has it.
    Gone,
    /// 304: the copy whose etag was given is still current.
    NotModified,
    /// Any other status (403 for a private item, …): the cached copy stays.
    Refused(u16),
}

/// A write as the engine asks for it. Etags go back byte for byte as they were received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write<'a> {
    /// A new item at an id nobody holds yet (CalDAV `If-None-Match: *`; Google insert).
    Create { raw: &'a str },
    /// The item's new text, if the server still holds `etag` (unconditioned without one).
    /// `base` is the server's text the change was made on (a remote that writes an item as
    /// several requests sends only what changed).
    Update {
        raw: &'a str,
        etag: Option<&'a str>,
        base: Option<&'a str>,
    },
    /// The item goes, if the server still holds `etag` (unconditioned without one).
    Delete { etag: Option<&'a str> },
}

impl Write<'_> {
    /// The write in the person's words ("update"), for messages.
    pub fn verb(&self) -> &'static str {
        match self {
            Write::Create { .. } => "create",
            Write::Update { .. } => "update",
            Write::Delete { .. } => "delete",
        }
    }
}

/// What the server did with a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Stored (or deleted). `id` when the remote placed it elsewhere than asked; the new etag
    /// when the reply carried one; the text the server now holds when the replies gave it.
    Done {
        id: Option<ItemId>,
        etag: Option<String>,
        stored: Option<String>,
    },
    /// The condition failed: the server's copy is not the one the write was based on (CalDAV
    /// 412; Google 412 `conditionNotMet`, 400 "Invalid sequence value", a 409 on our own id).
    Changed,
    /// Nothing at the id (404, 410).
    Gone,
    /// Refused for another reason, in plain words. `for_good`: no retry can change it (the
    /// request itself is unacceptable to this server), so the person decides.
    Refused { for_good: bool, reason: String },
}

/// What the engine needs from a remote to push local changes.
pub trait Remote {
    /// How this remote's items are written.
    fn format(&self) -> Format;

    /// The server's current copy of `id` in calendar `cal` (its remote id); with `if_none_match`,
    /// a server that still holds that version may answer [`Got::NotModified`].
    fn fetch(
        &self,
        cal: &str,
        id: &str,
        if_none_match: Option<&str>,
    ) -> impl Future<Output = Result<Got, SyncError>> + Send;

    /// Sends one write of item `id` in calendar `cal`.
    fn write(
        &self,
        cal: &str,
        id: &str,
        write: Write<'_>,
    ) -> impl Future<Output = Result<WriteOutcome, SyncError>> + Send;
}
