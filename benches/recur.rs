//! Issue 3's goal: expanding a calendar with 1,000 recurring masters over one month (the visible
//! weeks, through the real reader) under 10 ms median; and what a far-future window costs.
//! Issue 10's goal: the costliest rule of the fuzz corpus (`COSTLY_RULES` in tests/fuzz_reader.rs)
//! expands a one-week window in under 5 ms.

use std::hint::black_box;

use almanac::domain::read_calendar;
use almanac::domain::series::item_occurrences;
use almanac::store::Store;
use chrono::NaiveDate;
use chrono_tz::Tz;
use criterion::{Criterion, criterion_group, criterion_main};

/// 1,000 masters of the shapes real calendars hold: daily, weekdays, weekly on some days, every
/// other week, monthly by day and by weekday, yearly; some with COUNT or UNTIL, some with EXDATEs
/// and an override; in Berlin, New York, UTC and floating time; started over the last five years.
fn calendar(n: usize) -> String {
    let rules = [
        "FREQ=DAILY",
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        "FREQ=WEEKLY;BYDAY=TU,TH",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR",
        "FREQ=MONTHLY;BYMONTHDAY=15",
        "FREQ=MONTHLY;BYDAY=-1FR",
        "FREQ=YEARLY",
        "FREQ=WEEKLY;COUNT=200",
        "FREQ=DAILY;UNTIL=20301231T000000Z",
        "FREQ=MONTHLY;BYDAY=2MO;BYSETPOS=1",
    ];
    let zones = ["TZID=Europe/Berlin:", "TZID=America/New_York:", "", ""];
    let mut s = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n");
    for i in 0..n {
        let year = 2021 + (i % 5);
        let month = 1 + (i % 12);
        let day = 1 + (i % 27);
        let hour = 7 + (i % 11);
        let zone = zones[i % zones.len()];
        let (dtstart, utc) = if zone.is_empty() && i % 8 == 2 {
            ("DTSTART:".to_string(), "Z")
        } else {
            (format!("DTSTART;{}", zone.trim_end_matches(':')), "")
        };
        let sep = if dtstart.ends_with(':') { "" } else { ":" };
        s.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:r{i}\r\n{dtstart}{sep}{year}{month:02}{day:02}T{hour:02}0000{utc}\r\nDURATION:PT45M\r\nRRULE:{}\r\nSUMMARY:Series {i}\r\n",
            rules[i % rules.len()]
        ));
        if i % 7 == 0 {
            s.push_str(&format!(
                "EXDATE:{year}{month:02}{day:02}T{hour:02}0000{utc}\r\n"
            ));
        }
        s.push_str("END:VEVENT\r\n");
    }
    s.push_str("END:VCALENDAR\r\n");
    s.replace("DTSTART;:", "DTSTART:")
}

fn expand(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let cal = store.local_calendar("series").unwrap();
    let parsed = read_calendar(&calendar(1000));
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    store.import_items(cal, &parsed.items, 0).unwrap();
    let reader = store.reader().unwrap();
    let zone = Tz::Europe__Berlin;
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let month = reader
        .occurrences(d(2026, 10, 26), d(2026, 12, 6), &zone)
        .unwrap();
    let far = reader
        .occurrences(d(2090, 2, 27), d(2090, 4, 9), &zone)
        .unwrap();
    eprintln!(
        "1,000 masters: {} occurrences in Nov 2026's grid, {} in Mar 2090's",
        month.len(),
        far.len()
    );

    let mut g = c.benchmark_group("recur_1000_masters");
    g.bench_function("visible_weeks_nov_2026", |b| {
        b.iter(|| {
            reader
                .occurrences(black_box(d(2026, 10, 26)), d(2026, 12, 6), &zone)
                .unwrap()
        })
    });
    g.bench_function("visible_weeks_mar_2090", |b| {
        b.iter(|| {
            reader
                .occurrences(black_box(d(2090, 2, 27)), d(2090, 4, 9), &zone)
                .unwrap()
        })
    });
    g.finish();
}

/// The costliest rules of the fuzz corpus, one week each: COUNT counted from 1900 by a rule that
/// matches once in four years, and the minutely COUNT from 2019.
fn costly(c: &mut Criterion) {
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let mut g = c.benchmark_group("recur_costly_rule_one_week");
    for (name, rule, start) in [
        (
            "daily_feb29_count_from_1900",
            "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;COUNT=9999999",
            "19000101T090000Z",
        ),
        (
            "minutely_count_from_2019",
            "FREQ=MINUTELY;COUNT=9999999",
            "20190101T000000Z",
        ),
    ] {
        let parsed = read_calendar(&format!(
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:c\r\nDTSTART:{start}\r\nDURATION:PT15M\r\nRRULE:{rule}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        ));
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let events = &parsed.items[0].events;
        g.bench_function(name, |b| {
            b.iter(|| item_occurrences(black_box(events), 1, d(2026, 11, 23), d(2026, 11, 29)))
        });
    }
    g.finish();
}

criterion_group!(benches, expand, costly);
criterion_main!(benches);
