//! Search: the full-text index over the cache, its order (nearest first), and that it follows every
//! write at once: imports, sync pages, hidden calendars, and caches made before the index existed.

use almanac::domain::read_calendar;
#[path = "support/server_cache.rs"]
mod server_cache;

use almanac::store::{ChangeSet, FetchedItem, SearchQuery, Store, StoreReader};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

const UTC: Tz = chrono_tz::UTC;

fn ics(events: &str) -> String {
    format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n{events}END:VCALENDAR\r\n")
}

fn vevent(uid: &str, start: &str, lines: &str) -> String {
    format!(
        "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{start}\r\nDURATION:PT1H\r\n{lines}END:VEVENT\r\n"
    )
}

fn noon(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc()
}

fn import(store: &mut Store, calendar: &str, text: &str) -> i64 {
    let cal = store.local_calendar(calendar).unwrap();
    let parsed = read_calendar(text);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    store.import_items(cal, &parsed.items, 0).unwrap();
    cal
}

/// (summary, start as written) of each result, for `text` searched around 2026-06-15 noon.
fn found(reader: &StoreReader, text: &str) -> Vec<(String, String)> {
    let query = SearchQuery::around(text, noon(2026, 6, 15), &UTC, 50);
    reader
        .search(&query, &UTC)
        .unwrap()
        .into_iter()
        .map(|o| {
            (
                o.summary.to_string(),
                o.start.local(&UTC).format("%Y-%m-%d %H:%M").to_string(),
            )
        })
        .collect()
}

fn summaries(reader: &StoreReader, text: &str) -> Vec<String> {
    found(reader, text).into_iter().map(|(s, _)| s).collect()
}

fn setup(events: &str) -> (tempfile::TempDir, Store, StoreReader, i64) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let cal = import(&mut store, "Work", &ics(events));
    let reader = store.reader().unwrap();
    (dir, store, reader, cal)
}

#[test]
fn upcoming_matches_come_first_soonest_first_then_past_ones_latest_first() {
    let events = [
        vevent("a", "20260601T090000Z", "SUMMARY:Dentist long ago\r\n"),
        vevent("b", "20260614T090000Z", "SUMMARY:Dentist yesterday\r\n"),
        vevent("c", "20260620T090000Z", "SUMMARY:Dentist next week\r\n"),
        vevent("d", "20260616T090000Z", "SUMMARY:Dentist tomorrow\r\n"),
        vevent("e", "20260616T090000Z", "SUMMARY:Plumber tomorrow\r\n"),
    ]
    .concat();
    let (_dir, _store, reader, _) = setup(&events);
    assert_eq!(
        summaries(&reader, "dentist"),
        [
            "Dentist tomorrow",
            "Dentist next week",
            "Dentist yesterday",
            "Dentist long ago"
        ]
    );
}

#[test]
fn a_series_is_found_as_its_occurrences_nearest_first() {
    let events = vevent(
        "s",
        "20260601T080000Z",
        "SUMMARY:Standup\r\nRRULE:FREQ=WEEKLY;COUNT=5\r\n",
    );
    let (_dir, _store, reader, _) = setup(&events);
    let hits = found(&reader, "standup");
    let starts: Vec<&str> = hits.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(
        starts,
        [
            "2026-06-22 08:00",
            "2026-06-29 08:00",
            "2026-06-15 08:00",
            "2026-06-08 08:00",
            "2026-06-01 08:00"
        ]
    );
}

#[test]
fn a_phrase_matches_only_its_words_in_order() {
    let events = [
        vevent("a", "20260616T090000Z", "SUMMARY:Board meeting\r\n"),
        vevent("b", "20260617T090000Z", "SUMMARY:Meeting of the board\r\n"),
    ]
    .concat();
    let (_dir, _store, reader, _) = setup(&events);
    assert_eq!(summaries(&reader, "\"board meeting\""), ["Board meeting"]);
    assert_eq!(
        summaries(&reader, "board meeting "),
        ["Board meeting", "Meeting of the board"]
    );
}

#[test]
fn what_is_being_typed_matches_as_a_prefix_in_every_field() {
    let events = [
        vevent("a", "20260616T090000Z", "SUMMARY:Lunch\r\n"),
        vevent(
            "b",
            "20260617T090000Z",
            "SUMMARY:Call\r\nLOCATION:Lucerne office\r\n",
        ),
        vevent(
            "c",
            "20260618T090000Z",
            "SUMMARY:Review\r\nDESCRIPTION:bring the lucky charm\r\n",
        ),
        vevent("d", "20260619T090000Z", "SUMMARY:Gym\r\n"),
    ]
    .concat();
    let (_dir, _store, reader, _) = setup(&events);
    assert_eq!(summaries(&reader, "l"), ["Lunch", "Call", "Review"]);
    assert_eq!(summaries(&reader, "lu"), ["Lunch", "Call", "Review"]);
    assert_eq!(summaries(&reader, "luc"), ["Call", "Review"]);
    assert_eq!(summaries(&reader, "luce"), ["Call"]);
    assert_eq!(summaries(&reader, "luce "), Vec::<String>::new());
    assert_eq!(summaries(&reader, ""), Vec::<String>::new());
}

