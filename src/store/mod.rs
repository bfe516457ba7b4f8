//! The SQLite cache: one writer ([`Store`]) and any number of read connections ([`StoreReader`]).
//!
//! WAL mode lets the UI read while the writer commits. Every write that belongs together (an import, a
//! sync page and the token that covers it) is one transaction, so a crash never leaves half of it.

mod calendar_list;
mod checkpoint;
mod graph;
mod items;
mod pending;
mod reader;
mod reminders;
mod schema;
mod search;
mod status;
mod sync;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::domain::Calendar;

pub use calendar_list::CalendarEntry;
pub use graph::Member;
pub use items::{Import, ImportReport};
pub use pending::{Conflict, Keep, LocalEdit, PendingChange, PendingOp, Resolved, Staged};
pub use reader::{StoreReader, sort_occurrences};
pub use reminders::{Reminder, ReminderKey, ReminderKind};
pub use schema::VERSION as SCHEMA_VERSION;
pub use search::{SearchQuery, nearest_first, search_expression};
pub use status::{AccountStatus, CalendarStatus, LastRun};
pub use sync::{
    AccountRow, Applied, CalendarSync, CalendarsChange, ChangeSet, FetchedItem, RemoteCalendar,
    RunRecord, StateUpdate,
};

/// Errors of the cache layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cache database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot create the data directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the cache was written by a newer almanac (schema {found}, this build knows {supported}); upgrade almanac"
    )]
    TooNew { found: i64, supported: i64 },
    #[error("no calendar named '{0}'")]
    NoSuchCalendar(String),
    #[error("no item {0} in the cache (it changed meanwhile; reload and try again)")]
    NoSuchItem(i64),
    #[error("no open conflict {0} (see `almanac conflicts`)")]
    NoSuchConflict(i64),
}

/// The file name of the cache inside the data directory.
pub const DB_FILE: &str = "almanac.sqlite3";

/// The single writer to the cache.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Copies the WAL back into the database beside the writer (declared after `conn`, which
    /// holds the other end of its channel and so is closed first).
    checkpoints: checkpoint::Checkpointer,
}

impl Drop for Store {
    /// A WAL past its cap is copied and emptied as the writer closes (see `checkpoint`). While
    /// the checkpoint thread is copying it, or a reader holds it, this waits two seconds at
    /// most (a rare wait: the WAL is past 64 MB); after that the WAL is left for next time.
    fn drop(&mut self) {
        if !self.checkpoints.wal_is_large() {
            return;
        }
        // Readers are waited for briefly, not for the usual 5 s.
        let _ = self.conn.busy_timeout(Duration::from_millis(100));
        let until = std::time::Instant::now() + Duration::from_secs(2);
        loop {
            let busy: Result<i64, _> =
                self.conn
                    .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0));
            if !matches!(busy, Ok(1)) || std::time::Instant::now() > until {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

impl Store {
    /// Opens (creating if needed) the cache in `data_dir` and migrates it to the current schema.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        Store::open_with_wal_cap(data_dir, checkpoint::MAX_WAL_PAGES)
    }

    /// [`Store::open`], with the WAL size (in frames) past which it is copied at once and on
    /// close.
    fn open_with_wal_cap(data_dir: &Path, wal_cap: i32) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::CreateDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(DB_FILE);
        let mut conn = Connection::open(&path)?;
        configure(&conn)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // WAL with NORMAL sync is durable against a process crash; only a power loss can lose the
        // last commits, never corrupt the file.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // The writer's page cache (SQLite's default is 2 MB): a first sync's transactions are
        // large (see sync::engine), and a small cache spills their dirty pages to the WAL before
        // the commit. It grows only as far as it is used.
        conn.pragma_update(None, "cache_size", -32 * 1024)?;
        let checkpoints = checkpoint::Checkpointer::start(&path, &mut conn, wal_cap)?;
        schema::migrate(&mut conn)?;
        Ok(Store {
            conn,
            path,
            checkpoints,
        })
    }

