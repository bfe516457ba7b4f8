//! The week, day and agenda views: their state, their keys, and the days each one wants loaded.
//!
//! Every view shares one selection (`Model::selected` and the cursor into that day's list), so the
//! detail pane and the editing keys act on the same occurrence whichever view is on screen.

use chrono::{Duration, NaiveDate, Timelike};
use ratatui::layout::Rect;

use super::keymap::Action;
use super::model::{LocalSpan, Model, Status};
use super::update::{Command, move_cursor, select};
use crate::domain::Occurrence;

pub use crate::config::View;

/// The days one step of `]`/`[` reads when the next event is not loaded yet.
const JUMP_CHUNK_DAYS: i64 = 28;
/// How far `]`/`[` look before saying there is nothing (26 chunks: about two years).
const JUMP_CHUNKS: u32 = 26;
/// The agenda reads the day before and two weeks ahead of the selection, and reads again once
/// fewer than a week of them is left ahead: a page costs what two weeks hold (about 1,000
/// occurrences in the 100k bench cache, where one day already fills a screen).
const AGENDA_BACK: i64 = 1;
const AGENDA_AHEAD: i64 = 13;
const AGENDA_KEEP_AHEAD: i64 = 6;
/// The hour the time grid opens on, so the working day shows first.
pub const WORKDAY_HOUR: u32 = 9;

/// The view on screen and what it needs beyond the shared selection.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewState {
    pub view: View,
    /// The hour the cursor is on in the week and day grids (0–23).
    pub hour: u32,
    /// The first hour row on screen; the drawing keeps `hour` in sight from here.
    pub top: u32,
    /// A `]`/`[` still reading further days.
    pub jump: Option<Jump>,
    /// The loaded occurrences per day.
    pub days: DayIndex,
}

impl Default for ViewState {
    fn default() -> ViewState {
        ViewState {
            view: View::Month,
            hour: WORKDAY_HOUR,
            top: WORKDAY_HOUR - 1,
            jump: None,
            days: DayIndex::default(),
        }
    }
}

/// `]` or `[` waiting for a further range of days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jump {
    pub forward: bool,
    /// Stop on occurrences that start on a day only (`]`/`[`), or on every day's list (the agenda).
    pub starts_only: bool,
    /// Ranges read so far.
    pub chunks: u32,
    /// Where the selection was, to go back to when nothing is found.
    pub origin: (NaiveDate, usize),
}

/// For each loaded day, its occurrences (indices into `Model::occurrences`): all-day and
/// multi-day first, then timed ones by start.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DayIndex {
    pub first: Option<NaiveDate>,
    pub days: Vec<Vec<usize>>,
}

impl DayIndex {
    /// Indexes `occurrences` (sorted by local start) over the days `from..=to`.
    pub fn build(
        (from, to): (NaiveDate, NaiveDate),
        occurrences: &[Occurrence],
        spans: &[LocalSpan],
    ) -> DayIndex {
        let n = ((to - from).num_days() + 1).max(0) as usize;
        let mut days: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut bars = vec![0usize; n];
        for (idx, (occ, span)) in occurrences.iter().zip(spans).enumerate() {
            if occ.cancelled() || span.last < from || span.first > to {
                continue;
            }
            let a = (span.first.max(from) - from).num_days() as usize;
            let b = (span.last.min(to) - from).num_days() as usize;
            let bar = span.spans_days(occ);
            for d in a..=b {
                if bar {
                    days[d].insert(bars[d], idx);
                    bars[d] += 1;
                } else {
                    days[d].push(idx);
                }
            }
        }
        DayIndex {
            first: Some(from),
            days,
        }
    }

    /// The occurrences on `day`; empty outside the loaded days.
    pub fn list(&self, day: NaiveDate) -> &[usize] {
        let Some(first) = self.first else {
            return &[];
        };
        usize::try_from((day - first).num_days())
            .ok()
            .and_then(|i| self.days.get(i))
            .map_or(&[], Vec::as_slice)
    }

    /// The loaded days, first and last.
    pub fn range(&self) -> Option<(NaiveDate, NaiveDate)> {
        let first = self.first?;
        Some((first, first + Duration::days(self.days.len() as i64 - 1)))
    }
}

