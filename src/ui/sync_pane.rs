//! The sync pane: each account and calendar with its strategy, token, ctag, last run, counts and
//! last error, and a progress bar while a run fetches.

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Padding, Paragraph, Widget};
use unicode_width::UnicodeWidthStr;

use super::overlay::centered;
use super::text::{fit, human_bytes, short_token, short_window};
use super::theme::Theme;
use crate::app::Model;
use crate::store::CalendarStatus;

/// Width of the calendar column, and the least it shrinks to before the strategy goes.
const NAME_W: usize = 20;
const NAME_MIN_W: usize = 12;

/// The columns of a calendar's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Calendar,
    Strategy,
    Token,
    Ctag,
    LastRun,
    Took,
    Requests,
    Bytes,
    Counts,
    Items,
}

impl Column {
    fn title(self) -> &'static str {
        match self {
            Column::Calendar => "calendar",
            Column::Strategy => "strategy",
            Column::Token => "token",
            Column::Ctag => "ctag",
            Column::LastRun => "last run",
            Column::Took => "took",
            Column::Requests => "req",
            Column::Bytes => "bytes",
            Column::Counts => "+add ~chg -del",
            Column::Items => "items",
        }
    }
    fn width(self, name_w: usize) -> usize {
        match self {
            Column::Calendar => name_w,
            Column::Strategy => 16,
            Column::Token | Column::Ctag => 15,
            Column::LastRun => 10,
            Column::Took => 9,
            Column::Requests => 5,
            Column::Bytes => 10,
            Column::Counts => 16,
            Column::Items => 6,
        }
    }
}

/// The columns that fit in `width` and the calendar column's width: the least needed go first
/// when it is narrow, then the names shrink; the strategy (how a calendar syncs) stays longest.
fn columns_for(width: usize) -> (Vec<Column>, usize) {
    use Column::*;
    let mut cols = vec![
        Calendar, Strategy, Token, Ctag, LastRun, Took, Requests, Bytes, Counts, Items,
    ];
    let fits = |cols: &[Column], name_w: usize| {
        2 + cols.iter().map(|c| c.width(name_w)).sum::<usize>() <= width
    };
    // The ctag column holds a Graph calendar's window: it stays while there is room.
    for drop in [Took, Items, Ctag, Bytes, Token, Requests, LastRun, Counts] {
        if fits(&cols, NAME_W) {
            return (cols, NAME_W);
        }
        let squeezed = NAME_W.min(
            width.saturating_sub(
                2 + cols
                    .iter()
                    .filter(|c| **c != Calendar)
                    .map(|c| c.width(0))
                    .sum::<usize>(),
            ),
        );
        if squeezed >= NAME_MIN_W {
            return (cols, squeezed);
        }
        cols.retain(|c| *c != drop);
    }
    let rest: usize = cols
        .iter()
        .filter(|c| **c != Calendar)
        .map(|c| c.width(0))
        .sum();
    let name_w = width
        .saturating_sub(2 + rest)
        .clamp(NAME_MIN_W.min(width), NAME_W);
    (cols, name_w)
}

/// `s` fitted to exactly `w` columns, the last one always blank: a value that fills its column
/// never runs into the next one.
fn cell(s: &str, w: usize) -> String {
    let f = fit(s, w.saturating_sub(1));
    let pad = w.saturating_sub(f.width());
    format!("{f}{}", " ".repeat(pad))
}

fn bar(done: usize, total: usize, w: usize) -> String {
    let filled = (done * w).checked_div(total).map_or(w, |f| f.min(w));
    format!("{}{}", "█".repeat(filled), "░".repeat(w - filled))
}

/// When, in the display zone: the time today, else the date too.
fn when(model: &Model, t: i64) -> String {
    let Some(at) = DateTime::<Utc>::from_timestamp(t, 0) else {
        return "-".into();
    };
    let local = at.with_timezone(&model.zone);
    if local.date_naive() == model.today {
        local.format("%H:%M:%S").to_string()
    } else {
        local.format("%d %b").to_string()
    }
}

