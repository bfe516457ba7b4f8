//! A tolerant iCalendar (RFC 5545) reader that keeps line numbers and the raw text of every component.
//!
//! Real files are messy, so the reader accepts LF or CRLF, folded lines, lowercase names and a missing
//! `END:VCALENDAR`. It never fails as a whole: what it cannot read becomes an [`ItemError`] that names the
//! line, and reading goes on with the next component. Raw text is kept so that an unchanged component can
//! be written back byte for byte.

use std::ops::Range;

/// One logical (unfolded) content line: `NAME;PARAM=VALUE:value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// Upper-cased property name.
    pub name: String,
    /// Parameters in order, names upper-cased, values unquoted.
    pub params: Vec<(String, String)>,
    /// The value, unfolded but not unescaped.
    pub value: String,
    /// 1-based line number where the property starts in the source.
    pub line: usize,
    /// Byte range of the property's physical lines (folds included) in the source.
    pub span: Range<usize>,
}

impl Property {
    /// The value of parameter `name` (case-insensitive), if present.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value with RFC 5545 TEXT escapes (`\n`, `\,`, `\;`, `\\`) resolved.
    pub fn text(&self) -> String {
        unescape_text(&self.value)
    }
}

/// A component (`BEGIN:X` … `END:X`) with its properties and nested components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// Upper-cased component name, e.g. `VEVENT`.
    pub name: String,
    pub properties: Vec<Property>,
    pub children: Vec<Component>,
    /// 1-based line of the `BEGIN:` line.
    pub line: usize,
    /// Byte range of the component in the source, from `BEGIN` through the line ending after `END`.
    pub span: Range<usize>,
}

impl Component {
    /// The first property called `name`.
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// Every property called `name`.
    pub fn properties_named<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Property> + 'a {
        self.properties.iter().filter(move |p| p.name == name)
    }
}

/// Something in the source that could not be read, with the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ItemError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The result of reading a whole iCalendar stream.
#[derive(Debug, Default)]
pub struct Document {
    /// Top-level components: normally one `VCALENDAR`.
    pub components: Vec<Component>,
    /// Lines or components that could not be read.
    pub errors: Vec<ItemError>,
}

/// A physical-line-aware logical line: start line, byte span in the source, unfolded text.
struct LogicalLine {
    line: usize,
    span: Range<usize>,
    text: String,
}

/// Splits the source into unfolded logical lines, remembering where each starts.
fn logical_lines(src: &str) -> Vec<LogicalLine> {
    let mut out: Vec<LogicalLine> = Vec::new();
    let mut offset = 0;
    for (idx, raw) in src.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += raw.len();
        let content = raw.trim_end_matches(['\n', '\r']);
        let continues = content.starts_with([' ', '\t']);
        match out.last_mut() {
            Some(prev) if continues => {
                prev.text.push_str(&content[1..]);
                prev.span.end = offset;
            }
            _ if content.trim().is_empty() => {
                // Blank lines are not content; they still belong to the previous line's span.
                if let Some(prev) = out.last_mut() {
                    prev.span.end = offset;
                }
            }
            _ => out.push(LogicalLine {
                line: idx + 1,
                span: start..offset,
                text: content.to_string(),
            }),
        }
    }
    out
}

/// Parses one logical line into a property, or says why it cannot.
fn parse_property(text: &str, line: usize, span: Range<usize>) -> Result<Property, String> {
    // The name ends at the first ';' or ':'; parameter values may be quoted and contain ':' or ';'.
    let name_end = text
        .find([';', ':'])
        .ok_or_else(|| format!("'{}' has no ':' between name and value", clip(text)))?;
    let name = text[..name_end].trim().to_ascii_uppercase();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(format!(
            "'{}' is not a property name",
            clip(&text[..name_end])
        ));
    }
    let mut params = Vec::new();
    let bytes = text.as_bytes();
    let mut i = name_end;
    while i < bytes.len() && bytes[i] == b';' {
        i += 1;
        let eq = text[i..]
            .find('=')
            .map(|p| p + i)
            .ok_or_else(|| format!("parameter without '=' in {name}"))?;
        let pname = text[i..eq].trim().to_ascii_uppercase();
        i = eq + 1;
        let mut value = String::new();
        loop {
            if i < bytes.len() && bytes[i] == b'"' {
                let close = text[i + 1..]
                    .find('"')
                    .map(|p| p + i + 1)
                    .ok_or_else(|| format!("unclosed quote in parameter {pname} of {name}"))?;
                value.push_str(&text[i + 1..close]);
                i = close + 1;
            } else {
                let end = text[i..]
                    .find([',', ';', ':'])
                    .map(|p| p + i)
                    .unwrap_or(bytes.len());
                value.push_str(&text[i..end]);
                i = end;
            }
            if i < bytes.len() && bytes[i] == b',' {
                value.push(',');
                i += 1;
                continue;
            }
            break;
        }
        params.push((pname, value));
    }
    if i >= bytes.len() || bytes[i] != b':' {
        return Err(format!("{name} has no value"));
    }
    Ok(Property {
        name,
        params,
        value: text[i + 1..].to_string(),
        line,
        span,
    })
}