/// The first day of the week that holds `day`.
pub fn week_of(model: &Model, day: NaiveDate) -> NaiveDate {
    crate::domain::recur::week_start(day, model.week_start)
}

/// The days a week, day or agenda view reads (the month has its own, `Model::visible_days`).
/// The day view reads its whole week, so moving within it reads nothing.
pub fn window(model: &Model) -> (NaiveDate, NaiveDate) {
    let day = model.selected;
    match model.views.view {
        View::Agenda => (
            day - Duration::days(AGENDA_BACK),
            day + Duration::days(AGENDA_AHEAD),
        ),
        View::Month | View::Week | View::Day => {
            let first = week_of(model, day);
            (first, first + Duration::days(6))
        }
    }
}

/// The days that must be loaded for the view to be drawn as it is.
fn needed(model: &Model) -> (NaiveDate, NaiveDate) {
    match model.views.view {
        View::Month => model.visible_days(),
        View::Agenda => (
            model.selected,
            model.selected + Duration::days(AGENDA_KEEP_AHEAD),
        ),
        _ => window(model),
    }
}

/// Asks for the view's window unless what was asked for last covers what it shows.
pub fn ensure_window(model: &mut Model) -> Vec<Command> {
    let (lo, hi) = needed(model);
    if model.requested.is_some_and(|(a, b)| a <= lo && b >= hi) {
        return Vec::new();
    }
    let (from, to) = model.wanted_window();
    model.requested = Some((from, to));
    vec![Command::Load { from, to }]
}

/// Switches to `view`, keeping the selection.
pub fn switch(model: &mut Model, view: View) -> Vec<Command> {
    if model.views.view == view {
        return Vec::new();
    }
    model.views.view = view;
    hour_to_selection(model);
    scroll_to_hour(model);
    ensure_window(model)
}

/// The keys the views give their own meaning, and the keys every view shares (switching views,
/// `]`/`[`, `.`). `None`: the month's meaning applies.
pub fn on_action(model: &mut Model, action: Action) -> Option<Vec<Command>> {
    model.views.jump = None;
    let view = model.views.view;
    let grid = matches!(view, View::Week | View::Day);
    let day = model.selected;
    Some(match action {
        Action::MonthView => switch(model, View::Month),
        Action::WeekView => switch(model, View::Week),
        Action::DayView => switch(model, View::Day),
        Action::AgendaView => switch(model, View::Agenda),
        Action::NextAcross => step(model, true, true),
        Action::PrevAcross => step(model, false, true),
        Action::Now => now(model),
        Action::PrevWeek if grid => set_hour(model, model.views.hour.saturating_sub(1)),
        Action::NextWeek if grid => set_hour(model, (model.views.hour + 1).min(23)),
        Action::PrevMonth if grid => select(model, day - Duration::days(7)),
        Action::NextMonth if grid => select(model, day + Duration::days(7)),
        Action::NextEvent | Action::PrevEvent if grid => {
            move_cursor(model, if action == Action::NextEvent { 1 } else { -1 });
            hour_to_selection(model);
            Vec::new()
        }
        Action::PrevWeek if view == View::Agenda => step(model, false, false),
        Action::NextWeek if view == View::Agenda => step(model, true, false),
        Action::PrevMonth if view == View::Agenda => page(model, false),
        Action::NextMonth if view == View::Agenda => page(model, true),
        _ => return None,
    })
}

/// `.`: today, and in the grids the current hour.
fn now(model: &mut Model) -> Vec<Command> {
    let out = select(model, model.today);
    let hour = model.now.with_timezone(&model.zone).hour();
    let commands = set_hour(model, hour);
    out.into_iter().chain(commands).collect()
}

/// Puts the hour cursor on `hour`, scrolls the grid to it, and selects the day's event under it.
fn set_hour(model: &mut Model, hour: u32) -> Vec<Command> {
    model.views.hour = hour.min(23);
    scroll_to_hour(model);
    let list = model.day_list(model.selected);
    let under = list.iter().position(|&i| {
        let (occ, span) = (&model.occurrences[i], &model.spans[i]);
        !span.spans_days(occ) && span.start.hour() <= hour && hour_end(span) > hour
    });
    if let Some(i) = under {
        model.cursor = i;
    }
    Vec::new()
}

