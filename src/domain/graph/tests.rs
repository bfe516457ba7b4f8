use chrono::{NaiveDate, Utc};
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

fn utc(s: &str) -> When {
    When::Instant(s.parse::<chrono::DateTime<Utc>>().unwrap())
}

fn events(raw: &str) -> Vec<Event> {
    let parsed = read_group(raw);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(parsed.items.len(), 1);
    parsed.items[0].events.clone()
}

/// Occurrences shown between two days, cancelled ones left out, as wall-clock time in `zone` and
/// summary, in start order.
fn shown(raw: &str, from: NaiveDate, to: NaiveDate, zone: Tz) -> Vec<(String, String)> {
    let (list, errors) = item_occurrences(&events(raw), 1, from, to);
    assert!(errors.is_empty(), "{errors:?}");
    let mut list: Vec<Occurrence> = list
        .into_iter()
        .filter(|o| o.overlaps_days(from, to, &zone) && !o.cancelled())
        .collect();
    list.sort_by_key(|o| o.start);
    list.iter()
        .map(|o| {
            (
                o.start.local(&zone).format("%Y-%m-%d %H:%M").to_string(),
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

fn without_lines(mut list: Vec<Event>) -> Vec<Event> {
    for e in &mut list {
        e.line = 0;
    }
    list
}

fn ics_events(ics: &str) -> Vec<Event> {
    let parsed = read_calendar(ics);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    parsed.items[0].events.clone()
}

/// Times as Graph returns them under `Prefer: outlook.timezone="UTC"`.
const SINGLE: &str = r#"{"graph":[{"@odata.etag":"W/\"EZ9r3czxY0m2jz8c45czkwAAFXcvIw==\"","id":"AAMkS1",
"iCalUId":"040000008200E00074C5B7101A82E00800000000S1","changeKey":"EZ9r3czxY0m2jz8c45czkwAAFXcvIw==",
"type":"singleInstance","subject":"Review, part 1","body":{"contentType":"text","content":"Line one\nline two"},
"location":{"displayName":"Room 4","locationType":"default"},"isAllDay":false,"isCancelled":false,
"showAs":"busy","sensitivity":"private","originalStartTimeZone":"W. Europe Standard Time",
"originalEndTimeZone":"W. Europe Standard Time","isReminderOn":true,"reminderMinutesBeforeStart":15,
"organizer":{"emailAddress":{"name":"Ann Smith","address":"ann@example.com"}},
"attendees":[{"type":"required","status":{"response":"none"},"emailAddress":{"name":"Bob","address":"bob@example.com"}}],
"start":{"dateTime":"2026-11-23T08:00:00.0000000","timeZone":"UTC"},
"end":{"dateTime":"2026-11-23T08:30:00.0000000","timeZone":"UTC"},"someFutureField":{"x":1}}]}"#;

#[test]
fn a_single_event_reads_as_the_equivalent_icalendar_does() {
    let got = events(SINGLE);
    let ics = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:040000008200E00074C5B7101A82E00800000000S1\r\n\
DTSTART;TZID=Europe/Berlin:20261123T090000\r\nDTEND;TZID=Europe/Berlin:20261123T093000\r\n\
SUMMARY:Review\\, part 1\r\nLOCATION:Room 4\r\nDESCRIPTION:Line one\\nline two\r\nTRANSP:OPAQUE\r\n\
CLASS:PRIVATE\r\nATTENDEE;CN=\"Bob\":mailto:bob@example.com\r\n\
BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n\
END:VEVENT\r\nEND:VCALENDAR\r\n";
    assert_eq!(without_lines(got.clone()), without_lines(ics_events(ics)));
    assert_eq!(got[0].line, 1, "the position in the graph array");
    let parsed = read_group(SINGLE);
    assert_eq!(
        parsed.items[0].raw, SINGLE,
        "the item keeps the JSON byte for byte"
    );
    assert_eq!(
        group_uid(SINGLE).as_deref(),
        Some("040000008200E00074C5B7101A82E00800000000S1")
    );
    assert_eq!(group_id(SINGLE).as_deref(), Some("AAMkS1"));
    assert_eq!(
        group_etag(SINGLE).as_deref(),
        Some(r#"W/"EZ9r3czxY0m2jz8c45czkwAAFXcvIw==""#)
    );
    let exported = to_ical(SINGLE);
    for line in [
        "ORGANIZER;CN=\"Ann Smith\":mailto:ann@example.com",
        "ATTENDEE;CN=\"Bob\":mailto:bob@example.com",
        "BEGIN:VALARM",
        "TRIGGER:-PT15M",
        "BEGIN:VTIMEZONE",
    ] {
        assert!(exported.contains(line), "{line} in {exported}");
    }
}

/// A weekly series kept in Pacific time, read under `outlook.timezone="UTC"`: Mondays 09:00, one
/// occurrence moved to 10:00 and renamed, one cancelled (listed), one cancelled (an exception).
const SERIES: &str = r#"{"graph":[
{"@odata.etag":"W/\"m1\"","id":"AAMkM1","iCalUId":"series-1","type":"seriesMaster","subject":"Standup",
"isAllDay":false,"originalStartTimeZone":"Pacific Standard Time","originalEndTimeZone":"Pacific Standard Time",
"start":{"dateTime":"2026-10-05T16:00:00.0000000","timeZone":"UTC"},
"end":{"dateTime":"2026-10-05T16:30:00.0000000","timeZone":"UTC"},
"recurrence":{"pattern":{"type":"weekly","interval":1,"daysOfWeek":["monday"],"firstDayOfWeek":"sunday"},
"range":{"type":"noEnd","startDate":"2026-10-05","endDate":"0001-01-01","recurrenceTimeZone":"Pacific Standard Time"}}},
{"@odata.etag":"W/\"x1\"","id":"AAMkX1","iCalUId":"occurrence-12","type":"exception","seriesMasterId":"AAMkM1",
"originalStart":"2026-10-12T16:00:00Z","subject":"Standup (moved)","isAllDay":false,
"start":{"dateTime":"2026-10-12T17:00:00.0000000","timeZone":"UTC"},
"end":{"dateTime":"2026-10-12T17:30:00.0000000","timeZone":"UTC"}},
{"id":"AAMkX2","type":"exception","seriesMasterId":"AAMkM1","isCancelled":true,
"originalStart":"2026-11-09T17:00:00Z","subject":"Standup","isAllDay":false,
"start":{"dateTime":"2026-11-09T17:00:00.0000000","timeZone":"UTC"},
"end":{"dateTime":"2026-11-09T17:30:00.0000000","timeZone":"UTC"}}],
"cancelled":["2026-10-19T16:00:00Z"]}"#;

