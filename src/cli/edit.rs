//! `almanac add`, `edit`, `delete`, `conflicts` and `resolve`: the headless side of local edits.
//! Each write is staged in the cache first (see [`crate::edit`]); `main` then pushes it.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::{CliError, ago};
use crate::domain::diff::{FieldDiff, diff};
use crate::domain::edit::{Changes, NewEvent};
use crate::domain::format::read_any as read_calendar;
use crate::domain::text::sanitize;
use crate::domain::tz::Zone;
use crate::domain::{EventTime, When};
use crate::edit::{EditFailure, EditRequest, Outcome, stage};
use crate::store::{Conflict, Store};

/// `almanac add` options.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The calendar (by name; `ACCOUNT/NAME` when two accounts have one of that name).
    #[arg(long, value_name = "C")]
    pub calendar: String,
    #[arg(long, value_name = "S")]
    pub summary: String,
    /// `YYYY-MM-DD HH:MM` in --tz (or `…Z`, or an offset); a bare date with --all-day.
    #[arg(long, value_name = "T")]
    pub start: String,
    /// Default: an hour after the start; with --all-day, the last day (inclusive).
    #[arg(long, value_name = "T")]
    pub end: Option<String>,
    #[arg(long)]
    pub all_day: bool,
    #[arg(long, value_name = "L")]
    pub location: Option<String>,
    #[arg(long, value_name = "D")]
    pub description: Option<String>,
    /// An RFC 5545 rule such as `FREQ=WEEKLY;COUNT=10`.
    #[arg(long, value_name = "R")]
    pub rrule: Option<String>,
    /// The zone times are given in (default: the configured or system zone).
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
}

/// `almanac edit` options: only the fields given change.
#[derive(Debug, clap::Args)]
pub struct EditArgs {
    pub uid: String,
    /// Which calendar, when the UID is in more than one.
    #[arg(long, value_name = "C")]
    pub calendar: Option<String>,
    /// Change only this instance of a recurring event (its original start).
    #[arg(long, value_name = "T")]
    pub occurrence: Option<String>,
    #[arg(long, value_name = "S")]
    pub summary: Option<String>,
    #[arg(long, value_name = "T")]
    pub start: Option<String>,
    #[arg(long, value_name = "T")]
    pub end: Option<String>,
    /// Make it all-day (dates for --start/--end; the end is the last day).
    #[arg(long)]
    pub all_day: bool,
    /// An empty value removes it.
    #[arg(long, value_name = "L")]
    pub location: Option<String>,
    /// An empty value removes it.
    #[arg(long, value_name = "D")]
    pub description: Option<String>,
    /// A new rule; an empty value stops the repetition.
    #[arg(long, value_name = "R")]
    pub rrule: Option<String>,
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
}

/// `almanac delete` options.
#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    pub uid: String,
    #[arg(long, value_name = "C")]
    pub calendar: Option<String>,
    /// Delete only this instance of a recurring event (its original start).
    #[arg(long, value_name = "T")]
    pub occurrence: Option<String>,
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
}

impl From<EditFailure> for CliError {
    fn from(e: EditFailure) -> Self {
        match e {
            EditFailure::Edit(e) => CliError::Usage(e.to_string()),
            EditFailure::Sample => CliError::Usage(EditFailure::Sample.to_string()),
            e => CliError::Runtime(e.to_string()),
        }
    }
}

