//! A recurring event as the cache stores it, and its occurrences in a window of days.
//!
//! Everything is kept in the series' own wall-clock frame (its DTSTART zone): RDATEs, EXDATEs and
//! RECURRENCE-IDs written in other zones or in UTC are converted into it when the spec is built, so
//! expansion compares like with like and keeps the local time across DST.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use super::event::{Event, Occurrence};
use super::recur::{RecurError, Series, midnight, until_to_local};
use super::time::{EventTime, When};
use super::tz::{self, Zone};
use super::vtimezone::CustomZone;

/// The zone a series' wall-clock times are in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SeriesZone {
    /// No zone (floating times, all-day series, unknown TZIDs).
    Floating,
    Utc,
    /// A zone known by name (IANA).
    Named(String),
    /// A zone defined by the file's own VTIMEZONE.
    Custom(CustomZone),
}

/// A change made by a `RANGE=THISANDFUTURE` override to every instance from `from` on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FutureChange {
    pub from: NaiveDateTime,
    pub shift_secs: i64,
    pub duration_secs: i64,
    pub summary: String,
    pub location: Option<String>,
    pub status: Option<String>,
}

/// A stored series: what expansion needs, in the series' wall-clock frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesSpec {
    pub start: NaiveDateTime,
    pub all_day: bool,
    pub zone: SeriesZone,
    /// The RRULE, its UNTIL already in wall-clock time.
    pub rrule: Option<String>,
    /// RDATE starts, with their own duration (seconds) when given as a PERIOD.
    #[serde(default)]
    pub rdates: Vec<(NaiveDateTime, Option<i64>)>,
    #[serde(default)]
    pub exdates: Vec<NaiveDateTime>,
    /// The exact part of each instance's length (all of it when the master has a DTEND).
    pub duration_secs: i64,
    /// Wall-clock days of each instance's length, from a DURATION in days or weeks: nominal, so an
    /// instance across a DST change still ends at its start's wall-clock time.
    #[serde(default)]
    pub duration_days: i64,
    /// RECURRENCE-IDs that have an override of their own (shown as their own event).
    #[serde(default)]
    pub overridden: Vec<NaiveDateTime>,
    #[serde(default)]
    pub future: Vec<FutureChange>,
}

/// A THISANDFUTURE change's text, shared by the instances it applies to: summary, location, status.
type SharedChange = (Arc<str>, Arc<str>, Option<Arc<str>>);

/// One instance of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub start: When,
    pub end: When,
    /// The instance's original start (its RECURRENCE-ID).
    pub recurrence_id: When,
    /// The THISANDFUTURE change that applies, as an index into `SeriesSpec::future`.
    pub change: Option<usize>,
}

impl SeriesSpec {
    /// The spec of `master` (an event with RRULE or RDATE and no RECURRENCE-ID) and its overrides.
    /// `None` when the event does not repeat.
    pub fn from_events(master: &Event, overrides: &[&Event]) -> Option<SeriesSpec> {
        if master.recurrence_id.is_some() || (master.rrule.is_none() && master.rdates.is_empty()) {
            return None;
        }
        let (zone, frame_tzid) = match &master.start {
            EventTime::Date(_) | EventTime::Floating(_) | EventTime::Zoned { zone: None, .. } => {
                (SeriesZone::Floating, None)
            }
            EventTime::Utc(_) => (SeriesZone::Utc, None),
            EventTime::Zoned {
                zone: Some(Zone::Iana(z)),
                tzid,
                ..
            } => (SeriesZone::Named(z.name().to_string()), Some(tzid.clone())),
            EventTime::Zoned {
                zone: Some(Zone::Custom(c)),
                tzid,
                ..
            } => (SeriesZone::Custom((**c).clone()), Some(tzid.clone())),
        };
        let mut spec = SeriesSpec {
            start: NaiveDateTime::MIN,
            all_day: matches!(master.start, EventTime::Date(_)),
            zone,
            rrule: None,
            rdates: Vec::new(),
            exdates: Vec::new(),
            duration_secs: 0,
            duration_days: 0,
            overridden: Vec::new(),
            future: Vec::new(),
        };
        let frame = |t: &EventTime| spec.to_frame(t, frame_tzid.as_deref());
        let start = frame(&master.start);
        // RFC 5545 3.8.5.3: a DTEND gives every instance the same exact length, a DURATION the same
        // nominal one.
        let (duration_days, duration_secs) = match master.duration {
            Some(d) if !spec.all_day => (d.days, d.secs),
            _ => (0, span_secs(&master.start, &master.end)),
        };
        let rrule = master
            .rrule
            .as_ref()
            .map(|r| until_to_local(r, |u| frame(&EventTime::Utc(u))));
        let rdates = master
            .rdates
            .iter()
            .map(|(t, d)| (frame(t), d.map(|d| d.num_seconds())))
            .collect();
        let exdates = master.exdates.iter().map(&frame).collect();
        let mut overridden = Vec::new();
        let mut future = Vec::new();
        for o in overrides {
            let Some(rid) = o.recurrence_id.as_ref().map(&frame) else {
                continue;
            };
            overridden.push(rid);
            if o.this_and_future {
                future.push(FutureChange {
                    from: rid,
                    shift_secs: (frame(&o.start) - rid).num_seconds(),
                    duration_secs: span_secs(&o.start, &o.end),
                    summary: o.summary.clone(),
                    location: o.location.clone(),
                    status: o.status.clone(),
                });
            }
        }
        future.sort_by_key(|f| f.from);
        spec.start = start;
        spec.duration_secs = duration_secs;
        spec.duration_days = duration_days;
        spec.rrule = rrule;
        spec.rdates = rdates;
        spec.exdates = exdates;
        spec.overridden = overridden;
        spec.future = future;
        Some(spec)
    }