#[test]
fn a_weekly_pacific_series_keeps_its_wall_clock_across_dst_with_its_exception_and_cancellations() {
    let days = shown(
        SERIES,
        d(2026, 10, 1),
        d(2026, 11, 17),
        Tz::America__Los_Angeles,
    );
    assert_eq!(
        days,
        pairs(&[
            ("2026-10-05 09:00", "Standup"),
            ("2026-10-12 10:00", "Standup (moved)"),
            ("2026-10-26 09:00", "Standup"),
            // Summer time ends on 1 November: still 09:00 in Pacific time (17:00 UTC).
            ("2026-11-02 09:00", "Standup"),
            ("2026-11-16 09:00", "Standup"),
        ])
    );
    let ics = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:series-1\r\n\
DTSTART;TZID=America/Los_Angeles:20261005T090000\r\nDTEND;TZID=America/Los_Angeles:20261005T093000\r\n\
SUMMARY:Standup\r\nRRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=MO;WKST=SU\r\n\
EXDATE;TZID=America/Los_Angeles:20261019T090000\r\nEXDATE;TZID=America/Los_Angeles:20261109T090000\r\n\
END:VEVENT\r\nBEGIN:VEVENT\r\nUID:series-1\r\nRECURRENCE-ID;TZID=America/Los_Angeles:20261012T090000\r\n\
DTSTART;TZID=America/Los_Angeles:20261012T100000\r\nDTEND;TZID=America/Los_Angeles:20261012T103000\r\n\
SUMMARY:Standup (moved)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    assert_eq!(
        without_lines(events(SERIES)),
        without_lines(ics_events(ics))
    );
    assert_eq!(group_uid(SERIES).as_deref(), Some("series-1"));
    assert_eq!(group_id(SERIES).as_deref(), Some("AAMkM1"));
}

