//! The reminder banner on a `TestBackend` with a fixed clock, at the smallest and the usual size,
//! and the snooze prompt that `Z` opens.

use almanac::app::update::{Command, Msg, update};
use almanac::app::{Mode, Model};
use almanac::config::Clock;
use almanac::domain::When;
use almanac::store::{Reminder, ReminderKey, ReminderKind};
use chrono::{Duration, NaiveDate, TimeZone, Utc, Weekday};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn model() -> Model {
    let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let mut m = Model::new(
        day,
        chrono_tz::Europe::Berlin,
        Weekday::Mon,
        Clock::H24,
        false,
    );
    m.now = Utc.with_ymd_and_hms(2026, 11, 23, 7, 50, 0).unwrap();
    m.bell = true;
    m
}

fn reminder(uid: &str, summary: &str, minutes_before: i64, kind: ReminderKind) -> Reminder {
    let start = Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap();
    let at = start - Duration::minutes(minutes_before);
    Reminder {
        key: ReminderKey {
            calendar_id: 1,
            uid: uid.into(),
            rid: String::new(),
            alarm_index: 0,
            alarm_at: at.timestamp(),
        },
        calendar: "Work".into(),
        summary: summary.into(),
        recurrence_id: None,
        start: When::Instant(start),
        alarm_at: at,
        kind,
    }
}

fn screen(model: &mut Model, w: u16, h: u16) -> String {
    model.size = (w, h);
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| almanac::ui::view(model, f)).unwrap();
    terminal.backend().to_string()
}

fn key(model: &mut Model, code: KeyCode) -> Vec<Command> {
    update(model, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

#[test]
fn a_due_reminder_shows_a_banner_with_its_keys_at_every_size() {
    let mut m = model();
    let out = update(
        &mut m,
        Msg::Reminders(vec![
            reminder("s", "Standup", 10, ReminderKind::Due),
            reminder("r", "Review", 60, ReminderKind::Missed),
        ]),
    );
    assert_eq!(out, [Command::Bell], "the bell rings when asked for");
    let big = screen(&mut m, 80, 24);
    assert!(
        big.contains("🔔 [+1] 09:00 Standup (Work), in 10 min · x dismiss"),
        "{big}"
    );
    insta::assert_snapshot!("banner_80x24", big);
    let small = screen(&mut m, 40, 12);
    assert!(
        small.contains("🔔 [+1] Standu…") && small.contains("x dismiss z 5 min Z…"),
        "the keys always show: {small}"
    );
    insta::assert_snapshot!("banner_40x12", small);
}

#[test]
fn x_shows_the_next_reminder_and_z_keeps_choosing_the_zone_once_none_waits() {
    let mut m = model();
    update(
        &mut m,
        Msg::Reminders(vec![
            reminder("s", "Standup", 10, ReminderKind::Due),
            reminder("r", "Review", 60, ReminderKind::Missed),
        ]),
    );
    let out = key(&mut m, KeyCode::Char('x'));
    assert!(matches!(&out[..], [Command::DismissReminder(k)] if k.uid == "s"));
    let next = screen(&mut m, 80, 24);
    assert!(next.contains("missed: 09:00 Review (Work)"), "{next}");
    key(&mut m, KeyCode::Char('Z'));
    assert_eq!(m.mode, Mode::Snooze(String::new()));
    key(&mut m, KeyCode::Char('3'));
    key(&mut m, KeyCode::Char('0'));
    let prompt = screen(&mut m, 80, 24);
    assert!(
        prompt.contains("Snooze 'Review' for minutes: 30█"),
        "{prompt}"
    );
    insta::assert_snapshot!("snooze_prompt_80x24", prompt);
    let out = key(&mut m, KeyCode::Enter);
    assert!(matches!(&out[..], [Command::SnoozeReminder { key, until }]
            if key.uid == "r" && *until == m.now + Duration::minutes(30)));
    let clear = screen(&mut m, 80, 24);
    assert!(!clear.contains('🔔'), "{clear}");
    key(&mut m, KeyCode::Char('z'));
    assert_eq!(
        m.mode,
        Mode::Zone(String::new()),
        "z chooses the zone again"
    );
}
