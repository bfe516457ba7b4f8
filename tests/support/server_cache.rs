//! A cache with one CalDAV account "home" and its server calendar "Work"
//! (`http://h/cal/work/`), for tests of what sync writes. Include with
//! `#[path = "support/server_cache.rs"] mod server_cache;`.

use almanac::store::{RemoteCalendar, Store};

/// A server calendar as the listing gives it.
pub fn remote(id: &str, name: &str) -> RemoteCalendar {
    RemoteCalendar {
        remote_id: format!("http://h/cal/{id}/"),
        name: name.into(),
        color: None,
        components: vec!["VEVENT".into()],
    }
}

/// A fresh cache in a temporary directory holding the empty calendar "Work"; its id.
pub fn work_calendar() -> (tempfile::TempDir, Store, i64) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let acc = store.account("home", "caldav", "http://h/", 0).unwrap();
    store
        .reconcile_calendars(acc.id, &[remote("work", "Work")])
        .unwrap();
    let cal = store.calendar_syncs(acc.id).unwrap()[0].id;
    (dir, store, cal)
}
