//! The OAuth endpoints of a "Desktop app" client: the authorization endpoint (loopback redirect,
//! PKCE S256, consent given automatically) and the token endpoint (code exchange, refresh).
//! PROTOCOLS.md §2 "OAuth" and §4 Google "OAuth".

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value, json};

use super::errors::{Reply, oauth_error};
use super::paging::Query;
use super::server::ApiRequest;
use super::sha256::s256_challenge;
use super::state::{AuthCode, CALENDAR_SCOPE, State};

/// Authorization codes are good for this long (seconds of the emulator clock).
const CODE_LIFETIME_SECS: i64 = 600;

/// PROTOCOLS.md §2 "Refresh tokens die after 7 days while the consent screen is … Testing".
const TESTING_LIFETIME_SECS: i64 = 7 * 86_400;

/// PROTOCOLS.md §2 "Refresh tokens die … after 6 months unused".
const UNUSED_LIFETIME_SECS: i64 = 183 * 86_400;

/// PROTOCOLS.md §2 OAuth: "`400 {"error":"invalid_grant","error_description":"Token has been
/// expired or revoked."}`".
fn expired_or_revoked() -> Reply {
    oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
}

/// PROTOCOLS.md §2 "`redirect_uri=http://127.0.0.1:<port>`": a loopback `http` URI with a port,
/// any path (`localhost` and `[::1]` too, as Google accepts them for desktop clients).
fn loopback(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let Some((host, port)) = authority.rsplit_once(':') else {
        return false;
    };
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
        && !port.is_empty()
        && port.parse::<u16>().is_ok()
}

fn encode(value: &str) -> String {
    utf8_percent_encode(value, NON_ALPHANUMERIC).to_string()
}

/// `GET /o/oauth2/v2/auth`: checks client, loopback redirect, `response_type=code`, S256
/// challenge, the calendar scope and `state`, then 302s back with `code` and `state`
/// (`error=access_denied` with `deny_consent`). Requests that fail a check get a 400/401 JSON
/// error here instead of a redirect, as Google shows its error page instead of redirecting.
pub(crate) fn authorize(st: &mut State, req: &ApiRequest<'_>) -> Reply {
    let q = &req.query;
    let client_id = q.get("client_id").unwrap_or_default();
    if !st.clients.contains_key(client_id) {
        return oauth_error(401, "invalid_client", "The OAuth client was not found.");
    }
    let redirect = q.get("redirect_uri").unwrap_or_default();
    if !loopback(redirect) {
        return oauth_error(
            400,
            "redirect_uri_mismatch",
            "The redirect URI must be a loopback address with a port.",
        );
    }
    if q.get("response_type") != Some("code") {
        return oauth_error(
            400,
            "unsupported_response_type",
            "Only response_type=code is supported.",
        );
    }
    let challenge = q.get("code_challenge").unwrap_or_default();
    if q.get("code_challenge_method") != Some("S256") || !(43..=128).contains(&challenge.len()) {
        return oauth_error(
            400,
            "invalid_request",
            "A code_challenge with code_challenge_method=S256 is required.",
        );
    }
    let scope = q.get("scope").unwrap_or_default();
    if !scope.split_whitespace().any(|s| s == CALENDAR_SCOPE) {
        return oauth_error(400, "invalid_scope", "The calendar scope is required.");
    }
    let Some(state) = q.get("state") else {
        return oauth_error(400, "invalid_request", "Missing state.");
    };
    let sep = if redirect.contains('?') { '&' } else { '?' };
    if st.switches.deny_consent {
        return Reply::empty(302).with(
            "location",
            format!("{redirect}{sep}error=access_denied&state={}", encode(state)),
        );
    }
    // PROTOCOLS.md §2 "Without `prompt=consent` only the first consent yields a `refresh_token`".
    let first = st.consented.insert(client_id.to_string());
    let offline = q.get("access_type") == Some("offline");
    let prompt_consent = q
        .get("prompt")
        .is_some_and(|p| p.split_whitespace().any(|x| x == "consent"));
    let code = st.new_secret("4/emu-");
    let issued = st.now();
    st.codes.insert(
        code.clone(),
        AuthCode {
            client_id: client_id.to_string(),
            redirect_uri: redirect.to_string(),
            challenge: challenge.to_string(),
            scope: scope.to_string(),
            refresh: offline && (first || prompt_consent),
            issued,
        },
    );
    Reply::empty(302).with(
        "location",
        format!(
            "{redirect}{sep}state={}&code={}&scope={}",
            encode(state),
            encode(&code),
            encode(scope)
        ),
    )
}

