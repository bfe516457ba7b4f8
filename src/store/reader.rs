//! Read-only queries, on a connection of their own so the UI never waits for the writer.

use std::path::Path;
use std::sync::Arc;

use chrono::{Duration, NaiveDate, NaiveTime};
use chrono_tz::Tz;
use rusqlite::{Connection, Row};

use super::items::SHORT_SPAN_SECS;
use super::{StoreError, read_only};
use crate::domain::series::SeriesSpec;
use crate::domain::{Calendar, EventDetail, Occurrence, When};

/// Wall-clock keys differ from instants by at most the largest UTC offsets (−12 h … +14 h).
pub(super) const ZONE_SLACK_SECS: i64 = 26 * 3600;

/// The keys (UTC seconds of wall-clock or instant times) that can fall on the days `from..=to` in
/// any display zone: the days' UTC bounds widened by [`ZONE_SLACK_SECS`] on each side.
pub(super) fn key_range(from: NaiveDate, to: NaiveDate) -> (i64, i64) {
    let midnight = |d: NaiveDate| d.and_time(NaiveTime::MIN).and_utc().timestamp();
    (
        midnight(from) - ZONE_SLACK_SECS,
        midnight(to + Duration::days(1)) + ZONE_SLACK_SECS,
    )
}

/// A read connection to the cache.
pub struct StoreReader {
    pub(super) conn: Connection,
    /// The series the last `occurrences` call could not show in full: (summary, reason).
    truncated: std::cell::RefCell<Vec<(String, String)>>,
}

pub(crate) const OCCURRENCE_COLUMNS: &str =
    "id, calendar_id, uid, recurrence_kind, recurrence_key, summary,
    location, status, start_kind, start_key, end_kind, end_key, tzid";

impl StoreReader {
    /// Opens a read-only connection to the database file at `path`.
    pub fn open_file(path: &Path) -> Result<StoreReader, StoreError> {
        Ok(StoreReader {
            conn: read_only(path)?,
            truncated: Default::default(),
        })
    }

    /// Every calendar, in id order.
    /// The ids of the calendars the person hid: their events stay out of every view and search.
    pub(super) fn hidden_calendars(&self) -> Result<Vec<i64>, StoreError> {
        Ok(self
            .calendars()?
            .into_iter()
            .filter(|c| c.hidden)
            .map(|c| c.id)
            .collect())
    }

    pub fn calendars(&self) -> Result<Vec<Calendar>, StoreError> {
        calendars(&self.conn)
    }

    /// The series the last [`Self::occurrences`] call could not show in full (too many instances
    /// in the window, or a rule counted from too far back): (summary, reason), for a visible note.
    pub fn truncated_series(&self) -> Vec<(String, String)> {
        self.truncated.borrow().clone()
    }

