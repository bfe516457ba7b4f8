//! The add/edit form and the two small prompts of editing: "this occurrence or the series" and
//! "delete?".

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget};
use unicode_width::UnicodeWidthChar;

use super::overlay::{centered, frame_block};
use super::text::fit;
use super::theme::Theme;
use crate::app::editing::{Intent, Pick, Removal};
use crate::app::form::{FIELDS, Field, Form, Target};
use crate::domain::text::sanitize;

const LABEL_W: usize = 13;

/// The form, over the month.
pub fn draw(form: &Form, area: Rect, buf: &mut Buffer, theme: Theme) {
    let title = match &form.target {
        Target::New => "New event",
        Target::Edit {
            occurrence: Some(_),
            ..
        } => "Edit this occurrence",
        Target::Edit { .. } if form.original.repeat.rrule().is_some() => "Edit the whole series",
        Target::Edit { .. } => "Edit event",
    };
    let rect = centered(area, 66, FIELDS.len() as u16 + 5);
    let value_w = (rect.width as usize).saturating_sub(4 + LABEL_W + 1);
    let inner_w = (rect.width as usize).saturating_sub(4);
    // The error and the keys always show; on a short terminal the fields scroll so that the
    // focused one is in view.
    let mut footer = Vec::new();
    if let Some(e) = &form.error {
        footer.push(Line::styled(fit(&sanitize(e), inner_w), theme.error()));
    }
    footer.push(Line::styled(
        fit(
            "Tab ↑↓ move · Space ←→ choose · Enter save · Esc cancel",
            inner_w,
        ),
        theme.dim(),
    ));
    let inner_h = rect.height.saturating_sub(2) as usize;
    let room = inner_h.saturating_sub(footer.len()).max(1);
    let focus = FIELDS.iter().position(|f| *f == form.focus).unwrap_or(0);
    let first = focus
        .saturating_sub(room.saturating_sub(1))
        .min(FIELDS.len().saturating_sub(room));
    let mut lines: Vec<Line> = FIELDS
        .iter()
        .skip(first)
        .take(room)
        .map(|&field| field_line(form, field, value_w, theme))
        .collect();
    while lines.len() + footer.len() < inner_h {
        lines.push(Line::raw(""));
    }
    lines.extend(footer);
    Clear.render(rect, buf);
    Paragraph::new(lines)
        .block(frame_block(title, theme))
        .render(rect, buf);
}

fn field_line(form: &Form, field: Field, w: usize, theme: Theme) -> Line<'static> {
    let focused = form.focus == field;
    let active = form.active(field);
    let label_style = if focused { theme.title() } else { theme.dim() };
    let marker = if focused { "›" } else { " " };
    let mut spans = vec![Span::styled(
        format!("{marker}{:<width$}", field.label(), width = LABEL_W),
        label_style,
    )];
    let v = &form.values;
    let choice = |text: String| {
        if focused {
            format!("‹ {text} ›")
        } else {
            text
        }
    };
    match field {
        _ if field.is_text() && !active => spans.push(Span::styled("—", theme.dim())),
        // Shown selected: what is typed replaces it.
        _ if field.is_text() && focused && form.fresh => spans.push(Span::styled(
            fit(&sanitize(v.text(field)), w),
            theme.cursor(),
        )),
        _ if field.is_text() => spans.extend(text_spans(
            &sanitize(v.text(field)),
            focused.then_some(form.cursor),
            w,
            theme,
        )),
        Field::AllDay => spans.push(Span::styled(
            if v.all_day { "[x]" } else { "[ ]" },
            if focused {
                theme.cursor()
            } else {
                Style::new()
            },
        )),
        Field::Calendar => {
            let name = form
                .calendars
                .iter()
                .find(|(id, _)| *id == v.calendar)
                .map_or("?", |(_, n)| n.as_str());
            let text = if active {
                choice(name.to_string())
            } else {
                name.to_string()
            };
            spans.push(Span::raw(fit(&text, w)));
        }
        _ if !active => spans.push(Span::styled("(this occurrence only)", theme.dim())),
        _ => spans.push(Span::raw(fit(&choice(sanitize(&v.repeat.label())), w))),
    }
    if field == Field::Start && active {
        spans.push(Span::styled(
            format!("   times in {}", form.zone.name()),
            theme.dim(),
        ));
    }
    Line::from(spans)
}

/// A text value cut to `w` columns, with the cursor (a reversed cell) kept in view.
fn text_spans(text: &str, cursor: Option<usize>, w: usize, theme: Theme) -> Vec<Span<'static>> {
    let chars: Vec<char> = text.chars().collect();
    let Some(cursor) = cursor else {
        return vec![Span::raw(fit(text, w))];
    };
    let cursor = cursor.min(chars.len());
    // Scroll so the cursor cell fits: drop characters from the left until it does.
    let width = |cs: &[char]| cs.iter().map(|c| c.width().unwrap_or(0)).sum::<usize>();
    let mut from = 0;
    while from < cursor && width(&chars[from..cursor]) + 1 > w {
        from += 1;
    }
    let before: String = chars[from..cursor].iter().collect();
    let at = chars.get(cursor).map_or(" ".to_string(), |c| c.to_string());
    let room = w.saturating_sub(width(&chars[from..cursor]) + 1);
    let after: String = chars.iter().skip(cursor + 1).collect();
    vec![
        Span::raw(before),
        Span::styled(at, theme.cursor()),
        Span::raw(fit(&after, room)),
    ]
}

fn verb(intent: Intent) -> &'static str {
    match intent {
        Intent::Edit => "Edit",
        Intent::Delete | Intent::External => "Delete",
    }
}

/// "This occurrence or the whole series?"
pub fn draw_scope(pick: &Pick, area: Rect, buf: &mut Buffer, theme: Theme) {
    let lines = vec![
        Line::raw(fit(&format!("“{}” repeats.", sanitize(&pick.summary)), 48)),
        Line::raw(""),
        Line::from(vec![
            Span::styled("o", theme.title()),
            Span::raw("  this occurrence only"),
        ]),
        Line::from(vec![
            Span::styled("s", theme.title()),
            Span::raw("  the whole series"),
        ]),
        Line::styled("Esc cancel", theme.dim()),
    ];
    let rect = centered(area, 54, lines.len() as u16 + 2);
    Clear.render(rect, buf);
    Paragraph::new(lines)
        .block(frame_block(
            &format!("{} a recurring event", verb(pick.intent)),
            theme,
        ))
        .render(rect, buf);
}

/// "Delete …? y/n"
pub fn draw_confirm(removal: &Removal, area: Rect, buf: &mut Buffer, theme: Theme) {
    let what = match removal.occurrence {
        Some(_) => "this occurrence of ",
        None => "",
    };
    let lines = vec![
        Line::raw(fit(
            &format!("Delete {what}“{}”?", sanitize(&removal.summary)),
            48,
        )),
        Line::raw(""),
        Line::from(vec![
            Span::styled("y", theme.title()),
            Span::raw(" delete · "),
            Span::styled("n", theme.title()),
            Span::raw(" keep it"),
        ]),
    ];
    let rect = centered(area, 54, lines.len() as u16 + 2);
    Clear.render(rect, buf);
    Paragraph::new(lines)
        .block(frame_block("Delete", theme))
        .render(rect, buf);
}
