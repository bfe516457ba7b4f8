//! Calendars as the person sees them.

/// A calendar in the cache: local, bundled sample, or mirrored from a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    pub id: i64,
    pub name: String,
    /// `#RRGGBB` as the server or file gave it, if any.
    pub color: Option<String>,
    /// The bundled sample, shown until the person adds data of their own.
    pub is_sample: bool,
    pub hidden: bool,
    /// The person may not change it (a subscription, a calendar shared read-only).
    pub read_only: bool,
}
