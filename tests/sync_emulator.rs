//! The sync engine against our own CalDAV emulator, where faults can be injected: the ctag path,
//! 507 truncation, expired tokens, 5xx/429 with Retry-After, cut connections, malformed replies,
//! unreadable items, foreign hrefs, 401, and runs killed at random points.

mod support;

use std::time::Duration;

use almanac::config::{AccountConfig, AccountKind, Secret};
use almanac::emulator::caldav::{CalDavEmulator, Faults};
use almanac::store::Store;
use almanac::sync::SyncOptions;
use almanac::sync::accounts::caldav_for;
use almanac::sync::caldav::CalDav;
use almanac::sync::engine::{AccountReport, sync_caldav};
use almanac::sync::http::RetryPolicy;
use support::rng::Rng;

const USER: &str = "alice";
const PASSWORD: &str = "pw-for-tests";

fn event(uid: &str, summary: &str, day: u32) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//almanac//emulator//EN\r\n\
         BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n\
         DTSTART:202611{day:02}T100000Z\r\nDTEND:202611{day:02}T110000Z\r\nSUMMARY:{summary}\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn account(emu: &CalDavEmulator, password: &str) -> AccountConfig {
    AccountConfig {
        name: "emu".into(),
        kind: AccountKind::Caldav,
        url: Some(emu.base_url()),
        username: Some(USER.into()),
        password: Some(Secret::Value(password.into())),
        sync_every: None,
        client_id: None,
        ca_file: None,
        ..Default::default()
    }
}

/// A client with short retry waits, so fault tests run fast.
fn client(emu: &CalDavEmulator) -> CalDav {
    let mut dav = caldav_for(&account(emu, PASSWORD)).unwrap();
    dav.http.retry = RetryPolicy {
        attempts: 4,
        base: Duration::from_millis(20),
        cap: Duration::from_millis(100),
        max_retry_after: Duration::from_secs(3),
    };
    dav
}

