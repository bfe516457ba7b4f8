//! The recurrence examples of RFC 5545 section 3.8.5.3, expanded through `Series::starts_between`.
//!
//! Every example there has `DTSTART;TZID=America/New_York`. Expansion is in wall-clock time, so
//! the expected values are the New York wall-clock starts the RFC lists (09:00 on both sides of
//! the October DST change), and a UTC `UNTIL` is first moved into New York time.
//!
//! For "forever" rules the test checks the instances the RFC lists in a bounded window, then a
//! window decades later against a brute-force day-by-day reading of the rule.

use almanac::domain::recur::{Series, until_to_local};
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Weekday};
use chrono_tz::America::New_York;

/// `"1997-09-02 09:00"` as a wall-clock time.
fn dt(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// A New York series: `UNTIL=…Z` moved into New York wall-clock time.
fn series(rule: &str, dtstart: &str) -> Series {
    let rule = until_to_local(rule, |u| u.with_timezone(&New_York).naive_local());
    Series {
        start: dt(dtstart),
        all_day: false,
        rrule: Some(rule),
        rdates: vec![],
        exdates: vec![],
    }
}

/// Wall-clock starts of the New York series in `[from, to)`.
fn ny(rule: &str, dtstart: &str, from: &str, to: &str) -> Vec<NaiveDateTime> {
    series(rule, dtstart)
        .starts_between(dt(from), dt(to))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// 09:00 on the given days of one month.
fn nine(y: i32, m: u32, days: impl IntoIterator<Item = u32>) -> Vec<NaiveDateTime> {
    days.into_iter()
        .map(|d| {
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap_or_else(|| panic!("{y}-{m}-{d}"))
                .and_hms_opt(9, 0, 0)
                .unwrap()
        })
        .collect()
}

/// The given `HH:MM` times on one day.
fn times(day: &str, hms: &[&str]) -> Vec<NaiveDateTime> {
    hms.iter().map(|t| dt(&format!("{day} {t}"))).collect()
}

/// Brute-force reading of a rule: 09:00 on every day in `[from, to)` for which `keep` holds.
fn nine_where(from: &str, to: &str, keep: impl Fn(NaiveDate) -> bool) -> Vec<NaiveDateTime> {
    let (from, to) = (dt(from).date(), dt(to).date());
    from.iter_days()
        .take_while(|d| *d < to)
        .filter(|d| keep(*d))
        .map(|d| d.and_hms_opt(9, 0, 0).unwrap())
        .collect()
}

/// A "forever" rule still yields exactly what `keep` describes in a window far in the future.
fn keeps_going(rule: &str, dtstart: &str, from: &str, to: &str, keep: impl Fn(NaiveDate) -> bool) {
    let got = ny(rule, dtstart, from, to);
    assert!(!got.is_empty(), "{rule}: nothing in [{from}, {to})");
    assert_eq!(got, nine_where(from, to, keep), "{rule} in [{from}, {to})");
}

fn months_since_sep_1997(d: NaiveDate) -> i32 {
    (d.year() - 1997) * 12 + d.month() as i32 - 9
}

fn is_weekday(d: NaiveDate) -> bool {
    d.weekday().num_days_from_monday() < 5
}

#[test]
fn a_utc_until_becomes_new_york_wall_clock() {
    let rule = until_to_local("FREQ=DAILY;UNTIL=19971224T000000Z", |u| {
        u.with_timezone(&New_York).naive_local()
    });
    assert_eq!(rule, "FREQ=DAILY;UNTIL=19971223T190000Z");
}

#[test]
fn daily_for_ten_occurrences() {
    let got = ny(
        "FREQ=DAILY;COUNT=10",
        "1997-09-02 09:00",
        "1997-01-01 00:00",
        "1999-01-01 00:00",
    );
    assert_eq!(got, nine(1997, 9, 2..=11));
}

#[test]
fn daily_until_december_24_1997() {
    let got = ny(
        "FREQ=DAILY;UNTIL=19971224T000000Z",
        "1997-09-02 09:00",
        "1997-01-01 00:00",
        "1999-01-01 00:00",
    );
    let want = [
        nine(1997, 9, 2..=30),
        nine(1997, 10, 1..=25),
        nine(1997, 10, 26..=31),
        nine(1997, 11, 1..=30),
        nine(1997, 12, 1..=23),
    ]
    .concat();
    assert_eq!(got, want);
}

#[test]
fn every_other_day_forever() {
    let rule = "FREQ=DAILY;INTERVAL=2";
    let got = ny(
        rule,
        "1997-09-02 09:00",
        "1997-09-01 00:00",
        "1997-12-04 00:00",
    );
    let want = [
        nine(1997, 9, (2..=30).step_by(2)),
        nine(1997, 10, (2..=24).step_by(2)),
        nine(1997, 10, [26, 28, 30]),
        nine(1997, 11, (1..=29).step_by(2)),
        nine(1997, 12, [1, 3]),
    ]
    .concat();
    assert_eq!(got, want);
    let start = NaiveDate::from_ymd_opt(1997, 9, 2).unwrap();
    keeps_going(
        rule,
        "1997-09-02 09:00",
        "2091-02-01 00:00",
        "2091-04-01 00:00",
        |d| (d - start).num_days() % 2 == 0,
    );
}

#[test]
fn every_ten_days_for_five_occurrences() {
    let got = ny(
        "FREQ=DAILY;INTERVAL=10;COUNT=5",
        "1997-09-02 09:00",
        "1997-01-01 00:00",
        "1999-01-01 00:00",
    );
    let want = [nine(1997, 9, [2, 12, 22]), nine(1997, 10, [2, 12])].concat();
    assert_eq!(got, want);
}

fn every_day_in_january_1998_to_2000() -> Vec<NaiveDateTime> {
    [
        nine(1998, 1, 1..=31),
        nine(1999, 1, 1..=31),
        nine(2000, 1, 1..=31),
    ]
    .concat()
}

#[test]
fn every_day_in_january_for_three_years_as_a_yearly_rule() {
    let got = ny(
        "FREQ=YEARLY;UNTIL=20000131T140000Z;BYMONTH=1;BYDAY=SU,MO,TU,WE,TH,FR,SA",
        "1998-01-01 09:00",
        "1997-01-01 00:00",
        "2003-01-01 00:00",
    );
    assert_eq!(got, every_day_in_january_1998_to_2000());
}

#[test]
fn every_day_in_january_for_three_years_as_a_daily_rule() {
    let got = ny(
        "FREQ=DAILY;UNTIL=20000131T140000Z;BYMONTH=1",
        "1998-01-01 09:00",
        "1997-01-01 00:00",
        "2003-01-01 00:00",
    );
    assert_eq!(got, every_day_in_january_1998_to_2000());
}

#[test]
fn weekly_for_ten_occurrences() {
    let got = ny(
        "FREQ=WEEKLY;COUNT=10",
        "1997-09-02 09:00",
        "1997-01-01 00:00",
        "1999-01-01 00:00",
    );
    let want = [
        nine(1997, 9, [2, 9, 16, 23, 30]),
        nine(1997, 10, [7, 14, 21]),
        nine(1997, 10, [28]),
        nine(1997, 11, [4]),
    ]
    .concat();
    assert_eq!(got, want);
}

#[test]
fn weekly_until_december_24_1997() {
    let got = ny(
        "FREQ=WEEKLY;UNTIL=19971224T000000Z",
        "1997-09-02 09:00",
        "1997-01-01 00:00",
        "1999-01-01 00:00",
    );
    let want = [
        nine(1997, 9, [2, 9, 16, 23, 30]),
        nine(1997, 10, [7, 14, 21]),
        nine(1997, 10, [28]),
        nine(1997, 11, [4, 11, 18, 25]),
        nine(1997, 12, [2, 9, 16, 23]),
    ]
    .concat();
    assert_eq!(got, want);
}

#[test]
fn every_other_week_forever() {
    let rule = "FREQ=WEEKLY;INTERVAL=2;WKST=SU";
    let got = ny(
        rule,
        "1997-09-02 09:00",
        "1997-09-01 00:00",
        "1998-02-18 00:00",
    );
    let want = [
        nine(1997, 9, [2, 16, 30]),
        nine(1997, 10, [14]),
        nine(1997, 10, [28]),
        nine(1997, 11, [11, 25]),
        nine(1997, 12, [9, 23]),
        nine(1998, 1, [6, 20]),
        nine(1998, 2, [3, 17]),
    ]
    .concat();
    assert_eq!(got, want);
    let start = NaiveDate::from_ymd_opt(1997, 9, 2).unwrap();
    keeps_going(
        rule,
        "1997-09-02 09:00",
        "2091-01-01 00:00",
        "2091-07-01 00:00",
        |d| (d - start).num_days() % 14 == 0,
    );
}

fn tuesdays_and_thursdays_for_five_weeks() -> Vec<NaiveDateTime> {
    [
        nine(1997, 9, [2, 4, 9, 11, 16, 18, 23, 25, 30]),
        nine(1997, 10, [2]),
    ]
    .concat()
}

#[test]
fn weekly_on_tuesday_and_thursday_for_five_weeks_until() {
    let got = ny(
        "FREQ=WEEKLY;UNTIL=19971007T000000Z;WKST=SU;BYDAY=TU,TH",
        "1997-09-02 09:00",
        "1997-01-01 00:00",
        "1999-01-01 00:00",
    );
    assert_eq!(got, tuesdays_and_thursdays_for_five_weeks());
}

#[test]
fn weekly_on_tuesday_and_thursday_for_five_weeks_count() {
    let got = ny(
        "FREQ=WEEKLY;COUNT=10;WKST=SU;BYDAY=TU,TH",
        "1997-09-02 09:00",
        "1997-01-01 00:00",
        "1999-01-01 00:00",
    );
    assert_eq!(got, tuesdays_and_thursdays_for_five_weeks());
}

#[test]
fn every_other_week_on_monday_wednesday_friday_until_december_24_1997() {
    let got = ny(
        "FREQ=WEEKLY;INTERVAL=2;UNTIL=19971224T000000Z;WKST=SU;BYDAY=MO,WE,FR",
        "1997-09-01 09:00",
        "1997-01-01 00:00",
        "1999-01-01 00:00",
    );
    let want = [
        nine(1997, 9, [1, 3, 5, 15, 17, 19, 29]),
        nine(1997, 10, [1, 3, 13, 15, 17]),
        nine(1997, 10, [27, 29, 31]),
        nine(1997, 11, [10, 12, 14, 24, 26, 28]),
        nine(1997, 12, [8, 10, 12, 22]),
    ]
    .concat();
    assert_eq!(got, want);
}

#[test]
fn every_other_week_on_tuesday_and_thursday_for_eight_occurrences() {
    let got = ny(
        "FREQ=WEEKLY;INTERVAL=2;COUNT=8;WKST=SU;BYDAY=TU,TH",
        "1997-09-02 09:00",
        "1997-01-01 00:00",
        "1999-01-01 00:00",
    );
    let want = [
        nine(1997, 9, [2, 4, 16, 18, 30]),
        nine(1997, 10, [2, 14, 16]),
    ]
    .concat();
    assert_eq!(got, want);
}

#[test]
fn monthly_on_the_first_friday_for_ten_occurrences() {
    let got = ny(
        "FREQ=MONTHLY;COUNT=10;BYDAY=1FR",
        "1997-09-05 09:00",
        "1997-01-01 00:00",
        "2000-01-01 00:00",
    );
    let want = [
        nine(1997, 9, [5]),
        nine(1997, 10, [3]),
        nine(1997, 11, [7]),
        nine(1997, 12, [5]),
        nine(1998, 1, [2]),
        nine(1998, 2, [6]),
        nine(1998, 3, [6]),
        nine(1998, 4, [3]),
        nine(1998, 5, [1]),
        nine(1998, 6, [5]),
    ]
    .concat();
    assert_eq!(got, want);
}

#[test]
fn monthly_on_the_first_friday_until_december_24_1997() {
    let got = ny(
        "FREQ=MONTHLY;UNTIL=19971224T000000Z;BYDAY=1FR",
        "1997-09-05 09:00",
        "1997-01-01 00:00",
        "2000-01-01 00:00",
    );
    let want = [
        nine(1997, 9, [5]),
        nine(1997, 10, [3]),
        nine(1997, 11, [7]),
        nine(1997, 12, [5]),
    ]
    .concat();
    assert_eq!(got, want);
}

#[test]
fn every_other_month_on_the_first_and_last_sunday_for_ten_occurrences() {
    let got = ny(
        "FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYDAY=1SU,-1SU",
        "1997-09-07 09:00",
        "1997-01-01 00:00",
        "2000-01-01 00:00",
    );
    let want = [
        nine(1997, 9, [7, 28]),
        nine(1997, 11, [2, 30]),
        nine(1998, 1, [4, 25]),
        nine(1998, 3, [1, 29]),
        nine(1998, 5, [3, 31]),
    ]
    .concat();
    assert_eq!(got, want);
}

#[test]
fn monthly_on_the_second_to_last_monday_for_six_months() {
    let got = ny(
        "FREQ=MONTHLY;COUNT=6;BYDAY=-2MO",
        "1997-09-22 09:00",
        "1997-01-01 00:00",
        "2000-01-01 00:00",
    );
    let want = [
        nine(1997, 9, [22]),
        nine(1997, 10, [20]),
        nine(1997, 11, [17]),
        nine(1997, 12, [22]),
        nine(1998, 1, [19]),
        nine(1998, 2, [16]),
    ]
    .concat();
    assert_eq!(got, want);
}

#[test]
fn monthly_on_the_third_to_the_last_day_forever() {
    let rule = "FREQ=MONTHLY;BYMONTHDAY=-3";
    let got = ny(
        rule,
        "1997-09-28 09:00",
        "1997-09-01 00:00",
        "1998-03-01 00:00",
    );
    let want = [
        nine(1997, 9, [28]),
        nine(1997, 10, [29]),
        nine(1997, 11, [28]),
        nine(1997, 12, [29]),
        nine(1998, 1, [29]),
        nine(1998, 2, [26]),
    ]
    .concat();
    assert_eq!(got, want);
    keeps_going(
        rule,
        "1997-09-28 09:00",
        "2091-01-01 00:00",
        "2092-07-01 00:00",
        |d| (d + Duration::days(3)).day() == 1,
    );
}

#[test]
fn monthly_on_the_2nd_and_15th_for_ten_occurrences() {
    let got = ny(
        "FREQ=MONTHLY;COUNT=10;BYMONTHDAY=2,15",
        "1997-09-02 09:00",
        "1997-01-01 00:00",
        "2000-01-01 00:00",
    );
    let want = [
        nine(1997, 9, [2, 15]),
        nine(1997, 10, [2, 15]),
        nine(1997, 11, [2, 15]),
        nine(1997, 12, [2, 15]),
        nine(1998, 1, [2, 15]),
    ]
    .concat();
    assert_eq!(got, want);
}

#[test]
fn monthly_on_the_first_and_last_day_for_ten_occurrences() {
    let got = ny(
        "FREQ=MONTHLY;COUNT=10;BYMONTHDAY=1,-1",
        "1997-09-30 09:00",
        "1997-01-01 00:00",
        "2000-01-01 00:00",
    );
    let want = [
        nine(1997, 9, [30]),
        nine(1997, 10, [1]),
        nine(1997, 10, [31]),
        nine(1997, 11, [1, 30]),
        nine(1997, 12, [1, 31]),
        nine(1998, 1, [1, 31]),
        nine(1998, 2, [1]),
    ]
    .concat();
    assert_eq!(got, want);
}

#[test]
fn every_eighteen_months_on_the_10th_thru_15th_for_ten_occurrences() {
    let got = ny(
        "FREQ=MONTHLY;INTERVAL=18;COUNT=10;BYMONTHDAY=10,11,12,13,14,15",
        "1997-09-10 09:00",
        "1997-01-01 00:00",
        "2003-01-01 00:00",
    );
    let want = [nine(1997, 9, 10..=15), nine(1999, 3, 10..=13)].concat();
    assert_eq!(got, want);
}

#[test]
fn every_tuesday_every_other_month() {
    let rule = "FREQ=MONTHLY;INTERVAL=2;BYDAY=TU";
    let got = ny(
        rule,
        "1997-09-02 09:00",
        "1997-09-01 00:00",
        "1998-04-01 00:00",
    );
    let want = [
        nine(1997, 9, [2, 9, 16, 23, 30]),
        nine(1997, 11, [4, 11, 18, 25]),
        nine(1998, 1, [6, 13, 20, 27]),
        nine(1998, 3, [3, 10, 17, 24, 31]),
    ]
    .concat();
    assert_eq!(got, want);
    keeps_going(
        rule,
        "1997-09-02 09:00",
        "2091-01-01 00:00",
        "2092-01-01 00:00",
        |d| d.weekday() == Weekday::Tue && months_since_sep_1997(d) % 2 == 0,
    );
}

#[test]
fn yearly_in_june_and_july_for_ten_occurrences() {
    let got = ny(
        "FREQ=YEARLY;COUNT=10;BYMONTH=6,7",
        "1997-06-10 09:00",
        "1997-01-01 00:00",
        "2010-01-01 00:00",
    );
    let want: Vec<_> = (1997..=2001)
        .flat_map(|y| [nine(y, 6, [10]), nine(y, 7, [10])].concat())
        .collect();
    assert_eq!(got, want);
}

#[test]
fn every_other_year_in_january_february_march_for_ten_occurrences() {
    let got = ny(
        "FREQ=YEARLY;INTERVAL=2;COUNT=10;BYMONTH=1,2,3",
        "1997-03-10 09:00",
        "1997-01-01 00:00",
        "2010-01-01 00:00",
    );
    let mut want = nine(1997, 3, [10]);
    for y in [1999, 2001, 2003] {
        want.extend([nine(y, 1, [10]), nine(y, 2, [10]), nine(y, 3, [10])].concat());
    }
    assert_eq!(got, want);
}

#[test]
fn every_third_year_on_the_1st_100th_and_200th_day_for_ten_occurrences() {
    let got = ny(
        "FREQ=YEARLY;INTERVAL=3;COUNT=10;BYYEARDAY=1,100,200",
        "1997-01-01 09:00",
        "1997-01-01 00:00",
        "2010-01-01 00:00",
    );
    let want = [
        nine(1997, 1, [1]),
        nine(1997, 4, [10]),
        nine(1997, 7, [19]),
        nine(2000, 1, [1]),
        nine(2000, 4, [9]),
        nine(2000, 7, [18]),
        nine(2003, 1, [1]),
        nine(2003, 4, [10]),
        nine(2003, 7, [19]),
        nine(2006, 1, [1]),
    ]
    .concat();
    assert_eq!(got, want);
}

#[test]
fn every_20th_monday_of_the_year_forever() {
    let rule = "FREQ=YEARLY;BYDAY=20MO";
    let got = ny(
        rule,
        "1997-05-19 09:00",
        "1997-01-01 00:00",
        "2000-01-01 00:00",
    );
    let want = [
        nine(1997, 5, [19]),
        nine(1998, 5, [18]),
        nine(1999, 5, [17]),
    ]
    .concat();
    assert_eq!(got, want);
    keeps_going(
        rule,
        "1997-05-19 09:00",
        "2091-01-01 00:00",
        "2095-01-01 00:00",
        |d| d.weekday() == Weekday::Mon && d.ordinal0() / 7 == 19,
    );
}

#[test]
fn monday_of_week_number_20_forever() {
    let rule = "FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO";
    let got = ny(
        rule,
        "1997-05-12 09:00",
        "1997-01-01 00:00",
        "2000-01-01 00:00",
    );
    let want = [
        nine(1997, 5, [12]),
        nine(1998, 5, [11]),
        nine(1999, 5, [17]),
    ]
    .concat();
    assert_eq!(got, want);
    keeps_going(
        rule,
        "1997-05-12 09:00",
        "2091-01-01 00:00",
        "2095-01-01 00:00",
        |d| d.weekday() == Weekday::Mon && d.iso_week().week() == 20,
    );
}

#[test]
fn every_thursday_in_march_forever() {
    let rule = "FREQ=YEARLY;BYMONTH=3;BYDAY=TH";
    let got = ny(
        rule,
        "1997-03-13 09:00",
        "1997-01-01 00:00",
        "2000-01-01 00:00",
    );
    let want = [
        nine(1997, 3, [13, 20, 27]),
        nine(1998, 3, [5, 12, 19, 26]),
        nine(1999, 3, [4, 11, 18, 25]),
    ]
    .concat();
    assert_eq!(got, want);
    keeps_going(
        rule,
        "1997-03-13 09:00",
        "2091-01-01 00:00",
        "2094-01-01 00:00",
        |d| d.weekday() == Weekday::Thu && d.month() == 3,
    );
}

#[test]
fn every_thursday_but_only_in_june_july_and_august_forever() {
    let rule = "FREQ=YEARLY;BYDAY=TH;BYMONTH=6,7,8";
    let got = ny(
        rule,
        "1997-06-05 09:00",
        "1997-01-01 00:00",
        "2000-01-01 00:00",
    );
    let want = [
        nine(1997, 6, [5, 12, 19, 26]),
        nine(1997, 7, [3, 10, 17, 24, 31]),
        nine(1997, 8, [7, 14, 21, 28]),
        nine(1998, 6, [4, 11, 18, 25]),
        nine(1998, 7, [2, 9, 16, 23, 30]),
        nine(1998, 8, [6, 13, 20, 27]),
        nine(1999, 6, [3, 10, 17, 24]),
        nine(1999, 7, [1, 8, 15, 22, 29]),
        nine(1999, 8, [5, 12, 19, 26]),
    ]
    .concat();
    assert_eq!(got, want);
    keeps_going(
        rule,
        "1997-06-05 09:00",
        "2091-01-01 00:00",
        "2093-01-01 00:00",
        |d| d.weekday() == Weekday::Thu && (6..=8).contains(&d.month()),
    );
}

#[test]
fn every_friday_the_13th_forever_with_dtstart_excluded() {
    let rule = "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13";
    let mut s = series(rule, "1997-09-02 09:00");
    s.exdates.push(dt("1997-09-02 09:00"));
    let got = s
        .starts_between(dt("1997-09-01 00:00"), dt("2001-01-01 00:00"))
        .unwrap();
    let want = [
        nine(1998, 2, [13]),
        nine(1998, 3, [13]),
        nine(1998, 11, [13]),
        nine(1999, 8, [13]),
        nine(2000, 10, [13]),
    ]
    .concat();
    assert_eq!(got, want);
    let (from, to) = ("2091-01-01 00:00", "2096-01-01 00:00");
    let far = s.starts_between(dt(from), dt(to)).unwrap();
    assert!(!far.is_empty());
    assert_eq!(
        far,
        nine_where(from, to, |d| d.weekday() == Weekday::Fri && d.day() == 13)
    );
}

#[test]
fn the_first_saturday_that_follows_the_first_sunday_of_the_month_forever() {
    let rule = "FREQ=MONTHLY;BYDAY=SA;BYMONTHDAY=7,8,9,10,11,12,13";
    let got = ny(
        rule,
        "1997-09-13 09:00",
        "1997-09-01 00:00",
        "1998-07-01 00:00",
    );
    let want = [
        nine(1997, 9, [13]),
        nine(1997, 10, [11]),
        nine(1997, 11, [8]),
        nine(1997, 12, [13]),
        nine(1998, 1, [10]),
        nine(1998, 2, [7]),
        nine(1998, 3, [7]),
        nine(1998, 4, [11]),
        nine(1998, 5, [9]),
        nine(1998, 6, [13]),
    ]
    .concat();
    assert_eq!(got, want);
    keeps_going(
        rule,
        "1997-09-13 09:00",
        "2091-01-01 00:00",
        "2092-01-01 00:00",
        |d| d.weekday() == Weekday::Sat && (7..=13).contains(&d.day()),
    );
}

#[test]
fn every_four_years_the_first_tuesday_after_a_monday_in_november() {
    let rule = "FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8";
    let got = ny(
        rule,
        "1996-11-05 09:00",
        "1996-01-01 00:00",
        "2008-01-01 00:00",
    );
    let want = [
        nine(1996, 11, [5]),
        nine(2000, 11, [7]),
        nine(2004, 11, [2]),
    ]
    .concat();
    assert_eq!(got, want);
    keeps_going(
        rule,
        "1996-11-05 09:00",
        "2090-01-01 00:00",
        "2110-01-01 00:00",
        |d| {
            (d.year() - 1996) % 4 == 0
                && d.month() == 11
                && d.weekday() == Weekday::Tue
                && (2..=8).contains(&d.day())
        },
    );
}

#[test]
fn the_third_tuesday_wednesday_or_thursday_of_the_month_for_three_months() {
    let got = ny(
        "FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3",
        "1997-09-04 09:00",
        "1997-01-01 00:00",
        "2000-01-01 00:00",
    );
    let want = [nine(1997, 9, [4]), nine(1997, 10, [7]), nine(1997, 11, [6])].concat();
    assert_eq!(got, want);
}

#[test]
fn the_second_to_last_weekday_of_the_month() {
    let rule = "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2";
    let got = ny(
        rule,
        "1997-09-29 09:00",
        "1997-09-01 00:00",
        "1998-04-01 00:00",
    );
    let want = [
        nine(1997, 9, [29]),
        nine(1997, 10, [30]),
        nine(1997, 11, [27]),
        nine(1997, 12, [30]),
        nine(1998, 1, [29]),
        nine(1998, 2, [26]),
        nine(1998, 3, [30]),
    ]
    .concat();
    assert_eq!(got, want);
    keeps_going(
        rule,
        "1997-09-29 09:00",
        "2091-01-01 00:00",
        "2092-01-01 00:00",
        |d| {
            let weekdays_after = d
                .iter_days()
                .skip(1)
                .take_while(|x| x.month() == d.month())
                .filter(|x| is_weekday(*x))
                .count();
            is_weekday(d) && weekdays_after == 1
        },
    );
}

/// The RFC's own listing (09:00, 12:00, 15:00) contradicts its rule: UNTIL=19970902T170000Z is
/// 13:00 EDT, and UNTIL bounds the series inclusively (3.3.10). So the literal rule stops at 12:00,
/// and the listed "9:00 AM to 5:00 PM" needs UNTIL at 17:00 EDT, 19970902T210000Z.
#[test]
fn every_three_hours_until_1700_utc_stops_at_1300_new_york() {
    let got = ny(
        "FREQ=HOURLY;INTERVAL=3;UNTIL=19970902T170000Z",
        "1997-09-02 09:00",
        "1997-09-01 00:00",
        "1997-09-10 00:00",
    );
    assert_eq!(got, times("1997-09-02", &["09:00", "12:00"]));
}

#[test]
fn every_three_hours_from_nine_to_five_on_a_specific_day() {
    let got = ny(
        "FREQ=HOURLY;INTERVAL=3;UNTIL=19970902T210000Z",
        "1997-09-02 09:00",
        "1997-09-01 00:00",
        "1997-09-10 00:00",
    );
    assert_eq!(got, times("1997-09-02", &["09:00", "12:00", "15:00"]));
}

#[test]
fn every_fifteen_minutes_for_six_occurrences() {
    let got = ny(
        "FREQ=MINUTELY;INTERVAL=15;COUNT=6",
        "1997-09-02 09:00",
        "1997-09-01 00:00",
        "1997-09-10 00:00",
    );
    let want = times(
        "1997-09-02",
        &["09:00", "09:15", "09:30", "09:45", "10:00", "10:15"],
    );
    assert_eq!(got, want);
}

#[test]
fn every_hour_and_a_half_for_four_occurrences() {
    let got = ny(
        "FREQ=MINUTELY;INTERVAL=90;COUNT=4",
        "1997-09-02 09:00",
        "1997-09-01 00:00",
        "1997-09-10 00:00",
    );
    let want = times("1997-09-02", &["09:00", "10:30", "12:00", "13:30"]);
    assert_eq!(got, want);
}

/// 9:00, 9:20, 9:40, 10:00, … 16:00, 16:20, 16:40 on each day in `days`.
fn every_twenty_minutes_nine_to_four_forty(days: &[&str]) -> Vec<NaiveDateTime> {
    let mut out = Vec::new();
    for day in days {
        for h in 9..=16 {
            for m in [0, 20, 40] {
                out.push(dt(&format!("{day} {h:02}:{m:02}")));
            }
        }
    }
    out
}

fn check_every_twenty_minutes(rule: &str) {
    let got = ny(
        rule,
        "1997-09-02 09:00",
        "1997-09-02 00:00",
        "1997-09-04 00:00",
    );
    assert_eq!(got.len(), 48, "{rule}");
    assert_eq!(
        got,
        every_twenty_minutes_nine_to_four_forty(&["1997-09-02", "1997-09-03"]),
        "{rule}"
    );
    let far = ny(
        rule,
        "1997-09-02 09:00",
        "2091-03-01 00:00",
        "2091-03-03 00:00",
    );
    assert_eq!(
        far,
        every_twenty_minutes_nine_to_four_forty(&["2091-03-01", "2091-03-02"]),
        "{rule} far away"
    );
}

#[test]
fn every_twenty_minutes_from_nine_to_four_forty_every_day_as_a_daily_rule() {
    check_every_twenty_minutes("FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16;BYMINUTE=0,20,40");
}

#[test]
fn every_twenty_minutes_from_nine_to_four_forty_every_day_as_a_minutely_rule() {
    check_every_twenty_minutes("FREQ=MINUTELY;INTERVAL=20;BYHOUR=9,10,11,12,13,14,15,16");
}

#[test]
fn week_start_monday_decides_which_days_an_every_other_week_rule_yields() {
    let got = ny(
        "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO",
        "1997-08-05 09:00",
        "1997-01-01 00:00",
        "1999-01-01 00:00",
    );
    assert_eq!(got, nine(1997, 8, [5, 10, 19, 24]));
}

#[test]
fn week_start_sunday_decides_which_days_an_every_other_week_rule_yields() {
    let got = ny(
        "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU",
        "1997-08-05 09:00",
        "1997-01-01 00:00",
        "1999-01-01 00:00",
    );
    assert_eq!(got, nine(1997, 8, [5, 17, 19, 31]));
}

#[test]
fn an_invalid_date_like_february_30_is_skipped_not_counted() {
    let got = ny(
        "FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5",
        "2007-01-15 09:00",
        "2007-01-01 00:00",
        "2009-01-01 00:00",
    );
    let want = [
        nine(2007, 1, [15, 30]),
        nine(2007, 2, [15]),
        nine(2007, 3, [15, 30]),
    ]
    .concat();
    assert_eq!(got, want);
}
