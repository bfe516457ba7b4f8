use chrono::{NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use super::*;
use crate::domain::edit::{Changes, EditError, NewEvent};
use crate::domain::event::read_calendar;
use crate::domain::series::item_occurrences;
use crate::domain::time::{EventTime, When};
use crate::domain::tz::Zone;
use crate::domain::{Event, Occurrence};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn berlin(y: i32, m: u32, day: u32, h: u32, min: u32) -> EventTime {
    EventTime::Zoned {
        local: d(y, m, day).and_hms_opt(h, min, 0).unwrap(),
        tzid: "Europe/Berlin".into(),
        zone: Some(Zone::Iana(Tz::Europe__Berlin)),
    }
}

fn events(raw: &str) -> Vec<Event> {
    let parsed = read_group(raw);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(parsed.items.len(), 1);
    parsed.items[0].events.clone()
}

/// What the month view shows: occurrences on the days, cancelled ones left out, in start order,
/// as Berlin wall-clock time and summary.
fn shown(raw: &str, from: NaiveDate, to: NaiveDate) -> Vec<(String, String)> {
    let (list, errors) = item_occurrences(&events(raw), 1, from, to);
    assert!(errors.is_empty(), "{errors:?}");
    let mut list: Vec<Occurrence> = list
        .into_iter()
        .filter(|o| o.overlaps_days(from, to, &Tz::Europe__Berlin) && !o.cancelled())
        .collect();
    list.sort_by_key(|o| o.start);
    list.iter()
        .map(|o| {
            (
                o.start
                    .local(&Tz::Europe__Berlin)
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
                o.summary.to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// Events compared without the line they were read from (a position in JSON, a line in iCalendar).
fn without_lines(mut list: Vec<Event>) -> Vec<Event> {
    for e in &mut list {
        e.line = 0;
    }
    list
}

const TIMED: &str = r#"[{"kind":"calendar#event","etag":"\"3412550318086000\"","id":"e1","iCalUID":"e1@google.com",
"status":"confirmed","summary":"Review, part 1","location":"Room 4","description":"Line one\nline two",
"sequence":3,"start":{"dateTime":"2026-11-23T09:00:00+01:00","timeZone":"Europe/Berlin"},
"end":{"dateTime":"2026-11-23T09:30:00+01:00","timeZone":"Europe/Berlin"}}]"#;

#[test]
fn a_timed_event_reads_as_the_equivalent_icalendar_does() {
    let got = events(TIMED);
    let ics = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:e1@google.com\r\nDTSTART;TZID=Europe/Berlin:20261123T090000\r\n\
DTEND;TZID=Europe/Berlin:20261123T093000\r\nSUMMARY:Review\\, part 1\r\nLOCATION:Room 4\r\n\
DESCRIPTION:Line one\\nline two\r\nSTATUS:CONFIRMED\r\nSEQUENCE:3\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let want = read_calendar(ics).items.remove(0).events;
    assert_eq!(without_lines(got.clone()), without_lines(want));
    assert_eq!(got[0].start, berlin(2026, 11, 23, 9, 0));
    assert_eq!(got[0].description.as_deref(), Some("Line one\nline two"));
    assert_eq!(got[0].line, 1, "the position in the group");
    let parsed = read_group(TIMED);
    assert_eq!(
        parsed.items[0].raw, TIMED,
        "the item keeps the JSON as received"
    );
    assert_eq!(parsed.items[0].uid, "e1@google.com");
}

#[test]
fn a_date_time_written_in_another_offset_keeps_the_wall_clock_of_its_zone() {
    // Google may give dateTime in the calendar's offset while timeZone names the event's zone.
    let raw = r#"[{"id":"ny","start":{"dateTime":"2026-11-23T15:00:00+01:00","timeZone":"America/New_York"},
"end":{"dateTime":"2026-11-23T16:00:00+01:00","timeZone":"America/New_York"}}]"#;
    let ev = &events(raw)[0];
    assert_eq!(ev.uid, "ny", "the id stands in for a missing iCalUID");
    match &ev.start {
        EventTime::Zoned { local, tzid, .. } => {
            assert_eq!(tzid, "America/New_York");
            assert_eq!(*local, d(2026, 11, 23).and_hms_opt(9, 0, 0).unwrap());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_all_day_event_ends_on_its_exclusive_end_date() {
    let raw = r#"[{"id":"h","summary":"Trip","start":{"date":"2026-11-23"},"end":{"date":"2026-11-25"}}]"#;
    let ev = &events(raw)[0];
    assert_eq!(ev.start, EventTime::Date(d(2026, 11, 23)));
    assert_eq!(ev.end, EventTime::Date(d(2026, 11, 25)));
    let days = shown(raw, d(2026, 11, 20), d(2026, 11, 30));
    assert_eq!(days, pairs(&[("2026-11-23 00:00", "Trip")]));
    let (list, _) = item_occurrences(&events(raw), 1, d(2026, 11, 20), d(2026, 11, 30));
    assert_eq!(
        list[0].days(&Tz::Europe__Berlin),
        (d(2026, 11, 23), d(2026, 11, 24))
    );
}

#[test]
fn an_all_day_end_on_or_before_its_start_is_one_day() {
    for end in ["2026-11-23", "2026-11-20"] {
        let raw =
            format!(r#"[{{"id":"h","start":{{"date":"2026-11-23"}},"end":{{"date":"{end}"}}}}]"#);
        let ev = &events(&raw)[0];
        assert_eq!(ev.end, EventTime::Date(d(2026, 11, 24)), "end {end}");
    }
}

/// A weekly series on Mondays at 09:00 Berlin (across the end of summer time), with the instance of
/// 2 November moved to Tuesday 14:00 and renamed, and that of 16 November cancelled.
const WEEKLY: &str = r#"[
{"id":"w1","iCalUID":"w1@google.com","summary":"Weekly","status":"confirmed",
 "start":{"dateTime":"2026-10-19T09:00:00+02:00","timeZone":"Europe/Berlin"},
 "end":{"dateTime":"2026-10-19T10:00:00+02:00","timeZone":"Europe/Berlin"},
 "recurrence":["RRULE:FREQ=WEEKLY;BYDAY=MO"]},
{"id":"w1_20261102T080000Z","iCalUID":"w1@google.com","recurringEventId":"w1","summary":"Weekly (moved)",
 "status":"confirmed","originalStartTime":{"dateTime":"2026-11-02T09:00:00+01:00","timeZone":"Europe/Berlin"},
 "start":{"dateTime":"2026-11-03T14:00:00+01:00","timeZone":"Europe/Berlin"},
 "end":{"dateTime":"2026-11-03T15:00:00+01:00","timeZone":"Europe/Berlin"}},
{"kind":"calendar#event","etag":"\"1\"","id":"w1_20261116T080000Z","status":"cancelled","recurringEventId":"w1",
 "originalStartTime":{"dateTime":"2026-11-16T09:00:00+01:00"}}
]"#;

#[test]
fn a_weekly_series_with_a_moved_and_a_cancelled_instance_expands_to_exactly_its_instances() {
    let got = shown(WEEKLY, d(2026, 10, 19), d(2026, 11, 30));
    assert_eq!(
        got,
        pairs(&[
            ("2026-10-19 09:00", "Weekly"),
            ("2026-10-26 09:00", "Weekly"),
            ("2026-11-03 14:00", "Weekly (moved)"),
            ("2026-11-09 09:00", "Weekly"),
            ("2026-11-23 09:00", "Weekly"),
            ("2026-11-30 09:00", "Weekly"),
        ])
    );
    let list = events(WEEKLY);
    assert_eq!(
        list.len(),
        2,
        "the cancelled instance is an EXDATE, not an event"
    );
    assert_eq!(list[0].exdates.len(), 1);
    assert_eq!(list[1].line, 2);
    assert_eq!(
        list[1].recurrence_id.as_ref().map(EventTime::normalise),
        Some(When::Instant(
            Utc.with_ymd_and_hms(2026, 11, 2, 8, 0, 0).unwrap()
        ))
    );
}

#[test]
fn the_group_reads_as_its_own_icalendar_export_does() {
    let ics = to_ical(WEEKLY);
    assert!(
        ics.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin"),
        "{ics}"
    );
    assert!(
        ics.contains("RECURRENCE-ID;TZID=Europe/Berlin:20261102T090000"),
        "{ics}"
    );
    assert!(
        ics.contains("EXDATE;TZID=Europe/Berlin:20261116T090000"),
        "{ics}"
    );
    let again = read_calendar(&ics);
    assert!(again.errors.is_empty(), "{:?}", again.errors);
    assert_eq!(
        without_lines(again.items[0].events.clone()),
        without_lines(events(WEEKLY))
    );
    // The conflict pane's field diff reads it like any iCalendar.
    let moved = WEEKLY.replace("\"summary\":\"Weekly\"", "\"summary\":\"Weekly sync\"");
    let fields: Vec<String> =
        crate::domain::diff::diff(Some(&to_ical(WEEKLY)), Some(&to_ical(&moved)))
            .into_iter()
            .map(|f| f.field)
            .collect();
    assert_eq!(fields, ["summary"]);
}

#[test]
fn mixed_date_and_date_time_exdates_and_unknown_zones_still_remove_their_instances() {
    let raw = r#"[{"id":"m","summary":"Daily",
 "start":{"dateTime":"2026-11-23T09:00:00+01:00","timeZone":"Europe/Berlin"},
 "end":{"dateTime":"2026-11-23T09:15:00+01:00","timeZone":"Europe/Berlin"},
 "recurrence":["RRULE:FREQ=DAILY;COUNT=6","EXDATE;VALUE=DATE:20261124,20261125T090000",
   "EXDATE;TZID=Mars/Olympus:20261126T090000","EXDATE:20261127T080000Z","EXDATE:garbage,2026-11-28"]}]"#;
    let got = shown(raw, d(2026, 11, 20), d(2026, 11, 30));
    assert_eq!(
        got,
        pairs(&[("2026-11-23 09:00", "Daily"), ("2026-11-28 09:00", "Daily")])
    );
}

#[test]
fn an_all_day_series_reads_date_time_exdates_as_their_day() {
    let raw = r#"[{"id":"a","summary":"Day","start":{"date":"2026-11-23"},"end":{"date":"2026-11-24"},
 "recurrence":["RRULE:FREQ=DAILY;COUNT=3","EXDATE;TZID=Europe/Berlin:20261124T000000"]}]"#;
    let got = shown(raw, d(2026, 11, 20), d(2026, 11, 30));
    assert_eq!(
        got,
        pairs(&[("2026-11-23 00:00", "Day"), ("2026-11-25 00:00", "Day")])
    );
}

