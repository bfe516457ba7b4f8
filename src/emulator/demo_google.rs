//! Demo data for the Google calendar of `almanac demo`: a family calendar around today (with a
//! weekly series and one moved occurrence), then a slow stream of live changes: an event added,
//! then one changed, then one removed, in turn.

use std::time::Duration;

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use super::demo::{Rng, at, day};
use super::google::GoogleEmulator;

/// Every event id the demo writes starts so (Google ids are base32hex: `a`–`v`, `0`–`9`); only
/// those are changed or removed, never what the person added.
const PREFIX: &str = "demo";

/// The weekly series' id.
const SERIES: &str = "demo0series";

const LIVE: &[&str] = &[
    "Piano lesson",
    "Playdate",
    "Vet appointment",
    "Pick up parcel",
    "Birthday party",
    "Haircut",
    "Parents' evening",
    "Bike repair",
];

/// `when` in `zone` as Google writes a timed start or end.
fn stamp(when: NaiveDateTime, zone: Tz) -> Value {
    let local = zone
        .from_local_datetime(&when)
        .earliest()
        .unwrap_or_else(|| zone.from_utc_datetime(&when));
    json!({"dateTime": local.to_rfc3339(), "timeZone": zone.name()})
}

fn timed(id: &str, summary: &str, start: NaiveDateTime, minutes: i64, zone: Tz) -> Value {
    json!({
        "id": id,
        "summary": summary,
        "start": stamp(start, zone),
        "end": stamp(start + TimeDelta::minutes(minutes), zone),
    })
}

fn all_day(id: &str, summary: &str, first: NaiveDate, days: i64) -> Value {
    json!({
        "id": id,
        "summary": summary,
        "start": {"date": first.format("%Y-%m-%d").to_string()},
        "end": {"date": (first + TimeDelta::days(days)).format("%Y-%m-%d").to_string()},
    })
}

/// The Monday of `today`'s week.
fn monday(today: NaiveDate) -> NaiveDate {
    today - TimeDelta::days(i64::from(today.weekday().num_days_from_monday()))
}

/// Fills Google calendar `calendar` with a family's week and the next: a weekly series on
/// Wednesdays (from four weeks back) whose occurrence next week moved to Thursday, a few single
/// events and an all-day one. Times are wall-clock times in `zone`; the same day gives the same
/// events.
pub fn seed(emu: &GoogleEmulator, calendar: &str, today: NaiveDate, zone: Tz) {
    let week = monday(today);
    let first = at(week - TimeDelta::days(28) + TimeDelta::days(2), 17, 0);
    let mut series = timed(SERIES, "Swimming lessons", first, 60, zone);
    series["location"] = json!("City pool");
    series["recurrence"] = json!(["RRULE:FREQ=WEEKLY;BYDAY=WE"]);
    emu.put_event(calendar, series);
    // Next week's lesson moves to Thursday: an exception, named by the original start in UTC.
    let original = at(week + TimeDelta::days(9), 17, 0);
    let original_utc = zone
        .from_local_datetime(&original)
        .earliest()
        .map_or(original, |t| t.with_timezone(&Utc).naive_utc());
    let mut moved = timed(
        &format!("{SERIES}_{}Z", original_utc.format("%Y%m%dT%H%M%S")),
        "Swimming lessons (moved)",
        at(week + TimeDelta::days(10), 17, 30),
        60,
        zone,
    );
    moved["location"] = json!("City pool");
    moved["recurringEventId"] = json!(SERIES);
    moved["originalStartTime"] = stamp(original, zone);
    emu.put_event(calendar, moved);
    let singles = [
        (
            "demo01",
            "Movie night",
            at(week + TimeDelta::days(4), 20, 0),
            120,
        ),
        (
            "demo02",
            "Dinner at Grandma's",
            at(week + TimeDelta::days(6), 18, 0),
            150,
        ),
        (
            "demo03",
            "School concert",
            at(week + TimeDelta::days(1), 16, 30),
            90,
        ),
        (
            "demo04",
            "Football",
            at(week + TimeDelta::days(12), 10, 0),
            90,
        ),
        (
            "demo05",
            "Dentist (kids)",
            at(week + TimeDelta::days(8), 15, 30),
            30,
        ),
        (
            "demo06",
            "Groceries",
            at(week + TimeDelta::days(5), 9, 30),
            60,
        ),
    ];
    for (id, summary, start, minutes) in singles {
        emu.put_event(calendar, timed(id, summary, start, minutes, zone));
    }
    emu.put_event(
        calendar,
        all_day("demo07", "School trip", week + TimeDelta::days(11), 1),
    );
}

/// The single events the demo made and may change or remove: not the series, not its moved
/// occurrence, not what anyone else added.
fn own_singles(emu: &GoogleEmulator, calendar: &str) -> Vec<Value> {
    emu.events(calendar)
        .into_iter()
        .filter(|e| {
            e["id"].as_str().is_some_and(|id| id.starts_with(PREFIX))
                && e.get("recurrence").is_none()
                && e.get("recurringEventId").is_none()
        })
        .collect()
}

