//! A single event (not part of a series) read straight from its Graph object into the events the
//! iCalendar path gives ([`super::read_group`]: the object written as a VCALENDAR, then read),
//! without writing and parsing the text. A first sync reads thousands of them; this is a fifth of
//! the work. Anything less plain than a single event in a known zone, in years the text writes
//! as four digits, is left to the iCalendar path (`None`). The tests hold the two readings equal
//! object for object, including objects made to be awkward.

use chrono::{Datelike, Timelike};
use serde_json::Value;

use super::item::{roles, str_of, uid_of};
use super::read::event_fields;
use crate::domain::alarm::{Alarm, AlarmAction, Trigger};
use crate::domain::event::{Event, Item, ParsedCalendar, attendee_text, default_end, sane_end};
use crate::domain::ical::ItemError;
use crate::domain::json_group::{MAX_ATTENDEES, person_parts};
use crate::domain::time::EventTime;
use crate::domain::tz::Zone;

/// `v` (a single event) read as [`super::read_objects`] reads it, whose item's text is `raw`;
/// `None` when it is not a plain single event (the caller then reads it through iCalendar).
pub fn read_single(v: &Value, raw: &str) -> Option<ParsedCalendar> {
    let list = std::slice::from_ref(v);
    let r = roles(list);
    if r.master != Some(0)
        || !r.exceptions.is_empty()
        || !r.rejected.is_empty()
        || v.get("recurrence").is_some_and(|r| !r.is_null())
        || str_of(v, "type").is_some_and(|t| !t.eq_ignore_ascii_case("singleInstance"))
    {
        return None;
    }
    let uid = uid_of(list, &r)?;
    let uid = uid.trim();
    if uid.is_empty() {
        return None;
    }
    let f = event_fields(v, None).ok()?;
    let start = as_written(f.start)?;
    let end = match f.end {
        Some(end) => as_written(end)?,
        None => default_end(&start),
    };
    let end = sane_end(&start, end);
    let attendees = v
        .get("attendees")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .take(MAX_ATTENDEES)
        .filter_map(|a| {
            let email = a.get("emailAddress")?;
            let (address, cn) = person_parts(str_of(email, "address")?, str_of(email, "name"))?;
            Some(attendee_text(&format!("mailto:{address}"), cn.as_deref()))
        })
        .collect();
    let alarms = f
        .reminder
        .map(|minutes| Alarm {
            action: AlarmAction::Display,
            trigger: Trigger::Start(-minutes * 60),
            repeat: 0,
            every: 0,
        })
        .into_iter()
        .collect();
    let event = Event {
        uid: uid.to_string(),
        recurrence_id: None,
        summary: f.summary.unwrap_or_default(),
        location: f.location,
        description: f.description,
        status: f.cancelled.then(|| "CANCELLED".to_string()),
        start,
        end,
        duration: None,
        rrule: None,
        rdates: Vec::new(),
        exdates: Vec::new(),
        this_and_future: false,
        line: 1,
        attendees,
        alarms,
    };
    Some(ParsedCalendar {
        items: vec![Item {
            uid: uid.to_string(),
            raw: raw.to_string(),
            events: vec![event],
        }],
        errors: f
            .notes
            .into_iter()
            .map(|message| ItemError { line: 1, message })
            .collect(),
        name: None,
        color: None,
    })
}