/// The pane, over the month.
pub fn draw(model: &Model, area: Rect, buf: &mut Buffer, theme: Theme) {
    let rect = centered(area, 128, area.height.saturating_sub(2));
    // The rows it spans are cleared edge to edge: month text beside a pane reads as debris.
    Clear.render(
        Rect {
            x: area.x,
            width: area.width,
            ..rect
        },
        buf,
    );
    let inner_w = rect.width.saturating_sub(4) as usize;
    let mut lines: Vec<Line> = Vec::new();
    let (columns, name_w) = columns_for(inner_w);
    let header: String = std::iter::once("  ".to_string())
        .chain(columns.iter().map(|c| cell(c.title(), c.width(name_w))))
        .collect();
    lines.push(Line::styled(fit(&header, inner_w), theme.dim()));
    let mut owner: Option<Option<&str>> = None;
    let mut selected_line = 0;
    // Accounts with no calendar (yet): one that cannot be reached shows here, with why.
    for acc in model.sync.account_rows.iter().filter(|a| {
        !model
            .sync
            .rows
            .iter()
            .any(|r| r.account.as_deref() == Some(&a.account))
    }) {
        lines.extend(account_lines(
            model,
            &acc.account,
            &acc.kind,
            inner_w,
            theme,
        ));
        lines.push(Line::styled(
            fit("    no calendars listed yet", inner_w),
            theme.dim(),
        ));
    }
    for (i, row) in model.sync.rows.iter().enumerate() {
        if owner != Some(row.account.as_deref()) {
            owner = Some(row.account.as_deref());
            match &row.account {
                Some(a) => lines.extend(account_lines(model, a, &row.kind, inner_w, theme)),
                None => lines.push(Line::styled(fit("local calendars", inner_w), theme.title())),
            }
        }
        if i == model.sync.cursor {
            selected_line = lines.len();
        }
        lines.extend(calendar_lines(
            model,
            row,
            i == model.sync.cursor,
            inner_w,
            theme,
        ));
    }
    if model.sync.rows.is_empty() {
        lines.push(Line::raw("no calendars yet"));
    }
    if !model.sync.accounts {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            fit(
                "No accounts are configured: add an [[account]] to your config.toml (`almanac --help` shows one), or run `almanac demo`.",
                inner_w,
            ),
            theme.dim(),
        ));
    }
    // Keep the highlighted calendar in view.
    let height = rect.height.saturating_sub(2) as usize;
    let scroll = selected_line.saturating_sub(height.saturating_sub(4)) as u16;
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(Span::styled(" Sync ", theme.title()))
        .title_bottom(Span::styled(
            " r sync now · F full refetch · R every account · ↑↓ move · s/Esc close ",
            theme.dim(),
        ))
        .padding(Padding::horizontal(1));
    Paragraph::new(lines)
        .scroll((scroll, 0))
        .block(block)
        .render(rect, buf);
}

/// An account's title (with "waiting for the server" while it is), and when its last run failed
/// as a whole, why and when the next try is.
fn account_lines(
    model: &Model,
    account: &str,
    kind: &str,
    w: usize,
    theme: Theme,
) -> Vec<Line<'static>> {
    let title = match model.sync.waiting.iter().find(|(a, _)| a == account) {
        Some((_, secs)) => format!("{account} ({kind}) · waiting for the server ({secs} s)"),
        None => format!("{account} ({kind})"),
    };
    let mut out = vec![Line::styled(fit(&title, w), theme.title())];
    let Some(acc) = model
        .sync
        .account_rows
        .iter()
        .find(|a| a.account == account)
    else {
        return out;
    };
    if let Some(e) = &acc.last_error {
        let at = acc.last_run.map(|t| when(model, t)).unwrap_or_default();
        out.push(Line::styled(
            fit(&format!("  ✗ {e} ({at})"), w),
            theme.error(),
        ));
        let next = match acc.next_run {
            Some(t) if t > model.now.timestamp() => format!("  next try {}", when(model, t)),
            Some(_) => "  next try now".to_string(),
            None => "  next try at the next sync (r, R)".to_string(),
        };
        out.push(Line::styled(fit(&next, w), theme.dim()));
    }
    out
}

