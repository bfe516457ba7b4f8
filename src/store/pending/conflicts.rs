//! Conflicts: a push the server refused, held with both versions until the person chooses.

use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use super::super::{Store, StoreError};
use super::{PendingOp, derive_events, resource_name, sibling_href, uid_of};
use crate::domain::edit::with_uid;
use crate::domain::format::Format;

/// Which side of a conflict to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Keep {
    /// Re-push the local version over the server's new one.
    Local,
    /// Drop the local change.
    Remote,
    /// The server's version stays, and the local one becomes a new event.
    Both,
}

impl Keep {
    pub fn as_str(self) -> &'static str {
        match self {
            Keep::Local => "local",
            Keep::Remote => "remote",
            Keep::Both => "both",
        }
    }

    /// The side kept, in a person's words: "mine", "theirs", "both".
    pub fn words(self) -> &'static str {
        match self {
            Keep::Local => "mine",
            Keep::Remote => "theirs",
            Keep::Both => "both",
        }
    }
}

/// A push the server refused because its copy changed (or went) since the edit's base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    pub id: i64,
    pub calendar_id: i64,
    pub calendar: String,
    pub href: String,
    pub uid: Option<String>,
    /// What the local change did.
    pub op: PendingOp,
    pub found_at: i64,
    pub base_etag: Option<String>,
    pub base_raw: Option<String>,
    /// `None`: the local change deletes the event.
    pub local_raw: Option<String>,
    pub remote_etag: Option<String>,
    /// `None`: the server deleted the event.
    pub remote_raw: Option<String>,
    /// Set when the server refused the change for good rather than for a changed copy.
    pub reason: Option<String>,
}

/// What resolving a conflict left to push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub calendar: i64,
    /// True when a push now waits (keep local, keep both).
    pub push: bool,
}