/// `POST /token` (form-encoded): `authorization_code` (code single use and fresh, same
/// `redirect_uri`, client secret, S256 of `code_verifier` equal to the challenge) and
/// `refresh_token` grants.
pub(crate) fn token(st: &mut State, req: &ApiRequest<'_>) -> Reply {
    let form = Query::parse(std::str::from_utf8(req.body).unwrap_or_default());
    let client_id = form.get("client_id").unwrap_or_default();
    let Some(secret) = st.clients.get(client_id) else {
        return oauth_error(401, "invalid_client", "The OAuth client was not found.");
    };
    if form.get("client_secret") != Some(secret.as_str()) {
        return oauth_error(401, "invalid_client", "Unauthorized");
    }
    match form.get("grant_type").unwrap_or_default() {
        "authorization_code" => exchange_code(st, &form, client_id),
        "refresh_token" => refresh(st, &form, client_id),
        other => oauth_error(
            400,
            "unsupported_grant_type",
            &format!("Invalid grant_type: {other}"),
        ),
    }
}

fn exchange_code(st: &mut State, form: &Query, client_id: &str) -> Reply {
    // Single use: a code is gone once presented, whatever the outcome.
    let Some(code) = form.get("code").and_then(|c| st.codes.remove(c)) else {
        return oauth_error(400, "invalid_grant", "Malformed auth code.");
    };
    if code.client_id != client_id || st.now() - code.issued > CODE_LIFETIME_SECS {
        return oauth_error(400, "invalid_grant", "Bad Request");
    }
    if form.get("redirect_uri") != Some(code.redirect_uri.as_str()) {
        return oauth_error(400, "redirect_uri_mismatch", "Bad Request");
    }
    let Some(verifier) = form.get("code_verifier") else {
        return oauth_error(400, "invalid_grant", "Missing code verifier.");
    };
    if s256_challenge(verifier) != code.challenge {
        return oauth_error(400, "invalid_grant", "Invalid code verifier.");
    }
    let (access, refresh) = st.issue_tokens(client_id, &code.scope, code.refresh);
    token_reply(
        &access,
        code.refresh.then_some(refresh.as_str()),
        &code.scope,
    )
}

fn refresh(st: &mut State, form: &Query, client_id: &str) -> Reply {
    let now = st.now();
    let token = form.get("refresh_token").unwrap_or_default();
    let Some(grant) = st
        .refresh_tokens
        .get(token)
        .filter(|g| g.client_id == client_id)
        .cloned()
    else {
        return expired_or_revoked();
    };
    let dead = st.switches.invalid_grant
        || (st.switches.testing_expiry && now - grant.issued > TESTING_LIFETIME_SECS)
        || now - grant.last_used > UNUSED_LIFETIME_SECS;
    if dead {
        return expired_or_revoked();
    }
    if let Some(g) = st.refresh_tokens.get_mut(token) {
        g.last_used = now;
    }
    let (access, _) = st.issue_tokens(client_id, &grant.scope, false);
    token_reply(&access, None, &grant.scope)
}

/// PROTOCOLS.md brief: `{"access_token","expires_in":3599,"refresh_token"?,"scope",
/// "token_type":"Bearer"}`.
fn token_reply(access: &str, refresh: Option<&str>, scope: &str) -> Reply {
    let mut body = Map::new();
    body.insert("access_token".into(), json!(access));
    body.insert("expires_in".into(), json!(3599));
    if let Some(r) = refresh {
        body.insert("refresh_token".into(), json!(r));
    }
    body.insert("scope".into(), json!(scope));
    body.insert("token_type".into(), json!("Bearer"));
    Reply::json(200, &Value::Object(body)).with(
        "cache-control",
        "no-cache, no-store, max-age=0, must-revalidate",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_redirects_with_a_port_pass() {
        assert!(loopback("http://127.0.0.1:8080"));
        assert!(loopback("http://localhost:53682/callback?x=1"));
        assert!(loopback("http://[::1]:9000/"));
        assert!(!loopback("https://127.0.0.1:8080"));
        assert!(!loopback("http://127.0.0.1"));
        assert!(!loopback("http://evil.example:80/"));
        assert!(!loopback("http://127.0.0.1.evil.example:80/"));
    }
}