    /// SQLite's `data_version`: it changes when another connection (another process, or this
    /// one's writer) commits, so a caller that sees it move knows to read again.
    pub fn data_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    /// Every occurrence of a visible calendar overlapping the days `from..=to` in `display`, in
    /// start-key order (callers sort by local time). Cancelled occurrences are included (the caller
    /// decides whether to show them).
    ///
    /// Three indexed range scans that read only covering indexes: short events by start (bounded
    /// look-back), long events, and the masters of series that can reach the window. Then an exact
    /// filter in the display zone.
    pub fn occurrences(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        display: &Tz,
    ) -> Result<Vec<Occurrence>, StoreError> {
        self.truncated.borrow_mut().clear();
        let (lo, hi) = key_range(from, to);
        let hidden = self.hidden_calendars()?;
        let sql = format!(
            "SELECT {OCCURRENCE_COLUMNS} FROM events INDEXED BY events_short
              WHERE series IS NULL AND long = 0 AND start_key >= ?1 - {SHORT_SPAN_SECS}
                AND start_key < ?2 AND end_key >= ?1
             UNION ALL
             SELECT {OCCURRENCE_COLUMNS} FROM events INDEXED BY events_long
              WHERE series IS NULL AND long = 1 AND start_key < ?2 AND end_key >= ?1"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([lo, hi], occurrence_from_row)?;
        let inner = (lo + 2 * ZONE_SLACK_SECS, hi - 2 * ZONE_SLACK_SECS);
        let mut out = Vec::new();
        for row in rows {
            let occ = row?;
            // Rows well inside the window need no exact check; only those within the zone slack
            // of an edge are converted to the display zone and tested.
            if occ.start.key() >= inner.0 && occ.end.key() <= inner.1 {
                if !hidden.contains(&occ.calendar_id) {
                    out.push(occ);
                }
                continue;
            }
            if !hidden.contains(&occ.calendar_id) && occ.overlaps_days(from, to, display) {
                out.push(occ);
            }
        }
        self.expand_series(from, to, lo, hi, display, &hidden, &mut out)?;
        self.mark_pending(&mut out)?;
        Ok(out)
    }

    /// Marks occurrences whose event has a local change waiting (one small read; none when nothing
    /// waits).
    pub(super) fn mark_pending(&self, out: &mut [Occurrence]) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT calendar_id, uid FROM pending")?;
        let waiting: std::collections::HashSet<(i64, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        if waiting.is_empty() {
            return Ok(());
        }
        for occ in out {
            occ.pending = waiting.contains(&(occ.calendar_id, occ.uid.to_string()));
        }
        Ok(())
    }

    /// Open conflicts, oldest first, for the conflict pane and `almanac conflicts`.
    pub fn conflicts(&self) -> Result<Vec<super::Conflict>, StoreError> {
        super::pending::open_conflicts(&self.conn)
    }

    /// Adds the instances of every series that can reach the window. A series whose rule cannot be
    /// expanded shows its first instance, so it is never silently lost.
    #[allow(clippy::too_many_arguments)]
    fn expand_series(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        lo: i64,
        hi: i64,
        display: &Tz,
        hidden: &[i64],
        out: &mut Vec<Occurrence>,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT {OCCURRENCE_COLUMNS}, series FROM events INDEXED BY events_series
              WHERE series IS NOT NULL AND start_key < ?2
                AND (series_end_key IS NULL OR series_end_key >= ?1)"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let inner = (lo + 2 * ZONE_SLACK_SECS, hi - 2 * ZONE_SLACK_SECS);
        let rows = stmt.query_map([lo, hi], |r| {
            Ok((occurrence_from_row(r)?, r.get::<_, String>(13)?))
        })?;
        for row in rows {
            let (master, json) = row?;
            if hidden.contains(&master.calendar_id) {
                continue;
            }
            let expanded = serde_json::from_str::<SeriesSpec>(&json)
                .map_err(|e| e.to_string())
                .and_then(|spec| {
                    // As for single events: only instances near an edge need the exact zone check.
                    let keep = |o: &Occurrence| {
                        (o.start.key() >= inner.0 && o.end.key() <= inner.1)
                            || o.overlaps_days(from, to, display)
                    };
                    let before = out.len();
                    spec.occurrences_into(&master, from, to, keep, out)
                        .map_err(|e| {
                            out.truncate(before);
                            e.to_string()
                        })
                });
            if let Err(reason) = expanded {
                tracing::warn!(uid = %master.uid, %reason, "series cannot be expanded; showing its first instance");
                self.truncated
                    .borrow_mut()
                    .push((master.summary.to_string(), reason.clone()));
                if master.overlaps_days(from, to, display) {
                    out.push(Occurrence {
                        note: Some(Arc::from(reason.as_str())),
                        ..master
                    });
                }
            }
        }
        Ok(())
    }

    /// The raw text of every item in the calendar called `name`, in the order they were stored;
    /// `None` when there is no such calendar.
    pub fn calendar_items(&self, name: &str) -> Result<Option<Vec<String>>, StoreError> {
        let id: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM calendars WHERE name = ?1 ORDER BY id LIMIT 1",
                [name],
                |r| r.get(0),
            )
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })?;
        let Some(id) = id else { return Ok(None) };
        let mut stmt = self
            .conn
            .prepare_cached("SELECT raw FROM items WHERE calendar_id = ?1 ORDER BY id")?;
        let rows = stmt.query_map([id], |r| r.get::<_, String>(0))?;
        Ok(Some(rows.collect::<Result<_, _>>()?))
    }

    /// The detail of one event, for the detail pane.
    pub fn event_detail(&self, event_id: i64) -> Result<Option<EventDetail>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.description, i.etag, e.rrule, i.href, i.id, i.confirmed_at, p.op, p.base_etag,
                    p.last_error, p.conflict_id, COALESCE(p.raw, i.raw)
               FROM events e JOIN items i ON i.id = e.item_id
               LEFT JOIN pending p ON p.calendar_id = i.calendar_id AND p.href = i.href
              WHERE e.id = ?1",
        )?;
        let mut rows = stmt.query_map([event_id], |r| {
            Ok(EventDetail {
                description: r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                etag: r.get(1)?,
                rrule: r.get(2)?,
                href: r.get(3)?,
                item_id: r.get(4)?,
                confirmed_at: r.get(5)?,
                pending_op: r.get(6)?,
                pending_base: r.get(7)?,
                pending_error: r.get(8)?,
                conflict: r.get(9)?,
                raw: r.get(10)?,
            })
        })?;
        Ok(rows.next().transpose()?)
    }

    /// Every calendar's sync state, for the sync pane and `almanac status`.
    pub fn sync_status(&self) -> Result<Vec<super::CalendarStatus>, StoreError> {
        super::status::sync_status(&self.conn)
    }

    /// Every account's own state (last run, its error, the next try).
    pub fn account_status(&self) -> Result<Vec<super::AccountStatus>, StoreError> {
        super::status::account_status(&self.conn)
    }

    /// How many events the cache holds.
    pub fn event_count(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))?)
    }
}

