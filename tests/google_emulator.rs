//! The Google Calendar emulator over loopback, driven by reqwest: sync rounds and their tokens,
//! conditional requests, writes, quotas and injected faults, calendarList, instances, and the
//! OAuth loopback + PKCE flow. Each test names the behaviour of PROTOCOLS.md §2/§4 it pins.

use almanac::emulator::{GoogleEmulator, Switches};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

const CLIENT: &str = "1234-desktop.apps.googleusercontent.com";
const SECRET: &str = "GOCSPX-secret";
/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600;

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client builds")
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("JSON body")
    }
}

/// An emulator at T0 with a client, a signed-in user and one owned calendar `work`.
async fn setup() -> (GoogleEmulator, String) {
    let emu = GoogleEmulator::start().await.expect("emulator starts");
    emu.set_now(T0);
    emu.add_client(CLIENT, SECRET);
    emu.add_calendar("work", "Work", "owner");
    let (access, _) = emu.issue_tokens(CLIENT);
    (emu, access)
}

async fn call(
    emu: &GoogleEmulator,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Reply {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = http()
        .request(method, format!("{}{path}", emu.api_url()))
        .bearer_auth(token);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let resp = req.send().await.expect("request");
    Reply {
        status: resp.status(),
        headers: resp.headers().clone(),
        body: resp.text().await.unwrap_or_default(),
    }
}

async fn get(emu: &GoogleEmulator, token: &str, path: &str) -> Reply {
    call(emu, token, "GET", path, None, &[]).await
}

fn event(id: &str, day: u32) -> Value {
    json!({
        "id": id,
        "summary": format!("Event {id}"),
        "start": {"dateTime": format!("2026-01-{day:02}T09:00:00+01:00"), "timeZone": "Europe/Berlin"},
        "end": {"dateTime": format!("2026-01-{day:02}T10:00:00+01:00"), "timeZone": "Europe/Berlin"},
    })
}

fn error_reason(reply: &Reply) -> (String, String) {
    let v = reply.json();
    (
        v["error"]["errors"][0]["domain"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        v["error"]["errors"][0]["reason"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

/// Runs a full round; returns (ids, nextSyncToken).
async fn full_sync(emu: &GoogleEmulator, token: &str) -> (Vec<String>, String) {
    let mut ids = Vec::new();
    let mut page: Option<String> = None;
    loop {
        let mut path = "calendars/work/events?singleEvents=false&maxResults=1000".to_string();
        if let Some(p) = &page {
            path.push_str(&format!("&pageToken={p}"));
        }
        let v = get(emu, token, &path).await.json();
        for item in v["items"].as_array().expect("items") {
            ids.push(item["id"].as_str().unwrap_or_default().to_string());
        }
        match v["nextPageToken"].as_str() {
            Some(p) => page = Some(p.to_string()),
            None => {
                return (
                    ids,
                    v["nextSyncToken"].as_str().expect("sync token").to_string(),
                );
            }
        }
    }
}

const FULL_410: &str = "{\"error\":{\"errors\":[{\"domain\":\"calendar\",\"reason\":\"fullSyncRequired\",\"message\":\"Sync token is no longer valid, a full sync is required.\",\"locationType\":\"parameter\",\"location\":\"syncToken\"}],\"code\":410,\"message\":\"Sync token is no longer valid, a full sync is required.\"}}";

#[tokio::test]
async fn full_sync_pages_carry_page_tokens_and_only_the_last_a_sync_token() {
    let (emu, token) = setup().await;
    for (i, id) in ["aaaaa", "bbbbb", "ccccc", "ddddd", "eeeee"]
        .iter()
        .enumerate()
    {
        emu.put_event("work", event(id, i as u32 + 5));
    }
    let mut seen = Vec::new();
    let mut path = "calendars/work/events?singleEvents=false&maxResults=2".to_string();
    let mut pages = 0;
    loop {
        let r = get(&emu, &token, &path).await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.headers["content-type"].to_str().ok(),
            Some("application/json; charset=UTF-8")
        );
        let v = r.json();
        pages += 1;
        seen.extend(
            v["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|e| e["id"].clone()),
        );
        match v["nextPageToken"].as_str() {
            Some(p) => {
                assert!(
                    v.get("nextSyncToken").is_none(),
                    "sync token before the last page"
                );
                path =
                    format!("calendars/work/events?singleEvents=false&maxResults=2&pageToken={p}");
            }
            None => {
                assert!(v["nextSyncToken"].is_string());
                break;
            }
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["aaaaa", "bbbbb", "ccccc", "ddddd", "eeeee"]);
    let stored = &emu.events("work")[0];
    assert!(
        stored["etag"]
            .as_str()
            .is_some_and(|e| e.starts_with('"') && e.ends_with('"'))
    );
    assert_eq!(stored["sequence"], 0);
    assert!(emu.violations().is_empty(), "{:?}", emu.violations());
}

#[tokio::test]
async fn empty_and_short_pages_still_end_with_a_sync_token() {
    let (emu, token) = setup().await;
    for id in ["aaaaa", "bbbbb", "ccccc", "ddddd"] {
        emu.put_event("work", event(id, 6));
    }
    emu.set_switches(Switches {
        empty_pages: 2,
        short_pages: true,
        ..Switches::default()
    });
    let mut sizes = Vec::new();
    let mut path = "calendars/work/events?maxResults=1000".to_string();
    loop {
        let v = get(&emu, &token, &path).await.json();
        sizes.push(v["items"].as_array().map_or(0, Vec::len));
        match v["nextPageToken"].as_str() {
            Some(p) => path = format!("calendars/work/events?maxResults=1000&pageToken={p}"),
            None => {
                assert!(v["nextSyncToken"].is_string());
                break;
            }
        }
    }
    assert_eq!(sizes, [0, 0, 1, 2, 1]);
}

#[tokio::test]
async fn incremental_sync_returns_only_changes_including_cancelled_items() {
    let (emu, token) = setup().await;
    emu.put_event("work", event("keepme", 5));
    emu.put_event("work", event("gonext", 6));
    let (ids, sync) = full_sync(&emu, &token).await;
    assert_eq!(ids.len(), 2);
    emu.put_event("work", event("newone", 7));
    assert!(emu.delete_event("work", "gonext"));
    let v = get(
        &emu,
        &token,
        &format!("calendars/work/events?singleEvents=false&maxResults=1000&syncToken={sync}"),
    )
    .await
    .json();
    let items = v["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], "gonext");
    assert_eq!(items[0]["status"], "cancelled");
    assert_eq!(items[1]["id"], "newone");
    let next = v["nextSyncToken"].as_str().expect("sync token");
    let v = get(
        &emu,
        &token,
        &format!("calendars/work/events?singleEvents=false&maxResults=1000&syncToken={next}"),
    )
    .await
    .json();
    assert_eq!(v["items"], json!([]));
    assert!(v["nextSyncToken"].is_string());
    // A full listing leaves cancelled items out.
    assert_eq!(full_sync(&emu, &token).await.0, ["keepme", "newone"]);
    assert!(emu.violations().is_empty(), "{:?}", emu.violations());
}

#[tokio::test]
async fn expired_purged_and_forced_tokens_answer_410_full_sync_required() {
    let (emu, token) = setup().await;
    emu.put_event("work", event("aaaaa", 5));
    let (_, sync) = full_sync(&emu, &token).await;
    let path = format!("calendars/work/events?singleEvents=false&maxResults=1000&syncToken={sync}");
    emu.set_switches(Switches {
        force_410_next: 1,
        ..Switches::default()
    });
    let r = get(&emu, &token, &path).await;
    assert_eq!(r.status, 410);
    assert_eq!(r.body, FULL_410);
    assert_eq!(get(&emu, &token, &path).await.status, 200);

    emu.set_switches(Switches {
        token_expiry_secs: Some(3000),
        ..Switches::default()
    });
    emu.set_now(T0 + 3001);
    let (fresh, _) = emu.issue_tokens(CLIENT);
    let r = get(&emu, &fresh, &path).await;
    assert_eq!(r.status, 410);
    assert_eq!(r.body, FULL_410);

    // A tombstone purged after the horizon takes older tokens with it.
    emu.set_switches(Switches::default());
    let (_, sync) = full_sync(&emu, &fresh).await;
    emu.delete_event("work", "aaaaa");
    emu.set_now(T0 + 3001 + 31 * 86_400);
    let (fresh, _) = emu.issue_tokens(CLIENT);
    let r = get(
        &emu,
        &fresh,
        &format!("calendars/work/events?singleEvents=false&maxResults=1000&syncToken={sync}"),
    )
    .await;
    assert_eq!(r.status, 410);
    assert_eq!(
        get(&emu, &fresh, "calendars/work/events/aaaaa")
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn garbled_sync_token_is_400_invalid_sync_token_value() {
    let (emu, token) = setup().await;
    let r = get(&emu, &token, "calendars/work/events?syncToken=garbage!!").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["message"], "Invalid sync token value.");
}

#[tokio::test]
async fn page_token_with_other_parameters_is_400_and_a_violation() {
    let (emu, token) = setup().await;
    for id in ["aaaaa", "bbbbb"] {
        emu.put_event("work", event(id, 5));
    }
    let v = get(&emu, &token, "calendars/work/events?maxResults=1")
        .await
        .json();
    let page = v["nextPageToken"].as_str().expect("page token");
    let r = get(
        &emu,
        &token,
        &format!("calendars/work/events?maxResults=1&showDeleted=true&pageToken={page}"),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(error_reason(&r), ("global".into(), "invalid".into()));
    assert_eq!(emu.violations().len(), 1);
    let ok = get(
        &emu,
        &token,
        &format!("calendars/work/events?maxResults=1&pageToken={page}"),
    )
    .await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn forbidden_parameters_with_a_sync_token_are_400_invalid_global() {
    let (emu, token) = setup().await;
    let (_, sync) = full_sync(&emu, &token).await;
    for extra in [
        "timeMin=2026-01-01T00:00:00Z",
        "q=x",
        "orderBy=updated",
        "updatedMin=2026-01-01T00:00:00Z",
        "showDeleted=false",
        "iCalUID=x",
    ] {
        let r = get(
            &emu,
            &token,
            &format!("calendars/work/events?syncToken={sync}&{extra}"),
        )
        .await;
        assert_eq!(r.status, 400, "{extra}");
        assert_eq!(
            error_reason(&r),
            ("global".into(), "invalid".into()),
            "{extra}"
        );
    }
    assert_eq!(emu.violations().len(), 6);
}

#[tokio::test]
async fn order_by_listing_gives_no_sync_token_and_is_a_violation() {
    let (emu, token) = setup().await;
    emu.put_event("work", event("aaaaa", 5));
    let v = get(&emu, &token, "calendars/work/events?orderBy=updated")
        .await
        .json();
    assert_eq!(v["items"].as_array().map(Vec::len), Some(1));
    assert!(v.get("nextSyncToken").is_none());
    assert_eq!(emu.violations().len(), 1);
}

#[tokio::test]
async fn time_min_filters_a_full_listing() {
    let (emu, token) = setup().await;
    emu.put_event("work", event("early", 5));
    emu.put_event("work", event("later", 20));
    let v = get(
        &emu,
        &token,
        "calendars/work/events?timeMin=2026-01-10T00:00:00Z",
    )
    .await
    .json();
    let ids: Vec<&str> = v["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["id"].as_str())
        .collect();
    assert_eq!(ids, ["later"]);
}

#[tokio::test]
async fn if_none_match_on_the_etag_is_304_with_an_empty_body() {
    let (emu, token) = setup().await;
    let stored = emu.put_event("work", event("aaaaa", 5));
    let etag = stored["etag"].as_str().expect("etag");
    let r = call(
        &emu,
        &token,
        "GET",
        "calendars/work/events/aaaaa",
        None,
        &[("If-None-Match", etag)],
    )
    .await;
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    let r = call(
        &emu,
        &token,
        "GET",
        "calendars/work/events/aaaaa",
        None,
        &[("If-None-Match", "\"1\"")],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["summary"], "Event aaaaa");
}

#[tokio::test]
async fn if_match_mismatch_is_412_with_the_documented_body() {
    let (emu, token) = setup().await;
    let stored = emu.put_event("work", event("aaaaa", 5));
    let r = call(
        &emu,
        &token,
        "PUT",
        "calendars/work/events/aaaaa",
        Some(event("aaaaa", 6)),
        &[("If-Match", "\"42\"")],
    )
    .await;
    assert_eq!(r.status, 412);
    assert_eq!(
        r.body,
        "{\"error\":{\"errors\":[{\"domain\":\"global\",\"reason\":\"conditionNotMet\",\"message\":\"Precondition Failed\",\"locationType\":\"header\",\"location\":\"If-Match\"}],\"code\":412,\"message\":\"Precondition Failed\"}}"
    );
    let etag = stored["etag"].as_str().expect("etag");
    let r = call(
        &emu,
        &token,
        "PUT",
        "calendars/work/events/aaaaa",
        Some(event("aaaaa", 6)),
        &[("If-Match", etag)],
    )
    .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_ne!(v["etag"], stored["etag"]);
    assert_eq!(v["sequence"], 1, "a moved event raises the sequence");
    assert_eq!(v["created"], stored["created"]);
    assert!(emu.violations().is_empty());
}

#[tokio::test]
async fn insert_with_an_existing_id_is_409_duplicate_even_after_delete() {
    let (emu, token) = setup().await;
    let r = call(
        &emu,
        &token,
        "POST",
        "calendars/work/events",
        Some(event("abc12345", 5)),
        &[],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["sequence"], 0);
    let again = call(
        &emu,
        &token,
        "POST",
        "calendars/work/events",
        Some(event("abc12345", 5)),
        &[],
    )
    .await;
    assert_eq!(again.status, 409);
    assert_eq!(error_reason(&again), ("global".into(), "duplicate".into()));
    emu.delete_event("work", "abc12345");
    let after = call(
        &emu,
        &token,
        "POST",
        "calendars/work/events",
        Some(event("abc12345", 5)),
        &[],
    )
    .await;
    assert_eq!(after.status, 409);
    let bad = call(
        &emu,
        &token,
        "POST",
        "calendars/work/events",
        Some(event("Not_Base32", 5)),
        &[],
    )
    .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn delete_answers_204_then_410_deleted_and_404_for_unknown() {
    let (emu, token) = setup().await;
    let stored = emu.put_event("work", event("aaaaa", 5));
    let etag = stored["etag"].as_str().expect("etag");
    let r = call(
        &emu,
        &token,
        "DELETE",
        "calendars/work/events/aaaaa",
        None,
        &[("If-Match", etag)],
    )
    .await;
    assert_eq!(r.status, 204);
    let again = call(
        &emu,
        &token,
        "DELETE",
        "calendars/work/events/aaaaa",
        None,
        &[("If-Match", etag)],
    )
    .await;
    assert_eq!(again.status, 410);
    assert_eq!(error_reason(&again), ("global".into(), "deleted".into()));
    let gone = get(&emu, &token, "calendars/work/events/aaaaa").await;
    assert_eq!(gone.status, 200);
    assert_eq!(gone.json()["status"], "cancelled");
    let unknown = call(
        &emu,
        &token,
        "DELETE",
        "calendars/work/events/zzzzz",
        None,
        &[("If-Match", "*")],
    )
    .await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn lower_sequence_is_400_invalid_sequence_value() {
    let (emu, token) = setup().await;
    let mut e = event("aaaaa", 5);
    e["sequence"] = json!(3);
    let stored = emu.put_event("work", e);
    let mut older = event("aaaaa", 5);
    older["sequence"] = json!(2);
    let etag = stored["etag"].as_str().expect("etag");
    let r = call(
        &emu,
        &token,
        "PUT",
        "calendars/work/events/aaaaa",
        Some(older),
        &[("If-Match", etag)],
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["message"], "Invalid sequence value.");
}

#[tokio::test]
async fn write_without_if_match_is_accepted_but_recorded() {
    let (emu, token) = setup().await;
    emu.put_event("work", event("aaaaa", 5));
    let r = call(
        &emu,
        &token,
        "PATCH",
        "calendars/work/events/aaaaa",
        Some(json!({"summary": "Renamed"})),
        &[],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["summary"], "Renamed");
    assert_eq!(r.json()["start"]["timeZone"], "Europe/Berlin");
    let violations = emu.violations();
    assert_eq!(violations.len(), 1);
    assert!(violations[0].contains("without If-Match"));
    let log = emu.request_log();
    assert_eq!(
        log.last()
            .map(|l| (l.method.as_str(), l.if_match.is_none(), l.status)),
        Some(("PATCH", true, 200))
    );
}

#[tokio::test]
async fn forbidden_for_non_organizer_and_reader_calendars_refuse_writes() {
    let (emu, token) = setup().await;
    let mut e = event("aaaaa", 5);
    e["organizer"] = json!({"email": "boss@example.com"});
    emu.put_event("work", e);
    emu.set_switches(Switches {
        forbidden_for_non_organizer: true,
        ..Switches::default()
    });
    let r = call(
        &emu,
        &token,
        "PATCH",
        "calendars/work/events/aaaaa",
        Some(json!({"summary": "x"})),
        &[("If-Match", "*")],
    )
    .await;
    assert_eq!(r.status, 403);
    assert_eq!(error_reason(&r).1, "forbiddenForNonOrganizer");
    emu.add_calendar("holidays", "Holidays", "reader");
    let r = call(
        &emu,
        &token,
        "POST",
        "calendars/holidays/events",
        Some(event("bbbbb", 5)),
        &[],
    )
    .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn rate_limit_bucket_answers_without_retry_after_until_the_window_slides() {
    let (emu, token) = setup().await;
    emu.set_switches(Switches {
        rate_limit: Some((2, 60, 429)),
        ..Switches::default()
    });
    assert_eq!(get(&emu, &token, "colors").await.status, 200);
    assert_eq!(get(&emu, &token, "colors").await.status, 200);
    let r = get(&emu, &token, "colors").await;
    assert_eq!(r.status, 429);
    assert!(r.headers.get("retry-after").is_none());
    assert_eq!(
        error_reason(&r),
        ("usageLimits".into(), "rateLimitExceeded".into())
    );
    emu.set_now(T0 + 61);
    assert_eq!(get(&emu, &token, "colors").await.status, 200);
    emu.set_switches(Switches {
        rate_limit: Some((0, 60, 403)),
        ..Switches::default()
    });
    let r = get(&emu, &token, "colors").await;
    assert_eq!(r.status, 403);
    assert_eq!(error_reason(&r).1, "userRateLimitExceeded");
}

#[tokio::test]
async fn quota_exceeded_and_backend_error_switches() {
    let (emu, token) = setup().await;
    emu.set_switches(Switches {
        quota_exceeded: true,
        ..Switches::default()
    });
    let r = get(&emu, &token, "users/me/calendarList").await;
    assert_eq!(r.status, 403);
    assert_eq!(
        error_reason(&r),
        ("usageLimits".into(), "quotaExceeded".into())
    );
    emu.set_switches(Switches {
        backend_error_next: 1,
        ..Switches::default()
    });
    let r = get(&emu, &token, "users/me/calendarList").await;
    assert_eq!(r.status, 500);
    assert_eq!(error_reason(&r), ("global".into(), "backendError".into()));
    assert_eq!(get(&emu, &token, "users/me/calendarList").await.status, 200);
}

#[tokio::test]
async fn retry_after_is_sent_and_an_early_retry_is_a_violation() {
    let (emu, token) = setup().await;
    emu.set_switches(Switches {
        next_status: vec![(503, Some(30))],
        ..Switches::default()
    });
    let r = get(&emu, &token, "colors").await;
    assert_eq!(r.status, 503);
    assert_eq!(r.headers["retry-after"].to_str().ok(), Some("30"));
    assert!(emu.violations().is_empty());
    assert_eq!(get(&emu, &token, "colors").await.status, 200);
    assert!(emu.violations()[0].contains("before Retry-After"));
}

#[tokio::test]
async fn malformed_and_cut_replies() {
    let (emu, token) = setup().await;
    emu.set_switches(Switches {
        malformed_next: 1,
        ..Switches::default()
    });
    let r = get(&emu, &token, "users/me/calendarList").await;
    assert_eq!(r.status, 200);
    assert!(serde_json::from_str::<Value>(&r.body).is_err());
    emu.set_switches(Switches {
        cut_next: 1,
        ..Switches::default()
    });
    let resp = http()
        .get(format!("{}users/me/calendarList", emu.api_url()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("headers arrive");
    assert!(resp.text().await.is_err(), "the body is cut");
}

#[tokio::test]
async fn access_tokens_expire_after_an_hour_and_unauthorized_next_fires_once() {
    let (emu, token) = setup().await;
    assert_eq!(get(&emu, &token, "colors").await.status, 200);
    emu.set_switches(Switches {
        unauthorized_next: 1,
        ..Switches::default()
    });
    let r = get(&emu, &token, "colors").await;
    assert_eq!(r.status, 401);
    assert_eq!(error_reason(&r), ("global".into(), "authError".into()));
    assert_eq!(get(&emu, &token, "colors").await.status, 200);
    emu.set_now(T0 + 3600);
    assert_eq!(get(&emu, &token, "colors").await.status, 401);
    assert_eq!(get(&emu, "", "colors").await.status, 401);
}

#[tokio::test]
async fn calendar_list_incremental_shows_removed_calendars_as_deleted() {
    let (emu, token) = setup().await;
    emu.add_calendar("home", "Home", "writer");
    let v = get(&emu, &token, "users/me/calendarList").await.json();
    let items = v["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["id"], "work");
    assert_eq!(items[1]["primary"], true);
    assert!(
        items[0]["backgroundColor"]
            .as_str()
            .is_some_and(|c| c.starts_with('#'))
    );
    let sync = v["nextSyncToken"].as_str().expect("sync token");
    emu.remove_calendar("home");
    emu.rename_calendar("work", "Office");
    emu.add_calendar("gym", "Gym", "reader");
    let v = get(
        &emu,
        &token,
        &format!("users/me/calendarList?syncToken={sync}"),
    )
    .await
    .json();
    let items = v["items"].as_array().expect("items");
    assert_eq!(items.len(), 3);
    assert_eq!(items[1]["id"], "home");
    assert_eq!(items[1]["deleted"], true);
    assert_eq!(items[2]["summary"], "Office");
    let full = get(&emu, &token, "users/me/calendarList").await.json();
    assert_eq!(full["items"].as_array().map(Vec::len), Some(2));
    let r = get(
        &emu,
        &token,
        &format!("users/me/calendarList?syncToken={sync}&minAccessRole=owner"),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(get(&emu, &token, "calendars/home/events").await.status, 404);
}

#[tokio::test]
async fn instances_expand_a_series_and_a_deleted_instance_syncs_as_cancelled() {
    let (emu, token) = setup().await;
    let mut master = event("weekly1", 5);
    master["recurrence"] = json!(["RRULE:FREQ=WEEKLY;COUNT=3"]);
    emu.put_event("work", master);
    let (_, sync) = full_sync(&emu, &token).await;
    let v = get(&emu, &token, "calendars/work/events/weekly1/instances")
        .await
        .json();
    let ids: Vec<&str> = v["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "weekly1_20260105T080000Z",
            "weekly1_20260112T080000Z",
            "weekly1_20260119T080000Z"
        ]
    );
    let r = call(
        &emu,
        &token,
        "DELETE",
        "calendars/work/events/weekly1_20260112T080000Z",
        None,
        &[("If-Match", "*")],
    )
    .await;
    assert_eq!(r.status, 204);
    let v = get(
        &emu,
        &token,
        &format!("calendars/work/events?syncToken={sync}&singleEvents=false&maxResults=1000"),
    )
    .await
    .json();
    let item = &v["items"][0];
    assert_eq!(item["id"], "weekly1_20260112T080000Z");
    assert_eq!(item["status"], "cancelled");
    assert_eq!(item["recurringEventId"], "weekly1");
    assert_eq!(
        item["originalStartTime"]["dateTime"],
        "2026-01-12T09:00:00+01:00"
    );
    let v = get(&emu, &token, "calendars/work/events/weekly1/instances")
        .await
        .json();
    assert_eq!(v["items"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn seeded_bad_data_is_served_as_stored() {
    let (emu, token) = setup().await;
    let ids = emu.seed_bad_data("work");
    assert_eq!(ids.len(), 3);
    let v = get(&emu, &token, "calendars/work/events/baddatamixedexdate")
        .await
        .json();
    assert_eq!(v["recurrence"][1], "EXDATE;VALUE=DATE:20260107");
    let v = get(
        &emu,
        &token,
        "calendars/work/events/baddatamixedexdate/instances",
    )
    .await
    .json();
    assert_eq!(
        v["items"].as_array().map(Vec::len),
        Some(7),
        "ten days less three EXDATEs"
    );
}

#[tokio::test]
async fn etag_churn_changes_etags_of_events_with_attendees_after_a_listing() {
    let (emu, token) = setup().await;
    let mut e = event("aaaaa", 5);
    e["attendees"] = json!([{"email": "a@example.com", "responseStatus": "needsAction"}]);
    emu.put_event("work", e);
    emu.set_switches(Switches {
        etag_churn: true,
        ..Switches::default()
    });
    let listed = get(&emu, &token, "calendars/work/events").await.json();
    let etag = listed["items"][0]["etag"]
        .as_str()
        .expect("etag")
        .to_string();
    let r = call(
        &emu,
        &token,
        "PATCH",
        "calendars/work/events/aaaaa",
        Some(json!({"summary": "x"})),
        &[("If-Match", &etag)],
    )
    .await;
    assert_eq!(r.status, 412);
}

/// The loopback + PKCE dance: the authorization endpoint's redirect, then the token endpoint.
async fn authorize(emu: &GoogleEmulator, challenge: &str, extra: &str) -> reqwest::Response {
    authorize_with(emu, challenge, "S256", extra).await
}

async fn authorize_with(
    emu: &GoogleEmulator,
    challenge: &str,
    method: &str,
    extra: &str,
) -> reqwest::Response {
    let url = format!(
        "{}?client_id={CLIENT}&redirect_uri=http%3A%2F%2F127.0.0.1%3A53682%2Fcb&response_type=code&scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fcalendar&code_challenge={challenge}&code_challenge_method={method}&state=xyz{extra}",
        emu.auth_url()
    );
    http().get(url).send().await.expect("auth request")
}

fn code_of(resp: &reqwest::Response) -> String {
    assert_eq!(resp.status(), 302);
    let location = resp.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert!(location.starts_with("http://127.0.0.1:53682/cb?"));
    assert!(location.contains("state=xyz"));
    let code = location
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("code="))
        .expect("code");
    percent_encoding::percent_decode_str(code)
        .decode_utf8_lossy()
        .into_owned()
}

async fn token_call(emu: &GoogleEmulator, form: &[(&str, &str)]) -> Reply {
    let body: String = form
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&");
    let resp = http()
        .post(emu.token_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("token request");
    Reply {
        status: resp.status(),
        headers: resp.headers().clone(),
        body: resp.text().await.unwrap_or_default(),
    }
}

/// RFC 7636 appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

async fn exchange(emu: &GoogleEmulator, code: &str, verifier: &str, secret: &str) -> Reply {
    token_call(
        emu,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", "http://127.0.0.1:53682/cb"),
            ("client_id", CLIENT),
            ("client_secret", secret),
            ("code_verifier", verifier),
        ],
    )
    .await
}

#[tokio::test]
async fn oauth_code_flow_with_pkce_issues_tokens_that_refresh() {
    let (emu, _) = setup().await;
    let code = code_of(&authorize(&emu, CHALLENGE, "&access_type=offline").await);
    let r = exchange(&emu, &code, VERIFIER, SECRET).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["expires_in"], 3599);
    assert_eq!(v["token_type"], "Bearer");
    let access = v["access_token"].as_str().expect("access token");
    let refresh = v["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_string();
    assert_eq!(get(&emu, access, "users/me/calendarList").await.status, 200);
    // Single use.
    assert_eq!(
        exchange(&emu, &code, VERIFIER, SECRET).await.json()["error"],
        "invalid_grant"
    );

    let refresh_form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("client_id", CLIENT),
        ("client_secret", SECRET),
    ];
    let r = token_call(&emu, &refresh_form).await;
    assert_eq!(r.status, 200);
    assert!(r.json()["access_token"].is_string());
    assert!(r.json().get("refresh_token").is_none());

    emu.set_switches(Switches {
        invalid_grant: true,
        ..Switches::default()
    });
    let r = token_call(&emu, &refresh_form).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
    );
}

#[tokio::test]
async fn oauth_rejects_a_bad_verifier_a_bad_secret_and_a_foreign_redirect() {
    let (emu, _) = setup().await;
    let code = code_of(&authorize(&emu, CHALLENGE, "&access_type=offline").await);
    let r = exchange(
        &emu,
        &code,
        "wrong-verifier-wrong-verifier-wrong-verifier-x",
        SECRET,
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_grant");
    let code = code_of(&authorize(&emu, CHALLENGE, "").await);
    let r = exchange(&emu, &code, VERIFIER, "not-the-secret").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "invalid_client");
    let bad = http()
        .get(format!(
            "{}?client_id={CLIENT}&redirect_uri=https%3A%2F%2Fevil.example%2F&response_type=code&scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fcalendar&code_challenge={CHALLENGE}&code_challenge_method=S256&state=s",
            emu.auth_url()
        ))
        .send()
        .await
        .expect("auth request");
    assert_eq!(bad.status(), 400);
    let plain = authorize_with(&emu, CHALLENGE, "plain", "").await;
    assert_eq!(plain.status(), 400);
    emu.set_switches(Switches {
        deny_consent: true,
        ..Switches::default()
    });
    let denied = authorize(&emu, CHALLENGE, "").await;
    let location = denied.headers()["location"].to_str().expect("location");
    assert!(location.contains("error=access_denied") && location.contains("state=xyz"));
}

#[tokio::test]
async fn refresh_token_only_on_first_consent_or_prompt_consent() {
    let (emu, _) = setup().await;
    let first = code_of(&authorize(&emu, CHALLENGE, "&access_type=offline").await);
    assert!(exchange(&emu, &first, VERIFIER, SECRET).await.json()["refresh_token"].is_string());
    let second = code_of(&authorize(&emu, CHALLENGE, "&access_type=offline").await);
    assert!(
        exchange(&emu, &second, VERIFIER, SECRET)
            .await
            .json()
            .get("refresh_token")
            .is_none()
    );
    let prompted =
        code_of(&authorize(&emu, CHALLENGE, "&access_type=offline&prompt=consent").await);
    assert!(exchange(&emu, &prompted, VERIFIER, SECRET).await.json()["refresh_token"].is_string());
    let online = code_of(&authorize(&emu, CHALLENGE, "&prompt=consent").await);
    assert!(
        exchange(&emu, &online, VERIFIER, SECRET)
            .await
            .json()
            .get("refresh_token")
            .is_none()
    );
}

#[tokio::test]
async fn testing_consent_screen_kills_refresh_tokens_after_seven_days() {
    let (emu, _) = setup().await;
    let (_, refresh) = emu.issue_tokens(CLIENT);
    emu.set_switches(Switches {
        testing_expiry: true,
        ..Switches::default()
    });
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("client_id", CLIENT),
        ("client_secret", SECRET),
    ];
    emu.set_now(T0 + 6 * 86_400);
    assert_eq!(token_call(&emu, &form).await.status, 200);
    emu.set_now(T0 + 8 * 86_400);
    let r = token_call(&emu, &form).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["error_description"],
        "Token has been expired or revoked."
    );
}

#[tokio::test]
async fn a_lost_write_reply_still_carries_out_the_write() {
    let (emu, token) = setup().await;
    emu.set_switches(Switches {
        lose_write_reply: 1,
        ..Switches::default()
    });
    let resp = http()
        .post(format!("{}calendars/work/events", emu.api_url()))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(event("lostrep1", 5).to_string())
        .send()
        .await;
    let body = match resp {
        Ok(r) => r.text().await.ok(),
        Err(_) => None,
    };
    assert!(body.is_none(), "the reply is cut: {body:?}");
    assert_eq!(emu.events("work").len(), 1, "but the event is stored");
    let retry = call(
        &emu,
        &token,
        "POST",
        "calendars/work/events",
        Some(event("lostrep1", 5)),
        &[],
    )
    .await;
    assert_eq!(retry.status, 409);
}

#[tokio::test]
async fn too_many_requests_in_flight_is_a_violation() {
    let (emu, token) = setup().await;
    emu.set_switches(Switches {
        max_in_flight: Some(2),
        delay_ms: 300,
        ..Switches::default()
    });
    let (a, b) = tokio::join!(get(&emu, &token, "colors"), get(&emu, &token, "colors"));
    assert_eq!((a.status, b.status), (StatusCode::OK, StatusCode::OK));
    assert!(emu.violations().is_empty(), "{:?}", emu.violations());
    let (a, b, c) = tokio::join!(
        get(&emu, &token, "colors"),
        get(&emu, &token, "colors"),
        get(&emu, &token, "colors")
    );
    assert_eq!([a.status, b.status, c.status], [StatusCode::OK; 3]);
    assert_eq!(emu.violations().len(), 1, "{:?}", emu.violations());
    assert!(emu.violations()[0].contains("in flight"));
}
