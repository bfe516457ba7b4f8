//! The week, day and agenda views drawn on a `TestBackend` with a fixed clock (2026-11-23 10:40 in
//! Europe/Berlin), from a real cache: overlapping events, all-day and multi-day ones, a night that
//! crosses midnight, and the 25-hour day of 2026-10-25 when Berlin leaves summer time.

use almanac::app::update::{Command, Msg, select, update};
use almanac::app::views::View;
use almanac::app::{Mode, Model};
use almanac::config::Clock;
use almanac::domain::read_calendar;
use almanac::store::{DB_FILE, Store, StoreReader};
use chrono::{NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const EVENTS: &str = "BEGIN:VCALENDAR
BEGIN:VEVENT
UID:standup
DTSTART;TZID=Europe/Berlin:20261123T090000
DTEND;TZID=Europe/Berlin:20261123T093000
SUMMARY:Standup
END:VEVENT
BEGIN:VEVENT
UID:review
DTSTART;TZID=Europe/Berlin:20261123T100000
DTEND;TZID=Europe/Berlin:20261123T120000
SUMMARY:Design review
LOCATION:Room 4.2
END:VEVENT
BEGIN:VEVENT
UID:call
DTSTART;TZID=Europe/Berlin:20261123T103000
DTEND;TZID=Europe/Berlin:20261123T113000
SUMMARY:Call with Ana
END:VEVENT
BEGIN:VEVENT
UID:lunch
DTSTART;TZID=Europe/Berlin:20261123T110000
DTEND;TZID=Europe/Berlin:20261123T130000
SUMMARY:Lunch
END:VEVENT
BEGIN:VEVENT
UID:gym
DTSTART;TZID=Europe/Berlin:20261125T180000
DTEND;TZID=Europe/Berlin:20261125T193000
SUMMARY:Gym
END:VEVENT
BEGIN:VEVENT
UID:holiday
DTSTART;VALUE=DATE:20261126
DTEND;VALUE=DATE:20261127
SUMMARY:Thanksgiving
END:VEVENT
BEGIN:VEVENT
UID:trip
DTSTART;VALUE=DATE:20261127
DTEND;VALUE=DATE:20261202
SUMMARY:Trip to Lisbon
END:VEVENT
BEGIN:VEVENT
UID:night
DTSTART;TZID=Europe/Berlin:20261124T220000
DTEND;TZID=Europe/Berlin:20261125T060000
SUMMARY:Night shift
END:VEVENT
BEGIN:VEVENT
UID:dst-summer
DTSTART:20261025T003000Z
DTEND:20261025T010000Z
SUMMARY:02:30 summer time
END:VEVENT
BEGIN:VEVENT
UID:dst-winter
DTSTART:20261025T013000Z
DTEND:20261025T020000Z
SUMMARY:02:30 winter time
END:VEVENT
BEGIN:VEVENT
UID:dst-long
DTSTART;TZID=Europe/Berlin:20261025T010000
DTEND;TZID=Europe/Berlin:20261025T040000
SUMMARY:Night watch (4 hours)
END:VEVENT
BEGIN:VEVENT
UID:dst-brunch
DTSTART;TZID=Europe/Berlin:20261025T110000
DTEND;TZID=Europe/Berlin:20261025T123000
SUMMARY:Brunch
END:VEVENT
BEGIN:VEVENT
UID:far
DTSTART;TZID=Europe/Berlin:20270315T140000
DTEND;TZID=Europe/Berlin:20270315T150000
SUMMARY:Far away
END:VEVENT
END:VCALENDAR
";

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Performs commands the way the run loop does, feeding the answers back as messages.
fn perform(model: &mut Model, reader: &StoreReader, commands: Vec<Command>) {
    for c in commands {
        let msg = match c {
            Command::Load { from, to } => Msg::Loaded {
                from,
                to,
                calendars: reader.calendars().unwrap(),
                occurrences: reader.occurrences(from, to, &model.zone).unwrap(),
            },
            Command::LoadDetail { event_id } => Msg::DetailLoaded {
                event_id,
                detail: reader.event_detail(event_id).unwrap(),
            },
            _ => continue,
        };
        let more = update(model, msg);
        perform(model, reader, more);
    }
}

fn model_with(src: &str) -> (Model, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let cal = store.local_calendar("work").unwrap();
    store
        .import_items(cal, &read_calendar(src).items, 0)
        .unwrap();
    let reader = store.reader().unwrap();
    let today = day(2026, 11, 23);
    let mut model = Model::new(today, Tz::Europe__Berlin, Weekday::Mon, Clock::H24, true);
    model.now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 40, 0).unwrap();
    let commands = select(&mut model, today);
    perform(&mut model, &reader, commands);
    (model, dir)
}

fn press(model: &mut Model, dir: &tempfile::TempDir, code: KeyCode) {
    let reader = StoreReader::open_file(&dir.path().join(DB_FILE)).unwrap();
    let commands = update(model, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    perform(model, &reader, commands);
}

fn screen(model: &mut Model, w: u16, h: u16) -> TestBackend {
    model.size = (w, h);
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| almanac::ui::view(model, f)).unwrap();
    terminal.backend().clone()
}

const SIZES: [(u16, u16); 3] = [(40, 12), (80, 24), (200, 60)];

