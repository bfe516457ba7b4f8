//! Recurrence (RFC 5545 3.3.10, 3.8.5): which instances of a series fall in a window.
//!
//! Expansion happens in wall-clock time: a weekly 09:00 meeting is 09:00 on every instance, whatever
//! the zone's offset that day; the caller maps each wall-clock start to an instant through the zone
//! (which applies RFC 5545's gap and overlap rules). The `rrule` crate does the rule arithmetic.
//!
//! Cost is bounded by the window, not by how far it lies from DTSTART: a rule without COUNT is first
//! moved forward by whole periods to just before the window (its implicit parts, such as the weekday
//! of a weekly rule, made explicit so moving DTSTART does not change them). A rule with COUNT is
//! bounded by its count.

use chrono::{Datelike, Duration, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Weekday};
use rrule::{RRule, Tz as RTz, Unvalidated};

/// At most this many instances per series per window (a minutely rule over a month is 44,640).
pub const MAX_INSTANCES: u16 = 5_000;

/// Why a rule cannot be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("RRULE '{rule}': {reason}")]
pub struct RecurError {
    pub rule: String,
    pub reason: String,
}

/// A series in wall-clock terms: what expansion needs, nothing more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    /// DTSTART as wall-clock time (midnight for all-day series).
    pub start: NaiveDateTime,
    pub all_day: bool,
    /// The RRULE value, with UNTIL already in the series' wall-clock time (see [`until_to_local`]).
    pub rrule: Option<String>,
    /// RDATE starts, wall-clock.
    pub rdates: Vec<NaiveDateTime>,
    /// EXDATE starts, wall-clock. For an all-day series only the date counts.
    pub exdates: Vec<NaiveDateTime>,
}

impl Series {
    /// Wall-clock starts of instances that begin in `[from, to)`, in order, DTSTART included
    /// (RFC 5545: DTSTART is always the first instance), EXDATEs removed, RDATEs added.
    pub fn starts_between(
        &self,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<Vec<NaiveDateTime>, RecurError> {
        let mut out = match &self.rrule {
            Some(rule) => expand_rule(rule, self.start, from, to)?,
            None => Vec::new(),
        };
        if self.start >= from && self.start < to {
            out.push(self.start);
        }
        out.extend(
            self.rdates
                .iter()
                .copied()
                .filter(|d| *d >= from && *d < to),
        );
        out.sort();
        out.dedup();
        out.retain(|s| !self.excluded(*s));
        Ok(out)
    }

    fn excluded(&self, start: NaiveDateTime) -> bool {
        self.exdates.iter().any(|x| {
            if self.all_day {
                x.date() == start.date()
            } else {
                *x == start
            }
        })
    }
}

/// Parsed `NAME=VALUE` parts of an RRULE, in order.
struct Parts(Vec<(String, String)>);

impl Parts {
    fn parse(rule: &str) -> Parts {
        Parts(
            rule.split(';')
                .filter(|p| !p.trim().is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (k.trim().to_ascii_uppercase(), v.trim().to_string())
                })
                .collect(),
        )
    }
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    fn set(&mut self, key: &str, value: String) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = value,
            None => self.0.push((key.to_string(), value)),
        }
    }
    fn render(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(";")
    }
}

/// Rewrites UNTIL into wall-clock time, the frame expansion works in.
///
/// A UTC UNTIL (`…Z`) is converted with `to_local`; a DATE UNTIL includes that whole day; a floating
/// UNTIL is already wall-clock. The result always carries `Z`, because expansion runs in a zone-less
/// frame that the `rrule` crate sees as UTC.
pub fn until_to_local(
    rule: &str,
    to_local: impl Fn(chrono::DateTime<chrono::Utc>) -> NaiveDateTime,
) -> String {
    let mut parts = Parts::parse(rule);
    let Some(until) = parts.get("UNTIL").map(str::to_string) else {
        return parts.render();
    };
    let local = if let Some(utc) = until.strip_suffix(['Z', 'z']) {
        super::time::parse_datetime(utc).map(|t| to_local(t.and_utc()))
    } else if let Some(d) = super::time::parse_date(&until) {
        d.and_hms_opt(23, 59, 59)
    } else {
        super::time::parse_datetime(&until)
    };
    if let Some(local) = local {
        parts.set("UNTIL", local.format("%Y%m%dT%H%M%SZ").to_string());
    }
    parts.render()
}

