//! What sync writes: calendars as the server lists them, pages of changes with their token in one
//! transaction, unreadable items kept raw, pending edits never removed.

#[path = "support/server_cache.rs"]
mod server_cache;

use almanac::store::{ChangeSet, FetchedItem, StateUpdate};
use server_cache::{remote, work_calendar as setup};

fn event(uid: &str, summary: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART:20261123T090000Z\r\nDTEND:20261123T100000Z\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn item(href: &str, etag: &str, raw: String) -> FetchedItem {
    FetchedItem {
        href: href.into(),
        etag: Some(etag.into()),
        raw,
        problem: None,
        read: None,
    }
}

#[test]
fn calendars_appear_are_renamed_and_vanish_as_on_the_server() {
    let (_dir, mut store, _) = setup();
    let acc = store.account("home", "caldav", "http://h/", 0).unwrap();
    let change = store
        .reconcile_calendars(
            acc.id,
            &[remote("work", "Work (renamed)"), remote("team", "Team")],
        )
        .unwrap();
    assert_eq!(change.added, vec!["Team"]);
    assert_eq!(
        change.renamed,
        vec![("Work".to_string(), "Work (renamed)".to_string())]
    );
    let change = store
        .reconcile_calendars(acc.id, &[remote("team", "Team")])
        .unwrap();
    assert_eq!(change.removed, vec!["Work (renamed)"]);
    let names: Vec<String> = store
        .calendar_syncs(acc.id)
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, vec!["Team"]);
}

#[test]
fn a_page_and_the_token_that_covers_it_are_stored_together() {
    let (_dir, mut store, cal) = setup();
    let page = ChangeSet {
        upserts: vec![item("/cal/work/a.ics", "\"1\"", event("a", "A"))],
        removals: vec![],
        state: Some(StateUpdate {
            strategy: "sync-collection".into(),
            sync_token: Some("data:,1".into()),
            ctag: Some("c1".into()),
            seen_token: Some("data:,1".into()),
            full: true,
        }),
    };
    let applied = store.apply(cal, &page, 100).unwrap();
    assert_eq!(applied.added, 1);
    let state = &store.calendar_syncs(1).unwrap()[0];
    assert_eq!(state.sync_token.as_deref(), Some("data:,1"));
    assert_eq!(state.full_sync_at, Some(100));
    // A page without state keeps the token: a crash after it resumes from the old token.
    let page = ChangeSet {
        upserts: vec![item("/cal/work/b.ics", "W/\"2\"", event("b", "B"))],
        ..ChangeSet::default()
    };
    store.apply(cal, &page, 101).unwrap();
    assert_eq!(
        store.calendar_syncs(1).unwrap()[0].sync_token.as_deref(),
        Some("data:,1")
    );
    let etags = store.item_etags(cal).unwrap();
    assert_eq!(
        etags["/cal/work/b.ics"].as_deref(),
        Some("W/\"2\""),
        "weak etags kept byte for byte"
    );
}

#[test]
fn an_unreadable_item_is_kept_raw_and_reported_and_the_rest_applied() {
    let (_dir, mut store, cal) = setup();
    let bad = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:nonsense\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let page = ChangeSet {
        upserts: vec![
            item("/cal/work/bad.ics", "\"9\"", bad.into()),
            item("/cal/work/a.ics", "\"1\"", event("a", "A")),
        ],
        ..ChangeSet::default()
    };
    let applied = store.apply(cal, &page, 1).unwrap();
    assert_eq!(applied.added, 2);
    assert_eq!(applied.unreadable.len(), 1);
    assert_eq!(applied.unreadable[0].0, "/cal/work/bad.ics");
    let status = store.reader().unwrap().sync_status().unwrap();
    let work = status.iter().find(|s| s.calendar == "Work").unwrap();
    assert_eq!(work.items, 2);
    assert_eq!(work.events, 1);
    assert_eq!(work.unreadable.len(), 1);
}

#[test]
fn two_hrefs_with_one_uid_are_both_kept_and_flagged() {
    let (_dir, mut store, cal) = setup();
    let page = ChangeSet {
        upserts: vec![
            item("/cal/work/one.ics", "\"1\"", event("same", "One")),
            item("/cal/work/two.ics", "\"2\"", event("same", "Two")),
        ],
        ..ChangeSet::default()
    };
    store.apply(cal, &page, 1).unwrap();
    let status = store.reader().unwrap().sync_status().unwrap();
    let work = status.iter().find(|s| s.calendar == "Work").unwrap();
    assert_eq!(work.items, 2);
    assert_eq!(work.duplicate_uids, vec!["same"]);
}

#[test]
fn a_removal_leaves_an_item_with_a_pending_local_edit() {
    let (dir, mut store, cal) = setup();
    let page = ChangeSet {
        upserts: vec![item("/cal/work/a.ics", "\"1\"", event("a", "A"))],
        ..ChangeSet::default()
    };
    store.apply(cal, &page, 1).unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("almanac.sqlite3")).unwrap();
    conn.execute(
        "INSERT INTO pending (calendar_id, href, uid, op, base_etag, raw, created_at)
         VALUES (?1, '/cal/work/a.ics', 'a', 'update', '\"1\"', 'X', 1)",
        [cal],
    )
    .unwrap();
    let page = ChangeSet {
        removals: vec!["/cal/work/a.ics".into()],
        ..ChangeSet::default()
    };
    let applied = store.apply(cal, &page, 2).unwrap();
    assert_eq!(applied.removed, 0);
    assert!(
        store
            .item_etags(cal)
            .unwrap()
            .contains_key("/cal/work/a.ics")
    );
}

#[test]
fn an_account_taken_out_of_the_config_takes_its_calendars_along() {
    let (_dir, mut store, cal) = setup();
    let page = ChangeSet {
        upserts: vec![item("/cal/work/a.ics", "\"1\"", event("a", "A"))],
        ..ChangeSet::default()
    };
    store.apply(cal, &page, 1).unwrap();
    assert_eq!(
        store.retain_accounts(&["home"]).unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(store.calendar_syncs(1).unwrap().len(), 1);
    assert_eq!(store.retain_accounts(&[]).unwrap(), vec!["home"]);
    let status = store.reader().unwrap().sync_status().unwrap();
    assert!(status.iter().all(|s| s.account.is_none()), "{status:?}");
    assert!(store.item_etags(cal).unwrap().is_empty());
}
