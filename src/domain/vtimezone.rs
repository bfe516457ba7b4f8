//! Zones defined inline by a VTIMEZONE block whose TZID is not a zone we know by name (Apple and
//! Exchange write such custom definitions). The block's STANDARD and DAYLIGHT observances say from
//! when which offset applies; onsets repeat by their own RRULE or RDATEs.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

use super::ical::Component;
use super::recur::{Series, until_to_local};
use super::time::parse_datetime;

/// A zone from a VTIMEZONE block.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CustomZone {
    pub tzid: String,
    observances: Vec<Observance>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Observance {
    /// First onset, wall-clock in the offset in force before it (`offset_from`).
    start: NaiveDateTime,
    offset_from: i32,
    offset_to: i32,
    rrule: Option<String>,
    rdates: Vec<NaiveDateTime>,
}

/// `+0100`, `-0530`, `+013045`.
fn parse_offset(v: &str) -> Option<i32> {
    let v = v.trim();
    let (sign, digits) = match v.as_bytes().first()? {
        b'+' => (1, &v[1..]),
        b'-' => (-1, &v[1..]),
        _ => return None,
    };
    if !(digits.len() == 4 || digits.len() == 6) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = digits[0..2].parse().ok()?;
    let m: i32 = digits[2..4].parse().ok()?;
    let s: i32 = if digits.len() == 6 {
        digits[4..6].parse().ok()?
    } else {
        0
    };
    Some(sign * (h * 3600 + m * 60 + s))
}

impl CustomZone {
    /// Reads a VTIMEZONE component.
    pub fn from_component(c: &Component) -> Result<CustomZone, String> {
        let tzid = c
            .property("TZID")
            .map(|p| p.value.trim().to_string())
            .ok_or("VTIMEZONE without TZID")?;
        let mut observances = Vec::new();
        for o in c
            .children
            .iter()
            .filter(|o| o.name == "STANDARD" || o.name == "DAYLIGHT")
        {
            let offset = |name: &str| {
                o.property(name)
                    .and_then(|p| parse_offset(&p.value))
                    .ok_or_else(|| format!("VTIMEZONE {tzid}: {} without a valid {name}", o.name))
            };
            let (offset_from, offset_to) = (offset("TZOFFSETFROM")?, offset("TZOFFSETTO")?);
            let start = o
                .property("DTSTART")
                .and_then(|p| parse_datetime(p.value.trim()))
                .ok_or_else(|| format!("VTIMEZONE {tzid}: {} without a valid DTSTART", o.name))?;
            let rrule = o.property("RRULE").map(|p| {
                until_to_local(&p.value, |u: DateTime<Utc>| {
                    u.naive_utc() + Duration::seconds(offset_from.into())
                })
            });
            let rdates = o
                .properties_named("RDATE")
                .flat_map(|p| {
                    p.value
                        .split(',')
                        .filter_map(|v| parse_datetime(v.trim()))
                        .collect::<Vec<_>>()
                })
                .collect();
            observances.push(Observance {
                start,
                offset_from,
                offset_to,
                rrule,
                rdates,
            });
        }
        if observances.is_empty() {
            return Err(format!("VTIMEZONE {tzid} has no STANDARD or DAYLIGHT"));
        }
        Ok(CustomZone { tzid, observances })
    }

    /// The UTC offset (seconds) in force at the UTC instant `t`.
    pub fn offset_at(&self, t: NaiveDateTime) -> i32 {
        let mut best: Option<(NaiveDateTime, i32)> = None;
        for o in &self.observances {
            // Onsets within the year before `t` (offsets change at most a few times a year), plus the
            // first onset, which covers observances that never repeat.
            let series = Series {
                start: o.start,
                all_day: false,
                rrule: o.rrule.clone(),
                rdates: o.rdates.clone(),
                exdates: vec![],
            };
            let local_t = t + Duration::seconds(o.offset_from.into());
            let mut onsets = series
                .starts_between(
                    local_t - Duration::days(400),
                    local_t + Duration::seconds(1),
                )
                .unwrap_or_default();
            onsets.push(o.start);
            for onset in onsets {
                let utc = onset - Duration::seconds(o.offset_from.into());
                if utc <= t && best.is_none_or(|(b, _)| utc > b) {
                    best = Some((utc, o.offset_to));
                }
            }
        }
        match best {
            Some((_, off)) => off,
            // Before the first onset: the offset the earliest observance moves away from.
            None => self
                .observances
                .iter()
                .min_by_key(|o| o.start)
                .map_or(0, |o| o.offset_from),
        }
    }

