//! `update` without a terminal: every interaction is a message in and commands out.

use chrono::{NaiveDate, Weekday};
use chrono_tz::Tz;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

use super::layout;
use super::update::{Command, Msg, select, update};
use super::{Mode, Model};
use crate::config::Clock;
use crate::domain::{Calendar, Occurrence, When};
use ratatui::layout::Rect;

pub(super) fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

pub(super) fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub(super) fn occ(uid: &str, start: When, end: When) -> Occurrence {
    Occurrence {
        event_id: 1,
        calendar_id: 1,
        uid: uid.into(),
        recurrence_id: None,
        summary: uid.into(),
        location: "".into(),
        status: None,
        start,
        end,
        tzid: None,
        pending: false,
        note: None,
    }
}

pub(super) fn at(day: NaiveDate, h: u32) -> When {
    When::Instant(day.and_hms_opt(h, 0, 0).unwrap().and_utc())
}

/// A model on 2026-11-23 with its first load answered.
pub(super) fn loaded(occurrences: Vec<Occurrence>) -> Model {
    let mut m = Model::new(d(2026, 11, 23), Tz::UTC, Weekday::Mon, Clock::H24, true);
    m.size = (120, 40);
    let day = m.selected;
    let cmds = select(&mut m, day);
    let Some(Command::Load { from, to }) = cmds.first().cloned() else {
        panic!("the first select loads: {cmds:?}")
    };
    let cal = Calendar {
        id: 1,
        name: "home".into(),
        color: None,
        is_sample: false,
        hidden: false,
        read_only: false,
    };
    update(
        &mut m,
        Msg::Loaded {
            from,
            to,
            calendars: vec![cal],
            occurrences,
        },
    );
    m
}

#[test]
fn arrows_and_hjkl_move_the_selected_day() {
    let mut m = loaded(vec![]);
    update(&mut m, key(KeyCode::Right));
    assert_eq!(m.selected, d(2026, 11, 24));
    update(&mut m, key(KeyCode::Char('j')));
    assert_eq!(m.selected, d(2026, 12, 1));
    update(&mut m, key(KeyCode::Char('h')));
    update(&mut m, key(KeyCode::Up));
    assert_eq!(m.selected, d(2026, 11, 23));
}

#[test]
fn each_month_loads_exactly_its_visible_weeks_and_moving_inside_it_loads_nothing() {
    let mut m = loaded(vec![]);
    assert!(
        update(&mut m, key(KeyCode::Right)).is_empty(),
        "same month: no load"
    );
    let cmds = update(&mut m, key(KeyCode::Char('n')));
    assert_eq!(m.selected, d(2026, 12, 24));
    assert_eq!(m.month.month, d(2026, 12, 1));
    // December 2026 in Monday-first weeks: 30 Nov ..= 3 Jan.
    assert_eq!(
        cmds,
        vec![Command::Load {
            from: d(2026, 11, 30),
            to: d(2027, 1, 3)
        }]
    );
    let cmds = update(&mut m, key(KeyCode::PageDown));
    assert_eq!(m.selected, d(2027, 1, 24));
    assert_eq!(
        cmds,
        vec![Command::Load {
            from: d(2026, 12, 28),
            to: d(2027, 1, 31)
        }]
    );
    update(&mut m, key(KeyCode::Char('t')));
    assert_eq!(m.selected, d(2026, 11, 23));
}

#[test]
fn a_stale_load_answer_is_ignored() {
    let mut m = loaded(vec![]);
    update(&mut m, key(KeyCode::Char('g')));
    for c in "2030-01-15".chars() {
        update(&mut m, key(KeyCode::Char(c)));
    }
    let cmds = update(&mut m, key(KeyCode::Enter));
    assert_eq!(m.selected, d(2030, 1, 15));
    assert!(matches!(cmds.as_slice(), [Command::Load { .. }]));
    // The answer for the old window arrives late: it must not replace what is shown.
    let old = occ("old", at(d(2026, 11, 23), 9), at(d(2026, 11, 23), 10));
    update(
        &mut m,
        Msg::Loaded {
            from: d(2026, 10, 1),
            to: d(2026, 12, 31),
            calendars: vec![],
            occurrences: vec![old],
        },
    );
    assert!(m.occurrences.is_empty());
}

