//! Server items a pull removed, put back for an edit begun on them before the removal.

use rusqlite::{OptionalExtension, params};

use super::super::{Store, StoreError};
use super::derive_events;

impl Store {
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
}
