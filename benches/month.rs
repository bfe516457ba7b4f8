//! Month view cost at 10,000 and 100,000 cached events: read the window the app asks for, lay it out,
//! draw it; and the same for the week, day and agenda views. See `benches/README.md` for how to run it and the results.
//!
//! The cache is built once per size in a temporary directory, through the public API and the real
//! iCalendar reader (`read_calendar` on generated VEVENT text, then `Store::import_items` in batches),
//! so the rows are exactly what `almanac import` would write.
//!
//! Run: `CARGO_TARGET_DIR=/work/bench-target cargo bench --bench month`
//! Filter: `... cargo bench --bench month -- 100000/load_layout_draw`

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use almanac::app::update::select;
use almanac::app::views::View;
use almanac::app::{Command, Model, Msg, update};
use almanac::config::Clock;
use almanac::domain::read_calendar;
use almanac::store::{Store, StoreReader};
use almanac::ui;
use chrono::{Datelike, NaiveDate, Weekday};
use chrono_tz::Tz;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

#[path = "support/vocabulary.rs"]
mod vocabulary;
use vocabulary::WORDS;

const SIZES: [usize; 2] = [10_000, 100_000];
/// The day the app is opened on (as `ALMANAC_TODAY=2026-11-23`).
const TODAY: (i32, u32, u32) = (2026, 11, 23);
/// Events are spread over four years centred on `TODAY`.
const SPAN_DAYS: i64 = 4 * 365;
const DISPLAY_ZONE: Tz = chrono_tz::Europe::Berlin;
const BATCH: usize = 2_000;

/// A small deterministic PRNG (splitmix64): the same cache on every run and machine.
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
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// Calendars and their share of the events.
const CALENDARS: [(&str, f64); 5] = [
    ("Work", 0.45),
    ("Personal", 0.25),
    ("Family", 0.15),
    ("Team", 0.10),
    ("Holidays", 0.05),
];
/// Zones timed events are written in, and their share (`None`: a UTC time, `…Z`).
const ZONES: [(Option<&str>, f64); 4] = [
    (Some("Europe/Berlin"), 0.60),
    (Some("America/New_York"), 0.20),
    (Some("Asia/Tokyo"), 0.10),
    (None, 0.10),
];
const PLACES: [&str; 6] = [
    "Room 4.12",
    "Café Einstein, Kurfürstenstraße 58",
    "https://meet.example.com/abc-defg-hij",
    "Home",
    "Hauptbahnhof",
    "Building B, 2nd floor",
];

