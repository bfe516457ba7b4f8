//! Series masters fetched while a round's pages are still coming. The round names a series the
//! first time one of its members (or its master) appears in a page; its master is then fetched
//! once (PROTOCOLS.md §3 "on an unknown series or any change in a known one, GET the master
//! (404 = series gone)"; issue 13 "fetch the series master once") beside the pages instead of
//! after the last one, so the round's end finds them fetched.

use std::collections::{HashMap, VecDeque};

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinSet;

use super::api::{Graph, MAX_IN_FLIGHT, PAGE_SIZE};
use crate::sync::SyncError;
use crate::sync::http::{Request, Response};

/// Master fetches in flight while pages are being fetched: with the pager's one request this
/// stays under the mailbox's [`MAX_IN_FLIGHT`] (PROTOCOLS.md §4: the emulator answers 429 past 4
/// in flight per mailbox). After the last page, all of them.
const BESIDE_PAGES: usize = 2;

/// A master's reply (or why there is none), by the series' id.
pub type Fetched = HashMap<String, Result<Response, SyncError>>;

/// The round's master fetches: asked for as series appear, collected at the round's end.
/// Dropping it cancels the fetches still running.
pub struct Masters {
    asks: Option<UnboundedSender<(String, Option<String>)>>,
    fetcher: JoinSet<Fetched>,
}

impl Masters {
    pub fn start(graph: &Graph) -> Masters {
        let (asks, queue) = unbounded_channel();
        let mut fetcher = JoinSet::new();
        fetcher.spawn(fetch_all(graph.clone(), queue));
        Masters {
            asks: Some(asks),
            fetcher,
        }
    }

    /// Asks for `series`' master, with the etag of the copy the cache holds (a `304` then means
    /// it did not change). The caller asks once per series.
    pub fn ask(&self, series: &str, etag: Option<String>) {
        if let Some(asks) = &self.asks {
            let _ = asks.send((series.to_string(), etag));
        }
    }

    /// Every reply asked for, once all have come.
    pub async fn finish(mut self) -> Result<Fetched, SyncError> {
        self.asks = None;
        match self.fetcher.join_next().await {
            Some(Ok(fetched)) => Ok(fetched),
            Some(Err(e)) => Err(SyncError::Protocol(format!("fetching masters failed: {e}"))),
            None => Ok(Fetched::new()),
        }
    }
}

/// Fetches what `queue` asks for, [`BESIDE_PAGES`] at a time until the queue closes (the pages
/// are done), then up to [`MAX_IN_FLIGHT`].
async fn fetch_all(
    graph: Graph,
    mut queue: UnboundedReceiver<(String, Option<String>)>,
) -> Fetched {
    let mut out = Fetched::new();
    let mut running = JoinSet::new();
    let mut waiting = VecDeque::new();
    let mut open = true;
    loop {
        let limit = if open { BESIDE_PAGES } else { MAX_IN_FLIGHT };
        while running.len() < limit
            && let Some((id, etag)) = waiting.pop_front()
        {
            running.spawn(fetch_one(graph.clone(), id, etag));
        }
        tokio::select! {
            ask = queue.recv(), if open => match ask {
                Some(ask) => waiting.push_back(ask),
                None => open = false,
            },
            Some(done) = running.join_next(), if !running.is_empty() => {
                if let Ok((id, reply)) = done {
                    out.insert(id, reply);
                }
            }
            else => return out,
        }
    }
}

async fn fetch_one(
    graph: Graph,
    id: String,
    etag: Option<String>,
) -> (String, Result<Response, SyncError>) {
    let mut req = Request::new("GET", graph.url(&["me", "events", &id], &[]));
    if let Some(etag) = etag {
        req = req.header("if-none-match", etag);
    }
    let reply = graph.send(req, PAGE_SIZE).await;
    (id, reply)
}
