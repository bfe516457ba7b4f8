//! Drawing: `view(&Model, &mut Frame)` is a pure function of the model. One widget per pane.

mod agenda;
mod banner;
mod calendars;
mod conflicts;
mod day;
mod form;
mod month;
mod overlay;
mod search;
mod sync_pane;
pub mod text;
pub mod theme;
mod week;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use crate::app::keymap::Action;
use crate::app::layout::{self, SIDE_PANE_FROM};
use crate::app::views::{self, View};
use crate::app::{Mode, Model};
use text::fit;
use theme::Theme;

/// What a person sees in the status line when only the sample is there.
pub const SAMPLE_HINT: &str = "Sample calendar. Add yours: almanac import FILE.ics --calendar NAME, or an [[account]] in config.toml";

/// Draws the whole screen from the model.
pub fn view(model: &Model, frame: &mut Frame) {
    let area = frame.area();
    draw(model, area, frame.buffer_mut());
}

/// Draws into a buffer (what `view` does, usable without a terminal).
pub fn draw(model: &Model, area: Rect, buf: &mut Buffer) {
    let theme = Theme { color: model.color };
    if model.views.view != View::Month {
        draw_view(model, area, buf, theme);
    } else if layout::too_small(area.width, area.height) {
        draw_small(model, area, buf, theme);
    } else {
        let geo = layout::month(area, model.month.rows.len() as u16);
        draw_title(model, geo.title, buf, theme);
        month::draw(model, &geo, buf, theme);
        day::draw_pane(model, geo.side, buf, theme, area.width >= SIDE_PANE_FROM);
        draw_status(model, geo.status, buf, theme);
    }
    // Every mode is drawn at every size: a mode that takes keys is always on screen.
    match &model.mode {
        Mode::Help => overlay::draw_help(&model.keymap, model.scroll, area, buf, theme),
        Mode::Search => search::draw(model, area, buf, theme),
        Mode::Calendars => calendars::draw(model, area, buf, theme),
        Mode::Detail => overlay::draw_detail(model, area, buf, theme),
        Mode::Sync => sync_pane::draw(model, area, buf, theme),
        Mode::Conflicts => conflicts::draw(model, area, buf, theme),
        Mode::Form(f) => form::draw(f, area, buf, theme),
        Mode::Scope(pick) => form::draw_scope(pick, area, buf, theme),
        Mode::ConfirmDelete(removal) => form::draw_confirm(removal, area, buf, theme),
        Mode::Month | Mode::GoTo(_) | Mode::Zone(_) | Mode::Snooze(_) => {}
    }
    banner::draw(model, area, buf, theme);
}

fn month_title(model: &Model) -> String {
    views::title(model)
}

/// The week, day or agenda view, with the title and status lines the month has.
fn draw_view(model: &Model, area: Rect, buf: &mut Buffer, theme: Theme) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    draw_title(model, Rect { height: 1, ..area }, buf, theme);
    match model.views.view {
        View::Agenda => agenda::draw(model, area, buf, theme),
        _ => week::draw(model, area, buf, theme),
    }
    if area.height > 1 {
        let status = Rect {
            y: area.bottom() - 1,
            height: 1,
            ..area
        };
        draw_status(model, status, buf, theme);
    }
}

fn draw_title(model: &Model, area: Rect, buf: &mut Buffer, theme: Theme) {
    let w = area.width as usize;
    let title = format!(" {}", month_title(model));
    let (mut x, _) = buf.set_stringn(area.x, area.y, &title, w, theme.title());
    if model.showing_sample() {
        let badge = " SAMPLE DATA ";
        x += 2;
        buf.set_stringn(
            x,
            area.y,
            badge,
            area.right().saturating_sub(x) as usize,
            theme.badge(),
        );
    }
    let keys = &model.keymap;
    let right = match model.views.view {
        View::Month => format!(
            "{}  {} ‹ › {}  {} help ",
            model.zone.name(),
            keys.key_of(Action::PrevMonth),
            keys.key_of(Action::NextMonth),
            keys.key_of(Action::Help)
        ),
        _ => format!(
            "{}  {}  {} help ",
            model.zone.name(),
            keys.view_keys(),
            keys.key_of(Action::Help)
        ),
    };
    let rw = right.chars().count() as u16;
    if area.width > rw + x - area.x + 2 {
        buf.set_stringn(area.right() - rw, area.y, &right, rw as usize, theme.dim());
    }
}

fn draw_status(model: &Model, area: Rect, buf: &mut Buffer, theme: Theme) {
    let w = area.width as usize;
    let (text, style) = match (&model.mode, &model.status) {
        (Mode::GoTo(typed), _) => (
            format!(
                " Go to date: {typed}█   (24/12, dec 24, tomorrow, mon, +3d, 2026-12-24; Enter goes, Esc cancels)"
            ),
            theme.title(),
        ),
        (Mode::Zone(typed), _) => (
            format!(" Zone: {typed}█   (IANA name, Tab completes, Enter sets, Esc cancels)"),
            theme.title(),
        ),
        _ if !model.sync.waiting.is_empty() => (format!(" {}", waiting(model)), theme.title()),
        (Mode::Month, None) if model.search.active => (
            format!(" {}", crate::app::search::status_text(model)),
            theme.title(),
        ),
        (_, Some(status)) => (
            format!(" {}", status.text),
            if status.error {
                theme.error()
            } else {
                theme.title()
            },
        ),
        _ if !model.sync.running.is_empty() => (format!(" {}", syncing(model)), theme.title()),
        _ if model.showing_sample() => (format!(" {SAMPLE_HINT}"), theme.dim()),
        _ => (
            format!(
                " {} help · {} search · {} calendars · {} quit",
                model.keymap.key_of(Action::Help),
                model.keymap.key_of(Action::Search),
                model.keymap.key_of(Action::CalendarList),
                model.keymap.key_of(Action::Quit)
            ),
            theme.dim(),
        ),
    };
    buf.set_stringn(area.x, area.y, fit(&text, w), w, style);
}

/// Which servers have not answered for a while, for the status line.
fn waiting(model: &Model) -> String {
    let parts: Vec<String> = model
        .sync
        .waiting
        .iter()
        .map(|(account, secs)| format!("{account} ({secs} s)"))
        .collect();
    format!(
        "⏳ waiting for the server: {} · s sync pane",
        parts.join(", ")
    )
}

/// What the engine is doing, for the status line.
fn syncing(model: &Model) -> String {
    let parts: Vec<String> = model
        .sync
        .running
        .iter()
        .map(|(id, progress)| {
            let name = model
                .calendar(*id)
                .map_or("a calendar", |c| c.name.as_str());
            match progress {
                Some((done, total)) => format!("{name} {done}/{total}"),
                None => name.to_string(),
            }
        })
        .collect();
    format!("⟳ syncing {} · s sync pane", parts.join(", "))
}

/// A terminal too small for the grid: the month's name and a list of days.
fn draw_small(model: &Model, area: Rect, buf: &mut Buffer, theme: Theme) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let w = area.width as usize;
    let title = format!(
        "{}{}",
        month_title(model),
        if model.showing_sample() {
            " · sample"
        } else {
            ""
        }
    );
    buf.set_stringn(area.x, area.y, fit(&title, w), w, theme.title());
    if area.height < 3 {
        return;
    }
    let list = Rect {
        y: area.y + 1,
        height: area.height - 2,
        ..area
    };
    day::draw_list(model, list, buf, theme);
    let status = Rect {
        y: area.bottom() - 1,
        height: 1,
        ..area
    };
    draw_status(model, status, buf, theme);
}
