//! The month view drawn on a `TestBackend` with a fixed clock, from a real cache holding the bundled
//! sample (anchored on the week of 2026-11-23) or a few hand-made events.

use almanac::app::sample::ensure_sample;
use almanac::app::update::{Command, Msg, select, update};
use almanac::app::{Model, layout};
use almanac::config::Clock;
use almanac::domain::read_calendar;
use almanac::store::{DB_FILE, Store, StoreReader};
use chrono::{NaiveDate, Weekday};
use chrono_tz::Tz;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::style::Color;

const TODAY: (i32, u32, u32) = (2026, 11, 23);

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(TODAY.0, TODAY.1, TODAY.2).unwrap()
}

/// A model over a fresh cache filled by `fill`, loaded the way the run loop loads it.
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
            Command::LoadStatus => {
                let accounts = Msg::AccountsLoaded(reader.account_status().unwrap());
                let more = update(model, accounts);
                perform(model, reader, more);
                Msg::StatusLoaded(reader.sync_status().unwrap())
            }
            Command::LoadConflicts => Msg::ConflictsLoaded(reader.conflicts().unwrap()),
            Command::Search(query) => Msg::Found {
                hits: reader.search(&query, &model.zone).unwrap(),
                query: query.text,
            },
            Command::LoadCalendarList => Msg::CalendarListLoaded(reader.calendar_list().unwrap()),
            Command::Quit
            | Command::SetHidden { .. }
            | Command::SetZone { .. }
            | Command::Sync(_)
            | Command::Stage(_)
            | Command::ExternalEdit { .. }
            | Command::Resolve { .. }
            | Command::DismissReminder(_)
            | Command::SnoozeReminder { .. }
            | Command::Bell => continue,
        };
        let more = update(model, msg);
        perform(model, reader, more);
    }
}

fn model_with(fill: impl FnOnce(&mut Store), color: bool) -> (Model, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    fill(&mut store);
    let reader = store.reader().unwrap();
    let mut model = Model::new(today(), Tz::Europe__Berlin, Weekday::Mon, Clock::H24, color);
    let commands = select(&mut model, today());
    perform(&mut model, &reader, commands);
    (model, dir)
}

fn sample_model(color: bool) -> (Model, tempfile::TempDir) {
    model_with(|s| ensure_sample(s, today(), 0).unwrap(), color)
}

fn draw(model: &mut Model, w: u16, h: u16) -> Terminal<TestBackend> {
    model.size = (w, h);
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| almanac::ui::view(model, f)).unwrap();
    terminal
}

/// Types `g`, a date, Enter.
fn goto(model: &mut Model, dir: &tempfile::TempDir, date: &str) {
    press(model, dir, KeyCode::Char('g'));
    for c in date.chars() {
        press(model, dir, KeyCode::Char(c));
    }
    press(model, dir, KeyCode::Enter);
}

