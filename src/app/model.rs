//! The UI state. Owned by the UI task; background work only sends messages.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Utc, Weekday};
use chrono_tz::Tz;

use super::calendars::CalendarsView;
use super::conflicts::ConflictsView;
use super::editing::{Intent, Pick, Removal};
use super::form::Form;
use super::keymap::Keymap;
use super::search::SearchView;
use super::views::{DayIndex, View, ViewState};
use crate::config::Clock;
use crate::domain::{Calendar, EventDetail, Occurrence};

/// What has the keyboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Month,
    Help,
    /// Typing a date to jump to.
    GoTo(String),
    /// Typing the zone to show times in.
    Zone(String),
    /// The detail of the selected event.
    Detail,
    /// The sync pane.
    Sync,
    /// The add/edit form.
    Form(Box<Form>),
    /// Asking whether an edit or delete of a recurring event is for one occurrence or the series.
    Scope(Box<Pick>),
    /// Asking `y`/`n` before a delete.
    ConfirmDelete(Box<Removal>),
    /// The conflict pane.
    Conflicts,
    /// The `/` prompt and its results.
    Search,
    /// The calendar list.
    Calendars,
    /// Typing the minutes to snooze the banner's reminder for.
    Snooze(String),
}

/// What the UI knows of sync: the per-calendar state read from the cache, and what runs now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncView {
    /// Whether any account is configured (else the keys explain how to add one).
    pub accounts: bool,
    /// Per calendar, as last read (text already made safe to draw).
    pub rows: Vec<crate::store::CalendarStatus>,
    /// Per account, as last read (text made safe to draw): every configured account shows, the
    /// ones that cannot be reached too.
    pub account_rows: Vec<crate::store::AccountStatus>,
    /// Calendars being synced now, with (done, total) once a fetch is under way.
    pub running: Vec<(i64, Option<(usize, usize)>)>,
    /// Accounts whose server has not answered for a while, with the seconds waited so far.
    pub waiting: Vec<(String, u64)>,
    /// The highlighted row of the pane.
    pub cursor: usize,
}

/// A message in the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub error: bool,
}

/// The month on screen, laid out: which events are bars across days and which sit in a day's cell.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MonthView {
    /// The first of the month shown.
    pub month: NaiveDate,
    /// The first day of the first week row.
    pub first_day: NaiveDate,
    pub rows: Vec<WeekRow>,
}

/// Where an occurrence falls in the display zone, computed once per load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalSpan {
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    pub first: NaiveDate,
    pub last: NaiveDate,
}

impl LocalSpan {
    /// The span of `occ` in `zone`.
    pub fn of(occ: &Occurrence, zone: &Tz) -> LocalSpan {
        let (start, end) = occ.local_span(zone);
        let (first, last) = crate::domain::event::days_of(start, end);
        LocalSpan {
            start,
            end,
            first,
            last,
        }
    }

    /// True for all-day events and those that cross a day boundary: drawn as bars.
    pub fn spans_days(&self, occ: &Occurrence) -> bool {
        occ.all_day() || self.first != self.last
    }
}

/// One week row of the grid.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WeekRow {
    /// All-day and multi-day events, each in a lane that stays the same across its days.
    pub bars: Vec<Bar>,
    pub lanes: usize,
    /// Timed single-day events per column, in start order (indices into `Model::occurrences`).
    pub timed: [Vec<usize>; 7],
}

/// A run of days one all-day or multi-day event covers within a week row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bar {
    pub occ: usize,
    pub lane: usize,
    pub from_col: usize,
    pub to_col: usize,
    /// The event began before this row.
    pub continues_left: bool,
    /// The event goes on after this row.
    pub continues_right: bool,
}

