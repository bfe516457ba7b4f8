//! The selected day's events, beside or below the grid; and the day list that replaces the grid on a
//! terminal too small for it.

use chrono::{Duration, NaiveDate};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Widget};

use super::text::{clock, fit, summary_label};
use super::theme::Theme;
use crate::app::Model;
use crate::domain::Occurrence;

/// The side pane: the selected day's events, with the cursor on one of them.
pub fn draw_pane(model: &Model, area: Rect, buf: &mut Buffer, theme: Theme, beside: bool) {
    let borders = if beside { Borders::LEFT } else { Borders::TOP };
    let block = Block::new().borders(borders).border_style(theme.border());
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.width < 4 || inner.height == 0 {
        return;
    }
    let w = inner.width as usize - 1;
    let x = inner.x + 1;
    let mut y = inner.y;
    buf.set_stringn(
        x,
        y,
        fit(&model.selected.format("%A %-d %B %Y").to_string(), w),
        w,
        theme.title(),
    );
    y += 1;
    let list = model.day_list(model.selected);
    if list.is_empty() {
        buf.set_stringn(x, y, "No events", w, theme.dim());
        return;
    }
    for (n, &idx) in list.iter().enumerate() {
        if y >= inner.bottom() {
            break;
        }
        let occ = &model.occurrences[idx];
        let selected = n == model.cursor;
        let cal_style = theme.calendar(model.calendar(occ.calendar_id));
        buf.set_stringn(x, y, "▌", 1, cal_style);
        let line = format!(
            "{} {}",
            span_label(model, occ, model.selected),
            summary_label(occ)
        );
        let mut style = if selected {
            theme.cursor()
        } else {
            ratatui::style::Style::new()
        };
        if occ.pending {
            style = theme.pending(style);
        }
        buf.set_stringn(x + 1, y, fit(&line, w - 1), w - 1, style);
        y += 1;
        if !occ.location.is_empty() && y < inner.bottom() {
            buf.set_stringn(
                x + 1,
                y,
                fit(&format!("  {}", occ.location), w - 1),
                w - 1,
                theme.dim(),
            );
            y += 1;
        }
    }
}

/// `09:00–09:30`, `all day`, or for a day in the middle of a long event `…–18:00`.
pub fn span_label(model: &Model, occ: &Occurrence, day: NaiveDate) -> String {
    if occ.all_day() {
        return "all day".into();
    }
    let (start, end) = occ.local_span(&model.zone);
    let from = if start.date() == day {
        clock(start.time(), model.clock)
    } else {
        "…".into()
    };
    let to = if end.date() == day
        || (end.date() == day + Duration::days(1) && end.time() == chrono::NaiveTime::MIN)
    {
        clock(end.time(), model.clock)
    } else {
        "…".into()
    };
    if from == to {
        from
    } else {
        format!("{from}–{to}")
    }
}

/// The day list for small terminals: from the selected day on, each day that has events.
pub fn draw_list(model: &Model, area: Rect, buf: &mut Buffer, theme: Theme) {
    let w = area.width as usize;
    let mut y = area.y;
    let mut day = model.selected;
    let last = model.loaded.map_or(model.selected, |(_, to)| to);
    while y < area.bottom() && day <= last {
        let list = model.day_list(day);
        if day == model.selected || !list.is_empty() {
            let style = if day == model.selected {
                theme.cursor()
            } else if day == model.today {
                theme.today()
            } else {
                theme.title()
            };
            buf.set_stringn(
                area.x,
                y,
                fit(&day.format("%a %-d %b").to_string(), w),
                w,
                style,
            );
            y += 1;
            if list.is_empty() && y < area.bottom() {
                buf.set_stringn(area.x + 2, y, "No events", w.saturating_sub(2), theme.dim());
                y += 1;
            }
            for &idx in list {
                if y >= area.bottom() {
                    break;
                }
                let occ = &model.occurrences[idx];
                let line = format!("{} {}", span_label(model, occ, day), summary_label(occ));
                buf.set_stringn(
                    area.x + 2,
                    y,
                    fit(&line, w.saturating_sub(2)),
                    w.saturating_sub(2),
                    theme.calendar(model.calendar(occ.calendar_id)),
                );
                y += 1;
            }
        }
        day += Duration::days(1);
    }
}
