//! The Microsoft Graph client: a fresh bearer token on every request (refreshed before expiry and
//! once on a 401, each rotated refresh token stored first), the `Prefer` header §3 requires on
//! every request (links included), at most four requests in flight per mailbox, and Graph's
//! error JSON read into errors that say what happened. PROTOCOLS.md §3.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use serde_json::Value;
use tokio::sync::{Mutex, Semaphore};

use super::auth::{self, AuthError, DeviceClient};
use crate::sync::SyncError;
use crate::sync::google::auth::{Tokens, load};
use crate::sync::http::{Http, HttpError, Request, Response};

/// PROTOCOLS.md §3 "Errors, throttling": 4 concurrent requests per app id + mailbox.
pub const MAX_IN_FLIGHT: usize = 4;
/// Items per page asked with `odata.maxpagesize` (PROTOCOLS.md §3 "Requests").
pub const PAGE_SIZE: usize = 100;
/// Longest a single request may take, the reply included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// One Graph account's client. Clones share the tokens and the in-flight limit.
#[derive(Clone)]
pub struct Graph {
    pub http: Http,
    api: Url,
    login_http: Http,
    client: DeviceClient,
    tokens_path: PathBuf,
    account: String,
    tokens: Arc<Mutex<Option<Tokens>>>,
    gate: Arc<Semaphore>,
    /// The window, in days before and after today.
    pub window: crate::config::Window,
}

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Graph")
            .field("api", &self.api.as_str())
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

/// What Graph's error JSON says (`{"error":{"code","message","innerError"}}`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl ApiError {
    /// Reads Graph's error body; anything else keeps only the status.
    pub fn of(resp: &Response) -> ApiError {
        let body: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        let text = |k: &str| {
            body["error"][k]
                .as_str()
                .map(|s| {
                    crate::domain::text::sanitize(s)
                        .chars()
                        .take(200)
                        .collect::<String>()
                })
                .unwrap_or_default()
        };
        ApiError {
            status: resp.status.as_u16(),
            code: text("code"),
            message: text("message"),
        }
    }

    /// Whether the code is `code` (PROTOCOLS.md §3: compare codes case-insensitively).
    pub fn is(&self, code: &str) -> bool {
        self.code.eq_ignore_ascii_case(code)
    }

    /// In the person's words.
    pub fn words(&self) -> String {
        match (self.code.is_empty(), self.message.is_empty()) {
            (true, true) => format!("Microsoft Graph answered {}", self.status),
            (false, true) => format!("Microsoft Graph answered {} ({})", self.status, self.code),
            (_, false) => format!(
                "Microsoft Graph answered {} {}: {}",
                self.status, self.code, self.message
            ),
        }
    }
}

/// The `Prefer` header of every request: page size, UTC times, text bodies, immutable ids
/// (PROTOCOLS.md §3 "Requests"; one header, comma-separated).
pub fn prefer(page_size: usize) -> String {
    format!(
        "odata.maxpagesize={page_size}, outlook.timezone=\"UTC\", outlook.body-content-type=\"text\", IdType=\"ImmutableId\""
    )
}

impl Graph {
    /// A client for `api` (the API base, e.g. `https://graph.microsoft.com/v1.0/`), signing in
    /// through `client`, with the tokens kept at `tokens_path`.
    pub fn new(
        account: &str,
        api: Url,
        client: DeviceClient,
        tokens_path: PathBuf,
        window: crate::config::Window,
    ) -> Result<Graph, SyncError> {
        let http = Http::new(&api, None, None, REQUEST_TIMEOUT)?;
        let mut login_http = client.http()?;
        // A token refresh is one of the round's requests too.
        login_http.counters = http.counters.clone();
        Ok(Graph {
            http,
            api,
            login_http,
            client,
            tokens_path,
            account: account.to_string(),
            tokens: Arc::new(Mutex::new(None)),
            gate: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            window,
        })
    }