/// A key press, with whatever it asks the cache for answered from the cache in `dir`.
fn press(model: &mut Model, dir: &tempfile::TempDir, code: KeyCode) {
    let reader = StoreReader::open_file(&dir.path().join(DB_FILE)).unwrap();
    let commands = update(model, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    perform(model, &reader, commands);
}

#[test]
fn full_month_with_the_sample() {
    let (mut m, _dir) = sample_model(true);
    let t = draw(&mut m, 140, 44);
    insta::assert_snapshot!(t.backend());
}

#[test]
fn a_crowded_day_says_how_many_more_and_lists_all_in_the_side_pane() {
    let (mut m, _dir) = sample_model(true);
    let t = draw(&mut m, 110, 30);
    let text = t.backend().to_string();
    assert!(text.contains("more"), "a '+N more' line");
    for summary in ["Standup", "1:1 with Priya", "Gym", "Dinner with Lee"] {
        assert!(text.contains(summary), "side pane lists {summary}");
    }
    insta::assert_snapshot!(t.backend());
}

#[test]
fn multi_day_events_are_bars_across_days_and_weeks() {
    let src = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:trip\nDTSTART;VALUE=DATE:20261126\nDTEND;VALUE=DATE:20261203\nSUMMARY:Trip to Lisbon\nEND:VEVENT\n\
BEGIN:VEVENT\nUID:night\nDTSTART:20261110T200000Z\nDTEND:20261111T060000Z\nSUMMARY:Night shift\nEND:VEVENT\n\
BEGIN:VEVENT\nUID:day\nDTSTART:20261127T090000Z\nDTEND:20261127T100000Z\nSUMMARY:Check-in\nEND:VEVENT\nEND:VCALENDAR\n";
    let (mut m, _dir) = model_with(
        |s| {
            let cal = s.local_calendar("travel").unwrap();
            s.import_items(cal, &read_calendar(src).items, 0).unwrap();
        },
        true,
    );
    let t = draw(&mut m, 120, 36);
    insta::assert_snapshot!(t.backend());
}

#[test]
fn a_tiny_terminal_gets_a_day_list() {
    let (mut m, _dir) = sample_model(true);
    let t = draw(&mut m, 60, 18);
    let text = t.backend().to_string();
    assert!(!text.contains('│'), "no grid below 80x24");
    insta::assert_snapshot!(t.backend());
}

#[test]
fn no_color_uses_no_colour_at_all() {
    let (mut m, _dir) = sample_model(false);
    let t = draw(&mut m, 120, 40);
    let coloured = t
        .backend()
        .buffer()
        .content()
        .iter()
        .filter(|c| c.fg != Color::Reset || c.bg != Color::Reset)
        .count();
    assert_eq!(coloured, 0);
    insta::assert_snapshot!(t.backend());
    // And the same screen in colour does use colour, so the check above can fail.
    let (mut m, _dir) = sample_model(true);
    let t = draw(&mut m, 120, 40);
    assert!(
        t.backend()
            .buffer()
            .content()
            .iter()
            .any(|c| c.fg != Color::Reset || c.bg != Color::Reset)
    );
}

#[test]
fn wide_characters_do_not_shift_the_grid() {
    // The sample has CJK and emoji summaries; every separator must stay in its column on every line.
    let (mut m, _dir) = sample_model(true);
    for (w, h) in [(120, 40), (100, 30), (87, 26)] {
        let t = draw(&mut m, w, h);
        let buf = t.backend().buffer();
        let geo = layout::month(Rect::new(0, 0, w, h), m.month.rows.len() as u16);
        for y in geo.grid.y..geo.grid.bottom() {
            for &x in &geo.columns[1..7] {
                let sym = buf[(x, y)].symbol();
                // A bar may cover a separator; anything else there means text spilled over.
                let bar = buf[(x, y)].bg != Color::Reset;
                assert!(sym == "│" || bar, "{w}x{h}: at ({x},{y}) found {sym:?}");
            }
        }
    }
}

#[test]
fn help_and_detail_overlays() {
    let (mut m, dir) = sample_model(true);
    press(&mut m, &dir, KeyCode::Char('?'));
    let t = draw(&mut m, 120, 40);
    insta::assert_snapshot!("help", t.backend());
    press(&mut m, &dir, KeyCode::Esc);
    press(&mut m, &dir, KeyCode::Tab);
    press(&mut m, &dir, KeyCode::Enter);
    let t = draw(&mut m, 120, 40);
    insta::assert_snapshot!("detail", t.backend());
}

#[test]
fn the_detail_shows_the_events_own_zone_when_it_differs() {
    let (mut m, dir) = sample_model(true);
    update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Char('g'), KeyModifiers::NONE)),
    );
    for c in "2026-11-19".chars() {
        press(&mut m, &dir, KeyCode::Char(c));
    }
    press(&mut m, &dir, KeyCode::Enter);
    press(&mut m, &dir, KeyCode::Enter);
    let text = draw(&mut m, 120, 40).backend().to_string();
    assert!(text.contains("Call with the New York office"), "{text}");
    assert!(text.contains("14:00–15:00 America/New_York"), "{text}");
    assert!(text.contains("20:00–21:00"), "shown in Berlin time: {text}");
}

#[test]
fn switching_the_zone_moves_times_but_not_floating_ones() {
    let (mut m, dir) = sample_model(true);
    goto(&mut m, &dir, "2026-11-19");
    assert!(
        draw(&mut m, 120, 40)
            .backend()
            .to_string()
            .contains("20:00–21:00 Call with")
    );
    press(&mut m, &dir, KeyCode::Char('z'));
    for c in "America/New_York".chars() {
        press(&mut m, &dir, KeyCode::Char(c));
    }
    press(&mut m, &dir, KeyCode::Enter);
    let text = draw(&mut m, 120, 40).backend().to_string();
    assert!(text.contains("14:00–15:00 Call with"), "{text}");
    assert!(
        text.contains("America/New_York"),
        "the title names the zone"
    );
    // The floating swim on the 28th stays at 10:00.
    goto(&mut m, &dir, "2026-11-28");
    assert!(
        draw(&mut m, 120, 40)
            .backend()
            .to_string()
            .contains("10:00–11:00 Swim")
    );
}

