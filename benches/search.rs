//! Search cost at 100,000 cached events: the first page (200 occurrences, nearest first) of a
//! common word, a prefix as typed, a phrase, and an attendee. See `benches/README.md`.
//!
//! The cache is built once through the real reader and `Store::import_items`, as `almanac import`
//! would write it: events over four years around 2026-11-23 in five calendars, one in fifty a
//! weekly series, one in ten with attendees.
//!
//! Run: `CARGO_TARGET_DIR=/work/bench-target cargo bench --bench search`

use std::fmt::Write as _;
use std::hint::black_box;

use almanac::domain::read_calendar;
use almanac::store::{SearchQuery, Store};
use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
use criterion::{Criterion, criterion_group, criterion_main};

#[path = "support/vocabulary.rs"]
mod vocabulary;
use vocabulary::WORDS;

const EVENTS: usize = 100_000;
const SPAN_DAYS: u64 = 4 * 365;
const DISPLAY_ZONE: Tz = chrono_tz::Europe::Berlin;
const PEOPLE: [&str; 8] = [
    "Ana Lima",
    "Priya Nair",
    "Lee Chen",
    "Sam Berg",
    "Zoë Quist",
    "Ingrid Holm",
    "Tom Okafor",
    "Mia Rossi",
];
const CALENDARS: [&str; 5] = ["Work", "Personal", "Family", "Team", "Holidays"];

/// splitmix64: the same cache on every run and machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn build() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut rng = Rng(14);
    let first = today() - Duration::days(SPAN_DAYS as i64 / 2);
    for (c, cal) in CALENDARS.iter().enumerate() {
        let id = store.local_calendar(cal).unwrap();
        let mut text = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//b//EN\r\n");
        for n in (c..EVENTS).step_by(CALENDARS.len()) {
            let day = first + Duration::days(rng.below(SPAN_DAYS) as i64);
            let start = day.and_hms_opt(7 + rng.below(12) as u32, 0, 0).unwrap();
            let fmt = "%Y%m%dT%H%M%S";
            let _ = write!(
                text,
                "BEGIN:VEVENT\r\nUID:{n}@bench\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Berlin:{}\r\nDURATION:PT1H\r\nSUMMARY:{} {} #{n}\r\n",
                start.format(fmt),
                WORDS[rng.below(16) as usize],
                WORDS[rng.below(16) as usize].to_lowercase(),
            );
            if rng.below(50) == 0 {
                text.push_str("RRULE:FREQ=WEEKLY;COUNT=30\r\n");
            }
            if rng.below(10) == 0 {
                let who = PEOPLE[rng.below(8) as usize];
                let mail = who.split(' ').next().unwrap().to_lowercase();
                let _ = write!(text, "ATTENDEE;CN={who}:mailto:{mail}@example.org\r\n");
            }
            if rng.below(3) == 0 {
                text.push_str("DESCRIPTION:Agenda: status\\, next steps\r\n");
            }
            text.push_str("END:VEVENT\r\n");
        }
        text.push_str("END:VCALENDAR\r\n");
        store
            .import_items(id, &read_calendar(&text).items, 0)
            .unwrap();
    }
    (dir, store)
}

fn bench(c: &mut Criterion) {
    let (_dir, store) = build();
    let reader = store.reader().unwrap();
    let around = today().and_hms_opt(11, 0, 0).unwrap().and_utc();
    let mut group = c.benchmark_group("search/100000");
    for (name, text) in [
        ("word", "dentist"),
        ("prefix_as_typed", "plan"),
        ("two_words", "budget review"),
        ("phrase", "\"budget review\""),
        ("attendee", "ingrid"),
        ("no_match", "zeppelin"),
    ] {
        let query = SearchQuery::around(text, around, &DISPLAY_ZONE, 200);
        let found = reader.search(&query, &DISPLAY_ZONE).unwrap().len();
        eprintln!("{name}: '{text}' → {found} occurrences on the first page");
        group.bench_function(name, |b| {
            b.iter(|| black_box(reader.search(&query, &DISPLAY_ZONE).unwrap()))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
