//! Graph's `dateTimeTimeZone` (`{"dateTime":"2026-11-23T09:00:00.0000000","timeZone":"Pacific
//! Standard Time"}`) read into the domain's times, by PROTOCOLS.md §3 "Times": 0–7 fractional
//! digits and no offset; the zone a Windows name, an IANA name or `UTC`; a custom or empty zone
//! falls back to the series' zones; all-day times are dates, never converted.

use chrono::{NaiveDate, NaiveDateTime, Timelike};
use serde_json::Value;

use crate::domain::time::EventTime;
use crate::domain::tz::{Zone, resolve};

/// A Graph `dateTime`: `YYYY-MM-DDTHH:MM:SS` with 0–7 fractional digits (a trailing `Z` is
/// tolerated).
pub fn parse_date_time(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim().trim_end_matches(['Z', 'z']);
    let (whole, fraction) = match s.split_once('.') {
        Some((w, f)) if f.len() <= 9 && f.chars().all(|c| c.is_ascii_digit()) => (w, f),
        Some(_) => return None,
        None => (s, ""),
    };
    let t = NaiveDateTime::parse_from_str(whole, "%Y-%m-%dT%H:%M:%S").ok()?;
    let nanos: u32 = format!("{fraction:0<9}").parse().ok()?;
    t.with_nanosecond(nanos)
}

/// A Graph `dateTime` as Graph writes it: seven fractional digits.
pub fn write_date_time(t: NaiveDateTime) -> String {
    format!(
        "{}.{:07}",
        t.format("%Y-%m-%dT%H:%M:%S"),
        t.nanosecond() / 100
    )
}

/// Whether a zone name carries no zone of its own (Graph's custom-zone marker, or nothing).
fn is_custom(name: &str) -> bool {
    let name = name.trim();
    name.is_empty() || name.eq_ignore_ascii_case("tzone://Microsoft/Custom")
}

/// Reads one `dateTimeTimeZone`. `all_day`: the event's `isAllDay` (its date, never converted).
/// `fallbacks`: the zones to use when this one is custom or empty, best first
/// (`recurrenceTimeZone`, `originalStartTimeZone`, `originalEndTimeZone`). Returns the time and
/// whether it fell back to UTC for want of any zone (worth a warning).
pub fn read_time(
    v: &Value,
    all_day: bool,
    fallbacks: &[&str],
) -> Result<(EventTime, bool), String> {
    let raw = v
        .get("dateTime")
        .and_then(Value::as_str)
        .ok_or("no dateTime")?;
    let local = parse_date_time(raw).ok_or_else(|| format!("unreadable dateTime '{raw}'"))?;
    // [obs] All-day events ignore outlook.timezone: their midnight is the date itself.
    if all_day {
        return Ok((EventTime::Date(local.date()), false));
    }
    let named = v.get("timeZone").and_then(Value::as_str).unwrap_or("");
    let zone_name = std::iter::once(named)
        .chain(fallbacks.iter().copied())
        .find(|z| !is_custom(z));
    let Some(zone_name) = zone_name else {
        return Ok((EventTime::Utc(local.and_utc()), true));
    };
    if zone_name.eq_ignore_ascii_case("UTC") || zone_name.eq_ignore_ascii_case("Etc/UTC") {
        return Ok((EventTime::Utc(local.and_utc()), false));
    }
    match resolve(zone_name) {
        Some(tz) => Ok((
            EventTime::Zoned {
                local,
                tzid: tz.name().to_string(),
                zone: Some(Zone::Iana(tz)),
            },
            false,
        )),
        // A name no table knows: read as UTC, and say so.
        None => Ok((EventTime::Utc(local.and_utc()), true)),
    }
}

/// A Graph date (`YYYY-MM-DD`); years 0001 and 9999 are Graph's "none" [obs].
pub fn read_date(s: &str) -> Option<NaiveDate> {
    use chrono::Datelike;
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    (d.year() > 1 && d.year() < 9999).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::When;
    use serde_json::json;

    fn utc(s: &str) -> When {
        When::Instant(s.parse().unwrap())
    }

    #[test]
    fn zero_to_seven_fractional_digits_are_read_and_seven_are_written() {
        for s in [
            "2026-11-23T09:00:00",
            "2026-11-23T09:00:00.0",
            "2026-11-23T09:00:00.0000000",
            "2026-11-23T09:00:00.0000000Z",
        ] {
            assert_eq!(
                parse_date_time(s).unwrap().to_string(),
                "2026-11-23 09:00:00",
                "{s}"
            );
        }
        let t = parse_date_time("2026-11-23T09:00:00.1234567").unwrap();
        assert_eq!(write_date_time(t), "2026-11-23T09:00:00.1234567");
        assert!(parse_date_time("2026-11-23T09:00:00.12a").is_none());
        assert!(parse_date_time("yesterday").is_none());
    }

    #[test]
    fn windows_iana_and_utc_zones_are_read_and_custom_zones_fall_back() {
        let at = |zone: &str| json!({"dateTime": "2026-11-23T09:00:00.0000000", "timeZone": zone});
        let (t, warn) = read_time(&at("W. Europe Standard Time"), false, &[]).unwrap();
        assert!(!warn);
        assert_eq!(t.normalise(), utc("2026-11-23T08:00:00Z"));
        let (t, _) = read_time(&at("America/New_York"), false, &[]).unwrap();
        assert_eq!(t.normalise(), utc("2026-11-23T14:00:00Z"));
        let (t, _) = read_time(&at("UTC"), false, &[]).unwrap();
        assert_eq!(t.normalise(), utc("2026-11-23T09:00:00Z"));
        // tzone://Microsoft/Custom: the series' recurrenceTimeZone, then the original zones.
        let (t, warn) = read_time(
            &at("tzone://Microsoft/Custom"),
            false,
            &["", "Pacific Standard Time"],
        )
        .unwrap();
        assert!(!warn);
        assert_eq!(t.normalise(), utc("2026-11-23T17:00:00Z"));
        // No zone anywhere: UTC, with a warning.
        let (t, warn) = read_time(&at(""), false, &["tzone://Microsoft/Custom"]).unwrap();
        assert!(warn);
        assert_eq!(t.normalise(), utc("2026-11-23T09:00:00Z"));
    }

    #[test]
    fn all_day_times_are_their_dates_and_sentinel_years_are_none() {
        let v =
            json!({"dateTime": "2026-11-23T00:00:00.0000000", "timeZone": "Tokyo Standard Time"});
        let (t, _) = read_time(&v, true, &[]).unwrap();
        assert_eq!(
            t,
            EventTime::Date(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap())
        );
        assert_eq!(read_date("0001-01-01"), None);
        assert_eq!(read_date("9999-12-31"), None);
        assert_eq!(read_date("2027-03-01"), NaiveDate::from_ymd_opt(2027, 3, 1));
    }
}
