use super::*;
use crate::domain::series::item_occurrences;
use crate::domain::vtimezone::CustomZone;
use chrono::{NaiveDate, Offset, TimeZone};
use chrono_tz::Tz;

/// A resource as servers send it: a zone, alarms, attendees, X- properties, a folded line, and a
/// second event. Written with LF here; [`crlf`] makes the CRLF variant.
const RICH: &str = "BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Example//EN
BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:STANDARD
DTSTART:19701025T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700329T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
UID:rich-1
DTSTAMP:20260101T120000Z
SEQUENCE:2
SUMMARY:Planning
DTSTART;X-KEEP=1;TZID=Europe/Berlin:20261123T090000
DTEND;TZID=Europe/Berlin:20261123T103000
ATTENDEE;CN=\"Doe, Jane\";PARTSTAT=ACCEPTED:mailto:jane@example.com
X-FOO;X-PARAM=1:kept as is
DESCRIPTION:A long description that the server folded over more than one
  physical line\\, with an escaped comma
LOCATION:Room 1

BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:Reminder
TRIGGER:-PT15M
END:VALARM
END:VEVENT
BEGIN:VEVENT
UID:other
DTSTAMP:20260101T120000Z
DTSTART:20261124T090000Z
SUMMARY:Someone else
END:VEVENT
END:VCALENDAR
";

/// A weekly series in Berlin that starts in summer time, one instance already excluded.
const WEEKLY: &str = "BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VTIMEZONE
TZID:Europe/Berlin
END:VTIMEZONE
BEGIN:VEVENT
UID:weekly
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Berlin:20261019T090000
DTEND;TZID=Europe/Berlin:20261019T100000
RRULE:FREQ=WEEKLY
EXDATE;TZID=Europe/Berlin:20261026T090000
SUMMARY:Weekly
BEGIN:VALARM
ACTION:DISPLAY
TRIGGER:-PT5M
END:VALARM
END:VEVENT
END:VCALENDAR
";

fn crlf(s: &str) -> String {
    s.replace('\n', "\r\n")
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 8, 30, 0).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn berlin(y: i32, m: u32, d: u32, h: u32, min: u32) -> EventTime {
    EventTime::Zoned {
        local: day(y, m, d).and_hms_opt(h, min, 0).unwrap(),
        tzid: "Europe/Berlin".into(),
        zone: Some(Zone::Iana(Tz::Europe__Berlin)),
    }
}

fn instant(y: i32, m: u32, d: u32, h: u32, min: u32) -> When {
    When::Instant(Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap())
}

/// `text` without the content lines (folds included) named in `names`.
fn without_lines(text: &str, names: &[&str]) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in text.split_inclusive('\n') {
        if !line.starts_with([' ', '\t']) {
            skipping = names
                .iter()
                .any(|n| line.starts_with(&format!("{n}:")) || line.starts_with(&format!("{n};")));
        }
        if !skipping {
            out.push_str(line);
        }
    }
    out
}

fn events(raw: &str) -> Vec<Event> {
    let cal = read_calendar(raw);
    assert!(cal.errors.is_empty(), "{:?}\n{raw}", cal.errors);
    cal.items.into_iter().flat_map(|i| i.events).collect()
}

/// Starts of the instances of `raw`'s events in Berlin wall-clock time, with their summaries.
fn berlin_starts(raw: &str, from: NaiveDate, to: NaiveDate) -> Vec<String> {
    let (mut list, errors) = item_occurrences(&events(raw), 1, from, to);
    assert!(errors.is_empty(), "{errors:?}");
    list.retain(|o| o.overlaps_days(from, to, &Tz::Europe__Berlin));
    list.sort_by_key(|o| o.start);
    list.iter()
        .map(|o| {
            let at = o.start.local(&Tz::Europe__Berlin).format("%m-%d %H:%M");
            format!("{at} {}", o.summary)
        })
        .collect()
}

