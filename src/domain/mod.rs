//! The calendar domain: iCalendar reading and writing, event times, zones, occurrences. Imports nothing
//! of ours.

pub mod alarm;
pub mod calendar;
pub mod diff;
pub mod edit;
pub mod event;
pub mod format;
pub mod google;
pub mod graph;
pub mod ical;
pub mod ical_stream;
mod json_group;
pub mod recur;
pub mod series;
pub mod text;
pub mod time;
pub mod typed_date;
pub mod tz;
pub mod vtimezone;
pub mod vtimezone_out;
mod windows_zones;

pub use calendar::Calendar;
pub use event::{Event, EventDetail, Item, Occurrence, ParsedCalendar, read_calendar};
pub use time::{EventTime, When};
