//! The `/` prompt and its results, nearest first.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget};
use unicode_width::UnicodeWidthStr;

use super::overlay::{centered, frame_block};
use super::text::{clock, fit};
use super::theme::Theme;
use crate::app::Model;
use crate::app::model::LocalSpan;

/// The prompt and the results, over the month.
pub fn draw(model: &Model, area: Rect, buf: &mut Buffer, theme: Theme) {
    let rows = model.search.hits.len().max(1) as u16 + 3;
    let rect = centered(area, 100, rows.min(area.height.saturating_sub(2)));
    if rect.height < 3 || rect.width < 6 {
        return;
    }
    let w = rect.width.saturating_sub(4) as usize;
    let s = &model.search;
    let mut lines = vec![Line::from(vec![
        Span::styled("/ ", theme.title()),
        Span::raw(fit(&format!("{}█", s.query), w.saturating_sub(2))),
    ])];
    let room = (rect.height as usize).saturating_sub(3);
    if s.query.trim().is_empty() {
        lines.push(Line::styled(
            fit(
                "words, \"a phrase\"; summaries, places, notes, attendees",
                w,
            ),
            theme.dim(),
        ));
    } else if s.hits.is_empty() && s.found_for == s.query {
        lines.push(Line::styled(fit("nothing matches", w), theme.dim()));
    } else {
        // The window of results that keeps the cursor in view.
        let first = s.cursor.saturating_sub(room.saturating_sub(1));
        for (i, hit) in s.hits.iter().enumerate().skip(first).take(room) {
            let span = LocalSpan::of(hit, &model.zone);
            let when = if hit.all_day() {
                format!("{}  all day", span.start.format("%a %d %b %Y"))
            } else {
                format!(
                    "{}  {:>5}",
                    span.start.format("%a %d %b %Y"),
                    clock(span.start.time(), model.clock)
                )
            };
            let cal = model.calendar(hit.calendar_id);
            let mut what = hit.summary.to_string();
            if !hit.location.is_empty() {
                what.push_str(" @ ");
                what.push_str(&hit.location);
            }
            let when = fit(&when, w);
            let rest = w.saturating_sub(when.width() + 4);
            let style = if i == s.cursor {
                theme.cursor()
            } else {
                ratatui::style::Style::default()
            };
            lines.push(Line::from(vec![
                Span::styled(when, style),
                Span::styled("  ■ ", theme.calendar(cal)),
                Span::styled(fit(&what, rest), style),
            ]));
        }
    }
    let title = if s.hits.is_empty() {
        "Search".to_string()
    } else {
        format!("Search · {}/{}", s.cursor + 1, s.hits.len())
    };
    let hint = " ↑↓ choose · Enter go · Esc close ";
    Clear.render(rect, buf);
    Paragraph::new(lines)
        .block(frame_block(&title, theme).title_bottom(Span::styled(fit(hint, w), theme.dim())))
        .render(rect, buf);
}
