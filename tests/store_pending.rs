//! Local edits in the cache: staged in one transaction, shown at once and marked, folded when the
//! same event is edited again, never overwritten or removed by a pull, and settled by `resolve`.

#[path = "support/server_cache.rs"]
mod server_cache;

use almanac::store::{ChangeSet, FetchedItem, Keep, LocalEdit, PendingOp, Store};
use chrono::NaiveDate;

fn event(uid: &str, summary: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261123T090000Z\r\nDTEND:20261123T100000Z\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn fetched(href: &str, etag: &str, raw: String) -> FetchedItem {
    FetchedItem {
        href: href.into(),
        etag: Some(etag.into()),
        raw,
        problem: None,
        read: None,
    }
}

/// A cache with one server calendar holding e1 (etag "1").
fn setup() -> (tempfile::TempDir, Store, i64) {
    let (dir, mut store, cal) = server_cache::work_calendar();
    let page = ChangeSet {
        upserts: vec![fetched("/cal/work/e1.ics", "\"1\"", event("e1", "Server"))],
        ..ChangeSet::default()
    };
    store.apply(cal, &page, 0).unwrap();
    (dir, store, cal)
}

fn shown(store: &Store) -> Vec<(String, bool)> {
    let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let mut v: Vec<(String, bool)> = store
        .reader()
        .unwrap()
        .occurrences(day, day, &chrono_tz::UTC)
        .unwrap()
        .into_iter()
        .map(|o| (o.summary.to_string(), o.pending))
        .collect();
    v.sort();
    v
}

/// Stages `uid` with a new summary as a local update of `item`.
fn retitle(store: &mut Store, item: i64, uid: &str, summary: &str, at: i64) {
    store
        .stage(LocalEdit::update(item, event(uid, summary), None), at)
        .unwrap();
}

/// e1 edited to "Mine", then refused: the server holds "Theirs" at etag "2". The conflict's id.
fn conflicted(store: &mut Store, cal: i64) -> i64 {
    let item = e1(store);
    retitle(store, item, "e1", "Mine", 1);
    let pending = store.pending_changes(cal).unwrap().remove(0);
    store
        .record_conflict(
            pending.id,
            Some("\"2\""),
            Some(&event("e1", "Theirs")),
            None,
            2,
        )
        .unwrap()
}

/// A pull that brings the server's "Theirs" of e1 at etag "2".
fn pull_theirs(store: &mut Store, cal: i64, at: i64) {
    let page = ChangeSet {
        upserts: vec![fetched("/cal/work/e1.ics", "\"2\"", event("e1", "Theirs"))],
        ..ChangeSet::default()
    };
    store.apply(cal, &page, at).unwrap();
}

fn e1(store: &Store) -> i64 {
    store.items_with_uid("e1").unwrap()[0].0
}

#[test]
fn an_edit_shows_at_once_marked_and_keeps_its_base_etag_through_a_second_edit() {
    let (_dir, mut store, cal) = setup();
    let item = e1(&store);
    retitle(&mut store, item, "e1", "Mine", 1);
    assert_eq!(shown(&store), [("Mine".to_string(), true)]);
    retitle(&mut store, item, "e1", "Mine, again", 2);
    let pending = store.pending_changes(cal).unwrap();
    assert_eq!(pending.len(), 1, "a second edit folds into the first");
    assert_eq!(pending[0].op, PendingOp::Update);
    assert_eq!(pending[0].base_etag.as_deref(), Some("\"1\""));
    assert!(pending[0].raw.as_deref().unwrap().contains("Mine, again"));
    assert_eq!(shown(&store), [("Mine, again".to_string(), true)]);
}

#[test]
fn a_pull_never_overwrites_or_removes_an_event_with_a_local_edit() {
    let (_dir, mut store, cal) = setup();
    let item = e1(&store);
    retitle(&mut store, item, "e1", "Mine", 1);
    // The server changed it meanwhile: the cache learns the server copy, the view keeps mine.
    pull_theirs(&mut store, cal, 2);
    assert_eq!(shown(&store), [("Mine".to_string(), true)]);
    let pending = store.pending_changes(cal).unwrap();
    assert_eq!(
        pending[0].base_etag.as_deref(),
        Some("\"1\""),
        "the base stays"
    );
    assert_eq!(pending[0].cached_etag.as_deref(), Some("\"2\""));
    assert!(pending[0].cached_raw.as_deref().unwrap().contains("Theirs"));
    // An expired token's full listing that lacks it does not remove it either.
    let page = ChangeSet {
        removals: vec!["/cal/work/e1.ics".into()],
        ..ChangeSet::default()
    };
    assert_eq!(store.apply(cal, &page, 3).unwrap().removed, 0);
    assert_eq!(shown(&store), [("Mine".to_string(), true)]);
}

#[test]
fn a_create_deleted_before_its_push_settles_whether_or_not_the_create_landed() {
    let (_dir, mut store, cal) = setup();
    let staged = store
        .stage(
            LocalEdit::Create {
                calendar: cal,
                uid: "new-1".into(),
                raw: event("new-1", "New"),
            },
            1,
        )
        .unwrap();
    assert!(staged.pending);
    assert_eq!(staged.href, "/cal/work/new-1.ics");
    assert_eq!(shown(&store).len(), 2);
    let item = store.items_with_uid("new-1").unwrap()[0].0;
    // The create may be on its way to the server: the engine holds this snapshot.
    let in_flight = store.pending_changes(cal).unwrap().remove(0);
    store
        .stage(
            LocalEdit::Delete {
                item,
                seen_etag: None,
            },
            2,
        )
        .unwrap();
    assert_eq!(shown(&store), [("Server".to_string(), false)]);
    // The PUT landed after all: the delete stays, now based on the server's etag.
    store.pushed(&in_flight, Some("\"9\""), None, 3).unwrap();
    let pending = store.pending_changes(cal).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].op, PendingOp::Delete);
    assert_eq!(pending[0].base_etag.as_deref(), Some("\"9\""));
    assert_eq!(shown(&store), [("Server".to_string(), false)]);
    store.pushed(&pending[0], None, None, 4).unwrap();
    assert!(store.pending_changes(cal).unwrap().is_empty());
    assert!(store.items_with_uid("new-1").unwrap().is_empty());
}