#[test]
fn an_unknown_zone_is_read_by_the_offset_in_the_date_time() {
    let raw = r#"[{"id":"u","start":{"dateTime":"2026-11-23T09:00:00+05:00","timeZone":"Mars/Olympus"},
 "end":{"dateTime":"2026-11-23T10:00:00+05:00","timeZone":"Mars/Olympus"}}]"#;
    let ev = &events(raw)[0];
    assert_eq!(
        ev.start.normalise(),
        When::Instant(Utc.with_ymd_and_hms(2026, 11, 23, 4, 0, 0).unwrap())
    );
    // Without an offset, an unknown zone leaves the wall clock floating.
    let raw = r#"[{"id":"u","start":{"dateTime":"2026-11-23T09:00:00","timeZone":"Nowhere"}}]"#;
    assert_eq!(
        events(raw)[0].start,
        EventTime::Floating(d(2026, 11, 23).and_hms_opt(9, 0, 0).unwrap())
    );
}

#[test]
fn exceptions_without_their_master_are_shown_as_events_of_their_own() {
    let raw = r#"[
{"id":"s_1","iCalUID":"s@google.com","recurringEventId":"s","summary":"First",
 "originalStartTime":{"dateTime":"2026-11-23T09:00:00+01:00","timeZone":"Europe/Berlin"},
 "start":{"dateTime":"2026-11-23T11:00:00+01:00","timeZone":"Europe/Berlin"},
 "end":{"dateTime":"2026-11-23T12:00:00+01:00","timeZone":"Europe/Berlin"}},
{"id":"s_2","iCalUID":"s@google.com","recurringEventId":"s","status":"cancelled",
 "originalStartTime":{"dateTime":"2026-11-24T09:00:00+01:00"}},
{"id":"s_3","iCalUID":"s@google.com","recurringEventId":"s","summary":"Third",
 "originalStartTime":{"dateTime":"2026-11-25T09:00:00+01:00","timeZone":"Europe/Berlin"},
 "start":{"dateTime":"2026-11-25T09:30:00+01:00","timeZone":"Europe/Berlin"},
 "end":{"dateTime":"2026-11-25T10:00:00+01:00","timeZone":"Europe/Berlin"}}]"#;
    let list = events(raw);
    assert_eq!(list.len(), 2);
    assert!(
        list.iter()
            .all(|e| e.recurrence_id.is_some() && e.uid == "s@google.com")
    );
    assert_eq!(
        shown(raw, d(2026, 11, 20), d(2026, 11, 30)),
        pairs(&[("2026-11-23 11:00", "First"), ("2026-11-25 09:30", "Third")])
    );
    assert_eq!(
        list[1].line, 3,
        "positions count the cancelled instance too"
    );
}

