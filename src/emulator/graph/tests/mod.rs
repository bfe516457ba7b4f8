//! The Graph emulator over loopback, driven by reqwest: delta rounds (initial, incremental,
//! removals, paging), instances, writes with `If-Match` and `transactionId`, the device-code and
//! refresh grants, expiry, throttling. `oauth`: the sign-in endpoints; `faults`: the switches.

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::{GraphEmulator, GraphSwitches};

mod faults;
mod oauth;
mod writes;

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
