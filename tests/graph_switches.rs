//! Every Graph switch of PROTOCOLS.md §4 ("All three" and "Graph") against the client, one test
//! per switch: throttling waits out `Retry-After`, slow, cut and malformed replies, a 401 refreshes
//! once, a 412 on the next write, etag churn, the in-flight limit, expired and refused delta
//! state, dying nextLinks, empty, replayed, endless and overfull pages, skeletal occurrences,
//! missing and stray `@removed`, 504s on links, custom zones, sentinel dates, case twins, a strict
//! `range.startDate`, the device code flow's answers, a dead refresh token and a lost write reply.
//! After each, the cache equals the server's view of December and the emulator saw no violation.

use std::time::{Duration, Instant};

use almanac::config::{AccountConfig, AccountKind};
use almanac::domain::EventTime;
use almanac::domain::edit::{Changes, NewEvent};
use almanac::edit::{EditRequest, stage};
use almanac::emulator::graph::{GraphEmulator, GraphSwitches};
use almanac::store::Store;
use almanac::sync::SyncOptions;
use almanac::sync::engine::AccountReport;
use almanac::sync::google::auth;
use almanac::sync::graph::auth::{AuthError, device_code, wait_for_tokens};
use almanac::sync::graph::{Graph, client_for, graph_for, sync_graph};
use almanac::sync::http::RetryPolicy;
use serde_json::{Value, json};

const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const ZONE: &str = "W. Europe Standard Time";

struct Setup {
    emu: GraphEmulator,
    dir: tempfile::TempDir,
    store: Store,
    acc: AccountConfig,
    graph: Graph,
    cal: String,
}

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

/// A client with short backoffs (their lengths are not under test; `Retry-After` still rules).
fn fast(mut graph: Graph) -> Graph {
    graph.http.retry = RetryPolicy {
        attempts: 4,
        base: Duration::from_millis(5),
        cap: Duration::from_millis(20),
        ..RetryPolicy::default()
    };
    graph
}

/// An emulator with our client, one calendar, and a cache signed in to it.
async fn setup() -> Setup {
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
    let graph = fast(graph_for(&acc, dir.path()).unwrap());
    Setup {
        emu,
        dir,
        store,
        acc,
        graph,
        cal,
    }
}

impl Setup {
    async fn sync(&mut self) -> AccountReport {
        sync_graph(
            &mut self.store,
            "work",
            &self.graph,
            &SyncOptions::default(),
            None,
        )
        .await
    }

    /// A sync that must succeed for the account and its calendar.
    async fn sync_ok(&mut self) -> AccountReport {
        let r = self.sync().await;
        assert!(
            r.error.is_none() && r.calendars.iter().all(|c| c.error.is_none()),
            "{r:#?}"
        );
        r
    }

    fn switch(&self, f: impl FnOnce(&mut GraphSwitches)) {
        let mut s = self.emu.switches();
        f(&mut s);
        self.emu.set_switches(s);
    }

    fn insert(&self, event: Value) -> String {
        let stored = self.emu.insert_event(&self.cal, event);
        stored["id"]
            .as_str()
            .unwrap_or_else(|| panic!("not stored: {stored}"))
            .to_string()
    }

    fn calendar(&self) -> i64 {
        self.store.calendar_names().unwrap()[0].0
    }

    /// The cache equals the server's view of December (and is not empty).
    fn assert_converged(&self) {
        let here = sorted(agenda(self.dir.path()));
        assert!(!here.is_empty(), "the agenda is empty");
        assert_eq!(here, sorted(server_december(&self.emu, &self.cal)));
    }

    fn assert_no_violations(&self) {
        assert!(
            self.emu.violations().is_empty(),
            "{:?}",
            self.emu.violations()
        );
    }

    fn logged(
        &self,
        method: &str,
        path_contains: &str,
    ) -> Vec<almanac::emulator::graph::LoggedRequest> {
        self.emu
            .request_log()
            .into_iter()
            .filter(|l| l.method == method && l.path_and_query.contains(path_contains))
            .collect()
    }

