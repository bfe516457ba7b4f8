//! Google Calendar API v3: sign-in ([`auth`]), the API client ([`api`]), rounds by sync token
//! ([`rounds`]), series groups ([`groups`]) and etag-guarded writes ([`write`]). The base URLs
//! come from the config, so the same code runs against Google and against the emulator.

pub mod api;
pub mod auth;
pub mod groups;
pub mod rounds;
pub mod write;

use std::path::Path;

use reqwest::Url;

pub use api::Google;
pub use rounds::sync_google;

use crate::config::AccountConfig;
use crate::sync::SyncError;

pub const API_URL: &str = "https://www.googleapis.com/calendar/v3/";
pub const AUTH_URL: &str = "https://accounts.google.com/o/oauth2/v2/auth";
pub const TOKEN_URL: &str = "https://oauth2.googleapis.com/token";

/// The account's OAuth client from its config: `client_id`, `client_secret` and the endpoints.
pub fn oauth_for(acc: &AccountConfig) -> Result<auth::OAuthClient, SyncError> {
    let config = |what: &str| SyncError::Config(format!("account '{}': {what}", acc.name));
    let client_id = acc.client_id.clone().ok_or_else(|| {
        config("a google account needs client_id (your Desktop OAuth client; see the README)")
    })?;
    let client_secret = match &acc.client_secret {
        Some(secret) => secret.resolve().map_err(|e| config(&e))?,
        None => {
            return Err(config(
                "a google account needs client_secret = { value = \"…\" } (or command, env)",
            ));
        }
    };
    let url = |given: &Option<String>, default: &str, key: &str| {
        let raw = given.as_deref().unwrap_or(default);
        Url::parse(raw)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| config(&format!("{key} is not an http(s) URL: {raw}")))
    };
    Ok(auth::OAuthClient {
        client_id,
        client_secret,
        auth_url: url(&acc.auth_url, AUTH_URL, "auth_url")?,
        token_url: url(&acc.token_url, TOKEN_URL, "token_url")?,
    })
}

/// The client for a Google account whose tokens live under `data_dir`.
pub fn google_for(acc: &AccountConfig, data_dir: &Path) -> Result<Google, SyncError> {
    let oauth = oauth_for(acc)?;
    let api = crate::sync::accounts::http_url(acc, &acc.api_url, API_URL, "api_url")?;
    Google::new(&acc.name, api, oauth, auth::token_path(data_dir, &acc.name))
}