#[test]
fn all_day_events_keep_their_dates_across_a_dst_change() {
    let single = r#"{"graph":[{"id":"a1","iCalUId":"trip","type":"singleInstance","subject":"Trip","isAllDay":true,
"start":{"dateTime":"2026-10-31T00:00:00.0000000","timeZone":"Pacific Standard Time"},
"end":{"dateTime":"2026-11-03T00:00:00.0000000","timeZone":"Pacific Standard Time"}}]}"#;
    let ev = &events(single)[0];
    assert_eq!(ev.start, EventTime::Date(d(2026, 10, 31)));
    assert_eq!(ev.end, EventTime::Date(d(2026, 11, 3)));
    // A Saturday series: the cancelled one is keyed by its Pacific midnight, the exception by a
    // UTC midnight; both land on their days.
    let series = r#"{"graph":[{"id":"s1","iCalUId":"sat","type":"seriesMaster","subject":"Market","isAllDay":true,
"start":{"dateTime":"2026-10-24T00:00:00.0000000","timeZone":"UTC"},
"end":{"dateTime":"2026-10-25T00:00:00.0000000","timeZone":"UTC"},
"recurrence":{"pattern":{"type":"weekly","interval":1,"daysOfWeek":["saturday"],"firstDayOfWeek":"sunday"},
"range":{"type":"endDate","startDate":"2026-10-24","endDate":"2026-11-14","recurrenceTimeZone":"Pacific Standard Time"}}},
{"id":"x1","type":"exception","seriesMasterId":"s1","originalStart":"2026-10-31T00:00:00Z","subject":"Market (Halloween)",
"isAllDay":true,"start":{"dateTime":"2026-10-31T00:00:00.0000000","timeZone":"UTC"},
"end":{"dateTime":"2026-11-01T00:00:00.0000000","timeZone":"UTC"}}],
"cancelled":["2026-11-07T08:00:00Z"]}"#;
    let days = shown(series, d(2026, 10, 20), d(2026, 11, 30), Tz::Asia__Tokyo);
    assert_eq!(
        days,
        pairs(&[
            ("2026-10-24 00:00", "Market"),
            ("2026-10-31 00:00", "Market (Halloween)"),
            ("2026-11-14 00:00", "Market"),
        ])
    );
}

#[test]
fn a_custom_zone_falls_back_to_the_recurrence_zone_and_no_zone_at_all_reads_as_utc_with_a_note() {
    let custom = r#"{"graph":[{"id":"c1","iCalUId":"c","type":"seriesMaster","subject":"Tokyo call","isAllDay":false,
"originalStartTimeZone":"tzone://Microsoft/Custom",
"start":{"dateTime":"2026-11-23T09:00:00","timeZone":"tzone://Microsoft/Custom"},
"end":{"dateTime":"2026-11-23T10:00:00","timeZone":"tzone://Microsoft/Custom"},
"recurrence":{"pattern":{"type":"daily","interval":1},
"range":{"type":"numbered","numberOfOccurrences":2,"startDate":"2026-11-23","recurrenceTimeZone":"Tokyo Standard Time"}}}]}"#;
    let ev = &events(custom)[0];
    assert_eq!(ev.start.normalise(), utc("2026-11-23T00:00:00Z"));
    assert_eq!(ev.start.tzid(), Some("Asia/Tokyo"));
    let lost = r#"{"graph":[{"id":"l1","iCalUId":"l","subject":"Somewhere","isAllDay":false,
