//! Demo data for `almanac demo`: a plausible calendar around today, then a slow stream of live
//! changes (adds, moves, removes) so a connected client has something to sync.

use std::time::Duration;

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Weekday};

use super::caldav::CalDavEmulator;

/// Small deterministic generator (xorshift64*): the demo looks the same for the same day.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-enough in `0..n` (n > 0).
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub(super) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const MEETINGS: &[&str] = &[
    "Design review",
    "1:1 with Sam",
    "Planning",
    "Customer call",
    "Retro",
    "Interview",
    "Budget check-in",
    "Architecture sync",
    "Demo prep",
    "Hiring debrief",
];
const PEOPLE: &[&str] = &["Priya", "Jonas", "Mei", "Carlos", "Aiko", "Tom"];
const PLACES: &[&str] = &[
    "Cafe Lumen",
    "Noodle Bar",
    "Canteen",
    "Green Table",
    "Pier 7",
];
const ROOMS: &[&str] = &["Room Ada", "Room Turing", "Video call", "Room Hopper"];
const ALL_DAY: &[(&str, u64, i64)] = &[
    ("Company offsite", 2, 9),
    ("Release freeze", 3, -6),
    ("Anna's birthday", 1, 4),
    ("Public holiday", 1, 15),
    ("Conference", 2, -12),
];

/// When an event happens.
enum When {
    Timed(NaiveDateTime, NaiveDateTime),
    /// First day and the exclusive end day.
    AllDay(NaiveDate, NaiveDate),
}

fn ics(
    uid: &str,
    stamp: NaiveDate,
    summary: &str,
    location: Option<&str>,
    when: &When,
    rrule: Option<&str>,
) -> String {
    let mut out =
        String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//almanac//emulator demo//EN\r\n");
    out.push_str("BEGIN:VEVENT\r\n");
    out.push_str(&format!(
        "UID:{uid}\r\nDTSTAMP:{}T000000Z\r\n",
        stamp.format("%Y%m%d")
    ));
    match when {
        When::Timed(start, end) => out.push_str(&format!(
            "DTSTART:{}\r\nDTEND:{}\r\n",
            start.format("%Y%m%dT%H%M%S"),
            end.format("%Y%m%dT%H%M%S")
        )),
        When::AllDay(start, end) => out.push_str(&format!(
            "DTSTART;VALUE=DATE:{}\r\nDTEND;VALUE=DATE:{}\r\n",
            start.format("%Y%m%d"),
            end.format("%Y%m%d")
        )),
    }
    if let Some(rule) = rrule {
        out.push_str(&format!("RRULE:{rule}\r\n"));
    }
    out.push_str(&format!("SUMMARY:{summary}\r\n"));
    if let Some(place) = location {
        out.push_str(&format!("LOCATION:{place}\r\n"));
    }
    out.push_str("END:VEVENT\r\nEND:VCALENDAR\r\n");
    out
}

pub(super) fn day(today: NaiveDate, offset: i64) -> NaiveDate {
    today + TimeDelta::days(offset)
}

pub(super) fn at(date: NaiveDate, hour: u32, minute: u32) -> NaiveDateTime {
    date.and_time(NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN))
}

/// One random timed event (a meeting or a lunch) on a weekday within `-14..21` days of today.
fn random_event(rng: &mut Rng, today: NaiveDate, uid: &str) -> String {
    let mut date = day(today, rng.below(35) as i64 - 14);
    if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
        date = date + Days::new(2);
    }
    if rng.below(3) == 0 {
        let start = at(date, 12, if rng.below(2) == 0 { 0 } else { 30 });
        let summary = format!("Lunch with {}", rng.pick(PEOPLE));
        let place = rng.pick(PLACES);
        ics(
            uid,
            today,
            &summary,
            Some(place),
            &When::Timed(start, start + TimeDelta::hours(1)),
            None,
        )
    } else {
        let start = at(
            date,
            9 + rng.below(8) as u32,
            if rng.below(2) == 0 { 0 } else { 30 },
        );
        let minutes = [30, 60, 90][rng.below(3) as usize];
        let end = start + TimeDelta::minutes(minutes);
        let summary = rng.pick(MEETINGS);
        let room = rng.pick(ROOMS);
        ics(
            uid,
            today,
            summary,
            Some(room),
            &When::Timed(start, end),
            None,
        )
    }
}

