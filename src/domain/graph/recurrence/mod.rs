//! Microsoft Graph's `patternedRecurrence` and RFC 5545 RRULE, both ways, by the table of
//! PROTOCOLS.md §3 "patternedRecurrence ↔ RRULE" (Graph's recurrencePattern and recurrenceRange
//! reference). A rule Graph cannot hold is refused with the reason, never bent.
//!
//! The RRULE this side reads and writes is in the series' wall-clock frame, the one the domain's
//! `recur::Series` expands in (see `recur::until_to_local`: it carries `Z` there though it is
//! wall-clock): a range's `endDate` becomes `UNTIL=<date>T235959Z` of that frame.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Weekday};
use serde_json::{Value, json};

/// Graph's day names, in RRULE's order.
const DAYS: [(&str, &str, Weekday); 7] = [
    ("monday", "MO", Weekday::Mon),
    ("tuesday", "TU", Weekday::Tue),
    ("wednesday", "WE", Weekday::Wed),
    ("thursday", "TH", Weekday::Thu),
    ("friday", "FR", Weekday::Fri),
    ("saturday", "SA", Weekday::Sat),
    ("sunday", "SU", Weekday::Sun),
];

/// Graph's `index`: first … fourth = 1 … 4, last = −1.
const INDEXES: [(&str, i64); 5] = [
    ("first", 1),
    ("second", 2),
    ("third", 3),
    ("fourth", 4),
    ("last", -1),
];

fn day_code(graph: &str) -> Option<&'static str> {
    DAYS.iter()
        .find(|(name, _, _)| name.eq_ignore_ascii_case(graph))
        .map(|(_, code, _)| *code)
}

fn day_name(code: &str) -> Option<&'static str> {
    DAYS.iter()
        .find(|(_, c, _)| c.eq_ignore_ascii_case(code))
        .map(|(name, _, _)| *name)
}

fn weekday_code(day: Weekday) -> &'static str {
    DAYS.iter()
        .find(|(_, _, d)| *d == day)
        .map_or("MO", |(_, code, _)| *code)
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn number(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

/// Whether a Graph date is one of its "none" sentinels (year 0001 or 9999).
fn is_sentinel(s: &str) -> bool {
    let s = s.trim();
    s.starts_with("0001-") || s.starts_with("9999-")
}

/// The RRULE value (no `RRULE:`) of a `patternedRecurrence` (`{"pattern", "range"}`).
pub fn to_rrule(recurrence: &Value) -> Result<String, String> {
    let pattern = recurrence
        .get("pattern")
        .ok_or("the recurrence has no pattern")?;
    let range = recurrence.get("range").unwrap_or(&Value::Null);
    let kind = text(pattern, "type").ok_or("the pattern has no type")?;
    let interval = number(pattern, "interval").unwrap_or(1).max(1);
    let days: Vec<&str> = pattern
        .get("daysOfWeek")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter_map(day_code)
                .collect()
        })
        .unwrap_or_default();
    let relative = || -> Result<String, String> {
        let index = text(pattern, "index").unwrap_or("first");
        let n = INDEXES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(index))
            .map(|(_, n)| *n)
            .ok_or_else(|| format!("unknown index '{index}'"))?;
        match days.as_slice() {
            [] => Err("a relative pattern names no day".into()),
            [one] => Ok(format!("BYDAY={n}{one}")),
            many => Ok(format!("BYDAY={};BYSETPOS={n}", many.join(","))),
        }
    };
    let month_day = || {
        number(pattern, "dayOfMonth")
            .filter(|d| (1..=31).contains(d))
            .ok_or_else(|| "the pattern has no dayOfMonth".to_string())
    };
    let month = || {
        number(pattern, "month")
            .filter(|m| (1..=12).contains(m))
            .ok_or_else(|| "the pattern has no month".to_string())
    };
    let mut rule = match kind.to_ascii_lowercase().as_str() {
        "daily" => format!("FREQ=DAILY;INTERVAL={interval}"),
        "weekly" => {
            if days.is_empty() {
                return Err("a weekly pattern names no day".into());
            }
            let wkst = text(pattern, "firstDayOfWeek")
                .and_then(day_code)
                .unwrap_or("SU");
            format!(
                "FREQ=WEEKLY;INTERVAL={interval};BYDAY={};WKST={wkst}",
                days.join(",")
            )
        }
        "absolutemonthly" => format!(
            "FREQ=MONTHLY;INTERVAL={interval};BYMONTHDAY={}",
            month_day()?
        ),
        "relativemonthly" => format!("FREQ=MONTHLY;INTERVAL={interval};{}", relative()?),
        "absoluteyearly" => format!(
            "FREQ=YEARLY;INTERVAL={interval};BYMONTH={};BYMONTHDAY={}",
            month()?,
            month_day()?
        ),
        "relativeyearly" => format!(
            "FREQ=YEARLY;INTERVAL={interval};BYMONTH={};{}",
            month()?,
            relative()?
        ),
        other => return Err(format!("unknown pattern type '{other}'")),
    };
    match text(range, "type").map(str::to_ascii_lowercase).as_deref() {
        // A sentinel endDate (years 0001, 9999) is Graph's "none" [obs]: no end.
        Some("enddate") => match text(range, "endDate").map(super::time::read_date) {
            Some(Some(end)) => rule.push_str(&format!(";UNTIL={}T235959Z", end.format("%Y%m%d"))),
            Some(None) if text(range, "endDate").is_some_and(is_sentinel) => {}
            _ => return Err("the range has no endDate".into()),
        },
        Some("numbered") => {
            let n = number(range, "numberOfOccurrences")
                .filter(|n| *n > 0)
                .ok_or("the range has no numberOfOccurrences")?;
            rule.push_str(&format!(";COUNT={n}"));
        }
        _ => {}
    }
    Ok(rule)
}

