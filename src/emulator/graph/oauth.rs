//! Entra's device-code sign-in for a public client: `POST /{tenant}/oauth2/v2.0/devicecode` and
//! `POST /{tenant}/oauth2/v2.0/token` (device-code and refresh grants). PROTOCOLS.md §3 "OAuth",
//! §4 Graph "OAuth".

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::errors::{Reply, oauth_error};
use super::server::ACCESS_LIFETIME_SECS;
use super::state::{DeviceCode, State};

/// PROTOCOLS.md §3 OAuth "`scope=Calendars.ReadWrite offline_access`".
pub(crate) const DEFAULT_SCOPE: &str = "Calendars.ReadWrite offline_access";

/// PROTOCOLS.md §3 OAuth "`expires_in` (900)".
const DEVICE_CODE_LIFETIME_SECS: i64 = 900;

const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn form(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn offline(scope: &str) -> bool {
    scope
        .split_whitespace()
        .any(|s| s.eq_ignore_ascii_case("offline_access"))
}

/// A user code like Entra's, `ABCD-EFGH` (letters without look-alikes).
fn user_code(secret: &str) -> String {
    const LETTERS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
    let letters: String = secret
        .bytes()
        .map(|b| char::from(LETTERS[usize::from(b) % LETTERS.len()]))
        .take(8)
        .collect();
    format!("{}-{}", &letters[..4], &letters[4..])
}

/// `POST …/devicecode` (`client_id`, `scope`).
pub(crate) fn device_code(st: &mut State, body: &[u8]) -> Reply {
    let form = form(body);
    let client_id = field(&form, "client_id").unwrap_or_default();
    if !st.clients.contains(client_id) {
        return oauth_error(
            400,
            "unauthorized_client",
            &format!(
                "AADSTS700016: Application with identifier '{client_id}' was not found in the directory."
            ),
        );
    }
    let scope = field(&form, "scope").unwrap_or_default().to_string();
    if scope.trim().is_empty() {
        return oauth_error(
            400,
            "invalid_scope",
            "AADSTS70011: The provided value for the input parameter 'scope' is not valid.",
        );
    }
    let device = st.new_secret("DAQABAAEAAAD-emu-", 24);
    let mut code = user_code(&st.new_secret("", 12));
    while st.device_codes.values().any(|d| d.user_code == code) {
        code = user_code(&st.new_secret("", 12));
    }
    let interval = st.switches.device_interval_secs;
    let issued = st.now();
    st.device_codes.insert(
        device.clone(),
        DeviceCode {
            client_id: client_id.to_string(),
            user_code: code.clone(),
            scope,
            issued,
            decision: None,
            polls: 0,
            interval_secs: interval,
            last_poll: None,
            redeemed: false,
        },
    );
    let verification = format!("{}/devicelogin", st.origin);
    Reply::json(
        200,
        &json!({
            "user_code": code,
            "device_code": device,
            "verification_uri": verification,
            "expires_in": DEVICE_CODE_LIFETIME_SECS,
            "interval": interval,
            "message": format!("To sign in, use a web browser to open the page {verification} and enter the code {code} to authenticate."),
        }),
    )
}

/// `POST …/token`: the device-code and refresh grants.
pub(crate) fn token(st: &mut State, body: &[u8]) -> Reply {
    let form = form(body);
    let client_id = field(&form, "client_id").unwrap_or_default().to_string();
    if !st.clients.contains(&client_id) {
        return oauth_error(
            400,
            "invalid_client",
            &format!(
                "AADSTS700016: Application with identifier '{client_id}' was not found in the directory."
            ),
        );
    }
    match field(&form, "grant_type").unwrap_or_default() {
        DEVICE_CODE_GRANT => poll(st, &form, &client_id),
        "refresh_token" => refresh(st, &form, &client_id),
        other => oauth_error(
            400,
            "unsupported_grant_type",
            &format!("AADSTS70003: The app requested an unsupported grant type '{other}'."),
        ),
    }
}

/// A device-code poll. PROTOCOLS.md §3 OAuth "`authorization_pending` = wait; `slow_down` (RFC
/// 8628) = +5 s; `authorization_declined`, `bad_verification_code`, `expired_token` = stop".
fn poll(st: &mut State, form: &[(String, String)], client_id: &str) -> Reply {
    let device = field(form, "device_code").unwrap_or_default().to_string();
    let now = st.now();
    let Some(code) = st
        .device_codes
        .get(&device)
        .filter(|c| c.client_id == client_id && !c.redeemed)
        .cloned()
    else {
        return oauth_error(
            400,
            "bad_verification_code",
            "AADSTS70019: Verification code expired or invalid.",
        );
    };
    // RFC 8628 §3.5: polling faster than the interval is a client error.
    if let Some(last) = code.last_poll {
        let wait = Duration::from_secs(code.interval_secs);
        if last.elapsed() < wait {
            let early = (wait - last.elapsed()).as_millis();
            st.violation(format!(
                "device-code poll {early} ms before its interval ended"
            ));
        }
    }
    let increment = st.switches.slow_down_increment_secs;
    let slow_down = st.switches.slow_down_next > 0;
    let pending_polls = st.switches.pending_polls;
    let expired = st.switches.expire_device_code || now - code.issued > DEVICE_CODE_LIFETIME_SECS;
    let Some(entry) = st.device_codes.get_mut(&device) else {
        return oauth_error(
            400,
            "bad_verification_code",
            "AADSTS70019: Verification code expired or invalid.",
        );
    };
    entry.polls += 1;
    entry.last_poll = Some(Instant::now());
    if expired {
        return oauth_error(
            400,
            "expired_token",
            "AADSTS70020: The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
        );
    }
    if slow_down {
        entry.interval_secs += increment;
        st.switches.slow_down_next -= 1;
        return oauth_error(
            400,
            "slow_down",
            "AADSTS70016: OAuth 2.0 device flow error. Polling too frequently.",
        );
    }
    let polls = entry.polls;
    match code.decision {
        Some(false) => oauth_error(
            400,
            "authorization_declined",
            "AADSTS70000: The end user denied the authorization request.",
        ),
        Some(true) if polls > pending_polls => {
            entry.redeemed = true;
            let refresh = offline(&code.scope);
            let (access, refresh_token) = st.issue_tokens(client_id, &code.scope, refresh);
            token_reply(&access, refresh_token.as_deref(), &code.scope)
        }
        _ => oauth_error(
            400,
            "authorization_pending",
            "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
        ),
    }
}

/// PROTOCOLS.md §3 OAuth "Refresh tokens … rotate on every use"; `invalid_grant` by switch.
fn refresh(st: &mut State, form: &[(String, String)], client_id: &str) -> Reply {
    let token = field(form, "refresh_token").unwrap_or_default().to_string();
    let grant = st
        .refresh_tokens
        .get(&token)
        .filter(|g| g.client_id == client_id)
        .cloned();
    let Some(grant) = grant.filter(|_| !st.switches.invalid_grant) else {
        return oauth_error(
            400,
            "invalid_grant",
            "AADSTS70000: The provided value for the 'refresh_token' is not valid. The refresh token has been revoked or expired.",
        );
    };
    st.refresh_tokens.remove(&token);
    let (access, refresh_token) = st.issue_tokens(client_id, &grant.scope, true);
    token_reply(&access, refresh_token.as_deref(), &grant.scope)
}

/// `{"token_type":"Bearer","scope","expires_in":3600,"ext_expires_in","access_token",
/// "refresh_token"?}`.
fn token_reply(access: &str, refresh: Option<&str>, scope: &str) -> Reply {
    let mut body = Map::new();
    body.insert("token_type".into(), json!("Bearer"));
    body.insert("scope".into(), json!(scope));
    body.insert("expires_in".into(), json!(ACCESS_LIFETIME_SECS));
    body.insert("ext_expires_in".into(), json!(ACCESS_LIFETIME_SECS));
    body.insert("access_token".into(), json!(access));
    if let Some(r) = refresh {
        body.insert("refresh_token".into(), json!(r));
    }
    Reply::json(200, &Value::Object(body)).with("cache-control", "no-store, no-cache")
}