#[test]
fn an_edit_made_while_its_push_was_on_the_way_stays_pending_on_the_new_base() {
    let (_dir, mut store, cal) = setup();
    let item = e1(&store);
    retitle(&mut store, item, "e1", "First", 1);
    let in_flight = store.pending_changes(cal).unwrap().remove(0);
    retitle(&mut store, item, "e1", "Second", 2);
    store.pushed(&in_flight, Some("\"2\""), None, 3).unwrap();
    let pending = store.pending_changes(cal).unwrap();
    assert_eq!(pending.len(), 1, "the second edit is not lost");
    assert_eq!(pending[0].base_etag.as_deref(), Some("\"2\""));
    assert!(pending[0].raw.as_deref().unwrap().contains("Second"));
    assert!(
        pending[0].cached_raw.as_deref().unwrap().contains("First"),
        "the server holds the first"
    );
    assert_eq!(shown(&store), [("Second".to_string(), true)]);
}

#[test]
fn a_local_delete_hides_the_event_and_waits_with_its_base() {
    let (_dir, mut store, cal) = setup();
    let item = e1(&store);
    store
        .stage(
            LocalEdit::Delete {
                item,
                seen_etag: None,
            },
            1,
        )
        .unwrap();
    assert!(shown(&store).is_empty());
    let pending = store.pending_changes(cal).unwrap();
    assert_eq!(pending[0].op, PendingOp::Delete);
    assert_eq!(pending[0].base_etag.as_deref(), Some("\"1\""));
    assert!(
        store.item_text(item).unwrap().is_none(),
        "nothing left to edit"
    );
    store.pushed(&pending[0], None, None, 2).unwrap();
    assert!(store.item_etags(cal).unwrap().is_empty());
}

#[test]
fn an_edit_of_a_local_calendar_is_final() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let cal = store.local_calendar("home").unwrap();
    let staged = store
        .stage(
            LocalEdit::Create {
                calendar: cal,
                uid: "l1".into(),
                raw: event("l1", "Local"),
            },
            1,
        )
        .unwrap();
    assert!(!staged.pending);
    let item = store.items_with_uid("l1").unwrap()[0].0;
    retitle(&mut store, item, "l1", "Local, changed", 2);
    assert!(store.pending_changes(cal).unwrap().is_empty());
    assert_eq!(shown(&store), [("Local, changed".to_string(), false)]);
}

