//! Demo data for the Microsoft Graph calendars of `almanac demo`: a work calendar around today
//! (weekly series, one with a moved and a cancelled occurrence, singles and an all-day event, in
//! the Windows zone name Outlook writes) and a read-only team calendar, then a slow stream of live
//! changes on the work calendar: an event added, a subject edited, an event removed, a standup
//! cancelled, in turn.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta};
use chrono_tz::Tz;
use serde_json::{Value, json};

use super::demo::{Rng, at, day};
use super::graph::GraphEmulator;
use crate::domain::graph::graph_zone_name;
use crate::domain::graph::time::write_date_time;
use crate::domain::tz;

/// The cancelled standups the demo lets pile up before it sends the series again whole, so the
/// standups never all vanish.
const MAX_CANCELLED: usize = 6;

const LIVE: &[&str] = &[
    "Vendor call",
    "Incident review",
    "Roadmap chat",
    "Coffee with Mei",
    "Security training",
    "Offer review",
    "Board prep",
    "Pairing session",
];

/// The zone the demo writes its times in: the Windows name Outlook would use for the person's
/// zone (the IANA name where none maps), and the zone that name means to the server.
#[derive(Debug, Clone)]
pub struct Zone {
    name: String,
    tz: Tz,
}

impl Zone {
    pub fn new(zone: Tz) -> Zone {
        let name = graph_zone_name(zone.name());
        // What the server reads the name as (CLDR territory 001), so original starts agree.
        let tz = tz::resolve(&name).unwrap_or(zone);
        Zone { name, tz }
    }

    fn time(&self, t: NaiveDateTime) -> Value {
        json!({"dateTime": write_date_time(t), "timeZone": self.name})
    }

    fn unix(&self, t: NaiveDateTime) -> i64 {
        tz::local_to_utc(&self.tz, t).timestamp()
    }
}

/// What the demo made, so its live changes touch only that, never what the person added.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// The work calendar's id.
    pub work: String,
    /// The read-only team calendar's id.
    pub team: String,
    /// Single events the demo may edit or remove.
    singles: Vec<String>,
    /// The weekday standup series whose occurrences get cancelled.
    standup: Standup,
}

#[derive(Debug, Clone)]
struct Standup {
    master: String,
    body: Value,
    /// Original starts (Unix seconds) the demo cancelled since the series was last sent.
    cancelled: BTreeSet<i64>,
}

fn timed(subject: &str, start: NaiveDateTime, minutes: i64, zone: &Zone) -> Value {
    json!({
        "subject": subject,
        "start": zone.time(start),
        "end": zone.time(start + TimeDelta::minutes(minutes)),
    })
}

fn weekly(
    subject: &str,
    first: NaiveDateTime,
    minutes: i64,
    days: &[&str],
    interval: u32,
    zone: &Zone,
) -> Value {
    let mut event = timed(subject, first, minutes, zone);
    event["recurrence"] = json!({
        "pattern": {"type": "weekly", "interval": interval, "daysOfWeek": days,
                    "firstDayOfWeek": "monday"},
        "range": {"type": "noEnd", "startDate": first.date().format("%Y-%m-%d").to_string(),
                  "recurrenceTimeZone": zone.name},
    });
    event
}

fn all_day(subject: &str, first: NaiveDate, days: i64, zone: &Zone) -> Value {
    json!({
        "subject": subject,
        "isAllDay": true,
        "start": zone.time(at(first, 0, 0)),
        "end": zone.time(at(first + TimeDelta::days(days), 0, 0)),
    })
}

fn id_of(stored: &Value) -> Option<String> {
    stored.get("id").and_then(Value::as_str).map(str::to_string)
}

/// The Monday of `today`'s week.
fn monday(today: NaiveDate) -> NaiveDate {
    today - TimeDelta::days(i64::from(today.weekday().num_days_from_monday()))
}