/// The hour row an occurrence's end falls in, exclusive (`10:30` ends in row 10, so 11).
fn hour_end(span: &LocalSpan) -> u32 {
    let end = span.end.time();
    let h = end.hour() + u32::from(end.minute() > 0 || end.second() > 0);
    if span.end.date() > span.start.date() {
        24
    } else {
        h.max(span.start.hour() + 1)
    }
}

/// Moves the hour cursor to the selected event's start, so Tab in a grid brings it into sight.
fn hour_to_selection(model: &mut Model) {
    let list = model.day_list(model.selected);
    let Some(&i) = list.get(model.cursor) else {
        return;
    };
    if !model.spans[i].spans_days(&model.occurrences[i]) {
        model.views.hour = model.spans[i].start.hour();
        scroll_to_hour(model);
    }
}

/// Scrolls the least that brings the hour cursor into sight.
fn scroll_to_hour(model: &mut Model) {
    let shown = grid_rows(model, model.size.1).1;
    model.views.top = follow(model.views.top, model.views.hour, shown);
}

/// The first hour on screen: `top`, moved the least that keeps `hour` in sight and no empty rows
/// below midnight.
pub fn follow(top: u32, hour: u32, shown: u32) -> u32 {
    let shown = shown.clamp(1, 24);
    let top = top.min(24 - shown);
    if hour < top {
        hour
    } else if hour >= top + shown {
        hour + 1 - shown
    } else {
        top
    }
}

/// The time grid's rows on a screen `h` lines high: (lines per hour, hours shown). Keys and the
/// drawing use the same numbers, so a key's scroll and the frame agree.
pub fn grid_rows(model: &Model, h: u16) -> (u16, u32) {
    let lanes = allday_lines(model, h);
    let body = h.saturating_sub(3 + lanes + u16::from(h >= 20));
    let per_hour = (body / 24).clamp(1, 4);
    (per_hour, u32::from(body / per_hour).min(24))
}

/// How many lines the all-day row takes: its lanes, at most a quarter of the screen.
pub fn allday_lines(model: &Model, height: u16) -> u16 {
    let lanes = allday_lanes(model);
    let cap = (height / 4).max(1);
    (lanes as u16).min(cap)
}

/// The lanes of all-day and multi-day bars in the selected week (or day).
pub fn allday_lanes(model: &Model) -> usize {
    let Some(row) = week_row(model) else {
        return 0;
    };
    let row = &model.month.rows[row];
    match model.views.view {
        View::Day => {
            let col = (model.selected - week_of(model, model.selected)).num_days() as usize;
            row.bars
                .iter()
                .filter(|b| (b.from_col..=b.to_col).contains(&col))
                .map(|b| b.lane + 1)
                .max()
                .unwrap_or(0)
        }
        _ => row.lanes,
    }
}

/// The month grid's row that is the selected week (the month grid always holds it).
pub fn week_row(model: &Model) -> Option<usize> {
    let offset = (week_of(model, model.selected) - model.month.first_day).num_days();
    usize::try_from(offset / 7)
        .ok()
        .filter(|&r| offset >= 0 && r < model.month.rows.len())
}

/// Moves to the next (or previous) occurrence across days: within the loaded days, else by
/// asking the loader for the following weeks. `starts_only` skips the days a multi-day event
/// goes on through.
pub fn step(model: &mut Model, forward: bool, starts_only: bool) -> Vec<Command> {
    if let Some((day, cursor)) = find(model, model.selected, model.cursor, forward, starts_only) {
        return land(model, day, cursor);
    }
    let origin = (model.selected, model.cursor);
    read_further(
        model,
        Jump {
            forward,
            starts_only,
            chunks: 0,
            origin,
        },
    )
}

/// Selects `cursor` on `day` and reads the view's window for it if needed.
fn land(model: &mut Model, day: NaiveDate, cursor: usize) -> Vec<Command> {
    let out = select(model, day);
    model.cursor = cursor;
    hour_to_selection(model);
    out
}

