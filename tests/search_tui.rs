//! Search, the calendar list and `[keys]` in the TUI: driven through `update` on a real cache with
//! the bundled sample (anchored on the week of 2026-11-23) and a fixed clock, drawn on a
//! `TestBackend`.

use std::path::Path;

use almanac::app::keymap::Keymap;
use almanac::app::sample::ensure_sample;
use almanac::app::update::{Command, Msg, select, update};
use almanac::app::{Mode, Model};
use almanac::config::{Clock, Config};
use almanac::domain::read_calendar;
use almanac::store::{DB_FILE, Store, StoreReader};
use chrono::{NaiveDate, Weekday};
use chrono_tz::Tz;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

/// Performs commands as the run loop does, answering from the cache in `dir`.
fn perform(model: &mut Model, dir: &Path, commands: Vec<Command>) {
    let reader = StoreReader::open_file(&dir.join(DB_FILE)).unwrap();
    for c in commands {
        let msg = match c {
            Command::Load { from, to } => Msg::Loaded {
                from,
                to,
                calendars: reader.calendars().unwrap(),
                occurrences: reader.occurrences(from, to, &model.zone).unwrap(),
            },
            Command::Search(query) => Msg::Found {
                hits: reader.search(&query, &model.zone).unwrap(),
                query: query.text,
            },
            Command::LoadCalendarList => Msg::CalendarListLoaded(reader.calendar_list().unwrap()),
            Command::SetHidden {
                calendar, hidden, ..
            } => {
                let mut store = Store::open(dir).unwrap();
                store.set_hidden(calendar, hidden).unwrap();
                Msg::HiddenSet(Ok("done".into()))
            }
            _ => continue,
        };
        let more = update(model, msg);
        perform(model, dir, more);
    }
}

fn sample() -> (Model, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    ensure_sample(&mut store, today(), 0).unwrap();
    let mut model = Model::new(today(), Tz::Europe__Berlin, Weekday::Mon, Clock::H24, true);
    let commands = select(&mut model, today());
    perform(&mut model, dir.path(), commands);
    (model, dir)
}

fn key(model: &mut Model, dir: &tempfile::TempDir, code: KeyCode) {
    let commands = update(model, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    perform(model, dir.path(), commands);
}

fn typed(model: &mut Model, dir: &tempfile::TempDir, text: &str) {
    for c in text.chars() {
        key(model, dir, KeyCode::Char(c));
    }
}

fn screen(model: &mut Model, w: u16, h: u16) -> Terminal<TestBackend> {
    model.size = (w, h);
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| almanac::ui::view(model, f)).unwrap();
    terminal
}

fn summaries(model: &Model) -> Vec<String> {
    model
        .search
        .hits
        .iter()
        .map(|o| o.summary.to_string())
        .collect()
}

#[test]
fn results_follow_the_typing_and_enter_goes_to_the_nearest() {
    let (mut m, dir) = sample();
    key(&mut m, &dir, KeyCode::Char('/'));
    assert_eq!(m.mode, Mode::Search);
    typed(&mut m, &dir, "plan");
    let found = summaries(&m);
    assert!(found.contains(&"Sprint planning".to_string()), "{found:?}");
    assert!(
        found.contains(&"Quarterly planning".to_string()),
        "{found:?}"
    );
    typed(&mut m, &dir, "ning q");
    assert_eq!(summaries(&m), ["Quarterly planning"]);
    key(&mut m, &dir, KeyCode::Enter);
    assert_eq!(m.mode, Mode::Month);
    assert!(m.search.active);
    let hit = m.search.hits[0].clone();
    let shown = m
        .selected_occurrence()
        .expect("the day cursor is on the match");
    assert_eq!((shown.event_id, shown.start), (hit.event_id, hit.start));
}

#[test]
fn n_and_shift_n_step_through_matches_only_while_a_search_is_active() {
    let (mut m, dir) = sample();
    key(&mut m, &dir, KeyCode::Char('n'));
    assert_eq!(
        m.selected,
        NaiveDate::from_ymd_opt(2026, 12, 23).unwrap(),
        "next month"
    );
    key(&mut m, &dir, KeyCode::Char('t'));
    key(&mut m, &dir, KeyCode::Char('/'));
    typed(&mut m, &dir, "standup");
    let n = m.search.hits.len();
    assert!(n >= 3, "standup recurs: {n}");
    key(&mut m, &dir, KeyCode::Enter);
    let first = m.selected;
    key(&mut m, &dir, KeyCode::Char('n'));
    assert_eq!(m.search.cursor, 1);
    let second = m.search.hits[1].clone();
    let shown = m.selected_occurrence().unwrap();
    assert_eq!(
        (shown.event_id, shown.start),
        (second.event_id, second.start)
    );
    key(&mut m, &dir, KeyCode::Char('N'));
    assert_eq!((m.search.cursor, m.selected), (0, first));
    key(&mut m, &dir, KeyCode::Char('N'));
    assert_eq!(m.search.cursor, n - 1, "wraps to the last match");
    key(&mut m, &dir, KeyCode::Esc);
    assert!(!m.search.active);
    let before = m.selected;
    key(&mut m, &dir, KeyCode::Char('n'));
    assert_ne!(m.selected, before, "n is the next month again");
}

