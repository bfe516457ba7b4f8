//! A Graph account against the Graph emulator (PROTOCOLS.md §3, §4): device code sign-in through
//! the real binary, delta rounds with their request counts, series rebuilt from masters and
//! instances (exceptions, cancelled occurrences with and without `@removed`), 410 restarts,
//! etag-guarded writes and conflicts, and a dead refresh token.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use almanac::config::{AccountConfig, AccountKind};
use almanac::edit::{EditRequest, stage};
use almanac::emulator::graph::{GraphEmulator, GraphSwitches};
use almanac::store::Store;
use almanac::sync::SyncOptions;
use almanac::sync::accounts::sync_accounts;
use almanac::sync::engine::AccountReport;
use almanac::sync::google::auth;
use serde_json::{Value, json};

const CLIENT: &str = "11111111-2222-3333-4444-555555555555";

fn account(emu: &GraphEmulator) -> AccountConfig {
    AccountConfig {
        name: "work".into(),
        kind: AccountKind::Graph,
        client_id: Some(CLIENT.into()),
        tenant: Some("organizations".into()),
        api_url: Some(emu.api_url()),
        login_url: Some(emu.login_url()),
        ..AccountConfig::default()
    }
}

/// An emulator with our client, one calendar, and a cache signed in to it.
async fn setup() -> (
    GraphEmulator,
    tempfile::TempDir,
    Store,
    AccountConfig,
    String,
) {
    let emu = GraphEmulator::start().await.unwrap();
    emu.add_client(CLIENT);
    let cal = emu.add_calendar("Calendar", true);
    let dir = tempfile::tempdir().unwrap();
    let (access, refresh) = emu.issue_tokens(CLIENT);
    auth::save(
        &auth::token_path(dir.path(), "work"),
        &auth::Tokens {
            access_token: access,
            expires_at: chrono::Utc::now().timestamp() + 3000,
            refresh_token: refresh,
        },
    )
    .unwrap();
    let store = Store::open(dir.path()).unwrap();
    let acc = account(&emu);
    (emu, dir, store, acc, cal)
}

async fn sync(store: &mut Store, acc: &AccountConfig) -> AccountReport {
    sync_accounts(
        store,
        std::slice::from_ref(acc),
        &SyncOptions::default(),
        None,
    )
    .await
    .remove(0)
}

fn timed(subject: &str, day: u32, hour: u32) -> Value {
    json!({
        "subject": subject,
        "start": {"dateTime": format!("2026-12-{day:02}T{hour:02}:00:00.0000000"), "timeZone": "W. Europe Standard Time"},
        "end": {"dateTime": format!("2026-12-{day:02}T{:02}:00:00.0000000", hour + 1), "timeZone": "W. Europe Standard Time"},
    })
}

fn weekly(subject: &str, day: u32, hour: u32, count: u32) -> Value {
    let mut v = timed(subject, day, hour);
    v["recurrence"] = json!({
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"], "firstDayOfWeek": "sunday"},
        "range": {"type": "numbered", "startDate": format!("2026-12-{day:02}"), "numberOfOccurrences": count,
                  "recurrenceTimeZone": "W. Europe Standard Time"},
    });
    v
}

