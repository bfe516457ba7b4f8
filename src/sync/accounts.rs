//! From configured accounts to running remotes.

use std::time::Duration;

use reqwest::Url;
use tokio::sync::mpsc::UnboundedSender;

use super::caldav::CalDav;
use super::engine::{AccountReport, SyncOptions, sync_caldav};
use super::http::Http;
use super::{SyncError, SyncEvent};
use crate::config::{AccountConfig, AccountKind};
use crate::store::Store;

/// Longest a single request may take, the reply included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The CalDAV client for an account: its URL, Basic credentials and any extra trusted CA.
pub fn caldav_for(acc: &AccountConfig) -> Result<CalDav, SyncError> {
    let raw = acc
        .url
        .as_deref()
        .ok_or_else(|| SyncError::Config(format!("account '{}' has no url", acc.name)))?;
    let url = Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| {
            SyncError::Config(format!(
                "account '{}': url '{raw}' is not an http(s) URL",
                acc.name
            ))
        })?;
    let password = match &acc.password {
        Some(secret) => Some(
            secret
                .resolve()
                .map_err(|e| SyncError::Config(format!("account '{}': {e}", acc.name)))?,
        ),
        None => None,
    };
    let credentials = match (&acc.username, password) {
        (Some(u), p) => Some((u.clone(), p.unwrap_or_default())),
        (None, Some(p)) => Some((String::new(), p)),
        (None, None) => None,
    };
    let ca = match &acc.ca_file {
        Some(path) => Some(std::fs::read(path).map_err(|e| {
            SyncError::Config(format!(
                "account '{}': cannot read ca_file {}: {e}",
                acc.name,
                path.display()
            ))
        })?),
        None => None,
    };
    let http = Http::new(&url, credentials, ca.as_deref(), REQUEST_TIMEOUT)?;
    Ok(CalDav::new(http))
}

/// One round over every account (or the one holding `opts.calendar`).
pub async fn sync_accounts(
    store: &mut Store,
    accounts: &[AccountConfig],
    opts: &SyncOptions,
    events: Option<&UnboundedSender<SyncEvent>>,
) -> Vec<AccountReport> {
    let mut out = Vec::new();
    for acc in accounts {
        let report = match acc.kind {
            AccountKind::Caldav => match caldav_for(acc) {
                Ok(dav) => sync_caldav(store, &acc.name, &dav, opts, events).await,
                Err(e) => failed(acc, e.to_string()),
            },
            other => failed(
                acc,
                format!("{other:?} accounts are not supported by this build yet").to_lowercase(),
            ),
        };
        out.push(report);
    }
    out
}

fn failed(acc: &AccountConfig, message: String) -> AccountReport {
    AccountReport {
        account: acc.name.clone(),
        error: Some(message),
        ..AccountReport::default()
    }
}
