//! VTIMEZONE blocks written for IANA zones, so that the files we write carry the definitions RFC 5545
//! asks for. The rules are read off chrono-tz: a year of offsets is scanned for its transitions.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Weekday};
use chrono_tz::{OffsetName, Tz};

/// A VTIMEZONE for an IANA zone, good around `year` (CRLF line endings).
///
/// A zone with summer time gets a STANDARD and a DAYLIGHT observance that start at that year's
/// transitions and repeat yearly by month and weekday; a zone without gets one STANDARD.
pub fn vtimezone_for(tz: Tz, year: i32) -> String {
    vtimezone_named(tz, tz.name(), year)
}

/// [`vtimezone_for`] under another TZID: the name the events write, when it is not the IANA one
/// (a Windows name, a vendor-prefixed path).
pub fn vtimezone_named(tz: Tz, tzid: &str, year: i32) -> String {
    // Four-digit years only: iCalendar dates have no room for more.
    let year = year.clamp(1, 9998);
    let changes = transitions(tz, year);
    let mut out = String::from("BEGIN:VTIMEZONE\r\n");
    let id: String = tzid.chars().filter(|c| !c.is_control()).collect();
    out.push_str(&format!("TZID:{id}\r\n"));
    let yearly =
        changes.len() == 2 && changes[0].from == changes[1].to && changes[0].to == changes[1].from;
    if changes.is_empty() {
        let jan1 = first_of_year(year);
        let offset = offset_at(&tz, jan1);
        out.push_str(&observance(&tz, jan1, jan1, offset, offset, false));
    }
    for t in &changes {
        let onset = t.at + Duration::seconds(t.from.into());
        out.push_str(&observance(&tz, t.at, onset, t.from, t.to, yearly));
    }
    out.push_str("END:VTIMEZONE\r\n");
    out
}

/// A change of offset at the UTC instant `at`.
struct Transition {
    at: NaiveDateTime,
    from: i32,
    to: i32,
}

fn first_of_year(year: i32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(year, 1, 1)
        .unwrap_or_default()
        .and_time(chrono::NaiveTime::MIN)
}

/// The UTC offset (seconds) of `tz` at the UTC time `utc`.
fn offset_at(tz: &Tz, utc: NaiveDateTime) -> i32 {
    tz.offset_from_utc_datetime(&utc).fix().local_minus_utc()
}