"start":{"dateTime":"2026-11-23T09:00:00","timeZone":"tzone://Microsoft/Custom"},
"end":{"dateTime":"2026-11-23T10:00:00","timeZone":""}}]}"#;
    let parsed = read_group(lost);
    assert_eq!(parsed.items.len(), 1, "the event is still shown");
    assert_eq!(
        parsed.items[0].events[0].start.normalise(),
        utc("2026-11-23T09:00:00Z")
    );
    assert!(
        parsed.errors.iter().any(|e| e.message.contains("UTC")),
        "{:?}",
        parsed.errors
    );
}

#[test]
fn a_sentinel_end_date_means_no_end_and_a_rule_that_cannot_map_shows_the_event_once() {
    let sentinel = r#"{"graph":[{"id":"n1","iCalUId":"n","type":"seriesMaster","subject":"Forever","isAllDay":false,
"start":{"dateTime":"2026-11-23T09:00:00.0000000","timeZone":"UTC"},
"end":{"dateTime":"2026-11-23T10:00:00.0000000","timeZone":"UTC"},
"recurrence":{"pattern":{"type":"daily","interval":1},
"range":{"type":"endDate","startDate":"2026-11-23","endDate":"0001-01-01","recurrenceTimeZone":"UTC"}}}]}"#;
    assert_eq!(
        events(sentinel)[0].rrule.as_deref(),
        Some("FREQ=DAILY;INTERVAL=1")
    );
    let later = shown(sentinel, d(2030, 1, 1), d(2030, 1, 1), Tz::UTC);
    assert_eq!(later, pairs(&[("2030-01-01 09:00", "Forever")]));

    let hourly = sentinel.replace(r#""type":"daily""#, r#""type":"hourly""#);
    let parsed = read_group(&hourly);
    assert_eq!(parsed.items[0].events.len(), 1);
    assert_eq!(parsed.items[0].events[0].rrule, None, "shown once");
    assert!(
        parsed.errors[0].message.contains("repetition"),
        "{:?}",
        parsed.errors
    );
}

#[test]
fn malformed_items_are_reported_never_a_panic() {
    for raw in [
        "not json",
        r#"{"graph":5}"#,
        r#"{"graph":[]}"#,
        r#"{"graph":[5]}"#,
        r#"{"graph":[{"id":"a","iCalUId":"a","subject":"no start"}]}"#,
        r#"{"graph":[{"id":"a","iCalUId":"a","start":{"dateTime":"yesterday"}}]}"#,
        r#"{"graph":[{"id":"a","type":"exception","seriesMasterId":"m","start":{"dateTime":"2026-01-01T00:00:00"}}]}"#,
        r#"{"graph":[{"id":"a","iCalUId":"a","start":{"dateTime":"2026-01-01T00:00:00","timeZone":"UTC"}}],"cancelled":7}"#,
    ] {
        let parsed = read_group(raw);
        assert!(parsed.items.is_empty(), "{raw}");
        assert!(!parsed.errors.is_empty(), "{raw}");
        // Edits never panic either; text that is not an item at all is refused.
        let edited = edit_group(raw, None, &Changes::default());
        if group_parts(raw).is_none() {
            assert!(edited.is_err(), "{raw}");
        }
        assert!(to_ical(raw).starts_with("BEGIN:VCALENDAR"));
    }
    // An unreadable exception does not hide its series.
    let mut list: Value = serde_json::from_str(SERIES).unwrap();
    list["graph"][1]["originalStart"] = json!("whenever");
    let parsed = read_group(&list.to_string());
    assert_eq!(parsed.items.len(), 1);
    assert_eq!(parsed.errors.len(), 1);
    assert_eq!(parsed.errors[0].line, 2);
}

