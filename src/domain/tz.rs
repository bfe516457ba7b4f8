//! Time zone names: IANA names as chrono-tz knows them, and the forms real files use for them; and
//! the one place that turns an instant into wall-clock time in a named zone, and back.
//!
//! chrono-tz's transition table stops in 2037, after which every zone keeps the offset it had last
//! (Berlin stays on winter time for ever). Past that year offsets come from jiff's bundled tzdb, which
//! follows each zone's ongoing rule (the POSIX TZ footer of its TZif data) in any year.

use std::sync::Arc;

use chrono::{DateTime, Datelike, FixedOffset, LocalResult, NaiveDateTime, TimeZone, Utc};
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
            Zone::Iana(tz) => utc_to_local(tz, t),
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
    if local.year() >= TABLE_ENDS
        && let Some(utc) = far_local_to_utc(zone, local)
    {
        return utc;
    }
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

/// The first year chrono-tz's table may no longer cover (it lists transitions up to 2037).
const TABLE_ENDS: i32 = 2037;

/// The offset from UTC in `zone` at `t`, in any year.
pub fn offset_at(zone: &Tz, t: DateTime<Utc>) -> FixedOffset {
    use chrono::Offset;
    if t.year() >= TABLE_ENDS
        && let Some(offset) = far_offset(zone, t)
    {
        return offset;
    }
    t.with_timezone(zone).offset().fix()
}

/// The wall-clock time in `zone` at `t`, in any year.
pub fn utc_to_local(zone: &Tz, t: DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(&offset_at(zone, t)).naive_local()
}

/// `t` with its offset in `zone`, for printing (RFC 3339), in any year.
pub fn in_zone(zone: &Tz, t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&offset_at(zone, t))
}

/// The zone as jiff's bundled tzdb knows it, looked up once per thread and zone.
fn far_zone(zone: &Tz) -> Option<jiff::tz::TimeZone> {
    thread_local! {
        static ZONES: std::cell::RefCell<Vec<(Tz, jiff::tz::TimeZone)>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    ZONES.with(|zones| {
        if let Some((_, z)) = zones.borrow().iter().find(|(t, _)| t == zone) {
            return Some(z.clone());
        }
        let found = jiff::tz::TimeZone::get(zone.name()).ok()?;
        zones.borrow_mut().push((*zone, found.clone()));
        Some(found)
    })
}

fn far_offset(zone: &Tz, t: DateTime<Utc>) -> Option<FixedOffset> {
    let at = jiff::Timestamp::from_second(t.timestamp()).ok()?;
    FixedOffset::east_opt(far_zone(zone)?.to_offset(at).seconds())
}

/// RFC 5545's reading of a wall-clock time past 2037: in a gap, the offset before it; in an overlap,
/// the first.
fn far_local_to_utc(zone: &Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    use chrono::Timelike;
    use jiff::tz::AmbiguousOffset;
    let civil = jiff::civil::DateTime::new(
        i16::try_from(local.year()).ok()?,
        i8::try_from(local.month()).ok()?,
        i8::try_from(local.day()).ok()?,
        i8::try_from(local.hour()).ok()?,
        i8::try_from(local.minute()).ok()?,
        i8::try_from(local.second()).ok()?,
        0,
    )
    .ok()?;
    let offset = match far_zone(zone)?.to_ambiguous_timestamp(civil).offset() {
        AmbiguousOffset::Unambiguous { offset } => offset,
        AmbiguousOffset::Gap { before, .. } | AmbiguousOffset::Fold { before, .. } => before,
    };
    let utc = local.checked_sub_signed(chrono::Duration::seconds(i64::from(offset.seconds())))?;
    Some(Utc.from_utc_datetime(&utc))
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
    fn zones_follow_their_ongoing_rule_after_2037() {
        // 2273-10-10 09:00 in Berlin is summer time (the last Sunday of October is the 26th).
        let summer = local_to_utc(&Tz::Europe__Berlin, at(2273, 10, 10, 9, 0));
        assert_eq!(summer.naive_utc(), at(2273, 10, 10, 7, 0));
        assert_eq!(
            in_zone(&Tz::Europe__Berlin, summer).to_rfc3339(),
            "2273-10-10T09:00:00+02:00"
        );
        let winter = local_to_utc(&Tz::Europe__Berlin, at(2273, 12, 10, 9, 0));
        assert_eq!(
            offset_at(&Tz::Europe__Berlin, winter).local_minus_utc(),
            3600
        );
        // New York in July 2100, and the spring gap of 2100 (14 March) read as RFC 5545 says.
        let ny = local_to_utc(&Tz::America__New_York, at(2100, 7, 4, 12, 0));
        assert_eq!(
            utc_to_local(&Tz::America__New_York, ny),
            at(2100, 7, 4, 12, 0)
        );
        assert_eq!(ny.naive_utc(), at(2100, 7, 4, 16, 0));
        let gap = local_to_utc(&Tz::America__New_York, at(2100, 3, 14, 2, 30));
        assert_eq!(gap.naive_utc(), at(2100, 3, 14, 7, 30));
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
