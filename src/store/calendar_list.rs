//! The calendar list (`C` in the TUI): every calendar with what a person chooses it by.

use rusqlite::Connection;
use serde::Serialize;

use super::{Store, StoreError, StoreReader};

/// One calendar as the list shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CalendarEntry {
    pub id: i64,
    /// `None` for a local calendar.
    pub account: Option<String>,
    /// The account's kind (`caldav`, `google`, `graph`, `ics`), or `local`.
    pub kind: String,
    pub name: String,
    /// `#RRGGBB`, if the calendar has one.
    pub color: Option<String>,
    pub read_only: bool,
    pub hidden: bool,
    pub is_sample: bool,
    /// How many events (series count once) the cache holds for it.
    pub events: i64,
}

impl CalendarEntry {
    /// True when `name` names this calendar: its own name, or `account/name`.
    pub fn is_named(&self, name: &str) -> bool {
        self.name == name
            || self.account.as_deref().is_some_and(|a| {
                name.strip_prefix(a).and_then(|r| r.strip_prefix('/')) == Some(&self.name)
            })
    }
}

fn calendar_list(conn: &Connection) -> Result<Vec<CalendarEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, a.name, COALESCE(a.kind, 'local'), c.name, c.color, c.read_only, c.hidden,
                c.is_sample, (SELECT count(*) FROM events e WHERE e.calendar_id = c.id)
           FROM calendars c LEFT JOIN accounts a ON a.id = c.account_id
          ORDER BY a.name IS NULL, a.name, c.name",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(CalendarEntry {
            id: r.get(0)?,
            account: r.get(1)?,
            kind: r.get(2)?,
            name: r.get(3)?,
            color: r.get(4)?,
            read_only: r.get(5)?,
            hidden: r.get(6)?,
            is_sample: r.get(7)?,
            events: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

impl StoreReader {
    /// Every calendar, by account (local ones last), then name.
    pub fn calendar_list(&self) -> Result<Vec<CalendarEntry>, StoreError> {
        calendar_list(&self.conn)
    }
}

impl Store {
    /// Every calendar, by account (local ones last), then name.
    pub fn calendar_list(&self) -> Result<Vec<CalendarEntry>, StoreError> {
        calendar_list(&self.conn)
    }

    /// Hides the calendars `names` name (`calendar` or `account/calendar`, from `[ui] hidden`).
    /// Returns the names that match no calendar.
    pub fn hide_named(&mut self, names: &[String]) -> Result<Vec<String>, StoreError> {
        let list = self.calendar_list()?;
        let mut unknown = Vec::new();
        for name in names {
            let matching: Vec<i64> = list
                .iter()
                .filter(|c| c.is_named(name))
                .map(|c| c.id)
                .collect();
            if matching.is_empty() {
                unknown.push(name.clone());
            }
            for id in matching {
                self.set_hidden(id, true)?;
            }
        }
        Ok(unknown)
    }
}
