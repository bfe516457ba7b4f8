//! What sync writes: accounts, the calendars a server lists, items as received with their etags, and
//! the history of runs. Each page of changes and the token that covers it are one transaction.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, Transaction, params};

use super::items::insert_events;
use super::{Store, StoreError};
use crate::domain::format::{Format, read_item};

/// An account as the cache knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    pub id: i64,
    /// The calendar home found by discovery, once found.
    pub home_url: Option<String>,
}

/// A calendar as a server lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteCalendar {
    /// Its URL (CalDAV) or id (Google, Graph): stable across renames.
    pub remote_id: String,
    pub name: String,
    pub color: Option<String>,
    /// The component types it holds (`VEVENT`, `VTODO`, …); empty when the server does not say.
    pub components: Vec<String>,
}

/// Which calendars appeared, were renamed or vanished.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CalendarsChange {
    pub added: Vec<String>,
    pub renamed: Vec<(String, String)>,
    pub removed: Vec<String>,
}

/// A remote calendar's sync state, as the last completed run left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarSync {
    pub id: i64,
    pub remote_id: String,
    pub name: String,
    pub strategy: Option<String>,
    /// The last token a sync REPORT returned (the only kind used to ask what changed).
    pub sync_token: Option<String>,
    pub ctag: Option<String>,
    /// The token a PROPFIND showed when the last run completed.
    pub seen_token: Option<String>,
    pub full_sync_at: Option<i64>,
    pub components: Vec<String>,
}

/// One resource as fetched from the server.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchedItem {
    pub href: String,
    /// Byte for byte as received (`"abc"` or `W/"abc"`).
    pub etag: Option<String>,
    /// The body as received.
    pub raw: String,
    /// Why the body cannot be read although it arrived (invalid UTF-8: `raw` then holds it with
    /// replacement characters). Such an item is kept and listed as unreadable, never shown.
    pub problem: Option<String>,
    /// `raw` already read, when the remote read it on the way in (Graph's items, read from the
    /// page they came in, while the page before is written); `None`: the store reads `raw`.
    pub read: Option<crate::domain::ParsedCalendar>,
}

/// What a run learned about a calendar's state, stored with the changes it covers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StateUpdate {
    pub strategy: String,
    /// `Some` replaces the stored token; `None` keeps it.
    pub sync_token: Option<String>,
    pub ctag: Option<String>,
    pub seen_token: Option<String>,
    /// True when this run reconciled the full etag listing.
    pub full: bool,
}

/// A page of changes for one calendar, applied in one transaction.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChangeSet {
    pub upserts: Vec<FetchedItem>,
    pub removals: Vec<String>,
    /// The state that covers this page; written in the same transaction.
    pub state: Option<StateUpdate>,
}

/// What applying a page did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied {
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    /// Items kept raw because they cannot be read: (href, reason).
    pub unreadable: Vec<(String, String)>,
}

/// One finished (or failed) run, for the sync pane and `almanac status`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub started_at: i64,
    pub finished_at: i64,
    pub duration_ms: u64,
    pub strategy: String,
    pub requests: u64,
    pub bytes: u64,
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub error: Option<String>,
}

impl Store {
    /// The account called `name`, created if new; its kind and URL follow the config.
    pub fn account(
        &mut self,
        name: &str,
        kind: &str,
        url: &str,
        now: i64,
    ) -> Result<AccountRow, StoreError> {
        let tx = self.write()?;
        let found: Option<(i64, Option<String>, Option<String>)> = tx
            .query_row(
                "SELECT id, url, home_url FROM accounts WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let row = match found {
            Some((id, old_url, home)) => {
                // A new server URL makes the discovered home meaningless.
                let home = if old_url.as_deref() == Some(url) {
                    home
                } else {
                    None
                };
                tx.execute(
                    "UPDATE accounts SET kind = ?2, url = ?3, home_url = ?4 WHERE id = ?1",
                    params![id, kind, url, home],
                )?;
                AccountRow { id, home_url: home }
            }
            None => {
                tx.execute(
                    "INSERT INTO accounts (name, kind, url, created_at) VALUES (?1, ?2, ?3, ?4)",
                    params![name, kind, url, now],
                )?;
                AccountRow {
                    id: tx.last_insert_rowid(),
                    home_url: None,
                }
            }
        };
        tx.commit()?;
        Ok(row)
    }

