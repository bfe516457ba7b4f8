//! The calendar list: every account's calendars and the local ones, each with its colour, kind,
//! read-only mark, event count and whether it is shown.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget};
use unicode_width::UnicodeWidthStr;

use super::overlay::{centered, frame_block};
use super::text::fit;
use super::theme::{Theme, parse_hex};
use crate::app::Model;
use crate::app::keymap::Action;

/// The list, over the month.
pub fn draw(model: &Model, area: Rect, buf: &mut Buffer, theme: Theme) {
    let view = &model.calendar_list;
    let rect = centered(area, 80, view.rows.len().max(1) as u16 + 2);
    if rect.height < 3 || rect.width < 6 {
        return;
    }
    let w = rect.width.saturating_sub(4) as usize;
    let room = (rect.height as usize).saturating_sub(2);
    let mut lines: Vec<Line> = Vec::new();
    if !view.loaded {
        lines.push(Line::styled("reading…", theme.dim()));
    } else if view.rows.is_empty() {
        lines.push(Line::raw(fit("No calendars yet.", w)));
    }
    let first = view.cursor.saturating_sub(room.saturating_sub(1));
    for (i, c) in view.rows.iter().enumerate().skip(first).take(room) {
        let mark = if c.hidden { "[ ]" } else { "[x]" };
        let colour = match (theme.color, c.color.as_deref().and_then(parse_hex)) {
            (true, Some(color)) => Style::default().fg(color),
            _ => Style::default(),
        };
        let owner = match &c.account {
            Some(a) => format!("{a} · {}", c.kind),
            None if c.is_sample => "bundled sample".into(),
            None => "local".into(),
        };
        let mut tail = format!("{owner} · {} events", c.events);
        if c.read_only {
            tail.push_str(" · read-only");
        }
        let name_w = w.saturating_sub(6).min(28);
        let name = fit(&c.name, name_w);
        let pad = " ".repeat(name_w.saturating_sub(name.width()));
        let rest = w.saturating_sub(6 + name_w + 2);
        let style = if i == view.cursor {
            theme.cursor()
        } else if c.hidden {
            theme.dim()
        } else {
            Style::default()
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{mark} "), style),
            Span::styled("■ ", colour),
            Span::styled(format!("{name}{pad}  "), style),
            Span::styled(fit(&tail, rest), theme.dim()),
        ]));
    }
    let hint = format!(
        " {} show/hide · ↑↓ move · Esc close ",
        model.keymap.key_of(Action::ToggleCalendar)
    );
    Clear.render(rect, buf);
    Paragraph::new(lines)
        .block(
            frame_block("Calendars", theme).title_bottom(Span::styled(fit(&hint, w), theme.dim())),
        )
        .render(rect, buf);
}