/// Everything the screen is drawn from.
#[derive(Debug, Clone)]
pub struct Model {
    pub today: NaiveDate,
    pub selected: NaiveDate,
    /// Index of the selected event within the selected day's list.
    pub cursor: usize,
    pub week_start: Weekday,
    pub zone: Tz,
    pub clock: Clock,
    /// False under `NO_COLOR`: the view then uses only bold, reverse and underline.
    pub color: bool,
    pub size: (u16, u16),
    pub calendars: Vec<Calendar>,
    /// The loaded occurrences (text already made safe to draw), sorted by local start, then uid.
    pub occurrences: Vec<Occurrence>,
    /// `spans[i]` is where `occurrences[i]` falls in `zone`.
    pub spans: Vec<LocalSpan>,
    /// The detail of the event the detail pane shows, once read.
    pub detail: Option<(i64, EventDetail)>,
    /// The days `occurrences` covers.
    pub loaded: Option<(NaiveDate, NaiveDate)>,
    /// The days last asked for.
    pub requested: Option<(NaiveDate, NaiveDate)>,
    pub month: MonthView,
    /// The view on screen (month, week, day, agenda) and its own state.
    pub views: ViewState,
    pub mode: Mode,
    pub status: Option<Status>,
    pub sync: SyncView,
    /// Open conflicts, as last read, while the conflict pane is open.
    pub conflicts: ConflictsView,
    /// An edit, delete or `$EDITOR` run waiting for the event's detail to be read.
    pub awaiting: Option<(i64, Intent)>,
    /// The current instant, for "3 min ago" (set by the run loop, fixed in tests).
    pub now: DateTime<Utc>,
    pub quit: bool,
    /// Lines scrolled in the overlay on screen (the help, a conflict's detail) when it is taller
    /// than the terminal; the drawing clamps it. Back to 0 whenever such an overlay opens.
    pub scroll: u16,
    /// The status message as last seen, and since when: it fades a few seconds after it last
    /// changed.
    pub status_since: Option<(Status, DateTime<Utc>)>,
    /// The keys in force: the defaults with the config's `[keys]` over them.
    pub keymap: Keymap,
    /// The last search, its results, and whether `n`/`N` step through them.
    pub search: SearchView,
    /// The calendar list, as last read, while it is open.
    pub calendar_list: CalendarsView,
    /// Reminders that came due and wait to be dismissed or snoozed; the banner shows the first.
    pub reminders: Vec<crate::store::Reminder>,
    /// Ring the terminal bell when a reminder comes due (`[reminders] bell`).
    pub bell: bool,
    /// Send desktop notifications for reminders (`[reminders] notify`).
    pub notify: bool,
}

impl Model {
    /// A model on `today`, nothing loaded yet.
    pub fn new(
        today: NaiveDate,
        zone: Tz,
        week_start: Weekday,
        clock: Clock,
        color: bool,
    ) -> Model {
        let mut model = Model {
            today,
            selected: today,
            cursor: 0,
            week_start,
            zone,
            clock,
            color,
            size: (80, 24),
            calendars: Vec::new(),
            occurrences: Vec::new(),
            spans: Vec::new(),
            detail: None,
            loaded: None,
            requested: None,
            month: MonthView::default(),
            views: ViewState::default(),
            mode: Mode::Month,
            status: None,
            sync: SyncView::default(),
            conflicts: ConflictsView::default(),
            awaiting: None,
            now: today.and_hms_opt(12, 0, 0).expect("noon exists").and_utc(),
            quit: false,
            scroll: 0,
            status_since: None,
            keymap: Keymap::default(),
            search: SearchView::default(),
            calendar_list: CalendarsView::default(),
            reminders: Vec::new(),
            bell: false,
            notify: false,
        };
        model.relayout();
        model
    }

    /// The days the grid shows: whole weeks around the selected day's month.
    pub fn visible_days(&self) -> (NaiveDate, NaiveDate) {
        let first = self.month.first_day;
        (
            first,
            first + Duration::days(self.month.rows.len() as i64 * 7 - 1),
        )
    }

    /// The days to load: the visible weeks (or the week, or the agenda's weeks). A load costs
    /// what they hold, a few milliseconds at most.
    pub fn wanted_window(&self) -> (NaiveDate, NaiveDate) {
        match self.views.view {
            View::Month => self.visible_days(),
            View::Week | View::Day | View::Agenda => super::views::window(self),
        }
    }

