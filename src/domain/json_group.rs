//! What Google's and Graph's JSON items share on the way in: a group of event objects written as
//! the equivalent VCALENDAR, then read by [`read_calendar`] like any iCalendar, so every remote
//! yields the same events. Each format writes its own event lines; the calendar around them, the
//! positions that lead errors back to the object they concern, and the reading are here.

use super::edit::lines::{fold, one_line};
use super::edit::zone_definitions;
use super::event::{Item, ParsedCalendar, read_calendar};
use super::ical::ItemError;
use super::time::EventTime;

const EOL: &str = "\r\n";

/// Attendees written for one event.
pub(crate) const MAX_ATTENDEES: usize = 1_000;

/// An ORGANIZER or ATTENDEE line (`name`) for `address` with its display name and further
/// parameters (`PARTSTAT=ACCEPTED`); `None` for an empty address. Server text is cut to one line,
/// and characters that would end the parameter or the value are dropped ([`person_parts`]).
pub(crate) fn person_line(
    name: &str,
    address: &str,
    cn: Option<&str>,
    params: &[&str],
) -> Option<String> {
    let (address, cn) = person_parts(address, cn)?;
    let mut line = name.to_string();
    if let Some(cn) = cn {
        line.push_str(&format!(";CN=\"{cn}\""));
    }
    for p in params {
        line.push(';');
        line.push_str(p);
    }
    Some(format!("{line}:mailto:{address}"))
}

/// A person's address and display name as [`person_line`] writes them: one line each, without
/// the characters that would end a parameter or the value, bounded; `None` for an empty address.
pub(crate) fn person_parts(address: &str, cn: Option<&str>) -> Option<(String, Option<String>)> {
    let address: String = one_line(address)
        .chars()
        .filter(|c| !matches!(c, '"' | ';' | ':' | ',' | ' '))
        .take(320)
        .collect();
    if address.is_empty() {
        return None;
    }
    let cn = cn.map(|cn| {
        one_line(cn)
            .chars()
            .filter(|c| *c != '"')
            .take(256)
            .collect()
    });
    Some((address, cn))
}

/// The ORGANIZER and ATTENDEE lines of an event object whose `organizer` is one person and
/// `attendees` a list of them (Google's and Graph's shape), each person written by `person`.
pub(crate) fn people_lines(
    v: &serde_json::Value,
    person: impl Fn(&str, &serde_json::Value) -> Option<String>,
) -> Vec<String> {
    let organizer = v.get("organizer").and_then(|o| person("ORGANIZER", o));
    let attendees = v
        .get("attendees")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .take(MAX_ATTENDEES)
        .filter_map(|a| person("ATTENDEE", a));
    organizer.into_iter().chain(attendees).collect()
}

/// A group written as iCalendar.
#[derive(Debug, Default)]
pub(crate) struct GroupText {
    /// A complete VCALENDAR (empty when the group has no event to show).
    pub text: String,
    /// (line of `BEGIN:VEVENT` in `text`, index of the event in the group), in order.
    pub begins: Vec<(usize, usize)>,
    /// Events that cannot be written, and notes on guesses, by their 1-based position.
    pub errors: Vec<ItemError>,
}

/// An error about the event at `index` of the group (reported at its 1-based position).
pub(crate) fn at(index: usize, message: String) -> ItemError {
    ItemError {
        line: index + 1,
        message,
    }
}

impl GroupText {
    /// Writes the VCALENDAR around `blocks` (each event's index in the group and its content
    /// lines), with a VTIMEZONE for each zone of `times` when `with_zones`.
    pub(crate) fn write(
        &mut self,
        prodid: &str,
        blocks: Vec<(usize, Vec<String>)>,
        times: &[EventTime],
        with_zones: bool,
    ) {
        if blocks.is_empty() {
            return;
        }
        let mut text = format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:{prodid}\r\n");
        if with_zones {
            let refs: Vec<&EventTime> = times.iter().collect();
            for zone in zone_definitions(&refs, &[], EOL) {
                text.push_str(&zone);
            }
        }
        let mut line = text.matches('\n').count() + 1;
        for (index, lines) in blocks {
            self.begins.push((line, index));
            for l in std::iter::once("BEGIN:VEVENT".to_string())
                .chain(lines)
                .chain(["END:VEVENT".to_string()])
            {
                let folded = fold(&l, EOL);
                line += folded.matches('\n').count();
                text.push_str(&folded);
            }
        }
        text.push_str("END:VCALENDAR\r\n");
        self.text = text;
    }

    /// Reads the written group into at most one item whose `raw` is the JSON `raw`; each
    /// event's and error's `line` is the 1-based position of its object in the group.
    pub(crate) fn read(self, raw: &str) -> ParsedCalendar {
        let mut out = ParsedCalendar {
            errors: self.errors,
            ..ParsedCalendar::default()
        };
        if self.text.is_empty() {
            if out.errors.is_empty() {
                out.errors.push(at(0, "no event in this group".into()));
            }
            return out;
        }
        let begins = self.begins;
        let position = |line: usize| {
            begins
                .iter()
                .rev()
                .find(|(begin, _)| *begin <= line)
                .map_or(1, |(_, index)| index + 1)
        };
        let parsed = read_calendar(&self.text);
        out.errors
            .extend(parsed.errors.into_iter().map(|e| ItemError {
                line: position(e.line),
                message: e.message,
            }));
        out.errors.sort_by_key(|e| e.line);
        out.items = parsed
            .items
            .into_iter()
            .map(|item| Item {
                uid: item.uid,
                raw: raw.to_string(),
                events: item
                    .events
                    .into_iter()
                    .map(|mut ev| {
                        ev.line = position(ev.line);
                        ev
                    })
                    .collect(),
            })
            .collect();
        out
    }
}