    /// The account name and calendar name of a synced calendar; `None` for a local one.
    pub fn calendar_owner(&self, calendar: i64) -> Result<Option<(String, String)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT a.name, c.name FROM calendars c JOIN accounts a ON a.id = c.account_id
                  WHERE c.id = ?1",
                [calendar],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Removes the bundled sample calendar (the person's own calendars have arrived).
    pub fn drop_sample(&mut self) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .execute("DELETE FROM calendars WHERE is_sample = 1", [])?
            > 0)
    }

    /// Remembers where discovery found the account's calendars.
    pub fn set_home_url(&mut self, account: i64, url: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE accounts SET home_url = ?2 WHERE id = ?1",
            params![account, url],
        )?;
        Ok(())
    }

    /// Removes accounts no longer in the config, with their calendars and items.
    pub fn retain_accounts(&mut self, names: &[&str]) -> Result<Vec<String>, StoreError> {
        let all: Vec<String> = {
            let mut stmt = self.conn.prepare("SELECT name FROM accounts")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        let gone: Vec<String> = all
            .into_iter()
            .filter(|n| !names.contains(&n.as_str()))
            .collect();
        for name in &gone {
            self.conn
                .execute("DELETE FROM accounts WHERE name = ?1", [name])?;
        }
        Ok(gone)
    }

    /// Makes the account's calendars match what the server lists: new ones added, names, colours and
    /// components updated, vanished ones removed with their items. One transaction.
    pub fn reconcile_calendars(
        &mut self,
        account: i64,
        listed: &[RemoteCalendar],
    ) -> Result<CalendarsChange, StoreError> {
        let tx = self.write()?;
        let mut change = CalendarsChange::default();
        let known: Vec<(i64, String, String)> = {
            let mut stmt =
                tx.prepare("SELECT id, remote_id, name FROM calendars WHERE account_id = ?1")?;
            stmt.query_map([account], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()?
        };
        for cal in listed {
            let components = cal.components.join(",");
            match known.iter().find(|(_, rid, _)| *rid == cal.remote_id) {
                Some((id, _, old)) => {
                    if *old != cal.name {
                        change.renamed.push((old.clone(), cal.name.clone()));
                    }
                    tx.execute(
                        "UPDATE calendars SET name = ?2, color = COALESCE(?3, color), components = ?4
                          WHERE id = ?1",
                        params![id, cal.name, cal.color, components],
                    )?;
                }
                None => {
                    let color = cal
                        .color
                        .clone()
                        .unwrap_or_else(|| super::default_color(&cal.name).to_string());
                    tx.execute(
                        "INSERT INTO calendars (account_id, remote_id, name, color, components)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![account, cal.remote_id, cal.name, color, components],
                    )?;
                    change.added.push(cal.name.clone());
                }
            }
        }
        for (id, rid, name) in &known {
            // A calendar holding local edits not yet pushed is kept until they are settled.
            let pending: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM pending WHERE calendar_id = ?1)",
                [id],
                |r| r.get(0),
            )?;
            if !pending && !listed.iter().any(|c| c.remote_id == *rid) {
                tx.execute("DELETE FROM calendars WHERE id = ?1", [id])?;
                change.removed.push(name.clone());
            }
        }
        tx.commit()?;
        Ok(change)
    }

    /// Records how an account's run ended: when, and the error that ended it (`None`: it ran).
    /// The account is created if it is not known yet (a run that failed before reaching it).
    pub fn note_account_run(
        &mut self,
        name: &str,
        kind: &str,
        url: &str,
        error: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        let row = self.account(name, kind, url, now)?;
        let tx = self.write()?;
        tx.execute(
            "UPDATE accounts SET last_run = ?2, last_error = ?3 WHERE id = ?1",
            params![row.id, now, error],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Records when the engine tries an account next (Unix seconds).
    pub fn note_next_run(&mut self, name: &str, at: i64) -> Result<(), StoreError> {
        let tx = self.write()?;
        tx.execute(
            "UPDATE accounts SET next_run = ?2 WHERE name = ?1",
            params![name, at],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Records a calendar's identity as listed now. When a different one was recorded before (the
    /// collection was deleted and recreated at the same URL), its token, ctag and last full
    /// listing are forgotten, and `true` says so.
    pub fn note_identity(&mut self, calendar: i64, identity: &str) -> Result<bool, StoreError> {
        let tx = self.write()?;
        let known: Option<Option<String>> = tx
            .query_row(
                "SELECT identity FROM calendars WHERE id = ?1",
                [calendar],
                |r| r.get(0),
            )
            .optional()?;
        let recreated = matches!(&known, Some(Some(old)) if old != identity);
        if recreated {
            tx.execute(
                "UPDATE calendars SET sync_token = NULL, ctag = NULL, seen_token = NULL,
                        full_sync_at = NULL WHERE id = ?1",
                [calendar],
            )?;
        }
        if known
            .as_ref()
            .is_some_and(|k| k.as_deref() != Some(identity))
        {
            tx.execute(
                "UPDATE calendars SET identity = ?2 WHERE id = ?1",
                params![calendar, identity],
            )?;
        }
        tx.commit()?;
        Ok(recreated)
    }

    /// The sync state of every calendar of an account, in id order.
    pub fn calendar_syncs(&self, account: i64) -> Result<Vec<CalendarSync>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, remote_id, name, strategy, sync_token, ctag, seen_token, full_sync_at, components
               FROM calendars WHERE account_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([account], |r| {
            Ok(CalendarSync {
                id: r.get(0)?,
                remote_id: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                name: r.get(2)?,
                strategy: r.get(3)?,
                sync_token: r.get(4)?,
                ctag: r.get(5)?,
                seen_token: r.get(6)?,
                full_sync_at: r.get(7)?,
                components: r
                    .get::<_, Option<String>>(8)?
                    .map(|c| {
                        c.split(',')
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every href of a calendar with the etag the cache holds for it.
    pub fn item_etags(&self, calendar: i64) -> Result<HashMap<String, Option<String>>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT href, etag FROM items WHERE calendar_id = ?1")?;
        let rows = stmt.query_map([calendar], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The hrefs of every item the cache holds for `calendar` (read from the index alone).
    pub fn item_hrefs(&self, calendar: i64) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT href FROM items WHERE calendar_id = ?1")?;
        let rows = stmt.query_map([calendar], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Applies one page of changes and the state that covers it, in one transaction. A removal of an
    /// item with a local edit waiting to be pushed is left for the push to settle.
    pub fn apply(
        &mut self,
        calendar: i64,
        page: &ChangeSet,
        now: i64,
    ) -> Result<Applied, StoreError> {
        let tx = self.write()?;
        let mut applied = Applied::default();
        let format = calendar_format(&tx, calendar)?;
        for item in &page.upserts {
            upsert_fetched(&tx, calendar, format, item, now, &mut applied)?;
        }
        {
            let mut remove = tx.prepare_cached(
                "DELETE FROM items WHERE calendar_id = ?1 AND href = ?2
                   AND NOT EXISTS (SELECT 1 FROM pending p WHERE p.calendar_id = ?1 AND p.href = ?2)",
            )?;
            let mut gone = tx.prepare_cached(
                "UPDATE conflicts SET remote_etag = NULL, remote_raw = NULL
                  WHERE calendar_id = ?1 AND href = ?2 AND resolved_at IS NULL",
            )?;
            for href in &page.removals {
                applied.removed += remove.execute(params![calendar, href])?;
                gone.execute(params![calendar, href])?;
            }
        }
        if let Some(state) = &page.state {
            tx.execute(
                "UPDATE calendars SET strategy = ?2, sync_token = COALESCE(?3, sync_token), ctag = ?4,
                        seen_token = ?5, last_sync = ?6, last_error = NULL,
                        full_sync_at = CASE WHEN ?7 THEN ?6 ELSE full_sync_at END
                  WHERE id = ?1",
                params![
                    calendar,
                    state.strategy,
                    state.sync_token,
                    state.ctag,
                    state.seen_token,
                    now,
                    state.full
                ],
            )?;
        }
        tx.commit()?;
        Ok(applied)
    }

    /// Marks a calendar as one the person may not change (a subscription, a read-only share).
    pub fn set_read_only(&mut self, calendar: i64, read_only: bool) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE calendars SET read_only = ?2 WHERE id = ?1 AND read_only <> ?2",
            params![calendar, read_only],
        )?;
        Ok(())
    }

    /// An account's own cursor (Google's calendar list sync token), if it has one.
    pub fn account_cursor(&self, account: i64) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT cursor FROM accounts WHERE id = ?1",
                [account],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()?
            .flatten())
    }

    /// Stores an account's own cursor, after the changes it covers are stored.
    pub fn set_account_cursor(
        &mut self,
        account: i64,
        cursor: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE accounts SET cursor = ?2 WHERE id = ?1",
            params![account, cursor],
        )?;
        Ok(())
    }

    /// The raw text the cache holds for each of `hrefs` in `calendar` that it has.
    pub fn item_raws(
        &self,
        calendar: i64,
        hrefs: &[String],
    ) -> Result<HashMap<String, String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT raw FROM items WHERE calendar_id = ?1 AND href = ?2")?;
        let mut out = HashMap::new();
        for href in hrefs {
            if out.contains_key(href) {
                continue;
            }
            if let Some(raw) = stmt
                .query_row(params![calendar, href], |r| r.get::<_, String>(0))
                .optional()?
            {
                out.insert(href.clone(), raw);
            }
        }
        Ok(out)
    }

    /// Hides a calendar from every view (it keeps syncing).
    pub fn set_hidden(&mut self, calendar: i64, hidden: bool) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE calendars SET hidden = ?2 WHERE id = ?1",
            params![calendar, hidden],
        )?;
        Ok(())
    }

    /// Drops a calendar's stored token (a feed that stopped sending an ETag).
    pub fn forget_token(&mut self, calendar: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE calendars SET sync_token = NULL WHERE id = ?1",
            [calendar],
        )?;
        Ok(())
    }

    /// Stores a calendar's ctag learned without a run (its token showed nothing changed).
    pub fn remember_ctag(&mut self, calendar: i64, ctag: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE calendars SET ctag = ?2 WHERE id = ?1",
            params![calendar, ctag],
        )?;
        Ok(())
    }

    /// Records the outcome of a run; a failed one also sets the calendar's last error.
    pub fn record_run(&mut self, calendar: i64, run: &RunRecord) -> Result<(), StoreError> {
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO sync_runs (calendar_id, started_at, finished_at, strategy, requests, bytes,
                                    added, changed, removed, error, duration_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                calendar,
                run.started_at,
                run.finished_at,
                run.strategy,
                run.requests as i64,
                run.bytes as i64,
                run.added as i64,
                run.changed as i64,
                run.removed as i64,
                run.error,
                run.duration_ms as i64
            ],
        )?;
        tx.execute(
            "UPDATE calendars SET last_error = ?2 WHERE id = ?1",
            params![calendar, run.error],
        )?;
        // History is for the pane, not an archive.
        tx.execute(
            "DELETE FROM sync_runs WHERE calendar_id = ?1 AND id NOT IN
               (SELECT id FROM sync_runs WHERE calendar_id = ?1 ORDER BY id DESC LIMIT 50)",
            [calendar],
        )?;
        tx.commit()?;
        Ok(())
    }
}

