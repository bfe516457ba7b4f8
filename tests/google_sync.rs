//! A Google account against the Google Calendar emulator (PROTOCOLS.md §2, §4): sign-in by the
//! loopback flow with PKCE through the real binary, rounds by sync token with their request
//! counts, series with exceptions and cancelled instances, 410 and garbled tokens, etag-guarded
//! writes and conflicts, lost replies, usage limits, and a dead refresh token.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use almanac::config::{AccountConfig, AccountKind, Secret};
use almanac::edit::{EditRequest, stage};
use almanac::emulator::google::{GoogleEmulator, Switches};
use almanac::store::{Keep, Store};
use almanac::sync::SyncOptions;
use almanac::sync::accounts::sync_accounts;
use almanac::sync::engine::AccountReport;
use almanac::sync::google::auth;
use serde_json::{Value, json};

const CLIENT: &str = "1234-test.apps.googleusercontent.com";
const SECRET: &str = "test-secret";

fn account(emu: &GoogleEmulator) -> AccountConfig {
    AccountConfig {
        name: "personal".into(),
        kind: AccountKind::Google,
        client_id: Some(CLIENT.into()),
        client_secret: Some(Secret::Value(SECRET.into())),
        api_url: Some(emu.api_url()),
        auth_url: Some(emu.auth_url()),
        token_url: Some(emu.token_url()),
        ..AccountConfig::default()
    }
}

/// An emulator with our client registered, one calendar, and a cache signed in to it (the
/// browser dance is its own test).
async fn setup() -> (GoogleEmulator, tempfile::TempDir, Store, AccountConfig) {
    let emu = GoogleEmulator::start().await.unwrap();
    emu.add_client(CLIENT, SECRET);
    emu.add_calendar("primary-cal", "Personal", "owner");
    let dir = tempfile::tempdir().unwrap();
    let (access, refresh) = emu.issue_tokens(CLIENT);
    auth::save(
        &auth::token_path(dir.path(), "personal"),
        &auth::Tokens {
            access_token: access,
            expires_at: chrono::Utc::now().timestamp() + 3000,
            refresh_token: refresh,
        },
    )
    .unwrap();
    let store = Store::open(dir.path()).unwrap();
    let acc = account(&emu);
    (emu, dir, store, acc)
}

async fn sync(store: &mut Store, acc: &AccountConfig) -> AccountReport {
    sync_opts(store, acc, SyncOptions::default()).await
}

async fn sync_opts(store: &mut Store, acc: &AccountConfig, opts: SyncOptions) -> AccountReport {
    sync_accounts(store, std::slice::from_ref(acc), &opts, None)
        .await
        .remove(0)
}

fn timed(id: &str, summary: &str, day: u32, hour: u32) -> Value {
    json!({
        "id": id,
        "summary": summary,
        "start": {"dateTime": format!("2026-12-{day:02}T{hour:02}:00:00+01:00"), "timeZone": "Europe/Berlin"},
        "end": {"dateTime": format!("2026-12-{day:02}T{:02}:00:00+01:00", hour + 1), "timeZone": "Europe/Berlin"},
    })
}

