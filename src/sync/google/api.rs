//! The Google Calendar API v3 client: every request carries a fresh bearer token (refreshed
//! before expiry and once on a 401), usage limits back off with jitter, and Google's error JSON is
//! turned into errors that say what happened. PROTOCOLS.md §2.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;
use serde_json::Value;

use super::auth::{self, AuthError, OAuthClient, Tokens};
use crate::sync::SyncError;
use crate::sync::http::{Http, HttpError, Request, Response};

/// Tries of a request that met a usage limit (PROTOCOLS.md §2 "Errors, quotas": truncated
/// exponential backoff with jitter, at most 6 tries).
const RATE_TRIES: u32 = 6;
/// How long an account rests after `quotaExceeded` (not cured by backoff: "pause for hours").
const QUOTA_PAUSE_SECS: i64 = 3 * 3600;
/// Longest a single request may take, the reply included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// One Google account's API client. Clones share the tokens.
#[derive(Clone)]
pub struct Google {
    pub http: Http,
    api: Url,
    token_http: Http,
    oauth: OAuthClient,
    tokens_path: PathBuf,
    account: String,
    tokens: Arc<tokio::sync::Mutex<Option<Tokens>>>,
    /// Milliseconds of the first backoff step (tests make it short).
    pub backoff_ms: u64,
}

impl std::fmt::Debug for Google {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Google")
            .field("api", &self.api.as_str())
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

/// What Google's error JSON says (`{"error":{"errors":[{"domain","reason","message"}],…}}`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub reason: String,
    pub message: String,
}

impl ApiError {
    /// Reads Google's error body; anything else keeps only the status.
    pub fn of(resp: &Response) -> ApiError {
        #[derive(Deserialize)]
        struct Body {
            error: Option<Inner>,
        }
        #[derive(Deserialize)]
        struct Inner {
            #[serde(default)]
            errors: Vec<Detail>,
            message: Option<String>,
        }
        #[derive(Deserialize)]
        struct Detail {
            reason: Option<String>,
            message: Option<String>,
        }
        let mut out = ApiError {
            status: resp.status.as_u16(),
            ..ApiError::default()
        };
        if let Ok(Body { error: Some(inner) }) = serde_json::from_slice::<Body>(&resp.body) {
            let first = inner.errors.into_iter().next();
            out.reason = first
                .as_ref()
                .and_then(|d| d.reason.clone())
                .unwrap_or_default();
            out.message = first
                .and_then(|d| d.message)
                .or(inner.message)
                .unwrap_or_default();
        }
        out.message = crate::domain::text::sanitize(&out.message)
            .chars()
            .take(200)
            .collect();
        out
    }

    /// In the person's words.
    pub fn words(&self) -> String {
        match (self.reason.is_empty(), self.message.is_empty()) {
            (true, true) => format!("Google answered {}", self.status),
            (false, true) => format!("Google answered {} ({})", self.status, self.reason),
            (_, false) => format!("Google answered {}: {}", self.status, self.message),
        }
    }
}

impl Google {
    /// A client for `api` (the API base, ending in `/`), signing in through `oauth`, with the
    /// tokens kept at `tokens_path`.
    pub fn new(
        account: &str,
        api: Url,
        oauth: OAuthClient,
        tokens_path: PathBuf,
    ) -> Result<Google, SyncError> {
        let http = Http::new(&api, None, None, REQUEST_TIMEOUT)?;
        let mut token_http = auth::token_http(&oauth).map_err(auth_error(account))?;
        // A token refresh is one of the round's requests too.
        token_http.counters = http.counters.clone();
        Ok(Google {
            http,
            api,
            token_http,
            oauth,
            tokens_path,
            account: account.to_string(),
            tokens: Arc::new(tokio::sync::Mutex::new(None)),
            backoff_ms: 1000,
        })
    }

    /// The API base as configured.
    pub fn api_base(&self) -> &str {
        self.api.as_str()
    }

