//! The switches (PROTOCOLS.md §4 "All three" and "Graph"), and series edits over HTTP.

use serde_json::{Value, json};

use super::{DAY, Harness, MARCH_1, PREFER, harness, ids, removed, single, weekly};
use crate::emulator::graph::GraphSwitches;

fn with(h: &Harness, switches: GraphSwitches) {
    h.emu.set_switches(switches);
}

/// Ten daily occurrences from 2 March 09:00 Berlin.
fn daily(subject: &str) -> Value {
    let mut event = weekly(subject);
    event["recurrence"]["pattern"] = json!({"type": "daily", "interval": 1});
    event["recurrence"]["range"]["numberOfOccurrences"] = json!(10);
    event
}

const SMALL_PAGES: &str = "odata.maxpagesize=1, outlook.timezone=\"UTC\", IdType=\"ImmutableId\"";

#[tokio::test]
async fn endless_rounds_repeat_the_first_page_with_fresh_next_links() {
    let h = harness().await;
    for n in 0..3 {
        h.insert(single(
            &format!("E{n}"),
            "2026-03-03T12:00:00",
            "2026-03-03T13:00:00",
        ));
    }
    with(
        &h,
        GraphSwitches {
            endless_loop: true,
            ..GraphSwitches::default()
        },
    );
    let mut url = h.delta_url(MARCH_1, MARCH_1 + 30 * DAY);
    let mut seen = Vec::new();
    let mut links = Vec::new();
    for _ in 0..4 {
        let page = h.send("GET", &url, None, &[("prefer", SMALL_PAGES)]).await;
        assert!(page.body.get("@odata.deltaLink").is_none());
        seen.push(ids(page.body["value"]
            .as_array()
            .map_or(&[][..], Vec::as_slice)));
        url = page.body["@odata.nextLink"]
            .as_str()
            .expect("nextLink")
            .to_string();
        links.push(url.clone());
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]));
    links.dedup();
    assert_eq!(links.len(), 4, "every nextLink is fresh");
}

#[tokio::test]
async fn an_older_next_link_dies_once_a_later_page_was_read() {
    let h = harness().await;
    for n in 0..3 {
        h.insert(single(
            &format!("E{n}"),
            "2026-03-03T12:00:00",
            "2026-03-03T13:00:00",
        ));
    }
    with(
        &h,
        GraphSwitches {
            older_next_links_die: true,
            ..GraphSwitches::default()
        },
    );
    let first = h
        .send(
            "GET",
            &h.delta_url(MARCH_1, MARCH_1 + 30 * DAY),
            None,
            &[("prefer", SMALL_PAGES)],
        )
        .await;
    let link1 = first.body["@odata.nextLink"]
        .as_str()
        .expect("link")
        .to_string();
    let second = h
        .send("GET", &link1, None, &[("prefer", SMALL_PAGES)])
        .await;
    assert_eq!(
        h.send("GET", &link1, None, &[("prefer", SMALL_PAGES)])
            .await
            .status,
        200,
        "a retry of the newest link works"
    );
    let link2 = second.body["@odata.nextLink"]
        .as_str()
        .expect("link")
        .to_string();
    assert_eq!(
        h.send("GET", &link2, None, &[("prefer", SMALL_PAGES)])
            .await
            .status,
        200
    );
    let stale = h
        .send("GET", &link1, None, &[("prefer", SMALL_PAGES)])
        .await;
    assert_eq!(stale.status, 410);
}

