//! The add/edit form: its fields, the keys that edit them, and the edit request it becomes.
//! Times are typed in the display zone; a save checks every field before anything is staged.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::domain::edit::{Changes, NewEvent};
use crate::domain::tz::Zone;
use crate::domain::{EventTime, When};
use crate::edit::EditRequest;

/// One row of the form, in the order Tab visits them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Summary,
    Date,
    Start,
    End,
    AllDay,
    Location,
    Description,
    Calendar,
    Repeat,
    /// When a series ends: a number of times, or a last day.
    Ends,
    /// The weekdays of a weekly series.
    Days,
}

/// Every field, top to bottom.
pub const FIELDS: [Field; 11] = [
    Field::Summary,
    Field::Date,
    Field::Start,
    Field::End,
    Field::AllDay,
    Field::Location,
    Field::Description,
    Field::Calendar,
    Field::Repeat,
    Field::Ends,
    Field::Days,
];

impl Field {
    /// The label drawn before the field.
    pub fn label(self) -> &'static str {
        match self {
            Field::Summary => "Summary",
            Field::Date => "Date",
            Field::Start => "Start",
            Field::End => "End",
            Field::AllDay => "All day",
            Field::Location => "Location",
            Field::Description => "Description",
            Field::Calendar => "Calendar",
            Field::Repeat => "Repeat",
            Field::Ends => "Ends",
            Field::Days => "On days",
        }
    }

    /// True for the fields typed into.
    pub fn is_text(self) -> bool {
        matches!(
            self,
            Field::Summary
                | Field::Date
                | Field::Start
                | Field::End
                | Field::Location
                | Field::Description
                | Field::Ends
                | Field::Days
        )
    }

    fn max_len(self) -> usize {
        match self {
            // Days as people type them (`tomorrow`, `24.12.2026`) as well as `2026-12-24`.
            Field::Date => 24,
            Field::Start => 5,
            // A time, or for an all-day event the last day.
            Field::End => 24,
            Field::Description => 2000,
            Field::Ends => 24,
            Field::Days => 40,
            _ => 200,
        }
    }
}

/// How an event repeats. A rule the form cannot express is kept as written until changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repeat {
    Never,
    Daily,
    Weekly,
    Monthly,
    Yearly,
    Rule(String),
}

const CYCLE: [Repeat; 5] = [
    Repeat::Never,
    Repeat::Daily,
    Repeat::Weekly,
    Repeat::Monthly,
    Repeat::Yearly,
];

impl Repeat {
    /// Reads an RRULE: a bare `FREQ=…` becomes its choice, anything richer stays as written.
    pub fn from_rrule(rule: Option<&str>) -> Repeat {
        match rule.map(|r| r.trim().to_ascii_uppercase()).as_deref() {
            None | Some("") => Repeat::Never,
            Some("FREQ=DAILY") => Repeat::Daily,
            Some("FREQ=WEEKLY") => Repeat::Weekly,
            Some("FREQ=MONTHLY") => Repeat::Monthly,
            Some("FREQ=YEARLY") => Repeat::Yearly,
            Some(_) => Repeat::Rule(rule.unwrap_or_default().to_string()),
        }
    }

    /// The RRULE value, `None` for a single event.
    pub fn rrule(&self) -> Option<String> {
        match self {
            Repeat::Never => None,
            Repeat::Daily => Some("FREQ=DAILY".into()),
            Repeat::Weekly => Some("FREQ=WEEKLY".into()),
            Repeat::Monthly => Some("FREQ=MONTHLY".into()),
            Repeat::Yearly => Some("FREQ=YEARLY".into()),
            Repeat::Rule(r) => Some(r.clone()),
        }
    }

    /// What the form shows.
    pub fn label(&self) -> String {
        match self {
            Repeat::Never => "none".into(),
            Repeat::Daily => "daily".into(),
            Repeat::Weekly => "weekly".into(),
            Repeat::Monthly => "monthly".into(),
            Repeat::Yearly => "yearly".into(),
            Repeat::Rule(r) => r.clone(),
        }
    }