#[test]
fn a_cancelled_event_and_bad_objects_are_reported_not_shown() {
    let gone = read_group(r#"[{"id":"x","status":"cancelled"}]"#);
    assert!(gone.items.is_empty());
    assert_eq!(gone.errors.len(), 1);
    let bad = read_group(r#"[{"id":"a","start":{"date":"2026-11-23"}}, 7, {"id":"b"}]"#);
    assert_eq!(bad.items.len(), 1, "the master is still read");
    let lines: Vec<usize> = bad.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 3]);
    // A rule no calendar can show makes the series unreadable, as in iCalendar.
    let secondly = read_group(
        r#"[{"id":"s","start":{"dateTime":"2026-11-23T09:00:00Z"},"recurrence":["RRULE:FREQ=SECONDLY"]}]"#,
    );
    assert!(secondly.items.is_empty());
    assert_eq!(secondly.errors[0].line, 1);
}

fn rich() -> Value {
    json!({
        "kind": "calendar#event", "etag": "\"77\"", "id": "r1", "iCalUID": "r1@google.com",
        "sequence": 4, "summary": "Plan", "location": "Attic", "colorId": "5",
        "attendees": [{"email": "a@example.com", "responseStatus": "accepted"}],
        "reminders": {"useDefault": false, "overrides": [{"method": "popup", "minutes": 10}]},
        "extendedProperties": {"private": {"x": "1"}}, "conferenceData": {"future": [1, 2, {"z": null}]},
        "start": {"dateTime": "2026-11-23T09:00:00-05:00", "timeZone": "America/New_York"},
        "end": {"dateTime": "2026-11-23T10:30:00-05:00", "timeZone": "America/New_York"},
    })
}

