//! No input makes the reader or the recurrence expansion panic: random bytes, and real files
//! mutated byte by byte, truncated and spliced, plus hostile RRULE values. Deterministic (seeded),
//! so a failure reproduces.

use almanac::app::sample::SAMPLE_ICS;
use almanac::domain::read_calendar;
use almanac::domain::series::item_occurrences;
use chrono::NaiveDate;

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
