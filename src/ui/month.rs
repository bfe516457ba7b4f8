//! The month grid: our own widget, because a month calendar that cannot show event text is no use.

use chrono::{Datelike, Duration, Weekday};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::text::{clock, fit, summary_label};
use super::theme::Theme;
use crate::app::Model;
use crate::app::layout::Geometry;
use crate::app::model::{Bar, WeekRow};

/// Draws the weekday header and the week rows.
pub fn draw(model: &Model, geo: &Geometry, buf: &mut Buffer, theme: Theme) {
    draw_header(model, geo, buf, theme);
    let month = &model.month;
    for (r, row) in month.rows.iter().enumerate() {
        // How many lines each cell has for events (the first line is the day number).
        let lines = geo.rows[r + 1]
            .saturating_sub(geo.rows[r])
            .saturating_sub(1) as usize;
        let shown = cell_lanes(row, lines);
        for (col, &lanes) in shown.iter().enumerate() {
            let day = month.first_day + Duration::days((r * 7 + col) as i64);
            let cell = geo.cell(r, col);
            let inner = Rect {
                x: cell.x + 1,
                width: cell.width.saturating_sub(1),
                ..cell
            };
            if day == model.selected {
                buf.set_style(inner, theme.selected_cell());
            }
            if col > 0 {
                for y in cell.y..cell.bottom() {
                    buf[(cell.x, y)].set_symbol("│").set_style(theme.border());
                }
            }
            draw_day_number(model, day, inner, buf, theme);
            draw_timed(model, row, col, lanes, lines, inner, buf, theme);
        }
        for bar in &row.bars {
            draw_bar(model, geo, r, bar, &shown, buf, theme);
        }
    }
}

/// Per column, how many lanes of bars are drawn: lanes only take lines in the cells they cover, and
/// when a cell overflows its last line is kept for "+N more".
fn cell_lanes(row: &WeekRow, lines: usize) -> [usize; 7] {
    let mut shown = [0usize; 7];
    for (col, s) in shown.iter_mut().enumerate() {
        let lanes = row
            .bars
            .iter()
            .filter(|b| (b.from_col..=b.to_col).contains(&col))
            .map(|b| b.lane + 1)
            .max()
            .unwrap_or(0);
        let fits = lanes + row.timed[col].len() <= lines;
        *s = if fits {
            lanes
        } else {
            lanes.min(lines.saturating_sub(1))
        };
    }
    shown
}

/// Timed events fill the lines below the cell's lanes; the last line says what did not fit.
#[allow(clippy::too_many_arguments)]
fn draw_timed(
    model: &Model,
    row: &WeekRow,
    col: usize,
    lanes: usize,
    lines: usize,
    inner: Rect,
    buf: &mut Buffer,
    theme: Theme,
) {
    let hidden_bars = row
        .bars
        .iter()
        .filter(|b| b.lane >= lanes && (b.from_col..=b.to_col).contains(&col))
        .count();
    let slots = lines.saturating_sub(lanes);
    let timed = &row.timed[col];
    let (show, more) = if hidden_bars == 0 && timed.len() <= slots {
        (timed.len(), 0)
    } else {
        let show = slots.saturating_sub(1).min(timed.len());
        (show, hidden_bars + timed.len() - show)
    };
    let width = inner.width as usize;
    for (i, &idx) in timed.iter().take(show).enumerate() {
        let occ = &model.occurrences[idx];
        let y = inner.y + 1 + (lanes + i) as u16;
        let time = clock(occ.start.local(&model.zone).time(), model.clock);
        let mut cal = theme.calendar(model.calendar(occ.calendar_id));
        if occ.pending {
            cal = theme.pending(cal);
        }
        let (x, _) = buf.set_stringn(inner.x, y, &time, width, theme.dim());
        let rest = width.saturating_sub((x - inner.x) as usize + 1);
        buf.set_stringn(x + 1, y, fit(&summary_label(occ), rest), rest, cal);
    }
    if more > 0 && lines > 0 {
        let y = inner.y + lines as u16;
        buf.set_stringn(
            inner.x,
            y,
            fit(&format!("+{more} more"), width),
            width,
            theme.dim(),
        );
    }
}