fn weighted<T: Copy>(rng: &mut Rng, table: &[(T, f64)]) -> T {
    let mut x = rng.unit();
    for &(v, w) in table {
        if x < w {
            return v;
        }
        x -= w;
    }
    table[table.len() - 1].0
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// Appends one VEVENT: ~93% timed 30–120 min, ~5% all-day, ~1% multi-day (2–10 days), ~1% cancelled,
/// 0.05% long (3–8 weeks). Weekdays get 2.5× the events of weekend days.
fn push_event(out: &mut String, rng: &mut Rng, cal: &str, n: usize) {
    let first = NaiveDate::from_ymd_opt(TODAY.0, TODAY.1, TODAY.2).unwrap()
        - chrono::Duration::days(SPAN_DAYS / 2);
    let day = loop {
        let d = first + chrono::Duration::days(rng.below(SPAN_DAYS as u64) as i64);
        let weekend = matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
        if !weekend || rng.unit() < 0.4 {
            break d;
        }
    };
    let summary = format!(
        "{} {} #{n}",
        rng.pick(&WORDS),
        rng.pick(&WORDS).to_lowercase()
    );
    let _ = write!(
        out,
        "BEGIN:VEVENT\r\nUID:{n:06}-{cal}@bench.almanac\r\nDTSTAMP:20260101T000000Z\r\n"
    );
    let kind = rng.unit();
    if kind < 0.0005 {
        let days = 7 * (3 + rng.below(6)) as i64;
        let _ = write!(
            out,
            "DTSTART;VALUE=DATE:{}\r\nDTEND;VALUE=DATE:{}\r\n",
            ymd(day),
            ymd(day + chrono::Duration::days(days))
        );
    } else if kind < 0.0105 {
        // Multi-day: half as date ranges (a trip), half timed across midnights (a conference).
        let days = 2 + rng.below(9) as i64;
        if rng.unit() < 0.5 {
            let _ = write!(
                out,
                "DTSTART;VALUE=DATE:{}\r\nDTEND;VALUE=DATE:{}\r\n",
                ymd(day),
                ymd(day + chrono::Duration::days(days))
            );
        } else {
            let _ = write!(
                out,
                "DTSTART;TZID=Europe/Berlin:{}T090000\r\nDTEND;TZID=Europe/Berlin:{}T170000\r\n",
                ymd(day),
                ymd(day + chrono::Duration::days(days - 1))
            );
        }
    } else if kind < 0.0605 {
        let _ = write!(
            out,
            "DTSTART;VALUE=DATE:{}\r\nDTEND;VALUE=DATE:{}\r\n",
            ymd(day),
            ymd(day + chrono::Duration::days(1))
        );
    } else {
        let start_min = 7 * 60 + 15 * rng.below(13 * 4) as i64; // 07:00 .. 19:45
        let dur_min = 30 + 15 * rng.below(7) as i64; // 30 .. 120
        let start = day.and_hms_opt(0, 0, 0).unwrap() + chrono::Duration::minutes(start_min);
        let end = start + chrono::Duration::minutes(dur_min);
        let fmt = "%Y%m%dT%H%M%S";
        match weighted(rng, &ZONES) {
            Some(z) => {
                let _ = write!(
                    out,
                    "DTSTART;TZID={z}:{}\r\nDTEND;TZID={z}:{}\r\n",
                    start.format(fmt),
                    end.format(fmt)
                );
            }
            None => {
                let _ = write!(
                    out,
                    "DTSTART:{}Z\r\nDTEND:{}Z\r\n",
                    start.format(fmt),
                    end.format(fmt)
                );
            }
        }
    }
    let _ = write!(out, "SUMMARY:{summary}\r\n");
    if rng.unit() < 0.4 {
        let _ = write!(
            out,
            "LOCATION:{}\r\n",
            rng.pick(&PLACES).replace(',', "\\,")
        );
    }
    if rng.unit() < 0.3 {
        let _ = write!(
            out,
            "DESCRIPTION:Agenda:\\n- status of {}\\n- next steps\\nNotes from last time are in the \r\n shared folder.\r\n",
            rng.pick(&WORDS)
        );
    }
    match rng.below(100) {
        0 => out.push_str("STATUS:CANCELLED\r\n"),
        1..=3 => out.push_str("STATUS:TENTATIVE\r\n"),
        _ => {}
    }
    out.push_str("END:VEVENT\r\n");
}

/// A cache with `n` events in a fresh temporary directory (kept alive by the returned guard).
fn build_cache(n: usize) -> (tempfile::TempDir, PathBuf) {
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut store = Store::open(dir.path()).expect("open the cache");
    let ids: Vec<(&str, i64)> = CALENDARS
        .iter()
        .map(|(name, _)| (*name, store.local_calendar(name).expect("a calendar")))
        .collect();
    let mut rng = Rng(0x0a1a_a0ac_u64 ^ n as u64);
    let now = 1_790_000_000;
    // Per calendar, a VCALENDAR per batch, as `read_calendar` would get it from a file.
    let mut per_cal: Vec<String> = vec![String::new(); ids.len()];
    let mut counts = vec![0usize; ids.len()];
    let flush = |store: &mut Store, c: usize, text: &mut String| {
        if text.is_empty() {
            return;
        }
        let src = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//almanac//bench//EN\r\n{text}END:VCALENDAR\r\n"
        );
        let parsed = read_calendar(&src);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors.first());
        store
            .import_items(ids[c].1, &parsed.items, now)
            .expect("import a batch");
        text.clear();
    };
    for i in 0..n {
        let c = {
            let mut x = rng.unit();
            let mut k = 0;
            while k + 1 < CALENDARS.len() && x >= CALENDARS[k].1 {
                x -= CALENDARS[k].1;
                k += 1;
            }
            k
        };
        push_event(&mut per_cal[c], &mut rng, ids[c].0, i);
        counts[c] += 1;
        if counts[c] % BATCH == 0 {
            flush(&mut store, c, &mut per_cal[c]);
        }
    }
    for (c, text) in per_cal.iter_mut().enumerate() {
        flush(&mut store, c, text);
    }
    let path = store.path().to_path_buf();
    drop(store);
    let count = StoreReader::open_file(&path)
        .and_then(|r| r.event_count())
        .expect("count");
    assert_eq!(count as usize, n);
    eprintln!(
        "built a cache of {n} events in {:.1} s ({:.1} MB)",
        started.elapsed().as_secs_f64(),
        std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6
    );
    (dir, path)
}