    /// The API base as configured.
    pub fn api_base(&self) -> &str {
        self.api.as_str()
    }

    /// The URL of `segments` (each percent-encoded here) under the API base.
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

    /// A link the server gave (`@odata.nextLink`, `@odata.deltaLink`), used verbatim; one on
    /// another origin than the API's is refused (credentials never go elsewhere).
    pub fn link(&self, link: &str) -> Result<Url, SyncError> {
        let url = Url::parse(link).map_err(|_| {
            SyncError::Protocol(format!(
                "Microsoft Graph sent a link that is not a URL: {link:.80}"
            ))
        })?;
        if !crate::sync::http::same_origin(&url, &self.api) {
            return Err(SyncError::Protocol(format!(
                "Microsoft Graph sent a link to another server ({}): not followed",
                url.origin().ascii_serialization()
            )));
        }
        Ok(url)
    }

    async fn access_token(&self, force: bool) -> Result<String, SyncError> {
        let mut held = self.tokens.lock().await;
        if held.is_none() {
            *held = load(&self.tokens_path).map_err(|e| SyncError::Protocol(e.to_string()))?;
        }
        let Some(tokens) = held.clone() else {
            return Err(SyncError::SignIn(format!(
                "this account has not signed in yet: almanac login {}",
                self.account
            )));
        };
        if !force && !tokens.stale(chrono::Utc::now().timestamp()) {
            return Ok(tokens.access_token);
        }
        match auth::refresh(&self.login_http, &self.client, &tokens, &self.tokens_path).await {
            Ok(fresh) => {
                let token = fresh.access_token.clone();
                *held = Some(fresh);
                Ok(token)
            }
            Err(e) => {
                // Read the file again next time: a sign-in in another terminal replaces it.
                *held = None;
                Err(self.auth_error(e))
            }
        }
    }

    fn auth_error(&self, e: AuthError) -> SyncError {
        match e {
            AuthError::InvalidGrant(words) => SyncError::SignIn(format!(
                "Microsoft no longer accepts this account's sign-in ({words}): sign in again: almanac login {}",
                self.account
            )),
            AuthError::Http(h) => SyncError::from(h),
            other => SyncError::Protocol(other.to_string()),
        }
    }

    /// Sends `req` with the bearer token and the `Prefer` header, at most [`MAX_IN_FLIGHT`] at
    /// once; refreshed once on a 401. 429/503 wait their `Retry-After` in the HTTP client.
    pub async fn send(&self, req: Request, page_size: usize) -> Result<Response, SyncError> {
        let _permit = self
            .gate
            .acquire()
            .await
            .map_err(|_| SyncError::Protocol("the client was closed".into()))?;
        let mut forced = false;
        loop {
            let token = self.access_token(forced).await?;
            let sent = req
                .clone()
                .header("authorization", format!("Bearer {token}"))
                .header("prefer", prefer(page_size));
            match self.http.send(sent).await {
                Ok(resp) => return Ok(resp),
                Err(HttpError::Unauthorized) if !forced => forced = true,
                Err(HttpError::Unauthorized) => {
                    return Err(SyncError::Protocol(
                        "Microsoft Graph refused a freshly refreshed token (401)".into(),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// GETs JSON from `url`: the status, the body (`Null` unless 2xx) and the reply.
    pub async fn get_json(
        &self,
        url: Url,
        page_size: usize,
    ) -> Result<(u16, Value, Response), SyncError> {
        let resp = self.send(Request::new("GET", url), page_size).await?;
        let value = if resp.status.is_success() && resp.status.as_u16() != 204 {
            serde_json::from_slice(&resp.body).map_err(|e| {
                SyncError::Protocol(format!(
                    "Microsoft Graph sent a reply that is not JSON: {e}"
                ))
            })?
        } else {
            Value::Null
        };
        Ok((resp.status.as_u16(), value, resp))
    }
}