    /// The URL of `path` (segments percent-encoded by the caller) under the API base.
    pub fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.api.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            for s in segments {
                path.push(s);
            }
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// A valid access token: read from the file on first use (and after a failed sign-in, so a
    /// `login` meanwhile is noticed), refreshed when near its expiry or when `force`d.
    async fn access_token(&self, force: bool) -> Result<String, SyncError> {
        let mut held = self.tokens.lock().await;
        if held.is_none() {
            *held = auth::load(&self.tokens_path).map_err(auth_error(&self.account))?;
        }
        let Some(tokens) = held.clone() else {
            return Err(auth_error(&self.account)(AuthError::NeverSignedIn(
                self.account.clone(),
            )));
        };
        let now = chrono::Utc::now().timestamp();
        if !force && !tokens.stale(now) {
            return Ok(tokens.access_token);
        }
        match auth::refresh(&self.token_http, &self.oauth, &tokens, now).await {
            Ok(fresh) => {
                auth::save(&self.tokens_path, &fresh).map_err(auth_error(&self.account))?;
                let token = fresh.access_token.clone();
                *held = Some(fresh);
                Ok(token)
            }
            Err(e) => {
                // Read the file again next time: a sign-in in another terminal replaces it.
                *held = None;
                Err(auth_error(&self.account)(e))
            }
        }
    }

    /// Sends `req` with the bearer token: refreshed once on a 401, backed off on usage limits.
    pub async fn send(&self, req: Request) -> Result<Response, SyncError> {
        let mut forced = false;
        let mut tries = 0;
        loop {
            tries += 1;
            let token = self.access_token(forced).await?;
            let sent = req
                .clone()
                .header("authorization", format!("Bearer {token}"));
            let resp = match self.http.send(sent).await {
                Ok(resp) => resp,
                Err(HttpError::Unauthorized) if !forced => {
                    forced = true;
                    continue;
                }
                Err(HttpError::Unauthorized) => {
                    return Err(SyncError::Protocol(
                        "Google refused a freshly refreshed token (401)".into(),
                    ));
                }
                Err(e) => return Err(e.into()),
            };
            let status = resp.status.as_u16();
            if status != 403 && status != 429 {
                return Ok(resp);
            }
            let error = ApiError::of(&resp);
            match error.reason.as_str() {
                "quotaExceeded" => {
                    return Err(SyncError::Paused {
                        message: "Google's calendar usage limits are exceeded for this account \
                                  (quotaExceeded): it rests for three hours"
                            .into(),
                        until: chrono::Utc::now().timestamp() + QUOTA_PAUSE_SECS,
                    });
                }
                "userRateLimitExceeded" | "rateLimitExceeded" if tries < RATE_TRIES => {
                    tokio::time::sleep(self.backoff(tries)).await;
                }
                "userRateLimitExceeded" | "rateLimitExceeded" => {
                    return Err(SyncError::Paused {
                        message: format!(
                            "Google keeps limiting the request rate ({}): the next run tries again",
                            error.reason
                        ),
                        until: chrono::Utc::now().timestamp() + 60,
                    });
                }
                // Another 403 (forbidden, forbiddenForNonOrganizer …) is the caller's to read.
                _ => return Ok(resp),
            }
        }
    }

    /// Truncated exponential backoff with full jitter: up to `backoff_ms · 2^(try-1)`, capped at
    /// 32 s.
    fn backoff(&self, tries: u32) -> Duration {
        let cap = (self.backoff_ms.saturating_mul(1 << (tries - 1).min(5))).min(32_000);
        let r = u64::from_le_bytes(auth::random_bytes::<8>());
        Duration::from_millis(cap / 2 + r % (cap / 2 + 1))
    }

    /// GETs JSON from `url`.
    pub async fn get_json(&self, url: Url) -> Result<(u16, Value, Response), SyncError> {
        let resp = self.send(Request::new("GET", url)).await?;
        let value = if resp.status.is_success() {
            serde_json::from_slice(&resp.body).map_err(|e| {
                SyncError::Protocol(format!("Google sent a reply that is not JSON: {e}"))
            })?
        } else {
            Value::Null
        };
        Ok((resp.status.as_u16(), value, resp))
    }
}

/// Turns an authorisation failure into the account's error, naming the command that cures it.
pub fn auth_error(account: &str) -> impl Fn(AuthError) -> SyncError + '_ {
    move |e| match e {
        AuthError::InvalidGrant(words, _) => SyncError::SignIn(format!(
            "Google no longer accepts this account's sign-in ({}): sign in again: almanac login {account}",
            if words.is_empty() {
                "invalid_grant".into()
            } else {
                words
            }
        )),
        AuthError::NeverSignedIn(_) => SyncError::SignIn(format!(
            "this account has not signed in yet: almanac login {account}"
        )),
        AuthError::Http(h) => SyncError::from(h),
        other => SyncError::Protocol(other.to_string()),
    }
}
