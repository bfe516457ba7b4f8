//! Every Google switch of PROTOCOLS.md §4 against the client: usage limits back off (no
//! Retry-After), quotaExceeded pauses, backend errors and cuts are retried, malformed JSON ends a
//! round without harm, a 401 refreshes once, a 412 on the very version held goes again, etag
//! churn merges silently, forbiddenForNonOrganizer is refused for good with its reason, bad data
//! is read, occurrences are edited and deleted, and calendars appear, rename and vanish.

use std::time::Duration;

use almanac::config::{AccountConfig, AccountKind, Secret};
use almanac::domain::When;
use almanac::domain::edit::Changes;
use almanac::edit::{EditRequest, stage};
use almanac::emulator::google::{GoogleEmulator, Switches};
use almanac::store::Store;
use almanac::sync::SyncOptions;
use almanac::sync::engine::AccountReport;
use almanac::sync::google::{Google, auth, google_for, sync_google};
use almanac::sync::http::RetryPolicy;
use serde_json::{Value, json};

const CLIENT: &str = "switch-test.apps.googleusercontent.com";
const SECRET: &str = "switch-secret";

struct Setup {
    emu: GoogleEmulator,
    dir: tempfile::TempDir,
    store: Store,
    google: Google,
}

/// A signed-in cache and a client with short waits (the waits' lengths are not under test).
async fn setup() -> Setup {
    let emu = GoogleEmulator::start().await.unwrap();
    emu.add_client(CLIENT, SECRET);
    emu.add_calendar("cal1", "Work", "owner");
    let dir = tempfile::tempdir().unwrap();
    let (access, refresh) = emu.issue_tokens(CLIENT);
    auth::save(
        &auth::token_path(dir.path(), "g"),
        &auth::Tokens {
            access_token: access,
            expires_at: chrono::Utc::now().timestamp() + 3000,
            refresh_token: refresh,
        },
    )
    .unwrap();
    let acc = AccountConfig {
        name: "g".into(),
        kind: AccountKind::Google,
        client_id: Some(CLIENT.into()),
        client_secret: Some(Secret::Value(SECRET.into())),
        api_url: Some(emu.api_url()),
        auth_url: Some(emu.auth_url()),
        token_url: Some(emu.token_url()),
        ..AccountConfig::default()
    };
    let mut google = google_for(&acc, dir.path()).unwrap();
    google.backoff_ms = 5;
    google.http.retry = RetryPolicy {
        attempts: 4,
        base: Duration::from_millis(5),
        cap: Duration::from_millis(20),
        ..RetryPolicy::default()
    };
    let store = Store::open(dir.path()).unwrap();
    Setup {
        emu,
        dir,
        store,
        google,
    }
}

impl Setup {
    async fn sync(&mut self) -> AccountReport {
        sync_google(
            &mut self.store,
            "g",
            &self.google,
            &SyncOptions::default(),
            None,
        )
        .await
    }

    fn switch(&self, f: impl FnOnce(&mut Switches)) {
        let mut s = self.emu.switches();
        f(&mut s);
        self.emu.set_switches(s);
    }

    fn calendar(&self, name: &str) -> i64 {
        self.store
            .calendar_names()
            .unwrap()
            .into_iter()
            .find(|(_, _, n)| n == name)
            .map(|(id, _, _)| id)
            .unwrap_or_else(|| panic!("no calendar {name}"))
    }

    fn ids(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .store
            .item_etags(self.calendar("Work"))
            .unwrap()
            .into_keys()
            .collect();
        v.sort();
        v
    }

    fn server(&self, id: &str) -> Value {
        self.emu
            .events("cal1")
            .into_iter()
            .find(|e| e["id"] == id)
            .unwrap_or(Value::Null)
    }

    /// Stages a change of event `id` (all of it, or one occurrence).
    fn edit(&mut self, id: &str, occurrence: Option<When>, changes: Changes) {
        let uid = self.server(id)["iCalUID"]
            .as_str()
            .unwrap_or(id)
            .to_string();
        let item = self.store.items_with_uid(&uid).unwrap()[0].0;
        stage(
            &mut self.store,
            EditRequest::Change {
                item,
                uid,
                occurrence,
                changes,
                seen_etag: None,
            },
            chrono::Utc::now(),
        )
        .unwrap();
    }