fn err(rule: &str, reason: impl Into<String>) -> RecurError {
    RecurError {
        rule: rule.to_string(),
        reason: reason.into(),
    }
}

fn weekday_code(d: Weekday) -> &'static str {
    ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][d.num_days_from_monday() as usize]
}

/// Moves DTSTART forward by whole periods to just before `from`, making the parts it implied explicit.
/// Returns the rule and start to expand from.
fn fast_forward(parts: &mut Parts, start: NaiveDateTime, from: NaiveDateTime) -> NaiveDateTime {
    if parts.has("COUNT") || from <= start {
        return start;
    }
    let interval: i64 = parts
        .get("INTERVAL")
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(1);
    let freq = parts.get("FREQ").unwrap_or("").to_ascii_uppercase();
    let fixed = match freq.as_str() {
        "SECONDLY" => Some(Duration::seconds(interval)),
        "MINUTELY" => Some(Duration::minutes(interval)),
        "HOURLY" => Some(Duration::hours(interval)),
        "DAILY" => Some(Duration::days(interval)),
        "WEEKLY" => Some(Duration::weeks(interval)),
        _ => None,
    };
    if let Some(period) = fixed {
        let periods = (from - start).num_seconds() / period.num_seconds() - 1;
        if periods <= 0 {
            return start;
        }
        if freq == "WEEKLY" && !parts.has("BYDAY") {
            parts.set("BYDAY", weekday_code(start.weekday()).to_string());
        }
        return start + period * periods as i32;
    }
    let by_day_like = ["BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO"]
        .iter()
        .any(|k| parts.has(k));
    let months_per_period = match freq.as_str() {
        "MONTHLY" => interval,
        "YEARLY" => 12 * interval,
        _ => return start,
    };
    let months_between =
        (from.year() - start.year()) as i64 * 12 + from.month() as i64 - start.month() as i64;
    let periods = months_between / months_per_period - 1;
    if periods <= 0 {
        return start;
    }
    if !by_day_like {
        parts.set("BYMONTHDAY", start.day().to_string());
        if freq == "YEARLY" && !parts.has("BYMONTH") {
            parts.set("BYMONTH", start.month().to_string());
        }
    } else if freq == "YEARLY" && parts.has("BYWEEKNO") && !parts.has("BYDAY") {
        parts.set("BYDAY", weekday_code(start.weekday()).to_string());
    }
    // Whole periods from the first of DTSTART's month (or year), so the day always exists.
    let anchor = if freq == "YEARLY" {
        NaiveDate::from_ymd_opt(start.year(), 1, 1)
    } else {
        NaiveDate::from_ymd_opt(start.year(), start.month(), 1)
    };
    let Some(anchor) = anchor else { return start };
    let Some(moved) = u32::try_from(periods * months_per_period)
        .ok()
        .and_then(|m| anchor.checked_add_months(Months::new(m)))
    else {
        return start;
    };
    moved.and_time(start.time())
}