fn summary(text: &str) -> Changes {
    Changes {
        summary: Some(text.into()),
        ..Changes::default()
    }
}

#[test]
fn a_summary_edit_changes_only_the_summary_sequence_and_dtstamp_lines() {
    let raw = crlf(RICH);
    let out = edit_event(&raw, "rich-1", None, &summary("Planning, round 2"), now()).unwrap();
    let ours = ["SUMMARY", "SEQUENCE", "DTSTAMP"];
    assert_eq!(without_lines(&out, &ours), without_lines(&raw, &ours));
    assert!(
        out.contains("\r\nSEQUENCE:3\r\nSUMMARY:Planning\\, round 2\r\nDTSTART"),
        "{out}"
    );
    assert!(out.contains("UID:rich-1\r\nDTSTAMP:20261120T083000Z\r\n"));
    // The other event keeps its own stamp and summary.
    assert!(out.contains(
        "DTSTAMP:20260101T120000Z\r\nDTSTART:20261124T090000Z\r\nSUMMARY:Someone else\r\n"
    ));
    assert!(!out.replace("\r\n", "").contains('\n'), "LF crept in");
}

#[test]
fn an_lf_file_stays_lf_and_a_missing_sequence_is_added_as_one() {
    let raw = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nDTSTART:20261123T090000Z\nSUMMARY:Old\nLAST-MODIFIED:20260101T000000Z\nEND:VEVENT\nEND:VCALENDAR\n";
    let out = edit_event(raw, "a", None, &summary("New"), now()).unwrap();
    assert_eq!(
        out,
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nDTSTART:20261123T090000Z\nSUMMARY:New\nLAST-MODIFIED:20261120T083000Z\n\
SEQUENCE:1\nDTSTAMP:20261120T083000Z\nEND:VEVENT\nEND:VCALENDAR\n"
    );
}

#[test]
fn a_byte_order_mark_survives_an_edit() {
    let raw = "\u{feff}BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nDTSTAMP:20260101T000000Z\nSEQUENCE:4\nDTSTART:20261123T090000Z\nSUMMARY:Old\nEND:VEVENT\nEND:VCALENDAR\n";
    let out = edit_event(raw, "a", None, &summary("New"), now()).unwrap();
    assert_eq!(
        out,
        raw.replace("SUMMARY:Old", "SUMMARY:New")
            .replace("SEQUENCE:4", "SEQUENCE:5")
            .replace("20260101T000000Z", "20261120T083000Z")
    );
}

#[test]
fn a_long_summary_is_folded_at_75_octets_with_multibyte_characters_intact() {
    let long = "Überraschungsparty für Zoë 🎉, mit Kuchen; ".repeat(5);
    let out = edit_event(&crlf(RICH), "rich-1", None, &summary(&long), now()).unwrap();
    let mut folded = 0;
    for line in out.split_inclusive("\r\n") {
        assert!(line.len() - 2 <= 75, "{} octets: {line:?}", line.len() - 2);
        folded += usize::from(line.starts_with(' '));
    }
    assert!(folded >= 4, "the summary was not folded:\n{out}");
    let ev = events(&out)
        .into_iter()
        .find(|e| e.uid == "rich-1")
        .unwrap();
    assert_eq!(ev.summary, long);
}