    /// Where the database file lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new read-only connection to the same cache.
    pub fn reader(&self) -> Result<StoreReader, StoreError> {
        StoreReader::open_file(&self.path)
    }

    /// The local calendar called `name`, created on demand. Returns its id.
    pub fn local_calendar(&mut self, name: &str) -> Result<i64, StoreError> {
        if let Some(id) = self.find_local_calendar(name)? {
            return Ok(id);
        }
        self.conn.execute(
            "INSERT INTO calendars (name, color) VALUES (?1, ?2)",
            params![name, default_color(name)],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The id of the local calendar called `name`, if it exists.
    pub fn find_local_calendar(&self, name: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM calendars WHERE account_id IS NULL AND name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// A write transaction that takes the write lock at once. With more than one writer (the sync
    /// engine, the UI staging an edit, a command-line run) a deferred one that reads first could
    /// fail with SQLITE_BUSY on its first write, which the busy timeout does not wait out.
    fn write(&mut self) -> Result<rusqlite::Transaction<'_>, StoreError> {
        Ok(self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?)
    }

    /// Every calendar as (id, account name for a server's, name).
    pub fn calendar_names(&self) -> Result<Vec<(i64, Option<String>, String)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.id, a.name, c.name FROM calendars c LEFT JOIN accounts a ON a.id = c.account_id
              ORDER BY c.id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every calendar, in id order.
    pub fn calendars(&self) -> Result<Vec<Calendar>, StoreError> {
        reader::calendars(&self.conn)
    }

    /// Sets a calendar's colour (`#RRGGBB`), e.g. from an imported file's `X-APPLE-CALENDAR-COLOR`.
    pub fn set_calendar_color(&mut self, id: i64, color: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE calendars SET color = ?2 WHERE id = ?1",
            params![id, color],
        )?;
        Ok(())
    }

    /// Removes a calendar and everything in it.
    pub fn delete_calendar(&mut self, id: i64) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM calendars WHERE id = ?1", [id])?;
        Ok(())
    }

    /// The bundled sample calendar: its id and the Monday its dates were shifted to, if it exists.
    pub fn sample_calendar(&self) -> Result<Option<(i64, Option<String>)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, sample_anchor FROM calendars WHERE is_sample = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// The format `calendar`'s items are written in (its account's kind decides).
    pub fn calendar_format(
        &self,
        calendar: i64,
    ) -> Result<crate::domain::format::Format, StoreError> {
        sync::calendar_format(&self.conn, calendar)
    }

    /// The name of `calendar` if the person may not change it (a subscription, a read-only
    /// share).
    pub fn read_only_calendar(&self, calendar: i64) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT name FROM calendars WHERE id = ?1 AND read_only = 1",
                [calendar],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// True when some calendar other than the sample holds at least one item.
    pub fn has_own_data(&self) -> Result<bool, StoreError> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM items i JOIN calendars c ON c.id = i.calendar_id
                            WHERE c.is_sample = 0)
                 OR EXISTS (SELECT 1 FROM calendars WHERE account_id IS NOT NULL)",
            [],
            |r| r.get(0),
        )?)
    }
}

/// A stable colour for a calendar that brings none, picked from a palette by its name.
pub fn default_color(name: &str) -> &'static str {
    const PALETTE: [&str; 8] = [
        "#4f9dde", "#e5a13a", "#5bb974", "#d9685f", "#a57fd8", "#3fb6b2", "#d67fb0", "#9aa04a",
    ];
    let h = name
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    PALETTE[h as usize % PALETTE.len()]
}

pub(crate) fn read_only(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&conn)?;
    // Reads straight from the page cache instead of copying pages through read(2).
    conn.pragma_update(None, "mmap_size", 256 * 1024 * 1024)?;
    Ok(conn)
}
