//! Writes over HTTP: `transactionId` dedupe, `If-Match` and 412, 304, exceptions
//! (PROTOCOLS.md §3 "Ids, etags, writes").

use serde_json::json;

use super::{PREFER, harness, single, weekly};
use crate::emulator::graph::GraphSwitches;

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
async fn a_read_only_calendar_refuses_creates_and_changes_with_403() {
    let h = harness().await;
    let shared = h.emu.add_calendar("Shared", false);
    let create = h
        .send(
            "POST",
            &format!("{}/me/calendars/{shared}/events", h.emu.api_url()),
            Some(single("No", "2026-03-03T12:00:00", "2026-03-03T13:00:00")),
            &[("prefer", PREFER)],
        )
        .await;
    assert_eq!(create.status, 403);
    assert_eq!(create.body["error"]["code"], "ErrorAccessDenied");
    let theirs = h.emu.insert_event(
        &shared,
        single("Theirs", "2026-03-03T12:00:00", "2026-03-03T13:00:00"),
    );
    let id = theirs["id"].as_str().expect("id");
    let etag = theirs["@odata.etag"].as_str().expect("etag");
    let delete = h
        .send(
            "DELETE",
            &format!("{}/me/events/{id}", h.emu.api_url()),
            None,
            &[("prefer", PREFER), ("if-match", etag)],
        )
        .await;
    assert_eq!(delete.status, 403);
    assert_eq!(h.emu.events(&shared).len(), 1);
}