/// The format a calendar's items come in, from its account's kind (local calendars: iCalendar).
pub(crate) fn calendar_format(
    tx: &rusqlite::Connection,
    calendar: i64,
) -> Result<Format, StoreError> {
    let kind: Option<String> = tx
        .query_row(
            "SELECT a.kind FROM calendars c JOIN accounts a ON a.id = c.account_id WHERE c.id = ?1",
            [calendar],
            |r| r.get(0),
        )
        .optional()?;
    Ok(match kind.as_deref() {
        Some("google") => Format::GoogleJson,
        Some("graph") => Format::GraphJson,
        _ => Format::ICalendar,
    })
}

/// Stores one fetched resource: its raw text and etag always, its events when it can be read.
fn upsert_fetched(
    tx: &Transaction<'_>,
    calendar: i64,
    format: Format,
    item: &FetchedItem,
    now: i64,
    applied: &mut Applied,
) -> Result<(), StoreError> {
    let owned;
    let parsed = match &item.read {
        Some(read) => read,
        None => {
            owned = read_item(format, &item.raw);
            &owned
        }
    };
    // An item's events, borrowed when (as almost always) the text held one item.
    let joined: Vec<crate::domain::Event>;
    let events: &[crate::domain::Event] = match parsed.items.as_slice() {
        [one] => &one.events,
        many => {
            joined = many.iter().flat_map(|i| i.events.clone()).collect();
            &joined
        }
    };
    let uid = parsed.items.first().map(|i| i.uid.clone());
    let error = if let Some(problem) = &item.problem {
        Some(problem.clone())
    } else if events.is_empty() {
        Some(
            parsed
                .errors
                .first()
                .map(|e| e.to_string())
                .unwrap_or_else(|| "no VEVENT in this resource".to_string()),
        )
    } else {
        None
    };
    // A new item is inserted at once (a first sync's every item); only when the href is taken
    // is the cached one looked up and replaced.
    let inserted = tx
        .prepare_cached(
            "INSERT INTO items (calendar_id, href, uid, etag, raw, parse_error, updated_at, confirmed_at, format)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)
             ON CONFLICT (calendar_id, href) DO NOTHING",
        )?
        .execute(params![calendar, item.href, uid, item.etag, item.raw, error, now, format.as_str()])?;
    let id = if inserted == 1 {
        applied.added += 1;
        tx.last_insert_rowid()
    } else {
        let (id, pending): (i64, bool) = tx
            .prepare_cached(
                "SELECT i.id, EXISTS (SELECT 1 FROM pending p WHERE p.calendar_id = ?1 AND p.href = ?2)
                   FROM items i WHERE i.calendar_id = ?1 AND i.href = ?2",
            )?
            .query_row(params![calendar, item.href], |r| Ok((r.get(0)?, r.get(1)?)))?;
        tx.prepare_cached(
            "UPDATE items SET uid = ?2, etag = ?3, raw = ?4, parse_error = ?5, updated_at = ?6,
                    confirmed_at = ?6 WHERE id = ?1",
        )?
        .execute(params![id, uid, item.etag, item.raw, error, now])?;
        if pending {
            // The item keeps the server's copy; the view keeps the local edit until its push
            // settles (a changed server copy makes that push a conflict). An open conflict
            // shows the server's latest, so "keep theirs" never goes back in time.
            tx.prepare_cached(
                "UPDATE conflicts SET remote_etag = ?3, remote_raw = ?4
                  WHERE calendar_id = ?1 AND href = ?2 AND resolved_at IS NULL",
            )?
            .execute(params![calendar, item.href, item.etag, item.raw])?;
            applied.changed += 1;
            return Ok(());
        }
        tx.prepare_cached("DELETE FROM events WHERE item_id = ?1")?
            .execute([id])?;
        applied.changed += 1;
        id
    };
    match error {
        Some(reason) => applied.unreadable.push((item.href.clone(), reason)),
        None => insert_events(tx, id, calendar, events)?,
    }
    Ok(())
}
