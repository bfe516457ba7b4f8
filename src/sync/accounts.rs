//! From configured accounts to running remotes.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use reqwest::Url;
use tokio::sync::mpsc::UnboundedSender;

use super::caldav::CalDav;
use super::engine::{AccountReport, SyncOptions, sync_caldav};
use super::google::{Google, google_for, sync_google};
use super::graph::{Graph, graph_for, sync_graph};
use super::http::Http;
use super::ics::{Subscription, subscription_for, sync_subscription};
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

/// A base URL from the config (or `default`): http(s), ending in `/` so paths join under it.
pub(crate) fn http_url(
    acc: &AccountConfig,
    given: &Option<String>,
    default: &str,
    key: &str,
) -> Result<Url, SyncError> {
    let raw = given.as_deref().unwrap_or(default);
    let mut url = Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| {
            SyncError::Config(format!(
                "account '{}': {key} is not an http(s) URL: {raw}",
                acc.name
            ))
        })?;
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// One round over every account (or the one holding `opts.calendar`), with clients made for it.
pub async fn sync_accounts(
    store: &mut Store,
    accounts: &[AccountConfig],
    opts: &SyncOptions,
    events: Option<&UnboundedSender<SyncEvent>>,
) -> Vec<AccountReport> {
    let mut remotes = Remotes::default();
    let mut out = Vec::new();
    for acc in accounts {
        out.push(remotes.sync(store, acc, opts, events).await);
    }
    out
}

/// One long-lived client per account, built on first use: the password command runs then, and
/// again only after the server refused the credentials (the password may have changed). The
/// client keeps its connection pool between runs.
#[derive(Default)]
pub struct Remotes {
    clients: HashMap<String, AccountRemote>,
}

/// An account's remote, by kind: built once, kept for the engine's life.
#[derive(Debug, Clone)]
pub enum AccountRemote {
    CalDav(CalDav),
    Ics(Subscription),
    Google(Box<Google>),
    Graph(Box<Graph>),
}

impl Remotes {
    /// One run for `acc`. A 401 drops the client; one built anew (the password asked again)
    /// tries once more at once when the credentials changed.
    pub async fn sync(
        &mut self,
        store: &mut Store,
        acc: &AccountConfig,
        opts: &SyncOptions,
        events: Option<&UnboundedSender<SyncEvent>>,
    ) -> AccountReport {
        let report = self.run(store, acc, opts, events).await;
        // The account's own line in the sync pane and `status`: shown even when it never got as
        // far as listing a calendar.
        let kind = format!("{:?}", acc.kind).to_lowercase();
        let url = acc.url.as_deref().unwrap_or_default();
        let now = chrono::Utc::now().timestamp();
        if let Err(e) = store.note_account_run(&acc.name, &kind, url, report.error.as_deref(), now)
        {
            tracing::warn!(error = %e, "cannot record the account's run");
        }
        report
    }

    async fn run(
        &mut self,
        store: &mut Store,
        acc: &AccountConfig,
        opts: &SyncOptions,
        events: Option<&UnboundedSender<SyncEvent>>,
    ) -> AccountReport {
        let data_dir = store
            .path()
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let remote = match self.remote(acc, &data_dir) {
            Ok(remote) => remote,
            Err(e) => return failed(acc, e.to_string()),
        };
        let dav = match remote {
            AccountRemote::Ics(sub) => {
                return sync_subscription(store, &acc.name, &sub, opts, events).await;
            }
            AccountRemote::Google(google) => {
                return sync_google(store, &acc.name, &google, opts, events).await;
            }
            AccountRemote::Graph(graph) => {
                return sync_graph(store, &acc.name, &graph, opts, events).await;
            }
            AccountRemote::CalDav(dav) => dav,
        };
        let report = sync_caldav(store, &acc.name, &dav, opts, events).await;
        if !report.unauthorized {
            return report;
        }
        self.clients.remove(&acc.name);
        let fresh = match self.remote(acc, &data_dir) {
            Ok(AccountRemote::CalDav(fresh)) => fresh,
            Ok(_) => return report,
            Err(e) => return failed(acc, e.to_string()),
        };
        if fresh.http.credentials() == dav.http.credentials() {
            return report;
        }
        tracing::info!(
            account = acc.name,
            "credentials changed after a 401: trying again"
        );
        sync_caldav(store, &acc.name, &fresh, opts, events).await
    }

    fn remote(&mut self, acc: &AccountConfig, data_dir: &Path) -> Result<AccountRemote, SyncError> {
        if let Some(remote) = self.clients.get(&acc.name) {
            return Ok(remote.clone());
        }
        let remote = match acc.kind {
            AccountKind::Caldav => AccountRemote::CalDav(caldav_for(acc)?),
            AccountKind::Ics => AccountRemote::Ics(subscription_for(acc)?),
            AccountKind::Google => AccountRemote::Google(Box::new(google_for(acc, data_dir)?)),
            AccountKind::Graph => AccountRemote::Graph(Box::new(graph_for(acc, data_dir)?)),
        };
        self.clients.insert(acc.name.clone(), remote.clone());
        Ok(remote)
    }
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
            ..Default::default()
        };
        let dav = caldav_for(&acc).unwrap();
        assert_eq!(dav.http.origin().as_str(), "https://dav.example.org/dav/");
        assert!(!format!("{:?}", dav.http).contains("s@cret"));
        assert_eq!(percent_decode("s%40cret%zz"), "s@cret%zz");
    }
}
