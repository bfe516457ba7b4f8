//! Local edits: staged in the cache first (so they survive a crash, no network and a restart), shown
//! at once, pushed by the engine with the etag they were based on, and held back as a conflict when
//! the server refuses the precondition.
//!
//! The items table keeps what the server holds (raw and etag); a pending change keeps the local
//! version, and the events a view shows are derived from the local version while one waits.

use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use super::items::insert_events;
use super::{Store, StoreError};
use crate::domain::edit::with_uid;
use crate::domain::read_calendar;

/// A change a person made, before it is staged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalEdit {
    /// A new resource in `calendar`.
    Create {
        calendar: i64,
        uid: String,
        raw: String,
    },
    /// The whole new text of an item. `seen_etag`: the server version the person saw when they
    /// began (if a pull brought a newer one meanwhile, the edit is based on what they saw, so the
    /// push meets a 412 and a conflict shows both, instead of silently overwriting the news).
    Update {
        item: i64,
        raw: String,
        seen_etag: Option<String>,
    },
    /// The item goes. `seen_etag` as for an update.
    Delete {
        item: i64,
        seen_etag: Option<String>,
    },
}

impl LocalEdit {
    /// An update of `item` to `raw`.
    pub fn update(item: i64, raw: String, seen_etag: Option<String>) -> LocalEdit {
        LocalEdit::Update {
            item,
            raw,
            seen_etag,
        }
    }
}

/// What a pending change asks of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PendingOp {
    Create,
    Update,
    Delete,
}

impl PendingOp {
    pub fn as_str(self) -> &'static str {
        match self {
            PendingOp::Create => "create",
            PendingOp::Update => "update",
            PendingOp::Delete => "delete",
        }
    }

    fn parse(s: &str) -> PendingOp {
        match s {
            "create" => PendingOp::Create,
            "delete" => PendingOp::Delete,
            _ => PendingOp::Update,
        }
    }
}

/// Where a staged edit went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staged {
    pub calendar: i64,
    pub href: String,
    /// False for a local calendar: the edit is final, nothing waits to be pushed.
    pub pending: bool,
}

/// A local change waiting to be pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingChange {
    pub id: i64,
    pub calendar: i64,
    pub item: Option<i64>,
    pub href: String,
    pub uid: String,
    pub op: PendingOp,
    /// The etag the change was based on, byte for byte as received (`None` for a create).
    pub base_etag: Option<String>,
    /// The local version (`None` for a delete).
    pub raw: Option<String>,
    /// The etag the cache holds for the server copy now (it moves when a sync brings a newer one).
    pub cached_etag: Option<String>,
    /// The server copy the cache holds now.
    pub cached_raw: Option<String>,
    /// The server copy the change was based on (`None` for a create).
    pub base_raw: Option<String>,
    /// The text an earlier push sent whose answer never came, if one did.
    pub sent_raw: Option<String>,
}

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

/// A resource's href inside a calendar: the collection's path (from its URL) and `name`. Local
/// calendars have no URL; their items are named alone.
fn child_href(collection: Option<&str>, name: &str) -> String {
    let Some(url) = collection else {
        return name.to_string();
    };
    let path = match url.find("://") {
        Some(i) => url[i + 3..].find('/').map_or("/", |j| &url[i + 3 + j..]),
        None => url,
    };
    let path = path.split(['?', '#']).next().unwrap_or(path);
    if path.ends_with('/') {
        format!("{path}{name}")
    } else {
        format!("{path}/{name}")
    }
}

/// The href of `name` in the same collection as `href`.
fn sibling_href(href: &str, name: &str) -> String {
    match href.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/{name}"),
        None => name.to_string(),
    }
}

/// A UID made safe as a path segment.
pub(crate) fn resource_name(uid: &str) -> String {
    let safe: String = uid
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.ics")
}