/// The occurrence after (or before) `cursor` on `day`, within the loaded days.
fn find(
    model: &Model,
    day: NaiveDate,
    cursor: usize,
    forward: bool,
    starts_only: bool,
) -> Option<(NaiveDate, usize)> {
    let (first, last) = model.views.days.range()?;
    let starts_on = |d: NaiveDate, i: usize| !starts_only || model.spans[i].first == d;
    let here = model.views.days.list(day);
    if forward {
        if let Some(c) = (cursor + 1..here.len()).find(|&c| starts_on(day, here[c])) {
            return Some((day, c));
        }
        let mut d = day.max(first - Duration::days(1)) + Duration::days(1);
        while d <= last {
            let list = model.views.days.list(d);
            if let Some(c) = (0..list.len()).find(|&c| starts_on(d, list[c])) {
                return Some((d, c));
            }
            d += Duration::days(1);
        }
    } else {
        if let Some(c) = (0..cursor.min(here.len()))
            .rev()
            .find(|&c| starts_on(day, here[c]))
        {
            return Some((day, c));
        }
        let mut d = day.min(last + Duration::days(1)) - Duration::days(1);
        while d >= first {
            let list = model.views.days.list(d);
            if let Some(c) = (0..list.len()).rev().find(|&c| starts_on(d, list[c])) {
                return Some((d, c));
            }
            d -= Duration::days(1);
        }
    }
    None
}

/// Asks for the weeks after (or before) the loaded days, for a jump to finish once they arrive.
fn read_further(model: &mut Model, jump: Jump) -> Vec<Command> {
    let (lo, hi) = model
        .loaded
        .or(model.requested)
        .unwrap_or((model.selected, model.selected));
    let (from, to) = if jump.forward {
        (hi + Duration::days(1), hi + Duration::days(JUMP_CHUNK_DAYS))
    } else {
        (lo - Duration::days(JUMP_CHUNK_DAYS), lo - Duration::days(1))
    };
    model.views.jump = Some(Jump {
        chunks: jump.chunks + 1,
        ..jump
    });
    model.requested = Some((from, to));
    vec![Command::Load { from, to }]
}

/// After a load: a jump waiting for these days lands on the first occurrence they hold, reads
/// further, or gives up and goes back.
pub fn on_loaded(model: &mut Model) -> Vec<Command> {
    let Some(jump) = model.views.jump else {
        return Vec::new();
    };
    let Some((first, last)) = model.views.days.range() else {
        return Vec::new();
    };
    // Search the new days from their edge: before the first (or after the last) day.
    let (edge, cursor) = if jump.forward {
        (first - Duration::days(1), usize::MAX - 1)
    } else {
        (last + Duration::days(1), 0)
    };
    let found = if jump.forward {
        find(model, edge, cursor, true, jump.starts_only)
    } else {
        find(model, edge, cursor, false, jump.starts_only)
    };
    if let Some((day, c)) = found {
        model.views.jump = None;
        return land(model, day, c);
    }
    if jump.chunks < JUMP_CHUNKS {
        return read_further(model, jump);
    }
    model.views.jump = None;
    model.status = Some(Status {
        text: format!(
            "no {} event within two years",
            if jump.forward { "later" } else { "earlier" }
        ),
        error: false,
    });
    let (day, cursor) = jump.origin;
    model.selected = day;
    model.relayout();
    model.requested = None;
    let out = ensure_window(model);
    model.cursor = cursor;
    out
}

/// The agenda's PgDn/PgUp: a screenful of occurrences on, or a read of further weeks at the end.
fn page(model: &mut Model, forward: bool) -> Vec<Command> {
    let rows = model.size.1.saturating_sub(4).max(1);
    let (mut day, mut cursor) = (model.selected, model.cursor);
    let mut moved = false;
    for _ in 0..rows {
        match find(model, day, cursor, forward, false) {
            Some((d, c)) => {
                (day, cursor, moved) = (d, c, true);
            }
            None => break,
        }
    }
    if moved {
        land(model, day, cursor)
    } else {
        step(model, forward, false)
    }
}