/// The occurrences `agenda --json` lists for December 2026, as (summary, start).
fn agenda(dir: &std::path::Path) -> Vec<(String, String)> {
    let empty = dir.join("empty-config.toml");
    std::fs::write(&empty, "").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_almanac"))
        .arg("--data-dir")
        .arg(dir)
        .args(["agenda", "--from", "2026-12-01", "--to", "2026-12-31"])
        .args(["--tz", "Europe/Berlin", "--json"])
        .env("ALMANAC_CONFIG", empty)
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

/// What the server's view of December says, in the agenda's terms.
fn server_december(emu: &GraphEmulator, cal: &str) -> Vec<(String, String)> {
    let start = chrono::DateTime::parse_from_rfc3339("2026-12-01T00:00:00+01:00").unwrap();
    let end = chrono::DateTime::parse_from_rfc3339("2027-01-01T00:00:00+01:00").unwrap();
    let berlin = chrono::FixedOffset::east_opt(3600).unwrap();
    let mut out: Vec<(String, String, i64)> = emu
        .window_view(cal, start.timestamp(), end.timestamp())
        .into_iter()
        .map(|(_, s, _, subject)| {
            let t = chrono::DateTime::from_timestamp(s, 0)
                .unwrap()
                .with_timezone(&berlin);
            (
                subject,
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
                s,
            )
        })
        .collect();
    out.sort_by(|a, b| (a.2, &a.0).cmp(&(b.2, &b.0)));
    out.into_iter().map(|(a, b, _)| (a, b)).collect()
}

fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_series_with_an_exception_and_cancelled_occurrences_converges() {
    let (emu, dir, mut store, acc, cal) = setup().await;
    emu.insert_event(&cal, timed("Dentist", 3, 9));
    let master = emu.insert_event(&cal, weekly("Standup", 7, 10, 4));
    let master_id = master["id"].as_str().unwrap().to_string();
    let r = sync(&mut store, &acc).await;
    assert_eq!(r.error, None, "{r:?}");
    assert!(r.calendars[0].error.is_none(), "{r:?}");
    assert_eq!(
        sorted(agenda(dir.path())),
        sorted(server_december(&emu, &cal))
    );
    assert_eq!(agenda(dir.path()).len(), 5);
    // Moved and cancelled on the server.
    let at = |d: &str| chrono::DateTime::parse_from_rfc3339(d).unwrap().timestamp();
    let moved = emu
        .occurrence_id(&master_id, at("2026-12-14T10:00:00+01:00"))
        .unwrap();
    assert!(emu.update_event(
        &moved,
        json!({"subject": "Standup (moved)",
        "start": {"dateTime": "2026-12-14T12:00:00.0000000", "timeZone": "W. Europe Standard Time"},
        "end": {"dateTime": "2026-12-14T13:00:00.0000000", "timeZone": "W. Europe Standard Time"}})
    ));
    let cancelled = emu
        .occurrence_id(&master_id, at("2026-12-21T10:00:00+01:00"))
        .unwrap();
    assert!(emu.delete_event(&cancelled));
    let r = sync(&mut store, &acc).await;
    assert!(r.error.is_none() && r.calendars[0].error.is_none(), "{r:?}");
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
    // A deleted occurrence that brings no @removed (PROTOCOLS.md §3 [obs]).
    emu.set_switches(GraphSwitches {
        no_removed_for_cancelled_occurrences: true,
        ..emu.switches()
    });
    let last = emu
        .occurrence_id(&master_id, at("2026-12-28T10:00:00+01:00"))
        .unwrap();
    assert!(emu.delete_event(&last));
    let r = sync(&mut store, &acc).await;
    assert!(r.error.is_none() && r.calendars[0].error.is_none(), "{r:?}");
    assert_eq!(
        sorted(agenda(dir.path())),
        sorted(server_december(&emu, &cal))
    );
    assert_eq!(agenda(dir.path()).len(), 3);
    assert!(emu.violations().is_empty(), "{:?}", emu.violations());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rounds_cost_what_changed() {
    let (emu, _dir, mut store, acc, cal) = setup().await;
    for i in 0..250u32 {
        emu.insert_event(&cal, timed(&format!("e{i}"), 1 + i % 28, 8 + i % 10));
    }
    for i in 0..3u32 {
        emu.insert_event(&cal, weekly(&format!("s{i}"), 7, 9 + i, 3));
    }
    emu.reset_counts();
    let first = sync(&mut store, &acc).await;
    assert!(first.calendars[0].error.is_none(), "{first:?}");
    // 259 items at 100 a page = 3 pages, 1 calendar listing, 3 masters.
    assert_eq!(emu.requests(), 1 + 3 + 3, "{:#?}", emu.request_log());
    assert_eq!(first.calendars[0].strategy, "delta");
    emu.reset_counts();
    let again = sync(&mut store, &acc).await;
    assert_eq!(emu.requests(), 2, "{:#?}", emu.request_log());
    let c = &again.calendars[0];
    assert_eq!((c.added, c.changed, c.removed), (0, 0, 0), "{again:?}");
    let log = emu.request_log();
    assert!(
        log.iter()
            .map(|l| l.prefer.clone().unwrap_or_default())
            .all(|p| p.contains("odata.maxpagesize=100")
                && p.contains("outlook.timezone=\"UTC\"")
                && p.contains("IdType=\"ImmutableId\"")),
        "{log:?}"
    );
    let single = emu
        .events(&cal)
        .into_iter()
        .find(|e| e["subject"] == "e5")
        .unwrap();
    emu.update_event(
        single["id"].as_str().unwrap(),
        json!({"subject": "e5 changed"}),
    );
    let other = emu
        .events(&cal)
        .into_iter()
        .find(|e| e["subject"] == "e6")
        .unwrap();
    emu.delete_event(other["id"].as_str().unwrap());
    emu.reset_counts();
    let r = sync(&mut store, &acc).await;
    assert_eq!(emu.requests(), 2, "{:#?}", emu.request_log());
    let c = &r.calendars[0];
    assert_eq!((c.added, c.changed, c.removed), (0, 1, 1), "{r:?}");
    assert!(emu.violations().is_empty(), "{:?}", emu.violations());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_delta_state_starts_a_new_round_and_keeps_pending_edits() {
    let (emu, dir, mut store, acc, cal) = setup().await;
    emu.insert_event(&cal, timed("Keep", 2, 9));
    let gone = emu.insert_event(&cal, timed("Gone", 3, 9));
    let r = sync(&mut store, &acc).await;
    assert!(r.calendars[0].error.is_none(), "{r:?}");
    emu.delete_event(gone["id"].as_str().unwrap());
    emu.set_switches(GraphSwitches {
        invalid_delta_token_next: 1,
        ..emu.switches()
    });
    let r = sync(&mut store, &acc).await;
    assert!(r.calendars[0].error.is_none(), "{r:?}");
    assert_eq!(r.calendars[0].removed, 1, "{r:?}");
    assert_eq!(
        agenda(dir.path()),
        [("Keep".to_string(), "2026-12-02T09:00:00+01:00".to_string())]
    );
    // The state expires (410 + Location): the same.
    emu.set_switches(GraphSwitches {
        state_expiry_secs: Some(60),
        ..emu.switches()
    });
    emu.set_now(emu.now() + 3600);
    emu.insert_event(&cal, timed("New", 4, 9));
    let r = sync(&mut store, &acc).await;
    assert!(r.calendars[0].error.is_none(), "{r:?}");
    assert_eq!(agenda(dir.path()).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_carry_their_etag_and_a_412_becomes_a_conflict() {
    let (emu, dir, mut store, acc, cal) = setup().await;
    let ev = emu.insert_event(&cal, timed("Review", 9, 14));
    let r = sync(&mut store, &acc).await;
    assert!(r.calendars[0].error.is_none(), "{r:?}");
    let uid = ev["iCalUId"].as_str().unwrap().to_string();
    let item = store.items_with_uid(&uid).unwrap()[0].0;
    // A local change goes as a PATCH of the changed field with If-Match.
    stage(
        &mut store,
        EditRequest::Change {
            item,
            uid: uid.clone(),
            occurrence: None,
            changes: almanac::domain::edit::Changes {
                summary: Some("Review (room 2)".into()),
                ..Default::default()
            },
            seen_etag: None,
        },
        chrono::Utc::now(),
    )
    .unwrap();
    emu.reset_counts();
    let r = sync(&mut store, &acc).await;
    assert_eq!(r.calendars[0].pushed, 1, "{r:?}");
    let patch = emu
        .request_log()
        .into_iter()
        .find(|l| l.method == "PATCH")
        .expect("a PATCH");
    assert!(patch.if_match.is_some(), "{patch:?}");
    let stored = emu
        .events(&cal)
        .into_iter()
        .find(|e| e["id"] == ev["id"])
        .unwrap();
    assert_eq!(stored["subject"], "Review (room 2)");
    // A new event goes as a POST with our UID as transactionId.
    let calendar = store.items_with_uid(&uid).unwrap()[0].1;
    stage(
        &mut store,
        EditRequest::Create {
            calendar,
            event: almanac::domain::edit::NewEvent {
                summary: "Lunch".into(),
                start: almanac::domain::EventTime::Utc("2026-12-10T11:00:00Z".parse().unwrap()),
                end: almanac::domain::EventTime::Utc("2026-12-10T12:00:00Z".parse().unwrap()),
                location: None,
                description: None,
                rrule: None,
            },
        },
        chrono::Utc::now(),
    )
    .unwrap();
    let r = sync(&mut store, &acc).await;
    assert_eq!(r.calendars[0].pushed, 1, "{r:?}");
    assert!(
        emu.events(&cal)
            .iter()
            .any(|e| e["subject"] == "Lunch" && e["transactionId"].is_string())
    );
    // Changed on the server and here: a conflict, nothing lost.
    emu.update_event(
        ev["id"].as_str().unwrap(),
        json!({"subject": "Review (moved online)"}),
    );
    stage(
        &mut store,
        EditRequest::Change {
            item,
            uid: uid.clone(),
            occurrence: None,
            changes: almanac::domain::edit::Changes {
                location: Some("Room 3".into()),
                ..Default::default()
            },
            seen_etag: None,
        },
        chrono::Utc::now(),
    )
    .unwrap();
    let r = sync(&mut store, &acc).await;
    assert_eq!(r.calendars[0].conflicts, 1, "{r:?}");
    assert_eq!(store.conflicts().unwrap().len(), 1);
    let _ = dir;
    assert!(emu.violations().is_empty(), "{:?}", emu.violations());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_refresh_token_asks_to_sign_in_again_without_a_loop() {
    let (emu, dir, mut store, acc, _cal) = setup().await;
    auth::save(
        &auth::token_path(dir.path(), "work"),
        &auth::Tokens {
            access_token: "stale".into(),
            expires_at: 0,
            refresh_token: emu.issue_tokens(CLIENT).1,
        },
    )
    .unwrap();
    emu.set_switches(GraphSwitches {
        invalid_grant: true,
        ..emu.switches()
    });
    emu.reset_counts();
    let r = sync(&mut store, &acc).await;
    let error = r.error.clone().unwrap_or_default();
    assert!(error.contains("sign in again: almanac login work"), "{r:?}");
    assert!(r.needs_sign_in);
    assert!(emu.requests() <= 1, "{:?}", emu.request_log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_stores_the_rotated_token_first() {
    let (emu, dir, mut store, acc, cal) = setup().await;
    let path = auth::token_path(dir.path(), "work");
    let (_, refresh) = emu.issue_tokens(CLIENT);
    auth::save(
        &path,
        &auth::Tokens {
            access_token: "stale".into(),
            expires_at: 0,
            refresh_token: refresh.clone(),
        },
    )
    .unwrap();
    emu.insert_event(&cal, timed("x", 2, 9));
    let r = sync(&mut store, &acc).await;
    assert!(r.error.is_none() && r.calendars[0].error.is_none(), "{r:?}");
    let now = auth::load(&path).unwrap().unwrap();
    assert_ne!(
        now.refresh_token, refresh,
        "the rotated refresh token is stored"
    );
}

#[test]
fn login_runs_the_device_code_flow_and_stores_the_tokens_for_the_person_only() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let emu = runtime.block_on(GraphEmulator::start()).unwrap();
    emu.add_client(CLIENT);
    emu.set_switches(GraphSwitches {
        device_interval_secs: 1,
        pending_polls: 1,
        ..emu.switches()
    });
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[account]]\nname = \"work\"\nkind = \"graph\"\nclient_id = \"{CLIENT}\"\ntenant = \"organizations\"\napi_url = \"{}\"\nlogin_url = \"{}\"\n",
            emu.api_url(),
            emu.login_url()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_almanac"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["login", "work"])
        .env("ALMANAC_CONFIG", &config)
        .env("ALMANAC_LOGIN_TIMEOUT", "60")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut code = None;
    let mut url = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(c) = line.strip_prefix("code: ") {
            code = Some(c.to_string());
        }
        if let Some(u) = line.strip_prefix("url: ") {
            url = Some(u.to_string());
        }
        if code.is_some() && url.is_some() {
            break;
        }
    }
    let code = code.expect("a code line");
    assert!(url.unwrap().starts_with("http"));
    assert!(emu.approve(&code));
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let path = auth::token_path(dir.path(), "work");
    let tokens = auth::load(&path).unwrap().expect("tokens stored");
    assert!(!tokens.refresh_token.is_empty());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // Declined: exit 1 with the reason.
    let mut child = Command::new(env!("CARGO_BIN_EXE_almanac"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["login", "work"])
        .env("ALMANAC_CONFIG", &config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let code = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("code: ").map(str::to_string))
        .unwrap();
    assert!(emu.decline(&code));
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("declined"));
    drop(runtime);
}

/// The cache's item for the server event `ev` (found by its iCalUId).
fn item_of(store: &Store, ev: &Value) -> (i64, String) {
    let uid = ev["iCalUId"].as_str().unwrap().to_string();
    (store.items_with_uid(&uid).unwrap()[0].0, uid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_occurrence_edit_makes_an_exception_and_an_occurrence_delete_cancels_it() {
    use almanac::domain::When;
    let (emu, dir, mut store, acc, cal) = setup().await;
    let master = emu.insert_event(&cal, weekly("Standup", 7, 10, 4));
    let r = sync(&mut store, &acc).await;
    assert!(r.calendars[0].error.is_none(), "{r:?}");
    let (item, uid) = item_of(&store, &master);
    let on = |day: u32| When::Instant(format!("2026-12-{day:02}T09:00:00Z").parse().unwrap());
    stage(
        &mut store,
        EditRequest::Change {
            item,
            uid: uid.clone(),
            occurrence: Some(on(14)),
            changes: almanac::domain::edit::Changes {
                summary: Some("Standup (demo day)".into()),
                ..Default::default()
            },
            seen_etag: None,
        },
        chrono::Utc::now(),
    )
    .unwrap();
    let r = sync(&mut store, &acc).await;
    assert_eq!(
        (r.calendars[0].pushed, r.calendars[0].conflicts),
        (1, 0),
        "{r:?}"
    );
    let exceptions: Vec<Value> = emu
        .events(&cal)
        .into_iter()
        .filter(|e| e["type"] == "exception")
        .collect();
    assert!(
        exceptions
            .iter()
            .any(|e| e["subject"] == "Standup (demo day)"),
        "{exceptions:?}"
    );
    let (item, uid) = item_of(&store, &master);
    stage(
        &mut store,
        EditRequest::Delete {
            item,
            uid,
            occurrence: Some(on(21)),
            seen_etag: None,
        },
        chrono::Utc::now(),
    )
    .unwrap();
    let r = sync(&mut store, &acc).await;
    assert_eq!(
        (r.calendars[0].pushed, r.calendars[0].conflicts),
        (1, 0),
        "{r:?}"
    );
    let r = sync(&mut store, &acc).await;
    assert!(r.calendars[0].error.is_none(), "{r:?}");
    assert_eq!(
        agenda(dir.path()),
        [
            (
                "Standup".to_string(),
                "2026-12-07T10:00:00+01:00".to_string()
            ),
            (
                "Standup (demo day)".into(),
                "2026-12-14T10:00:00+01:00".into()
            ),
            ("Standup".into(), "2026-12-28T10:00:00+01:00".into()),
        ]
    );
    assert_eq!(
        sorted(agenda(dir.path())),
        sorted(server_december(&emu, &cal))
    );
    assert!(emu.violations().is_empty(), "{:?}", emu.violations());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_series_made_here_reaches_graph_as_a_pattern_and_a_rule_graph_cannot_hold_is_refused() {
    let (emu, dir, mut store, acc, cal) = setup().await;
    emu.insert_event(&cal, timed("Anchor", 1, 9));
    let r = sync(&mut store, &acc).await;
    assert!(r.calendars[0].error.is_none(), "{r:?}");
    let calendar = store
        .items_with_uid(emu.events(&cal)[0]["iCalUId"].as_str().unwrap())
        .unwrap()[0]
        .1;
    let new = |rule: &str| EditRequest::Create {
        calendar,
        event: almanac::domain::edit::NewEvent {
            summary: "Gym".into(),
            start: almanac::domain::EventTime::Zoned {
                local: "2026-12-08T18:00:00".parse().unwrap(),
                tzid: "Europe/Berlin".into(),
                zone: None,
            },
            end: almanac::domain::EventTime::Zoned {
                local: "2026-12-08T19:00:00".parse().unwrap(),
                tzid: "Europe/Berlin".into(),
                zone: None,
            },
            location: None,
            description: None,
            rrule: Some(rule.into()),
        },
    };
    let refused = stage(&mut store, new("FREQ=HOURLY;COUNT=3"), chrono::Utc::now());
    let message = refused.expect_err("Graph cannot repeat hourly").to_string();
    assert!(message.to_lowercase().contains("hourly"), "{message}");
    stage(
        &mut store,
        new("FREQ=WEEKLY;BYDAY=TU,TH;COUNT=4"),
        chrono::Utc::now(),
    )
    .unwrap();
    let r = sync(&mut store, &acc).await;
    assert_eq!(r.calendars[0].pushed, 1, "{r:?}");
    let master = emu
        .events(&cal)
        .into_iter()
        .find(|e| e["subject"] == "Gym")
        .expect("the series on the server");
    assert_eq!(
        master["recurrence"]["pattern"]["type"], "weekly",
        "{master}"
    );
    let r = sync(&mut store, &acc).await;
    assert!(r.calendars[0].error.is_none(), "{r:?}");
    let gym: Vec<_> = agenda(dir.path())
        .into_iter()
        .filter(|(s, _)| s == "Gym")
        .collect();
    assert_eq!(
        gym.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>(),
        [
            "2026-12-08T18:00:00+01:00",
            "2026-12-10T18:00:00+01:00",
            "2026-12-15T18:00:00+01:00",
            "2026-12-17T18:00:00+01:00"
        ]
    );
    assert_eq!(
        sorted(agenda(dir.path())),
        sorted(server_december(&emu, &cal))
    );
}