/// Sorts by local start, then uid, then recurrence id: the order `agenda` and the views use.
pub fn sort_occurrences(list: &mut [Occurrence], display: &Tz) {
    list.sort_by_cached_key(|o| (o.start.local(display), o.uid.clone(), o.recurrence_id));
}

pub(crate) fn occurrence_from_row(r: &Row<'_>) -> rusqlite::Result<Occurrence> {
    let when = |kind: usize, key: usize| -> rusqlite::Result<When> {
        let k = r.get_ref(kind)?.as_str()?;
        let v: i64 = r.get(key)?;
        When::from_key(k, v).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                key,
                rusqlite::types::Type::Integer,
                "bad time key".into(),
            )
        })
    };
    let recurrence_id = match r.get_ref(3)? {
        rusqlite::types::ValueRef::Null => None,
        _ => Some(when(3, 4)?),
    };
    let text = |i: usize| -> rusqlite::Result<Option<Arc<str>>> {
        Ok(r.get_ref(i)?.as_str_or_null()?.map(Arc::from))
    };
    Ok(Occurrence {
        event_id: r.get(0)?,
        calendar_id: r.get(1)?,
        uid: text(2)?.unwrap_or_else(|| Arc::from("")),
        recurrence_id,
        summary: text(5)?.unwrap_or_else(|| Arc::from("")),
        location: text(6)?.unwrap_or_else(|| Arc::from("")),
        status: text(7)?,
        start: when(8, 9)?,
        end: when(10, 11)?,
        tzid: text(12)?,
        pending: false,
        note: None,
    })
}

pub(crate) fn calendars(conn: &Connection) -> Result<Vec<Calendar>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, color, is_sample, hidden, read_only FROM calendars ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Calendar {
            id: r.get(0)?,
            name: r.get(1)?,
            color: r.get(2)?,
            is_sample: r.get(3)?,
            hidden: r.get(4)?,
            read_only: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
