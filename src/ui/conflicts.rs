//! The conflict pane: edits the server refused because its copy changed meanwhile, and for the
//! selected one its etags and a field-by-field comparison of mine against theirs.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget};
use unicode_width::UnicodeWidthStr;

use super::overlay::{centered, frame_block};
use super::text::fit;
use super::theme::Theme;
use crate::app::Model;
use crate::app::conflicts::ConflictRow;
use crate::app::keymap::Action;
use crate::cli::ago;

/// How many conflicts the list shows before it scrolls.
const LIST_ROWS: usize = 6;

/// `s` fitted to exactly `w` columns.
fn cell(s: &str, w: usize) -> String {
    let f = fit(s, w);
    let pad = w.saturating_sub(f.width());
    format!("{f}{}", " ".repeat(pad))
}

/// The pane, over the month.
pub fn draw(model: &Model, area: Rect, buf: &mut Buffer, theme: Theme) {
    let rect = centered(area, 110, area.height.saturating_sub(2));
    let w = rect.width.saturating_sub(4) as usize;
    let view = &model.conflicts;
    let height = rect.height.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();
    // Lines of the selected conflict's detail hidden above and below (it scrolls with PgUp/PgDn).
    let (mut above, mut below) = (0, 0);
    if !view.loaded {
        lines.push(Line::styled("reading…", theme.dim()));
    } else if view.rows.is_empty() {
        lines.push(Line::raw(
            "No conflicts: every local change reached its server or waits to be pushed.",
        ));
    } else {
        lines.extend(list_lines(model, w, theme));
        if let Some(row) = view.rows.get(view.cursor) {
            lines.push(Line::styled("─".repeat(w), theme.border()));
            let detail = detail_lines(row, w, theme);
            let room = height.saturating_sub(lines.len() + 1);
            let max = detail.len().saturating_sub(room);
            above = (model.scroll as usize).min(max);
            below = max - above;
            lines.extend(detail.into_iter().skip(above).take(room));
        }
    }
    let k = |a: Action| model.keymap.key_of(a);
    let (mine, theirs, both) = (
        k(Action::KeepMine),
        k(Action::KeepTheirs),
        k(Action::KeepBoth),
    );
    let hint = match (view.rows.is_empty(), above > 0 || below > 0) {
        (true, _) => "Esc close".to_string(),
        (false, false) => format!(
            "j/k move · {mine} keep mine · {theirs} keep theirs · {both} keep both · Esc close"
        ),
        (false, true) => format!(
            "{} · j/k move · {mine} mine · {theirs} theirs · {both} both · Esc",
            match (above > 0, below > 0) {
                (true, true) => "PgUp/PgDn more",
                (false, _) => "PgDn more",
                (true, false) => "PgUp more",
            }
        ),
    };
    lines.truncate(height.saturating_sub(1));
    while lines.len() < height.saturating_sub(1) {
        lines.push(Line::raw(""));
    }
    lines.push(Line::styled(fit(&hint, w), theme.dim()));
    // The rows it spans are cleared edge to edge: month text beside a pane reads as debris.
    Clear.render(
        Rect {
            x: area.x,
            width: area.width,
            ..rect
        },
        buf,
    );
    let title = format!("Conflicts ({})", view.rows.len());
    Paragraph::new(lines)
        .block(frame_block(&title, theme))
        .render(rect, buf);
}

fn list_lines(model: &Model, w: usize, theme: Theme) -> Vec<Line<'static>> {
    let view = &model.conflicts;
    let (cal_w, found_w) = (18, 14);
    let summary_w = w.saturating_sub(cal_w + found_w + 2);
    let mut lines = vec![Line::styled(
        format!(
            "  {}{}{}",
            cell("calendar", cal_w),
            cell("summary", summary_w),
            cell("found", found_w)
        ),
        theme.dim(),
    )];
    let first = view.cursor.saturating_sub(LIST_ROWS - 1);
    for (i, row) in view.rows.iter().enumerate().skip(first).take(LIST_ROWS) {
        let found = format!("{} ago", ago(model.now.timestamp() - row.found_at));
        let text = format!(
            "{}{}{}",
            cell(&row.calendar, cal_w),
            cell(&row.summary, summary_w),
            cell(&found, found_w)
        );
        let (marker, style) = if i == view.cursor {
            ("› ", theme.cursor())
        } else {
            ("  ", ratatui::style::Style::new())
        };
        lines.push(Line::from(vec![
            Span::raw(marker),
            Span::styled(text, style),
        ]));
    }
    lines
}

/// Below this width the field diff is a list (field, mine, theirs) rather than a table.
const NARROW: usize = 60;

fn detail_lines(row: &ConflictRow, w: usize, theme: Theme) -> Vec<Line<'static>> {
    let label = |s: &'static str| Span::styled(format!("{s:<10}"), theme.dim());
    let etag = |e: &Option<String>, gone: &str| e.clone().unwrap_or_else(|| gone.to_string());
    let server = if row.remote_deleted {
        "deleted on the server".to_string()
    } else {
        etag(&row.remote_etag, "none")
    };
    let mine = if row.local_deleted {
        "deletes the event".to_string()
    } else {
        format!("{} (not on the server yet)", row.op.as_str())
    };
    let mut lines = vec![
        Line::styled(
            fit(&format!("Conflict #{} · {}", row.id, row.href), w),
            theme.title(),
        ),
        Line::from(vec![
            label("Base etag"),
            Span::raw(etag(&row.base_etag, "none (a new event)")),
        ]),
        Line::from(vec![label("Mine"), Span::raw(fit(&mine, w - 10))]),
        Line::from(vec![label("Server"), Span::raw(fit(&server, w - 10))]),
    ];
    if let Some(why) = &row.reason {
        lines.push(Line::from(vec![
            label("Refused"),
            Span::styled(fit(why, w - 10), theme.error()),
        ]));
    }
    lines.push(Line::raw(""));
    let side = |deleted: bool, v: &Option<String>| {
        if deleted {
            "deleted".to_string()
        } else {
            v.clone().unwrap_or_else(|| "—".into())
        }
    };
    if w < NARROW {
        // Too narrow for three columns: each field on its own, mine above theirs.
        if row.diff.is_empty() {
            lines.push(Line::styled(
                fit("no field differs (only DTSTAMP and such)", w),
                theme.dim(),
            ));
        }
        for d in &row.diff {
            lines.push(Line::styled(fit(&d.field, w), theme.title()));
            let mine = side(row.local_deleted, &d.local);
            let theirs = side(row.remote_deleted, &d.remote);
            lines.push(Line::raw(fit(&format!("  mine   {mine}"), w)));
            lines.push(Line::raw(fit(&format!("  theirs {theirs}"), w)));
        }
        return lines;
    }
    let field_w = 13;
    let side_w = w.saturating_sub(field_w + 3) / 2;
    lines.push(Line::styled(
        format!(
            "{}│ {}│ {}",
            cell("field", field_w),
            cell("mine", side_w),
            cell("theirs", side_w)
        ),
        theme.title(),
    ));
    if row.diff.is_empty() {
        lines.push(Line::styled(
            "no field differs (only bookkeeping such as DTSTAMP)",
            theme.dim(),
        ));
    }
    for d in &row.diff {
        lines.push(Line::raw(format!(
            "{}│ {}│ {}",
            cell(&d.field, field_w),
            cell(&side(row.local_deleted, &d.local), side_w),
            cell(&side(row.remote_deleted, &d.remote), side_w)
        )));
    }
    lines
}
