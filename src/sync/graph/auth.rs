//! Signing in to Microsoft by the device code flow (RFC 8628; PROTOCOLS.md §3 "OAuth"), and
//! keeping the tokens: refresh tokens rotate on every use, so each new one is stored (0600, one
//! rename) before its access token is used.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;

use crate::sync::google::auth::{Tokens, save};
use crate::sync::http::{Http, HttpError, Request};

/// PROTOCOLS.md §3 "OAuth": `scope=Calendars.ReadWrite offline_access` (no `offline_access`, no
/// refresh token).
pub const SCOPE: &str = "Calendars.ReadWrite offline_access";
/// RFC 8628 §3.5: `slow_down` adds 5 seconds to the interval, for this and every later poll.
const SLOW_DOWN_SECS: u64 = 5;
/// The interval when the reply names none (RFC 8628 §3.2: 5 s).
const DEFAULT_INTERVAL_SECS: u64 = 5;

/// An account's public client and where it signs in: `{login_url}/{tenant}/oauth2/v2.0/…`.
#[derive(Clone)]
pub struct DeviceClient {
    pub client_id: String,
    pub tenant: String,
    pub login_url: Url,
}

impl std::fmt::Debug for DeviceClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceClient")
            .field("client_id", &self.client_id)
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl DeviceClient {
    /// `…/{tenant}/oauth2/v2.0/{leaf}` under the sign-in base.
    pub fn endpoint(&self, leaf: &str) -> Url {
        let mut url = self.login_url.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            path.extend([self.tenant.as_str(), "oauth2", "v2.0", leaf]);
        }
        url
    }

    /// A client for the sign-in service.
    pub fn http(&self) -> Result<Http, HttpError> {
        Http::new(&self.login_url, None, None, Duration::from_secs(30))
    }
}

/// Why a sign-in or a refresh failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The refresh token is dead (revoked, expired, rotated away): only a new sign-in helps.
    #[error("Microsoft no longer accepts this account's sign-in ({0})")]
    InvalidGrant(String),
    /// The person said no, or the code ran out: a new code is needed.
    #[error("{0}")]
    Stopped(String),
    #[error("Microsoft refused the sign-in: {0}")]
    Refused(String),
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("cannot keep the tokens: {0}")]
    Storage(String),
}

/// The token endpoint's reply, success or error (RFC 6749 §5, RFC 8628 §3.5).
#[derive(Debug, Default, Deserialize)]
struct Reply {
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<i64>,
    error: Option<String>,
    error_description: Option<String>,
    // The device authorization reply (RFC 8628 §3.2).
    device_code: Option<String>,
    user_code: Option<String>,
    verification_uri: Option<String>,
    interval: Option<u64>,
}

/// What the person needs to approve the sign-in on another device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCode {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub expires_in: u64,
    pub interval: u64,
}