    fn resolved_zone(&self) -> Option<Zone> {
        match &self.zone {
            SeriesZone::Named(name) => tz::resolve(name).map(Zone::Iana),
            SeriesZone::Custom(c) => Some(Zone::Custom(Arc::new(c.clone()))),
            SeriesZone::Floating | SeriesZone::Utc => None,
        }
    }

    /// A time from the source as wall-clock time in this series' frame.
    fn to_frame(&self, t: &EventTime, frame_tzid: Option<&str>) -> NaiveDateTime {
        let instant = |u: DateTime<Utc>| match (&self.zone, self.resolved_zone()) {
            (SeriesZone::Utc | SeriesZone::Floating, _) | (_, None) => u.naive_utc(),
            (_, Some(z)) => z.utc_to_local(u),
        };
        match t {
            EventTime::Date(d) => midnight(*d),
            EventTime::Floating(l) => *l,
            EventTime::Utc(u) => instant(*u),
            EventTime::Zoned { local, tzid, .. } if Some(tzid.as_str()) == frame_tzid => *local,
            EventTime::Zoned {
                local,
                zone: Some(z),
                ..
            } => instant(z.local_to_utc(*local)),
            EventTime::Zoned {
                local, zone: None, ..
            } => *local,
        }
    }

    /// A wall-clock time of this series as a boundary.
    fn when(&self, local: NaiveDateTime, zone: Option<&Zone>) -> When {
        match (&self.zone, zone) {
            _ if self.all_day => When::Date(local.date()),
            (SeriesZone::Utc, _) => When::Instant(local.and_utc()),
            (SeriesZone::Named(_) | SeriesZone::Custom(_), Some(z)) => {
                When::Instant(z.local_to_utc(local))
            }
            _ => When::Floating(local),
        }
    }

    /// The longest an instance can last: its nominal days taken as 25 hours each.
    fn nominal_span_secs(&self) -> i64 {
        self.duration_secs + self.duration_days.abs() * 90_000
    }

    fn series(&self) -> Series {
        Series {
            start: self.start,
            all_day: self.all_day,
            rrule: self.rrule.clone(),
            rdates: self.rdates.iter().map(|(t, _)| *t).collect(),
            exdates: self.exdates.clone(),
        }
    }