    fn assert_no_violations(&self) {
        assert!(
            self.emu.violations().is_empty(),
            "{:?}",
            self.emu.violations()
        );
    }
}

fn timed(id: &str, summary: &str, day: u32) -> Value {
    json!({
        "id": id,
        "summary": summary,
        "start": {"dateTime": format!("2026-12-{day:02}T09:00:00+01:00"), "timeZone": "Europe/Berlin"},
        "end": {"dateTime": format!("2026-12-{day:02}T10:00:00+01:00"), "timeZone": "Europe/Berlin"},
    })
}

fn summary(s: &str) -> Changes {
    Changes {
        summary: Some(s.into()),
        ..Changes::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_limits_without_retry_after_back_off_and_the_round_completes() {
    let mut t = setup().await;
    for i in 0..5 {
        t.emu
            .put_event("cal1", timed(&format!("rate{i:02}x"), "r", 1 + i));
    }
    // One request a second, and the 403s come with no Retry-After: the client's own backoff
    // (with jitter, growing) must outlast the window.
    t.switch(|s| s.rate_limit = Some((1, 1, 403)));
    t.google.backoff_ms = 300;
    let r = t.sync().await;
    assert_eq!(r.error, None, "{r:?}");
    assert_eq!(t.ids().len(), 5);
    let limited = t
        .emu
        .request_log()
        .iter()
        .filter(|l| l.status == 403)
        .count();
    assert!(limited >= 1, "the limit was met");
    assert!(limited <= 5, "at most six tries of one request: {limited}");
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_exceeded_pauses_the_account_and_says_so() {
    let mut t = setup().await;
    t.switch(|s| s.quota_exceeded = true);
    let r = t.sync().await;
    let error = r.error.clone().expect("an error");
    assert!(error.contains("quotaExceeded"), "{error}");
    let rest = r.retry_at.expect("a rest") - chrono::Utc::now().timestamp();
    assert!(rest > 3600, "{rest}");
    assert_eq!(
        t.emu.request_log().len(),
        1,
        "not cured by backoff: one request"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_errors_and_cut_replies_are_retried_malformed_json_harms_nothing() {
    let mut t = setup().await;
    t.emu.put_event("cal1", timed("keep01xx", "Keep", 2));
    t.switch(|s| {
        s.backend_error_next = 2;
        s.cut_next = 1;
    });
    let r = t.sync().await;
    assert_eq!(r.error, None, "{r:?}");
    assert_eq!(t.ids(), ["keep01xx"]);
    t.emu.put_event("cal1", timed("next01xx", "Next", 3));
    t.switch(|s| s.malformed_next = 1);
    let r = t.sync().await;
    assert!(
        r.error.is_some() || r.calendars.iter().any(|c| c.error.is_some()),
        "{r:?}"
    );
    assert_eq!(t.ids(), ["keep01xx"], "a bad reply changes nothing");
    let r = t.sync().await;
    assert_eq!(r.error, None, "{r:?}");
    assert_eq!(t.ids(), ["keep01xx", "next01xx"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_refreshes_the_token_once_and_the_round_goes_on() {
    let mut t = setup().await;
    t.emu.put_event("cal1", timed("auth01xx", "A", 2));
    let path = auth::token_path(t.dir.path(), "g");
    let before = auth::load(&path).unwrap().unwrap();
    t.switch(|s| s.unauthorized_next = 1);
    let r = t.sync().await;
    assert_eq!(r.error, None, "{r:?}");
    assert_eq!(t.ids(), ["auth01xx"]);
    let after = auth::load(&path).unwrap().unwrap();
    assert_ne!(
        after.access_token, before.access_token,
        "a new access token was stored"
    );
    let refreshes = t
        .emu
        .request_log()
        .iter()
        .filter(|l| l.path_and_query == "/token")
        .count();
    assert_eq!(refreshes, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_412_on_the_version_held_goes_again_and_etag_churn_merges_silently() {
    let mut t = setup().await;
    t.emu.put_event("cal1", timed("pre01xxx", "Pre", 2));
    let mut meeting = timed("churn01x", "Meeting", 3);
    meeting["attendees"] = json!([{"email": "ana@example.org", "responseStatus": "needsAction"}]);
    t.emu.put_event("cal1", meeting);
    t.sync().await;
    t.edit("pre01xxx", None, summary("Pre, renamed"));
    t.switch(|s| s.precondition_failed_next = 1);
    let r = t.sync().await;
    assert_eq!(r.calendars[0].conflicts, 0, "{r:?}");
    assert_eq!(t.server("pre01xxx")["summary"], "Pre, renamed");
    // The etag moves when the listing shows the attendees; nothing the person sees changed.
    t.switch(|s| s.etag_churn = true);
    t.sync().await;
    t.edit("churn01x", None, summary("Meeting, moved"));
    t.sync().await;
    t.sync().await;
    assert!(t.store.conflicts().unwrap().is_empty());
    assert_eq!(t.server("churn01x")["summary"], "Meeting, moved");
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_only_the_organizer_may_make_is_refused_for_good_with_the_reason() {
    let mut t = setup().await;
    let mut theirs = timed("org01xxx", "Their meeting", 4);
    theirs["organizer"] = json!({"email": "boss@example.org"});
    t.emu.put_event("cal1", theirs);
    t.sync().await;
    t.switch(|s| s.forbidden_for_non_organizer = true);
    t.edit("org01xxx", None, summary("My title"));
    let r = t.sync().await;
    assert_eq!(r.calendars[0].conflicts, 1, "{r:?}");
    let c = &t.store.conflicts().unwrap()[0];
    assert!(
        c.reason.as_deref().is_some_and(|r| r.contains("organizer")),
        "{c:?}"
    );
    // Not retried: the next round sends nothing for it.
    t.emu.reset_counts();
    t.sync().await;
    assert!(t.emu.request_log().iter().all(|l| l.method == "GET"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_data_is_read_not_rejected() {
    let mut t = setup().await;
    let ids = t.emu.seed_bad_data("cal1");
    let r = t.sync().await;
    assert_eq!(r.error, None, "{r:?}");
    assert!(r.calendars[0].unreadable.is_empty(), "{r:?}");
    assert_eq!(t.ids().len(), ids.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_occurrence_is_edited_and_another_deleted_as_google_exceptions() {
    let mut t = setup().await;
    let mut weekly = timed("weekly02", "Standup", 7);
    weekly["recurrence"] = json!(["RRULE:FREQ=WEEKLY;COUNT=4"]);
    t.emu.put_event("cal1", weekly);
    t.sync().await;
    // 09:00 in Berlin is 08:00 UTC in December.
    let berlin = |day: u32| When::Instant(format!("2026-12-{day:02}T08:00:00Z").parse().unwrap());
    t.edit("weekly02", Some(berlin(14)), summary("Standup (demo day)"));
    let r = t.sync().await;
    assert_eq!(
        (r.calendars[0].pushed, r.calendars[0].conflicts),
        (1, 0),
        "{r:?}"
    );
    let uid = t.server("weekly02")["iCalUID"]
        .as_str()
        .unwrap()
        .to_string();
    let item = t.store.items_with_uid(&uid).unwrap()[0].0;
    stage(
        &mut t.store,
        EditRequest::Delete {
            item,
            uid,
            occurrence: Some(berlin(21)),
            seen_etag: None,
        },
        chrono::Utc::now(),
    )
    .unwrap();
    let r = t.sync().await;
    assert_eq!(
        (r.calendars[0].pushed, r.calendars[0].conflicts),
        (1, 0),
        "{r:?}"
    );
    let exceptions: Vec<Value> = t
        .emu
        .events("cal1")
        .into_iter()
        .filter(|e| e["recurringEventId"] == "weekly02")
        .collect();
    assert!(
        exceptions
            .iter()
            .any(|e| e["summary"] == "Standup (demo day)"),
        "{exceptions:?}"
    );
    // The deleted one went by DELETE of the instance Google named, guarded by its etag.
    let log = t.emu.request_log();
    let delete = log
        .iter()
        .find(|l| l.method == "DELETE")
        .expect("a DELETE of the instance");
    assert!(
        delete.path_and_query.ends_with("weekly02_20261221T080000Z"),
        "{delete:?}"
    );
    assert!(
        delete.if_match.is_some() && delete.status < 300,
        "{delete:?}"
    );
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calendars_appear_rename_and_vanish_through_the_list_sync_token() {
    let mut t = setup().await;
    t.sync().await;
    t.emu.add_calendar("cal2", "Team", "writer");
    t.emu.add_calendar("cal3", "Holidays", "freeBusyReader");
    t.emu.add_calendar("cal4", "Old project", "owner");
    t.emu.hide_calendar("cal4", true);
    t.sync().await;
    // Hidden in Google's list: hidden here too from the start (it keeps syncing).
    let hidden: Vec<String> = t
        .store
        .reader()
        .unwrap()
        .calendars()
        .unwrap()
        .into_iter()
        .filter(|c| c.hidden)
        .map(|c| c.name)
        .collect();
    assert_eq!(hidden, ["Old project"]);
    let team = t.calendar("Team");
    let holidays = t.calendar("Holidays");
    assert!(t.store.read_only_calendar(team).unwrap().is_none());
    assert!(t.store.read_only_calendar(holidays).unwrap().is_some());
    t.emu.rename_calendar("cal2", "Team (renamed)");
    t.emu.remove_calendar("cal3");
    t.emu.reset_counts();
    t.sync().await;
    let names: Vec<String> = t
        .store
        .calendar_names()
        .unwrap()
        .into_iter()
        .map(|(_, _, n)| n)
        .collect();
    assert!(names.contains(&"Team (renamed)".to_string()), "{names:?}");
    assert!(!names.contains(&"Holidays".to_string()), "{names:?}");
    let list = t
        .emu
        .request_log()
        .into_iter()
        .find(|l| l.path_and_query.contains("calendarList"))
        .unwrap();
    assert!(list.path_and_query.contains("syncToken="), "{list:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_or_purged_tombstones_mean_a_full_listing_that_removes_what_went() {
    let mut t = setup().await;
    let start = chrono::Utc::now().timestamp();
    t.emu.set_now(start);
    t.emu.put_event("cal1", timed("stay01xx", "Stay", 2));
    t.emu.put_event("cal1", timed("goes01xx", "Goes", 3));
    t.sync().await;
    // Tokens live an hour; the deletion's tombstone is purged after a day.
    t.switch(|s| {
        s.token_expiry_secs = Some(3600);
        s.tombstone_horizon_secs = 86_400;
    });
    t.emu.delete_event("cal1", "goes01xx");
    t.emu.set_now(start + 2 * 86_400);
    // The access token expired on the server's clock too: a 401, one refresh, and on.
    let r = t.sync().await;
    assert_eq!(r.error, None, "{r:?}");
    assert_eq!(r.calendars[0].removed, 1, "{r:?}");
    assert_eq!(t.ids(), ["stay01xx"]);
    let statuses: Vec<u16> = t
        .emu
        .request_log()
        .iter()
        .filter(|l| l.path_and_query.contains("/events"))
        .map(|l| l.status)
        .collect();
    assert!(statuses.contains(&410), "{statuses:?}");
    t.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_testing_apps_sign_in_dies_after_seven_days_and_says_how_to_cure_it() {
    let mut t = setup().await;
    let start = chrono::Utc::now().timestamp();
    t.emu.set_now(start);
    t.sync().await;
    t.switch(|s| s.testing_expiry = true);
    t.emu.set_now(start + 8 * 86_400);
    let path = auth::token_path(t.dir.path(), "g");
    let mut tokens = auth::load(&path).unwrap().unwrap();
    tokens.expires_at = 0;
    auth::save(&path, &tokens).unwrap();
    let r = t.sync().await;
    let error = r.error.expect("an error");
    assert!(error.contains("almanac login g"), "{error}");
    assert!(r.needs_sign_in);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_with_retry_after_is_waited_out_and_never_hurried() {
    let mut t = setup().await;
    t.emu.put_event("cal1", timed("wait01xx", "Wait", 2));
    t.switch(|s| s.next_status = vec![(503, Some(1))]);
    let started = std::time::Instant::now();
    let r = t.sync().await;
    assert_eq!(r.error, None, "{r:?}");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(t.ids(), ["wait01xx"]);
    // A request before Retry-After ended would be a violation.
    t.assert_no_violations();
}