    fn step(&self, delta: isize) -> Repeat {
        // A custom rule sits before `none` in the cycle.
        let at = CYCLE
            .iter()
            .position(|r| r == self)
            .map_or(-1, |i| i as isize);
        let n = CYCLE.len() as isize;
        CYCLE[(at + delta).rem_euclid(n) as usize].clone()
    }
}

/// What the person typed and chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Values {
    pub summary: String,
    pub date: String,
    pub start: String,
    pub end: String,
    pub all_day: bool,
    pub location: String,
    pub description: String,
    pub calendar: i64,
    pub repeat: Repeat,
    /// When the series ends: empty (never), a number of times (`10`), or a last day.
    pub ends: String,
    /// The weekdays of a weekly series (`mon wed fri`); empty: the start's weekday.
    pub days: String,
}

impl Values {
    /// The text of a typed field.
    pub fn text(&self, field: Field) -> &str {
        match field {
            Field::Summary => &self.summary,
            Field::Date => &self.date,
            Field::Start => &self.start,
            Field::End => &self.end,
            Field::Location => &self.location,
            Field::Description => &self.description,
            Field::Ends => &self.ends,
            Field::Days => &self.days,
            Field::AllDay | Field::Calendar | Field::Repeat => "",
        }
    }

    fn text_mut(&mut self, field: Field) -> Option<&mut String> {
        match field {
            Field::Summary => Some(&mut self.summary),
            Field::Date => Some(&mut self.date),
            Field::Start => Some(&mut self.start),
            Field::End => Some(&mut self.end),
            Field::Location => Some(&mut self.location),
            Field::Description => Some(&mut self.description),
            Field::Ends => Some(&mut self.ends),
            Field::Days => Some(&mut self.days),
            Field::AllDay | Field::Calendar | Field::Repeat => None,
        }
    }
}

/// What saving the form does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A new event.
    New,
    /// Changes to an event: the series (`occurrence: None`) or one instance.
    Edit {
        item: i64,
        uid: String,
        occurrence: Option<When>,
        /// The server etag of the version the form was filled from.
        seen_etag: Option<String>,
    },
}

/// The form's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub target: Target,
    pub values: Values,
    /// The values as the form opened, to send only what changed.
    pub original: Values,
    /// Days from the start date to the end date, so an overnight or multi-day event keeps its length.
    pub span_days: i64,
    /// The display zone times are typed in.
    pub zone: Tz,
    /// The calendars to choose from (id, name); only the event's own when editing.
    pub calendars: Vec<(i64, String)>,
    pub focus: Field,
    /// Character position of the cursor in the focused text field.
    pub cursor: usize,
    /// Why the last save was refused.
    pub error: Option<String>,
    /// The day typed dates count from (`tomorrow`, `fri`): the model's today.
    pub today: NaiveDate,
    /// The focused field's text was there before the person came to it (Tab, ↑↓): the first
    /// character typed replaces it, Backspace clears it, a movement key keeps it for editing.
    pub fresh: bool,
}

/// What a key did to the form.
// Short-lived (one per key); boxing the request would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Stay,
    Cancel,
    Save(EditRequest),
}

impl Form {
    /// A form for `values`, the cursor at the end of the summary.
    pub fn new(
        target: Target,
        values: Values,
        span_days: i64,
        zone: Tz,
        calendars: Vec<(i64, String)>,
    ) -> Form {
        Form {
            target,
            cursor: values.summary.chars().count(),
            original: values.clone(),
            values,
            span_days,
            zone,
            calendars,
            focus: Field::Summary,
            error: None,
            fresh: false,
            today: NaiveDate::default(),
        }
    }

    /// The same form, with `today` as the day typed dates count from.
    pub fn counting_from(mut self, today: NaiveDate) -> Form {
        self.today = today;
        self
    }