#[test]
fn moving_the_start_keeps_the_duration_and_the_other_parameters() {
    let out = edit_event(
        &crlf(RICH),
        "rich-1",
        None,
        &Changes {
            start: Some(EventTime::Utc(
                Utc.with_ymd_and_hms(2026, 11, 24, 13, 0, 0).unwrap(),
            )),
            ..Changes::default()
        },
        now(),
    )
    .unwrap();
    assert!(
        out.contains("\r\nDTSTART;X-KEEP=1:20261124T130000Z\r\n"),
        "{out}"
    );
    assert!(out.contains("\r\nDTEND:20261124T143000Z\r\n"), "{out}");

    let with_duration = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:d\nDTSTART;TZID=Europe/Berlin:20261123T090000\nDURATION:PT45M\nEND:VEVENT\nEND:VCALENDAR\n";
    let moved = Changes {
        start: Some(berlin(2026, 11, 23, 14, 0)),
        ..Changes::default()
    };
    let out = edit_event(with_duration, "d", None, &moved, now()).unwrap();
    assert!(
        out.contains("\nDTSTART;TZID=Europe/Berlin:20261123T140000\nDURATION:PT45M\n"),
        "{out}"
    );
    assert!(!out.contains("DTEND"));
    assert_eq!(
        events(&out)[0].end.normalise(),
        instant(2026, 11, 23, 13, 45)
    );

    // An end the person sets takes the place of the duration.
    let ended = Changes {
        end: Some(berlin(2026, 11, 23, 11, 0)),
        ..Changes::default()
    };
    let out = edit_event(with_duration, "d", None, &ended, now()).unwrap();
    assert!(out.contains("\nDTSTART;TZID=Europe/Berlin:20261123T090000\nDTEND;TZID=Europe/Berlin:20261123T110000\nSEQUENCE:1\n"), "{out}");
    assert!(!out.contains("DURATION"));
}

#[test]
fn an_event_switches_between_all_day_and_timed() {
    let timed = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:t\nDTSTART:20261123T090000Z\nDTEND:20261123T103000Z\nEND:VEVENT\nEND:VCALENDAR\n";
    let to_day = Changes {
        start: Some(EventTime::Date(day(2026, 11, 23))),
        ..Changes::default()
    };
    let out = edit_event(timed, "t", None, &to_day, now()).unwrap();
    assert!(
        out.contains("\nDTSTART;VALUE=DATE:20261123\nDTEND;VALUE=DATE:20261124\n"),
        "{out}"
    );
    let ev = &events(&out)[0];
    assert_eq!(ev.end, EventTime::Date(day(2026, 11, 24)));

    let all_day = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:d\nDTSTART;VALUE=DATE:20261123\nEND:VEVENT\nEND:VCALENDAR\n";
    let to_timed = Changes {
        start: Some(berlin(2026, 11, 23, 9, 0)),
        end: Some(berlin(2026, 11, 23, 10, 0)),
        ..Changes::default()
    };
    let out = edit_event(all_day, "d", None, &to_timed, now()).unwrap();
    let ev = &events(&out)[0];
    assert_eq!(ev.start, berlin(2026, 11, 23, 9, 0));
    assert_eq!(ev.end, berlin(2026, 11, 23, 10, 0));

    // A start alone keeps the day's length, now as a time span.
    let start_only = Changes {
        start: Some(berlin(2026, 11, 23, 9, 0)),
        ..Changes::default()
    };
    let out = edit_event(all_day, "d", None, &start_only, now()).unwrap();
    assert_eq!(events(&out)[0].end, berlin(2026, 11, 24, 9, 0));
}

#[test]
fn an_end_before_the_start_or_of_another_kind_is_refused() {
    let backwards = Changes {
        end: Some(berlin(2026, 11, 23, 8, 0)),
        ..Changes::default()
    };
    let err = edit_event(&crlf(RICH), "rich-1", None, &backwards, now()).unwrap_err();
    assert_eq!(
        err,
        EditError::Invalid("the end is before the start".into())
    );
    let mixed = Changes {
        end: Some(EventTime::Date(day(2026, 11, 24))),
        ..Changes::default()
    };
    assert!(edit_event(&crlf(RICH), "rich-1", None, &mixed, now()).is_err());
    let missing = edit_event(&crlf(RICH), "nope", None, &summary("x"), now()).unwrap_err();
    assert_eq!(missing.to_string(), "there is no event nope");
}