#[test]
fn the_sync_pane_shows_strategy_tokens_last_run_progress_and_errors() {
    use almanac::store::{ChangeSet, FetchedItem, RemoteCalendar, RunRecord, StateUpdate};
    use almanac::sync::SyncEvent;
    let start = chrono::NaiveDate::from_ymd_opt(2026, 11, 23)
        .unwrap()
        .and_hms_opt(9, 30, 0)
        .unwrap()
        .and_utc()
        .timestamp();
    let (mut m, dir) = model_with(
        |s| {
            let acc = s
                .account("home", "caldav", "https://dav.example.org/", 0)
                .unwrap();
            let cal = |id: &str, name: &str| RemoteCalendar {
                remote_id: format!("https://dav.example.org/cal/{id}/"),
                name: name.into(),
                color: Some("#4f9dde".into()),
                components: vec!["VEVENT".into()],
            };
            s.reconcile_calendars(acc.id, &[cal("work", "Work"), cal("team", "Team")])
                .unwrap();
            let ics = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261123T090000Z\r\nDTEND:20261123T100000Z\r\nSUMMARY:Planning\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
            let page = ChangeSet {
                upserts: vec![
                    FetchedItem {
                        href: "/cal/work/a.ics".into(),
                        etag: Some("\"1\"".into()),
                        raw: ics.into(),
                        problem: None,
                        read: None,
                    },
                    FetchedItem {
                        href: "/cal/work/bad.ics".into(),
                        etag: Some("\"2\"".into()),
                        raw: "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:b\r\nDTSTART:garbage\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n".into(),
                        problem: None,
                        read: None,
                    },
                ],
                removals: vec![],
                state: Some(StateUpdate {
                    strategy: "sync-collection".into(),
                    sync_token: Some("http://dav.example.org/sync/0a1b2c3d4e5f".into()),
                    ctag: Some("\"ctag-77\"".into()),
                    seen_token: None,
                    full: true,
                }),
            };
            s.apply(1, &page, start).unwrap();
            s.record_run(
                1,
                &RunRecord {
                    started_at: start,
                    finished_at: start + 1,
                    duration_ms: 412,
                    strategy: "sync-collection".into(),
                    requests: 3,
                    bytes: 5120,
                    added: 2,
                    ..RunRecord::default()
                },
            )
            .unwrap();
            s.record_run(
                2,
                &RunRecord {
                    started_at: start,
                    finished_at: start,
                    strategy: "ctag+etag".into(),
                    requests: 1,
                    error: Some("the server answered 503 Service Unavailable".into()),
                    ..RunRecord::default()
                },
            )
            .unwrap();
        },
        true,
    );
    m.sync.accounts = true;
    press(&mut m, &dir, KeyCode::Char('s'));
    update(
        &mut m,
        Msg::Sync(SyncEvent::Progress {
            calendar: 2,
            done: 600,
            total: 2000,
        }),
    );
    let text = draw(&mut m, 140, 30).backend().to_string();
    for want in [
        "home (caldav)",
        "sync-collection",
        "…/0a1b2c3d4e5f",
        "412 ms",
        "5.0 KiB",
        "+2 ~0 -0",
        "kept raw, cannot be read: /cal/work/bad.ics",
        "last error: the server answered 503 Service Unavailable",
        "600/2000 fetched",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    insta::assert_snapshot!("sync_pane", draw(&mut m, 140, 30).backend());
}

#[test]
fn the_add_form_with_its_fields_and_an_error() {
    let (mut m, dir) = sample_model(true);
    press(&mut m, &dir, KeyCode::Char('a'));
    for c in "Dentist".chars() {
        press(&mut m, &dir, KeyCode::Char(c));
    }
    press(&mut m, &dir, KeyCode::Tab);
    press(&mut m, &dir, KeyCode::Tab);
    insta::assert_snapshot!("add_form", draw(&mut m, 120, 40).backend());
    for _ in 0..5 {
        press(&mut m, &dir, KeyCode::Backspace);
    }
    for c in "9:7x".chars() {
        press(&mut m, &dir, KeyCode::Char(c));
    }
    press(&mut m, &dir, KeyCode::Enter);
    let text = draw(&mut m, 120, 40).backend().to_string();
    assert!(
        text.contains("start: '9:7x' is not a time (HH:MM)"),
        "{text}"
    );
}

/// A CalDAV calendar holding `events` (uid, summary, hour UTC on 2026-11-23) as the server sent them.
fn remote_calendar(s: &mut Store, events: &[(&str, &str, u32)]) -> i64 {
    use almanac::store::{ChangeSet, FetchedItem, RemoteCalendar, StateUpdate};
    let acc = s
        .account("home", "caldav", "https://dav.example.org/", 0)
        .unwrap();
    s.reconcile_calendars(
        acc.id,
        &[RemoteCalendar {
            remote_id: "https://dav.example.org/cal/work/".into(),
            name: "Work".into(),
            color: Some("#4f9dde".into()),
            components: vec!["VEVENT".into()],
        }],
    )
    .unwrap();
    let page = ChangeSet {
        upserts: events
            .iter()
            .map(|(uid, summary, hour)| FetchedItem {
                href: format!("/cal/work/{uid}.ics"),
                etag: Some(format!("\"{uid}-1\"")),
                raw: ics(uid, summary, *hour, "Room 1"),
                problem: None,
                read: None,
            })
            .collect(),
        removals: vec![],
        state: Some(StateUpdate {
            strategy: "sync-collection".into(),
            sync_token: Some("t1".into()),
            ctag: None,
            seen_token: None,
            full: true,
        }),
    };
    s.apply(1, &page, noon() - 3 * 60).unwrap();
    1
}

fn ics(uid: &str, summary: &str, hour: u32, location: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART:20261123T{hour:02}0000Z\r\nDTEND:20261123T{:02}0000Z\r\nSUMMARY:{summary}\r\nLOCATION:{location}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        hour + 1
    )
}