#[test]
fn an_edit_of_the_summary_changes_only_the_summary() {
    let before = rich();
    let changes = Changes {
        summary: Some("Plan B".into()),
        ..Changes::default()
    };
    let after = apply_edit(&before, &changes).unwrap();
    assert_eq!(after["summary"], "Plan B");
    let (b, a) = (before.as_object().unwrap(), after.as_object().unwrap());
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "no field added or lost"
    );
    for (key, value) in b.iter().filter(|(k, _)| *k != "summary") {
        assert_eq!(&a[key], value, "{key}");
    }
    assert_eq!(after["sequence"], 4, "Google manages sequence");
}

#[test]
fn unknown_fields_survive_every_kind_of_edit() {
    let before = rich();
    let changes = Changes {
        summary: Some("S".into()),
        start: Some(berlin(2026, 11, 24, 15, 0)),
        location: Some(String::new()),
        description: Some("D".into()),
        rrule: Some(Some("FREQ=DAILY;COUNT=2".into())),
        ..Changes::default()
    };
    let after = apply_edit(&before, &changes).unwrap();
    for key in [
        "kind",
        "etag",
        "id",
        "iCalUID",
        "sequence",
        "colorId",
        "attendees",
        "reminders",
        "extendedProperties",
        "conferenceData",
    ] {
        assert_eq!(after[key], before[key], "{key}");
    }
    assert!(
        after.get("location").is_none(),
        "an empty location removes it"
    );
    assert_eq!(after["recurrence"], json!(["RRULE:FREQ=DAILY;COUNT=2"]));
    assert_eq!(
        after["start"]["timeZone"], "Europe/Berlin",
        "the person chose a zone"
    );
    assert_eq!(after["end"]["dateTime"], "2026-11-24T16:30:00+01:00");
}