impl Store {
    /// The server refused a push because its copy changed or went. Both versions are kept: the
    /// conflict holds the local one, the item takes the server's, and the pending change waits for
    /// the person's choice (the view keeps showing the local version meanwhile).
    pub fn record_conflict(
        &mut self,
        pending: i64,
        remote_etag: Option<&str>,
        remote_raw: Option<&str>,
        reason: Option<&str>,
        now: i64,
    ) -> Result<i64, StoreError> {
        let tx = self.write()?;
        let p = tx.query_row(
            "SELECT calendar_id, item_id, href, uid, op, base_etag, base_raw, raw FROM pending WHERE id = ?1",
            [pending],
            |r| {
                Ok(HeldChange {
                    calendar: r.get(0)?,
                    item: r.get(1)?,
                    href: r.get(2)?,
                    uid: r.get(3)?,
                    op: r.get(4)?,
                    base_etag: r.get(5)?,
                    base_raw: r.get(6)?,
                    raw: r.get(7)?,
                })
            },
        )?;
        let HeldChange {
            calendar,
            item,
            href,
            uid,
            op,
            base_etag,
            base_raw,
            raw,
        } = p;
        tx.execute(
            "INSERT INTO conflicts (calendar_id, item_id, href, uid, op, base_etag, base_raw, local_raw,
                                    remote_etag, remote_raw, found_at, reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                calendar,
                item,
                href,
                uid,
                op,
                base_etag,
                base_raw,
                raw,
                remote_etag,
                remote_raw,
                now,
                reason
            ],
        )?;
        let conflict = tx.last_insert_rowid();
        tx.execute(
            "UPDATE pending SET conflict_id = ?2, last_error = NULL WHERE id = ?1",
            params![pending, conflict],
        )?;
        if let (Some(item), Some(text)) = (item, remote_raw) {
            tx.execute(
                "UPDATE items SET etag = ?2, raw = ?3, confirmed_at = ?4 WHERE id = ?1",
                params![item, remote_etag, text, now],
            )?;
        }
        tx.commit()?;
        Ok(conflict)
    }

    /// Open conflicts, oldest first.
    pub fn conflicts(&self) -> Result<Vec<Conflict>, StoreError> {
        open_conflicts(&self.conn)
    }

    /// Settles a conflict as the person chose, in one transaction. `fresh_uid` names the new event
    /// that "keep both" makes of the local version.
    pub fn resolve(
        &mut self,
        conflict: i64,
        keep: Keep,
        fresh_uid: &str,
        now: i64,
    ) -> Result<Resolved, StoreError> {
        let tx = self.write()?;
        let c = open_conflicts(&tx)?
            .into_iter()
            .find(|c| c.id == conflict)
            .ok_or(StoreError::NoSuchConflict(conflict))?;
        let pending: Option<(i64, Option<i64>)> = tx
            .query_row(
                "SELECT id, item_id FROM pending WHERE conflict_id = ?1",
                [conflict],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let item = pending.and_then(|(_, item)| item);
        let mut push = false;
        match keep {
            Keep::Local => match (&c.local_raw, &c.remote_raw) {
                // Both sides deleted it: nothing left to do.
                (None, None) => {
                    drop_local(&tx, pending, item)?;
                }
                (_, None) => {
                    // Deleted on the server: the local version comes back as a new resource there.
                    tx.execute(
                        "UPDATE pending SET op = 'create', base_etag = NULL, conflict_id = NULL,
                                attempts = 0, last_error = NULL WHERE conflict_id = ?1",
                        [conflict],
                    )?;
                    push = true;
                }
                (_, Some(_)) => {
                    tx.execute(
                        "UPDATE pending SET base_etag = ?2, base_raw = ?3, conflict_id = NULL,
                                op = CASE op WHEN 'create' THEN 'update' ELSE op END,
                                attempts = 0, last_error = NULL WHERE conflict_id = ?1",
                        params![conflict, c.remote_etag, c.remote_raw],
                    )?;
                    push = true;
                }
            },
            Keep::Remote | Keep::Both => {
                if let (Keep::Both, Some(local)) = (keep, &c.local_raw) {
                    let format = super::super::sync::calendar_format(&tx, c.calendar_id)?;
                    let (href, raw) = match format {
                        Format::ICalendar => (
                            sibling_href(&c.href, &resource_name(fresh_uid)),
                            with_uid(local, fresh_uid),
                        ),
                        Format::GoogleJson => crate::domain::google::as_new_event(local)
                            .unwrap_or_else(|| (fresh_uid.to_string(), local.clone())),
                        // No id until created: named by its UID, carried as transactionId.
                        Format::GraphJson => (
                            fresh_uid.to_string(),
                            crate::domain::graph::as_new_event_with_uid(local, fresh_uid)
                                .unwrap_or_else(|| local.clone()),
                        ),
                    };
                    tx.execute(
                        "INSERT INTO items (calendar_id, href, uid, raw, updated_at, format)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![c.calendar_id, href, fresh_uid, raw, now, format.as_str()],
                    )?;
                    let new_item = tx.last_insert_rowid();
                    derive_events(&tx, new_item, c.calendar_id, Some(&raw))?;
                    tx.execute(
                        "INSERT INTO pending (calendar_id, item_id, href, uid, op, raw, created_at)
                         VALUES (?1, ?2, ?3, ?4, 'create', ?5, ?6)",
                        params![c.calendar_id, new_item, href, fresh_uid, raw, now],
                    )?;
                    push = true;
                }
                drop_local(&tx, pending, None)?;
                if let Some(item) = item {
                    match &c.remote_raw {
                        Some(text) => {
                            tx.execute(
                                "UPDATE items SET etag = ?2, raw = ?3, uid = COALESCE(?4, uid),
                                        parse_error = NULL, updated_at = ?5 WHERE id = ?1",
                                params![item, c.remote_etag, text, uid_of(text), now],
                            )?;
                            derive_events(&tx, item, c.calendar_id, Some(text))?;
                        }
                        None => {
                            tx.execute("DELETE FROM items WHERE id = ?1", [item])?;
                        }
                    }
                }
            }
        }
        tx.execute(
            "UPDATE conflicts SET resolved_at = ?2, resolution = ?3 WHERE id = ?1",
            params![conflict, now, keep.as_str()],
        )?;
        tx.commit()?;
        Ok(Resolved {
            calendar: c.calendar_id,
            push,
        })
    }
}

/// A pending change as a conflict takes it over.
struct HeldChange {
    calendar: i64,
    item: Option<i64>,
    href: String,
    uid: String,
    op: String,
    base_etag: Option<String>,
    base_raw: Option<String>,
    raw: Option<String>,
}

/// Removes a pending change, and its item when given.
fn drop_local(
    tx: &Transaction<'_>,
    pending: Option<(i64, Option<i64>)>,
    item: Option<i64>,
) -> Result<(), StoreError> {
    if let Some((id, _)) = pending {
        tx.execute("DELETE FROM pending WHERE id = ?1", [id])?;
    }
    if let Some(item) = item {
        tx.execute("DELETE FROM items WHERE id = ?1", [item])?;
    }
    Ok(())
}

pub(crate) fn open_conflicts(conn: &rusqlite::Connection) -> Result<Vec<Conflict>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT f.id, f.calendar_id, c.name, f.href, f.uid, f.op, f.found_at, f.base_etag, f.base_raw,
                f.local_raw, f.remote_etag, f.remote_raw, f.reason
           FROM conflicts f JOIN calendars c ON c.id = f.calendar_id
          WHERE f.resolved_at IS NULL ORDER BY f.id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Conflict {
            id: r.get(0)?,
            calendar_id: r.get(1)?,
            calendar: r.get(2)?,
            href: r.get(3)?,
            uid: r.get(4)?,
            op: PendingOp::parse(&r.get::<_, Option<String>>(5)?.unwrap_or_default()),
            found_at: r.get(6)?,
            base_etag: r.get(7)?,
            base_raw: r.get(8)?,
            local_raw: r.get(9)?,
            remote_etag: r.get(10)?,
            remote_raw: r.get(11)?,
            reason: r.get(12)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