/// Fills calendar `calendar` (created, named after its id, if missing) with 40 plausible events
/// around `today`: meetings and lunches on weekdays, five all-day events and one weekly series.
/// Items are `demo-N.ics`; the same day gives the same events.
pub fn seed(emu: &CalDavEmulator, calendar: &str, today: NaiveDate) {
    let mut rng = Rng::new(today.num_days_from_ce() as u64 * 0x9e37_79b9);
    // The series starts on the Monday four weeks back so it covers the whole visible range.
    let monday = today - TimeDelta::days(i64::from(today.weekday().num_days_from_monday()) + 28);
    let series = When::Timed(at(monday, 10, 0), at(monday, 10, 30));
    let body = ics(
        "demo-0@almanac.test",
        today,
        "Team sync",
        Some("Video call"),
        &series,
        Some("FREQ=WEEKLY;BYDAY=MO"),
    );
    emu.put(calendar, "demo-0.ics", &body);
    for (i, (summary, days, offset)) in ALL_DAY.iter().enumerate() {
        let start = day(today, *offset);
        let when = When::AllDay(start, start + Days::new(*days));
        let uid = format!("demo-{}@almanac.test", i + 1);
        emu.put(
            calendar,
            &format!("demo-{}.ics", i + 1),
            &ics(&uid, today, summary, None, &when, None),
        );
    }
    for i in ALL_DAY.len() + 1..40 {
        let uid = format!("demo-{i}@almanac.test");
        emu.put(
            calendar,
            &format!("demo-{i}.ics"),
            &random_event(&mut rng, today, &uid),
        );
    }
}

/// Moves every DTSTART/DTEND in `body` by `delta` (whole days for all-day values). `None` when
/// the body has no start it understands.
fn shift(body: &str, delta: TimeDelta) -> Option<String> {
    let mut moved = false;
    let lines: Vec<String> = body
        .split("\r\n")
        .map(|line| {
            if !(line.starts_with("DTSTART") || line.starts_with("DTEND")) {
                return line.to_string();
            }
            let Some((name, value)) = line.split_once(':') else {
                return line.to_string();
            };
            if let Ok(date) = NaiveDate::parse_from_str(value, "%Y%m%d") {
                let days = if delta.num_days() == 0 {
                    1
                } else {
                    delta.num_days()
                };
                moved = true;
                return format!("{name}:{}", (date + TimeDelta::days(days)).format("%Y%m%d"));
            }
            let (plain, zulu) = value.strip_suffix('Z').map_or((value, ""), |v| (v, "Z"));
            match NaiveDateTime::parse_from_str(plain, "%Y%m%dT%H%M%S") {
                Ok(t) => {
                    moved = true;
                    format!("{name}:{}{zulu}", (t + delta).format("%Y%m%dT%H%M%S"))
                }
                Err(_) => line.to_string(),
            }
        })
        .collect();
    moved.then(|| lines.join("\r\n"))
}

/// Whether the demo made this event itself (its UIDs end in `@almanac.test`): only those are
/// moved or removed, never what the person added, which would look like almanac losing data.
fn made_by_the_demo(body: &str) -> bool {
    body.split(['\r', '\n'])
        .any(|l| l.starts_with("UID:") && l.trim_end().ends_with(DEMO_DOMAIN))
}

/// The domain of every UID the demo writes.
const DEMO_DOMAIN: &str = "@almanac.test";