/// A time typed on the command line: `YYYY-MM-DD` (a date), `YYYY-MM-DD HH:MM[:SS]` or with `T`
/// (wall time in `zone`), RFC 3339 with `Z` or an offset (an instant), or a day as people type it
/// (`tomorrow`, `fri`, `24/12`, `dec 24`, `+3d`, …; see `domain::typed_date`) with an optional time
/// (`tomorrow 10:00`, `fri 3pm`), read relative to `today`.
pub fn parse_time(
    text: &str,
    zone: Tz,
    all_day: bool,
    today: NaiveDate,
) -> Result<EventTime, CliError> {
    let t = text.trim();
    let bad = || {
        CliError::Usage(format!(
            "cannot read the time '{text}': use YYYY-MM-DD, 'YYYY-MM-DD HH:MM', RFC 3339 \
             (2026-11-24T10:00:00Z), or a day as you would say it ({}) with an optional time \
             (tomorrow 10:00)",
            crate::domain::typed_date::DATE_HELP.trim_start_matches("try ")
        ))
    };
    if let Ok((day, time)) = crate::domain::typed_date::parse_day_time(t, today)
        && NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").is_err()
        && DateTime::parse_from_rfc3339(t).is_err()
    {
        return match (all_day, time) {
            (true, None) => Ok(EventTime::Date(day)),
            (true, Some(_)) => Err(CliError::Usage(format!(
                "--all-day takes days, not '{text}' (a time of day)"
            ))),
            (false, time) => Ok(zoned(day.and_time(time.unwrap_or(NaiveTime::MIN)), zone)),
        };
    }
    if let Ok(day) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(if all_day {
            EventTime::Date(day)
        } else {
            zoned(day.and_time(NaiveTime::MIN), zone)
        });
    }
    if all_day {
        return Err(CliError::Usage(format!(
            "--all-day takes dates (YYYY-MM-DD), not '{text}'"
        )));
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(t) {
        return Ok(EventTime::Utc(at.with_timezone(&Utc)));
    }
    for format in [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(local) = NaiveDateTime::parse_from_str(t, format) {
            return Ok(zoned(local, zone));
        }
    }
    Err(bad())
}

fn zoned(local: NaiveDateTime, zone: Tz) -> EventTime {
    EventTime::Zoned {
        local,
        tzid: zone.name().to_string(),
        zone: Some(Zone::Iana(zone)),
    }
}

/// The calendar called `name` (or `ACCOUNT/NAME`).
fn calendar_id(store: &Store, name: &str) -> Result<i64, CliError> {
    let all = store.calendar_names()?;
    let found: Vec<&(i64, Option<String>, String)> = all
        .iter()
        .filter(|(_, account, cal)| {
            cal == name
                || account
                    .as_ref()
                    .is_some_and(|a| format!("{a}/{cal}") == name)
        })
        .collect();
    match found.as_slice() {
        [(id, _, _)] => Ok(*id),
        [] => Err(CliError::Usage(format!(
            "no calendar named '{name}' (see `almanac status`)"
        ))),
        _ => Err(CliError::Usage(format!(
            "several calendars are named '{name}': write ACCOUNT/{name}"
        ))),
    }
}