/// One local edit, inside the caller's transaction (see [`Store::stage`]).
fn stage_one(tx: &Transaction<'_>, edit: LocalEdit, now: i64) -> Result<Staged, StoreError> {
    Ok(match edit {
        LocalEdit::Create { calendar, uid, raw } => {
            let (remote_id, remote): (Option<String>, bool) = tx
                .query_row(
                    "SELECT remote_id, account_id IS NOT NULL FROM calendars WHERE id = ?1",
                    [calendar],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .ok_or_else(|| StoreError::NoSuchCalendar(calendar.to_string()))?;
            let href = child_href(
                remote_id.as_deref().filter(|_| remote),
                &resource_name(&uid),
            );
            tx.execute(
                "INSERT INTO items (calendar_id, href, uid, raw, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![calendar, href, uid, raw, now],
            )?;
            let item = tx.last_insert_rowid();
            derive_events(tx, item, calendar, Some(&raw))?;
            if remote {
                tx.execute(
                    "INSERT INTO pending (calendar_id, item_id, href, uid, op, raw, created_at)
                     VALUES (?1, ?2, ?3, ?4, 'create', ?5, ?6)",
                    params![calendar, item, href, uid, raw, now],
                )?;
            }
            Staged {
                calendar,
                href,
                pending: remote,
            }
        }
        LocalEdit::Update {
            item,
            raw,
            seen_etag,
        } => {
            let row = item_row(tx, item)?;
            derive_events(tx, item, row.calendar, Some(&raw))?;
            if row.remote {
                let folded = tx.execute(
                    "UPDATE pending SET raw = ?3, op = CASE op WHEN 'delete' THEN 'update' ELSE op END
                      WHERE calendar_id = ?1 AND href = ?2",
                    params![row.calendar, row.href, raw],
                )?;
                // A conflict waiting on this change shows the latest local version.
                tx.execute(
                    "UPDATE conflicts SET local_raw = ?3 WHERE id IN
                       (SELECT conflict_id FROM pending WHERE calendar_id = ?1 AND href = ?2)",
                    params![row.calendar, row.href, raw],
                )?;
                if folded == 0 {
                    tx.execute(
                        "INSERT INTO pending (calendar_id, item_id, href, uid, op, base_etag, base_raw, raw, created_at)
                         VALUES (?1, ?2, ?3, ?4, 'update', ?5, ?6, ?7, ?8)",
                        params![
                            row.calendar,
                            item,
                            row.href,
                            uid_of(&raw).or(row.uid).unwrap_or_default(),
                            seen_etag.or(row.etag),
                            row.raw,
                            raw,
                            now
                        ],
                    )?;
                }
            } else {
                tx.execute(
                    "UPDATE items SET raw = ?2, uid = ?3, updated_at = ?4, parse_error = NULL WHERE id = ?1",
                    params![item, raw, uid_of(&raw).or(row.uid), now],
                )?;
            }
            Staged {
                calendar: row.calendar,
                href: row.href,
                pending: row.remote,
            }
        }
        LocalEdit::Delete { item, seen_etag } => {
            let row = item_row(tx, item)?;
            let op: Option<String> = tx
                .query_row(
                    "SELECT op FROM pending WHERE calendar_id = ?1 AND href = ?2",
                    params![row.calendar, row.href],
                    |r| r.get(0),
                )
                .optional()?;
            if !row.remote {
                tx.execute("DELETE FROM items WHERE id = ?1", [item])?;
            } else if op.as_deref() == Some("create") {
                // Perhaps never pushed, perhaps on its way now: an unconditional DELETE of our
                // own new href settles both (a 404 is fine).
                derive_events(tx, item, row.calendar, None)?;
                tx.execute(
                    "UPDATE pending SET op = 'delete', raw = NULL, base_etag = NULL
                      WHERE calendar_id = ?1 AND href = ?2",
                    params![row.calendar, row.href],
                )?;
            } else {
                derive_events(tx, item, row.calendar, None)?;
                if op.is_some() {
                    tx.execute(
                        "UPDATE conflicts SET local_raw = NULL, op = 'delete' WHERE id IN
                           (SELECT conflict_id FROM pending WHERE calendar_id = ?1 AND href = ?2)",
                        params![row.calendar, row.href],
                    )?;
                    tx.execute(
                        "UPDATE pending SET op = 'delete', raw = NULL WHERE calendar_id = ?1 AND href = ?2",
                        params![row.calendar, row.href],
                    )?;
                } else {
                    tx.execute(
                        "INSERT INTO pending (calendar_id, item_id, href, uid, op, base_etag, base_raw, created_at)
                         VALUES (?1, ?2, ?3, ?4, 'delete', ?5, ?6, ?7)",
                        params![
                            row.calendar,
                            item,
                            row.href,
                            row.uid.unwrap_or_default(),
                            seen_etag.or(row.etag),
                            row.raw,
                            now
                        ],
                    )?;
                }
            }
            Staged {
                calendar: row.calendar,
                href: row.href,
                pending: row.remote,
            }
        }
    })
}

/// Replaces an item's event rows with those read from `raw` (none when `raw` is `None`).
fn derive_events(
    tx: &Transaction<'_>,
    item: i64,
    calendar: i64,
    raw: Option<&str>,
) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM events WHERE item_id = ?1")?
        .execute([item])?;
    if let Some(raw) = raw {
        let parsed = read_calendar(raw);
        let events: Vec<_> = parsed.items.into_iter().flat_map(|i| i.events).collect();
        insert_events(tx, item, calendar, &events)?;
    }
    Ok(())
}