#[test]
fn an_empty_location_removes_it_and_stopping_the_repetition_removes_rrule() {
    let raw = crlf(RICH);
    let changes = Changes {
        location: Some(String::new()),
        description: Some("Short now".into()),
        ..Changes::default()
    };
    let out = edit_event(&raw, "rich-1", None, &changes, now()).unwrap();
    assert!(!out.contains("LOCATION"));
    assert!(
        out.contains("X-FOO;X-PARAM=1:kept as is\r\nDESCRIPTION:Short now\r\n\r\nBEGIN:VALARM"),
        "{out}"
    );
    assert!(
        out.contains("DESCRIPTION:Reminder"),
        "the alarm's description is its own"
    );

    let overridden = edit_event(
        WEEKLY,
        "weekly",
        Some(instant(2026, 11, 2, 8, 0)),
        &summary("Moved"),
        now(),
    )
    .unwrap();
    let stop = Changes {
        rrule: Some(None),
        ..Changes::default()
    };
    let out = edit_event(&overridden, "weekly", None, &stop, now()).unwrap();
    assert!(!out.contains("RRULE") && !out.contains("EXDATE"), "{out}");
    assert!(
        !out.contains("RECURRENCE-ID"),
        "the override of a later instance goes too"
    );
    assert!(out.contains("BEGIN:VALARM"));
    assert_eq!(events(&out).len(), 1);
}

#[test]
fn a_new_rule_replaces_the_old_and_a_bad_one_is_refused() {
    let daily = Changes {
        rrule: Some(Some("FREQ=DAILY;UNTIL=20261231".into())),
        ..Changes::default()
    };
    let out = edit_event(WEEKLY, "weekly", None, &daily, now()).unwrap();
    assert!(
        out.contains("\nRRULE:FREQ=DAILY;UNTIL=20261231\nEXDATE"),
        "{out}"
    );
    let bad = Changes {
        rrule: Some(Some("FREQ=SOMETIMES".into())),
        ..Changes::default()
    };
    assert!(matches!(
        edit_event(WEEKLY, "weekly", None, &bad, now()),
        Err(EditError::Invalid(_))
    ));
}

#[test]
fn editing_one_occurrence_adds_an_override_after_the_master_in_its_form() {
    // 2 November 09:00 in Berlin is 08:00 UTC (winter time; the series began in summer time).
    let nov2 = instant(2026, 11, 2, 8, 0);
    let changes = Changes {
        start: Some(berlin(2026, 11, 2, 11, 0)),
        ..Changes::default()
    };
    let out = edit_event(WEEKLY, "weekly", Some(nov2), &changes, now()).unwrap();
    let override_text = "BEGIN:VEVENT\nUID:weekly\nRECURRENCE-ID;TZID=Europe/Berlin:20261102T090000\n\
DTSTAMP:20261120T083000Z\nDTSTART;TZID=Europe/Berlin:20261102T110000\nDTEND;TZID=Europe/Berlin:20261102T120000\n\
SUMMARY:Weekly\nSEQUENCE:1\nBEGIN:VALARM\nACTION:DISPLAY\nTRIGGER:-PT5M\nEND:VALARM\nEND:VEVENT\n";
    assert_eq!(
        out,
        WEEKLY.replace(
            "END:VEVENT\nEND:VCALENDAR",
            &format!("END:VEVENT\n{override_text}END:VCALENDAR")
        )
    );
    let evs = events(&out);
    assert_eq!(evs.len(), 2);
    assert_eq!(
        evs[1].recurrence_id.as_ref().map(EventTime::normalise),
        Some(nov2)
    );
    assert_eq!(evs[1].start, berlin(2026, 11, 2, 11, 0));
    assert_eq!(
        berlin_starts(&out, day(2026, 10, 19), day(2026, 11, 10)),
        vec![
            "10-19 09:00 Weekly",
            "11-02 11:00 Weekly",
            "11-09 09:00 Weekly"
        ]
    );

    // A second edit of the same instance edits its override.
    let again = edit_event(&out, "weekly", Some(nov2), &summary("Moved"), now()).unwrap();
    assert_eq!(events(&again).len(), 2);
    assert!(again.contains("SUMMARY:Moved\nSEQUENCE:2\n"), "{again}");
    assert_eq!(
        again.matches("SUMMARY:Weekly").count(),
        1,
        "the master is untouched"
    );
}