#[test]
fn a_move_keeps_the_events_time_zone_and_its_length() {
    let moved = Changes {
        start: Some(EventTime::Utc(
            Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 0).unwrap(),
        )),
        ..Changes::default()
    };
    let after = apply_edit(&rich(), &moved).unwrap();
    assert_eq!(
        after["start"],
        json!({"dateTime": "2026-11-25T10:00:00-05:00", "timeZone": "America/New_York"})
    );
    assert_eq!(
        after["end"],
        json!({"dateTime": "2026-11-25T11:30:00-05:00", "timeZone": "America/New_York"})
    );
    let to_day = Changes {
        start: Some(EventTime::Date(d(2026, 11, 26))),
        ..Changes::default()
    };
    let after = apply_edit(&rich(), &to_day).unwrap();
    assert_eq!(after["start"]["date"], "2026-11-26");
    assert!(after["start"].get("dateTime").is_none());
    assert_eq!(after["end"]["date"], "2026-11-27");
    let backwards = Changes {
        end: Some(EventTime::Utc(
            Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
        )),
        ..Changes::default()
    };
    assert!(matches!(
        apply_edit(&rich(), &backwards),
        Err(EditError::Invalid(_))
    ));
}

#[test]
fn an_occurrence_edit_adds_an_exception_and_a_delete_cancels_the_instance() {
    let nov9 = When::Instant(Utc.with_ymd_and_hms(2026, 11, 9, 8, 0, 0).unwrap());
    let changes = Changes {
        summary: Some("Weekly (late)".into()),
        start: Some(berlin(2026, 11, 9, 17, 0)),
        ..Changes::default()
    };
    let edited = edit_group(WEEKLY, Some(nov9), &changes).unwrap();
    let list: Vec<Value> = serde_json::from_str(&edited).unwrap();
    let ex = &list[3];
    assert_eq!(ex["recurringEventId"], "w1");
    assert!(ex.get("id").is_none() && ex.get("recurrence").is_none());
    assert_eq!(
        ex["originalStartTime"],
        json!({"dateTime": "2026-11-09T09:00:00+01:00", "timeZone": "Europe/Berlin"})
    );
    assert_eq!(ex["end"]["dateTime"], "2026-11-09T18:00:00+01:00");
    let before: Vec<Value> = serde_json::from_str(WEEKLY).unwrap();
    assert_eq!(
        &list[..3],
        &before[..],
        "the rest of the group is as received"
    );
    assert_eq!(
        shown(&edited, d(2026, 11, 9), d(2026, 11, 9)),
        pairs(&[("2026-11-09 17:00", "Weekly (late)")])
    );

    // Editing it again changes the exception in place.
    let again = edit_group(
        &edited,
        Some(nov9),
        &Changes {
            location: Some("Hall".into()),
            ..Changes::default()
        },
    )
    .unwrap();
    let list: Vec<Value> = serde_json::from_str(&again).unwrap();
    assert_eq!(list.len(), 4);
    assert_eq!(list[3]["location"], "Hall");

    let deleted = delete_occurrence(&again, nov9).unwrap();
    assert_eq!(shown(&deleted, d(2026, 11, 9), d(2026, 11, 9)), vec![]);
    let nov23 = When::Instant(Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap());
    let deleted = delete_occurrence(&deleted, nov23).unwrap();
    let list: Vec<Value> = serde_json::from_str(&deleted).unwrap();
    assert_eq!(list[4]["status"], "cancelled");
    assert_eq!(
        list[4]["originalStartTime"]["dateTime"],
        "2026-11-23T09:00:00+01:00"
    );
    assert_eq!(shown(&deleted, d(2026, 11, 23), d(2026, 11, 23)), vec![]);
    // An instance the series does not have, or one already cancelled, is refused.
    let nov16 = When::Instant(Utc.with_ymd_and_hms(2026, 11, 16, 8, 0, 0).unwrap());
    assert!(matches!(
        delete_occurrence(WEEKLY, nov16),
        Err(EditError::NoSuchEvent(_))
    ));
    assert!(
        edit_group(
            WEEKLY,
            Some(nov9),
            &Changes {
                rrule: Some(None),
                ..Changes::default()
            }
        )
        .is_err()
    );
}

#[test]
fn stopping_the_repetition_drops_the_exceptions_of_later_instances() {
    let stopped = edit_group(
        WEEKLY,
        None,
        &Changes {
            rrule: Some(None),
            ..Changes::default()
        },
    )
    .unwrap();
    let list: Vec<Value> = serde_json::from_str(&stopped).unwrap();
    assert_eq!(list.len(), 1);
    assert!(list[0].get("recurrence").is_none());
}

