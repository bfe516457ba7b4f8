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

/// At most this many instances per series per window (a minutely rule over a month is 44,640). A
/// window that holds more is an error that says the series is truncated, never a silent cut.
pub const MAX_INSTANCES: u16 = 5_000;

/// At most this many instances are counted from DTSTART to reach a window, for a COUNT rule whose end
/// cannot be found by arithmetic (one with BY parts that the `rrule` crate expands). A window further
/// out is an error that says the series is truncated, so no rule makes a window cost seconds.
pub const MAX_COUNTED: u32 = 2_000;

/// At most this many periods (seconds of a SECONDLY rule, days of a DAILY one, …) are walked from
/// DTSTART for such a COUNT rule: the `rrule` crate walks them one by one, and a rule that rarely
/// matches would otherwise cost milliseconds per window for each decade. (A single gap between two
/// instances is bounded by the crate's own limit of 100,000 periods.)
pub const MAX_COUNTED_PERIODS: i64 = 20_000;

/// The shortest repeat a series may have: one a minute. A series of one event a second (86,400 a
/// day) cannot be shown in a calendar, so it is refused, with this reason, when it is read.
pub const MIN_PERIOD_SECS: i64 = 60;

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
    fn remove(&mut self, key: &str) {
        self.0.retain(|(k, _)| k != key);
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

/// Refuses a rule no calendar can show: one that repeats more often than every
/// [`MIN_PERIOD_SECS`] (`FREQ=SECONDLY` with an INTERVAL under 60). The reader lists an event with
/// such a rule as unreadable, with this reason, rather than show a day of it and drop the rest.
pub fn check_rule(rule: &str) -> Result<(), RecurError> {
    let parts = Parts::parse(rule);
    let secondly = parts
        .get("FREQ")
        .is_some_and(|f| f.eq_ignore_ascii_case("SECONDLY"));
    let interval: i64 = parts
        .get("INTERVAL")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    if secondly && interval < MIN_PERIOD_SECS {
        return Err(err(
            rule,
            format!(
                "repeats every {interval} s: more instances than a calendar can show (at most one a minute)"
            ),
        ));
    }
    Ok(())
}

/// Turns the COUNT of an evenly spaced rule (SECONDLY to WEEKLY, no BY parts) into the UNTIL of its
/// last instance, found by arithmetic, so a window years after DTSTART costs what a near one does:
/// nothing needs counting from DTSTART. Other rules keep their COUNT.
fn count_to_until(parts: &mut Parts, start: NaiveDateTime) {
    if parts.0.iter().any(|(k, _)| k.starts_with("BY")) {
        return;
    }
    let Some(count) = parts
        .get("COUNT")
        .and_then(|c| c.parse::<i64>().ok())
        .filter(|n| *n > 0)
    else {
        return;
    };
    // Evenly spaced rules only: months and years differ in length.
    let Some(unit) = fixed_unit_secs(parts) else {
        return;
    };
    let interval: i64 = parts
        .get("INTERVAL")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let last = unit
        .checked_mul(interval)
        .and_then(|p| p.checked_mul(count - 1))
        .and_then(Duration::try_seconds)
        .and_then(|d| start.checked_add_signed(d))
        .filter(|t| t.year() <= 9999);
    let until = parts
        .get("UNTIL")
        .and_then(|u| super::time::parse_datetime(u.trim_end_matches(['Z', 'z'])));
    parts.remove("COUNT");
    // Past year 9999 the series outlives any window: no end at all.
    if let Some(last) = match (last, until) {
        (Some(l), Some(u)) => Some(l.min(u)),
        (l, u) => l.or(u),
    } {
        parts.set("UNTIL", last.format("%Y%m%dT%H%M%SZ").to_string());
    }
}

/// The latest start the rule can yield, when known without expanding it: its UNTIL (wall-clock, as
/// [`until_to_local`] leaves it), or the last instance of an evenly spaced COUNT rule.
pub fn rule_bound(rule: &str, start: NaiveDateTime) -> Option<NaiveDateTime> {
    let mut parts = Parts::parse(rule);
    count_to_until(&mut parts, start);
    if parts.has("COUNT") {
        return None;
    }
    parts
        .get("UNTIL")
        .and_then(|u| super::time::parse_datetime(u.trim_end_matches(['Z', 'z'])))
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
        return super::time::add_local(
            start,
            Duration::seconds(period.num_seconds().saturating_mul(periods)),
        );
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
    // RFC 5545 rules are ASCII; the rrule crate panics on some other text (found by fuzzing).
    if !rule.is_ascii() {
        return Err(err(rule, "has characters that are not ASCII"));
    }
    check_rule(rule)?;
    let mut parts = Parts::parse(rule);
    // Bounds no real calendar reaches, so the arithmetic below cannot overflow.
    for (key, max) in [("INTERVAL", 100_000_i64), ("COUNT", 10_000_000)] {
        if let Some(v) = parts.get(key) {
            match v.parse::<i64>() {
                Ok(n) if (1..=max).contains(&n) || (key == "COUNT" && n == 0) => {}
                _ => return Err(err(rule, format!("{key}={v} is out of range (1 to {max})"))),
            }
        }
    }
    if never_matches(&parts) {
        return Ok(Vec::new());
    }
    // RFC 5545: DTSTART counts as the first of COUNT instances even when the rule would not produce
    // it; the rrule crate counts only what the rule produces, so it is told one fewer.
    if let Some(count) = parts.get("COUNT").and_then(|c| c.parse::<u32>().ok()) {
        let produces = simple_produces(&parts, start)
            .or_else(|| PeriodRule::parse(&parts).map(|r| r.produces(start)))
            .unwrap_or_else(|| rule_produces(&parts.render(), start));
        if !produces {
            if count <= 1 {
                return Ok(Vec::new());
            }
            parts.set("COUNT", (count - 1).to_string());
        }
    }
    count_to_until(&mut parts, start);
    if let Some(list) = simple_rule(&parts, start, from, to) {
        if list.len() > usize::from(MAX_INSTANCES) {
            return Err(too_many(rule));
        }
        return Ok(list);
    }

    if let Some(list) = PeriodRule::parse(&parts).map(|r| r.between(start, from, to)) {
        return Ok(list);
    }
    // A window after UNTIL holds nothing (and moving DTSTART past UNTIL would be an invalid rule).
    let until = parts
        .get("UNTIL")
        .and_then(|u| super::time::parse_datetime(u.trim_end_matches(['Z', 'z'])));
    if until.is_some_and(|u| u < from) {
        return Ok(Vec::new());
    }
    let origin = fast_forward(&mut parts, start, from);
    let text = parts.render();
    let parsed: RRule<Unvalidated> = text
        .parse()
        .map_err(|e: rrule::RRuleError| err(rule, e.to_string()))?;
    let set = parsed
        .build(RTz::UTC.from_utc_datetime(&origin))
        .map_err(|e| err(rule, e.to_string()))?;
    let dates = if parts.has("COUNT") {
        let period = period_secs(&parts);
        counted_between(rule, set, from, to, period)?
    } else {
        let after = RTz::UTC.from_utc_datetime(&from);
        let before = RTz::UTC.from_utc_datetime(&(to - Duration::seconds(1)));
        let result = set.after(after).before(before).all(MAX_INSTANCES + 1);
        if result.dates.len() > usize::from(MAX_INSTANCES) {
            return Err(too_many(rule));
        }
        result.dates.into_iter().map(|d| d.naive_utc()).collect()
    };
    Ok(dates
        .into_iter()
        // A moved DTSTART is a stand-in, not an instance, unless the rule itself produces it.
        .filter(|d| *d != origin || origin == start || rule_produces(&text, origin))
        .collect())
}

/// True when BYMONTHDAY names only days that none of the rule's months has (`BYMONTH=2;BYMONTHDAY=30`).
/// The `rrule` crate would search 100,000 periods for such a rule before giving up, in every window.
fn never_matches(parts: &Parts) -> bool {
    let numbers = |key: &str| -> Option<Vec<i64>> {
        parts
            .get(key)?
            .split(',')
            .map(|v| v.trim().parse().ok())
            .collect()
    };
    let Some(days) = numbers("BYMONTHDAY") else {
        return false;
    };
    let months = numbers("BYMONTH").unwrap_or_else(|| (1..=12).collect());
    // The longest each month can be (February in a leap year).
    let longest = |m: i64| match m {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    !months
        .iter()
        .any(|m| days.iter().any(|d| (1..=longest(*m)).contains(&d.abs())))
}

/// Seconds in one FREQ unit of a rule whose periods all last the same (SECONDLY to WEEKLY).
fn fixed_unit_secs(parts: &Parts) -> Option<i64> {
    match parts
        .get("FREQ")
        .unwrap_or("")
        .to_ascii_uppercase()
        .as_str()
    {
        "SECONDLY" => Some(1),
        "MINUTELY" => Some(60),
        "HOURLY" => Some(3_600),
        "DAILY" => Some(86_400),
        "WEEKLY" => Some(604_800),
        _ => None,
    }
}

/// The length of the rule's period (FREQ times INTERVAL) in seconds, months and years averaged.
fn period_secs(parts: &Parts) -> i64 {
    let interval: i64 = parts
        .get("INTERVAL")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let unit = fixed_unit_secs(parts).unwrap_or_else(|| {
        if parts
            .get("FREQ")
            .is_some_and(|f| f.eq_ignore_ascii_case("MONTHLY"))
        {
            2_629_746
        } else {
            31_556_952
        }
    });
    (unit * interval).max(1)
}

fn too_many(rule: &str) -> RecurError {
    err(
        rule,
        format!("series truncated: more than {MAX_INSTANCES} instances in one window"),
    )
}

/// Starts in `[from, to)` of a COUNT rule the crate expands from DTSTART: instances are counted from
/// there, at most [`MAX_COUNTED`] of them, so the work per window is bounded whatever the COUNT.
fn counted_between(
    rule: &str,
    set: rrule::RRuleSet,
    from: NaiveDateTime,
    to: NaiveDateTime,
    period: i64,
) -> Result<Vec<NaiveDateTime>, RecurError> {
    let start = set.get_dt_start().naive_utc();
    let mut out = Vec::new();
    for (n, d) in (&set.limit()).into_iter().enumerate() {
        let d = d.naive_utc();
        if d >= to {
            break;
        }
        if (d - start).num_seconds() / period > MAX_COUNTED_PERIODS {
            return Err(err(
                rule,
                format!(
                    "series truncated: this window is more than {MAX_COUNTED_PERIODS} periods after DTSTART"
                ),
            ));
        }
        if n >= MAX_COUNTED as usize {
            return Err(err(
                rule,
                format!(
                    "series truncated: this window is more than {MAX_COUNTED} instances after DTSTART"
                ),
            ));
        }
        if d >= from {
            if out.len() >= usize::from(MAX_INSTANCES) {
                return Err(too_many(rule));
            }
            out.push(d);
        }
    }
    Ok(out)
}

/// Instances of the commonest rules, computed directly: FREQ=DAILY with no BY parts, and FREQ=WEEKLY
/// with plain weekdays in BYDAY, with any INTERVAL, WKST and UNTIL but no COUNT. `None` for anything
/// else, which the `rrule` crate expands. Cost: the instances in the window, nothing more.
fn simple_rule(
    parts: &Parts,
    start: NaiveDateTime,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Option<Vec<NaiveDateTime>> {
    let allowed = ["FREQ", "INTERVAL", "UNTIL", "COUNT", "BYDAY", "WKST"];
    if parts.0.iter().any(|(k, _)| !allowed.contains(&k.as_str())) {
        return None;
    }
    let interval: i64 = match parts.get("INTERVAL") {
        Some(v) => v.parse().ok().filter(|n: &i64| *n > 0)?,
        None => 1,
    };
    let mut until = match parts.get("UNTIL") {
        Some(u) => Some(super::time::parse_datetime(u.strip_suffix(['Z', 'z'])?)?),
        None => None,
    };
    let freq = parts.get("FREQ")?.to_ascii_uppercase();
    let wkst = match parts.get("WKST") {
        Some(w) => weekday_from_code(w)?,
        None => Weekday::Mon,
    };
    let mut days: Vec<Weekday> = match parts.get("BYDAY") {
        Some(list) => list
            .split(',')
            .map(|d| weekday_from_code(d.trim()))
            .collect::<Option<_>>()?,
        None => vec![start.weekday()],
    };
    // Order the week's days from WKST, so the n-th instance of a week is `days[n]`.
    days.sort_by_key(|d| (d.num_days_from_monday() + 7 - wkst.num_days_from_monday()) % 7);
    days.dedup();
    let offset =
        |d: &Weekday| i64::from((d.num_days_from_monday() + 7 - wkst.num_days_from_monday()) % 7);
    // COUNT becomes an UNTIL: the COUNT-th instance, counted from DTSTART, found by arithmetic.
    if let Some(count) = parts.get("COUNT") {
        let count: i64 = count.parse().ok().filter(|n: &i64| *n > 0)?;
        let last = match freq.as_str() {
            "DAILY" if !parts.has("BYDAY") => {
                super::time::add_local(start, Duration::days(interval * (count - 1)))
            }
            "WEEKLY" => {
                let week0 = week_start(start.date(), wkst);
                let first: Vec<NaiveDateTime> = days
                    .iter()
                    .map(|d| (week0 + Duration::days(offset(d))).and_time(start.time()))
                    .filter(|t| *t >= start)
                    .collect();
                let n = days.len() as i64;
                if count <= first.len() as i64 {
                    first[(count - 1) as usize]
                } else {
                    let rest = count - first.len() as i64 - 1;
                    let week = week0 + Duration::days(7 * interval * (rest / n + 1));
                    (week + Duration::days(offset(&days[(rest % n) as usize])))
                        .and_time(start.time())
                }
            }
            _ => return None,
        };
        until = Some(until.map_or(last, |u| u.min(last)));
    }
    let to = match until {
        Some(u) => to.min(u + Duration::seconds(1)),
        None => to,
    };
    let from = from.max(start);
    if to <= from {
        return Some(Vec::new());
    }
    let mut out = Vec::new();
    match freq.as_str() {
        "SECONDLY" | "MINUTELY" | "HOURLY" | "DAILY" if !parts.has("BYDAY") => {
            let unit = match freq.as_str() {
                "SECONDLY" => 1,
                "MINUTELY" => 60,
                "HOURLY" => 3_600,
                _ => 86_400,
            };
            let step = Duration::seconds(unit * interval);
            let skip = (from - start).num_seconds() / step.num_seconds();
            let mut t = super::time::add_local(start, Duration::seconds(skip * step.num_seconds()));
            // One past the cap is enough for the caller to say the window is truncated.
            while t < to && out.len() <= usize::from(MAX_INSTANCES) {
                if t >= from {
                    out.push(t);
                }
                t += step;
            }
        }
        "WEEKLY" => {
            let week0 = week_start(start.date(), wkst);
            let period = 7 * interval;
            let first_week = ((from.date() - week0).num_days() / period - 1).max(0);
            let mut w = first_week;
            loop {
                let week = week0 + Duration::days(w * period);
                if midnight(week) >= to {
                    break;
                }
                out.extend(
                    days.iter()
                        .map(|d| (week + Duration::days(offset(d))).and_time(start.time()))
                        .filter(|t| *t >= from && *t < to),
                );
                w += 1;
            }
        }
        _ => return None,
    }
    out.dedup();
    Some(out)
}

/// The commonest MONTHLY and YEARLY rules, computed directly, one period (a month or a year) at a
/// time: BYMONTHDAY (negatives too), BYDAY (plain or with ordinals), BYMONTH and BYSETPOS, with
/// INTERVAL, UNTIL and COUNT. Every instance has DTSTART's time of day (no BYHOUR and finer parts).
/// Anything else (BYWEEKNO, BYYEARDAY, a YEARLY BYDAY without BYMONTH) goes to the `rrule` crate.
/// The semantics are the crate's, which a differential test checks.
struct PeriodRule {
    yearly: bool,
    interval: u32,
    until: Option<NaiveDateTime>,
    count: Option<u32>,
    months: Vec<u32>,
    month_days: Vec<i32>,
    /// (ordinal within the month, 0 for every such day; weekday)
    days: Vec<(i32, Weekday)>,
    set_pos: Vec<i32>,
}

impl PeriodRule {
    fn parse(parts: &Parts) -> Option<PeriodRule> {
        let allowed = [
            "FREQ",
            "INTERVAL",
            "UNTIL",
            "COUNT",
            "BYDAY",
            "BYMONTHDAY",
            "BYMONTH",
            "BYSETPOS",
            "WKST",
        ];
        if parts.0.iter().any(|(k, _)| !allowed.contains(&k.as_str())) {
            return None;
        }
        let yearly = match parts.get("FREQ")?.to_ascii_uppercase().as_str() {
            "MONTHLY" => false,
            "YEARLY" => true,
            _ => return None,
        };
        fn list<T>(v: Option<&str>, item: impl Fn(&str) -> Option<T>) -> Option<Vec<T>> {
            v.map_or(Some(Vec::new()), |v| {
                v.split(',').map(|x| item(x.trim())).collect()
            })
        }
        let ranged = |lo: i32, hi: i32| {
            move |x: &str| {
                x.parse::<i32>()
                    .ok()
                    .filter(|n| *n != 0 && (lo..=hi).contains(n))
            }
        };
        let rule = PeriodRule {
            yearly,
            interval: match parts.get("INTERVAL") {
                Some(v) => v.parse().ok().filter(|n: &u32| *n > 0)?,
                None => 1,
            },
            until: match parts.get("UNTIL") {
                Some(u) => Some(super::time::parse_datetime(u.strip_suffix(['Z', 'z'])?)?),
                None => None,
            },
            count: match parts.get("COUNT") {
                Some(c) => Some(c.parse().ok().filter(|n: &u32| *n > 0)?),
                None => None,
            },
            months: list(parts.get("BYMONTH"), |x| {
                x.parse().ok().filter(|m: &u32| (1..=12).contains(m))
            })?,
            month_days: list(parts.get("BYMONTHDAY"), ranged(-31, 31))?,
            days: list(parts.get("BYDAY"), |x| {
                let at = x.len().checked_sub(2)?;
                let (ord, code) = (x.get(..at)?, x.get(at..)?);
                let ord = match ord {
                    "" => 0,
                    o => ranged(-53, 53)(o.trim_start_matches('+'))?,
                };
                Some((ord, weekday_from_code(code)?))
            })?,
            set_pos: list(parts.get("BYSETPOS"), ranged(-366, 366))?,
        };
        // A YEARLY BYDAY counts within the year unless BYMONTH is given.
        if yearly && !rule.days.is_empty() && rule.months.is_empty() {
            return None;
        }
        Some(rule)
    }

    /// The months of period `k` (counted in periods from DTSTART's) with the days the rule picks
    /// in each, in order.
    fn period(&self, start: NaiveDateTime, k: u32) -> Vec<NaiveDate> {
        let span = if self.yearly { 12 } else { 1 } * self.interval;
        let Some(first) = NaiveDate::from_ymd_opt(start.year(), start.month(), 1)
            .and_then(|d| {
                if self.yearly {
                    d.with_month(1)
                } else {
                    Some(d)
                }
            })
            .and_then(|d| d.checked_add_months(Months::new(k.checked_mul(span)?)))
        else {
            return Vec::new();
        };
        let months: Vec<NaiveDate> = if self.yearly {
            let wanted: Vec<u32> = match (self.months.is_empty(), self.month_days.is_empty()) {
                (false, _) => self.months.clone(),
                (true, false) => (1..=12).collect(),
                (true, true) => vec![start.month()],
            };
            wanted.iter().filter_map(|m| first.with_month(*m)).collect()
        } else if self.months.is_empty() || self.months.contains(&first.month()) {
            vec![first]
        } else {
            Vec::new()
        };
        let mut set = Vec::new();
        for month in months {
            let len = month
                .checked_add_months(Months::new(1))
                .map_or(31, |next| (next - month).num_days() as i32);
            let day = |n: i32| {
                let n = if n < 0 { len + 1 + n } else { n };
                (1..=len)
                    .contains(&n)
                    .then(|| month + Duration::days(i64::from(n - 1)))
            };
            let by_day = |d: NaiveDate| {
                self.days.iter().any(|&(ord, wd)| {
                    d.weekday() == wd && {
                        let nth = (d.day0() / 7) as i32 + 1;
                        let nth_last = ((len as u32 - d.day()) / 7) as i32 + 1;
                        ord == 0 || ord == nth || ord == -nth_last
                    }
                })
            };
            if !self.month_days.is_empty() {
                set.extend(
                    self.month_days
                        .iter()
                        .filter_map(|n| day(*n))
                        .filter(|d| self.days.is_empty() || by_day(*d)),
                );
            } else if !self.days.is_empty() {
                set.extend((1..=len).filter_map(day).filter(|d| by_day(*d)));
            } else {
                set.extend(day(start.day() as i32));
            }
        }
        set.sort();
        set.dedup();
        if self.set_pos.is_empty() {
            return set;
        }
        let n = set.len() as i32;
        let mut picked: Vec<NaiveDate> = self
            .set_pos
            .iter()
            .filter_map(|&p| {
                let i = if p > 0 { p - 1 } else { n + p };
                (0..n).contains(&i).then(|| set[i as usize])
            })
            .collect();
        picked.sort();
        picked.dedup();
        picked
    }

    /// Whether DTSTART is itself an instance of the rule.
    fn produces(&self, start: NaiveDateTime) -> bool {
        self.period(start, 0).contains(&start.date())
    }

    /// Starts in `[from, to)` that the rule produces from `start` on.
    fn between(
        &self,
        start: NaiveDateTime,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Vec<NaiveDateTime> {
        let to = match self.until {
            Some(u) => to.min(u + Duration::seconds(1)),
            None => to,
        };
        let mut out = Vec::new();
        let span = i64::from(if self.yearly { 12 } else { 1 } * self.interval);
        let month_index = |d: NaiveDate| i64::from(d.year()) * 12 + i64::from(d.month0());
        // Period 0 begins in DTSTART's month, or in January of its year.
        let base = month_index(start.date())
            - if self.yearly {
                i64::from(start.month0())
            } else {
                0
            };
        // Without COUNT, start at the period just before the window; with it, count from DTSTART.
        let mut k = match self.count {
            Some(_) => 0,
            None => ((month_index(from.date()) - base) / span - 1).max(0),
        };
        let mut left = self.count.unwrap_or(u32::MAX);
        let last = month_index(to.date());
        while left > 0 && base + k * span <= last {
            let Ok(period) = u32::try_from(k) else { break };
            for day in self.period(start, period) {
                let t = day.and_time(start.time());
                if t < start {
                    continue;
                }
                if t >= to || left == 0 {
                    return out;
                }
                left -= 1;
                if t >= from {
                    out.push(t);
                }
            }
            k += 1;
        }
        out
    }
}

/// For the rules [`simple_rule`] handles: whether DTSTART is itself an instance of the rule.
fn simple_produces(parts: &Parts, start: NaiveDateTime) -> Option<bool> {
    let allowed = ["FREQ", "INTERVAL", "UNTIL", "COUNT", "BYDAY", "WKST"];
    if parts.0.iter().any(|(k, _)| !allowed.contains(&k.as_str())) {
        return None;
    }
    match (
        parts.get("FREQ")?.to_ascii_uppercase().as_str(),
        parts.get("BYDAY"),
    ) {
        ("DAILY", None) | ("WEEKLY", None) => Some(true),
        ("WEEKLY", Some(list)) => {
            let days: Option<Vec<Weekday>> = list
                .split(',')
                .map(|d| weekday_from_code(d.trim()))
                .collect();
            Some(days?.contains(&start.weekday()))
        }
        _ => None,
    }
}

fn weekday_from_code(code: &str) -> Option<Weekday> {
    Some(match code.to_ascii_uppercase().as_str() {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return None,
    })
}

/// The first day of the week (starting on `wkst`) that holds `day`.
pub fn week_start(day: NaiveDate, wkst: Weekday) -> NaiveDate {
    let back = (day.weekday().num_days_from_monday() + 7 - wkst.num_days_from_monday()) % 7;
    day - Duration::days(i64::from(back))
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

    /// Every rule from every start in every window, computed directly and by the `rrule` crate
    /// (a BYSECOND equal to DTSTART's second changes nothing, but sends the rule to the crate).
    fn agrees_with_the_crate(rules: &[&str], starts: &[&str], windows: &[(&str, &str)]) {
        for rule in rules {
            for start in starts {
                for (from, to) in windows {
                    let direct = series(start, rule).starts_between(t(from), t(to)).unwrap();
                    let via_crate = series(start, &format!("{rule};BYSECOND=0"))
                        .starts_between(t(from), t(to))
                        .unwrap();
                    assert_eq!(direct, via_crate, "{rule} from {start} in {from}..{to}");
                }
            }
        }
    }

    #[test]
    fn the_direct_path_agrees_with_the_rrule_crate() {
        let rules = [
            "FREQ=DAILY",
            "FREQ=DAILY;INTERVAL=3",
            "FREQ=DAILY;UNTIL=20270110T120000Z",
            "FREQ=WEEKLY",
            "FREQ=WEEKLY;BYDAY=MO,WE,FR",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=SU",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=MO",
            "FREQ=WEEKLY;INTERVAL=3;BYDAY=SA,MO",
            "FREQ=WEEKLY;BYDAY=TH;UNTIL=20270301T000000Z",
            "FREQ=DAILY;COUNT=10",
            "FREQ=DAILY;INTERVAL=2;COUNT=7",
            "FREQ=WEEKLY;COUNT=5",
            "FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=8",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=SU;COUNT=9",
            "FREQ=WEEKLY;INTERVAL=3;BYDAY=SA,MO;COUNT=4",
        ];
        let starts = [
            "20261123T090000",
            "20261126T233000",
            "20240229T070000",
            "20261129T120000",
        ];
        let windows = [
            ("20261101T000000", "20261215T000000"),
            ("20270101T000000", "20270401T000000"),
            ("20850601T000000", "20850720T000000"),
        ];
        agrees_with_the_crate(&rules, &starts, &windows);
    }

    #[test]
    fn the_monthly_and_yearly_direct_path_agrees_with_the_rrule_crate() {
        let rules = [
            "FREQ=MONTHLY",
            "FREQ=MONTHLY;INTERVAL=5",
            "FREQ=MONTHLY;BYMONTHDAY=15",
            "FREQ=MONTHLY;BYMONTHDAY=-1",
            "FREQ=MONTHLY;BYMONTHDAY=1,-1,31;INTERVAL=2",
            "FREQ=MONTHLY;BYDAY=-1FR",
            "FREQ=MONTHLY;BYDAY=2MO,+4MO,-2SU",
            "FREQ=MONTHLY;BYDAY=5TH",
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
            "FREQ=MONTHLY;BYDAY=TU,TH;BYSETPOS=1,3,-1",
            "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13",
            "FREQ=MONTHLY;BYDAY=1SA;BYMONTHDAY=1,2,3,4,5,6,7,8,9",
            "FREQ=MONTHLY;BYMONTH=1,6,12;BYMONTHDAY=31",
            "FREQ=MONTHLY;BYMONTH=2",
            "FREQ=MONTHLY;UNTIL=20280101T000000Z",
            "FREQ=MONTHLY;COUNT=10",
            "FREQ=MONTHLY;BYDAY=-1FR;COUNT=7",
            "FREQ=MONTHLY;BYMONTHDAY=31;COUNT=5",
            "FREQ=MONTHLY;BYDAY=SA,SU;BYSETPOS=2;COUNT=12;INTERVAL=3",
            "FREQ=YEARLY",
            "FREQ=YEARLY;INTERVAL=4",
            "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
            "FREQ=YEARLY;BYMONTH=10,3;BYDAY=-1SU",
            "FREQ=YEARLY;BYMONTH=1,7;BYMONTHDAY=1",
            "FREQ=YEARLY;BYMONTHDAY=1,-1",
            "FREQ=YEARLY;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8;INTERVAL=4",
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
            "FREQ=YEARLY;BYMONTH=6,7,8;BYDAY=MO,FR;BYSETPOS=-2",
            "FREQ=YEARLY;COUNT=6",
            "FREQ=YEARLY;BYMONTH=5;BYDAY=2SU;COUNT=4",
            "FREQ=YEARLY;UNTIL=20300101T000000Z",
        ];
        let starts = [
            "20261123T090000",
            "20260131T233000",
            "20240229T070000",
            "20261129T120000",
            "20161231T080000",
        ];
        let windows = [
            ("20261101T000000", "20261215T000000"),
            ("20270101T000000", "20300401T000000"),
            ("20850601T000000", "20850720T000000"),
        ];
        agrees_with_the_crate(&rules, &starts, &windows);
    }

    #[test]
    fn a_minutely_count_rule_years_after_dtstart_is_found_by_arithmetic() {
        // Counting 9,999,999 minutes from 2019 to reach each window took seconds.
        let s = series("20190101T000000", "FREQ=MINUTELY;COUNT=9999999");
        let started = std::time::Instant::now();
        let got = s
            .starts_between(t("20261125T090000"), t("20261125T100000"))
            .unwrap();
        assert!(started.elapsed() < std::time::Duration::from_millis(100));
        assert_eq!(got.len(), 60);
        assert_eq!(got[0], t("20261125T090000"));
        // The 9,999,999th minute is 2038-01-05 10:38; nothing after it.
        let last = t("20190101T000000") + Duration::minutes(9_999_998);
        let end = s
            .starts_between(last - Duration::minutes(2), last + Duration::hours(1))
            .unwrap();
        assert_eq!(end.last(), Some(&last));
        assert_eq!(end.len(), 3);
    }

    #[test]
    fn an_evenly_spaced_count_rule_has_a_known_end() {
        let s = t("20190101T000000");
        assert_eq!(
            rule_bound("FREQ=HOURLY;INTERVAL=2;COUNT=5", s),
            Some(t("20190101T080000"))
        );
        assert_eq!(rule_bound("FREQ=HOURLY;BYMINUTE=0,30;COUNT=5", s), None);
        assert_eq!(rule_bound("FREQ=DAILY", s), None);
    }

    #[test]
    fn a_count_rule_counted_from_far_back_says_it_is_truncated_instead_of_taking_seconds() {
        let s = series("20100101T090000", "FREQ=HOURLY;BYMINUTE=0,30;COUNT=9999999");
        let started = std::time::Instant::now();
        let got = s.starts_between(t("20261125T000000"), t("20261202T000000"));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        let e = got.unwrap_err();
        assert!(e.reason.contains("series truncated"), "{e}");
        // Near DTSTART the same rule is expanded.
        let near = s
            .starts_between(t("20100101T000000"), t("20100102T000000"))
            .unwrap();
        assert_eq!(near.len(), 30);
    }

    #[test]
    fn a_window_holding_more_than_the_cap_is_truncated_not_cut_silently() {
        // Two weeks of minutes are 20,160 instances: past the cap, reported rather than cut after
        // the first 5,000 (which made a minutely series vanish after its first days).
        let s = series("20261101T000000", "FREQ=MINUTELY");
        let e = s
            .starts_between(t("20261110T000000"), t("20261124T000000"))
            .unwrap_err();
        assert!(e.reason.contains("series truncated"), "{e}");
    }

    #[test]
    fn a_rule_of_one_event_a_second_is_refused() {
        assert!(check_rule("FREQ=SECONDLY;COUNT=10").is_err());
        assert!(check_rule("FREQ=SECONDLY;INTERVAL=60").is_ok());
        assert!(check_rule("FREQ=MINUTELY").is_ok());
        let s = series("20261123T090000", "FREQ=SECONDLY;COUNT=200000");
        assert!(
            s.starts_between(t("20261124T000000"), t("20261125T000000"))
                .is_err()
        );
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