#[test]
fn an_override_of_a_series_in_an_unknown_zone_keeps_its_tzid() {
    let raw = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:u\nDTSTART;TZID=Made/Up:20261123T090000\nRRULE:FREQ=DAILY\nEND:VEVENT\nEND:VCALENDAR\n";
    let second = When::Floating(day(2026, 11, 24).and_hms_opt(9, 0, 0).unwrap());
    let out = edit_event(raw, "u", Some(second), &summary("x"), now()).unwrap();
    assert!(
        out.contains(
            "RECURRENCE-ID;TZID=Made/Up:20261124T090000\nDTSTART;TZID=Made/Up:20261124T090000\n"
        ),
        "{out}"
    );
}

#[test]
fn an_instance_the_series_does_not_have_is_refused() {
    let not_a_monday = instant(2026, 11, 3, 8, 0);
    let err = edit_event(WEEKLY, "weekly", Some(not_a_monday), &summary("x"), now()).unwrap_err();
    assert!(matches!(err, EditError::NoSuchEvent(_)), "{err}");
    let excluded = instant(2026, 10, 26, 8, 0);
    assert!(delete_occurrence(WEEKLY, "weekly", excluded, now()).is_err());
    let single = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nDTSTART:20261123T090000Z\nEND:VEVENT\nEND:VCALENDAR\n";
    let err = delete_occurrence(single, "a", instant(2026, 11, 23, 9, 0), now()).unwrap_err();
    assert_eq!(err.to_string(), "event a does not repeat");
}

#[test]
fn deleting_an_occurrence_adds_an_exdate_in_the_form_of_dtstart() {
    let out = delete_occurrence(WEEKLY, "weekly", instant(2026, 11, 9, 8, 0), now()).unwrap();
    assert!(out.contains("EXDATE;TZID=Europe/Berlin:20261026T090000\nEXDATE;TZID=Europe/Berlin:20261109T090000\nSUMMARY:Weekly\nSEQUENCE:1\n"), "{out}");
    assert_eq!(
        berlin_starts(&out, day(2026, 10, 19), day(2026, 11, 17)),
        vec![
            "10-19 09:00 Weekly",
            "11-02 09:00 Weekly",
            "11-16 09:00 Weekly"
        ]
    );

    let daily = |start: &str| {
        format!(
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:s\n{start}\nRRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT\nEND:VCALENDAR\n"
        )
    };
    let all_day = delete_occurrence(
        &daily("DTSTART;VALUE=DATE:20261123"),
        "s",
        When::Date(day(2026, 11, 24)),
        now(),
    )
    .unwrap();
    assert!(
        all_day.contains("RRULE:FREQ=DAILY;COUNT=3\nEXDATE;VALUE=DATE:20261124\n"),
        "{all_day}"
    );
    let utc = delete_occurrence(
        &daily("DTSTART:20261123T090000Z"),
        "s",
        instant(2026, 11, 24, 9, 0),
        now(),
    )
    .unwrap();
    assert!(utc.contains("\nEXDATE:20261124T090000Z\n"), "{utc}");
}

#[test]
fn deleting_an_overridden_occurrence_removes_its_override() {
    let nov2 = instant(2026, 11, 2, 8, 0);
    let moved = edit_event(WEEKLY, "weekly", Some(nov2), &summary("Moved"), now()).unwrap();
    let out = delete_occurrence(&moved, "weekly", nov2, now()).unwrap();
    assert!(
        !out.contains("RECURRENCE-ID") && !out.contains("Moved"),
        "{out}"
    );
    assert!(out.contains("EXDATE;TZID=Europe/Berlin:20261102T090000\n"));
    assert_eq!(
        berlin_starts(&out, day(2026, 10, 19), day(2026, 11, 10)),
        vec!["10-19 09:00 Weekly", "11-09 09:00 Weekly"]
    );
}

