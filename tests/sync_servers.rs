//! The sync engine against real CalDAV servers (Radicale and Xandikos, started on loopback ports):
//! first sync, a sync with no changes (one request), incremental changes, an expired token, and a
//! random sequence of server changes and syncs after which the cache equals the server.
//! Without the venv (`bash tests/interop/setup.sh`) these print "skipped" and pass; under CI=true
//! they fail.

mod support;

use std::collections::BTreeMap;

use almanac::config::{AccountConfig, AccountKind, Secret};
use almanac::store::Store;
use almanac::sync::SyncOptions;
use almanac::sync::accounts::caldav_for;
use almanac::sync::caldav::CalDav;
use almanac::sync::engine::{AccountReport, sync_caldav};
use support::rng::Rng;
use support::servers::{self, Kind, Server};

fn start(kind: Kind) -> Option<Server> {
    let server = servers::start(kind);
    if server.is_none() {
        eprintln!("skipped: {kind} is not installed (run `bash tests/interop/setup.sh`)");
    }
    server
}

fn event(uid: &str, summary: &str, day: u32) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//almanac//interop//EN\r\n\
         BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n\
         DTSTART:202611{day:02}T100000Z\r\nDTEND:202611{day:02}T110000Z\r\nSUMMARY:{summary}\r\n\
         X-ALMANAC-TEST;X-PARAM=kept:value\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn client(server: &Server) -> CalDav {
    caldav_for(&AccountConfig {
        name: "test".into(),
        kind: AccountKind::Caldav,
        url: Some(server.base_url.clone()),
        username: Some(server.user.clone()),
        password: Some(Secret::Value(server.password.clone())),
        sync_every: None,
        client_id: None,
        ca_file: None,
        ..Default::default()
    })
    .expect("a client for the test server")
}

async fn sync(store: &mut Store, dav: &CalDav, full: bool) -> AccountReport {
    let report = sync_caldav(
        store,
        "test",
        dav,
        &SyncOptions {
            calendar: None,
            full,
        },
        None,
    )
    .await;
    assert_eq!(report.error, None, "{report:#?}");
    for c in &report.calendars {
        assert_eq!(c.error, None, "{report:#?}");
    }
    report
}

/// (href, etag) of the cache's items for the calendar at `calendar_url`.
fn cached(store: &Store, calendar_url: &str) -> Vec<(String, String)> {
    let path = reqwest::Url::parse(calendar_url)
        .unwrap()
        .path()
        .to_string();
    // The test's account is the cache's only one.
    let calendar = store
        .calendar_syncs(1)
        .unwrap()
        .into_iter()
        .find(|c| reqwest::Url::parse(&c.remote_id).unwrap().path() == path)
        .expect("the calendar is in the cache");
    let mut out: Vec<(String, String)> = store
        .item_etags(calendar.id)
        .unwrap()
        .into_iter()
        .map(|(h, e)| (h, e.unwrap_or_default()))
        .collect();
    out.sort();
    out
}

async fn assert_converged(server: &Server, store: &Store, calendar_url: &str) {
    let truth = server.listing(calendar_url).await;
    assert_eq!(
        cached(store, calendar_url),
        truth,
        "cache differs from {}",
        server.kind
    );
}

