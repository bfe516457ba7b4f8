//! Reminders at 100,000 cached events, each with an alarm, plus 500 daily series with alarms:
//! finding the reminders due in the next minute (one range read on the alarm index), a claim
//! as the TUI's alarm clock makes it every 10 s, and building the index the first time.
//! See `benches/README.md`.
//!
//! Run: `CARGO_TARGET_DIR=/work/bench-target cargo bench --bench reminders`

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Instant;

use almanac::domain::read_calendar;
use almanac::store::Store;
use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};

const EVENTS: usize = 100_000;
const SERIES: usize = 500;
const BATCH: usize = 2_000;
const ZONE: chrono_tz::Tz = chrono_tz::Europe::Berlin;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 8, 50, 0).unwrap()
}

/// Single events every 5 minutes over a year around `now` (a 10-minute alarm each), and daily
/// series (a 15-minute alarm each).
fn build(dir: &std::path::Path) -> Store {
    let mut store = Store::open(dir).unwrap();
    let cal = store.local_calendar("Bench").unwrap();
    let first = now() - Duration::days(180);
    let stamp = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    let alarm = |trigger: &str| {
        format!(
            "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:r\r\nTRIGGER:{trigger}\r\nEND:VALARM\r\n"
        )
    };
    let mut text = String::new();
    let flush = |text: &mut String, store: &mut Store| {
        let doc = format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{text}END:VCALENDAR\r\n");
        store
            .import_items(cal, &read_calendar(&doc).items, 0)
            .unwrap();
        text.clear();
    };
    for i in 0..EVENTS + SERIES {
        let (start, rule) = if i < EVENTS {
            (first + Duration::minutes(5 * i as i64), String::new())
        } else {
            (
                first + Duration::minutes(7 * (i - EVENTS) as i64),
                "RRULE:FREQ=DAILY\r\n".to_string(),
            )
        };
        let trigger = if rule.is_empty() { "-PT10M" } else { "-PT15M" };
        let _ = write!(
            text,
            "BEGIN:VEVENT\r\nUID:e{i}\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Event {i}\r\n\
             DTSTART:{}\r\nDTEND:{}\r\n{rule}{}END:VEVENT\r\n",
            stamp(start),
            stamp(start + Duration::minutes(30)),
            alarm(trigger)
        );
        if (i + 1) % BATCH == 0 {
            flush(&mut text, &mut store);
        }
    }
    if !text.is_empty() {
        flush(&mut text, &mut store);
    }
    store
}

fn reminders(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = build(dir.path());
    let began = Instant::now();
    store.keep_horizon(now(), &ZONE).unwrap();
    eprintln!(
        "index built (100,000 events + 500 daily series) in {:.1} ms",
        began.elapsed().as_secs_f64() * 1000.0
    );
    let mut g = c.benchmark_group("reminders_100000");
    g.bench_function("due_in_next_minute", |b| {
        b.iter(|| {
            let n = now();
            black_box(
                store
                    .reminders_between(n, n + Duration::minutes(1), n)
                    .unwrap(),
            )
        })
    });
    // The first claim takes everything of the last 24 h; later ones find nothing new.
    store.claim_reminders(now(), &ZONE).unwrap();
    g.bench_function("claim_tick", |b| {
        b.iter(|| black_box(store.claim_reminders(now(), &ZONE).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, reminders);
criterion_main!(benches);
