//! Reminders in the TUI: the banner's queue, its keys (`x` dismiss, `z` snooze 5 min, `Z` choose),
//! and the snooze prompt. Pure: what to store goes out as commands.

use crossterm::event::{KeyCode, KeyEvent};

use super::keymap::{Action, Context};
use super::model::{Mode, Model, Status};
use super::update::Command;
use crate::domain::text::sanitize;
use crate::store::Reminder;

/// What `z` snoozes for.
pub const SNOOZE_MINUTES: u32 = 5;
/// The longest snooze the prompt takes (a day).
const MAX_SNOOZE_MINUTES: u32 = 24 * 60;

/// Reminders came due: they join the banner's queue (each once), and the bell rings if asked for.
pub fn on_due(model: &mut Model, due: Vec<Reminder>) -> Vec<Command> {
    let mut new = 0;
    for mut r in due {
        if model.reminders.iter().any(|q| q.key == r.key) {
            continue;
        }
        r.summary = sanitize(&r.summary);
        r.calendar = sanitize(&r.calendar);
        model.reminders.push(r);
        new += 1;
    }
    if new > 0 && model.bell {
        vec![Command::Bell]
    } else {
        Vec::new()
    }
}

/// The banner's keys, while it is shown in the month view; `None` when the key is not one of them
/// (or no banner is shown), so it keeps its month-view meaning.
pub fn on_banner_key(model: &mut Model, key: &KeyEvent) -> Option<Vec<Command>> {
    if model.reminders.is_empty() {
        return None;
    }
    match model.keymap.action_in(key, Context::Banner)? {
        Action::Dismiss => {
            let r = model.reminders.remove(0);
            Some(vec![Command::DismissReminder(r.key)])
        }
        Action::Snooze => Some(snooze(model, SNOOZE_MINUTES)),
        Action::SnoozeFor => {
            model.mode = Mode::Snooze(String::new());
            Some(Vec::new())
        }
        _ => None,
    }
}

/// The snooze prompt: minutes typed, Enter snoozes, Esc goes back.
pub fn on_prompt_key(model: &mut Model, mut typed: String, key: &KeyEvent) -> Vec<Command> {
    match key.code {
        KeyCode::Esc => model.mode = Mode::Month,
        KeyCode::Backspace => {
            typed.pop();
            model.mode = Mode::Snooze(typed);
        }
        KeyCode::Char(c) if c.is_ascii_digit() && typed.len() < 4 => {
            typed.push(c);
            model.mode = Mode::Snooze(typed);
        }
        KeyCode::Enter => {
            model.mode = Mode::Month;
            return match typed.parse::<u32>() {
                Ok(m) if (1..=MAX_SNOOZE_MINUTES).contains(&m) => snooze(model, m),
                _ => {
                    model.status = Some(Status {
                        text: format!("snooze for 1 to {MAX_SNOOZE_MINUTES} minutes"),
                        error: true,
                    });
                    Vec::new()
                }
            };
        }
        _ => {}
    }
    Vec::new()
}

