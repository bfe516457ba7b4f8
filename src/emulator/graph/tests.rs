//! The Graph emulator over loopback, driven by reqwest: delta rounds (initial, incremental,
//! removals, paging), instances, writes with `If-Match` and `transactionId`, the device-code and
//! refresh grants, expiry, throttling.

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::{GraphEmulator, GraphSwitches};

/// What every request of a correct client carries (PROTOCOLS.md §3 "Every request, links too").
const PREFER: &str = "odata.maxpagesize=100, outlook.timezone=\"UTC\", outlook.body-content-type=\"text\", IdType=\"ImmutableId\"";

/// 2026-03-01T00:00:00Z.
const MARCH_1: i64 = 1_772_323_200;
const DAY: i64 = 86_400;

struct Harness {
    emu: GraphEmulator,
    http: reqwest::Client,
    token: String,
    cal: String,
}

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

async fn harness() -> Harness {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let emu = GraphEmulator::start().await.expect("emulator starts");
    emu.set_now(MARCH_1);
    emu.add_client("almanac-test");
    let (token, _) = emu.issue_tokens("almanac-test");
    let cal = emu.add_calendar("Calendar", true);
    let http = reqwest::Client::builder().build().expect("client");
    Harness {
        emu,
        http,
        token,
        cal,
    }
}

