//! No input makes the reader or the recurrence expansion panic: random bytes, and real files
//! mutated byte by byte, truncated and spliced, plus hostile RRULE values. Deterministic (seeded),
//! so a failure reproduces. Deep nesting and costly rules are also held to a time and memory bound.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, Instant};

use almanac::app::sample::SAMPLE_ICS;
use almanac::domain::read_calendar;
use almanac::domain::series::item_occurrences;
use chrono::NaiveDate;

/// Counts the bytes each thread holds, so a test can bound the memory its own work takes.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every call is passed on to the system allocator unchanged; only sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        track(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        track(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        track(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// Runs `work` and returns how long it took and the most memory it held at once, in bytes.
fn measured(work: impl FnOnce()) -> (Duration, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let started = Instant::now();
    work();
    let took = started.elapsed();
    (took, (PEAK.with(Cell::get) - base).max(0) as usize)
}

/// xorshift64*: small, deterministic, good enough to drive mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn exercise(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let cal = read_calendar(&text);
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    for item in &cal.items {
        let _ = item_occurrences(&item.events, 1, d(2026, 10, 26), d(2026, 12, 6));
        let _ = item_occurrences(&item.events, 1, d(2090, 1, 1), d(2090, 1, 31));
    }
}

const SEEDS: &[&str] = &[
    SAMPLE_ICS,
    include_str!("fixtures/recurring.ics"),
    include_str!("fixtures/zones.ics"),
    include_str!("fixtures/malformed.ics"),
];

/// Fragments that reach the interesting code: rules, zones, dates, folding, parameters.
const FRAGMENTS: &[&str] = &[
    "RRULE:FREQ=DAILY;INTERVAL=0\r\n",
    "RRULE:FREQ=WEEKLY;BYDAY=99MO,-0TU\r\n",
    "RRULE:FREQ=MONTHLY;BYMONTHDAY=-40;BYSETPOS=400\r\n",
    "RRULE:FREQ=YEARLY;BYWEEKNO=54;BYYEARDAY=-367\r\n",
    "RRULE:FREQ=SECONDLY;COUNT=4294967296\r\n",
    "RRULE:FREQ=DAILY;UNTIL=19000101\r\n",
    "RRULE:FREQ=WEEKLY;COUNT=0\r\n",
    "RRULE:;;==;\r\n",
    "RRULE:FREQ=DAILY;INTERVAL=9223372036854775807\r\n",
    "RRULE:FREQ=WEEKLY;INTERVAL=99999999999;COUNT=99999999999\r\n",
    "RRULE:FREQ=DAILY;COUNT=9223372036854775807\r\n",
    "RRULE:FREQ=WEEKLY;BYDAY=MO,TU;UNTIL=99991231T235959Z\r\n",
    "EXDATE;VALUE=PERIOD:20261123T090000Z/\r\n",
    "RDATE;VALUE=PERIOD:20261123T090000Z/P\r\n",
    "RDATE:99999999T999999\r\n",
    "DTSTART;TZID=\"unterminated:20261123T090000\r\n",
    "DTSTART;TZID=W. Europe Standard Time:20261123T090000\r\n",
    "DURATION:-P99999999W\r\n",
    "RECURRENCE-ID;RANGE=THISANDFUTURE:00000000T000000Z\r\n",
    "BEGIN:VTIMEZONE\r\nTZID:X\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\nRRULE:FREQ=YEARLY;BYDAY=5SU;BYMONTH=2\r\nTZOFFSETFROM:+9999\r\nTZOFFSETTO:-9999\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n",
    "END:VEVENT\r\n",
    "BEGIN:VEVENT\r\n",
    " folded continuation\r\n",
    "\u{202e}\x1b[2J\r\n",
];

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..20_000 {
        let len = rng.below(400);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        exercise(&bytes);
    }
}