fn snooze(model: &mut Model, minutes: u32) -> Vec<Command> {
    if model.reminders.is_empty() {
        return Vec::new();
    }
    let r = model.reminders.remove(0);
    model.status = Some(Status {
        text: format!("'{}' snoozed for {minutes} min", r.summary),
        error: false,
    });
    vec![Command::SnoozeReminder {
        key: r.key,
        until: model.now + chrono::Duration::minutes(i64::from(minutes)),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Clock;
    use crate::domain::When;
    use crate::store::{ReminderKey, ReminderKind};
    use chrono::{NaiveDate, TimeZone, Utc, Weekday};
    use crossterm::event::KeyModifiers;

    fn model(bell: bool) -> Model {
        let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let mut m = Model::new(day, chrono_tz::UTC, Weekday::Mon, Clock::H24, false);
        m.bell = bell;
        m.now = Utc.with_ymd_and_hms(2026, 11, 23, 8, 50, 0).unwrap();
        m
    }

    fn reminder(uid: &str) -> Reminder {
        let at = Utc.with_ymd_and_hms(2026, 11, 23, 8, 50, 0).unwrap();
        Reminder {
            key: ReminderKey {
                calendar_id: 1,
                uid: uid.into(),
                rid: String::new(),
                alarm_index: 0,
                alarm_at: at.timestamp(),
            },
            calendar: "Work".into(),
            summary: format!("{uid}\u{1b}[31m"),
            recurrence_id: None,
            start: When::Instant(at + chrono::Duration::minutes(10)),
            alarm_at: at,
            kind: ReminderKind::Due,
        }
    }

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn a_due_reminder_joins_the_banner_once_and_rings_when_asked() {
        let mut m = model(true);
        assert_eq!(on_due(&mut m, vec![reminder("a")]), [Command::Bell]);
        assert!(
            on_due(&mut m, vec![reminder("a")]).is_empty(),
            "already shown"
        );
        assert_eq!(m.reminders.len(), 1);
        assert!(
            !m.reminders[0].summary.contains('\u{1b}'),
            "made safe to draw"
        );
        let mut quiet = model(false);
        assert!(on_due(&mut quiet, vec![reminder("b")]).is_empty());
    }

    #[test]
    fn x_dismisses_and_z_snoozes_five_minutes_only_while_a_banner_shows() {
        let mut m = model(false);
        assert!(
            on_banner_key(&mut m, &key('z')).is_none(),
            "z keeps its meaning"
        );
        on_due(&mut m, vec![reminder("a"), reminder("b")]);
        let out = on_banner_key(&mut m, &key('x')).unwrap();
        assert!(matches!(&out[..], [Command::DismissReminder(k)] if k.uid == "a"));
        let out = on_banner_key(&mut m, &key('z')).unwrap();
        let until = m.now + chrono::Duration::minutes(5);
        assert!(
            matches!(&out[..], [Command::SnoozeReminder { key, until: u }] if key.uid == "b" && *u == until)
        );
        assert!(m.reminders.is_empty());
    }

    #[test]
    fn shift_z_asks_for_the_minutes() {
        let mut m = model(false);
        on_due(&mut m, vec![reminder("a")]);
        on_banner_key(&mut m, &key('Z')).unwrap();
        let mut out = Vec::new();
        for c in ['1', 'x', '5'] {
            let Mode::Snooze(typed) = m.mode.clone() else {
                panic!("the prompt closed")
            };
            out = on_prompt_key(&mut m, typed, &key(c));
        }
        assert_eq!(m.mode, Mode::Snooze("15".into()), "only digits are typed");
        assert!(out.is_empty());
        let out = on_prompt_key(&mut m, "15".into(), &KeyEvent::from(KeyCode::Enter));
        let until = m.now + chrono::Duration::minutes(15);
        assert!(matches!(&out[..], [Command::SnoozeReminder { until: u, .. }] if *u == until));
        assert_eq!(m.mode, Mode::Month);
    }

    #[test]
    fn a_remapped_dismiss_key_dismisses_and_the_old_key_passes_through() {
        let mut m = model(false);
        let settings = [crate::config::KeySetting {
            action: "dismiss_reminder".into(),
            keys: vec!["X".into()],
            line: 2,
        }];
        m.keymap = crate::app::keymap::Keymap::with_settings(
            &settings,
            std::path::Path::new("config.toml"),
        )
        .unwrap();
        on_due(&mut m, vec![reminder("a")]);
        assert!(
            on_banner_key(&mut m, &key('x')).is_none(),
            "x is free again"
        );
        let out = on_banner_key(&mut m, &key('X')).unwrap();
        assert!(matches!(&out[..], [Command::DismissReminder(k)] if k.uid == "a"));
    }
}