async fn setup(n: usize) -> (CalDavEmulator, tempfile::TempDir, Store, CalDav) {
    let emu = CalDavEmulator::start(USER, PASSWORD).await.unwrap();
    emu.add_calendar("work", "Work", Some("#4f9dde"));
    for i in 0..n {
        emu.put(
            "work",
            &format!("e{i}.ics"),
            &event(&format!("e{i}"), &format!("Event {i}"), 1 + (i % 28) as u32),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let dav = client(&emu);
    (emu, dir, store, dav)
}

async fn run(store: &mut Store, dav: &CalDav, full: bool) -> AccountReport {
    sync_caldav(
        store,
        "emu",
        dav,
        &SyncOptions {
            calendar: None,
            full,
        },
        None,
    )
    .await
}

async fn ok(store: &mut Store, dav: &CalDav) -> AccountReport {
    let r = run(store, dav, false).await;
    assert_eq!(r.error, None, "{r:#?}");
    assert!(r.calendars.iter().all(|c| c.error.is_none()), "{r:#?}");
    r
}

/// (href, etag) of the cache's "Work" calendar, sorted.
fn cached(store: &Store) -> Vec<(String, String)> {
    let cal = store
        .calendar_syncs(1)
        .unwrap()
        .into_iter()
        .find(|c| c.name == "Work")
        .expect("Work is in the cache");
    let mut v: Vec<(String, String)> = store
        .item_etags(cal.id)
        .unwrap()
        .into_iter()
        .map(|(h, e)| (h, e.unwrap_or_default()))
        .collect();
    v.sort();
    v
}

fn truth(emu: &CalDavEmulator) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = emu
        .items("work")
        .into_iter()
        .map(|(h, e, _)| (h, e))
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn without_sync_collection_the_ctag_and_etag_listing_path_is_used() {
    let (emu, _dir, mut store, dav) = setup(5).await;
    emu.set_faults(Faults {
        no_sync_collection: true,
        ..Faults::default()
    });
    let r = ok(&mut store, &dav).await;
    assert_eq!(r.calendars[0].strategy, "ctag+etag");
    assert_eq!(cached(&store), truth(&emu));
    // ctag unchanged: the home PROPFIND is the only request.
    let r = ok(&mut store, &dav).await;
    assert_eq!(r.requests, 1, "{r:#?}");
    let state = &store.calendar_syncs(1).unwrap()[0];
    assert_eq!(
        state.ctag,
        emu.ctag("work"),
        "the ctag is known after the first runs"
    );
    emu.put("work", "e1.ics", &event("e1", "changed", 3));
    emu.delete("work", "e2.ics");
    emu.reset_counts();
    let r = ok(&mut store, &dav).await;
    let c = &r.calendars[0];
    assert_eq!((c.added, c.changed, c.removed), (0, 1, 1), "{r:#?}");
    // home PROPFIND + etag listing + one multiget.
    assert_eq!(r.requests, 3, "{:?}", emu.request_log());
    assert_eq!(cached(&store), truth(&emu));
}

#[tokio::test]
async fn a_truncated_sync_reply_is_followed_to_the_end() {
    let (emu, _dir, mut store, dav) = setup(7).await;
    emu.set_faults(Faults {
        truncate_after: Some(3),
        ..Faults::default()
    });
    ok(&mut store, &dav).await;
    assert_eq!(cached(&store), truth(&emu));
    for i in 0..5 {
        emu.put(
            "work",
            &format!("n{i}.ics"),
            &event(&format!("n{i}"), "new", 2),
        );
    }
    emu.delete("work", "e0.ics");
    ok(&mut store, &dav).await;
    assert_eq!(cached(&store), truth(&emu));
}

#[tokio::test]
async fn k_changes_cost_two_requests_plus_one_multiget_per_batch() {
    let (emu, _dir, mut store, dav) = setup(450).await;
    ok(&mut store, &dav).await;
    for k in [1usize, 199, 201, 450] {
        for i in 0..k {
            emu.put(
                "work",
                &format!("e{i}.ics"),
                &event(&format!("e{i}"), &format!("k={k}"), 5),
            );
        }
        emu.reset_counts();
        let r = ok(&mut store, &dav).await;
        let batches = k.div_ceil(almanac::sync::engine::BATCH) as u64;
        if r.requests != 2 + batches {
            panic!("k={k}: {:#?}", emu.request_log());
        }
        assert_eq!(r.requests, 2 + batches, "k={k}: {r:#?}");
        assert_eq!(r.calendars[0].changed, k);
    }
    assert_eq!(cached(&store), truth(&emu));
}

#[tokio::test]
async fn an_expired_token_is_a_full_refetch_that_keeps_pending_edits() {
    let (emu, dir, mut store, dav) = setup(6).await;
    ok(&mut store, &dav).await;
    // A local edit waits to be pushed for e1; the server deletes e1 meanwhile.
    let conn = rusqlite::Connection::open(dir.path().join("almanac.sqlite3")).unwrap();
    let href: String = conn
        .query_row("SELECT href FROM items WHERE uid = 'e1'", [], |r| r.get(0))
        .unwrap();
    conn.execute(
        "INSERT INTO pending (calendar_id, href, uid, op, base_etag, raw, created_at)
         SELECT calendar_id, href, uid, 'update', etag, raw, 0 FROM items WHERE uid = 'e1'",
        [],
    )
    .unwrap();
    emu.expire_tokens();
    emu.delete("work", "e1.ics");
    emu.delete("work", "e2.ics");
    emu.put("work", "e9.ics", &event("e9", "new", 9));
    let r = ok(&mut store, &dav).await;
    assert_eq!(
        r.calendars[0].removed, 1,
        "e2 goes, e1 stays for its pending edit: {r:#?}"
    );
    let mut want = truth(&emu);
    let kept = cached(&store)
        .into_iter()
        .find(|(h, _)| *h == href)
        .expect("the item with a pending edit is kept");
    want.push(kept);
    want.sort();
    assert_eq!(cached(&store), want);
}

#[tokio::test]
async fn a_stale_token_answered_with_a_full_listing_still_finds_removals() {
    let (emu, _dir, mut store, dav) = setup(30).await;
    ok(&mut store, &dav).await;
    emu.set_faults(Faults {
        stale_token_full_listing: true,
        ..Faults::default()
    });
    emu.expire_tokens();
    emu.delete("work", "e3.ics");
    emu.put("work", "e4.ics", &event("e4", "changed", 4));
    ok(&mut store, &dav).await;
    assert_eq!(cached(&store), truth(&emu));
}

#[tokio::test]
async fn server_errors_with_retry_after_are_retried() {
    let (emu, _dir, mut store, dav) = setup(3).await;
    emu.set_faults(Faults {
        next_status: vec![(503, Some(1)), (429, Some(0)), (500, None)],
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    ok(&mut store, &dav).await;
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
    assert_eq!(cached(&store), truth(&emu));
}

#[tokio::test]
async fn a_server_that_keeps_failing_is_reported_and_the_next_run_recovers() {
    let (emu, _dir, mut store, dav) = setup(3).await;
    emu.set_faults(Faults {
        next_status: vec![(500, None); 8],
        ..Faults::default()
    });
    let r = run(&mut store, &dav, false).await;
    let e = r.error.expect("an error");
    assert!(e.contains("500"), "{e}");
    emu.set_faults(Faults::default());
    ok(&mut store, &dav).await;
    assert_eq!(cached(&store), truth(&emu));
}

#[tokio::test]
async fn a_connection_cut_mid_reply_is_retried() {
    let (emu, _dir, mut store, dav) = setup(20).await;
    emu.set_faults(Faults {
        cut_next: 2,
        ..Faults::default()
    });
    ok(&mut store, &dav).await;
    assert_eq!(cached(&store), truth(&emu));
}

#[tokio::test]
async fn a_malformed_reply_fails_the_run_without_touching_the_cache() {
    let (emu, _dir, mut store, dav) = setup(4).await;
    ok(&mut store, &dav).await;
    let before = cached(&store);
    emu.put("work", "e1.ics", &event("e1", "changed", 2));
    emu.set_faults(Faults {
        malformed_next: 1,
        ..Faults::default()
    });
    let r = run(&mut store, &dav, false).await;
    assert!(r.error.is_some(), "{r:#?}");
    assert_eq!(cached(&store), before);
    emu.set_faults(Faults::default());
    ok(&mut store, &dav).await;
    assert_eq!(cached(&store), truth(&emu));
}

#[tokio::test]
async fn an_unreadable_item_is_kept_raw_reported_and_the_rest_synced() {
    let (emu, _dir, mut store, dav) = setup(4).await;
    emu.set_faults(Faults {
        corrupt_item: Some("e2.ics".into()),
        ..Faults::default()
    });
    let r = ok(&mut store, &dav).await;
    let c = &r.calendars[0];
    assert_eq!(c.added, 4);
    assert_eq!(c.unreadable.len(), 1, "{r:#?}");
    assert!(c.unreadable[0].contains("e2.ics"));
    let status = store.reader().unwrap().sync_status().unwrap();
    let work = status.iter().find(|s| s.calendar == "Work").unwrap();
    assert_eq!((work.items, work.events), (4, 3));
}

#[tokio::test]
async fn an_item_that_is_not_utf8_is_kept_raw_and_the_rest_of_the_reply_synced() {
    // Both ways a first sync reads data: a sync-collection with data, and multigets (ctag path).
    for no_sync_collection in [false, true] {
        let (emu, _dir, mut store, dav) = setup(250).await;
        emu.set_faults(Faults {
            non_utf8_item: Some("e7.ics".into()),
            no_sync_collection,
            ..Faults::default()
        });
        let r = ok(&mut store, &dav).await;
        let c = &r.calendars[0];
        assert_eq!(c.added, 250, "{r:#?}");
        assert_eq!(c.unreadable.len(), 1, "{r:#?}");
        assert!(c.unreadable[0].contains("e7.ics"), "{r:#?}");
        assert!(c.unreadable[0].contains("UTF-8"), "{r:#?}");
        let status = store.reader().unwrap().sync_status().unwrap();
        let work = status.iter().find(|s| s.calendar == "Work").unwrap();
        assert_eq!((work.items, work.events), (250, 249));
    }
}

#[tokio::test]
async fn hrefs_on_another_origin_are_refused() {
    let (emu, _dir, mut store, dav) = setup(3).await;
    emu.set_faults(Faults {
        foreign_href: true,
        ..Faults::default()
    });
    ok(&mut store, &dav).await;
    assert_eq!(cached(&store), truth(&emu));
    assert!(cached(&store).iter().all(|(h, _)| !h.contains("evil")));
}

#[tokio::test]
async fn members_outside_the_collection_are_refused_and_reported() {
    for no_sync_collection in [false, true] {
        let (emu, _dir, mut store, dav) = setup(3).await;
        emu.set_faults(Faults {
            outside_href: true,
            no_sync_collection,
            ..Faults::default()
        });
        let r = ok(&mut store, &dav).await;
        assert_eq!(cached(&store), truth(&emu), "{r:#?}");
        assert!(
            cached(&store).iter().all(|(h, _)| !h.contains("outside")),
            "{:?}",
            cached(&store)
        );
        let refused: Vec<&String> = r.calendars[0]
            .unreadable
            .iter()
            .filter(|u| u.contains("outside the calendar"))
            .collect();
        assert!(refused.len() >= 2, "{r:#?}");
        // A later run (a delta, or the ctag path again) keeps them out too.
        emu.put("work", "e9.ics", &event("e9", "Later", 9));
        ok(&mut store, &dav).await;
        assert_eq!(cached(&store), truth(&emu));
    }
}

/// A calendar deleted and recreated at the same URL, on a server that answers the old token with
/// a 207 listing every current member and no removals [obs]: the next sync must drop what the old
/// collection held, because the collection's identity changed.
#[tokio::test]
async fn a_calendar_recreated_at_the_same_url_converges_on_the_next_sync() {
    for no_sync_collection in [false, true] {
        let (emu, _dir, mut store, dav) = setup(6).await;
        emu.set_faults(Faults {
            stale_token_full_listing: true,
            no_sync_collection,
            ..Faults::default()
        });
        ok(&mut store, &dav).await;
        ok(&mut store, &dav).await;
        emu.remove_calendar("work");
        emu.add_calendar("work", "Work", Some("#4f9dde"));
        emu.put("work", "n1.ics", &event("n1", "New 1", 3));
        emu.put("work", "e2.ics", &event("e2", "Reborn 2", 4));
        let r = ok(&mut store, &dav).await;
        assert_eq!(cached(&store), truth(&emu), "{r:#?}");
        // And it stays so.
        emu.put("work", "n2.ics", &event("n2", "New 2", 5));
        ok(&mut store, &dav).await;
        assert_eq!(cached(&store), truth(&emu));
    }
}

#[tokio::test]
async fn a_long_retry_after_ends_the_run_at_once_and_says_until_when() {
    let (emu, _dir, mut store, dav) = setup(2).await;
    ok(&mut store, &dav).await;
    emu.set_faults(Faults {
        next_status: vec![(429, Some(3600))],
        ..Faults::default()
    });
    emu.reset_counts();
    let r = run(&mut store, &dav, false).await;
    let e = r.error.clone().expect("an error");
    assert!(e.starts_with("rate-limited by the server until "), "{e}");
    assert_eq!(emu.requests(), 1, "no retry, no rediscovery: {r:#?}");
    let at = r.retry_at.expect("when to try again");
    let now = chrono::Utc::now().timestamp();
    assert!((now + 3500..=now + 3700).contains(&at), "{at} vs {now}");
    // 429s without Retry-After that outlast the retries end the run the same way.
    emu.set_faults(Faults {
        next_status: vec![(429, None); 10],
        ..Faults::default()
    });
    emu.reset_counts();
    let r = run(&mut store, &dav, false).await;
    assert!(r.retry_at.is_some(), "{r:#?}");
    assert_eq!(
        emu.requests(),
        4,
        "the retries, then no rediscovery: {r:#?}"
    );
}

/// A server that accepts and never answers, or trickles a byte at a time, ends the run within the
/// client's stall bound (60 s in the program; 1.5 s here), for a fresh account (discovery) and a
/// known one, and the UI hears "waiting" meanwhile and that the wait is over at the end.
#[tokio::test]
async fn a_silent_or_trickling_server_ends_the_run_within_the_stall_bound() {
    use almanac::sync::SyncEvent;
    for fresh in [true, false] {
        for faults in [
            Faults {
                delay_ms: 600_000,
                ..Faults::default()
            },
            Faults {
                trickle_ms: 300,
                ..Faults::default()
            },
        ] {
            let (emu, _dir, mut store, mut dav) = setup(2).await;
            dav.http.stall = Duration::from_millis(1500);
            if !fresh {
                ok(&mut store, &dav).await;
            }
            emu.set_faults(faults.clone());
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let started = std::time::Instant::now();
            let opts = SyncOptions::default();
            let r = tokio::time::timeout(
                Duration::from_secs(30),
                sync_caldav(&mut store, "emu", &dav, &opts, Some(&tx)),
            )
            .await
            .expect("the run ends on its own");
            let took = started.elapsed();
            assert!(took < Duration::from_secs(5), "{took:?} with {faults:?}");
            let e = r.error.clone().expect("an error");
            assert!(e.contains("stopped answering"), "{e}");
            let mut waits = Vec::new();
            while let Ok(ev) = rx.try_recv() {
                if let SyncEvent::Waiting { secs, .. } = ev {
                    waits.push(secs);
                }
            }
            assert!(waits.iter().any(|s| *s >= 1), "{waits:?}");
            assert_eq!(waits.last(), Some(&0), "{waits:?}");
        }
    }
}

/// The password command runs once for the engine's life, and again only after a 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_command_runs_once_per_engine_and_again_after_a_401() {
    use almanac::sync::SyncEvent;
    use almanac::sync::runner::{SyncCommand, spawn};
    let emu = CalDavEmulator::start(USER, PASSWORD).await.unwrap();
    emu.add_calendar("work", "Work", None);
    let dir = tempfile::tempdir().unwrap();
    let count = dir.path().join("asked");
    let script = format!("echo asked >> '{}'; echo {PASSWORD}", count.display());
    let mut acc = account(&emu, PASSWORD);
    acc.password = Some(Secret::Command(vec!["sh".into(), "-c".into(), script]));
    acc.sync_every = Some(Duration::from_secs(3600));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let commands = spawn(dir.path().join("data"), vec![acc], tx);
    let asked = || {
        std::fs::read_to_string(&count)
            .unwrap_or_default()
            .lines()
            .count()
    };
    // Waits for the end of a run that changes something (each run here finds a new item).
    async fn finished(rx: &mut tokio::sync::mpsc::UnboundedReceiver<SyncEvent>, failed: bool) {
        tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                match rx.recv().await.expect("the engine runs") {
                    SyncEvent::Finished { .. } if !failed => return,
                    SyncEvent::Failed { .. } if failed => return,
                    _ => {}
                }
            }
        })
        .await
        .expect("the run ends");
    }
    emu.put("work", "e0.ics", &event("e0", "Zero", 1));
    finished(&mut rx, false).await;
    for i in 1..=3 {
        emu.put(
            "work",
            &format!("e{i}.ics"),
            &event(&format!("e{i}"), "x", 2),
        );
        commands.send(SyncCommand::All).unwrap();
        finished(&mut rx, false).await;
    }
    assert_eq!(asked(), 1, "one engine, one password command");
    emu.set_faults(Faults {
        next_status: vec![(401, None)],
        ..Faults::default()
    });
    commands.send(SyncCommand::All).unwrap();
    finished(&mut rx, true).await;
    // The engine runs one thing at a time: once the next run is over, the 401's is too.
    emu.put("work", "e9.ics", &event("e9", "Nine", 9));
    commands.send(SyncCommand::All).unwrap();
    finished(&mut rx, false).await;
    assert_eq!(asked(), 2, "a 401 asks for the password again, once");
    emu.put("work", "e10.ics", &event("e10", "Ten", 10));
    commands.send(SyncCommand::All).unwrap();
    finished(&mut rx, false).await;
    assert_eq!(asked(), 2);
}

