//! Content lines: the raw parameters and value of a line as written, new lines folded at 75 octets,
//! and a component's text as a list of lines that can be replaced, inserted or removed by name while
//! every other byte stays as it was.

use std::ops::Range;

use crate::domain::ical::{Component, escape_text};
use crate::domain::time::EventTime;

/// A time's value: `YYYYMMDD`, `YYYYMMDDTHHMMSSZ` or wall-clock `YYYYMMDDTHHMMSS`.
pub(in crate::domain) fn time_value(t: &EventTime) -> String {
    match t {
        EventTime::Date(d) => d.format("%Y%m%d").to_string(),
        EventTime::Utc(u) => u.format("%Y%m%dT%H%M%SZ").to_string(),
        EventTime::Zoned { local, .. } | EventTime::Floating(local) => {
            local.format("%Y%m%dT%H%M%S").to_string()
        }
    }
}

/// A DTSTART-like content line in the form of `t`, after the parameters `kept` (which must not
/// name TZID or VALUE).
pub(in crate::domain) fn time_line(name: &str, mut kept: Vec<String>, t: &EventTime) -> String {
    match t {
        EventTime::Date(_) => kept.push("VALUE=DATE".into()),
        EventTime::Zoned { tzid, .. } => kept.push(param("TZID", tzid)),
        EventTime::Utc(_) | EventTime::Floating(_) => {}
    }
    content_line(name, &kept, &time_value(t))
}

/// `NAME=value`, quoted when the value holds `:`, `;` or `,`.
fn param(name: &str, value: &str) -> String {
    let value: String = one_line(value).chars().filter(|c| *c != '"').collect();
    if value.contains([':', ';', ',']) {
        format!("{name}=\"{value}\"")
    } else {
        format!("{name}={value}")
    }
}

pub(in crate::domain) fn content_line(name: &str, params: &[String], value: &str) -> String {
    let mut line = name.to_string();
    for p in params {
        line.push(';');
        line.push_str(p);
    }
    line.push(':');
    line.push_str(value);
    line
}

/// A value that is not TEXT, kept on one line (control characters would break the file).
pub(in crate::domain) fn one_line(value: &str) -> String {
    value.chars().filter(|c| !c.is_control()).collect()
}

pub(super) fn line_ending(src: &str) -> &'static str {
    if src.contains("\r\n") { "\r\n" } else { "\n" }
}

/// One content line folded at 75 octets on character boundaries (RFC 5545 3.1), each physical line
/// ended with `eol`.
pub(in crate::domain) fn fold(line: &str, eol: &str) -> String {
    const LIMIT: usize = 75;
    let mut out = String::with_capacity(line.len() + line.len() / 60 * 3 + 2);
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > LIMIT {
            out.push_str(eol);
            out.push(' ');
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str(eol);
    out
}

/// The part of a property's span without the blank lines the parser counts into it.
pub(super) fn content_span(src: &str, span: &Range<usize>) -> Range<usize> {
    let mut end = span.start;
    let mut at = span.start;
    for physical in src[span.clone()].split_inclusive('\n') {
        at += physical.len();
        if !physical.trim().is_empty() {
            end = at;
        }
    }
    span.start..end
}

/// The raw parameters (`TZID="A/B"`, `X-P=1`, as written) and the value of one content line,
/// folded or not.
pub(super) fn split_line(text: &str) -> (Vec<String>, String) {
    let mut line = String::with_capacity(text.len());
    for physical in text.split_inclusive('\n') {
        let content = physical.trim_end_matches(['\r', '\n']);
        match content.strip_prefix([' ', '\t']) {
            Some(rest) if !line.is_empty() => line.push_str(rest),
            _ => line.push_str(content),
        }
    }
    let mut params = Vec::new();
    let mut quoted = false;
    let mut from: Option<usize> = None;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' | ':' if !quoted => {
                if let Some(start) = from {
                    params.push(line[start..i].to_string());
                }
                if c == ':' {
                    return (params, line[i + 1..].to_string());
                }
                from = Some(i + 1);
            }
            _ => {}
        }
    }
    (params, String::new())
}

/// A component's text as entries: its own properties, editable by name, and the text between them
/// (BEGIN and END lines, sub-components, blank lines), kept as it is.
pub(super) struct Lines {
    entries: Vec<Entry>,
    eol: &'static str,
}

