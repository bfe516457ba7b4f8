//! Microsoft Graph calendars (v1.0): sign-in by device code ([`auth`]), the API client
//! ([`api`]), delta rounds over a window ([`rounds`]), series assembled from masters and
//! instances ([`series`]) and etag-guarded writes ([`write`]). The base URLs come from the
//! config, so the same code runs against Microsoft and against the emulator. PROTOCOLS.md §3.

pub mod api;
pub mod auth;
mod masters;
pub mod rounds;
pub mod series;
pub mod write;

use std::path::Path;

pub use api::Graph;
pub use rounds::sync_graph;

use crate::config::AccountConfig;
use crate::sync::SyncError;

pub const API_URL: &str = "https://graph.microsoft.com/v1.0/";
pub const LOGIN_URL: &str = "https://login.microsoftonline.com/";
/// PROTOCOLS.md §3 "OAuth": `tenant` defaults to `common`.
pub const DEFAULT_TENANT: &str = "common";

/// The account's public client and sign-in service from its config.
pub fn client_for(acc: &AccountConfig) -> Result<auth::DeviceClient, SyncError> {
    let client_id = acc.client_id.clone().ok_or_else(|| {
        SyncError::Config(format!(
            "account '{}': a graph account needs client_id (an app registered in Microsoft Entra as a public client; see the README)",
            acc.name
        ))
    })?;
    let tenant = acc
        .tenant
        .clone()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_TENANT.to_string());
    if !tenant
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
    {
        return Err(SyncError::Config(format!(
            "account '{}': tenant '{tenant}' is not common, organizations, consumers, a tenant id or a domain",
            acc.name
        )));
    }
    Ok(auth::DeviceClient {
        client_id,
        tenant,
        login_url: crate::sync::accounts::http_url(acc, &acc.login_url, LOGIN_URL, "login_url")?,
    })
}

/// The client for a Graph account whose tokens live under `data_dir`.
pub fn graph_for(acc: &AccountConfig, data_dir: &Path) -> Result<Graph, SyncError> {
    let client = client_for(acc)?;
    let api = crate::sync::accounts::http_url(acc, &acc.api_url, API_URL, "api_url")?;
    Graph::new(
        &acc.name,
        api,
        client,
        crate::sync::google::auth::token_path(data_dir, &acc.name),
        acc.window.unwrap_or_default(),
    )
}