#[test]
fn a_zone_the_file_does_not_define_gets_a_vtimezone_once() {
    let raw = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nDTSTART:20261123T090000Z\nDTEND:20261123T100000Z\nEND:VEVENT\nEND:VCALENDAR\n";
    let ny = |h| EventTime::Zoned {
        local: day(2026, 11, 23).and_hms_opt(h, 0, 0).unwrap(),
        tzid: "America/New_York".into(),
        zone: Some(Zone::Iana(Tz::America__New_York)),
    };
    let changes = Changes {
        start: Some(ny(9)),
        end: Some(ny(10)),
        ..Changes::default()
    };
    let out = edit_event(raw, "a", None, &changes, now()).unwrap();
    assert!(
        out.starts_with("BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:America/New_York\n"),
        "{out}"
    );
    assert!(!out.contains('\r'));
    let again = edit_event(&out, "a", None, &changes, now()).unwrap();
    assert_eq!(again.matches("BEGIN:VTIMEZONE").count(), 1);
}

#[test]
fn with_uid_replaces_the_uid_of_every_component_and_nothing_else() {
    let raw = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:s\r\nDTSTART:20261123T090000Z\r\nRRULE:FREQ=DAILY\r\n\
BEGIN:VALARM\r\nUID:alarm-1\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:s\r\nRECURRENCE-ID:20261124T090000Z\r\nDTSTART:20261124T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let out = with_uid(raw, "fresh");
    assert_eq!(out.matches("UID:fresh\r\n").count(), 2);
    assert_eq!(out.replace("UID:fresh", "UID:s"), raw);
    assert_eq!(validate(&out).unwrap(), "fresh");
}