struct Entry {
    /// The property name; `None` for text that is not one of the component's own properties.
    name: Option<String>,
    text: String,
}

impl Lines {
    pub(super) fn of(src: &str, comp: &Component, eol: &'static str) -> Lines {
        let mut pieces: Vec<(Range<usize>, Option<&str>)> = comp
            .properties
            .iter()
            .map(|p| (content_span(src, &p.span), Some(p.name.as_str())))
            .chain(comp.children.iter().map(|c| (c.span.clone(), None)))
            .collect();
        pieces.sort_by_key(|(r, _)| r.start);
        let mut entries = Vec::new();
        let mut at = comp.span.start;
        let keep = |entries: &mut Vec<Entry>, range: Range<usize>, name: Option<&str>| {
            if !range.is_empty() {
                entries.push(Entry {
                    name: name.map(str::to_string),
                    text: src[range].to_string(),
                });
            }
        };
        for (range, name) in pieces {
            keep(&mut entries, at..range.start, None);
            at = range.end;
            keep(&mut entries, range, name);
        }
        keep(&mut entries, at..comp.span.end, None);
        Lines { entries, eol }
    }

    pub(super) fn text(&self) -> String {
        self.entries.iter().map(|e| e.text.as_str()).collect()
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.name.as_deref() == Some(name))
    }

    pub(super) fn value(&self, name: &str) -> Option<String> {
        self.position(name)
            .map(|i| split_line(&self.entries[i].text).1)
    }

    /// The raw parameters of the first `name` property.
    pub(super) fn params(&self, name: &str) -> Vec<String> {
        self.position(name)
            .map(|i| split_line(&self.entries[i].text).0)
            .unwrap_or_default()
    }

    fn entry(&self, name: &str, line: &str) -> Entry {
        Entry {
            name: Some(name.to_string()),
            text: fold(line, self.eol),
        }
    }

    /// Replaces the first `name` property with `line`, or adds it after the last property.
    pub(super) fn set(&mut self, name: &str, line: &str) {
        match self.position(name) {
            Some(i) => self.entries[i] = self.entry(name, line),
            None => self.insert_after(&[], line),
        }
    }

    /// Sets a TEXT property, keeping its parameters but ALTREP (which points at the old text).
    pub(super) fn set_text(&mut self, name: &str, value: &str) {
        let params = self.params(name);
        let kept = without(params, &["ALTREP"]);
        self.set(name, &content_line(name, &kept, &escape_text(value)));
    }

    /// Sets a DTSTART-like property in the form of `t`, keeping its other parameters.
    pub(super) fn set_time(&mut self, name: &str, t: &EventTime) {
        let kept = without(self.params(name), &["TZID", "VALUE"]);
        self.set(name, &time_line(name, kept, t));
    }

    /// Puts a `name` property in place of the `old` one (DTEND for DURATION).
    pub(super) fn replace_with_time(&mut self, old: &str, name: &str, t: &EventTime) {
        match self.position(old) {
            Some(i) => {
                self.entries[i] = self.entry(name, &time_line(name, Vec::new(), t));
                self.remove(old);
            }
            None => self.set_time(name, t),
        }
    }

    /// Adds `line` after the last property named in `anchors`, else after the last property.
    pub(super) fn insert_after(&mut self, anchors: &[&str], line: &str) {
        let name = line.split([';', ':']).next().unwrap_or(line);
        let last = |pick: &dyn Fn(&str) -> bool| {
            self.entries
                .iter()
                .rposition(|e| e.name.as_deref().is_some_and(pick))
        };
        let at = last(&|n| anchors.contains(&n))
            .or_else(|| last(&|_| true))
            .map_or(self.entries.len().min(1), |i| i + 1);
        let entry = self.entry(name, line);
        self.entries.insert(at, entry);
    }

    pub(super) fn remove(&mut self, name: &str) {
        self.entries.retain(|e| e.name.as_deref() != Some(name));
    }
}

/// `params` without those named in `names`.
fn without(params: Vec<String>, names: &[&str]) -> Vec<String> {
    params
        .into_iter()
        .filter(|p| {
            let name = p.split('=').next().unwrap_or_default();
            !names.iter().any(|n| n.eq_ignore_ascii_case(name.trim()))
        })
        .collect()
}
