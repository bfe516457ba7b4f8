//! Reminders: an index of upcoming alarm instants, and which reminders fired, were snoozed or
//! dismissed.
//!
//! `event_alarms` keeps each event's shown alarms; `alarm_times` holds the instants they fire:
//! every instant of a single event, and a series' instants up to `alarm_horizon.upto` (a couple
//! of days ahead, pushed on as time passes). Both are written with the event rows, in the same
//! transaction, and go with them (ON DELETE CASCADE): a moved event has new instants, a deleted one
//! none. Finding what is due is one range scan on `alarm_times(fire_at)`.
//!
//! `reminder_state` is keyed by calendar, UID, RECURRENCE-ID, alarm index and alarm instant. A
//! reminder is claimed by inserting its row in a write transaction: of two processes (the TUI and
//! `almanac remind`) only one inserts it, so it fires once, across restarts too.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

use super::reader::{OCCURRENCE_COLUMNS, occurrence_from_row};
use super::{Store, StoreError};
use crate::domain::alarm::{Alarm, Trigger, instant_of};
use crate::domain::series::SeriesSpec;
use crate::domain::{Occurrence, When};

/// How far back a reminder that nothing showed is still shown (as missed).
pub const MISSED_WINDOW_SECS: i64 = 24 * 3600;
/// A reminder found this long after its instant is "missed" rather than "due".
pub const DUE_GRACE_SECS: i64 = 5 * 60;
/// How far ahead series instants are indexed, and how close the end may come before it is pushed on.
const HORIZON_SECS: i64 = 2 * 24 * 3600;
const HORIZON_MARGIN_SECS: i64 = 24 * 3600;
/// State rows older than this are forgotten (their alarms are past the missed window long since).
const STATE_KEPT_SECS: i64 = 7 * 24 * 3600;

/// The identity of one firing: an occurrence's alarm at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReminderKey {
    pub calendar_id: i64,
    pub uid: String,
    /// The occurrence's RECURRENCE-ID as `kind:key`, empty for an event that does not repeat.
    pub rid: String,
    pub alarm_index: i64,
    pub alarm_at: i64,
}

/// Why a reminder is shown now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReminderKind {
    /// Its time has just come.
    Due,
    /// Its time passed while nothing ran (within the last 24 h).
    Missed,
    /// It was snoozed and the snooze is over.
    Snoozed,
}

/// A reminder to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    pub key: ReminderKey,
    pub calendar: String,
    pub summary: String,
    pub recurrence_id: Option<When>,
    pub start: When,
    pub alarm_at: DateTime<Utc>,
    pub kind: ReminderKind,
}

/// The span of alarm instants indexed for series, and the zone all-day and floating times were
/// read in.
#[derive(Debug, Clone, PartialEq)]
struct Horizon {
    zone: Tz,
    since: i64,
    upto: i64,
}

/// Remembers an event row's shown alarms (with their index among all its VALARMs). Called for each
/// event row as it is written.
pub(crate) fn remember_alarms(
    tx: &Transaction<'_>,
    event_id: i64,
    alarms: &[Alarm],
) -> Result<(), StoreError> {
    let shown: Vec<(usize, &Alarm)> = alarms
        .iter()
        .enumerate()
        .filter(|(_, a)| a.shown())
        .collect();
    if shown.is_empty() {
        return Ok(());
    }
    let json = serde_json::to_string(&shown).expect("alarms serialise");
    tx.prepare_cached("INSERT INTO event_alarms (event_id, alarms) VALUES (?1, ?2)")?
        .execute(params![event_id, json])?;
    Ok(())
}

/// Indexes the alarm instants of one item's event rows (just written), within the horizon. Nothing
/// when no process has asked for reminders yet: the first one indexes everything.
pub(crate) fn index_item(tx: &Transaction<'_>, item_id: i64) -> Result<(), StoreError> {
    let Some(h) = horizon(tx)? else {
        return Ok(());
    };
    index_rows(tx, "e.item_id = ?1", item_id, &h, h.since, h.upto)
}

fn horizon(conn: &Connection) -> Result<Option<Horizon>, StoreError> {
    let row: Option<(String, i64, i64)> = conn
        .prepare_cached("SELECT zone, since, upto FROM alarm_horizon WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    Ok(row.and_then(|(zone, since, upto)| {
        Some(Horizon {
            zone: zone.parse().ok()?,
            since,
            upto,
        })
    }))
}