#[test]
fn exceptions_whose_master_is_missing_are_shown_as_events_of_their_own() {
    let mut v: Value = serde_json::from_str(SERIES).unwrap();
    let only = v["graph"][1].clone();
    v["graph"] = json!([only]);
    let raw = v.to_string();
    let days = shown(
        &raw,
        d(2026, 10, 1),
        d(2026, 10, 31),
        Tz::America__Los_Angeles,
    );
    assert_eq!(days, pairs(&[("2026-10-12 10:00", "Standup (moved)")]));
    assert_eq!(group_uid(&raw).as_deref(), Some("AAMkM1"));
}

#[test]
fn the_item_text_is_canonical() {
    let a = json!({"subject": "x", "id": "1"});
    let text = group_text(
        std::slice::from_ref(&a),
        &[
            "2026-01-02T00:00:00Z".into(),
            "2026-01-01T00:00:00Z".into(),
            "2026-01-01T00:00:00Z".into(),
        ],
    );
    assert_eq!(
        text,
        r#"{"graph":[{"id":"1","subject":"x"}],"cancelled":["2026-01-01T00:00:00Z","2026-01-02T00:00:00Z"]}"#
    );
    assert_eq!(
        group_text(&[a], &[]),
        r#"{"graph":[{"id":"1","subject":"x"}]}"#
    );
    let (events, cancelled) = group_parts(&text).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(cancelled.len(), 2);
    assert!(group_parts("[]").is_none());
}

fn berlin(y: i32, m: u32, day: u32, h: u32) -> EventTime {
    EventTime::Zoned {
        local: d(y, m, day).and_hms_opt(h, 0, 0).unwrap(),
        tzid: "Europe/Berlin".into(),
        zone: Some(Zone::Iana(Tz::Europe__Berlin)),
    }
}

fn only_event(raw: &str) -> Value {
    let (events, _) = group_parts(raw).unwrap();
    assert_eq!(events.len(), 1);
    events.into_iter().next().unwrap()
}

#[test]
fn a_new_event_is_written_with_windows_zones_seven_digits_and_our_uid_as_transaction_id() {
    let ev = NewEvent {
        summary: "Planning".into(),
        start: berlin(2026, 11, 23, 9),
        end: berlin(2026, 11, 23, 10),
        location: Some("Room 4".into()),
        description: None,
        rrule: Some("FREQ=WEEKLY;BYDAY=MO;UNTIL=20261214T080000Z".into()),
    };
    let raw = new_event(&ev, "uid-1").unwrap();
    assert!(raw.starts_with(PREFIX));
    let obj = only_event(&raw);
    assert_eq!(
        obj["start"],
        json!({"dateTime": "2026-11-23T09:00:00.0000000", "timeZone": "W. Europe Standard Time"})
    );
    assert_eq!(obj["transactionId"], "uid-1");
    assert!(obj.get("id").is_none());
    assert_eq!(obj["location"]["displayName"], "Room 4");
    assert_eq!(obj["recurrence"]["pattern"]["type"], "weekly");
    assert_eq!(obj["recurrence"]["range"]["endDate"], "2026-12-14");
    assert_eq!(group_uid(&raw).as_deref(), Some("uid-1"));
    assert_eq!(group_id(&raw), None);
    let shown = shown(&raw, d(2026, 11, 1), d(2026, 12, 31), Tz::Europe__Berlin);
    assert_eq!(shown.len(), 4, "{shown:?}");
    let body = create_body(&obj);
    assert_eq!(body["transactionId"], "uid-1");
    assert!(body.get("type").is_none());

    let all_day = NewEvent {
        summary: "Holiday".into(),
        start: EventTime::Date(d(2026, 12, 24)),
        end: EventTime::Date(d(2026, 12, 26)),
        location: None,
        description: None,
        rrule: None,
    };
    let obj = only_event(&new_event(&all_day, "uid-2").unwrap());
    assert_eq!(obj["isAllDay"], true);
    assert_eq!(
        obj["end"],
        json!({"dateTime": "2026-12-26T00:00:00.0000000", "timeZone": "UTC"})
    );
}

