//! Event times as iCalendar states them, and the normalised form the cache and the views use.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use std::collections::HashMap;

use super::ical::Property;
use super::tz::{self, Zone};

/// Zones defined by the VTIMEZONE blocks of the file being read, by TZID.
pub type ZoneMap = HashMap<String, Zone>;

/// A start or end as written in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventTime {
    /// `VALUE=DATE`: an all-day boundary.
    Date(NaiveDate),
    /// A UTC instant (`…Z`).
    Utc(DateTime<Utc>),
    /// A wall-clock time in a named zone (`TZID=…`). `zone` is `None` when the TZID is not known.
    Zoned {
        local: NaiveDateTime,
        tzid: String,
        zone: Option<Zone>,
    },
    /// A wall-clock time with no zone: the same clock time wherever the reader is.
    Floating(NaiveDateTime),
}

/// The normalised form: what the cache indexes and the views draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum When {
    /// An all-day boundary (a day, in the reader's zone).
    Date(NaiveDate),
    /// A fixed instant.
    Instant(DateTime<Utc>),
    /// A clock time shown unchanged in any zone.
    Floating(NaiveDateTime),
}

impl EventTime {
    /// Reads a DTSTART/DTEND/RECURRENCE-ID-like property, with zones known by name only.
    pub fn from_property(p: &Property) -> Result<EventTime, String> {
        EventTime::from_property_in(p, &ZoneMap::new())
    }

    /// Reads a DTSTART/DTEND/RECURRENCE-ID-like property. A TZID is looked up by name first (IANA,
    /// Windows, vendor-prefixed), then among the file's own VTIMEZONE definitions.
    pub fn from_property_in(p: &Property, zones: &ZoneMap) -> Result<EventTime, String> {
        let value = p.value.trim();
        let is_date = p
            .param("VALUE")
            .is_some_and(|v| v.eq_ignore_ascii_case("DATE"))
            || (value.len() == 8 && !value.contains('T'));
        if is_date {
            return parse_date(value)
                .map(EventTime::Date)
                .ok_or_else(|| format!("{} value '{value}' is not a date (YYYYMMDD)", p.name));
        }
        let bad = || {
            format!(
                "{} value '{value}' is not a date-time (YYYYMMDDTHHMMSS)",
                p.name
            )
        };
        if let Some(utc) = value.strip_suffix(['Z', 'z']) {
            let local = parse_datetime(utc).ok_or_else(bad)?;
            return Ok(EventTime::Utc(Utc.from_utc_datetime(&local)));
        }
        let local = parse_datetime(value).ok_or_else(bad)?;
        match p.param("TZID") {
            Some(tzid) => Ok(EventTime::Zoned {
                local,
                tzid: tzid.to_string(),
                zone: zone_for(tzid, zones),
            }),
            None => Ok(EventTime::Floating(local)),
        }
    }

    /// The normalised form. A zoned time in an unknown zone is read as floating.
    pub fn normalise(&self) -> When {
        match self {
            EventTime::Date(d) => When::Date(*d),
            EventTime::Utc(t) => When::Instant(*t),
            EventTime::Zoned {
                local,
                zone: Some(z),
                ..
            } => When::Instant(z.local_to_utc(*local)),
            EventTime::Zoned {
                local, zone: None, ..
            } => When::Floating(*local),
            EventTime::Floating(t) => When::Floating(*t),
        }
    }

    /// The zone name written in the source, if any.
    pub fn tzid(&self) -> Option<&str> {
        match self {
            EventTime::Zoned { tzid, .. } => Some(tzid),
            _ => None,
        }
    }

    /// This time moved by `d`, keeping its kind (and for zoned times, its wall clock). Saturates
    /// at the ends of the calendar instead of overflowing.
    pub fn shifted(&self, d: Duration) -> EventTime {
        match self {
            EventTime::Date(x) => EventTime::Date(add_date(*x, d)),
            EventTime::Utc(x) => EventTime::Utc(add_local(x.naive_utc(), d).and_utc()),
            EventTime::Zoned { local, tzid, zone } => EventTime::Zoned {
                local: add_local(*local, d),
                tzid: tzid.clone(),
                zone: zone.clone(),
            },
            EventTime::Floating(x) => EventTime::Floating(add_local(*x, d)),
        }
    }
}

impl When {
    /// The wall-clock time of this boundary in `display` (all-day boundaries at midnight).
    pub fn local(&self, display: &Tz) -> NaiveDateTime {
        match self {
            When::Date(d) => d.and_time(NaiveTime::MIN),
            When::Instant(t) => tz::utc_to_local(display, *t),
            When::Floating(t) => *t,
        }
    }

