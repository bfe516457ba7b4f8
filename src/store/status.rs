//! What the sync pane and `almanac status` show, per calendar.

use rusqlite::{Connection, params};
use serde::Serialize;

use super::StoreError;

/// The last run of a calendar.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LastRun {
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub duration_ms: Option<i64>,
    pub requests: i64,
    pub bytes: i64,
    pub added: i64,
    pub changed: i64,
    pub removed: i64,
    pub error: Option<String>,
}

/// One calendar's sync state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CalendarStatus {
    pub id: i64,
    /// `None` for a local calendar.
    pub account: Option<String>,
    pub kind: String,
    pub calendar: String,
    pub strategy: Option<String>,
    pub sync_token: Option<String>,
    pub ctag: Option<String>,
    pub last_sync: Option<i64>,
    pub last_error: Option<String>,
    pub last_run: Option<LastRun>,
    pub items: i64,
    pub events: i64,
    pub pending: i64,
    pub conflicts: i64,
    /// Items kept raw because they cannot be read: (href, reason).
    pub unreadable: Vec<(String, String)>,
    /// UIDs held by more than one href (all kept).
    pub duplicate_uids: Vec<String>,
}

/// One account's own state: how its last run ended and when the next one is due. An account
/// that cannot be reached has no calendars, so this is where its trouble shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccountStatus {
    pub account: String,
    pub kind: String,
    /// When its last run ended (Unix seconds).
    pub last_run: Option<i64>,
    /// Why its last run failed as a whole (discovery, the password, the server's silence …).
    pub last_error: Option<String>,
    /// When the engine tries again (Unix seconds), as of its last run.
    pub next_run: Option<i64>,
    pub calendars: i64,
}

/// Every account the cache knows, by name.
pub fn account_status(conn: &Connection) -> Result<Vec<AccountStatus>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.name, a.kind, a.last_run, a.last_error, a.next_run,
                (SELECT count(*) FROM calendars c WHERE c.account_id = a.id)
           FROM accounts a ORDER BY a.name",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(AccountStatus {
            account: r.get(0)?,
            kind: r.get(1)?,
            last_run: r.get(2)?,
            last_error: r.get(3)?,
            next_run: r.get(4)?,
            calendars: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every calendar's sync state, accounts first (by name), then local calendars.
pub fn sync_status(conn: &Connection) -> Result<Vec<CalendarStatus>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, a.name, COALESCE(a.kind, 'local'), c.name, c.strategy, c.sync_token, c.ctag,
                c.last_sync, c.last_error,
                (SELECT count(*) FROM items i WHERE i.calendar_id = c.id),
                (SELECT count(*) FROM events e WHERE e.calendar_id = c.id),
                (SELECT count(*) FROM pending p WHERE p.calendar_id = c.id),
                (SELECT count(*) FROM conflicts f WHERE f.calendar_id = c.id AND f.resolved_at IS NULL)
           FROM calendars c LEFT JOIN accounts a ON a.id = c.account_id
          ORDER BY a.name IS NULL, a.name, c.name",
    )?;
    let mut out: Vec<CalendarStatus> = stmt
        .query_map([], |r| {
            Ok(CalendarStatus {
                id: r.get(0)?,
                account: r.get(1)?,
                kind: r.get(2)?,
                calendar: r.get(3)?,
                strategy: r.get(4)?,
                sync_token: r.get(5)?,
                ctag: r.get(6)?,
                last_sync: r.get(7)?,
                last_error: r.get(8)?,
                items: r.get(9)?,
                events: r.get(10)?,
                pending: r.get(11)?,
                conflicts: r.get(12)?,
                ..CalendarStatus::default()
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut last = conn.prepare_cached(
        "SELECT started_at, finished_at, requests, bytes, added, changed, removed, error, duration_ms
           FROM sync_runs WHERE calendar_id = ?1 ORDER BY id DESC LIMIT 1",
    )?;
    let mut bad = conn.prepare_cached(
        "SELECT href, parse_error FROM items WHERE calendar_id = ?1 AND parse_error IS NOT NULL
          ORDER BY href LIMIT 100",
    )?;
    let mut dups = conn.prepare_cached(
        "SELECT uid FROM items WHERE calendar_id = ?1 AND uid IS NOT NULL
          GROUP BY uid HAVING count(*) > 1 ORDER BY uid LIMIT 100",
    )?;
    for c in &mut out {
        c.last_run = last
            .query_map(params![c.id], |r| {
                Ok(LastRun {
                    started_at: r.get(0)?,
                    finished_at: r.get(1)?,
                    requests: r.get(2)?,
                    bytes: r.get(3)?,
                    added: r.get(4)?,
                    changed: r.get(5)?,
                    removed: r.get(6)?,
                    error: r.get(7)?,
                    duration_ms: r.get(8)?,
                })
            })?
            .next()
            .transpose()?;
        c.unreadable = bad
            .query_map(params![c.id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        c.duplicate_uids = dups
            .query_map(params![c.id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
    }
    Ok(out)
}