#[test]
fn a_rule_graph_cannot_hold_is_refused_on_create() {
    for (rule, says) in [
        ("FREQ=HOURLY", "HOURLY"),
        ("FREQ=MONTHLY;BYMONTHDAY=1,15", "one positive day"),
    ] {
        let ev = NewEvent {
            summary: "Often".into(),
            start: berlin(2026, 11, 23, 9),
            end: berlin(2026, 11, 23, 10),
            location: None,
            description: None,
            rrule: Some(rule.into()),
        };
        match new_event(&ev, "u") {
            Err(EditError::Invalid(message)) => assert!(message.contains(says), "{message}"),
            other => panic!("{rule}: {other:?}"),
        }
    }
}

#[test]
fn an_edit_changes_only_the_named_fields() {
    let before = only_event(SINGLE);
    let changes = Changes {
        summary: Some("Review, part 2".into()),
        ..Changes::default()
    };
    let after = only_event(&edit_group(SINGLE, None, &changes).unwrap());
    let patch = patch_body(&before, &after);
    assert_eq!(patch.keys().collect::<Vec<_>>(), ["subject"]);
    assert_eq!(
        after["someFutureField"],
        json!({"x": 1}),
        "unknown fields stay"
    );

    // A later start keeps the length and the zone the event is written in.
    let changes = Changes {
        start: Some(berlin(2026, 11, 23, 11)),
        location: Some(String::new()),
        ..Changes::default()
    };
    let after = only_event(&edit_group(SINGLE, None, &changes).unwrap());
    let patch = patch_body(&before, &after);
    assert_eq!(
        patch.keys().collect::<Vec<_>>(),
        ["end", "location", "start"]
    );
    assert_eq!(
        after["end"],
        json!({"dateTime": "2026-11-23T11:30:00.0000000", "timeZone": "W. Europe Standard Time"})
    );
    assert_eq!(after["location"], json!({"displayName": ""}));
    // Read-only properties never go in a patch, even when they differ.
    let mut touched = after.clone();
    touched["changeKey"] = json!("other");
    touched["@odata.etag"] = json!("W/\"other\"");
    touched["iCalUId"] = json!("other");
    assert_eq!(patch_body(&after, &touched).len(), 0);
    assert!(create_body(&before).get("id").is_none());
    assert!(create_body(&before).get("originalStartTimeZone").is_none());
}

#[test]
fn an_occurrence_edit_changes_its_exception_or_adds_one_for_the_server_to_find() {
    // The moved occurrence: its exception changes, nothing else does.
    let changes = Changes {
        summary: Some("Standup (moved again)".into()),
        ..Changes::default()
    };
    let raw = edit_group(SERIES, Some(utc("2026-10-12T16:00:00Z")), &changes).unwrap();
    let (before, _) = group_parts(SERIES).unwrap();
    let (after, cancelled) = group_parts(&raw).unwrap();
    assert_eq!(after.len(), 3);
    assert_eq!(cancelled, ["2026-10-19T16:00:00Z"]);
    assert_eq!(before[0], after[0]);
    assert_eq!(
        patch_body(&before[1], &after[1]).keys().collect::<Vec<_>>(),
        ["subject"]
    );

    // A plain occurrence (after the DST change): a new exception without an id.
    let raw = edit_group(SERIES, Some(utc("2026-11-02T17:00:00Z")), &changes).unwrap();
    let (after, _) = group_parts(&raw).unwrap();
    assert_eq!(after.len(), 4);
    let ex = &after[3];
    assert_eq!(ex["type"], "exception");
    assert_eq!(ex["seriesMasterId"], "AAMkM1");
    assert_eq!(ex["originalStart"], "2026-11-02T17:00:00Z");
    assert!(ex.get("id").is_none() && ex.get("recurrence").is_none());
    let days = shown(
        &raw,
        d(2026, 11, 2),
        d(2026, 11, 2),
        Tz::America__Los_Angeles,
    );
    assert_eq!(
        days,
        pairs(&[("2026-11-02 09:00", "Standup (moved again)")])
    );

    // No occurrence there.
    let none = edit_group(SERIES, Some(utc("2026-11-03T17:00:00Z")), &changes);
    assert!(matches!(none, Err(EditError::NoSuchEvent(_))), "{none:?}");
    let repeat = Changes {
        rrule: Some(Some("FREQ=DAILY".into())),
        ..Changes::default()
    };
    assert!(edit_group(SERIES, Some(utc("2026-11-02T17:00:00Z")), &repeat).is_err());
}

