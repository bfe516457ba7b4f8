//! Reminders from the cache, on a test clock: due, missed, snoozed, dismissed, changed and deleted
//! events, alarms relative to the end, absolute and repeating, series, and two processes claiming
//! at once (each reminder fires once).

use std::sync::{Arc, Barrier};

use almanac::domain::read_calendar;
use almanac::store::{ReminderKind, Store};
use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Tz;

const UTC: Tz = chrono_tz::UTC;

fn t(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, h, m, 0).unwrap()
}

fn vevent(uid: &str, lines: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
         DTSTAMP:20260101T000000Z\r\nSUMMARY:{uid}\r\n{lines}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn valarm(lines: &str) -> String {
    format!("BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:r\r\n{lines}END:VALARM\r\n")
}

/// A store with a local calendar holding `texts`, imported at `at`.
fn store_with(dir: &tempfile::TempDir, texts: &[String], at: DateTime<Utc>) -> (Store, i64) {
    let mut store = Store::open(dir.path()).unwrap();
    let cal = store.local_calendar("Work").unwrap();
    put(&mut store, cal, texts, at);
    (store, cal)
}

fn put(store: &mut Store, cal: i64, texts: &[String], at: DateTime<Utc>) {
    let items: Vec<_> = texts.iter().flat_map(|t| read_calendar(t).items).collect();
    store.import_items(cal, &items, at.timestamp()).unwrap();
}

/// (uid, alarm instant, kind) of what a claim at `now` returns.
fn claim(store: &mut Store, now: DateTime<Utc>) -> Vec<(String, DateTime<Utc>, ReminderKind)> {
    store
        .claim_reminders(now, &UTC)
        .unwrap()
        .into_iter()
        .map(|r| (r.key.uid, r.alarm_at, r.kind))
        .collect()
}

fn standup() -> String {
    vevent(
        "standup",
        &format!(
            "DTSTART:20261123T090000Z\r\nDTEND:20261123T091500Z\r\n{}",
            valarm("TRIGGER:-PT10M\r\n")
        ),
    )
}

#[test]
fn a_reminder_is_due_at_its_time_and_fires_once() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = store_with(&dir, &[standup()], t(8, 0));
    assert!(claim(&mut store, t(8, 49)).is_empty(), "not yet");
    assert_eq!(
        claim(&mut store, t(8, 50)),
        [("standup".into(), t(8, 50), ReminderKind::Due)]
    );
    assert!(claim(&mut store, t(8, 51)).is_empty(), "once only");
    drop(store);
    let mut again = Store::open(dir.path()).unwrap();
    assert!(
        claim(&mut again, t(8, 52)).is_empty(),
        "once across restarts"
    );
}

#[test]
fn a_reminder_found_late_is_missed_and_one_older_than_a_day_is_not_shown() {
    let dir = tempfile::tempdir().unwrap();
    let old = vevent(
        "old",
        &format!(
            "DTSTART:20261121T090000Z\r\nDTEND:20261121T100000Z\r\n{}",
            valarm("TRIGGER:-PT10M\r\n")
        ),
    );
    let (mut store, _) = store_with(&dir, &[standup(), old], t(7, 0));
    assert_eq!(
        claim(&mut store, t(11, 0)),
        [("standup".into(), t(8, 50), ReminderKind::Missed)]
    );
}

#[test]
fn a_snoozed_reminder_comes_back_after_the_snooze_and_a_dismissed_one_never() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = store_with(&dir, &[standup()], t(8, 0));
    let first = store.claim_reminders(t(8, 50), &UTC).unwrap();
    store
        .snooze_reminder(&first[0].key, t(8, 55), t(8, 50))
        .unwrap();
    assert!(claim(&mut store, t(8, 54)).is_empty(), "still snoozed");
    let woken = store.claim_reminders(t(8, 55), &UTC).unwrap();
    assert_eq!(woken.len(), 1);
    assert_eq!(woken[0].kind, ReminderKind::Snoozed);
    assert_eq!(woken[0].summary, "standup");
    store.dismiss_reminder(&woken[0].key, t(8, 56)).unwrap();
    assert!(claim(&mut store, t(9, 30)).is_empty(), "dismissed for good");
}

#[test]
fn a_moved_event_fires_at_its_new_time_and_a_deleted_one_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let gone = vevent(
        "gone",
        &format!(
            "DTSTART:20261123T100000Z\r\nDTEND:20261123T110000Z\r\n{}",
            valarm("TRIGGER:-PT5M\r\n")
        ),
    );
    let (mut store, cal) = store_with(&dir, &[standup(), gone], t(8, 0));
    // The index exists once something asked; the changes below must keep it right.
    assert!(claim(&mut store, t(8, 1)).is_empty());
    let moved = standup()
        .replace("T0900", "T1200")
        .replace("T0915", "T1215");
    put(&mut store, cal, &[moved], t(8, 2));
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    conn.pragma_update(None, "foreign_keys", "ON").unwrap();
    conn.execute("DELETE FROM items WHERE uid = 'gone'", [])
        .unwrap();
    assert!(claim(&mut store, t(10, 0)).is_empty(), "old time, deleted");
    assert_eq!(
        claim(&mut store, t(11, 50)),
        [("standup".into(), t(11, 50), ReminderKind::Due)]
    );
}