/// The title line's text for the view on screen.
pub fn title(model: &Model) -> String {
    let day = model.selected;
    match model.views.view {
        View::Month => model.month.month.format("%B %Y").to_string(),
        View::Day => day.format("%A %-d %B %Y").to_string(),
        View::Agenda => format!("Agenda · {}", day.format("%B %Y")),
        View::Week => {
            let first = week_of(model, day);
            let last = first + Duration::days(6);
            let range = if first.format("%m%Y").to_string() == last.format("%m%Y").to_string() {
                format!("{}–{}", first.format("%-d"), last.format("%-d %B %Y"))
            } else if first.format("%Y").to_string() == last.format("%Y").to_string() {
                format!("{} – {}", first.format("%-d %b"), last.format("%-d %b %Y"))
            } else {
                format!(
                    "{} – {}",
                    first.format("%-d %b %Y"),
                    last.format("%-d %b %Y")
                )
            };
            format!("Week {} · {range}", first.format("%V"))
        }
    }
}

/// The length of `day` in the display zone when it is not 24 hours (a daylight-saving change).
pub fn day_hours(model: &Model, day: NaiveDate) -> Option<i64> {
    use chrono::TimeZone;
    let start = |d: NaiveDate| {
        model
            .zone
            .from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
            .earliest()
            .or_else(|| {
                model
                    .zone
                    .from_local_datetime(&d.and_hms_opt(1, 0, 0)?)
                    .earliest()
            })
    };
    let hours = (start(day + Duration::days(1))? - start(day)?).num_hours();
    (hours != 24).then_some(hours)
}

/// Where the parts of the week (or day) grid go on screen: the drawing and the mouse share it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grid {
    pub days: Vec<NaiveDate>,
    /// x of each day column's left edge (its `│`), plus the right edge.
    pub cols: Vec<u16>,
    pub gutter: Rect,
    /// The line of the day headers; the all-day lanes and the separator (if any) follow it.
    pub header_y: u16,
    pub lanes: u16,
    pub sep: bool,
    /// First line of the hour rows, lines per hour, first hour, hours shown.
    pub y: u16,
    pub per_hour: u16,
    pub top: u32,
    pub shown: u32,
    /// The day view's event list, right of the grid on a wide terminal.
    pub side: Option<Rect>,
}

impl Grid {
    /// Column `i`'s inner x and width.
    pub fn col(&self, i: usize) -> (u16, u16) {
        (
            self.cols[i] + 1,
            self.cols[i + 1].saturating_sub(self.cols[i] + 1),
        )
    }

    pub fn bottom(&self) -> u16 {
        self.y + self.per_hour * self.shown as u16
    }

    /// The grid line of a time of day (in lines from the first hour shown; may be outside).
    pub fn line_of(&self, minutes: i64) -> i64 {
        ((minutes - i64::from(self.top) * 60) * i64::from(self.per_hour)).div_euclid(60)
    }

    /// The day of the column under (`x`, `y`), and the hour when it is on the hour rows.
    pub fn at(&self, x: u16, y: u16) -> Option<(NaiveDate, Option<u32>)> {
        let i = (0..self.days.len()).find(|&i| x >= self.cols[i] && x < self.cols[i + 1])?;
        if y < self.header_y || y >= self.gutter.bottom() {
            return None;
        }
        let hour = (y >= self.y && y < self.bottom())
            .then(|| self.top + u32::from((y - self.y) / self.per_hour.max(1)));
        Some((self.days[i], hour.filter(|h| *h < 24)))
    }
}

/// A left click on the week or day view: the day under it, and the hour when it is on the hour
/// rows (the event there, if one, becomes the selected one); on the agenda, the line's day and
/// occurrence.
pub fn click(model: &mut Model, x: u16, y: u16) -> Vec<Command> {
    if model.views.view == View::Agenda {
        return agenda_click(model, y);
    }
    let (w, h) = model.size;
    let Some((day, hour)) = grid(model, Rect::new(0, 0, w, h)).and_then(|g| g.at(x, y)) else {
        return Vec::new();
    };
    let mut out = select(model, day);
    if let Some(hour) = hour {
        out.extend(set_hour(model, hour));
    }
    out
}

/// One line of the agenda's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgendaLine {
    Day(NaiveDate),
    /// The n-th occurrence of the day.
    Item(NaiveDate, usize),
    Empty(NaiveDate),
}