#[tokio::test]
async fn a_wrong_password_is_one_request_and_a_plain_message() {
    let (emu, _dir, mut store, _) = setup(1).await;
    let dav = caldav_for(&account(&emu, "wrong")).unwrap();
    emu.reset_counts();
    let r = run(&mut store, &dav, false).await;
    let e = r.error.expect("an error");
    assert!(e.contains("check the password"), "{e}");
    assert!(
        emu.requests() <= 2,
        "no retry storm: {:?}",
        emu.request_log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_changes_and_runs_killed_at_random_points_converge() {
    for seed in [1u64, 7, 42] {
        let (emu, _dir, mut store, dav) = setup(300).await;
        emu.set_faults(Faults {
            delay_ms: 2,
            truncate_after: Some(120),
            ..Faults::default()
        });
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seed);
        for step in 0..40 {
            match rng.next(10) {
                0..=3 => {
                    for _ in 0..1 + rng.next(30) {
                        let id = rng.next(400);
                        emu.put(
                            "work",
                            &format!("e{id}.ics"),
                            &event(
                                &format!("e{id}"),
                                &format!("s{step}"),
                                1 + rng.next(28) as u32,
                            ),
                        );
                    }
                }
                4..=5 => {
                    for _ in 0..1 + rng.next(20) {
                        emu.delete("work", &format!("e{}.ics", rng.next(400)));
                    }
                }
                6 => emu.expire_tokens(),
                _ => {
                    // The run is dropped after a random time: a kill between transactions.
                    let budget = Duration::from_millis(rng.next(60));
                    let _ = tokio::time::timeout(budget, run(&mut store, &dav, false)).await;
                }
            }
        }
        emu.set_faults(Faults::default());
        ok(&mut store, &dav).await;
        let got = cached(&store);
        assert_eq!(got, truth(&emu), "seed {seed}");
        let mut hrefs: Vec<&String> = got.iter().map(|(h, _)| h).collect();
        hrefs.dedup();
        assert_eq!(hrefs.len(), got.len(), "no duplicates");
    }
}

#[tokio::test]
async fn calendars_appear_are_renamed_and_vanish_with_the_server() {
    let (emu, _dir, mut store, dav) = setup(2).await;
    ok(&mut store, &dav).await;
    emu.add_calendar("team", "Team", None);
    emu.rename_calendar("work", "Work (old)");
    ok(&mut store, &dav).await;
    let names = |store: &Store| -> Vec<String> {
        store
            .calendar_syncs(1)
            .unwrap()
            .into_iter()
            .map(|c| c.name)
            .collect()
    };
    assert_eq!(names(&store), vec!["Work (old)", "Team"]);
    emu.remove_calendar("work");
    ok(&mut store, &dav).await;
    assert_eq!(names(&store), vec!["Team"]);
    let status = store.reader().unwrap().sync_status().unwrap();
    assert!(status.iter().all(|s| s.calendar != "Work (old)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_log() {
    let emu = CalDavEmulator::start(USER, "s3cret-Pa55word")
        .await
        .unwrap();
    emu.add_calendar("work", "Work", None);
    emu.put("work", "a.ics", &event("a", "A", 3));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let write = |password: &str| {
        std::fs::write(
            &config,
            format!(
                "[[account]]\nname = \"emu\"\nkind = \"caldav\"\nurl = \"{}\"\nusername = \"{USER}\"\npassword = {{ value = \"{password}\" }}\n",
                emu.base_url()
            ),
        )
        .unwrap();
    };
    for password in ["s3cret-Pa55word", "wr0ng-Pa55word"] {
        write(password);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_almanac"))
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("sync")
            .env("ALMANAC_LOG", "trace")
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains("Pa55word"), "{all}");
        if password.starts_with("wr0ng") {
            assert!(all.contains("check the password"), "{all}");
        }
    }
    let log = std::fs::read_to_string(dir.path().join("data/log/almanac.log")).unwrap();
    assert!(!log.is_empty());
    assert!(!log.contains("Pa55word"), "{log}");
    // Basic credentials in base64 would be just as bad.
    assert!(!log.contains("YWxpY2U6"), "{log}");
}

#[tokio::test]
async fn an_href_a_multiget_leaves_out_is_fetched_alone_not_dropped() {
    let (emu, _dir, mut store, dav) = setup(5).await;
    ok(&mut store, &dav).await;
    emu.set_faults(Faults {
        drop_from_multiget: Some("e1.ics".into()),
        ..Faults::default()
    });
    emu.put("work", "e1.ics", &event("e1", "changed", 7));
    emu.put("work", "e2.ics", &event("e2", "changed", 8));
    emu.delete("work", "e3.ics");
    let r = ok(&mut store, &dav).await;
    assert_eq!(r.calendars[0].removed, 1, "only e3: {r:#?}");
    assert_eq!(cached(&store), truth(&emu));
}

#[tokio::test]
async fn a_server_that_caps_multiget_gets_smaller_batches() {
    let (emu, _dir, mut store, dav) = setup(300).await;
    ok(&mut store, &dav).await;
    emu.set_faults(Faults {
        max_multiget: Some(60),
        ..Faults::default()
    });
    for i in 0..250 {
        emu.put(
            "work",
            &format!("e{i}.ics"),
            &event(&format!("e{i}"), "capped", 6),
        );
    }
    let r = ok(&mut store, &dav).await;
    assert_eq!(r.calendars[0].changed, 250, "{r:#?}");
    assert_eq!(cached(&store), truth(&emu));
}