#[test]
fn alarms_relative_to_the_end_absolute_and_repeating() {
    let dir = tempfile::tempdir().unwrap();
    let end = vevent(
        "end",
        &format!(
            "DTSTART:20261123T090000Z\r\nDTEND:20261123T100000Z\r\n{}",
            valarm("TRIGGER;RELATED=END:-PT5M\r\n")
        ),
    );
    let absolute = vevent(
        "absolute",
        &format!(
            "DTSTART:20261125T090000Z\r\n{}",
            valarm("TRIGGER;VALUE=DATE-TIME:20261123T093000Z\r\n")
        ),
    );
    let repeat = vevent(
        "repeat",
        &format!(
            "DTSTART:20261123T110000Z\r\n{}",
            valarm("TRIGGER:-PT20M\r\nREPEAT:2\r\nDURATION:PT5M\r\n")
        ),
    );
    let (mut store, _) = store_with(&dir, &[end, absolute, repeat], t(8, 0));
    let mut fired = Vec::new();
    let mut now = t(8, 0);
    while now <= t(11, 0) {
        fired.extend(claim(&mut store, now));
        now += Duration::minutes(1);
    }
    let got: Vec<(&str, DateTime<Utc>)> =
        fired.iter().map(|(u, at, _)| (u.as_str(), *at)).collect();
    assert_eq!(
        got,
        [
            ("absolute", t(9, 30)),
            ("end", t(9, 55)),
            ("repeat", t(10, 40)),
            ("repeat", t(10, 45)),
            ("repeat", t(10, 50)),
        ]
    );
    assert!(fired.iter().all(|(_, _, k)| *k == ReminderKind::Due));
}

#[test]
fn a_daily_series_reminds_each_day_as_the_horizon_moves_on() {
    let dir = tempfile::tempdir().unwrap();
    let daily = vevent(
        "daily",
        &format!(
            "DTSTART:20261101T090000Z\r\nDTEND:20261101T091500Z\r\nRRULE:FREQ=DAILY\r\n{}",
            valarm("TRIGGER:-PT15M\r\n")
        ),
    );
    let (mut store, _) = store_with(&dir, &[daily], t(8, 0));
    let mut fired = Vec::new();
    for day in 0..5 {
        let now = t(8, 45) + Duration::days(day);
        fired.extend(claim(&mut store, now - Duration::minutes(1)));
        fired.extend(claim(&mut store, now));
    }
    let times: Vec<DateTime<Utc>> = fired.iter().map(|(_, at, _)| *at).collect();
    // The day before is within the missed window of the first look.
    let want: Vec<DateTime<Utc>> = (-1..5).map(|d| t(8, 45) + Duration::days(d)).collect();
    assert_eq!(times, want);
    assert_eq!(fired[0].2, ReminderKind::Missed);
    assert!(fired[1..].iter().all(|(_, _, k)| *k == ReminderKind::Due));
}

#[test]
fn an_email_alarm_is_not_shown_and_a_hidden_calendar_does_not_remind() {
    let dir = tempfile::tempdir().unwrap();
    let email = vevent(
        "email",
        "DTSTART:20261123T090000Z\r\nBEGIN:VALARM\r\nACTION:EMAIL\r\nTRIGGER:-PT10M\r\nEND:VALARM\r\n",
    );
    let (mut store, _) = store_with(&dir, &[email], t(8, 0));
    assert!(claim(&mut store, t(8, 50)).is_empty());
    let mut other = Store::open(dir.path()).unwrap();
    let hidden = other.local_calendar("Hidden").unwrap();
    put(&mut other, hidden, &[standup()], t(8, 0));
    let conn = rusqlite::Connection::open(other.path()).unwrap();
    conn.execute("UPDATE calendars SET hidden = 1 WHERE id = ?1", [hidden])
        .unwrap();
    assert!(claim(&mut other, t(8, 50)).is_empty());
}

#[test]
fn two_processes_claiming_at_once_fire_each_reminder_once() {
    let dir = tempfile::tempdir().unwrap();
    let many: Vec<String> = (0..40)
        .map(|i| {
            vevent(
                &format!("e{i}"),
                &format!(
                    "DTSTART:20261123T09{:02}00Z\r\n{}",
                    i % 60,
                    valarm("TRIGGER:-PT10M\r\n")
                ),
            )
        })
        .collect();
    let (store, _) = store_with(&dir, &many, t(8, 0));
    drop(store);
    let barrier = Arc::new(Barrier::new(2));
    let claimers: Vec<_> = (0..2)
        .map(|_| {
            let (path, barrier) = (dir.path().to_path_buf(), barrier.clone());
            std::thread::spawn(move || {
                let mut store = Store::open(&path).unwrap();
                barrier.wait();
                let mut got = Vec::new();
                let mut now = t(8, 45);
                while now <= t(9, 40) {
                    got.extend(claim(&mut store, now));
                    now += Duration::seconds(30);
                }
                got
            })
        })
        .collect();
    let mut all: Vec<String> = claimers
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .map(|(uid, _, _)| uid)
        .collect();
    all.sort();
    let mut want: Vec<String> = (0..40).map(|i| format!("e{i}")).collect();
    want.sort();
    assert_eq!(all, want, "every reminder, each once");
}