    /// Stages a local change of the event whose server id is `id`.
    fn edit(&mut self, id: &str, changes: Changes) {
        let uid = self
            .emu
            .events(&self.cal)
            .into_iter()
            .find(|e| e["id"] == id)
            .and_then(|e| e["iCalUId"].as_str().map(str::to_string))
            .unwrap();
        let item = self.store.items_with_uid(&uid).unwrap()[0].0;
        stage(
            &mut self.store,
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
    }

    fn create(&mut self, summary: &str, start: &str, end: &str, rrule: Option<&str>) {
        let calendar = self.calendar();
        stage(
            &mut self.store,
            EditRequest::Create {
                calendar,
                event: NewEvent {
                    summary: summary.into(),
                    start: EventTime::Utc(start.parse().unwrap()),
                    end: EventTime::Utc(end.parse().unwrap()),
                    location: None,
                    description: None,
                    rrule: rrule.map(str::to_string),
                },
            },
            chrono::Utc::now(),
        )
        .unwrap();
    }
}

fn timed(subject: &str, day: u32, hour: u32) -> Value {
    json!({
        "subject": subject,
        "start": {"dateTime": format!("2026-12-{day:02}T{hour:02}:00:00.0000000"), "timeZone": ZONE},
        "end": {"dateTime": format!("2026-12-{day:02}T{:02}:30:00.0000000", hour), "timeZone": ZONE},
    })
}

fn weekly(subject: &str, day: u32, hour: u32, count: u32) -> Value {
    let mut v = timed(subject, day, hour);
    v["recurrence"] = json!({
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"], "firstDayOfWeek": "sunday"},
        "range": {"type": "numbered", "startDate": format!("2026-12-{day:02}"), "numberOfOccurrences": count,
                  "recurrenceTimeZone": ZONE},
    });
    v
}

fn daily(subject: &str, day: u32, hour: u32, count: u32) -> Value {
    let mut v = timed(subject, day, hour);
    v["recurrence"] = json!({
        "pattern": {"type": "daily", "interval": 1},
        "range": {"type": "numbered", "startDate": format!("2026-12-{day:02}"), "numberOfOccurrences": count,
                  "recurrenceTimeZone": ZONE},
    });
    v
}

/// Unix seconds of an RFC 3339 instant.
fn at(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp()
}

/// The occurrences `agenda --json` lists for December 2026, as (summary, start).
fn agenda(dir: &std::path::Path) -> Vec<(String, String)> {
    let empty = dir.join("empty-config.toml");
    std::fs::write(&empty, "").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_almanac"))
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
    let berlin = chrono::FixedOffset::east_opt(3600).unwrap();
    emu.window_view(
        cal,
        at("2026-12-01T00:00:00+01:00"),
        at("2027-01-01T00:00:00+01:00"),
    )
    .into_iter()
    .map(|(_, s, _, subject)| {
        let t = chrono::DateTime::from_timestamp(s, 0)
            .unwrap()
            .with_timezone(&berlin);
        (
            subject,
            t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        )
    })
    .collect()
}

fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
    v
}

/// A calendar of `n` single events and a few series, more than one page.
fn fill(t: &Setup, n: u32) {
    for i in 0..n {
        t.insert(timed(&format!("e{i}"), 1 + i % 28, 8 + i % 10));
    }
    for i in 0..3u32 {
        t.insert(weekly(&format!("s{i}"), 7, 9 + i, 3));
    }
}

