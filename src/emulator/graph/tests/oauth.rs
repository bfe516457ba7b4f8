//! The device-code and refresh grants (PROTOCOLS.md §3 "OAuth", §4 Graph "OAuth").

use serde_json::Value;

use super::{Answer, Harness, MARCH_1, harness};
use crate::emulator::graph::GraphSwitches;

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