#[test]
fn keep_both_makes_the_local_version_a_new_event_and_keeps_the_servers() {
    let (_dir, mut store, cal) = setup();
    let id = conflicted(&mut store, cal);
    assert!(
        store.pending_changes(cal).unwrap().is_empty(),
        "held by the conflict"
    );
    assert_eq!(shown(&store), [("Mine".to_string(), true)]);
    let resolved = store.resolve(id, Keep::Both, "copy-1", 3).unwrap();
    assert!(resolved.push);
    assert_eq!(
        shown(&store),
        [("Mine".to_string(), true), ("Theirs".to_string(), false)]
    );
    let pending = store.pending_changes(cal).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].op, PendingOp::Create);
    assert_eq!(pending[0].uid, "copy-1");
    assert_eq!(pending[0].href, "/cal/work/copy-1.ics");
    assert!(pending[0].raw.as_deref().unwrap().contains("UID:copy-1"));
    assert!(store.conflicts().unwrap().is_empty());
    assert!(
        store.resolve(id, Keep::Local, "x", 4).is_err(),
        "resolved once"
    );
}

#[test]
fn an_edit_begun_on_an_older_version_is_based_on_what_the_person_saw() {
    let (_dir, mut store, cal) = setup();
    // A pull brings a new server copy while the person's form shows the one with etag "1".
    pull_theirs(&mut store, cal, 1);
    let item = e1(&store);
    store
        .stage(
            LocalEdit::Update {
                item,
                raw: event("e1", "Mine"),
                seen_etag: Some("\"1\"".into()),
            },
            2,
        )
        .unwrap();
    let pending = store.pending_changes(cal).unwrap();
    assert_eq!(
        pending[0].base_etag.as_deref(),
        Some("\"1\""),
        "the push will meet a 412 and show both versions"
    );
}

#[test]
fn an_open_conflict_follows_the_server_so_keep_theirs_never_goes_back_in_time() {
    let (_dir, mut store, cal) = setup();
    let id = conflicted(&mut store, cal);
    // A later pull brings the server's next version.
    let page = ChangeSet {
        upserts: vec![fetched(
            "/cal/work/e1.ics",
            "\"3\"",
            event("e1", "Theirs, later"),
        )],
        ..ChangeSet::default()
    };
    store.apply(cal, &page, 3).unwrap();
    let c = store.conflicts().unwrap().remove(0);
    assert_eq!(c.remote_etag.as_deref(), Some("\"3\""));
    store.resolve(id, Keep::Remote, "x", 4).unwrap();
    assert_eq!(shown(&store), [("Theirs, later".to_string(), false)]);
    assert_eq!(
        store
            .item_etags(cal)
            .unwrap()
            .get("/cal/work/e1.ics")
            .cloned()
            .flatten()
            .as_deref(),
        Some("\"3\"")
    );
}

#[test]
fn the_bundled_sample_is_read_only_and_new_events_go_to_a_personal_calendar() {
    use almanac::domain::EventTime;
    use almanac::domain::edit::NewEvent;
    use almanac::edit::{EditFailure, EditRequest, PERSONAL, stage};
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    almanac::app::sample::ensure_sample(&mut store, day, 0).unwrap();
    let (sample, _) = store.sample_calendar().unwrap().unwrap();
    let shown_before = shown(&store);
    let (item, _, _) = store.items_with_uid("standup-23@sample.almanac").unwrap()[0].clone();
    let change = EditRequest::Delete {
        item,
        uid: "standup-23@sample.almanac".into(),
        occurrence: None,
        seen_etag: None,
    };
    assert!(matches!(
        stage(&mut store, change, chrono::Utc::now()),
        Err(EditFailure::Sample)
    ));
    assert_eq!(shown(&store), shown_before, "nothing changed");
    let at = |h| EventTime::Date(day).shifted(chrono::Duration::hours(h));
    let event = NewEvent {
        summary: "Mine".into(),
        start: at(0),
        end: at(24),
        location: None,
        description: None,
        rrule: None,
    };
    let outcome = stage(
        &mut store,
        EditRequest::Create {
            calendar: sample,
            event,
        },
        chrono::Utc::now(),
    )
    .unwrap();
    let personal = store.find_local_calendar(PERSONAL).unwrap().unwrap();
    assert_eq!(outcome.staged.calendar, personal);
    assert!(
        store.has_own_data().unwrap(),
        "so the sample goes at the next start"
    );
}

#[test]
fn a_delete_chosen_on_an_older_version_is_based_on_what_the_person_saw() {
    let (_dir, mut store, cal) = setup();
    pull_theirs(&mut store, cal, 1);
    let item = e1(&store);
    let seen_etag = Some("\"1\"".to_string());
    store
        .stage(LocalEdit::Delete { item, seen_etag }, 2)
        .unwrap();
    let pending = store.pending_changes(cal).unwrap();
    assert_eq!(pending[0].base_etag.as_deref(), Some("\"1\""));
}
