//! The WAL is copied back into the database on a thread of its own, when the writer is quiet.
//! SQLite's automatic checkpoint runs inside the commit that crosses its threshold: on the
//! writer's thread, with two fsyncs, in the middle of a sync (a first sync of 10,000 events met
//! eight of them, 65 ms of waiting). Here a commit past the threshold only wakes a thread with
//! its own connection; it waits until no commit has come for [`QUIET`] (a sync's burst of
//! commits is not copied while it runs, competing with it for a core and the disk), or until
//! the WAL is past [`MAX_WAL_PAGES`] (a writer that never pauses), and runs a passive
//! checkpoint, which never blocks the writer or a reader.
//!
//! Durability does not change: in WAL mode a commit is durable once it is in the WAL; a
//! checkpoint only moves pages into the database file, and one cut short by a crash or an exit
//! is redone from the WAL. So neither connection checkpoints when it closes (exit never waits on
//! an fsync); a WAL left large is copied once the next process's writer is quiet.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc::{RecvTimeoutError, SyncSender, sync_channel};
use std::time::Duration;

use rusqlite::Connection;
use rusqlite::config::DbConfig;

use super::{StoreError, configure};

/// WAL frames (pages) after which a commit wakes the checkpoint: SQLite's own default.
const CHECKPOINT_PAGES: i32 = 1000;
/// How long the writer must have been quiet before the WAL is copied.
const QUIET: Duration = Duration::from_millis(250);
/// WAL frames (64 MB of 4 KB pages) past which the copy starts without waiting for quiet, and
/// the writer copies (and empties) the WAL itself when it closes: processes too short to see a
/// quiet moment (a cron job's syncs) still keep the WAL bounded.
pub(super) const MAX_WAL_PAGES: i32 = 16_000;

/// The checkpoint thread. It ends when the writer's connection (which holds the only other
/// sender) and this are dropped; it is not waited for, so closing never waits on an fsync.
pub(super) struct Checkpointer {
    _wake: SyncSender<()>,
    /// The WAL's frames after the writer's last commit (at first, what a process left).
    frames: Arc<AtomicI32>,
    /// Frames past which the WAL is copied at once ([`MAX_WAL_PAGES`]).
    cap: i32,
}

impl Checkpointer {
    /// Starts the thread and makes `writer`'s commits wake it (instead of checkpointing
    /// themselves). Where no thread can be started, SQLite's own checkpoint stays.
    pub(super) fn start(
        path: &Path,
        writer: &mut Connection,
        cap: i32,
    ) -> Result<Checkpointer, StoreError> {
        let own = Connection::open(path)?;
        configure(&own)?;
        own.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
        // One wake-up waiting is enough: a checkpoint copies every frame committed before it,
        // and the waiting below only needs to know that commits still come.
        let (wake, woken) = sync_channel::<()>(1);
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let left = std::fs::metadata(&wal).map_or(0, |m| m.len());
        let page: i64 = writer.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        // A frame is a page and its 24-byte header.
        let left_frames = (left / (page.max(512) as u64 + 24)).min(i32::MAX as u64) as i32;
        let frames = Arc::new(AtomicI32::new(left_frames));
        let seen = frames.clone();
        let started = std::thread::Builder::new()
            .name("almanac-checkpoint".into())
            .spawn(move || {
                while woken.recv().is_ok() {
                    // Wait for the writer to be quiet (or the WAL too large); a writer that
                    // closes meanwhile leaves the copy to the next one.
                    while seen.load(Ordering::Relaxed) < cap {
                        match woken.recv_timeout(QUIET) {
                            Ok(()) => continue,
                            Err(RecvTimeoutError::Timeout) => break,
                            Err(RecvTimeoutError::Disconnected) => return,
                        }
                    }
                    // Not checkpointing is never an error: the WAL keeps everything meanwhile.
                    let _ = own.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                }
            });
        let this = |wake| Checkpointer {
            _wake: wake,
            frames: frames.clone(),
            cap,
        };
        if started.is_err() {
            // SQLite's own checkpoint stays; never "large" here.
            frames.store(0, Ordering::Relaxed);
            return Ok(this(wake));
        }
        writer.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
        let hook = wake.clone();
        // Replaces SQLite's automatic checkpoint (which is itself a WAL hook).
        let count = frames.clone();
        writer.wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, pages: i32| {
            count.store(pages, Ordering::Relaxed);
            if pages >= CHECKPOINT_PAGES {
                let _ = hook.try_send(());
            }
            Ok(())
        }))?;
        // A WAL a process left large (it closed before the writer was quiet) is copied once
        // this one's writer is.
        if left_frames >= CHECKPOINT_PAGES {
            let _ = wake.try_send(());
        }
        Ok(this(wake))
    }

    /// Whether the WAL is past the cap: the writer then copies it as it closes.
    pub(super) fn wal_is_large(&self) -> bool {
        self.frames.load(Ordering::Relaxed) >= self.cap
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::super::{DB_FILE, Store};

    /// Writes `commits` commits of 256 pages (1 MB) each into a `filler` table.
    fn fill(store: &mut Store, commits: usize) {
        store
            .conn
            .execute_batch("CREATE TABLE IF NOT EXISTS filler (x BLOB)")
            .unwrap();
        for _ in 0..commits {
            let tx = store.conn.transaction().unwrap();
            for _ in 0..256 {
                tx.execute("INSERT INTO filler VALUES (randomblob(4096))", [])
                    .unwrap();
            }
            tx.commit().unwrap();
        }
    }

    fn rows(store: &Store) -> i64 {
        store
            .conn
            .query_row("SELECT count(*) FROM filler", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn the_wal_is_copied_into_the_database_by_the_thread_and_nothing_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let db = dir.path().join(DB_FILE);
        let before = std::fs::metadata(&db).unwrap().len();
        // 12 MB in 12 commits: 3,000 pages, past the threshold three times over.
        fill(&mut store, 12);
        // The writer's commits never checkpoint (SQLite's own checkpoint is replaced): pages
        // reach the database file only through the thread.
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::fs::metadata(&db).unwrap().len() < before + 4_000_000 {
            assert!(Instant::now() < deadline, "no checkpoint within 20 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(store);
        assert_eq!(rows(&Store::open(dir.path()).unwrap()), 12 * 256);
    }

    #[test]
    fn a_wal_past_its_cap_is_emptied_when_the_writer_closes() {
        let dir = tempfile::tempdir().unwrap();
        let wal = dir.path().join(format!("{DB_FILE}-wal"));
        // Under the cap, closing leaves the WAL (a short process never waits on a copy).
        let mut store = Store::open_with_wal_cap(dir.path(), 100_000).unwrap();
        fill(&mut store, 4);
        drop(store);
        assert!(std::fs::metadata(&wal).unwrap().len() > 1_000 * 4096);
        // Past it (a process that opens a large WAL, writes and closes at once), closing copies
        // and empties it.
        let mut store = Store::open_with_wal_cap(dir.path(), 500).unwrap();
        fill(&mut store, 4);
        drop(store);
        assert_eq!(std::fs::metadata(&wal).map_or(0, |m| m.len()), 0);
        assert_eq!(rows(&Store::open(dir.path()).unwrap()), 8 * 256);
    }
}
