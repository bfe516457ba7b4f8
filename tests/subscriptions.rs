//! Read-only subscriptions (`kind = "ics"`): conditional GETs against a feed on a loopback port
//! (RFC 9110 §13: `If-None-Match`, `If-Modified-Since`, 304), feeds that send no validators or
//! ignore them, a changed feed diffed by UID so only what changed counts, a bad feed kept with
//! its error, local files, and edits refused at once.

use std::process::Command;

use almanac::config::{AccountConfig, AccountKind};
use almanac::emulator::{FeedServer, FeedSwitches};
use almanac::store::Store;
use almanac::sync::SyncOptions;
use almanac::sync::accounts::sync_accounts;
use almanac::sync::engine::CalendarReport;

fn event(uid: &str, summary: &str, day: u32, stamp: &str) -> String {
    format!(
        "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:{stamp}\r\nDTSTART:202612{day:02}T100000Z\r\n\
         DTEND:202612{day:02}T110000Z\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\n"
    )
}

fn feed(events: &[(&str, &str, u32)], stamp: &str) -> String {
    let mut out = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//feed//EN\r\n");
    for (uid, summary, day) in events {
        out.push_str(&event(uid, summary, *day, stamp));
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

fn account(url: &str) -> AccountConfig {
    AccountConfig {
        name: "holidays".into(),
        kind: AccountKind::Ics,
        url: Some(url.into()),
        ..AccountConfig::default()
    }
}

/// One round; the subscription's calendar report.
async fn sync(store: &mut Store, acc: &AccountConfig) -> CalendarReport {
    let mut reports = sync_accounts(
        store,
        std::slice::from_ref(acc),
        &SyncOptions::default(),
        None,
    )
    .await;
    let report = reports.remove(0);
    assert_eq!(report.calendars.len(), 1, "{report:?}");
    report.calendars[0].clone()
}

fn summaries(store: &Store, calendar: i64) -> Vec<String> {
    let mut out: Vec<String> = store.item_etags(calendar).unwrap().into_keys().collect();
    out.sort();
    out
}

#[tokio::test]
async fn an_unchanged_feed_costs_one_conditional_request_and_changes_nothing() {
    let server = FeedServer::start(&feed(
        &[("a", "New Year", 31), ("b", "Party", 24)],
        "20260101T000000Z",
    ))
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let acc = account(&server.url());
    let first = sync(&mut store, &acc).await;
    assert_eq!(
        (first.added, first.changed, first.removed),
        (2, 0, 0),
        "{first:?}"
    );
    assert_eq!(first.requests, 1);
    assert_eq!(first.strategy, "conditional GET");
    let second = sync(&mut store, &acc).await;
    assert!(second.unchanged, "{second:?}");
    assert_eq!(second.requests, 1);
    assert_eq!((second.added, second.changed, second.removed), (0, 0, 0));
    let log = server.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].if_none_match, None);
    assert_eq!(log[1].if_none_match.as_deref(), Some("\"v1\""));
    assert!(log[1].if_modified_since.is_some());
    assert_eq!(log[1].status, 304);
    assert_eq!(summaries(&store, first.calendar_id), ["a", "b"]);
}

#[tokio::test]
async fn a_changed_feed_counts_only_the_events_that_changed() {
    let server = FeedServer::start(&feed(
        &[
            ("a", "New Year", 31),
            ("b", "Party", 24),
            ("c", "Gone soon", 20),
        ],
        "20260101T000000Z",
    ))
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let acc = account(&server.url());
    sync(&mut store, &acc).await;
    // Every DTSTAMP is new (generated feeds restamp each download): not a change by itself.
    server.set_body(&feed(
        &[
            ("a", "New Year", 31),
            ("b", "Party moved", 23),
            ("d", "New", 2),
        ],
        "20261129T120000Z",
    ));
    let r = sync(&mut store, &acc).await;
    assert_eq!((r.added, r.changed, r.removed), (1, 1, 1), "{r:?}");
    assert_eq!(summaries(&store, r.calendar_id), ["a", "b", "d"]);
}