fn uid_of(raw: &str) -> Option<String> {
    read_calendar(raw).items.first().map(|i| i.uid.clone())
}

struct ItemRow {
    calendar: i64,
    href: String,
    uid: Option<String>,
    etag: Option<String>,
    raw: String,
    remote: bool,
}

fn item_row(tx: &Transaction<'_>, item: i64) -> Result<ItemRow, StoreError> {
    tx.query_row(
        "SELECT i.calendar_id, i.href, i.uid, i.etag, i.raw, c.account_id IS NOT NULL
           FROM items i JOIN calendars c ON c.id = i.calendar_id WHERE i.id = ?1",
        [item],
        |r| {
            Ok(ItemRow {
                calendar: r.get(0)?,
                href: r.get(1)?,
                uid: r.get(2)?,
                etag: r.get(3)?,
                raw: r.get(4)?,
                remote: r.get(5)?,
            })
        },
    )
    .optional()?
    .ok_or(StoreError::NoSuchItem(item))
}

impl Store {
    /// Writes a local edit to the cache in one transaction. On a server calendar it becomes (or folds
    /// into) a pending change with the etag it was based on; on a local calendar it is final.
    pub fn stage(&mut self, edit: LocalEdit, now: i64) -> Result<Staged, StoreError> {
        let tx = self.write()?;
        let staged = stage_one(&tx, edit, now)?;
        tx.commit()?;
        Ok(staged)
    }

    /// Several local edits in one transaction, in order: all of them or none (a move to another
    /// calendar is a create there and a delete here).
    pub fn stage_all(
        &mut self,
        edits: Vec<LocalEdit>,
        now: i64,
    ) -> Result<Vec<Staged>, StoreError> {
        let tx = self.write()?;
        let staged = edits
            .into_iter()
            .map(|edit| stage_one(&tx, edit, now))
            .collect::<Result<Vec<_>, _>>()?;
        tx.commit()?;
        Ok(staged)
    }

