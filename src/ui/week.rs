//! The week and day views: day columns on a time grid, hours down the side, an all-day row on top.
//! Hours are wall-clock hours in the display zone, so a 25-hour day shows its repeated hour once
//! (its header says how long the day is).

use chrono::{NaiveDate, NaiveTime, Timelike};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};

use super::text::{clock, fit, summary_label};
use super::theme::Theme;
use crate::app::Model;
use crate::app::views::{self, Grid};
use crate::config::Clock;

/// Draws the week (or day) view below the title line and above the status line.
pub fn draw(model: &Model, area: Rect, buf: &mut Buffer, theme: Theme) {
    let Some(grid) = views::grid(model, area) else {
        return;
    };
    if let Some(side) = grid.side {
        super::day::draw_pane(model, side, buf, theme, true);
    }
    let (days, cols) = (&grid.days, &grid.cols);
    draw_header(model, days, cols, grid.header_y, buf, theme);
    draw_allday(model, days, cols, grid.header_y + 1, grid.lanes, buf, theme);
    if grid.sep {
        let y = grid.header_y + 1 + grid.lanes;
        for x in grid.gutter.x..cols[days.len()] {
            buf[(x, y)].set_symbol("─").set_style(theme.border());
        }
    }
    draw_hours(model, &grid, buf, theme);
    for i in 0..grid.days.len() {
        draw_column(model, &grid, i, buf, theme);
    }
    draw_now(model, &grid, buf, theme);
}

fn draw_header(
    model: &Model,
    days: &[NaiveDate],
    cols: &[u16],
    y: u16,
    buf: &mut Buffer,
    theme: Theme,
) {
    // One format for every column, chosen by the narrowest, so "Mon 23" never sits by "Tue 24 Nov".
    let narrowest = (0..days.len())
        .map(|i| cols[i + 1].saturating_sub(cols[i] + 1))
        .min()
        .unwrap_or(0);
    for (i, &day) in days.iter().enumerate() {
        let (x, w) = (cols[i] + 1, cols[i + 1].saturating_sub(cols[i] + 1));
        let mut label = if days.len() == 1 {
            day.format("%A %-d %B").to_string()
        } else if narrowest >= 10 {
            day.format("%a %-d %b").to_string()
        } else if narrowest >= 6 {
            day.format("%a %-d").to_string()
        } else {
            // "M 23": the weekday's initial and the day.
            let name = day.format("%a").to_string();
            format!("{} {}", &name[..1], day.format("%-d"))
        };
        if let Some(hours) = views::day_hours(model, day) {
            label.push_str(&format!(" ({hours}h)"));
        }
        let style = if day == model.today {
            theme.today()
        } else if day == model.selected {
            theme.selected_number()
        } else {
            theme.title()
        };
        buf.set_stringn(x, y, fit(&label, w as usize), w as usize, style);
    }
}

/// All-day and multi-day events as bars across the days they cover, in the month's lanes.
fn draw_allday(
    model: &Model,
    days: &[NaiveDate],
    cols: &[u16],
    y: u16,
    lines: u16,
    buf: &mut Buffer,
    theme: Theme,
) {
    let Some(row) = views::week_row(model) else {
        return;
    };
    let row = &model.month.rows[row];
    let first_col = if days.len() == 1 {
        (model.selected - views::week_of(model, model.selected)).num_days() as usize
    } else {
        0
    };
    let last_col = first_col + days.len() - 1;
    let mut hidden = 0;
    for bar in &row.bars {
        if bar.to_col < first_col || bar.from_col > last_col {
            continue;
        }
        if bar.lane >= lines as usize {
            hidden += 1;
            continue;
        }
        let occ = &model.occurrences[bar.occ];
        let (a, b) = (
            bar.from_col.max(first_col) - first_col,
            bar.to_col.min(last_col) - first_col,
        );
        let x0 = cols[a] + 1;
        let width = cols[b + 1].saturating_sub(x0);
        let line = y + bar.lane as u16;
        let mut style = theme.bar(model.calendar(occ.calendar_id));
        if occ.pending {
            style = theme.pending(style);
        }
        if is_selected(model, bar.occ) {
            style = selected(theme, style);
        }
        for x in x0..x0 + width {
            buf[(x, line)].set_symbol(" ").set_style(style);
        }
        let before = bar.from_col < first_col || bar.continues_left;
        let after = bar.to_col > last_col || bar.continues_right;
        let mut label = String::from(if before { "◂" } else { "" });
        if !occ.all_day() && !before {
            label.push_str(&clock(occ.start.local(&model.zone).time(), model.clock));
            label.push(' ');
        }
        label.push_str(&summary_label(occ));
        let w = (width as usize).saturating_sub(usize::from(after));
        buf.set_stringn(x0, line, fit(&label, w), w, style);
        if after && width > 0 {
            buf.set_stringn(x0 + width - 1, line, "▸", 1, style);
        }
    }
    if hidden > 0 && lines > 0 {
        let x = cols[0].saturating_sub(3);
        buf.set_stringn(x, y + lines - 1, format!("+{hidden}"), 3, theme.dim());
    }
}