/// A time as the iCalendar text carries it: whole seconds; `None` for what the text would not
/// carry the same way (a year outside 1900–2200, a zone known by no name).
fn as_written(t: EventTime) -> Option<EventTime> {
    let in_range = |year: i32| (1900..=2200).contains(&year);
    Some(match t {
        EventTime::Date(d) if in_range(d.year()) => EventTime::Date(d),
        EventTime::Utc(u) if in_range(u.year()) => EventTime::Utc(u.with_nanosecond(0)?),
        EventTime::Zoned {
            local,
            tzid,
            zone: Some(Zone::Iana(tz)),
        } if in_range(local.year()) && tz.name() == tzid => EventTime::Zoned {
            local: local.with_nanosecond(0)?,
            tzid,
            zone: Some(Zone::Iana(tz)),
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::read_single;
    use crate::domain::graph::{group_text, read_objects};

    /// A small deterministic generator (xorshift), so a failure names its seed.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[self.below(from.len())]
        }
    }

    /// Text as servers send it, plain or made to be awkward for iCalendar: escapes, folding
    /// points inside multi-byte characters, control characters, blank and padded text.
    const PLAIN_TEXTS: &[&str] = &["Standup", "Review with the team", "Lunch", "1:1"];
    const AWKWARD_TEXTS: &[&str] = &[
        "",
        "   ",
        "\t",
        " padded ",
        "semi;colon, comma\\backslash",
        "line one\nline two\r\nline three",
        "bell\u{7} and escape \u{1b}[31mred\u{1b}[0m",
        "\u{1}",
        "ends with a backslash \\",
        "quote \" and colon : and caret ^n",
        "naïve café – 日本語の会議 🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉",
        "\u{a0}non-breaking\u{a0}",
        "ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé",
    ];
    const ZONES: &[&str] = &[
        "UTC",
        "W. Europe Standard Time",
        "Eastern Standard Time",
        "Pacific Standard Time",
        "India Standard Time",
        "Europe/Berlin",
        "America/New_York",
        "tzone://Microsoft/Custom",
        "",
        "Not A Zone",
    ];
    const TIMES: &[&str] = &[
        "2026-11-23T09:00:00.0000000",
        "2026-11-23T09:30:15.1234567",
        "2026-03-29T02:30:00",
        "2026-10-25T02:30:00.0000000",
        "2026-11-23T00:00:00.0000000",
        "2026-11-22T23:00:00Z",
        "0001-01-01T00:00:00.0000000",
        "4501-01-01T00:00:00.0000000",
        "not a time",
    ];

    fn text(rng: &mut Rng, awkward: bool) -> Value {
        if awkward && rng.below(3) == 0 {
            match rng.below(4) {
                0 => Value::Null,
                1 => json!(7),
                _ => json!(rng.pick(AWKWARD_TEXTS)),
            }
        } else if awkward {
            json!(rng.pick(AWKWARD_TEXTS))
        } else {
            json!(rng.pick(PLAIN_TEXTS))
        }
    }

    fn person(rng: &mut Rng, awkward: bool) -> Value {
        let (name, address) = if awkward {
            (
                rng.pick(&["", "Ann \"the\" Lee", "Bob; Jr:", "\u{1}", " ", "Zoë"]),
                rng.pick(&[
                    "",
                    "a@example.com",
                    " spaced @x.org ",
                    "x\u{a0}",
                    "MAILTO:y@z",
                    "\u{a0}",
                ]),
            )
        } else {
            (
                rng.pick(&["Ann Lee", "Bob Stone"]),
                rng.pick(&["ann@example.com", "bob@example.com"]),
            )
        };
        json!({"emailAddress": {"name": name, "address": address}, "type": "required",
               "status": {"response": "accepted"}})
    }

    /// One event object in Graph's shape; `awkward` mixes in what a hostile or odd server sends.
    fn object(rng: &mut Rng, n: usize, awkward: bool) -> Value {
        let zone = if awkward {
            rng.pick(ZONES)
        } else {
            rng.pick(&ZONES[..5])
        };
        let all_day = rng.below(if awkward { 3 } else { 20 }) == 0;
        let (start, end) = if awkward {
            (rng.pick(TIMES), rng.pick(TIMES))
        } else if all_day {
            ("2026-11-23T00:00:00.0000000", "2026-11-24T00:00:00.0000000")
        } else {
            ("2026-11-23T09:00:00.0000000", "2026-11-23T09:30:00.0000000")
        };
        let minutes = [15, 0, -5, 1_000_000, 30][rng.below(5)];
        let mut v = json!({
            "@odata.etag": format!("W/\"etag{n}\""),
            "id": format!("AAMkAG{n}="),
            "iCalUId": format!("040000008200E00074C5B7101A82E008{n:08}"),
            "type": "singleInstance",
            "subject": text(rng, awkward),
            "body": {"contentType": "text", "content": text(rng, awkward)},
            "location": {"displayName": text(rng, awkward)},
            "start": {"dateTime": start, "timeZone": zone},
            "end": {"dateTime": end, "timeZone": zone},
            "originalStartTimeZone": rng.pick(ZONES),
            "originalEndTimeZone": rng.pick(ZONES),
            "isAllDay": all_day,
            "isCancelled": rng.below(10) == 0,
            "showAs": rng.pick(&["busy", "free", "tentative", "oof", "unknown"]),
            "sensitivity": rng.pick(&["normal", "private", "confidential"]),
            "isReminderOn": rng.below(2) == 0,
            "reminderMinutesBeforeStart": minutes,
            "createdDateTime": "2026-11-01T08:00:00.1234567Z",
            "lastModifiedDateTime": "2026-11-02T08:00:00Z",
            "organizer": person(rng, awkward),
            "attendees": (0..rng.below(4)).map(|_| person(rng, awkward)).collect::<Vec<_>>(),
        });
        if awkward {
            // Fields missing, of the wrong type, or naming another kind of object.
            let o = v.as_object_mut().unwrap();
            match rng.below(12) {
                0 => drop(o.remove("end")),
                1 => drop(o.remove("iCalUId")),
                2 => drop(o.insert("type".into(), json!("occurrence"))),
                3 => drop(o.insert("recurrence".into(), json!(null))),
                4 => drop(o.insert("isAllDay".into(), json!("yes"))),
                5 => drop(o.insert("iCalUId".into(), json!("  \u{a0} "))),
                6 => drop(o.insert("start".into(), json!("2026-11-23"))),
                7 => drop(o.insert("seriesMasterId".into(), json!("AAMkMaster="))),
                8 => drop(o.insert("type".into(), json!("SingleInstance"))),
                _ => {}
            }
        }
        v
    }

    /// The direct reading equals the iCalendar path's for every object it takes, and it takes
    /// every plain one.
    fn compare(seed: u64, count: usize, awkward: bool) -> usize {
        let mut rng = Rng(seed);
        let mut direct = 0;
        for n in 0..count {
            let v = object(&mut rng, n, awkward);
            let one = std::slice::from_ref(&v);
            let raw = group_text(one, &[]);
            let via_ical = read_objects(one, &[], &raw);
            if let Some(read) = read_single(&v, &raw) {
                direct += 1;
                assert_eq!(read, via_ical, "seed {seed}, object {n}: {v:#}");
            }
        }
        direct
    }

    #[test]
    fn plain_single_events_are_read_directly_as_the_icalendar_path_reads_them() {
        for seed in [1, 2, 3] {
            assert_eq!(compare(seed, 2_000, false), 2_000, "seed {seed}");
        }
    }

    #[test]
    fn awkward_single_events_read_directly_equal_the_icalendar_path_or_take_it() {
        let mut direct = 0;
        for seed in [11, 12, 13, 14, 15] {
            direct += compare(seed, 2_000, true);
        }
        // Most awkward objects are still single events the direct reading takes.
        assert!(direct > 3_000, "only {direct} of 10,000 read directly");
    }
}