    /// The calendar with `id`.
    pub fn calendar(&self, id: i64) -> Option<&Calendar> {
        self.calendars.iter().find(|c| c.id == id)
    }

    /// True while the only data is the bundled sample.
    pub fn showing_sample(&self) -> bool {
        self.calendars.iter().any(|c| c.is_sample)
    }

    /// The occurrences on `day` (indices into `occurrences`): all-day and multi-day first, then by
    /// start. Empty for days not loaded.
    pub fn day_list(&self, day: NaiveDate) -> &[usize] {
        self.views.days.list(day)
    }

    /// The selected event, if the selected day has any.
    pub fn selected_occurrence(&self) -> Option<&Occurrence> {
        let list = self.day_list(self.selected);
        list.get(self.cursor.min(list.len().saturating_sub(1)))
            .map(|&i| &self.occurrences[i])
    }

    /// Recomputes the month layout for the selected day's month, and the loaded days' lists.
    /// Pure: called by `update`.
    pub fn relayout(&mut self) {
        self.month = layout_month(
            self.selected,
            self.week_start,
            &self.occurrences,
            &self.spans,
        );
        self.views.days = match self.loaded {
            Some(window) => DayIndex::build(window, &self.occurrences, &self.spans),
            None => DayIndex::default(),
        };
    }
}

/// Lays out the month that contains `day`.
pub fn layout_month(
    day: NaiveDate,
    week_start: Weekday,
    occurrences: &[Occurrence],
    spans: &[LocalSpan],
) -> MonthView {
    let month = day.with_day(1).expect("day 1 exists");
    let next_month = month
        .checked_add_months(chrono::Months::new(1))
        .expect("dates stay in range");
    let first_day = crate::domain::recur::week_start(month, week_start);
    let weeks = ((next_month - first_day).num_days() + 6) / 7;
    let last_day = first_day + Duration::days(weeks * 7 - 1);
    let mut rows: Vec<WeekRow> = (0..weeks).map(|_| WeekRow::default()).collect();
    // Lane occupancy per row: lanes[row][lane] = last column taken.
    let mut lanes: Vec<Vec<usize>> = vec![Vec::new(); weeks as usize];

    for (idx, (occ, span)) in occurrences.iter().zip(spans).enumerate() {
        if occ.cancelled() {
            continue;
        }
        let (first, last) = (span.first, span.last);
        if last < first_day || first > last_day {
            continue;
        }
        if !span.spans_days(occ) {
            let offset = (first - first_day).num_days() as usize;
            rows[offset / 7].timed[offset % 7].push(idx);
            continue;
        }
        let from = first.max(first_day);
        let to = last.min(last_day);
        let mut d = from;
        while d <= to {
            let offset = (d - first_day).num_days() as usize;
            let (row, from_col) = (offset / 7, offset % 7);
            let to_col = ((to - first_day).num_days() as usize).min(row * 7 + 6) % 7;
            let row_lanes = &mut lanes[row];
            // Lowest lane free from `from_col` on (bars are placed in start order, so a lane is free
            // when its last bar ended before this one starts).
            let lane = match row_lanes.iter().position(|&end| end < from_col) {
                Some(l) => {
                    row_lanes[l] = to_col;
                    l
                }
                None => {
                    row_lanes.push(to_col);
                    row_lanes.len() - 1
                }
            };
            rows[row].bars.push(Bar {
                occ: idx,
                lane,
                from_col,
                to_col,
                continues_left: first < first_day + Duration::days((row * 7 + from_col) as i64),
                continues_right: last > first_day + Duration::days((row * 7 + to_col) as i64),
            });
            d = first_day + Duration::days((row * 7 + 7) as i64);
        }
    }
    for (row, l) in rows.iter_mut().zip(&lanes) {
        row.lanes = l.len();
    }
    MonthView {
        month,
        first_day,
        rows,
    }
}