async fn round_trip(kind: Kind) {
    let Some(server) = start(kind) else { return };
    let cal = server.make_calendar("work", "Work & Play").await;
    for i in 1..=3 {
        server
            .put(
                &cal,
                &format!("e{i}.ics"),
                &event(&format!("e{i}"), &format!("Event {i}"), i),
            )
            .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let dav = client(&server);

    let first = sync(&mut store, &dav, false).await;
    let work = first
        .calendars
        .iter()
        .find(|c| c.calendar == "Work & Play")
        .expect("the calendar");
    assert_eq!(work.strategy, "sync-collection");
    assert_eq!(work.added, 3);
    assert_converged(&server, &store, &cal).await;

    // Nothing changed: one PROPFIND on the home, nothing else.
    let again = sync(&mut store, &dav, false).await;
    assert_eq!(again.requests, 1, "{again:#?}");
    assert!(again.calendars.iter().all(|c| c.unchanged));
    // The first sync listed no ctag; the unchanged run learned it.
    let path = reqwest::Url::parse(&cal).unwrap().path().to_string();
    let state = store
        .calendar_syncs(1)
        .unwrap()
        .into_iter()
        .find(|c| reqwest::Url::parse(&c.remote_id).unwrap().path() == path)
        .unwrap();
    assert!(state.ctag.is_some(), "{state:?}");

    // One change, one removal, two additions: home PROPFIND + sync REPORT + one multiget.
    server
        .put(&cal, "e1.ics", &event("e1", "Event 1 moved", 9))
        .await;
    server.delete(&cal, "e2.ics").await;
    server.put(&cal, "e4.ics", &event("e4", "Event 4", 4)).await;
    server.put(&cal, "e5.ics", &event("e5", "Event 5", 5)).await;
    let inc = sync(&mut store, &dav, false).await;
    let work = inc
        .calendars
        .iter()
        .find(|c| c.calendar == "Work & Play")
        .unwrap();
    assert_eq!(
        (work.added, work.changed, work.removed),
        (2, 1, 1),
        "{inc:#?}"
    );
    assert_eq!(inc.requests, 3, "{inc:#?}");
    assert_converged(&server, &store, &cal).await;
    let raw = store
        .reader()
        .unwrap()
        .calendar_items("Work & Play")
        .unwrap()
        .unwrap();
    assert!(raw.iter().any(|r| r.contains("Event 1 moved")));
    assert!(
        raw.iter()
            .all(|r| r.contains("X-ALMANAC-TEST;X-PARAM=kept:value"))
    );

    // An expired (here: forged) token is routine: a full listing, reconciled by href.
    let conn = rusqlite::Connection::open(dir.path().join("almanac.sqlite3")).unwrap();
    conn.execute(
        "UPDATE calendars SET sync_token = 'http://example.invalid/sync/1', seen_token = NULL",
        [],
    )
    .unwrap();
    server.delete(&cal, "e3.ics").await;
    let after = sync(&mut store, &dav, false).await;
    let work = after
        .calendars
        .iter()
        .find(|c| c.calendar == "Work & Play")
        .unwrap();
    assert_eq!(work.removed, 1, "{after:#?}");
    assert_converged(&server, &store, &cal).await;

    // A forced full refetch changes nothing when nothing changed.
    let full = sync(&mut store, &dav, true).await;
    let work = full
        .calendars
        .iter()
        .find(|c| c.calendar == "Work & Play")
        .unwrap();
    assert_eq!(
        (work.added, work.changed, work.removed),
        (0, 0, 0),
        "{full:#?}"
    );
    assert_converged(&server, &store, &cal).await;
}

/// A calendar deleted and recreated at the same URL (other items, one href reused): after the
/// next sync the cache equals the new collection.
async fn recreated_calendar(kind: Kind) {
    let Some(server) = start(kind) else { return };
    let cal = server.make_calendar("again", "Again").await;
    for i in 1..=4 {
        let name = format!("e{i}.ics");
        server
            .put(&cal, &name, &event(&format!("e{i}"), "Old", i))
            .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let dav = client(&server);
    sync(&mut store, &dav, false).await;
    sync(&mut store, &dav, false).await;
    assert_converged(&server, &store, &cal).await;
    let (status, text) = server.dav("DELETE", &cal, None, "").await;
    assert!(
        (200..300).contains(&status),
        "{kind} DELETE {cal}: {status} {text}"
    );
    let again = server.make_calendar("again", "Again").await;
    assert_eq!(again, cal);
    server.put(&cal, "n1.ics", &event("n1", "New", 5)).await;
    server.put(&cal, "e2.ics", &event("e2b", "Reborn", 6)).await;
    sync(&mut store, &dav, false).await;
    assert_converged(&server, &store, &cal).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_calendar_recreated_at_the_same_url_converges_on_radicale() {
    recreated_calendar(Kind::Radicale).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_calendar_recreated_at_the_same_url_converges_on_xandikos() {
    recreated_calendar(Kind::Xandikos).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn radicale_first_incremental_unchanged_and_expired_token_syncs() {
    round_trip(Kind::Radicale).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xandikos_first_incremental_unchanged_and_expired_token_syncs() {
    round_trip(Kind::Xandikos).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_server_changes_interleaved_with_syncs_converge_on_radicale() {
    let Some(server) = start(Kind::Radicale) else {
        return;
    };
    let cal = server.make_calendar("random", "Random").await;
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let dav = client(&server);
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut live: BTreeMap<u64, u32> = BTreeMap::new();
    for step in 0..60 {
        match rng.next(10) {
            0..=3 => {
                let id = rng.next(40);
                let day = 1 + rng.next(28) as u32;
                server
                    .put(
                        &cal,
                        &format!("r{id}.ics"),
                        &event(&format!("r{id}"), &format!("step {step}"), day),
                    )
                    .await;
                live.insert(id, day);
            }
            4..=5 => {
                if let Some(&id) = live.keys().nth(rng.next(live.len().max(1) as u64) as usize) {
                    server.delete(&cal, &format!("r{id}.ics")).await;
                    live.remove(&id);
                }
            }
            _ => {
                sync(&mut store, &dav, false).await;
                assert_converged(&server, &store, &cal).await;
            }
        }
    }
    sync(&mut store, &dav, false).await;
    assert_converged(&server, &store, &cal).await;
}
