//! Reading a large iCalendar file a run at a time, so memory follows the run, not the file.
//!
//! A first pass over the bytes ([`split_runs`]) finds where the file may be cut: before a component
//! of a VCALENDAR once the calendar's own properties and time zones are behind, and never inside the
//! stretch between the first and the last component of one UID (an item is every component of its
//! UID). Each run is then read on its own ([`read_run`]) with the calendar's properties and time zones
//! in front and blank lines before them, so the reader sees every line at its line number in the file:
//! items, events and errors come out exactly as a read of the whole file gives them. A file whose
//! structure the first pass does not follow (BEGIN and END that do not pair) is one run.

use std::collections::HashMap;
use std::io::BufRead;

use super::event::{ParsedCalendar, read_calendar};

/// A stretch of the file to read on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// Byte range in the file; runs follow each other and cover it.
    pub start: u64,
    pub end: u64,
    /// 1-based line of the run's first byte.
    pub first_line: usize,
    /// The enclosing calendar's BEGIN line, properties and time zones, as written, when the run
    /// starts inside a calendar; empty otherwise.
    pub prefix: String,
    /// Physical lines in `prefix`.
    prefix_lines: usize,
}

/// A component directly inside a VCALENDAR: where it starts and the UID it groups under.
struct Child {
    start: u64,
    line: usize,
    uid: Option<String>,
}

/// A VCALENDAR as the first pass saw it.
#[derive(Default)]
struct Calendar {
    begin_text: String,
    /// The calendar's properties and VTIMEZONEs, as written, in order.
    meta: String,
    /// Index in `children` of the first component after the last property or VTIMEZONE.
    first_after_meta: usize,
    children: Vec<Child>,
}

/// The first pass: where the file (read from `reader`) may be cut, grouped into runs of about
/// `target` bytes.
pub fn split_runs(reader: impl BufRead, target: u64) -> std::io::Result<Vec<Run>> {
    let scan = scan(reader)?;
    let mut runs = Vec::new();
    let mut open = Run {
        start: 0,
        end: 0,
        first_line: 1,
        prefix: String::new(),
        prefix_lines: 0,
    };
    if !scan.tainted {
        for (begin, cal) in &scan.calendars {
            // A new calendar is a place to cut, with nothing in front.
            if begin.0 - open.start >= target {
                open = cut(&mut runs, open, begin.0, begin.1, String::new());
            }
            let prefix = format!("{}{}", cal.begin_text, cal.meta);
            for i in cuttable(cal) {
                let child = &cal.children[i];
                if child.start - open.start >= target {
                    open = cut(&mut runs, open, child.start, child.line, prefix.clone());
                }
            }
        }
    }
    open.end = scan.len;
    if open.end > open.start || runs.is_empty() {
        runs.push(open);
    }
    Ok(runs)
}

/// Ends `open` at `at` and starts the next run there.
fn cut(runs: &mut Vec<Run>, mut open: Run, at: u64, line: usize, prefix: String) -> Run {
    open.end = at;
    runs.push(open);
    Run {
        start: at,
        end: at,
        first_line: line,
        prefix_lines: prefix.matches('\n').count(),
        prefix,
    }
}

/// Indexes of the children a run may start at: past the calendar's own properties and zones, and
/// with no UID open across the cut.
fn cuttable(cal: &Calendar) -> Vec<usize> {
    let mut last_of: HashMap<&str, usize> = HashMap::new();
    for (i, c) in cal.children.iter().enumerate() {
        if let Some(uid) = &c.uid {
            last_of.insert(uid, i);
        }
    }
    let mut out = Vec::new();
    let mut open_until = 0;
    for (i, c) in cal.children.iter().enumerate() {
        if i > 0 && i >= cal.first_after_meta && open_until < i {
            out.push(i);
        }
        if let Some(uid) = &c.uid {
            open_until = open_until.max(last_of[uid.as_str()]);
        }
    }
    out
}

/// Reads one run (`body` is its text) as a read of the whole file would read that part of it: its
/// items, and the errors on its own lines.
pub fn read_run(run: &Run, body: &str) -> ParsedCalendar {
    let padding = run.first_line.saturating_sub(1 + run.prefix_lines);
    // A byte-order mark is not text: read without it, the spans the reader gives match the text.
    let body = body.strip_prefix('\u{feff}').unwrap_or(body);
    let mut src = String::with_capacity(padding + run.prefix.len() + body.len());
    src.extend(std::iter::repeat_n('\n', padding));
    src.push_str(&run.prefix);
    src.push_str(body);
    let mut parsed = read_calendar(&src);
    // What the prefix holds was reported by the run that holds those lines.
    parsed.errors.retain(|e| e.line >= run.first_line);
    parsed
}

struct Scan {
    calendars: Vec<((u64, usize), Calendar)>,
    len: u64,
    tainted: bool,
}

