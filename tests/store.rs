//! The cache: migrations, imports, and the month's range query across zones and event lengths.

use almanac::app::sample::{SAMPLE_CALENDAR, ensure_sample};
use almanac::domain::{When, read_calendar};
use almanac::store::{SCHEMA_VERSION, Store};
use chrono::NaiveDate;
use chrono_tz::Tz;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn ics(events: &str) -> String {
    format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n{events}END:VCALENDAR\r\n")
}

fn vevent(uid: &str, lines: &str) -> String {
    format!("BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n{lines}END:VEVENT\r\n")
}

#[test]
fn a_new_cache_is_at_the_current_schema_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    for table in [
        "accounts",
        "calendars",
        "items",
        "events",
        "pending",
        "conflicts",
        "sync_runs",
    ] {
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?1",
                [table],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "table {table}");
    }
    drop(store);
    // Reopening migrates nothing and keeps the version.
    Store::open(dir.path()).unwrap();
}

#[test]
fn a_cache_from_a_newer_build_is_refused_not_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let path = Store::open(dir.path()).unwrap().path().to_path_buf();
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let err = Store::open(dir.path()).err().expect("refused");
    assert!(err.to_string().contains("newer almanac"), "{err}");
}

#[test]
fn importing_the_same_file_twice_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let cal = store.local_calendar("home").unwrap();
    let src = ics(&(vevent("a", "DTSTART:20261123T090000Z\r\nSUMMARY:A\r\n")
        + &vevent("b", "DTSTART;VALUE=DATE:20261124\r\nSUMMARY:B\r\n")));
    let items = read_calendar(&src).items;
    let first = store.import_items(cal, &items, 1).unwrap();
    assert_eq!((first.added, first.updated, first.unchanged), (2, 0, 0));
    let again = store.import_items(cal, &items, 2).unwrap();
    assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 2));
    // A changed event replaces its old rows instead of adding new ones.
    let changed = read_calendar(&ics(&vevent(
        "a",
        "DTSTART:20261125T090000Z\r\nSUMMARY:A moved\r\n",
    )))
    .items;
    let third = store.import_items(cal, &changed, 3).unwrap();
    assert_eq!(third.updated, 1);
    let reader = store.reader().unwrap();
    assert_eq!(reader.event_count().unwrap(), 2);
    let occ = reader
        .occurrences(d(2026, 11, 23), d(2026, 11, 30), &Tz::UTC)
        .unwrap();
    let summaries: Vec<&str> = occ.iter().map(|o| &*o.summary).collect();
    assert_eq!(summaries, vec!["B", "A moved"]);
}

#[test]
fn the_range_query_finds_events_by_overlap_in_the_display_zone() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let cal = store.local_calendar("home").unwrap();
    let events = [
        // 23:30 UTC on the 22nd is 00:30 on the 23rd in Berlin, 18:30 on the 22nd in New York.
        vevent(
            "late",
            "DTSTART:20261122T233000Z\r\nDTEND:20261123T000000Z\r\nSUMMARY:late\r\n",
        ),
        // Starts weeks before the window and ends inside it: found through the long-event index.
        vevent(
            "long",
            "DTSTART;VALUE=DATE:20261001\r\nDTEND;VALUE=DATE:20261124\r\nSUMMARY:long\r\n",
        ),
        // A week-long event that began six days before the window: the short index's look-back.
        vevent(
            "week",
            "DTSTART:20261117T090000Z\r\nDTEND:20261123T100000Z\r\nSUMMARY:week\r\n",
        ),
        // Floating 09:00: the same wall clock everywhere.
        vevent(
            "float",
            "DTSTART:20261123T090000\r\nDTEND:20261123T100000\r\nSUMMARY:float\r\n",
        ),
        // Ends exactly at the window's start: not in it.
        vevent(
            "before",
            "DTSTART:20261122T220000Z\r\nDTEND:20261122T230000Z\r\nSUMMARY:before\r\n",
        ),
        // Long after: not in it.
        vevent("after", "DTSTART:20270101T090000Z\r\nSUMMARY:after\r\n"),
    ]
    .concat();
    store
        .import_items(cal, &read_calendar(&ics(&events)).items, 1)
        .unwrap();
    let reader = store.reader().unwrap();
    let names = |zone: Tz| -> Vec<String> {
        let mut v: Vec<String> = reader
            .occurrences(d(2026, 11, 23), d(2026, 11, 23), &zone)
            .unwrap()
            .into_iter()
            .map(|o| o.summary.to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        names(Tz::Europe__Berlin),
        vec!["float", "late", "long", "week"]
    );
    assert_eq!(names(Tz::America__New_York), vec!["float", "long", "week"]);
    assert_eq!(names(Tz::UTC), vec!["float", "long", "week"]);
}

#[test]
fn the_sample_appears_on_an_empty_cache_follows_the_week_and_leaves_with_real_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    ensure_sample(&mut store, d(2026, 11, 25), 1).unwrap();
    let reader = store.reader().unwrap();
    let this_week = reader
        .occurrences(d(2026, 11, 23), d(2026, 11, 29), &Tz::Europe__Berlin)
        .unwrap();
    assert!(this_week.iter().any(|o| &*o.summary == "Standup"
        && o.start.local(&Tz::Europe__Berlin).date() == d(2026, 11, 23)));
    assert!(
        store
            .calendars()
            .unwrap()
            .iter()
            .any(|c| c.is_sample && c.name == SAMPLE_CALENDAR)
    );

    // Three weeks later the sample has moved along, on the same weekdays.
    ensure_sample(&mut store, d(2026, 12, 16), 2).unwrap();
    let later = reader
        .occurrences(d(2026, 12, 14), d(2026, 12, 14), &Tz::Europe__Berlin)
        .unwrap();
    assert!(
        later.iter().any(|o| &*o.summary == "Standup"),
        "Monday's standup moved to 14 Dec"
    );

    // Once the person imports data of their own, the sample goes.
    let cal = store.local_calendar("mine").unwrap();
    store
        .import_items(
            cal,
            &read_calendar(&ics(&vevent("m", "DTSTART:20261123T090000Z\r\n"))).items,
            3,
        )
        .unwrap();
    ensure_sample(&mut store, d(2026, 12, 16), 4).unwrap();
    assert!(store.calendars().unwrap().iter().all(|c| !c.is_sample));
}

#[test]
fn all_day_events_stay_on_their_date_in_every_zone() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let cal = store.local_calendar("home").unwrap();
    let src = ics(&vevent(
        "h",
        "DTSTART;VALUE=DATE:20261124\r\nSUMMARY:Holiday\r\n",
    ));
    store
        .import_items(cal, &read_calendar(&src).items, 1)
        .unwrap();
    let reader = store.reader().unwrap();
    for zone in [Tz::Pacific__Kiritimati, Tz::UTC, Tz::Pacific__Pago_Pago] {
        let occ = reader
            .occurrences(d(2026, 11, 20), d(2026, 11, 28), &zone)
            .unwrap();
        assert_eq!(occ.len(), 1);
        assert_eq!(occ[0].start, When::Date(d(2026, 11, 24)));
        assert!(
            reader
                .occurrences(d(2026, 11, 23), d(2026, 11, 23), &zone)
                .unwrap()
                .is_empty()
        );
    }
}
