//! What a push did to a pending change: the queue the engine reads, and the outcomes it records.

use rusqlite::{OptionalExtension, Transaction, params};

use super::super::{Store, StoreError};
use super::{PendingChange, PendingOp, derive_events, sibling_href, uid_of};

impl Store {
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