/// Deepest nesting the reader builds. Real calendars nest three deep (VCALENDAR, VEVENT, VALARM);
/// a deeper item is skipped and reported, so no data can make the component tree (whose drop and
/// derived traits recurse) deep enough to overflow the stack.
pub const MAX_DEPTH: usize = 16;

/// A component being skipped (an unreadable line, or nesting past [`MAX_DEPTH`]) until its END.
struct Skipping {
    /// Its depth on the stack (1-based).
    depth: usize,
    /// BEGINs met inside it and not yet closed: counted by name, never built, so skipping any depth
    /// costs one `String` per level.
    open: Vec<String>,
    /// For a skip caused by nesting: the error to complete with the deepest level seen, and that level.
    too_deep: Option<(usize, usize)>,
}

/// Reads a whole iCalendar stream, leniently.
pub fn parse(src: &str) -> Document {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let mut doc = Document::default();
    let mut stack: Vec<Component> = Vec::new();
    // When a component is broken, skip to its END and report once.
    let mut broken: Option<Skipping> = None;

    for ll in logical_lines(src) {
        let prop = match parse_property(&ll.text, ll.line, ll.span.clone()) {
            Ok(p) => p,
            Err(message) => {
                if broken.is_none() && !stack.is_empty() {
                    let name = stack.last().map(|c| c.name.clone()).unwrap_or_default();
                    let line = stack.last().map(|c| c.line).unwrap_or(ll.line);
                    doc.errors.push(ItemError {
                        line,
                        message: format!("{name} (line {}): {message}", ll.line),
                    });
                    broken = Some(Skipping {
                        depth: stack.len(),
                        open: Vec::new(),
                        too_deep: None,
                    });
                } else if stack.is_empty() {
                    doc.errors.push(ItemError {
                        line: ll.line,
                        message,
                    });
                }
                continue;
            }
        };
        match prop.name.as_str() {
            "BEGIN" => {
                let name = prop.value.trim().to_ascii_uppercase();
                if let Some(skip) = broken.as_mut() {
                    skip.open.push(name);
                    if let Some((_, deepest)) = skip.too_deep.as_mut() {
                        *deepest = (*deepest).max(skip.depth + skip.open.len());
                    }
                    continue;
                }
                if stack.len() >= MAX_DEPTH {
                    broken = Some(skip_too_deep(&mut stack, &mut doc, name));
                    continue;
                }
                stack.push(Component {
                    name,
                    properties: Vec::new(),
                    children: Vec::new(),
                    line: ll.line,
                    span: ll.span.start..ll.span.end,
                });
            }
            "END" => {
                let name = prop.value.trim().to_ascii_uppercase();
                if let Some(skip) = broken.as_mut()
                    && let Some(pos) = skip.open.iter().rposition(|n| *n == name)
                {
                    skip.open.truncate(pos);
                    continue;
                }
                // Close until the matching BEGIN; components left open are closed implicitly.
                let Some(pos) = stack.iter().rposition(|c| c.name == name) else {
                    doc.errors.push(ItemError {
                        line: ll.line,
                        message: format!("END:{name} without BEGIN:{name}"),
                    });
                    continue;
                };
                while stack.len() > pos {
                    let mut done = stack.pop().expect("stack holds pos+1 entries");
                    done.span.end = ll.span.end;
                    let depth = stack.len() + 1;
                    if broken.as_ref().is_some_and(|s| s.depth == depth) {
                        finish_skip(&mut doc, broken.take());
                        continue;
                    }
                    attach(&mut stack, &mut doc, done);
                }
            }
            _ => {
                if broken.is_some() {
                    continue;
                }
                match stack.last_mut() {
                    Some(c) => c.properties.push(prop),
                    None => doc.errors.push(ItemError {
                        line: ll.line,
                        message: format!("{} outside of any component", prop.name),
                    }),
                }
            }
        }
    }
    // A missing END (commonly END:VCALENDAR) closes what is open at end of input.
    while let Some(mut open) = stack.pop() {
        open.span.end = src.len();
        let depth = stack.len() + 1;
        if broken.as_ref().is_some_and(|s| s.depth == depth) {
            finish_skip(&mut doc, broken.take());
            continue;
        }
        attach(&mut stack, &mut doc, open);
    }
    doc
}