#[test]
fn goto_rejects_what_is_not_a_date_and_says_how_to_type_it() {
    let mut m = loaded(vec![]);
    update(&mut m, key(KeyCode::Char('g')));
    for c in "2026-13-45".chars() {
        update(&mut m, key(KeyCode::Char(c)));
    }
    update(&mut m, key(KeyCode::Enter));
    assert_eq!(m.selected, d(2026, 11, 23));
    let status = m.status.clone().expect("an error");
    assert!(
        status.error && status.text.contains("2026-12-24"),
        "{status:?}"
    );
    // What people type: `g 24/12` once said "'2412' is not a date".
    for (typed, want) in [
        ("24/12", d(2026, 12, 24)),
        ("24.12.", d(2026, 12, 24)),
        ("dec 24", d(2026, 12, 24)),
        ("tomorrow", d(2026, 11, 24)),
        ("fri", d(2026, 11, 27)),
        ("+3d", d(2026, 11, 26)),
        ("next week", d(2026, 11, 30)),
        ("2026-12", d(2026, 12, 1)),
    ] {
        m.mode = Mode::Month;
        select(&mut m, d(2026, 11, 23));
        update(&mut m, key(KeyCode::Char('g')));
        for c in typed.chars() {
            update(&mut m, key(KeyCode::Char(c)));
        }
        update(&mut m, key(KeyCode::Enter));
        assert_eq!(m.selected, want, "g {typed}");
    }
}

#[test]
fn tab_walks_the_days_events_and_enter_opens_the_detail() {
    let day = d(2026, 11, 23);
    let mut m = loaded(vec![
        occ("b-later", at(day, 14), at(day, 15)),
        occ("a-early", at(day, 9), at(day, 10)),
        occ("allday", When::Date(day), When::Date(d(2026, 11, 24))),
    ]);
    let order: Vec<String> = m
        .day_list(day)
        .iter()
        .map(|&i| m.occurrences[i].uid.to_string())
        .collect();
    assert_eq!(
        order,
        vec!["allday", "a-early", "b-later"],
        "all-day first, then by start"
    );
    update(&mut m, key(KeyCode::Tab));
    update(&mut m, key(KeyCode::Enter));
    assert_eq!(m.mode, Mode::Detail);
    assert_eq!(&*m.selected_occurrence().unwrap().uid, "a-early");
    update(&mut m, key(KeyCode::Char('j')));
    assert_eq!(&*m.selected_occurrence().unwrap().uid, "b-later");
    update(&mut m, key(KeyCode::Esc));
    assert_eq!(m.mode, Mode::Month);
}

#[test]
fn enter_on_an_empty_day_says_so() {
    let mut m = loaded(vec![]);
    update(&mut m, key(KeyCode::Enter));
    assert_eq!(m.mode, Mode::Month);
    assert!(m.status.is_some());
}

#[test]
fn a_click_selects_the_day_under_the_pointer() {
    let mut m = loaded(vec![]);
    let geo = layout::month(Rect::new(0, 0, 120, 40), m.month.rows.len() as u16);
    let cell = geo.cell(2, 3); // third week row, Thursday
    update(
        &mut m,
        Msg::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: cell.x + 2,
            row: cell.y + 1,
            modifiers: KeyModifiers::NONE,
        }),
    );
    assert_eq!(m.selected, d(2026, 11, 12));
}