#[test]
fn a_new_event_has_a_base32hex_id_and_google_times() {
    let ev = NewEvent {
        summary: "New".into(),
        start: berlin(2026, 11, 23, 9, 0),
        end: berlin(2026, 11, 23, 10, 0),
        location: None,
        description: Some("d".into()),
        rrule: Some("FREQ=WEEKLY".into()),
    };
    let v = new_event(&ev);
    let id = v["id"].as_str().unwrap();
    assert!(id.len() >= 26, "{id}");
    assert!(
        id.chars().all(|c| matches!(c, '0'..='9' | 'a'..='v')),
        "{id}"
    );
    assert_ne!(id, new_event(&ev)["id"].as_str().unwrap());
    assert_eq!(
        v["start"],
        json!({"dateTime": "2026-11-23T09:00:00+01:00", "timeZone": "Europe/Berlin"})
    );
    assert_eq!(v["recurrence"], json!(["RRULE:FREQ=WEEKLY"]));
    assert!(v.get("location").is_none());
    let back = events(&serde_json::to_string(&json!([v])).unwrap());
    assert_eq!(back[0].start, berlin(2026, 11, 23, 9, 0));
    assert_eq!(back[0].rrule.as_deref(), Some("FREQ=WEEKLY"));
}

/// xorshift64*: a fixed sequence, so a failure can be replayed.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

/// Keys of Google events and their time objects.
const FIELDS: &[&str] = &[
    "id",
    "iCalUID",
    "status",
    "summary",
    "start",
    "end",
    "recurrence",
    "recurringEventId",
    "originalStartTime",
    "date",
    "dateTime",
    "timeZone",
    "sequence",
    "updated",
];

/// A JSON value shaped like a Google event, with odd values in every field.
fn odd_value(n: &mut Noise, depth: u32) -> Value {
    const TEXTS: &[&str] = &[
        "",
        "cancelled",
        "w1",
        "2026-11-23",
        "2026-02-30",
        "2026-11-23T09:00:00+01:00",
        "2026-11-23T09:00:00",
        "+275760-09-13T00:00:00Z",
        "-0001-01-01T00:00:00Z",
        "Europe/Berlin",
        "Mars/Olympus",
        "RRULE:FREQ=DAILY",
        "RRULE:FREQ=SECONDLY;INTERVAL=1",
        "RRULE:FREQ=YEARLY;BYYEARDAY=400",
        "EXDATE;VALUE=DATE:20261124,x",
        "RDATE;VALUE=PERIOD:20261124T090000Z/PT1H,20261124T090000Z/junk",
        "EXDATE;TZID=\"a:b\":20261124T090000",
        "RRULE:FREQ=WEEKLY;UNTIL=99999999",
        "\u{0}\r\nBEGIN:VEVENT",
    ];
    match (n.next() % 9, depth) {
        (0, _) => Value::Null,
        (1, _) => Value::Bool(n.next() % 2 == 0),
        (2, _) => json!(n.next() as i64),
        (3 | 4, _) | (_, 0) => Value::String(n.pick(TEXTS).to_string()),
        (5 | 6, d) => Value::Array((0..n.next() % 4).map(|_| odd_value(n, d - 1)).collect()),
        (_, d) => Value::Object(
            (0..n.next() % 6)
                .map(|_| (n.pick(FIELDS).to_string(), odd_value(n, d - 1)))
                .collect(),
        ),
    }
}