#[tokio::test]
async fn next_links_answer_504_by_count_and_while_the_window_is_too_wide() {
    let h = harness().await;
    for n in 0..2 {
        h.insert(single(
            &format!("E{n}"),
            "2026-03-03T12:00:00",
            "2026-03-03T13:00:00",
        ));
    }
    with(
        &h,
        GraphSwitches {
            gateway_timeout_next_link: 1,
            ..GraphSwitches::default()
        },
    );
    let first = h
        .send(
            "GET",
            &h.delta_url(MARCH_1, MARCH_1 + 30 * DAY),
            None,
            &[("prefer", SMALL_PAGES)],
        )
        .await;
    let link = first.body["@odata.nextLink"]
        .as_str()
        .expect("link")
        .to_string();
    let timeout = h.send("GET", &link, None, &[("prefer", SMALL_PAGES)]).await;
    assert_eq!(timeout.status, 504);
    assert_eq!(timeout.body["error"]["code"], "UnknownError");
    assert_eq!(
        h.send("GET", &link, None, &[("prefer", SMALL_PAGES)])
            .await
            .status,
        200
    );
    with(
        &h,
        GraphSwitches {
            gateway_timeout_until_window_days: Some(20),
            ..GraphSwitches::default()
        },
    );
    assert_eq!(
        h.send("GET", &link, None, &[("prefer", SMALL_PAGES)])
            .await
            .status,
        504
    );
    let narrow = h
        .send(
            "GET",
            &h.delta_url(MARCH_1, MARCH_1 + 10 * DAY),
            None,
            &[("prefer", SMALL_PAGES)],
        )
        .await;
    let link = narrow.body["@odata.nextLink"]
        .as_str()
        .expect("link")
        .to_string();
    assert_eq!(
        h.send("GET", &link, None, &[("prefer", SMALL_PAGES)])
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn overfull_pages_take_the_rest_of_a_series() {
    let h = harness().await;
    h.insert(daily("Daily"));
    h.insert(single(
        "Later",
        "2026-03-20T12:00:00",
        "2026-03-20T13:00:00",
    ));
    with(
        &h,
        GraphSwitches {
            overfull_pages: true,
            ..GraphSwitches::default()
        },
    );
    let three = "odata.maxpagesize=3, outlook.timezone=\"UTC\", IdType=\"ImmutableId\"";
    let (items, pages, _) = h
        .round(&h.delta_url(MARCH_1, MARCH_1 + 30 * DAY), three)
        .await;
    assert_eq!(pages, [10, 1]);
    assert_eq!(items.len(), 11);
}

#[tokio::test]
async fn cancelled_occurrences_may_come_without_removed_and_strangers_with_it() {
    let h = harness().await;
    let master = h.insert(weekly("Standup"));
    let far = h.insert(single("Far", "2026-09-01T12:00:00", "2026-09-01T13:00:00"));
    let (_, _, delta) = h
        .round(&h.delta_url(MARCH_1, MARCH_1 + 30 * DAY), PREFER)
        .await;
    let occ = h
        .emu
        .occurrence_id(&master, 1_772_438_400)
        .expect("occurrence");
    assert!(h.emu.delete_event(&occ));
    assert!(h.emu.update_event(&far, json!({"subject": "Still far"})));
    with(
        &h,
        GraphSwitches {
            no_removed_for_cancelled_occurrences: true,
            out_of_window_removals: true,
            ..GraphSwitches::default()
        },
    );
    let (items, _, _) = h.round(&delta, PREFER).await;
    let gone = removed(&items);
    assert!(!gone.contains(&occ), "{items:#?}");
    assert!(gone.contains(&far));
    assert!(!ids(&items).contains(&occ));
}

#[tokio::test]
async fn custom_zones_and_sentinel_dates_are_written_when_switched_on() {
    let h = harness().await;
    let mut endless = weekly("Standup");
    endless["recurrence"]["range"] = json!({"type": "noEnd", "startDate": "2026-03-02"});
    let master = h.insert(endless);
    with(
        &h,
        GraphSwitches {
            custom_time_zones: true,
            sentinel_dates: true,
            ..GraphSwitches::default()
        },
    );
    let (items, _, _) = h
        .round(&h.delta_url(MARCH_1, MARCH_1 + 10 * DAY), PREFER)
        .await;
    assert_eq!(
        items[0]["start"],
        json!({"dateTime": "2026-03-02T09:00:00.0000000", "timeZone": "tzone://Microsoft/Custom"})
    );
    let got = h
        .get(&format!("{}/me/events/{master}", h.emu.api_url()))
        .await;
    assert_eq!(got.body["recurrence"]["range"]["endDate"], "0001-01-01");
    assert_eq!(
        got.body["recurrence"]["range"]["recurrenceTimeZone"],
        "Europe/Berlin"
    );
}

#[tokio::test]
async fn case_twin_ids_differ_only_in_case() {
    let h = harness().await;
    with(
        &h,
        GraphSwitches {
            case_twin_ids: true,
            ..GraphSwitches::default()
        },
    );
    let a = h.insert(single("A", "2026-03-03T12:00:00", "2026-03-03T13:00:00"));
    let b = h.insert(single("B", "2026-03-04T12:00:00", "2026-03-04T13:00:00"));
    assert_ne!(a, b);
    assert_eq!(a.to_ascii_lowercase(), b.to_ascii_lowercase());
    let got = h.get(&format!("{}/me/events/{b}", h.emu.api_url())).await;
    assert_eq!(got.body["subject"], "B");
}

#[tokio::test]
async fn strict_range_start_refuses_a_range_that_starts_elsewhere() {
    let h = harness().await;
    let url = format!("{}/me/events", h.emu.api_url());
    let mut event = weekly("Standup");
    event["recurrence"]["range"]["startDate"] = json!("2026-03-03");
    with(
        &h,
        GraphSwitches {
            strict_range_start: true,
            ..GraphSwitches::default()
        },
    );
    let refused = h
        .send("POST", &url, Some(event.clone()), &[("prefer", PREFER)])
        .await;
    assert_eq!(refused.status, 400);
    with(&h, GraphSwitches::default());
    let accepted = h
        .send("POST", &url, Some(event), &[("prefer", PREFER)])
        .await;
    assert_eq!(accepted.status, 201);
    assert_eq!(accepted.body["type"], "seriesMaster");
}

#[tokio::test]
async fn invalid_delta_token_by_switch_then_the_link_works_again() {
    let h = harness().await;
    h.insert(single("A", "2026-03-03T12:00:00", "2026-03-03T13:00:00"));
    let (_, _, delta) = h
        .round(&h.delta_url(MARCH_1, MARCH_1 + 30 * DAY), PREFER)
        .await;
    with(
        &h,
        GraphSwitches {
            invalid_delta_token_next: 1,
            ..GraphSwitches::default()
        },
    );
    let bad = h.get(&delta).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["error"]["code"], "InvalidDeltaToken");
    assert_eq!(h.get(&delta).await.status, 200);
}

#[tokio::test]
async fn a_new_rule_drops_exceptions_that_no_longer_match_and_a_deleted_master_removes_its_series()
{
    let h = harness().await;
    let master = h.insert(weekly("Standup"));
    let occ = h
        .emu
        .occurrence_id(&master, 1_772_438_400)
        .expect("occurrence");
    assert!(h.emu.update_event(&occ, json!({"subject": "Special"})));
    let (_, _, delta) = h
        .round(&h.delta_url(MARCH_1, MARCH_1 + 30 * DAY), PREFER)
        .await;
    let mut rule = weekly("Standup")["recurrence"].clone();
    rule["pattern"]["daysOfWeek"] = json!(["tuesday"]);
    assert!(h.emu.update_event(
        &master,
        json!({
        "recurrence": rule,
        "start": {"dateTime": "2026-03-03T09:00:00", "timeZone": "W. Europe Standard Time"},
        "end": {"dateTime": "2026-03-03T10:00:00", "timeZone": "W. Europe Standard Time"}})
    ));
    let exception = h.get(&format!("{}/me/events/{occ}", h.emu.api_url())).await;
    assert_eq!(exception.status, 404);
    let view = h.emu.window_view(&h.cal, MARCH_1, MARCH_1 + 30 * DAY);
    assert_eq!(
        view.iter().map(|v| v.1).collect::<Vec<_>>(),
        [1_772_524_800, 1_773_129_600, 1_773_734_400]
    );
    let (items, _, delta) = h.round(&delta, PREFER).await;
    assert!(removed(&items).contains(&occ));
    assert_eq!(
        items.iter().filter(|i| i["type"] == "occurrence").count(),
        3
    );
    assert!(h.emu.delete_event(&master));
    let (items, _, _) = h.round(&delta, PREFER).await;
    assert_eq!(removed(&items).len(), 3);
    assert!(
        h.emu
            .window_view(&h.cal, MARCH_1, MARCH_1 + 30 * DAY)
            .is_empty()
    );
}

#[tokio::test]
async fn all_three_faults_412_churn_retry_after_and_malformed_bodies() {
    let h = harness().await;
    let id = h.insert(json!({
        "subject": "Meeting",
        "start": {"dateTime": "2026-03-03T12:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2026-03-03T13:00:00", "timeZone": "UTC"},
        "attendees": [{"emailAddress": {"address": "a@example.com"}, "type": "required"}],
    }));
    let url = format!("{}/me/events/{id}", h.emu.api_url());
    let first = h.get(&url).await.body["@odata.etag"].clone();
    with(
        &h,
        GraphSwitches {
            etag_churn: true,
            precondition_failed_next: 1,
            ..GraphSwitches::default()
        },
    );
    let second = h.get(&url).await.body["@odata.etag"].clone();
    assert_ne!(
        first, second,
        "reads churn the etag of events with attendees"
    );
    let etag = second.as_str().unwrap_or_default().to_string();
    let refused = h
        .send(
            "PATCH",
            &url,
            Some(json!({"subject": "X"})),
            &[("prefer", PREFER), ("if-match", &etag)],
        )
        .await;
    assert_eq!(refused.status, 412);
    with(
        &h,
        GraphSwitches {
            next_status: vec![(503, Some(30))],
            malformed_next: 1,
            ..GraphSwitches::default()
        },
    );
    let busy = h.get(&url).await;
    assert_eq!(busy.status, 503);
    assert_eq!(
        busy.headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("30")
    );
    let early = h.get(&url).await;
    assert_eq!(early.body, Value::Null, "the body is broken JSON");
    assert!(
        h.emu
            .violations()
            .iter()
            .any(|v| v.contains("before Retry-After"))
    );
}