#[test]
fn a_click_in_the_week_view_selects_the_day_and_the_hour_and_the_event_there() {
    let day = d(2026, 11, 25);
    let mut m = loaded(vec![occ("review", at(day, 14), at(day, 15))]);
    update(&mut m, key(KeyCode::Char('w')));
    // 120 columns: a 6-column gutter, then 7 columns of 114 / 7 each; Wednesday is the third.
    let x = 6 + 114 * 2 / 7 + 3;
    let grid = super::views::grid(&m, Rect::new(0, 0, 120, 40)).unwrap();
    let y = grid.y + (14 - grid.top as u16) * grid.per_hour;
    let click = |column, row| {
        Msg::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    update(&mut m, click(x, y));
    assert_eq!(m.selected, day);
    assert_eq!(m.views.hour, 14);
    assert_eq!(
        m.selected_occurrence().map(|o| o.uid.to_string()),
        Some("review".to_string())
    );
    // The header selects the day and keeps the hour; the gutter selects nothing.
    update(&mut m, click(6 + 114 * 4 / 7 + 3, grid.header_y));
    assert_eq!((m.selected, m.views.hour), (d(2026, 11, 27), 14));
    update(&mut m, click(2, y));
    assert_eq!(m.selected, d(2026, 11, 27));
}

#[test]
fn a_click_on_the_agenda_selects_the_line_s_day_and_event() {
    let (mon, wed) = (d(2026, 11, 23), d(2026, 11, 25));
    let mut m = loaded(vec![
        occ("standup", at(mon, 9), at(mon, 10)),
        occ("early", at(wed, 8), at(wed, 9)),
        occ("late", at(wed, 17), at(wed, 18)),
    ]);
    update(&mut m, key(KeyCode::Char('A')));
    // Title on row 0; then Monday's heading and its event, Wednesday's heading and two events.
    let click = |row| {
        Msg::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: 10,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    update(&mut m, click(5));
    assert_eq!(m.selected, wed);
    assert_eq!(
        m.selected_occurrence().map(|o| o.uid.to_string()),
        Some("late".to_string())
    );
    update(&mut m, click(0));
    assert_eq!(m.selected, wed, "the title line selects nothing");
}

#[test]
fn loaded_text_is_made_safe_to_draw() {
    let day = d(2026, 11, 23);
    let mut evil = occ("x", at(day, 9), at(day, 10));
    evil.summary = "\x1b]52;c;aGk=\x07pwn\u{202e}txt".into();
    let m = loaded(vec![evil]);
    assert_eq!(&*m.occurrences[0].summary, "]52;c;aGk=pwntxt");
}

#[test]
fn multi_day_events_become_bars_in_a_stable_lane() {
    let m = loaded(vec![
        occ("conf", at(d(2026, 11, 25), 9), at(d(2026, 11, 27), 17)),
        occ(
            "trip",
            When::Date(d(2026, 11, 27)),
            When::Date(d(2026, 12, 2)),
        ),
        occ("meeting", at(d(2026, 11, 26), 9), at(d(2026, 11, 26), 10)),
    ]);
    let row = &m.month.rows[4]; // the week of 23 Nov
    let conf = row
        .bars
        .iter()
        .find(|b| &*m.occurrences[b.occ].uid == "conf")
        .unwrap();
    assert_eq!((conf.from_col, conf.to_col, conf.lane), (2, 4, 0));
    let trip = row
        .bars
        .iter()
        .find(|b| &*m.occurrences[b.occ].uid == "trip")
        .unwrap();
    assert_eq!(
        (trip.from_col, trip.to_col, trip.lane, trip.continues_right),
        (4, 6, 1, true)
    );
    assert_eq!(
        row.timed[3].len(),
        1,
        "the one-hour meeting sits in Thursday's cell"
    );
    let next = &m.month.rows[5];
    let trip2 = next
        .bars
        .iter()
        .find(|b| &*m.occurrences[b.occ].uid == "trip")
        .unwrap();
    assert_eq!(
        (trip2.from_col, trip2.to_col, trip2.continues_left),
        (0, 1, true)
    );
}

#[test]
fn ctrl_c_and_q_quit() {
    let mut m = loaded(vec![]);
    assert_eq!(update(&mut m, key(KeyCode::Char('q'))), vec![Command::Quit]);
    let mut m = loaded(vec![]);
    let cmds = update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    );
    assert_eq!(cmds, vec![Command::Quit]);
    assert!(m.quit);
}

#[test]
fn weeks_can_start_on_sunday() {
    let mut m = Model::new(d(2026, 11, 23), Tz::UTC, Weekday::Sun, Clock::H24, true);
    m.relayout();
    // 1 November 2026 is a Sunday: the grid starts on it, and 30 November ends the fifth row.
    assert_eq!(m.month.first_day, d(2026, 11, 1));
    assert_eq!(m.month.rows.len(), 5);
    let monday_first = Model::new(d(2026, 11, 23), Tz::UTC, Weekday::Mon, Clock::H24, true);
    assert_eq!(monday_first.month.first_day, d(2026, 10, 26));
    assert_eq!(monday_first.month.rows.len(), 6);
}

#[test]
fn z_switches_the_display_zone_with_completion_and_reloads_for_it() {
    let mut m = loaded(vec![]);
    update(&mut m, key(KeyCode::Char('z')));
    for c in "asia/tok".chars() {
        update(&mut m, key(KeyCode::Char(c)));
    }
    update(&mut m, key(KeyCode::Tab));
    assert_eq!(m.mode, Mode::Zone("Asia/Tokyo".into()));
    let cmds = update(&mut m, key(KeyCode::Enter));
    assert_eq!(m.zone, Tz::Asia__Tokyo);
    let (from, to) = m.visible_days();
    assert_eq!(
        cmds,
        vec![
            Command::SetZone {
                zone: Tz::Asia__Tokyo
            },
            Command::Load { from, to }
        ]
    );
    // An unknown name changes nothing and says why.
    update(&mut m, key(KeyCode::Char('z')));
    for c in "Mars/Base".chars() {
        update(&mut m, key(KeyCode::Char(c)));
    }
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    assert_eq!(m.zone, Tz::Asia__Tokyo);
    assert!(m.status.as_ref().is_some_and(|s| s.error));
}

#[test]
fn sync_progress_reads_the_pane_rows_only_while_the_pane_is_open() {
    use crate::sync::SyncEvent;
    let day = d(2026, 11, 23);
    let mut m = loaded(vec![occ("x", at(day, 9), at(day, 10))]);
    let progress = || {
        Msg::Sync(SyncEvent::Progress {
            calendar: 1,
            done: 1,
            total: 2,
        })
    };
    assert!(!update(&mut m, progress()).contains(&Command::LoadStatus));
    assert_eq!(m.sync.running, vec![(1, Some((1, 2)))]);
    m.mode = Mode::Sync;
    assert!(update(&mut m, progress()).contains(&Command::LoadStatus));
}

#[test]
fn a_silent_server_is_shown_as_waiting_until_it_answers() {
    use crate::sync::SyncEvent;
    let day = d(2026, 11, 23);
    let mut m = loaded(vec![occ("x", at(day, 9), at(day, 10))]);
    let waiting = |secs| {
        Msg::Sync(SyncEvent::Waiting {
            account: "home".into(),
            secs,
        })
    };
    let shown = |m: &Model| {
        let area = Rect::new(0, 0, 100, 30);
        let mut buf = ratatui::buffer::Buffer::empty(area);
        crate::ui::draw(m, area, &mut buf);
        (0..area.height)
            .map(|y| {
                (0..area.width)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    update(&mut m, waiting(3));
    update(&mut m, waiting(4));
    assert_eq!(m.sync.waiting, vec![("home".to_string(), 4)]);
    assert!(shown(&m).contains("waiting for the server: home (4 s)"));
    update(&mut m, waiting(0));
    assert!(m.sync.waiting.is_empty());
    assert!(!shown(&m).contains("waiting for the server"));
}

#[test]
fn a_message_shows_the_latest_state_and_fades() {
    use crate::sync::SyncEvent;
    let day = d(2026, 11, 23);
    let mut m = loaded(vec![occ("x", at(day, 9), at(day, 10))]);
    let t0 = m.now;
    update(&mut m, Msg::Staged(Ok("saved; pushing…".into())));
    update(
        &mut m,
        Msg::Sync(SyncEvent::Pushed {
            calendar: 1,
            pushed: 1,
            conflicts: 0,
        }),
    );
    assert_eq!(m.status.as_ref().unwrap().text, "pushed to the server");
    update(&mut m, Msg::Now(t0 + chrono::Duration::seconds(5)));
    assert!(m.status.is_some(), "still fresh");
    update(&mut m, Msg::Now(t0 + chrono::Duration::seconds(9)));
    assert_eq!(m.status, None, "faded");
    // A problem stays longer, then fades too (the panes keep saying it).
    update(&mut m, Msg::LoadFailed("disk full".into()));
    let t1 = m.now;
    update(&mut m, Msg::Now(t1 + chrono::Duration::seconds(9)));
    assert!(m.status.as_ref().is_some_and(|s| s.error));
    update(&mut m, Msg::Now(t1 + chrono::Duration::seconds(16)));
    assert_eq!(m.status, None);
}

#[test]
fn a_write_by_another_process_reloads_what_is_on_screen() {
    let day = d(2026, 11, 23);
    let mut m = loaded(vec![occ("x", at(day, 9), at(day, 10))]);
    let cmds = update(&mut m, Msg::CacheChanged);
    assert!(
        cmds.iter().any(|c| matches!(c, Command::Load { .. })),
        "{cmds:?}"
    );
    m.mode = Mode::Sync;
    assert!(update(&mut m, Msg::CacheChanged).contains(&Command::LoadStatus));
}

#[test]
fn a_notice_about_what_is_on_screen_reaches_the_status_line() {
    let mut m = loaded(vec![]);
    update(
        &mut m,
        Msg::Notice("⚠ 'Every minute' cannot be shown in full here: series truncated".into()),
    );
    let status = m.status.clone().expect("shown");
    assert!(
        !status.error && status.text.contains("series truncated"),
        "{status:?}"
    );
}
