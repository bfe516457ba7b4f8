//! Items (resources as received) and the normalised event rows derived from them.

use rusqlite::{Transaction, params};

use super::pending::resource_name;
use super::{Store, StoreError};
use crate::domain::series::SeriesSpec;
use crate::domain::{Event, Item, When};

/// Events longer than this are indexed apart, so a range query over short events can bound how far
/// back a start may lie and still reach the window.
pub(crate) const SHORT_SPAN_SECS: i64 = 8 * 24 * 3600;

/// What an import changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportReport {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// An import under way: one transaction fed a batch of items at a time, so a large file is never
/// held whole. Nothing of it is visible, or kept, until [`Import::commit`].
pub struct Import<'a> {
    tx: Transaction<'a>,
    calendar: i64,
    now: i64,
    report: ImportReport,
}

impl Import<'_> {
    /// Adds items; an item whose UID is already in the calendar is replaced.
    pub fn add(&mut self, items: &[Item]) -> Result<(), StoreError> {
        let r = upsert_items(&self.tx, self.calendar, items, self.now)?;
        self.report.added += r.added;
        self.report.updated += r.updated;
        self.report.unchanged += r.unchanged;
        Ok(())
    }

    /// Commits everything added.
    pub fn commit(self) -> Result<ImportReport, StoreError> {
        self.tx.commit()?;
        Ok(self.report)
    }
}

impl Store {
    /// Imports items into a local calendar in one transaction. An item whose UID is already there is
    /// replaced, so importing the same file twice changes nothing.
    pub fn import_items(
        &mut self,
        calendar: i64,
        items: &[Item],
        now: i64,
    ) -> Result<ImportReport, StoreError> {
        let mut import = self.begin_import(calendar, now)?;
        import.add(items)?;
        import.commit()
    }

    /// Starts an import into a local calendar, as one transaction.
    pub fn begin_import(&mut self, calendar: i64, now: i64) -> Result<Import<'_>, StoreError> {
        Ok(Import {
            tx: self.write()?,
            calendar,
            now,
            report: ImportReport::default(),
        })
    }

    /// Makes `calendar` hold exactly `items` (used for the bundled sample), in one transaction.
    pub fn replace_items(
        &mut self,
        calendar: i64,
        items: &[Item],
        now: i64,
    ) -> Result<(), StoreError> {
        let tx = self.write()?;
        tx.execute("DELETE FROM items WHERE calendar_id = ?1", [calendar])?;
        upsert_items(&tx, calendar, items, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Marks `calendar` as the bundled sample, shifted to the week starting `anchor`.
    pub fn mark_sample(&mut self, calendar: i64, anchor: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE calendars SET is_sample = 1, sample_anchor = ?2 WHERE id = ?1",
            params![calendar, anchor],
        )?;
        Ok(())
    }
}

fn upsert_items(
    tx: &Transaction<'_>,
    calendar: i64,
    items: &[Item],
    now: i64,
) -> Result<ImportReport, StoreError> {
    let mut report = ImportReport::default();
    let mut find =
        tx.prepare_cached("SELECT id, raw FROM items WHERE calendar_id = ?1 AND uid = ?2")?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO items (calendar_id, href, uid, raw, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut update = tx.prepare_cached(
        "UPDATE items SET raw = ?2, updated_at = ?3, parse_error = NULL WHERE id = ?1",
    )?;
    let mut clear = tx.prepare_cached("DELETE FROM events WHERE item_id = ?1")?;
    for item in items {
        let existing: Option<(i64, String)> = find
            .query_row(params![calendar, item.uid], |r| Ok((r.get(0)?, r.get(1)?)))
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })?;
        let item_id = match existing {
            Some((_, raw)) if raw == item.raw => {
                report.unchanged += 1;
                continue;
            }
            Some((id, _)) => {
                update.execute(params![id, item.raw, now])?;
                clear.execute([id])?;
                report.updated += 1;
                id
            }
            None => {
                insert.execute(params![
                    calendar,
                    resource_name(&item.uid),
                    item.uid,
                    item.raw,
                    now
                ])?;
                report.added += 1;
                tx.last_insert_rowid()
            }
        };
        insert_events(tx, item_id, calendar, &item.events)?;
    }
    Ok(report)
}

/// Writes the normalised rows of one item's events.
pub(crate) fn insert_events(
    tx: &Transaction<'_>,
    item_id: i64,
    calendar: i64,
    events: &[Event],
) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO events (item_id, calendar_id, uid, recurrence_kind, recurrence_key, summary, location,
                             description, status, start_kind, start_key, end_kind, end_key, tzid, rrule,
                             series, series_end_key, long, attendees)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
    )?;
    let mut search = tx.prepare_cached(
        "INSERT INTO events_fts (rowid, summary, location, description, attendees)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let overrides: Vec<&Event> = events
        .iter()
        .filter(|e| e.recurrence_id.is_some())
        .collect();
    for ev in events {
        let spec = SeriesSpec::from_events(ev, &overrides);
        let series = spec
            .as_ref()
            .map(|s| serde_json::to_string(s).expect("a series spec serialises"));
        let series_end = spec.as_ref().and_then(SeriesSpec::end_key);
        let start = ev.start.normalise();
        let end = ev.end.normalise();
        let rid: Option<When> = ev.recurrence_id.as_ref().map(|r| r.normalise());
        stmt.execute(params![
            item_id,
            calendar,
            ev.uid,
            rid.map(|r| r.kind()),
            rid.map(|r| r.key()),
            ev.summary,
            ev.location,
            ev.description,
            ev.status,
            start.kind(),
            start.key(),
            end.kind(),
            end.key(),
            ev.start.tzid(),
            ev.rrule,
            series,
            series_end,
            end.key() - start.key() > SHORT_SPAN_SECS,
            super::search::attendees_text(&ev.attendees),
        ])?;
        let id = tx.last_insert_rowid();
        // Its search row, in a statement of its own (see migration 14).
        search.execute(params![
            id,
            ev.summary,
            ev.location,
            ev.description,
            super::search::attendees_text(&ev.attendees),
        ])?;
        super::reminders::remember_alarms(tx, id, &ev.alarms)?;
    }
    super::reminders::index_item(tx, item_id)
}
