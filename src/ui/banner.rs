//! The reminder banner: the first reminder waiting, on the top line, until it is dismissed or
//! snoozed; and the snooze prompt in its place.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};

use super::text::{clock, fit};
use super::theme::Theme;
use crate::app::keymap::Action;
use crate::app::{Mode, Model};
use crate::domain::When;
use crate::store::{Reminder, ReminderKind};

/// Draws the banner over the top line while a reminder waits (in the month view and the snooze
/// prompt, where its keys work).
pub fn draw(model: &Model, area: Rect, buf: &mut Buffer, theme: Theme) {
    let Some(first) = model.reminders.first() else {
        return;
    };
    if area.height == 0 || area.width == 0 {
        return;
    }
    let w = area.width as usize;
    let text = match &model.mode {
        Mode::Snooze(typed) => fit(
            &format!(
                " 🔔 Snooze '{}' for minutes: {typed}█  (Enter snoozes, Esc cancels)",
                first.summary
            ),
            w,
        ),
        Mode::Month => {
            // Before the text, so that a cut does not hide it.
            let more = match model.reminders.len() {
                1 => String::new(),
                n => format!(" [+{}]", n - 1),
            };
            // The keys always show; the reminder's text gives way first.
            let k = |a: Action| model.keymap.key_of(a);
            let (x, z, zz) = (k(Action::Dismiss), k(Action::Snooze), k(Action::SnoozeFor));
            let keys = if w >= 100 {
                format!(" · {x} dismiss · {z} snooze 5 min · {zz} snooze… ")
            } else {
                format!(" · {x} dismiss {z} 5 min {zz}… ")
            };
            let room = w.saturating_sub(keys.chars().count());
            format!(
                "{}{keys}",
                fit(
                    &format!(" 🔔{more} {}", describe(model, first, w < 60)),
                    room
                )
            )
        }
        _ => return,
    };
    let style = if theme.color {
        theme.badge()
    } else {
        Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    };
    let line = Rect { height: 1, ..area };
    buf.set_stringn(area.x, area.y, " ".repeat(w), w, style);
    buf.set_style(line, style);
    buf.set_stringn(area.x, area.y, fit(&text, w), w, style);
}

/// "09:00 Standup (Work), in 10 min": the start in the display zone, and how far off it is;
/// `short`: "Standup 09:00", what a narrow terminal has room for.
pub fn describe(model: &Model, r: &Reminder, short: bool) -> String {
    let when = match r.start {
        When::Date(_) => "all day".to_string(),
        other => clock(other.local(&model.zone).time(), model.clock),
    };
    if short {
        return format!("{} {when}", r.summary);
    }
    let start = crate::domain::alarm::instant_of(r.start, &model.zone);
    let minutes = (start - model.now).num_minutes();
    let off = match minutes {
        m if m > 0 => format!("in {m} min"),
        0 => "now".to_string(),
        m => format!("began {} min ago", -m),
    };
    let missed = if r.kind == ReminderKind::Missed {
        "missed: "
    } else {
        ""
    };
    format!("{missed}{when} {} ({}), {off}", r.summary, r.calendar)
}