/// The item holding `uid`, in `calendar` when given.
fn item_of(store: &Store, uid: &str, calendar: Option<&str>) -> Result<(i64, i64), CliError> {
    let wanted = calendar.map(|c| calendar_id(store, c)).transpose()?;
    let found: Vec<(i64, i64, String)> = store
        .items_with_uid(uid)?
        .into_iter()
        .filter(|(_, cal, _)| wanted.is_none_or(|w| w == *cal))
        .collect();
    match found.as_slice() {
        [(item, cal, _)] => Ok((*item, *cal)),
        [] => Err(CliError::Usage(format!(
            "no event with UID '{uid}'{} (see `almanac agenda --json`)",
            calendar.map(|c| format!(" in '{c}'")).unwrap_or_default()
        ))),
        several => Err(CliError::Usage(format!(
            "the UID '{uid}' is in several calendars ({}): add --calendar",
            several
                .iter()
                .map(|(_, _, n)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The original start of the instance `--occurrence` names, normalised as the cache keys it. A bare
/// date names the one occurrence of a timed series that day shows (in `zone`); a day with none or
/// several says so, with the times to choose from.
fn occurrence(
    store: &Store,
    item: i64,
    uid: &str,
    text: Option<&str>,
    zone: Tz,
    today: NaiveDate,
) -> Result<Option<When>, CliError> {
    let Some(text) = text else {
        return Ok(None);
    };
    let Ok((day, None)) = crate::domain::typed_date::parse_day_time(text, today) else {
        return parse_time(text, zone, false, today).map(|t| Some(t.normalise()));
    };
    let on_the_date = Ok(Some(When::Date(day)));
    let Some((calendar, raw)) = store.item_text(item)? else {
        return on_the_date;
    };
    let events: Vec<_> = read_calendar(&raw)
        .items
        .into_iter()
        .flat_map(|i| i.events)
        .filter(|e| e.uid == uid)
        .collect();
    let master = events.iter().find(|e| e.recurrence_id.is_none());
    if master.is_none_or(|m| matches!(m.start, EventTime::Date(_))) {
        return on_the_date;
    }
    let (list, _) = crate::domain::series::item_occurrences(
        &events,
        calendar,
        day.pred_opt().unwrap_or(day),
        day.succ_opt().unwrap_or(day),
    );
    let that_day: Vec<_> = list
        .iter()
        .filter(|o| !o.cancelled() && o.local_span(&zone).0.date() == day)
        .collect();
    match that_day.as_slice() {
        [one] => Ok(one.recurrence_id.or(Some(When::Date(day)))),
        [] => Err(CliError::Usage(format!(
            "{uid} has no occurrence on {day} (in {}; see `almanac agenda --uids`)",
            zone.name()
        ))),
        several => Err(CliError::Usage(format!(
            "{uid} occurs {} times on {day}: give the time, one of {}",
            several.len(),
            several
                .iter()
                .map(|o| format!("'{}'", o.local_span(&zone).0.format("%Y-%m-%d %H:%M")))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The end of an all-day span given as its last day: iCalendar's end is exclusive.
fn exclusive(end: EventTime) -> EventTime {
    match end {
        EventTime::Date(d) => EventTime::Date(d + Duration::days(1)),
        other => other,
    }
}

/// `almanac add`: stages a new event.
pub fn add(
    store: &mut Store,
    args: &AddArgs,
    zone: Tz,
    now: DateTime<Utc>,
) -> Result<Outcome, CliError> {
    let calendar = calendar_id(store, &args.calendar)?;
    let today = now.with_timezone(&zone).date_naive();
    let start = parse_time(&args.start, zone, args.all_day, today)?;
    let end = match &args.end {
        Some(t) => exclusive(parse_time(t, zone, args.all_day, today)?),
        None if args.all_day => exclusive(start.clone()),
        None => start.shifted(Duration::hours(1)),
    };
    if end.normalise() <= start.normalise() {
        return Err(CliError::Usage(format!(
            "the end ({}) is not after the start ({})",
            args.end.as_deref().unwrap_or("default"),
            args.start
        )));
    }
    if args.summary.trim().is_empty() {
        return Err(CliError::Usage("--summary is empty".into()));
    }
    let event = NewEvent {
        summary: args.summary.clone(),
        start,
        end,
        location: args.location.clone().filter(|l| !l.is_empty()),
        description: args.description.clone().filter(|d| !d.is_empty()),
        rrule: args.rrule.clone().filter(|r| !r.is_empty()),
    };
    Ok(stage(store, EditRequest::Create { calendar, event }, now)?)
}

/// `almanac edit`: stages the changed fields.
pub fn edit(
    store: &mut Store,
    args: &EditArgs,
    zone: Tz,
    now: DateTime<Utc>,
) -> Result<Outcome, CliError> {
    let (item, _) = item_of(store, &args.uid, args.calendar.as_deref())?;
    let today = now.with_timezone(&zone).date_naive();
    let time = |t: &Option<String>| {
        t.as_deref()
            .map(|t| parse_time(t, zone, args.all_day, today))
    };
    let changes = Changes {
        summary: args.summary.clone(),
        start: time(&args.start).transpose()?,
        end: time(&args.end).transpose()?.map(exclusive),
        location: args.location.clone(),
        description: args.description.clone(),
        rrule: args
            .rrule
            .clone()
            .map(|r| Some(r).filter(|r| !r.is_empty())),
    };
    if changes == Changes::default() {
        return Err(CliError::Usage(
            "nothing to change: give --summary, --start, --end, --location, --description or --rrule".into(),
        ));
    }
    let request = EditRequest::Change {
        item,
        uid: args.uid.clone(),
        occurrence: occurrence(
            store,
            item,
            &args.uid,
            args.occurrence.as_deref(),
            zone,
            now.with_timezone(&zone).date_naive(),
        )?,
        changes,
        seen_etag: None,
    };
    Ok(stage(store, request, now)?)
}

/// `almanac delete`: stages the deletion of an event or of one instance.
pub fn delete(
    store: &mut Store,
    args: &DeleteArgs,
    zone: Tz,
    now: DateTime<Utc>,
) -> Result<Outcome, CliError> {
    let (item, _) = item_of(store, &args.uid, args.calendar.as_deref())?;
    let request = EditRequest::Delete {
        item,
        uid: args.uid.clone(),
        occurrence: occurrence(
            store,
            item,
            &args.uid,
            args.occurrence.as_deref(),
            zone,
            now.with_timezone(&zone).date_naive(),
        )?,
        seen_etag: None,
    };
    Ok(stage(store, request, now)?)
}

/// A conflict as `almanac conflicts --json` prints it.
#[derive(Debug, Serialize)]
pub struct ConflictEntry {
    pub id: i64,
    pub calendar: String,
    pub href: String,
    pub uid: Option<String>,
    pub summary: String,
    /// What the local change did: `update` or `delete` (`create` when its href was taken).
    pub local_change: String,
    pub found_at: String,
    pub base_etag: Option<String>,
    /// `null`: the server deleted the event.
    pub remote_etag: Option<String>,
    pub local_deleted: bool,
    pub remote_deleted: bool,
    /// Set when the server refused the change for good (not a changed copy): why.
    pub refused: Option<String>,
    pub differences: Vec<FieldDiff>,
}

fn summary_of(raw: Option<&str>) -> Option<String> {
    let parsed = read_calendar(raw?);
    let ev = parsed.items.first()?.events.first()?;
    Some(ev.summary.clone())
}

impl ConflictEntry {
    pub fn of(c: &Conflict) -> ConflictEntry {
        ConflictEntry {
            id: c.id,
            calendar: c.calendar.clone(),
            href: c.href.clone(),
            uid: c.uid.clone(),
            summary: summary_of(c.local_raw.as_deref())
                .or_else(|| summary_of(c.remote_raw.as_deref()))
                .or_else(|| summary_of(c.base_raw.as_deref()))
                .unwrap_or_default(),
            local_change: c.op.as_str().to_string(),
            found_at: DateTime::from_timestamp(c.found_at, 0)
                .unwrap_or_default()
                .to_rfc3339(),
            base_etag: c.base_etag.clone(),
            remote_etag: c.remote_etag.clone(),
            local_deleted: c.local_raw.is_none(),
            remote_deleted: c.remote_raw.is_none(),
            refused: c.reason.clone(),
            // A local deletion has no local version: show what the server changed since the base.
            differences: match &c.local_raw {
                Some(local) => diff(Some(local), c.remote_raw.as_deref()),
                None => diff(c.base_raw.as_deref(), c.remote_raw.as_deref()),
            },
        }
    }
}

/// `almanac conflicts` as text.
pub fn conflicts_text(list: &[Conflict], now: i64) -> String {
    if list.is_empty() {
        return "no conflicts\n".into();
    }
    let mut out = String::new();
    for c in list {
        let e = ConflictEntry::of(c);
        let etag = |e: &Option<String>| e.as_deref().map(sanitize).unwrap_or_else(|| "-".into());
        out += &format!(
            "#{}  {}  {}  (found {})\n",
            e.id,
            sanitize(&e.calendar),
            sanitize(&e.summary),
            ago(now - c.found_at)
        );
        let server = if e.remote_deleted {
            "deleted".to_string()
        } else {
            etag(&e.remote_etag)
        };
        out += &format!(
            "    local {} based on {}; server now {}\n",
            e.local_change,
            etag(&e.base_etag),
            server
        );
        if let Some(why) = &e.refused {
            out += &format!("    {}\n", sanitize(why));
        }
        let (left, right) = if e.local_deleted {
            ("base", "server")
        } else {
            ("mine", "server")
        };
        for d in &e.differences {
            let show = |v: &Option<String>| {
                v.as_deref()
                    .map(sanitize)
                    .unwrap_or_else(|| "(none)".into())
            };
            out += &format!(
                "    {:<12} {left}: {}\n    {:<12} {right}: {}\n",
                d.field,
                show(&d.local),
                "",
                show(&d.remote)
            );
        }
    }
    out += "resolve with: almanac resolve ID --keep local|remote|both\n";
    out
}