async fn post_form(http: &Http, url: Url, form: &[(&str, &str)]) -> Result<Reply, AuthError> {
    let body = {
        let mut body = form_urlencoded::Serializer::new(String::new());
        for (k, v) in form {
            body.append_pair(k, v);
        }
        body.finish()
    };
    let mut req =
        Request::new("POST", url).header("content-type", "application/x-www-form-urlencoded");
    req.body = Some(body);
    let resp = match http.send(req).await {
        Ok(resp) => resp,
        Err(HttpError::Unauthorized) => {
            return Err(AuthError::Refused(
                "the client_id is not accepted (invalid_client)".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    serde_json::from_slice(&resp.body).map_err(|_| {
        AuthError::Refused(format!(
            "the sign-in service answered {} with no readable JSON",
            resp.status.as_u16()
        ))
    })
}

fn words(reply: &Reply) -> String {
    let error = reply.error.as_deref().unwrap_or_default();
    // Entra's descriptions run to several lines with trace ids: the first line says it.
    let description = reply
        .error_description
        .as_deref()
        .and_then(|d| d.lines().next())
        .unwrap_or_default();
    crate::domain::text::sanitize(&format!("{error}: {description}"))
        .chars()
        .take(300)
        .collect()
}

/// Asks for a device code (RFC 8628 §3.1).
pub async fn device_code(http: &Http, client: &DeviceClient) -> Result<DeviceCode, AuthError> {
    let reply = post_form(
        http,
        client.endpoint("devicecode"),
        &[("client_id", &client.client_id), ("scope", SCOPE)],
    )
    .await?;
    if reply.error.is_some() {
        return Err(AuthError::Refused(words(&reply)));
    }
    match (reply.device_code, reply.user_code, reply.verification_uri) {
        (Some(device_code), Some(user_code), Some(verification_uri)) => Ok(DeviceCode {
            device_code,
            user_code: crate::domain::text::sanitize(&user_code),
            verification_uri: crate::domain::text::sanitize(&verification_uri),
            expires_in: reply.expires_in.unwrap_or(900).clamp(1, 3600) as u64,
            interval: reply.interval.unwrap_or(DEFAULT_INTERVAL_SECS).min(60),
        }),
        _ => Err(AuthError::Refused(
            "the device code reply lacks device_code, user_code or verification_uri".into(),
        )),
    }
}

/// Polls the token endpoint until the person approves, declines, or the code expires
/// (RFC 8628 §3.4–3.5; PROTOCOLS.md §3 "OAuth").
pub async fn wait_for_tokens(
    http: &Http,
    client: &DeviceClient,
    code: &DeviceCode,
) -> Result<Tokens, AuthError> {
    let mut interval = code.interval;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(code.expires_in);
    loop {
        tokio::time::sleep(Duration::from_secs(interval)).await;
        let reply = post_form(
            http,
            client.endpoint("token"),
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("client_id", &client.client_id),
                ("device_code", &code.device_code),
            ],
        )
        .await?;
        match reply.error.as_deref() {
            None => return tokens_of(reply, None),
            Some("authorization_pending") => {}
            Some("slow_down") => interval += SLOW_DOWN_SECS,
            Some("authorization_declined" | "access_denied") => {
                return Err(AuthError::Stopped(
                    "the sign-in was declined; run `almanac login` again for a new code".into(),
                ));
            }
            Some("expired_token" | "bad_verification_code") => {
                return Err(AuthError::Stopped(format!(
                    "the code is no longer valid ({}); run `almanac login` again for a new one",
                    words(&reply)
                )));
            }
            Some(_) => return Err(AuthError::Refused(words(&reply))),
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(AuthError::Stopped(
                "the code expired before it was approved; run `almanac login` again for a new one"
                    .into(),
            ));
        }
    }
}

fn tokens_of(reply: Reply, old_refresh: Option<&str>) -> Result<Tokens, AuthError> {
    let now = chrono::Utc::now().timestamp();
    let access_token = reply
        .access_token
        .ok_or_else(|| AuthError::Refused("the token reply holds no access token".into()))?;
    let refresh_token = reply
        .refresh_token
        .or_else(|| old_refresh.map(str::to_string))
        .ok_or_else(|| {
            AuthError::Refused(
                "Microsoft gave no refresh token (the offline_access permission is missing)".into(),
            )
        })?;
    Ok(Tokens {
        access_token,
        expires_at: now + reply.expires_in.unwrap_or(3600).clamp(60, 86_400),
        refresh_token,
    })
}

/// A new access token, and the refresh token that replaces the one used (stored at `path`
/// before it is returned: the old one may already be dead).
pub async fn refresh(
    http: &Http,
    client: &DeviceClient,
    tokens: &Tokens,
    path: &Path,
) -> Result<Tokens, AuthError> {
    let reply = post_form(
        http,
        client.endpoint("token"),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &client.client_id),
            ("refresh_token", &tokens.refresh_token),
            ("scope", SCOPE),
        ],
    )
    .await?;
    match reply.error.as_deref() {
        None => {
            let fresh = tokens_of(reply, Some(&tokens.refresh_token))?;
            save(path, &fresh).map_err(|e| AuthError::Storage(e.to_string()))?;
            Ok(fresh)
        }
        Some("invalid_grant" | "interaction_required" | "consent_required") => {
            Err(AuthError::InvalidGrant(words(&reply)))
        }
        Some(_) => Err(AuthError::Refused(words(&reply))),
    }
}

/// `almanac login` for a Graph account: prints the code and the address (`code: XXXX`,
/// `url: https://…`, one per line), waits for the approval, stores the tokens at `path`.
pub async fn login(
    client: &DeviceClient,
    path: &Path,
    out: &mut (dyn Write + Send),
) -> Result<(), AuthError> {
    let http = client.http()?;
    let code = device_code(&http, client).await?;
    let _ = writeln!(
        out,
        "On any device, open the address below and enter the code (it works over SSH):"
    );
    let _ = writeln!(out, "code: {}", code.user_code);
    let _ = writeln!(out, "url: {}", code.verification_uri);
    let _ = writeln!(
        out,
        "Waiting for the approval (the code is valid for {} minutes)…",
        code.expires_in.div_ceil(60)
    );
    let _ = out.flush();
    let tokens = wait_for_tokens(&http, client, &code).await?;
    save(path, &tokens).map_err(|e| AuthError::Storage(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_sit_under_the_tenant() {
        let client = DeviceClient {
            client_id: "c".into(),
            tenant: "organizations".into(),
            login_url: Url::parse("https://login.microsoftonline.com/").unwrap(),
        };
        assert_eq!(
            client.endpoint("devicecode").as_str(),
            "https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode"
        );
        let local = DeviceClient {
            login_url: Url::parse("http://127.0.0.1:9/base").unwrap(),
            ..client
        };
        assert_eq!(
            local.endpoint("token").as_str(),
            "http://127.0.0.1:9/base/organizations/oauth2/v2.0/token"
        );
    }

    #[test]
    fn a_rotated_refresh_token_replaces_the_old_and_a_missing_one_keeps_it() {
        let reply = |r: Option<&str>| Reply {
            access_token: Some("a".into()),
            refresh_token: r.map(str::to_string),
            expires_in: Some(3600),
            ..Reply::default()
        };
        assert_eq!(
            tokens_of(reply(Some("new")), Some("old"))
                .unwrap()
                .refresh_token,
            "new"
        );
        assert_eq!(
            tokens_of(reply(None), Some("old")).unwrap().refresh_token,
            "old"
        );
        assert!(matches!(
            tokens_of(reply(None), None),
            Err(AuthError::Refused(_))
        ));
    }
}