/// The agenda's lines from the selected day on (at least `height` of them, or up to the last
/// loaded day), and the first one shown in a list `height` lines tall: the selected day's
/// heading, unless that hides the selected occurrence.
pub fn agenda_lines(model: &Model, height: usize) -> (Vec<AgendaLine>, usize) {
    let mut lines = Vec::new();
    let last = model.loaded.map_or(model.selected, |(_, to)| to);
    let mut d = model.selected;
    while d <= last && lines.len() < height + model.cursor + 1 {
        let list = model.day_list(d);
        if !list.is_empty() || d == model.selected || d == model.today {
            lines.push(AgendaLine::Day(d));
            if list.is_empty() {
                lines.push(AgendaLine::Empty(d));
            }
            lines.extend((0..list.len()).map(|n| AgendaLine::Item(d, n)));
        }
        d += Duration::days(1);
    }
    let cursor = lines
        .iter()
        .position(|l| *l == AgendaLine::Item(model.selected, model.cursor))
        .unwrap_or(0);
    let first = cursor.saturating_sub(height.saturating_sub(1));
    (lines, first)
}

/// A left click on the agenda: the day of the line under it, and its occurrence.
fn agenda_click(model: &mut Model, y: u16) -> Vec<Command> {
    let height = model.size.1.saturating_sub(2) as usize;
    if y == 0 || height == 0 {
        return Vec::new();
    }
    let (lines, first) = agenda_lines(model, height);
    let row = usize::from(y - 1);
    if row >= height {
        return Vec::new();
    }
    match lines.get(first + row).copied() {
        Some(AgendaLine::Day(day) | AgendaLine::Empty(day)) => select(model, day),
        Some(AgendaLine::Item(day, n)) => {
            let out = select(model, day);
            model.cursor = n;
            out
        }
        None => Vec::new(),
    }
}

/// The week (or day) grid for the screen `area` (title and status lines included); `None` when
/// the terminal is too small to draw it.
pub fn grid(model: &Model, area: Rect) -> Option<Grid> {
    if area.height < 4 || area.width < 12 {
        return None;
    }
    let day_view = model.views.view == View::Day;
    let mut main = Rect {
        y: area.y + 1,
        height: area.height - 2,
        ..area
    };
    let mut side = None;
    if day_view && area.width >= super::layout::SIDE_PANE_FROM {
        let side_w = (area.width / 4).clamp(30, 44);
        main.width -= side_w;
        side = Some(Rect {
            x: main.right(),
            width: side_w,
            ..main
        });
    }
    let days: Vec<NaiveDate> = if day_view {
        vec![model.selected]
    } else {
        let first = week_of(model, model.selected);
        (0..7).map(|i| first + Duration::days(i)).collect()
    };
    let gw: u16 = if main.width >= 60 { 6 } else { 3 };
    let n = days.len() as u16;
    let span = main.width.saturating_sub(gw);
    let cols: Vec<u16> = (0..=n)
        .map(|i| main.x + gw + (span as u32 * i as u32 / n as u32) as u16)
        .collect();
    let lanes = allday_lines(model, area.height);
    let sep = area.height >= 20;
    let (per_hour, shown) = grid_rows(model, area.height);
    let y = main.y + 1 + lanes + u16::from(sep);
    Some(Grid {
        days,
        cols,
        gutter: Rect {
            x: main.x,
            y,
            width: gw,
            height: main.bottom().saturating_sub(y),
        },
        header_y: main.y,
        lanes,
        sep,
        y,
        per_hour,
        top: follow(model.views.top, model.views.hour, shown),
        shown,
        side,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_scrolls_the_least_that_shows_the_hour() {
        assert_eq!(follow(8, 9, 16), 8, "in sight: no scroll");
        assert_eq!(follow(8, 7, 16), 7, "above: the hour becomes the top row");
        assert_eq!(
            follow(0, 20, 16),
            5,
            "below: the hour becomes the bottom row"
        );
        assert_eq!(follow(20, 21, 16), 8, "never empty rows below midnight");
        assert_eq!(
            follow(3, 23, 24),
            0,
            "a screen that holds the day shows all of it"
        );
    }
}
