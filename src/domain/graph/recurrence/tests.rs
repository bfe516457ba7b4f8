use super::*;
use crate::domain::recur::Series;

fn at(y: i32, m: u32, d: u32, h: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, 0, 0)
        .unwrap()
}

fn starts(rule: &str, start: NaiveDateTime) -> Vec<NaiveDateTime> {
    Series {
        start,
        all_day: false,
        rrule: Some(rule.to_string()),
        rdates: Vec::new(),
        exdates: Vec::new(),
    }
    .starts_between(start, start + chrono::Duration::days(5 * 366))
    .unwrap()
}

/// Every rule of the mappable subset: each frequency with its Graph shapes, intervals, ends.
fn mappable() -> Vec<String> {
    let mut rules = Vec::new();
    let ends = [
        "",
        ";COUNT=7",
        ";UNTIL=20280315T235959Z",
        ";UNTIL=20271103T080000Z",
    ];
    for interval in [1, 2, 3] {
        for end in ends {
            rules.push(format!("FREQ=DAILY;INTERVAL={interval}{end}"));
            rules.push(format!("FREQ=WEEKLY;INTERVAL={interval}{end}"));
            for days in ["MO", "TU,TH", "MO,WE,FR,SU"] {
                for wkst in ["MO", "SU"] {
                    rules.push(format!(
                        "FREQ=WEEKLY;INTERVAL={interval};BYDAY={days};WKST={wkst}{end}"
                    ));
                }
            }
            for day in [1, 15, 28, 31] {
                rules.push(format!(
                    "FREQ=MONTHLY;INTERVAL={interval};BYMONTHDAY={day}{end}"
                ));
            }
            for n in ["1", "2", "3", "4", "-1"] {
                rules.push(format!("FREQ=MONTHLY;INTERVAL={interval};BYDAY={n}WE{end}"));
                rules.push(format!(
                    "FREQ=MONTHLY;INTERVAL={interval};BYDAY=MO,TU,WE,TH,FR;BYSETPOS={n}{end}"
                ));
                rules.push(format!(
                    "FREQ=YEARLY;INTERVAL={interval};BYMONTH=11;BYDAY={n}TH{end}"
                ));
            }
            rules.push(format!(
                "FREQ=YEARLY;INTERVAL={interval};BYMONTH=2;BYMONTHDAY=29{end}"
            ));
            rules.push(format!("FREQ=YEARLY;INTERVAL={interval}{end}"));
            rules.push(format!("FREQ=MONTHLY;INTERVAL={interval}{end}"));
        }
    }
    rules
}

#[test]
fn every_mappable_rule_survives_graph_and_back_over_five_years() {
    // A Wednesday at 09:00 (the UNTIL at 08:00 ends the day before).
    let start = at(2026, 11, 25, 9);
    let rules = mappable();
    assert!(rules.len() > 300, "{}", rules.len());
    for rule in rules {
        let graph =
            from_rrule(&rule, start, "Europe/Berlin").unwrap_or_else(|e| panic!("{rule}: {e}"));
        let back = to_rrule(&graph).unwrap_or_else(|e| panic!("{rule} → {graph}: {e}"));
        let (a, b) = (starts(&rule, start), starts(&back, start));
        assert_eq!(a, b, "{rule} → {graph} → {back}");
        assert!(!a.is_empty(), "{rule}");
    }
}

#[test]
fn rules_graph_cannot_hold_are_refused_saying_which_part() {
    let start = at(2026, 11, 25, 9);
    for (rule, says) in [
        ("FREQ=HOURLY", "HOURLY"),
        ("FREQ=MINUTELY", "MINUTELY"),
        ("FREQ=DAILY;BYHOUR=9,17", "BYHOUR"),
        ("FREQ=MONTHLY;BYMONTHDAY=1,15", "one positive day"),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", "one positive day"),
        ("FREQ=YEARLY;BYMONTH=1,7", "one month"),
        ("FREQ=YEARLY;BYWEEKNO=20", "BYWEEKNO"),
        ("FREQ=YEARLY;BYYEARDAY=100", "BYYEARDAY"),
        ("FREQ=MONTHLY;BYDAY=2MO,3TU", "BYDAY/BYSETPOS"),
        ("FREQ=MONTHLY;BYDAY=5FR", "5th"),
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1,3", "BYDAY/BYSETPOS"),
    ] {
        let e = from_rrule(rule, start, "UTC").unwrap_err();
        assert!(e.contains(says), "{rule}: {e}");
    }
}

#[test]
fn graphs_documented_shapes_read_into_rules() {
    let weekly = json!({
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["Monday", "thursday"], "firstDayOfWeek": "sunday"},
        "range": {"type": "endDate", "startDate": "2026-11-23", "endDate": "2026-12-31", "recurrenceTimeZone": "W. Europe Standard Time"}
    });
    assert_eq!(
        to_rrule(&weekly).unwrap(),
        "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO,TH;WKST=SU;UNTIL=20261231T235959Z"
    );
    let last_friday = json!({
        "pattern": {"type": "relativeMonthly", "interval": 2, "daysOfWeek": ["friday"], "index": "last"},
        "range": {"type": "numbered", "numberOfOccurrences": 5, "startDate": "2026-11-27"}
    });
    assert_eq!(
        to_rrule(&last_friday).unwrap(),
        "FREQ=MONTHLY;INTERVAL=2;BYDAY=-1FR;COUNT=5"
    );
    // Years 0001 and 9999 are Graph's "none" [obs]: an endDate there is no end.
    let sentinel = json!({
        "pattern": {"type": "daily", "interval": 1},
        "range": {"type": "endDate", "startDate": "2026-11-23", "endDate": "0001-01-01"}
    });
    assert_eq!(to_rrule(&sentinel).unwrap(), "FREQ=DAILY;INTERVAL=1");
    assert!(to_rrule(&json!({"pattern": {"type": "hourly"}})).is_err());
}