#[tokio::test]
async fn feeds_without_validators_or_ignoring_them_still_diff_to_nothing() {
    let body = feed(&[("a", "New Year", 31)], "20260101T000000Z");
    let server = FeedServer::start(&body).await.unwrap();
    for switches in [
        FeedSwitches {
            no_validators: true,
            ..FeedSwitches::default()
        },
        FeedSwitches {
            ignore_conditions: true,
            ..FeedSwitches::default()
        },
    ] {
        server.set_switches(switches.clone());
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let acc = account(&server.url());
        assert_eq!(sync(&mut store, &acc).await.added, 1);
        let again = sync(&mut store, &acc).await;
        assert_eq!(
            (again.added, again.changed, again.removed, again.requests),
            (0, 0, 0, 1),
            "{switches:?}: {again:?}"
        );
        assert_eq!(server.requests().last().unwrap().status, 200);
        if switches.no_validators {
            // Nothing to send back: no stale validator either.
            assert_eq!(server.requests().last().unwrap().if_none_match, None);
        }
    }
}

#[tokio::test]
async fn a_bad_feed_is_reported_and_the_calendar_keeps_its_last_good_copy() {
    let server = FeedServer::start(&feed(
        &[("a", "New Year", 31), ("b", "Party", 24)],
        "20260101T000000Z",
    ))
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let acc = account(&server.url());
    let first = sync(&mut store, &acc).await;
    server.set_switches(FeedSwitches {
        body_override: Some("<html><body>Please sign in</body></html>".into()),
        ..FeedSwitches::default()
    });
    let r = sync(&mut store, &acc).await;
    let error = r.error.expect("a login page is an error");
    assert!(error.contains("not iCalendar"), "{error}");
    assert_eq!(summaries(&store, first.calendar_id), ["a", "b"]);
    server.set_switches(FeedSwitches {
        status: Some(404),
        ..FeedSwitches::default()
    });
    let r = sync(&mut store, &acc).await;
    assert!(
        r.error.as_deref().is_some_and(|e| e.contains("404")),
        "{r:?}"
    );
    assert_eq!(summaries(&store, first.calendar_id), ["a", "b"]);
    // One broken event in a good feed: the rest is applied, the broken one listed and kept.
    let broken = feed(
        &[("a", "New Year", 31), ("b", "Party", 24)],
        "20260101T000000Z",
    )
    .replace("DTSTART:20261231T100000Z", "DTSTART:2026-12-31xx");
    server.set_switches(FeedSwitches::default());
    server.set_body(&broken.replace("SUMMARY:Party", "SUMMARY:Party!"));
    let r = sync(&mut store, &acc).await;
    assert_eq!(r.error, None, "{r:?}");
    assert_eq!((r.changed, r.removed), (1, 0), "{r:?}");
    assert!(!r.unreadable.is_empty(), "{r:?}");
    assert_eq!(summaries(&store, first.calendar_id), ["a", "b"]);
}

#[tokio::test]
async fn a_file_subscription_is_read_again_only_when_the_file_changed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feed.ics");
    std::fs::write(&path, feed(&[("a", "New Year", 31)], "20260101T000000Z")).unwrap();
    let mut store = Store::open(&dir.path().join("data")).unwrap();
    let acc = account(path.to_str().unwrap());
    assert_eq!(sync(&mut store, &acc).await.added, 1);
    assert!(sync(&mut store, &acc).await.unchanged);
    std::fs::write(
        &path,
        feed(
            &[("a", "New Year", 31), ("b", "More", 1)],
            "20260101T000000Z",
        ),
    )
    .unwrap();
    let r = sync(&mut store, &acc).await;
    assert_eq!((r.added, r.changed, r.removed), (1, 0, 0), "{r:?}");
}

#[test]
fn edits_of_a_subscription_are_refused_at_once_saying_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feed.ics");
    std::fs::write(&path, feed(&[("a", "New Year", 31)], "20260101T000000Z")).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[account]]\nname = \"holidays\"\nkind = \"ics\"\nurl = \"{}\"\n",
            path.display()
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_almanac"))
            .args(["--config", config.to_str().unwrap(), "--data-dir"])
            .arg(dir.path().join("data"))
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["sync"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for args in [
        &["edit", "a", "--summary", "Mine now"][..],
        &["delete", "a"][..],
        &[
            "add",
            "--calendar",
            "holidays",
            "--summary",
            "x",
            "--start",
            "2026-12-01T10:00",
        ][..],
    ] {
        let out = run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("read-only"), "{args:?}: {stderr}");
    }
    let agenda = run(&[
        "agenda",
        "--from",
        "2026-12-31",
        "--to",
        "2026-12-31",
        "--json",
    ]);
    assert!(String::from_utf8_lossy(&agenda.stdout).contains("New Year"));
}
