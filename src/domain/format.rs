//! How an item is written: each remote's own format, kept byte for byte in the cache.

/// The way a remote writes its items; the cache keeps each item in it, byte for byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// RFC 5545 text: CalDAV resources, subscriptions, local calendars.
    ICalendar,
    /// A JSON array of Google Calendar event resources: one series (master, exceptions and
    /// cancelled instances) or one single event.
    GoogleJson,
}

impl Format {
    /// The value of the `items.format` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::ICalendar => "ical",
            Format::GoogleJson => "google",
        }
    }

    /// The format named by an `items.format` value (iCalendar when unknown: the older rows).
    pub fn parse(s: &str) -> Format {
        match s {
            "google" => Format::GoogleJson,
            _ => Format::ICalendar,
        }
    }
}