/// The fixed "now" of the snapshot models: noon UTC on the fixed day.
fn noon() -> i64 {
    today().and_hms_opt(12, 0, 0).unwrap().and_utc().timestamp()
}

/// Stages a local update of `uid` with a new summary and returns its pending change's id.
fn stage_update(s: &mut Store, uid: &str, summary: &str, hour: u32) -> i64 {
    use almanac::store::LocalEdit;
    let (item, calendar, _) = s.items_with_uid(uid).unwrap()[0].clone();
    let raw = ics(uid, summary, hour, "Room 2");
    s.stage(
        LocalEdit::Update {
            item,
            raw,
            seen_etag: None,
        },
        noon() - 10 * 60,
    )
    .unwrap();
    s.pending_changes(calendar)
        .unwrap()
        .into_iter()
        .find(|p| p.uid == uid)
        .unwrap()
        .id
}

#[test]
fn the_conflict_pane_shows_etags_and_a_field_diff() {
    let (mut m, dir) = model_with(
        |s| {
            remote_calendar(s, &[("review", "Design review", 9), ("retro", "Retro", 14)]);
            let p = stage_update(s, "review", "Design review (moved)", 10);
            let theirs = ics("review", "Design review", 9, "Room 7");
            s.record_conflict(
                p,
                Some("\"review-2\""),
                Some(&theirs),
                None,
                noon() - 5 * 60,
            )
            .unwrap();
            let p = stage_update(s, "retro", "Retro and planning", 14);
            s.record_conflict(p, None, None, None, noon() - 2 * 3600)
                .unwrap();
        },
        true,
    );
    press(&mut m, &dir, KeyCode::Char('c'));
    let text = draw(&mut m, 120, 40).backend().to_string();
    for want in [
        "Design review (moved)",
        "5 min ago",
        "\"review-2\"",
        "Room 7",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    insta::assert_snapshot!("conflicts_update", draw(&mut m, 120, 40).backend());
    press(&mut m, &dir, KeyCode::Char('j'));
    let text = draw(&mut m, 120, 40).backend().to_string();
    assert!(text.contains("deleted on the server"), "{text}");
    insta::assert_snapshot!("conflicts_server_deleted", draw(&mut m, 120, 40).backend());
}

#[test]
fn the_detail_shows_a_pending_change_and_the_month_marks_it() {
    let (mut m, dir) = model_with(
        |s| {
            remote_calendar(s, &[("review", "Design review", 9), ("retro", "Retro", 14)]);
            let p = stage_update(s, "review", "Design review (moved)", 9);
            s.push_failed(p, "the server answered 503 Service Unavailable")
                .unwrap();
        },
        false,
    );
    let month = draw(&mut m, 120, 40).backend().to_string();
    assert!(month.contains("✎Design"), "{month}");
    assert!(!month.contains("✎Retro"), "{month}");
    press(&mut m, &dir, KeyCode::Enter);
    let text = draw(&mut m, 120, 40).backend().to_string();
    for want in [
        "\"review-1\" · confirmed 3 min ago",
        "local update waiting to be pushed, based on etag \"review-1\"",
        "503 Service Unavailable",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    insta::assert_snapshot!("detail_pending", draw(&mut m, 120, 40).backend());
}

/// A cache for the mode tests: a server calendar with Kickoff (09:00) and a conflict on Review
/// (14:00), and a local calendar with a weekly Standup on Tuesdays (10:00).
fn every_mode_model() -> (Model, tempfile::TempDir) {
    model_with(
        |s| {
            remote_calendar(s, &[("kickoff", "Kickoff", 9), ("review", "Review", 14)]);
            let p = stage_update(s, "review", "Review (mine)", 14);
            let theirs = ics("review", "Review (theirs)", 14, "Room 7");
            s.record_conflict(p, Some("\"review-2\""), Some(&theirs), None, noon())
                .unwrap();
            let home = s.local_calendar("Home").unwrap();
            let standup = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:standup\r\nDTSTART:20261117T100000Z\r\nDTEND:20261117T101500Z\r\nRRULE:FREQ=WEEKLY\r\nSUMMARY:Standup\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
            s.import_items(home, &read_calendar(standup).items, 0)
                .unwrap();
        },
        false,
    )
}

/// Every mode that takes keys is on screen at every size from 40x12 up: a mode drawn nowhere
/// would swallow what is typed (`a`, typing, Enter once saved an event never shown).
#[test]
fn every_mode_is_drawn_at_every_size() {
    use KeyCode::{BackTab, Char, Enter, PageDown, Tab};
    // (name, keys from the month, text that must be on screen)
    let modes: &[(&str, &[KeyCode], &str)] = &[
        ("month", &[], "November 2026"),
        ("help", &[Char('?')], "Keys"),
        ("detail", &[Tab, Enter], "When"),
        ("sync", &[Char('s')], "Sync"),
        ("conflicts", &[Char('c')], "Conflicts (1)"),
        ("add", &[Char('a')], "New event"),
        ("edit", &[Tab, Char('e')], "Edit event"),
        ("scope", &[Char('l'), Tab, Char('e')], "occurrence"),
        ("delete", &[Tab, Char('d')], "Delete"),
        ("goto", &[Char('g'), Char('1'), Char('2')], "Go to date: 12"),
        ("zone", &[Char('z'), Char('A'), Char('s')], "Zone: As"),
        // What is taller than the terminal scrolls: the help, a conflict's field diff, the form
        // (to the field in focus).
        (
            "help_end",
            &[Char('?'), PageDown, PageDown, PageDown],
            "Mouse: click a day",
        ),
        (
            "conflict_diff",
            &[Char('c'), PageDown, PageDown],
            "Review (theirs)",
        ),
        ("form_last_field", &[Char('a'), BackTab], "Repeat"),
    ];
    for (w, h) in [(40, 12), (79, 23), (80, 24), (200, 60)] {
        for (name, keys, want) in modes {
            let (mut m, dir) = every_mode_model();
            for k in *keys {
                press(&mut m, &dir, *k);
            }
            let text = draw(&mut m, w, h).backend().to_string();
            assert!(
                text.contains(want),
                "{name} at {w}x{h}: {want:?} is not on screen:\n{text}"
            );
            insta::assert_snapshot!(format!("mode_{name}_{w}x{h}"), text);
        }
    }
}

/// The weekday header follows one rule for every column at every width.
#[test]
fn the_weekday_header_never_mixes_short_and_full_names() {
    let (mut m, _dir) = sample_model(false);
    for w in 80..=200 {
        let text = draw(&mut m, w, 30).backend().to_string();
        let header = text
            .lines()
            .find(|l| l.contains("Mon") && l.contains("Tue"))
            .unwrap_or_else(|| panic!("no weekday header at width {w}:\n{text}"));
        // The grid's part only: the side pane's title names the selected day in full.
        let header = header.split('│').next().unwrap_or_default();
        let full = [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
        ]
        .iter()
        .filter(|n| header.contains(*n))
        .count();
        assert!(full == 0 || full == 6, "width {w}: {header}");
    }
}

/// An account that cannot be reached has no calendar to carry its error: the sync pane lists it
/// with why its last run failed and when the next try is.
#[test]
fn the_sync_pane_lists_an_account_that_cannot_be_reached() {
    let (mut m, dir) = model_with(
        |s| {
            remote_calendar(s, &[("kickoff", "Kickoff", 9)]);
            s.note_account_run(
                "away",
                "caldav",
                "https://dav.example.net/",
                Some("cannot reach the server: connection failed"),
                noon() - 60,
            )
            .unwrap();
            s.note_next_run("away", noon() + 15 * 60).unwrap();
        },
        false,
    );
    press(&mut m, &dir, KeyCode::Char('s'));
    let text = draw(&mut m, 120, 40).backend().to_string();
    for want in [
        "away (caldav)",
        "cannot reach the server: connection failed",
        "next try",
        "home (caldav)",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
}
