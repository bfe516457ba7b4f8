//! Pop-ups over the month: the event detail and the help generated from the keymap.

use chrono::NaiveDateTime;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Padding, Paragraph, Widget, Wrap};

use super::theme::Theme;
use crate::app::Model;
use crate::app::keymap::{Action, Keymap};
use crate::cli::ago;
use crate::domain::text::{sanitize, sanitize_lines};
use crate::domain::{EventDetail, When, tz};

/// A centred rectangle of at most `w` x `h` inside `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width.saturating_sub(2));
    let h = h.min(area.height.saturating_sub(2));
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

pub(super) fn frame_block(title: &str, theme: Theme) -> Block<'static> {
    Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(Span::styled(format!(" {title} "), theme.title()))
        .padding(Padding::horizontal(1))
}

/// The help overlay: every binding of the keymap, scrolled by `scroll` lines when it is taller
/// than the terminal.
pub fn draw_help(keymap: &Keymap, scroll: u16, area: Rect, buf: &mut Buffer, theme: Theme) {
    let rows = keymap.help_rows();
    let key_w = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut lines: Vec<Line> = rows
        .iter()
        .map(|(k, h)| {
            Line::from(vec![
                Span::styled(format!("{k:<key_w$}  "), theme.title()),
                Span::raw(*h),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!(
            "In the detail: ↑↓ jk move, {} {} {} edit, Esc closes.",
            keymap.key_of(Action::EditEvent),
            keymap.key_of(Action::DeleteEvent),
            keymap.key_of(Action::ExternalEdit)
        ),
        theme.dim(),
    ));
    lines.push(Line::styled(
        "Mouse: click a day, an hour (week, day) or a line (agenda); the wheel scrolls.",
        theme.dim(),
    ));
    let rect = centered(area, 58, lines.len() as u16 + 2);
    let (scroll, title) = scrolled(lines.len(), rect, scroll, "Keys");
    Clear.render(rect, buf);
    Paragraph::new(lines)
        .scroll((scroll, 0))
        .block(frame_block(&title, theme))
        .render(rect, buf);
}

/// For `total` lines in the bordered `rect`: the scroll clamped to what can be shown, and the
/// title with a hint when lines are hidden above or below.
pub(super) fn scrolled(total: usize, rect: Rect, scroll: u16, title: &str) -> (u16, String) {
    let shown = rect.height.saturating_sub(2) as usize;
    let max = total.saturating_sub(shown) as u16;
    let scroll = scroll.min(max);
    let title = match (scroll > 0, scroll < max) {
        (false, false) => title.to_string(),
        (false, true) => format!("{title} · ↓ more"),
        (true, true) => format!("{title} · ↑↓ more"),
        (true, false) => format!("{title} · ↑ more"),
    };
    (scroll, title)
}

/// The detail of the selected event.
pub fn draw_detail(model: &Model, area: Rect, buf: &mut Buffer, theme: Theme) {
    let Some(occ) = model.selected_occurrence() else {
        return;
    };
    let cal = model.calendar(occ.calendar_id);
    let label = |s: &'static str| Span::styled(format!("{s:<10}"), theme.dim());
    let fmt = |t: NaiveDateTime, all_day: bool| {
        if all_day {
            t.format("%a %-d %b %Y").to_string()
        } else {
            t.format("%a %-d %b %Y %H:%M").to_string()
        }
    };
    let (start, end) = occ.local_span(&model.zone);
    let when = if occ.all_day() {
        let last = end - chrono::Duration::days(1);
        if last.date() <= start.date() {
            format!("{} (all day)", fmt(start, true))
        } else {
            format!("{} – {} (all day)", fmt(start, true), fmt(last, true))
        }
    } else if start.date() == end.date() {
        format!("{}–{}", fmt(start, false), end.format("%H:%M"))
    } else {
        format!("{} – {}", fmt(start, false), fmt(end, false))
    };
    let zone_note = match (&occ.start, occ.tzid.as_deref()) {
        (When::Floating(_), _) => "floating: same clock time in every zone".to_string(),
        (When::Date(_), _) => String::new(),
        (When::Instant(_), Some(tzid)) => own_zone(occ.start, occ.end, tzid, model),
        (When::Instant(_), None) => format!("shown in {}", model.zone.name()),
    };
    let mut lines = vec![
        Line::styled(occ.summary.to_string(), theme.title()),
        Line::raw(""),
        Line::from(vec![label("When"), Span::raw(when)]),
    ];
    if !zone_note.is_empty() {
        lines.push(Line::from(vec![label("Zone"), Span::raw(zone_note)]));
    }
    if !occ.location.is_empty() {
        lines.push(Line::from(vec![
            label("Where"),
            Span::raw(occ.location.to_string()),
        ]));
    }
    lines.push(Line::from(vec![
        label("Calendar"),
        Span::styled("■ ", theme.calendar(cal)),
        Span::raw(cal.map_or_else(|| "?".to_string(), |c| c.name.clone())),
        Span::styled(
            if cal.is_some_and(|c| c.is_sample) {
                "  (bundled sample)"
            } else {
                ""
            },
            theme.dim(),
        ),
    ]));
    if let Some(status) = &occ.status {
        lines.push(Line::from(vec![
            label("Status"),
            Span::raw(sanitize(status).to_lowercase()),
        ]));
    }
    lines.push(Line::from(vec![
        label("UID"),
        Span::raw(sanitize(&occ.uid)),
    ]));
    if let Some(note) = &occ.note {
        lines.push(Line::from(vec![
            label("Note"),
            Span::styled(
                format!("{} (only its first instance is shown)", sanitize(note)),
                theme.error(),
            ),
        ]));
    }
    let detail = model
        .detail
        .as_ref()
        .filter(|(id, _)| *id == occ.event_id)
        .map(|(_, d)| d);
    match detail {
        Some(d) => {
            if let Some(rule) = &d.rrule {
                lines.push(Line::from(vec![
                    label("Repeats"),
                    Span::raw(sanitize(rule)),
                ]));
            }
            lines.extend(etag_lines(model, d, theme));
            if !d.description.is_empty() {
                lines.push(Line::raw(""));
                lines.extend(sanitize_lines(&d.description).into_iter().map(Line::raw));
            }
        }
        None => lines.push(Line::styled("reading…", theme.dim())),
    }
    lines.push(Line::raw(""));
    let k = |a: Action| model.keymap.key_of(a);
    lines.push(Line::styled(
        format!(
            "{} edit · {} delete · {} edit the text in $EDITOR · Esc close",
            k(Action::EditEvent),
            k(Action::DeleteEvent),
            k(Action::ExternalEdit)
        ),
        theme.dim(),
    ));
    let rect = centered(area, 74, lines.len() as u16 + 3);
    Clear.render(rect, buf);
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(frame_block("Event", theme))
        .render(rect, buf);
}

/// The cached etag and when the server confirmed it, a local change waiting to be pushed, and the
/// conflict that holds it back.
fn etag_lines(model: &Model, d: &EventDetail, theme: Theme) -> Vec<Line<'static>> {
    let label = |s: &'static str| Span::styled(format!("{s:<10}"), theme.dim());
    let etag = match (&d.etag, &d.pending_op) {
        (Some(etag), _) => match d.confirmed_at {
            Some(at) => format!(
                "{} · confirmed {} ago",
                sanitize(etag),
                ago(model.now.timestamp() - at)
            ),
            None => sanitize(etag),
        },
        (None, Some(_)) => "none yet: not on the server".into(),
        (None, None) => "none (local calendar, never on a server)".into(),
    };
    let mut lines = vec![Line::from(vec![label("Etag"), Span::raw(etag)])];
    if let Some(op) = &d.pending_op {
        let based = d
            .pending_base
            .as_deref()
            .map(|b| format!(", based on etag {}", sanitize(b)))
            .unwrap_or_default();
        lines.push(Line::from(vec![
            label("Pending"),
            Span::styled(
                format!("local {} waiting to be pushed{based}", sanitize(op)),
                theme.title(),
            ),
        ]));
        if let Some(err) = &d.pending_error {
            lines.push(Line::from(vec![
                label("Last push"),
                Span::styled(sanitize(err), theme.error()),
            ]));
        }
    }
    if let Some(id) = d.conflict {
        lines.push(Line::from(vec![
            label("Conflict"),
            Span::styled(format!("conflict #{id}: press c"), theme.error()),
        ]));
    }
    lines
}

/// "09:00–10:00 America/New_York" when the event's own zone differs from the display zone.
fn own_zone(start: When, end: When, tzid: &str, model: &Model) -> String {
    match tz::resolve(tzid) {
        Some(zone) if zone != model.zone => {
            let (s, e) = (start.local(&zone), end.local(&zone));
            format!(
                "{}–{} {} (shown in {})",
                s.format("%a %H:%M"),
                e.format("%H:%M"),
                zone.name(),
                model.zone.name()
            )
        }
        Some(zone) => zone.name().to_string(),
        None => format!(
            "{} (unknown zone; shown in {})",
            sanitize(tzid),
            model.zone.name()
        ),
    }
}
