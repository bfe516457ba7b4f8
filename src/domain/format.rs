//! How an item is written: each remote's own format, kept byte for byte in the cache.

/// The way a remote writes its items; the cache keeps each item in it, byte for byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// RFC 5545 text: CalDAV resources, subscriptions, local calendars.
    ICalendar,
    /// A JSON array of Google Calendar event resources: one series (master, exceptions and
    /// cancelled instances) or one single event.
    GoogleJson,
    /// A JSON object `{"graph":[…], "cancelled":[…]}` of Microsoft Graph event resources: one
    /// series (master, exceptions, cancelled occurrences) or one single event.
    GraphJson,
}

impl Format {
    /// The value of the `items.format` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::ICalendar => "ical",
            Format::GoogleJson => "google",
            Format::GraphJson => "graph",
        }
    }

    /// The format named by an `items.format` value (iCalendar when unknown: the older rows).
    pub fn parse(s: &str) -> Format {
        match s {
            "google" => Format::GoogleJson,
            "graph" => Format::GraphJson,
            _ => Format::ICalendar,
        }
    }
}

impl Format {
    /// The format `raw` is written in, read from its beginning: an object beginning with a
    /// `"graph"` key is Graph's, another JSON array or object Google's, anything else iCalendar.
    /// For code that holds text without its item row (conflicts, forms); the cache's `format`
    /// column is the record.
    pub fn of_text(raw: &str) -> Format {
        let raw = raw.trim_start();
        if is_graph(raw) {
            return Format::GraphJson;
        }
        match raw.as_bytes().first() {
            Some(b'[' | b'{') => Format::GoogleJson,
            _ => Format::ICalendar,
        }
    }
}

/// Whether text (without leading whitespace) is a Graph item: `{`, then the key `"graph"`,
/// whitespace allowed between.
fn is_graph(raw: &str) -> bool {
    raw.strip_prefix('{')
        .map(str::trim_start)
        .is_some_and(|rest| rest.starts_with("\"graph\""))
}

/// Reads an item written in `format` into the events it holds, the same way for every format.
pub fn read_item(format: Format, raw: &str) -> super::ParsedCalendar {
    match format {
        Format::ICalendar => super::read_calendar(raw),
        Format::GoogleJson => super::google::read_group(raw),
        Format::GraphJson => super::graph::read_group(raw),
    }
}

/// Reads text whose format is told by the text itself (see [`Format::of_text`]).
pub fn read_any(raw: &str) -> super::ParsedCalendar {
    read_item(Format::of_text(raw), raw)
}

/// The item as iCalendar text (for export and field-by-field comparison).
pub fn as_ical(raw: &str) -> std::borrow::Cow<'_, str> {
    match Format::of_text(raw) {
        Format::ICalendar => std::borrow::Cow::Borrowed(raw),
        Format::GoogleJson => std::borrow::Cow::Owned(super::google::to_ical(raw)),
        Format::GraphJson => std::borrow::Cow::Owned(super::graph::to_ical(raw)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_groups_and_icalendar_read_into_the_same_events() {
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:u1\r\nDTSTAMP:20260101T000000Z\r\n\
                   DTSTART:20261123T080000Z\r\nDTEND:20261123T090000Z\r\nSUMMARY:Standup\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let json = r#"[{"id":"u1x","iCalUID":"u1","summary":"Standup","start":{"dateTime":"2026-11-23T08:00:00Z"},"end":{"dateTime":"2026-11-23T09:00:00Z"}}]"#;
        assert_eq!(Format::of_text(json), Format::GoogleJson);
        assert_eq!(Format::of_text(ics), Format::ICalendar);
        let a = read_any(ics);
        let b = read_any(json);
        let (ea, eb) = (&a.items[0].events[0], &b.items[0].events[0]);
        assert_eq!((&ea.uid, &ea.summary), (&eb.uid, &eb.summary));
        assert_eq!(ea.start.normalise(), eb.start.normalise());
        assert_eq!(ea.end.normalise(), eb.end.normalise());
        assert!(as_ical(json).contains("SUMMARY:Standup"));
    }

    #[test]
    fn graph_items_are_told_from_google_groups_and_read_into_the_same_events() {
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:u1\r\nDTSTAMP:20260101T000000Z\r\n\
                   DTSTART:20261123T080000Z\r\nDTEND:20261123T090000Z\r\nSUMMARY:Standup\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let json = r#" { "graph":[{"id":"AAMk1","iCalUId":"u1","type":"singleInstance","subject":"Standup",
"start":{"dateTime":"2026-11-23T08:00:00.0000000","timeZone":"UTC"},
"end":{"dateTime":"2026-11-23T09:00:00.0000000","timeZone":"UTC"}}]}"#;
        assert_eq!(Format::of_text(json), Format::GraphJson);
        assert_eq!(Format::of_text(r#"{"id":"x"}"#), Format::GoogleJson);
        assert_eq!(Format::parse(Format::GraphJson.as_str()), Format::GraphJson);
        let a = read_any(ics);
        let b = read_any(json);
        let (ea, eb) = (&a.items[0].events[0], &b.items[0].events[0]);
        assert_eq!((&ea.uid, &ea.summary), (&eb.uid, &eb.summary));
        assert_eq!(ea.start.normalise(), eb.start.normalise());
        assert_eq!(ea.end.normalise(), eb.end.normalise());
        assert!(as_ical(json).contains("SUMMARY:Standup"));
    }
}