#[test]
fn mutated_real_files_never_panic() {
    let mut rng = Rng(42);
    for round in 0..10_000 {
        let seed = SEEDS[round % SEEDS.len()].as_bytes();
        let mut bytes = seed.to_vec();
        for _ in 0..1 + rng.below(6) {
            match rng.below(5) {
                0 if !bytes.is_empty() => {
                    let i = rng.below(bytes.len());
                    bytes[i] = rng.next() as u8;
                }
                1 if !bytes.is_empty() => bytes.truncate(rng.below(bytes.len())),
                2 => {
                    let i = rng.below(bytes.len() + 1);
                    let frag = FRAGMENTS[rng.below(FRAGMENTS.len())].as_bytes();
                    bytes.splice(i..i, frag.iter().copied());
                }
                3 if bytes.len() > 2 => {
                    // Move a line elsewhere: ENDs before BEGINs, properties out of components.
                    let a = rng.below(bytes.len());
                    let b = (a + rng.below(80)).min(bytes.len());
                    let chunk: Vec<u8> = bytes.drain(a..b).collect();
                    let at = rng.below(bytes.len() + 1);
                    bytes.splice(at..at, chunk);
                }
                _ => {
                    // Put a hostile fragment at a line start inside an event.
                    if let Some(pos) = find(&bytes, b"SUMMARY") {
                        let frag = FRAGMENTS[rng.below(FRAGMENTS.len())].as_bytes();
                        bytes.splice(pos..pos, frag.iter().copied());
                    }
                }
            }
        }
        exercise(&bytes);
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A VEVENT whose VALARM holds `levels` components, each inside the last, then a good event.
fn nested(levels: usize) -> String {
    let mut s = String::from(
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:deep\r\nDTSTART:20261123T090000Z\r\nBEGIN:VALARM\r\n",
    );
    s.push_str(&"BEGIN:VALARM\r\n".repeat(levels));
    s.push_str(&"END:VALARM\r\n".repeat(levels));
    s.push_str("END:VALARM\r\nEND:VEVENT\r\n");
    s.push_str(
        "BEGIN:VEVENT\r\nUID:next\r\nDTSTART:20261123T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    s
}

#[test]
fn deep_nesting_is_read_in_bounded_time_and_memory_and_listed() {
    for levels in [1_000, 100_000, 400_000] {
        let src = nested(levels);
        let mut cal = None;
        let (took, peak) = measured(|| cal = Some(read_calendar(&src)));
        let cal = cal.expect("read");
        assert_eq!(cal.items.len(), 1, "{levels}: the next event survives");
        assert_eq!(cal.items[0].uid, "next");
        assert_eq!(cal.errors.len(), 1, "{levels}: {:?}", cal.errors);
        assert!(
            cal.errors[0].message.contains("nested"),
            "{}",
            cal.errors[0]
        );
        // Debug build; the reader holds the unfolded lines, a few dozen bytes each.
        assert!(
            took < Duration::from_secs(5),
            "{levels} levels took {took:?}"
        );
        assert!(
            peak < 64 * src.len(),
            "{levels} levels held {peak} bytes for {} of input",
            src.len()
        );
        // Dropping what was read must not recurse either.
        drop(cal);
    }
}

/// Rules that cost the most to expand: COUNT counted from decades back, rules that rarely or never
/// match, dense rules. Each with the DTSTART that makes it costly.
pub const COSTLY_RULES: &[(&str, &str)] = &[
    ("FREQ=MINUTELY;COUNT=9999999", "20190101T000000Z"),
    (
        "FREQ=SECONDLY;INTERVAL=60;COUNT=9999999",
        "20190101T000000Z",
    ),
    ("FREQ=SECONDLY;COUNT=9999999", "20190101T000000Z"),
    (
        "FREQ=HOURLY;BYMINUTE=0,30;COUNT=9999999",
        "20100101T090000Z",
    ),
    ("FREQ=MINUTELY;BYHOUR=9;COUNT=9999999", "20100101T090000Z"),
    (
        "FREQ=MINUTELY;INTERVAL=7;BYHOUR=9,10;BYDAY=MO;COUNT=9999999",
        "19700101T090000Z",
    ),
    (
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;COUNT=9999999",
        "19000101T090000Z",
    ),
    (
        "FREQ=DAILY;BYHOUR=1,2,3,4,5,6,7,8,9,10,11,12;COUNT=9999999",
        "19000101T090000Z",
    ),
    (
        "FREQ=YEARLY;BYWEEKNO=1,20,53;BYDAY=MO,TU,WE,TH,FR,SA,SU;COUNT=9999999",
        "19000101T090000Z",
    ),
    ("FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=31", "20100101T090000Z"),
    (
        "FREQ=SECONDLY;INTERVAL=60;BYMONTH=2;BYMONTHDAY=30;COUNT=5",
        "20100101T090000Z",
    ),
    ("FREQ=MINUTELY;BYSECOND=0,15,30,45", "20100101T090000Z"),
    ("FREQ=YEARLY;BYYEARDAY=366;BYDAY=MO", "19000101T090000Z"),
    (
        "FREQ=WEEKLY;BYHOUR=0,6,12,18;BYMINUTE=0,30;COUNT=9999999",
        "19000101T090000Z",
    ),
    (
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=1,2,3;BYMINUTE=1,2,3;COUNT=9999999",
        "19000101T090000Z",
    ),
    (
        "FREQ=MINUTELY;INTERVAL=1;UNTIL=20991231T000000Z",
        "19700101T000000Z",
    ),
];

#[test]
fn costly_rules_expand_a_week_in_bounded_time_and_memory() {
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    for (rule, start) in COSTLY_RULES {
        let src = format!(
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:c\r\nDTSTART:{start}\r\nDURATION:PT15M\r\nRRULE:{rule}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        );
        let cal = read_calendar(&src);
        let (took, peak) = measured(|| {
            for item in &cal.items {
                let _ = item_occurrences(&item.events, 1, d(2026, 11, 23), d(2026, 11, 29));
            }
        });
        // Debug build: the release figure (benches/recur.rs) is under 5 ms.
        assert!(took < Duration::from_millis(500), "{rule} took {took:?}");
        assert!(peak < 8 << 20, "{rule} held {peak} bytes");
    }
}

/// Bytes that are not UTF-8, dropped into the text of real, well-formed multistatus replies (hrefs,
/// etags, calendar data): the reader never panics, never fails the whole reply for it, loses only
/// the responses they are in, and stays within a time and memory bound.
#[test]
fn invalid_utf8_inside_valid_xml_spoils_only_its_response() {
    use almanac::sync::caldav::xml::parse_multistatus;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/dav");
    let mut rng = Rng(0x005e_ed0f_0b4d);
    let bad: [&[u8]; 4] = [b"\xff", b"\xc3\x28", b"\xe2\x82", b"\xf0\x90\x80"];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let original = std::fs::read(&path).unwrap();
        let clean = parse_multistatus(&original).expect("the fixture reads");
        // Places inside character data: right after a '>' that is followed by text.
        let spots: Vec<usize> = original
            .windows(2)
            .enumerate()
            .filter(|(_, w)| w[0] == b'>' && w[1] != b'<' && !w[1].is_ascii_whitespace())
            .map(|(i, _)| i + 1)
            .collect();
        for _ in 0..200 {
            let Some(&at) = spots.get(rng.below(spots.len())) else {
                break;
            };
            let mut body = original.clone();
            let junk = bad[rng.below(bad.len())];
            body.splice(at..at, junk.iter().copied());
            let mut parsed = None;
            let (took, peak) = measured(|| parsed = Some(parse_multistatus(&body)));
            let parsed = parsed.unwrap();
            let ms = parsed.unwrap_or_else(|e| {
                panic!(
                    "{}: one bad byte at {at} failed the whole reply: {e}",
                    path.display()
                )
            });
            // At most the response holding the bytes is lost (or its data marked unreadable).
            assert!(
                ms.responses.len() + 1 >= clean.responses.len(),
                "{}: {} of {} responses left",
                path.display(),
                ms.responses.len(),
                clean.responses.len()
            );
            assert!(took < Duration::from_secs(1), "{took:?}");
            assert!(
                peak < 64 * body.len() + (1 << 20),
                "{peak} bytes for {}",
                body.len()
            );
        }
    }
}
