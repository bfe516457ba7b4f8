//! `almanac remind`: reminders without the TUI (for a user service or a tmux pane). Each due
//! reminder is printed once, when it is due; `--json` prints one object per line.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::contract_time;
use crate::store::{Reminder, ReminderKind};

/// One reminder as `remind --json` prints it (one object per line).
#[derive(Debug, Serialize)]
pub struct ReminderLine {
    pub calendar: String,
    pub uid: String,
    /// The occurrence's original start for an instance of a series, else null.
    pub recurrence_id: Option<String>,
    pub summary: String,
    /// As in `agenda --json`: RFC 3339 in the display zone, or `YYYY-MM-DD` for all-day.
    pub start: String,
    /// When the alarm fired, RFC 3339 in the display zone.
    pub alarm_at: String,
    pub kind: ReminderKind,
}

impl ReminderLine {
    /// The line for `r`, times in `zone`.
    pub fn of(r: &Reminder, zone: &Tz) -> ReminderLine {
        ReminderLine {
            calendar: r.calendar.clone(),
            uid: r.key.uid.clone(),
            recurrence_id: r.recurrence_id.as_ref().map(|t| contract_time(t, zone)),
            summary: r.summary.clone(),
            start: contract_time(&r.start, zone),
            alarm_at: r.alarm_at.with_timezone(zone).to_rfc3339(),
            kind: r.kind,
        }
    }
}

/// The text line for `r`: "09:50 Standup (Work) at 10:00 — in 10 min", missed and snoozed ones
/// say so.
pub fn text_line(r: &Reminder, zone: &Tz, now: DateTime<Utc>) -> String {
    let start = crate::domain::alarm::instant_of(r.start, zone);
    let at = match r.start {
        crate::domain::When::Date(d) => format!("{d} (all day)"),
        _ => start
            .with_timezone(zone)
            .format("%a %d %b %H:%M")
            .to_string(),
    };
    let minutes = (start - now).num_minutes();
    let off = match minutes {
        m if m > 0 => format!("in {m} min"),
        0 => "now".into(),
        m => format!("began {} min ago", -m),
    };
    let tag = match r.kind {
        ReminderKind::Due => "",
        ReminderKind::Missed => " [missed]",
        ReminderKind::Snoozed => " [snoozed]",
    };
    format!(
        "{} {} ({}) at {at}, {off}{tag}",
        now.with_timezone(zone).format("%H:%M"),
        crate::domain::text::sanitize(&r.summary),
        crate::domain::text::sanitize(&r.calendar),
    )
}