#[test]
fn attendees_are_found_by_name_and_by_address() {
    let events = [
        vevent(
            "a",
            "20260616T090000Z",
            "SUMMARY:Planning\r\nATTENDEE;CN=\"Zoë Quist\":mailto:zq@example.org\r\n",
        ),
        vevent("b", "20260617T090000Z", "SUMMARY:Other\r\n"),
    ]
    .concat();
    let (_dir, _store, reader, _) = setup(&events);
    assert_eq!(summaries(&reader, "quist"), ["Planning"]);
    assert_eq!(summaries(&reader, "zoe"), ["Planning"], "diacritics fold");
    assert_eq!(summaries(&reader, "zq@example.org"), ["Planning"]);
}

#[test]
fn hidden_calendars_are_left_out() {
    let (_dir, mut store, reader, work) =
        setup(&vevent("a", "20260616T090000Z", "SUMMARY:Offsite\r\n"));
    import(
        &mut store,
        "Home",
        &ics(&vevent(
            "b",
            "20260617T090000Z",
            "SUMMARY:Offsite at home\r\n",
        )),
    );
    assert_eq!(summaries(&reader, "offsite").len(), 2);
    store.set_hidden(work, true).unwrap();
    assert_eq!(summaries(&reader, "offsite"), ["Offsite at home"]);
    assert_eq!(
        store.hide_named(&["Home".into(), "Nope".into()]).unwrap(),
        ["Nope"]
    );
    assert_eq!(summaries(&reader, "offsite"), Vec::<String>::new());
}

#[test]
fn an_event_changed_or_deleted_by_a_sync_is_found_or_gone_at_once() {
    let (_dir, mut store, cal) = server_cache::work_calendar();
    let reader = store.reader().unwrap();
    let page = |summary: &str| ChangeSet {
        upserts: vec![FetchedItem {
            href: "/cal/work/a.ics".into(),
            etag: Some(format!("\"{summary}\"")),
            raw: ics(&vevent(
                "a",
                "20260616T090000Z",
                &format!("SUMMARY:{summary}\r\n"),
            )),
            problem: None,
            read: None,
        }],
        removals: vec![],
        state: None,
    };
    store.apply(cal, &page("Quarterly review"), 1).unwrap();
    assert_eq!(summaries(&reader, "quarterly"), ["Quarterly review"]);
    store.apply(cal, &page("Yearly review"), 2).unwrap();
    assert_eq!(summaries(&reader, "quarterly"), Vec::<String>::new());
    assert_eq!(summaries(&reader, "yearly"), ["Yearly review"]);
    let removal = ChangeSet {
        upserts: vec![],
        removals: vec!["/cal/work/a.ics".into()],
        state: None,
    };
    store.apply(cal, &removal, 3).unwrap();
    assert_eq!(summaries(&reader, "review"), Vec::<String>::new());
}

#[test]
fn a_cache_made_before_the_index_is_indexed_with_its_attendees_when_opened() {
    let (dir, store, reader, _) = setup(&vevent(
        "a",
        "20260616T090000Z",
        "SUMMARY:Retro\r\nATTENDEE;CN=Ingrid:mailto:ingrid@example.org\r\n",
    ));
    drop((store, reader));
    // Back to schema 11 as an older build left it: no attendees column, no index, no reminders.
    let conn = rusqlite::Connection::open(dir.path().join(almanac::store::DB_FILE)).unwrap();
    conn.execute_batch(
        "DROP TRIGGER IF EXISTS events_fts_insert; DROP TRIGGER events_fts_delete;
         DROP TRIGGER events_fts_update; DROP TABLE events_fts;
         ALTER TABLE events DROP COLUMN attendees;
         DROP TABLE reminder_state; DROP TABLE alarm_horizon; DROP TABLE alarm_times;
         DROP TABLE event_alarms; PRAGMA user_version = 11;",
    )
    .unwrap();
    drop(conn);
    let store = Store::open(dir.path()).unwrap();
    let reader = store.reader().unwrap();
    assert_eq!(summaries(&reader, "ingrid"), ["Retro"]);
    assert_eq!(summaries(&reader, "retro"), ["Retro"]);
}

#[test]
fn a_short_page_keeps_the_nearest_on_both_sides() {
    let events = [
        vevent("a", "20260601T090000Z", "SUMMARY:Dentist long ago\r\n"),
        vevent("b", "20260614T090000Z", "SUMMARY:Dentist yesterday\r\n"),
        vevent("c", "20260620T090000Z", "SUMMARY:Dentist next week\r\n"),
        vevent("d", "20260616T090000Z", "SUMMARY:Dentist tomorrow\r\n"),
        vevent("e", "20260701T090000Z", "SUMMARY:Dentist next month\r\n"),
    ]
    .concat();
    let (_dir, _store, reader, _) = setup(&events);
    let query = SearchQuery::around("dentist", noon(2026, 6, 15), &UTC, 1);
    let hits = reader.search(&query, &UTC).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(&*hits[0].summary, "Dentist tomorrow");
    let query = SearchQuery::around("dentist", noon(2026, 7, 5), &UTC, 2);
    let hits: Vec<String> = reader
        .search(&query, &UTC)
        .unwrap()
        .iter()
        .map(|o| o.summary.to_string())
        .collect();
    assert_eq!(hits, ["Dentist next month", "Dentist next week"]);
}