/// Runs `f` once the emulator has answered a request whose path contains `path` (polled; pair
/// it with `delay_ms` so the request after that one is still waiting when `f` runs).
fn after_request(
    emu: &GraphEmulator,
    path: &'static str,
    f: impl FnOnce(&GraphEmulator) + Send + 'static,
) {
    let emu = emu.clone();
    tokio::spawn(async move {
        for _ in 0..2000 {
            if emu
                .request_log()
                .iter()
                .any(|l| l.path_and_query.contains(path))
            {
                f(&emu);
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    });
}

// ---- All three: throttling, slow, cut, malformed, 401, 412, etag churn, in flight ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_429_and_503_wait_out_retry_after_before_the_next_request() {
    let mut t = setup().await;
    fill(&t, 5);
    t.switch(|s| s.next_status = vec![(429, Some(1)), (503, Some(1))]);
    let started = Instant::now();
    t.sync_ok().await;
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "both waits were kept"
    );
    let statuses: Vec<u16> = t.emu.request_log().iter().map(|l| l.status).collect();
    assert_eq!(&statuses[..3], &[429, 503, 200], "{statuses:?}");
    t.assert_converged();
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_replies_still_make_a_whole_round() {
    let mut t = setup().await;
    fill(&t, 5);
    t.switch(|s| s.delay_ms = 150);
    let started = Instant::now();
    t.sync_ok().await;
    assert!(started.elapsed() >= Duration::from_millis(150 * 3));
    t.assert_converged();
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_cut_mid_body_is_retried() {
    let mut t = setup().await;
    fill(&t, 5);
    t.switch(|s| s.cut_next = 2);
    t.sync_ok().await;
    assert_eq!(t.emu.switches().cut_next, 0, "both cuts were served");
    // The calendar list was asked twice or more: the cut one and its retry.
    assert!(t.logged("GET", "/me/calendars").len() >= 2);
    t.assert_converged();
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_page_is_reported_for_its_calendar_and_leaves_the_cache_alone() {
    let mut t = setup().await;
    let keep = t.insert(timed("Keep", 2, 9));
    t.sync_ok().await;
    let before = agenda(t.dir.path());
    t.emu
        .update_event(&keep, json!({"subject": "Keep (changed)"}));
    t.insert(timed("New", 3, 9));
    // The calendar list comes whole; the delta page after it is broken.
    t.emu.reset_counts();
    t.switch(|s| s.delay_ms = 300);
    after_request(&t.emu, "/me/calendars", |emu| {
        let mut s = emu.switches();
        s.malformed_next = 1;
        s.delay_ms = 0;
        emu.set_switches(s);
    });
    let r = t.sync().await;
    assert_eq!(r.calendars.len(), 1, "{r:#?}");
    let error = r.calendars[0].error.clone().expect("the calendar's error");
    assert!(error.contains("not JSON"), "{error}");
    assert_eq!(t.emu.switches().malformed_next, 0, "the page was broken");
    assert_eq!(agenda(t.dir.path()), before, "the cache is as it was");
    t.sync_ok().await;
    t.assert_converged();
    // Malformed calendar list: the account's error, and the same.
    t.insert(timed("Later", 4, 9));
    let before = agenda(t.dir.path());
    t.switch(|s| s.malformed_next = 1);
    let r = t.sync().await;
    assert!(
        r.error.clone().unwrap_or_default().contains("not JSON"),
        "{r:#?}"
    );
    assert_eq!(agenda(t.dir.path()), before);
    t.sync_ok().await;
    t.assert_converged();
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_refreshes_once_and_the_round_goes_on() {
    let mut t = setup().await;
    fill(&t, 5);
    t.switch(|s| s.unauthorized_next = 1);
    t.sync_ok().await;
    assert_eq!(
        t.logged("POST", "/oauth2/v2.0/token").len(),
        1,
        "one refresh"
    );
    assert_eq!(t.emu.request_log()[0].status, 401);
    t.assert_converged();
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_412_on_an_unchanged_copy_goes_again_and_on_a_changed_one_is_a_conflict() {
    let mut t = setup().await;
    let id = t.insert(timed("Review", 9, 14));
    t.sync_ok().await;
    // Spurious (PROTOCOLS.md §3 "spurious 412s occur"): the server copy did not move.
    t.edit(
        &id,
        Changes {
            summary: Some("Review (room 2)".into()),
            ..Changes::default()
        },
    );
    t.switch(|s| s.precondition_failed_next = 1);
    t.emu.reset_counts();
    let r = t.sync_ok().await;
    let patches = t.logged("PATCH", "/me/events/");
    assert_eq!(patches.len(), 2, "{patches:#?}");
    assert_eq!(patches[0].status, 412);
    assert!(patches.iter().all(|p| p.if_match.is_some()), "{patches:#?}");
    assert_eq!(
        (r.calendars[0].pushed, r.calendars[0].conflicts),
        (1, 0),
        "{r:#?}"
    );
    assert!(t.store.conflicts().unwrap().is_empty());
    t.assert_converged();
    // Changed there and here: a conflict, nothing lost.
    t.emu
        .update_event(&id, json!({"subject": "Review (moved online)"}));
    t.edit(
        &id,
        Changes {
            location: Some("Room 3".into()),
            ..Changes::default()
        },
    );
    t.switch(|s| s.precondition_failed_next = 1);
    let r = t.sync().await;
    assert_eq!(r.calendars[0].conflicts, 1, "{r:#?}");
    assert_eq!(t.store.conflicts().unwrap().len(), 1);
    t.assert_no_violations();
}

/// A series with attendees, synced with `etag_churn` on.
async fn churning_series(t: &mut Setup) -> String {
    let mut meeting = weekly("Planning", 7, 11, 4);
    meeting["attendees"] = json!([{"emailAddress": {"address": "ana@example.com", "name": "Ana"},
                                    "type": "required"}]);
    let id = t.insert(meeting);
    t.insert(timed("Lunch", 8, 12));
    t.switch(|s| s.etag_churn = true);
    t.sync_ok().await;
    t.assert_converged();
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etag_churn_refetches_only_the_churned_series() {
    let mut t = setup().await;
    churning_series(&mut t).await;
    // Only the changeKey moved since (the master fetch churned it): the series comes again and
    // is stored with its new etag. The store counts every upsert of a held item as changed, so
    // the report says 1 though nothing the person sees changed; the single event is untouched.
    for _ in 0..2 {
        let r = t.sync_ok().await;
        let c = &r.calendars[0];
        assert_eq!((c.added, c.changed, c.removed), (0, 1, 0), "{r:#?}");
        t.assert_converged();
    }
    assert!(t.store.conflicts().unwrap().is_empty());
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_of_a_churning_series_is_pushed_without_a_conflict() {
    let mut t = setup().await;
    let id = churning_series(&mut t).await;
    t.edit(
        &id,
        Changes {
            summary: Some("Planning (Q1)".into()),
            ..Changes::default()
        },
    );
    let mut pushed = 0;
    for _ in 0..3 {
        let r = t.sync_ok().await;
        pushed += r.calendars[0].pushed;
    }
    assert_eq!(pushed, 1);
    assert!(t.store.conflicts().unwrap().is_empty());
    let stored = t
        .emu
        .events(&t.cal)
        .into_iter()
        .find(|e| e["id"] == id)
        .unwrap();
    assert_eq!(stored["subject"], "Planning (Q1)");
    t.assert_converged();
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_series_fetch_their_masters_at_most_four_at_a_time() {
    let mut t = setup().await;
    for i in 0..16u32 {
        t.insert(weekly(&format!("series {i}"), 7, 8 + i % 10, 3));
    }
    // Slow replies make the fetches overlap.
    t.switch(|s| {
        s.delay_ms = 100;
        s.max_in_flight = Some(4);
    });
    let started = Instant::now();
    t.sync_ok().await;
    let masters = t
        .emu
        .request_log()
        .iter()
        .filter(|l| l.method == "GET" && l.path_and_query.starts_with("/v1.0/me/events/"))
        .count();
    assert_eq!(masters, 16);
    // 16 masters one after another would take 1.6 s, plus the list and the page.
    assert!(
        started.elapsed() < Duration::from_millis(1600),
        "{:?}",
        started.elapsed()
    );
    t.assert_converged();
    t.assert_no_violations();
}

// ---- Graph: delta state ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_delta_state_answers_410_and_a_new_round_follows() {
    let mut t = setup().await;
    t.insert(timed("Keep", 2, 9));
    let gone = t.insert(timed("Gone", 3, 9));
    t.sync_ok().await;
    t.emu.delete_event(&gone);
    t.insert(timed("New", 4, 9));
    t.switch(|s| s.state_expiry_secs = Some(60));
    t.emu.set_now(t.emu.now() + 3600);
    t.emu.reset_counts();
    let r = t.sync_ok().await;
    let deltas = t.logged("GET", "/calendarView/delta");
    assert_eq!(deltas[0].status, 410, "{deltas:#?}");
    assert!(
        deltas[1].path_and_query.contains("startDateTime"),
        "{deltas:#?}"
    );
    assert_eq!(r.calendars[0].removed, 1, "{r:#?}");
    t.assert_converged();
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_delta_token_starts_a_new_round() {
    let mut t = setup().await;
    t.insert(timed("Keep", 2, 9));
    t.sync_ok().await;
    t.insert(timed("New", 4, 9));
    t.switch(|s| s.invalid_delta_token_next = 1);
    t.emu.reset_counts();
    t.sync_ok().await;
    let deltas = t.logged("GET", "/calendarView/delta");
    assert_eq!(
        deltas.iter().map(|l| l.status).collect::<Vec<_>>(),
        [400, 200]
    );
    t.assert_converged();
    t.assert_converged();
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_next_links_dying_do_not_hurt_a_client_that_follows_in_order() {
    let mut t = setup().await;
    fill(&t, 250);
    t.switch(|s| s.older_next_links_die = true);
    t.emu.reset_counts();
    t.sync_ok().await;
    let deltas = t.logged("GET", "/calendarView/delta");
    assert!(deltas.len() >= 3, "{deltas:#?}");
    assert!(deltas.iter().all(|l| l.status == 200), "{deltas:#?}");
    t.assert_converged();
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_pages_with_a_next_link_are_followed() {
    let mut t = setup().await;
    fill(&t, 5);
    t.switch(|s| s.empty_pages = 3);
    t.emu.reset_counts();
    t.sync_ok().await;
    assert_eq!(t.logged("GET", "/calendarView/delta").len(), 4);
    t.assert_converged();
    // An incremental round starts with empty pages too.
    t.insert(timed("Later", 20, 9));
    t.sync_ok().await;
    t.assert_converged();
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_items_keep_their_last_copy() {
    let mut t = setup().await;
    fill(&t, 250);
    t.switch(|s| s.replay_items = true);
    let r = t.sync_ok().await;
    assert_eq!(r.calendars[0].added, 253, "{r:#?}");
    t.assert_converged();
    // Changed items come first with their older content, then with the new.
    let ids: Vec<String> = t
        .emu
        .events(&t.cal)
        .iter()
        .filter(|e| e["subject"].as_str().is_some_and(|s| s.starts_with('e')))
        .take(3)
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    for id in &ids {
        t.emu
            .update_event(id, json!({"subject": format!("changed {id:.6}")}));
    }
    t.sync_ok().await;
    t.assert_converged();
    assert_eq!(
        agenda(t.dir.path())
            .iter()
            .filter(|(s, _)| s.starts_with("changed"))
            .count(),
        3
    );
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_round_stops_naming_the_repeat_and_the_next_run_converges() {
    let mut t = setup().await;
    fill(&t, 150);
    t.switch(|s| s.endless_loop = true);
    let r = tokio::time::timeout(Duration::from_secs(60), t.sync())
        .await
        .expect("the endless round ended");
    let error = r.calendars[0].error.clone().expect("an error");
    assert!(error.contains("same page twice"), "{error}");
    assert!(t.logged("GET", "/calendarView/delta").len() <= 3);
    t.switch(|s| s.endless_loop = false);
    t.sync_ok().await;
    t.assert_converged();
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overfull_pages_are_read_whole() {
    let mut t = setup().await;
    for i in 0..6u32 {
        t.insert(daily(&format!("daily {i}"), 1 + i, 8 + i, 40));
    }
    for i in 0..60u32 {
        t.insert(timed(&format!("e{i}"), 1 + i % 28, 7));
    }
    t.switch(|s| s.overfull_pages = true);
    t.sync_ok().await;
    t.assert_converged();
    t.assert_no_violations();
}

// ---- Graph: items, removals, series ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_and_skeletal_occurrences_give_the_same_cache() {
    for skeletal in [false, true] {
        let mut t = setup().await;
        t.switch(|s| s.skeletal_occurrences = skeletal);
        let master = t.insert(weekly("Standup", 7, 10, 4));
        t.insert(timed("Dentist", 3, 9));
        let moved = t
            .emu
            .occurrence_id(&master, at("2026-12-14T10:00:00+01:00"))
            .unwrap();
        assert!(t.emu.update_event(
            &moved,
            json!({"subject": "Standup (moved)",
            "start": {"dateTime": "2026-12-14T12:00:00.0000000", "timeZone": ZONE},
            "end": {"dateTime": "2026-12-14T12:30:00.0000000", "timeZone": ZONE}})
        ));
        t.sync_ok().await;
        t.assert_converged();
        let cancelled = t
            .emu
            .occurrence_id(&master, at("2026-12-21T10:00:00+01:00"))
            .unwrap();
        assert!(t.emu.delete_event(&cancelled));
        t.sync_ok().await;
        t.assert_converged();
        assert_eq!(agenda(t.dir.path()).len(), 4, "skeletal: {skeletal}");
        t.assert_no_violations();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_occurrence_without_removed_is_still_dropped() {
    let mut t = setup().await;
    let master = t.insert(weekly("Standup", 7, 10, 4));
    t.sync_ok().await;
    t.switch(|s| s.no_removed_for_cancelled_occurrences = true);
    let occ = t
        .emu
        .occurrence_id(&master, at("2026-12-14T10:00:00+01:00"))
        .unwrap();
    assert!(t.emu.delete_event(&occ));
    t.sync_ok().await;
    t.assert_converged();
    assert_eq!(agenda(t.dir.path()).len(), 3);
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removals_of_items_outside_the_window_remove_nothing() {
    let mut t = setup().await;
    let master = t.insert(weekly("Standup", 7, 10, 4));
    let single = t.insert(timed("Dentist", 3, 9));
    let far = t.emu.insert_event(
        &t.cal,
        json!({"subject": "Far away",
            "start": {"dateTime": "2031-06-01T09:00:00.0000000", "timeZone": ZONE},
            "end": {"dateTime": "2031-06-01T10:00:00.0000000", "timeZone": ZONE}}),
    );
    t.sync_ok().await;
    t.switch(|s| s.out_of_window_removals = true);
    // Changes outside the window, and changes of a master (not a member itself) inside it.
    t.emu
        .update_event(far["id"].as_str().unwrap(), json!({"subject": "Farther"}));
    t.emu
        .update_event(&master, json!({"subject": "Standup (new name)"}));
    let r = t.sync_ok().await;
    let c = &r.calendars[0];
    assert_eq!((c.added, c.changed, c.removed), (0, 1, 0), "{r:#?}");
    t.assert_converged();
    assert_eq!(agenda(t.dir.path()).len(), 5);
    // A single event changed meanwhile stays too.
    t.emu
        .update_event(&single, json!({"subject": "Dentist (moved)"}));
    t.emu
        .update_event(far["id"].as_str().unwrap(), json!({"subject": "Farthest"}));
    let r = t.sync_ok().await;
    assert_eq!(r.calendars[0].removed, 0, "{r:#?}");
    t.assert_converged();
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_504_on_a_next_link_is_retried_then_pages_shrink() {
    let mut t = setup().await;
    fill(&t, 250);
    // More 504s than the client's attempts: the round starts over with smaller pages.
    t.switch(|s| s.gateway_timeout_next_link = 5);
    t.emu.reset_counts();
    t.sync_ok().await;
    let deltas = t.logged("GET", "/calendarView/delta");
    assert!(
        deltas.iter().filter(|l| l.status == 504).count() == 5,
        "{deltas:#?}"
    );
    assert!(
        deltas.iter().any(|l| l
            .prefer
            .as_deref()
            .unwrap_or_default()
            .contains("odata.maxpagesize=50")),
        "{deltas:#?}"
    );
    t.assert_converged();
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_504_while_the_window_is_too_wide_shrinks_it_and_converges() {
    let mut t = setup().await;
    fill(&t, 250);
    t.switch(|s| s.gateway_timeout_until_window_days = Some(250));
    let r = tokio::time::timeout(Duration::from_secs(60), t.sync())
        .await
        .expect("no hang");
    assert!(
        r.error.is_none() && r.calendars[0].error.is_none(),
        "{r:#?}"
    );
    let deltas = t.logged("GET", "/calendarView/delta");
    assert!(deltas.iter().any(|l| l.status == 504), "{deltas:#?}");
    // A new round over half the width (490 days from 2026-09-01, today 2026-11-30).
    assert!(
        deltas.last().unwrap().path_and_query.contains("$skiptoken")
            && deltas
                .iter()
                .any(|l| l.path_and_query.contains("endDateTime=2027-05-04")),
        "{deltas:#?}"
    );
    t.assert_converged();
    // And the next run carries on from there.
    t.insert(timed("Later", 20, 9));
    t.sync_ok().await;
    t.assert_converged();
    t.assert_no_violations();
}

// ---- Graph: times, ids ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_time_zones_keep_the_times_right() {
    let mut t = setup().await;
    t.switch(|s| s.custom_time_zones = true);
    let master = t.insert(weekly("Standup", 7, 10, 4));
    t.insert(daily("Pacific", 9, 8, 3));
    t.insert(timed("Single", 2, 15));
    let moved = t
        .emu
        .occurrence_id(&master, at("2026-12-14T10:00:00+01:00"))
        .unwrap();
    assert!(t.emu.update_event(
        &moved,
        json!({"subject": "Standup (moved)",
        "start": {"dateTime": "2026-12-14T12:00:00.0000000", "timeZone": ZONE},
        "end": {"dateTime": "2026-12-14T12:30:00.0000000", "timeZone": ZONE}})
    ));
    let r = t.sync_ok().await;
    assert!(r.calendars[0].unreadable.is_empty(), "{r:#?}");
    t.assert_converged();
    assert!(
        agenda(t.dir.path())
            .contains(&("Standup (moved)".into(), "2026-12-14T12:00:00+01:00".into()))
    );
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_no_end_series_written_with_sentinel_dates_is_read() {
    let mut t = setup().await;
    t.switch(|s| s.sentinel_dates = true);
    let mut forever = timed("Forever", 7, 10);
    forever["recurrence"] = json!({
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"], "firstDayOfWeek": "sunday"},
        "range": {"type": "noEnd", "startDate": "2026-12-07", "recurrenceTimeZone": ZONE},
    });
    t.insert(forever);
    let r = t.sync_ok().await;
    assert!(r.calendars[0].unreadable.is_empty(), "{r:#?}");
    t.assert_converged();
    assert_eq!(agenda(t.dir.path()).len(), 4, "7, 14, 21, 28 December");
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_differing_only_in_case_are_two_events() {
    let mut t = setup().await;
    let a = t.insert(timed("Upper", 2, 9));
    t.switch(|s| s.case_twin_ids = true);
    let b = t.insert(timed("Lower", 3, 9));
    assert_ne!(a, b);
    assert_eq!(a.to_lowercase(), b.to_lowercase(), "twins");
    t.sync_ok().await;
    t.assert_converged();
    assert_eq!(agenda(t.dir.path()).len(), 2);
    // A change of one twin leaves the other alone.
    t.emu
        .update_event(&b, json!({"subject": "Lower (changed)"}));
    let r = t.sync_ok().await;
    assert_eq!(r.calendars[0].changed, 1, "{r:#?}");
    t.assert_converged();
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_series_created_here_starts_its_range_on_its_first_day() {
    let mut t = setup().await;
    t.insert(timed("Anchor", 1, 9));
    t.sync_ok().await;
    t.switch(|s| s.strict_range_start = true);
    // 23:30 UTC on a Monday is already Tuesday in Berlin: the series' own day counts.
    t.create(
        "Late call",
        "2026-12-07T23:30:00Z",
        "2026-12-08T00:00:00Z",
        Some("FREQ=WEEKLY;COUNT=3"),
    );
    t.create(
        "Weekly",
        "2026-12-09T10:00:00Z",
        "2026-12-09T11:00:00Z",
        Some("FREQ=WEEKLY;COUNT=3"),
    );
    let r = t.sync_ok().await;
    let c = &r.calendars[0];
    assert!(c.push_refused.is_empty(), "{r:#?}");
    assert_eq!(c.pushed, 2, "{r:#?}");
    let masters = t
        .emu
        .events(&t.cal)
        .into_iter()
        .filter(|e| e["recurrence"].is_object())
        .count();
    assert_eq!(masters, 2);
    t.sync_ok().await;
    t.assert_converged();
    t.assert_no_violations();
}

// ---- Graph: OAuth ----

async fn sign_in(t: &Setup, approve: bool) -> Result<auth::Tokens, AuthError> {
    let client = client_for(&t.acc).unwrap();
    let http = client.http().unwrap();
    let code = device_code(&http, &client).await?;
    if approve {
        assert!(t.emu.approve(&code.user_code));
    } else {
        assert!(t.emu.decline(&code.user_code));
    }
    wait_for_tokens(&http, &client, &code).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_polls_are_waited_through() {
    let t = setup().await;
    t.switch(|s| {
        s.device_interval_secs = 0;
        s.pending_polls = 3;
    });
    let tokens = sign_in(&t, true).await.expect("tokens");
    assert!(!tokens.refresh_token.is_empty());
    assert_eq!(t.logged("POST", "/oauth2/v2.0/token").len(), 4);
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_down_raises_the_interval_for_the_next_polls() {
    let t = setup().await;
    t.switch(|s| {
        s.device_interval_secs = 0;
        s.slow_down_next = 1;
        s.pending_polls = 1;
    });
    let started = Instant::now();
    let tokens = sign_in(&t, true).await.expect("tokens");
    assert!(!tokens.access_token.is_empty());
    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "RFC 8628: +5 s"
    );
    assert!(t.logged("POST", "/oauth2/v2.0/token").len() >= 2);
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_device_code_stops_with_a_new_code_offered() {
    let t = setup().await;
    t.switch(|s| {
        s.device_interval_secs = 0;
        s.expire_device_code = true;
    });
    let e = sign_in(&t, true).await.expect_err("expired");
    assert!(matches!(e, AuthError::Stopped(_)), "{e:?}");
    assert!(e.to_string().contains("almanac login"), "{e}");
    assert_eq!(
        t.logged("POST", "/oauth2/v2.0/token").len(),
        1,
        "no more polls"
    );
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_sign_in_stops() {
    let t = setup().await;
    t.switch(|s| s.device_interval_secs = 1);
    let e = sign_in(&t, false).await.expect_err("declined");
    assert!(matches!(e, AuthError::Stopped(_)), "{e:?}");
    assert!(e.to_string().contains("declined"), "{e}");
    assert_eq!(t.logged("POST", "/oauth2/v2.0/token").len(), 1);
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_grant_asks_to_sign_in_again_once() {
    let mut t = setup().await;
    auth::save(
        &auth::token_path(t.dir.path(), "work"),
        &auth::Tokens {
            access_token: "stale".into(),
            expires_at: 0,
            refresh_token: t.emu.issue_tokens(CLIENT).1,
        },
    )
    .unwrap();
    t.insert(timed("x", 2, 9));
    t.switch(|s| s.invalid_grant = true);
    t.emu.reset_counts();
    let r = t.sync().await;
    let error = r.error.clone().unwrap_or_default();
    assert!(error.contains("almanac login work"), "{r:#?}");
    assert_eq!(t.emu.requests(), 1, "{:#?}", t.emu.request_log());
    // Signed in again: the next run works.
    let (access, refresh) = t.emu.issue_tokens(CLIENT);
    auth::save(
        &auth::token_path(t.dir.path(), "work"),
        &auth::Tokens {
            access_token: access,
            expires_at: chrono::Utc::now().timestamp() + 3000,
            refresh_token: refresh,
        },
    )
    .unwrap();
    t.sync_ok().await;
    t.assert_converged();
    t.assert_no_violations();
}

// ---- Writes ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_reply_is_lost_makes_no_second_event() {
    let mut t = setup().await;
    t.insert(timed("Anchor", 1, 9));
    t.sync_ok().await;
    t.create(
        "Lunch",
        "2026-12-10T11:00:00Z",
        "2026-12-10T12:00:00Z",
        None,
    );
    t.switch(|s| s.lose_write_reply = 1);
    t.sync().await;
    t.sync_ok().await;
    let posts = t.logged("POST", "/events");
    assert!(posts.len() >= 2, "the create went again: {posts:#?}");
    let lunches = t
        .emu
        .events(&t.cal)
        .into_iter()
        .filter(|e| e["subject"] == "Lunch")
        .count();
    assert_eq!(lunches, 1);
    t.assert_converged();
    assert_eq!(
        agenda(t.dir.path())
            .iter()
            .filter(|(s, _)| s == "Lunch")
            .count(),
        1
    );
    t.assert_no_violations();
}