/// The parts of an RRULE value, names upper-cased.
fn parts(rule: &str) -> Vec<(String, String)> {
    rule.trim()
        .trim_start_matches("RRULE:")
        .split(';')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim().to_ascii_uppercase(), v.trim().to_string()))
        .collect()
}

/// A `BYDAY` entry: its ordinal (if any) and day code.
fn by_day(entry: &str) -> Result<(Option<i64>, &'static str), String> {
    let split = entry
        .find(|c: char| c.is_ascii_alphabetic())
        .ok_or_else(|| format!("BYDAY entry '{entry}'"))?;
    let (n, code) = entry.split_at(split);
    let code = DAYS
        .iter()
        .find(|(_, c, _)| c.eq_ignore_ascii_case(code))
        .map(|(_, c, _)| *c)
        .ok_or_else(|| format!("unknown day '{code}'"))?;
    let n = match n {
        "" => None,
        n => Some(
            n.trim_start_matches('+')
                .parse::<i64>()
                .map_err(|_| format!("BYDAY entry '{entry}'"))?,
        ),
    };
    Ok((n, code))
}

fn index_name(n: i64) -> Result<&'static str, String> {
    INDEXES
        .iter()
        .find(|(_, i)| *i == n)
        .map(|(name, _)| *name)
        .ok_or_else(|| format!("Graph cannot repeat on the {n}th such day of a month"))
}

