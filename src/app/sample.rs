//! The bundled sample calendar, shown until the person has data of their own.
//!
//! `assets/sample.ics` is written for the week of 2026-11-23; it is moved by whole weeks to the current
//! week when seeded, so a newcomer always sees a lived-in month, on the right weekdays.

use chrono::{Duration, NaiveDate, Weekday};

use crate::domain::read_calendar;
use crate::domain::recur::week_start;
use crate::domain::time::{parse_date, parse_datetime};
use crate::store::{Store, StoreError};

/// The sample's source.
pub const SAMPLE_ICS: &str = include_str!("../../assets/sample.ics");
/// The calendar the sample lives in.
pub const SAMPLE_CALENDAR: &str = "Sample";

fn anchor() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).expect("a valid date")
}

/// Makes the cache show the sample when it has nothing else, shifted to `today`'s week, and removes it
/// once the person has data of their own. Cheap when nothing needs doing.
pub fn ensure_sample(store: &mut Store, today: NaiveDate, now: i64) -> Result<(), StoreError> {
    let existing = store.sample_calendar()?;
    if store.has_own_data()? {
        if let Some((id, _)) = existing {
            store.delete_calendar(id)?;
        }
        return Ok(());
    }
    let monday = week_start(today, Weekday::Mon);
    if existing.as_ref().and_then(|(_, a)| a.as_deref()) == Some(monday.to_string().as_str()) {
        return Ok(());
    }
    let weeks = (monday - anchor()).num_days() / 7;
    let parsed = read_calendar(&shift_weeks(SAMPLE_ICS, weeks));
    let id = match existing {
        Some((id, _)) => id,
        None => store.local_calendar(SAMPLE_CALENDAR)?,
    };
    store.replace_items(id, &parsed.items, now)?;
    store.mark_sample(id, &monday.to_string())?;
    Ok(())
}

/// Moves every date and date-time in DTSTART, DTEND and RECURRENCE-ID lines by `weeks` weeks.
pub fn shift_weeks(src: &str, weeks: i64) -> String {
    let by = Duration::weeks(weeks);
    src.split_inclusive('\n')
        .map(|line| {
            let upper = line.to_ascii_uppercase();
            let dated = ["DTSTART", "DTEND", "RECURRENCE-ID"].iter().any(|p| {
                upper.starts_with(p) && matches!(upper.as_bytes().get(p.len()), Some(b':' | b';'))
            });
            match line.rfind(':') {
                Some(colon) if dated && weeks != 0 => {
                    let value = line[colon + 1..].trim_end();
                    let ending = &line[colon + 1 + value.len()..];
                    format!("{}{}{}", &line[..=colon], shift_value(value, by), ending)
                }
                _ => line.to_string(),
            }
        })
        .collect()
}

fn shift_value(value: &str, by: Duration) -> String {
    if let Some(d) = parse_date(value) {
        return (d + by).format("%Y%m%d").to_string();
    }
    let (body, z) = value.strip_suffix('Z').map_or((value, ""), |b| (b, "Z"));
    match parse_datetime(body) {
        Some(t) => format!("{}{z}", (t + by).format("%Y%m%dT%H%M%S")),
        None => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifting_keeps_the_kind_and_the_line_ending() {
        let src = "DTSTART;TZID=Europe/Berlin:20261123T090000\r\nDTEND:20261123T100000Z\r\nDTSTART;VALUE=DATE:20261130\nSUMMARY:x:y\n";
        let out = shift_weeks(src, 2);
        assert_eq!(
            out,
            "DTSTART;TZID=Europe/Berlin:20261207T090000\r\nDTEND:20261207T100000Z\r\nDTSTART;VALUE=DATE:20261214\nSUMMARY:x:y\n"
        );
    }

    #[test]
    fn the_bundled_sample_reads_without_errors() {
        let cal = read_calendar(SAMPLE_ICS);
        assert!(cal.errors.is_empty(), "{:?}", cal.errors);
        assert!(cal.items.len() >= 20);
    }
}