    /// Whether `field` can be focused now: times only for timed events, the calendar only for a new
    /// event, the repeat rule not for a single occurrence.
    pub fn active(&self, field: Field) -> bool {
        match field {
            Field::Start => !self.values.all_day,
            // A new event, or a whole event moving to another calendar.
            Field::Calendar => self.repeats_may_change() && self.calendars.len() > 1,
            Field::Repeat => self.repeats_may_change(),
            Field::Ends => {
                self.repeats_may_change()
                    && !matches!(self.values.repeat, Repeat::Never | Repeat::Rule(_))
            }
            Field::Days => self.repeats_may_change() && self.values.repeat == Repeat::Weekly,
            _ => true,
        }
    }

    /// The repetition is the series' own: not for one occurrence.
    fn repeats_may_change(&self) -> bool {
        !matches!(
            self.target,
            Target::Edit {
                occurrence: Some(_),
                ..
            }
        )
    }

    /// Applies one key.
    pub fn on_key(&mut self, key: KeyEvent) -> Outcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return Outcome::Cancel,
            KeyCode::Enter => return self.save(),
            KeyCode::Char('s') if ctrl => return self.save(),
            KeyCode::Tab | KeyCode::Down => self.move_focus(1),
            KeyCode::BackTab | KeyCode::Up => self.move_focus(-1),
            _ if ctrl => {}
            code => self.edit_field(code),
        }
        Outcome::Stay
    }

    fn move_focus(&mut self, delta: isize) {
        let n = FIELDS.len() as isize;
        let mut at = FIELDS.iter().position(|f| *f == self.focus).unwrap_or(0) as isize;
        for _ in 0..n {
            at = (at + delta).rem_euclid(n);
            if self.active(FIELDS[at as usize]) {
                break;
            }
        }
        self.focus_on(FIELDS[at as usize]);
    }

    fn focus_on(&mut self, field: Field) {
        self.focus = field;
        self.cursor = self.values.text(field).chars().count();
        self.fresh = self.cursor > 0;
    }

    fn edit_field(&mut self, code: KeyCode) {
        let field = self.focus;
        match field {
            Field::AllDay => {
                if matches!(code, KeyCode::Char(' ') | KeyCode::Left | KeyCode::Right) {
                    self.values.all_day = !self.values.all_day;
                    // The end of an all-day event is its last day; of a timed one, a time.
                    self.values.end = if self.values.all_day {
                        self.last_day()
                    } else if self.original.all_day {
                        "10:00".into()
                    } else {
                        self.original.end.clone()
                    };
                }
            }
            Field::Calendar => {
                let delta = match code {
                    KeyCode::Left => -1,
                    KeyCode::Right | KeyCode::Char(' ') => 1,
                    _ => return,
                };
                let n = self.calendars.len() as isize;
                if n == 0 || !self.active(field) {
                    return;
                }
                let at = self
                    .calendars
                    .iter()
                    .position(|(id, _)| *id == self.values.calendar)
                    .unwrap_or(0) as isize;
                self.values.calendar = self.calendars[(at + delta).rem_euclid(n) as usize].0;
            }
            Field::Repeat => {
                let delta = match code {
                    KeyCode::Left => -1,
                    KeyCode::Right | KeyCode::Char(' ') => 1,
                    _ => return,
                };
                if self.active(field) {
                    self.values.repeat = self.values.repeat.step(delta);
                }
            }
            _ => self.edit_text(field, code),
        }
    }

    /// The last day the date and the span give, as the End field shows it for all-day events.
    fn last_day(&self) -> String {
        NaiveDate::parse_from_str(self.values.date.trim(), "%Y-%m-%d")
            .ok()
            .and_then(|d| d.checked_add_signed(Duration::days(self.span_days.max(0))))
            .map_or_else(
                || self.values.date.clone(),
                |d| d.format("%Y-%m-%d").to_string(),
            )
    }

    fn edit_text(&mut self, field: Field, code: KeyCode) {
        if std::mem::take(&mut self.fresh) {
            match code {
                KeyCode::Char(c) if !c.is_control() => {
                    if let Some(text) = self.values.text_mut(field) {
                        text.clear();
                    }
                    self.cursor = 0;
                }
                KeyCode::Backspace | KeyCode::Delete => {
                    if let Some(text) = self.values.text_mut(field) {
                        text.clear();
                    }
                    self.cursor = 0;
                    return;
                }
                _ => {}
            }
        }
        let cursor = self.cursor;
        let Some(text) = self.values.text_mut(field) else {
            return;
        };
        let len = text.chars().count();
        let byte = |t: &str, i: usize| t.char_indices().nth(i).map_or(t.len(), |(b, _)| b);
        match code {
            KeyCode::Char(c) if !c.is_control() && len < field.max_len() => {
                let at = byte(text, cursor);
                text.insert(at, c);
                self.cursor = cursor + 1;
            }
            KeyCode::Backspace if cursor > 0 => {
                let at = byte(text, cursor - 1);
                text.remove(at);
                self.cursor = cursor - 1;
            }
            KeyCode::Delete if cursor < len => {
                let at = byte(text, cursor);
                text.remove(at);
            }
            KeyCode::Left => self.cursor = cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (cursor + 1).min(len),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = len,
            _ => {}
        }
    }

    fn save(&mut self) -> Outcome {
        match self.request() {
            Ok(req) => Outcome::Save(req),
            Err((field, message)) => {
                self.error = Some(message);
                if self.active(field) {
                    self.focus_on(field);
                }
                Outcome::Stay
            }
        }
    }

    /// The request the form stands for, or the field that is wrong and why.
    pub fn request(&self) -> Result<EditRequest, (Field, String)> {
        let v = &self.values;
        let summary = v.summary.trim();
        if summary.is_empty() {
            return Err((Field::Summary, "the summary is empty".into()));
        }
        let (start, end) = times(v, self.span_days, self.zone, self.today)?;
        let rrule = rule(v, &start, self.today)?;
        let optional = |s: &str| (!s.trim().is_empty()).then(|| s.to_string());
        match &self.target {
            Target::New => Ok(EditRequest::Create {
                calendar: v.calendar,
                event: NewEvent {
                    summary: summary.to_string(),
                    start,
                    end,
                    location: optional(&v.location),
                    description: optional(&v.description),
                    rrule,
                },
            }),
            Target::Edit {
                item,
                uid,
                occurrence,
                seen_etag,
            } => {
                let o = &self.original;
                let was = times(o, self.span_days, self.zone, self.today).ok();
                let changed = |a: &String, b: &String| (a != b).then(|| a.clone());
                let changes = Changes {
                    summary: (summary != o.summary.trim()).then(|| summary.to_string()),
                    start: (was.as_ref().map(|w| &w.0) != Some(&start)).then_some(start),
                    end: (was.as_ref().map(|w| &w.1) != Some(&end)).then_some(end),
                    location: changed(&v.location, &o.location),
                    description: changed(&v.description, &o.description),
                    rrule: (v.repeat != o.repeat || v.ends != o.ends || v.days != o.days)
                        .then_some(rrule),
                };
                if v.calendar != o.calendar && occurrence.is_none() {
                    return Ok(EditRequest::Move {
                        item: *item,
                        uid: uid.clone(),
                        to: v.calendar,
                        changes,
                        seen_etag: seen_etag.clone(),
                    });
                }
                Ok(EditRequest::Change {
                    item: *item,
                    uid: uid.clone(),
                    occurrence: *occurrence,
                    changes,
                    seen_etag: seen_etag.clone(),
                })
            }
        }
    }
}

