//! Alarms (VALARM): what an event asks to be reminded of, and the instants an occurrence's alarms
//! fire. Pure: reading a VEVENT's VALARMs, and arithmetic on an occurrence's start and end.

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::ical::Component;
use super::time::{EventTime, When, parse_duration};

/// Repetitions past this are not fired (a `REPEAT:100000` would flood the screen).
pub const MAX_REPEAT: u32 = 50;

/// What an alarm does. Email alarms are kept (so alarm indexes stay those of the source) but never
/// shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlarmAction {
    Display,
    Audio,
    Email,
    /// Anything else (`PROCEDURE`, an X- action): not shown.
    Other,
}

/// When an alarm fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Trigger {
    /// Seconds after the occurrence's start (negative: before).
    Start(i64),
    /// Seconds after the occurrence's end (`RELATED=END`).
    End(i64),
    /// A fixed instant (`VALUE=DATE-TIME`, in UTC).
    At(DateTime<Utc>),
}

/// One VALARM of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alarm {
    pub action: AlarmAction,
    pub trigger: Trigger,
    /// Extra repetitions after the first (`REPEAT`), each `every` seconds later (`DURATION`).
    pub repeat: u32,
    pub every: i64,
}

impl Alarm {
    /// True for the alarms a person is shown (display and audio); email and others are not.
    pub fn shown(&self) -> bool {
        matches!(self.action, AlarmAction::Display | AlarmAction::Audio)
    }

    /// The instants this alarm fires for an occurrence from `start` to `end`, repetitions included,
    /// in order.
    pub fn instants(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let first = match self.trigger {
            Trigger::Start(s) => start + Duration::seconds(s),
            Trigger::End(s) => end + Duration::seconds(s),
            Trigger::At(at) => at,
        };
        let repeat = if self.every > 0 {
            self.repeat.min(MAX_REPEAT)
        } else {
            0
        };
        (0..=i64::from(repeat))
            .map(|k| first + Duration::seconds(k * self.every))
            .collect()
    }

    /// How far before an occurrence's start (positive) or after it (negative) this alarm can fire
    /// at the earliest and the latest, for an occurrence no longer than `length` seconds: a
    /// window of alarm instants maps back to the starts that can produce them.
    pub fn reach(&self, length: i64) -> Option<(i64, i64)> {
        let span = i64::from(self.repeat.min(MAX_REPEAT)) * self.every.max(0);
        match self.trigger {
            Trigger::Start(s) => Some((s, s + span)),
            Trigger::End(s) => Some((s, s + length + span)),
            Trigger::At(_) => None,
        }
    }
}

/// The VALARMs of a VEVENT, in source order. A VALARM without a readable TRIGGER is left out.
pub fn read_alarms(event: &Component) -> Vec<Alarm> {
    event
        .children
        .iter()
        .filter(|c| c.name == "VALARM")
        .filter_map(read_alarm)
        .collect()
}

fn read_alarm(alarm: &Component) -> Option<Alarm> {
    let action = match alarm
        .property("ACTION")
        .map(|p| p.value.trim().to_ascii_uppercase())
        .as_deref()
    {
        Some("DISPLAY") => AlarmAction::Display,
        Some("AUDIO") => AlarmAction::Audio,
        Some("EMAIL") => AlarmAction::Email,
        _ => AlarmAction::Other,
    };
    let p = alarm.property("TRIGGER")?;
    let absolute = p
        .param("VALUE")
        .is_some_and(|v| v.eq_ignore_ascii_case("DATE-TIME"));
    let trigger = if absolute {
        match EventTime::from_property(p).ok()?.normalise() {
            When::Instant(at) => Trigger::At(at),
            // RFC 5545 wants UTC; a floating one is read as UTC rather than lost.
            When::Floating(local) => Trigger::At(local.and_utc()),
            When::Date(_) => return None,
        }
    } else {
        let offset = parse_duration(&p.value)?.num_seconds();
        match p.param("RELATED") {
            Some(r) if r.eq_ignore_ascii_case("END") => Trigger::End(offset),
            _ => Trigger::Start(offset),
        }
    };
    let repeat = alarm
        .property("REPEAT")
        .and_then(|p| p.value.trim().parse::<u32>().ok())
        .unwrap_or(0);
    let every = alarm
        .property("DURATION")
        .and_then(|p| parse_duration(&p.value))
        .map_or(0, |d| d.num_seconds());
    Some(Alarm {
        action,
        trigger,
        repeat,
        every,
    })
}

/// The instant a boundary stands for: all-day and floating times are read in `zone` (a time that
/// does not exist there, in a DST gap, is read an hour later).
pub fn instant_of(when: When, zone: &Tz) -> DateTime<Utc> {
    let local = match when {
        When::Instant(at) => return at,
        When::Floating(local) => local,
        When::Date(day) => day.and_hms_opt(0, 0, 0).expect("midnight exists"),
    };
    zone.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            zone.from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
        })
        .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ical::parse;

    fn alarms_of(valarms: &str) -> Vec<Alarm> {
        let text = format!(
            "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261123T090000Z\r\n{valarms}END:VEVENT\r\nEND:VCALENDAR\r\n"
        );
        let doc = parse(&text);
        let cal = &doc.components[0];
        read_alarms(&cal.children[0])
    }

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, h, m, 0).unwrap()
    }

    #[test]
    fn a_trigger_before_the_start_fires_before_it() {
        let a = alarms_of("BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n");
        assert_eq!(a.len(), 1);
        assert!(a[0].shown());
        assert_eq!(a[0].instants(at(9, 0), at(10, 0)), [at(8, 45)]);
    }

    #[test]
    fn a_trigger_related_to_the_end_fires_after_the_end() {
        let a =
            alarms_of("BEGIN:VALARM\r\nACTION:AUDIO\r\nTRIGGER;RELATED=END:PT5M\r\nEND:VALARM\r\n");
        assert_eq!(a[0].trigger, Trigger::End(300));
        assert_eq!(a[0].instants(at(9, 0), at(10, 0)), [at(10, 5)]);
    }

    #[test]
    fn an_absolute_trigger_ignores_the_occurrence() {
        let a = alarms_of(
            "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER;VALUE=DATE-TIME:20261122T180000Z\r\nEND:VALARM\r\n",
        );
        let eve = Utc.with_ymd_and_hms(2026, 11, 22, 18, 0, 0).unwrap();
        assert_eq!(a[0].instants(at(9, 0), at(10, 0)), [eve]);
    }

    #[test]
    fn repeats_follow_the_first_at_the_given_interval() {
        let a = alarms_of(
            "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT30M\r\nREPEAT:2\r\nDURATION:PT10M\r\nEND:VALARM\r\n",
        );
        assert_eq!(
            a[0].instants(at(9, 0), at(10, 0)),
            [at(8, 30), at(8, 40), at(8, 50)]
        );
        assert_eq!(a[0].reach(3600), Some((-1800, -1800 + 1200)));
    }

    #[test]
    fn email_alarms_are_read_but_not_shown_and_a_bad_trigger_is_skipped() {
        let a = alarms_of(
            "BEGIN:VALARM\r\nACTION:EMAIL\r\nTRIGGER:-PT1H\r\nEND:VALARM\r\n\
             BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:soon\r\nEND:VALARM\r\n",
        );
        assert_eq!(a.len(), 1);
        assert!(!a[0].shown());
    }

    #[test]
    fn an_all_day_start_is_midnight_in_the_zone() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        assert_eq!(
            instant_of(When::Date(day), &berlin),
            at(0, 0) - Duration::hours(1)
        );
    }
}