    /// The text of an item as a person sees it (the local version while one waits), with its
    /// calendar; `None` when the item is gone or deleted locally.
    pub fn item_text(&self, item: i64) -> Result<Option<(i64, String)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT i.calendar_id, COALESCE(p.raw, i.raw), p.op FROM items i
                   LEFT JOIN pending p ON p.calendar_id = i.calendar_id AND p.href = i.href
                  WHERE i.id = ?1",
                [item],
                |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, Option<String>>(2)?)),
            )
            .optional()?
            .filter(|(_, _, op)| op.as_deref() != Some("delete"))
            .map(|(c, raw, _)| (c, raw)))
    }

    /// The UID of an item, if the item is there.
    pub fn item_uid(&self, item: i64) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT uid FROM items WHERE id = ?1", [item], |r| {
                r.get::<_, Option<String>>(0)
            })
            .optional()?
            .flatten())
    }

    /// Puts back a server item a pull removed (it is kept a day after its removal), so an edit
    /// begun on it before the removal is staged on the version the person saw: its push then
    /// meets the deletion as a conflict ("deleted on the server" / mine). `uid`, when given, must
    /// match. Returns the item's id now and whether it was put back (`false`: the href holds an
    /// item again, the server made a new one there, and that item is the answer; the edit's etag
    /// no longer matches it, so its push is a conflict too). `None` when nothing was kept.
    pub fn restore_removed(
        &mut self,
        item: i64,
        uid: Option<&str>,
        now: i64,
    ) -> Result<Option<(i64, bool)>, StoreError> {
        let tx = self.write()?;
        let kept: Option<(i64, i64, String, Option<String>, String, String)> = tx
            .query_row(
                "SELECT r.rowid, r.calendar_id, r.href, r.uid, r.etag, r.raw FROM removed_items r
                   JOIN calendars c ON c.id = r.calendar_id
                  WHERE r.item_id = ?1 AND (?2 IS NULL OR r.uid = ?2)
                  ORDER BY r.removed_at DESC, r.rowid DESC LIMIT 1",
                params![item, uid],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .optional()?;
        let Some((kept_row, calendar, href, uid, etag, raw)) = kept else {
            return Ok(None);
        };
        let existing: Option<i64> = tx
            .query_row(
                "SELECT id FROM items WHERE calendar_id = ?1 AND href = ?2",
                params![calendar, href],
                |r| r.get(0),
            )
            .optional()?;
        let found = match existing {
            Some(id) => (id, false),
            None => {
                tx.execute(
                    "INSERT INTO items (calendar_id, href, uid, etag, raw, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![calendar, href, uid, etag, raw, now],
                )?;
                let id = tx.last_insert_rowid();
                derive_events(&tx, id, calendar, Some(&raw))?;
                // Only the version put back leaves the keep; others (an id reused) stay.
                tx.execute("DELETE FROM removed_items WHERE rowid = ?1", [kept_row])?;
                (id, true)
            }
        };
        tx.commit()?;
        Ok(Some(found))
    }

    /// Undoes [`Self::restore_removed`] for an edit that was not saved: the item goes again and is
    /// kept under the id the edit knew it by, so trying again finds it.
    pub fn unrestore(&mut self, item: i64, was: i64) -> Result<(), StoreError> {
        let tx = self.write()?;
        // The removal trigger keeps it again, under its new id.
        tx.execute("DELETE FROM items WHERE id = ?1", [item])?;
        tx.execute(
            "UPDATE removed_items SET item_id = ?2 WHERE item_id = ?1",
            params![item, was],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The etag the cache holds for an item (`None`: no such item, or none from its server).
    pub fn item_etag(&self, item: i64) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT etag FROM items WHERE id = ?1", [item], |r| {
                r.get::<_, Option<String>>(0)
            })
            .optional()?
            .flatten())
    }

    /// The items holding events with this UID (not deleted locally): (item, calendar id, calendar
    /// name).
    pub fn items_with_uid(&self, uid: &str) -> Result<Vec<(i64, i64, String)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT i.id, c.id, c.name FROM events e JOIN items i ON i.id = e.item_id
               JOIN calendars c ON c.id = i.calendar_id WHERE e.uid = ?1 ORDER BY i.id",
        )?;
        let rows = stmt.query_map([uid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many changes of the account's calendars wait to be pushed (conflicts not counted).
    pub fn pushable(&self, account: &str) -> Result<i64, StoreError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM pending p JOIN calendars c ON c.id = p.calendar_id
               JOIN accounts a ON a.id = c.account_id WHERE a.name = ?1 AND p.conflict_id IS NULL",
            [account],
            |r| r.get(0),
        )?)
    }

    /// A calendar's pending changes that may be pushed now (not held by a conflict), oldest first.
    pub fn pending_changes(&self, calendar: i64) -> Result<Vec<PendingChange>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.id, p.calendar_id, p.item_id, p.href, p.uid, p.op, p.base_etag, p.raw, i.etag, i.raw,
                    p.base_raw, p.sent_raw
               FROM pending p LEFT JOIN items i ON i.id = p.item_id
              WHERE p.calendar_id = ?1 AND p.conflict_id IS NULL ORDER BY p.id",
        )?;
        let rows = stmt.query_map([calendar], |r| {
            Ok(PendingChange {
                id: r.get(0)?,
                calendar: r.get(1)?,
                item: r.get(2)?,
                href: r.get(3)?,
                uid: r.get(4)?,
                op: PendingOp::parse(&r.get::<_, String>(5)?),
                base_etag: r.get(6)?,
                raw: r.get(7)?,
                cached_etag: r.get(8)?,
                cached_raw: r.get(9)?,
                base_raw: r.get(10)?,
                sent_raw: r.get(11)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The server took `sent` (a snapshot of a pending change). `etag` is what it now holds;
    /// `stored` is its copy when it differs from what was sent (a PUT answered without an ETag is
    /// followed by a fetch). One transaction. If the pending change is still the one sent, the
    /// item takes the new state and the change goes. If the person changed it while the write was
    /// on its way (a later edit folds into the same row), the item takes the server's new state and
    /// the change stays pending, now based on it.
    pub fn pushed(
        &mut self,
        sent: &PendingChange,
        etag: Option<&str>,
        stored: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        let tx = self.write()?;
        let row: Option<(String, Option<String>)> = tx
            .query_row(
                "SELECT op, raw FROM pending WHERE id = ?1",
                [sent.id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((op, raw)) = row else {
            return Ok(());
        };
        let server_text = match sent.op {
            PendingOp::Delete => None,
            _ => stored.or(sent.raw.as_deref()),
        };
        if PendingOp::parse(&op) == sent.op && raw == sent.raw {
            tx.execute("DELETE FROM pending WHERE id = ?1", [sent.id])?;
            if let Some(item) = sent.item {
                match server_text {
                    None => {
                        tx.execute("DELETE FROM items WHERE id = ?1", [item])?;
                    }
                    Some(text) => {
                        tx.execute(
                            "UPDATE items SET etag = ?2, raw = ?3, uid = COALESCE(?4, uid),
                                    parse_error = NULL, updated_at = ?5, confirmed_at = ?5 WHERE id = ?1",
                            params![item, etag, text, uid_of(text), now],
                        )?;
                        derive_events(&tx, item, sent.calendar, Some(text))?;
                    }
                }
            }
        } else {
            rebase_on(&tx, sent, etag, server_text, now)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The server holds an earlier version of a pending change (ours, pushed before a later edit
    /// folded into it): the change stays pending, based on what the server holds.
    pub fn rebase(
        &mut self,
        sent: &PendingChange,
        etag: Option<&str>,
        server_text: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let tx = self.write()?;
        rebase_on(&tx, sent, etag, Some(server_text), now)?;
        tx.commit()?;
        Ok(())
    }

    /// A push is about to send `raw` for a pending change: until its answer comes, that is the
    /// write the server may hold (a crash or a cut can lose the answer, not the write).
    pub fn note_sent(&mut self, pending: i64, raw: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE pending SET sent_raw = ?2 WHERE id = ?1",
            params![pending, raw],
        )?;
        Ok(())
    }

    /// A push failed for a reason other than a conflict (network, a refused body): it stays pending
    /// and the reason is kept for the sync pane.
    pub fn push_failed(&mut self, pending: i64, error: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE pending SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
            params![pending, error],
        )?;
        Ok(())
    }

    /// A create found its href taken by another resource: it moves to a fresh one.
    pub fn move_pending(&mut self, pending: i64, name: &str) -> Result<String, StoreError> {
        let tx = self.write()?;
        let (calendar, item, href): (i64, Option<i64>, String) = tx.query_row(
            "SELECT calendar_id, item_id, href FROM pending WHERE id = ?1",
            [pending],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let new = sibling_href(&href, name);
        tx.execute(
            "UPDATE pending SET href = ?2 WHERE id = ?1",
            params![pending, new],
        )?;
        if let Some(item) = item {
            tx.execute(
                "UPDATE items SET href = ?2 WHERE id = ?1 AND calendar_id = ?3",
                params![item, new, calendar],
            )?;
        }
        tx.commit()?;
        Ok(new)
    }

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
                    let raw = with_uid(local, fresh_uid);
                    let href = sibling_href(&c.href, &resource_name(fresh_uid));
                    tx.execute(
                        "INSERT INTO items (calendar_id, href, uid, raw, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![c.calendar_id, href, fresh_uid, raw, now],
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

/// Makes a pending change be based on what the server now holds (`None`: nothing).
fn rebase_on(
    tx: &Transaction<'_>,
    sent: &PendingChange,
    etag: Option<&str>,
    server_text: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    match server_text {
        Some(text) => {
            if let Some(item) = sent.item {
                tx.execute(
                    "UPDATE items SET etag = ?2, raw = ?3, updated_at = ?4, confirmed_at = ?4 WHERE id = ?1",
                    params![item, etag, text, now],
                )?;
            }
            tx.execute(
                "UPDATE pending SET base_etag = ?2, base_raw = ?3, last_error = NULL, sent_raw = NULL,
                        op = CASE op WHEN 'create' THEN 'update' ELSE op END WHERE id = ?1",
                params![sent.id, etag, text],
            )?;
        }
        None => {
            tx.execute(
                "UPDATE pending SET base_etag = NULL, base_raw = NULL, last_error = NULL, sent_raw = NULL,
                        op = CASE op WHEN 'delete' THEN 'delete' ELSE 'create' END WHERE id = ?1",
                [sent.id],
            )?;
        }
    }
    Ok(())
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

impl Store {
    /// Renames a local calendar (a server's calendar is named by its server). Returns false when
    /// `calendar` is not a local calendar.
    pub fn rename_local_calendar(&mut self, calendar: i64, name: &str) -> Result<bool, StoreError> {
        let changed = self.conn.execute(
            "UPDATE calendars SET name = ?2 WHERE id = ?1 AND account_id IS NULL",
            params![calendar, name],
        )?;
        Ok(changed == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_resource_lives_in_its_collection_path() {
        assert_eq!(
            child_href(Some("http://h:5232/alice/cal/"), "x.ics"),
            "/alice/cal/x.ics"
        );
        assert_eq!(
            child_href(Some("https://h/dav/cal?x=1"), "x.ics"),
            "/dav/cal/x.ics"
        );
        assert_eq!(child_href(None, "x.ics"), "x.ics");
        assert_eq!(resource_name("a b/c"), "a_b_c.ics");
    }
}
