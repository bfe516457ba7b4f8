//! Time zone names: IANA names as chrono-tz knows them, and the forms real files use for them.

use std::sync::Arc;

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::vtimezone::CustomZone;

/// A zone an event's times are written in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Zone {
    /// Known by name (IANA, or a Windows name mapped to IANA).
    Iana(Tz),
    /// Defined by a VTIMEZONE block under a name no database knows.
    Custom(Arc<CustomZone>),
}

impl Zone {
    /// The instant of a wall-clock time (RFC 5545 gap and overlap rules).
    pub fn local_to_utc(&self, local: NaiveDateTime) -> DateTime<Utc> {
        match self {
            Zone::Iana(tz) => local_to_utc(tz, local),
            Zone::Custom(c) => c.local_to_utc(local),
        }
    }

    /// The wall-clock time at an instant.
    pub fn utc_to_local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        match self {
            Zone::Iana(tz) => t.with_timezone(tz).naive_local(),
            Zone::Custom(c) => c.utc_to_local(t),
        }
    }

    /// The zone's name.
    pub fn name(&self) -> &str {
        match self {
            Zone::Iana(tz) => tz.name(),
            Zone::Custom(c) => &c.tzid,
        }
    }
}

/// Resolves a TZID as written in a file to an IANA zone.
///
/// Accepts plain IANA names, Windows names as Outlook writes them (`W. Europe Standard Time`), and
/// vendor-prefixed IANA names such as `/mozilla.org/20050126_1/Europe/Berlin` (the trailing
/// `Area/City` is used).
pub fn resolve(tzid: &str) -> Option<Tz> {
    let tzid = tzid.trim().trim_matches('"');
    if let Ok(tz) = tzid.parse::<Tz>() {
        return Some(tz);
    }
    if let Some(iana) = super::windows_zones::to_iana(tzid) {
        return iana.parse().ok();
    }
    // Try ever shorter suffixes of a path-like TZID.
    let parts: Vec<&str> = tzid.split('/').filter(|p| !p.is_empty()).collect();
    (1..parts.len()).find_map(|skip| parts[skip..].join("/").parse::<Tz>().ok())
}

/// The instant of a wall-clock time in `zone`.
///
/// RFC 5545 3.3.5: a time in a DST gap is moved forward by the gap's length; a time in an overlap is
/// the first of the two.
pub fn local_to_utc(zone: &Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // In a gap: the offset before the gap applies, which moves the time forward by the gap.
            let before = local - chrono::Duration::hours(24);
            let offset = match zone.from_local_datetime(&before) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => *t.offset(),
                LocalResult::None => return Utc.from_utc_datetime(&local),
            };
            let utc = local - chrono::Duration::seconds(offset_seconds(&offset));
            Utc.from_utc_datetime(&utc)
        }
    }
}

fn offset_seconds(offset: &<Tz as TimeZone>::Offset) -> i64 {
    use chrono::Offset;
    i64::from(offset.fix().local_minus_utc())
}

/// The zone the person sees times in: `TZ` if it names an IANA zone, else the system's, else UTC.
pub fn system_zone() -> Tz {
    if let Some(tz) = std::env::var("TZ")
        .ok()
        .and_then(|v| resolve(v.trim_start_matches(':')))
    {
        return tz;
    }
    iana_time_zone::get_timezone()
        .ok()
        .and_then(|name| resolve(&name))
        .unwrap_or(Tz::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    #[test]
    fn vendor_prefixed_tzids_resolve() {
        assert_eq!(
            resolve("/mozilla.org/20050126_1/Europe/Berlin"),
            Some(Tz::Europe__Berlin)
        );
        assert_eq!(resolve("\"America/New_York\""), Some(Tz::America__New_York));
        assert_eq!(resolve("Not/AZone"), None);
    }

    #[test]
    fn a_time_in_the_spring_gap_moves_forward_by_the_gap() {
        // Europe/Berlin skips 02:00–03:00 on 2026-03-29; 02:30 is read as 03:30 CEST = 01:30 UTC.
        let utc = local_to_utc(&Tz::Europe__Berlin, at(2026, 3, 29, 2, 30));
        assert_eq!(utc.naive_utc(), at(2026, 3, 29, 1, 30));
    }

    #[test]
    fn a_time_in_the_autumn_overlap_is_the_first_occurrence() {
        // 02:30 happens twice on 2026-10-25 in Berlin; the first is still CEST (UTC+2).
        let utc = local_to_utc(&Tz::Europe__Berlin, at(2026, 10, 25, 2, 30));
        assert_eq!(utc.naive_utc(), at(2026, 10, 25, 0, 30));
    }
}