    /// True for all-day boundaries.
    pub fn is_date(&self) -> bool {
        matches!(self, When::Date(_))
    }

    /// The key the cache indexes by: UTC seconds for instants, wall-clock-as-UTC seconds otherwise.
    /// Wall-clock keys may differ from the real instant by the display zone's offset (at most ±14 h),
    /// so range queries widen their bounds by that much and filter exactly afterwards.
    pub fn key(&self) -> i64 {
        match self {
            When::Date(d) => d.and_time(NaiveTime::MIN).and_utc().timestamp(),
            When::Instant(t) => t.timestamp(),
            When::Floating(t) => t.and_utc().timestamp(),
        }
    }

    /// Reverses [`When::key`] for the kind `kind` (`date`, `instant`, `floating`).
    pub fn from_key(kind: &str, key: i64) -> Option<When> {
        let utc = DateTime::<Utc>::from_timestamp(key, 0)?;
        match kind {
            "date" => Some(When::Date(utc.date_naive())),
            "instant" => Some(When::Instant(utc)),
            "floating" => Some(When::Floating(utc.naive_utc())),
            _ => None,
        }
    }

    /// The kind name stored next to the key.
    pub fn kind(&self) -> &'static str {
        match self {
            When::Date(_) => "date",
            When::Instant(_) => "instant",
            When::Floating(_) => "floating",
        }
    }

    /// This boundary moved by `d`.
    pub fn shifted(&self, d: Duration) -> When {
        match self {
            When::Date(x) => When::Date(add_date(*x, d)),
            When::Instant(x) => When::Instant(add_local(x.naive_utc(), d).and_utc()),
            When::Floating(x) => When::Floating(add_local(*x, d)),
        }
    }
}

/// The zone a TZID names: by name first, then the file's own definitions.
pub fn zone_for(tzid: &str, zones: &ZoneMap) -> Option<Zone> {
    tz::resolve(tzid)
        .map(Zone::Iana)
        .or_else(|| zones.get(tzid.trim().trim_matches('"')).cloned())
}

/// `t + d`, saturating at the ends of chrono's calendar.
pub fn add_local(t: NaiveDateTime, d: Duration) -> NaiveDateTime {
    t.checked_add_signed(d).unwrap_or(if d < Duration::zero() {
        NaiveDateTime::MIN
    } else {
        NaiveDateTime::MAX
    })
}

fn add_date(x: NaiveDate, d: Duration) -> NaiveDate {
    x.checked_add_signed(d).unwrap_or(if d < Duration::zero() {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    })
}

/// `YYYYMMDD`.
pub fn parse_date(v: &str) -> Option<NaiveDate> {
    if v.len() != 8 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::from_ymd_opt(
        v[0..4].parse().ok()?,
        v[4..6].parse().ok()?,
        v[6..8].parse().ok()?,
    )
}

/// `YYYYMMDDTHHMMSS` (seconds may be 60 for a leap second: read as 59).
pub fn parse_datetime(v: &str) -> Option<NaiveDateTime> {
    let (d, t) = v.split_once(['T', 't'])?;
    let date = parse_date(d)?;
    if t.len() != 6 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sec: u32 = t[4..6].parse().ok()?;
    let time = NaiveTime::from_hms_opt(t[0..2].parse().ok()?, t[2..4].parse().ok()?, sec.min(59))?;
    Some(date.and_time(time))
}

/// An RFC 5545 DURATION (3.3.6): weeks and days are nominal (calendar days, so a day across a DST
/// change lasts 23 or 25 hours), hours, minutes and seconds are exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nominal {
    /// Weeks (as 7 days) and days: added to the wall-clock time.
    pub days: i64,
    /// Hours, minutes and seconds: added to the instant.
    pub secs: i64,
}

impl Nominal {
    /// The length if every day had 24 hours.
    pub fn total(&self) -> Duration {
        Duration::seconds(self.days * 86_400 + self.secs)
    }
}

impl EventTime {
    /// The end of something that starts here and lasts `d`: the days move the wall clock, then the
    /// hours, minutes and seconds move the instant. `PT24H` across a DST change ends an hour off the
    /// start's wall-clock time; `P1D` ends at the same wall-clock time; `PT1H` from a time inside a
    /// DST gap lasts one hour.
    pub fn after(&self, d: Nominal) -> EventTime {
        match self {
            EventTime::Zoned {
                local,
                tzid,
                zone: Some(zone),
            } => {
                let wall = add_local(*local, Duration::days(d.days));
                if d.secs == 0 {
                    return EventTime::Zoned {
                        local: wall,
                        tzid: tzid.clone(),
                        zone: Some(zone.clone()),
                    };
                }
                let instant = zone.local_to_utc(wall);
                EventTime::Utc(add_local(instant.naive_utc(), Duration::seconds(d.secs)).and_utc())
            }
            // Without a zone there is no DST: a day is 24 hours.
            other => other.shifted(d.total()),
        }
    }
}