/// Moves a timed start or end by `delta`, keeping its zone; an all-day one by whole days.
fn moved(value: &Value, delta: TimeDelta, zone: Tz) -> Option<Value> {
    if let Some(t) = value["dateTime"].as_str() {
        let t = chrono::DateTime::parse_from_rfc3339(t).ok()?;
        let local = t.with_timezone(&zone).naive_local();
        return Some(stamp(local + delta, zone));
    }
    let date = NaiveDate::parse_from_str(value["date"].as_str()?, "%Y-%m-%d").ok()?;
    let days = delta.num_days().max(1);
    Some(json!({"date": (date + TimeDelta::days(days)).format("%Y-%m-%d").to_string()}))
}

/// One live change, by `round`: an add, a change (moved or renamed), a remove, in turn. Keeps
/// between 4 and 16 of its own single events.
fn step(
    emu: &GoogleEmulator,
    calendar: &str,
    rng: &mut Rng,
    round: u64,
    today: NaiveDate,
    zone: Tz,
) {
    let singles = own_singles(emu, calendar);
    let op = match singles.len() {
        0..4 => 0,
        17.. => 2,
        _ => round % 3,
    };
    let victim = (!singles.is_empty()).then(|| &singles[rng.below(singles.len() as u64) as usize]);
    match (op, victim) {
        (1, Some(event)) => {
            let mut event = event.clone();
            if rng.below(3) == 0 {
                let summary = event["summary"].as_str().unwrap_or_default();
                let renamed = match summary.strip_suffix(" (changed)") {
                    Some(base) => base.to_string(),
                    None => format!("{summary} (changed)"),
                };
                event["summary"] = json!(renamed);
            } else {
                let hours = [-2, -1, 1, 2, 24, -24][rng.below(6) as usize];
                let delta = TimeDelta::hours(hours);
                let (Some(start), Some(end)) = (
                    moved(&event["start"], delta, zone),
                    moved(&event["end"], delta, zone),
                ) else {
                    return;
                };
                event["start"] = start;
                event["end"] = end;
            }
            emu.put_event(calendar, event);
        }
        (2, Some(event)) => {
            if let Some(id) = event["id"].as_str() {
                emu.delete_event(calendar, id);
            }
        }
        _ => {
            let date = day(today, rng.below(21) as i64 - 7);
            let start = at(
                date,
                15 + rng.below(5) as u32,
                if rng.below(2) == 0 { 0 } else { 30 },
            );
            let id = format!("{PREFIX}live{round}");
            emu.put_event(calendar, timed(&id, rng.pick(LIVE), start, 60, zone));
        }
    }
}

/// Every `every`, adds, changes or removes one event of Google calendar `calendar` (in turn),
/// forever (abort the handle to stop). New events fall around `today`, at wall-clock times in
/// `zone`.
pub fn spawn(
    emu: GoogleEmulator,
    calendar: &str,
    today: NaiveDate,
    zone: Tz,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    let calendar = calendar.to_string();
    tokio::spawn(async move {
        let mut rng = Rng::new(0x6f6f_676c_6521);
        let mut round = 0;
        loop {
            tokio::time::sleep(every).await;
            step(&emu, &calendar, &mut rng, round, today, zone);
            round += 1;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo changes only its own events: one the person added through almanac stays as it
    /// was, and the series with its moved occurrence stays too.
    #[tokio::test]
    async fn the_google_demo_changes_only_its_own_single_events() {
        let emu = GoogleEmulator::start().await.unwrap();
        emu.add_calendar("family", "Family", "owner");
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let zone: Tz = "Europe/Berlin".parse().unwrap();
        seed(&emu, "family", today, zone);
        let ids = |emu: &GoogleEmulator| -> Vec<String> {
            emu.events("family")
                .iter()
                .filter_map(|e| e["id"].as_str().map(str::to_string))
                .collect()
        };
        let seeded = ids(&emu);
        assert!(
            seeded.iter().any(|id| id == "demo0series_20261202T160000Z"),
            "{seeded:?}"
        );
        let mine = emu.put_event(
            "family",
            timed("abc123", "Mine", at(day(today, 1), 9, 0), 30, zone),
        );
        let mut rng = Rng::new(3);
        for round in 0..300 {
            step(&emu, "family", &mut rng, round, today, zone);
        }
        let events = emu.events("family");
        assert!(events.contains(&mine), "the person's event is unchanged");
        for id in [SERIES, "demo0series_20261202T160000Z"] {
            assert!(events.iter().any(|e| e["id"] == id), "{id} is still there");
        }
        let singles = own_singles(&emu, "family").len();
        assert!((4..=17).contains(&singles), "{singles} own events");
        assert!(
            events
                .iter()
                .any(|e| e["id"].as_str().unwrap().contains("live")),
            "the demo added events"
        );
    }
}