/// A bar across the columns where its lane is shown, with its label at the start of each visible run.
fn draw_bar(
    model: &Model,
    geo: &Geometry,
    r: usize,
    bar: &Bar,
    shown: &[usize; 7],
    buf: &mut Buffer,
    theme: Theme,
) {
    let occ = &model.occurrences[bar.occ];
    let mut style = theme.bar(model.calendar(occ.calendar_id));
    if occ.pending {
        style = theme.pending(style);
    }
    let visible = |col: usize| bar.lane < shown[col];
    let mut col = bar.from_col;
    while col <= bar.to_col {
        if !visible(col) {
            col += 1;
            continue;
        }
        let run_start = col;
        while col < bar.to_col && visible(col + 1) {
            col += 1;
        }
        let (first, last) = (geo.cell(r, run_start), geo.cell(r, col));
        let x0 = first.x + 1;
        let width = last.right().saturating_sub(x0);
        let y = first.y + 1 + bar.lane as u16;
        for x in x0..x0 + width {
            buf[(x, y)].set_symbol(" ").set_style(style);
        }
        let starts_here = run_start == bar.from_col && !bar.continues_left;
        let ends_here = col == bar.to_col;
        let mut label = String::new();
        if !starts_here {
            label.push('◂');
        } else if !occ.all_day() {
            label.push_str(&clock(occ.start.local(&model.zone).time(), model.clock));
            label.push(' ');
        }
        label.push_str(&summary_label(occ));
        let arrow = ends_here && bar.continues_right;
        let w = width as usize - usize::from(arrow);
        buf.set_stringn(x0, y, fit(&label, w), w, style);
        if arrow {
            buf.set_stringn(x0 + width - 1, y, "▸", 1, style);
        }
        col += 1;
    }
}

fn draw_header(model: &Model, geo: &Geometry, buf: &mut Buffer, theme: Theme) {
    // One rule for every column: full names only when the narrowest column holds the longest
    // name ("Wednesday"), so the header never mixes "Mon" with "Wednesday".
    let width = |col: usize| geo.columns[col + 1].saturating_sub(geo.columns[col] + 1) as usize;
    let narrowest = (0..7).map(width).min().unwrap_or(0);
    let full = narrowest > "Wednesday".len();
    let mut wd: Weekday = model.week_start;
    for col in 0..7 {
        let x = geo.columns[col] + 1;
        let w = width(col);
        let name = if full { full_name(wd) } else { short_name(wd) };
        let style = if matches!(wd, Weekday::Sat | Weekday::Sun) {
            theme.dim()
        } else {
            theme.title()
        };
        buf.set_stringn(x, geo.header.y, name, w, style);
        wd = wd.succ();
    }
}

fn draw_day_number(
    model: &Model,
    day: chrono::NaiveDate,
    inner: Rect,
    buf: &mut Buffer,
    theme: Theme,
) {
    let in_month = day.month() == model.month.month.month();
    let label = if day.day() == 1 {
        format!("{} {}", day.day(), short_month(day.month()))
    } else {
        format!("{:>2}", day.day())
    };
    let style = if day == model.today {
        theme.today()
    } else if day == model.selected {
        theme.selected_number()
    } else if !in_month {
        theme.other_month()
    } else {
        theme.title()
    };
    buf.set_stringn(inner.x, inner.y, &label, inner.width as usize, style);
}

pub fn short_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "Mon",
        Weekday::Tue => "Tue",
        Weekday::Wed => "Wed",
        Weekday::Thu => "Thu",
        Weekday::Fri => "Fri",
        Weekday::Sat => "Sat",
        Weekday::Sun => "Sun",
    }
}

fn full_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

pub fn short_month(m: u32) -> &'static str {
    [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(m as usize + 11) % 12]
}
