//! Days as people type them: `2026-12-24`, `24/12`, `24.12.`, `dec 24`, `24 december 2026`,
//! `today`, `tomorrow`, `mon`, `next fri`, `+3d`, `-2w`, `next week`. One reader for the TUI's `g`
//! and every date the command line takes, so both accept the same words.
//!
//! Numeric forms are read day first (`03/04` is the 3rd of April), as most of the world writes
//! them; ISO `YYYY-MM-DD` is always unambiguous. A date without a year is in today's year.
//! (A crate such as `interim` reads a subset of this, US month-first by default, and not `24.12.`
//! or `+3d`: a small reader of our own says exactly what it accepts.)

use chrono::{Datelike, Duration, Months, NaiveDate, NaiveTime, Weekday};

/// What to type, for error messages.
pub const DATE_HELP: &str =
    "try 2026-12-24, 24/12, 24.12., dec 24, today, tomorrow, mon, next fri, +3d, -2w or next week";

/// The day `text` names, relative to `today`.
pub fn parse_day(text: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let words = normalise(text);
    day_of(&words, today).ok_or_else(|| format!("'{}' is not a date: {DATE_HELP}", text.trim()))
}

/// A day and, when given after it, a time of day: `tomorrow 10:00`, `24/12 9:30`, `dec 24 3pm`,
/// `2026-12-24T10:00`. A time alone means today.
pub fn parse_day_time(
    text: &str,
    today: NaiveDate,
) -> Result<(NaiveDate, Option<NaiveTime>), String> {
    let bad = || {
        format!(
            "'{}' is not a day or a day and time: {DATE_HELP}, optionally followed by 10:00 or 3pm",
            text.trim()
        )
    };
    // ISO with a `T`: the date and time are one word.
    let spaced = text
        .trim()
        .replacen('T', " ", usize::from(is_iso_datetime(text.trim())));
    let mut words = normalise(&spaced);
    let time = match words.last().and_then(|w| time_of(w)) {
        Some(t) => {
            words.pop();
            Some(t)
        }
        None => None,
    };
    if words.is_empty() {
        return time.map(|t| (today, Some(t))).ok_or_else(bad);
    }
    let day = day_of(&words, today).ok_or_else(bad)?;
    Ok((day, time))
}

fn is_iso_datetime(t: &str) -> bool {
    t.len() >= 16
        && t.as_bytes().get(10) == Some(&b'T')
        && t[..10].chars().filter(|c| *c == '-').count() == 2
}

/// Lower case, commas gone, split on white space (`dec 24, 2026` = `dec 24 2026`).
fn normalise(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace(',', " ")
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

fn day_of(words: &[String], today: NaiveDate) -> Option<NaiveDate> {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match w.as_slice() {
        [] => None,
        ["today"] | ["now"] => Some(today),
        ["tomorrow"] | ["tmr"] => today.succ_opt(),
        ["yesterday"] => today.pred_opt(),
        ["next", "week"] => today.checked_add_signed(Duration::weeks(1)),
        ["last", "week"] => today.checked_sub_signed(Duration::weeks(1)),
        ["next", "month"] => today.checked_add_months(Months::new(1)),
        ["last", "month"] => today.checked_sub_months(Months::new(1)),
        ["next", "year"] => today.checked_add_months(Months::new(12)),
        ["next", day] => weekday(day).map(|wd| upcoming(today, wd) + Duration::weeks(1)),
        ["last", day] => weekday(day).map(|wd| upcoming(today, wd) - Duration::weeks(1)),
        [one] => single(one, today),
        [a, b] => month_day(a, b, None, today).or_else(|| month_day(b, a, None, today)),
        [a, b, y] => {
            let year = year_of(y)?;
            month_day(a, b, Some(year), today).or_else(|| month_day(b, a, Some(year), today))
        }
        _ => None,
    }
}

/// One word: an ISO date, a numeric day-first date, a weekday, a month, or an offset.
fn single(word: &str, today: NaiveDate) -> Option<NaiveDate> {
    if let Ok(d) = NaiveDate::parse_from_str(word, "%Y-%m-%d") {
        return Some(d);
    }
    // `2026-12`: the first of that month.
    if let Some((y, m)) = word.split_once('-')
        && y.len() == 4
        && !m.contains('-')
    {
        return NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1);
    }
    if let Some(wd) = weekday(word) {
        return Some(upcoming(today, wd));
    }
    if let Some(m) = month(word) {
        return NaiveDate::from_ymd_opt(today.year(), m, 1);
    }
    if let Some(d) = offset(word, today) {
        return Some(d);
    }
    numeric(word, today)
}