/// Adds calendars "Office" (the default) and "Team (read-only)" (`canEdit` false) and fills them
/// around `today`, at wall-clock times in `zone`: on Office a weekly planning series (from four
/// weeks back) whose occurrence next week moved to Tuesday and whose one the week after is
/// cancelled, a weekday standup, a fortnightly 1:1, singles and an all-day event; on Team a
/// fortnightly sprint demo, a single and a two-day offsite. The same day gives the same events.
pub fn seed(emu: &GraphEmulator, today: NaiveDate, zone: &Zone) -> Seeded {
    let work = emu.add_calendar("Office", true);
    let team = emu.add_calendar("Team (read-only)", false);
    let week = monday(today);
    let back = week - TimeDelta::days(28);

    let planning = emu.insert_event(
        &work,
        weekly(
            "Weekly planning",
            at(back, 11, 15),
            30,
            &["monday"],
            1,
            zone,
        ),
    );
    if let Some(master) = id_of(&planning) {
        let next = at(week + TimeDelta::days(7), 11, 15);
        if let Some(moved) = emu.occurrence_id(&master, zone.unix(next)) {
            let tuesday = at(week + TimeDelta::days(8), 11, 0);
            let mut patch = timed("Weekly planning (moved)", tuesday, 30, zone);
            patch["location"] = json!({"displayName": "Room Hopper"});
            emu.update_event(&moved, patch);
        }
        let later = at(week + TimeDelta::days(14), 11, 15);
        if let Some(cancelled) = emu.occurrence_id(&master, zone.unix(later)) {
            emu.delete_event(&cancelled);
        }
    }
    let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday"];
    let standup_body = weekly("Standup", at(back, 10, 45), 15, &weekdays, 1, zone);
    let standup = Standup {
        master: id_of(&emu.insert_event(&work, standup_body.clone())).unwrap_or_default(),
        body: standup_body,
        cancelled: BTreeSet::new(),
    };
    emu.insert_event(
        &work,
        weekly(
            "1:1 with Priya",
            at(back + TimeDelta::days(3), 14, 0),
            30,
            &["thursday"],
            2,
            zone,
        ),
    );
    let singles = [
        ("Design review", week + TimeDelta::days(1), (13, 0), 60),
        ("Customer call", week + TimeDelta::days(3), (10, 0), 45),
        ("Budget check-in", week + TimeDelta::days(4), (15, 30), 30),
        ("Interview", week + TimeDelta::days(9), (11, 0), 60),
        ("Architecture sync", week + TimeDelta::days(10), (14, 0), 90),
        ("Hiring debrief", week + TimeDelta::days(11), (16, 0), 30),
    ];
    let mut own = Vec::new();
    for (subject, date, (hour, minute), minutes) in singles {
        let stored = emu.insert_event(&work, timed(subject, at(date, hour, minute), minutes, zone));
        own.extend(id_of(&stored));
    }
    emu.insert_event(
        &work,
        all_day("Quarterly review day", week + TimeDelta::days(12), 1, zone),
    );

    emu.insert_event(
        &team,
        weekly(
            "Sprint demo",
            at(back + TimeDelta::days(4), 15, 0),
            60,
            &["friday"],
            2,
            zone,
        ),
    );
    emu.insert_event(
        &team,
        timed(
            "Release train departs",
            at(week + TimeDelta::days(2), 16, 0),
            30,
            zone,
        ),
    );
    emu.insert_event(
        &team,
        all_day("Team offsite", week + TimeDelta::days(16), 2, zone),
    );
    Seeded {
        work,
        team,
        singles: own,
        standup,
    }
}

/// One live change on the work calendar, by `round`: an add, a subject edit, a remove, a
/// cancelled standup, in turn. Keeps between 4 and 16 of its own single events; after
/// `MAX_CANCELLED` cancelled standups the series is sent again whole (a new master).
fn step(
    emu: &GraphEmulator,
    seeded: &mut Seeded,
    rng: &mut Rng,
    round: u64,
    today: NaiveDate,
    zone: &Zone,
) {
    // Forget singles someone else removed.
    let stored: BTreeSet<String> = emu.events(&seeded.work).iter().filter_map(id_of).collect();
    seeded.singles.retain(|id| stored.contains(id));
    let op = match seeded.singles.len() {
        0..4 => 0,
        17.. => 2,
        _ => round % 4,
    };
    let pick = rng.below(seeded.singles.len() as u64) as usize;
    match op {
        1 => {
            let id = &seeded.singles[pick];
            let Some(event) = emu
                .events(&seeded.work)
                .into_iter()
                .find(|e| e["id"] == **id)
            else {
                return;
            };
            let subject = event["subject"].as_str().unwrap_or_default();
            let renamed = match subject.strip_suffix(" (changed)") {
                Some(base) => base.to_string(),
                None => format!("{subject} (changed)"),
            };
            emu.update_event(id, json!({ "subject": renamed }));
        }
        2 => {
            let id = seeded.singles.remove(pick);
            emu.delete_event(&id);
        }
        3 => cancel_a_standup(emu, seeded, rng, today, zone),
        _ => {
            let date = day(today, rng.below(21) as i64 - 7);
            let start = at(
                date,
                10 + rng.below(7) as u32,
                if rng.below(2) == 0 { 0 } else { 30 },
            );
            let stored = emu.insert_event(&seeded.work, timed(rng.pick(LIVE), start, 60, zone));
            seeded.singles.extend(id_of(&stored));
        }
    }
}