fn expand_rule(
    rule: &str,
    start: NaiveDateTime,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<NaiveDateTime>, RecurError> {
    if to <= from {
        return Ok(Vec::new());
    }
    let mut parts = Parts::parse(rule);
    // RFC 5545: DTSTART counts as the first of COUNT instances even when the rule would not produce
    // it; the rrule crate counts only what the rule produces, so it is told one fewer.
    if let Some(count) = parts.get("COUNT").and_then(|c| c.parse::<u32>().ok()) {
        if !rule_produces(&parts.render(), start) {
            if count <= 1 {
                return Ok(Vec::new());
            }
            parts.set("COUNT", (count - 1).to_string());
        }
    }
    let origin = fast_forward(&mut parts, start, from);
    let text = parts.render();
    let parsed: RRule<Unvalidated> = text
        .parse()
        .map_err(|e: rrule::RRuleError| err(rule, e.to_string()))?;
    let set = parsed
        .build(RTz::UTC.from_utc_datetime(&origin))
        .map_err(|e| err(rule, e.to_string()))?;
    let after = RTz::UTC.from_utc_datetime(&from);
    let before = RTz::UTC.from_utc_datetime(&(to - Duration::seconds(1)));
    let result = set.after(after).before(before).all(MAX_INSTANCES);
    Ok(result
        .dates
        .into_iter()
        .map(|d| d.naive_utc())
        // A moved DTSTART is a stand-in, not an instance, unless the rule itself produces it.
        .filter(|d| *d != origin || origin == start || rule_produces(&text, origin))
        .collect())
}

/// Whether the rule with DTSTART at `at` yields `at` itself. The `rrule` crate (like dateutil) yields
/// DTSTART only when the rule matches it, so this is whether its first instance is `at`.
fn rule_produces(text: &str, at: NaiveDateTime) -> bool {
    let Ok(parsed) = text.parse::<RRule<Unvalidated>>() else {
        return false;
    };
    let Ok(set) = parsed.build(RTz::UTC.from_utc_datetime(&at)) else {
        return false;
    };
    set.all(1)
        .dates
        .first()
        .is_some_and(|d| d.naive_utc() == at)
}

/// Midnight of a date, the wall-clock start of an all-day instance.
pub fn midnight(d: NaiveDate) -> NaiveDateTime {
    d.and_time(NaiveTime::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        super::super::time::parse_datetime(s).unwrap()
    }

    fn series(start: &str, rule: &str) -> Series {
        Series {
            start: t(start),
            all_day: false,
            rrule: Some(rule.into()),
            rdates: vec![],
            exdates: vec![],
        }
    }

    #[test]
    fn a_far_future_window_costs_the_same_as_a_near_one() {
        let s = series("20261123T090000", "FREQ=DAILY");
        let near = s
            .starts_between(t("20261201T000000"), t("20261208T000000"))
            .unwrap();
        let far = s
            .starts_between(t("20900301T000000"), t("20900308T000000"))
            .unwrap();
        assert_eq!(near.len(), 7);
        assert_eq!(far.len(), 7);
        assert_eq!(far[0], t("20900301T090000"));
    }

    #[test]
    fn moving_a_monthly_rule_keeps_its_day_and_skips_short_months() {
        let s = series("20260131T100000", "FREQ=MONTHLY");
        let got = s
            .starts_between(t("20300101T000000"), t("20300601T000000"))
            .unwrap();
        let days: Vec<u32> = got.iter().map(|d| d.month()).collect();
        assert_eq!(days, vec![1, 3, 5], "only months with a 31st");
    }

    #[test]
    fn a_weekly_rule_keeps_its_weekday_and_parity_far_away() {
        let s = series("20261124T090000", "FREQ=WEEKLY;INTERVAL=2"); // a Tuesday
        let got = s
            .starts_between(t("20400101T000000"), t("20400201T000000"))
            .unwrap();
        assert!(got.iter().all(|d| d.weekday() == Weekday::Tue));
        for d in &got {
            assert_eq!((d.date() - t("20261124T090000").date()).num_days() % 14, 0);
        }
    }

    #[test]
    fn dtstart_counts_even_when_the_rule_would_not_produce_it() {
        // RFC 5545: DTSTART is the first instance. Monday start, rule on Wednesdays.
        let s = series("20261123T090000", "FREQ=WEEKLY;BYDAY=WE;COUNT=2");
        let got = s
            .starts_between(t("20261101T000000"), t("20261231T000000"))
            .unwrap();
        assert_eq!(got, vec![t("20261123T090000"), t("20261125T090000")]);
    }

    #[test]
    fn exdates_and_rdates_apply() {
        let mut s = series("20261123T090000", "FREQ=DAILY;COUNT=3");
        s.exdates.push(t("20261124T090000"));
        s.rdates.push(t("20261130T120000"));
        let got = s
            .starts_between(t("20261101T000000"), t("20261231T000000"))
            .unwrap();
        assert_eq!(
            got,
            vec![
                t("20261123T090000"),
                t("20261125T090000"),
                t("20261130T120000")
            ]
        );
    }

    #[test]
    fn until_moves_into_wall_clock_time() {
        let r = until_to_local("FREQ=DAILY;UNTIL=20261125T080000Z", |u| {
            u.naive_utc() + Duration::hours(1)
        });
        assert_eq!(r, "FREQ=DAILY;UNTIL=20261125T090000Z");
        let r = until_to_local("FREQ=DAILY;UNTIL=20261125", |u| u.naive_utc());
        assert_eq!(r, "FREQ=DAILY;UNTIL=20261125T235959Z");
    }

    #[test]
    fn a_bad_rule_is_an_error_not_a_panic() {
        let s = series("20261123T090000", "FREQ=SOMETIMES");
        assert!(
            s.starts_between(t("20261101T000000"), t("20261201T000000"))
                .is_err()
        );
    }
}
