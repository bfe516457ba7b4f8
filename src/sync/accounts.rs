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
    let mut url = Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| {
            SyncError::Config(format!(
                "account '{}': its url is not an http(s) URL",
                acc.name
            ))
        })?;
    // Credentials written into the URL move to Basic auth, so the URL itself (stored, shown in
    // messages and logs) never carries them.
    let in_url = (!url.username().is_empty() || url.password().is_some()).then(|| {
        let user = percent_decode(url.username());
        let password = url.password().map(percent_decode).unwrap_or_default();
        (user, password)
    });
    let _ = url.set_username("");
    let _ = url.set_password(None);
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
        (None, None) => in_url,
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

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_the_url_move_to_basic_auth_and_leave_the_url() {
        let acc = AccountConfig {
            name: "a".into(),
            kind: AccountKind::Caldav,
            url: Some("https://alice:s%40cret@dav.example.org/dav/".into()),
            username: None,
            password: None,
            sync_every: None,
            client_id: None,
            ca_file: None,
        };
        let dav = caldav_for(&acc).unwrap();
        assert_eq!(dav.http.origin().as_str(), "https://dav.example.org/dav/");
        assert!(!format!("{:?}", dav.http).contains("s@cret"));
        assert_eq!(percent_decode("s%40cret%zz"), "s@cret%zz");
    }
}