fn calendar_lines(
    model: &Model,
    row: &CalendarStatus,
    selected: bool,
    w: usize,
    theme: Theme,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let marker = if selected { "▸ " } else { "  " };
    let style = if selected {
        theme.cursor()
    } else {
        ratatui::style::Style::new()
    };
    let running = model.sync.running.iter().find(|(c, _)| *c == row.id);
    if row.account.is_none() {
        let text = format!(
            "{marker}{}{} items (local)",
            cell(&row.calendar, columns_for(w).1),
            row.items
        );
        out.push(Line::styled(fit(&text, w), style));
        return out;
    }
    let (last, took, requests, bytes, counts) = match &row.last_run {
        Some(r) => (
            when(model, r.started_at),
            r.duration_ms.map_or("-".into(), |d| format!("{d} ms")),
            r.requests.to_string(),
            human_bytes(r.bytes.max(0) as u64),
            format!("+{} ~{} -{}", r.added, r.changed, r.removed),
        ),
        None => (
            "never".into(),
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
        ),
    };
    let value = |c: &Column| -> String {
        match c {
            Column::Calendar => row.calendar.clone(),
            Column::Strategy => row.strategy.clone().unwrap_or_else(|| "-".into()),
            Column::Token => row.sync_token.as_deref().map_or("-".into(), short_token),
            // A Graph calendar keeps its window there.
            Column::Ctag if row.strategy.as_deref() == Some("delta") => {
                row.ctag.as_deref().map_or("-".into(), short_window)
            }
            Column::Ctag => row.ctag.as_deref().map_or("-".into(), short_token),
            Column::LastRun => last.clone(),
            Column::Took => took.clone(),
            Column::Requests => requests.clone(),
            Column::Bytes => bytes.clone(),
            Column::Counts => counts.clone(),
            Column::Items => row.items.to_string(),
        }
    };
    let (columns, name_w) = columns_for(w);
    let text: String = std::iter::once(marker.to_string())
        .chain(columns.iter().map(|c| cell(&value(c), c.width(name_w))))
        .collect();
    out.push(Line::styled(fit(&text, w), style));
    let indent = "      ";
    match running {
        Some((_, Some((done, total)))) => out.push(Line::from(vec![
            Span::raw(indent),
            Span::styled(bar(*done, *total, 30), theme.title()),
            Span::raw(format!(" {done}/{total} fetched")),
        ])),
        Some((_, None)) => out.push(Line::styled(format!("{indent}syncing…"), theme.title())),
        None => {}
    }
    if let Some(e) = &row.last_error {
        out.push(Line::styled(
            fit(&format!("{indent}last error: {e}"), w),
            theme.error(),
        ));
    }
    if row.pending + row.conflicts > 0 {
        out.push(Line::raw(format!(
            "{indent}{} local changes waiting, {} conflicts",
            row.pending, row.conflicts
        )));
    }
    for (href, reason) in row.unreadable.iter().take(5) {
        out.push(Line::styled(
            fit(
                &format!("{indent}kept raw, cannot be read: {href}: {reason}"),
                w,
            ),
            theme.dim(),
        ));
    }
    if row.unreadable.len() > 5 {
        out.push(Line::styled(
            format!(
                "{indent}… and {} more (almanac status lists them all)",
                row.unreadable.len() - 5
            ),
            theme.dim(),
        ));
    }
    for uid in row.duplicate_uids.iter().take(3) {
        out.push(Line::styled(
            fit(
                &format!("{indent}UID on more than one item (all kept): {uid}"),
                w,
            ),
            theme.dim(),
        ));
    }
    out
}
