//! The search side of `update`: the `/` prompt, its results as you type, Enter to go to one, and
//! `n`/`N` to step through them while the search stays active.

use chrono::NaiveDate;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::keymap::Action;
use super::model::{LocalSpan, Mode, Model, Status};
use super::update::{Command, select};
use crate::domain::Occurrence;
use crate::domain::text::sanitize_in_place;
use crate::store::SearchQuery;

/// How many results a search shows: its first page.
pub const PAGE: usize = 200;

/// The longest query the prompt takes.
const MAX_QUERY: usize = 80;

/// What the person searched for and what was found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchView {
    /// As typed.
    pub query: String,
    /// The results for `found_for`, nearest first (text made safe to draw).
    pub hits: Vec<Occurrence>,
    /// The query the results answer (they lag the typing by a read).
    pub found_for: String,
    /// The highlighted result.
    pub cursor: usize,
    /// The results stay after Enter: `n`/`N` step through them until Esc.
    pub active: bool,
    /// The result to put the day cursor on once its month is loaded: (event, start).
    pub focus: Option<(i64, i64)>,
}

/// `/`: the prompt opens with the last query, its results still there.
pub fn open(model: &mut Model) -> Vec<Command> {
    model.mode = Mode::Search;
    Vec::new()
}

/// A key while the prompt is open.
pub fn on_prompt_key(model: &mut Model, key: KeyEvent) -> Vec<Command> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Esc => {
            model.mode = Mode::Month;
            model.search = SearchView::default();
            Vec::new()
        }
        KeyCode::Enter => {
            if model.search.hits.is_empty() {
                model.mode = Mode::Month;
                model.search.active = false;
                return Vec::new();
            }
            model.mode = Mode::Month;
            model.search.active = true;
            go_to_hit(model)
        }
        KeyCode::Down | KeyCode::Tab => {
            step(model, 1);
            Vec::new()
        }
        KeyCode::Char('n') if ctrl => {
            step(model, 1);
            Vec::new()
        }
        KeyCode::Up | KeyCode::BackTab => {
            step(model, -1);
            Vec::new()
        }
        KeyCode::Char('p') if ctrl => {
            step(model, -1);
            Vec::new()
        }
        KeyCode::Backspace => {
            model.search.query.pop();
            ask(model)
        }
        KeyCode::Char(c) if !ctrl && !c.is_control() => {
            if model.search.query.chars().count() < MAX_QUERY {
                model.search.query.push(c);
            }
            ask(model)
        }
        _ => Vec::new(),
    }
}

/// An action while a search is active: `n`/`N` go to the next or previous result.
pub fn on_match_action(model: &mut Model, action: Action) -> Vec<Command> {
    let delta = if action == Action::PrevMatch { -1 } else { 1 };
    if model.search.hits.is_empty() {
        return Vec::new();
    }
    step(model, delta);
    go_to_hit(model)
}

/// Esc in the month while a search is active ends it.
pub fn close(model: &mut Model) {
    model.search = SearchView::default();
    model.status = Some(Status {
        text: "search ended".into(),
        error: false,
    });
}

/// The results of a search arrived; only those for what is typed now are kept.
pub fn on_found(model: &mut Model, query: String, mut hits: Vec<Occurrence>) {
    if query != model.search.query {
        return;
    }
    for o in &mut hits {
        sanitize_in_place(&mut o.summary);
        sanitize_in_place(&mut o.location);
    }
    model.search.hits = hits;
    model.search.found_for = query;
    model.search.cursor = 0;
}

/// After a load: the day cursor goes to the result it was sent to.
pub fn settle_focus(model: &mut Model) {
    let Some((event, start)) = model.search.focus else {
        return;
    };
    let list = model.day_list(model.selected);
    if let Some(pos) = list.iter().position(|&i| {
        let o = &model.occurrences[i];
        o.event_id == event && o.start.key() == start
    }) {
        model.cursor = pos;
        model.search.focus = None;
    }
}

/// The day a result starts on in the display zone.
pub fn day_of(model: &Model, hit: &Occurrence) -> NaiveDate {
    LocalSpan::of(hit, &model.zone).first
}

/// What the status line says while a search is active.
pub fn status_text(model: &Model) -> String {
    let s = &model.search;
    format!(
        "match {}/{} for '{}' · {} next · {} previous · / edit · Esc ends",
        s.cursor + 1,
        s.hits.len(),
        s.found_for,
        model.keymap.key_of(Action::NextMatch),
        model.keymap.key_of(Action::PrevMatch),
    )
}

fn ask(model: &mut Model) -> Vec<Command> {
    if model.search.query.trim().is_empty() {
        model.search.hits.clear();
        model.search.found_for.clear();
        model.search.cursor = 0;
        return Vec::new();
    }
    vec![Command::Search(SearchQuery::around(
        &model.search.query,
        model.now,
        &model.zone,
        PAGE,
    ))]
}

fn step(model: &mut Model, delta: isize) {
    let n = model.search.hits.len();
    if n == 0 {
        return;
    }
    model.search.cursor = (model.search.cursor as isize + delta).rem_euclid(n as isize) as usize;
}

fn go_to_hit(model: &mut Model) -> Vec<Command> {
    let Some(hit) = model.search.hits.get(model.search.cursor).cloned() else {
        return Vec::new();
    };
    model.search.focus = Some((hit.event_id, hit.start.key()));
    let out = select(model, day_of(model, &hit));
    settle_focus(model);
    model.status = None;
    out
}