/// The RRULE the Repeat, Ends and On days fields say (`None`: it does not repeat). A rule the
/// form cannot express stays as written.
fn rule(
    v: &Values,
    start: &EventTime,
    today: NaiveDate,
) -> Result<Option<String>, (Field, String)> {
    let Some(mut rule) = v.repeat.rrule() else {
        return Ok(None);
    };
    if matches!(v.repeat, Repeat::Rule(_)) {
        return Ok(Some(rule));
    }
    if v.repeat == Repeat::Weekly && !v.days.trim().is_empty() {
        let mut days = Vec::new();
        for word in v.days.split([' ', ',', ';']).filter(|w| !w.is_empty()) {
            let day = weekday_code(word).ok_or_else(|| {
                (
                    Field::Days,
                    format!("on days: '{word}' is not a weekday (mon tue wed thu fri sat sun)"),
                )
            })?;
            if !days.contains(&day) {
                days.push(day);
            }
        }
        rule.push_str(&format!(";BYDAY={}", days.join(",")));
    }
    let ends = v.ends.trim().to_lowercase();
    let count = ends.trim_end_matches("times").trim_end_matches('x').trim();
    if ends.is_empty() || ends == "never" {
    } else if let Ok(n) = count.parse::<u32>() {
        if n == 0 {
            return Err((Field::Ends, "ends: a series happens at least once".into()));
        }
        rule.push_str(&format!(";COUNT={n}"));
    } else {
        let last = crate::domain::typed_date::parse_day(&ends, today)
            .map_err(|e| (Field::Ends, format!("ends: a number of times (10) or {e}")))?;
        // RFC 5545 3.3.10: UNTIL is a date for all-day series, else a UTC date-time; the last
        // day is included, so the series ends at its last moment.
        let until = match start {
            EventTime::Date(_) => last.format("%Y%m%d").to_string(),
            other => {
                let end_of_day = last.and_hms_opt(23, 59, 59).unwrap_or_default();
                let utc = match other {
                    EventTime::Zoned {
                        zone: Some(zone), ..
                    } => zone.local_to_utc(end_of_day),
                    _ => end_of_day.and_utc(),
                };
                utc.format("%Y%m%dT%H%M%SZ").to_string()
            }
        };
        rule.push_str(&format!(";UNTIL={until}"));
    }
    Ok(Some(rule))
}

