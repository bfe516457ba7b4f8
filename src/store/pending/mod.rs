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
use crate::domain::format::{Format, read_item};

mod conflicts;
mod push;
mod removed;

pub(crate) use conflicts::open_conflicts;
pub use conflicts::{Conflict, Keep, Resolved};

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
            let format = super::sync::calendar_format(tx, calendar)?;
            // The item's id follows its remote's rule: a CalDAV href is a name in the
            // collection; a Google event carries the id chosen for it.
            let href = match format {
                Format::ICalendar => child_href(
                    remote_id.as_deref().filter(|_| remote),
                    &resource_name(&uid),
                ),
                Format::GoogleJson => google_id(&raw).unwrap_or_else(|| uid.clone()),
                // Graph names a new event on create: until then its UID (its transactionId).
                Format::GraphJson => crate::domain::graph::group_id(&raw)
                    .or_else(|| crate::domain::graph::group_uid(&raw))
                    .unwrap_or_else(|| uid.clone()),
            };
            tx.execute(
                "INSERT INTO items (calendar_id, href, uid, raw, updated_at, format)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![calendar, href, uid, raw, now, format.as_str()],
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
        let parsed = read_item(super::sync::calendar_format(tx, calendar)?, raw);
        let events: Vec<_> = parsed.items.into_iter().flat_map(|i| i.events).collect();
        insert_events(tx, item, calendar, &events)?;
    }
    Ok(())
}

/// The id a Google group is known by: its first event's series id or own id.
fn google_id(raw: &str) -> Option<String> {
    let list: serde_json::Value = serde_json::from_str(raw).ok()?;
    let first = list.as_array()?.first()?;
    first
        .get("recurringEventId")
        .or_else(|| first.get("id"))
        .and_then(|v| v.as_str())
        .map(str::to_string)
}

fn uid_of(raw: &str) -> Option<String> {
    read_item(Format::of_text(raw), raw)
        .items
        .first()
        .map(|i| i.uid.clone())
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