/// Every change of offset during `year` (UTC), each found to the minute.
fn transitions(tz: Tz, year: i32) -> Vec<Transition> {
    let end = first_of_year(year + 1);
    let mut day = first_of_year(year);
    let mut offset = offset_at(&tz, day);
    let mut out = Vec::new();
    while day < end {
        let next = day + Duration::days(1);
        let next_offset = offset_at(&tz, next);
        if next_offset != offset {
            // The offset at `lo` minutes past `day` is the old one, at `hi` the new one.
            let (mut lo, mut hi) = (0i64, 24 * 60);
            while hi - lo > 1 {
                let mid = (lo + hi) / 2;
                if offset_at(&tz, day + Duration::minutes(mid)) == offset {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            out.push(Transition {
                at: day + Duration::minutes(hi),
                from: offset,
                to: next_offset,
            });
        }
        day = next;
        offset = next_offset;
    }
    out
}

/// One STANDARD or DAYLIGHT block. `onset` is the wall-clock time of the change in the offset
/// before it, as RFC 5545 writes an observance's DTSTART.
fn observance(
    tz: &Tz,
    at: NaiveDateTime,
    onset: NaiveDateTime,
    from: i32,
    to: i32,
    yearly: bool,
) -> String {
    let kind = if to > from { "DAYLIGHT" } else { "STANDARD" };
    let mut out = format!("BEGIN:{kind}\r\n");
    out.push_str(&format!("DTSTART:{}\r\n", onset.format("%Y%m%dT%H%M%S")));
    out.push_str(&format!("TZOFFSETFROM:{}\r\n", offset_text(from)));
    out.push_str(&format!("TZOFFSETTO:{}\r\n", offset_text(to)));
    if let Some(name) = tz.offset_from_utc_datetime(&at).abbreviation() {
        out.push_str(&format!("TZNAME:{name}\r\n"));
    }
    if yearly {
        out.push_str(&format!(
            "RRULE:FREQ=YEARLY;BYMONTH={};BYDAY={}\r\n",
            onset.month(),
            weekday_in_month(onset.date())
        ));
    }
    out.push_str(&format!("END:{kind}\r\n"));
    out
}

/// `2SU` for the second Sunday of its month, `-1SU` for a day in the month's last seven.
fn weekday_in_month(day: NaiveDate) -> String {
    let next_month = day
        .with_day(1)
        .and_then(|d| d.checked_add_months(chrono::Months::new(1)));
    let days_in_month = next_month.map_or(31, |n| (n - Duration::days(1)).day());
    let ordinal = if day.day() + 7 > days_in_month {
        -1
    } else {
        (day.day() as i32 - 1) / 7 + 1
    };
    let name = match day.weekday() {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    };
    format!("{ordinal}{name}")
}

/// `+0100`, `-0430`, `+053045`.
fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    if sec == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{sec:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ical;
    use crate::domain::vtimezone::CustomZone;

    fn read(text: &str) -> CustomZone {
        CustomZone::from_component(&ical::parse(text).components[0]).unwrap()
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    #[test]
    fn written_zones_give_chrono_tz_offsets_in_winter_and_summer_for_years_to_come() {
        for tz in [
            Tz::Europe__Berlin,
            Tz::America__New_York,
            Tz::Australia__Sydney,
            Tz::Asia__Tokyo,
        ] {
            let zone = read(&vtimezone_for(tz, 2026));
            for year in [2026, 2027, 2031] {
                for month in [1, 4, 7, 10, 12] {
                    let t = utc(year, month, 15, 12, 0);
                    assert_eq!(zone.offset_at(t), offset_at(&tz, t), "{tz} at {t}");
                }
            }
        }
    }

    #[test]
    fn offsets_change_at_the_transition_minute() {
        // Berlin: 2026-03-29 01:00 UTC, New York: 2026-11-01 06:00 UTC, Sydney: 2026-04-04 16:00 UTC.
        for (tz, at) in [
            (Tz::Europe__Berlin, utc(2026, 3, 29, 1, 0)),
            (Tz::America__New_York, utc(2026, 11, 1, 6, 0)),
            (Tz::Australia__Sydney, utc(2026, 4, 4, 16, 0)),
        ] {
            let zone = read(&vtimezone_for(tz, 2026));
            let before = at - Duration::minutes(1);
            assert_eq!(zone.offset_at(before), offset_at(&tz, before), "{tz}");
            assert_eq!(zone.offset_at(at), offset_at(&tz, at), "{tz}");
            assert_ne!(offset_at(&tz, before), offset_at(&tz, at), "{tz}");
        }
    }

    #[test]
    fn rules_name_the_month_and_the_weekday_ordinal() {
        let berlin = vtimezone_for(Tz::Europe__Berlin, 2026);
        assert!(berlin.contains("DTSTART:20260329T020000\r\n"), "{berlin}");
        assert!(berlin.contains("RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"));
        assert!(berlin.contains("RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"));
        assert!(berlin.contains("TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\n"));
        let new_york = vtimezone_for(Tz::America__New_York, 2026);
        assert!(new_york.contains("BYMONTH=3;BYDAY=2SU"), "{new_york}");
        assert!(new_york.contains("BYMONTH=11;BYDAY=1SU"), "{new_york}");
        assert!(new_york.contains("TZOFFSETTO:-0500"));
        let sydney = vtimezone_for(Tz::Australia__Sydney, 2026);
        assert!(sydney.contains("BYMONTH=4;BYDAY=1SU"), "{sydney}");
        assert!(sydney.contains("BYMONTH=10;BYDAY=1SU"), "{sydney}");
    }

    #[test]
    fn a_zone_without_summer_time_has_one_standard_block() {
        let tokyo = vtimezone_for(Tz::Asia__Tokyo, 2026);
        assert_eq!(tokyo.matches("BEGIN:STANDARD").count(), 1, "{tokyo}");
        assert!(!tokyo.contains("DAYLIGHT"));
        assert!(!tokyo.contains("RRULE"));
        assert!(tokyo.contains("TZOFFSETFROM:+0900\r\nTZOFFSETTO:+0900\r\n"));
    }

    #[test]
    fn weekday_ordinals_count_from_the_start_or_the_end_of_the_month() {
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        assert_eq!(weekday_in_month(day(3, 8)), "2SU");
        assert_eq!(weekday_in_month(day(3, 29)), "-1SU");
        assert_eq!(weekday_in_month(day(2, 22)), "-1SU");
        assert_eq!(weekday_in_month(day(4, 3)), "1FR");
        assert_eq!(offset_text(-(4 * 3600 + 30 * 60)), "-0430");
        assert_eq!(offset_text(5 * 3600 + 30 * 60 + 45), "+053045");
    }
}
