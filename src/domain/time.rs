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
            When::Instant(t) => t.with_timezone(display).naive_local(),
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

/// An RFC 5545 DURATION such as `PT1H30M`, `P1D`, `-P1W`.
pub fn parse_duration(v: &str) -> Option<Duration> {
    let v = v.trim();
    let (sign, rest) = match v.as_bytes().first()? {
        b'-' => (-1, &v[1..]),
        b'+' => (1, &v[1..]),
        _ => (1, v),
    };
    let rest = rest.strip_prefix(['P', 'p'])?;
    let mut total = Duration::zero();
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
                total += match (unit, in_time) {
                    ('W', false) => Duration::weeks(n),
                    ('D', false) => Duration::days(n),
                    ('H', true) => Duration::hours(n),
                    ('M', true) => Duration::minutes(n),
                    ('S', true) => Duration::seconds(n),
                    _ => return None,
                };
            }
        }
    }
    // Longer than a century is not a duration a calendar means; refuse it rather than overflow.
    (any && number.is_empty() && total <= Duration::days(36_525)).then_some(total * sign)
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