/// `24/12`, `24/12/2026`, `24/12/26`, `24.12.`, `24.12.2026` (day first), and `12-24` (month
/// first, in ISO's order, this year).
fn numeric(word: &str, today: NaiveDate) -> Option<NaiveDate> {
    let sep = ['/', '.', '-'].into_iter().find(|s| word.contains(*s))?;
    let parts: Vec<&str> = word.trim_end_matches(sep).split(sep).collect();
    let num = |s: &str| s.parse::<u32>().ok();
    match parts.as_slice() {
        [m, d] if sep == '-' => NaiveDate::from_ymd_opt(today.year(), num(m)?, num(d)?),
        [d, m] => NaiveDate::from_ymd_opt(today.year(), num(m)?, num(d)?),
        [d, m, y] => NaiveDate::from_ymd_opt(year_of(y)?, num(m)?, num(d)?),
        _ => None,
    }
}

/// `+3d`, `-2w`, `+1m`, `+1y`, `+3` (days), `3d`.
fn offset(word: &str, today: NaiveDate) -> Option<NaiveDate> {
    let (sign, rest) = match word.as_bytes().first()? {
        b'+' => (1, &word[1..]),
        b'-' => (-1, &word[1..]),
        _ => (1, word),
    };
    let unit_at = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (n, unit) = rest.split_at(unit_at);
    if n.is_empty() || (unit.is_empty() && sign == 1 && !word.starts_with('+')) {
        // A bare number is not an offset (it could be a day of the month).
        return None;
    }
    let n: i64 = n.parse().ok()?;
    let months = |k: i64| {
        let m = Months::new(u32::try_from(k.checked_mul(n)?).ok()?);
        if sign > 0 {
            today.checked_add_months(m)
        } else {
            today.checked_sub_months(m)
        }
    };
    match unit {
        "" | "d" | "day" | "days" => today.checked_add_signed(Duration::days(sign * n)),
        "w" | "wk" | "week" | "weeks" => today.checked_add_signed(Duration::weeks(sign * n)),
        "m" | "mo" | "month" | "months" => months(1),
        "y" | "yr" | "year" | "years" => months(12),
        _ => None,
    }
}

/// `dec 24` (month word, day), with an optional year.
fn month_day(m: &str, d: &str, year: Option<i32>, today: NaiveDate) -> Option<NaiveDate> {
    let m = month(m)?;
    let d: u32 = d
        .trim_end_matches('.')
        .trim_end_matches(|c: char| c.is_ascii_alphabetic())
        .parse()
        .ok()?;
    NaiveDate::from_ymd_opt(year.unwrap_or(today.year()), m, d)
}

fn year_of(y: &str) -> Option<i32> {
    let n: i32 = y.parse().ok()?;
    match y.len() {
        2 => Some(2000 + n),
        4 => Some(n),
        _ => None,
    }
}

/// The next `wd` from `today`, today included.
fn upcoming(today: NaiveDate, wd: Weekday) -> NaiveDate {
    let ahead =
        (7 + wd.num_days_from_monday() as i64 - today.weekday().num_days_from_monday() as i64) % 7;
    today + Duration::days(ahead)
}

/// A weekday by any unambiguous start of its name (`mo`, `tue`, `thurs`, `friday`).
fn weekday(word: &str) -> Option<Weekday> {
    let w = word.trim_end_matches('.');
    if w.len() < 2 {
        return None;
    }
    let days = [
        ("monday", Weekday::Mon),
        ("tuesday", Weekday::Tue),
        ("wednesday", Weekday::Wed),
        ("thursday", Weekday::Thu),
        ("friday", Weekday::Fri),
        ("saturday", Weekday::Sat),
        ("sunday", Weekday::Sun),
    ];
    let mut found = days.iter().filter(|(name, _)| name.starts_with(w));
    let (_, first) = found.next()?;
    found.next().is_none().then_some(*first)
}

fn month(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.');
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    if w.len() < 3 {
        return None;
    }
    full.iter()
        .position(|m| m.starts_with(w))
        .map(|i| i as u32 + 1)
}