/// A `patternedRecurrence` for an RRULE value of a series starting at `start` (wall clock) in
/// `zone` (the name written as `recurrenceTimeZone`). A rule Graph cannot hold is refused, saying
/// which part.
pub fn from_rrule(rule: &str, start: NaiveDateTime, zone: &str) -> Result<Value, String> {
    let mut freq = None;
    let mut interval = 1;
    let mut count = None;
    let mut until = None;
    let mut byday: Vec<String> = Vec::new();
    let mut bymonthday: Vec<i64> = Vec::new();
    let mut bymonth: Vec<i64> = Vec::new();
    let mut bysetpos = None;
    let mut wkst = None;
    let list = |v: &str| -> Result<Vec<i64>, String> {
        v.split(',')
            .map(|n| {
                n.trim()
                    .parse::<i64>()
                    .map_err(|_| format!("'{v}' is not a number list"))
            })
            .collect()
    };
    for (key, value) in parts(rule) {
        match key.as_str() {
            "FREQ" => freq = Some(value.to_ascii_uppercase()),
            "INTERVAL" => {
                interval = value
                    .parse::<i64>()
                    .map_err(|_| "INTERVAL is not a number")?
            }
            "COUNT" => count = Some(value.parse::<i64>().map_err(|_| "COUNT is not a number")?),
            "UNTIL" => until = Some(value),
            "BYDAY" => byday = value.split(',').map(str::to_string).collect(),
            "BYMONTHDAY" => bymonthday = list(&value)?,
            "BYMONTH" => bymonth = list(&value)?,
            "BYSETPOS" => bysetpos = Some(list(&value)?),
            "WKST" => wkst = Some(value),
            other => return Err(format!("Graph cannot hold {other} in a repetition")),
        }
    }
    if interval < 1 {
        return Err("INTERVAL must be at least 1".into());
    }
    if bymonthday.len() > 1 || bymonthday.iter().any(|d| *d < 1) {
        return Err("Graph repeats on one positive day of the month only".into());
    }
    if bymonth.len() > 1 {
        return Err("Graph repeats in one month of the year only".into());
    }
    let days: Vec<(Option<i64>, &str)> =
        byday.iter().map(|d| by_day(d)).collect::<Result<_, _>>()?;
    let names = |days: &[(Option<i64>, &str)]| -> Vec<Value> {
        days.iter()
            .filter_map(|(_, code)| day_name(code))
            .map(|n| json!(n))
            .collect()
    };
    // "Several days, one position" or "one day with its ordinal": Graph's relative patterns.
    let relative =
        |days: &[(Option<i64>, &str)]| -> Result<Option<(Vec<Value>, &'static str)>, String> {
            match (days, &bysetpos) {
                ([], None) => Ok(None),
                ([(Some(n), _)], None) => Ok(Some((names(days), index_name(*n)?))),
                (many, Some(pos)) if pos.len() == 1 && many.iter().all(|(n, _)| n.is_none()) => {
                    Ok(Some((names(many), index_name(pos[0])?)))
                }
                _ => Err("Graph cannot hold this BYDAY/BYSETPOS combination".into()),
            }
        };
    let mut pattern = serde_json::Map::new();
    pattern.insert("interval".into(), json!(interval));
    match freq.as_deref() {
        Some("DAILY") => {
            if !days.is_empty()
                || bysetpos.is_some()
                || !bymonthday.is_empty()
                || !bymonth.is_empty()
            {
                return Err(
                    "Graph's daily repetition takes no BYDAY, BYMONTHDAY or BYMONTH".into(),
                );
            }
            pattern.insert("type".into(), json!("daily"));
        }
        Some("WEEKLY") => {
            if days.iter().any(|(n, _)| n.is_some())
                || bysetpos.is_some()
                || !bymonthday.is_empty()
                || !bymonth.is_empty()
            {
                return Err("Graph's weekly repetition takes plain days only".into());
            }
            let list = if days.is_empty() {
                vec![json!(
                    day_name(weekday_code(start.weekday())).unwrap_or("monday")
                )]
            } else {
                names(&days)
            };
            pattern.insert("type".into(), json!("weekly"));
            pattern.insert("daysOfWeek".into(), Value::Array(list));
            let first = wkst.as_deref().and_then(day_name).unwrap_or("monday");
            pattern.insert("firstDayOfWeek".into(), json!(first));
        }
        Some("MONTHLY") if !bymonth.is_empty() => {
            return Err("Graph's monthly repetition takes no BYMONTH".into());
        }
        Some("MONTHLY") => match (relative(&days)?, bymonthday.first()) {
            (Some(_), Some(_)) => {
                return Err(
                    "Graph cannot repeat on a weekday and a day of the month at once".into(),
                );
            }
            (Some((list, index)), None) => {
                pattern.insert("type".into(), json!("relativeMonthly"));
                pattern.insert("daysOfWeek".into(), Value::Array(list));
                pattern.insert("index".into(), json!(index));
            }
            (None, day) => {
                pattern.insert("type".into(), json!("absoluteMonthly"));
                pattern.insert(
                    "dayOfMonth".into(),
                    json!(day.copied().unwrap_or(i64::from(start.day()))),
                );
            }
        },
        Some("YEARLY") => {
            let month = bymonth.first().copied().unwrap_or(i64::from(start.month()));
            pattern.insert("month".into(), json!(month));
            match (relative(&days)?, bymonthday.first()) {
                (Some(_), Some(_)) => {
                    return Err(
                        "Graph cannot repeat on a weekday and a day of the month at once".into(),
                    );
                }
                (Some((list, index)), None) => {
                    pattern.insert("type".into(), json!("relativeYearly"));
                    pattern.insert("daysOfWeek".into(), Value::Array(list));
                    pattern.insert("index".into(), json!(index));
                }
                (None, day) => {
                    pattern.insert("type".into(), json!("absoluteYearly"));
                    pattern.insert(
                        "dayOfMonth".into(),
                        json!(day.copied().unwrap_or(i64::from(start.day()))),
                    );
                }
            }
        }
        Some(other) => {
            return Err(format!(
                "Graph cannot repeat {other}: daily at the most often"
            ));
        }
        None => return Err("the rule has no FREQ".into()),
    }
    let start_date = start.date().format("%Y-%m-%d").to_string();
    let range = match (count, until) {
        (Some(_), Some(_)) => return Err("a rule has COUNT or UNTIL, not both".into()),
        (Some(n), None) => json!({"type": "numbered", "startDate": start_date,
            "numberOfOccurrences": n, "recurrenceTimeZone": zone}),
        (None, Some(u)) => {
            let mut day = NaiveDate::parse_from_str(u.get(..8).unwrap_or_default(), "%Y%m%d")
                .map_err(|_| format!("UNTIL '{u}' is not a date"))?;
            // Graph's endDate includes its whole day: an UNTIL before the series' time of day
            // ends the day before.
            let time = u
                .get(9..15)
                .and_then(|t| chrono::NaiveTime::parse_from_str(t, "%H%M%S").ok());
            if time.is_some_and(|t| t < start.time()) {
                day = day.pred_opt().unwrap_or(day);
            }
            json!({"type": "endDate", "startDate": start_date,
                "endDate": day.format("%Y-%m-%d").to_string(), "recurrenceTimeZone": zone})
        }
        (None, None) => {
            json!({"type": "noEnd", "startDate": start_date, "recurrenceTimeZone": zone})
        }
    };
    Ok(json!({"pattern": Value::Object(pattern), "range": range}))
}

#[cfg(test)]
mod tests;