/// Writes the instants in `(lo, hi]` of the rows `filter` selects (`?1` is `arg`); a single
/// event's instants after `lo` all go in, however far ahead.
fn index_rows(
    tx: &Transaction<'_>,
    filter: &str,
    arg: i64,
    h: &Horizon,
    lo: i64,
    hi: i64,
) -> Result<(), StoreError> {
    let sql = format!(
        "SELECT {OCCURRENCE_COLUMNS}, series, a.alarms FROM events e
           JOIN event_alarms a ON a.event_id = e.id WHERE {filter}"
    );
    let mut select = tx.prepare_cached(&sql)?;
    let rows = select.query_map([arg], |r| {
        Ok((
            occurrence_from_row(r)?,
            r.get::<_, Option<String>>(13)?,
            r.get::<_, String>(14)?,
        ))
    })?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO alarm_times (event_id, alarm_index, fire_at, rid, rid_kind, rid_key,
                                  start_kind, start_key, series)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for row in rows {
        let (master, series, alarms) = row?;
        let Ok(alarms) = serde_json::from_str::<Vec<(usize, Alarm)>>(&alarms) else {
            continue;
        };
        let occurrences = match series.as_deref() {
            None => vec![master],
            Some(json) => match series_occurrences(&master, json, &alarms, lo, hi, &h.zone) {
                Ok(list) => list,
                Err(reason) => {
                    tracing::warn!(uid = %master.uid, %reason, "no reminders for a series that cannot be expanded");
                    continue;
                }
            },
        };
        for occ in occurrences.iter().filter(|o| !o.cancelled()) {
            let (start, end) = (instant_of(occ.start, &h.zone), instant_of(occ.end, &h.zone));
            for (index, alarm) in &alarms {
                // A fixed instant belongs to the event, not to each instance of a series.
                if series.is_some() && matches!(alarm.trigger, Trigger::At(_)) {
                    continue;
                }
                for at in alarm.instants(start, end) {
                    let at = at.timestamp();
                    if at <= lo || (series.is_some() && at > hi) {
                        continue;
                    }
                    insert.execute(params![
                        occ.event_id,
                        *index as i64,
                        at,
                        rid_text(occ.recurrence_id),
                        occ.recurrence_id.map(|r| r.kind()),
                        occ.recurrence_id.map(|r| r.key()),
                        occ.start.kind(),
                        occ.start.key(),
                        series.is_some(),
                    ])?;
                }
            }
        }
    }
    Ok(())
}