/// A model opened on `TODAY` and the load it asks for first (exactly what `app::run` does).
fn model_and_window() -> (Model, NaiveDate, NaiveDate) {
    let today = NaiveDate::from_ymd_opt(TODAY.0, TODAY.1, TODAY.2).unwrap();
    let mut model = Model::new(today, DISPLAY_ZONE, Weekday::Mon, Clock::H24, true);
    model.size = (160, 48);
    let cmds = select(&mut model, today);
    let Some(Command::Load { from, to }) = cmds.into_iter().next() else {
        panic!("opening the month asks for a load");
    };
    assert_eq!((from, to), model.wanted_window());
    (model, from, to)
}

/// What `app::run`'s `load` does: the calendars and the window's occurrences, as a message.
fn load(reader: &StoreReader, from: NaiveDate, to: NaiveDate) -> Msg {
    Msg::Loaded {
        from,
        to,
        calendars: reader.calendars().expect("calendars"),
        occurrences: reader
            .occurrences(from, to, &DISPLAY_ZONE)
            .expect("occurrences"),
    }
}

fn month(c: &mut Criterion) {
    if std::env::var_os("ALMANAC_BENCH_DIAG_ONLY").is_some() {
        return;
    }
    for n in SIZES {
        let (_dir, path) = build_cache(n);
        let reader = StoreReader::open_file(&path).expect("a reader");
        let (mut model, from, to) = model_and_window();
        let msg = load(&reader, from, to);
        if let Msg::Loaded { occurrences, .. } = &msg {
            let shown: usize = {
                update(&mut model, msg.clone());
                model
                    .month
                    .rows
                    .iter()
                    .map(|r| r.bars.len() + r.timed.iter().map(Vec::len).sum::<usize>())
                    .sum()
            };
            eprintln!(
                "{n} events: window {from}..={to} ({} days) holds {} occurrences; the month grid places {shown}",
                (to - from).num_days() + 1,
                occurrences.len()
            );
        }

        let mut g = c.benchmark_group(n.to_string());
        g.sample_size(40)
            .warm_up_time(Duration::from_millis(800))
            .measurement_time(Duration::from_secs(3));

        g.bench_function("load", |b| {
            b.iter(|| black_box(load(&reader, black_box(from), black_box(to))))
        });
        g.bench_function("layout", |b| {
            b.iter_batched(
                || msg.clone(),
                |m| update(&mut model, m),
                BatchSize::LargeInput,
            )
        });
        g.bench_function("load_and_layout", |b| {
            b.iter(|| update(&mut model, load(&reader, from, to)))
        });
        for (w, h) in [(160u16, 48u16), (120, 40)] {
            let area = Rect::new(0, 0, w, h);
            let mut buf = Buffer::empty(area);
            g.bench_function(format!("draw_{w}x{h}"), |b| {
                b.iter(|| {
                    buf.reset();
                    ui::draw(black_box(&model), area, &mut buf);
                })
            });
        }
        let area = Rect::new(0, 0, 160, 48);
        let mut buf = Buffer::empty(area);
        g.bench_function("load_layout_draw", |b| {
            b.iter(|| {
                update(&mut model, load(&reader, from, to));
                buf.reset();
                ui::draw(&model, area, &mut buf);
                black_box(&buf);
            })
        });
        // The week, day and agenda views: the window each asks for, loaded, laid out and drawn.
        for view in [View::Week, View::Day, View::Agenda] {
            let (mut vm, _, _) = model_and_window();
            vm.views.view = view;
            let (vfrom, vto) = vm.wanted_window();
            vm.requested = Some((vfrom, vto));
            update(&mut vm, load(&reader, vfrom, vto));
            eprintln!(
                "{n} events: the {view:?} view reads {vfrom}..={vto}: {} occurrences",
                vm.occurrences.len()
            );
            let name = format!("{view:?}").to_lowercase();
            g.bench_function(format!("{name}_load_layout_draw"), |b| {
                b.iter(|| {
                    update(&mut vm, load(&reader, vfrom, vto));
                    buf.reset();
                    ui::draw(&vm, area, &mut buf);
                    black_box(&buf);
                })
            });
        }
        // What `main` and `app::run` do before the first frame, minus the terminal: open the cache
        // (schema check), the sample check, a fresh read connection (cold SQLite page cache, warm OS
        // cache), the first load, layout and draw.
        g.bench_function("startup_to_first_frame", |b| {
            b.iter(|| {
                let mut store = Store::open(path.parent().unwrap()).expect("open");
                almanac::app::sample::ensure_sample(&mut store, model.today, 1_790_000_000)
                    .expect("sample check");
                let db = store.path().to_path_buf();
                drop(store);
                let reader = StoreReader::open_file(&db).expect("reader");
                let (mut m, from, to) = model_and_window();
                update(&mut m, load(&reader, from, to));
                buf.reset();
                ui::draw(&m, area, &mut buf);
                black_box(&buf);
            })
        });
        g.finish();
    }
}