/// `MO` for `mon`, `monday`, `mo` …
fn weekday_code(word: &str) -> Option<&'static str> {
    let w = word.to_lowercase();
    let days = [
        ("monday", "MO"),
        ("tuesday", "TU"),
        ("wednesday", "WE"),
        ("thursday", "TH"),
        ("friday", "FR"),
        ("saturday", "SA"),
        ("sunday", "SU"),
    ];
    let mut found = days.iter().filter(|(name, code)| {
        w.len() >= 2 && (name.starts_with(&w) || code.eq_ignore_ascii_case(&w))
    });
    let (_, code) = found.next()?;
    found.next().is_none().then_some(*code)
}

/// Reads an RRULE for the form: FREQ, and at most BYDAY (weekly), COUNT or UNTIL besides, become
/// its fields (Repeat, On days, Ends); anything richer stays as written.
pub fn repeat_fields(rule: Option<&str>) -> (Repeat, String, String) {
    let Some(rule) = rule.map(str::trim).filter(|r| !r.is_empty()) else {
        return (Repeat::Never, String::new(), String::new());
    };
    let custom = || (Repeat::Rule(rule.to_string()), String::new(), String::new());
    let mut repeat = None;
    let (mut ends, mut days) = (String::new(), String::new());
    for part in rule.split(';') {
        let Some((key, value)) = part.split_once('=') else {
            return custom();
        };
        match (key.to_ascii_uppercase().as_str(), value) {
            ("FREQ", f) => repeat = Some(Repeat::from_rrule(Some(&format!("FREQ={f}")))),
            ("COUNT", n) if ends.is_empty() => ends = n.to_string(),
            ("UNTIL", u) if ends.is_empty() && u.len() >= 8 => {
                let day = NaiveDate::parse_from_str(&u[..8], "%Y%m%d");
                match day {
                    Ok(d) => ends = d.format("%Y-%m-%d").to_string(),
                    Err(_) => return custom(),
                }
            }
            ("BYDAY", list) => {
                let names: Option<Vec<&str>> = list
                    .split(',')
                    .map(|c| match c.to_ascii_uppercase().as_str() {
                        "MO" => Some("mon"),
                        "TU" => Some("tue"),
                        "WE" => Some("wed"),
                        "TH" => Some("thu"),
                        "FR" => Some("fri"),
                        "SA" => Some("sat"),
                        "SU" => Some("sun"),
                        _ => None,
                    })
                    .collect();
                match names {
                    Some(n) => days = n.join(" "),
                    None => return custom(),
                }
            }
            // WKST says nothing the form shows.
            ("WKST", _) => {}
            _ => return custom(),
        }
    }
    match repeat {
        Some(r @ (Repeat::Daily | Repeat::Monthly | Repeat::Yearly)) if days.is_empty() => {
            (r, ends, days)
        }
        Some(Repeat::Weekly) => (Repeat::Weekly, ends, days),
        _ => custom(),
    }
}

