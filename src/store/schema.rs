//! The cache schema and its migrations. The version lives in `PRAGMA user_version`.

use rusqlite::Connection;

use super::StoreError;

/// Each entry migrates from version `index` to `index + 1`. Append only; never edit a shipped one.
const MIGRATIONS: &[&str] = &[
    // 1: everything the client needs: accounts, calendars, items as received, normalised events,
    //    local edits waiting to be pushed, conflicts, and the history of sync runs.
    r#"
    CREATE TABLE accounts (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        kind        TEXT NOT NULL,             -- caldav | google | graph | ics
        url         TEXT,
        created_at  INTEGER NOT NULL
    );
    CREATE TABLE calendars (
        id            INTEGER PRIMARY KEY,
        account_id    INTEGER REFERENCES accounts(id) ON DELETE CASCADE,   -- NULL: a local calendar
        remote_id     TEXT,                    -- href, Google or Graph id
        name          TEXT NOT NULL,
        color         TEXT,
        hidden        INTEGER NOT NULL DEFAULT 0,
        is_sample     INTEGER NOT NULL DEFAULT 0,
        sample_anchor TEXT,                    -- the Monday the bundled sample was shifted to
        strategy      TEXT,
        sync_token    TEXT,
        ctag          TEXT,
        last_sync     INTEGER,
        last_error    TEXT,
        UNIQUE (account_id, remote_id)
    );
    CREATE UNIQUE INDEX calendars_local_name ON calendars(name) WHERE account_id IS NULL;
    CREATE TABLE items (
        id            INTEGER PRIMARY KEY,
        calendar_id   INTEGER NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
        href          TEXT NOT NULL,
        uid           TEXT,
        etag          TEXT,                    -- byte for byte as the server sent it
        raw           TEXT NOT NULL,           -- the source as received
        parse_error   TEXT,
        updated_at    INTEGER NOT NULL,
        confirmed_at  INTEGER,                 -- last time the server confirmed this etag
        UNIQUE (calendar_id, href)
    );
    CREATE INDEX items_by_uid ON items(calendar_id, uid);
    CREATE TABLE events (
        id              INTEGER PRIMARY KEY,
        item_id         INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        calendar_id     INTEGER NOT NULL,
        uid             TEXT NOT NULL,
        recurrence_kind TEXT,
        recurrence_key  INTEGER,
        summary         TEXT NOT NULL,
        location        TEXT,
        description     TEXT,
        status          TEXT,
        start_kind      TEXT NOT NULL,         -- date | instant | floating
        start_key       INTEGER NOT NULL,      -- see When::key
        end_kind        TEXT NOT NULL,
        end_key         INTEGER NOT NULL,
        tzid            TEXT,
        rrule           TEXT,
        series          TEXT,                  -- JSON SeriesSpec of a recurring master, else NULL
        series_end_key  INTEGER,               -- past the end of the series' last instance; NULL when unbounded
        long            INTEGER NOT NULL       -- 1 when longer than the short-event span
    );
    -- The month load reads only these indexes (they cover every column it needs), in start order.
    CREATE INDEX events_short  ON events(start_key, end_key, calendar_id, id, uid, recurrence_kind,
        recurrence_key, summary, location, status, start_kind, end_kind, tzid) WHERE series IS NULL AND long = 0;
    CREATE INDEX events_long   ON events(start_key, end_key, calendar_id, id, uid, recurrence_kind,
        recurrence_key, summary, location, status, start_kind, end_kind, tzid) WHERE series IS NULL AND long = 1;
    CREATE INDEX events_series ON events(start_key) WHERE series IS NOT NULL;
    CREATE INDEX events_by_item ON events(item_id);
    CREATE TABLE pending (
        id           INTEGER PRIMARY KEY,
        calendar_id  INTEGER NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
        item_id      INTEGER REFERENCES items(id) ON DELETE SET NULL,
        href         TEXT NOT NULL,
        uid          TEXT NOT NULL,
        op           TEXT NOT NULL CHECK (op IN ('create', 'update', 'delete')),
        base_etag    TEXT,
        raw          TEXT,
        created_at   INTEGER NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        last_error   TEXT
    );
    CREATE TABLE conflicts (
        id           INTEGER PRIMARY KEY,
        calendar_id  INTEGER NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
        item_id      INTEGER REFERENCES items(id) ON DELETE SET NULL,
        href         TEXT NOT NULL,
        uid          TEXT,
        base_etag    TEXT,
        local_raw    TEXT,                     -- NULL: a local deletion
        remote_etag  TEXT,
        remote_raw   TEXT,                     -- NULL: deleted on the server
        found_at     INTEGER NOT NULL,
        resolved_at  INTEGER,
        resolution   TEXT
    );
    CREATE TABLE sync_runs (
        id           INTEGER PRIMARY KEY,
        calendar_id  INTEGER REFERENCES calendars(id) ON DELETE CASCADE,
        started_at   INTEGER NOT NULL,
        finished_at  INTEGER,
        strategy     TEXT,
        requests     INTEGER NOT NULL DEFAULT 0,
        bytes        INTEGER NOT NULL DEFAULT 0,
        added        INTEGER NOT NULL DEFAULT 0,
        changed      INTEGER NOT NULL DEFAULT 0,
        removed      INTEGER NOT NULL DEFAULT 0,
        error        TEXT
    );
    "#,
    // 2: what sync needs to remember between runs: the discovered calendar home, the components a
    //    calendar holds, the token a PROPFIND showed at the last completed run (it tells only
    //    whether something changed), and when the etag listing was last reconciled in full.
    r#"
    ALTER TABLE accounts ADD COLUMN home_url TEXT;
    ALTER TABLE calendars ADD COLUMN components TEXT;
    ALTER TABLE calendars ADD COLUMN seen_token TEXT;
    ALTER TABLE calendars ADD COLUMN full_sync_at INTEGER;
    ALTER TABLE sync_runs ADD COLUMN duration_ms INTEGER;
    CREATE INDEX sync_runs_by_calendar ON sync_runs(calendar_id, id);
    "#,
    // 3: local edits. A pending change keeps the server copy it was based on (for the conflict
    //    pane's "what changed"), and points at the conflict that holds it back once a push was
    //    refused; one pending change per resource, so later edits fold into it.
    r#"
    ALTER TABLE pending ADD COLUMN base_raw TEXT;
    ALTER TABLE pending ADD COLUMN conflict_id INTEGER REFERENCES conflicts(id) ON DELETE SET NULL;
    CREATE UNIQUE INDEX pending_by_href ON pending(calendar_id, href);
    ALTER TABLE conflicts ADD COLUMN base_raw TEXT;
    ALTER TABLE conflicts ADD COLUMN op TEXT;
    "#,
    // 4: a conflict can also be a change the server refuses for good (403, 415 …): why, in words.
    r#"
    ALTER TABLE conflicts ADD COLUMN reason TEXT;
    "#,
    // 5: a collection's identity (`DAV:resource-id`, else its creation date) as last listed: a
    //    calendar deleted and recreated at the same URL gets a new one, and its old token and
    //    items must not be trusted.
    r#"
    ALTER TABLE calendars ADD COLUMN identity TEXT;
    "#,
    // 6: server items as they were when removed, kept a day: an edit begun on a version that a
    //    pull then removed (deleted on the server while the form was open) is staged on it, and
    //    its push meets the deletion as a conflict, instead of losing what was typed.
    r#"
    CREATE TABLE removed_items (
        item_id     INTEGER NOT NULL,
        calendar_id INTEGER NOT NULL,
        href        TEXT NOT NULL,
        uid         TEXT,
        etag        TEXT NOT NULL,
        raw         TEXT NOT NULL,
        removed_at  INTEGER NOT NULL
    );
    CREATE INDEX removed_items_by_item ON removed_items(item_id);
    CREATE INDEX removed_items_by_age ON removed_items(removed_at);
    CREATE TRIGGER items_removed AFTER DELETE ON items WHEN OLD.etag IS NOT NULL
    BEGIN
        DELETE FROM removed_items
         WHERE removed_at < CAST(strftime('%s', 'now') AS INTEGER) - 86400;
        INSERT INTO removed_items (item_id, calendar_id, href, uid, etag, raw, removed_at)
        VALUES (OLD.id, OLD.calendar_id, OLD.href, OLD.uid, OLD.etag, OLD.raw,
                CAST(strftime('%s', 'now') AS INTEGER));
    END;
    "#,
    // 7: an account's own state, for an account that cannot be reached (it has no calendars to
    //    carry an error): its last run, that run's error, and when the engine tries next.
    r#"
    ALTER TABLE accounts ADD COLUMN last_run INTEGER;
    ALTER TABLE accounts ADD COLUMN last_error TEXT;
    ALTER TABLE accounts ADD COLUMN next_run INTEGER;
    "#,
    // 8: the text last sent for a pending change whose answer never came (a crash, a cut, a run
    //    ended): a 412 later is judged against that write, not against an edit folded in since.
    r#"
    ALTER TABLE pending ADD COLUMN sent_raw TEXT;
    "#,
    // 9: every remote's items in its own format (`ical`, or `google`: a JSON array of one
    //    series' Google event resources), and calendars the person may not change (a
    //    subscription, a calendar shared read-only).
    r#"
    ALTER TABLE items ADD COLUMN format TEXT NOT NULL DEFAULT 'ical';
    ALTER TABLE calendars ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0;
    "#,
    // 10: an account's own cursor (Google's calendar list sync token).
    r#"
    ALTER TABLE accounts ADD COLUMN cursor TEXT;
    "#,
    // 11: Graph's occurrences and exceptions, by their own ids, with the series they belong to:
    //    a removal names only an occurrence's id (PROTOCOLS.md §3 "Items, removals, series").
    //    Ids are case-sensitive (binary collation, SQLite's default).
    r#"
    CREATE TABLE graph_members (
        calendar_id    INTEGER NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
        id             TEXT NOT NULL,
        series         TEXT NOT NULL,
        original_start INTEGER NOT NULL,
        PRIMARY KEY (calendar_id, id)
    ) WITHOUT ROWID;
    CREATE INDEX graph_members_series ON graph_members (calendar_id, series);
    "#,
    // 12: search. Each event's attendees ("Name address" lines), and a full-text index over
    //    summary, location, description and attendees that triggers keep in step with `events`
    //    inside the same transaction (store/search.rs). The attendees of rows already cached are
    //    read from their items by `search::after_migration`, through the triggers.
    r#"
    ALTER TABLE events ADD COLUMN attendees TEXT;
    CREATE VIRTUAL TABLE events_fts USING fts5(
        summary, location, description, attendees,
        content = 'events', content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
    );
    CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN
        INSERT INTO events_fts (rowid, summary, location, description, attendees)
        VALUES (new.id, new.summary, new.location, new.description, new.attendees);
    END;
    CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
        INSERT INTO events_fts (events_fts, rowid, summary, location, description, attendees)
        VALUES ('delete', old.id, old.summary, old.location, old.description, old.attendees);
    END;
    CREATE TRIGGER events_fts_update AFTER UPDATE ON events BEGIN
        INSERT INTO events_fts (events_fts, rowid, summary, location, description, attendees)
        VALUES ('delete', old.id, old.summary, old.location, old.description, old.attendees);
        INSERT INTO events_fts (rowid, summary, location, description, attendees)
        VALUES (new.id, new.summary, new.location, new.description, new.attendees);
    END;
    INSERT INTO events_fts (events_fts) VALUES ('rebuild');
    "#,
    // 13: reminders. Each event's
    //    shown alarms, the instants they fire (single events all, series up to the horizon), and
    //    what became of each firing: claimed by one INSERT, so it fires once (store/reminders.rs).
    r#"
    CREATE TABLE event_alarms (
        event_id INTEGER PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
        alarms   TEXT NOT NULL                 -- JSON [[index among the VALARMs, alarm], ...]
    );
    CREATE TABLE alarm_times (
        event_id    INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
        alarm_index INTEGER NOT NULL,
        fire_at     INTEGER NOT NULL,          -- UTC seconds
        rid         TEXT NOT NULL,             -- the occurrence's RECURRENCE-ID as kind:key, '' if none
        rid_kind    TEXT,
        rid_key     INTEGER,
        start_kind  TEXT NOT NULL,
        start_key   INTEGER NOT NULL,
        series      INTEGER NOT NULL           -- 1: an instance of a series, indexed to the horizon
    );
    CREATE INDEX alarm_times_by_time ON alarm_times(fire_at);
    CREATE INDEX alarm_times_by_event ON alarm_times(event_id);
    CREATE TABLE alarm_horizon (
        id    INTEGER PRIMARY KEY CHECK (id = 1),
        zone  TEXT NOT NULL,                   -- all-day and floating times are read in it
        since INTEGER NOT NULL,
        upto  INTEGER NOT NULL
    );
    CREATE TABLE reminder_state (
        calendar_id INTEGER NOT NULL,
        uid         TEXT NOT NULL,
        rid         TEXT NOT NULL,
        alarm_index INTEGER NOT NULL,
        alarm_at    INTEGER NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('fired', 'snoozed', 'dismissed')),
        again_at    INTEGER,                   -- a snoozed one's new time
        changed_at  INTEGER NOT NULL,
        PRIMARY KEY (calendar_id, uid, rid, alarm_index, alarm_at)
    ) WITHOUT ROWID;
    CREATE INDEX reminder_state_snoozed ON reminder_state(again_at) WHERE state = 'snoozed';
    "#,
    // 14: an event's search row is written by `items::insert_events`, right after the event, not
    //    by a trigger. An INSERT that fires a trigger writing to FTS5 opens a statement
    //    savepoint, and FTS5 writes its pending terms to disk at every savepoint: a new segment
    //    (and merges) for each event, a fifth of a first sync's time. Deletes and updates keep
    //    their triggers (they need the old values, and are few).
    r#"
    DROP TRIGGER events_fts_insert;
    "#,
];

/// The schema version this build writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the schema to [`VERSION`], one transaction per step. Refuses a cache made by a newer build.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > VERSION {
        return Err(StoreError::TooNew {
            found,
            supported: VERSION,
        });
    }
    for (from, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        super::search::after_migration(&tx, from as i64 + 1)?;
        tx.pragma_update(None, "user_version", from as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}