#[test]
fn deleting_an_occurrence_cancels_it_and_drops_its_exception() {
    let raw = delete_occurrence(SERIES, utc("2026-10-26T16:00:00Z")).unwrap();
    let (list, cancelled) = group_parts(&raw).unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(cancelled, ["2026-10-19T16:00:00Z", "2026-10-26T16:00:00Z"]);

    let raw = delete_occurrence(&raw, utc("2026-10-12T16:00:00Z")).unwrap();
    let (list, cancelled) = group_parts(&raw).unwrap();
    assert_eq!(list.len(), 2, "the moved occurrence's exception is gone");
    assert!(cancelled.contains(&"2026-10-12T16:00:00Z".to_string()));
    let days = shown(
        &raw,
        d(2026, 10, 1),
        d(2026, 10, 31),
        Tz::America__Los_Angeles,
    );
    assert_eq!(days, pairs(&[("2026-10-05 09:00", "Standup")]));

    let none = delete_occurrence(SERIES, utc("2026-10-27T16:00:00Z"));
    assert!(matches!(none, Err(EditError::NoSuchEvent(_))), "{none:?}");
}

#[test]
fn stopping_the_repetition_drops_exceptions_and_cancellations() {
    let changes = Changes {
        rrule: Some(None),
        ..Changes::default()
    };
    let raw = edit_group(SERIES, None, &changes).unwrap();
    let (list, cancelled) = group_parts(&raw).unwrap();
    assert_eq!(list.len(), 1);
    assert!(cancelled.is_empty());
    assert_eq!(list[0]["recurrence"], Value::Null);
    assert_eq!(events(&raw)[0].rrule, None);
}

#[test]
fn keep_both_copies_the_master_without_what_names_the_original() {
    let (uid, raw) = as_new_event(SERIES).unwrap();
    let copy = only_event(&raw);
    for key in ["id", "@odata.etag", "iCalUId", "type", "changeKey"] {
        assert!(copy.get(key).is_none(), "{key}");
    }
    assert_eq!(copy["transactionId"], uid.as_str());
    assert_eq!(group_uid(&raw).as_deref(), Some(uid.as_str()));
    assert_eq!(group_parts(&raw).unwrap().1, ["2026-10-19T16:00:00Z"]);
    assert_ne!(as_new_event(SERIES).unwrap().0, uid);
}

#[test]
fn a_server_copy_keeps_the_cached_exceptions_and_cancellations_it_did_not_bring() {
    let (list, _) = group_parts(SERIES).unwrap();
    let mut master = list[0].clone();
    master["subject"] = json!("Daily standup");
    let fetched = group_text(&[master], &[]);
    let merged = merge_copy(&fetched, Some(SERIES));
    let (list, cancelled) = group_parts(&merged).unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["subject"], "Daily standup");
    assert_eq!(cancelled, ["2026-10-19T16:00:00Z"]);
    assert_eq!(merge_copy("not json", Some(SERIES)), "not json");
}