/// The reader's query (a copy of `store::reader`'s SQL, for the diagnostics only).
fn reader_sql(join_items: bool) -> String {
    let short = 8 * 24 * 3600;
    let (cols, join) = if join_items {
        ("i.etag", "JOIN items i ON i.id = e.item_id")
    } else {
        ("NULL", "")
    };
    let columns = format!(
        "e.id, e.calendar_id, e.uid, e.recurrence_kind, e.recurrence_key, e.summary, e.location,
         e.description, e.status, e.start_kind, e.start_key, e.end_kind, e.end_key, e.tzid, {cols}"
    );
    format!(
        "SELECT {columns} FROM events e {join}
           JOIN calendars c ON c.id = e.calendar_id AND c.hidden = 0
          WHERE e.rrule IS NULL AND e.long = 0 AND e.start_key >= ?1 - {short}
            AND e.start_key < ?2 AND e.end_key >= ?1
         UNION ALL
         SELECT {columns} FROM events e {join}
           JOIN calendars c ON c.id = e.calendar_id AND c.hidden = 0
          WHERE e.rrule IS NULL AND e.long = 1 AND e.start_key < ?2 AND e.end_key >= ?1
         UNION ALL
         SELECT {columns} FROM events e {join}
           JOIN calendars c ON c.id = e.calendar_id AND c.hidden = 0
          WHERE e.rrule IS NOT NULL AND e.start_key < ?2
            AND (e.series_end_key IS NULL OR e.series_end_key >= ?1)"
    )
}

/// Steps the query and reads every column into owned values, as `occurrence_from_row` does.
fn run_sql(conn: &rusqlite::Connection, sql: &str, from: NaiveDate, to: NaiveDate) -> usize {
    let slack = 26 * 3600;
    let lo = from.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp() - slack;
    let hi = (to + chrono::Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp()
        + slack;
    let mut stmt = conn.prepare_cached(sql).expect("prepare");
    let mut rows = stmt.query([lo, hi]).expect("query");
    let mut n = 0;
    while let Some(r) = rows.next().expect("step") {
        let row: (
            i64,
            i64,
            String,
            Option<String>,
            Option<i64>,
            String,
            Option<String>,
        ) = (
            r.get(0).unwrap(),
            r.get(1).unwrap(),
            r.get(2).unwrap(),
            r.get(3).unwrap(),
            r.get(4).unwrap(),
            r.get(5).unwrap(),
            r.get(6).unwrap(),
        );
        let more: (
            Option<String>,
            Option<String>,
            String,
            i64,
            String,
            i64,
            Option<String>,
        ) = (
            r.get(7).unwrap(),
            r.get(8).unwrap(),
            r.get(9).unwrap(),
            r.get(10).unwrap(),
            r.get(11).unwrap(),
            r.get(12).unwrap(),
            r.get(13).unwrap(),
        );
        let etag: Option<String> = r.get(14).unwrap();
        black_box((row, more, etag));
        n += 1;
    }
    n
}

fn raw_conn(path: &std::path::Path, pragmas: &str) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .expect("open");
    conn.execute_batch(pragmas).expect("pragmas");
    conn
}