/// One unfolded line: where it starts, its text, and the bytes it covers (folds and blank lines after).
struct Logical {
    start: u64,
    line: usize,
    /// Whether `raw` is kept: for lines of the calendar itself and its time zones.
    keep: bool,
    text: String,
    raw: Vec<u8>,
}

fn scan(mut reader: impl BufRead) -> std::io::Result<Scan> {
    let mut out = Scan {
        calendars: Vec::new(),
        len: 0,
        tainted: false,
    };
    let mut stack: Vec<String> = Vec::new();
    let mut pending: Option<Logical> = None;
    let mut buf = Vec::new();
    let mut offset = 0u64;
    let mut line = 0usize;
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf)?;
        if n == 0 {
            break;
        }
        line += 1;
        let start = offset;
        offset += n as u64;
        let decoded = String::from_utf8_lossy(&buf);
        let content = match line {
            1 => decoded.trim_start_matches('\u{feff}'),
            _ => &decoded,
        }
        .trim_end_matches(['\n', '\r']);
        let continues = content.starts_with([' ', '\t']);
        if let Some(p) = pending.as_mut()
            && (continues || content.trim().is_empty())
        {
            if continues {
                p.text.push_str(&content[1..]);
            }
            if p.keep {
                p.raw.extend_from_slice(&buf);
            }
            continue;
        }
        if content.trim().is_empty() {
            continue;
        }
        if let Some(done) = pending.take() {
            step(&mut out, &mut stack, done);
        }
        // Only the calendar's own lines are kept as written (see `step`).
        let keep = stack.len() <= 1 || stack.get(1).is_some_and(|c| c == "VTIMEZONE");
        pending = Some(Logical {
            start,
            line,
            text: content.to_string(),
            keep,
            raw: if keep { buf.clone() } else { Vec::new() },
        });
    }
    if let Some(done) = pending.take() {
        step(&mut out, &mut stack, done);
    }
    out.len = offset;
    Ok(out)
}

/// Follows one logical line: the component stack, the calendars, their direct children, and the
/// text every run of a calendar carries (its properties and VTIMEZONEs).
fn step(out: &mut Scan, stack: &mut Vec<String>, l: Logical) {
    let (name, value) = split_property(&l.text);
    let in_zone = stack.get(1).is_some_and(|c| c == "VTIMEZONE");
    let mut meta = in_zone;
    match name.as_str() {
        "BEGIN" => {
            let component = value.trim().to_ascii_uppercase();
            match stack.len() {
                0 if component == "VCALENDAR" => out.calendars.push((
                    (l.start, l.line),
                    Calendar {
                        begin_text: String::from_utf8_lossy(&l.raw)
                            .trim_start_matches('\u{feff}')
                            .to_string(),
                        ..Calendar::default()
                    },
                )),
                0 => out.tainted = true,
                1 => {
                    if let Some((_, cal)) = out.calendars.last_mut() {
                        cal.children.push(Child {
                            start: l.start,
                            line: l.line,
                            uid: None,
                        });
                        if component == "VTIMEZONE" {
                            meta = true;
                        }
                    }
                }
                _ => {}
            }
            stack.push(component);
        }
        "END" => {
            // Only a well-paired file is cut.
            if stack.last().map(String::as_str) == Some(value.trim().to_ascii_uppercase().as_str())
            {
                stack.pop();
            } else {
                out.tainted = true;
            }
        }
        _ => match stack.len() {
            0 => out.tainted = true,
            1 => meta = true,
            2 if name == "UID" && !in_zone => {
                if let Some(child) = out
                    .calendars
                    .last_mut()
                    .and_then(|(_, c)| c.children.last_mut())
                    && child.uid.is_none()
                {
                    let uid = value.trim();
                    child.uid = (!uid.is_empty()).then(|| uid.to_string());
                }
            }
            _ => {}
        },
    }
    if meta && let Some((_, cal)) = out.calendars.last_mut() {
        cal.meta.push_str(&String::from_utf8_lossy(&l.raw));
        cal.first_after_meta = cal.children.len();
    }
}