/// The instances of a series whose alarms can fire in `(lo, hi]`.
fn series_occurrences(
    master: &Occurrence,
    json: &str,
    alarms: &[(usize, Alarm)],
    lo: i64,
    hi: i64,
    zone: &Tz,
) -> Result<Vec<Occurrence>, String> {
    let spec: SeriesSpec = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let length = (master.end.key() - master.start.key()).max(0);
    let reach: Vec<(i64, i64)> = alarms.iter().filter_map(|(_, a)| a.reach(length)).collect();
    let (Some(earliest), Some(latest)) = (
        reach.iter().map(|r| r.0).min(),
        reach.iter().map(|r| r.1).max(),
    ) else {
        return Ok(Vec::new());
    };
    // Starts s with s + offset in (lo, hi], a day wider on each side for zones and all-day times.
    let day = |secs: i64| -> NaiveDate {
        DateTime::<Utc>::from_timestamp(secs, 0)
            .unwrap_or_default()
            .with_timezone(zone)
            .date_naive()
    };
    let from = day(lo - latest) - Duration::days(1);
    let to = day(hi - earliest) + Duration::days(1);
    let mut out = Vec::new();
    spec.occurrences_into(master, from, to, |_| true, &mut out)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

fn rid_text(rid: Option<When>) -> String {
    rid.map_or_else(String::new, |r| format!("{}:{}", r.kind(), r.key()))
}

impl Store {
    /// Claims the reminders due at `now` (their time has come, or a snooze ended, within the last
    /// 24 h and not yet fired), in alarm order. Each is returned to one caller only, whichever
    /// process asks first. All-day and floating times are read in `zone`.
    pub fn claim_reminders(
        &mut self,
        now: DateTime<Utc>,
        zone: &Tz,
    ) -> Result<Vec<Reminder>, StoreError> {
        self.keep_horizon(now, zone)?;
        let now_s = now.timestamp();
        let tx = self.write()?;
        let mut claimed = Vec::new();
        {
            let mut fresh = tx.prepare_cached(
                "INSERT OR IGNORE INTO reminder_state
                    (calendar_id, uid, rid, alarm_index, alarm_at, state, changed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'fired', ?6)",
            )?;
            let missed_or_due = due(&tx, now_s - MISSED_WINDOW_SECS, now_s, now_s)?;
            claim(&mut fresh, missed_or_due, now_s, &mut claimed)?;
            let mut woken = tx.prepare_cached(
                "UPDATE reminder_state SET state = 'fired', again_at = NULL, changed_at = ?6
                  WHERE calendar_id = ?1 AND uid = ?2 AND rid = ?3 AND alarm_index = ?4
                    AND alarm_at = ?5 AND state = 'snoozed'",
            )?;
            claim(&mut woken, snoozed_due(&tx, now_s)?, now_s, &mut claimed)?;
        }
        tx.commit()?;
        claimed.sort_by_key(|r| r.alarm_at);
        Ok(claimed)
    }

    /// The reminders whose alarm fires in `(lo, hi]` and that have not fired yet, without claiming
    /// them (what `claim_reminders` looks for; also what is coming up).
    pub fn reminders_between(
        &self,
        lo: DateTime<Utc>,
        hi: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Reminder>, StoreError> {
        due(&self.conn, lo.timestamp(), hi.timestamp(), now.timestamp())
    }

    /// The reminder will not show again.
    pub fn dismiss_reminder(
        &mut self,
        key: &ReminderKey,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.set_reminder_state(key, "dismissed", None, now)
    }

    /// The reminder shows again at `until` (to whichever process claims it then).
    pub fn snooze_reminder(
        &mut self,
        key: &ReminderKey,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.set_reminder_state(key, "snoozed", Some(until.timestamp()), now)
    }

    fn set_reminder_state(
        &mut self,
        key: &ReminderKey,
        state: &str,
        again_at: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO reminder_state
                (calendar_id, uid, rid, alarm_index, alarm_at, state, again_at, changed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (calendar_id, uid, rid, alarm_index, alarm_at)
             DO UPDATE SET state = excluded.state, again_at = excluded.again_at,
                           changed_at = excluded.changed_at",
            params![
                key.calendar_id,
                key.uid,
                key.rid,
                key.alarm_index,
                key.alarm_at,
                state,
                again_at,
                now.timestamp()
            ],
        )?;
        Ok(())
    }

    /// Keeps series instants indexed at least a day ahead of `now`, and everything indexed for
    /// `zone`: the first call (or a new zone) indexes every alarm, later ones only push the series
    /// on. Cheap when nothing is to do (one row read).
    pub fn keep_horizon(&mut self, now: DateTime<Utc>, zone: &Tz) -> Result<(), StoreError> {
        let now = now.timestamp();
        let current = horizon(&self.conn)?;
        if current
            .as_ref()
            .is_some_and(|h| h.zone == *zone && h.upto >= now + HORIZON_MARGIN_SECS)
        {
            return Ok(());
        }
        let tx = self.write()?;
        // Another process may have done it meanwhile.
        let current = horizon(&tx)?;
        let since = now - MISSED_WINDOW_SECS - 3600;
        let upto = now + HORIZON_SECS;
        let next = Horizon {
            zone: *zone,
            since,
            upto,
        };
        match current {
            Some(h) if h.zone == *zone && h.upto >= now + HORIZON_MARGIN_SECS => {}
            Some(h) if h.zone == *zone && h.upto > since => {
                tx.execute(
                    "DELETE FROM alarm_times WHERE series = 1 AND fire_at <= ?1",
                    [since],
                )?;
                index_rows(
                    &tx,
                    "e.series IS NOT NULL AND ?1 = ?1",
                    0,
                    &next,
                    h.upto,
                    upto,
                )?;
                store_horizon(&tx, &next)?;
            }
            _ => {
                tx.execute("DELETE FROM alarm_times", [])?;
                index_rows(&tx, "?1 = ?1", 0, &next, since, upto)?;
                store_horizon(&tx, &next)?;
            }
        }
        tx.execute(
            "DELETE FROM reminder_state WHERE alarm_at < ?1 AND changed_at < ?1",
            [now - STATE_KEPT_SECS],
        )?;
        tx.commit()?;
        Ok(())
    }
}

fn store_horizon(tx: &Transaction<'_>, h: &Horizon) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO alarm_horizon (id, zone, since, upto) VALUES (1, ?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET zone = excluded.zone, since = excluded.since,
                                        upto = excluded.upto",
        params![h.zone.name(), h.since, h.upto],
    )?;
    Ok(())
}

const REMINDER_COLUMNS: &str = "e.calendar_id, e.uid, a.rid, a.alarm_index, a.fire_at, c.name,
    e.summary, a.rid_kind, a.rid_key, a.start_kind, a.start_key";

fn reminder_from_row(r: &rusqlite::Row<'_>, kind: ReminderKind) -> rusqlite::Result<Reminder> {
    let when = |kind: Option<String>, key: Option<i64>| {
        kind.zip(key).and_then(|(k, v)| When::from_key(&k, v))
    };
    let alarm_at: i64 = r.get(4)?;
    Ok(Reminder {
        key: ReminderKey {
            calendar_id: r.get(0)?,
            uid: r.get(1)?,
            rid: r.get(2)?,
            alarm_index: r.get(3)?,
            alarm_at,
        },
        calendar: r.get(5)?,
        summary: r.get(6)?,
        recurrence_id: when(r.get(7)?, r.get(8)?),
        start: when(r.get(9)?, r.get(10)?).unwrap_or(When::Instant(DateTime::UNIX_EPOCH)),
        alarm_at: DateTime::from_timestamp(alarm_at, 0).unwrap_or_default(),
        kind,
    })
}

/// Alarms firing in `(lo, hi]` with no state yet, of calendars that are shown.
fn due(conn: &Connection, lo: i64, hi: i64, now: i64) -> Result<Vec<Reminder>, StoreError> {
    let sql = format!(
        "SELECT {REMINDER_COLUMNS} FROM alarm_times a INDEXED BY alarm_times_by_time
           JOIN events e ON e.id = a.event_id
           JOIN calendars c ON c.id = e.calendar_id
          WHERE a.fire_at > ?1 AND a.fire_at <= ?2 AND c.hidden = 0 AND c.is_sample = 0
            AND NOT EXISTS (SELECT 1 FROM reminder_state s
                             WHERE s.calendar_id = e.calendar_id AND s.uid = e.uid AND s.rid = a.rid
                               AND s.alarm_index = a.alarm_index AND s.alarm_at = a.fire_at)
          ORDER BY a.fire_at"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([lo, hi], |r| {
        let at: i64 = r.get(4)?;
        let kind = if now - at > DUE_GRACE_SECS {
            ReminderKind::Missed
        } else {
            ReminderKind::Due
        };
        reminder_from_row(r, kind)
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Snoozed reminders whose snooze is over and whose alarm still exists (an event moved or deleted
/// meanwhile has lost it).
fn snoozed_due(conn: &Connection, now: i64) -> Result<Vec<Reminder>, StoreError> {
    let sql = format!(
        "SELECT {REMINDER_COLUMNS} FROM reminder_state s
           JOIN alarm_times a ON a.fire_at = s.alarm_at AND a.alarm_index = s.alarm_index
                             AND a.rid = s.rid
           JOIN events e ON e.id = a.event_id AND e.uid = s.uid AND e.calendar_id = s.calendar_id
           JOIN calendars c ON c.id = e.calendar_id
          WHERE s.state = 'snoozed' AND s.again_at <= ?1 AND c.hidden = 0"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([now], |r| reminder_from_row(r, ReminderKind::Snoozed))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Runs `stmt` (its parameters: a reminder's key, then `now`) for each of `list`; the reminders
/// whose row it wrote are this process's to show (another process claimed the others first).
fn claim(
    stmt: &mut rusqlite::CachedStatement<'_>,
    list: Vec<Reminder>,
    now: i64,
    claimed: &mut Vec<Reminder>,
) -> Result<(), StoreError> {
    for r in list {
        let k = &r.key;
        let params = params![k.calendar_id, k.uid, k.rid, k.alarm_index, k.alarm_at, now];
        if stmt.execute(params)? == 1 {
            claimed.push(r);
        }
    }
    Ok(())
}