    /// Instances that can touch the days `from..=to` (in any display zone; callers filter exactly).
    pub fn instances(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<Instance>, RecurError> {
        let longest = self
            .future
            .iter()
            .map(|f| f.duration_secs + f.shift_secs.abs())
            .chain([self.nominal_span_secs()])
            .max()
            .unwrap_or(0);
        let lo = midnight(from) - Duration::days(2) - Duration::seconds(longest.max(0));
        let hi = midnight(to) + Duration::days(3);
        let zone = self.resolved_zone();
        let mut out = Vec::new();
        for original in self.series().starts_between(lo, hi)? {
            if self.overridden.contains(&original) {
                continue;
            }
            let change = self.future.iter().rposition(|f| f.from <= original);
            let (shift, secs) = match change.map(|i| &self.future[i]) {
                Some(f) => (f.shift_secs, f.duration_secs),
                None => (
                    0,
                    self.rdates
                        .iter()
                        .find(|(t, _)| *t == original)
                        .and_then(|(_, d)| *d)
                        .unwrap_or(self.duration_secs),
                ),
            };
            let local = original + Duration::seconds(shift);
            let start = self.when(local, zone.as_ref());
            let end = if self.all_day {
                When::Date(local.date() + Duration::days((secs / 86_400).max(1)))
            } else if change.is_none() && self.duration_days != 0 && secs == self.duration_secs {
                let wall_end = super::time::add_local(local, Duration::days(self.duration_days));
                self.when(wall_end, zone.as_ref())
                    .shifted(Duration::seconds(secs))
            } else {
                start.shifted(Duration::seconds(secs))
            };
            let recurrence_id = if shift == 0 {
                start
            } else {
                self.when(original, zone.as_ref())
            };
            out.push(Instance {
                start,
                end,
                recurrence_id,
                change,
            });
        }
        Ok(out)
    }

    /// The cache key past which no instance ends, or `None` for a series without end.
    pub fn end_key(&self) -> Option<i64> {
        let rule_end = match &self.rrule {
            None => Some(self.start),
            Some(rule) if super::recur::rule_bound(rule, self.start).is_some() => {
                super::recur::rule_bound(rule, self.start).map(|b| b.max(self.start))
            }
            Some(rule)
                if rule.to_ascii_uppercase().contains("COUNT=")
                    || rule.to_ascii_uppercase().contains("UNTIL=") =>
            {
                let all = self
                    .series()
                    .starts_between(self.start, self.start + Duration::days(365 * 400))
                    .ok()?;
                if all.len() >= usize::from(super::recur::MAX_INSTANCES) {
                    return None;
                }
                all.last().copied().or(Some(self.start))
            }
            Some(_) => return None,
        }?;
        let last = self
            .rdates
            .iter()
            .map(|(t, _)| *t)
            .chain([rule_end])
            .max()?;
        let slack = self
            .future
            .iter()
            .map(|f| f.shift_secs.abs() + f.duration_secs)
            .chain([self.nominal_span_secs()])
            .max()
            .unwrap_or(0);
        let zone = self.resolved_zone();
        Some(self.when(last, zone.as_ref()).key() + slack + 2 * 86_400)
    }

    /// Adds to `out` the occurrences of this series on the days `from..=to` that `keep` accepts,
    /// each built from `template` (the master's occurrence) with its own times, RECURRENCE-ID and
    /// any THISANDFUTURE change. Text is shared between instances, not copied.
    pub fn occurrences_into(
        &self,
        template: &Occurrence,
        from: NaiveDate,
        to: NaiveDate,
        mut keep: impl FnMut(&Occurrence) -> bool,
        out: &mut Vec<Occurrence>,
    ) -> Result<(), RecurError> {
        let changes: Vec<SharedChange> = self
            .future
            .iter()
            .map(|c| {
                (
                    Arc::from(c.summary.as_str()),
                    Arc::from(c.location.as_deref().unwrap_or_default()),
                    c.status.as_deref().map(Arc::from),
                )
            })
            .collect();
        for i in self.instances(from, to)? {
            let mut occ = template.clone();
            occ.start = i.start;
            occ.end = i.end;
            occ.recurrence_id = Some(i.recurrence_id);
            if let Some((summary, location, status)) = i.change.map(|c| &changes[c]) {
                occ.summary = summary.clone();
                occ.location = location.clone();
                occ.status = status.clone();
            }
            if keep(&occ) {
                out.push(occ);
            }
        }
        Ok(())
    }

    /// Every occurrence of this series on the days `from..=to` (see [`Self::occurrences_into`]).
    pub fn occurrences(
        &self,
        template: &Occurrence,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Occurrence>, RecurError> {
        let mut out = Vec::new();
        self.occurrences_into(template, from, to, |_| true, &mut out)?;
        Ok(out)
    }
}

/// Seconds from start to end, exactly (for all-day: whole days).
fn span_secs(start: &EventTime, end: &EventTime) -> i64 {
    match (start.normalise(), end.normalise()) {
        (When::Date(s), When::Date(e)) => (e - s).num_days().max(1) * 86_400,
        (When::Instant(s), When::Instant(e)) => (e - s).num_seconds().max(0),
        (When::Floating(s), When::Floating(e)) => (e - s).num_seconds().max(0),
        _ => 0,
    }
}

/// Every occurrence of an item's events on the days `from..=to`: series expanded, overrides and
/// single events as they are. Used where there is no cache (`agenda --ics`).
pub fn item_occurrences(
    events: &[Event],
    calendar_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> (Vec<Occurrence>, Vec<RecurError>) {
    let overrides: Vec<&Event> = events
        .iter()
        .filter(|e| e.recurrence_id.is_some())
        .collect();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for ev in events {
        let template = Occurrence {
            event_id: 0,
            calendar_id,
            uid: ev.uid.as_str().into(),
            recurrence_id: ev.recurrence_id.as_ref().map(|r| r.normalise()),
            summary: ev.summary.as_str().into(),
            location: ev.location.as_deref().unwrap_or_default().into(),
            status: ev.status.as_deref().map(Arc::from),
            start: ev.start.normalise(),
            end: ev.end.normalise(),
            tzid: ev.start.tzid().map(Arc::from),
            pending: false,
            note: None,
        };
        match SeriesSpec::from_events(ev, &overrides) {
            Some(spec) => match spec.occurrences(&template, from, to) {
                Ok(list) => out.extend(list),
                Err(e) => {
                    errors.push(e);
                    out.push(template);
                }
            },
            None => out.push(template),
        }
    }
    (out, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::read_calendar;
    use chrono_tz::Tz;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn occurrences(src: &str, from: NaiveDate, to: NaiveDate) -> Vec<Occurrence> {
        let cal = read_calendar(src);
        assert!(cal.errors.is_empty(), "{:?}", cal.errors);
        let mut out = Vec::new();
        for item in &cal.items {
            let (list, errors) = item_occurrences(&item.events, 1, from, to);
            assert!(errors.is_empty(), "{errors:?}");
            out.extend(
                list.into_iter()
                    .filter(|o| o.overlaps_days(from, to, &Tz::Europe__Berlin) && !o.cancelled()),
            );
        }
        out.sort_by_key(|o| o.start);
        out
    }

    fn berlin(o: &Occurrence) -> String {
        o.start
            .local(&Tz::Europe__Berlin)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    #[test]
    fn a_weekly_meeting_keeps_its_wall_clock_time_across_dst() {
        let src = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:w\nDTSTART;TZID=Europe/Berlin:20261019T090000\nDTEND;TZID=Europe/Berlin:20261019T100000\nRRULE:FREQ=WEEKLY\nEND:VEVENT\nEND:VCALENDAR\n";
        let got: Vec<String> = occurrences(src, d(2026, 10, 19), d(2026, 11, 2))
            .iter()
            .map(berlin)
            .collect();
        // Berlin leaves summer time on 25 October: still 09:00 on both sides.
        assert_eq!(
            got,
            vec!["2026-10-19 09:00", "2026-10-26 09:00", "2026-11-02 09:00"]
        );
    }

    #[test]
    fn a_google_series_in_utc_keeps_its_wall_clock_time_in_the_x_wr_timezone() {
        // 09:00 UTC is 10:00 in Berlin in January; Google shows the series at 10:00 all year.
        let src = "BEGIN:VCALENDAR\nX-WR-TIMEZONE:Europe/Berlin\nBEGIN:VEVENT\nUID:g\nDTSTART:20260105T090000Z\nDTEND:20260105T100000Z\nRRULE:FREQ=WEEKLY;UNTIL=20261231T090000Z\nEXDATE:20260713T080000Z\nEND:VEVENT\nEND:VCALENDAR\n";
        let winter: Vec<String> = occurrences(src, d(2026, 1, 12), d(2026, 1, 12))
            .iter()
            .map(berlin)
            .collect();
        let summer: Vec<String> = occurrences(src, d(2026, 7, 6), d(2026, 7, 20))
            .iter()
            .map(berlin)
            .collect();
        assert_eq!(winter, vec!["2026-01-12 10:00"]);
        // The EXDATE, written in UTC for the summer instance, still removes it.
        assert_eq!(summer, vec!["2026-07-06 10:00", "2026-07-20 10:00"]);
        let ends: Vec<String> = occurrences(src, d(2026, 7, 6), d(2026, 7, 6))
            .iter()
            .map(|o| o.end.local(&Tz::Europe__Berlin).format("%H:%M").to_string())
            .collect();
        assert_eq!(ends, vec!["11:00"]);
    }

    #[test]
    fn a_series_with_a_duration_in_days_keeps_wall_clock_ends_and_one_in_hours_exact_ones() {
        let series = |duration: &str| {
            format!(
                "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:d\nDTSTART;TZID=Europe/Berlin:20260327T120000\nDURATION:{duration}\nRRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT\nEND:VCALENDAR\n"
            )
        };
        let ends = |src: &str| -> Vec<String> {
            occurrences(src, d(2026, 3, 27), d(2026, 3, 29))
                .iter()
                .map(|o| {
                    o.end
                        .local(&Tz::Europe__Berlin)
                        .format("%d %H:%M")
                        .to_string()
                })
                .collect()
        };
        // The instance of 28 March spans the change to summer time.
        assert_eq!(
            ends(&series("P1D")),
            vec!["28 12:00", "29 12:00", "30 12:00"]
        );
        assert_eq!(
            ends(&series("PT24H")),
            vec!["28 12:00", "29 13:00", "30 12:00"]
        );
    }

    #[test]
    fn overrides_move_and_cancel_single_instances() {
        let src = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:s\nDTSTART;TZID=Europe/Berlin:20261123T090000\nDURATION:PT30M\nRRULE:FREQ=DAILY;COUNT=4\nSUMMARY:Standup\nEND:VEVENT\n\
BEGIN:VEVENT\nUID:s\nRECURRENCE-ID;TZID=Europe/Berlin:20261124T090000\nDTSTART;TZID=Europe/Berlin:20261124T110000\nDURATION:PT30M\nSUMMARY:Standup (moved)\nEND:VEVENT\n\
BEGIN:VEVENT\nUID:s\nRECURRENCE-ID:20261125T080000Z\nDTSTART;TZID=Europe/Berlin:20261125T090000\nSTATUS:CANCELLED\nSUMMARY:Standup\nEND:VEVENT\nEND:VCALENDAR\n";
        let got: Vec<(String, String)> = occurrences(src, d(2026, 11, 23), d(2026, 11, 30))
            .iter()
            .map(|o| (berlin(o), o.summary.to_string()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("2026-11-23 09:00".into(), "Standup".into()),
                ("2026-11-24 11:00".into(), "Standup (moved)".into()),
                ("2026-11-26 09:00".into(), "Standup".into()),
            ]
        );
    }

    #[test]
    fn this_and_future_changes_every_later_instance() {
        let src = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:s\nDTSTART;TZID=Europe/Berlin:20261123T090000\nDURATION:PT30M\nRRULE:FREQ=DAILY;COUNT=5\nSUMMARY:Old\nEND:VEVENT\n\
BEGIN:VEVENT\nUID:s\nRECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Berlin:20261125T090000\nDTSTART;TZID=Europe/Berlin:20261125T100000\nDURATION:PT1H\nSUMMARY:New\nEND:VEVENT\nEND:VCALENDAR\n";
        let got: Vec<(String, String)> = occurrences(src, d(2026, 11, 23), d(2026, 11, 30))
            .iter()
            .map(|o| (berlin(o), o.summary.to_string()))
            .collect();
        let want: Vec<(String, String)> = [
            ("23", "09", "Old"),
            ("24", "09", "Old"),
            ("25", "10", "New"),
            ("26", "10", "New"),
            ("27", "10", "New"),
        ]
        .iter()
        .map(|(day, h, s)| (format!("2026-11-{day} {h}:00"), s.to_string()))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn all_day_series_exdates_and_rdate_periods() {
        let src = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:20261123\nRRULE:FREQ=DAILY;COUNT=3\nEXDATE;VALUE=DATE:20261124\nRDATE;VALUE=PERIOD:20261128T100000Z/PT3H\nEND:VEVENT\nEND:VCALENDAR\n";
        let got = occurrences(src, d(2026, 11, 20), d(2026, 11, 30));
        let starts: Vec<When> = got.iter().map(|o| o.start).collect();
        assert_eq!(
            starts,
            vec![
                When::Date(d(2026, 11, 23)),
                When::Date(d(2026, 11, 25)),
                When::Date(d(2026, 11, 28))
            ]
        );
    }

    #[test]
    fn bounded_series_have_an_end_key_and_unbounded_ones_none() {
        let cal = read_calendar(
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nDTSTART:20261123T090000Z\nRRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT\nBEGIN:VEVENT\nUID:b\nDTSTART:20261123T090000Z\nRRULE:FREQ=DAILY\nEND:VEVENT\nEND:VCALENDAR\n",
        );
        let a = SeriesSpec::from_events(&cal.items[0].events[0], &[]).unwrap();
        let b = SeriesSpec::from_events(&cal.items[1].events[0], &[]).unwrap();
        let last = When::Instant(d(2026, 11, 25).and_hms_opt(9, 0, 0).unwrap().and_utc()).key();
        assert!(a.end_key().unwrap() >= last);
        assert_eq!(b.end_key(), None);
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<SeriesSpec>(&json).unwrap(), a);
    }
}