/// A BEGIN past [`MAX_DEPTH`]: the whole item (the component directly inside VCALENDAR) is skipped
/// and reported, so it stays unreadable rather than half read.
fn skip_too_deep(stack: &mut Vec<Component>, doc: &mut Document, begin: String) -> Skipping {
    let item_depth = if stack.first().is_some_and(|c| c.name == "VCALENDAR") {
        2
    } else {
        1
    };
    let item = &stack[item_depth - 1];
    doc.errors.push(ItemError {
        line: item.line,
        message: format!("{} nested more than {MAX_DEPTH} deep", item.name),
    });
    // The levels below the item are at most MAX_DEPTH deep, so dropping them is cheap and shallow.
    let open: Vec<String> = stack
        .drain(item_depth..)
        .map(|c| c.name)
        .chain([begin])
        .collect();
    Skipping {
        depth: item_depth,
        too_deep: Some((doc.errors.len() - 1, item_depth + open.len())),
        open,
    }
}

/// Completes a too-deep report with the deepest level the skipped item reached.
fn finish_skip(doc: &mut Document, skip: Option<Skipping>) {
    if let Some((index, deepest)) = skip.and_then(|s| s.too_deep)
        && let Some(e) = doc.errors.get_mut(index)
    {
        e.message = format!("{} ({deepest} levels; real calendars nest 3)", e.message);
    }
}

fn attach(stack: &mut [Component], doc: &mut Document, done: Component) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(done),
        None => doc.components.push(done),
    }
}

/// Joins items (each a complete VCALENDAR) into one VCALENDAR: the first item's calendar
/// properties, each VTIMEZONE once (by TZID), then every other component, all as their original
/// text, byte for byte.
pub fn merge_calendars<S: AsRef<str>>(items: &[S]) -> String {
    let mut header: Option<String> = None;
    let mut zones: Vec<String> = Vec::new();
    let mut seen_zones: Vec<String> = Vec::new();
    let mut body = String::new();
    for item in items {
        let src = item.as_ref();
        let doc = parse(src);
        for cal in doc.components.iter().filter(|c| c.name == "VCALENDAR") {
            if header.is_none() {
                header = Some(
                    cal.properties
                        .iter()
                        .map(|p| &src[p.span.clone()])
                        .collect(),
                );
            }
            for child in &cal.children {
                let text = &src[child.span.clone()];
                if child.name == "VTIMEZONE" {
                    let tzid = child
                        .property("TZID")
                        .map(|p| p.value.clone())
                        .unwrap_or_default();
                    if !seen_zones.contains(&tzid) {
                        seen_zones.push(tzid);
                        zones.push(text.to_string());
                    }
                } else {
                    body.push_str(text);
                }
            }
        }
    }
    let mut out = String::from("BEGIN:VCALENDAR\r\n");
    out.push_str(
        header
            .as_deref()
            .unwrap_or("VERSION:2.0\r\nPRODID:-//almanac//EN\r\n"),
    );
    for z in zones {
        out.push_str(&z);
    }
    out.push_str(&body);
    out.push_str("END:VCALENDAR\r\n");
    out
}

/// Resolves RFC 5545 TEXT escapes.
pub fn unescape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Escapes a value for an iCalendar TEXT property.
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            other => out.push(other),
        }
    }
    out
}