#[test]
fn week_view_at_every_size() {
    let (mut m, dir) = model_with(EVENTS);
    press(&mut m, &dir, KeyCode::Char('w'));
    assert_eq!(m.views.view, View::Week);
    press(&mut m, &dir, KeyCode::Char('.'));
    assert_eq!(m.views.hour, 10, "`.` puts the hour cursor on 10:40's hour");
    for (w, h) in SIZES {
        let backend = screen(&mut m, w, h);
        let text = backend.to_string();
        assert!(
            text.contains("Week 48"),
            "{w}x{h}: the title names the week"
        );
        insta::assert_snapshot!(format!("week_{w}x{h}"), backend);
    }
    // At 80x24 the three overlapping events sit side by side and the trip is a bar on top.
    let text = screen(&mut m, 80, 24).to_string();
    assert!(text.contains("Trip to Lis"), "{text}");
    assert!(text.contains('─'), "the now line");
}

#[test]
fn day_view_of_the_25_hour_day() {
    let (mut m, dir) = model_with(EVENTS);
    press(&mut m, &dir, KeyCode::Char('D'));
    press(&mut m, &dir, KeyCode::Char('g'));
    for c in "2026-10-25".chars() {
        press(&mut m, &dir, KeyCode::Char(c));
    }
    press(&mut m, &dir, KeyCode::Enter);
    assert_eq!(m.selected, day(2026, 10, 25));
    // ↑ to the small hours: both 02:30s are in the 02 row, side by side.
    for _ in 0..8 {
        press(&mut m, &dir, KeyCode::Up);
    }
    assert_eq!(m.views.hour, 1);
    for (w, h) in SIZES {
        let backend = screen(&mut m, w, h);
        assert!(
            backend.to_string().contains("(25h)"),
            "{w}x{h}: the header says the day is 25 hours long"
        );
        insta::assert_snapshot!(format!("day_dst_{w}x{h}"), backend);
    }
}

#[test]
fn agenda_at_every_size() {
    let (mut m, dir) = model_with(EVENTS);
    press(&mut m, &dir, KeyCode::Char('A'));
    press(&mut m, &dir, KeyCode::Down);
    for (w, h) in SIZES {
        let backend = screen(&mut m, w, h);
        assert!(backend.to_string().contains("Monday 23 November 2026"));
        insta::assert_snapshot!(format!("agenda_{w}x{h}"), backend);
    }
}

#[test]
fn next_event_reads_further_weeks_and_comes_back() {
    let (mut m, dir) = model_with(EVENTS);
    press(&mut m, &dir, KeyCode::Char('w'));
    // The week's last event start is the trip (Friday); after it, only "Far away" in March.
    for _ in 0..20 {
        if m.selected_occurrence().is_some_and(|o| &*o.uid == "trip") {
            break;
        }
        press(&mut m, &dir, KeyCode::Char(']'));
    }
    assert_eq!(m.selected_occurrence().map(|o| &*o.uid), Some("trip"));
    press(&mut m, &dir, KeyCode::Char(']'));
    assert_eq!(
        m.selected,
        day(2027, 3, 15),
        "months of empty weeks read through"
    );
    assert_eq!(
        m.selected_occurrence().map(|o| &*o.summary),
        Some("Far away")
    );
    let (from, to) = m.loaded.unwrap();
    assert!(
        from <= m.selected && m.selected <= to && (to - from).num_days() < 40,
        "only a window is loaded: {from}..{to}"
    );
    press(&mut m, &dir, KeyCode::Char('['));
    assert_eq!(m.selected_occurrence().map(|o| &*o.uid), Some("trip"));
    // Nothing after March 2027: `]` says so and stays.
    press(&mut m, &dir, KeyCode::Char(']'));
    press(&mut m, &dir, KeyCode::Char(']'));
    assert_eq!(m.selected, day(2027, 3, 15));
    assert!(m.status.as_ref().unwrap().text.contains("no later event"));
    assert_eq!(
        m.selected_occurrence().map(|o| &*o.uid),
        Some("far"),
        "the selection comes back"
    );
}

#[test]
fn enter_in_the_week_view_opens_the_selected_event() {
    let (mut m, dir) = model_with(EVENTS);
    press(&mut m, &dir, KeyCode::Char('w'));
    press(&mut m, &dir, KeyCode::Right);
    press(&mut m, &dir, KeyCode::Right);
    assert_eq!(m.views.hour, 9, "the hour of the first event, the standup");
    for _ in 0..9 {
        press(&mut m, &dir, KeyCode::Down);
    }
    assert_eq!(m.views.hour, 18, "↓ moves by the hour");
    press(&mut m, &dir, KeyCode::Enter);
    assert_eq!(m.mode, Mode::Detail);
    assert_eq!(
        m.selected_occurrence().map(|o| &*o.uid),
        Some("gym"),
        "the event under the hour cursor"
    );
    assert!(screen(&mut m, 80, 24).to_string().contains("Gym"));
    press(&mut m, &dir, KeyCode::Esc);
    press(&mut m, &dir, KeyCode::Char('m'));
    assert_eq!(m.views.view, View::Month);
    assert!(screen(&mut m, 80, 24).to_string().contains("November 2026"));
}

#[test]
fn pages_of_the_agenda_move_on_and_read_further_days() {
    let (mut m, dir) = model_with(EVENTS);
    press(&mut m, &dir, KeyCode::Char('A'));
    m.size = (40, 12);
    let before = m.requested;
    press(&mut m, &dir, KeyCode::PageDown);
    assert!(m.selected > day(2026, 11, 23));
    for _ in 0..3 {
        press(&mut m, &dir, KeyCode::PageDown);
    }
    assert_eq!(m.selected, day(2027, 3, 15), "past the end it reads on");
    assert_ne!(m.requested, before);
    press(&mut m, &dir, KeyCode::PageUp);
    assert!(m.selected < day(2027, 3, 15));
}