    /// The wall-clock time in this zone at a UTC instant.
    pub fn utc_to_local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        t.naive_utc() + Duration::seconds(self.offset_at(t.naive_utc()).into())
    }

    /// The instant of a wall-clock time: in an overlap the first, in a gap moved forward by the gap.
    pub fn local_to_utc(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let mut offsets: Vec<i32> = self
            .observances
            .iter()
            .flat_map(|o| [o.offset_from, o.offset_to])
            .collect();
        offsets.sort_unstable();
        offsets.dedup();
        let valid = offsets
            .iter()
            .map(|&off| local - Duration::seconds(off.into()))
            .filter(|utc| self.utc_to_local(utc.and_utc()) == local)
            .min();
        match valid {
            Some(utc) => utc.and_utc(),
            None => {
                let before = self.offset_at(local - Duration::days(1));
                (local - Duration::seconds(before.into())).and_utc()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ical;

    /// A US-Eastern-like zone written by hand, as Exchange would, under a name no database knows.
    const CUSTOM: &str = "BEGIN:VTIMEZONE\nTZID:Custom Eastern\n\
BEGIN:STANDARD\nDTSTART:16011104T020000\nRRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11\nTZOFFSETFROM:-0400\nTZOFFSETTO:-0500\nEND:STANDARD\n\
BEGIN:DAYLIGHT\nDTSTART:16010311T020000\nRRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3\nTZOFFSETFROM:-0500\nTZOFFSETTO:-0400\nEND:DAYLIGHT\n\
END:VTIMEZONE\n";

    fn zone() -> CustomZone {
        CustomZone::from_component(&ical::parse(CUSTOM).components[0]).unwrap()
    }

    fn t(s: &str) -> NaiveDateTime {
        parse_datetime(s).unwrap()
    }

    #[test]
    fn offsets_follow_the_observance_rules_far_from_their_start() {
        let z = zone();
        assert_eq!(z.offset_at(t("20260115T120000")), -5 * 3600);
        assert_eq!(z.offset_at(t("20260715T120000")), -4 * 3600);
        // DST begins 2026-03-08 at 02:00 local = 07:00 UTC.
        assert_eq!(z.offset_at(t("20260308T065959")), -5 * 3600);
        assert_eq!(z.offset_at(t("20260308T070000")), -4 * 3600);
    }

    #[test]
    fn local_times_resolve_with_the_rfc_gap_and_overlap_rules() {
        let z = zone();
        assert_eq!(
            z.local_to_utc(t("20261123T090000")).naive_utc(),
            t("20261123T140000")
        );
        // 02:30 on 2026-03-08 does not exist: moved forward by the gap, to 03:30 EDT = 07:30 UTC.
        assert_eq!(
            z.local_to_utc(t("20260308T023000")).naive_utc(),
            t("20260308T073000")
        );
        // 01:30 on 2026-11-01 happens twice: the first, EDT = 05:30 UTC.
        assert_eq!(
            z.local_to_utc(t("20261101T013000")).naive_utc(),
            t("20261101T053000")
        );
    }

    #[test]
    fn offsets_parse_with_seconds_and_sign() {
        assert_eq!(parse_offset("+0530"), Some(5 * 3600 + 30 * 60));
        assert_eq!(parse_offset("-001500"), Some(-15 * 60));
        assert_eq!(parse_offset("0100"), None);
    }
}