/// The hour labels down the side, the hour cursor's marked.
fn draw_hours(model: &Model, grid: &Grid, buf: &mut Buffer, theme: Theme) {
    let short = grid.gutter.width < 6;
    for h in grid.top..grid.top + grid.shown {
        let y = grid.y + (h - grid.top) as u16 * grid.per_hour;
        if y >= grid.gutter.bottom() {
            break;
        }
        let label = hour_label(h, model.clock, short);
        let style = if h == model.views.hour {
            theme.cursor()
        } else {
            theme.dim()
        };
        buf.set_stringn(
            grid.gutter.x,
            y,
            &label,
            grid.gutter.width.saturating_sub(1) as usize,
            style,
        );
    }
}

/// `09:00` (or `09` when narrow; `9a` / `9:00a` on a 12-hour clock).
fn hour_label(h: u32, style: Clock, short: bool) -> String {
    let t = NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN);
    match (style, short) {
        (Clock::H24, true) => format!("{h:02}"),
        (Clock::H12, true) => {
            let (pm, h12) = t.hour12();
            format!("{h12}{}", if pm { "p" } else { "a" })
        }
        (_, false) => clock(t, style),
    }
}

/// One day's column: its separator, the hour cursor on the selected day, and its timed events,
/// overlapping ones side by side.
fn draw_column(model: &Model, grid: &Grid, i: usize, buf: &mut Buffer, theme: Theme) {
    let day = grid.days[i];
    let (x, w) = grid.col(i);
    let bottom = grid.bottom().min(grid.gutter.bottom());
    for y in grid.y..bottom {
        buf[(grid.cols[i], y)]
            .set_symbol("│")
            .set_style(theme.border());
    }
    if day == model.selected && model.views.hour >= grid.top {
        let y = grid.y + (model.views.hour - grid.top) as u16 * grid.per_hour;
        for dy in 0..grid.per_hour {
            for cx in x..x + w {
                if y + dy < bottom {
                    buf[(cx, y + dy)].set_style(theme.selected_cell());
                }
            }
        }
    }
    if w == 0 {
        return;
    }
    let timed: Vec<usize> = model
        .day_list(day)
        .iter()
        .copied()
        .filter(|&o| !model.spans[o].spans_days(&model.occurrences[o]))
        .collect();
    let rows: Vec<(i64, i64)> = timed
        .iter()
        .map(|&o| {
            let span = &model.spans[o];
            let start = minutes(span.start.time());
            let end = if span.end.date() > span.start.date() {
                24 * 60
            } else {
                minutes(span.end.time())
            };
            let a = grid.line_of(start);
            let b = (grid.line_of(end) + i64::from((end * i64::from(grid.per_hour)) % 60 != 0))
                .max(a + 1);
            (a, b)
        })
        .collect();
    let placed = side_by_side(&rows);
    let lines = i64::from(bottom - grid.y);
    let (mut above, mut below) = (0, 0);
    for ((&o, &(a, b)), &(lane, lanes)) in timed.iter().zip(&rows).zip(&placed) {
        if b <= 0 {
            above += 1;
            continue;
        }
        if a >= lines {
            below += 1;
            continue;
        }
        let x0 = x + (w as usize * lane / lanes) as u16;
        let x1 = x + (w as usize * (lane + 1) / lanes) as u16;
        let bw = x1 - x0;
        if bw == 0 {
            continue;
        }
        let occ = &model.occurrences[o];
        let mut style = theme.bar(model.calendar(occ.calendar_id));
        if occ.pending {
            style = theme.pending(style);
        }
        if is_selected(model, o) {
            style = selected(theme, style);
        }
        let (top, end) = (a.max(0), b.min(lines));
        for line in top..end {
            let y = grid.y + line as u16;
            for cx in x0..x1 {
                buf[(cx, y)].set_symbol(" ").set_style(style);
            }
        }
        let mut text = vec![summary_label(occ)];
        let time = clock(model.spans[o].start.time(), model.clock);
        if bw as usize >= time.len() + 6 {
            text[0] = format!("{time} {}", text[0]);
        }
        if !occ.location.is_empty() {
            text.push(occ.location.to_string());
        }
        for (k, t) in text.iter().enumerate() {
            let line = top + k as i64;
            if line >= end {
                break;
            }
            buf.set_stringn(
                x0,
                grid.y + line as u16,
                fit(t, bw as usize),
                bw as usize,
                style,
            );
        }
    }
    // Events out of sight above or below say so at the column's edge.
    for (count, y, mark) in [(above, grid.y, "▲"), (below, bottom.saturating_sub(1), "▼")] {
        if count > 0 && bottom > grid.y {
            let label = format!("{mark}{count}");
            let lw = (label.chars().count() as u16).min(w);
            buf.set_stringn(x + w - lw, y, &label, lw as usize, theme.dim());
        }
    }
}

