//! Demo data for the subscription of `almanac demo`: a read-only "Holidays" feed of all-day
//! events in the coming weeks, where now and then one holiday moves a day and back.

use std::time::Duration;

use chrono::{NaiveDate, TimeDelta};

use super::demo::day;
use super::feed::FeedServer;

/// (summary, days from today, length in days).
const HOLIDAYS: &[(&str, i64, i64)] = &[
    ("Winter market", 3, 3),
    ("Bank holiday", 9, 1),
    ("Festival of Lights", 16, 1),
    ("School holidays", 24, 7),
    ("Regional holiday", 33, 1),
];

/// The feed as it is when the holidays flagged in `moved` are a day later than planned.
pub fn body(today: NaiveDate, moved: &[bool]) -> String {
    let mut out = String::from(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//almanac//emulator demo feed//EN\r\n\
X-WR-CALNAME:Holidays\r\nMETHOD:PUBLISH\r\n",
    );
    for (i, (summary, offset, days)) in HOLIDAYS.iter().enumerate() {
        let later = moved.get(i).copied().unwrap_or(false);
        let first = day(today, offset + i64::from(later));
        let summary = if later {
            format!("{summary} (moved)")
        } else {
            summary.to_string()
        };
        out.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:holiday-{i}@almanac.test\r\nDTSTAMP:{}T000000Z\r\n\
DTSTART;VALUE=DATE:{}\r\nDTEND;VALUE=DATE:{}\r\nSUMMARY:{summary}\r\n\
TRANSP:TRANSPARENT\r\nEND:VEVENT\r\n",
            today.format("%Y%m%d"),
            first.format("%Y%m%d"),
            (first + TimeDelta::days(*days)).format("%Y%m%d"),
        ));
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

/// The feed as it starts: every holiday where planned.
pub fn seed(today: NaiveDate) -> String {
    body(today, &[])
}

/// Every third `every`, moves one holiday of `feed` a day later or back (each in turn), forever
/// (abort the handle to stop); the feed's validators change with it.
pub fn spawn(feed: FeedServer, today: NaiveDate, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut moved = vec![false; HOLIDAYS.len()];
        let mut round = 0usize;
        loop {
            tokio::time::sleep(every).await;
            round += 1;
            if round % 3 == 0 {
                let i = (round / 3 - 1) % HOLIDAYS.len();
                moved[i] = !moved[i];
                feed.set_body(&body(today, &moved));
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moved_holiday_is_a_day_later_and_says_so() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let plain = seed(today);
        assert!(plain.contains(
            "DTSTART;VALUE=DATE:20261202\r\nDTEND;VALUE=DATE:20261203\r\nSUMMARY:Bank holiday\r\n"
        ));
        let later = body(today, &[false, true]);
        assert!(later.contains("DTSTART;VALUE=DATE:20261203\r\nDTEND;VALUE=DATE:20261204\r\nSUMMARY:Bank holiday (moved)\r\n"));
        assert_eq!(plain.matches("BEGIN:VEVENT").count(), 5);
    }
}