#[test]
fn a_hidden_calendar_leaves_the_month_and_the_search() {
    let (mut m, dir) = sample();
    let mut store = Store::open(dir.path()).unwrap();
    let cal = store.local_calendar("Extra").unwrap();
    let text = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:x\nDTSTART:20261124T100000Z\nDTEND:20261124T110000Z\nSUMMARY:Zither lesson\nEND:VEVENT\nEND:VCALENDAR\n";
    store
        .import_items(cal, &read_calendar(text).items, 0)
        .unwrap();
    let update_msg = update(&mut m, Msg::CacheChanged);
    perform(&mut m, dir.path(), update_msg);
    assert!(m.occurrences.iter().any(|o| &*o.summary == "Zither lesson"));

    key(&mut m, &dir, KeyCode::Char('C'));
    assert_eq!(m.mode, Mode::Calendars);
    let names: Vec<&str> = m
        .calendar_list
        .rows
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let at = names.iter().position(|n| *n == "Extra").expect("listed");
    for _ in 0..at {
        key(&mut m, &dir, KeyCode::Down);
    }
    key(&mut m, &dir, KeyCode::Char(' '));
    assert!(m.calendar_list.rows[at].hidden, "stored and read back");
    assert!(!m.occurrences.iter().any(|o| &*o.summary == "Zither lesson"));
    key(&mut m, &dir, KeyCode::Esc);
    key(&mut m, &dir, KeyCode::Char('/'));
    typed(&mut m, &dir, "zither");
    assert!(m.search.hits.is_empty());
    key(&mut m, &dir, KeyCode::Esc);

    key(&mut m, &dir, KeyCode::Char('C'));
    key(&mut m, &dir, KeyCode::Char(' '));
    assert!(!m.calendar_list.rows[at].hidden);
    assert!(m.occurrences.iter().any(|o| &*o.summary == "Zither lesson"));
}

#[test]
fn a_remapped_key_works_and_the_help_and_hints_show_it() {
    let path = Path::new("/home/a/.config/almanac/config.toml");
    let config =
        Config::from_str_at("[keys]\nsearch = [\"f\", \"C-f\"]\nhelp = \"H\"\n", path).unwrap();
    let (mut m, dir) = sample();
    m.keymap = Keymap::with_settings(&config.keys, path).unwrap();
    key(&mut m, &dir, KeyCode::Char('/'));
    assert_eq!(m.mode, Mode::Month, "/ no longer searches");
    key(&mut m, &dir, KeyCode::Char('f'));
    assert_eq!(m.mode, Mode::Search);
    key(&mut m, &dir, KeyCode::Esc);
    let text = screen(&mut m, 100, 30).backend().to_string();
    assert!(text.contains("p ‹ › n  H help"), "{text}");
    key(&mut m, &dir, KeyCode::Char('H'));
    let text = screen(&mut m, 100, 40).backend().to_string();
    assert!(text.contains("│ f C-f   search summaries"), "{text}");
}

#[test]
fn a_key_bound_to_two_actions_is_a_config_error_naming_both_the_file_and_the_line() {
    let path = Path::new("/home/a/.config/almanac/config.toml");
    let config = Config::from_str_at(
        "[ui]\nweek_start = \"monday\"\n\n[keys]\nnext_day = [\"l\", \"Right\"]\nquit = [\"l\"]\n",
        path,
    )
    .unwrap();
    let err = Keymap::with_settings(&config.keys, path)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("/home/a/.config/almanac/config.toml:6:"),
        "{err}"
    );
    assert!(err.contains("next_day") && err.contains("quit"), "{err}");
}

#[test]
fn search_results_at_every_size() {
    for (w, h) in [(40, 12), (80, 24), (200, 60)] {
        let (mut m, dir) = sample();
        key(&mut m, &dir, KeyCode::Char('/'));
        typed(&mut m, &dir, "lunch");
        key(&mut m, &dir, KeyCode::Down);
        let t = screen(&mut m, w, h);
        insta::assert_snapshot!(format!("search_results_{w}x{h}"), t.backend());
    }
}

#[test]
fn the_calendar_list_at_every_size() {
    for (w, h) in [(40, 12), (80, 24), (200, 60)] {
        let (mut m, dir) = sample();
        let mut store = Store::open(dir.path()).unwrap();
        store.local_calendar("Personal").unwrap();
        let hidden = store.local_calendar("Old project").unwrap();
        store.set_hidden(hidden, true).unwrap();
        key(&mut m, &dir, KeyCode::Char('C'));
        let t = screen(&mut m, w, h);
        insta::assert_snapshot!(format!("calendar_list_{w}x{h}"), t.backend());
    }
}