#[test]
fn no_json_makes_any_of_it_panic() {
    let mut n = Noise(0x9e37_79b9_7f4a_7c15);
    let when = When::Instant(Utc.with_ymd_and_hms(2026, 11, 9, 8, 0, 0).unwrap());
    let changes = Changes {
        summary: Some("x".into()),
        start: Some(berlin(2026, 11, 9, 10, 0)),
        ..Changes::default()
    };
    let weekly: Vec<Value> = serde_json::from_str(WEEKLY).unwrap();
    let mut read_some = false;
    for round in 0..1_500 {
        // Odd groups from scratch, and the weekly series with odd values put into its fields.
        let group = if round % 2 == 0 {
            Value::Array((0..n.next() % 4).map(|_| odd_value(&mut n, 4)).collect())
        } else {
            let mut list = weekly.clone();
            for v in &mut list {
                for _ in 0..n.next() % 3 {
                    let key = n.pick(FIELDS);
                    let value = odd_value(&mut n, 2);
                    let slot = match n.next() % 3 {
                        0 => v.get_mut("start"),
                        1 => v.get_mut("originalStartTime"),
                        _ => Some(&mut *v),
                    };
                    if let Some(obj) = slot.and_then(Value::as_object_mut) {
                        obj.insert(key.to_string(), value);
                    }
                }
            }
            Value::Array(list)
        };
        let raw = group.to_string();
        let parsed = read_group(&raw);
        read_some |= !parsed.items.is_empty();
        for item in &parsed.items {
            let _ = item_occurrences(&item.events, 1, d(2026, 10, 1), d(2026, 12, 31));
        }
        let _ = to_ical(&raw);
        let _ = edit_group(&raw, None, &changes);
        let _ = edit_group(&raw, Some(when), &changes);
        let _ = delete_occurrence(&raw, when);
        for v in group.as_array().into_iter().flatten() {
            let _ = apply_edit(v, &changes);
            let _ = occurrence_exception(v, when, &changes);
            let _ = cancel_occurrence(v, when);
        }
        // Random bytes and cut-off groups are not JSON: reported, never shown.
        const ALPHABET: &[u8] = b" []{}\",:0123456789aetrunlfsdT-";
        let bytes: String = (0..n.next() % 64)
            .map(|_| char::from(ALPHABET[(n.next() % ALPHABET.len() as u64) as usize]))
            .collect();
        let _ = read_group(&bytes);
        let cut = (n.next() as usize) % WEEKLY.trim_end().len();
        let mut at = cut;
        while !WEEKLY.is_char_boundary(at) {
            at -= 1;
        }
        let prefix = read_group(&WEEKLY[..at]);
        assert!(
            prefix.items.is_empty() && !prefix.errors.is_empty(),
            "round {round}, cut {at}"
        );
    }
    assert!(read_some, "some odd groups are still readable events");
}

#[test]
fn a_group_past_the_cap_is_read_up_to_it_and_says_so() {
    let mut list = vec![json!({"id": "big", "start": {"date": "2026-01-01"},
        "recurrence": ["RRULE:FREQ=DAILY"]})];
    list.extend((0..MAX_EVENTS + 10).map(|i| {
        json!({"id": format!("big_{i}"), "recurringEventId": "big", "status": "cancelled",
            "originalStartTime": {"date": "2026-01-02"}})
    }));
    let parsed = read_group(&Value::Array(list).to_string());
    assert_eq!(parsed.items.len(), 1);
    assert_eq!(parsed.errors.len(), 1);
    assert_eq!(parsed.errors[0].line, MAX_EVENTS + 1);
    assert!(
        parsed.errors[0].message.contains("more than"),
        "{}",
        parsed.errors[0]
    );
}

#[test]
fn attendees_and_the_organizer_are_read_for_search_with_their_answers() {
    // Events resource: `attendees[]` {email, displayName, responseStatus, optional} and
    // `organizer` {email, displayName}.
    let raw = r#"[{"id":"m1","summary":"Planning","start":{"dateTime":"2026-11-23T09:00:00Z"},
"end":{"dateTime":"2026-11-23T10:00:00Z"},"organizer":{"email":"ann@example.com","displayName":"Ann"},
"attendees":[{"email":"bob@example.com","displayName":"Bob \"B\" Smith","responseStatus":"declined"},
{"email":"carol@example.com","optional":true,"responseStatus":"needsAction"},{"displayName":"no address"},
{"email":"eve@example.com;x=\u001b[2J"}]}]"#;
    let ev = &events(raw)[0];
    assert_eq!(
        ev.attendees,
        vec![
            "Bob B Smith bob@example.com".to_string(),
            "carol@example.com".to_string(),
            "eve@example.comx=[2J".to_string(),
        ],
        "a person without an address is left out; quotes, separators and controls are dropped"
    );
    let ics = to_ical(raw);
    assert!(ics.contains("PARTSTAT=DECLINED"), "{ics}");
    assert!(ics.contains("ROLE=OPT-PARTICIPANT"), "{ics}");
    assert!(
        ics.contains("ORGANIZER;CN=\"Ann\":mailto:ann@example.com"),
        "{ics}"
    );
}
