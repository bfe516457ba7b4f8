//! The engine as a background task for the TUI: runs every account at start and then every
//! `sync_every`, and on request. It owns the only writer to the cache while the TUI runs; the UI
//! hears about everything through [`SyncEvent`]s.

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::time::Instant;

use super::SyncEvent;
use super::accounts::Remotes;
use super::engine::SyncOptions;
use crate::config::AccountConfig;
use crate::store::Store;

/// Without `sync_every`, an account is synced this often.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(15 * 60);
/// An account that must sign in again is not retried on its own before this.
const SIGNED_OUT_RECHECK: Duration = Duration::from_secs(24 * 3600);
/// Without `sync_every`, a subscription is refreshed this often (feeds change seldom, and their
/// servers ask for restraint).
pub const DEFAULT_FEED_EVERY: Duration = Duration::from_secs(3600);

/// How soon edits that could not be pushed are tried again.
const RETRY_PUSH: Duration = Duration::from_secs(60);

/// What the UI asks of the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncCommand {
    /// Every account now.
    All,
    /// One calendar now.
    Calendar(i64),
    /// One calendar, ignoring tokens and ctags: a full listing reconciled by href.
    Full(i64),
}

/// Starts the engine on the current tokio runtime. Dropping the returned sender stops it after the
/// run in progress.
pub fn spawn(
    data_dir: PathBuf,
    accounts: Vec<AccountConfig>,
    events: UnboundedSender<SyncEvent>,
) -> UnboundedSender<SyncCommand> {
    let (tx, rx) = unbounded_channel();
    tokio::spawn(async move {
        match Store::open(&data_dir) {
            Ok(store) => engine_loop(store, accounts, rx, events).await,
            Err(e) => {
                let _ = events.send(SyncEvent::Failed {
                    account: String::new(),
                    calendar: None,
                    message: format!("sync cannot open the cache: {e}"),
                });
            }
        }
    });
    tx
}

async fn engine_loop(
    mut store: Store,
    accounts: Vec<AccountConfig>,
    mut rx: UnboundedReceiver<SyncCommand>,
    events: UnboundedSender<SyncEvent>,
) {
    let every: Vec<Duration> = accounts
        .iter()
        .map(|a| {
            a.sync_every.unwrap_or(match a.kind {
                crate::config::AccountKind::Ics => DEFAULT_FEED_EVERY,
                _ => DEFAULT_EVERY,
            })
        })
        .collect();
    // Every account is due at once: the first frame is already on screen from the cache.
    let mut due: Vec<Instant> = vec![Instant::now(); accounts.len()];
    // Per account: until when its server asked to be left alone, and the words it is told in.
    let mut quiet: Vec<Option<(Instant, String)>> = vec![None; accounts.len()];
    // One client per account for the engine's life (the password command runs once).
    let mut remotes = Remotes::default();
    loop {
        let next = due.iter().min().copied();
        let command = tokio::select! {
            c = rx.recv() => match c {
                Some(c) => Some(c),
                None => return,
            },
            _ = sleep_until(next) => None,
        };
        let mut commands: Vec<SyncCommand> = command.into_iter().collect();
        while let Ok(c) = rx.try_recv() {
            commands.push(c);
        }
        let now = Instant::now();
        // (account index, options) to run, without repeats.
        let mut runs: Vec<(usize, SyncOptions)> = Vec::new();
        let mut push = |i: usize, opts: SyncOptions| {
            if !runs
                .iter()
                // A run of every calendar covers a run of one, but not a full refetch.
                .any(|(j, o)| *j == i && ((o.calendar.is_none() && !opts.full) || *o == opts))
            {
                runs.push((i, opts));
            }
        };
        if commands.is_empty() {
            for (i, d) in due.iter().enumerate() {
                if *d <= now {
                    push(i, SyncOptions::default());
                }
            }
        }
        for c in commands {
            match c {
                SyncCommand::All => {
                    (0..accounts.len()).for_each(|i| push(i, SyncOptions::default()))
                }
                SyncCommand::Calendar(id) | SyncCommand::Full(id) => {
                    let full = matches!(c, SyncCommand::Full(_));
                    match store.calendar_owner(id) {
                        Ok(Some((account, calendar))) => {
                            if let Some(i) = accounts.iter().position(|a| a.name == account) {
                                push(
                                    i,
                                    SyncOptions {
                                        calendar: Some(calendar),
                                        full,
                                    },
                                );
                            }
                        }
                        Ok(None) => {
                            let _ = events.send(SyncEvent::Failed {
                                account: String::new(),
                                calendar: Some(id),
                                message: "a local calendar has no server to sync with".into(),
                            });
                        }
                        Err(e) => tracing::warn!(error = %e, "cannot look up the calendar"),
                    }
                }
            }
        }
        for (i, opts) in runs {
            // A server that asked to be left alone is left alone, whoever asks.
            if let Some((until, message)) = &quiet[i]
                && *until > Instant::now()
            {
                let _ = events.send(SyncEvent::Failed {
                    account: accounts[i].name.clone(),
                    calendar: None,
                    message: message.clone(),
                });
                continue;
            }
            let r = remotes
                .sync(&mut store, &accounts[i], &opts, Some(&events))
                .await;
            if r.error.is_some() {
                tracing::warn!(account = %r.account, error = ?r.error, "sync failed");
            }
            if opts.calendar.is_none() {
                due[i] = Instant::now() + every[i];
            }
            // Edits that could not go (the server was down) are tried again soon, not at the
            // next periodic run.
            if store.pushable(&accounts[i].name).unwrap_or(0) > 0 {
                due[i] = due[i].min(Instant::now() + RETRY_PUSH);
            }
            quiet[i] = None;
            if r.needs_sign_in {
                // No retry can help until the person signs in (`almanac login`); a manual sync
                // tries again, reading the tokens anew.
                due[i] = Instant::now() + SIGNED_OUT_RECHECK;
            }
            if let Some(at) = r.retry_at {
                let wait = (at - chrono::Utc::now().timestamp()).max(1) as u64;
                let until = Instant::now() + Duration::from_secs(wait);
                let message = r
                    .error
                    .clone()
                    .or_else(|| r.calendars.iter().find_map(|c| c.error.clone()))
                    .unwrap_or_else(|| "the server asked to wait".into());
                let _ = events.send(SyncEvent::Failed {
                    account: accounts[i].name.clone(),
                    calendar: None,
                    message: message.clone(),
                });
                due[i] = until;
                quiet[i] = Some((until, message));
            }
            let next = chrono::Utc::now().timestamp()
                + due[i].saturating_duration_since(Instant::now()).as_secs() as i64;
            if let Err(e) = store.note_next_run(&accounts[i].name, next) {
                tracing::warn!(error = %e, "cannot record the next run");
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