/// Cancels one of the next two weeks' standups (weekdays from `today`), or, once
/// `MAX_CANCELLED` are cancelled, deletes the series and creates it again.
fn cancel_a_standup(
    emu: &GraphEmulator,
    seeded: &mut Seeded,
    rng: &mut Rng,
    today: NaiveDate,
    zone: &Zone,
) {
    let standup = &mut seeded.standup;
    if standup.cancelled.len() >= MAX_CANCELLED {
        emu.delete_event(&standup.master);
        let stored = emu.insert_event(&seeded.work, standup.body.clone());
        if let Some(id) = id_of(&stored) {
            standup.master = id;
        }
        standup.cancelled.clear();
        return;
    }
    let upcoming: Vec<i64> = (0..14)
        .map(|d| today + TimeDelta::days(d))
        .filter(|d| d.weekday().num_days_from_monday() < 5)
        .map(|d| zone.unix(at(d, 10, 45)))
        .filter(|t| !standup.cancelled.contains(t))
        .collect();
    if upcoming.is_empty() {
        return;
    }
    let start = upcoming[rng.below(upcoming.len() as u64) as usize];
    if let Some(id) = emu.occurrence_id(&standup.master, start) {
        emu.delete_event(&id);
        standup.cancelled.insert(start);
    }
}

/// Every `every`, adds, edits, removes or cancels one event of the work calendar (in turn),
/// forever (abort the handle to stop). New events fall around `today`, at wall-clock times in
/// `zone`.
pub fn spawn(
    emu: GraphEmulator,
    mut seeded: Seeded,
    today: NaiveDate,
    zone: Zone,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut rng = Rng::new(0x6772_6170_6821);
        let mut round = 0;
        loop {
            tokio::time::sleep(every).await;
            step(&emu, &mut seeded, &mut rng, round, today, &zone);
            round += 1;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo changes only its own events: one the person added through almanac stays as it
    /// was, the moved planning meeting stays, and the team calendar stays still.
    #[tokio::test]
    async fn the_graph_demo_changes_only_its_own_events() {
        let emu = GraphEmulator::start().await.unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let zone = Zone::new("Europe/Berlin".parse().unwrap());
        assert_eq!(zone.name, "W. Europe Standard Time");
        let mut seeded = seed(&emu, today, &zone);
        let work = seeded.work.clone();
        let moved = |emu: &GraphEmulator| {
            emu.events(&work)
                .into_iter()
                .filter(|e| e["type"] == "exception")
                .map(|e| e["subject"].clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(moved(&emu), [json!("Weekly planning (moved)")]);
        let team = emu.events(&seeded.team);
        let mine = emu.insert_event(
            &seeded.work,
            timed("Dentist", at(day(today, 1), 8, 0), 30, &zone),
        );
        let mine_id = id_of(&mine).unwrap();
        let (from, to) = (
            zone.unix(at(today, 0, 0)),
            zone.unix(at(day(today, 14), 0, 0)),
        );
        let standups = |emu: &GraphEmulator| {
            emu.window_view(&work, from, to)
                .iter()
                .filter(|(_, _, _, s)| s == "Standup")
                .count()
        };
        assert_eq!(standups(&emu), 10);
        let mut rng = Rng::new(3);
        let mut fewer = false;
        for round in 0..300 {
            step(&emu, &mut seeded, &mut rng, round, today, &zone);
            fewer |= standups(&emu) < 10;
            assert!(standups(&emu) >= 10 - MAX_CANCELLED, "round {round}");
        }
        assert!(fewer, "standups were cancelled");
        let events = emu.events(&seeded.work);
        let kept = events.iter().find(|e| e["id"] == *mine_id).unwrap();
        assert_eq!(kept["subject"], "Dentist");
        assert_eq!(moved(&emu), [json!("Weekly planning (moved)")]);
        assert_eq!(emu.events(&seeded.team), team);
        assert!((4..=17).contains(&seeded.singles.len()));
        assert!(
            events
                .iter()
                .any(|e| LIVE.contains(&e["subject"].as_str().unwrap()))
        );
    }
}