/// The "now" line across today's column, and a mark in the gutter.
fn draw_now(model: &Model, grid: &Grid, buf: &mut Buffer, theme: Theme) {
    let local = model.now.with_timezone(&model.zone).naive_local();
    let Some(i) = grid.days.iter().position(|&d| d == local.date()) else {
        return;
    };
    let line = grid.line_of(minutes(local.time()));
    let bottom = grid.bottom().min(grid.gutter.bottom());
    if line < 0 || line >= i64::from(bottom - grid.y) {
        return;
    }
    let y = grid.y + line as u16;
    let style = if theme.color {
        Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
    } else {
        Style::new().add_modifier(Modifier::BOLD)
    };
    let (x, w) = grid.col(i);
    for cx in x..x + w {
        let cell = &mut buf[(cx, y)];
        if cell.symbol() == " " && cell.bg == Color::Reset
            || cell.bg == Color::Indexed(237)
            || !theme.color && cell.symbol() == " " && cell.modifier.is_empty()
        {
            cell.set_symbol("─").set_style(style);
        }
    }
    if grid.gutter.width > 0 {
        let gx = grid.gutter.right().saturating_sub(1);
        buf[(gx, y)].set_symbol("▶").set_style(style);
    }
}

fn minutes(t: NaiveTime) -> i64 {
    i64::from(t.hour() * 60 + t.minute())
}

fn is_selected(model: &Model, occ: usize) -> bool {
    model
        .day_list(model.selected)
        .get(model.cursor)
        .is_some_and(|&o| o == occ)
}

/// The selected event stands out from the other blocks: light in colour, bold and underlined
/// without.
fn selected(theme: Theme, base: Style) -> Style {
    if theme.color {
        Style::new()
            .fg(Color::Black)
            .bg(Color::White)
            .add_modifier(Modifier::BOLD)
    } else {
        base.remove_modifier(Modifier::REVERSED)
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }
}

/// Places overlapping events side by side: for each `(first, end)` line range, sorted by start,
/// its lane and the lanes of the group of events it overlaps with (directly or through others).
pub fn side_by_side(rows: &[(i64, i64)]) -> Vec<(usize, usize)> {
    let mut out = vec![(0, 1); rows.len()];
    let mut group_start = 0;
    let mut group_end = i64::MIN;
    let mut lane_ends: Vec<i64> = Vec::new();
    for (i, &(a, b)) in rows.iter().enumerate() {
        if a >= group_end {
            let lanes = lane_ends.len().max(1);
            for o in &mut out[group_start..i] {
                o.1 = lanes;
            }
            group_start = i;
            lane_ends.clear();
        }
        let lane = match lane_ends.iter().position(|&end| end <= a) {
            Some(l) => {
                lane_ends[l] = b;
                l
            }
            None => {
                lane_ends.push(b);
                lane_ends.len() - 1
            }
        };
        out[i].0 = lane;
        group_end = group_end.max(b);
    }
    let lanes = lane_ends.len().max(1);
    for o in &mut out[group_start..] {
        o.1 = lanes;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_events_share_the_width_and_others_keep_all_of_it() {
        // 9–11 and 10–12 overlap; 11–12 fits under the first; 13–14 stands alone.
        let placed = side_by_side(&[(9, 11), (10, 12), (11, 12), (13, 14)]);
        assert_eq!(placed, vec![(0, 2), (1, 2), (0, 2), (0, 1)]);
    }

    #[test]
    fn three_at_once_make_three_lanes() {
        assert_eq!(
            side_by_side(&[(0, 4), (1, 3), (2, 5)]),
            vec![(0, 3), (1, 3), (2, 3)]
        );
    }

    #[test]
    fn hour_labels_fit_the_gutter() {
        assert_eq!(hour_label(9, Clock::H24, true), "09");
        assert_eq!(hour_label(9, Clock::H24, false), "09:00");
        assert_eq!(hour_label(15, Clock::H12, true), "3p");
    }
}