impl Harness {
    async fn send(
        &self,
        method: &str,
        url: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .http
            .request(method, url)
            .header("authorization", format!("Bearer {}", self.token));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(body) = body {
            req = req
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        Answer {
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    async fn get(&self, url: &str) -> Answer {
        self.send("GET", url, None, &[("prefer", PREFER)]).await
    }

    fn delta_url(&self, from: i64, to: i64) -> String {
        let iso = |t: i64| {
            chrono::DateTime::from_timestamp(t, 0)
                .unwrap_or_default()
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        };
        format!(
            "{}/me/calendars/{}/calendarView/delta?startDateTime={}&endDateTime={}",
            self.emu.api_url(),
            self.cal,
            iso(from),
            iso(to)
        )
    }

    /// Follows a round to its deltaLink: every item, the page sizes, the deltaLink.
    async fn round(&self, url: &str, prefer: &str) -> (Vec<Value>, Vec<usize>, String) {
        let mut url = url.to_string();
        let mut items = Vec::new();
        let mut pages = Vec::new();
        for _ in 0..50 {
            let page = self.send("GET", &url, None, &[("prefer", prefer)]).await;
            assert_eq!(page.status, 200, "{}", page.body);
            let value = page.body["value"].as_array().cloned().unwrap_or_default();
            pages.push(value.len());
            items.extend(value);
            if let Some(delta) = page.body["@odata.deltaLink"].as_str() {
                return (items, pages, delta.to_string());
            }
            url = page.body["@odata.nextLink"]
                .as_str()
                .expect("nextLink or deltaLink")
                .to_string();
        }
        panic!("round without end");
    }

    fn insert(&self, event: Value) -> String {
        let stored = self.emu.insert_event(&self.cal, event);
        stored["id"].as_str().expect("stored id").to_string()
    }
}

fn single(subject: &str, start: &str, end: &str) -> Value {
    json!({
        "subject": subject,
        "start": {"dateTime": start, "timeZone": "W. Europe Standard Time"},
        "end": {"dateTime": end, "timeZone": "W. Europe Standard Time"},
    })
}

/// Mondays 09:00–10:00 Berlin from 2 March 2026, three times.
fn weekly(subject: &str) -> Value {
    json!({
        "subject": subject,
        "start": {"dateTime": "2026-03-02T09:00:00", "timeZone": "W. Europe Standard Time"},
        "end": {"dateTime": "2026-03-02T10:00:00", "timeZone": "W. Europe Standard Time"},
        "recurrence": {
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"], "firstDayOfWeek": "sunday"},
            "range": {"type": "numbered", "startDate": "2026-03-02", "numberOfOccurrences": 3,
                      "recurrenceTimeZone": "W. Europe Standard Time"}
        }
    })
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .filter_map(|i| i["id"].as_str().map(str::to_string))
        .collect()
}

fn removed(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .filter(|i| i.get("@removed").is_some())
        .filter_map(|i| i["id"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn initial_round_sends_singles_and_skeletal_occurrences_in_utc_and_never_masters() {
    let h = harness().await;
    let lunch = h.insert(single(
        "Lunch",
        "2026-03-03T12:00:00",
        "2026-03-03T13:00:00",
    ));
    let master = h.insert(weekly("Standup"));
    h.insert(json!({
        "subject": "Holiday", "isAllDay": true,
        "start": {"dateTime": "2026-03-05T00:00:00", "timeZone": "Tokyo Standard Time"},
        "end": {"dateTime": "2026-03-06T00:00:00", "timeZone": "Tokyo Standard Time"},
    }));
    let (items, _, _) = h
        .round(&h.delta_url(MARCH_1, MARCH_1 + 60 * DAY), PREFER)
        .await;
    assert_eq!(items.len(), 5, "{items:#?}");
    assert!(items.iter().all(|i| i["type"] != "seriesMaster"));
    let occurrences: Vec<&Value> = items.iter().filter(|i| i["type"] == "occurrence").collect();
    assert_eq!(occurrences.len(), 3);
    for o in &occurrences {
        let mut keys: Vec<&str> = o
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "@odata.etag",
                "@odata.type",
                "end",
                "id",
                "seriesMasterId",
                "start",
                "type"
            ]
        );
        assert_eq!(o["seriesMasterId"], json!(master));
    }
    // 09:00 Berlin (CET) is 08:00 UTC, written with seven digits.
    assert_eq!(
        occurrences[0]["start"],
        json!({"dateTime": "2026-03-02T08:00:00.0000000", "timeZone": "UTC"})
    );
    let lunch_item = items
        .iter()
        .find(|i| i["id"] == json!(lunch))
        .expect("lunch");
    assert_eq!(
        lunch_item["start"]["dateTime"],
        "2026-03-03T11:00:00.0000000"
    );
    assert_eq!(lunch_item["type"], "singleInstance");
    assert!(
        lunch_item["@odata.etag"]
            .as_str()
            .is_some_and(|e| e.starts_with("W/\""))
    );
    // All-day events keep their dates whatever outlook.timezone asks.
    let holiday = items
        .iter()
        .find(|i| i["subject"] == "Holiday")
        .expect("holiday");
    assert_eq!(holiday["start"]["dateTime"], "2026-03-05T00:00:00.0000000");
    assert_eq!(h.emu.violations(), Vec::<String>::new());
    assert_eq!(
        h.emu.window_view(&h.cal, MARCH_1, MARCH_1 + 60 * DAY).len(),
        5
    );
}

#[tokio::test]
async fn a_link_without_page_size_gets_ten_and_is_a_violation() {
    let h = harness().await;
    for n in 0..12 {
        h.insert(single(
            &format!("E{n}"),
            "2026-03-03T12:00:00",
            "2026-03-03T13:00:00",
        ));
    }
    let no_size = "outlook.timezone=\"UTC\", IdType=\"ImmutableId\"";
    let (items, pages, _) = h
        .round(&h.delta_url(MARCH_1, MARCH_1 + 30 * DAY), no_size)
        .await;
    assert_eq!(pages, [10, 2]);
    assert_eq!(items.len(), 12);
    assert!(
        h.emu
            .violations()
            .iter()
            .any(|v| v.contains("odata.maxpagesize"))
    );
    h.emu.reset_counts();
    let (_, pages, _) = h
        .round(
            &h.delta_url(MARCH_1, MARCH_1 + 30 * DAY),
            "odata.maxpagesize=5, outlook.timezone=\"UTC\", IdType=\"ImmutableId\"",
        )
        .await;
    assert_eq!(pages, [5, 5, 2]);
    assert_eq!(h.emu.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn incremental_round_sends_changes_and_removals_but_not_strangers() {
    let h = harness().await;
    let keep = h.insert(single("Keep", "2026-03-03T12:00:00", "2026-03-03T13:00:00"));
    let edit = h.insert(single("Edit", "2026-03-04T12:00:00", "2026-03-04T13:00:00"));
    let gone = h.insert(single("Gone", "2026-03-05T12:00:00", "2026-03-05T13:00:00"));
    let away = h.insert(single("Away", "2026-03-06T12:00:00", "2026-03-06T13:00:00"));
    let master = h.insert(weekly("Standup"));
    let window = h.delta_url(MARCH_1, MARCH_1 + 30 * DAY);
    let (_, _, delta) = h.round(&window, PREFER).await;
    assert!(h.emu.update_event(&edit, json!({"subject": "Edited"})));
    assert!(h.emu.delete_event(&gone));
    assert!(h.emu.update_event(
        &away,
        json!({
        "start": {"dateTime": "2026-06-06T12:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2026-06-06T13:00:00", "timeZone": "UTC"}})
    ));
    let second = h
        .emu
        .occurrence_id(&master, 1_773_043_200)
        .expect("9 March occurrence");
    assert!(h.emu.delete_event(&second));
    // Born and deleted outside the window: never seen, never removed.
    let stranger = h.insert(single("Far", "2026-09-01T12:00:00", "2026-09-01T13:00:00"));
    assert!(h.emu.delete_event(&stranger));
    let (items, _, _) = h.round(&delta, PREFER).await;
    let mut gone_ids = removed(&items);
    gone_ids.sort();
    let mut expected = vec![gone.clone(), away.clone(), second.clone()];
    expected.sort();
    assert_eq!(gone_ids, expected);
    let edited = items
        .iter()
        .find(|i| i["id"] == json!(edit))
        .expect("edited sent");
    assert_eq!(edited["subject"], "Edited");
    assert!(!ids(&items).contains(&keep));
    assert!(!ids(&items).contains(&stranger));
    // The changed master's remaining occurrences come again.
    let occurrences = items.iter().filter(|i| i["type"] == "occurrence").count();
    assert_eq!(occurrences, 2);
}

#[tokio::test]
async fn instances_omit_cancelled_occurrences_and_carry_original_start() {
    let h = harness().await;
    let master = h.insert(weekly("Standup"));
    let first = h
        .emu
        .occurrence_id(&master, 1_772_438_400)
        .expect("2 March occurrence");
    assert!(h.emu.delete_event(&first));
    let url = format!(
        "{}/me/events/{master}/instances?startDateTime=2026-03-01T00:00:00Z&endDateTime=2026-04-01T00:00:00Z",
        h.emu.api_url()
    );
    let answer = h.get(&url).await;
    assert_eq!(answer.status, 200);
    let value = answer.body["value"].as_array().cloned().unwrap_or_default();
    assert_eq!(value.len(), 2);
    assert!(!ids(&value).contains(&first));
    assert_eq!(value[0]["originalStart"], "2026-03-09T08:00:00Z");
    assert_eq!(value[0]["subject"], "Standup");
    assert_ne!(value[0]["iCalUId"], value[1]["iCalUId"]);
    let gone = h
        .get(&format!("{}/me/events/{first}", h.emu.api_url()))
        .await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.body["error"]["code"], "ErrorItemNotFound");
}

#[tokio::test]
async fn a_retried_create_with_the_same_transaction_id_makes_no_second_event() {
    let h = harness().await;
    let url = format!("{}/me/calendars/{}/events", h.emu.api_url(), h.cal);
    let mut event = single("Once", "2026-03-03T12:00:00", "2026-03-03T13:00:00");
    event["transactionId"] = json!("local-uid-1");
    h.emu.set_switches(GraphSwitches {
        lose_write_reply: 1,
        ..GraphSwitches::default()
    });
    let lost = h
        .http
        .post(&url)
        .header("authorization", format!("Bearer {}", h.token))
        .header("prefer", PREFER)
        .body(event.to_string())
        .send()
        .await;
    let lost_ok = match lost {
        Ok(resp) => resp.text().await.is_ok(),
        Err(_) => false,
    };
    assert!(!lost_ok, "the first reply is cut");
    let retry = h
        .send("POST", &url, Some(event), &[("prefer", PREFER)])
        .await;
    assert_eq!(retry.status, 201);
    assert_eq!(h.emu.events(&h.cal).len(), 1);
    assert_eq!(retry.body["subject"], "Once");
}

#[tokio::test]
async fn patch_needs_the_current_etag_and_an_occurrence_patch_makes_an_exception() {
    let h = harness().await;
    let id = h.insert(single("Plan", "2026-03-03T12:00:00", "2026-03-03T13:00:00"));
    let url = format!("{}/me/events/{id}", h.emu.api_url());
    let current = h.get(&url).await;
    let etag = current.body["@odata.etag"]
        .as_str()
        .expect("etag")
        .to_string();
    let stale = h
        .send(
            "PATCH",
            &url,
            Some(json!({"subject": "X"})),
            &[("prefer", PREFER), ("if-match", "W/\"stale\"")],
        )
        .await;
    assert_eq!(stale.status, 412);
    assert_eq!(stale.body["error"]["code"], "ErrorIrresolvableConflict");
    assert!(stale.body["error"]["innerError"]["request-id"].is_string());
    let ok = h
        .send(
            "PATCH",
            &url,
            Some(json!({"subject": "Done"})),
            &[("prefer", PREFER), ("if-match", &etag)],
        )
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body["subject"], "Done");
    assert_ne!(ok.body["@odata.etag"], json!(etag));
    let not_modified = h
        .send(
            "GET",
            &url,
            None,
            &[
                ("prefer", PREFER),
                (
                    "if-none-match",
                    ok.body["@odata.etag"].as_str().unwrap_or_default(),
                ),
            ],
        )
        .await;
    assert_eq!(not_modified.status, 304);
    assert!(h.emu.violations().is_empty());
    // Without If-Match: done, but the test fails (a violation).
    let blind = h
        .send(
            "PATCH",
            &url,
            Some(json!({"subject": "Blind"})),
            &[("prefer", PREFER)],
        )
        .await;
    assert_eq!(blind.status, 200);
    assert!(
        h.emu
            .violations()
            .iter()
            .any(|v| v.contains("without If-Match"))
    );
    let master = h.insert(weekly("Standup"));
    let occ = h
        .emu
        .occurrence_id(&master, 1_772_438_400)
        .expect("occurrence");
    assert!(
        h.emu
            .update_event(&occ, json!({"subject": "Moved standup"}))
    );
    let exception = h.get(&format!("{}/me/events/{occ}", h.emu.api_url())).await;
    assert_eq!(exception.body["type"], "exception");
    assert_eq!(exception.body["subject"], "Moved standup");
    assert_eq!(exception.body["originalStart"], "2026-03-02T08:00:00Z");
}

#[tokio::test]
async fn an_expired_delta_link_answers_410_with_location() {
    let h = harness().await;
    h.insert(single("A", "2026-03-03T12:00:00", "2026-03-03T13:00:00"));
    let (_, _, delta) = h
        .round(&h.delta_url(MARCH_1, MARCH_1 + 30 * DAY), PREFER)
        .await;
    h.emu.set_switches(GraphSwitches {
        state_expiry_secs: Some(1800),
        ..GraphSwitches::default()
    });
    let fresh = h.get(&delta).await;
    assert_eq!(fresh.status, 200);
    h.emu.set_now(MARCH_1 + 2000);
    let old = h.get(&delta).await;
    assert_eq!(old.status, 410);
    assert_eq!(old.body["error"]["code"], "SyncStateNotFound");
    let location = old
        .headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        location.ends_with("/calendarView/delta?$deltatoken="),
        "{location}"
    );
}

#[tokio::test]
async fn delta_refuses_query_options_and_a_missing_window() {
    let h = harness().await;
    let select = h
        .get(&format!(
            "{}&$select=subject",
            h.delta_url(MARCH_1, MARCH_1 + DAY)
        ))
        .await;
    assert_eq!(select.status, 400);
    let no_window = h
        .get(&format!("{}/me/calendarView/delta", h.emu.api_url()))
        .await;
    assert_eq!(no_window.status, 400);
    let garbled = h
        .get(&format!(
            "{}/me/calendarView/delta?$deltatoken=garbage",
            h.emu.api_url()
        ))
        .await;
    assert_eq!(garbled.body["error"]["code"], "InvalidDeltaToken");
}

#[tokio::test]
async fn empty_pages_come_first_and_replayed_items_keep_the_newest_last() {
    let h = harness().await;
    let id = h.insert(single("Old", "2026-03-03T12:00:00", "2026-03-03T13:00:00"));
    let (_, _, delta) = h
        .round(&h.delta_url(MARCH_1, MARCH_1 + 30 * DAY), PREFER)
        .await;
    assert!(h.emu.update_event(&id, json!({"subject": "New"})));
    h.emu.set_switches(GraphSwitches {
        empty_pages: 2,
        replay_items: true,
        ..GraphSwitches::default()
    });
    let (items, pages, _) = h.round(&delta, PREFER).await;
    assert_eq!(pages[..2], [0, 0]);
    let subjects: Vec<&str> = items.iter().filter_map(|i| i["subject"].as_str()).collect();
    assert_eq!(subjects, ["Old", "New"]);
}

#[tokio::test]
async fn requests_without_a_valid_token_get_401() {
    let h = harness().await;
    let url = format!("{}/me/calendars", h.emu.api_url());
    let anonymous = h.http.get(&url).send().await.expect("request");
    assert_eq!(anonymous.status().as_u16(), 401);
    let body: Value =
        serde_json::from_str(&anonymous.text().await.unwrap_or_default()).unwrap_or(Value::Null);
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
    let ok = h.get(&url).await;
    assert_eq!(ok.body["value"][0]["isDefaultCalendar"], true);
    h.emu.set_now(MARCH_1 + 3600);
    assert_eq!(h.get(&url).await.status, 401);
}

#[tokio::test]
async fn more_than_four_requests_in_flight_are_throttled_and_recorded() {
    let h = harness().await;
    h.emu.set_switches(GraphSwitches {
        delay_ms: 300,
        ..GraphSwitches::default()
    });
    let url = format!("{}/me/calendars", h.emu.api_url());
    let calls = (0..6).map(|_| h.get(&url));
    let answers = futures_join(calls).await;
    let throttled: Vec<&Answer> = answers.iter().filter(|a| a.status == 429).collect();
    assert!(!throttled.is_empty());
    assert!(throttled[0].headers.contains_key("retry-after"));
    assert_eq!(throttled[0].body["error"]["code"], "ApplicationThrottled");
    assert!(h.emu.violations().iter().any(|v| v.contains("in flight")));
}

/// Runs the futures concurrently on this task.
async fn futures_join<F: std::future::Future<Output = Answer>>(
    calls: impl Iterator<Item = F>,
) -> Vec<Answer> {
    let mut set = Vec::new();
    for call in calls {
        set.push(Box::pin(call));
    }
    let mut out = Vec::new();
    let mut pending: Vec<_> = set.into_iter().map(Some).collect();
    // Poll all of them together: join by hand (no futures crate).
    std::future::poll_fn(|cx| {
        let mut all_done = true;
        for slot in &mut pending {
            if let Some(fut) = slot {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(answer) => {
                        out.push(answer);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all_done = false,
                }
            }
        }
        if all_done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out
}

async fn post_form(h: &Harness, path: &str, form: &[(&str, &str)]) -> Answer {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let resp = h
        .http
        .post(format!("{}/common/oauth2/v2.0/{path}", h.emu.login_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&resp.text().await.unwrap_or_default()).unwrap_or(Value::Null),
    }
}

async fn poll(h: &Harness, device: &str) -> Answer {
    post_form(
        h,
        "token",
        &[
            ("client_id", "almanac-test"),
            ("grant_type", DEVICE_GRANT),
            ("device_code", device),
        ],
    )
    .await
}

async fn refresh_with(h: &Harness, token: &str) -> Answer {
    post_form(
        h,
        "token",
        &[
            ("client_id", "almanac-test"),
            ("grant_type", "refresh_token"),
            ("refresh_token", token),
        ],
    )
    .await
}

async fn start_device(h: &Harness, scope: &str) -> Answer {
    post_form(
        h,
        "devicecode",
        &[("client_id", "almanac-test"), ("scope", scope)],
    )
    .await
}

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

#[tokio::test]
async fn device_code_is_pending_until_approved_then_gives_tokens() {
    let h = harness().await;
    h.emu.set_switches(GraphSwitches {
        device_interval_secs: 0,
        pending_polls: 2,
        ..GraphSwitches::default()
    });
    let unknown = post_form(
        &h,
        "devicecode",
        &[("client_id", "stranger"), ("scope", "Calendars.ReadWrite")],
    )
    .await;
    assert_eq!(unknown.status, 400);
    let code = post_form(
        &h,
        "devicecode",
        &[
            ("client_id", "almanac-test"),
            ("scope", "Calendars.ReadWrite offline_access"),
        ],
    )
    .await;
    assert_eq!(code.body["expires_in"], 900);
    assert_eq!(code.body["interval"], 0);
    let device = code.body["device_code"]
        .as_str()
        .expect("device code")
        .to_string();
    let user = code.body["user_code"]
        .as_str()
        .expect("user code")
        .to_string();
    assert_eq!(
        poll(&h, &device).await.body["error"],
        "authorization_pending"
    );
    assert!(h.emu.approve(&user));
    // pending_polls: two polls answer pending whatever the person did.
    assert_eq!(
        poll(&h, &device).await.body["error"],
        "authorization_pending"
    );
    let tokens = poll(&h, &device).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(tokens.body["token_type"], "Bearer");
    assert_eq!(tokens.body["expires_in"], 3600);
    let access = tokens.body["access_token"].as_str().expect("access");
    let refresh = tokens.body["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();
    let calendars = h
        .http
        .get(format!("{}/me/calendars", h.emu.api_url()))
        .header("authorization", format!("Bearer {access}"))
        .send()
        .await
        .expect("request");
    assert_eq!(calendars.status().as_u16(), 200);
    // Refresh tokens rotate: the new one works, the old one is dead.
    let rotated = refresh_with(&h, &refresh).await;
    let next = rotated.body["refresh_token"]
        .as_str()
        .expect("new refresh")
        .to_string();
    assert_ne!(next, refresh);
    assert_eq!(
        refresh_with(&h, &refresh).await.body["error"],
        "invalid_grant"
    );
    h.emu.set_switches(GraphSwitches {
        invalid_grant: true,
        ..GraphSwitches::default()
    });
    assert_eq!(refresh_with(&h, &next).await.body["error"], "invalid_grant");
}

#[tokio::test]
async fn device_code_without_offline_access_gives_no_refresh_token_and_declines_and_expiry_stop() {
    let h = harness().await;
    h.emu.set_switches(GraphSwitches {
        device_interval_secs: 0,
        ..GraphSwitches::default()
    });
    let online = start_device(&h, "Calendars.ReadWrite").await;
    assert!(
        h.emu
            .approve(online.body["user_code"].as_str().unwrap_or_default())
    );
    let tokens = poll(&h, online.body["device_code"].as_str().unwrap_or_default()).await;
    assert!(tokens.body["access_token"].is_string());
    assert!(tokens.body.get("refresh_token").is_none());
    let declined = start_device(&h, "Calendars.ReadWrite offline_access").await;
    assert!(
        h.emu
            .decline(declined.body["user_code"].as_str().unwrap_or_default())
    );
    let answer = poll(
        &h,
        declined.body["device_code"].as_str().unwrap_or_default(),
    )
    .await;
    assert_eq!(answer.body["error"], "authorization_declined");
    let late = start_device(&h, "Calendars.ReadWrite offline_access").await;
    h.emu.set_now(MARCH_1 + 901);
    let answer = poll(&h, late.body["device_code"].as_str().unwrap_or_default()).await;
    assert_eq!(answer.body["error"], "expired_token");
}

#[tokio::test]
async fn slow_down_raises_the_interval_and_a_poll_inside_it_is_a_violation() {
    let h = harness().await;
    h.emu.set_switches(GraphSwitches {
        device_interval_secs: 0,
        slow_down_next: 1,
        ..GraphSwitches::default()
    });
    let code = post_form(
        &h,
        "devicecode",
        &[
            ("client_id", "almanac-test"),
            ("scope", "Calendars.ReadWrite offline_access"),
        ],
    )
    .await;
    let device = code.body["device_code"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(poll(&h, &device).await.body["error"], "slow_down");
    assert!(h.emu.violations().is_empty());
    assert_eq!(
        poll(&h, &device).await.body["error"],
        "authorization_pending"
    );
    assert!(
        h.emu
            .violations()
            .iter()
            .any(|v| v.contains("before its interval"))
    );
}