/// Start and end as the form's fields say, in `zone`; all-day ends are exclusive.
fn times(
    v: &Values,
    span_days: i64,
    zone: Tz,
    today: NaiveDate,
) -> Result<(EventTime, EventTime), (Field, String)> {
    let date = NaiveDate::parse_from_str(v.date.trim(), "%Y-%m-%d")
        .or_else(|_| crate::domain::typed_date::parse_day(v.date.trim(), today))
        .map_err(|_| {
            (
                Field::Date,
                format!(
                    "date: '{}' is not a date (2026-12-24, 24/12, tomorrow, fri …)",
                    v.date.trim()
                ),
            )
        })?;
    let end_date = date
        .checked_add_signed(Duration::days(span_days.max(0)))
        .ok_or_else(|| (Field::Date, "the date is out of range".to_string()))?;
    if v.all_day {
        // The End field holds the last day (as people type days); empty: the span as it was.
        let typed = v.end.trim();
        let last = if typed.is_empty() || parse_time(typed).is_some() {
            end_date.max(date)
        } else {
            crate::domain::typed_date::parse_day(typed, date)
                .map_err(|e| (Field::End, format!("end: {e}")))?
        };
        if last < date {
            return Err((Field::End, "the last day is before the first".into()));
        }
        let end = last
            .succ_opt()
            .ok_or_else(|| (Field::Date, "the date is out of range".to_string()))?;
        return Ok((EventTime::Date(date), EventTime::Date(end)));
    }
    let start = date.and_time(parse_time(&v.start).ok_or_else(|| bad_time(Field::Start, v))?);
    let end = end_date.and_time(parse_time(&v.end).ok_or_else(|| bad_time(Field::End, v))?);
    if end < start {
        return Err((Field::End, "the end is before the start".into()));
    }
    Ok((zoned(start, zone), zoned(end, zone)))
}

fn bad_time(field: Field, v: &Values) -> (Field, String) {
    let typed = v.text(field).trim();
    (
        field,
        format!(
            "{}: '{typed}' is not a time (HH:MM)",
            field.label().to_lowercase()
        ),
    )
}

/// `09:30`, `9:30` or `0930`.
pub fn parse_time(s: &str) -> Option<NaiveTime> {
    let s = s.trim();
    NaiveTime::parse_from_str(s, "%H:%M")
        .ok()
        .or_else(|| (s.len() == 4).then(|| NaiveTime::parse_from_str(s, "%H%M").ok())?)
}

/// A wall-clock time in the display zone.
pub fn zoned(local: NaiveDateTime, zone: Tz) -> EventTime {
    EventTime::Zoned {
        local,
        tzid: zone.name().to_string(),
        zone: Some(Zone::Iana(zone)),
    }
}