/// An RFC 5545 DURATION such as `PT1H30M`, `P1D`, `-P1W`, as a length (every day 24 hours): for
/// PERIOD values, which are exact.
pub fn parse_duration(v: &str) -> Option<Duration> {
    parse_nominal(v).map(|d| d.total())
}

/// An RFC 5545 DURATION with its nominal (days, weeks) and exact (hours, minutes, seconds) parts apart.
pub fn parse_nominal(v: &str) -> Option<Nominal> {
    let v = v.trim();
    let (sign, rest) = match v.as_bytes().first()? {
        b'-' => (-1, &v[1..]),
        b'+' => (1, &v[1..]),
        _ => (1, v),
    };
    let rest = rest.strip_prefix(['P', 'p'])?;
    let (mut days, mut secs) = (0_i64, 0_i64);
    let mut number = String::new();
    let mut in_time = false;
    let mut any = false;
    for c in rest.chars() {
        match c.to_ascii_uppercase() {
            'T' => in_time = true,
            d if d.is_ascii_digit() => number.push(d),
            unit => {
                let n: i64 = number.parse().ok().filter(|n: &i64| *n < 10_000_000)?;
                number.clear();
                any = true;
                match (unit, in_time) {
                    ('W', false) => days += 7 * n,
                    ('D', false) => days += n,
                    ('H', true) => secs += 3_600 * n,
                    ('M', true) => secs += 60 * n,
                    ('S', true) => secs += n,
                    _ => return None,
                }
            }
        }
    }
    // Longer than a century is not a duration a calendar means; refuse it rather than overflow.
    (any && number.is_empty() && days * 86_400 + secs <= 36_525 * 86_400).then_some(Nominal {
        days: days * sign,
        secs: secs * sign,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_weeks_days_and_time() {
        assert_eq!(parse_duration("PT1H30M"), Some(Duration::minutes(90)));
        assert_eq!(parse_duration("P1W"), Some(Duration::days(7)));
        assert_eq!(parse_duration("-P1DT2H"), Some(-Duration::hours(26)));
        assert_eq!(parse_duration("P"), None);
        assert_eq!(parse_duration("PT5"), None);
        assert_eq!(parse_duration("P1H"), None);
    }

    fn berlin(local: &str) -> EventTime {
        EventTime::Zoned {
            local: parse_datetime(local).unwrap(),
            tzid: "Europe/Berlin".into(),
            zone: Some(Zone::Iana(Tz::Europe__Berlin)),
        }
    }

    fn berlin_wall(t: &EventTime) -> String {
        t.normalise()
            .local(&Tz::Europe__Berlin)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    #[test]
    fn pt24h_across_dst_ends_an_hour_off_wall_time_and_p1d_does_not() {
        // Berlin moves to summer time on 2026-03-29 and back on 2026-10-25.
        let spring = berlin("20260328T120000");
        let exact = parse_nominal("PT24H").unwrap();
        let nominal = parse_nominal("P1D").unwrap();
        assert_eq!(berlin_wall(&spring.after(exact)), "2026-03-29 13:00");
        assert_eq!(berlin_wall(&spring.after(nominal)), "2026-03-29 12:00");
        let autumn = berlin("20261024T120000");
        assert_eq!(berlin_wall(&autumn.after(exact)), "2026-10-25 11:00");
        assert_eq!(berlin_wall(&autumn.after(nominal)), "2026-10-25 12:00");
    }

    #[test]
    fn pt1h_from_inside_the_dst_gap_lasts_one_hour() {
        let start = berlin("20260329T023000");
        let end = start.after(parse_nominal("PT1H").unwrap());
        match (start.normalise(), end.normalise()) {
            (When::Instant(s), When::Instant(e)) => assert_eq!(e - s, Duration::hours(1)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keys_round_trip_for_every_kind() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        for w in [
            When::Date(d),
            When::Instant(d.and_hms_opt(8, 0, 0).unwrap().and_utc()),
            When::Floating(d.and_hms_opt(9, 30, 0).unwrap()),
        ] {
            assert_eq!(When::from_key(w.kind(), w.key()), Some(w));
        }
    }

    #[test]
    fn rejects_impossible_dates() {
        assert_eq!(parse_date("20261345"), None);
        assert_eq!(parse_datetime("20261123T250000"), None);
        assert!(parse_datetime("20261123T090000").is_some());
    }
}