/// One live change: add an event, move one (new DTSTART, new etag) or remove one. Keeps the
/// calendar between 25 and 55 items, leaves the weekly series alone, and touches only events the
/// demo made itself.
fn step(emu: &CalDavEmulator, calendar: &str, rng: &mut Rng, next_id: &mut u64, today: NaiveDate) {
    let items = emu.items(calendar);
    let singles: Vec<&(String, String, String)> = items
        .iter()
        .filter(|(_, _, body)| !body.contains("RRULE") && made_by_the_demo(body))
        .collect();
    let op = match items.len() {
        0..25 => 0,
        56.. => 2,
        _ => rng.below(3),
    };
    let victim = (!singles.is_empty()).then(|| singles[rng.below(singles.len() as u64) as usize]);
    let name_of = |href: &str| href.rsplit('/').next().unwrap_or_default().to_string();
    match (op, victim) {
        (1, Some((href, _, body))) => {
            let hours = [-2, -1, 1, 2, 24, -24][rng.below(6) as usize];
            if let Some(moved) = shift(body, TimeDelta::hours(hours)) {
                emu.put(calendar, &name_of(href), &moved);
            }
        }
        (2, Some((href, _, _))) => {
            emu.delete(calendar, &name_of(href));
        }
        _ => {
            *next_id += 1;
            let uid = format!("live-{next_id}@almanac.test");
            emu.put(
                calendar,
                &format!("live-{next_id}.ics"),
                &random_event(rng, today, &uid),
            );
        }
    }
}

/// Every `every`, adds, moves or removes one event of `calendar`, forever (abort the handle to
/// stop), so a client sees live changes.
pub fn spawn(emu: CalDavEmulator, calendar: &str, every: Duration) -> tokio::task::JoinHandle<()> {
    let calendar = calendar.to_string();
    tokio::spawn(async move {
        let seed = calendar.bytes().fold(0x9e37_79b9_7f4a_7c15u64, |h, b| {
            h.rotate_left(5) ^ u64::from(b)
        });
        let mut rng = Rng::new(seed);
        let mut next_id = 0;
        loop {
            tokio::time::sleep(every).await;
            let today = chrono::Local::now().date_naive();
            step(&emu, &calendar, &mut rng, &mut next_id, today);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "My Dentist appointment vanished": the demo changed events the person added. It must only
    /// ever change its own.
    #[tokio::test]
    async fn the_demo_never_moves_or_removes_what_the_person_added() {
        let emu = CalDavEmulator::start("demo", "demo").await.unwrap();
        emu.add_calendar("work", "Work", None);
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        seed(&emu, "work", today);
        let mine = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:dentist-1@example.org\r\n\
DTSTAMP:20261120T000000Z\r\nDTSTART:20261124T090000Z\r\nDTEND:20261124T100000Z\r\n\
SUMMARY:Dentist\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let etag = emu.put("work", "dentist.ics", mine);
        let mut rng = Rng::new(7);
        let mut next_id = 0;
        for _ in 0..500 {
            step(&emu, "work", &mut rng, &mut next_id, today);
        }
        let items = emu.items("work");
        let kept = items
            .iter()
            .find(|(href, _, _)| href.ends_with("/dentist.ics"))
            .expect("the person's event is still there");
        assert_eq!((kept.1.as_str(), kept.2.as_str()), (etag.as_str(), mine));
        assert!(items.len() > 20, "the demo still changes its own events");
    }

    #[test]
    fn shift_moves_timed_and_all_day_values() {
        let body = "BEGIN:VEVENT\r\nDTSTART:20260105T100000\r\nDTEND:20260105T103000Z\r\n\
DTSTART;VALUE=DATE:20260105\r\nEND:VEVENT\r\n";
        let moved = shift(body, TimeDelta::hours(2)).expect("moves");
        assert!(moved.contains("DTSTART:20260105T120000\r\n"));
        assert!(moved.contains("DTEND:20260105T123000Z\r\n"));
        assert!(moved.contains("DTSTART;VALUE=DATE:20260106\r\n"));
        assert_eq!(shift("SUMMARY:x", TimeDelta::hours(1)), None);
    }
}