/// The upper-cased name and the value of a content line; the value starts at the first ':' outside
/// a quoted parameter value.
fn split_property(text: &str) -> (String, &str) {
    let name_end = text.find([';', ':']).unwrap_or(text.len());
    let mut quoted = false;
    for (i, c) in text.char_indices().skip(name_end) {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => return (text[..name_end].to_ascii_uppercase(), &text[i + 1..]),
            _ => {}
        }
    }
    (text[..name_end].to_ascii_uppercase(), "")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `src` run by run, as `almanac import` does.
    fn read_by_runs(src: &str, target: u64) -> (Vec<Run>, ParsedCalendar) {
        let runs = split_runs(src.as_bytes(), target).expect("reading from memory");
        let mut all = ParsedCalendar::default();
        for run in &runs {
            let body = &src[run.start as usize..run.end as usize];
            let part = read_run(run, body);
            all.items.extend(part.items);
            all.errors.extend(part.errors);
            all.name = all.name.or(part.name);
        }
        (runs, all)
    }

    fn event(uid: &str, day: u32, extra: &str) -> String {
        format!(
            "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART;TZID=Office:202611{day:02}T090000\r\n\
             DTEND;TZID=Office:202611{day:02}T100000\r\nSUMMARY:Meeting {uid} with a summary long \r\n \
             enough to fold\r\n{extra}END:VEVENT\r\n"
        )
    }

    /// A calendar with a custom zone and a default zone, a series whose override comes a dozen items later,
    /// broken and UID-less events, blank lines, and a second VCALENDAR.
    fn awkward_file() -> String {
        let mut src = String::from(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nX-WR-CALNAME:Awkward\r\nX-WR-TIMEZONE:Europe/Berlin\r\n\
             BEGIN:VTIMEZONE\r\nTZID:Office\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n\
             TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n",
        );
        src += &event("series", 2, "RRULE:FREQ=DAILY;COUNT=20\r\n");
        for n in 0..30 {
            src += &event(&format!("e{n}"), 3 + n % 20, "");
            if n == 10 {
                src += "BEGIN:VEVENT\r\nUID:broken\r\nDTSTART:not a time\r\nEND:VEVENT\r\n\r\n\r\n";
                src +=
                    "BEGIN:VEVENT\r\nDTSTART:20261105T090000Z\r\nSUMMARY:no uid\r\nEND:VEVENT\r\n";
                src += "BEGIN:VEVENT\r\nUID:bad-line\r\nthis line has no colon\r\nEND:VEVENT\r\n";
            }
            if n == 12 {
                src += &event("series", 9, "RECURRENCE-ID;TZID=Office:20261109T090000\r\n");
            }
        }
        src += "END:VCALENDAR\r\nBEGIN:VCALENDAR\r\nVERSION:2.0\r\n";
        for n in 0..10 {
            src += &event(&format!("second{n}"), 20, "");
        }
        src += "END:VCALENDAR\r\n";
        src
    }

    #[test]
    fn a_file_read_run_by_run_gives_what_the_whole_file_gives() {
        let src = awkward_file();
        let whole = read_calendar(&src);
        let (runs, parts) = read_by_runs(&src, 600);
        assert!(runs.len() > 5, "{} runs", runs.len());
        assert_eq!(parts.items, whole.items);
        assert_eq!(parts.errors, whole.errors);
        assert_eq!(parts.name.as_deref(), Some("Awkward"));
        let series = parts
            .items
            .iter()
            .find(|i| i.uid == "series")
            .expect("the series");
        assert_eq!(
            series.events.len(),
            2,
            "the master and its far override stay one item"
        );
        assert!(whole.errors.len() >= 3, "{:?}", whole.errors);
    }

    #[test]
    fn runs_cover_the_file_and_start_after_the_calendars_own_text() {
        let src = awkward_file();
        let runs = split_runs(src.as_bytes(), 600).expect("reading from memory");
        assert_eq!(runs[0].start, 0);
        assert_eq!(runs.last().map(|r| r.end), Some(src.len() as u64));
        assert!(runs.windows(2).all(|w| w[0].end == w[1].start));
        let zone_end = src.find("END:VTIMEZONE").expect("a zone") as u64;
        assert!(runs[1].start > zone_end);
        assert!(runs[1].prefix.contains("X-WR-TIMEZONE") && runs[1].prefix.contains("TZID:Office"));
    }

    #[test]
    fn every_fixture_read_in_the_smallest_runs_gives_what_the_whole_file_gives() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
        let mut files = 0;
        for entry in std::fs::read_dir(dir).expect("the fixtures") {
            let path = entry.expect("a fixture").path();
            if path.extension().is_none_or(|e| e != "ics") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("a fixture");
            // As written, and with bare LF line ends.
            for src in [text.clone(), text.replace("\r\n", "\n")] {
                let whole = read_calendar(&src);
                let (_, parts) = read_by_runs(&src, 1);
                assert_eq!(parts.items, whole.items, "{}", path.display());
                assert_eq!(parts.errors, whole.errors, "{}", path.display());
            }
            // A byte-order mark changes nothing.
            let (_, marked) = read_by_runs(&format!("\u{feff}{text}"), 1);
            assert_eq!(
                marked.items,
                read_calendar(&text).items,
                "{}",
                path.display()
            );
            files += 1;
        }
        assert!(files >= 4);
    }

    #[test]
    fn a_file_whose_begin_and_end_do_not_pair_is_one_run() {
        let mut src = awkward_file();
        src = src.replacen("END:VEVENT\r\n", "END:VTODO\r\n", 1);
        let runs = split_runs(src.as_bytes(), 600).expect("reading from memory");
        assert_eq!(runs.len(), 1);
        let (_, parts) = read_by_runs(&src, 600);
        let whole = read_calendar(&src);
        assert_eq!((parts.items, parts.errors), (whole.items, whole.errors));
    }
}