/// `10:00`, `9:30`, `10`… only with a colon or am/pm: `10am`, `3pm`, `3:30pm`.
fn time_of(word: &str) -> Option<NaiveTime> {
    let (clock, pm) = match (word.strip_suffix("pm"), word.strip_suffix("am")) {
        (Some(c), _) => (c, Some(true)),
        (_, Some(c)) => (c, Some(false)),
        _ => (word, None),
    };
    let (h, m) = match clock.split_once(':') {
        Some((h, m)) => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?),
        None if pm.is_some() => (clock.parse::<u32>().ok()?, 0),
        None => return None,
    };
    let h = match pm {
        Some(true) if h < 12 => h + 12,
        Some(false) if h == 12 => 0,
        _ => h,
    };
    NaiveTime::from_hms_opt(h, m, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// Monday 23 November 2026.
    const TODAY: (i32, u32, u32) = (2026, 11, 23);

    fn day(text: &str) -> NaiveDate {
        let today = d(TODAY.0, TODAY.1, TODAY.2);
        parse_day(text, today).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn what_people_type_is_read_as_a_day() {
        assert_eq!(day("2026-12-24"), d(2026, 12, 24));
        assert_eq!(day("2027-03"), d(2027, 3, 1));
        assert_eq!(day("24/12"), d(2026, 12, 24));
        assert_eq!(day("24/12/2027"), d(2027, 12, 24));
        assert_eq!(day("24/12/27"), d(2027, 12, 24));
        assert_eq!(day("24.12."), d(2026, 12, 24));
        assert_eq!(day("24.12.2027"), d(2027, 12, 24));
        assert_eq!(day("3/4"), d(2026, 4, 3));
        assert_eq!(
            day("12-24"),
            d(2026, 12, 24),
            "month first with dashes, as ISO"
        );
        assert_eq!(day("tu"), d(2026, 11, 24));
        assert_eq!(day("thurs"), d(2026, 11, 26));
        assert_eq!(day("dec 24"), d(2026, 12, 24));
        assert_eq!(day("24 dec"), d(2026, 12, 24));
        assert_eq!(day("December 24, 2027"), d(2027, 12, 24));
        assert_eq!(day("24th december"), d(2026, 12, 24));
        assert_eq!(day("sept 5"), d(2026, 9, 5));
        assert_eq!(day("feb"), d(2026, 2, 1));
        assert_eq!(day("today"), d(2026, 11, 23));
        assert_eq!(day("Tomorrow"), d(2026, 11, 24));
        assert_eq!(day("yesterday"), d(2026, 11, 22));
        assert_eq!(day("mon"), d(2026, 11, 23), "today is a Monday");
        assert_eq!(day("fri"), d(2026, 11, 27));
        assert_eq!(day("Wednesday"), d(2026, 11, 25));
        assert_eq!(day("next fri"), d(2026, 12, 4));
        assert_eq!(day("+3d"), d(2026, 11, 26));
        assert_eq!(day("+3"), d(2026, 11, 26));
        assert_eq!(day("-2w"), d(2026, 11, 9));
        assert_eq!(day("+1m"), d(2026, 12, 23));
        assert_eq!(day("+1y"), d(2027, 11, 23));
        assert_eq!(day("next week"), d(2026, 11, 30));
        assert_eq!(day("last week"), d(2026, 11, 16));
        assert_eq!(day("next month"), d(2026, 12, 23));
    }

    #[test]
    fn what_is_not_a_date_says_what_to_type() {
        let today = d(TODAY.0, TODAY.1, TODAY.2);
        for bad in [
            "",
            "2412",
            "31/2",
            "someday",
            "next blue",
            "+3x",
            "24/12/123",
            "ma",
            "t",
        ] {
            let e = parse_day(bad, today).expect_err(bad);
            assert!(e.contains("is not a date") && e.contains("tomorrow"), "{e}");
        }
    }

    #[test]
    fn a_day_may_carry_a_time() {
        let today = d(TODAY.0, TODAY.1, TODAY.2);
        let t = |h, m| Some(NaiveTime::from_hms_opt(h, m, 0).unwrap());
        assert_eq!(
            parse_day_time("tomorrow 10:00", today),
            Ok((d(2026, 11, 24), t(10, 0)))
        );
        assert_eq!(
            parse_day_time("24/12 9:30", today),
            Ok((d(2026, 12, 24), t(9, 30)))
        );
        assert_eq!(
            parse_day_time("dec 24 3pm", today),
            Ok((d(2026, 12, 24), t(15, 0)))
        );
        assert_eq!(
            parse_day_time("2026-12-24T10:00", today),
            Ok((d(2026, 12, 24), t(10, 0)))
        );
        assert_eq!(
            parse_day_time("2026-12-24 10:00", today),
            Ok((d(2026, 12, 24), t(10, 0)))
        );
        assert_eq!(parse_day_time("12am", today), Ok((today, t(0, 0))));
        assert_eq!(parse_day_time("fri", today), Ok((d(2026, 11, 27), None)));
        assert!(parse_day_time("tomorrow 25:00", today).is_err());
    }
}