/// The occurrences `agenda --json` lists for December 2026, as (summary, start).
fn agenda(dir: &std::path::Path) -> Vec<(String, String)> {
    let out = Command::new(env!("CARGO_BIN_EXE_almanac"))
        .args(["--data-dir"])
        .arg(dir)
        .args([
            "agenda",
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-31",
            "--tz",
            "Europe/Berlin",
            "--json",
        ])
        .env("ALMANAC_CONFIG", {
            let empty = dir.join("empty-config.toml");
            std::fs::write(&empty, "").unwrap();
            empty
        })
        .output()
        .unwrap();
    let list: Vec<Value> = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    list.iter()
        .map(|o| {
            (
                o["summary"].as_str().unwrap_or_default().to_string(),
                o["start"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn calendar_id(store: &Store) -> i64 {
    store
        .calendar_names()
        .unwrap()
        .into_iter()
        .find(|(_, _, name)| name == "Personal")
        .map(|(id, _, _)| id)
        .expect("the Google calendar is in the cache")
}

/// The cache's item for Google event `id` (found by the UID Google gave it).
fn item_of(emu: &GoogleEmulator, store: &Store, id: &str) -> (i64, String) {
    let uid = emu
        .events("primary-cal")
        .into_iter()
        .find(|e| e["id"] == id)
        .and_then(|e| e["iCalUID"].as_str().map(str::to_string))
        .unwrap_or_else(|| id.to_string());
    (store.items_with_uid(&uid).unwrap()[0].0, uid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_series_with_an_exception_and_a_cancelled_instance_expands_exactly() {
    let (emu, dir, mut store, acc) = setup().await;
    emu.put_event("primary-cal", timed("single01", "Dentist", 3, 9));
    let mut weekly = timed("weekly01", "Standup", 7, 10);
    weekly["recurrence"] = json!(["RRULE:FREQ=WEEKLY;COUNT=4"]);
    emu.put_event("primary-cal", weekly);
    // Moved: the 14th at 12:00 instead of 10:00; cancelled: the 21st.
    let mut moved = timed("weekly01_20261214T090000Z", "Standup (moved)", 14, 12);
    moved["recurringEventId"] = json!("weekly01");
    moved["originalStartTime"] =
        json!({"dateTime": "2026-12-14T10:00:00+01:00", "timeZone": "Europe/Berlin"});
    emu.put_event("primary-cal", moved);
    let r = sync(&mut store, &acc).await;
    assert_eq!(r.error, None, "{r:?}");
    emu.put_event(
        "primary-cal",
        json!({"id": "weekly01_20261221T090000Z", "recurringEventId": "weekly01", "status": "cancelled",
               "originalStartTime": {"dateTime": "2026-12-21T10:00:00+01:00", "timeZone": "Europe/Berlin"}}),
    );
    let r = sync(&mut store, &acc).await;
    assert_eq!(r.error, None, "{r:?}");
    assert_eq!(
        agenda(dir.path()),
        [
            (
                "Dentist".to_string(),
                "2026-12-03T09:00:00+01:00".to_string()
            ),
            ("Standup".into(), "2026-12-07T10:00:00+01:00".into()),
            ("Standup (moved)".into(), "2026-12-14T12:00:00+01:00".into()),
            ("Standup".into(), "2026-12-28T10:00:00+01:00".into()),
        ]
    );
    assert!(emu.violations().is_empty(), "{:?}", emu.violations());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_without_changes_is_one_list_request_and_one_events_request() {
    let (emu, _dir, mut store, acc) = setup().await;
    for i in 0..30 {
        emu.put_event(
            "primary-cal",
            timed(&format!("ev{i:03}aa"), "x", 1 + i % 28, 9),
        );
    }
    let first = sync(&mut store, &acc).await;
    assert_eq!(first.calendars[0].added, 30, "{first:?}");
    emu.reset_counts();
    let again = sync(&mut store, &acc).await;
    assert_eq!(emu.requests(), 2, "{:?}", emu.request_log());
    assert_eq!(again.requests, 2);
    let c = &again.calendars[0];
    assert_eq!((c.added, c.changed, c.removed), (0, 0, 0));
    assert_eq!(c.strategy, "syncToken");
    // k changes: the same two requests, and only they are applied.
    emu.put_event("primary-cal", timed("ev000aa", "changed", 1, 10));
    emu.delete_event("primary-cal", "ev001aa");
    emu.reset_counts();
    let r = sync(&mut store, &acc).await;
    assert_eq!(emu.requests(), 2);
    let c = &r.calendars[0];
    assert_eq!((c.added, c.changed, c.removed), (0, 1, 1), "{r:?}");
    let log = emu.request_log();
    assert!(log.iter().all(|l| l.authorization));
    assert!(
        log.iter().any(|l| l.path_and_query.contains("syncToken=")
            && l.path_and_query.contains("singleEvents=false")),
        "{log:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_sync_pages_through_everything_and_empty_pages_are_followed() {
    let (emu, _dir, mut store, acc) = setup().await;
    for i in 0..25 {
        emu.put_event(
            "primary-cal",
            timed(&format!("pg{i:03}aa"), "p", 1 + i % 28, 9),
        );
    }
    emu.set_switches(Switches {
        page_size_cap: Some(10),
        empty_pages: 2,
        ..emu.switches()
    });
    let r = sync(&mut store, &acc).await;
    let c = &r.calendars[0];
    assert_eq!(c.added, 25, "{r:?}");
    let events_requests = emu
        .request_log()
        .iter()
        .filter(|l| l.path_and_query.contains("/events"))
        .count();
    // Three pages of ten (the last short) and the two empty pages before them.
    assert_eq!(events_requests, 5, "{:?}", emu.request_log());
    let again = sync(&mut store, &acc).await;
    assert_eq!(again.calendars[0].added, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_or_garbled_token_becomes_a_full_listing_that_keeps_pending_edits() {
    let (emu, _dir, mut store, acc) = setup().await;
    emu.put_event("primary-cal", timed("keep01aa", "Keep", 2, 9));
    emu.put_event("primary-cal", timed("gone01aa", "Gone", 3, 9));
    emu.put_event("primary-cal", timed("mine01aa", "Mine", 4, 9));
    sync(&mut store, &acc).await;
    // A local edit waits while the server's token expires.
    let (item, uid) = item_of(&emu, &store, "mine01aa");
    let changes = almanac::domain::edit::Changes {
        summary: Some("Mine, edited".into()),
        ..Default::default()
    };
    stage(
        &mut store,
        EditRequest::Change {
            item,
            uid,
            occurrence: None,
            changes,
            seen_etag: None,
        },
        chrono::Utc::now(),
    )
    .unwrap();
    emu.delete_event("primary-cal", "gone01aa");
    emu.set_switches(Switches {
        force_410_next: 1,
        ..emu.switches()
    });
    let r = sync(&mut store, &acc).await;
    assert_eq!(r.error, None, "{r:?}");
    let c = &r.calendars[0];
    assert_eq!(c.error, None, "{r:?}");
    assert_eq!(c.pushed, 1, "{r:?}");
    let ids: Vec<String> = {
        let mut v: Vec<String> = store
            .item_etags(calendar_id(&store))
            .unwrap()
            .into_keys()
            .collect();
        v.sort();
        v
    };
    assert_eq!(ids, ["keep01aa", "mine01aa"]);
    let mine = emu
        .events("primary-cal")
        .into_iter()
        .find(|e| e["id"] == "mine01aa")
        .unwrap();
    assert_eq!(mine["summary"], "Mine, edited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_carry_if_match_and_a_changed_copy_becomes_a_conflict_resolved_either_way() {
    let (emu, dir, mut store, acc) = setup().await;
    emu.put_event("primary-cal", timed("both01aa", "Lunch", 10, 12));
    sync(&mut store, &acc).await;
    let (item, uid) = item_of(&emu, &store, "both01aa");
    let edit = |summary: &str| EditRequest::Change {
        item,
        uid: uid.clone(),
        occurrence: None,
        changes: almanac::domain::edit::Changes {
            summary: Some(summary.into()),
            ..Default::default()
        },
        seen_etag: None,
    };
    stage(&mut store, edit("Lunch with Ana"), chrono::Utc::now()).unwrap();
    // Another client changes the event first.
    emu.put_event("primary-cal", timed("both01aa", "Lunch moved", 10, 13));
    let r = sync(&mut store, &acc).await;
    assert_eq!(r.calendars[0].conflicts, 1, "{r:?}");
    let puts: Vec<_> = emu
        .request_log()
        .into_iter()
        .filter(|l| l.method == "PUT")
        .collect();
    assert!(
        !puts.is_empty() && puts.iter().all(|l| l.if_match.is_some()),
        "{puts:?}"
    );
    assert_eq!(puts.last().unwrap().status, 412);
    let conflicts = store.conflicts().unwrap();
    assert_eq!(conflicts.len(), 1);
    assert!(
        conflicts[0]
            .remote_raw
            .as_deref()
            .is_some_and(|r| r.contains("Lunch moved"))
    );
    store
        .resolve(
            conflicts[0].id,
            Keep::Local,
            "unused-uid",
            chrono::Utc::now().timestamp(),
        )
        .unwrap();
    let r = sync(&mut store, &acc).await;
    assert_eq!(
        (r.calendars[0].pushed, r.calendars[0].conflicts),
        (1, 0),
        "{r:?}"
    );
    let server = emu
        .events("primary-cal")
        .into_iter()
        .find(|e| e["id"] == "both01aa")
        .unwrap();
    assert_eq!(server["summary"], "Lunch with Ana");
    assert!(emu.violations().is_empty(), "{:?}", emu.violations());
    drop(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_event_goes_with_our_id_and_a_lost_reply_is_recognised_as_ours() {
    let (emu, _dir, mut store, acc) = setup().await;
    sync(&mut store, &acc).await;
    let calendar = calendar_id(&store);
    let new = |summary: &str| EditRequest::Create {
        calendar,
        event: almanac::domain::edit::NewEvent {
            summary: summary.into(),
            start: almanac::domain::EventTime::Utc("2026-12-15T09:00:00Z".parse().unwrap()),
            end: almanac::domain::EventTime::Utc("2026-12-15T10:00:00Z".parse().unwrap()),
            location: None,
            description: None,
            rrule: None,
        },
    };
    let outcome = stage(&mut store, new("Planning"), chrono::Utc::now()).unwrap();
    emu.set_switches(Switches {
        lose_write_reply: 1,
        ..emu.switches()
    });
    let r = sync(&mut store, &acc).await;
    // The reply was cut: the insert is tried again next round, meets 409, and is ours.
    let r2 = sync(&mut store, &acc).await;
    let events = emu.events("primary-cal");
    assert_eq!(events.len(), 1, "{events:?}\n{r:?}\n{r2:?}");
    assert_eq!(events[0]["id"], outcome.uid.as_str());
    assert_eq!(events[0]["summary"], "Planning");
    assert_eq!(store.conflicts().unwrap().len(), 0);
    assert_eq!(store.pushable("personal").unwrap(), 0, "{r2:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_refresh_token_asks_to_sign_in_again_once_and_reader_calendars_are_read_only() {
    let (emu, dir, mut store, acc) = setup().await;
    emu.add_calendar("holidays-cal", "Holidays", "reader");
    let r = sync(&mut store, &acc).await;
    assert_eq!(r.error, None, "{r:?}");
    let holidays = store
        .calendar_names()
        .unwrap()
        .into_iter()
        .find(|(_, _, n)| n == "Holidays")
        .unwrap()
        .0;
    assert!(store.read_only_calendar(holidays).unwrap().is_some());
    // The access token is stale and the refresh token dead.
    let path = auth::token_path(dir.path(), "personal");
    let mut tokens = auth::load(&path).unwrap().unwrap();
    tokens.expires_at = 0;
    auth::save(&path, &tokens).unwrap();
    emu.set_switches(Switches {
        invalid_grant: true,
        ..emu.switches()
    });
    emu.reset_counts();
    let r = sync(&mut store, &acc).await;
    let error = r.error.clone().expect("an error");
    assert!(error.contains("almanac login personal"), "{error}");
    assert!(r.needs_sign_in);
    assert!(!error.contains(&tokens.refresh_token));
    // Only the one refresh, and no API request after it: no loop.
    let log = emu.request_log();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        (log[0].path_and_query.as_str(), log[0].status),
        ("/token", 400)
    );
}

#[test]
fn login_runs_the_loopback_flow_with_pkce_and_stores_the_tokens_for_the_person_only() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emu = runtime.block_on(GoogleEmulator::start()).unwrap();
    emu.add_client(CLIENT, SECRET);
    emu.add_calendar("primary-cal", "Personal", "owner");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[account]]\nname = \"personal\"\nkind = \"google\"\nclient_id = \"{CLIENT}\"\n\
             client_secret = {{ value = \"{SECRET}\" }}\napi_url = \"{}\"\nauth_url = \"{}\"\ntoken_url = \"{}\"\n",
            emu.api_url(),
            emu.auth_url(),
            emu.token_url()
        ),
    )
    .unwrap();
    let almanac = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_almanac"));
        c.args(["--config", config.to_str().unwrap(), "--data-dir"])
            .arg(dir.path().join("data"))
            .args(args)
            .env("ALMANAC_LOGIN_TIMEOUT", "30");
        c
    };
    let mut login = almanac(&["login", "personal", "--no-browser"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(login.stdout.take().unwrap()).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l.starts_with("http"))
        .expect("the consent page's address on a line of its own");
    assert!(url.contains("code_challenge_method=S256") && url.contains("access_type=offline"));
    // The "browser": consent answers 302 to the loopback redirect, which the login awaits.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let back = runtime.block_on(async {
        let consent = client.get(&url).send().await.unwrap();
        assert_eq!(consent.status(), 302);
        let location = consent.headers()["location"].to_str().unwrap().to_string();
        assert!(location.starts_with("http://127.0.0.1:"), "{location}");
        client.get(&location).send().await.unwrap().status()
    });
    assert_eq!(back, 200);
    let status = login.wait().unwrap();
    assert!(status.success());
    let path = auth::token_path(&dir.path().join("data"), "personal");
    let tokens = auth::load(&path).unwrap().expect("tokens stored");
    assert!(!tokens.refresh_token.is_empty());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let sync = almanac(&["sync"]).output().unwrap();
    assert!(
        sync.status.success(),
        "{}",
        String::from_utf8_lossy(&sync.stderr)
    );
    assert!(String::from_utf8_lossy(&sync.stdout).contains("Personal"));
    // Consent refused: the login says so and fails.
    emu.set_switches(Switches {
        deny_consent: true,
        ..emu.switches()
    });
    let mut login = almanac(&["login", "personal", "--no-browser"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(login.stdout.take().unwrap()).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l.starts_with("http"))
        .unwrap();
    runtime.block_on(async {
        let consent = client.get(&url).send().await.unwrap();
        let location = consent.headers()["location"].to_str().unwrap().to_string();
        assert!(location.contains("error=access_denied"), "{location}");
        let _ = client.get(&location).send().await;
    });
    let out = login.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("access_denied"));
}