fn clip(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfolds_lines_and_keeps_the_starting_line_number() {
        let doc = parse(
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Long\r\n  title\r\nUID:1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        );
        let ev = &doc.components[0].children[0];
        let summary = ev.property("SUMMARY").unwrap();
        assert_eq!(summary.value, "Long title");
        assert_eq!(summary.line, 3);
        assert_eq!(ev.line, 2);
    }

    #[test]
    fn accepts_lf_lowercase_and_a_missing_end_vcalendar() {
        let doc = parse("begin:vcalendar\nbegin:vevent\nsummary:x\nend:vevent\n");
        assert!(doc.errors.is_empty(), "{:?}", doc.errors);
        assert_eq!(doc.components[0].name, "VCALENDAR");
        assert_eq!(
            doc.components[0].children[0]
                .property("SUMMARY")
                .unwrap()
                .value,
            "x"
        );
    }

    #[test]
    fn quoted_parameters_may_hold_colons_and_semicolons() {
        let p = parse_property(
            r#"DTSTART;TZID="America/New_York;odd:zone":20260101T090000"#,
            1,
            0..0,
        )
        .unwrap();
        assert_eq!(p.param("tzid"), Some("America/New_York;odd:zone"));
        assert_eq!(p.value, "20260101T090000");
    }

    #[test]
    fn a_broken_component_is_reported_and_its_siblings_survive() {
        let src = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nthis line is junk\nEND:VEVENT\nBEGIN:VEVENT\nUID:b\nEND:VEVENT\nEND:VCALENDAR\n";
        let doc = parse(src);
        assert_eq!(doc.errors.len(), 1);
        assert_eq!(doc.errors[0].line, 2);
        assert!(
            doc.errors[0].message.contains("line 4"),
            "{}",
            doc.errors[0].message
        );
        let events = &doc.components[0].children;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].property("UID").unwrap().value, "b");
    }

    #[test]
    fn spans_cover_the_raw_component_text() {
        let src = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nEND:VEVENT\nEND:VCALENDAR\n";
        let doc = parse(src);
        let ev = &doc.components[0].children[0];
        assert_eq!(&src[ev.span.clone()], "BEGIN:VEVENT\nUID:a\nEND:VEVENT\n");
    }

    /// A VEVENT whose VALARM holds `levels` components, each inside the last.
    fn nested(levels: usize) -> String {
        let mut s = String::from("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:deep\nBEGIN:VALARM\n");
        s.push_str(&"BEGIN:X\n".repeat(levels));
        s.push_str(&"END:X\n".repeat(levels));
        s.push_str("END:VALARM\nEND:VEVENT\nBEGIN:VEVENT\nUID:next\nEND:VEVENT\nEND:VCALENDAR\n");
        s
    }

    #[test]
    fn an_item_nested_100_000_deep_is_reported_and_its_siblings_survive() {
        let doc = parse(&nested(100_000));
        assert_eq!(doc.errors.len(), 1, "{:?}", doc.errors);
        assert_eq!(doc.errors[0].line, 2, "the error names the VEVENT's line");
        assert!(
            doc.errors[0]
                .message
                .contains("VEVENT nested more than 16 deep (100003 levels"),
            "{}",
            doc.errors[0].message
        );
        let events = &doc.components[0].children;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].property("UID").unwrap().value, "next");
    }

    #[test]
    fn nesting_up_to_the_cap_is_read_as_written() {
        // VCALENDAR, VEVENT, VALARM and 13 more: exactly MAX_DEPTH levels.
        let doc = parse(&nested(MAX_DEPTH - 3));
        assert!(doc.errors.is_empty(), "{:?}", doc.errors);
        let mut c = &doc.components[0].children[0];
        let mut depth = 2;
        while let Some(child) = c.children.first() {
            c = child;
            depth += 1;
        }
        assert_eq!(depth, MAX_DEPTH);
    }

    #[test]
    fn an_unclosed_deep_item_at_end_of_input_is_reported_once() {
        let src = format!(
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\n{}",
            "BEGIN:X\n".repeat(50_000)
        );
        let doc = parse(&src);
        assert_eq!(doc.errors.len(), 1, "{:?}", doc.errors);
        assert!(
            doc.errors[0].message.contains("50002 levels"),
            "{}",
            doc.errors[0]
        );
        assert!(doc.components[0].children.is_empty());
    }

    #[test]
    fn text_escapes_round_trip() {
        let s = "a, b; c\\d\nnext";
        assert_eq!(unescape_text(&escape_text(s)), s);
    }
}
