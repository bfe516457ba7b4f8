//! The agenda: the loaded occurrences as a list grouped by day, from the selected day on.
//! Moving past either end reads further days (`app::views`), so it scrolls without end.

use chrono::NaiveDate;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use super::day::span_label;
use super::text::{fit, summary_label};
use super::theme::Theme;
use crate::app::Model;
use crate::app::views::{self, AgendaLine as Line};

/// Draws the list below the title line and above the status line.
pub fn draw(model: &Model, area: Rect, buf: &mut Buffer, theme: Theme) {
    if area.height < 3 || area.width < 8 {
        return;
    }
    let body = Rect {
        y: area.y + 1,
        height: area.height - 2,
        ..area
    };
    let (lines, first) = views::agenda_lines(model, body.height as usize);
    let w = body.width as usize;
    for (k, line) in lines
        .iter()
        .skip(first)
        .take(body.height as usize)
        .enumerate()
    {
        let y = body.y + k as u16;
        match *line {
            Line::Day(day) => {
                let mut text = day.format("%A %-d %B %Y").to_string();
                if day == model.today {
                    text.push_str(" · today");
                }
                let style = if day == model.selected {
                    theme.selected_number()
                } else {
                    theme.title()
                };
                buf.set_stringn(body.x, y, fit(&text, w), w, style);
            }
            Line::Empty(_) => {
                buf.set_stringn(body.x + 2, y, "No events", w.saturating_sub(2), theme.dim());
            }
            Line::Item(day, n) => draw_item(model, day, n, body, y, buf, theme),
        }
    }
    let drawn = lines.len().saturating_sub(first);
    if drawn < body.height as usize
        && let Some((_, last)) = model.loaded
    {
        let text = format!(
            "… nothing loaded after {} · ↓ or ] reads on",
            last.format("%-d %b")
        );
        buf.set_stringn(body.x, body.y + drawn as u16, fit(&text, w), w, theme.dim());
    }
}

fn draw_item(
    model: &Model,
    day: NaiveDate,
    n: usize,
    body: Rect,
    y: u16,
    buf: &mut Buffer,
    theme: Theme,
) {
    let Some(&idx) = model.day_list(day).get(n) else {
        return;
    };
    let occ = &model.occurrences[idx];
    let w = body.width as usize;
    let cal = theme.calendar(model.calendar(occ.calendar_id));
    buf.set_stringn(body.x + 1, y, "▌", 1, cal);
    let when = span_label(model, occ, day);
    let when_w = if w >= 60 {
        13
    } else {
        when.chars().count() + 1
    };
    let mut style = if day == model.selected && n == model.cursor {
        theme.cursor()
    } else {
        Style::new()
    };
    if occ.pending {
        style = theme.pending(style);
    }
    let x = body.x + 3;
    let room = w.saturating_sub(3);
    let mut line = format!("{:<when_w$}{}", when, summary_label(occ));
    if !occ.location.is_empty() && room > 50 {
        line.push_str(&format!(" · {}", occ.location));
    }
    buf.set_stringn(x, y, fit(&line, room), room, style);
}
