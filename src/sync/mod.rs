//! Keeping the cache in step with servers: the engine (the only writer while it runs), the HTTP
//! client with its one retry policy, and one module per kind of remote.

pub mod accounts;
pub mod caldav;
pub mod engine;
pub mod google;
pub mod graph;
pub mod http;
pub mod ics;
pub mod plan;
pub mod push;
pub mod remote;
pub mod round;
pub mod runner;

pub use engine::{AccountReport, CalendarReport, SyncOptions};

/// What the engine tells the UI. Each change is announced after its transaction committed.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncEvent {
    Started {
        calendar: i64,
        name: String,
    },
    Progress {
        calendar: i64,
        done: usize,
        total: usize,
    },
    Applied {
        calendar: i64,
        added: usize,
        changed: usize,
        removed: usize,
    },
    Finished {
        calendar: i64,
        report: Box<CalendarReport>,
    },
    Failed {
        account: String,
        calendar: Option<i64>,
        message: String,
    },
    /// Calendars appeared, were renamed or vanished.
    CalendarsChanged,
    /// Requests to an account's server have been under way `secs` seconds with no reply; `0`
    /// when a reply came (or the run ended) after a wait was announced.
    Waiting {
        account: String,
        secs: u64,
    },
    /// Local changes went to the server (`pushed`) or were refused as conflicts.
    Pushed {
        calendar: i64,
        pushed: usize,
        conflicts: usize,
    },
}

/// Why a sync run failed, in words for the sync pane.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Dav(#[from] caldav::DavError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Protocol(String),
    #[error("{0}")]
    Config(String),
    /// Requests were under way this many seconds without a reply: the run ended.
    #[error(
        "the server stopped answering (no reply for {0} s): the run ended, and the next one tries again"
    )]
    Stalled(u64),
    /// The account must sign in (again): no retry helps until it does.
    #[error("{0}")]
    SignIn(String),
    /// The service asked for a rest longer than a run waits (unix seconds).
    #[error("{message}")]
    Paused { message: String, until: i64 },
}

impl SyncError {
    /// When the server asked to be left alone until (unix seconds), if it did.
    pub fn retry_at(&self) -> Option<i64> {
        match self {
            SyncError::Dav(caldav::DavError::Http(http::HttpError::RateLimited {
                until, ..
            })) => Some(*until),
            SyncError::Paused { until, .. } => Some(*until),
            _ => None,
        }
    }
}

impl From<http::HttpError> for SyncError {
    fn from(e: http::HttpError) -> Self {
        SyncError::Dav(caldav::DavError::Http(e))
    }
}