/// Where the load time goes at 100,000 events (opt-in: `ALMANAC_BENCH_DIAG=1`). Each variant is a
/// candidate fix measured on the same cache, with the reader's own SQL on a raw connection.
fn diagnose(c: &mut Criterion) {
    if std::env::var_os("ALMANAC_BENCH_DIAG").is_none()
        && std::env::var_os("ALMANAC_BENCH_DIAG_ONLY").is_none()
    {
        return;
    }
    let (_dir, path) = build_cache(100_000);
    let reader = StoreReader::open_file(&path).expect("a reader");
    let (mut model, from, to) = model_and_window();
    let (vis_from, vis_to) = model.visible_days();
    let sql = reader_sql(true);
    let sql_no_items = reader_sql(false);
    {
        let conn = raw_conn(&path, "");
        let mut plan = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("explain");
        let lines: Vec<String> = plan
            .query_map([0i64, 0], |r| r.get::<_, String>(3))
            .expect("plan")
            .map(Result::unwrap)
            .collect();
        eprintln!("query plan:\n  {}", lines.join("\n  "));
        let pages: i64 = conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        let events_pages: Option<i64> = conn
            .query_row(
                "SELECT count(*) FROM dbstat WHERE name = 'events'",
                [],
                |r| r.get(0),
            )
            .ok();
        eprintln!("db pages: {pages}; events table pages: {events_pages:?}");
        eprintln!(
            "rows: window {} ({from}..={to}), visible {} ({vis_from}..={vis_to})",
            run_sql(&conn, &sql, from, to),
            run_sql(&conn, &sql, vis_from, vis_to)
        );
    }
    let loaded = reader.occurrences(from, to, &DISPLAY_ZONE).expect("load");
    update(
        &mut model,
        Msg::Loaded {
            from,
            to,
            calendars: reader.calendars().unwrap(),
            occurrences: loaded.clone(),
        },
    );

    let mut g = c.benchmark_group("diag_100000");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for (name, pragmas, q, window) in [
        ("sql_default", "", &sql, (from, to)),
        (
            "sql_cache_64mb",
            "PRAGMA cache_size = -65536;",
            &sql,
            (from, to),
        ),
        (
            "sql_mmap_256mb",
            "PRAGMA mmap_size = 268435456;",
            &sql,
            (from, to),
        ),
        ("sql_no_items_join", "", &sql_no_items, (from, to)),
        ("sql_visible_days_only", "", &sql, (vis_from, vis_to)),
    ] {
        let conn = raw_conn(&path, pragmas);
        g.bench_function(name, |b| b.iter(|| run_sql(&conn, q, window.0, window.1)));
    }
    // A schema change to try: a covering index for the short-event scan, so a month is one range
    // read of one B-tree instead of two random row look-ups (events, items) per occurrence.
    // The planner keeps choosing `events_short`, so the variant names the index.
    let sql_cover = sql_no_items.replacen(
        "FROM events e",
        "FROM events e INDEXED BY events_short_cover",
        1,
    );
    let copy = tempfile::tempdir().expect("a temp dir");
    let copied = copy.path().join("covering.sqlite3");
    std::fs::copy(&path, &copied).expect("copy the cache");
    let wal = path.with_file_name("almanac.sqlite3-wal");
    if wal.exists() {
        std::fs::copy(&wal, copy.path().join("covering.sqlite3-wal")).expect("copy the WAL");
    }
    {
        let rw = rusqlite::Connection::open(&copied).expect("open the copy");
        rw.execute_batch(
            "CREATE INDEX events_short_cover ON events(start_key, end_key, calendar_id, id, uid,
                 recurrence_kind, recurrence_key, summary, location, description, status, start_kind,
                 end_kind, tzid, rrule, long) WHERE rrule IS NULL AND long = 0;
             ANALYZE;",
        )
        .expect("covering index");
        let mut plan = rw
            .prepare(&format!("EXPLAIN QUERY PLAN {sql_cover}"))
            .expect("explain");
        let lines: Vec<String> = plan
            .query_map([0i64, 0], |r| r.get::<_, String>(3))
            .expect("plan")
            .map(Result::unwrap)
            .collect();
        eprintln!("with a covering index:\n  {}", lines.join("\n  "));
    }
    for (name, window) in [
        ("sql_covering_index_no_items_join", (from, to)),
        (
            "sql_covering_index_no_items_join_visible_days",
            (vis_from, vis_to),
        ),
    ] {
        let conn = raw_conn(&copied, "");
        g.bench_function(name, |b| {
            b.iter(|| run_sql(&conn, &sql_cover, window.0, window.1))
        });
    }
    g.bench_function("occurrences_visible_days_only", |b| {
        b.iter(|| reader.occurrences(vis_from, vis_to, &DISPLAY_ZONE).unwrap())
    });
    g.bench_function("sort_occurrences", |b| {
        b.iter_batched(
            || loaded.clone(),
            |mut v| almanac::store::sort_occurrences(&mut v, &DISPLAY_ZONE),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("sanitize_in_place_3_fields", |b| {
        b.iter_batched(
            || loaded.clone(),
            |mut v| {
                for o in &mut v {
                    almanac::domain::text::sanitize_in_place(&mut o.summary);
                    almanac::domain::text::sanitize_in_place(&mut o.location);
                    if let Some(t) = o.tzid.as_mut() {
                        almanac::domain::text::sanitize_in_place(t);
                    }
                }
                v
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("relayout", |b| b.iter(|| model.relayout()));
    g.bench_function("day_list_selected", |b| {
        b.iter(|| model.day_list(black_box(model.selected)))
    });
    g.bench_function("drop_loaded_vec", |b| {
        b.iter_batched(|| loaded.clone(), drop, BatchSize::LargeInput)
    });
    g.finish();
}

criterion_group!(benches, month, diagnose);
criterion_main!(benches);