#[test]
fn a_new_event_reads_back_into_the_same_fields() {
    let ev = NewEvent {
        summary: "Lunch, with \"friends\"; café".into(),
        start: berlin(2026, 11, 23, 12, 0),
        end: berlin(2026, 11, 23, 13, 30),
        location: Some("Café Zentral, Wien".into()),
        description: Some("line one\nline two \\ done".into()),
        rrule: Some("FREQ=WEEKLY;COUNT=3".into()),
    };
    let out = new_event("uid-1", &ev, now());
    assert!(out.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//almanac//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"));
    assert!(out.contains("BEGIN:VEVENT\r\nUID:uid-1\r\nDTSTAMP:20261120T083000Z\r\nCREATED:20261120T083000Z\r\nSEQUENCE:0\r\n"));
    assert!(!out.replace("\r\n", "").contains('\n'));
    let read = &events(&out)[0];
    assert_eq!(read.uid, "uid-1");
    assert_eq!(read.summary, ev.summary);
    assert_eq!((&read.start, &read.end), (&ev.start, &ev.end));
    assert_eq!(read.location, ev.location);
    assert_eq!(read.description, ev.description);
    assert_eq!(read.rrule, ev.rrule);
    assert_eq!(validate(&out).unwrap(), "uid-1");

    for (start, end) in [
        (
            EventTime::Date(day(2026, 11, 23)),
            EventTime::Date(day(2026, 11, 25)),
        ),
        (
            EventTime::Utc(Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap()),
            EventTime::Utc(Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()),
        ),
        (
            EventTime::Floating(day(2026, 11, 23).and_hms_opt(9, 0, 0).unwrap()),
            EventTime::Floating(day(2026, 11, 23).and_hms_opt(9, 15, 0).unwrap()),
        ),
    ] {
        let plain = NewEvent {
            summary: "Plain".into(),
            start: start.clone(),
            end: end.clone(),
            location: Some(String::new()),
            description: None,
            rrule: None,
        };
        let out = new_event("p", &plain, now());
        assert!(
            !out.contains("VTIMEZONE") && !out.contains("LOCATION"),
            "{out}"
        );
        let read = &events(&out)[0];
        assert_eq!((&read.start, &read.end), (&start, &end));
    }
}

#[test]
fn a_new_event_in_a_zone_carries_a_vtimezone_that_matches_chrono_tz() {
    for tz in [
        Tz::Europe__Berlin,
        Tz::America__New_York,
        Tz::Australia__Sydney,
        Tz::Asia__Tokyo,
    ] {
        let at = |m, h| EventTime::Zoned {
            local: day(2026, m, 10).and_hms_opt(h, 0, 0).unwrap(),
            tzid: tz.name().into(),
            zone: Some(Zone::Iana(tz)),
        };
        let out = new_event(
            "z",
            &NewEvent {
                summary: "Zoned".into(),
                start: at(3, 9),
                end: at(3, 10),
                location: None,
                description: None,
                rrule: Some("FREQ=MONTHLY".into()),
            },
            now(),
        );
        let doc = ical::parse(&out);
        let vtz = doc.components[0]
            .children
            .iter()
            .find(|c| c.name == "VTIMEZONE")
            .unwrap_or_else(|| panic!("no VTIMEZONE for {tz}"));
        assert_eq!(vtz.property("TZID").unwrap().value, tz.name());
        let zone = CustomZone::from_component(vtz).unwrap();
        for (m, d) in [(1, 15), (7, 15)] {
            let noon = day(2026, m, d).and_hms_opt(12, 0, 0).unwrap();
            let want = tz.offset_from_utc_datetime(&noon).fix().local_minus_utc();
            assert_eq!(zone.offset_at(noon), want, "{tz} on {noon}");
        }
    }
}

#[test]
fn validate_accepts_one_event_and_names_what_is_wrong_otherwise() {
    assert_eq!(validate(WEEKLY).unwrap(), "weekly");
    let invalid = |raw: &str| match validate(raw) {
        Err(EditError::Invalid(why)) => why,
        other => panic!("{other:?} for {raw}"),
    };
    let no_event = invalid("BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n");
    assert!(no_event.contains("no VEVENT"), "{no_event}");
    let two = invalid(
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nDTSTART:20261123T090000Z\nEND:VEVENT\n\
BEGIN:VEVENT\nUID:b\nDTSTART:20261123T090000Z\nEND:VEVENT\nEND:VCALENDAR\n",
    );
    assert!(two.contains("a, b"), "{two}");
    let no_start =
        invalid("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nSUMMARY:x\nEND:VEVENT\nEND:VCALENDAR\n");
    assert!(
        no_start.starts_with("line 2:") && no_start.contains("DTSTART"),
        "{no_start}"
    );
    let bad_time = invalid(
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nDTSTART:2026-11-23\nEND:VEVENT\nEND:VCALENDAR\n",
    );
    // The line of the DTSTART, not of BEGIN:VEVENT.
    assert!(bad_time.starts_with("line 4:"), "{bad_time}");
    let bad_rule = invalid(
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nDTSTART:20261123T090000Z\nRRULE:FREQ=SOMETIMES\nEND:VEVENT\nEND:VCALENDAR\n",
    );
    assert!(bad_rule.contains("RRULE"), "{bad_rule}");
    let garbage = invalid("this is not a calendar\n");
    assert!(garbage.contains("line 1"), "{garbage}");
}

#[test]
fn new_uids_are_distinct_version_4_uuids() {
    let uids: Vec<String> = (0..200).map(|_| new_uid()).collect();
    for uid in &uids {
        let b = uid.as_bytes();
        assert_eq!(uid.len(), 36, "{uid}");
        assert!([8, 13, 18, 23].iter().all(|&i| b[i] == b'-'), "{uid}");
        assert_eq!(b[14], b'4', "{uid}");
        assert!(b"89ab".contains(&b[19]), "{uid}");
        assert!(
            uid.chars()
                .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c))
        );
    }
    let mut unique = uids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), uids.len());
}
